#include "registry/sqlite_metadata_store.h"

#include <sqlite3.h>
#include <unistd.h>

#include <cstdio>

#include <chrono>
#include <filesystem>
#include <utility>

#include "common/file.h"

namespace bimride::registry {

// --- enums shared by every MetadataStore ---

std::string_view RunStatusName(RunStatus status) {
  switch (status) {
    case RunStatus::kRunning: return "RUNNING";
    case RunStatus::kFinished: return "FINISHED";
    case RunStatus::kFailed: return "FAILED";
    case RunStatus::kKilled: return "KILLED";
  }
  return "UNKNOWN";
}

StatusOr<RunStatus> ParseRunStatus(std::string_view name) {
  for (RunStatus s :
       {RunStatus::kRunning, RunStatus::kFinished, RunStatus::kFailed, RunStatus::kKilled}) {
    if (RunStatusName(s) == name) return s;
  }
  return InvalidArgumentError("unknown run status '" + std::string(name) +
                              "' (known: RUNNING, FINISHED, FAILED, KILLED)");
}

std::string_view LabelActionName(LabelAction action) {
  switch (action) {
    case LabelAction::kRollback: return "rollback";
    case LabelAction::kRemove: return "remove";
    case LabelAction::kNote: return "note";
    case LabelAction::kPromote: break;
  }
  return "promote";
}

StatusOr<LabelAction> ParseLabelAction(std::string_view name) {
  for (LabelAction a :
       {LabelAction::kPromote, LabelAction::kRollback, LabelAction::kRemove, LabelAction::kNote}) {
    if (LabelActionName(a) == name) return a;
  }
  return InvalidArgumentError("unknown label action '" + std::string(name) +
                              "' (known: promote, rollback, remove, note)");
}

std::map<std::string, double> RunRecord::LatestMetrics() const {
  std::map<std::string, double> out;
  std::map<std::string, std::pair<int64_t, int64_t>> at;
  for (const MetricPoint& p : metrics) {
    auto it = at.find(p.key);
    std::pair<int64_t, int64_t> key{p.step, p.time_ms};
    if (it == at.end() || key >= it->second) {
      at[p.key] = key;
      out[p.key] = p.value;
    }
  }
  return out;
}

namespace {

// Version 1 of the schema. Migrations append entries; never edit a shipped one.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE runs (
  run_id TEXT PRIMARY KEY,
  task TEXT NOT NULL,
  status TEXT NOT NULL,
  start_time_ms INTEGER NOT NULL,
  end_time_ms INTEGER NOT NULL DEFAULT 0,
  user TEXT NOT NULL DEFAULT '',
  git_commit TEXT NOT NULL DEFAULT '',
  git_dirty INTEGER NOT NULL DEFAULT 0,
  code_note TEXT NOT NULL DEFAULT '',
  data_filter TEXT NOT NULL DEFAULT '',
  data_fingerprint TEXT NOT NULL DEFAULT ''
);
CREATE INDEX runs_by_task ON runs(task, start_time_ms);
CREATE TABLE run_params (
  run_id TEXT NOT NULL REFERENCES runs(run_id), key TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (run_id, key));
CREATE TABLE run_tags (
  run_id TEXT NOT NULL REFERENCES runs(run_id), key TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (run_id, key));
CREATE TABLE run_metrics (
  run_id TEXT NOT NULL REFERENCES runs(run_id), key TEXT NOT NULL, value REAL NOT NULL,
  step INTEGER NOT NULL, time_ms INTEGER NOT NULL);
CREATE INDEX run_metrics_by_run ON run_metrics(run_id, key, step);
CREATE TABLE run_inputs (
  run_id TEXT NOT NULL REFERENCES runs(run_id), path TEXT NOT NULL,
  size_bytes INTEGER NOT NULL, sha256 TEXT NOT NULL, PRIMARY KEY (run_id, path));
CREATE TABLE run_artifacts (
  run_id TEXT NOT NULL REFERENCES runs(run_id), path TEXT NOT NULL,
  size_bytes INTEGER NOT NULL, sha256 TEXT NOT NULL, PRIMARY KEY (run_id, path));
CREATE TABLE model_versions (
  model TEXT NOT NULL, version INTEGER NOT NULL, path TEXT NOT NULL,
  run_id TEXT NOT NULL DEFAULT '', task TEXT NOT NULL DEFAULT '',
  backend TEXT NOT NULL DEFAULT '', created_time_ms INTEGER NOT NULL,
  PRIMARY KEY (model, version));
CREATE TABLE labels (
  model TEXT NOT NULL, label TEXT NOT NULL, version INTEGER NOT NULL,
  updated_time_ms INTEGER NOT NULL, PRIMARY KEY (model, label),
  FOREIGN KEY (model, version) REFERENCES model_versions(model, version));
CREATE TABLE label_audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  model TEXT NOT NULL, label TEXT NOT NULL, from_version INTEGER, to_version INTEGER NOT NULL,
  action TEXT NOT NULL, time_ms INTEGER NOT NULL, why TEXT NOT NULL, who TEXT NOT NULL);
CREATE INDEX label_audit_by_label ON label_audit(model, label, id);
)sql";

constexpr const char* kMigrations[] = {kSchemaV1};
static_assert(std::size(kMigrations) == kMetadataSchemaVersion);

std::string UriEscape(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == '?' || c == '#' || c == '%') {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

StatusCode CodeForSqlite(int rc) {
  switch (rc & 0xff) {
    case SQLITE_FULL: return StatusCode::kResourceExhausted;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH: return StatusCode::kPermissionDenied;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return StatusCode::kUnavailable;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return StatusCode::kDataLoss;
    case SQLITE_CANTOPEN: return StatusCode::kNotFound;
    case SQLITE_CONSTRAINT: return StatusCode::kAlreadyExists;
    default: return StatusCode::kInternal;
  }
}

}  // namespace

// A prepared statement, finalized on scope exit.
class SqliteMetadataStore::Stmt {
 public:
  Stmt(SqliteMetadataStore* store, const char* sql) : store_(store) {
    rc_ = sqlite3_prepare_v2(store->db_, sql, -1, &stmt_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Status status() const {
    return rc_ == SQLITE_OK ? OkStatus() : store_->Error("prepare", rc_);
  }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Stmt& Bind(int i, double v) {
    sqlite3_bind_double(stmt_, i, v);
    return *this;
  }
  Stmt& Bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, std::string_view v) { return Bind(i, std::string(v)); }
  Stmt& Bind(int i, const char* v) { return Bind(i, std::string(v)); }
  Stmt& BindNull(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
  }
  // True when a row is ready; false when done.
  StatusOr<bool> Step() {
    if (rc_ != SQLITE_OK) return status();
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return store_->Error("step", rc);
  }
  Status Run() {
    StatusOr<bool> r = Step();
    return r.ok() ? OkStatus() : r.status();
  }
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  double Double(int col) const { return sqlite3_column_double(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string Text(int col) const {
    const unsigned char* t = sqlite3_column_text(stmt_, col);
    return t ? std::string(reinterpret_cast<const char*>(t),
                           static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }

 private:
  SqliteMetadataStore* store_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_OK;
};

Status SqliteMetadataStore::Error(const char* what, int rc) const {
  std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  if ((rc & 0xff) == SQLITE_NOTADB) msg = "not an SQLite database (" + msg + ")";
  int sys = db_ ? sqlite3_system_errno(db_) : 0;
  if ((rc & 0xff) == SQLITE_CANTOPEN && sys != 0) {
    // Say why the OS refused (read-only file system, permission, no such folder).
    return ErrnoError(std::string(what) + ": " + msg, path_, sys);
  }
  return Status(CodeForSqlite(rc), path_ + ": " + what + ": " + msg);
}

Status SqliteMetadataStore::Exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    if ((rc & 0xff) == SQLITE_NOTADB) msg = "not an SQLite database (" + msg + ")";
    int sys = sqlite3_system_errno(db_);
    if ((rc & 0xff) == SQLITE_CANTOPEN && sys != 0) return ErrnoError(msg, path_, sys);
    return Status(CodeForSqlite(rc), path_ + ": " + msg);
  }
  return OkStatus();
}

template <typename Fn>
Status SqliteMetadataStore::Transaction(bool write, Fn&& body) {
  RETURN_IF_ERROR(Exec(write ? "BEGIN IMMEDIATE" : "BEGIN"));
  Status s = body();
  if (s.ok()) s = Exec("COMMIT");
  if (!s.ok()) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  return s;
}

StatusOr<std::unique_ptr<SqliteMetadataStore>> SqliteMetadataStore::Open(
    const std::string& path, const Options& options) {
  if (options.read_only) {
    if (!FileExists(path)) return NotFoundError(path + ": no registry database");
  } else {
    std::filesystem::path parent = std::filesystem::path(path).parent_path();
    if (parent.empty()) parent = ".";
    RETURN_IF_ERROR(MakeDirs(parent.string()));
    if (::access(parent.c_str(), W_OK) != 0) {
      // SQLite would quietly open read-only and fail later with a vaguer message.
      return ErrnoError("open for writing", path, errno);
    }
  }
  auto open = [&](bool immutable) -> StatusOr<std::unique_ptr<SqliteMetadataStore>> {
    sqlite3* db = nullptr;
    int flags = SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_URI |
                (options.read_only ? SQLITE_OPEN_READONLY
                                   : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    // immutable=1 reads a WAL database on read-only media, where SQLite cannot create the
    // -shm file; nothing can change the file there anyway.
    std::string uri = "file:" + UriEscape(path) + (immutable ? "?immutable=1" : "");
    int rc = sqlite3_open_v2(uri.c_str(), &db, flags, nullptr);
    std::unique_ptr<SqliteMetadataStore> store(new SqliteMetadataStore(path, db));
    if (rc != SQLITE_OK) return store->Error("open", rc);
    sqlite3_busy_timeout(db, options.busy_timeout_ms);
    sqlite3_extended_result_codes(db, 1);
    // Reading the schema fails here with SQLITE_NOTADB for a file that is not SQLite.
    RETURN_IF_ERROR(store->Exec("SELECT count(*) FROM sqlite_master"));
    RETURN_IF_ERROR(store->Exec("PRAGMA foreign_keys = ON"));
    return store;
  };
  StatusOr<std::unique_ptr<SqliteMetadataStore>> opened = open(false);
  if (!opened.ok() && options.read_only && ::access(path.c_str(), R_OK) == 0 &&
      ::access(std::filesystem::path(path).parent_path().c_str(), W_OK) != 0) {
    opened = open(true);
  }
  if (!opened.ok()) return opened.status();
  std::unique_ptr<SqliteMetadataStore> store = std::move(*opened);
  if (!options.read_only) {
    RETURN_IF_ERROR(store->Exec("PRAGMA journal_mode = WAL"));
    RETURN_IF_ERROR(store->Exec("PRAGMA synchronous = FULL"));
    RETURN_IF_ERROR(store->InitSchema());
  } else {
    Stmt q(store.get(), "PRAGMA user_version");
    ASSIGN_OR_RETURN(bool row, q.Step());
    int64_t version = row ? q.Int(0) : 0;
    if (version != kMetadataSchemaVersion) {
      return FailedPreconditionError(path + ": schema version " + std::to_string(version) +
                                     ", this build reads " +
                                     std::to_string(kMetadataSchemaVersion));
    }
  }
  return store;
}

SqliteMetadataStore::~SqliteMetadataStore() { sqlite3_close_v2(db_); }

Status SqliteMetadataStore::InitSchema() {
  std::lock_guard<std::mutex> lock(mu_);
  return Transaction(true, [&]() -> Status {
    Stmt q(this, "PRAGMA user_version");
    ASSIGN_OR_RETURN(bool row, q.Step());
    int64_t version = row ? q.Int(0) : 0;
    if (version > kMetadataSchemaVersion) {
      return FailedPreconditionError(path_ + ": schema version " + std::to_string(version) +
                                     " is newer than this build's (" +
                                     std::to_string(kMetadataSchemaVersion) +
                                     "); upgrade bimride");
    }
    if (version == 0) {
      Stmt tables(this, "SELECT count(*) FROM sqlite_master WHERE type = 'table'");
      ASSIGN_OR_RETURN(bool trow, tables.Step());
      if (trow && tables.Int(0) > 0) {
        return FailedPreconditionError(path_ +
                                       ": an SQLite database but not a bimride registry (has "
                                       "tables, no schema version)");
      }
    }
    for (int64_t v = version; v < kMetadataSchemaVersion; ++v) {
      RETURN_IF_ERROR(Exec(kMigrations[v]));
    }
    if (version != kMetadataSchemaVersion) {
      std::string set = "PRAGMA user_version = " + std::to_string(kMetadataSchemaVersion);
      RETURN_IF_ERROR(Exec(set.c_str()));
    }
    return OkStatus();
  });
}

Status SqliteMetadataStore::CheckRunWritable(const std::string& run_id) {
  Stmt q(this, "SELECT status FROM runs WHERE run_id = ?");
  q.Bind(1, run_id);
  ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return NotFoundError(path_ + ": no run '" + run_id + "'");
  if (q.Text(0) != RunStatusName(RunStatus::kRunning)) {
    return FailedPreconditionError("run '" + run_id + "' has ended (" + q.Text(0) +
                                   "); it takes no more records");
  }
  return OkStatus();
}

Status SqliteMetadataStore::CreateRun(const RunRecord& run) {
  if (run.run_id.empty()) return InvalidArgumentError("CreateRun: empty run id");
  std::lock_guard<std::mutex> lock(mu_);
  return Transaction(true, [&]() -> Status {
    Stmt exists(this, "SELECT 1 FROM runs WHERE run_id = ?");
    exists.Bind(1, run.run_id);
    ASSIGN_OR_RETURN(bool row, exists.Step());
    if (row) return AlreadyExistsError(path_ + ": run '" + run.run_id + "' exists already");
    Stmt ins(this,
             "INSERT INTO runs (run_id, task, status, start_time_ms, end_time_ms, user, "
             "git_commit, git_dirty, code_note, data_filter, data_fingerprint) "
             "VALUES (?,?,?,?,?,?,?,?,?,?,?)");
    ins.Bind(1, run.run_id).Bind(2, run.task).Bind(3, RunStatusName(run.status));
    ins.Bind(4, run.start_time_ms).Bind(5, run.end_time_ms).Bind(6, run.user);
    ins.Bind(7, run.code.git_commit).Bind(8, static_cast<int64_t>(run.code.dirty));
    ins.Bind(9, run.code.note).Bind(10, run.data.filter).Bind(11, run.data.fingerprint);
    RETURN_IF_ERROR(ins.Run());
    for (const auto& [table, values] :
         {std::pair{"run_params", &run.params}, std::pair{"run_tags", &run.tags}}) {
      std::string sql = std::string("INSERT INTO ") + table + " (run_id, key, value) VALUES (?,?,?)";
      Stmt kv(this, sql.c_str());
      for (const auto& [k, v] : *values) {
        kv.Bind(1, run.run_id).Bind(2, k).Bind(3, v);
        RETURN_IF_ERROR(kv.Run());
        kv.Reset();
      }
    }
    Stmt in(this, "INSERT INTO run_inputs (run_id, path, size_bytes, sha256) VALUES (?,?,?,?)");
    for (const InputFile& f : run.data.files) {
      in.Bind(1, run.run_id).Bind(2, f.path).Bind(3, f.size_bytes).Bind(4, f.sha256);
      RETURN_IF_ERROR(in.Run());
      in.Reset();
    }
    Stmt m(this, "INSERT INTO run_metrics (run_id, key, value, step, time_ms) VALUES (?,?,?,?,?)");
    for (const MetricPoint& p : run.metrics) {
      m.Bind(1, run.run_id).Bind(2, p.key).Bind(3, p.value).Bind(4, p.step).Bind(5, p.time_ms);
      RETURN_IF_ERROR(m.Run());
      m.Reset();
    }
    return OkStatus();
  });
}

Status SqliteMetadataStore::LogMetrics(const std::string& run_id,
                                       const std::vector<MetricPoint>& points) {
  for (const MetricPoint& p : points) {
    if (p.key.empty()) return InvalidArgumentError("run '" + run_id + "': empty metric name");
  }
  std::lock_guard<std::mutex> lock(mu_);
  return Transaction(true, [&]() -> Status {
    RETURN_IF_ERROR(CheckRunWritable(run_id));
    Stmt m(this, "INSERT INTO run_metrics (run_id, key, value, step, time_ms) VALUES (?,?,?,?,?)");
    for (const MetricPoint& p : points) {
      m.Bind(1, run_id).Bind(2, p.key).Bind(3, p.value).Bind(4, p.step);
      m.Bind(5, p.time_ms ? p.time_ms : NowMs());
      RETURN_IF_ERROR(m.Run());
      m.Reset();
    }
    return OkStatus();
  });
}

Status SqliteMetadataStore::SetParams(const std::string& run_id,
                                      const std::map<std::string, std::string>& params) {
  std::lock_guard<std::mutex> lock(mu_);
  return Transaction(true, [&]() -> Status {
    RETURN_IF_ERROR(CheckRunWritable(run_id));
    Stmt kv(this, "INSERT OR REPLACE INTO run_params (run_id, key, value) VALUES (?,?,?)");
    for (const auto& [k, v] : params) {
      kv.Bind(1, run_id).Bind(2, k).Bind(3, v);
      RETURN_IF_ERROR(kv.Run());
      kv.Reset();
    }
    return OkStatus();
  });
}

Status SqliteMetadataStore::SetTags(const std::string& run_id,
                                    const std::map<std::string, std::string>& tags) {
  std::lock_guard<std::mutex> lock(mu_);
  return Transaction(true, [&]() -> Status {
    // Tags may be set after the run ended (e.g. "reviewed=yes"), as in MLflow.
    Stmt exists(this, "SELECT 1 FROM runs WHERE run_id = ?");
    exists.Bind(1, run_id);
    ASSIGN_OR_RETURN(bool row, exists.Step());
    if (!row) return NotFoundError(path_ + ": no run '" + run_id + "'");
    Stmt kv(this, "INSERT OR REPLACE INTO run_tags (run_id, key, value) VALUES (?,?,?)");
    for (const auto& [k, v] : tags) {
      kv.Bind(1, run_id).Bind(2, k).Bind(3, v);
      RETURN_IF_ERROR(kv.Run());
      kv.Reset();
    }
    return OkStatus();
  });
}

Status SqliteMetadataStore::SetDataFingerprint(const std::string& run_id,
                                               const DataFingerprint& data) {
  std::lock_guard<std::mutex> lock(mu_);
  return Transaction(true, [&]() -> Status {
    RETURN_IF_ERROR(CheckRunWritable(run_id));
    Stmt del(this, "DELETE FROM run_inputs WHERE run_id = ?");
    del.Bind(1, run_id);
    RETURN_IF_ERROR(del.Run());
    Stmt in(this, "INSERT INTO run_inputs (run_id, path, size_bytes, sha256) VALUES (?,?,?,?)");
    for (const InputFile& f : data.files) {
      in.Bind(1, run_id).Bind(2, f.path).Bind(3, f.size_bytes).Bind(4, f.sha256);
      RETURN_IF_ERROR(in.Run());
      in.Reset();
    }
    Stmt up(this, "UPDATE runs SET data_filter = ?, data_fingerprint = ? WHERE run_id = ?");
    up.Bind(1, data.filter).Bind(2, data.fingerprint).Bind(3, run_id);
    return up.Run();
  });
}

Status SqliteMetadataStore::AddRunArtifact(const std::string& run_id,
                                           const RunArtifact& artifact) {
  std::lock_guard<std::mutex> lock(mu_);
  return Transaction(true, [&]() -> Status {
    RETURN_IF_ERROR(CheckRunWritable(run_id));
    Stmt in(this,
            "INSERT OR REPLACE INTO run_artifacts (run_id, path, size_bytes, sha256) "
            "VALUES (?,?,?,?)");
    in.Bind(1, run_id).Bind(2, artifact.path).Bind(3, artifact.size_bytes);
    in.Bind(4, artifact.sha256);
    return in.Run();
  });
}

Status SqliteMetadataStore::EndRun(const std::string& run_id, RunStatus status,
                                   int64_t end_time_ms) {
  if (status == RunStatus::kRunning) {
    return InvalidArgumentError("EndRun: run '" + run_id + "': end status cannot be RUNNING");
  }
  std::lock_guard<std::mutex> lock(mu_);
  return Transaction(true, [&]() -> Status {
    RETURN_IF_ERROR(CheckRunWritable(run_id));
    Stmt up(this, "UPDATE runs SET status = ?, end_time_ms = ? WHERE run_id = ?");
    up.Bind(1, RunStatusName(status)).Bind(2, end_time_ms ? end_time_ms : NowMs()).Bind(3, run_id);
    return up.Run();
  });
}

namespace {
constexpr const char* kRunColumns =
    "run_id, task, status, start_time_ms, end_time_ms, user, git_commit, git_dirty, code_note, "
    "data_filter, data_fingerprint";
}  // namespace

StatusOr<RunRecord> SqliteMetadataStore::GetRun(const std::string& run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  RunRecord run;
  Status s = Transaction(false, [&]() -> Status {
    std::string sql = std::string("SELECT ") + kRunColumns + " FROM runs WHERE run_id = ?";
    Stmt q(this, sql.c_str());
    q.Bind(1, run_id);
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return NotFoundError(path_ + ": no run '" + run_id + "'");
    run.run_id = q.Text(0);
    run.task = q.Text(1);
    ASSIGN_OR_RETURN(run.status, ParseRunStatus(q.Text(2)));
    run.start_time_ms = q.Int(3);
    run.end_time_ms = q.Int(4);
    run.user = q.Text(5);
    run.code = {q.Text(6), q.Int(7) != 0, q.Text(8)};
    run.data.filter = q.Text(9);
    run.data.fingerprint = q.Text(10);
    for (auto [table, out] : {std::pair{"run_params", &run.params}, std::pair{"run_tags", &run.tags}}) {
      std::string kv_sql = std::string("SELECT key, value FROM ") + table +
                           " WHERE run_id = ? ORDER BY key";
      Stmt kv(this, kv_sql.c_str());
      kv.Bind(1, run_id);
      while (true) {
        ASSIGN_OR_RETURN(bool r, kv.Step());
        if (!r) break;
        (*out)[kv.Text(0)] = kv.Text(1);
      }
    }
    Stmt in(this, "SELECT path, size_bytes, sha256 FROM run_inputs WHERE run_id = ? ORDER BY path");
    in.Bind(1, run_id);
    while (true) {
      ASSIGN_OR_RETURN(bool r, in.Step());
      if (!r) break;
      run.data.files.push_back({in.Text(0), in.Int(1), in.Text(2)});
    }
    Stmt art(this,
             "SELECT path, size_bytes, sha256 FROM run_artifacts WHERE run_id = ? ORDER BY path");
    art.Bind(1, run_id);
    while (true) {
      ASSIGN_OR_RETURN(bool r, art.Step());
      if (!r) break;
      run.artifacts.push_back({art.Text(0), art.Int(1), art.Text(2)});
    }
    Stmt m(this,
           "SELECT key, value, step, time_ms FROM run_metrics WHERE run_id = ? "
           "ORDER BY key, step, time_ms, rowid");
    m.Bind(1, run_id);
    while (true) {
      ASSIGN_OR_RETURN(bool r, m.Step());
      if (!r) break;
      run.metrics.push_back({m.Text(0), m.Double(1), m.Int(2), m.Int(3)});
    }
    return OkStatus();
  });
  if (!s.ok()) return s;
  return run;
}

StatusOr<std::vector<RunRecord>> SqliteMetadataStore::ListRuns(const RunFilter& filter) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<RunRecord> runs;
  Status s = Transaction(false, [&]() -> Status {
    std::string sql = std::string("SELECT ") + kRunColumns + " FROM runs WHERE (? = '' OR task = ?)" +
                      " ORDER BY start_time_ms DESC, rowid DESC";
    if (filter.limit > 0) sql += " LIMIT " + std::to_string(filter.limit);
    Stmt q(this, sql.c_str());
    q.Bind(1, filter.task).Bind(2, filter.task);
    while (true) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      RunRecord run;
      run.run_id = q.Text(0);
      run.task = q.Text(1);
      ASSIGN_OR_RETURN(run.status, ParseRunStatus(q.Text(2)));
      run.start_time_ms = q.Int(3);
      run.end_time_ms = q.Int(4);
      run.user = q.Text(5);
      run.code = {q.Text(6), q.Int(7) != 0, q.Text(8)};
      run.data.filter = q.Text(9);
      run.data.fingerprint = q.Text(10);
      runs.push_back(std::move(run));
    }
    // Latest point of every metric key per run: the highest step, then the latest time.
    Stmt m(this,
           "SELECT key, value, step, time_ms FROM run_metrics WHERE run_id = ? "
           "ORDER BY key, step DESC, time_ms DESC, rowid DESC");
    for (RunRecord& run : runs) {
      m.Bind(1, run.run_id);
      std::string last_key;
      while (true) {
        ASSIGN_OR_RETURN(bool r, m.Step());
        if (!r) break;
        if (!run.metrics.empty() && m.Text(0) == last_key) continue;
        last_key = m.Text(0);
        run.metrics.push_back({m.Text(0), m.Double(1), m.Int(2), m.Int(3)});
      }
      m.Reset();
    }
    return OkStatus();
  });
  if (!s.ok()) return s;
  return runs;
}

Status SqliteMetadataStore::RecordVersion(const VersionRecord& r) {
  std::lock_guard<std::mutex> lock(mu_);
  return Transaction(true, [&]() -> Status {
    Stmt q(this, "SELECT path FROM model_versions WHERE model = ? AND version = ?");
    q.Bind(1, r.model).Bind(2, r.version);
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (row) {
      if (q.Text(0) == r.path) return OkStatus();
      return AlreadyExistsError(path_ + ": " + r.model + " version " + std::to_string(r.version) +
                                " is recorded at " + q.Text(0) + ", not " + r.path);
    }
    Stmt ins(this,
             "INSERT INTO model_versions (model, version, path, run_id, task, backend, "
             "created_time_ms) VALUES (?,?,?,?,?,?,?)");
    ins.Bind(1, r.model).Bind(2, r.version).Bind(3, r.path).Bind(4, r.run_id).Bind(5, r.task);
    ins.Bind(6, r.backend).Bind(7, r.created_time_ms ? r.created_time_ms : NowMs());
    return ins.Run();
  });
}

StatusOr<std::vector<VersionRecord>> SqliteMetadataStore::ListVersions(const std::string& model) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<VersionRecord> out;
  Status s = Transaction(false, [&]() -> Status {
    Stmt q(this,
           "SELECT model, version, path, run_id, task, backend, created_time_ms "
           "FROM model_versions WHERE model = ? ORDER BY version");
    q.Bind(1, model);
    while (true) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      out.push_back({q.Text(0), q.Int(1), q.Text(2), q.Text(3), q.Text(4), q.Text(5), q.Int(6)});
    }
    return OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

StatusOr<std::vector<std::string>> SqliteMetadataStore::ListModels() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  Status s = Transaction(false, [&]() -> Status {
    Stmt q(this, "SELECT DISTINCT model FROM model_versions ORDER BY model");
    while (true) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      out.push_back(q.Text(0));
    }
    return OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

StatusOr<LabelMove> SqliteMetadataStore::MoveLabel(const LabelMoveRequest& req) {
  if (req.label.empty()) return InvalidArgumentError("label: must not be empty");
  std::lock_guard<std::mutex> lock(mu_);
  LabelMove move;
  Status s = Transaction(true, [&]() -> Status {
    Stmt v(this, "SELECT 1 FROM model_versions WHERE model = ? AND version = ?");
    v.Bind(1, req.model).Bind(2, req.to_version);
    ASSIGN_OR_RETURN(bool known, v.Step());
    if (!known) {
      return NotFoundError(req.model + ": version " + std::to_string(req.to_version) +
                           " is not registered");
    }
    Stmt cur(this, "SELECT version FROM labels WHERE model = ? AND label = ?");
    cur.Bind(1, req.model).Bind(2, req.label);
    ASSIGN_OR_RETURN(bool has_label, cur.Step());
    std::optional<int64_t> from;
    if (has_label) from = cur.Int(0);
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
      return AlreadyExistsError(req.model + ": label '" + req.label + "' already points at version " +
                                std::to_string(req.to_version));
    }
    int64_t now = NowMs();
    if (req.action == LabelAction::kRemove) {
      Stmt del(this, "DELETE FROM labels WHERE model = ? AND label = ?");
      del.Bind(1, req.model).Bind(2, req.label);
      RETURN_IF_ERROR(del.Run());
    } else if (req.action != LabelAction::kNote) {
      Stmt up(this,
              "INSERT INTO labels (model, label, version, updated_time_ms) VALUES (?,?,?,?) "
              "ON CONFLICT (model, label) DO UPDATE SET version = excluded.version, "
              "updated_time_ms = excluded.updated_time_ms");
      up.Bind(1, req.model).Bind(2, req.label).Bind(3, req.to_version).Bind(4, now);
      RETURN_IF_ERROR(up.Run());
    }
    Stmt audit(this,
               "INSERT INTO label_audit (model, label, from_version, to_version, action, time_ms, "
               "why, who) VALUES (?,?,?,?,?,?,?,?)");
    audit.Bind(1, req.model).Bind(2, req.label);
    if (from) {
      audit.Bind(3, *from);
    } else {
      audit.BindNull(3);
    }
    audit.Bind(4, req.to_version).Bind(5, LabelActionName(req.action)).Bind(6, now);
    audit.Bind(7, req.why).Bind(8, req.who);
    RETURN_IF_ERROR(audit.Run());
    move = {sqlite3_last_insert_rowid(db_), req.model, req.label, from, req.to_version,
            req.action, now, req.why, req.who};
    return OkStatus();
  });
  if (!s.ok()) return s;
  return move;
}

StatusOr<std::map<std::string, int64_t>> SqliteMetadataStore::GetLabels(const std::string& model) {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, int64_t> out;
  Status s = Transaction(false, [&]() -> Status {
    Stmt q(this, "SELECT label, version FROM labels WHERE model = ?");
    q.Bind(1, model);
    while (true) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      out[q.Text(0)] = q.Int(1);
    }
    return OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

StatusOr<std::vector<LabelMove>> SqliteMetadataStore::LabelHistory(const std::string& model,
                                                                   const std::string& label) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<LabelMove> out;
  Status s = Transaction(false, [&]() -> Status {
    Stmt q(this,
           "SELECT id, model, label, from_version, to_version, action, time_ms, why, who "
           "FROM label_audit WHERE model = ? AND (? = '' OR label = ?) ORDER BY id DESC");
    q.Bind(1, model).Bind(2, label).Bind(3, label);
    while (true) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      LabelMove m;
      m.id = q.Int(0);
      m.model = q.Text(1);
      m.label = q.Text(2);
      if (!q.IsNull(3)) m.from_version = q.Int(3);
      m.to_version = q.Int(4);
      ASSIGN_OR_RETURN(m.action, ParseLabelAction(q.Text(5)));
      m.time_ms = q.Int(6);
      m.why = q.Text(7);
      m.who = q.Text(8);
      out.push_back(std::move(m));
    }
    return OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace bimride::registry
