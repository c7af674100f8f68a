// ModelRepository: the on-disk model repository in TensorFlow Serving's layout.
//
//   <root>/<model>/<version>/manifest.json      version = decimal integer >= 1
//   <root>/<model>/<version>/<artifact files>
//   <root>/<model>/.staging-<pid>-<random>/      a publish in progress (never read)
//   <root>/.bimride/                             registry metadata (not a model)
//
// Publishing is atomic: files are copied into a staging folder inside <root>/<model>/, fsynced,
// hashed, the manifest written, the folder fsynced, then renamed (RENAME_NOREPLACE) to the next
// free version number. Two publishers racing for a number: the loser's rename fails and it takes
// the next number, so numbers stay unique and contiguous. A reader therefore sees a version
// complete or not at all; a publisher killed mid-way leaves only a hidden staging folder, which
// readers ignore and the next publish (or CleanStaging) removes once it is older than a limit.
//
// Loading checks the manifest (strictly), that it names its own folder, that every listed file
// exists with its size and sha256, and that no unlisted file is present; anything else is a
// DataLoss error naming the path. ScanModel() lists good versions and reports bad ones apart,
// so a server never replaces a good version with a bad one.
//
// Thread safety: const methods may run concurrently; Publish may run concurrently in any
// number of threads and processes (over a local or shared POSIX filesystem).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "registry/manifest.h"

namespace bimride::registry {

constexpr char kStagingPrefix[] = ".staging-";
constexpr char kMetadataDirName[] = ".bimride";

// One file to publish: copied from `source_path` to `<version>/<name>` (name defaults to the
// source's file name).
struct ArtifactFile {
  std::string source_path;
  std::string name;
};

struct PublishOptions {
  // Staging folders of this model older than this are removed before publishing (crashed
  // publishers); <= 0 disables the cleanup.
  int64_t stale_staging_minutes = 60;
  // Test hook: called with the staging folder once every file is written, before the rename.
  std::function<void(const std::string& staging_dir)> before_commit;
};

enum class VerifyMode {
  kManifestOnly,  // parse the manifest, check files exist with the listed sizes
  kFull,          // also recompute every sha256
};

// A version that failed to load, with why.
struct VersionProblem {
  std::string path;
  Status status;
};

struct ModelScan {
  std::vector<Manifest> versions;         // good versions, ascending by number
  std::vector<VersionProblem> problems;   // bad folders: corrupt, partial, not a number
  std::vector<std::string> staging_dirs;  // publishes in progress or abandoned
};

struct StagingCleanup {
  std::vector<std::string> removed;
  std::vector<VersionProblem> failures;
};

class ModelRepository {
 public:
  // `root` need not exist until the first Publish.
  explicit ModelRepository(std::string root);

  const std::string& root() const { return root_; }
  std::string ModelDir(const std::string& model) const;
  std::string VersionDir(const std::string& model, int64_t version) const;

  // Publishes `files` under `manifest.name` and returns the manifest as written (with version,
  // created_at, files[] filled in). manifest.version is ignored. When manifest.artifacts is
  // empty it becomes the names of `files`; otherwise every artifact must be among `files`.
  // Errors: InvalidArgument (bad manifest, missing source), PermissionDenied (read-only disk),
  // ResourceExhausted (disk full) — each naming the path; nothing becomes visible on error.
  StatusOr<Manifest> Publish(const std::vector<ArtifactFile>& files, Manifest manifest,
                             const PublishOptions& options = {}) const;

  // Model folder names (valid model names with a folder), sorted. Empty when root is missing.
  StatusOr<std::vector<std::string>> ListModels() const;

  // Loads and checks one version. NotFound when the folder is missing; DataLoss when it is
  // corrupt or partial; InvalidArgument for a malformed manifest — each naming the path.
  StatusOr<Manifest> LoadVersion(const std::string& model, int64_t version,
                                 VerifyMode mode = VerifyMode::kFull) const;

  // Every version folder of `model`, each loaded with `mode`. NotFound when the model has no
  // folder.
  StatusOr<ModelScan> ScanModel(const std::string& model,
                                VerifyMode mode = VerifyMode::kManifestOnly) const;

  // Removes staging folders of `model` older than `older_than_minutes` (0: all of them; only
  // safe when no publish is running).
  StagingCleanup CleanStaging(const std::string& model, int64_t older_than_minutes) const;

 private:
  std::string root_;
};

// Parses a version folder name: canonical decimal >= 1 ("7", not "07", "-1", "v7").
// InvalidArgument naming `name` otherwise.
StatusOr<int64_t> ParseVersionDirName(const std::string& name);

}  // namespace bimride::registry
