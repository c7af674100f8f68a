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
  c.objective = PricingObjective::kCompletedTrips;
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

TEST(PricingEngineTest, TripsAtRatioRevenueNeverExpectsLessThanRatioSurge) {
  PricingConfig c;
  c.policy = PricingPolicy::kForecast;
  c.objective = PricingObjective::kTripsAtRatioRevenue;
  c.conversion = {1.9, -2.0};
  const std::vector<ZoneSignal> signals = {
      {12, 4, 2, 6, 6},   // ratio surges (3.0), nearby drivers make supply ample
      {8, 4, 0, 30, 0},   // ratio says 2.0, the forecast sees a spike: it under-prices
      {2, 10, 0, 3, 5},   // quiet zone
      {20, 0, 0, 25, 2},  // no idle driver at all
      {5, 5, 3, 12, 10}};
  for (const ZoneSignal& s : signals) {
    const double m = RawMultiplier(c, s);
    const double m_ratio = RatioMultiplierWithin(c, s);
    const double trips = ExpectedCompletedTrips(c, s, m);
    const double ratio_trips = ExpectedCompletedTrips(c, s, m_ratio);
    EXPECT_GE(trips, ratio_trips - 1e-9) << s.open_requests << "/" << s.idle_drivers;
    EXPECT_GE(m * trips, m_ratio * ratio_trips - 1e-9) << s.open_requests << "/" << s.idle_drivers;
    EXPECT_GE(m, c.floor);
    EXPECT_LE(m, c.cap);
  }
  // Supply ample, ratio at the cap beyond the revenue peak (riders still book at 3x, but
  // fewer): a lower multiplier earns as much and completes more trips; one step lower would earn
  // less than ratio, so it stops there rather than buy trips with revenue.
  const double m_ample = RawMultiplier(c, signals[0]);
  const double ratio_revenue = 3.0 * ExpectedCompletedTrips(c, signals[0], 3.0);
  EXPECT_DOUBLE_EQ(RatioMultiplierWithin(c, signals[0]), 3.0);
  EXPECT_LT(m_ample, 3.0);
  EXPECT_GT(ExpectedCompletedTrips(c, signals[0], m_ample),
            ExpectedCompletedTrips(c, signals[0], 3.0));
  EXPECT_LT((m_ample - 0.05) * ExpectedCompletedTrips(c, signals[0], m_ample - 0.05),
            ratio_revenue);
  // A spike ratio under-prices: it prices higher than ratio, clearing bookings towards supply,
  // for more trips (fewer overflow bookings) and more revenue.
  const double m_spike = RawMultiplier(c, signals[1]);
  EXPECT_GT(m_spike, RatioMultiplierWithin(c, signals[1]));
  EXPECT_GT(ExpectedCompletedTrips(c, signals[1], m_spike),
            ExpectedCompletedTrips(c, signals[1], RatioMultiplierWithin(c, signals[1])));
  // The plain trips objective prices the ample-supply zone at the floor (more trips, less
  // revenue): the constraint is what keeps the revenue.
  c.objective = PricingObjective::kCompletedTrips;
  EXPECT_DOUBLE_EQ(RawMultiplier(c, signals[0]), 1.0);
}

TEST(PricingEngineTest, RatioMultiplierWithinIsOnTheGridBetweenFloorAndCap) {
  PricingConfig c;
  EXPECT_DOUBLE_EQ(RatioMultiplierWithin(c, {6, 3, 0, 0}), 2.0);
  EXPECT_NEAR(RatioMultiplierWithin(c, {7, 3, 0, 0}), 2.35, 1e-9);  // 2.333 up to the grid
  EXPECT_DOUBLE_EQ(RatioMultiplierWithin(c, {1, 5, 0, 0}), 1.0);    // the floor
  EXPECT_DOUBLE_EQ(RatioMultiplierWithin(c, {40, 1, 0, 0}), 3.0);   // the cap
}

TEST(PricingEngineTest, TripsPlusRevenueWeightMovesFromTripsToRevenue) {
  PricingConfig c;
  c.policy = PricingPolicy::kForecast;
  c.conversion = {1.9, -2.0};
  const ZoneSignal s{10, 30, 0, 10, 0};  // supply ample
  c.objective = PricingObjective::kTripsPlusRevenue;
  c.revenue_weight = 0;
  EXPECT_DOUBLE_EQ(RawMultiplier(c, s), 1.0);  // trips alone
  c.revenue_weight = 100;
  c.objective = PricingObjective::kRevenue;
  const double revenue_m = RawMultiplier(c, s);
  c.objective = PricingObjective::kTripsPlusRevenue;
  EXPECT_NEAR(RawMultiplier(c, s), revenue_m, 0.051);  // revenue dominates
  EXPECT_GT(revenue_m, 2.0);
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
  c = PricingConfig();
  c.revenue_weight = -1;
  EXPECT_NE(ValidatePricingConfig(c).message().find("revenue weight"), std::string::npos);
  EXPECT_FALSE(ParsePricingObjective("profit").ok());
  EXPECT_NE(ParsePricingObjective("profit").status().message().find("profit"), std::string::npos);
  for (PricingObjective o :
       {PricingObjective::kCompletedTrips, PricingObjective::kRevenue,
        PricingObjective::kTripsAtRatioRevenue, PricingObjective::kTripsPlusRevenue}) {
    EXPECT_EQ(*ParsePricingObjective(PricingObjectiveName(o)), o);
  }
  EXPECT_FALSE(ParsePricingPolicy("surge").ok());
  EXPECT_EQ(*ParsePricingPolicy("forecast"), PricingPolicy::kForecast);
}

}  // namespace
}  // namespace bimride::tasks::pricing
