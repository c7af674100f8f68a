#include "tasks/behaviour/behaviour_stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace bimride::tasks::behaviour {
namespace {

TEST(BehaviourStatsTest, OlsRecoversALineAndItsStandardError) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0.0, 0.5);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<double> x, y;
  const int n = 4000;
  for (int i = 0; i < n; ++i) {
    const double v = u(rng);
    x.insert(x.end(), {1.0, v});
    y.push_back(2.0 - 3.0 * v + noise(rng));
  }
  StatusOr<LinearFit> fit = FitOls(x, 2, y);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  const double se = std::sqrt(fit->Cov(1, 1));
  EXPECT_NEAR(fit->coef[0], 2.0, 0.05);
  EXPECT_NEAR(fit->coef[1], -3.0, 4 * se);
  // Homoskedastic noise: se(slope) = sigma / sqrt(n var(x)) = 0.5 / sqrt(4000 / 3).
  EXPECT_NEAR(se, 0.5 / std::sqrt(n / 3.0), 0.002);
}

TEST(BehaviourStatsTest, LogisticRecoversItsCoefficients) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<double> x, y;
  for (int i = 0; i < 20000; ++i) {
    const double v = 2 * u(rng) - 1;
    const double p = 1 / (1 + std::exp(-(0.5 + 2.0 * v)));
    x.insert(x.end(), {1.0, v});
    y.push_back(u(rng) < p ? 1.0 : 0.0);
  }
  StatusOr<LinearFit> fit = FitLogistic(x, 2, y);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  EXPECT_NEAR(fit->coef[0], 0.5, 4 * std::sqrt(fit->Cov(0, 0)));
  EXPECT_NEAR(fit->coef[1], 2.0, 4 * std::sqrt(fit->Cov(1, 1)));
}

TEST(BehaviourStatsTest, BadInputIsAnError) {
  EXPECT_FALSE(FitOls(std::vector<double>{1, 2, 3}, 2, std::vector<double>{1, 2}).ok());
  // Collinear columns.
  EXPECT_FALSE(
      FitOls(std::vector<double>{1, 2, 1, 2, 1, 2, 1, 2}, 2, std::vector<double>{1, 2, 3, 4}).ok());
  StatusOr<LinearFit> bad_label =
      FitLogistic(std::vector<double>{1, 0, 1, 1, 1, 2}, 2, std::vector<double>{0, 2, 1});
  ASSERT_FALSE(bad_label.ok());
  EXPECT_NE(bad_label.status().message().find("row 1"), std::string::npos);
  // Perfectly separable data has no finite maximum-likelihood estimate.
  EXPECT_FALSE(FitLogistic(std::vector<double>{1, -2, 1, -1, 1, 1, 1, 2}, 2,
                           std::vector<double>{0, 0, 1, 1})
                   .ok());
}

}  // namespace
}  // namespace bimride::tasks::behaviour
