// ServingMetrics: the model server's Prometheus metrics, per model and version: requests by
// status code, latency histograms (queue, compute, total, server overhead = total − compute),
// batch sizes, shadow-comparison differences, load attempts; rendered as Prometheus text.
//
// Thread safety: every method may be called from any thread. Recording is lock-free (atomics);
// `For()` takes a mutex only the first time a (model, version) pair is seen. Pointers returned
// by `For()` stay valid for the life of the ServingMetrics object.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace bimride::serving {

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double value);
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  // Value below which `q` of the observations fall, estimated from bucket bounds (upper bound of
  // the bucket holding the q-quantile); 0 when empty. For tests and the benchmark report.
  double Quantile(double q) const;
  // Observations per bucket (bounds().size() + 1, the last one +Inf), for deltas over time.
  std::vector<uint64_t> BucketCounts() const;
  const std::vector<double>& bounds() const { return bounds_; }
  // Appends `<name>_bucket{<labels>,le="…"} n` lines plus _sum and _count.
  void AppendPrometheus(std::string* out, const std::string& name,
                        const std::string& labels) const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1 (+Inf)
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// The q-quantile of bucketed observations (`counts` per bucket of `bounds`, the last +Inf, as
// Histogram::BucketCounts gives them, or differences of two such), interpolated linearly inside
// its bucket (the first bucket from 0, the +Inf bucket reported at its lower bound); -1 when
// empty. For quantiles over an interval: the rollout's checks, the console's latency window.
double QuantileOfBuckets(const std::vector<double>& bounds, const std::vector<uint64_t>& counts,
                         double q);

constexpr int kNumStatusCodes = 14;  // StatusCode values 0..13

struct VersionMetrics {
  VersionMetrics();
  void CountRequest(StatusCode code) {
    requests[static_cast<int>(code)].fetch_add(1, std::memory_order_relaxed);
  }
  // Mirrored (shadow) calls, apart from the version's real traffic in `requests`.
  void CountShadowRequest(StatusCode code) {
    shadow_requests[static_cast<int>(code)].fetch_add(1, std::memory_order_relaxed);
  }
  // Preview requests (model_input.h, IsPreview): answered, apart from the version's traffic.
  void CountPreviewRequest(StatusCode code) {
    preview_requests[static_cast<int>(code)].fetch_add(1, std::memory_order_relaxed);
  }
  std::atomic<uint64_t> requests[kNumStatusCodes] = {};
  std::atomic<uint64_t> shadow_requests[kNumStatusCodes] = {};
  std::atomic<uint64_t> preview_requests[kNumStatusCodes] = {};
  Histogram queue_seconds;
  Histogram compute_seconds;
  Histogram total_seconds;
  Histogram overhead_seconds;
  Histogram batch_rows;
  Histogram shadow_abs_diff;  // recorded on the shadow version
  Histogram shadow_rel_diff;
  std::atomic<uint64_t> shadow_dropped{0};
  std::atomic<uint64_t> load_failures{0};
  std::atomic<uint64_t> loads{0};
};

// One version's counters at a moment (ServingMetrics::Snapshot), for the console's live view.
struct VersionTrafficSnapshot {
  std::string model;
  int64_t version = 0;
  uint64_t ok = 0;      // requests answered OK
  uint64_t errors = 0;  // requests answered with any other code
  uint64_t shadow = 0;  // mirrored calls (any code)
  // Total latency since start, seconds, from the histogram's bucket bounds (Histogram::Quantile).
  double p50 = 0, p90 = 0, p99 = 0;
  // The total-latency histogram's counts per bucket (Histogram::BucketCounts) and its bounds,
  // for quantiles over an interval (differences of two snapshots).
  std::vector<uint64_t> latency_buckets;
  std::vector<double> latency_bounds;
};

class ServingMetrics {
 public:
  // Version 0 collects requests that never reached a version (unknown version, bad input).
  VersionMetrics* For(const std::string& model, int64_t version);
  // Requests the HTTP layer answered, by API ("tfs", "kserve", "other") and HTTP status.
  void CountHttp(const std::string& api, int http_status);
  // Calls the gRPC layer answered, by method ("ModelInfer", "Predict", …) and gRPC code name.
  void CountGrpc(const std::string& method, const std::string& code);

  // Prometheus text exposition; `loaded` lists the (model, version) pairs now AVAILABLE.
  std::string RenderPrometheus(const std::vector<std::pair<std::string, int64_t>>& loaded) const;
  // Every (model, version) seen so far, by model then version; reads the atomics (no request
  // waits for it).
  std::vector<VersionTrafficSnapshot> Snapshot() const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int64_t>, std::unique_ptr<VersionMetrics>> versions_;
  std::map<std::pair<std::string, int>, uint64_t> http_;
  std::map<std::pair<std::string, std::string>, uint64_t> grpc_;
};

}  // namespace bimride::serving
