// RunTracker: records one training run in a MetadataStore (MLflow's tracking API, in C++):
// params, metrics by step, tags, the data it read (sha256 of every input file + the row filter),
// the code it ran (git commit + dirty flag), artifacts, status and wall time.
//
//   ASSIGN_OR_RETURN(auto run, RunTracker::Start(&store, "eta", {{"lr", "0.01"}}, {}));
//   RETURN_IF_ERROR(run->SetDataFingerprint({"trips.parquet"}, "pickup >= 2023-01-01"));
//   for (...) RETURN_IF_ERROR(run->LogMetric("val_mae", mae, epoch));
//   RETURN_IF_ERROR(run->EndRun(RunStatus::kFinished));
//
// A tracker destroyed while its run is still RUNNING ends it as FAILED (the trainer returned
// early or threw). Thread safety: one tracker per thread; the store itself is thread-safe.
// The store must outlive the tracker.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "registry/metadata_store.h"

namespace bimride::registry {

struct RunOptions {
  std::string code_dir = ".";  // where to read the git commit from
  std::string artifact_dir;    // LogArtifact copies into <artifact_dir>/<run_id>/; empty: no copy
  std::string user;            // empty: $USER
};

class RunTracker {
 public:
  static StatusOr<std::unique_ptr<RunTracker>> Start(
      MetadataStore* store, const std::string& task,
      const std::map<std::string, std::string>& params,
      const std::map<std::string, std::string>& tags, const RunOptions& options = {});
  ~RunTracker();
  RunTracker(const RunTracker&) = delete;
  RunTracker& operator=(const RunTracker&) = delete;

  const std::string& run_id() const { return run_id_; }

  Status LogMetric(const std::string& key, double value, int64_t step);
  Status LogMetrics(const std::map<std::string, double>& values, int64_t step);
  Status LogParams(const std::map<std::string, std::string>& params);
  Status SetTags(const std::map<std::string, std::string>& tags);
  // Hashes every file (NotFound naming a missing one) and records them with the filter text.
  Status SetDataFingerprint(const std::vector<std::string>& files, const std::string& filter);
  // Records (and copies, when RunOptions::artifact_dir is set) a file the run produced.
  StatusOr<RunArtifact> LogArtifact(const std::string& path);
  // FailedPrecondition when already ended.
  Status EndRun(RunStatus status);

 private:
  RunTracker(MetadataStore* store, std::string run_id, RunOptions options)
      : store_(store), run_id_(std::move(run_id)), options_(std::move(options)) {}

  MetadataStore* store_;
  std::string run_id_;
  RunOptions options_;
  bool ended_ = false;
};

// The git commit of `dir` and whether tracked files have uncommitted changes, by running `git`.
// Never fails: outside a checkout (or without git) the commit is empty and `note` says why.
CodeVersion ReadCodeVersion(const std::string& dir);

// sha256 of every file, and one fingerprint over (path, sha256) pairs plus the filter text.
StatusOr<DataFingerprint> ComputeDataFingerprint(const std::vector<std::string>& files,
                                                 const std::string& filter);

// A fresh 32-hex-character run id.
std::string NewRunId();

// $USER, else the passwd name of the uid, else "unknown".
std::string CurrentUser();

}  // namespace bimride::registry
