// LatencyWindow: latency quantiles per model and version over the last few seconds of traffic,
// not since the server started — so a page watching a canary sees a slowdown as it happens,
// instead of diluted in hours of history. It keeps a short ring of snapshots of each version's
// total-latency histogram (ServingMetrics::Snapshot, at most one a second); the window's
// quantiles are those of the difference between the newest counts and the newest snapshot at
// least `window` older (the oldest kept, while the console is younger than the window).
//
// Costs the predict path nothing: it reads the counters the server keeps anyway, when sampled.
// Thread safety: none; ConsoleData guards it.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "serving/serving_metrics.h"

namespace bimride::console {

class LatencyWindow {
 public:
  using Clock = std::chrono::steady_clock;
  explicit LatencyWindow(Clock::duration window) : window_(window) {}

  // Keeps `versions`' counts as of `at` (skipped when the newest kept is under a second old);
  // drops snapshots no longer needed as a baseline.
  void Add(Clock::time_point at, const std::vector<serving::VersionTrafficSnapshot>& versions);

  struct Quantiles {
    double p50 = -1, p90 = -1, p99 = -1;  // seconds; -1: no request in the window
    uint64_t requests = 0;               // latencies observed in the window
  };
  // The quantiles of what `now` (a snapshot taken at `at`) observed since the baseline; the
  // seconds between them in *seconds (0 with no baseline yet: then since start).
  Quantiles Of(Clock::time_point at, const serving::VersionTrafficSnapshot& now,
               double* seconds) const;

  Clock::duration window() const { return window_; }

 private:
  struct Sample {
    Clock::time_point at;
    std::map<std::pair<std::string, int64_t>, std::vector<uint64_t>> buckets;
  };
  const Sample* Baseline(Clock::time_point at) const;

  Clock::duration window_;
  std::deque<Sample> samples_;  // oldest first
};

}  // namespace bimride::console
