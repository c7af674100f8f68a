// The rolling-origin backtest scores every model per horizon on the test period. Label: unit.
#include "tasks/demand/demand_backtest.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "common/civil_time.h"
#include "tasks/demand/demand_test_util.h"

namespace bimride::tasks::demand {
namespace {

using features::DemandGrid;
using testing::FastOptions;
using testing::LearnedKindsInThisBuild;
using testing::SyntheticGrid;
using testing::T;

TEST(DemandBacktestTest, ScoresEveryModelPerHorizonOnTheTestWeek) {
  const DemandGrid grid = SyntheticGrid();
  DemandBacktestOptions o;
  o.train = FastOptions();
  o.train_begin_us = T("2021-03-01");
  o.train_end_us = T("2021-03-29");
  o.test_begin_us = T("2021-03-29");
  o.test_end_us = T("2021-04-05");
  o.busiest_zones = 2;
  o.models = {DemandModelKind::kSeasonalNaive, DemandModelKind::kHistoricalAverage};
  const std::vector<DemandModelKind> learned = LearnedKindsInThisBuild();
  o.models.insert(o.models.end(), learned.begin(), learned.end());
  auto bt = RunDemandBacktest(grid, nullptr, o);
  ASSERT_TRUE(bt.ok()) << bt.status().ToString();
  ASSERT_EQ(bt->models.size(), 2 + learned.size());
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
  for (DemandModelKind k : learned) {
    const DemandModelScores* m = bt->Find(k);
    ASSERT_NE(m, nullptr);
    EXPECT_LT(m->horizons[0].all.rmse, sn->horizons[0].all.rmse) << m->name;
    EXPECT_EQ(m->busiest_zone_h1.size(), 2u);
  }
  const std::string md = bt->ToMarkdown({{12, "Big Zone"}});
  EXPECT_NE(md.find("| 12 Big Zone |"), std::string::npos) << md;
  EXPECT_NE(md.find("**WAPE, all zones**"), std::string::npos);
  EXPECT_EQ(bt->ToMetricMap().count("seasonal_naive_h6_rmse"), 1u);

  o.test_begin_us = T("2021-03-20");
  EXPECT_FALSE(RunDemandBacktest(grid, nullptr, o).ok()) << "test before the training end";
  o.test_begin_us = T("2021-03-29 00:30");
  EXPECT_FALSE(RunDemandBacktest(grid, nullptr, o).ok()) << "off a bucket boundary";
}

}  // namespace
}  // namespace bimride::tasks::demand
