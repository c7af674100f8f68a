// Service: the transport-agnostic model server API. Each transport (HTTP today, gRPC next)
// parses its requests into these structs, calls one method, and renders the answer; every
// policy — routing, canary, shadow, batching, feature computation, validation, metrics — lives
// here or below. The Server (serving/server.h) builds one Service and hands it to every
// transport.
//
// Thread safety: all methods may be called from any thread. Predict's `done` runs on the
// caller's thread (batching off) or on a batcher thread (batching on); it must not block.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "monitoring/live_monitor.h"
#include "monitoring/prediction_log.h"
#include "online/feature_store.h"
#include "registry/metadata_store.h"
#include "serving/canary_router.h"
#include "serving/model_input.h"
#include "serving/servable_manager.h"
#include "serving/serving_metrics.h"
#include "serving/shadow_queue.h"
#include "serving/signature.h"

namespace bimride::serving {

class RolloutController;

// Lets the router read a header (for sticky canary routing) without knowing the transport.
class RequestHeaders {
 public:
  virtual ~RequestHeaders() = default;
  virtual std::string_view Get(std::string_view name) const = 0;
};

struct PredictRequest {
  std::string model;
  VersionSelector selector;
  ModelInput input;
  const RequestHeaders* headers = nullptr;  // may be null; must outlive the Predict call only
  // TF Serving's :regress and :classify are predictions whose answering version must have that
  // signature (serving/signature.h); checked once the request is routed, before it runs.
  Method method = Method::kPredict;
  std::string signature_name;
  // The request's id, echoed to the client (x-request-id) and logged, so feedback can name it.
  // Empty: the `x-request-id` header, else one the service makes up.
  std::string request_id;
};

struct PredictResult {
  std::shared_ptr<const Servable> servable;  // the version that answered
  int64_t rows = 0;
  std::vector<float> values;  // rows × output_names().size()
  PredictTiming timing;
  std::string request_id;  // as sent or made up (PredictRequest::request_id)
  bool preview = false;    // a preview (IsPreview): transports keep it out of latency metrics

  const std::string& model() const { return servable->spec().model; }
  int64_t version() const { return servable->spec().version; }
  const std::vector<std::string>& output_names() const { return servable->spec().output_names; }
};

using PredictDone = std::function<void(StatusOr<PredictResult>)>;

// Metadata of one model version, for the TF Serving and KServe metadata endpoints.
struct ModelDescription {
  ServableSpec spec;
  std::vector<int64_t> available_versions;
  std::map<std::string, int64_t> labels;
};

// A label move asked of a server. It is made in the registry (labels.json and the audit log:
// the one source of truth that `bimride models` and every other server follow), then applied
// here at once.
struct LabelMoveCall {
  std::string model;
  std::string label;
  std::optional<int64_t> version;  // nullopt: roll the label back to where it was before
  std::string why;                 // required: kept in the audit log
  std::string who;
};

struct LabelMoveOutcome {
  registry::LabelMove move;
  // What the label serves in this server now: move.to_version once that is AVAILABLE, else
  // the version it served before (with the reason in `serving`).
  int64_t serving_version = 0;
  Status serving;
};

// One version of one model in the repository index (KServe's repository API).
struct RepositoryEntry {
  std::string model;
  VersionStatus status;
};

class Service {
 public:
  // `manager`, `metrics` and `shadows` must outlive the Service. Mirrors for shadow versions go
  // to `shadows` after the primary answered. (The Server passes the queue it owns.) Answered
  // predictions go to `prediction_log` when it is not null, and through it to `monitor` (which
  // joins feedback to them) (sampled by request id: the
  // `x-request-id` header, else one the service makes up). Shadow answers are logged by the
  // ShadowQueue (route "shadow").
  Service(ServableManager* manager, ServingMetrics* metrics, ShadowQueue* shadows,
          int64_t max_batch_rows, monitoring::PredictionLog* prediction_log = nullptr,
          monitoring::LiveMonitor* monitor = nullptr, online::FeatureStore* online_store = nullptr);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Errors: NotFound (model/version/label), Unavailable (not loaded yet), InvalidArgument
  // (shape, dtype, NaN/Inf, missing raw field; a version without the request's method or
  // signature), OutOfRange (too many rows),
  // ResourceExhausted (batch queue full), Internal (backend failure, non-finite output).
  void Predict(PredictRequest request, PredictDone done);

  StatusOr<std::vector<VersionStatus>> GetModelStatus(const std::string& model,
                                                      const VersionSelector& selector) const;
  StatusOr<ModelDescription> DescribeModel(const std::string& model,
                                           const VersionSelector& selector) const;
  // OK when the (selected or default) version can serve; the reason otherwise.
  Status ModelReady(const std::string& model, const VersionSelector& selector) const;

  bool Live() const { return true; }
  bool Ready() const { return manager_->Ready(); }

  // Repository control (what ServableManager documents): every tracked version of every model,
  // by model name then version; load (NotFound when not on disk) and unload a model now; move a
  // label through the registry (its errors: NotFound, InvalidArgument for a bad label or an
  // empty why, DataLoss for a corrupt version, FailedPrecondition for nothing to roll back).
  std::vector<RepositoryEntry> RepositoryIndex() const;
  Status LoadModel(const std::string& model);
  Status UnloadModel(const std::string& model);
  StatusOr<LabelMoveOutcome> MoveLabel(const LabelMoveCall& call);

  // A new request id: unique within this process and distinct across restarts.
  std::string NewRequestId();

  // Labels for logged predictions (monitoring/live_monitor.h). FailedPrecondition when the
  // server has no prediction log (nothing to join them to).
  StatusOr<monitoring::FeedbackOutcome> PostFeedback(const std::vector<monitoring::Feedback>& fb);
  // Records live events of `kind` ("pickups") into the online store through the recorder a task
  // registered (serving/feature_adapter.h); returns how many were recorded. NotFound for an
  // unknown kind, FailedPrecondition without a store, kUnavailable when the store is down.
  StatusOr<int64_t> RecordOnlineEvents(const std::string& kind, const RawBatch& events);
  // The online store's health and the readers' fallbacks as Prometheus text (empty without one).
  std::string OnlineMetricsText() const;

  // The live monitor, or null when the prediction log is off.
  const monitoring::LiveMonitor* live_monitor() const { return monitor_; }

  // The progressive rollouts of this server (serving/progressive_rollout.h), or null when none
  // is attached (the Server attaches its own). It must outlive the Service's use of it.
  void AttachRollouts(RolloutController* rollouts) { rollouts_ = rollouts; }
  RolloutController* rollouts() { return rollouts_; }

  ServingMetrics& metrics() { return *metrics_; }
  const monitoring::PredictionLog* prediction_log() const { return prediction_log_; }
  monitoring::PredictionLog* prediction_log() { return prediction_log_; }
  std::string MetricsText() const;
  // The live monitor's counters and per-version accuracy gauges (empty when there is none).
  std::string MonitorMetricsText() const;

 private:
  // A sampled request's log entry (id, time, route, features, raw rows), or nullopt.
  struct PendingLogEntry {
    monitoring::PredictionBatch batch;
    std::chrono::steady_clock::time_point start;
  };
  // Takes the request's raw fields (rendered on the log's writer thread).
  std::optional<PendingLogEntry> StartLogEntry(PredictRequest& request,
                                               const std::shared_ptr<const Servable>& primary,
                                               const std::vector<float>& features);
  void FinishLogEntry(PendingLogEntry entry, const std::shared_ptr<const Servable>& servable,
                      const std::vector<float>& outputs);

  ServableManager* const manager_;
  ServingMetrics* const metrics_;
  ShadowQueue* const shadows_;
  const int64_t max_batch_rows_;
  monitoring::PredictionLog* const prediction_log_;
  monitoring::LiveMonitor* const monitor_;
  online::FeatureStore* const online_store_;  // may be null
  std::atomic<uint64_t> next_request_id_{0};
  RolloutController* rollouts_ = nullptr;
};

}  // namespace bimride::serving
