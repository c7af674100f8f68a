#include "registry/postgres_metadata_store.h"

#include <libpq-fe.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>
#include <unordered_map>
#include <utility>

#include "registry/sqlite_metadata_store.h"  // kMetadataSchemaVersion
#include "registry/store_url.h"

namespace bimride::registry {
namespace {

// Version 1 of the schema: SqliteMetadataStore's tables in PostgreSQL types. Migrations append
// entries; never edit a shipped one.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE runs (
  run_id TEXT PRIMARY KEY,
  task TEXT NOT NULL,
  status TEXT NOT NULL,
  start_time_ms BIGINT NOT NULL,
  end_time_ms BIGINT NOT NULL DEFAULT 0,
  "user" TEXT NOT NULL DEFAULT '',
  git_commit TEXT NOT NULL DEFAULT '',
  git_dirty BIGINT NOT NULL DEFAULT 0,
  code_note TEXT NOT NULL DEFAULT '',
  data_filter TEXT NOT NULL DEFAULT '',
  data_fingerprint TEXT NOT NULL DEFAULT '',
  seq BIGSERIAL NOT NULL
);
CREATE INDEX runs_by_task ON runs(task, start_time_ms);
CREATE TABLE run_params (
  run_id TEXT NOT NULL REFERENCES runs(run_id), key TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (run_id, key));
CREATE TABLE run_tags (
  run_id TEXT NOT NULL REFERENCES runs(run_id), key TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (run_id, key));
CREATE TABLE run_metrics (
  run_id TEXT NOT NULL REFERENCES runs(run_id), key TEXT NOT NULL,
  value DOUBLE PRECISION NOT NULL, step BIGINT NOT NULL, time_ms BIGINT NOT NULL,
  seq BIGSERIAL NOT NULL);
CREATE INDEX run_metrics_by_run ON run_metrics(run_id, key, step);
CREATE TABLE run_inputs (
  run_id TEXT NOT NULL REFERENCES runs(run_id), path TEXT NOT NULL,
  size_bytes BIGINT NOT NULL, sha256 TEXT NOT NULL, PRIMARY KEY (run_id, path));
CREATE TABLE run_artifacts (
  run_id TEXT NOT NULL REFERENCES runs(run_id), path TEXT NOT NULL,
  size_bytes BIGINT NOT NULL, sha256 TEXT NOT NULL, PRIMARY KEY (run_id, path));
CREATE TABLE model_versions (
  model TEXT NOT NULL, version BIGINT NOT NULL, path TEXT NOT NULL,
  run_id TEXT NOT NULL DEFAULT '', task TEXT NOT NULL DEFAULT '',
  backend TEXT NOT NULL DEFAULT '', created_time_ms BIGINT NOT NULL,
  PRIMARY KEY (model, version));
CREATE TABLE labels (
  model TEXT NOT NULL, label TEXT NOT NULL, version BIGINT NOT NULL,
  updated_time_ms BIGINT NOT NULL, PRIMARY KEY (model, label),
  FOREIGN KEY (model, version) REFERENCES model_versions(model, version));
CREATE TABLE label_audit (
  id BIGSERIAL PRIMARY KEY,
  model TEXT NOT NULL, label TEXT NOT NULL, from_version BIGINT, to_version BIGINT NOT NULL,
  action TEXT NOT NULL, time_ms BIGINT NOT NULL, why TEXT NOT NULL, who TEXT NOT NULL);
CREATE INDEX label_audit_by_label ON label_audit(model, label, id);
)sql";

constexpr const char* kMigrations[] = {kSchemaV1};
static_assert(std::size(kMigrations) == kMetadataSchemaVersion);

// The tables a bimride registry owns (a database holding one of them without bimride_schema
// is someone else's).
constexpr const char* kOwnTables =
    "'runs','run_params','run_tags','run_metrics','run_inputs','run_artifacts',"
    "'model_versions','labels','label_audit'";

// pg_advisory_xact_lock key serialising schema creation/migration ("bimride" in ASCII).
constexpr const char* kSchemaLockSql = "SELECT pg_advisory_xact_lock(27700466509505637)";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  // libpq's multi-line messages ("…\nHINT: …") read better on one line.
  std::string out;
  for (char c : s) {
    if (c == '\n' || c == '\t') c = ' ';
    if (c == ' ' && !out.empty() && out.back() == ' ') continue;
    out += c;
  }
  return out;
}

StatusCode CodeForSqlState(const std::string& state) {
  if (state.empty()) return StatusCode::kUnavailable;  // no result: the connection broke
  if (state == "23505") return StatusCode::kAlreadyExists;      // unique_violation
  if (state == "23503") return StatusCode::kFailedPrecondition;  // foreign_key_violation
  if (state == "25006") return StatusCode::kPermissionDenied;    // read_only_sql_transaction
  if (state == "42501") return StatusCode::kPermissionDenied;    // insufficient_privilege
  if (state == "40001" || state == "40P01") return StatusCode::kUnavailable;  // retryable
  if (state == "53100") return StatusCode::kResourceExhausted;   // disk_full
  if (state == "3D000") return StatusCode::kNotFound;            // invalid_catalog_name
  std::string cls = state.substr(0, 2);
  if (cls == "08" || cls == "57" || cls == "53") return StatusCode::kUnavailable;
  if (cls == "22") return StatusCode::kInvalidArgument;  // data exception (bad UTF-8, …)
  return StatusCode::kInternal;
}

// Parameters of one statement, sent as text.
class Params {
 public:
  Params& Add(const std::string& v) {
    if (v.find('\0') != std::string::npos) has_nul_ = true;
    values_.push_back(v);
    null_.push_back(false);
    return *this;
  }
  Params& Add(std::string_view v) { return Add(std::string(v)); }
  Params& Add(const char* v) { return Add(std::string(v)); }
  Params& Add(int64_t v) { return Add(std::to_string(v)); }
  Params& Add(double v) {
    char buf[40];
    std::snprintf(buf, sizeof(buf), "%.17g", v);  // round-trips every double
    return Add(std::string(buf));
  }
  Params& Add(std::optional<int64_t> v) {
    if (v) return Add(*v);
    values_.emplace_back();
    null_.push_back(true);
    return *this;
  }
  bool has_nul() const { return has_nul_; }
  int size() const { return static_cast<int>(values_.size()); }
  std::vector<const char*> Pointers() const {
    std::vector<const char*> out;
    for (size_t i = 0; i < values_.size(); ++i) out.push_back(null_[i] ? nullptr : values_[i].c_str());
    return out;
  }

 private:
  std::vector<std::string> values_;
  std::vector<bool> null_;
  bool has_nul_ = false;
};

// A statement's result rows (owns the PGresult).
class Rows {
 public:
  explicit Rows(PGresult* r) : r_(r, &PQclear) {}
  int size() const { return PQntuples(r_.get()); }
  bool IsNull(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string Text(int row, int col) const {
    return std::string(PQgetvalue(r_.get(), row, col),
                       static_cast<size_t>(PQgetlength(r_.get(), row, col)));
  }
  int64_t Int(int row, int col) const { return std::strtoll(PQgetvalue(r_.get(), row, col), nullptr, 10); }
  double Double(int row, int col) const { return std::strtod(PQgetvalue(r_.get(), row, col), nullptr); }
  int64_t affected() const {
    const char* n = PQcmdTuples(r_.get());
    return n && *n ? std::strtoll(n, nullptr, 10) : 0;
  }

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> r_;
};

}  // namespace

// Runs statements of one operation on the store's connection; remembers how the last failure
// happened (retryable, connection lost) for Transaction.
class PostgresMetadataStore::Query {
 public:
  Query(PostgresMetadataStore* store, const char* op) : store_(store), op_(op) {}

  StatusOr<Rows> Run(const char* sql, const Params& params = Params()) {
    if (params.has_nul()) {
      return InvalidArgumentError(store_->shown_url_ + ": " + op_ +
                                  ": text with a NUL byte cannot be stored in PostgreSQL");
    }
    std::vector<const char*> values = params.Pointers();
    PGresult* r = params.size() == 0
                      ? PQexec(store_->conn_, sql)
                      : PQexecParams(store_->conn_, sql, params.size(), nullptr, values.data(),
                                     nullptr, nullptr, 0);
    Rows rows(r);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return rows;
    const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    sqlstate_ = state ? state : "";
    connection_lost_ = PQstatus(store_->conn_) == CONNECTION_BAD ||
                       sqlstate_.rfind("08", 0) == 0 || sqlstate_ == "57P01";
    std::string msg = Trim(r ? PQresultErrorMessage(r) : PQerrorMessage(store_->conn_));
    if (msg.empty()) msg = Trim(PQerrorMessage(store_->conn_));
    if (msg.empty()) msg = "unknown error";
    StatusCode code = connection_lost_ ? StatusCode::kUnavailable : CodeForSqlState(sqlstate_);
    return Status(code, store_->shown_url_ + ": " + op_ + ": " + msg);
  }
  Status Exec(const char* sql, const Params& params = Params()) {
    StatusOr<Rows> r = Run(sql, params);
    return r.ok() ? OkStatus() : r.status();
  }

  // Errors of the domain ("no run 'x'") name the store and the operation too.
  std::string Where() const { return store_->shown_url_ + ": " + op_ + ": "; }
  bool retryable() const { return sqlstate_ == "40001" || sqlstate_ == "40P01"; }
  bool connection_lost() const { return connection_lost_; }

 private:
  PostgresMetadataStore* store_;
  const char* op_;
  std::string sqlstate_;
  bool connection_lost_ = false;
};

Status PostgresMetadataStore::Connect(const char* op) {
  if (conn_ != nullptr) {
    PQfinish(conn_);
    conn_ = nullptr;
  }
  std::string timeout = std::to_string(options_.connect_timeout_s);
  // The URL comes last so its own parameters (connect_timeout=…) win.
  const char* keys[] = {"connect_timeout", "fallback_application_name", "dbname", nullptr};
  const char* values[] = {timeout.c_str(), "bimride", url_.c_str(), nullptr};
  conn_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (conn_ == nullptr) return ResourceExhaustedError(shown_url_ + ": " + op + ": out of memory");
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string msg = Trim(PQerrorMessage(conn_));
    PQfinish(conn_);
    conn_ = nullptr;
    std::string where = shown_url_ + ": " + op + ": cannot connect: ";
    if (msg.find("does not exist") != std::string::npos) {
      return NotFoundError(where + msg + " (create it first, e.g. createdb)");
    }
    if (msg.find("authentication failed") != std::string::npos ||
        msg.find("pg_hba.conf") != std::string::npos ||
        msg.find("permission denied") != std::string::npos) {
      return PermissionDeniedError(where + msg);
    }
    return UnavailableError(where + msg);
  }
  // Server NOTICEs ("relation exists, skipping") are not ours to print.
  PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
  Query q(this, op);
  if (options_.read_only) RETURN_IF_ERROR(q.Exec("SET default_transaction_read_only = on"));
  return OkStatus();
}

template <typename Fn>
Status PostgresMetadataStore::Transaction(const char* op, bool write, Fn&& body) {
  bool reconnected = false;
  std::mt19937 rng(std::random_device{}());
  for (int attempt = 0;; ++attempt) {
    if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
      RETURN_IF_ERROR(Connect(op));
      reconnected = true;
    }
    Query q(this, op);
    Status s = q.Exec(write ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    if (!s.ok()) {
      // A connection that broke while idle (server restarted): nothing was sent; reconnect once.
      if (q.connection_lost() && !reconnected) {
        PQfinish(conn_);
        conn_ = nullptr;
        continue;
      }
      return s;
    }
    s = body(q);
    bool committing = false;
    if (s.ok()) {
      committing = true;
      s = q.Exec("COMMIT");
    }
    if (s.ok()) return s;
    if (!q.connection_lost()) {
      PGresult* r = PQexec(conn_, "ROLLBACK");
      PQclear(r);
    }
    if (q.retryable() && attempt < options_.max_retries) {
      // Serialization failure or deadlock: the server rolled back; run the body again.
      std::this_thread::sleep_for(std::chrono::milliseconds(1 + rng() % (5u << attempt)));
      continue;
    }
    if (q.connection_lost()) {
      if (!write && !reconnected) {
        PQfinish(conn_);
        conn_ = nullptr;
        reconnected = true;
        continue;
      }
      if (write) {
        return Status(s.code(), s.message() + (committing
                                                   ? " (connection lost during COMMIT: the "
                                                     "change may or may not have been applied)"
                                                   : " (not applied: the server rolled it back)"));
      }
    }
    return s;
  }
}

StatusOr<std::unique_ptr<PostgresMetadataStore>> PostgresMetadataStore::Open(
    const std::string& url, const Options& options) {
  std::string shown = RedactUrl(url);
  if (!IsPostgresUrl(url)) {
    return InvalidArgumentError(shown + ": not a PostgreSQL URL (postgresql://user@host/db)");
  }
  char* err = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &err);
  if (parsed == nullptr) {
    std::string msg = err ? Trim(err) : "out of memory";
    PQfreemem(err);
    return InvalidArgumentError(shown + ": open: not a valid PostgreSQL URL: " + msg);
  }
  PQconninfoFree(parsed);
  std::unique_ptr<PostgresMetadataStore> store(new PostgresMetadataStore(url, shown, options));
  std::lock_guard<std::mutex> lock(store->mu_);
  RETURN_IF_ERROR(store->Connect("open"));
  if (options.read_only) {
    RETURN_IF_ERROR(store->CheckSchemaReadable());
  } else {
    RETURN_IF_ERROR(store->InitSchema());
  }
  return store;
}

PostgresMetadataStore::~PostgresMetadataStore() {
  if (conn_ != nullptr) PQfinish(conn_);
}

int PostgresMetadataStore::backend_pid() {
  std::lock_guard<std::mutex> lock(mu_);
  return conn_ != nullptr ? PQbackendPID(conn_) : 0;
}

namespace {
// The schema version recorded in the database: 0 when bimride_schema does not exist.
StatusOr<int64_t> SchemaVersion(PostgresMetadataStore::Query& q) {
  ASSIGN_OR_RETURN(Rows t, q.Run("SELECT to_regclass('bimride_schema') IS NOT NULL"));
  if (t.Text(0, 0) != "t") return 0;
  ASSIGN_OR_RETURN(Rows v, q.Run("SELECT max(version) FROM bimride_schema"));
  return v.size() > 0 && !v.IsNull(0, 0) ? v.Int(0, 0) : 0;
}
}  // namespace

Status PostgresMetadataStore::InitSchema() {
  return Transaction("open", true, [&](Query& q) -> Status {
    RETURN_IF_ERROR(q.Exec(kSchemaLockSql));
    ASSIGN_OR_RETURN(int64_t version, SchemaVersion(q));
    if (version > kMetadataSchemaVersion) {
      return FailedPreconditionError(q.Where() + "schema version " + std::to_string(version) +
                                     " is newer than this build's (" +
                                     std::to_string(kMetadataSchemaVersion) + "); upgrade bimride");
    }
    if (version == 0) {
      std::string sql = std::string(
                            "SELECT string_agg(table_name, ', ' ORDER BY table_name) FROM "
                            "information_schema.tables WHERE table_schema = current_schema() "
                            "AND table_name IN (") +
                        kOwnTables + ")";
      ASSIGN_OR_RETURN(Rows own, q.Run(sql.c_str()));
      if (!own.IsNull(0, 0)) {
        return FailedPreconditionError(q.Where() + "a PostgreSQL database but not a bimride "
                                       "registry (has tables " + own.Text(0, 0) +
                                       ", no bimride_schema)");
      }
      RETURN_IF_ERROR(q.Exec("CREATE TABLE bimride_schema (version INTEGER NOT NULL)"));
      RETURN_IF_ERROR(q.Exec("INSERT INTO bimride_schema (version) VALUES (0)"));
    }
    for (int64_t v = version; v < kMetadataSchemaVersion; ++v) {
      RETURN_IF_ERROR(q.Exec(kMigrations[v]));
    }
    if (version != kMetadataSchemaVersion) {
      RETURN_IF_ERROR(q.Exec("UPDATE bimride_schema SET version = $1",
                             Params().Add(int64_t{kMetadataSchemaVersion})));
    }
    return OkStatus();
  });
}

Status PostgresMetadataStore::CheckSchemaReadable() {
  return Transaction("open", false, [&](Query& q) -> Status {
    ASSIGN_OR_RETURN(int64_t version, SchemaVersion(q));
    if (version == 0) {
      return NotFoundError(q.Where() + "no bimride registry in this database (nothing recorded "
                           "yet; a writer creates it)");
    }
    if (version != kMetadataSchemaVersion) {
      return FailedPreconditionError(q.Where() + "schema version " + std::to_string(version) +
                                     ", this build reads " +
                                     std::to_string(kMetadataSchemaVersion));
    }
    return OkStatus();
  });
}

Status PostgresMetadataStore::CheckRunWritable(Query& q, const std::string& run_id,
                                               bool for_update) {
  ASSIGN_OR_RETURN(Rows r, q.Run(for_update ? "SELECT status FROM runs WHERE run_id = $1 FOR UPDATE"
                                            : "SELECT status FROM runs WHERE run_id = $1 FOR SHARE",
                                 Params().Add(run_id)));
  if (r.size() == 0) return NotFoundError(q.Where() + "no run '" + run_id + "'");
  if (r.Text(0, 0) != RunStatusName(RunStatus::kRunning)) {
    return FailedPreconditionError("run '" + run_id + "' has ended (" + r.Text(0, 0) +
                                   "); it takes no more records");
  }
  return OkStatus();
}

namespace {
constexpr const char* kInsertMetric =
    "INSERT INTO run_metrics (run_id, key, value, step, time_ms) VALUES ($1,$2,$3,$4,$5)";
constexpr const char* kInsertInput =
    "INSERT INTO run_inputs (run_id, path, size_bytes, sha256) VALUES ($1,$2,$3,$4)";
}  // namespace

Status PostgresMetadataStore::CreateRun(const RunRecord& run) {
  if (run.run_id.empty()) return InvalidArgumentError("CreateRun: empty run id");
  std::lock_guard<std::mutex> lock(mu_);
  return Transaction("CreateRun", true, [&](Query& q) -> Status {
    Params p;
    p.Add(run.run_id).Add(run.task).Add(RunStatusName(run.status)).Add(run.start_time_ms);
    p.Add(run.end_time_ms).Add(run.user).Add(run.code.git_commit);
    p.Add(static_cast<int64_t>(run.code.dirty)).Add(run.code.note).Add(run.data.filter);
    p.Add(run.data.fingerprint);
    ASSIGN_OR_RETURN(Rows ins,
                     q.Run("INSERT INTO runs (run_id, task, status, start_time_ms, end_time_ms, "
                           "\"user\", git_commit, git_dirty, code_note, data_filter, "
                           "data_fingerprint) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) "
                           "ON CONFLICT (run_id) DO NOTHING",
                           p));
    if (ins.affected() == 0) {
      return AlreadyExistsError(q.Where() + "run '" + run.run_id + "' exists already");
    }
    for (const auto& [table, values] :
         {std::pair{"run_params", &run.params}, std::pair{"run_tags", &run.tags}}) {
      std::string sql = std::string("INSERT INTO ") + table + " (run_id, key, value) VALUES ($1,$2,$3)";
      for (const auto& [k, v] : *values) {
        RETURN_IF_ERROR(q.Exec(sql.c_str(), Params().Add(run.run_id).Add(k).Add(v)));
      }
    }
    for (const InputFile& f : run.data.files) {
      RETURN_IF_ERROR(
          q.Exec(kInsertInput, Params().Add(run.run_id).Add(f.path).Add(f.size_bytes).Add(f.sha256)));
    }
    for (const MetricPoint& m : run.metrics) {
      RETURN_IF_ERROR(q.Exec(kInsertMetric, Params().Add(run.run_id).Add(m.key).Add(m.value)
                                                .Add(m.step).Add(m.time_ms)));
    }
    return OkStatus();
  });
}

Status PostgresMetadataStore::LogMetrics(const std::string& run_id,
                                         const std::vector<MetricPoint>& points) {
  for (const MetricPoint& p : points) {
    if (p.key.empty()) return InvalidArgumentError("run '" + run_id + "': empty metric name");
  }
  std::lock_guard<std::mutex> lock(mu_);
  return Transaction("LogMetrics", true, [&](Query& q) -> Status {
    RETURN_IF_ERROR(CheckRunWritable(q, run_id, false));
    for (const MetricPoint& p : points) {
      RETURN_IF_ERROR(q.Exec(kInsertMetric, Params().Add(run_id).Add(p.key).Add(p.value)
                                                .Add(p.step).Add(p.time_ms ? p.time_ms : NowMs())));
    }
    return OkStatus();
  });
}

Status PostgresMetadataStore::SetParams(const std::string& run_id,
                                        const std::map<std::string, std::string>& params) {
  std::lock_guard<std::mutex> lock(mu_);
  return Transaction("SetParams", true, [&](Query& q) -> Status {
    RETURN_IF_ERROR(CheckRunWritable(q, run_id, false));
    for (const auto& [k, v] : params) {
      RETURN_IF_ERROR(q.Exec("INSERT INTO run_params (run_id, key, value) VALUES ($1,$2,$3) "
                             "ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
                             Params().Add(run_id).Add(k).Add(v)));
    }
    return OkStatus();
  });
}

Status PostgresMetadataStore::SetTags(const std::string& run_id,
                                      const std::map<std::string, std::string>& tags) {
  std::lock_guard<std::mutex> lock(mu_);
  return Transaction("SetTags", true, [&](Query& q) -> Status {
    // Tags may be set after the run ended (e.g. "reviewed=yes"), as in MLflow.
    ASSIGN_OR_RETURN(Rows r, q.Run("SELECT 1 FROM runs WHERE run_id = $1 FOR SHARE",
                                   Params().Add(run_id)));
    if (r.size() == 0) return NotFoundError(q.Where() + "no run '" + run_id + "'");
    for (const auto& [k, v] : tags) {
      RETURN_IF_ERROR(q.Exec("INSERT INTO run_tags (run_id, key, value) VALUES ($1,$2,$3) "
                             "ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
                             Params().Add(run_id).Add(k).Add(v)));
    }
    return OkStatus();
  });
}

Status PostgresMetadataStore::SetDataFingerprint(const std::string& run_id,
                                                 const DataFingerprint& data) {
  std::lock_guard<std::mutex> lock(mu_);
  return Transaction("SetDataFingerprint", true, [&](Query& q) -> Status {
    RETURN_IF_ERROR(CheckRunWritable(q, run_id, true));
    RETURN_IF_ERROR(q.Exec("DELETE FROM run_inputs WHERE run_id = $1", Params().Add(run_id)));
    for (const InputFile& f : data.files) {
      RETURN_IF_ERROR(
          q.Exec(kInsertInput, Params().Add(run_id).Add(f.path).Add(f.size_bytes).Add(f.sha256)));
    }
    return q.Exec("UPDATE runs SET data_filter = $1, data_fingerprint = $2 WHERE run_id = $3",
                  Params().Add(data.filter).Add(data.fingerprint).Add(run_id));
  });
}

Status PostgresMetadataStore::AddRunArtifact(const std::string& run_id,
                                             const RunArtifact& artifact) {
  std::lock_guard<std::mutex> lock(mu_);
  return Transaction("AddRunArtifact", true, [&](Query& q) -> Status {
    RETURN_IF_ERROR(CheckRunWritable(q, run_id, false));
    return q.Exec(
        "INSERT INTO run_artifacts (run_id, path, size_bytes, sha256) VALUES ($1,$2,$3,$4) "
        "ON CONFLICT (run_id, path) DO UPDATE SET size_bytes = excluded.size_bytes, "
        "sha256 = excluded.sha256",
        Params().Add(run_id).Add(artifact.path).Add(artifact.size_bytes).Add(artifact.sha256));
  });
}

Status PostgresMetadataStore::EndRun(const std::string& run_id, RunStatus status,
                                     int64_t end_time_ms) {
  if (status == RunStatus::kRunning) {
    return InvalidArgumentError("EndRun: run '" + run_id + "': end status cannot be RUNNING");
  }
  std::lock_guard<std::mutex> lock(mu_);
  return Transaction("EndRun", true, [&](Query& q) -> Status {
    RETURN_IF_ERROR(CheckRunWritable(q, run_id, true));
    return q.Exec("UPDATE runs SET status = $1, end_time_ms = $2 WHERE run_id = $3",
                  Params().Add(RunStatusName(status))
                      .Add(end_time_ms ? end_time_ms : NowMs())
                      .Add(run_id));
  });
}

namespace {
constexpr const char* kRunColumns =
    "run_id, task, status, start_time_ms, end_time_ms, \"user\", git_commit, git_dirty, "
    "code_note, data_filter, data_fingerprint";

StatusOr<RunRecord> RunFromRow(const Rows& r, int i) {
  RunRecord run;
  run.run_id = r.Text(i, 0);
  run.task = r.Text(i, 1);
  ASSIGN_OR_RETURN(run.status, ParseRunStatus(r.Text(i, 2)));
  run.start_time_ms = r.Int(i, 3);
  run.end_time_ms = r.Int(i, 4);
  run.user = r.Text(i, 5);
  run.code = {r.Text(i, 6), r.Int(i, 7) != 0, r.Text(i, 8)};
  run.data.filter = r.Text(i, 9);
  run.data.fingerprint = r.Text(i, 10);
  return run;
}
}  // namespace

StatusOr<RunRecord> PostgresMetadataStore::GetRun(const std::string& run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  RunRecord run;
  Status s = Transaction("GetRun", false, [&](Query& q) -> Status {
    std::string sql = std::string("SELECT ") + kRunColumns + " FROM runs WHERE run_id = $1";
    ASSIGN_OR_RETURN(Rows r, q.Run(sql.c_str(), Params().Add(run_id)));
    if (r.size() == 0) return NotFoundError(q.Where() + "no run '" + run_id + "'");
    ASSIGN_OR_RETURN(run, RunFromRow(r, 0));
    for (auto [table, out] :
         {std::pair{"run_params", &run.params}, std::pair{"run_tags", &run.tags}}) {
      std::string kv_sql = std::string("SELECT key, value FROM ") + table + " WHERE run_id = $1";
      ASSIGN_OR_RETURN(Rows kv, q.Run(kv_sql.c_str(), Params().Add(run_id)));
      for (int i = 0; i < kv.size(); ++i) (*out)[kv.Text(i, 0)] = kv.Text(i, 1);
    }
    ASSIGN_OR_RETURN(Rows in, q.Run("SELECT path, size_bytes, sha256 FROM run_inputs WHERE "
                                    "run_id = $1 ORDER BY path COLLATE \"C\"",
                                    Params().Add(run_id)));
    for (int i = 0; i < in.size(); ++i) {
      run.data.files.push_back({in.Text(i, 0), in.Int(i, 1), in.Text(i, 2)});
    }
    ASSIGN_OR_RETURN(Rows art, q.Run("SELECT path, size_bytes, sha256 FROM run_artifacts WHERE "
                                     "run_id = $1 ORDER BY path COLLATE \"C\"",
                                     Params().Add(run_id)));
    for (int i = 0; i < art.size(); ++i) {
      run.artifacts.push_back({art.Text(i, 0), art.Int(i, 1), art.Text(i, 2)});
    }
    ASSIGN_OR_RETURN(Rows m, q.Run("SELECT key, value, step, time_ms FROM run_metrics WHERE "
                                   "run_id = $1 ORDER BY key COLLATE \"C\", step, time_ms, seq",
                                   Params().Add(run_id)));
    for (int i = 0; i < m.size(); ++i) {
      run.metrics.push_back({m.Text(i, 0), m.Double(i, 1), m.Int(i, 2), m.Int(i, 3)});
    }
    return OkStatus();
  });
  if (!s.ok()) return s;
  return run;
}

StatusOr<std::vector<RunRecord>> PostgresMetadataStore::ListRuns(const RunFilter& filter) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<RunRecord> runs;
  Status s = Transaction("ListRuns", false, [&](Query& q) -> Status {
    runs.clear();
    std::string selected = std::string("SELECT ") + kRunColumns +
                           " FROM runs WHERE ($1 = '' OR task = $1) "
                           "ORDER BY start_time_ms DESC, seq DESC";
    if (filter.limit > 0) selected += " LIMIT " + std::to_string(filter.limit);
    ASSIGN_OR_RETURN(Rows r, q.Run(selected.c_str(), Params().Add(filter.task)));
    std::unordered_map<std::string, size_t> index;
    for (int i = 0; i < r.size(); ++i) {
      ASSIGN_OR_RETURN(RunRecord run, RunFromRow(r, i));
      index[run.run_id] = runs.size();
      runs.push_back(std::move(run));
    }
    if (runs.empty()) return OkStatus();
    // Latest point of every metric key per selected run: the highest step, then the latest
    // time (same snapshot as the runs above).
    std::string latest = "WITH selected AS (" + selected +
                         ") SELECT DISTINCT ON (m.run_id, m.key COLLATE \"C\") m.run_id, m.key, "
                         "m.value, m.step, m.time_ms FROM run_metrics m JOIN selected s ON "
                         "s.run_id = m.run_id ORDER BY m.run_id, m.key COLLATE \"C\", "
                         "m.step DESC, m.time_ms DESC, m.seq DESC";
    ASSIGN_OR_RETURN(Rows m, q.Run(latest.c_str(), Params().Add(filter.task)));
    for (int i = 0; i < m.size(); ++i) {
      auto it = index.find(m.Text(i, 0));
      if (it == index.end()) continue;
      runs[it->second].metrics.push_back({m.Text(i, 1), m.Double(i, 2), m.Int(i, 3), m.Int(i, 4)});
    }
    return OkStatus();
  });
  if (!s.ok()) return s;
  return runs;
}

Status PostgresMetadataStore::RecordVersion(const VersionRecord& r) {
  std::lock_guard<std::mutex> lock(mu_);
  return Transaction("RecordVersion", true, [&](Query& q) -> Status {
    // Insert-or-nothing, then compare: two publishers indexing the same version at once both
    // succeed when they agree.
    RETURN_IF_ERROR(q.Exec("INSERT INTO model_versions (model, version, path, run_id, task, "
                           "backend, created_time_ms) VALUES ($1,$2,$3,$4,$5,$6,$7) "
                           "ON CONFLICT (model, version) DO NOTHING",
                           Params().Add(r.model).Add(r.version).Add(r.path).Add(r.run_id)
                               .Add(r.task).Add(r.backend)
                               .Add(r.created_time_ms ? r.created_time_ms : NowMs())));
    ASSIGN_OR_RETURN(Rows got, q.Run("SELECT path FROM model_versions WHERE model = $1 AND "
                                     "version = $2",
                                     Params().Add(r.model).Add(r.version)));
    if (got.size() == 1 && got.Text(0, 0) != r.path) {
      return AlreadyExistsError(q.Where() + r.model + " version " + std::to_string(r.version) +
                                " is recorded at " + got.Text(0, 0) + ", not " + r.path);
    }
    return OkStatus();
  });
}

StatusOr<std::vector<VersionRecord>> PostgresMetadataStore::ListVersions(const std::string& model) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<VersionRecord> out;
  Status s = Transaction("ListVersions", false, [&](Query& q) -> Status {
    out.clear();
    ASSIGN_OR_RETURN(Rows r, q.Run("SELECT model, version, path, run_id, task, backend, "
                                   "created_time_ms FROM model_versions WHERE model = $1 "
                                   "ORDER BY version",
                                   Params().Add(model)));
    for (int i = 0; i < r.size(); ++i) {
      out.push_back({r.Text(i, 0), r.Int(i, 1), r.Text(i, 2), r.Text(i, 3), r.Text(i, 4),
                     r.Text(i, 5), r.Int(i, 6)});
    }
    return OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

StatusOr<std::vector<std::string>> PostgresMetadataStore::ListModels() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  Status s = Transaction("ListModels", false, [&](Query& q) -> Status {
    out.clear();
    ASSIGN_OR_RETURN(Rows r, q.Run("SELECT DISTINCT model COLLATE \"C\" FROM model_versions "
                                   "ORDER BY 1"));
    for (int i = 0; i < r.size(); ++i) out.push_back(r.Text(i, 0));
    return OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

StatusOr<LabelMove> PostgresMetadataStore::MoveLabel(const LabelMoveRequest& req) {
  if (req.label.empty()) return InvalidArgumentError("label: must not be empty");
  std::lock_guard<std::mutex> lock(mu_);
  LabelMove move;
  Status s = Transaction("MoveLabel", true, [&](Query& q) -> Status {
    // Movers of one label queue here, including for a label with no row yet (FOR UPDATE alone
    // would lock nothing then). READ COMMITTED: the statements below see every move committed
    // before this lock was granted.
    RETURN_IF_ERROR(q.Exec("SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))",
                           Params().Add(req.model).Add(req.label)));
    ASSIGN_OR_RETURN(Rows known, q.Run("SELECT 1 FROM model_versions WHERE model = $1 AND "
                                       "version = $2 FOR SHARE",
                                       Params().Add(req.model).Add(req.to_version)));
    if (known.size() == 0) {
      return NotFoundError(req.model + ": version " + std::to_string(req.to_version) +
                           " is not registered");
    }
    ASSIGN_OR_RETURN(Rows cur, q.Run("SELECT version FROM labels WHERE model = $1 AND "
                                     "label = $2 FOR UPDATE",
                                     Params().Add(req.model).Add(req.label)));
    std::optional<int64_t> from;
    if (cur.size() > 0) from = cur.Int(0, 0);
    if (req.expected_from.has_value() && *req.expected_from != from) {
      return UnavailableError(req.model + ": label '" + req.label +
                              "' changed concurrently; try again");
    }
    const bool stays = req.action == LabelAction::kRemove || req.action == LabelAction::kNote;
    if (stays && from != req.to_version) {
      return FailedPreconditionError(
          req.model + ": label '" + req.label + "' does not point at version " +
          std::to_string(req.to_version) + " (it points at " +
          (from ? std::to_string(*from) : std::string("nothing")) + ")");
    }
    if (!stays && from == req.to_version) {
      return AlreadyExistsError(req.model + ": label '" + req.label +
                                "' already points at version " + std::to_string(req.to_version));
    }
    int64_t now = NowMs();
    if (req.action == LabelAction::kRemove) {
      RETURN_IF_ERROR(q.Exec("DELETE FROM labels WHERE model = $1 AND label = $2",
                             Params().Add(req.model).Add(req.label)));
    } else if (req.action != LabelAction::kNote) {
      RETURN_IF_ERROR(q.Exec(
          "INSERT INTO labels (model, label, version, updated_time_ms) "
          "VALUES ($1,$2,$3,$4) ON CONFLICT (model, label) DO UPDATE SET "
          "version = excluded.version, updated_time_ms = excluded.updated_time_ms",
          Params().Add(req.model).Add(req.label).Add(req.to_version).Add(now)));
    }
    ASSIGN_OR_RETURN(Rows id, q.Run("INSERT INTO label_audit (model, label, from_version, "
                                    "to_version, action, time_ms, why, who) VALUES "
                                    "($1,$2,$3,$4,$5,$6,$7,$8) RETURNING id",
                                    Params().Add(req.model).Add(req.label).Add(from)
                                        .Add(req.to_version).Add(LabelActionName(req.action))
                                        .Add(now).Add(req.why).Add(req.who)));
    move = {id.Int(0, 0), req.model, req.label, from, req.to_version,
            req.action,   now,       req.why,   req.who};
    return OkStatus();
  });
  if (!s.ok()) return s;
  return move;
}

StatusOr<std::map<std::string, int64_t>> PostgresMetadataStore::GetLabels(
    const std::string& model) {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, int64_t> out;
  Status s = Transaction("GetLabels", false, [&](Query& q) -> Status {
    out.clear();
    ASSIGN_OR_RETURN(Rows r, q.Run("SELECT label, version FROM labels WHERE model = $1",
                                   Params().Add(model)));
    for (int i = 0; i < r.size(); ++i) out[r.Text(i, 0)] = r.Int(i, 1);
    return OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

StatusOr<std::vector<LabelMove>> PostgresMetadataStore::LabelHistory(const std::string& model,
                                                                     const std::string& label) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<LabelMove> out;
  Status s = Transaction("LabelHistory", false, [&](Query& q) -> Status {
    out.clear();
    ASSIGN_OR_RETURN(Rows r, q.Run("SELECT id, model, label, from_version, to_version, action, "
                                   "time_ms, why, who FROM label_audit WHERE model = $1 AND "
                                   "($2 = '' OR label = $2) ORDER BY id DESC",
                                   Params().Add(model).Add(label)));
    for (int i = 0; i < r.size(); ++i) {
      LabelMove m;
      m.id = r.Int(i, 0);
      m.model = r.Text(i, 1);
      m.label = r.Text(i, 2);
      if (!r.IsNull(i, 3)) m.from_version = r.Int(i, 3);
      m.to_version = r.Int(i, 4);
      ASSIGN_OR_RETURN(m.action, ParseLabelAction(r.Text(i, 5)));
      m.time_ms = r.Int(i, 6);
      m.why = r.Text(i, 7);
      m.who = r.Text(i, 8);
      out.push_back(std::move(m));
    }
    return OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace bimride::registry
