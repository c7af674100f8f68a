#include "serving/servable_manager.h"

#include <algorithm>
#include <chrono>
#include <set>

#include "common/logging.h"
#include "common/thread_name.h"

namespace bimride::serving {

std::string_view VersionStateName(VersionState state) {
  switch (state) {
    case VersionState::kStart:
      return "START";
    case VersionState::kLoading:
      return "LOADING";
    case VersionState::kAvailable:
      return "AVAILABLE";
    case VersionState::kUnloading:
      return "UNLOADING";
    case VersionState::kEnd:
      return "END";
  }
  return "UNKNOWN";
}

ServableManager::ServableManager(ServerConfig config, ServingMetrics* metrics,
                                 online::FeatureStore* online_store)
    : config_(std::move(config)), metrics_(metrics), online_store_(online_store) {}

ServableManager::~ServableManager() { Stop(); }

Status ServableManager::Start() {
  RETURN_IF_ERROR(ReconcileAll());
  {
    std::lock_guard<std::mutex> lock(mu_);
    started_ = true;
  }
  if (config_.poll_interval_ms > 0) {
    poll_thread_ = std::thread([this] {
      NameThisThread("model-poll");
      PollLoop();
    });
  }
  return OkStatus();
}

void ServableManager::Stop() {
  {
    std::lock_guard<std::mutex> lock(poll_mu_);
    stop_polling_ = true;
  }
  poll_cv_.notify_all();
  if (poll_thread_.joinable()) poll_thread_.join();
  std::lock_guard<std::mutex> rlock(reconcile_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    started_ = false;
    for (auto& [name, entry] : models_) {
      for (auto& [version, v] : entry.versions) {
        if (v.servable) {
          retired_.push_back({name, version, std::move(v.servable)});
          v.state = VersionState::kUnloading;
        }
      }
      PublishLocked(name, entry);
    }
  }
  CollectRetired(/*wait=*/true);
}

void ServableManager::PollLoop() {
  std::unique_lock<std::mutex> lock(poll_mu_);
  while (!stop_polling_) {
    poll_cv_.wait_for(lock, std::chrono::milliseconds(config_.poll_interval_ms));
    if (stop_polling_) break;
    lock.unlock();
    Status st = ReconcileAll();
    if (!st.ok()) {
      BIMRIDE_LOG(WARN) << "model repository poll: " << st.message();
    }
    lock.lock();
  }
}

Status ServableManager::ReconcileAll() {
  std::lock_guard<std::mutex> rlock(reconcile_mu_);
  ASSIGN_OR_RETURN(auto on_disk, ScanRepository(config_.model_repo));
  std::set<std::string> names;
  for (const auto& [name, versions] : on_disk) names.insert(name);
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [name, entry] : models_) names.insert(name);
  }
  for (const std::string& name : names) {
    auto it = on_disk.find(name);
    ReconcileModel(name, it == on_disk.end() ? std::vector<VersionOnDisk>{} : it->second);
  }
  CollectRetired(/*wait=*/false);
  return OkStatus();
}

Status ServableManager::LoadModel(const std::string& model) {
  if (!IsValidModelName(model)) return InvalidArgumentError("invalid model name '" + model + "'");
  std::lock_guard<std::mutex> rlock(reconcile_mu_);
  std::vector<VersionOnDisk> on_disk = ScanModel(config_.model_repo, model);
  if (on_disk.empty()) {
    return NotFoundError("model '" + model + "' has no versions in " + config_.model_repo);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    ModelEntry& entry = models_[model];
    entry.unloaded = false;
    // An explicit load retries versions that failed before.
    for (auto& [version, v] : entry.versions) v.failed_fingerprint.clear();
  }
  ReconcileModel(model, on_disk);
  CollectRetired(/*wait=*/false);
  std::lock_guard<std::mutex> lock(mu_);
  ModelEntry& entry = models_[model];
  if (entry.snapshot && !entry.snapshot->available.empty()) return OkStatus();
  for (const auto& [version, v] : entry.versions) {
    if (!v.status.ok()) return v.status;
  }
  return UnavailableError("model '" + model + "': no version became available");
}

Status ServableManager::UnloadModel(const std::string& model) {
  std::lock_guard<std::mutex> rlock(reconcile_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = models_.find(model);
    if (it == models_.end()) return NotFoundError("model '" + model + "' not found");
    it->second.unloaded = true;
  }
  ReconcileModel(model, ScanModel(config_.model_repo, model));
  CollectRetired(/*wait=*/false);
  return OkStatus();
}

Status ServableManager::Refresh(const std::string& model) {
  if (!IsValidModelName(model)) return InvalidArgumentError("invalid model name '" + model + "'");
  std::lock_guard<std::mutex> rlock(reconcile_mu_);
  std::vector<VersionOnDisk> on_disk = ScanModel(config_.model_repo, model);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (on_disk.empty() && !models_.count(model)) {
      return NotFoundError("model '" + model + "' has no versions in " + config_.model_repo);
    }
  }
  ReconcileModel(model, on_disk);
  CollectRetired(/*wait=*/false);
  return OkStatus();
}

std::map<std::string, int64_t> ServableManager::DesiredLabelsLocked(
    const std::string& model, const ModelEntry& entry) const {
  std::map<std::string, int64_t> labels = config_.ForModel(model).labels;
  for (const auto& [l, v] : entry.file_labels) labels[l] = v;
  return labels;
}

std::map<std::string, int64_t> ServableManager::ServedLabelsLocked(
    const std::string& model, const ModelEntry& entry) const {
  auto available = [&](int64_t version) {
    auto v = entry.versions.find(version);
    return v != entry.versions.end() && v->second.state == VersionState::kAvailable;
  };
  std::map<std::string, int64_t> served;
  for (const auto& [label, wanted] : DesiredLabelsLocked(model, entry)) {
    auto previous = entry.served_labels.find(label);
    served[label] = !available(wanted) && previous != entry.served_labels.end() &&
                            available(previous->second)
                        ? previous->second
                        : wanted;
  }
  return served;
}

void ServableManager::ReconcileModel(const std::string& model,
                                     const std::vector<VersionOnDisk>& on_disk) {
  const ModelConfig& mc = config_.ForModel(model);
  auto file_labels = ReadLabelFile(config_.model_repo, model);
  if (!file_labels.ok()) {
    BIMRIDE_LOG(WARN) << file_labels.status().message();
  }

  // Aspired versions come from the candidates, which exclude failed loads; a failure can thus
  // change the aspired set (the next-older version becomes aspired), so repeat until stable.
  // Label targets, desired and still served, are aspired whatever the policy.
  std::set<int64_t> aspired;
  std::set<int64_t> by_policy;
  for (bool retry = true; retry;) {
    retry = false;
    std::vector<VersionOnDisk> candidates;
    std::set<int64_t> labelled;
    bool unloaded = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ModelEntry& entry = models_[model];
      entry.on_disk = !on_disk.empty();
      if (file_labels.ok()) entry.file_labels = *file_labels;
      for (const auto& [l, v] : DesiredLabelsLocked(model, entry)) labelled.insert(v);
      for (const auto& [l, v] : entry.served_labels) labelled.insert(v);
      unloaded = entry.unloaded;
      for (const VersionOnDisk& d : on_disk) {
        auto v = entry.versions.find(d.version);
        // A failed version stays out until its manifest changes.
        if (v != entry.versions.end() && !v->second.failed_fingerprint.empty() &&
            v->second.failed_fingerprint == d.fingerprint) {
          continue;
        }
        candidates.push_back(d);
      }
    }

    by_policy.clear();
    if (!unloaded) {
      switch (mc.policy.kind) {
        case VersionPolicy::Kind::kLatest:
          for (size_t i = candidates.size() > static_cast<size_t>(mc.policy.latest)
                              ? candidates.size() - mc.policy.latest
                              : 0;
               i < candidates.size(); ++i) {
            by_policy.insert(candidates[i].version);
          }
          break;
        case VersionPolicy::Kind::kSpecific:
          for (const VersionOnDisk& d : candidates) {
            if (std::count(mc.policy.specific.begin(), mc.policy.specific.end(), d.version)) {
              by_policy.insert(d.version);
            }
          }
          break;
        case VersionPolicy::Kind::kAll:
          for (const VersionOnDisk& d : candidates) by_policy.insert(d.version);
          break;
      }
    }
    aspired = by_policy;
    if (!unloaded) {
      for (const VersionOnDisk& d : candidates) {
        if (labelled.count(d.version)) aspired.insert(d.version);
      }
    }

    // 1. Load what is aspired and not yet available.
    for (const VersionOnDisk& d : candidates) {
      if (!aspired.count(d.version)) continue;
      {
        std::lock_guard<std::mutex> lock(mu_);
        VersionEntry& v = models_[model].versions[d.version];
        if (v.state == VersionState::kAvailable) continue;
        v.state = VersionState::kLoading;
        v.status = OkStatus();
        PublishLocked(model, models_[model]);
      }
      VersionMetrics* vm = metrics_->For(model, d.version);
      const auto t0 = std::chrono::steady_clock::now();
      StatusOr<std::unique_ptr<Servable>> loaded = [&]() -> StatusOr<std::unique_ptr<Servable>> {
        ASSIGN_OR_RETURN(ServableSpec spec, LoadServableSpec(config_.model_repo, model, d.version));
        models::LoadOptions lo;
        lo.num_threads = static_cast<int>(config_.model_threads);
        return Servable::Load(std::move(spec), lo, mc.batching, vm, online_store_);
      }();
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      std::lock_guard<std::mutex> lock(mu_);
      VersionEntry& v = models_[model].versions[d.version];
      if (loaded.ok()) {
        vm->loads.fetch_add(1);
        v.state = VersionState::kAvailable;
        v.status = OkStatus();
        v.failed_fingerprint.clear();
        v.servable = std::shared_ptr<const Servable>(std::move(loaded).value());
        BIMRIDE_LOG(INFO) << "model " << model << " version " << d.version << ": AVAILABLE ("
                          << v.servable->spec().backend << ", loaded and warmed in " << ms
                          << " ms)";
      } else {
        vm->load_failures.fetch_add(1);
        v.state = VersionState::kEnd;
        v.status = loaded.status();
        v.failed_fingerprint = d.fingerprint;
        retry = true;
        BIMRIDE_LOG(ERROR) << "model " << model << " version " << d.version
                           << ": load failed, previous versions keep serving: "
                           << loaded.status().ToString();
      }
      PublishLocked(model, models_[model]);
    }
  }

  // 2. Unload what is no longer aspired — only now that its successors are serving. A label's
  // old target is released once the label serves its new one (the publish just above).
  std::lock_guard<std::mutex> lock(mu_);
  ModelEntry& entry = models_[model];
  // Unloading only versions outside `keep` cannot change what the labels serve.
  const std::map<std::string, int64_t> served = ServedLabelsLocked(model, entry);
  std::set<int64_t> keep = by_policy;
  if (!entry.unloaded) {
    for (const auto& [l, v] : DesiredLabelsLocked(model, entry)) keep.insert(v);
    for (const auto& [l, v] : served) keep.insert(v);
  }
  bool changed = false;
  for (auto& [version, v] : entry.versions) {
    if (v.state != VersionState::kAvailable || keep.count(version)) continue;
    v.state = VersionState::kUnloading;
    retired_.push_back({model, version, std::move(v.servable)});
    v.servable.reset();
    changed = true;
    BIMRIDE_LOG(INFO) << "model " << model << " version " << version << ": UNLOADING";
  }
  // Failed versions that vanished from disk are forgotten.
  for (auto it = entry.versions.begin(); it != entry.versions.end();) {
    bool present = std::any_of(on_disk.begin(), on_disk.end(),
                               [&](const VersionOnDisk& d) { return d.version == it->first; });
    if (!present && it->second.state == VersionState::kEnd && !it->second.status.ok()) {
      it = entry.versions.erase(it);
      changed = true;
    } else {
      ++it;
    }
  }
  // A label moved between loaded versions (a promotion or rollback) changes no version: the
  // snapshot must still be republished, or requests would follow the old label.
  if (entry.snapshot && entry.snapshot->labels != served) changed = true;
  if (changed || !entry.snapshot) PublishLocked(model, entry);
  // Say once (not every poll) why a label does not serve the version it asks for.
  std::map<std::string, std::string> waits;
  for (const auto& [label, wanted] : DesiredLabelsLocked(model, entry)) {
    if (served.at(label) == wanted) continue;
    auto v = entry.versions.find(wanted);
    waits[label] = "label '" + label + "' asks for version " + std::to_string(wanted) +
                   ", which is " +
                   (v == entry.versions.end() ? std::string("not loadable (not on disk or failed)")
                                              : std::string(VersionStateName(v->second.state))) +
                   " here; it keeps serving version " + std::to_string(served.at(label));
    auto before = entry.label_waits.find(label);
    if (before == entry.label_waits.end() || before->second != waits[label]) {
      BIMRIDE_LOG(WARN) << "model " << model << ": " << waits[label];
    }
  }
  entry.label_waits = std::move(waits);
}

void ServableManager::CollectRetired(bool wait) {
  for (;;) {
    for (auto it = retired_.begin(); it != retired_.end();) {
      if (it->servable.use_count() == 1) {
        it->servable.reset();  // unloads here, on the manager's thread
        std::lock_guard<std::mutex> lock(mu_);
        auto m = models_.find(it->model);
        if (m != models_.end()) {
          auto v = m->second.versions.find(it->version);
          if (v != m->second.versions.end() && v->second.state == VersionState::kUnloading) {
            v->second.state = VersionState::kEnd;
            PublishLocked(it->model, m->second);
          }
        }
        BIMRIDE_LOG(INFO) << "model " << it->model << " version " << it->version << ": END";
        it = retired_.erase(it);
      } else {
        ++it;
      }
    }
    if (!wait || retired_.empty()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

void ServableManager::PublishLocked(const std::string& model, ModelEntry& entry) {
  auto snap = std::make_shared<ModelSnapshot>();
  snap->name = model;
  for (const auto& [version, v] : entry.versions) {
    snap->states[version] = v.state;
    if (v.state == VersionState::kAvailable && v.servable) snap->available[version] = v.servable;
  }
  std::map<std::string, int64_t> served = ServedLabelsLocked(model, entry);
  for (const auto& [label, version] : served) {
    auto old = entry.served_labels.find(label);
    if (old == entry.served_labels.end() || old->second != version) {
      BIMRIDE_LOG(INFO) << "model " << model << ": label '" << label << "' -> version "
                        << version;
    }
  }
  entry.served_labels = served;
  snap->labels = std::move(served);
  snap->routing = config_.ForModel(model).routing;
  if (auto o = split_overrides_.find(model); o != split_overrides_.end()) {
    snap->routing.split = o->second;
  }
  entry.snapshot = std::move(snap);
}

void ServableManager::SetTrafficSplit(const std::string& model,
                                      std::optional<std::vector<TrafficShare>> split) {
  std::lock_guard<std::mutex> lock(mu_);
  if (split) {
    split_overrides_[model] = std::move(*split);
  } else {
    split_overrides_.erase(model);
  }
  auto it = models_.find(model);
  if (it != models_.end() && it->second.snapshot) PublishLocked(model, it->second);
}

std::shared_ptr<const ModelSnapshot> ServableManager::Snapshot(const std::string& model) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = models_.find(model);
  if (it == models_.end()) return nullptr;
  return it->second.snapshot;
}

std::vector<std::string> ServableManager::ModelNames() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, entry] : models_) out.push_back(name);
  return out;
}

StatusOr<std::vector<VersionStatus>> ServableManager::GetStatus(const std::string& model) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = models_.find(model);
  if (it == models_.end()) {
    return NotFoundError("model '" + model + "' not found in the model repository");
  }
  std::vector<VersionStatus> out;
  for (const auto& [version, v] : it->second.versions) out.push_back({version, v.state, v.status});
  return out;
}

std::vector<std::pair<std::string, int64_t>> ServableManager::LoadedVersions() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<std::string, int64_t>> out;
  for (const auto& [name, entry] : models_) {
    for (const auto& [version, v] : entry.versions) {
      if (v.state == VersionState::kAvailable) out.emplace_back(name, version);
    }
  }
  return out;
}

bool ServableManager::Ready() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!started_) return false;
  for (const auto& [name, entry] : models_) {
    if (entry.unloaded || !entry.on_disk) continue;
    if (!entry.snapshot || entry.snapshot->available.empty()) return false;
  }
  return true;
}

}  // namespace bimride::serving
