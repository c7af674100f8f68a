#include "models/torch/data_parallel.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

#include "common/thread_name.h"
#include "models/rank_failure.h"

namespace bimride::models::torch_backend {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kHeartbeatInterval = std::chrono::milliseconds(200);

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

std::string HbKey(int r) { return "bimride/hb/" + std::to_string(r); }
std::string StepKey(int r) { return "bimride/step/" + std::to_string(r); }

std::mutex& CacheMutex() {
  static auto* mu = new std::mutex();
  return *mu;
}
std::map<std::string, std::shared_ptr<ProcessGroup>>& Cache() {
  static auto* cache = new std::map<std::string, std::shared_ptr<ProcessGroup>>();
  return *cache;
}

}  // namespace

StatusOr<std::shared_ptr<ProcessGroup>> ProcessGroup::Connect(const TabularDistributedOptions& o) {
  const std::string address = o.master_addr + ":" + std::to_string(o.master_port);
  const std::string key = address + "/" + std::to_string(o.rank) + "/" +
                          std::to_string(o.world_size);
  std::lock_guard<std::mutex> lock(CacheMutex());
  auto it = Cache().find(key);
  if (it != Cache().end()) return it->second;
  std::shared_ptr<ProcessGroup> g(new ProcessGroup());
  g->rank_ = o.rank;
  g->world_size_ = o.world_size;
  g->address_ = address;
  g->timeout_seconds_ = o.timeout_seconds;
  try {
    // Under torchrun the agent already hosts a TCPStore at MASTER_ADDR:MASTER_PORT and says so
    // with TORCHELASTIC_USE_AGENT_STORE=True: every rank is then a client and the group's keys
    // go under "/worker", as PyTorch's env:// rendezvous does. Otherwise rank 0 hosts it.
    const char* agent = std::getenv("TORCHELASTIC_USE_AGENT_STORE");
    g->agent_store_ = agent != nullptr && std::string(agent) == "True";
    c10d::TCPStoreOptions so;
    so.port = static_cast<uint16_t>(o.master_port);
    so.isServer = o.rank == 0 && !g->agent_store_;
    so.waitWorkers = false;
    so.timeout = Millis(o.timeout_seconds);
    g->store_ = c10::make_intrusive<c10d::TCPStore>(o.master_addr, so);
    so.isServer = false;
    g->hb_store_ = c10::make_intrusive<c10d::TCPStore>(o.master_addr, so);
    auto po = c10d::ProcessGroupGloo::Options::create(Millis(o.timeout_seconds));
    // The interface Gloo's pairs bind to: GLOO_SOCKET_IFNAME (as PyTorch), else loopback when
    // the master is on loopback, else the address this host's name resolves to.
    if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname) {
      po->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    } else if (IsLoopback(o.master_addr)) {
      po->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    } else {
      po->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    po->threads = 2;
    c10::intrusive_ptr<c10d::Store> pg_store = g->store_;
    if (g->agent_store_) pg_store = c10::make_intrusive<c10d::PrefixStore>("/worker", g->store_);
    g->pg_ = c10::make_intrusive<c10d::ProcessGroupGloo>(pg_store, o.rank, o.world_size, po);
  } catch (const std::exception& e) {
    return UnavailableError("distributed rendezvous at " + address + " as rank " +
                            std::to_string(o.rank) + " of " + std::to_string(o.world_size) +
                            " failed within " + std::to_string(o.timeout_seconds) + " s: " +
                            e.what());
  }
  g->heartbeat_ = std::thread([raw = g.get()] {
    NameThisThread("gloo-heartbeat");
    raw->Heartbeat();
  });
  Cache()[key] = g;
  return g;
}

ProcessGroup::~ProcessGroup() {
  stop_.store(true);
  if (heartbeat_.joinable()) heartbeat_.join();
}

void ProcessGroup::Heartbeat() {
  while (!stop_.load()) {
    try {
      std::lock_guard<std::mutex> lock(hb_mu_);
      hb_store_->add(HbKey(rank_), 1);
      const std::string s = std::to_string(step_.load());
      hb_store_->set(StepKey(rank_), std::vector<uint8_t>(s.begin(), s.end()));
    } catch (const std::exception&) {
      store_lost_.store(true);
      return;
    }
    std::this_thread::sleep_for(kHeartbeatInterval);
  }
}

void ProcessGroup::Broadcast(std::vector<::torch::Tensor>& tensors, int root) {
  if (tensors.empty()) return;
  c10d::BroadcastOptions bo;
  bo.rootRank = root;
  // Gloo takes one tensor per device: several are sent as one flat tensor.
  std::vector<::torch::Tensor> flat = {tensors.size() == 1 ? tensors[0] : [&] {
    std::vector<::torch::Tensor> parts;
    for (const ::torch::Tensor& t : tensors) parts.push_back(t.detach().reshape({-1}));
    return ::torch::cat(parts);
  }()};
  pg_->broadcast(flat, bo)->wait();
  if (tensors.size() == 1) return;
  ::torch::NoGradGuard no_grad;
  int64_t offset = 0;
  for (::torch::Tensor& t : tensors) {
    t.copy_(flat[0].narrow(0, offset, t.numel()).view(t.sizes()));
    offset += t.numel();
  }
}

void ProcessGroup::AllReduceSum(::torch::Tensor& t) {
  std::vector<::torch::Tensor> v = {t};
  pg_->allreduce(v)->wait();
}

std::string ProcessGroup::BroadcastBytes(const std::string& bytes_on_root) {
  std::vector<::torch::Tensor> n = {
      ::torch::tensor({static_cast<int64_t>(rank_ == 0 ? bytes_on_root.size() : 0)})};
  Broadcast(n);
  const int64_t size = n[0].item<int64_t>();
  if (size == 0) return std::string();
  ::torch::Tensor buf = ::torch::empty({size}, ::torch::kUInt8);
  if (rank_ == 0) std::memcpy(buf.data_ptr<uint8_t>(), bytes_on_root.data(), size);
  std::vector<::torch::Tensor> v = {buf};
  Broadcast(v);
  return std::string(reinterpret_cast<const char*>(buf.data_ptr<uint8_t>()), size);
}

std::string ProcessGroup::StoreGone(const std::string& head) const {
  return agent_store_ ? "the rendezvous store of torchrun's agent at " + address_ +
                            " is gone: the job is being stopped (" + head + ")"
                      : "rank 0 stopped: the rendezvous store it hosts at " + address_ +
                            " is gone (" + head + ")";
}

Status ProcessGroup::Failure(const std::string& what) {
  const std::string head = "rank " + std::to_string(rank_) + " of " +
                           std::to_string(world_size_) + ": " + what;
  std::vector<int64_t> before(world_size_, 0), after(world_size_, 0), steps(world_size_, -1);
  try {
    std::lock_guard<std::mutex> lock(hb_mu_);
    if (store_lost_.load()) throw std::runtime_error("store lost");
    for (int r = 0; r < world_size_; ++r) before[r] = hb_store_->add(HbKey(r), 0);
  } catch (const std::exception&) {
    return UnavailableError(StoreGone(head));
  }
  const double watch = 5 * std::chrono::duration<double>(kHeartbeatInterval).count();
  std::this_thread::sleep_for(5 * kHeartbeatInterval);
  try {
    std::lock_guard<std::mutex> lock(hb_mu_);
    for (int r = 0; r < world_size_; ++r) {
      after[r] = hb_store_->add(HbKey(r), 0);
      if (hb_store_->check({StepKey(r)})) {
        std::vector<uint8_t> s = hb_store_->get(StepKey(r));
        steps[r] = std::strtoll(std::string(s.begin(), s.end()).c_str(), nullptr, 10);
      }
    }
  } catch (const std::exception&) {
    return UnavailableError(StoreGone(head));
  }
  RankWatch w;
  w.self = rank_;
  w.beats_before = std::move(before);
  w.beats_after = std::move(after);
  w.steps = std::move(steps);
  w.watched_seconds = watch;
  w.timeout_seconds = timeout_seconds_;
  return NameFailedRank(w, head);
}

GradientReducer::GradientReducer(ProcessGroup* group, std::vector<::torch::Tensor> params,
                                 size_t bucket_bytes)
    : group_(group), params_(std::move(params)), where_(params_.size()) {
  for (size_t k = params_.size(); k-- > 0;) {
    const size_t bytes = static_cast<size_t>(params_[k].numel()) * sizeof(float);
    if (buckets_.empty() || buckets_.back().flat.defined()) buckets_.emplace_back();
    Bucket& b = buckets_.back();
    b.offset.push_back(b.params.empty() ? 0 : b.offset.back() + params_[b.params.back()].numel());
    where_[k] = {buckets_.size() - 1, b.params.size()};
    b.params.push_back(k);
    int64_t total = 0;
    for (size_t p : b.params) total += params_[p].numel();
    if (static_cast<size_t>(total) * sizeof(float) >= bucket_bytes || k == 0) {
      b.flat = ::torch::zeros({total}, ::torch::kFloat);  // closes the bucket
    }
    (void)bytes;
  }
  for (Bucket& b : buckets_) b.ready.assign(b.params.size(), 0);
  for (size_t k = 0; k < params_.size(); ++k) {
    params_[k].register_hook([this, k](const ::torch::Tensor& grad) { OnGradient(k, grad); });
  }
}

void GradientReducer::Prepare() {
  for (Bucket& b : buckets_) {
    std::fill(b.ready.begin(), b.ready.end(), 0);
    b.pending = b.params.size();
    b.work.reset();
  }
}

void GradientReducer::OnGradient(size_t param, const ::torch::Tensor& grad) {
  auto [bi, slot] = where_[param];
  Bucket& b = buckets_[bi];
  if (b.ready[slot] || b.work) return;  // a second use of the same parameter: not in our nets
  b.flat.narrow(0, b.offset[slot], params_[param].numel()).copy_(grad.reshape({-1}));
  b.ready[slot] = 1;
  if (--b.pending == 0) Launch(b);
}

void GradientReducer::Launch(Bucket& b) {
  b.io = {b.flat};
  b.work = group_->gloo().allreduce(b.io);
}

void GradientReducer::Finish() {
  // Buckets are launched in the same order on every rank (backward's order is deterministic);
  // one whose parameter got no gradient goes now, in bucket order, with zeros for it.
  for (Bucket& b : buckets_) {
    if (b.work) continue;
    for (size_t s = 0; s < b.params.size(); ++s) {
      if (!b.ready[s]) b.flat.narrow(0, b.offset[s], params_[b.params[s]].numel()).zero_();
    }
    Launch(b);
  }
  const auto start = Clock::now();
  for (Bucket& b : buckets_) b.work->wait();
  wait_seconds_ += std::chrono::duration<double>(Clock::now() - start).count();
  ::torch::NoGradGuard no_grad;
  for (Bucket& b : buckets_) {
    for (size_t s = 0; s < b.params.size(); ++s) {
      ::torch::Tensor& p = params_[b.params[s]];
      ::torch::Tensor summed = b.flat.narrow(0, b.offset[s], p.numel()).view(p.sizes());
      if (p.grad().defined()) {
        p.mutable_grad().copy_(summed);
      } else {
        p.mutable_grad() = summed.clone();
      }
    }
    b.work.reset();
  }
}

}  // namespace bimride::models::torch_backend
