#include "serving/serving_metrics.h"

#include <charconv>
#include <cmath>

namespace bimride::serving {
namespace {

std::vector<double> LatencyBounds() {
  // 5 µs … 5 s, roughly ×2 steps: fine resolution where batch-1 latencies live.
  return {5e-6,   10e-6,  20e-6,  35e-6, 50e-6, 75e-6, 100e-6, 150e-6, 250e-6, 500e-6, 1e-3,
          2e-3,   5e-3,   10e-3,  25e-3, 50e-3, 0.1,   0.25,   0.5,    1.0,    2.5,    5.0};
}
std::vector<double> BatchBounds() { return {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}; }
std::vector<double> DiffBounds() { return {1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1, 10, 100}; }

std::string Num(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}

std::string EscapeLabel(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

double QuantileOfBuckets(const std::vector<double>& bounds, const std::vector<uint64_t>& counts,
                         double q) {
  uint64_t total = 0;
  for (uint64_t c : counts) total += c;
  if (total == 0) return -1;
  const double target = q * static_cast<double>(total);
  double seen = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] == 0) continue;
    if (seen + static_cast<double>(counts[i]) >= target) {
      if (i >= bounds.size()) return bounds.back();
      const double lo = i == 0 ? 0.0 : bounds[i - 1];
      return lo + (bounds[i] - lo) * (target - seen) / static_cast<double>(counts[i]);
    }
    seen += static_cast<double>(counts[i]);
  }
  return bounds.back();
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)),
      buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double value) {
  if (std::isnan(value)) return;
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

double Histogram::Quantile(double q) const {
  uint64_t total = count();
  if (total == 0) return 0;
  uint64_t target = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total)));
  uint64_t seen = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    seen += buckets_[i].load(std::memory_order_relaxed);
    if (seen >= target) return i < bounds_.size() ? bounds_[i] : INFINITY;
  }
  return INFINITY;
}

std::vector<uint64_t> Histogram::BucketCounts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  for (size_t i = 0; i < out.size(); ++i) out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

void Histogram::AppendPrometheus(std::string* out, const std::string& name,
                                 const std::string& labels) const {
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    *out += name + "_bucket{" + labels + ",le=\"" +
            (i < bounds_.size() ? Num(bounds_[i]) : std::string("+Inf")) + "\"} " +
            std::to_string(cumulative) + "\n";
  }
  *out += name + "_sum{" + labels + "} " + Num(sum_.load(std::memory_order_relaxed)) + "\n";
  *out += name + "_count{" + labels + "} " + std::to_string(cumulative) + "\n";
}

VersionMetrics::VersionMetrics()
    : queue_seconds(LatencyBounds()),
      compute_seconds(LatencyBounds()),
      total_seconds(LatencyBounds()),
      overhead_seconds(LatencyBounds()),
      batch_rows(BatchBounds()),
      shadow_abs_diff(DiffBounds()),
      shadow_rel_diff(DiffBounds()) {}

VersionMetrics* ServingMetrics::For(const std::string& model, int64_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = versions_[{model, version}];
  if (!slot) slot = std::make_unique<VersionMetrics>();
  return slot.get();
}

void ServingMetrics::CountHttp(const std::string& api, int http_status) {
  std::lock_guard<std::mutex> lock(mu_);
  ++http_[{api, http_status}];
}

void ServingMetrics::CountGrpc(const std::string& method, const std::string& code) {
  std::lock_guard<std::mutex> lock(mu_);
  ++grpc_[{method, code}];
}

std::vector<VersionTrafficSnapshot> ServingMetrics::Snapshot() const {
  // The lock only to list the versions (their VersionMetrics never move or go): the counters are
  // read after it, so a request counting its HTTP status (CountHttp) never waits for a snapshot.
  std::vector<std::pair<const std::pair<std::string, int64_t>*, const VersionMetrics*>> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    all.reserve(versions_.size());
    for (const auto& [key, m] : versions_) all.emplace_back(&key, m.get());
  }
  std::vector<VersionTrafficSnapshot> out;
  out.reserve(all.size());
  for (const auto& [key, m] : all) {
    VersionTrafficSnapshot v;
    v.model = key->first;
    v.version = key->second;
    for (int c = 0; c < kNumStatusCodes; ++c) {
      const uint64_t n = m->requests[c].load(std::memory_order_relaxed);
      (c == static_cast<int>(StatusCode::kOk) ? v.ok : v.errors) += n;
      v.shadow += m->shadow_requests[c].load(std::memory_order_relaxed);
    }
    v.p50 = m->total_seconds.Quantile(0.5);
    v.p90 = m->total_seconds.Quantile(0.9);
    v.p99 = m->total_seconds.Quantile(0.99);
    v.latency_buckets = m->total_seconds.BucketCounts();
    v.latency_bounds = m->total_seconds.bounds();
    out.push_back(std::move(v));
  }
  return out;
}

std::string ServingMetrics::RenderPrometheus(
    const std::vector<std::pair<std::string, int64_t>>& loaded) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  out += "# HELP bimride_http_requests_total HTTP requests answered, by API and HTTP status.\n";
  out += "# TYPE bimride_http_requests_total counter\n";
  for (const auto& [key, n] : http_) {
    out += "bimride_http_requests_total{api=\"" + key.first + "\",code=\"" +
           std::to_string(key.second) + "\"} " + std::to_string(n) + "\n";
  }
  if (!grpc_.empty()) {
    out += "# HELP bimride_grpc_requests_total gRPC calls answered, by method and gRPC code.\n";
    out += "# TYPE bimride_grpc_requests_total counter\n";
    for (const auto& [key, n] : grpc_) {
      out += "bimride_grpc_requests_total{method=\"" + key.first + "\",code=\"" + key.second +
             "\"} " + std::to_string(n) + "\n";
    }
  }
  out += "# HELP bimride_model_version_loaded 1 for each model version that is AVAILABLE.\n";
  out += "# TYPE bimride_model_version_loaded gauge\n";
  for (const auto& [model, version] : loaded) {
    out += "bimride_model_version_loaded{model=\"" + EscapeLabel(model) + "\",version=\"" +
           std::to_string(version) + "\"} 1\n";
  }
  auto labels = [](const std::pair<std::string, int64_t>& key) {
    return "model=\"" + EscapeLabel(key.first) + "\",version=\"" + std::to_string(key.second) +
           "\"";
  };
  using Counts = std::atomic<uint64_t>[kNumStatusCodes];
  auto append_by_code = [&](const char* name, const char* help, Counts VersionMetrics::*counts) {
    out += std::string("# HELP ") + name + " " + help + "\n";
    out += std::string("# TYPE ") + name + " counter\n";
    for (const auto& [key, m] : versions_) {
      for (int c = 0; c < kNumStatusCodes; ++c) {
        uint64_t n = ((*m).*counts)[c].load(std::memory_order_relaxed);
        if (n == 0) continue;
        out += std::string(name) + "{" + labels(key) + ",code=\"" +
               std::string(StatusCodeName(static_cast<StatusCode>(c))) + "\"} " +
               std::to_string(n) + "\n";
      }
    }
  };
  append_by_code("bimride_predict_requests_total", "Prediction requests by model, version, status.",
                 &VersionMetrics::requests);
  append_by_code("bimride_shadow_requests_total",
                 "Mirrored calls run on a shadow version (not traffic), by status.",
                 &VersionMetrics::shadow_requests);
  append_by_code("bimride_preview_requests_total",
                 "Preview requests (raw field preview = 1 on every row): answered, not logged, "
                 "not seen by the live monitor, not traffic; by status.",
                 &VersionMetrics::preview_requests);
  out += "# TYPE bimride_model_loads_total counter\n";
  out += "# TYPE bimride_model_load_failures_total counter\n";
  for (const auto& [key, m] : versions_) {
    if (key.second == 0) continue;
    out += "bimride_model_loads_total{" + labels(key) + "} " + std::to_string(m->loads.load()) +
           "\n";
    out += "bimride_model_load_failures_total{" + labels(key) + "} " +
           std::to_string(m->load_failures.load()) + "\n";
  }
  struct Family {
    const char* name;
    const char* help;
    Histogram VersionMetrics::*hist;
  };
  const Family families[] = {
      {"bimride_predict_queue_seconds", "Time a request waited for its batch.",
       &VersionMetrics::queue_seconds},
      {"bimride_predict_compute_seconds", "Model compute time of the batch a request ran in.",
       &VersionMetrics::compute_seconds},
      {"bimride_predict_total_seconds", "Request handling time from parsed request to response.",
       &VersionMetrics::total_seconds},
      {"bimride_predict_overhead_seconds", "Server overhead: total minus compute.",
       &VersionMetrics::overhead_seconds},
      {"bimride_batch_rows", "Rows per executed batch.", &VersionMetrics::batch_rows},
      {"bimride_shadow_abs_diff", "Max |shadow - primary| per mirrored request.",
       &VersionMetrics::shadow_abs_diff},
      {"bimride_shadow_rel_diff", "Max relative difference per mirrored request.",
       &VersionMetrics::shadow_rel_diff},
  };
  for (const Family& f : families) {
    out += std::string("# HELP ") + f.name + " " + f.help + "\n";
    out += std::string("# TYPE ") + f.name + " histogram\n";
    for (const auto& [key, m] : versions_) {
      const Histogram& h = (*m).*(f.hist);
      if (h.count() == 0) continue;
      h.AppendPrometheus(&out, f.name, labels(key));
    }
  }
  out += "# TYPE bimride_shadow_dropped_total counter\n";
  for (const auto& [key, m] : versions_) {
    if (uint64_t n = m->shadow_dropped.load(); n > 0) {
      out += "bimride_shadow_dropped_total{" + labels(key) + "} " + std::to_string(n) + "\n";
    }
  }
  return out;
}

}  // namespace bimride::serving
