#include "serving/servable.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "serving/testing/test_models.h"

namespace bimride::serving {
namespace {

class ServableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::RegisterTestBackendAndFeatures();
    repo_ = testing::MakeTempDir("servable_test");
  }
  StatusOr<std::shared_ptr<const Servable>> Load(const testing::TestVersionOptions& o,
                                                 const BatchingOptions& batching = {}) {
    Status written = testing::WriteTestVersion(repo_, "eta", ++versions_, o);
    if (!written.ok()) return written;
    return testing::LoadTestServable(repo_, "eta", versions_, batching, &metrics_);
  }
  struct Answer {
    Status status;
    std::vector<float> outputs;
    PredictTiming timing;
    std::thread::id thread;
  };
  static std::future<Answer> Predict(const Servable& s, std::vector<float> features, int64_t rows) {
    auto promise = std::make_shared<std::promise<Answer>>();
    s.Predict(std::move(features), rows,
              [promise](Status st, std::vector<float> out, PredictTiming t) {
                promise->set_value({st, std::move(out), t, std::this_thread::get_id()});
              });
    return promise->get_future();
  }

  std::string repo_;
  int64_t versions_ = 0;
  VersionMetrics metrics_;
};

TEST_F(ServableTest, LoadsWarmsUpAndPredictsInlineWithoutBatching) {
  testing::TestVersionOptions o;
  o.weights = {{1, 2, 3}};
  o.bias = {1};
  auto s = Load(o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_FALSE((*s)->batching());
  EXPECT_EQ((*s)->spec().model, "eta");
  EXPECT_EQ((*s)->spec().version, 1);
  EXPECT_EQ((*s)->model().num_features(), 3);
  EXPECT_EQ((*s)->feature_adapter(), nullptr) << "no feature spec, no adapter";
  EXPECT_EQ(metrics_.batch_rows.count(), 0u) << "warm-up is not traffic";
  Answer a = Predict(**s, {1, 1, 1, 0, 0, 0}, 2).get();
  ASSERT_TRUE(a.status.ok()) << a.status.ToString();
  EXPECT_EQ(a.outputs, (std::vector<float>{7, 1}));
  EXPECT_EQ(a.thread, std::this_thread::get_id()) << "inline on the caller's thread";
  EXPECT_EQ(a.timing.batch_rows, 2);
  EXPECT_EQ(a.timing.queue_ns, 0);
  EXPECT_EQ(metrics_.batch_rows.count(), 1u);
}

TEST_F(ServableTest, BatchingRunsRequestsOnTheBatcherThread) {
  auto s = Load({}, {.max_batch_size = 4, .max_queue_delay_us = 100, .max_queue_size = 8});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE((*s)->batching());
  Answer a = Predict(**s, {1, 2, 3}, 1).get();
  ASSERT_TRUE(a.status.ok()) << a.status.ToString();
  EXPECT_EQ(a.outputs, (std::vector<float>{6}));
  EXPECT_NE(a.thread, std::this_thread::get_id());
}

TEST_F(ServableTest, FullBatchQueueIsReportedThroughDone) {
  testing::TestVersionOptions slow;
  slow.predict_delay_us = 30000;
  auto s = Load(slow, {.max_batch_size = 1, .max_queue_delay_us = 0, .max_queue_size = 1});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::vector<std::future<Answer>> answers;
  for (int i = 0; i < 4; ++i) answers.push_back(Predict(**s, {0, 0, 0}, 1));
  int refused = 0;
  for (auto& f : answers) {
    Answer a = f.get();
    if (!a.status.ok()) {
      EXPECT_EQ(a.status.code(), StatusCode::kResourceExhausted);
      EXPECT_EQ(a.thread, std::this_thread::get_id()) << "refused at once, on the caller";
      ++refused;
    }
  }
  EXPECT_GE(refused, 1);
}

TEST_F(ServableTest, FeatureSpecGivesTheVersionAnAdapter) {
  testing::TestVersionOptions o;
  o.feature_spec = "test_trip_v1";
  auto s = Load(o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const FeatureAdapter* adapter = (*s)->feature_adapter();
  ASSERT_NE(adapter, nullptr);
  RawBatch batch{1,
                 {{"pickup_zone", {RawValue(74.0)}},
                  {"trip_distance", {RawValue(2.0)}},
                  {"pickup_datetime", {RawValue("2021-02-10 08:30:00")}}}};
  auto features = (*adapter)(batch, 3);
  ASSERT_TRUE(features.ok()) << features.status().ToString();
  EXPECT_EQ(*features, (std::vector<float>{74, 2, 8}));
}

TEST_F(ServableTest, UnknownFeatureSpecIsRefusedNamingTheVersion) {
  testing::TestVersionOptions o;
  o.feature_spec = "no_such_spec";
  auto s = Load(o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("no_such_spec"), std::string::npos) << s.status().ToString();
  EXPECT_NE(s.status().message().find(repo_ + "/eta/1"), std::string::npos)
      << s.status().ToString();
}

TEST_F(ServableTest, BackendFailingWarmUpIsRefused) {
  testing::TestVersionOptions o;
  o.fail_predict = true;
  auto s = Load(o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("warm-up"), std::string::npos) << s.status().ToString();
  EXPECT_NE(s.status().message().find("asked to fail"), std::string::npos);
}

TEST_F(ServableTest, CorruptVersionIsRefusedNamingTheFile) {
  testing::TestVersionOptions o;
  o.corrupt_digest = true;
  auto s = Load(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kDataLoss) << s.status().ToString();
  EXPECT_NE(s.status().message().find("model.json"), std::string::npos);
}

TEST_F(ServableTest, InFlightRequestKeepsItsServableAlive) {
  testing::TestVersionOptions slow;
  slow.predict_delay_us = 20000;
  auto s = Load(slow, {.max_batch_size = 2, .max_queue_delay_us = 0, .max_queue_size = 8});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::shared_ptr<const Servable> servable = std::move(s).value();
  std::future<Answer> answer = Predict(*servable, {1, 1, 1}, 1);
  servable.reset();  // the last owner goes: the destructor drains the batcher first
  Answer a = answer.get();
  EXPECT_TRUE(a.status.ok()) << a.status.ToString();
  EXPECT_EQ(a.outputs, (std::vector<float>{3}));
}

}  // namespace
}  // namespace bimride::serving
