#include "tasks/eta/eta_quickstart.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/civil_time.h"
#include "registry/registry.h"
#include "tasks/eta/eta_training.h"
#include "train/training_run.h"

namespace bimride::tasks::eta {
namespace {

// Trips of the last simulated day validate; the days before train.
struct TimeSplit {
  data::TripTable train, valid;
};
StatusOr<TimeSplit> SplitLastDay(const data::TripTable& trips) {
  if (trips.empty()) return FailedPreconditionError("the city has no trips to train on");
  const int64_t last =
      DayIndex(*std::max_element(trips.pickup_time_us.begin(), trips.pickup_time_us.end()));
  std::vector<size_t> train, valid;
  for (size_t i = 0; i < trips.size(); ++i) {
    (DayIndex(trips.pickup_time_us[i]) < last ? train : valid).push_back(i);
  }
  if (train.empty()) {
    return FailedPreconditionError("one simulated day leaves nothing to train on; use --days 2+");
  }
  return TimeSplit{trips.Take(train), trips.Take(valid)};
}

// The TF Serving REST request a rider's app sends for one trip: zones, time, coordinates.
std::string EtaRequestBody(const data::TripTable& trips, size_t i) {
  nlohmann::json row = {{"pickup_zone", trips.pickup_zone[i]},
                        {"dropoff_zone", trips.dropoff_zone[i]},
                        {"pickup_datetime", FormatCivil(trips.pickup_time_us[i]).substr(0, 19)},
                        {"pickup_longitude", trips.pickup_lon[i]},
                        {"pickup_latitude", trips.pickup_lat[i]},
                        {"dropoff_longitude", trips.dropoff_lon[i]},
                        {"dropoff_latitude", trips.dropoff_lat[i]}};
  return nlohmann::json{{"instances", {row}}}.dump();
}

}  // namespace

StatusOr<QuickstartModel> RunEtaQuickstart(const QuickstartInput& input) {
  if (input.trips == nullptr) return InvalidArgumentError("eta quickstart: no trips");
  ASSIGN_OR_RETURN(TimeSplit split, SplitLastDay(*input.trips));
  ASSIGN_OR_RETURN(EtaDataset train, MakeEtaDataset(split.train, {}));
  ASSIGN_OR_RETURN(EtaDataset valid, MakeEtaDataset(split.valid, {}));
  std::printf("  train: %s\n  valid: %s\n", train.report.ToString().c_str(),
              valid.report.ToString().c_str());
  // XGBoost where this build has it, else the LibTorch net: a baseline has no serving backend.
  const std::string kind = train::HasTrainer("xgboost") ? "xgboost" : "torch";
  if (!train::HasTrainer(kind)) {
    return FailedPreconditionError(
        "the ETA quickstart needs a trainer; this build has neither XGBoost nor LibTorch");
  }
  EtaTrainConfig config = DefaultEtaTrainConfig(features::EtaFeatureSet::kBooking, kind);
  if (kind == "xgboost") {
    config.params["rounds"] = std::to_string(input.rounds);
    config.params["eta"] = "0.1";
  } else {
    config.params["epochs"] = std::to_string(std::min(input.rounds, 10));
  }
  config.threads = input.threads;
  ASSIGN_OR_RETURN(auto registry, registry::Registry::Open(input.repo));
  train::TrainingRunSpec spec;
  spec.task = "eta";
  spec.params = {{"source", "quickstart"}};
  spec.data_files = {input.trips_path};
  spec.data_filter =
      "quickstart: days before the last train, the last day validates; " + train.report.filter;
  ASSIGN_OR_RETURN(auto run, train::StartTrainingRun(*registry, spec));
  const std::string model_dir = input.work_dir + "/eta_model";
  ASSIGN_OR_RETURN(EtaTrainResult result,
                   TrainEtaModel(train, valid, /*zones=*/nullptr, /*weather=*/nullptr, config,
                                 model_dir, run.get()));
  std::printf("  validation, last simulated day:\n%s",
              FormatComparisonTable(result.comparison).c_str());
  ASSIGN_OR_RETURN(std::optional<registry::Manifest> published,
                   train::FinishTrainingRun(*registry, *run, model_dir));
  RETURN_IF_ERROR(registry
                      ->Promote(published->name, published->version, "stable",
                                "quickstart: first model", registry::CurrentUser())
                      .status());
  std::printf("  model folder %s (run %s); published %s:%lld, label stable\n", model_dir.c_str(),
              run->run_id().c_str(), published->name.c_str(),
              static_cast<long long>(published->version));
  char expected[96];
  std::snprintf(expected, sizeof expected, "the trip took %.1f min",
                split.valid.DurationMinutes(0));
  return QuickstartModel{published->name, EtaRequestBody(split.valid, 0), expected};
}

}  // namespace bimride::tasks::eta
