// ServableManager: loads, serves and unloads model versions from a model repository (TF
// Serving's Manager + version policy over the ModelSource).
//
// For each model it computes the aspired versions — the version policy applied to the versions
// on disk, plus every version a label points to — loads and warms the ones not yet available,
// publishes them, and only then unloads the versions no longer aspired (availability-preserving
// swap). A version whose load failed (bad manifest, checksum mismatch, backend error) is marked
// END with its error, logged and counted; it leaves the aspired set until its manifest changes,
// so the version serving before keeps serving.
//
// Readers take an immutable `ModelSnapshot` (shared_ptr); a request holds its servable until
// it is answered, so unloading never cuts an in-flight request.
//
// Labels: the config's, overridden by the repository's `<model>/labels.json` — the registry's,
// its one source of truth (moves through the API go through the registry too, audited). Every
// version a label points to is loaded whatever the policy. A label move takes effect here only
// once its target is AVAILABLE: until then (LOADING, or failed to load) the label keeps serving
// its previous version, which stays loaded; a new label with nothing to fall back on points at
// its target at once (requests then get the target's state as the reason).
//
// Thread safety: every public method may be called from any thread. Loads run on the caller of
// Start/ReconcileAll/LoadModel or on the poll thread; they are serialised.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/status.h"
#include "serving/model_source.h"
#include "serving/servable.h"
#include "serving/server_config.h"
#include "serving/serving_metrics.h"

namespace bimride::serving {

// TF Serving's ModelVersionStatus.State.
enum class VersionState { kStart, kLoading, kAvailable, kUnloading, kEnd };
std::string_view VersionStateName(VersionState state);

struct VersionStatus {
  int64_t version = 0;
  VersionState state = VersionState::kStart;
  Status status;  // the load error for END versions that failed
};

// What a request sees of one model: immutable once published.
struct ModelSnapshot {
  std::string name;
  std::map<int64_t, std::shared_ptr<const Servable>> available;
  std::map<int64_t, VersionState> states;  // every version the manager tracks
  std::map<std::string, int64_t> labels;
  RoutingConfig routing;
};

class ServableManager {
 public:
  // `online_store` (may be null) is handed to every version's feature adapter.
  ServableManager(ServerConfig config, ServingMetrics* metrics,
                  online::FeatureStore* online_store = nullptr);
  ~ServableManager();
  ServableManager(const ServableManager&) = delete;
  ServableManager& operator=(const ServableManager&) = delete;

  // Loads the repository once (synchronously), then polls every poll_interval_ms when > 0.
  // NotFound when the repository folder does not exist. Failed versions do not fail Start.
  Status Start();
  // Stops polling and unloads everything, waiting for in-flight requests to release servables.
  void Stop();

  const std::string& model_repo() const { return config_.model_repo; }
  // nullptr when the model is unknown.
  std::shared_ptr<const ModelSnapshot> Snapshot(const std::string& model) const;
  std::vector<std::string> ModelNames() const;
  // NotFound for an unknown model.
  StatusOr<std::vector<VersionStatus>> GetStatus(const std::string& model) const;
  // (model, version) pairs now AVAILABLE.
  std::vector<std::pair<std::string, int64_t>> LoadedVersions() const;
  // Started, and every model with versions on disk that is not unloaded has one AVAILABLE.
  bool Ready() const;
  // The server's live state (may be null): what feature adapters and event sinks use.
  online::FeatureStore* online_store() const { return online_store_; }

  // Rescans the repository and reconciles every model (what the poll thread does).
  Status ReconcileAll();
  // Repository API: (re)enables the model and reconciles it now. NotFound when not on disk;
  // the first load error when no version became available.
  Status LoadModel(const std::string& model);
  // Repository API: unloads every version and keeps the model unloaded until LoadModel.
  Status UnloadModel(const std::string& model);
  // Rescans one model (its versions and labels.json) and reconciles it now, loading what its
  // labels and policy aspire to before returning (as a poll would). InvalidArgument for a bad
  // name; NotFound when the model is neither on disk nor known.
  Status Refresh(const std::string& model);
  // Overrides the model's traffic split (a progressive rollout's weights, serving/
  // progressive_rollout.h) and republishes its snapshot at once; nullopt: the config's split
  // again. Sticky and shadow settings stay the config's.
  void SetTrafficSplit(const std::string& model, std::optional<std::vector<TrafficShare>> split);

 private:
  struct VersionEntry {
    VersionState state = VersionState::kStart;
    Status status;
    std::shared_ptr<const Servable> servable;
    std::string failed_fingerprint;  // manifest fingerprint of the failed load
  };
  struct ModelEntry {
    std::map<int64_t, VersionEntry> versions;
    bool unloaded = false;  // by the repository API
    bool on_disk = false;
    std::map<std::string, int64_t> file_labels;
    // What requests follow: a label moves here only once its target is AVAILABLE.
    std::map<std::string, int64_t> served_labels;
    std::map<std::string, std::string> label_waits;  // why a label lags its move (logged once)
    std::shared_ptr<const ModelSnapshot> snapshot;
  };
  struct Retired {
    std::string model;
    int64_t version;
    std::shared_ptr<const Servable> servable;
  };

  // Caller holds reconcile_mu_.
  void ReconcileModel(const std::string& model, const std::vector<VersionOnDisk>& on_disk);
  // Caller holds mu_.
  void PublishLocked(const std::string& model, ModelEntry& entry);
  // The labels as configured and in labels.json (the moves asked for).
  std::map<std::string, int64_t> DesiredLabelsLocked(const std::string& model,
                                                     const ModelEntry& entry) const;
  // The labels requests should follow now: each desired target that is AVAILABLE, else the
  // label's previous served target while that is AVAILABLE, else the desired target.
  std::map<std::string, int64_t> ServedLabelsLocked(const std::string& model,
                                                    const ModelEntry& entry) const;
  // Destroys retired servables nobody uses any more; caller holds reconcile_mu_.
  void CollectRetired(bool wait);
  void PollLoop();

  const ServerConfig config_;
  ServingMetrics* const metrics_;
  online::FeatureStore* const online_store_;  // may be null

  mutable std::mutex mu_;  // guards models_ and started_
  std::map<std::string, ModelEntry> models_;
  std::map<std::string, std::vector<TrafficShare>> split_overrides_;
  bool started_ = false;

  std::mutex reconcile_mu_;  // serialises loads/unloads; guards retired_
  std::vector<Retired> retired_;

  std::mutex poll_mu_;
  std::condition_variable poll_cv_;
  bool stop_polling_ = false;
  std::thread poll_thread_;
};

}  // namespace bimride::serving
