#include "serving/shadow_queue.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "common/logging.h"
#include "common/thread_name.h"

namespace bimride::serving {

ShadowQueue::ShadowQueue(ShadowQueueOptions options) : options_(options) {}

ShadowQueue::~ShadowQueue() { Stop(); }

void ShadowQueue::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!workers_.empty() || stopping_) return;
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    workers_.emplace_back([this] {
      NameThisThread("shadow");
      Run();
    });
  }
}

void ShadowQueue::Stop() {
  std::vector<std::thread> workers;
  std::deque<ShadowMirror> never_run;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    workers.swap(workers_);
    if (workers.empty()) {  // never started: nobody will run what is queued
      dropped_ += queue_.size();
      never_run.swap(queue_);
    }
  }
  for (const ShadowMirror& m : never_run) {
    m.shadow->metrics()->shadow_dropped.fetch_add(1, std::memory_order_relaxed);
  }
  cv_.notify_all();
  for (std::thread& t : workers) t.join();
}

bool ShadowQueue::Enqueue(ShadowMirror mirror) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_ && static_cast<int64_t>(queue_.size()) < options_.max_queue_size) {
      queue_.push_back(std::move(mirror));
      cv_.notify_one();
      return true;
    }
    ++dropped_;
  }
  mirror.shadow->metrics()->shadow_dropped.fetch_add(1, std::memory_order_relaxed);
  return false;
}

void ShadowQueue::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return queue_.empty() && busy_ == 0; });
}

int64_t ShadowQueue::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int64_t>(queue_.size());
}

uint64_t ShadowQueue::completed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return completed_;
}

uint64_t ShadowQueue::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

void ShadowQueue::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping and drained
    ShadowMirror mirror = std::move(queue_.front());
    queue_.pop_front();
    ++busy_;
    lock.unlock();
    RunMirror(mirror);
    mirror.shadow.reset();  // may be the last reference to an unloaded version: fine, own thread
    lock.lock();
    --busy_;
    ++completed_;
    cv_.notify_all();
  }
}

void ShadowQueue::RunMirror(ShadowMirror& mirror) {
  const Servable& shadow = *mirror.shadow;
  const std::string& model_name = shadow.spec().model;
  const models::Model& model = shadow.model();
  VersionMetrics* vm = shadow.metrics();
  auto fail = [&](StatusCode code, const std::string& why) {
    vm->CountShadowRequest(code);
    BIMRIDE_LOG(WARN) << "shadow model " << model_name << " version " << shadow.spec().version
                      << " vs " << mirror.primary_version << ": " << why;
  };
  const auto start = std::chrono::steady_clock::now();
  monitoring::PredictionBatch log;
  const bool logged = options_.prediction_log != nullptr && !mirror.request_id.empty();
  if (logged) log.raw = RawRowsAsJson(mirror.input.raw);  // before ComputeFeatures consumes it
  // The primary accepted these rows already; the shadow's own limit is its width and features.
  StatusOr<std::vector<float>> features =
      ComputeFeatures(shadow, mirror.input, std::numeric_limits<int64_t>::max());
  if (!features.ok()) return fail(features.status().code(), features.status().message());
  if (static_cast<int64_t>(features->size()) != mirror.rows * model.num_features()) {
    return fail(StatusCode::kInternal, "features of " + std::to_string(features->size()) +
                                           " values for " + std::to_string(mirror.rows) +
                                           " rows of width " +
                                           std::to_string(model.num_features()));
  }
  std::vector<float> out(static_cast<size_t>(mirror.rows) * model.num_outputs());
  Status st = model.Predict(features->data(), mirror.rows, out.data());
  if (!st.ok()) return fail(StatusCode::kInternal, st.message());
  if (out.size() != mirror.primary_outputs.size()) {
    return fail(StatusCode::kInvalidArgument, "output width differs");
  }
  double max_abs = 0, max_rel = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    double a = std::fabs(static_cast<double>(out[i]) - mirror.primary_outputs[i]);
    double rel = a / std::max(1e-12, std::fabs(static_cast<double>(mirror.primary_outputs[i])));
    if (!(a <= max_abs)) max_abs = a;  // NaN propagates as the max
    if (!(rel <= max_rel)) max_rel = rel;
  }
  vm->CountShadowRequest(StatusCode::kOk);
  if (logged) {
    log.request_id = std::move(mirror.request_id);
    log.time_us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    log.model = model_name;
    log.version = shadow.spec().version;
    log.route = "shadow";
    log.feature_names = LogFeatureNames(mirror.shadow);
    log.output_names = LogOutputNames(mirror.shadow);
    log.rows = mirror.rows;
    log.features = std::move(features).value();
    log.outputs = out;
    log.latency_us =
        std::chrono::duration<float, std::micro>(std::chrono::steady_clock::now() - start).count();
    options_.prediction_log->Log(std::move(log));
  }
  vm->shadow_abs_diff.Observe(max_abs);
  vm->shadow_rel_diff.Observe(max_rel);
  BIMRIDE_LOG(DEBUG) << "shadow model " << model_name << " version " << shadow.spec().version
                     << " vs version " << mirror.primary_version << ": max abs diff " << max_abs
                     << ", max rel diff " << max_rel;
}

}  // namespace bimride::serving
