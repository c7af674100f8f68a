#include "tasks/eta/eta_retrain.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/file.h"
#include "features/eta_request.h"
#include "monitoring/drift.h"
#include "train/training_run.h"

namespace bimride::tasks::eta {
namespace {

using json = nlohmann::json;

// One row's raw fields as the server takes them (a number or a string each), parsed by the
// server's parser; the request, or why not.
StatusOr<features::EtaRequest> ParseRawRow(const std::string& raw, features::EtaFeatureSet set) {
  if (raw.empty()) return InvalidArgumentError("no raw request fields (a feature-vector request)");
  json o = json::parse(raw, nullptr, /*allow_exceptions=*/false);
  if (o.is_discarded() || !o.is_object()) return InvalidArgumentError("raw fields: not a JSON object");
  struct Field {
    const char* name;
    std::vector<features::RawFieldValue> column;
    bool present = false;
  };
  Field fields[] = {{"pickup_zone", {}},       {"dropoff_zone", {}},      {"pickup_datetime", {}},
                    {"trip_distance", {}},     {"pickup_longitude", {}},  {"pickup_latitude", {}},
                    {"dropoff_longitude", {}}, {"dropoff_latitude", {}}};
  for (Field& f : fields) {
    auto it = o.find(f.name);
    if (it == o.end() || it->is_null()) continue;
    if (it->is_number()) {
      f.column.emplace_back(std::in_place_type<double>, it->get<double>());
    } else if (it->is_string()) {
      f.column.emplace_back(std::in_place_type<std::string>, it->get<std::string>());
    } else {
      return InvalidArgumentError(std::string("field '") + f.name + "': not a number or string");
    }
    f.present = true;
  }
  features::EtaRawColumns cols;
  cols.rows = 1;
  const std::vector<features::RawFieldValue>** slots[] = {
      &cols.pickup_zone,      &cols.dropoff_zone,     &cols.pickup_datetime,
      &cols.trip_distance,    &cols.pickup_longitude, &cols.pickup_latitude,
      &cols.dropoff_longitude, &cols.dropoff_latitude};
  for (size_t k = 0; k < std::size(fields); ++k) {
    if (fields[k].present) *slots[k] = &fields[k].column;
  }
  ASSIGN_OR_RETURN(std::vector<features::EtaRequest> parsed, features::ParseEtaRequests(set, cols));
  features::EtaRequest r = parsed.at(0);
  if (!std::isfinite(r.trip_distance_miles) && fields[3].present &&
      std::holds_alternative<double>(fields[3].column[0])) {
    r.trip_distance_miles = std::get<double>(fields[3].column[0]);  // the booking spec skips it
  }
  return r;
}

}  // namespace

StatusOr<EtaDataset> EtaDatasetFromLabelledRows(const monitoring::LabelledRows& rows,
                                                features::EtaFeatureSet set,
                                                const EtaDatasetOptions& options) {
  data::TripTable trips;
  trips.Reserve(rows.rows.size());
  int64_t unparsed = 0;
  std::string first_error;
  for (const monitoring::LabelledRow& row : rows.rows) {
    StatusOr<features::EtaRequest> r = ParseRawRow(row.raw, set);
    if (!r.ok() || !std::isfinite(row.actual)) {
      if (first_error.empty()) {
        first_error = "request " + row.request_id + " row " + std::to_string(row.row) + ": " +
                      (r.ok() ? std::string("label is not finite") : r.status().message());
      }
      ++unparsed;
      continue;
    }
    data::TripRow t;
    t.pickup_time_us = r->pickup_time_us;
    t.dropoff_time_us = r->pickup_time_us + static_cast<int64_t>(std::llround(row.actual * 60e6));
    t.pickup_zone = r->pickup_zone;
    t.dropoff_zone = r->dropoff_zone;
    t.pickup_lon = r->pickup_lon;
    t.pickup_lat = r->pickup_lat;
    t.dropoff_lon = r->dropoff_lon;
    t.dropoff_lat = r->dropoff_lat;
    if (std::isfinite(r->trip_distance_miles)) {
      t.distance_miles = static_cast<float>(r->trip_distance_miles);
    }
    trips.Append(t);
  }
  if (trips.empty()) {
    return InvalidArgumentError("labelled rows: none of " + std::to_string(rows.rows.size()) +
                                " rows is an ETA request with a label" +
                                (first_error.empty() ? "" : " (first: " + first_error + ")"));
  }
  ASSIGN_OR_RETURN(EtaDataset d, MakeEtaDataset(trips, options));
  d.report.loader_quarantined += unparsed;
  return d;
}

StatusOr<EtaRetrainResult> RetrainEtaOnLabelledRows(registry::Registry& registry,
                                                     const monitoring::LabelledRows& rows,
                                                     const EtaRetrainOptions& options) {
  if (!(options.valid_fraction > 0 && options.valid_fraction < 1)) {
    return InvalidArgumentError("retrain eta: valid_fraction must be in (0, 1)");
  }
  if (options.out_dir.empty()) return InvalidArgumentError("retrain eta: no model folder");
  RETURN_IF_ERROR(CheckEtaTrainConfig(options.config));
  ASSIGN_OR_RETURN(EtaDataset all,
                   EtaDatasetFromLabelledRows(rows, options.config.features, options.dataset));
  const size_t n = all.trips.size();
  const size_t n_train = static_cast<size_t>(std::floor(static_cast<double>(n) *
                                                        (1.0 - options.valid_fraction)));
  if (n_train < 2 || n - n_train < 2) {
    return InvalidArgumentError("retrain eta: " + std::to_string(n) +
                                " rows after the filter: too few to train and validate");
  }
  std::vector<size_t> first, rest;
  for (size_t i = 0; i < n; ++i) (i < n_train ? first : rest).push_back(i);
  EtaDataset train, valid;
  train.trips = all.trips.Take(first);
  valid.trips = all.trips.Take(rest);
  for (size_t i : first) train.minutes.push_back(all.minutes[i]);
  for (size_t i : rest) valid.minutes.push_back(all.minutes[i]);
  train.report = valid.report = all.report;

  train::TrainingRunSpec spec;
  spec.task = "eta";
  spec.tags = options.tags;
  spec.tags["model_name"] = options.config.model_name;
  spec.tags["trigger"] = "retrain";
  spec.params = {{"train_rows", std::to_string(first.size())},
                 {"valid_rows", std::to_string(rest.size())}};
  spec.data_filter = options.data_description + "; " + all.report.ToString();
  // The selection fit: early stopping on the latest rows picks the rounds, and its metrics on
  // them are the version's held-out validation metrics.
  const bool refit = options.refit && options.config.model == "xgboost";
  if (refit) {
    spec.params["refit"] = "all rows for the selected rounds";
    spec.params["refit_rows"] = std::to_string(n);
  }
  ASSIGN_OR_RETURN(std::unique_ptr<registry::RunTracker> run,
                   train::StartTrainingRun(registry, spec));
  const std::string selection_dir = refit ? options.out_dir + ".selection" : options.out_dir;
  ASSIGN_OR_RETURN(EtaTrainResult result,
                   TrainEtaModel(train, valid, options.zones, options.weather, options.config,
                                 selection_dir, run.get()));
  EtaRetrainResult out;
  std::ostringstream s;
  s << "rows: " << all.report.ToString() << "\n"
    << result.summary << "validation (latest " << rest.size() << " rows";
  if (refit) s << ", held out from the selection fit";
  s << "):\n" << FormatComparisonTable(result.comparison);
  if (refit) {
    // The refit: every row (log order, as the offline model's file order is its own), the
    // selected rounds, no early stopping. Its folder is what is published; the manifest keeps
    // the selection fit's held-out metrics and loss estimator (the refit has seen those rows).
    const auto best_it = result.manifest.properties.find("best_iteration");
    int rounds = 0;
    if (best_it != result.manifest.properties.end()) rounds = std::atoi(best_it->second.c_str());
    if (rounds < 1) return InternalError("retrain eta: the selection fit has no best round");
    EtaTrainConfig config = options.config;
    config.params["rounds"] = std::to_string(rounds);
    config.params["early_stopping_rounds"] = "0";
    config.loss_estimator = false;
    ASSIGN_OR_RETURN(EtaTrainResult refitted,
                     TrainEtaModel(all, valid, options.zones, options.weather, config,
                                   options.out_dir, nullptr));
    registry::Manifest m = refitted.manifest;
    m.run_id = run->run_id();
    m.metrics = result.manifest.metrics;
    m.metrics["train_rows"] = static_cast<double>(n);
    m.metrics["selection_train_rows"] = static_cast<double>(first.size());
    m.properties["best_iteration"] = std::to_string(rounds);
    m.properties["refit"] =
        "trained on all " + std::to_string(n) + " rows for " + std::to_string(rounds) +
        " rounds, chosen by early stopping on the latest " + std::to_string(rest.size()) +
        "; valid_* metrics and the loss estimator are that selection fit's (held out)";
    const auto loss = result.manifest.properties.find(monitoring::kLossEstimatorProperty);
    if (loss != result.manifest.properties.end()) {
      std::error_code ec;
      std::filesystem::copy_file(selection_dir + "/" + kEtaLossModelFile,
                                 options.out_dir + "/" + kEtaLossModelFile,
                                 std::filesystem::copy_options::overwrite_existing, ec);
      if (ec) return InternalError("retrain eta: copying the loss estimator: " + ec.message());
      m.properties[monitoring::kLossEstimatorProperty] = loss->second;
      m.artifacts.push_back(kEtaLossModelFile);
    }
    RETURN_IF_ERROR(WriteFileAtomic(options.out_dir + "/" + registry::kManifestFileName,
                                    registry::ManifestToJson(m)));
    RETURN_IF_ERROR(run->LogMetrics({{"refit_rows", static_cast<double>(n)},
                                     {"refit_rounds", static_cast<double>(rounds)}},
                                    0));
    std::error_code ec;
    std::filesystem::remove_all(selection_dir, ec);
    s << "refit on all " << n << " rows for " << rounds << " rounds (published)\n"
      << refitted.summary;
    out.refit_rows = static_cast<int64_t>(n);
    out.refit_rounds = rounds;
  }
  ASSIGN_OR_RETURN(std::optional<registry::Manifest> published,
                   train::FinishTrainingRun(registry, *run, options.out_dir));
  if (!published) return InternalError("retrain eta: nothing was published");
  out.published = std::move(*published);
  out.run_id = run->run_id();
  out.train_rows = static_cast<int64_t>(first.size());
  out.valid_rows = static_cast<int64_t>(rest.size());
  out.summary = s.str();
  return out;
}

}  // namespace bimride::tasks::eta
