#include "bench/workloads.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "common/civil_time.h"
#include "data/trip_loader.h"
#include "simulator/city_files.h"
#include "simulator/simulator.h"
#include "tasks/demand/demand_data.h"
#include "tasks/demand/demand_dataset.h"
#include "tasks/eta/eta_training.h"

namespace bimride::bench {
namespace {

constexpr int kSimulatedDays = 14;

simulator::CityConfig SimulatedCityConfig() {
  simulator::CityConfig config;
  config.days = kSimulatedDays;
  config.seed = 7;
  return config;
}

// The simulated city's trips file in `work_dir`, written on first use.
StatusOr<std::string> SimulatedCityFile(const std::string& work_dir) {
  const std::string path = work_dir + "/simulated_city/trips.parquet";
  if (std::filesystem::exists(path)) return path;
  ASSIGN_OR_RETURN(simulator::SimulatedCity city, simulator::Simulate(SimulatedCityConfig()));
  std::error_code ec;
  std::filesystem::create_directories(work_dir + "/simulated_city", ec);
  RETURN_IF_ERROR(
      simulator::WriteSimulatedCity(city, path, simulator::TripFileFormat::kParquet).status());
  return path;
}

std::vector<int> IntList(const std::string& text) {
  std::vector<int> out;
  for (const char* p = text.c_str(); *p != '\0';) {
    char* end = nullptr;
    out.push_back(static_cast<int>(std::strtol(p, &end, 10)));
    if (end == p) break;
    p = *end == ',' ? end + 1 : end;
  }
  return out;
}

std::string Shape(const models::TabularData& d) {
  return std::to_string(d.rows) + " rows × " + std::to_string(d.num_features) + " features";
}

}  // namespace

models::TabularData HeadRows(const models::TabularData& data, int64_t rows) {
  if (rows >= data.rows) return data;
  models::TabularData out = data;
  out.rows = rows;
  out.features.resize(static_cast<size_t>(rows) * data.num_features);
  out.targets.resize(static_cast<size_t>(rows) * data.num_outputs);
  return out;
}

StatusOr<TabularWorkload> LoadEtaWorkload(const WorkloadSource& source) {
  const bool real = !source.data_dir.empty();
  const auto set = real ? features::EtaFeatureSet::kWithDistance : features::EtaFeatureSet::kBooking;
  std::optional<data::ZoneIndex> zones;
  std::optional<features::WeatherTable> weather;
  tasks::eta::EtaDataset train, valid;
  TabularWorkload w;
  w.name = "eta";
  w.target = "trip minutes";
  if (real) {
    ASSIGN_OR_RETURN(zones, data::ZoneIndex::Load(source.data_dir + "/zones"));
    ASSIGN_OR_RETURN(weather, features::WeatherTable::Load(source.data_dir +
                                                            "/weather/central_park_weather.csv"));
    const std::string green = source.data_dir + "/tlc_green/green_tripdata_";
    ASSIGN_OR_RETURN(train, tasks::eta::LoadEtaDataset({green + "2021-01.parquet"}, &*zones, {}));
    ASSIGN_OR_RETURN(valid, tasks::eta::LoadEtaDataset({green + "2021-02.parquet"}, &*zones, {}));
    w.description = "TLC green trips, eta_with_distance features; train 2021-01, validate 2021-02";
  } else {
    ASSIGN_OR_RETURN(std::string file, SimulatedCityFile(source.work_dir));
    ASSIGN_OR_RETURN(data::TripTable trips, data::LoadTrips({file}));
    if (trips.empty()) return InvalidArgumentError(file + ": the simulated city has no trips");
    const int64_t last =
        DayIndex(*std::max_element(trips.pickup_time_us.begin(), trips.pickup_time_us.end()));
    std::vector<size_t> tr, va;
    for (size_t i = 0; i < trips.size(); ++i) {
      (DayIndex(trips.pickup_time_us[i]) < last - 1 ? tr : va).push_back(i);
    }
    ASSIGN_OR_RETURN(train, tasks::eta::MakeEtaDataset(trips.Take(tr), {}));
    ASSIGN_OR_RETURN(valid, tasks::eta::MakeEtaDataset(trips.Take(va), {}));
    w.description = "the simulated city (" + std::to_string(kSimulatedDays) +
                    " days), eta_booking features; the last two days validate";
  }
  ASSIGN_OR_RETURN(features::EtaFeatureContext context,
                   features::BuildEtaFeatureContext(set, train.trips, zones ? &*zones : nullptr,
                                                    weather ? &*weather : nullptr));
  ASSIGN_OR_RETURN(w.train, tasks::eta::MakeEtaTabularData(context, train));
  ASSIGN_OR_RETURN(w.valid, tasks::eta::MakeEtaTabularData(context, valid));
  const tasks::eta::EtaTrainConfig config = tasks::eta::DefaultEtaTrainConfig(set, "torch");
  w.categorical = tasks::eta::EtaCategoricalColumns(context, config.zone_embedding_dim);
  w.hidden = IntList(config.params.at("hidden_sizes"));
  w.learning_rate = std::atof(config.params.at("learning_rate").c_str());
  w.loss = train::Loss::kSquaredError;
  w.description += "; train " + Shape(w.train) + ", validate " + std::to_string(w.valid.rows);
  return w;
}

StatusOr<TabularWorkload> LoadDemandWorkload(const WorkloadSource& source) {
  const bool real = !source.data_dir.empty();
  tasks::demand::DemandDataOptions o;
  int valid_days = 14;
  TabularWorkload w;
  w.name = "demand";
  w.target = "pickups per zone-hour";
  if (real) {
    const std::string dir = source.data_dir + "/tlc_green/";
    o.trip_files = {dir + "green_tripdata_2021-01.parquet", dir + "green_tripdata_2021-02.parquet"};
    ASSIGN_OR_RETURN(o.begin_us, ParseCivil("2021-01-01"));
    ASSIGN_OR_RETURN(o.end_us, ParseCivil("2021-03-01"));
    w.description = "TLC green pickups per zone and hour, Jan–Feb 2021; rows with origins in the "
                    "last 14 days validate";
  } else {
    ASSIGN_OR_RETURN(std::string file, SimulatedCityFile(source.work_dir));
    o.trip_files = {file};
    const simulator::CityConfig city = SimulatedCityConfig();
    ASSIGN_OR_RETURN(o.begin_us, ParseCivil(city.start_date));
    o.end_us = o.begin_us + city.days * kMicrosPerDay;
    valid_days = 2;
    w.description = "the simulated city's pickups per zone and hour (" +
                    std::to_string(kSimulatedDays) + " days); origins in the last 2 days validate";
  }
  o.zones_begin_us = o.begin_us;
  o.zones_end_us = o.end_us;
  ASSIGN_OR_RETURN(tasks::demand::DemandData data, tasks::demand::LoadDemandGrid(o));
  ASSIGN_OR_RETURN(features::DemandFeatures feats, features::DemandFeatures::Create({}, nullptr));
  ASSIGN_OR_RETURN(tasks::demand::DemandRows rows,
                   tasks::demand::BuildTrainingRows(data.grid, feats, 0, data.grid.num_buckets(),
                                                    nullptr));
  const int64_t cut = data.grid.num_buckets() - valid_days * 24 * 60 / data.grid.bucket_minutes();
  std::vector<int64_t> tr, va;
  for (size_t i = 0; i < rows.origin.size(); ++i) {
    (rows.origin[i] < cut ? tr : va).push_back(static_cast<int64_t>(i));
  }
  if (tr.empty() || va.empty()) {
    return InvalidArgumentError("demand workload: the split at bucket " + std::to_string(cut) +
                                " leaves no training or no validation rows");
  }
  w.train = tasks::demand::TakeRows(rows, tr).data;
  w.valid = tasks::demand::TakeRows(rows, va).data;
  // The demand task's net (tasks/demand/demand_models.cc defaults).
  w.categorical.push_back(
      {features::DemandFeatures::kZoneColumn, static_cast<int>(data.grid.num_zones()), 16});
  for (int col : feats.TargetSlotColumns()) w.categorical.push_back({col, 24, 4});
  w.hidden = {64, 32};
  w.learning_rate = 2e-3;
  w.loss = train::Loss::kPoisson;
  w.description += "; train " + Shape(w.train) + " → " + std::to_string(w.train.num_outputs) +
                   " outputs, validate " + std::to_string(w.valid.rows);
  return w;
}

}  // namespace bimride::bench
