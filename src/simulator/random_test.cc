#include "simulator/random.h"

#include <gtest/gtest.h>

#include <cmath>

namespace bimride::simulator {
namespace {

TEST(RngTest, SameSeedSameStreamDifferentSeedDifferentStream) {
  Rng a(7), b(7), c(8);
  bool any_diff = false;
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    any_diff |= x != c.Next();
  }
  EXPECT_TRUE(any_diff);
}

TEST(RngTest, ForkedStreamsAreIndependentOfEachOther) {
  Rng base(1);
  Rng f1 = base.Fork(1), f2 = base.Fork(2), f1_again = base.Fork(1);
  EXPECT_EQ(f1.Next(), f1_again.Next());
  EXPECT_NE(f1.Next(), f2.Next());
}

TEST(RngTest, UniformStaysInRangeWithMeanOneHalf) {
  Rng rng(3);
  double sum = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    const double u = rng.Uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  EXPECT_NEAR(sum / n, 0.5, 0.01);
}

// Poisson draws have mean and variance lambda, on both sides of the algorithm switch at 10.
TEST(RngTest, PoissonHasMeanAndVarianceLambda) {
  for (double lambda : {0.5, 3.0, 9.9, 10.0, 42.0, 900.0}) {
    Rng rng(11);
    const int n = 40000;
    double sum = 0, sum_sq = 0;
    for (int i = 0; i < n; ++i) {
      const double k = static_cast<double>(rng.Poisson(lambda));
      ASSERT_GE(k, 0);
      sum += k;
      sum_sq += k * k;
    }
    const double mean = sum / n;
    const double var = sum_sq / n - mean * mean;
    EXPECT_NEAR(mean, lambda, 4 * std::sqrt(lambda / n) + 1e-9) << "lambda " << lambda;
    EXPECT_NEAR(var / lambda, 1.0, 0.06) << "lambda " << lambda;
  }
  Rng rng(1);
  EXPECT_EQ(rng.Poisson(0.0), 0);
  EXPECT_EQ(rng.Poisson(-1.0), 0);
}

TEST(RngTest, NormalHasMeanZeroAndUnitVariance) {
  Rng rng(5);
  const int n = 100000;
  double sum = 0, sum_sq = 0;
  for (int i = 0; i < n; ++i) {
    const double x = rng.Normal();
    sum += x;
    sum_sq += x * x;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.02);
  EXPECT_NEAR(sum_sq / n, 1.0, 0.02);
}

TEST(AliasTableTest, SamplesInProportionToWeights) {
  AliasTable table({1.0, 0.0, 3.0, 6.0});
  ASSERT_FALSE(table.empty());
  Rng rng(9);
  int counts[4] = {0, 0, 0, 0};
  const int n = 100000;
  for (int i = 0; i < n; ++i) ++counts[table.Sample(rng)];
  EXPECT_EQ(counts[1], 0);
  EXPECT_NEAR(counts[0] / static_cast<double>(n), 0.1, 0.01);
  EXPECT_NEAR(counts[2] / static_cast<double>(n), 0.3, 0.01);
  EXPECT_NEAR(counts[3] / static_cast<double>(n), 0.6, 0.01);
}

TEST(AliasTableTest, RejectsWeightsWithoutPositiveFiniteSum) {
  EXPECT_TRUE(AliasTable(std::vector<double>{}).empty());
  EXPECT_TRUE(AliasTable({0.0, 0.0}).empty());
  EXPECT_TRUE(AliasTable({1.0, -1.0}).empty());
  EXPECT_TRUE(AliasTable({1.0, std::nan("")}).empty());
}

}  // namespace
}  // namespace bimride::simulator
