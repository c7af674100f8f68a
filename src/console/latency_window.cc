#include "console/latency_window.h"

namespace bimride::console {

void LatencyWindow::Add(Clock::time_point at,
                        const std::vector<serving::VersionTrafficSnapshot>& versions) {
  if (!samples_.empty() && at - samples_.back().at < std::chrono::seconds(1)) return;
  Sample s;
  s.at = at;
  for (const auto& v : versions) s.buckets[{v.model, v.version}] = v.latency_buckets;
  samples_.push_back(std::move(s));
  // The front stays the newest sample at least a window old: the next baseline.
  while (samples_.size() >= 2 && at - samples_[1].at >= window_) samples_.pop_front();
}

const LatencyWindow::Sample* LatencyWindow::Baseline(Clock::time_point at) const {
  const Sample* base = nullptr;
  for (const Sample& s : samples_) {  // the newest at least a window old
    if (at - s.at < window_) break;
    base = &s;
  }
  // Younger than the window: since the oldest kept.
  if (base == nullptr && !samples_.empty() && samples_.front().at < at) base = &samples_.front();
  return base;
}

LatencyWindow::Quantiles LatencyWindow::Of(Clock::time_point at,
                                           const serving::VersionTrafficSnapshot& now,
                                           double* seconds) const {
  std::vector<uint64_t> delta = now.latency_buckets;
  *seconds = 0;
  if (const Sample* base = Baseline(at)) {
    *seconds = std::chrono::duration<double>(at - base->at).count();
    auto it = base->buckets.find({now.model, now.version});
    if (it != base->buckets.end() && it->second.size() == delta.size()) {
      // Counters only grow; a smaller one (never expected) counts as none in the window.
      for (size_t i = 0; i < delta.size(); ++i) {
        delta[i] = delta[i] >= it->second[i] ? delta[i] - it->second[i] : 0;
      }
    }
  }
  Quantiles q;
  for (uint64_t c : delta) q.requests += c;
  if (q.requests == 0 || now.latency_bounds.empty()) return q;
  q.p50 = serving::QuantileOfBuckets(now.latency_bounds, delta, 0.5);
  q.p90 = serving::QuantileOfBuckets(now.latency_bounds, delta, 0.9);
  q.p99 = serving::QuantileOfBuckets(now.latency_bounds, delta, 0.99);
  return q;
}

}  // namespace bimride::console
