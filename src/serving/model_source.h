// ModelSource: the servable source of the model server (TF Serving's "Source") over the
// registry's model repository (`<repo>/<model>/<version>/manifest.json`, registry/): lists
// version folders cheaply for polling, and turns one version into a loaded model after the
// registry's full check (strict manifest, every file's size and sha256, no stray files).
//
// Thread safety: all functions are stateless and may be called from any thread.
// Errors: every message names the path and the problem.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "models/model.h"
#include "serving/servable_spec.h"

namespace bimride::serving {

// A version folder found on disk, with a fingerprint of its manifest (size + mtime) so the
// manager retries a failed load only when the manifest changed.
struct VersionOnDisk {
  int64_t version = 0;
  std::string dir;
  std::string fingerprint;
};

// Models found in `repo`: model name → versions ascending. Folders that are not valid model
// names or version numbers (staging folders, .bimride) are skipped. NotFound when `repo` does
// not exist.
StatusOr<std::map<std::string, std::vector<VersionOnDisk>>> ScanRepository(const std::string& repo);

// Versions of one model (empty when the model folder is missing).
std::vector<VersionOnDisk> ScanModel(const std::string& repo, const std::string& model);

// Fully checks one version with the registry and maps its manifest: DataLoss for a corrupt or
// partial version (bad sha256, missing or extra file), InvalidArgument for a bad manifest.
StatusOr<ServableSpec> LoadServableSpec(const std::string& repo, const std::string& model,
                                        int64_t version);

// Loads the model with its backend and checks it against the manifest's signature (input
// width, number of outputs). Fills output names from the model when the manifest has fewer.
StatusOr<std::unique_ptr<models::Model>> LoadServableModel(ServableSpec* spec,
                                                           const models::LoadOptions& options);

// The registry's `<repo>/<model>/labels.json` ({"stable": 3}); absent file → empty.
StatusOr<std::map<std::string, int64_t>> ReadLabelFile(const std::string& repo,
                                                       const std::string& model);

// The registry's rule for model (and label) names.
bool IsValidModelName(const std::string& name);

}  // namespace bimride::serving
