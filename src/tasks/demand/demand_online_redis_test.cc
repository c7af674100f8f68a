// Two demand servers sharing one Redis (started by the test): a pickup posted to one changes the
// other's forecast; with Redis killed, requests are still answered with the stated fallbacks
// (the replica's last read of the zone, else the model's baselines), /metrics says so
// (bimride_online_store_up 0, bimride_online_fallback_rows_total) and the store logs an ALERT;
// once Redis is back the replicas read it again.
#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <random>
#include <thread>

#include "common/civil_time.h"
#include "features/demand_features.h"
#include "online/testing/redis_test_server.h"
#include "registry/registry.h"
#include "serving/server.h"
#include "tasks/demand/demand_models.h"
#include "tasks/demand/demand_online.h"
#include "tasks/demand/demand_publish.h"
#include "tasks/task.h"
#include "train/trainer.h"

namespace bimride::tasks::demand {
namespace {

using namespace serving;

int64_t T(const char* text) { return *ParseCivil(text); }

class DemandOnlineRedisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(FindTask("demand"), nullptr);
    if (!train::HasTrainer(DemandTrainerKind(DemandModelKind::kXgboost))) {
      GTEST_SKIP() << "xgboost trainer not built";
    }
    auto redis = online::testing::RedisTestServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status().ToString();
    redis_ = std::move(redis).value();
    const int64_t buckets = 35 * 24;
    std::mt19937 rng(5);
    std::vector<float> counts;
    for (int z = 0; z < 3; ++z) {
      for (int64_t b = 0; b < buckets; ++b) {
        const double rate = (z + 1) * 2 * (1.2 + std::sin((b % 24 - 6) * M_PI / 12));
        counts.push_back(static_cast<float>(std::poisson_distribution<int>(rate)(rng)));
      }
    }
    grid_ = *features::DemandGrid::FromCounts(60, T("2021-03-01"), {3, 8, 21}, buckets, counts);
    repo_ = (std::filesystem::temp_directory_path() / ("demand_redis_" + registry::NewRunId()))
                .string();
    DemandTrainOptions o;
    o.valid_days = 4;
    o.threads = 1;
    o.level_augment_sigma = 0;
    o.xgboost.rounds = 30;
    o.work_dir = repo_ + "_work";
    auto model = TrainDemandModel(DemandModelKind::kXgboost, grid_, nullptr, 0, 28 * 24, o);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    model_ = std::make_unique<TrainedDemandModel>(std::move(*model));
    auto reg = registry::Registry::Open(repo_);
    ASSERT_TRUE(reg.ok());
    ASSERT_TRUE(PublishDemandModel(**reg, *model_, grid_, nullptr, {}).ok());
    for (auto* server : {&a_, &b_}) {
      ServerConfig config;
      config.model_repo = repo_;
      config.poll_interval_ms = 0;
      config.online_store = redis_->Url() + "?timeout_ms=200&retry_ms=200";
      auto s = Server::Create(config);
      ASSERT_TRUE(s.ok()) << s.status().ToString();
      *server = std::move(s).value();
      ASSERT_TRUE((*server)->manager().Ready());
    }
  }
  void TearDown() override {
    for (auto* server : {&a_, &b_}) {
      if (*server) (*server)->Shutdown();
    }
    std::error_code ec;
    std::filesystem::remove_all(repo_, ec);
    std::filesystem::remove_all(repo_ + "_work", ec);
  }
  static StatusOr<std::vector<float>> Predict(Server& server, RawBatch raw) {
    PredictRequest request;
    request.model = "demand";
    request.input.rows = raw.rows;
    request.input.raw = std::move(raw);
    std::promise<StatusOr<PredictResult>> done;
    server.service().Predict(std::move(request),
                             [&](StatusOr<PredictResult> r) { done.set_value(std::move(r)); });
    StatusOr<PredictResult> r = done.get_future().get();
    if (!r.ok()) return r.status();
    return r->values;
  }
  // Requests for `zones` at t, without recent_counts unless `history` is given.
  RawBatch Requests(const std::vector<int32_t>& zones, int64_t t, bool with_counts = false) {
    RawBatch raw;
    raw.columns = {{"zone", {}}, {"time", {}}};
    if (with_counts) raw.columns.push_back({"recent_counts", {}});
    for (int32_t zone : zones) {
      raw.columns[0].values.emplace_back(std::in_place_type<double>, zone);
      raw.columns[1].values.emplace_back(std::in_place_type<std::string>, FormatCivil(t));
      if (with_counts) {
        size_t z = 0;
        while (grid_.zones()[z] != zone) ++z;
        raw.columns[2].values.emplace_back(std::in_place_type<std::string>,
                                           features::FormatRecentCounts(grid_.ZoneCounts(z).subspan(
                                               grid_.BucketOf(t) - 168, 168)));
      }
      ++raw.rows;
    }
    return raw;
  }
  // The grid's week before t for `zones`, as pickup events with counts.
  RawBatch WeekOfPickups(const std::vector<int32_t>& zones, int64_t t) {
    RawBatch events;
    events.columns = {{"zone", {}}, {"time", {}}, {"count", {}}};
    for (int32_t zone : zones) {
      size_t z = 0;
      while (grid_.zones()[z] != zone) ++z;
      for (int64_t b = grid_.BucketOf(t) - 168; b < grid_.BucketOf(t); ++b) {
        events.columns[0].values.emplace_back(std::in_place_type<double>, zone);
        events.columns[1].values.emplace_back(std::in_place_type<std::string>,
                                              FormatCivil(grid_.BucketStart(b)));
        events.columns[2].values.emplace_back(std::in_place_type<double>,
                                              grid_.ZoneCounts(z)[static_cast<size_t>(b)]);
        ++events.rows;
      }
    }
    return events;
  }

  std::unique_ptr<online::testing::RedisTestServer> redis_;
  features::DemandGrid grid_;
  std::string repo_;
  std::unique_ptr<TrainedDemandModel> model_;
  std::unique_ptr<Server> a_, b_;
};

TEST_F(DemandOnlineRedisTest, APickupPostedToOneReplicaChangesTheOthersForecast) {
  const int64_t t = T("2021-03-30 08:00");
  ASSERT_TRUE(a_->service().RecordOnlineEvents("pickups", WeekOfPickups({3, 8, 21}, t)).ok());
  auto expected = Predict(*a_, Requests({3, 8, 21}, t, /*with_counts=*/true));
  ASSERT_TRUE(expected.ok()) << expected.status().ToString();
  auto on_b = Predict(*b_, Requests({3, 8, 21}, t));
  ASSERT_TRUE(on_b.ok()) << on_b.status().ToString();
  EXPECT_EQ(*on_b, *expected) << "B reads the week A recorded";

  RawBatch rush;  // 20 more pickups in zone 8's last bucket, posted to A
  rush.rows = 1;
  rush.columns = {{"zone", {8.0}}, {"time", {std::string("2021-03-30 07:40")}}, {"count", {20.0}}};
  ASSERT_TRUE(a_->service().RecordOnlineEvents("pickups", rush).ok());
  // B's forecast is now the one for zone 8's week with those 20 pickups in its last hour.
  std::vector<float> week(grid_.ZoneCounts(1).begin() + (grid_.BucketOf(t) - 168),
                          grid_.ZoneCounts(1).begin() + grid_.BucketOf(t));
  week.back() += 20;
  RawBatch with_rush = Requests({8}, t);
  with_rush.columns.push_back({"recent_counts", {features::FormatRecentCounts(week)}});
  auto expected_rush = Predict(*a_, with_rush);
  ASSERT_TRUE(expected_rush.ok());
  auto after = Predict(*b_, Requests({8}, t));
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, *expected_rush);
  auto stored = b_->online_store().Range(
      DemandPickupsKey(60, 8), grid_.BucketStart(grid_.BucketOf(t) - 1) / kMicrosPerHour, 1);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ((*stored)[0], grid_.ZoneCounts(1)[grid_.BucketOf(t) - 1] + 20.0);
}

TEST_F(DemandOnlineRedisTest, RedisDownStillAnswersWithTheStatedFallbacksAndRecovers) {
  const int64_t t = T("2021-03-30 08:00");
  ASSERT_TRUE(a_->service().RecordOnlineEvents("pickups", WeekOfPickups({3, 8, 21}, t)).ok());
  auto read = Predict(*b_, Requests({3, 8}, t));  // B reads zones 3 and 8 (not 21)
  ASSERT_TRUE(read.ok()) << read.status().ToString();

  redis_->Stop();
  // Zones 3 and 8: B's last read of them (the same week: the same forecast). Zone 21: never
  // read by B, so its baselines.
  auto down = Predict(*b_, Requests({3, 8, 21}, t));
  ASSERT_TRUE(down.ok()) << "answered while Redis is down: " << down.status().ToString();
  EXPECT_EQ(std::vector<float>(down->begin(), down->begin() + 12), *read);
  auto feats = features::DemandFeatures::Create({}, nullptr);
  RecentCountsReader reader(&b_->online_store(), &*feats, &model_->baselines);
  RawBatch baseline = Requests({21}, t);
  baseline.columns.push_back(
      {"recent_counts", {features::FormatRecentCounts(reader.BaselineHistory(21, t))}});
  auto expected_21 = Predict(*b_, baseline);
  ASSERT_TRUE(expected_21.ok());
  for (int h = 0; h < 6; ++h) {
    EXPECT_NEAR((*down)[12 + h], (*expected_21)[h], 1e-4f * (1 + (*expected_21)[h]));
  }
  // A request that brings its own counts is answered exactly as always.
  auto own = Predict(*b_, Requests({3}, t, /*with_counts=*/true));
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(*own, std::vector<float>(read->begin(), read->begin() + 6));
  // Posting pickups is refused (503), not lost silently.
  auto post = a_->service().RecordOnlineEvents("pickups", WeekOfPickups({3}, t));
  EXPECT_EQ(post.status().code(), StatusCode::kUnavailable) << post.status().ToString();

  const std::string metrics = b_->service().MetricsText();
  const std::string store = "{store=\"" + redis_->Url() + "?timeout_ms=200&retry_ms=200\"}";
  EXPECT_NE(metrics.find("bimride_online_store_up" + store + " 0"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("bimride_online_fallback_rows_total{reader=\"demand_recent_counts\","
                         "fallback=\"last_read\"} 2"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("bimride_online_fallback_rows_total{reader=\"demand_recent_counts\","
                         "fallback=\"baseline\"} 1"),
            std::string::npos)
      << metrics;

  ASSERT_TRUE(redis_->Restart().ok());  // back, empty
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  ASSERT_TRUE(a_->service().RecordOnlineEvents("pickups", WeekOfPickups({21}, t)).ok());
  auto back = Predict(*b_, Requests({21}, t));
  ASSERT_TRUE(back.ok());
  auto with_counts = Predict(*b_, Requests({21}, t, true));
  ASSERT_TRUE(with_counts.ok());
  EXPECT_EQ(*back, *with_counts) << "read from Redis again";
  const std::string after = b_->service().MetricsText();
  EXPECT_NE(after.find("bimride_online_store_up" + store + " 1"), std::string::npos) << after;
  EXPECT_NE(after.find("bimride_online_store_reconnects_total" + store + " 1"), std::string::npos)
      << after;
}

}  // namespace
}  // namespace bimride::tasks::demand
