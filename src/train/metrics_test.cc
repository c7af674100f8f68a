#include "train/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace bimride::train {
namespace {

TEST(MetricsTest, MatchesHandComputedValues) {
  const std::vector<float> p = {2, 4, 0, 5};
  const std::vector<float> y = {1, 4, 2, 5};
  const Metrics m = ComputeMetrics(p, y);
  EXPECT_EQ(m.count, 4);
  EXPECT_DOUBLE_EQ(m.mae, (1 + 0 + 2 + 0) / 4.0);
  EXPECT_DOUBLE_EQ(m.rmse, std::sqrt((1 + 0 + 4 + 0) / 4.0));
  EXPECT_DOUBLE_EQ(m.bias, (1 + 0 - 2 + 0) / 4.0);
  EXPECT_DOUBLE_EQ(m.wape, 3.0 / 12.0);
  EXPECT_DOUBLE_EQ(m.mape, (1.0 / 1 + 0 + 2.0 / 2 + 0) / 4.0);
  EXPECT_DOUBLE_EQ(m.smape, (2.0 * 1 / 3 + 0 + 2.0 * 2 / 2 + 0) / 4.0);
  const double l = std::pow(std::log1p(2.0) - std::log1p(1.0), 2) + std::pow(std::log1p(2.0), 2);
  EXPECT_NEAR(m.rmsle, std::sqrt(l / 4.0), 1e-12);
  EXPECT_DOUBLE_EQ(m.mean_actual, 3.0);
}

TEST(MetricsTest, ZeroActualsAreLeftOutOfMapeAndBothZeroOutOfSmape) {
  const Metrics m = ComputeMetrics(std::vector<float>{0, 1}, std::vector<float>{0, 0});
  EXPECT_TRUE(std::isnan(m.mape));
  EXPECT_TRUE(std::isnan(m.wape));
  EXPECT_DOUBLE_EQ(m.smape, 2.0);  // only the second row counts: 2·1/1
}

TEST(MetricsTest, NanRowsAreSkippedAndCounted) {
  const Metrics m = ComputeMetrics(std::vector<float>{NAN, 3}, std::vector<float>{1, 1});
  EXPECT_EQ(m.count, 1);
  EXPECT_EQ(m.skipped, 1);
  EXPECT_DOUBLE_EQ(m.mae, 2.0);
  const Metrics empty = ComputeMetrics(std::vector<float>{}, std::vector<float>{});
  EXPECT_TRUE(std::isnan(empty.rmse));
}

TEST(MetricsTest, GroupsSplitRows) {
  const std::vector<float> p = {1, 2, 3, 10};
  const std::vector<float> y = {1, 1, 3, 0};
  const std::vector<int64_t> g = {7, 7, 8, 8};
  const auto by = ComputeGroupedMetrics(p, y, g);
  ASSERT_EQ(by.size(), 2u);
  EXPECT_DOUBLE_EQ(by.at(7).mae, 0.5);
  EXPECT_DOUBLE_EQ(by.at(8).mae, 5.0);
  EXPECT_EQ(by.at(8).count, 2);
  EXPECT_EQ(MetricsToMap(by.at(7), "valid_").at("valid_mae"), 0.5);
}

}  // namespace
}  // namespace bimride::train
