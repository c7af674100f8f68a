// PostgresMetadataStore: the MetadataStore on a PostgreSQL database (libpq), for a registry
// shared by many machines. Chosen by a `postgresql://user@host:port/db` URL (see store_url.h).
//
// Same tables and columns as SqliteMetadataStore (runs, run_params, run_tags, run_metrics,
// run_inputs, run_artifacts, model_versions, labels, label_audit), plus a `seq` column on runs
// and run_metrics that stands in for SQLite's implicit rowid (insertion order), and a
// one-row `bimride_schema(version)` table instead of PRAGMA user_version. The schema is created
// or migrated on open under an advisory lock (many processes may open a fresh database at
// once); a foreign database (our table names without bimride_schema) and a newer schema are
// refused.
//
// Every operation is one transaction. Writes run at READ COMMITTED with row locks; MoveLabel's
// compare-and-set takes a transaction-scoped advisory lock on (model, label) — which also
// serialises the creation of a label that has no row yet — then reads the label row FOR UPDATE,
// so concurrent movers from any number of processes and machines queue up and each sees the
// previous one's result (no lost update; the audit log is one chain). Reads run in
// REPEATABLE READ READ ONLY transactions (one snapshot per call). Serialization failures and
// deadlocks are retried; a connection found broken at the start of an operation is reopened
// once (the server restarted); a connection lost in the middle fails the operation with
// Unavailable (the server rolled it back; lost during COMMIT: the message says it may have
// been applied).
//
// Errors name the URL with its password masked and the operation: "postgresql://ana:***@db:5432/
// registry: MoveLabel: …". Server down → Unavailable; bad URL → InvalidArgument; unknown
// database → NotFound; authentication refused or read-only open written to → PermissionDenied;
// disk full → ResourceExhausted. Text with a NUL byte is refused (InvalidArgument): PostgreSQL
// text cannot hold it.
//
// Thread safety: all methods are safe from many threads (one connection, mutex). Not safe to
// use across fork(): a child opens its own store.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "registry/metadata_store.h"

struct pg_conn;

namespace bimride::registry {

class PostgresMetadataStore : public MetadataStore {
 public:
  struct Options {
    bool read_only = false;       // no create/migrate; every transaction READ ONLY
    int connect_timeout_s = 10;   // unless the URL sets connect_timeout
    int max_retries = 8;          // serialization failures / deadlocks
  };

  // Connects and checks or creates the schema. `url` is a libpq URL (postgresql:// or
  // postgres://, parameters such as ?sslmode=require allowed).
  static StatusOr<std::unique_ptr<PostgresMetadataStore>> Open(const std::string& url,
                                                               const Options& options);
  static StatusOr<std::unique_ptr<PostgresMetadataStore>> Open(const std::string& url) {
    return Open(url, Options{});
  }
  ~PostgresMetadataStore() override;
  PostgresMetadataStore(const PostgresMetadataStore&) = delete;
  PostgresMetadataStore& operator=(const PostgresMetadataStore&) = delete;

  // The URL with its password masked (what error messages show).
  const std::string& url() const { return shown_url_; }
  // The server process id of the current connection (for tests and diagnostics); 0 if none.
  int backend_pid();

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

  class Query;  // one statement with its parameters (implementation detail)

 private:
  PostgresMetadataStore(std::string url, std::string shown_url, Options options)
      : url_(std::move(url)), shown_url_(std::move(shown_url)), options_(options) {}
  Status Connect(const char* op);
  Status InitSchema();
  Status CheckSchemaReadable();
  // Runs `body` in one transaction named `op` in errors; retries as described above.
  template <typename Fn>
  Status Transaction(const char* op, bool write, Fn&& body);
  Status CheckRunWritable(Query& q, const std::string& run_id, bool for_update);

  std::string url_;
  std::string shown_url_;
  Options options_;
  pg_conn* conn_ = nullptr;
  std::mutex mu_;
};

}  // namespace bimride::registry
