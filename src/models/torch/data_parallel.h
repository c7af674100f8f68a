// Data parallelism for the C++ frontend, which has no DistributedDataParallel: what DDP does,
// built on c10d. Internal to models/torch (includes LibTorch); tabular_net.cc uses it.
//
//   ProcessGroup   rendezvous through a TCPStore (rank 0 hosts it at master_addr:master_port),
//                  a ProcessGroupGloo over it, and a heartbeat per rank in the store, so a
//                  failed collective is turned into an error naming the rank that died (no
//                  heartbeat) or hung (heartbeat but no progress). One group per process and
//                  address (reused by later trainings in the same process: ensembles, refits).
//   GradientReducer  autograd hooks on the parameters copy each gradient into its bucket as
//                  backward produces it; a full bucket is all-reduced asynchronously (Gloo's
//                  worker threads) while backward continues; Finish() waits for the buckets
//                  and writes the summed gradients back.
#pragma once

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/torch.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "models/torch/tabular_net.h"

namespace bimride::models::torch_backend {

class ProcessGroup {
 public:
  // Connects (or returns this process's existing group for the same address, rank and size).
  // Unavailable/DeadlineExceeded when the rendezvous does not complete within the timeout.
  static StatusOr<std::shared_ptr<ProcessGroup>> Connect(const TabularDistributedOptions& o);
  ~ProcessGroup();

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  c10d::ProcessGroupGloo& gloo() { return *pg_; }

  // Collectives; they throw c10::Error on failure (callers catch and call Failure()).
  void Broadcast(std::vector<::torch::Tensor>& tensors, int root = 0);
  void AllReduceSum(::torch::Tensor& t);
  // Rank 0's bytes on every rank.
  std::string BroadcastBytes(const std::string& bytes_on_root);

  // The number of steps this rank has started, published with the heartbeat (for naming a
  // hung rank).
  void set_step(int64_t step) { step_.store(step); }

  // Turns a collective's exception into a Status naming the rank that stopped (dead: no
  // heartbeat; hung: alive but behind), or rank 0 when the store it hosts is gone. Takes about
  // a second (it watches the heartbeats).
  Status Failure(const std::string& what);

 private:
  ProcessGroup() = default;
  void Heartbeat();
  std::string StoreGone(const std::string& head) const;

  int rank_ = 0, world_size_ = 1;
  std::string address_;
  double timeout_seconds_ = 60;
  bool agent_store_ = false;  // torchrun's agent hosts the store (all ranks are clients)
  c10::intrusive_ptr<c10d::TCPStore> store_;      // the rendezvous (rank 0: also the server)
  c10::intrusive_ptr<c10d::TCPStore> hb_store_;   // a second client for the heartbeat thread
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg_;
  std::mutex hb_mu_;
  std::atomic<int64_t> step_{0};
  std::atomic<bool> stop_{false};
  std::atomic<bool> store_lost_{false};
  std::thread heartbeat_;
};

class GradientReducer {
 public:
  // Buckets the parameters in reverse order (backward produces the last layer's gradients
  // first) up to `bucket_bytes` each and registers one hook per parameter.
  GradientReducer(ProcessGroup* group, std::vector<::torch::Tensor> params, size_t bucket_bytes);

  // Call before each backward.
  void Prepare();
  // Call after backward: launches buckets that a missing gradient kept back (with zeros for
  // it), waits for every bucket, and sets each parameter's grad to the sum over ranks.
  void Finish();

  size_t num_buckets() const { return buckets_.size(); }
  double wait_seconds() const { return wait_seconds_; }

 private:
  struct Bucket {
    std::vector<size_t> params;   // indices into params_
    std::vector<int64_t> offset;  // into flat
    ::torch::Tensor flat;
    std::vector<char> ready;
    size_t pending = 0;
    c10::intrusive_ptr<c10d::Work> work;
    std::vector<::torch::Tensor> io;  // {flat}, kept alive while the work runs
  };
  void OnGradient(size_t param, const ::torch::Tensor& grad);
  void Launch(Bucket& b);

  ProcessGroup* group_;
  std::vector<::torch::Tensor> params_;
  std::vector<Bucket> buckets_;
  std::vector<std::pair<size_t, size_t>> where_;  // param → (bucket, slot)
  double wait_seconds_ = 0;
};

}  // namespace bimride::models::torch_backend
