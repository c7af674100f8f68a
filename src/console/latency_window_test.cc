#include "console/latency_window.h"

#include <gtest/gtest.h>

namespace bimride::console {
namespace {

using Clock = LatencyWindow::Clock;

serving::VersionTrafficSnapshot SnapshotOf(const serving::VersionMetrics& m, int64_t version = 1) {
  serving::VersionTrafficSnapshot v;
  v.model = "eta";
  v.version = version;
  v.latency_buckets = m.total_seconds.BucketCounts();
  v.latency_bounds = m.total_seconds.bounds();
  return v;
}

// 20 s of fast answers (1 ms, 1000/s), then 10 s of slow ones (200 ms, 10/s): since start the
// slow ones are 0.5% of all, below even the p99; the last 10 s are all slow.
TEST(LatencyWindowTest, ASlowPhaseShowsInTheWindowWhereTheCumulativeQuantilesHideIt) {
  serving::VersionMetrics m;
  LatencyWindow window(std::chrono::seconds(10));
  const Clock::time_point t0 = Clock::now();
  double seconds = -1;
  for (int s = 0; s <= 30; ++s) {
    const Clock::time_point at = t0 + std::chrono::seconds(s);
    if (s > 0) {
      for (int i = 0; i < (s <= 20 ? 1000 : 10); ++i) m.total_seconds.Observe(s <= 20 ? 0.001 : 0.2);
    }
    const serving::VersionTrafficSnapshot now = SnapshotOf(m);
    window.Add(at, {now});
    if (s == 20) {
      LatencyWindow::Quantiles fast = window.Of(at, now, &seconds);
      EXPECT_DOUBLE_EQ(seconds, 10);
      EXPECT_EQ(fast.requests, 10000u);
      EXPECT_LT(fast.p99, 0.005) << "the fast phase";
    }
  }
  const serving::VersionTrafficSnapshot now = SnapshotOf(m);
  LatencyWindow::Quantiles q = window.Of(t0 + std::chrono::seconds(30), now, &seconds);
  EXPECT_DOUBLE_EQ(seconds, 10);
  EXPECT_EQ(q.requests, 100u);
  EXPECT_GT(q.p50, 0.1) << "the window's median is the slow phase's latency";
  EXPECT_GT(q.p99, 0.1);
  // Since start, the same histogram says everything is fast.
  EXPECT_LT(serving::QuantileOfBuckets(now.latency_bounds, now.latency_buckets, 0.99), 0.005);
  EXPECT_LT(m.total_seconds.Quantile(0.99), 0.005);
}

TEST(LatencyWindowTest, YoungerThanTheWindowItCountsSinceTheOldestSampleAndSaysSo) {
  serving::VersionMetrics m;
  LatencyWindow window(std::chrono::seconds(60));
  const Clock::time_point t0 = Clock::now();
  m.total_seconds.Observe(0.001);
  double seconds = -1;
  window.Add(t0, {SnapshotOf(m)});
  // No baseline before the first sample: everything so far, 0 seconds.
  LatencyWindow::Quantiles first = window.Of(t0, SnapshotOf(m), &seconds);
  EXPECT_EQ(seconds, 0);
  EXPECT_EQ(first.requests, 1u);
  for (int i = 0; i < 4; ++i) m.total_seconds.Observe(0.05);
  const Clock::time_point t5 = t0 + std::chrono::seconds(5);
  window.Add(t5, {SnapshotOf(m)});
  LatencyWindow::Quantiles q = window.Of(t5, SnapshotOf(m), &seconds);
  EXPECT_DOUBLE_EQ(seconds, 5);
  EXPECT_EQ(q.requests, 4u);
  EXPECT_GT(q.p50, 0.01);
}

TEST(LatencyWindowTest, AQuietWindowHasNoQuantilesAndANewVersionCountsFromZero) {
  serving::VersionMetrics old_version, new_version;
  LatencyWindow window(std::chrono::seconds(10));
  const Clock::time_point t0 = Clock::now();
  for (int i = 0; i < 100; ++i) old_version.total_seconds.Observe(0.002);
  window.Add(t0, {SnapshotOf(old_version, 1)});
  // Version 2 appears after the baseline; version 1 receives nothing more.
  for (int i = 0; i < 10; ++i) new_version.total_seconds.Observe(0.03);
  const Clock::time_point t10 = t0 + std::chrono::seconds(10);
  window.Add(t10, {SnapshotOf(old_version, 1), SnapshotOf(new_version, 2)});
  double seconds = -1;
  LatencyWindow::Quantiles quiet = window.Of(t10, SnapshotOf(old_version, 1), &seconds);
  EXPECT_EQ(quiet.requests, 0u);
  EXPECT_EQ(quiet.p50, -1);
  EXPECT_EQ(quiet.p99, -1);
  LatencyWindow::Quantiles fresh = window.Of(t10, SnapshotOf(new_version, 2), &seconds);
  EXPECT_EQ(fresh.requests, 10u);
  EXPECT_GT(fresh.p50, 0.01);
}

}  // namespace
}  // namespace bimride::console
