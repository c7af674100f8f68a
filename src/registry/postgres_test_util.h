// Test-only: a throwaway PostgreSQL server for the store tests, started with Debian's
// initdb + pg_ctl in a fresh temp folder on a free loopback port (trust auth, user bimride,
// fsync off), and stopped and removed at the end.
//
// initdb refuses to run as root, so as root both run as the package's `postgres` user through
// runuser (../shared/docs/TOOLCHAIN.md). The binaries come from $BIMRIDE_PG_BINDIR, else the
// newest /usr/lib/postgresql/*/bin; when missing, Start() fails saying to run scripts/setup.
//
// Cleanup does not depend on the test finishing normally: Start() forks a small guardian
// process that waits on a pipe from the test process and, when the pipe closes (the server
// object is destroyed, or the test process exits or crashes), stops the server and removes
// the folder.
#pragma once

#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "common/status.h"
#include "common/testing/free_port.h"

namespace bimride::registry::testing {

using ::bimride::testing::FreeLoopbackPort;

class PostgresTestServer {
 public:
  static StatusOr<std::unique_ptr<PostgresTestServer>> Start() {
    std::string bindir = FindBinDir();
    if (bindir.empty()) {
      return FailedPreconditionError(
          "PostgreSQL server binaries (initdb, pg_ctl) not found in $BIMRIDE_PG_BINDIR or "
          "/usr/lib/postgresql/*/bin: install Debian's postgresql package (scripts/setup does)");
    }
    std::unique_ptr<PostgresTestServer> server(new PostgresTestServer());
    char tmpl[] = "/tmp/bimride_pg.XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return ErrnoError("mkdtemp", tmpl, errno);
    server->dir_ = tmpl;
    server->bindir_ = bindir;
    if (::geteuid() == 0) {
      passwd* pw = ::getpwnam("postgres");
      if (pw == nullptr) {
        return FailedPreconditionError(
            "running as root, and initdb refuses root, but there is no 'postgres' user to run "
            "it as (Debian's postgresql package creates it)");
      }
      if (::chown(server->dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
        return ErrnoError("chown postgres", server->dir_, errno);
      }
      server->as_ = "runuser -u postgres -- ";
    }
    server->StartGuardian();
    RETURN_IF_ERROR(server->Run(bindir + "/initdb -D " + server->dir_ +
                                    "/data -A trust -U bimride -E UTF8 --locale=C --no-sync",
                                "initdb"));
    Status started;
    for (int attempt = 0; attempt < 3; ++attempt) {  // another process may take the port
      server->port_ = FreeLoopbackPort();
      started = server->Run(
          bindir + "/pg_ctl -D " + server->dir_ + "/data -w -t 60 -l " + server->dir_ +
              "/server.log -o \"-p " + std::to_string(server->port_) + " -k " + server->dir_ +
              " -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60\" start",
          "pg_ctl start");
      if (started.ok()) break;
    }
    if (!started.ok()) return started;
    return server;
  }

  ~PostgresTestServer() {
    if (guard_fd_ >= 0) {
      ::close(guard_fd_);  // the guardian stops the server and removes the folder
      int status = 0;
      ::waitpid(guardian_, &status, 0);
    }
  }

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  std::string Url(const std::string& db) const {
    return "postgresql://bimride@127.0.0.1:" + std::to_string(port_) + "/" + db;
  }

  // A new empty database; returns its URL.
  StatusOr<std::string> CreateDatabase() {
    static std::atomic<int> counter{0};
    std::string name = "t" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
    RETURN_IF_ERROR(Exec(Url("postgres"), "CREATE DATABASE " + name));
    return Url(name);
  }

  // Runs SQL on the database at `url` (outside the store under test).
  static Status Exec(const std::string& url, const std::string& sql) {
    PGconn* conn = PQconnectdb(url.c_str());
    std::unique_ptr<PGconn, void (*)(PGconn*)> closer(conn, &PQfinish);
    if (PQstatus(conn) != CONNECTION_OK) {
      return UnavailableError(url + ": " + PQerrorMessage(conn));
    }
    PGresult* r = PQexec(conn, sql.c_str());
    ExecStatusType st = PQresultStatus(r);
    std::string err = PQresultErrorMessage(r);
    PQclear(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      return InternalError(url + ": " + sql + ": " + err);
    }
    return OkStatus();
  }

 private:
  PostgresTestServer() = default;

  static std::string FindBinDir() {
    const char* env = std::getenv("BIMRIDE_PG_BINDIR");
    if (env != nullptr && *env != '\0') {
      return std::filesystem::exists(std::string(env) + "/initdb") ? env : "";
    }
    std::string best;
    int best_version = -1;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
      std::string name = entry.path().filename().string();
      int version = std::atoi(name.c_str());
      if (version > best_version && std::filesystem::exists(entry.path() / "bin/initdb") &&
          std::filesystem::exists(entry.path() / "bin/pg_ctl")) {
        best_version = version;
        best = (entry.path() / "bin").string();
      }
    }
    return best;
  }

  // Runs `command` (as postgres when root), output in <dir>/<what>.log; errors show its tail.
  Status Run(const std::string& command, const std::string& what) {
    std::string log = dir_ + "/" + what.substr(0, what.find(' ')) + ".log";
    std::string full = as_ + command + " >" + log + " 2>&1";
    int rc = std::system(full.c_str());
    if (rc == 0) return OkStatus();
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    std::ifstream server_log(dir_ + "/server.log");
    std::stringstream server_text;
    server_text << server_log.rdbuf();
    return InternalError(what + " failed (exit " + std::to_string(rc) + "): " + full + "\n" +
                         text.str() + server_text.str());
  }

  void StartGuardian() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return;
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[1]);
      char c;
      while (::read(fds[0], &c, 1) != 0) {
      }
      std::string stop = as_ + bindir_ + "/pg_ctl -D " + dir_ +
                         "/data -m immediate -w stop >/dev/null 2>&1";
      if (std::filesystem::exists(dir_ + "/data/postmaster.pid")) {
        [[maybe_unused]] int rc = std::system(stop.c_str());
      }
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
      ::_exit(0);
    }
    ::close(fds[0]);
    guardian_ = pid;
    guard_fd_ = fds[1];
  }

  std::string dir_;
  std::string bindir_;
  std::string as_;  // "runuser -u postgres -- " when root
  int port_ = 0;
  pid_t guardian_ = -1;
  int guard_fd_ = -1;
};

// The one server of a test process, started on first use (SuiteServerStartStatus says how
// that went); stopped when the process exits (and by the guardian should the test crash).
inline std::unique_ptr<PostgresTestServer>& SuiteServer() {
  static std::unique_ptr<PostgresTestServer> server;
  return server;
}
inline const Status& SuiteServerStartStatus() {
  static const Status status = [] {
    auto started = PostgresTestServer::Start();
    if (!started.ok()) return started.status();
    SuiteServer() = std::move(*started);
    return OkStatus();
  }();
  return status;
}

}  // namespace bimride::registry::testing
