// Heartbeats for ranks whose engine does not say which peer failed. XGBoost's collective
// (rabit) reports only "Allreduce failed" or "Poll timeout" on the survivors; under `--nproc`
// our launcher names the rank, but under torchrun or across machines nobody would. So every
// rank of a distributed XGBoost job sends its rank and step to a hub run by rank 0 (UDP, at
// MASTER_ADDR:MASTER_PORT: the TCP port of that number is the rendezvous store's, the UDP one
// is free), five times a second; the hub answers each with every rank's heartbeat count and
// step. When a collective fails, Failure() watches that table for a second and names the rank
// with models::NameFailedRank (the wording of the LibTorch path); a rank whose hub stopped
// answering blames rank 0.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.h"
#include "train/trainer.h"

namespace bimride::train {

class RankHeartbeats;
StatusOr<RankHeartbeats*> JobHeartbeats(const DistributedOptions& d);

class RankHeartbeats {
 public:
  // Rank 0 binds the hub (an error names the address when it cannot); the other ranks resolve
  // MASTER_ADDR and start sending. Never blocks on the peers.
  static StatusOr<std::unique_ptr<RankHeartbeats>> Start(const DistributedOptions& d);
  ~RankHeartbeats();
  RankHeartbeats(const RankHeartbeats&) = delete;
  RankHeartbeats& operator=(const RankHeartbeats&) = delete;

  // The steps (boosting rounds) this rank has completed; sent at once (a datagram, never
  // blocks), so the hub knows each rank's last step even when rounds take milliseconds.
  void set_step(int64_t step);

  // After a collective failed with `what`: a Status naming the rank that stopped or hung (about
  // a second: it watches the heartbeats), prefixed by this rank's own "rank R of W: what".
  Status Failure(const std::string& what);

  // Every rank's heartbeat count and last step as this rank knows them (tests).
  void Snapshot(std::vector<int64_t>* beats, std::vector<int64_t>* steps) const;

 private:
  friend StatusOr<RankHeartbeats*> JobHeartbeats(const DistributedOptions& d);
  RankHeartbeats() = default;
  void RunHub();     // rank 0
  void RunSender();  // the others
  void SendBeat();

  DistributedOptions d_;
  std::string address_;  // "host:port", for messages
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> step_{0};
  mutable std::mutex mu_;
  std::vector<int64_t> beats_, steps_;
  std::chrono::steady_clock::time_point last_answer_;  // senders: the hub's last answer
  std::thread thread_;
};

// The wire format (text datagrams), exposed for tests and the fuzzer. A sender's heartbeat is
// "HB <rank> <step>" (1 <= rank < world, step >= 0); the hub's answer is "<beats_0> <step_0>
// <beats_1> <step_1> …" for all `world` ranks. False for anything else (the hub and senders
// ignore such datagrams).
bool ParseHeartbeat(std::string_view datagram, int world, int* rank, int64_t* step);
bool ParseHeartbeatTable(std::string_view datagram, int world, std::vector<int64_t>* beats,
                         std::vector<int64_t>* steps);

// The heartbeats of this process's distributed job (started on first use, kept for the
// process's later trainings: each XGBoost booster is its own collective session).
StatusOr<RankHeartbeats*> JobHeartbeats(const DistributedOptions& d);

}  // namespace bimride::train
