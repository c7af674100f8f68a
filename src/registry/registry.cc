#include "registry/registry.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <set>

#include "common/file.h"
#include "common/logging.h"

namespace bimride::registry {
namespace {

int64_t ParseRfc3339Ms(const std::string& text) {
  std::tm tm{};
  if (strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) == nullptr) return 0;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

// Holds an exclusive flock on a file for its lifetime.
class FileLock {
 public:
  static StatusOr<std::unique_ptr<FileLock>> Acquire(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoError("open lock", path, errno);
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) {
        int e = errno;
        ::close(fd);
        return ErrnoError("flock", path, e);
      }
    }
    return std::unique_ptr<FileLock>(new FileLock(fd));
  }
  ~FileLock() { ::close(fd_); }

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

Status CheckLabelName(const std::string& label) {
  if (!IsValidModelName(label)) {
    return InvalidArgumentError("label '" + label +
                                "' is not a valid label (1-128 of [A-Za-z0-9_.-], not starting "
                                "with '.' or '-')");
  }
  bool numeric = std::all_of(label.begin(), label.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (numeric) return InvalidArgumentError("label '" + label + "' must not be a number");
  return OkStatus();
}

}  // namespace

StatusOr<ModelRef> ParseModelRef(const std::string& text) {
  ModelRef ref;
  size_t colon = text.find(':');
  ref.model = text.substr(0, colon);
  if (!IsValidModelName(ref.model)) {
    return InvalidArgumentError("'" + text + "': '" + ref.model + "' is not a valid model name");
  }
  if (colon == std::string::npos) return ref;
  std::string rest = text.substr(colon + 1);
  if (rest.empty()) return InvalidArgumentError("'" + text + "': empty version or label");
  if (std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    StatusOr<int64_t> v = ParseVersionDirName(rest);
    if (!v.ok()) return v.status().WithContext("'" + text + "'");
    ref.version = *v;
  } else {
    RETURN_IF_ERROR(CheckLabelName(rest));
    ref.label = rest;
  }
  return ref;
}

StatusOr<int64_t> RollbackTarget(const std::vector<LabelMove>& history) {
  if (history.empty()) return FailedPreconditionError("label has no history to roll back");
  int64_t undone = 0;  // promotions already undone by the rollbacks seen so far
  for (const LabelMove& move : history) {
    if (move.action == LabelAction::kNote) continue;  // moved nothing
    if (move.action == LabelAction::kRemove) {
      return FailedPreconditionError("label '" + move.label + "' was removed (from version " +
                                     std::to_string(move.to_version) +
                                     "); promote it to a version instead");
    }
    if (move.action == LabelAction::kRollback) {
      ++undone;
      continue;
    }
    if (undone > 0) {
      --undone;
      continue;
    }
    if (!move.from_version) {
      return FailedPreconditionError("label '" + move.label + "' pointed at no version before " +
                                     std::to_string(move.to_version) +
                                     "; nothing to roll back to");
    }
    return *move.from_version;
  }
  return FailedPreconditionError("every promotion of the label has been rolled back already");
}

std::string DefaultRepositoryRoot() {
  const char* env = std::getenv("BIMRIDE_MODEL_REPO");
  return env != nullptr && *env != '\0' ? env : "./model_repo";
}

std::string DefaultDatabasePath(const std::string& repo_root) {
  return repo_root + "/" + kMetadataDirName + "/registry.db";
}

std::string DefaultStoreLocation(const std::string& repo_root) {
  const char* env = std::getenv(kRegistryUrlEnv);
  return env != nullptr && *env != '\0' ? env : DefaultDatabasePath(repo_root);
}

StatusOr<std::unique_ptr<Registry>> Registry::Open(const std::string& repo_root,
                                                   const RegistryOptions& options) {
  std::string location =
      options.db_path.empty() ? DefaultStoreLocation(repo_root) : options.db_path;
  StoreOpenOptions store_options;
  store_options.read_only = options.read_only;
  ASSIGN_OR_RETURN(std::unique_ptr<MetadataStore> store,
                   OpenMetadataStore(location, store_options));
  return std::make_unique<Registry>(ModelRepository(repo_root), std::move(store));
}

Registry::Registry(ModelRepository repository, std::unique_ptr<MetadataStore> store)
    : repository_(std::move(repository)), store_(std::move(store)) {}

Status Registry::Index(const Manifest& m) {
  VersionRecord r;
  r.model = m.name;
  r.version = m.version;
  // Relative to the repository root, so the same repository opened by another path (relative
  // or absolute, another mount point) is the same registry.
  r.path = m.name + "/" + std::to_string(m.version);
  r.run_id = m.run_id;
  r.task = m.task;
  r.backend = m.backend;
  r.created_time_ms = ParseRfc3339Ms(m.created_at);
  return store_->RecordVersion(r);
}

StatusOr<Manifest> Registry::Publish(const std::vector<ArtifactFile>& files,
                                     const Manifest& manifest, const PublishOptions& options) {
  ASSIGN_OR_RETURN(Manifest published, repository_.Publish(files, manifest, options));
  Status indexed = Index(published);
  if (!indexed.ok()) {
    // The version is complete on disk; VerifyAll or the next Promote indexes it.
    return indexed.WithContext(repository_.VersionDir(published.name, published.version) +
                               ": published but not indexed");
  }
  return published;
}

StatusOr<Manifest> Registry::PublishFolder(const std::string& dir,
                                           const FolderOverrides& overrides,
                                           const PublishOptions& options) {
  const std::string path = dir + "/" + kManifestFileName;
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  ASSIGN_OR_RETURN(Manifest manifest, ManifestFromJson(text, path, /*require_version=*/false));
  if (!overrides.name.empty()) manifest.name = overrides.name;
  if (!overrides.backend.empty()) manifest.backend = overrides.backend;
  if (!overrides.first_artifact.empty()) {
    auto it = std::find(manifest.artifacts.begin(), manifest.artifacts.end(),
                        overrides.first_artifact);
    if (it == manifest.artifacts.end()) {
      return InvalidArgumentError(path + ": artifact '" + overrides.first_artifact +
                                  "' is not one of the manifest's artifacts");
    }
    std::rotate(manifest.artifacts.begin(), it, it + 1);
  }
  std::vector<ArtifactFile> files;
  for (const std::string& artifact : manifest.artifacts) {
    files.push_back({dir + "/" + artifact, artifact});
  }
  return Publish(files, manifest, options);
}

Status Registry::WriteLabelsFile(const std::string& model) {
  // Under a lock, read the store and write the file, so the last writer writes the newest state.
  std::string dir = repository_.ModelDir(model);
  ASSIGN_OR_RETURN(auto lock, FileLock::Acquire(dir + "/.labels.lock"));
  ASSIGN_OR_RETURN(auto labels, store_->GetLabels(model));
  return repository_.WriteLabels(model, labels);
}

StatusOr<LabelMove> Registry::MoveLabelAndFile(const LabelMoveRequest& request) {
  const std::string dir = repository_.ModelDir(request.model);
  const std::string what = request.model + ": label '" + request.label + "' not moved";
  StatusOr<std::unique_ptr<FileLock>> lock = FileLock::Acquire(dir + "/.labels.lock");
  if (!lock.ok()) return lock.status().WithContext(what);
  if (request.action == LabelAction::kNote) return store_->MoveLabel(request);  // file unchanged
  ASSIGN_OR_RETURN(auto before, store_->GetLabels(request.model));
  auto after = before;
  if (request.action == LabelAction::kRemove) {
    after.erase(request.label);
  } else {
    after[request.label] = request.to_version;
  }
  if (Status written = repository_.WriteLabels(request.model, after); !written.ok()) {
    return written.WithContext(what);
  }
  StatusOr<LabelMove> move = store_->MoveLabel(request);
  if (!move.ok()) {
    if (Status restored = repository_.WriteLabels(request.model, before); !restored.ok()) {
      return move.status().WithContext(what + "; " + kLabelsFileName +
                                        " could not be put back (" + restored.message() +
                                        "): run `bimride models verify --repair`");
    }
    return move.status();
  }
  return move;
}

StatusOr<LabelMove> Registry::Promote(const std::string& model, int64_t version,
                                      const std::string& label, const std::string& why,
                                      const std::string& who) {
  RETURN_IF_ERROR(CheckLabelName(label));
  StatusOr<Manifest> m = repository_.LoadVersion(model, version, VerifyMode::kFull);
  if (!m.ok()) {
    return m.status().WithContext("cannot promote " + model + ":" + std::to_string(version));
  }
  RETURN_IF_ERROR(Index(*m));
  LabelMoveRequest req{model, label, version, LabelAction::kPromote, why, who, std::nullopt};
  return MoveLabelAndFile(req);
}

StatusOr<LabelMove> Registry::Rollback(const std::string& model, const std::string& label,
                                       const std::string& why, const std::string& who) {
  RETURN_IF_ERROR(CheckLabelName(label));
  for (int attempt = 0; attempt < 20; ++attempt) {
    ASSIGN_OR_RETURN(std::vector<LabelMove> history, store_->LabelHistory(model, label));
    if (history.empty()) {
      return FailedPreconditionError(model + ": label '" + label +
                                     "' has never been set; nothing to roll back");
    }
    StatusOr<int64_t> target = RollbackTarget(history);
    if (!target.ok()) return target.status().WithContext(model);
    StatusOr<Manifest> m = repository_.LoadVersion(model, *target, VerifyMode::kFull);
    if (!m.ok()) {
      return m.status().WithContext("cannot roll " + model + ":" + label + " back to version " +
                                    std::to_string(*target));
    }
    LabelMoveRequest req{model, label, *target, LabelAction::kRollback, why, who,
                         std::optional<int64_t>(history.front().to_version)};
    StatusOr<LabelMove> move = MoveLabelAndFile(req);
    if (!move.ok() && move.status().code() == StatusCode::kUnavailable) continue;  // raced
    return move;
  }
  return UnavailableError(model + ": label '" + label + "' kept changing; rollback gave up");
}

StatusOr<LabelMove> Registry::RemoveLabel(const std::string& model, const std::string& label,
                                          int64_t version, const std::string& why,
                                          const std::string& who) {
  RETURN_IF_ERROR(CheckLabelName(label));
  LabelMoveRequest req{model, label, version, LabelAction::kRemove, why, who, std::nullopt};
  return MoveLabelAndFile(req);
}

StatusOr<LabelMove> Registry::NoteLabel(const std::string& model, const std::string& label,
                                        int64_t version, const std::string& why,
                                        const std::string& who) {
  RETURN_IF_ERROR(CheckLabelName(label));
  LabelMoveRequest req{model, label, version, LabelAction::kNote, why, who, std::nullopt};
  return MoveLabelAndFile(req);
}

StatusOr<int64_t> Registry::ResolveLabel(const std::string& model, const std::string& label) {
  ASSIGN_OR_RETURN(auto labels, store_->GetLabels(model));
  auto it = labels.find(label);
  if (it == labels.end()) {
    return NotFoundError(model + ": no label '" + label + "'");
  }
  return it->second;
}

StatusOr<int64_t> Registry::Resolve(const ModelRef& ref) {
  if (!ref.label.empty()) return ResolveLabel(ref.model, ref.label);
  if (ref.version > 0) return ref.version;
  ASSIGN_OR_RETURN(ModelScan scan, repository_.ScanModel(ref.model));
  if (scan.versions.empty()) return NotFoundError(ref.model + ": no good version");
  return scan.versions.back().version;
}

StatusOr<std::vector<ModelSummary>> Registry::ListModels() {
  ASSIGN_OR_RETURN(std::vector<std::string> names, repository_.ListModels());
  std::vector<ModelSummary> out;
  for (const std::string& name : names) {
    ASSIGN_OR_RETURN(ModelScan scan, repository_.ScanModel(name));
    ModelSummary s;
    s.name = name;
    s.num_versions = static_cast<int64_t>(scan.versions.size());
    s.num_problems = static_cast<int64_t>(scan.problems.size());
    if (!scan.versions.empty()) {
      const Manifest& latest = scan.versions.back();
      s.latest_version = latest.version;
      s.task = latest.task;
      s.backend = latest.backend;
    }
    ASSIGN_OR_RETURN(s.labels, store_->GetLabels(name));
    out.push_back(std::move(s));
  }
  return out;
}

StatusOr<std::vector<VersionInfo>> Registry::ListVersions(const std::string& model) {
  ASSIGN_OR_RETURN(ModelScan scan, repository_.ScanModel(model));
  ASSIGN_OR_RETURN(auto labels, store_->GetLabels(model));
  std::vector<VersionInfo> out;
  for (auto it = scan.versions.rbegin(); it != scan.versions.rend(); ++it) {
    VersionInfo info;
    info.manifest = *it;
    for (const auto& [label, version] : labels) {
      if (version == it->version) info.labels.push_back(label);
    }
    out.push_back(std::move(info));
  }
  return out;
}

StatusOr<Manifest> Registry::Show(const std::string& model, int64_t version) {
  return repository_.LoadVersion(model, version, VerifyMode::kFull);
}

StatusOr<std::vector<LabelMove>> Registry::History(const std::string& model,
                                                   const std::string& label) {
  return store_->LabelHistory(model, label);
}

StatusOr<VerifyReport> Registry::VerifyAll(bool repair, int64_t stale_staging_minutes) {
  VerifyReport report;
  ASSIGN_OR_RETURN(std::vector<std::string> models, repository_.ListModels());
  report.models = static_cast<int64_t>(models.size());
  for (const std::string& model : models) {
    ASSIGN_OR_RETURN(ModelScan scan, repository_.ScanModel(model, VerifyMode::kFull));
    report.good_versions += static_cast<int64_t>(scan.versions.size());
    for (const VersionProblem& p : scan.problems) report.issues.push_back({p.path, p.status});
    std::set<int64_t> good;
    for (const Manifest& m : scan.versions) {
      good.insert(m.version);
      Status indexed = Index(m);
      if (!indexed.ok()) {
        report.issues.push_back({repository_.VersionDir(model, m.version), indexed});
      }
    }
    ASSIGN_OR_RETURN(std::vector<VersionRecord> recorded, store_->ListVersions(model));
    for (const VersionRecord& r : recorded) {
      const std::string dir = repository_.VersionDir(r.model, r.version);
      if (!FileExists(dir)) {
        report.issues.push_back(
            {dir, DataLossError(dir + ": registered version " + std::to_string(r.version) +
                                " of " + model + " is missing on disk")});
      }
    }
    ASSIGN_OR_RETURN(auto labels, store_->GetLabels(model));
    for (const auto& [label, version] : labels) {
      if (!good.count(version)) {
        std::string path = repository_.VersionDir(model, version);
        report.issues.push_back(
            {path, DataLossError(model + ": label '" + label + "' points at version " +
                                 std::to_string(version) + ", which is missing or corrupt")});
      }
    }
    for (const std::string& dir : scan.staging_dirs) report.staging_dirs.push_back(dir);
    if (repair) {
      StagingCleanup cleaned = repository_.CleanStaging(model, stale_staging_minutes);
      for (const std::string& dir : cleaned.removed) report.repaired.push_back("removed " + dir);
      for (const VersionProblem& p : cleaned.failures) report.issues.push_back({p.path, p.status});
      if (!labels.empty()) {
        Status written = WriteLabelsFile(model);
        if (written.ok()) {
          report.repaired.push_back("rewrote " + repository_.ModelDir(model) + "/" +
                                    kLabelsFileName);
        } else {
          report.issues.push_back({repository_.ModelDir(model), written});
        }
      }
    }
  }
  ASSIGN_OR_RETURN(std::vector<std::string> indexed_models, store_->ListModels());
  for (const std::string& model : indexed_models) {
    if (!std::binary_search(models.begin(), models.end(), model)) {
      std::string dir = repository_.ModelDir(model);
      report.issues.push_back(
          {dir, DataLossError(dir + ": model is registered but has no folder")});
    }
  }
  return report;
}

StatusOr<std::unique_ptr<RunTracker>> Registry::StartRun(
    const std::string& task, const std::map<std::string, std::string>& params,
    const std::map<std::string, std::string>& tags, RunOptions options) {
  if (options.artifact_dir.empty()) {
    options.artifact_dir = repository_.root() + "/" + kMetadataDirName + "/runs";
  }
  return RunTracker::Start(store_.get(), task, params, tags, options);
}

}  // namespace bimride::registry
