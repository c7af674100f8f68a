// MetadataStore: where runs, registered model versions, labels and the label audit log live.
// Like MLflow, run tracking and the model registry share one store.
//
// The interface is made of whole domain operations (no SQL leaks out), each atomic on its own.
// Two implementations with the same tables: SqliteMetadataStore (one file, one machine) and
// PostgresMetadataStore (a registry shared by many machines; MoveLabel's compare-and-set under
// an advisory lock + SELECT … FOR UPDATE). OpenMetadataStore (store_url.h) picks one from a
// location; metadata_store_test.cc is the suite both pass.
//
// Times are milliseconds since the Unix epoch (UTC).
// Thread safety: implementations are safe to call from many threads and many processes.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace bimride::registry {

enum class RunStatus { kRunning, kFinished, kFailed, kKilled };
std::string_view RunStatusName(RunStatus status);  // "RUNNING", "FINISHED", "FAILED", "KILLED"
StatusOr<RunStatus> ParseRunStatus(std::string_view name);

struct MetricPoint {
  std::string key;
  double value = 0;
  int64_t step = 0;
  int64_t time_ms = 0;
};

// One input file of a run's data fingerprint.
struct InputFile {
  std::string path;
  int64_t size_bytes = 0;
  std::string sha256;
};

struct DataFingerprint {
  std::vector<InputFile> files;
  std::string filter;       // the row filter text, e.g. "pickup_date >= 2023-01-01"
  std::string fingerprint;  // sha256 over every (path, sha256) and the filter
};

struct CodeVersion {
  std::string git_commit;  // empty when not a git checkout
  bool dirty = false;      // uncommitted changes to tracked files
  std::string note;        // e.g. "not a git checkout"
};

struct RunArtifact {
  std::string path;  // where it was stored
  int64_t size_bytes = 0;
  std::string sha256;
};

struct RunRecord {
  std::string run_id;
  std::string task;
  RunStatus status = RunStatus::kRunning;
  int64_t start_time_ms = 0;
  int64_t end_time_ms = 0;  // 0 while running
  std::string user;
  std::map<std::string, std::string> params;
  std::map<std::string, std::string> tags;
  CodeVersion code;
  DataFingerprint data;
  std::vector<RunArtifact> artifacts;
  // Every logged point, ordered by key then step then time. ListRuns fills only the latest
  // point of each key.
  std::vector<MetricPoint> metrics;

  double wall_time_s() const {
    return end_time_ms > 0 ? static_cast<double>(end_time_ms - start_time_ms) / 1000.0 : 0.0;
  }
  // Latest value (highest step, then latest time) of each metric key.
  std::map<std::string, double> LatestMetrics() const;
};

struct RunFilter {
  std::string task;  // empty: any
  int64_t limit = 0;  // 0: no limit
};

// A version known to the store (the repository folder is the source of truth for its files).
struct VersionRecord {
  std::string model;
  int64_t version = 0;
  std::string path;  // the version folder relative to the repository root ("eta/3")
  std::string run_id;
  std::string task;
  std::string backend;
  int64_t created_time_ms = 0;
};

// kPromote and kRollback move a label; kRemove deletes it (the row's to_version is the version
// it pointed at); kNote moves nothing: a decision about the label (a progressive rollout's
// check, with the metric values that caused it) recorded in its audit log; the label must point
// at to_version. Neither kRemove nor kNote is a promotion a rollback could undo.
enum class LabelAction { kPromote, kRollback, kRemove, kNote };
std::string_view LabelActionName(LabelAction action);  // "promote", "rollback", "remove", "note"
// InvalidArgument for an unknown name.
StatusOr<LabelAction> ParseLabelAction(std::string_view name);

// One row of the audit log: every label move, in order.
struct LabelMove {
  int64_t id = 0;  // increasing
  std::string model;
  std::string label;
  std::optional<int64_t> from_version;  // nullopt: the label was new
  int64_t to_version = 0;
  LabelAction action = LabelAction::kPromote;
  int64_t time_ms = 0;
  std::string why;
  std::string who;
};

struct LabelMoveRequest {
  std::string model;
  std::string label;
  int64_t to_version = 0;
  LabelAction action = LabelAction::kPromote;
  std::string why;
  std::string who;
  // Compare-and-set: when set, the move happens only if the label currently points at this
  // (std::nullopt inside: the label must not exist); otherwise Unavailable("… changed
  // concurrently") and nothing changes.
  std::optional<std::optional<int64_t>> expected_from;
};

class MetadataStore {
 public:
  virtual ~MetadataStore() = default;

  // --- runs ---
  // AlreadyExists when run_id is taken.
  virtual Status CreateRun(const RunRecord& run) = 0;
  // NotFound for an unknown run; FailedPrecondition when the run has ended.
  virtual Status LogMetrics(const std::string& run_id, const std::vector<MetricPoint>& points) = 0;
  virtual Status SetParams(const std::string& run_id,
                           const std::map<std::string, std::string>& params) = 0;
  virtual Status SetTags(const std::string& run_id,
                         const std::map<std::string, std::string>& tags) = 0;
  virtual Status SetDataFingerprint(const std::string& run_id, const DataFingerprint& data) = 0;
  virtual Status AddRunArtifact(const std::string& run_id, const RunArtifact& artifact) = 0;
  virtual Status EndRun(const std::string& run_id, RunStatus status, int64_t end_time_ms) = 0;
  // Everything about one run. NotFound when unknown.
  virtual StatusOr<RunRecord> GetRun(const std::string& run_id) = 0;
  // Newest first; metrics hold only the latest point per key.
  virtual StatusOr<std::vector<RunRecord>> ListRuns(const RunFilter& filter) = 0;

  // --- model versions ---
  // Idempotent for an identical record; AlreadyExists when (model, version) is recorded with
  // another path.
  virtual Status RecordVersion(const VersionRecord& record) = 0;
  // Ascending by version. Empty for an unknown model.
  virtual StatusOr<std::vector<VersionRecord>> ListVersions(const std::string& model) = 0;
  virtual StatusOr<std::vector<std::string>> ListModels() = 0;

  // --- labels ---
  // Moves the label and appends to the audit log, atomically. Returns the audit row.
  virtual StatusOr<LabelMove> MoveLabel(const LabelMoveRequest& request) = 0;
  // label -> version, for one model.
  virtual StatusOr<std::map<std::string, int64_t>> GetLabels(const std::string& model) = 0;
  // Audit rows of `model` (and `label` when not empty), newest first.
  virtual StatusOr<std::vector<LabelMove>> LabelHistory(const std::string& model,
                                                        const std::string& label) = 0;
};

}  // namespace bimride::registry
