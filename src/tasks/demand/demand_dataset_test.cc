// Training rows over the demand grid: out-of-fold baselines, level augmentation. Label: unit.
#include "tasks/demand/demand_dataset.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "common/civil_time.h"
#include "tasks/demand/demand_test_util.h"

namespace bimride::tasks::demand {
namespace {

using features::DemandGrid;
using testing::SyntheticGrid;

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
  auto rows =
      BuildTrainingRows(grid, *feats, 0, 28 * 24, nullptr, TrainingBaselines::kOutOfFold, &aug);
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

}  // namespace
}  // namespace bimride::tasks::demand
