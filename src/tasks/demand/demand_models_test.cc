// Demand models: the baselines forecast their definitions; training options are checked. Label:
// unit.
#include "tasks/demand/demand_models.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "common/civil_time.h"
#include "tasks/demand/demand_dataset.h"
#include "tasks/demand/demand_test_util.h"

namespace bimride::tasks::demand {
namespace {

using features::DemandGrid;
using testing::FastOptions;
using testing::SyntheticGrid;

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
  if (!train::HasTrainer("xgboost")) GTEST_SKIP() << "built without XGBoost";
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

}  // namespace
}  // namespace bimride::tasks::demand
