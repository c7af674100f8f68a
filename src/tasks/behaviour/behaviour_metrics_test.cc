#include "tasks/behaviour/behaviour_metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

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
  // Two equal-mass bins by p: {0.1, 0.35} (sum p 0.45, 1 booked), {0.4, 0.8} (1.2, 1 booked).
  EXPECT_NEAR(m->ece_equal_mass, (0.55 + 0.2) / 4, 1e-6);
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

// p uniform in [0.05, 0.95]; y ~ Bernoulli(p + shift) clamped to [0, 1].
void Draw(int n, double shift, uint32_t seed, std::vector<float>* p, std::vector<float>* y) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0, 1);
  for (int i = 0; i < n; ++i) {
    const float pi = 0.05f + 0.9f * u(rng);
    p->push_back(pi);
    y->push_back(u(rng) < std::clamp(pi + shift, 0.0, 1.0) ? 1.0f : 0.0f);
  }
}

TEST(BehaviourMetricsTest, EceIntervalCoversItAndTheNoiseFloorIsWhatCalibratedModelsShow) {
  std::vector<float> p, y;
  Draw(4000, 0.0, 7, &p, &y);
  auto m = ComputeClassifierMetrics(p, y);
  auto u = ComputeEceUncertainty(p, y, 10, 200, 3);
  ASSERT_TRUE(m.ok() && u.ok());
  EXPECT_LE(u->ci_low, m->ece);
  EXPECT_GE(u->ci_high, m->ece);
  // A calibrated model's ECE on 4000 rows is noise: about the floor, which is well above 0.
  EXPECT_GT(u->noise_floor, 0.005);
  EXPECT_LT(u->noise_floor, 0.03);
  EXPECT_LT(std::fabs(m->ece - u->noise_floor), 0.015);
  // Deterministic for a seed.
  auto again = ComputeEceUncertainty(p, y, 10, 200, 3);
  EXPECT_EQ(again->ci_low, u->ci_low);
  EXPECT_EQ(again->noise_floor, u->noise_floor);
  // Predictions 0.1 below the truth: the ECE and its whole interval sit far above the floor.
  std::vector<float> q, z;
  Draw(4000, 0.1, 7, &q, &z);
  auto mm = ComputeClassifierMetrics(q, z);
  auto uu = ComputeEceUncertainty(q, z, 10, 200, 3);
  ASSERT_TRUE(mm.ok() && uu.ok());
  EXPECT_GT(mm->ece, 0.07);
  EXPECT_GT(uu->ci_low, 2 * uu->noise_floor);
  EXPECT_FALSE(ComputeEceUncertainty(std::vector<float>{0.2f}, std::vector<float>{2}).ok());
  EXPECT_FALSE(ComputeEceUncertainty(p, y, 10, 0).ok());
}

TEST(BehaviourMetricsTest, IsotonicCalibrationPoolsViolatorsAndAppliesAsASteps) {
  auto c = IsotonicCalibration::Fit(std::vector<float>{0.4f, 0.1f, 0.3f, 0.2f},
                                    std::vector<float>{1, 0, 0, 1});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  // Sorted: 0.1→0, 0.2→1, 0.3→0, 0.4→1; 0.2 and 0.3 violate and pool to 0.5.
  EXPECT_EQ(c->blocks(), 3u);
  EXPECT_FLOAT_EQ(c->Apply(0.05f), 0.0f);  // below the first block
  EXPECT_FLOAT_EQ(c->Apply(0.1f), 0.0f);
  EXPECT_FLOAT_EQ(c->Apply(0.25f), 0.5f);
  EXPECT_FLOAT_EQ(c->Apply(0.39f), 0.5f);
  EXPECT_FLOAT_EQ(c->Apply(0.9f), 1.0f);
  // It repairs a model whose predictions are 0.1 too low (fitted on one sample, scored on another).
  std::vector<float> p, y, q, z;
  Draw(5000, 0.1, 1, &p, &y);
  Draw(5000, 0.1, 2, &q, &z);
  auto iso = IsotonicCalibration::Fit(p, y);
  ASSERT_TRUE(iso.ok());
  for (float& v : q) v = iso->Apply(v);
  auto before = ComputeClassifierMetrics(p, y), after = ComputeClassifierMetrics(q, z);
  ASSERT_TRUE(before.ok() && after.ok());
  EXPECT_GT(before->ece, 0.07);
  EXPECT_LT(after->ece, 0.03);
  EXPECT_FALSE(IsotonicCalibration::Fit(std::vector<float>{0.2f, 1.5f}, std::vector<float>{0, 1})
                   .ok());
}

}  // namespace
}  // namespace bimride::tasks::behaviour
