// Demand task on a synthetic city: datasets (out-of-fold baselines), baselines, learned models,
// the backtest and publish → forecast round trip. Label: unit (no outside data).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "common/civil_time.h"
#include "tasks/demand/demand_backtest.h"
#include "tasks/demand/demand_dataset.h"
#include "tasks/demand/demand_forecast.h"
#include "tasks/demand/demand_models.h"
#include "tasks/demand/demand_publish.h"

namespace bimride::tasks::demand {
namespace {

using features::DemandGrid;

int64_t T(const char* text) { return *ParseCivil(text); }

// Five weeks of hourly Poisson counts for 4 zones from Monday 2021-03-01: a daily profile,
// busier weekdays, zone sizes 0.3 … 6 pickups an hour.
DemandGrid SyntheticGrid(uint32_t seed = 5) {
  const int64_t buckets = 35 * 24;
  std::mt19937 rng(seed);
  const double size[] = {0.3, 1.0, 2.5, 6.0};
  std::vector<float> counts;
  for (int z = 0; z < 4; ++z) {
    for (int64_t b = 0; b < buckets; ++b) {
      const int hour = static_cast<int>(b % 24), weekday = static_cast<int>(b / 24 % 7);
      const double rate =
          size[z] * (1 + 0.8 * std::sin((hour - 6) * M_PI / 12)) * (weekday < 5 ? 1.2 : 0.7);
      counts.push_back(static_cast<float>(std::poisson_distribution<int>(rate)(rng)));
    }
  }
  return *DemandGrid::FromCounts(60, T("2021-03-01"), {4, 7, 9, 12}, buckets, counts);
}

DemandTrainOptions FastOptions() {
  DemandTrainOptions o;
  o.valid_days = 4;
  o.threads = 1;
  // The synthetic city is stationary: no level shifts to augment, forecast the mean.
  o.level_augment_sigma = 0;
  o.target_shrink = 0;
  o.xgboost.rounds = 40;
  o.xgboost.max_depth = 4;
  o.torch.epochs = 40;
  o.torch.batch_size = 64;
  o.torch.learning_rate = 3e-3;
  o.torch.hidden_sizes = {16};
  o.torch.ensemble = 2;
  o.work_dir = (std::filesystem::temp_directory_path() / "demand_task_test").string();
  return o;
}

TEST(DemandDatasetTest, TrainingRowsSeeBaselinesWithoutTheirOwnWeek) {
  DemandGrid grid = SyntheticGrid();
  // Zone 4, week 3: a huge burst. Rows of week 3 must not see it in their averages.
  std::vector<float> counts = grid.counts();
  for (int64_t b = 14 * 24; b < 21 * 24; ++b) counts[b] = 100;
  grid = *DemandGrid::FromCounts(60, grid.start_us(), grid.zones(), grid.num_buckets(), counts);
  auto feats = features::DemandFeatures::Create({}, nullptr);
  ASSERT_TRUE(feats.ok());
  auto rows = BuildTrainingRows(grid, *feats, 0, 28 * 24, nullptr);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  const auto& names = feats->names();
  const int ha =
      static_cast<int>(std::find(names.begin(), names.end(), "ha_weekday_slot_h1") - names.begin());
  int checked = 0;
  for (int64_t r = 0; r < rows->data.rows; ++r) {
    const int64_t target = rows->origin[r] + 1;
    EXPECT_GE(rows->origin[r], 7 * 24 - 1) << "a week of history before every origin";
    EXPECT_LE(rows->origin[r] + 6, 28 * 24 - 1) << "every target inside the period";
    if (rows->zone_pos[r] != 0) continue;
    const float seen = std::expm1(rows->data.feature(r, ha));
    if (target >= 14 * 24 && target < 21 * 24) {
      EXPECT_LT(seen, 5) << "row in the burst week sees its own burst";
      ++checked;
    } else if (target >= 7 * 24 && target < 14 * 24 && target % 168 >= 6) {
      // (The first 6 buckets of week 3 are left out with week 2: targets of its last rows.)
      EXPECT_GT(seen, 30) << "rows of other weeks do see it (out of fold, not past only)";
    }
  }
  EXPECT_GT(checked, 100);
  EXPECT_EQ(rows->data.num_outputs, 6);
  EXPECT_EQ(rows->data.rows, 4 * (28 * 24 - 7 * 24 + 1 - 6));
  auto past = BuildTrainingRows(grid, *feats, 0, 28 * 24, nullptr, TrainingBaselines::kPastOnly);
  ASSERT_TRUE(past.ok());
  for (int64_t r = 0; r < past->data.rows; ++r) {
    if (past->zone_pos[r] == 0 && past->origin[r] + 1 < 14 * 24) {
      EXPECT_LT(std::expm1(past->data.feature(r, ha)), 5) << "past-only never sees week 3 early";
    }
  }
  EXPECT_FALSE(BuildTrainingRows(grid, *feats, 0, 7 * 24, nullptr).ok()) << "no week of history";
}

TEST(DemandDatasetTest, LevelAugmentationScalesWholeZoneDaysAndKeepsRealBaselines) {
  const DemandGrid grid = SyntheticGrid();
  const DemandGrid aug = LevelAugmentedGrid(grid, 0.3, 0.8, 1);
  ASSERT_EQ(aug.counts().size(), grid.counts().size());
  std::vector<double> log_factor;
  for (int64_t d = 0; d < 35; ++d) {
    double k = -1;
    for (int64_t b = d * 24; b < (d + 1) * 24; ++b) {
      if (grid.count(3, b) == 0) {
        EXPECT_EQ(aug.count(3, b), 0) << "a zero stays a zero";
        continue;
      }
      const double r = aug.count(3, b) / grid.count(3, b);
      if (k < 0) k = r;
      EXPECT_NEAR(r, k, 1e-5) << "one factor per zone and day";
    }
    log_factor.push_back(std::log(k));
  }
  double same_sign = 0;
  for (size_t d = 1; d < log_factor.size(); ++d) same_sign += log_factor[d] * log_factor[d - 1] > 0;
  EXPECT_GT(same_sign, 0.6 * (log_factor.size() - 1)) << "levels persist from day to day";
  auto feats = features::DemandFeatures::Create({}, nullptr);
  auto real = BuildTrainingRows(grid, *feats, 0, 28 * 24, nullptr);
  auto rows = BuildTrainingRows(grid, *feats, 0, 28 * 24, nullptr, TrainingBaselines::kOutOfFold,
                                &aug);
  ASSERT_TRUE(real.ok() && rows.ok());
  const auto& names = feats->names();
  const auto col = [&](const char* n) {
    return static_cast<int>(std::find(names.begin(), names.end(), n) - names.begin());
  };
  for (int64_t r = 0; r < rows->data.rows; r += 97) {
    EXPECT_EQ(rows->data.feature(r, col("ha_weekday_slot_h1")),
              real->data.feature(r, col("ha_weekday_slot_h1")))
        << "baselines from the real counts";
    EXPECT_FLOAT_EQ(rows->data.feature(r, col("lag_1")),
                    std::log1p(aug.count(rows->zone_pos[r], rows->origin[r])));
    EXPECT_FLOAT_EQ(rows->data.targets[r * 6], aug.count(rows->zone_pos[r], rows->origin[r] + 1));
  }
}

TEST(DemandModelsTest, BaselinesForecastTheirDefinitions) {
  const DemandGrid grid = SyntheticGrid();
  const int64_t train_end = 28 * 24;
  auto sn =
      TrainDemandModel(DemandModelKind::kSeasonalNaive, grid, nullptr, 0, train_end, FastOptions());
  auto ha = TrainDemandModel(DemandModelKind::kHistoricalAverage, grid, nullptr, 0, train_end,
                             FastOptions());
  ASSERT_TRUE(sn.ok() && ha.ok());
  auto rows = BuildForecastRows(grid, *features::DemandFeatures::Create({}, nullptr), ha->baselines,
                                train_end - 1, train_end + 24);
  ASSERT_TRUE(rows.ok());
  auto p_sn = sn->Predict(grid, *rows);
  auto p_ha = ha->Predict(grid, *rows);
  ASSERT_TRUE(p_sn.ok() && p_ha.ok());
  for (int64_t r = 0; r < rows->data.rows; r += 7) {
    for (int h = 1; h <= 6; ++h) {
      const int64_t s = rows->origin[r] + h;
      EXPECT_EQ((*p_sn)[r * 6 + h - 1], grid.count(rows->zone_pos[r], s - 168));
      const features::BucketCalendar c = grid.Calendar(s);
      double sum = 0;
      for (int w = 0; w < 4; ++w) {
        sum += grid.count(rows->zone_pos[r], w * 168 + c.weekday * 24 + c.slot_of_day);
      }
      EXPECT_FLOAT_EQ((*p_ha)[r * 6 + h - 1], sum / 4) << "mean of the 4 training weeks";
    }
  }
  EXPECT_FALSE(ParseDemandModelKind("prophet").ok());
  EXPECT_EQ(*ParseDemandModelKind("torch_mlp"), DemandModelKind::kTorch);
}

TEST(DemandModelsTest, ValidationSliceMustLeaveATrainingPeriod) {
  const DemandGrid grid = SyntheticGrid();
  DemandTrainOptions o = FastOptions();
  o.valid_days = 24;
  auto m = TrainDemandModel(DemandModelKind::kXgboost, grid, nullptr, 0, 28 * 24, o);
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(m.status().message().find("validation slice"), std::string::npos);
  o.valid_days = 4;
  o.target_shrink = -2;  // (-1 is kAutoShrink)
  EXPECT_FALSE(TrainDemandModel(DemandModelKind::kXgboost, grid, nullptr, 0, 28 * 24, o).ok());
}

TEST(DemandBacktestTest, ScoresEveryModelPerHorizonOnTheTestWeek) {
  const DemandGrid grid = SyntheticGrid();
  DemandBacktestOptions o;
  o.train = FastOptions();
  o.train_begin_us = T("2021-03-01");
  o.train_end_us = T("2021-03-29");
  o.test_begin_us = T("2021-03-29");
  o.test_end_us = T("2021-04-05");
  o.busiest_zones = 2;
  auto bt = RunDemandBacktest(grid, nullptr, o);
  ASSERT_TRUE(bt.ok()) << bt.status().ToString();
  ASSERT_EQ(bt->models.size(), 4u);
  EXPECT_EQ(bt->busiest, (std::vector<int32_t>{12, 9}));
  EXPECT_EQ(bt->test_buckets, 168);
  const DemandModelScores* sn = bt->Find(DemandModelKind::kSeasonalNaive);
  ASSERT_NE(sn, nullptr);
  ASSERT_EQ(sn->horizons.size(), 6u);
  // Seasonal naive at any horizon: |count(s) − count(s − week)| over every test cell.
  double abs_err = 0, sum = 0;
  for (size_t z = 0; z < 4; ++z) {
    for (int64_t s = 28 * 24; s < 35 * 24; ++s) {
      abs_err += std::fabs(grid.count(z, s) - grid.count(z, s - 168));
      sum += grid.count(z, s);
    }
  }
  for (const DemandHorizonScores& h : sn->horizons) {
    EXPECT_EQ(h.all.count, 4 * 168);
    EXPECT_NEAR(h.all.wape, abs_err / sum, 1e-6);
  }
  // Stationary Poisson: the learned global models must beat the noisy seasonal naive.
  for (DemandModelKind k : {DemandModelKind::kXgboost, DemandModelKind::kTorch}) {
    const DemandModelScores* m = bt->Find(k);
    ASSERT_NE(m, nullptr);
    EXPECT_LT(m->horizons[0].all.rmse, sn->horizons[0].all.rmse) << m->name;
    EXPECT_EQ(m->busiest_zone_h1.size(), 2u);
  }
  const std::string md = bt->ToMarkdown({{12, "Big Zone"}});
  EXPECT_NE(md.find("| 12 Big Zone |"), std::string::npos) << md;
  EXPECT_NE(md.find("**WAPE, all zones**"), std::string::npos);
  EXPECT_EQ(bt->ToMetricMap().count("xgboost_h6_rmse"), 1u);

  o.test_begin_us = T("2021-03-20");
  EXPECT_FALSE(RunDemandBacktest(grid, nullptr, o).ok()) << "test before the training end";
  o.test_begin_us = T("2021-03-29 00:30");
  EXPECT_FALSE(RunDemandBacktest(grid, nullptr, o).ok()) << "off a bucket boundary";
}

TEST(DemandPublishTest, PublishedModelForecastsWhatTheTrainedModelDoes) {
  const DemandGrid grid = SyntheticGrid();
  const std::string repo =
      (std::filesystem::temp_directory_path() / ("demand_publish_" + registry::NewRunId()))
          .string();
  auto reg = registry::Registry::Open(repo);
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  for (DemandModelKind kind : {DemandModelKind::kXgboost, DemandModelKind::kTorch}) {
    auto model = TrainDemandModel(kind, grid, nullptr, 0, 28 * 24, FastOptions());
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    DemandPublishOptions po;
    po.metrics = {{"test_h1_wape", 0.5}};
    auto manifest = PublishDemandModel(**reg, *model, grid, nullptr, po);
    ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
    EXPECT_EQ(manifest->task, "demand");
    ASSERT_TRUE(manifest->feature_spec.has_value());
    EXPECT_EQ(manifest->feature_spec->request_fields,
              (std::vector<std::string>{"zone", "time", "recent_counts"}));
    EXPECT_EQ(manifest->outputs.size(), 6u);
    EXPECT_EQ(manifest->feature_stats.size(), manifest->inputs[0].shape[1]);
    EXPECT_EQ(manifest->inputs[1].name, "zone");

    auto forecaster =
        DemandForecaster::Open((*reg)->repository().VersionDir(manifest->name, manifest->version));
    ASSERT_TRUE(forecaster.ok()) << forecaster.status().ToString();
    auto rows = BuildForecastRows(grid, *features::DemandFeatures::Create({}, nullptr),
                                  model->baselines, 30 * 24 + 7, 30 * 24 + 8);
    ASSERT_TRUE(rows.ok());
    auto offline = model->Predict(grid, *rows);
    ASSERT_TRUE(offline.ok());
    for (int64_t r = 0; r < rows->data.rows; ++r) {
      const int64_t t = grid.BucketStart(rows->origin[r] + 1);
      const auto span = grid.ZoneCounts(rows->zone_pos[r]).subspan(grid.BucketOf(t) - 168, 168);
      auto online = (*forecaster)
                        ->Forecast(grid.zones()[rows->zone_pos[r]], t,
                                   std::vector<float>(span.begin(), span.end()));
      ASSERT_TRUE(online.ok()) << online.status().ToString();
      for (int h = 0; h < 6; ++h) {
        EXPECT_NEAR((*online)[h], (*offline)[r * 6 + h], 1e-4 * (1 + (*offline)[r * 6 + h]));
      }
    }
    EXPECT_FALSE((*forecaster)->Forecast(5, T("2021-03-31 08:00"), std::vector<float>(168)).ok())
        << "zone 5 is not a zone of the model";
  }
  auto baseline = TrainDemandModel(DemandModelKind::kHistoricalAverage, grid, nullptr, 0, 28 * 24,
                                   FastOptions());
  EXPECT_FALSE(PublishDemandModel(**reg, *baseline, grid, nullptr, {}).ok());
  EXPECT_FALSE(DemandForecaster::Open(repo + "/nothing").ok());
}

}  // namespace
}  // namespace bimride::tasks::demand
