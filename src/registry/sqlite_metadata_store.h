// SqliteMetadataStore: the MetadataStore on one SQLite file (default
// `<repo>/.bimride/registry.db`), shared safely by many processes on one machine.
//
// WAL journal (readers never block the writer), busy_timeout (writers wait for each other
// instead of failing), every operation one transaction (writes take the write lock up front
// with BEGIN IMMEDIATE, so read-then-write steps such as MoveLabel's compare-and-set are
// atomic across processes). The schema is versioned with PRAGMA user_version and created or
// migrated on open; a database from a newer build is refused.
//
// Errors name the db path: a file that is not SQLite → DataLoss ("…/registry.db: not an SQLite
// database"), read-only disk → PermissionDenied, disk full → ResourceExhausted, lock timeout →
// Unavailable. Thread safety: all methods are safe from many threads (one connection, mutex).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "registry/metadata_store.h"

struct sqlite3;

namespace bimride::registry {

constexpr int kMetadataSchemaVersion = 1;

class SqliteMetadataStore : public MetadataStore {
 public:
  struct Options {
    bool read_only = false;        // open an existing db for reading only (no create/migrate)
    int busy_timeout_ms = 30000;   // how long a writer waits for another one
  };

  // Opens (creating the file and its folder unless read_only) and checks or creates the schema.
  static StatusOr<std::unique_ptr<SqliteMetadataStore>> Open(const std::string& path,
                                                             const Options& options);
  static StatusOr<std::unique_ptr<SqliteMetadataStore>> Open(const std::string& path) {
    return Open(path, Options{});
  }
  ~SqliteMetadataStore() override;
  SqliteMetadataStore(const SqliteMetadataStore&) = delete;
  SqliteMetadataStore& operator=(const SqliteMetadataStore&) = delete;

  const std::string& path() const { return path_; }

  Status CreateRun(const RunRecord& run) override;
  Status LogMetrics(const std::string& run_id, const std::vector<MetricPoint>& points) override;
  Status SetParams(const std::string& run_id,
                   const std::map<std::string, std::string>& params) override;
  Status SetTags(const std::string& run_id,
                 const std::map<std::string, std::string>& tags) override;
  Status SetDataFingerprint(const std::string& run_id, const DataFingerprint& data) override;
  Status AddRunArtifact(const std::string& run_id, const RunArtifact& artifact) override;
  Status EndRun(const std::string& run_id, RunStatus status, int64_t end_time_ms) override;
  StatusOr<RunRecord> GetRun(const std::string& run_id) override;
  StatusOr<std::vector<RunRecord>> ListRuns(const RunFilter& filter) override;

  Status RecordVersion(const VersionRecord& record) override;
  StatusOr<std::vector<VersionRecord>> ListVersions(const std::string& model) override;
  StatusOr<std::vector<std::string>> ListModels() override;

  StatusOr<LabelMove> MoveLabel(const LabelMoveRequest& request) override;
  StatusOr<std::map<std::string, int64_t>> GetLabels(const std::string& model) override;
  StatusOr<std::vector<LabelMove>> LabelHistory(const std::string& model,
                                                const std::string& label) override;

 private:
  SqliteMetadataStore(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}
  Status InitSchema();
  class Stmt;
  Status Exec(const char* sql);
  // Runs `body` inside BEGIN IMMEDIATE (write) or BEGIN (read) … COMMIT, rolling back on error.
  template <typename Fn>
  Status Transaction(bool write, Fn&& body);
  Status CheckRunWritable(const std::string& run_id);
  Status Error(const char* what, int rc) const;

  std::string path_;
  sqlite3* db_ = nullptr;
  std::mutex mu_;
};

}  // namespace bimride::registry
