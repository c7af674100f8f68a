#include "tasks/pricing/pricing_engine.h"

#include <gtest/gtest.h>

namespace bimride::tasks::pricing {
namespace {

TEST(PricingEngineTest, StaticIsAlwaysTheFloor) {
  PricingConfig c;
  c.policy = PricingPolicy::kStatic;
  EXPECT_EQ(RawMultiplier(c, {50, 1, 0, 80}), 1.0);
}

TEST(PricingEngineTest, RatioSurgeFollowsRequestsPerIdleDriver) {
  PricingConfig c;
  c.policy = PricingPolicy::kRatio;
  c.ratio_gain = 1.0;
  EXPECT_DOUBLE_EQ(RawMultiplier(c, {6, 3, 0, 0}), 2.0);
  EXPECT_DOUBLE_EQ(RawMultiplier(c, {2, 4, 0, 0}), 0.5);  // the floor comes later
  EXPECT_DOUBLE_EQ(RawMultiplier(c, {0, 0, 0, 0}), 1.0);
  EXPECT_DOUBLE_EQ(RawMultiplier(c, {3, 0, 0, 0}), 3.0);  // no idle driver counts as one
}

TEST(PricingEngineTest, ForecastPolicyClearsTheMarketWhenDemandExceedsSupply) {
  PricingConfig c;
  c.policy = PricingPolicy::kForecast;
  c.conversion = {1.9, -2.0};
  // Plenty of drivers: no reason to raise the price.
  EXPECT_DOUBLE_EQ(RawMultiplier(c, {5, 20, 0, 5}), 1.0);
  // 30 requests expected, 15 drivers: the multiplier brings bookings down to about 15.
  const double m = RawMultiplier(c, {30, 15, 0, 30});
  EXPECT_GT(m, 1.5);
  EXPECT_LE(m, c.cap);
  EXPECT_NEAR(30 * c.conversion.Probability(m), 15, 1.0);
  // More supply, lower multiplier.
  EXPECT_LT(RawMultiplier(c, {30, 20, 0, 30}), m);
  // Revenue objective never prices lower than the trips objective.
  c.objective = PricingObjective::kRevenue;
  EXPECT_GE(RawMultiplier(c, {30, 15, 0, 30}), m);
}

TEST(PricingEngineTest, GuardRailsSmoothStepCapAndFloor) {
  PricingConfig c;
  c.smoothing = 0.5;
  c.max_step = 0.3;
  c.cap = 2.5;
  EXPECT_DOUBLE_EQ(GuardedMultiplier(c, 1.0, 1.4), 1.2);  // smoothed
  EXPECT_DOUBLE_EQ(GuardedMultiplier(c, 1.0, 5.0), 1.3);  // max step
  EXPECT_DOUBLE_EQ(GuardedMultiplier(c, 2.4, 9.0), 2.5);  // cap
  EXPECT_DOUBLE_EQ(GuardedMultiplier(c, 1.1, 0.2), 1.0);  // floor
}

TEST(PricingEngineTest, EngineStepsEveryZoneAndAnOutageResetsToTheFloor) {
  PricingConfig c;
  c.policy = PricingPolicy::kRatio;
  c.smoothing = 1.0;
  c.max_step = 10;
  PricingEngine e(c, 2);
  const std::vector<ZoneSignal> s = {{4, 2, 0, 0}, {1, 5, 0, 0}};
  EXPECT_EQ(e.Step(s), (std::vector<double>{2.0, 1.0}));
  EXPECT_EQ(e.Step(s, /*enabled=*/false), (std::vector<double>{1.0, 1.0}));
}

TEST(PricingEngineTest, BadConfigAndPolicyNamesAreRefused) {
  PricingConfig c;
  c.cap = 0.5;
  EXPECT_NE(ValidatePricingConfig(c).message().find("cap"), std::string::npos);
  c = PricingConfig();
  c.smoothing = 0;
  EXPECT_FALSE(ValidatePricingConfig(c).ok());
  c = PricingConfig();
  c.conversion.slope = 1.0;
  EXPECT_FALSE(ValidatePricingConfig(c).ok());
  EXPECT_TRUE(ValidatePricingConfig(PricingConfig()).ok());
  EXPECT_FALSE(ParsePricingPolicy("surge").ok());
  EXPECT_EQ(*ParsePricingPolicy("forecast"), PricingPolicy::kForecast);
}

}  // namespace
}  // namespace bimride::tasks::pricing
