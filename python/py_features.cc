// Features (features/, tasks/*/…_serving): the ETA feature context and rows exactly as training
// computes them, and any model version's features exactly as the server computes them (its
// manifest's feature spec, through the feature adapter registry the tasks fill).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>

#include "common/data_dir.h"
#include "data/zone_index.h"
#include "features/eta_features.h"
#include "features/weather.h"
#include "registry/manifest.h"
#include "serving/feature_adapter.h"
#include "tasks/demand/demand_serving.h"
#include "tasks/eta/eta_dataset.h"
#include "tasks/eta/eta_serving.h"
#include "py_arrays.h"
#include "py_module.h"
#include "py_status.h"

namespace bimride::python {
namespace {

using features::EtaFeatureContext;

std::shared_ptr<EtaFeatureContext> BuildEtaContext(
    const std::string& set_name, const py::dict& trips, const std::string& source,
    const std::optional<std::string>& zones_dir, const std::optional<std::string>& weather_path,
    double shrinkage, int64_t min_pair_count) {
  const features::EtaFeatureSet set = Unwrap(features::ParseEtaFeatureSet(set_name));
  const data::TripTable table = Unwrap(TripsFromColumns(trips, source));
  features::EtaContextOptions options;
  options.shrinkage = shrinkage;
  options.min_pair_count = min_pair_count;
  py::gil_scoped_release release;
  std::optional<data::ZoneIndex> zones;
  if (zones_dir) zones = Unwrap(data::ZoneIndex::Load(*zones_dir));
  std::optional<features::WeatherTable> weather;
  if (weather_path) weather = Unwrap(features::WeatherTable::Load(*weather_path));
  return std::make_shared<EtaFeatureContext>(Unwrap(features::BuildEtaFeatureContext(
      set, table, zones ? &*zones : nullptr, weather ? &*weather : nullptr, options)));
}

// The training path: requests from trips → ComputeEtaFeatures (tasks/eta's MakeEtaTabularData).
py::array EtaFeatures(const EtaFeatureContext& context, const py::dict& trips,
                      const std::string& source) {
  const data::TripTable table = Unwrap(TripsFromColumns(trips, source));
  std::vector<float> x;
  {
    py::gil_scoped_release release;
    x = Unwrap(features::ComputeEtaFeatures(context, features::EtaRequestsFromTrips(table)));
  }
  return OwnedArray(std::move(x), py::dtype::of<float>(), features::EtaFeatureCount(context.set));
}

py::tuple EtaDataset(const py::dict& trips, const std::string& source, double min_minutes,
                     double max_minutes, bool apply_duration_filter, int64_t loader_quarantined) {
  tasks::eta::EtaDatasetOptions options;
  options.min_minutes = min_minutes;
  options.max_minutes = max_minutes;
  options.apply_duration_filter = apply_duration_filter;
  tasks::eta::EtaDataset d =
      Unwrap(tasks::eta::MakeEtaDataset(Unwrap(TripsFromColumns(trips, source)), options));
  d.report.loader_quarantined = loader_quarantined;  // as LoadEtaDataset reports it
  py::dict report;
  report["loaded"] = d.report.loaded;
  report["loader_quarantined"] = d.report.loader_quarantined;
  report["removed_no_duration"] = d.report.removed_no_duration;
  report["removed_too_short"] = d.report.removed_too_short;
  report["removed_too_long"] = d.report.removed_too_long;
  report["removed_unknown_zone"] = d.report.removed_unknown_zone;
  report["kept"] = d.report.kept;
  report["filter"] = d.report.filter;
  report["text"] = d.report.ToString();
  const std::string out_source(data::TripSourceName(d.trips.source));
  return py::make_tuple(TripsToColumns(std::move(d.trips), {}), out_source,
                        OwnedArray(std::move(d.minutes)), report);
}

// The serving path: the version folder's manifest names the feature spec; the adapter the
// server would build for it turns the raw request columns into the model's rows.
py::array ServingFeatures(const std::string& version_dir, const py::dict& raw) {
  const registry::Manifest m =
      Unwrap(registry::ReadManifest(version_dir + "/" + registry::kManifestFileName));
  if (!m.feature_spec) {
    Check(InvalidArgumentError(version_dir + ": the manifest names no feature spec"));
  }
  if (m.inputs.empty() || m.inputs[0].shape.size() != 2 || m.inputs[0].shape[1] <= 0) {
    Check(InvalidArgumentError(version_dir + ": the manifest's first input is not [-1, features]"));
  }
  const int num_features = static_cast<int>(m.inputs[0].shape[1]);
  serving::RawBatch batch;
  batch.rows = -1;
  for (auto item : raw) {
    serving::RawColumn column;
    column.name = py::str(item.first);
    for (py::handle v : py::reinterpret_borrow<py::iterable>(item.second)) {
      if (py::isinstance<py::str>(v)) {
        column.values.emplace_back(v.cast<std::string>());
      } else {
        column.values.emplace_back(v.cast<double>());
      }
    }
    const auto n = static_cast<int64_t>(column.values.size());
    if (batch.rows >= 0 && n != batch.rows) {
      Check(InvalidArgumentError("field '" + column.name + "' has " + std::to_string(n) +
                                 " rows, the others " + std::to_string(batch.rows)));
    }
    batch.rows = n;
    batch.columns.push_back(std::move(column));
  }
  if (batch.rows < 0) batch.rows = 0;
  std::vector<float> x;
  {
    py::gil_scoped_release release;
    serving::FeatureAdapter adapter = Unwrap(serving::MakeFeatureAdapter(
        {version_dir, m.feature_spec->name, m.feature_spec->version, m.feature_spec->request_fields}));
    x = Unwrap(adapter(batch, num_features));
  }
  return OwnedArray(std::move(x), py::dtype::of<float>(), num_features);
}

}  // namespace

void BindFeatures(py::module_& m) {
  // The tasks' feature specs, as the server registers them through BIMRIDE_TASK.
  for (auto specs : {tasks::eta::EtaFeatureSpecs(), tasks::demand::DemandFeatureSpecs()}) {
    for (auto& [name, factory] : specs) serving::RegisterFeatureAdapterFactory(name, factory);
  }
  py::class_<EtaFeatureContext, std::shared_ptr<EtaFeatureContext>>(m, "EtaContext")
      .def_static("_build", &BuildEtaContext, py::arg("features"), py::arg("trips"),
                  py::arg("source"), py::arg("zones_dir"), py::arg("weather"),
                  py::arg("shrinkage"), py::arg("min_pair_count"))
      .def_static(
          "load",
          [](const std::string& dir) {
            return std::make_shared<EtaFeatureContext>(
                Unwrap(features::LoadEtaFeatureContext(dir)));
          },
          py::arg("dir"),
          "The context a model folder carries (eta_context.json, eta_zone_pairs.csv, "
          "eta_weather.csv), as the server loads it.")
      .def(
          "save",
          [](const EtaFeatureContext& c, const std::string& dir) {
            Check(features::SaveEtaFeatureContext(c, dir));
          },
          py::arg("dir"), "Writes the context files into `dir` (a model folder).")
      .def_property_readonly("feature_spec",
                             [](const EtaFeatureContext& c) {
                               return std::string(features::EtaFeatureSpecName(c.set));
                             })
      .def_property_readonly("feature_names",
                             [](const EtaFeatureContext& c) {
                               return features::EtaFeatureNames(c.set);
                             })
      .def_property_readonly("request_fields",
                             [](const EtaFeatureContext& c) {
                               return features::EtaRequestFields(c.set);
                             })
      .def_readonly("max_zone", &EtaFeatureContext::max_zone)
      .def_readonly("training_rows", &EtaFeatureContext::training_rows);
  m.def("_eta_features", &EtaFeatures, py::arg("context"), py::arg("trips"), py::arg("source"));
  m.def("_eta_dataset", &EtaDataset, py::arg("trips"), py::arg("source"), py::arg("min_minutes"),
        py::arg("max_minutes"), py::arg("apply_duration_filter"), py::arg("loader_quarantined"));
  m.def("_serving_features", &ServingFeatures, py::arg("version_dir"), py::arg("raw"));
  m.def("default_data_path", &DefaultDataPath, py::arg("relative"),
        "Where the shared data sets are: $BIMRIDE_DATA_DIR/<relative>, else the build's data "
        "folder; '' when there is none.");
}

}  // namespace bimride::python
