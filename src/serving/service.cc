#include "serving/service.h"

#include <chrono>
#include <cstdio>
#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <tuple>

#include "common/logging.h"
#include "registry/registry.h"
#include "serving/progressive_rollout.h"

namespace bimride::serving {
namespace {

std::string RawToText(const RawValue& v) {
  if (const std::string* s = std::get_if<std::string>(&v)) return *s;
  double d = std::get<double>(v);
  if (d == std::floor(d) && std::fabs(d) < 1e15) return std::to_string(static_cast<int64_t>(d));
  return std::to_string(d);
}

}  // namespace

Service::Service(ServableManager* manager, ServingMetrics* metrics, ShadowQueue* shadows,
                 int64_t max_batch_rows, monitoring::PredictionLog* prediction_log,
                 monitoring::LiveMonitor* monitor, online::FeatureStore* online_store)
    : manager_(manager),
      metrics_(metrics),
      shadows_(shadows),
      max_batch_rows_(max_batch_rows),
      prediction_log_(prediction_log),
      monitor_(monitor),
      online_store_(online_store) {}

StatusOr<int64_t> Service::RecordOnlineEvents(const std::string& kind, const RawBatch& events) {
  if (online_store_ == nullptr) {
    return FailedPreconditionError("this server has no online store to record events in");
  }
  if (events.rows > max_batch_rows_) {
    return OutOfRangeError(std::to_string(events.rows) + " events in one request; at most " +
                           std::to_string(max_batch_rows_));
  }
  return serving::RecordOnlineEvents(kind, events, *online_store_);
}

std::string Service::OnlineMetricsText() const {
  if (online_store_ == nullptr) return "";
  const online::FeatureStoreHealth h = online_store_->Health();
  std::string store = online_store_->Describe();
  for (char& c : store) {
    if (c == '"' || c == '\\' || c == '\n') c = '_';
  }
  const std::string label = "{store=\"" + store + "\"}";
  std::string text =
      "# HELP bimride_online_store_up 1 when the online store answers, 0 while it is down "
      "(readers serve their fallbacks).\n# TYPE bimride_online_store_up gauge\n"
      "bimride_online_store_up" + label + (h.up ? " 1\n" : " 0\n") +
      "# HELP bimride_online_store_errors_total Online store calls that failed because it could "
      "not be reached.\n# TYPE bimride_online_store_errors_total counter\n"
      "bimride_online_store_errors_total" + label + " " + std::to_string(h.errors) + "\n" +
      "# HELP bimride_online_store_reconnects_total Times the online store came back after being "
      "down.\n# TYPE bimride_online_store_reconnects_total counter\n"
      "bimride_online_store_reconnects_total" + label + " " + std::to_string(h.reconnects) + "\n" +
      "# HELP bimride_online_fallback_rows_total Rows a reader served from a fallback instead "
      "of the online store, by reader and fallback.\n"
      "# TYPE bimride_online_fallback_rows_total counter\n";
  if (h.entries >= 0) {
    text = "# HELP bimride_online_store_entries (key, bucket) entries the in-process online "
           "store holds (expired ones are dropped a few per write).\n"
           "# TYPE bimride_online_store_entries gauge\nbimride_online_store_entries" +
           label + " " + std::to_string(h.entries) + "\n" + text;
  }
  for (const auto& [key, rows] : online_store_->FallbackCounts()) {
    text += "bimride_online_fallback_rows_total{reader=\"" + key.first + "\",fallback=\"" +
            key.second + "\"} " + std::to_string(rows) + "\n";
  }
  return text;
}

StatusOr<monitoring::FeedbackOutcome> Service::PostFeedback(
    const std::vector<monitoring::Feedback>& feedback) {
  if (monitor_ == nullptr) {
    return FailedPreconditionError(
        "feedback needs the prediction log to join it to: start the server with "
        "--prediction-log DIR");
  }
  return monitor_->AddFeedback(feedback);
}

Service::~Service() = default;

std::string Service::NewRequestId() {
  static const std::string prefix = [] {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%012llx-",
                  static_cast<unsigned long long>(
                      std::chrono::system_clock::now().time_since_epoch().count() &
                      0xffffffffffffULL));
    return std::string(buf);
  }();
  return prefix + std::to_string(next_request_id_.fetch_add(1, std::memory_order_relaxed));
}

void Service::Predict(PredictRequest request, PredictDone done) {
  if (request.request_id.empty()) {
    if (request.headers != nullptr) request.request_id = request.headers->Get("x-request-id");
    if (request.request_id.empty()) request.request_id = NewRequestId();
  }
  auto snapshot = manager_->Snapshot(request.model);
  if (!snapshot) {
    metrics_->For("", 0)->CountRequest(StatusCode::kNotFound);
    done(NotFoundError("model '" + request.model + "' not found"));
    return;
  }
  std::string key;
  const RoutingConfig& rc = snapshot->routing;
  if (!rc.sticky_header.empty() && request.headers != nullptr) {
    key = std::string(request.headers->Get(rc.sticky_header));
  }
  if (key.empty() && !rc.sticky_field.empty()) {
    if (const RawColumn* c = request.input.raw.Find(rc.sticky_field); c && !c->values.empty()) {
      key = RawToText(c->values[0]);
    }
  }
  StatusOr<Route> route = RouteRequest(*snapshot, request.selector, key);
  if (!route.ok()) {
    metrics_->For(request.model, 0)->CountRequest(route.status().code());
    done(route.status());
    return;
  }
  std::shared_ptr<const Servable> primary = std::move(route->primary);
  VersionMetrics* vm = primary->metrics();
  // A preview (model_input.h) is answered but is not traffic: counted apart, never logged nor
  // mirrored.
  const bool preview = IsPreview(request.input);
  auto count = [vm, preview](StatusCode code) {
    preview ? vm->CountPreviewRequest(code) : vm->CountRequest(code);
  };
  if (request.method != Method::kPredict) {
    StatusOr<std::vector<size_t>> outputs =
        SignatureOutputs(primary->spec(), request.method, request.signature_name);
    if (!outputs.ok()) {
      count(outputs.status().code());
      done(outputs.status());
      return;
    }
  }
  // Each shadow computes its own features from the request as sent (its feature context and
  // width may differ from the primary's); the copy is made only when shadows are configured.
  std::optional<ModelInput> shadow_input;
  if (preview) route->shadows.clear();
  if (!route->shadows.empty()) shadow_input = request.input;
  StatusOr<std::vector<float>> features = ComputeFeatures(*primary, request.input, max_batch_rows_);
  if (!features.ok()) {
    count(features.status().code());
    done(features.status());
    return;
  }
  const int64_t rows = request.input.rows;
  std::optional<PendingLogEntry> log_entry;
  if (!preview) log_entry = StartLogEntry(request, primary, *features);
  const bool shadow_log = log_entry.has_value();
  auto shadows = std::move(route->shadows);
  const Servable* p = primary.get();
  p->Predict(
      std::move(features).value(), rows,
      [this, primary = std::move(primary), done = std::move(done), rows,
       shadows = std::move(shadows), shadow_input = std::move(shadow_input),
       log_entry = std::move(log_entry), request_id = std::move(request.request_id),
       shadow_log, count, preview](Status status, std::vector<float> outputs,
                                         PredictTiming timing) mutable {
        VersionMetrics* vm = primary->metrics();
        if (status.ok()) {
          for (size_t i = 0; i < outputs.size(); ++i) {
            if (!std::isfinite(outputs[i])) {
              status =
                  InternalError(VersionName(*primary) + " produced a non-finite output at row " +
                                std::to_string(i / primary->spec().output_names.size()));
              break;
            }
          }
        } else if (status.code() != StatusCode::kResourceExhausted &&
                   status.code() != StatusCode::kUnavailable) {
          status = InternalError(VersionName(*primary) + ": " + status.message());
        }
        count(status.code());
        if (!status.ok()) {
          done(status);
          return;
        }
        if (!preview) {
          vm->queue_seconds.Observe(timing.queue_ns * 1e-9);
          vm->compute_seconds.Observe(timing.compute_ns * 1e-9);
        }
        if (log_entry) FinishLogEntry(std::move(*log_entry), primary, outputs);
        for (size_t i = 0; i < shadows.size(); ++i) {
          // The last shadow takes the request itself; the others a copy each.
          ModelInput input = i + 1 == shadows.size() ? std::move(*shadow_input) : *shadow_input;
          shadows_->Enqueue({std::move(shadows[i]), primary->spec().version, rows,
                             std::move(input), outputs, shadow_log ? request_id : std::string()});
        }
        PredictResult result;
        result.servable = std::move(primary);
        result.rows = rows;
        result.values = std::move(outputs);
        result.timing = timing;
        result.request_id = std::move(request_id);
        result.preview = preview;
        done(std::move(result));
      });
}

std::optional<Service::PendingLogEntry> Service::StartLogEntry(
    PredictRequest& request, const std::shared_ptr<const Servable>& primary,
    const std::vector<float>& features) {
  if (prediction_log_ == nullptr) return std::nullopt;
  const auto start = std::chrono::steady_clock::now();
  if (!prediction_log_->Sample(request.request_id)) return std::nullopt;
  monitoring::PredictionBatch b;
  b.request_id = request.request_id;
  b.time_us = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
  b.model = request.model;
  b.route = !request.selector.label.empty() ? request.selector.label
            : request.selector.version      ? "v" + std::to_string(*request.selector.version)
                                            : "default";
  b.rows = request.input.rows;
  b.features = features;
  // Hand over, don't render: the version's names are shared, the raw fields moved (the request
  // is done with them) and rendered to JSON on the log's writer thread.
  b.feature_names = LogFeatureNames(primary);
  b.raw_rows = RawRowsForLog(std::move(request.input.raw));
  return PendingLogEntry{std::move(b), start};
}

void Service::FinishLogEntry(PendingLogEntry pending,
                             const std::shared_ptr<const Servable>& servable,
                             const std::vector<float>& outputs) {
  monitoring::PredictionBatch& entry = pending.batch;
  entry.version = servable->spec().version;
  entry.output_names = LogOutputNames(servable);
  entry.outputs = outputs;
  entry.latency_us = std::chrono::duration<float, std::micro>(std::chrono::steady_clock::now() -
                                                              pending.start)
                         .count();
  prediction_log_->Log(std::move(entry));
}

StatusOr<std::vector<VersionStatus>> Service::GetModelStatus(
    const std::string& model, const VersionSelector& selector) const {
  ASSIGN_OR_RETURN(std::vector<VersionStatus> all, manager_->GetStatus(model));
  if (!selector.version.has_value() && selector.label.empty()) return all;
  int64_t version = selector.version.value_or(0);
  if (!selector.label.empty()) {
    auto snap = manager_->Snapshot(model);
    auto it = snap->labels.find(selector.label);
    if (it == snap->labels.end()) {
      return NotFoundError("model '" + model + "' has no label '" + selector.label + "'");
    }
    version = it->second;
  }
  for (const VersionStatus& v : all) {
    if (v.version == version) return std::vector<VersionStatus>{v};
  }
  return NotFoundError("model '" + model + "' has no version " + std::to_string(version));
}

StatusOr<ModelDescription> Service::DescribeModel(const std::string& model,
                                                  const VersionSelector& selector) const {
  auto snap = manager_->Snapshot(model);
  if (!snap) return NotFoundError("model '" + model + "' not found");
  std::shared_ptr<const Servable> s;
  if (selector.version.has_value() || !selector.label.empty()) {
    ASSIGN_OR_RETURN(Route r, RouteRequest(*snap, selector, ""));
    s = r.primary;
  } else {
    s = ResolveTarget(*snap, "stable");
    if (!s && !snap->available.empty()) s = snap->available.rbegin()->second;
  }
  if (!s) return UnavailableError("model '" + model + "' has no AVAILABLE version");
  ModelDescription d;
  d.spec = s->spec();
  for (const auto& [v, unused] : snap->available) d.available_versions.push_back(v);
  d.labels = snap->labels;
  return d;
}

Status Service::ModelReady(const std::string& model, const VersionSelector& selector) const {
  auto snap = manager_->Snapshot(model);
  if (!snap) return NotFoundError("model '" + model + "' not found");
  ASSIGN_OR_RETURN(Route r, RouteRequest(*snap, selector, ""));
  return OkStatus();
}

std::vector<RepositoryEntry> Service::RepositoryIndex() const {
  std::vector<RepositoryEntry> index;
  for (const std::string& name : manager_->ModelNames()) {
    auto versions = manager_->GetStatus(name);
    if (!versions.ok()) continue;  // unloaded since ModelNames
    for (VersionStatus& v : *versions) index.push_back({name, std::move(v)});
  }
  return index;
}

Status Service::LoadModel(const std::string& model) { return manager_->LoadModel(model); }

Status Service::UnloadModel(const std::string& model) { return manager_->UnloadModel(model); }

StatusOr<LabelMoveOutcome> Service::MoveLabel(const LabelMoveCall& call) {
  if (!IsValidModelName(call.model)) {
    return InvalidArgumentError("invalid model name '" + call.model + "'");
  }
  if (call.why.empty()) {
    return InvalidArgumentError("a label move needs a reason ('why'), kept in the audit log");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<registry::Registry> reg,
                   registry::Registry::Open(manager_->model_repo()));
  const std::string who = call.who.empty() ? "model server" : call.who;
  StatusOr<registry::LabelMove> move =
      call.version ? reg->Promote(call.model, *call.version, call.label, call.why, who)
                   : reg->Rollback(call.model, call.label, call.why, who);
  if (!move.ok()) return move.status();
  BIMRIDE_LOG(INFO) << "model " << call.model << ": label '" << call.label << "' moved to version "
                    << move->to_version << " by " << who << " (" << call.why << ")";
  // Apply it here now (other servers follow labels.json on their next poll).
  LabelMoveOutcome out{*move, 0, manager_->Refresh(call.model)};
  std::shared_ptr<const ModelSnapshot> snap = manager_->Snapshot(call.model);
  if (snap == nullptr) return out;
  if (auto served = snap->labels.find(call.label); served != snap->labels.end()) {
    out.serving_version = served->second;
  }
  if (out.serving.ok() && out.serving_version != move->to_version) {
    auto state = snap->states.find(move->to_version);
    out.serving = UnavailableError(
        "version " + std::to_string(move->to_version) + " is not available in this server (" +
        (state != snap->states.end() ? std::string(VersionStateName(state->second))
                                     : std::string("not loaded")) +
        "); the label keeps serving version " + std::to_string(out.serving_version));
  }
  return out;
}

std::string Service::MonitorMetricsText() const {
  if (monitor_ == nullptr) return "";
  std::string text;
  const monitoring::MonitorCounters c = monitor_->counters();
  for (const auto& [name, help, value] : std::vector<std::tuple<const char*, const char*, int64_t>>{
           {"bimride_feedback_labels_total", "Labels received (POST /v1/feedback).", c.labels},
           {"bimride_feedback_joined_total", "Label × logged prediction joins.", c.joined},
           {"bimride_feedback_late_total", "Labels that joined a closed window.", c.late},
           {"bimride_feedback_duplicate_total", "Labels for an already labelled row.",
            c.duplicate},
           {"bimride_feedback_missing_total",
            "Logged predictions that left the pending set without a label.", c.missing},
           {"bimride_feedback_unmatched_total",
            "Labels that left the waiting set without meeting their prediction.", c.unmatched}}) {
    text += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" +
            name + " " + std::to_string(value) + "\n";
  }
  const std::vector<monitoring::WindowAccuracy> windows = monitor_->LatestWindows();
  auto gauge = [&](const char* name, const char* help, auto value_of) {
    text += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n";
    for (const monitoring::WindowAccuracy& w : windows) {
      char value[40];
      std::snprintf(value, sizeof value, "%.9g", static_cast<double>(value_of(w)));
      text += std::string(name) + "{model=\"" + w.model + "\",version=\"" +
              std::to_string(w.version) + "\",window=\"" + std::to_string(w.window) + "\"} " +
              value + "\n";
    }
  };
  const char* kOf = " of the version's last closed window of logged predictions (labelled rows).";
  gauge("bimride_live_rmse", (std::string("Live RMSE") + kOf).c_str(),
        [](const monitoring::WindowAccuracy& w) { return w.metrics.rmse; });
  gauge("bimride_live_mae", (std::string("Live MAE") + kOf).c_str(),
        [](const monitoring::WindowAccuracy& w) { return w.metrics.mae; });
  gauge("bimride_live_bias", (std::string("Live mean(predicted - actual)") + kOf).c_str(),
        [](const monitoring::WindowAccuracy& w) { return w.metrics.bias; });
  gauge("bimride_live_labelled_rows", (std::string("Labelled rows") + kOf).c_str(),
        [](const monitoring::WindowAccuracy& w) { return w.labelled_rows; });
  gauge("bimride_estimated_rmse",
        "RMSE of the version's last closed window estimated before its labels: the version's loss "
        "estimator on its inputs, anchored on the labels of the windows before it (NaN without an "
        "estimator).",
        [](const monitoring::WindowAccuracy& w) { return w.estimated_rmse; });
  gauge("bimride_estimated_rmse_unanchored",
        "The same window's RMSE as the version's loss estimator alone estimates it from the "
        "inputs (NaN without one).",
        [](const monitoring::WindowAccuracy& w) { return w.estimated_rmse_unanchored; });
  gauge("bimride_estimate_anchor_rows",
        "Labelled rows of earlier windows the estimated RMSE is anchored on (0: not anchored).",
        [](const monitoring::WindowAccuracy& w) { return w.anchor_rows; });
  gauge("bimride_drift_alarm",
        "1 when the version's last closed window drifted past a calibrated threshold.",
        [](const monitoring::WindowAccuracy& w) { return w.drift_alarm ? 1 : 0; });
  for (int s = 0; s < monitoring::kDriftScores; ++s) {
    const std::string name = "bimride_drift_" + std::string(monitoring::kDriftScoreNames[s]);
    text += "# HELP " + name + " Drift of a feature in the version's last closed window against " +
            "its training baseline (monitoring/drift.h).\n# TYPE " + name + " gauge\n";
    for (const monitoring::WindowAccuracy& w : windows) {
      for (const monitoring::FeatureDrift& d : w.drift) {
        if (d.categorical) continue;  // its own gauges below
        char value[40];
        std::snprintf(value, sizeof value, "%.6g", d.scores.value[s]);
        text += name + "{model=\"" + w.model + "\",version=\"" + std::to_string(w.version) +
                "\",feature=\"" + d.feature + "\"} " + value + "\n";
      }
    }
  }
  // Declared categories (zones, boroughs): chi-square against the training frequencies, its
  // p-value, Cramér's V and the Jensen–Shannon distance (monitoring/drift.h).
  for (const auto& [suffix, help, value_of] :
       std::vector<std::tuple<const char*, const char*,
                              std::function<double(const monitoring::CategoryDriftScores&)>>>{
           {"chi2", "Chi-square of a categorical feature's frequencies",
            [](const monitoring::CategoryDriftScores& c) { return c.chi2; }},
           {"chi2_p_value", "P-value of that chi-square (assumes independent rows)",
            [](const monitoring::CategoryDriftScores& c) { return c.p_value; }},
           {"cramers_v", "Cramer's V (effect size) of that chi-square",
            [](const monitoring::CategoryDriftScores& c) { return c.cramers_v; }},
           {"js_distance", "Jensen-Shannon distance (base 2) of a categorical feature's frequencies",
            [](const monitoring::CategoryDriftScores& c) { return c.js_distance; }}}) {
    const std::string name = "bimride_drift_" + std::string(suffix);
    text += "# HELP " + name + " " + help + " in the version's last closed window against its " +
            "training baseline.\n# TYPE " + name + " gauge\n";
    for (const monitoring::WindowAccuracy& w : windows) {
      for (const monitoring::FeatureDrift& d : w.drift) {
        if (!d.categorical || !d.error.empty()) continue;
        char value[40];
        std::snprintf(value, sizeof value, "%.6g", value_of(d.category));
        text += name + "{model=\"" + w.model + "\",version=\"" + std::to_string(w.version) +
                "\",feature=\"" + d.feature + "\"} " + value + "\n";
      }
    }
  }
  return text;
}

std::string Service::MetricsText() const {
  std::string text = metrics_->RenderPrometheus(manager_->LoadedVersions());
  if (rollouts_ != nullptr) text += rollouts_->MetricsText();
  if (prediction_log_ != nullptr) {
    const monitoring::PredictionLogStats s = prediction_log_->stats();
    for (const auto& [name, help, value] : std::vector<std::tuple<const char*, const char*, int64_t>>{
             {"bimride_prediction_log_rows_total", "Predicted rows written to the prediction log.",
              s.logged_rows},
             {"bimride_prediction_log_dropped_rows_total",
              "Rows not logged because the log's queue was full.", s.dropped_rows},
             {"bimride_prediction_log_lost_rows_total", "Rows lost to write errors.", s.lost_rows},
             {"bimride_prediction_log_sampled_out_total", "Requests left out by the sample rate.",
              s.sampled_out},
             {"bimride_prediction_log_write_errors_total", "Prediction log write errors.",
              s.write_errors},
             {"bimride_prediction_log_deleted_files_total",
              "Prediction log files deleted to keep to the disk budget.", s.deleted_files},
             {"bimride_prediction_log_labels_total",
              "Labels written beside the prediction log.", s.logged_labels},
             {"bimride_prediction_log_dropped_labels_total",
              "Labels not written because the log's queue was full.", s.dropped_labels},
             {"bimride_prediction_log_lost_labels_total", "Labels lost to write errors.",
              s.lost_labels}}) {
      text += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" +
              name + " " + std::to_string(value) + "\n";
    }
    text += MonitorMetricsText();
    text += "# HELP bimride_prediction_log_bytes Bytes of closed prediction log files on disk.\n"
            "# TYPE bimride_prediction_log_bytes gauge\nbimride_prediction_log_bytes " +
            std::to_string(s.bytes_on_disk) + "\n";
  }
  text += OnlineMetricsText();
  return text;
}

}  // namespace bimride::serving
