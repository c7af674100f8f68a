// Registry: the model registry facade — a ModelRepository (files, TF Serving layout) plus a
// MetadataStore (versions index, labels, audit log, runs), used by the CLI, trainers and the
// model server.
//
//   ASSIGN_OR_RETURN(auto registry, Registry::Open("model_repo"));
//   ASSIGN_OR_RETURN(Manifest m, registry->Publish({{"model.json"}}, manifest));
//   RETURN_IF_ERROR(registry->Promote("eta", m.version, "canary", "offline MAE -4%", "ana"));
//   ASSIGN_OR_RETURN(int64_t v, registry->ResolveLabel("eta", "stable"));
//
// The version folders are the source of truth for what exists; the store indexes them (a
// version whose publisher died between the rename and the index insert is picked up by the
// next Publish/Promote/VerifyAll). Labels live in the store; after every move the model's
// labels are also written atomically to `<repo>/<model>/labels.json` ({"stable": 3}) so
// servers reading only the (shared) filesystem see them.
//
// Promote/Rollback refuse a version that fails a full check (sha256 of every file).
// Rollback undoes the label's most recent promotion not already undone, so repeated rollbacks
// walk back through its history (3 → 2 → 1); FailedPrecondition when there is none.
// Thread safety: all methods are safe from many threads and processes.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "registry/manifest.h"
#include "registry/metadata_store.h"
#include "registry/model_repository.h"
#include "registry/run_tracker.h"
#include "registry/store_url.h"

namespace bimride::registry {

// $BIMRIDE_MODEL_REPO when set, else "./model_repo".
std::string DefaultRepositoryRoot();
// <repo>/.bimride/registry.db
std::string DefaultDatabasePath(const std::string& repo_root);
// The metadata store a registry uses unless told: $BIMRIDE_REGISTRY_URL when set (a
// postgresql:// URL for a registry shared by many machines, or an SQLite path), else
// DefaultDatabasePath(repo_root). See store_url.h.
std::string DefaultStoreLocation(const std::string& repo_root);

struct RegistryOptions {
  // The metadata store: a path, sqlite:PATH or postgresql://… (store_url.h); empty:
  // DefaultStoreLocation(repo). With PostgreSQL the model files stay in the repository folder,
  // which every machine must then see (a shared filesystem).
  std::string db_path;
  bool read_only = false;
};

// One row of ListModels().
struct ModelSummary {
  std::string name;
  int64_t num_versions = 0;  // good versions on disk
  int64_t latest_version = 0;
  std::string task;     // of the latest version
  std::string backend;  // of the latest version
  std::map<std::string, int64_t> labels;
  int64_t num_problems = 0;  // bad folders
};

// One row of ListVersions(): a good version with the labels pointing at it.
struct VersionInfo {
  Manifest manifest;
  std::vector<std::string> labels;
};

struct VerifyIssue {
  std::string path;
  Status status;
};

struct VerifyReport {
  int64_t models = 0;
  int64_t good_versions = 0;
  std::vector<VerifyIssue> issues;         // corrupt/partial versions, dangling labels, …
  std::vector<std::string> staging_dirs;   // left behind (removed when repairing)
  std::vector<std::string> repaired;       // what repair did
  bool ok() const { return issues.empty(); }
};

// What PublishFolder may change in the folder's manifest (empty: keep it).
struct FolderOverrides {
  std::string name;     // the model name
  std::string backend;  // another backend that loads the same files (native_mlp for a net)
  // The artifact the backend loads (moved to the front of the list; it must be listed).
  std::string first_artifact;
};

// "eta" (latest), "eta:3" or "eta:stable".
struct ModelRef {
  std::string model;
  int64_t version = 0;  // 0: not given
  std::string label;    // empty: not given
};
StatusOr<ModelRef> ParseModelRef(const std::string& text);

// The version a rollback moves to, from the label's audit rows (newest first).
StatusOr<int64_t> RollbackTarget(const std::vector<LabelMove>& history_newest_first);

class Registry {
 public:
  static StatusOr<std::unique_ptr<Registry>> Open(const std::string& repo_root,
                                                  const RegistryOptions& options = {});
  Registry(ModelRepository repository, std::unique_ptr<MetadataStore> store);

  const ModelRepository& repository() const { return repository_; }
  MetadataStore& store() { return *store_; }

  // Publishes the files as the next version of manifest.name and indexes it.
  StatusOr<Manifest> Publish(const std::vector<ArtifactFile>& files, const Manifest& manifest,
                             const PublishOptions& options = {});
  // Publishes a model folder as trainers write it: <dir>/manifest.json (unpublished: no
  // version or digests needed) and the artifacts it lists, all in <dir>. Errors name the file.
  StatusOr<Manifest> PublishFolder(const std::string& dir, const FolderOverrides& overrides = {},
                                   const PublishOptions& options = {});

  // Points `label` at `version` (after a full check of it), logged with why and who.
  StatusOr<LabelMove> Promote(const std::string& model, int64_t version, const std::string& label,
                              const std::string& why, const std::string& who);
  StatusOr<LabelMove> Rollback(const std::string& model, const std::string& label,
                               const std::string& why, const std::string& who);
  // Deletes `label`, which must point at `version` (FailedPrecondition otherwise), logged.
  StatusOr<LabelMove> RemoveLabel(const std::string& model, const std::string& label,
                                  int64_t version, const std::string& why, const std::string& who);
  // Records a decision about `label` (pointing at `version`, FailedPrecondition otherwise) in
  // its audit log, moving nothing: e.g. a progressive rollout's check with its metric values.
  StatusOr<LabelMove> NoteLabel(const std::string& model, const std::string& label,
                                int64_t version, const std::string& why, const std::string& who);

  // NotFound naming the model and label when unset.
  StatusOr<int64_t> ResolveLabel(const std::string& model, const std::string& label);
  // A ModelRef to a version number: label resolved, 0 → latest good version.
  StatusOr<int64_t> Resolve(const ModelRef& ref);

  StatusOr<std::vector<ModelSummary>> ListModels();
  // Good versions, newest first. NotFound for an unknown model.
  StatusOr<std::vector<VersionInfo>> ListVersions(const std::string& model);
  // Fully checked manifest of one version.
  StatusOr<Manifest> Show(const std::string& model, int64_t version);
  // Label moves of `model` (one label when not empty), newest first.
  StatusOr<std::vector<LabelMove>> History(const std::string& model, const std::string& label);

  // Full check of every version of every model; indexes versions the store lacks; reports
  // corrupt/partial versions, labels pointing at missing or bad versions, and staging folders.
  // With `repair`: removes staging folders older than `stale_staging_minutes` and rewrites
  // labels.json from the store.
  StatusOr<VerifyReport> VerifyAll(bool repair, int64_t stale_staging_minutes = 60);

  // Starts a tracked run in this registry's store (artifacts go under <repo>/.bimride/runs/).
  StatusOr<std::unique_ptr<RunTracker>> StartRun(const std::string& task,
                                                 const std::map<std::string, std::string>& params,
                                                 const std::map<std::string, std::string>& tags,
                                                 RunOptions options = {});

 private:
  Status Index(const Manifest& manifest);
  Status WriteLabelsFile(const std::string& model);
  // Moves a label in <model>/labels.json (what servers follow) and in the store (with its audit
  // entry) as one step, under the model's label lock: the file is written first with the move
  // applied, then the store records it; if the store refuses, the file is put back. A file that
  // cannot be written fails the move with nothing changed.
  StatusOr<LabelMove> MoveLabelAndFile(const LabelMoveRequest& request);

  ModelRepository repository_;
  std::unique_ptr<MetadataStore> store_;
};

}  // namespace bimride::registry
