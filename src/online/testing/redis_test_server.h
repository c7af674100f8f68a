// Test-only: a throwaway redis-server (Debian's redis-server) on a free loopback port, in a temp
// folder, no persistence. The server is a child of the test process that dies with it
// (PR_SET_PDEATHSIG), so a crashed test leaves no server behind. Stop() and Restart() (same
// port) let tests take Redis away and bring it back. When redis-server is missing, Start()
// fails saying to install it (scripts/setup does).
#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "common/status.h"
#include "common/testing/free_port.h"

namespace bimride::online::testing {

using ::bimride::testing::FreeLoopbackPort;

inline bool CanConnect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

class RedisTestServer {
 public:
  static StatusOr<std::unique_ptr<RedisTestServer>> Start() {
    const std::string binary = "/usr/bin/redis-server";
    if (!std::filesystem::exists(binary)) {
      return FailedPreconditionError(binary +
                                     " not found: install Debian's redis-server "
                                     "(scripts/setup does) to run the Redis tests");
    }
    std::unique_ptr<RedisTestServer> server(new RedisTestServer());
    char tmpl[] = "/tmp/bimride_redis.XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return ErrnoError("mkdtemp", tmpl, errno);
    server->dir_ = tmpl;
    server->binary_ = binary;
    Status started;
    for (int attempt = 0; attempt < 3; ++attempt) {  // another process may take the port
      server->port_ = FreeLoopbackPort();
      started = server->Launch();
      if (started.ok()) break;
    }
    if (!started.ok()) return started;
    return server;
  }

  ~RedisTestServer() {
    Stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  int port() const { return port_; }
  std::string Url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

  // Kills the server (SIGKILL: as a crash or a network partition looks to clients).
  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  // Starts it again on the same port (empty: it keeps nothing).
  Status Restart() {
    Stop();
    return Launch();
  }

 private:
  RedisTestServer() = default;

  Status Launch() {
    const std::string port = std::to_string(port_);
    const std::string log = dir_ + "/redis.log";
    pid_t pid = ::fork();
    if (pid < 0) return ErrnoError("fork", binary_, errno);
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::execl(binary_.c_str(), binary_.c_str(), "--port", port.c_str(), "--bind", "127.0.0.1",
              "--save", "", "--appendonly", "no", "--dir", dir_.c_str(), "--logfile", log.c_str(),
              "--daemonize", "no", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    pid_ = pid;
    for (int i = 0; i < 500; ++i) {
      if (CanConnect(port_)) return Status::Ok();
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return UnavailableError("redis-server on port " + port + " exited at start; see " + log);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    Stop();
    return UnavailableError("redis-server on port " + port + " did not accept within 5 s");
  }

  std::string dir_;
  std::string binary_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace bimride::online::testing
