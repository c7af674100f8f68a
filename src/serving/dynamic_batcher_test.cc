#include "serving/dynamic_batcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

namespace bimride::serving {
namespace {

// Sums each row; optionally sleeps per batch so requests pile up.
class SumModel : public models::Model {
 public:
  explicit SumModel(int sleep_ms = 0) : sleep_ms_(sleep_ms) {}
  std::string_view backend() const override { return "sum"; }
  int num_features() const override { return 2; }
  int num_outputs() const override { return 1; }
  Status Predict(const float* x, int64_t rows, float* out) const override {
    if (sleep_ms_) std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms_));
    for (int64_t r = 0; r < rows; ++r) out[r] = x[2 * r] + x[2 * r + 1];
    return OkStatus();
  }

 private:
  int sleep_ms_;
};

TEST(DynamicBatcherTest, GathersConcurrentRequestsIntoOneBatchAndScattersResults) {
  SumModel model;
  BatchingOptions opt{.max_batch_size = 8, .max_queue_delay_us = 200000, .max_queue_size = 100};
  DynamicBatcher batcher(model, opt, "sum/1");
  std::vector<std::promise<std::pair<float, int64_t>>> promises(8);
  for (int i = 0; i < 8; ++i) {
    std::vector<float> row = {static_cast<float>(i), 100.0f};
    RowsDone done = [&promises, i](Status st, std::vector<float> out, PredictTiming t) {
      ASSERT_TRUE(st.ok());
      promises[i].set_value({out.at(0), t.batch_rows});
    };
    ASSERT_TRUE(batcher.Enqueue(std::move(row), 1, std::move(done)).ok());
  }
  for (int i = 0; i < 8; ++i) {
    auto [value, batch_rows] = promises[i].get_future().get();
    EXPECT_EQ(value, i + 100.0f);
    EXPECT_EQ(batch_rows, 8) << "8 requests within the delay fill one batch of 8";
  }
}

TEST(DynamicBatcherTest, FullQueueIsResourceExhaustedAndLeavesCallbackUnused) {
  SumModel model(/*sleep_ms=*/50);
  BatchingOptions opt{.max_batch_size = 1, .max_queue_delay_us = 0, .max_queue_size = 2};
  DynamicBatcher batcher(model, opt, "sum/1");
  std::atomic<int> answered{0};
  int refused = 0;
  for (int i = 0; i < 10; ++i) {
    std::vector<float> row = {1, 2};
    RowsDone done = [&](Status st, std::vector<float>, PredictTiming) { answered++; };
    Status st = batcher.Enqueue(std::move(row), 1, std::move(done));
    if (!st.ok()) {
      EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
      EXPECT_TRUE(static_cast<bool>(done)) << "refused callback must not be consumed";
      ++refused;
    }
  }
  EXPECT_GE(refused, 5);
  while (answered.load() < 10 - refused) std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

TEST(DynamicBatcherTest, DestructorRunsQueuedRequests) {
  SumModel model(/*sleep_ms=*/5);
  std::atomic<int> answered{0};
  {
    BatchingOptions opt{.max_batch_size = 2, .max_queue_delay_us = 100, .max_queue_size = 100};
    DynamicBatcher batcher(model, opt, "sum/1");
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(batcher
                      .Enqueue({1, 1}, 1,
                               [&](Status st, std::vector<float>, PredictTiming) {
                                 if (st.ok()) answered++;
                               })
                      .ok());
    }
  }
  EXPECT_EQ(answered.load(), 20);
}

TEST(DynamicBatcherTest, MultiRowRequestsKeepTheirRowsTogether) {
  SumModel model;
  BatchingOptions opt{.max_batch_size = 4, .max_queue_delay_us = 1000, .max_queue_size = 10};
  DynamicBatcher batcher(model, opt, "sum/1");
  std::promise<std::vector<float>> a, b;
  ASSERT_TRUE(batcher
                  .Enqueue({1, 1, 2, 2, 3, 3}, 3,
                           [&](Status, std::vector<float> out, PredictTiming) {
                             a.set_value(out);
                           })
                  .ok());
  ASSERT_TRUE(batcher
                  .Enqueue({10, 10, 20, 20}, 2,
                           [&](Status, std::vector<float> out, PredictTiming) {
                             b.set_value(out);
                           })
                  .ok());
  EXPECT_EQ(a.get_future().get(), (std::vector<float>{2, 4, 6}));
  EXPECT_EQ(b.get_future().get(), (std::vector<float>{20, 40}));
}

}  // namespace
}  // namespace bimride::serving
