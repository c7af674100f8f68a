#include "train/distributed.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "common/file.h"

namespace bimride::train {
namespace {

StatusOr<int> IntFromEnv(const char* name, int lo, int hi) {
  const char* v = std::getenv(name);
  char* end = nullptr;
  errno = 0;
  const long x = std::strtol(v, &end, 10);
  if (*v == '\0' || *end != '\0' || errno != 0 || x < lo || x > hi) {
    return InvalidArgumentError(std::string("environment variable ") + name + "='" + v +
                                "': want a whole number in " + std::to_string(lo) + ".." +
                                std::to_string(hi));
  }
  return static_cast<int>(x);
}

}  // namespace

StatusOr<DistributedOptions> DistributedFromEnv(double timeout_seconds) {
  DistributedOptions d;
  d.timeout_seconds = timeout_seconds;
  const char* names[] = {"RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"};
  int set = 0;
  for (const char* n : names) set += std::getenv(n) != nullptr;
  if (set == 0) return d;
  for (const char* n : names) {
    if (std::getenv(n) == nullptr) {
      return InvalidArgumentError(std::string("environment variable ") + n +
                                  " is not set, but other torchrun variables are (need RANK, "
                                  "WORLD_SIZE, MASTER_ADDR, MASTER_PORT)");
    }
  }
  ASSIGN_OR_RETURN(d.world_size, IntFromEnv("WORLD_SIZE", 1, 1 << 20));
  ASSIGN_OR_RETURN(d.rank, IntFromEnv("RANK", 0, d.world_size - 1));
  d.local_rank = d.rank;
  if (std::getenv("LOCAL_RANK") != nullptr) {
    ASSIGN_OR_RETURN(d.local_rank, IntFromEnv("LOCAL_RANK", 0, d.world_size - 1));
  }
  ASSIGN_OR_RETURN(d.master_port, IntFromEnv("MASTER_PORT", 1, 65535));
  d.master_addr = std::getenv("MASTER_ADDR");
  if (d.master_addr.empty()) return InvalidArgumentError("environment variable MASTER_ADDR is empty");
  return d;
}

StatusOr<int> FreeLocalPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return InternalError(std::string("socket: ") + std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    const std::string err = std::strerror(errno);
    ::close(fd);
    return InternalError("finding a free port: " + err);
  }
  ::close(fd);
  return static_cast<int>(ntohs(a.sin_port));
}

StatusOr<std::vector<std::string>> SelfCommandWithoutNproc() {
  ASSIGN_OR_RETURN(std::string cmdline, ReadFile("/proc/self/cmdline"));
  std::vector<std::string> args;
  for (size_t pos = 0; pos < cmdline.size();) {
    const size_t end = cmdline.find('\0', pos);
    const size_t stop = end == std::string::npos ? cmdline.size() : end;
    args.push_back(cmdline.substr(pos, stop - pos));
    pos = stop + 1;
  }
  if (args.empty()) return InternalError("/proc/self/cmdline is empty");
  std::vector<std::string> out = {"/proc/self/exe"};
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--nproc" || args[i] == "-nproc") {
      ++i;  // and its value
      continue;
    }
    if (args[i].rfind("--nproc=", 0) == 0) continue;
    out.push_back(args[i]);
  }
  return out;
}

namespace {

// What the launcher knows of one rank.
struct RankState {
  pid_t pid = -1;          // -1 once reaped
  int progress_fd = -1;    // the launcher's end of the rank's progress socket
  int64_t progress = -1;   // last step the rank reported (-1: none)
  std::chrono::steady_clock::time_point progress_at;
};

void ReadProgress(RankState& r) {
  int64_t step = 0;
  while (r.progress_fd >= 0 &&
         ::recv(r.progress_fd, &step, sizeof step, MSG_DONTWAIT) == sizeof step) {
    r.progress = step;
    r.progress_at = std::chrono::steady_clock::now();
  }
}

std::string ProgressText(const RankState& r, std::chrono::steady_clock::time_point now) {
  if (r.progress < 0) return "";
  char text[96];
  std::snprintf(text, sizeof text, " (last progress: step %lld, %.1f s before)",
                static_cast<long long>(r.progress),
                std::chrono::duration<double>(now - r.progress_at).count());
  return text;
}

}  // namespace

int RunLocalRanks(const std::vector<std::string>& argv, const LocalLaunchOptions& options,
                  LaunchFailure* failure) {
  if (failure != nullptr) *failure = LaunchFailure{};
  if (argv.empty() || options.nproc < 1) {
    std::fprintf(stderr, "launch: need a command and nproc >= 1\n");
    return 2;
  }
  int port = options.master_port;
  if (port == 0) {
    auto p = FreeLocalPort();
    if (!p.ok()) {
      std::fprintf(stderr, "launch: %s\n", p.status().ToString().c_str());
      return 1;
    }
    port = *p;
  }
  std::vector<char*> cargv;
  for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  std::vector<RankState> ranks(options.nproc);
  std::vector<int> child_fds(options.nproc, -1);  // each rank's end of its progress socket
  const auto close_all = [&] {
    for (int r = 0; r < options.nproc; ++r) {
      if (ranks[r].progress_fd >= 0) ::close(ranks[r].progress_fd);
      if (child_fds[r] >= 0) ::close(child_fds[r]);
      ranks[r].progress_fd = child_fds[r] = -1;
    }
  };
  for (int r = 0; r < options.nproc; ++r) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) != 0) {
      std::fprintf(stderr, "launch: socketpair: %s\n", std::strerror(errno));
      close_all();
      return 1;
    }
    ranks[r].progress_fd = sv[0];
    child_fds[r] = sv[1];
  }
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t launcher = ::getpid();
  for (int r = 0; r < options.nproc; ++r) {
    const pid_t pid = ::fork();
    if (pid < 0) {
      std::fprintf(stderr, "launch: fork: %s\n", std::strerror(errno));
      for (int k = 0; k < r; ++k) ::kill(ranks[k].pid, SIGKILL);
      for (int k = 0; k < r; ++k) ::waitpid(ranks[k].pid, nullptr, 0);
      close_all();
      return 1;
    }
    if (pid == 0) {
      // The child dies with the launcher, even if the launcher is SIGKILLed.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != launcher) ::_exit(127);
      const std::string rank = std::to_string(r);
      ::setenv("RANK", rank.c_str(), 1);
      ::setenv("LOCAL_RANK", rank.c_str(), 1);
      ::setenv("WORLD_SIZE", std::to_string(options.nproc).c_str(), 1);
      ::setenv("LOCAL_WORLD_SIZE", std::to_string(options.nproc).c_str(), 1);
      ::setenv("MASTER_ADDR", options.master_addr.c_str(), 1);
      ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
      ::setenv("OMP_NUM_THREADS", "1", 0);
      // Only this rank's end of its own progress socket survives the exec (the rest are
      // close-on-exec).
      const int fd = ::dup(child_fds[r]);
      if (fd >= 0) ::setenv("BIMRIDE_LAUNCH_PROGRESS_FD", std::to_string(fd).c_str(), 1);
      ::execv(cargv[0], cargv.data());
      std::fprintf(stderr, "launch: exec %s: %s\n", cargv[0], std::strerror(errno));
      ::_exit(127);
    }
    ranks[r].pid = pid;
  }
  for (int& fd : child_fds) {
    ::close(fd);
    fd = -1;
  }
  std::printf("launched %d ranks (master %s:%d)\n", options.nproc, options.master_addr.c_str(),
              port);
  std::fflush(stdout);

  using Clock = std::chrono::steady_clock;
  int first_failure = 0, failed_rank = -1, alive = options.nproc;
  int killed_rank = -1;  // the first rank killed by a signal the launcher did not send
  int killed_code = 0;
  int hung_rank = -1;    // the first rank still running when the grace ran out
  std::string killed_what, hung_what, failed_what;
  Clock::time_point failed_at;
  bool terminated = false, killed = false;
  while (alive > 0) {
    for (RankState& r : ranks) ReadProgress(r);
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      int r = 0;
      while (r < options.nproc && ranks[r].pid != pid) ++r;
      if (r == options.nproc) continue;
      ranks[r].pid = -1;
      --alive;
      const int code = WIFEXITED(status)     ? WEXITSTATUS(status)
                       : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                             : 1;
      if (code == 0) continue;
      const Clock::time_point now = Clock::now();
      std::string what;
      if (WIFSIGNALED(status)) {
        what = "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
               strsignal(WTERMSIG(status)) + ")";
      } else {
        what = "exited with code " + std::to_string(code);
      }
      what += ProgressText(ranks[r], now);
      if (!terminated) std::fprintf(stderr, "launch: rank %d %s\n", r, what.c_str());
      if (WIFSIGNALED(status) && !terminated && killed_rank < 0) {
        killed_rank = r;
        killed_code = code;
        killed_what = what;
      }
      if (failed_rank < 0) {
        failed_rank = r;
        first_failure = code;
        failed_at = now;
        failed_what = what;
      }
      continue;
    }
    if (pid < 0 && errno != EINTR) break;
    if (failed_rank >= 0) {
      const Clock::time_point now = Clock::now();
      const double waited = std::chrono::duration<double>(now - failed_at).count();
      if (!terminated && waited > options.grace_seconds) {
        for (int r = 0; r < options.nproc; ++r) {
          if (ranks[r].pid <= 0) continue;
          char line[160];
          std::snprintf(line, sizeof line, "is hung: still running %.1f s after rank %d failed",
                        waited, failed_rank);
          const std::string what = line + ProgressText(ranks[r], now);
          std::fprintf(stderr, "launch: rank %d %s: SIGTERM\n", r, what.c_str());
          if (hung_rank < 0) {
            hung_rank = r;
            hung_what = what;
          }
          ::kill(ranks[r].pid, SIGTERM);
        }
        terminated = true;
      } else if (terminated && !killed && waited > options.grace_seconds + 2) {
        for (int r = 0; r < options.nproc; ++r) {
          if (ranks[r].pid > 0) ::kill(ranks[r].pid, SIGKILL);
        }
        killed = true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  close_all();
  if (failed_rank >= 0) {
    LaunchFailure blame;
    if (killed_rank >= 0) {
      blame = {killed_rank, killed_what};
      first_failure = killed_code;  // even when another rank's error was reaped first
    } else if (hung_rank >= 0) {
      blame = {hung_rank, hung_what};
    } else {
      blame = {failed_rank, failed_what};
    }
    blame.stop_seconds = std::chrono::duration<double>(Clock::now() - failed_at).count();
    std::fprintf(stderr,
                 "launch: failed: rank %d %s (exit code %d; every rank stopped %.1f s after the "
                 "first failure, of rank %d)\n",
                 blame.rank, blame.what.c_str(), first_failure, blame.stop_seconds, failed_rank);
    if (failure != nullptr) *failure = blame;
  }
  return first_failure;
}

void ReportProgressToLauncher(int64_t step) {
  static const int fd = [] {
    const char* v = std::getenv("BIMRIDE_LAUNCH_PROGRESS_FD");
    if (v == nullptr) return -1;
    char* end = nullptr;
    const long x = std::strtol(v, &end, 10);
    if (*v == '\0' || *end != '\0' || x < 0 || x > 1 << 20) return -1;
    const int f = static_cast<int>(x);
    int type = 0;
    socklen_t len = sizeof type;
    if (::getsockopt(f, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_DGRAM) return -1;
    ::fcntl(f, F_SETFD, FD_CLOEXEC);  // not inherited by the XGBoost tracker this rank starts
    return f;
  }();
  if (fd < 0) return;
  (void)::send(fd, &step, sizeof step, MSG_DONTWAIT | MSG_NOSIGNAL);
}

void MaybeInjectFault(int rank, int64_t step) {
  static const char* spec = std::getenv("BIMRIDE_FAULT");
  if (spec == nullptr) return;
  int r = -1;
  long long st = -1;
  char action[16] = {0};
  if (std::sscanf(spec, "%d:%lld:%15s", &r, &st, action) != 3 || r != rank || st != step) return;
  std::fprintf(stderr, "BIMRIDE_FAULT: rank %d at step %lld: %s\n", rank, st, action);
  std::fflush(stderr);
  if (std::string(action) == "kill") ::raise(SIGKILL);
  if (std::string(action) == "hang") {
    for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  std::_Exit(3);
}

StatusOr<int> StartRabitTracker(const std::string& host, int port, int world) {
  static const char* kTracker =
      "import sys\n"
      "from xgboost.tracker import RabitTracker\n"
      "n = int(sys.argv[2])\n"
      "t = RabitTracker(host_ip=sys.argv[1], n_workers=n, port=int(sys.argv[3]), sortby='task')\n"
      "t.start(n)\n"
      "t.join()\n";
  const std::string n = std::to_string(world), p = std::to_string(port);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return InternalError(std::string("starting the XGBoost tracker: ") +
                                    std::strerror(errno));
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::execl("/usr/bin/python3", "python3", "-c", kTracker, host.c_str(), n.c_str(), p.c_str(),
            static_cast<char*>(nullptr));
    std::fprintf(stderr, "exec /usr/bin/python3 (the XGBoost tracker): %s\n",
                 std::strerror(errno));
    ::_exit(127);
  }
  return static_cast<int>(pid);
}

void StopRabitTracker(int pid, double timeout_seconds) {
  const auto start = std::chrono::steady_clock::now();
  while (::waitpid(pid, nullptr, WNOHANG) == 0) {
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() >
        timeout_seconds) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void DistributedFlags::Add(FlagParser& flags) {
  flags.AddInt("nproc", &nproc,
               "data-parallel training (torch): run this many local ranks (c10d/Gloo); "
               "torchrun --no_python starts ranks too");
  flags.AddDouble("dist-timeout", &timeout_seconds,
                  "data-parallel: seconds a collective may wait before the job stops, naming "
                  "the rank that died or hung");
  flags.AddString("checkpoint-dir", &checkpoint_dir,
                  "torch, xgboost: folder for rank 0's checkpoints; a restarted job resumes "
                  "from it");
  flags.AddInt("checkpoint-every", &checkpoint_every,
               "optimizer steps (torch) or boosting rounds (xgboost) between checkpoints");
}

StatusOr<int> DistributedFlags::MaybeLaunch() const {
  if (nproc < 1 || nproc > 1024) return InvalidArgumentError("--nproc must be in 1..1024");
  if (timeout_seconds <= 0) return InvalidArgumentError("--dist-timeout must be > 0");
  if (checkpoint_every < 0 || (checkpoint_every > 0 && checkpoint_dir.empty())) {
    return InvalidArgumentError("--checkpoint-every needs --checkpoint-dir and must be >= 0");
  }
  if (nproc == 1 || std::getenv("RANK") != nullptr) return -1;
  ASSIGN_OR_RETURN(std::vector<std::string> argv, SelfCommandWithoutNproc());
  LocalLaunchOptions lo;
  lo.nproc = static_cast<int>(nproc);
  lo.grace_seconds = std::min(3.0, timeout_seconds);
  return RunLocalRanks(argv, lo);
}

Status DistributedFlags::Apply(TrainerOptions* options) const {
  ASSIGN_OR_RETURN(options->distributed, DistributedFromEnv(timeout_seconds));
  options->checkpoint_dir = checkpoint_dir;
  options->checkpoint_every_steps = static_cast<int>(checkpoint_every);
  return OkStatus();
}

}  // namespace bimride::train
