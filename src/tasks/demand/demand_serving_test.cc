// A published demand model served through serving::Service: raw requests (zone, time, recent
// counts) get the same forecasts as the offline model; bad raw fields are clear errors.
#include "tasks/demand/demand_serving.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <random>

#include "common/civil_time.h"
#include "features/demand_features.h"
#include "registry/registry.h"
#include "serving/server.h"
#include "tasks/demand/demand_dataset.h"
#include "tasks/demand/demand_models.h"
#include "tasks/demand/demand_online.h"
#include "tasks/demand/demand_publish.h"
#include "tasks/task.h"
#include "train/trainer.h"

namespace bimride::tasks::demand {
namespace {

using namespace serving;

int64_t T(const char* text) { return *ParseCivil(text); }

features::DemandGrid SyntheticGrid() {
  const int64_t buckets = 35 * 24;
  std::mt19937 rng(11);
  std::vector<float> counts;
  for (int z = 0; z < 3; ++z) {
    for (int64_t b = 0; b < buckets; ++b) {
      const double rate = (z + 1) * (1.2 + std::sin((b % 24 - 6) * M_PI / 12));
      counts.push_back(static_cast<float>(std::poisson_distribution<int>(rate)(rng)));
    }
  }
  return *features::DemandGrid::FromCounts(60, T("2021-03-01"), {3, 8, 21}, buckets, counts);
}

class DemandServingTest : public ::testing::TestWithParam<DemandModelKind> {
 protected:
  void SetUp() override {
    // The spec comes from the demand task's own registration (demand_task.cc, linked whole).
    ASSERT_NE(FindTask("demand"), nullptr);
    if (!train::HasTrainer(DemandTrainerKind(GetParam()))) GTEST_SKIP() << "trainer not built";
    grid_ = SyntheticGrid();
    repo_ = (std::filesystem::temp_directory_path() / ("demand_serving_" + registry::NewRunId()))
                .string();
    DemandTrainOptions o;
    o.valid_days = 4;
    o.threads = 1;
    o.level_augment_sigma = 0;
    o.xgboost.rounds = 30;
    o.torch.epochs = 5;
    o.torch.hidden_sizes = {16};
    o.torch.ensemble = 2;
    o.work_dir = repo_ + "_work";
    auto model = TrainDemandModel(GetParam(), grid_, nullptr, 0, 28 * 24, o);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    model_ = std::make_unique<TrainedDemandModel>(std::move(*model));
    auto reg = registry::Registry::Open(repo_);
    ASSERT_TRUE(reg.ok());
    auto manifest = PublishDemandModel(**reg, *model_, grid_, nullptr, {});
    ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
    ServerConfig config;
    config.model_repo = repo_;
    config.poll_interval_ms = 0;
    config.max_batch_rows = 1024;
    auto server = Server::Create(config);  // the server core, no transport
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    ASSERT_TRUE(server_->manager().Ready()) << "the demand version must load with its adapter";
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }
  StatusOr<PredictResult> Predict(RawBatch raw, Method method = Method::kPredict,
                                  std::string signature_name = "") {
    PredictRequest request;
    request.model = "demand";
    request.method = method;
    request.signature_name = std::move(signature_name);
    request.input.rows = raw.rows;
    request.input.raw = std::move(raw);
    std::promise<StatusOr<PredictResult>> done;
    server_->service().Predict(std::move(request),
                      [&](StatusOr<PredictResult> r) { done.set_value(std::move(r)); });
    return done.get_future().get();
  }
  // Raw rows for every zone at the forecast times `ts`, their histories read off the grid.
  RawBatch Requests(const std::vector<int64_t>& ts) {
    RawBatch raw;
    raw.columns = {{"zone", {}}, {"time", {}}, {"recent_counts", {}}};
    for (int64_t t : ts) {
      for (size_t z = 0; z < grid_.num_zones(); ++z) {
        const auto week = grid_.ZoneCounts(z).subspan(grid_.BucketOf(t) - 168, 168);
        raw.columns[0].values.emplace_back(std::in_place_type<double>, grid_.zones()[z]);
        raw.columns[1].values.emplace_back(std::in_place_type<std::string>, FormatCivil(t));
        raw.columns[2].values.emplace_back(std::in_place_type<std::string>,
                                           features::FormatRecentCounts(week));
        ++raw.rows;
      }
    }
    return raw;
  }
  features::DemandGrid grid_;
  std::string repo_;
  std::unique_ptr<TrainedDemandModel> model_;
  std::unique_ptr<Server> server_;
};

TEST_P(DemandServingTest, RawRequestsGetTheOfflineForecasts) {
  const std::vector<int64_t> ts = {T("2021-03-29 00:00"), T("2021-03-30 08:00"),
                                   T("2021-04-02 17:00")};
  auto served = Predict(Requests(ts));
  ASSERT_TRUE(served.ok()) << served.status().ToString();
  EXPECT_EQ(served->output_names().front(), "demand_h1");
  ASSERT_EQ(served->values.size(), ts.size() * 3 * 6);
  auto feats = features::DemandFeatures::Create({}, nullptr);
  size_t row = 0;
  for (int64_t t : ts) {
    auto rows = BuildForecastRows(grid_, *feats, model_->baselines, grid_.BucketOf(t) - 1,
                                  grid_.BucketOf(t));
    ASSERT_TRUE(rows.ok());
    auto offline = model_->Predict(grid_, *rows);
    ASSERT_TRUE(offline.ok());
    for (int64_t r = 0; r < rows->data.rows; ++r, ++row) {
      for (int h = 0; h < 6; ++h) {
        const float o = (*offline)[r * 6 + h];
        EXPECT_NEAR(served->values[row * 6 + h], o, 1e-4f * (1 + o))
            << "zone " << grid_.zones()[rows->zone_pos[r]] << " at " << FormatCivil(t);
      }
    }
  }
}

TEST_P(DemandServingTest, RegressNamesOneHorizonAsItsSignature) {
  const RawBatch raw = Requests({T("2021-03-30 08:00")});
  auto all = Predict(raw);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  auto h2 = Predict(raw, Method::kRegress, "demand_h2");
  ASSERT_TRUE(h2.ok()) << h2.status().ToString();
  EXPECT_EQ(*SignatureOutputs(h2->servable->spec(), Method::kRegress, "demand_h2"),
            (std::vector<size_t>{1}));
  EXPECT_EQ(h2->values, all->values);
  auto unnamed = Predict(raw, Method::kRegress);
  EXPECT_EQ(unnamed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unnamed.status().message().find("has 6 outputs (demand_h1, demand_h2, "),
            std::string::npos)
      << unnamed.status().message();
  EXPECT_EQ(Predict(raw, Method::kClassify).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(DemandServingTest, TimeIsFlooredToTheBucket) {
  RawBatch exact = Requests({T("2021-03-30 08:00")});
  RawBatch later = exact;
  for (RawValue& v : later.columns[1].values) v = std::string("2021-03-30 08:59:59");
  auto a = Predict(exact), b = Predict(later);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->values, b->values);
}

TEST_P(DemandServingTest, BadRawFieldsAreInvalidArgumentNamingFieldAndRow) {
  const auto error = [&](int column, RawValue value) {
    RawBatch raw = Requests({T("2021-03-30 08:00")});
    raw.columns[column].values[1] = std::move(value);
    auto r = Predict(std::move(raw));
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    return r.status().message();
  };
  EXPECT_NE(error(0, 99.0).find("row 1: field 'zone': zone 99 is not one the model was trained"),
            std::string::npos);
  EXPECT_NE(error(0, 3.5).find("row 1: field 'zone': must be a whole number"), std::string::npos);
  // A whole number that is no zone id is out of range, not "not a positive integer".
  EXPECT_NE(error(0, -1.0).find("row 1: field 'zone': zone -1 is out of range"),
            std::string::npos);
  EXPECT_NE(error(0, 0.0).find("row 1: field 'zone': zone 0 is out of range"), std::string::npos);
  EXPECT_NE(error(0, 1e12).find("row 1: field 'zone': zone 1000000000000 is out of range"),
            std::string::npos);
  EXPECT_NE(error(0, std::string("x")).find("field 'zone'"), std::string::npos);
  EXPECT_NE(error(1, std::string("tomorrow")).find("row 1: field 'time'"), std::string::npos);
  EXPECT_NE(error(1, 5.0).find("field 'time'"), std::string::npos);
  EXPECT_NE(error(2, std::string("1,2,3")).find("3 counts, expected 168"), std::string::npos);
  EXPECT_NE(error(2, 1.0).find("field 'recent_counts'"), std::string::npos);
  RawBatch missing = Requests({T("2021-03-30 08:00")});
  missing.columns.erase(missing.columns.begin() + 1);
  auto r = Predict(std::move(missing));
  EXPECT_NE(r.status().message().find("missing raw field 'time'"), std::string::npos)
      << r.status().message();
}

// The grid's counts of the week before each forecast time, posted as pickup events (one event
// per zone and bucket with its count; a bucket of 0 is posted too, as a backfill would).
RawBatch PickupEvents(const features::DemandGrid& grid, const std::vector<int64_t>& ts) {
  RawBatch events;
  events.columns = {{"zone", {}}, {"time", {}}, {"count", {}}};
  for (int64_t t : ts) {
    for (size_t z = 0; z < grid.num_zones(); ++z) {
      const int64_t last = grid.BucketOf(t) - 1;
      for (int64_t b = last - 167; b <= last; ++b) {
        events.columns[0].values.emplace_back(std::in_place_type<double>, grid.zones()[z]);
        events.columns[1].values.emplace_back(std::in_place_type<std::string>,
                                              FormatCivil(grid.BucketStart(b) + 7 * kMicrosPerMinute));
        events.columns[2].values.emplace_back(std::in_place_type<double>,
                                              grid.ZoneCounts(z)[static_cast<size_t>(b)]);
        ++events.rows;
      }
    }
  }
  return events;
}

RawBatch WithoutRecentCounts(RawBatch raw) {
  raw.columns.pop_back();
  return raw;
}

TEST_P(DemandServingTest, WithoutRecentCountsTheServerReadsThePostedPickups) {
  const std::vector<int64_t> ts = {T("2021-03-30 08:00")};
  const RawBatch with_counts = Requests(ts);
  auto expected = Predict(with_counts);
  ASSERT_TRUE(expected.ok()) << expected.status().ToString();
  const RawBatch events = PickupEvents(grid_, ts);
  auto recorded = server_->service().RecordOnlineEvents("pickups", events);
  ASSERT_TRUE(recorded.ok()) << recorded.status().ToString();
  EXPECT_EQ(*recorded, events.rows);
  auto served = Predict(WithoutRecentCounts(with_counts));
  ASSERT_TRUE(served.ok()) << served.status().ToString();
  EXPECT_EQ(served->values, expected->values);
  // One more pickup in the last bucket of zone 3 changes zone 3's forecast at the first time.
  RawBatch one;
  one.rows = 1;
  one.columns = {{"zone", {3.0}}, {"time", {std::string("2021-03-30 07:59:00")}}};
  ASSERT_TRUE(server_->service().RecordOnlineEvents("pickups", one).ok());
  auto after = Predict(WithoutRecentCounts(with_counts));
  ASSERT_TRUE(after.ok());
  EXPECT_NE(std::vector<float>(after->values.begin(), after->values.begin() + 6),
            std::vector<float>(expected->values.begin(), expected->values.begin() + 6));
  EXPECT_EQ(std::vector<float>(after->values.begin() + 6, after->values.end()),
            std::vector<float>(expected->values.begin() + 6, expected->values.end()))
      << "only zone 3 at 08:00 changed";
}

TEST_P(DemandServingTest, WithNoPickupsInTheStoreTheForecastUsesTheBaselines) {
  const int64_t t = T("2021-03-30 08:00");
  const RawBatch with_counts = Requests({t});
  auto served = Predict(WithoutRecentCounts(with_counts));
  ASSERT_TRUE(served.ok()) << served.status().ToString();
  // The same as sending the baseline history (historical averages per weekday and slot).
  auto feats = features::DemandFeatures::Create({}, nullptr);
  RecentCountsReader reader(&server_->online_store(), &*feats, &model_->baselines);
  RawBatch baseline = with_counts;
  for (size_t z = 0; z < 3; ++z) {
    baseline.columns[2].values[z] =
        features::FormatRecentCounts(reader.BaselineHistory(grid_.zones()[z], t));
  }
  auto expected = Predict(baseline);
  ASSERT_TRUE(expected.ok());
  for (size_t i = 0; i < expected->values.size(); ++i) {
    EXPECT_NEAR(served->values[i], expected->values[i], 1e-4f * (1 + expected->values[i])) << i;
  }
  EXPECT_NE(server_->service().MetricsText().find(
                "bimride_online_fallback_rows_total{reader=\"demand_recent_counts\","
                "fallback=\"no_data\"} 3"),
            std::string::npos)
      << server_->service().OnlineMetricsText();
}

TEST_P(DemandServingTest, BadPickupEventsAreErrorsAndRecordNothing) {
  const auto error = [&](RawBatch events) {
    auto r = server_->service().RecordOnlineEvents("pickups", events);
    EXPECT_FALSE(r.ok());
    return r.status();
  };
  auto batch = [](RawValue zone, RawValue time) {
    RawBatch b;
    b.rows = 2;
    b.columns = {{"zone", {3.0, std::move(zone)}},
                 {"time", {std::string("2021-03-30 07:00"), std::move(time)}}};
    return b;
  };
  EXPECT_NE(error(batch(0.0, std::string("2021-03-30 07:00"))).message().find(
                "pickups: events[1].zone: must be a zone id"),
            std::string::npos);
  EXPECT_NE(error(batch(3.0, std::string("soon"))).message().find("events[1].time"),
            std::string::npos);
  RawBatch counted = batch(3.0, std::string("2021-03-30 07:00"));
  counted.columns.push_back({"count", {1.0, -2.0}});
  EXPECT_NE(error(counted).message().find("events[1].count: must be a whole number >= 0"),
            std::string::npos);
  RawBatch extra = batch(3.0, std::string("2021-03-30 07:00"));
  extra.columns.push_back({"driver", {1.0, 2.0}});
  EXPECT_NE(error(extra).message().find("unknown field 'driver'"), std::string::npos);
  auto unknown = server_->service().RecordOnlineEvents("dropoffs", batch(3.0, 1.0));
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_NE(unknown.status().message().find("pickups"), std::string::npos);
  auto range = server_->online_store().Range(DemandPickupsKey(60, 3), 0, 1);
  ASSERT_TRUE(range.ok());
  auto all = server_->online_store().Range(DemandPickupsKey(60, 3),
                                           T("2021-03-30 07:00") / kMicrosPerHour, 1);
  ASSERT_TRUE(all.ok());
  EXPECT_FALSE((*all)[0].has_value()) << "a refused batch records nothing";
}

TEST(DemandFeatureAdapterTest, MissingOrBadContextFileFailsTheLoadNamingIt) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("demand_ctx_" + registry::NewRunId())).string();
  std::filesystem::create_directories(dir);
  FeatureAdapterContext c;
  c.version_dir = dir;
  c.feature_spec = features::kDemandFeatureSpecName;
  auto missing = MakeDemandFeatureAdapter(c);
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("demand_baselines.json"), std::string::npos);
  std::FILE* f = std::fopen((dir + "/demand_baselines.json").c_str(), "w");
  std::fputs("{\"format\": \"bimride_demand_baselines\"}", f);
  std::fclose(f);
  auto bad = MakeDemandFeatureAdapter(c);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find(dir + "/demand_baselines.json"), std::string::npos);
}

TEST_P(DemandServingTest, WithoutAStoreRecentCountsAreRequired) {
  FeatureAdapterContext c;
  c.version_dir = repo_ + "/demand/1";
  c.feature_spec = features::kDemandFeatureSpecName;
  auto adapter = MakeDemandFeatureAdapter(c);  // no online store: a tool, not a server
  ASSERT_TRUE(adapter.ok()) << adapter.status().ToString();
  auto feats = features::DemandFeatures::Create({}, nullptr);
  auto r = (*adapter)(WithoutRecentCounts(Requests({T("2021-03-30 08:00")})), feats->num_features());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("missing raw field 'recent_counts' (and no online store"),
            std::string::npos)
      << r.status().message();
}

INSTANTIATE_TEST_SUITE_P(Backends, DemandServingTest,
                         ::testing::Values(DemandModelKind::kXgboost, DemandModelKind::kTorch),
                         [](const auto& info) { return std::string(DemandModelName(info.param)); });

}  // namespace
}  // namespace bimride::tasks::demand
