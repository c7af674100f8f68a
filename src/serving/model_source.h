// ModelSource: the servable source of the model server (TF Serving's "Source"): scans a model
// repository laid out as `<repo>/<model>/<version>/manifest.json` (TF Serving layout, version
// folders are positive integers), reads manifests, checks file digests and loads models.
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

// Models found in `repo`: model name → versions ascending. Folders whose name is not a valid
// model name or version number are skipped. NotFound when `repo` does not exist.
StatusOr<std::map<std::string, std::vector<VersionOnDisk>>> ScanRepository(const std::string& repo);

// Versions of one model (empty when the model folder is missing).
std::vector<VersionOnDisk> ScanModel(const std::string& repo, const std::string& model);

// Reads `<dir>/manifest.json`. InvalidArgument on a malformed manifest; the manifest's name and
// version must match the folder they sit in.
StatusOr<ServableSpec> ReadServableSpec(const std::string& model, int64_t version,
                                        const std::string& dir);

// DataLoss naming the file when a digest does not match; NotFound when a listed file is missing.
Status VerifyDigests(const ServableSpec& spec);

// Lowercase hex SHA-256 of a file.
StatusOr<std::string> Sha256File(const std::string& path);

// Verifies digests and loads the model with its backend; checks the model's width against the
// manifest. Fills spec->num_features / output_names from the model when the manifest has none.
StatusOr<std::unique_ptr<models::Model>> LoadServableModel(ServableSpec* spec,
                                                           const models::LoadOptions& options);

// Label files: `<repo>/<model>/labels.json` = {"stable": 3, "canary": 4}. Absent file → empty.
StatusOr<std::map<std::string, int64_t>> ReadLabelFile(const std::string& repo,
                                                       const std::string& model);

// True for names made of [A-Za-z0-9_.-], not starting with '.', at most 128 characters.
bool IsValidModelName(const std::string& name);

}  // namespace bimride::serving
