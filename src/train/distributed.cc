#include "train/distributed.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

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

int RunLocalRanks(const std::vector<std::string>& argv, const LocalLaunchOptions& options) {
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
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t launcher = ::getpid();
  std::vector<pid_t> pids(options.nproc, -1);
  for (int r = 0; r < options.nproc; ++r) {
    const pid_t pid = ::fork();
    if (pid < 0) {
      std::fprintf(stderr, "launch: fork: %s\n", std::strerror(errno));
      for (int k = 0; k < r; ++k) ::kill(pids[k], SIGKILL);
      for (int k = 0; k < r; ++k) ::waitpid(pids[k], nullptr, 0);
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
      ::execv(cargv[0], cargv.data());
      std::fprintf(stderr, "launch: exec %s: %s\n", cargv[0], std::strerror(errno));
      ::_exit(127);
    }
    pids[r] = pid;
  }
  std::printf("launched %d ranks (master %s:%d)\n", options.nproc, options.master_addr.c_str(),
              port);
  std::fflush(stdout);

  int first_failure = 0, failed_rank = -1, alive = options.nproc;
  std::chrono::steady_clock::time_point failed_at;
  bool terminated = false, killed = false;
  while (alive > 0) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      int r = 0;
      while (r < options.nproc && pids[r] != pid) ++r;
      if (r == options.nproc) continue;
      pids[r] = -1;
      --alive;
      const int code = WIFEXITED(status)     ? WEXITSTATUS(status)
                       : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                             : 1;
      if (code != 0 && failed_rank < 0) {
        failed_rank = r;
        first_failure = code;
        failed_at = std::chrono::steady_clock::now();
        if (WIFSIGNALED(status)) {
          std::fprintf(stderr, "launch: rank %d was killed by signal %d (%s)\n", r,
                       WTERMSIG(status), strsignal(WTERMSIG(status)));
        } else {
          std::fprintf(stderr, "launch: rank %d exited with code %d\n", r, code);
        }
      }
      continue;
    }
    if (pid < 0 && errno != EINTR) break;
    if (failed_rank >= 0) {
      const double waited =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - failed_at).count();
      if (!terminated && waited > options.grace_seconds) {
        for (int r = 0; r < options.nproc; ++r) {
          if (pids[r] > 0) {
            std::fprintf(stderr, "launch: rank %d still running %.0f s after rank %d failed: "
                         "SIGTERM\n", r, waited, failed_rank);
            ::kill(pids[r], SIGTERM);
          }
        }
        terminated = true;
      } else if (terminated && !killed && waited > options.grace_seconds + 5) {
        for (int r = 0; r < options.nproc; ++r) {
          if (pids[r] > 0) ::kill(pids[r], SIGKILL);
        }
        killed = true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (failed_rank >= 0) {
    std::fprintf(stderr, "launch: failed (first failure: rank %d, exit code %d)\n", failed_rank,
                 first_failure);
  }
  return first_failure;
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
                  "torch: folder for rank 0's checkpoints; a restarted job resumes from it");
  flags.AddInt("checkpoint-every", &checkpoint_every, "torch: optimizer steps between checkpoints");
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
  lo.grace_seconds = timeout_seconds + 10;
  return RunLocalRanks(argv, lo);
}

Status DistributedFlags::Apply(TrainerOptions* options) const {
  ASSIGN_OR_RETURN(options->distributed, DistributedFromEnv(timeout_seconds));
  options->checkpoint_dir = checkpoint_dir;
  options->checkpoint_every_steps = static_cast<int>(checkpoint_every);
  return OkStatus();
}

}  // namespace bimride::train
