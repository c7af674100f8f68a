#include "train/rank_heartbeats.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/thread_name.h"
#include "models/rank_failure.h"

namespace bimride::train {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kInterval = std::chrono::milliseconds(200);
constexpr auto kWatch = 5 * kInterval;

void SetReceiveTimeout(int fd, std::chrono::milliseconds t) {
  timeval tv{};
  tv.tv_sec = t.count() / 1000;
  tv.tv_usec = (t.count() % 1000) * 1000;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

// The hub's answer: "<beats_0> <step_0> <beats_1> <step_1> …" for every rank.
std::string FormatTable(const std::vector<int64_t>& beats, const std::vector<int64_t>& steps) {
  std::string out;
  for (size_t r = 0; r < beats.size(); ++r) {
    out += (r ? " " : "") + std::to_string(beats[r]) + " " + std::to_string(steps[r]);
  }
  return out;
}

}  // namespace

bool ParseHeartbeat(std::string_view datagram, int world, int* rank, int64_t* step) {
  if (datagram.size() <= 3 || datagram.size() >= 64 || datagram.substr(0, 3) != "HB ") {
    return false;
  }
  const std::string s(datagram.substr(3));
  char* end = nullptr;
  const long r = std::strtol(s.c_str(), &end, 10);
  if (end == s.c_str() || *end != ' ' || r <= 0 || r >= world) return false;
  const char* p = end + 1;
  const long long st = std::strtoll(p, &end, 10);
  if (end == p || *end != '\0' || st < 0) return false;
  *rank = static_cast<int>(r);
  *step = st;
  return true;
}

bool ParseHeartbeatTable(std::string_view datagram, int world, std::vector<int64_t>* beats,
                         std::vector<int64_t>* steps) {
  if (datagram.empty() || world <= 0) return false;
  const std::string s(datagram);
  std::vector<int64_t> b(world), st(world);
  const char* p = s.c_str();
  for (int r = 0; r < world; ++r) {
    char* end = nullptr;
    b[r] = std::strtoll(p, &end, 10);
    if (end == p) return false;
    p = end;
    st[r] = std::strtoll(p, &end, 10);
    if (end == p) return false;
    p = end;
  }
  if (*p != '\0') return false;
  *beats = std::move(b);
  *steps = std::move(st);
  return true;
}

StatusOr<std::unique_ptr<RankHeartbeats>> RankHeartbeats::Start(const DistributedOptions& d) {
  if (d.world_size < 2 || d.rank < 0 || d.rank >= d.world_size) {
    return InvalidArgumentError("heartbeats: rank " + std::to_string(d.rank) + " of " +
                                std::to_string(d.world_size));
  }
  std::unique_ptr<RankHeartbeats> h(new RankHeartbeats());
  h->d_ = d;
  h->address_ = d.master_addr + ":" + std::to_string(d.master_port);
  h->beats_.assign(d.world_size, 0);
  h->steps_.assign(d.world_size, -1);
  h->last_answer_ = Clock::now();
  addrinfo hints{}, *res = nullptr;
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  const int rc = ::getaddrinfo(d.master_addr.c_str(), std::to_string(d.master_port).c_str(),
                               &hints, &res);
  if (rc != 0) {
    return UnavailableError("heartbeats: cannot resolve MASTER_ADDR " + h->address_ + ": " +
                            ::gai_strerror(rc));
  }
  h->fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (h->fd_ < 0) {
    ::freeaddrinfo(res);
    return UnavailableError(std::string("heartbeats: socket: ") + std::strerror(errno));
  }
  SetReceiveTimeout(h->fd_, std::chrono::milliseconds(100));
  int ok;
  if (d.rank == 0) {
    // The hub listens on every interface at the port (MASTER_ADDR names this host).
    sockaddr_in any{};
    any.sin_family = AF_INET;
    any.sin_addr.s_addr = htonl(INADDR_ANY);
    any.sin_port = htons(static_cast<uint16_t>(d.master_port));
    ok = ::bind(h->fd_, reinterpret_cast<sockaddr*>(&any), sizeof any);
  } else {
    ok = ::connect(h->fd_, res->ai_addr, res->ai_addrlen);
  }
  const int err = errno;
  ::freeaddrinfo(res);
  if (ok != 0) {
    ::close(h->fd_);
    h->fd_ = -1;
    return UnavailableError("heartbeats: rank " + std::to_string(d.rank) + " cannot " +
                            (d.rank == 0 ? "listen on UDP " : "reach UDP ") + h->address_ + ": " +
                            std::strerror(err));
  }
  RankHeartbeats* raw = h.get();
  h->thread_ = std::thread([raw] {
    NameThisThread("rank-heartbeat");
    raw->d_.rank == 0 ? raw->RunHub() : raw->RunSender();
  });
  return h;
}

RankHeartbeats::~RankHeartbeats() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) ::close(fd_);
}

void RankHeartbeats::RunHub() {
  auto next_own = Clock::now();
  char buf[256];
  while (!stop_.load()) {
    if (Clock::now() >= next_own) {
      std::lock_guard<std::mutex> lock(mu_);
      ++beats_[0];
      steps_[0] = step_.load();
      next_own = Clock::now() + kInterval;
    }
    sockaddr_storage from{};
    socklen_t len = sizeof from;
    const ssize_t n = ::recvfrom(fd_, buf, sizeof buf - 1, 0, reinterpret_cast<sockaddr*>(&from),
                                 &len);
    int rank;
    int64_t step;
    if (n < 0 || !ParseHeartbeat(std::string_view(buf, n), d_.world_size, &rank, &step)) {
      continue;  // a timeout, or a stray datagram
    }
    std::string table;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++beats_[rank];
      steps_[rank] = step;
      table = FormatTable(beats_, steps_);
    }
    ::sendto(fd_, table.data(), table.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&from),
             len);
  }
}

void RankHeartbeats::SendBeat() {
  const std::string beat = "HB " + std::to_string(d_.rank) + " " + std::to_string(step_.load());
  ::send(fd_, beat.data(), beat.size(), MSG_NOSIGNAL | MSG_DONTWAIT);  // refused: hub down
}

void RankHeartbeats::set_step(int64_t step) {
  step_.store(step);
  if (d_.rank != 0) {
    SendBeat();
  } else {
    std::lock_guard<std::mutex> lock(mu_);
    steps_[0] = step;
  }
}

void RankHeartbeats::RunSender() {
  char buf[4096];
  auto next_beat = Clock::now();
  while (!stop_.load()) {
    if (Clock::now() >= next_beat) {
      SendBeat();
      next_beat = Clock::now() + kInterval;
    }
    const ssize_t n = ::recv(fd_, buf, sizeof buf - 1, 0);
    std::vector<int64_t> beats, steps;
    if (n > 0 && ParseHeartbeatTable(std::string_view(buf, n), d_.world_size, &beats, &steps)) {
      std::lock_guard<std::mutex> lock(mu_);
      beats_ = std::move(beats);
      steps_ = std::move(steps);
      last_answer_ = Clock::now();
    }
  }
}

void RankHeartbeats::Snapshot(std::vector<int64_t>* beats, std::vector<int64_t>* steps) const {
  std::lock_guard<std::mutex> lock(mu_);
  *beats = beats_;
  *steps = steps_;
}

Status RankHeartbeats::Failure(const std::string& what) {
  const std::string head = "rank " + std::to_string(d_.rank) + " of " +
                           std::to_string(d_.world_size) + ": " + what;
  models::RankWatch w;
  w.self = d_.rank;
  w.timeout_seconds = d_.timeout_seconds;
  w.watched_seconds = std::chrono::duration<double>(kWatch).count();
  Snapshot(&w.beats_before, &w.steps);
  std::this_thread::sleep_for(kWatch);
  Clock::time_point last_answer;
  {
    std::lock_guard<std::mutex> lock(mu_);
    w.beats_after = beats_;
    w.steps = steps_;
    last_answer = last_answer_;
  }
  if (d_.rank != 0 && Clock::now() - last_answer >= kWatch) {
    char quiet[32];
    std::snprintf(quiet, sizeof quiet, "%g",
                  std::chrono::duration<double>(Clock::now() - last_answer).count());
    return UnavailableError("rank 0 (last heartbeat at step " + std::to_string(w.steps[0]) +
                            ") stopped: its heartbeat hub at " + address_ +
                            " has not answered for " + quiet + " s (" + head + ")");
  }
  w.steps[d_.rank] = step_.load();
  return models::NameFailedRank(w, head);
}

StatusOr<RankHeartbeats*> JobHeartbeats(const DistributedOptions& d) {
  static std::mutex mu;
  static std::unique_ptr<RankHeartbeats> job;
  std::lock_guard<std::mutex> lock(mu);
  if (job == nullptr || job->d_.rank != d.rank || job->d_.world_size != d.world_size ||
      job->d_.master_addr != d.master_addr || job->d_.master_port != d.master_port) {
    job.reset();
    ASSIGN_OR_RETURN(job, RankHeartbeats::Start(d));
  }
  job->d_.timeout_seconds = d.timeout_seconds;
  return job.get();
}

}  // namespace bimride::train
