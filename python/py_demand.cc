// Demand (features/demand_*, tasks/demand's grid and rows): the grid of pickups per zone and
// bucket, the context a demand model carries (feature config, baselines, weather), and the rows
// training and forecasts build from them — the same calls the C++ trainer and the server make.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>

#include "common/civil_time.h"
#include "common/file.h"
#include "features/demand_features.h"
#include "features/demand_grid.h"
#include "features/weather.h"
#include "tasks/demand/demand_data.h"
#include "tasks/demand/demand_dataset.h"
#include "py_arrays.h"
#include "py_module.h"
#include "py_status.h"

namespace bimride::python {
namespace {

using features::DemandContext;
using features::DemandFeatures;
using features::DemandGrid;
using tasks::demand::DemandData;

// A demand model's context with the weather its features read (kept at a fixed address: the
// DemandFeatures hold a pointer to it).
struct PyDemandContext {
  DemandContext context;
  std::unique_ptr<features::WeatherTable> weather;  // null: no weather (fill values)
  std::optional<DemandFeatures> features;

  static std::shared_ptr<PyDemandContext> Make(DemandContext context,
                                               std::unique_ptr<features::WeatherTable> weather) {
    auto c = std::make_shared<PyDemandContext>();
    c->context = std::move(context);
    c->weather = std::move(weather);
    c->features = Unwrap(DemandFeatures::Create(c->context.config, c->weather.get()));
    return c;
  }
};

std::unique_ptr<features::WeatherTable> LoadWeather(const std::optional<std::string>& path) {
  if (!path || path->empty()) return nullptr;
  return std::make_unique<features::WeatherTable>(Unwrap(features::WeatherTable::Load(*path)));
}

std::shared_ptr<DemandData> MakeGrid(const py::dict& trips, const std::string& source,
                                     int64_t begin_us, int64_t end_us, int64_t zones_begin_us,
                                     int64_t zones_end_us, int bucket_minutes) {
  const data::TripTable table = Unwrap(TripsFromColumns(trips, source));
  tasks::demand::DemandDataOptions options;
  options.bucket_minutes = bucket_minutes;
  options.begin_us = begin_us;
  options.end_us = end_us;
  options.zones_begin_us = zones_begin_us;
  options.zones_end_us = zones_end_us;
  py::gil_scoped_release release;
  return std::make_shared<DemandData>(Unwrap(tasks::demand::MakeDemandGrid(table, options)));
}

std::shared_ptr<PyDemandContext> BuildContext(const DemandData& data, int64_t train_begin_us,
                                              int64_t train_end_us, int horizons, int recent_lags,
                                              const std::optional<std::string>& weather_path) {
  const DemandGrid& grid = data.grid;
  DemandContext context;
  context.config.bucket_minutes = grid.bucket_minutes();
  context.config.horizons = horizons;
  context.config.recent_lags = recent_lags;
  Check(features::ValidateDemandFeatureConfig(context.config));
  std::unique_ptr<features::WeatherTable> weather = LoadWeather(weather_path);
  context.baselines = Unwrap(features::ComputeDemandBaselines(
      grid, grid.BucketOf(train_begin_us), grid.BucketOf(train_end_us), 0, 0, weather.get()));
  return PyDemandContext::Make(std::move(context), std::move(weather));
}

std::shared_ptr<PyDemandContext> LoadContext(const std::string& dir) {
  const std::string path = dir + "/" + features::kDemandBaselinesFile;
  const std::string text = Unwrap(ReadFile(path));
  DemandContext context = Unwrap(features::DemandContextFromJson(text, path));
  const std::string weather = dir + "/" + features::kDemandWeatherFile;
  return PyDemandContext::Make(std::move(context),
                               FileExists(weather) ? LoadWeather(weather) : nullptr);
}

// What PublishDemandModel writes beside a model: the baselines and, with weather, the days from
// the one before training on (the features read the day before each forecast).
void SaveContext(const PyDemandContext& c, const std::string& dir) {
  Check(MakeDirs(dir));
  Check(WriteFileAtomic(dir + "/" + features::kDemandBaselinesFile,
                        features::DemandContextToJson(c.context)));
  if (c.weather && !c.weather->empty()) {
    const int64_t first = DayIndex(c.context.baselines.train_begin_us) - 1;
    Check(WriteFileAtomic(dir + "/" + features::kDemandWeatherFile,
                          c.weather->ToCsv(first, c.weather->last_day())));
  }
}

py::dict RowsToDict(tasks::demand::DemandRows rows, const DemandGrid& grid) {
  std::vector<int32_t> zone(rows.zone_pos.size());
  std::vector<int64_t> time(rows.origin.size());
  for (size_t i = 0; i < zone.size(); ++i) {
    zone[i] = grid.zones()[static_cast<size_t>(rows.zone_pos[i])];
    time[i] = grid.BucketStart(rows.origin[i] + 1);  // the forecast time t
  }
  py::dict out;
  out["features"] = OwnedArray(std::move(rows.data.features), py::dtype::of<float>(),
                               rows.data.num_features);
  out["targets"] = OwnedArray(std::move(rows.data.targets), py::dtype::of<float>(),
                              rows.data.num_outputs);
  out["zone"] = OwnedArray(std::move(zone));
  out["time"] = OwnedArray(std::move(time), MicrosecondTimes());
  return out;
}

// Forecast rows: every zone, every forecast time t in [begin, end) on the grid's buckets, with
// the context's baselines (what a published model computes, and what the server computes from
// the same zone, time and week of counts).
py::dict ForecastRows(const PyDemandContext& c, const DemandData& data, int64_t begin_us,
                      int64_t end_us) {
  const DemandGrid& grid = data.grid;
  tasks::demand::DemandRows rows;
  {
    py::gil_scoped_release release;
    rows = Unwrap(tasks::demand::BuildForecastRows(grid, *c.features, c.context.baselines,
                                                   grid.BucketOf(begin_us) - 1,
                                                   grid.BucketOf(end_us) - 1));
  }
  return RowsToDict(std::move(rows), grid);
}

// Training rows over [begin, end) with out-of-fold (or past-only) baselines, as the trainer's.
py::dict TrainingRows(const PyDemandContext& c, const DemandData& data, int64_t begin_us,
                      int64_t end_us, bool out_of_fold) {
  const DemandGrid& grid = data.grid;
  tasks::demand::DemandRows rows;
  {
    py::gil_scoped_release release;
    rows = Unwrap(tasks::demand::BuildTrainingRows(
        grid, *c.features, grid.BucketOf(begin_us), grid.BucketOf(end_us), c.weather.get(),
        out_of_fold ? tasks::demand::TrainingBaselines::kOutOfFold
                    : tasks::demand::TrainingBaselines::kPastOnly));
  }
  return RowsToDict(std::move(rows), grid);
}

// The request a client sends for the forecast of `zone` at `t`: the fields of the
// demand_zone_bucket spec, the history as the comma-separated counts of the week ending at t.
py::dict RequestFields(const DemandData& data, int32_t zone, int64_t t_us) {
  const DemandGrid& grid = data.grid;
  const int pos = grid.ZonePosition(zone);
  if (pos < 0) Check(InvalidArgumentError("zone " + std::to_string(zone) + " is not in the grid"));
  const int64_t end = grid.BucketOf(t_us), begin = end - grid.buckets_per_week();
  if (grid.BucketStart(end) != t_us) {
    Check(InvalidArgumentError("demand request at " + FormatCivil(t_us) + ": not on a boundary of " +
                               std::to_string(grid.bucket_minutes()) + "-minute buckets"));
  }
  if (begin < 0 || end > grid.num_buckets()) {
    Check(InvalidArgumentError("demand request at " + FormatCivil(t_us) +
                               ": the grid [" + FormatCivil(grid.start_us()) + ", " +
                               FormatCivil(grid.end_us()) +
                               ") does not hold the week of counts before it"));
  }
  std::string counts;
  for (int64_t b = begin; b < end; ++b) {
    if (b > begin) counts += ',';
    counts += std::to_string(static_cast<int64_t>(grid.count(static_cast<size_t>(pos), b)));
  }
  py::dict out;
  out["zone"] = zone;
  out["time"] = FormatCivil(t_us);
  out["recent_counts"] = counts;
  return out;
}

}  // namespace

void BindDemand(py::module_& m) {
  py::class_<DemandData, std::shared_ptr<DemandData>>(m, "DemandGrid")
      .def_static("_make", &MakeGrid, py::arg("trips"), py::arg("source"), py::arg("begin_us"),
                  py::arg("end_us"), py::arg("zones_begin_us"), py::arg("zones_end_us"),
                  py::arg("bucket_minutes"))
      .def_property_readonly(
          "counts",
          [](const DemandData& d) {
            std::vector<float> counts = d.grid.counts();
            return OwnedArray(std::move(counts), py::dtype::of<float>(), d.grid.num_buckets());
          },
          "Pickups per (zone, bucket): zones × buckets, float32 (a copy).")
      .def_property_readonly(
          "zones", [](const DemandData& d) { return std::vector<int32_t>(d.grid.zones()); },
          "The zone ids of the rows of `counts`, ascending.")
      .def_property_readonly(
          "bucket_times",
          [](const DemandData& d) {
            std::vector<int64_t> t(static_cast<size_t>(d.grid.num_buckets()));
            for (size_t b = 0; b < t.size(); ++b) t[b] = d.grid.BucketStart(static_cast<int64_t>(b));
            return OwnedArray(std::move(t), MicrosecondTimes());
          },
          "The start of each bucket (datetime64[us]).")
      .def_property_readonly("bucket_minutes",
                             [](const DemandData& d) { return d.grid.bucket_minutes(); })
      .def_property_readonly("dropped_zone_trips",
                             [](const DemandData& d) { return d.dropped_zone_trips; })
      .def_property_readonly("report",
                             [](const DemandData& d) { return d.report.ToString(); });
  py::class_<PyDemandContext, std::shared_ptr<PyDemandContext>>(m, "DemandContext")
      .def_static("_build", &BuildContext, py::arg("grid"), py::arg("train_begin_us"),
                  py::arg("train_end_us"), py::arg("horizons"), py::arg("recent_lags"),
                  py::arg("weather"))
      .def_static("load", &LoadContext, py::arg("dir"),
                  "The context a demand model folder carries (demand_baselines.json and, when "
                  "present, weather.csv), as the server loads it.")
      .def("save", &SaveContext, py::arg("dir"),
           "Writes the context files into `dir` (a model folder).")
      .def_property_readonly("feature_spec",
                             [](const PyDemandContext&) {
                               return std::string(features::kDemandFeatureSpecName);
                             })
      .def_property_readonly("feature_names",
                             [](const PyDemandContext& c) { return c.features->names(); })
      .def_property_readonly("request_fields",
                             [](const PyDemandContext&) {
                               return std::vector<std::string>{"zone", "time", "recent_counts"};
                             })
      .def_property_readonly("horizons",
                             [](const PyDemandContext& c) { return c.context.config.horizons; })
      .def_property_readonly(
          "bucket_minutes", [](const PyDemandContext& c) { return c.context.config.bucket_minutes; })
      .def_property_readonly(
          "zones", [](const PyDemandContext& c) { return c.context.baselines.zones; });
  m.def("_demand_forecast_rows", &ForecastRows, py::arg("context"), py::arg("grid"),
        py::arg("begin_us"), py::arg("end_us"));
  m.def("_demand_training_rows", &TrainingRows, py::arg("context"), py::arg("grid"),
        py::arg("begin_us"), py::arg("end_us"), py::arg("out_of_fold"));
  m.def("_demand_request", &RequestFields, py::arg("grid"), py::arg("zone"), py::arg("t_us"));
  m.def(
      "_parse_time",
      [](const std::string& text, const std::string& what) {
        StatusOr<int64_t> t = ParseCivil(text);
        if (!t.ok()) Check(InvalidArgumentError(what + ": " + t.status().message()));
        return *t;
      },
      py::arg("text"), py::arg("what"));
}

}  // namespace bimride::python
