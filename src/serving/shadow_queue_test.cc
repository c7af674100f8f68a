#include "serving/shadow_queue.h"

#include <gtest/gtest.h>

#include <chrono>

#include "serving/testing/test_models.h"

namespace bimride::serving {
namespace {

class ShadowQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::RegisterTestBackendAndFeatures();
    repo_ = testing::MakeTempDir("shadow_queue_test");
  }
  // A shadow version answering `bias` for every row of zeros (y = x0 + x1 + x2 + bias).
  std::shared_ptr<const Servable> Shadow(float bias, int64_t predict_delay_us = 0) {
    testing::TestVersionOptions o;
    o.bias = {bias};
    o.predict_delay_us = predict_delay_us;
    EXPECT_TRUE(testing::WriteTestVersion(repo_, "eta", ++versions_, o).ok());
    auto s = testing::LoadTestServable(repo_, "eta", versions_, {}, &metrics_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : nullptr;
  }
  static ShadowMirror Mirror(std::shared_ptr<const Servable> shadow, std::vector<float> primary) {
    const int64_t rows = static_cast<int64_t>(primary.size());
    ModelInput input;
    input.rows = rows;
    input.width = 3;
    input.values.assign(rows * 3, 0.0f);
    return {std::move(shadow), 1, rows, std::move(input), std::move(primary)};
  }

  std::string repo_;
  int64_t versions_ = 0;
  VersionMetrics metrics_;
};

TEST_F(ShadowQueueTest, ComparesShadowOutputsWithThePrimarysOnItsOwnThread) {
  auto shadow = Shadow(/*bias=*/1);
  ShadowQueue queue;
  queue.Start();
  ASSERT_TRUE(queue.Enqueue(Mirror(shadow, {2, 1})));  // shadow says 1 and 1
  queue.Flush();
  EXPECT_EQ(queue.completed(), 1u);
  EXPECT_EQ(queue.queued(), 0);
  EXPECT_EQ(metrics_.shadow_requests[static_cast<int>(StatusCode::kOk)].load(), 1u);
  EXPECT_EQ(metrics_.requests[static_cast<int>(StatusCode::kOk)].load(), 0u) << "not traffic";
  ASSERT_EQ(metrics_.shadow_abs_diff.count(), 1u);
  EXPECT_EQ(metrics_.shadow_abs_diff.Quantile(1.0), 1.0) << "max |1 - 2| = 1";
  ASSERT_EQ(metrics_.shadow_rel_diff.count(), 1u);
  EXPECT_EQ(metrics_.shadow_rel_diff.Quantile(1.0), 1.0) << "max |1 - 2| / 2 = 0.5: le=1";
  EXPECT_GT(metrics_.shadow_rel_diff.Quantile(1.0), 0.1);
}

TEST_F(ShadowQueueTest, OutputWidthDifferingFromThePrimaryIsCountedNotCompared) {
  auto shadow = Shadow(1);
  ShadowQueue queue;
  queue.Start();
  ShadowMirror m = Mirror(shadow, {2});
  m.primary_outputs = {2, 2};  // as if the primary had two outputs
  ASSERT_TRUE(queue.Enqueue(std::move(m)));
  queue.Flush();
  EXPECT_EQ(metrics_.shadow_requests[static_cast<int>(StatusCode::kInvalidArgument)].load(), 1u);
  EXPECT_EQ(metrics_.shadow_abs_diff.count(), 0u);
}

TEST_F(ShadowQueueTest, RowsOfAnotherWidthAreRefusedByTheShadowNotReadPastTheirEnd) {
  auto shadow = Shadow(1);  // 3 features
  ShadowQueue queue;
  queue.Start();
  ShadowMirror m = Mirror(shadow, {2, 2});
  m.input.width = 2;  // 2 rows of 2 values: 4 floats where 6 would be read
  m.input.values.resize(4);
  ASSERT_TRUE(queue.Enqueue(std::move(m)));
  queue.Flush();
  EXPECT_EQ(metrics_.shadow_requests[static_cast<int>(StatusCode::kInvalidArgument)].load(), 1u);
  EXPECT_EQ(metrics_.shadow_abs_diff.count(), 0u);
}

TEST_F(ShadowQueueTest, FullQueueDropsAndCountsInsteadOfGrowing) {
  auto shadow = Shadow(1);
  ShadowQueue queue({.max_queue_size = 2, .workers = 1});  // not started: nothing drains
  EXPECT_TRUE(queue.Enqueue(Mirror(shadow, {1})));
  EXPECT_TRUE(queue.Enqueue(Mirror(shadow, {1})));
  EXPECT_FALSE(queue.Enqueue(Mirror(shadow, {1})));
  EXPECT_FALSE(queue.Enqueue(Mirror(shadow, {1})));
  EXPECT_EQ(queue.queued(), 2);
  EXPECT_EQ(queue.dropped(), 2u);
  EXPECT_EQ(metrics_.shadow_dropped.load(), 2u);
  queue.Start();
  queue.Flush();
  EXPECT_EQ(queue.completed(), 2u);
}

TEST_F(ShadowQueueTest, SlowShadowNeverBlocksTheCaller) {
  auto slow = Shadow(1, /*predict_delay_us=*/50000);
  ShadowQueue queue({.max_queue_size = 4, .workers = 1});
  queue.Start();
  const auto start = std::chrono::steady_clock::now();
  int accepted = 0;
  for (int i = 0; i < 100; ++i) accepted += queue.Enqueue(Mirror(slow, {1}));
  const auto spent = std::chrono::steady_clock::now() - start;
  // Waiting for room would take ~96 × 50 ms; the bound leaves room for a loaded machine.
  EXPECT_LT(spent, std::chrono::milliseconds(1000)) << "Enqueue waited for a 50 ms shadow";
  EXPECT_LE(accepted, 5 + spent / std::chrono::milliseconds(50))
      << "4 waiting, plus what the worker took meanwhile";
  EXPECT_EQ(queue.dropped(), static_cast<uint64_t>(100 - accepted));
  EXPECT_EQ(metrics_.shadow_dropped.load(), static_cast<uint64_t>(100 - accepted));
}

TEST_F(ShadowQueueTest, StopRunsWhatIsQueuedThenRefusesMirrors) {
  auto shadow = Shadow(1, /*predict_delay_us=*/2000);
  ShadowQueue queue({.max_queue_size = 16, .workers = 2});
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(queue.Enqueue(Mirror(shadow, {1})));
  queue.Start();
  queue.Stop();
  EXPECT_EQ(queue.completed(), 6u);
  EXPECT_EQ(queue.queued(), 0);
  EXPECT_FALSE(queue.Enqueue(Mirror(shadow, {1})));
  EXPECT_EQ(queue.dropped(), 1u);
  queue.Stop();   // idempotent
  queue.Flush();  // nothing left: returns at once
}

TEST_F(ShadowQueueTest, StopBeforeStartDropsWhatIsQueued) {
  auto shadow = Shadow(1);
  std::weak_ptr<const Servable> weak = shadow;
  ShadowQueue queue;
  ASSERT_TRUE(queue.Enqueue(Mirror(std::move(shadow), {1})));
  queue.Stop();
  EXPECT_EQ(queue.dropped(), 1u);
  EXPECT_EQ(queue.completed(), 0u);
  EXPECT_TRUE(weak.expired()) << "a dropped mirror releases its servable";
}

}  // namespace
}  // namespace bimride::serving
