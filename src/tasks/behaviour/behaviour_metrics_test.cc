#include "tasks/behaviour/behaviour_metrics.h"

#include <gtest/gtest.h>

#include <cmath>

namespace bimride::tasks::behaviour {
namespace {

TEST(BehaviourMetricsTest, HandComputedValues) {
  const std::vector<float> p = {0.1f, 0.4f, 0.35f, 0.8f};
  const std::vector<float> y = {0, 0, 1, 1};
  StatusOr<ClassifierMetrics> m = ComputeClassifierMetrics(p, y, 2);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  // Pairs (pos, neg): (0.35, 0.1) win, (0.35, 0.4) lose, (0.8, ·) win twice: 3/4.
  EXPECT_DOUBLE_EQ(m->auc, 0.75);
  const double ll = -(std::log(0.9) + std::log(0.6) + std::log(0.35) + std::log(0.8)) / 4;
  EXPECT_NEAR(m->log_loss, ll, 1e-6);
  EXPECT_NEAR(m->brier, (0.01 + 0.16 + 0.4225 + 0.04) / 4, 1e-6);
  // Two bins: [0, 0.5) holds 0.1, 0.4, 0.35 (mean 0.2833, rate 1/3); [0.5, 1] holds 0.8 (rate 1).
  ASSERT_EQ(m->reliability.size(), 2u);
  EXPECT_EQ(m->reliability[0].count, 3);
  EXPECT_NEAR(m->ece, 0.75 * std::fabs(0.85 / 3 - 1.0 / 3) + 0.25 * 0.2, 1e-6);
  EXPECT_DOUBLE_EQ(m->base_rate, 0.5);
  // Top decile of 4 rows is 1 row: 0.8, booked: lift 1 / 0.5.
  EXPECT_DOUBLE_EQ(m->lift_top_decile, 2.0);
  EXPECT_DOUBLE_EQ(m->lift_bottom_decile, 0.0);
}

TEST(BehaviourMetricsTest, TiesCountHalfAndOneClassHasNoAuc) {
  StatusOr<ClassifierMetrics> tie =
      ComputeClassifierMetrics(std::vector<float>{0.5f, 0.5f}, std::vector<float>{0, 1});
  ASSERT_TRUE(tie.ok());
  EXPECT_DOUBLE_EQ(tie->auc, 0.5);
  StatusOr<ClassifierMetrics> one =
      ComputeClassifierMetrics(std::vector<float>{0.2f, 0.7f}, std::vector<float>{1, 1});
  ASSERT_TRUE(one.ok());
  EXPECT_TRUE(std::isnan(one->auc));
}

TEST(BehaviourMetricsTest, BadInputNamesTheRow) {
  StatusOr<ClassifierMetrics> m =
      ComputeClassifierMetrics(std::vector<float>{0.2f, 1.5f}, std::vector<float>{0, 1});
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("row 1"), std::string::npos);
  EXPECT_FALSE(ComputeClassifierMetrics(std::vector<float>{0.2f}, std::vector<float>{0.5f}).ok());
  EXPECT_FALSE(ComputeClassifierMetrics(std::vector<float>{}, std::vector<float>{}).ok());
  EXPECT_FALSE(ComputeClassifierMetrics(std::vector<float>{0.1f}, std::vector<float>{0, 1}).ok());
}

}  // namespace
}  // namespace bimride::tasks::behaviour
