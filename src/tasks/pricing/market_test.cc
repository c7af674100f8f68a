#include "tasks/pricing/market.h"

#include <gtest/gtest.h>

#include "tasks/pricing/market_study.h"

namespace bimride::tasks::pricing {
namespace {

MarketConfig SmallMarket(PricingPolicy policy) {
  MarketConfig c;
  c.city.days = 2;
  c.city.zones = 12;
  c.city.requests_per_zone_day = 200;
  c.city.event_probability = 1.0;  // a spike every day
  c.seed = 7;
  c.pricing.policy = policy;
  return c;
}

TEST(MarketTest, SameSeedSameMarket) {
  MarketConfig c = SmallMarket(PricingPolicy::kRatio);
  StatusOr<MarketResult> a = SimulateMarket(c);
  StatusOr<MarketResult> b = SimulateMarket(c);
  ASSERT_TRUE(a.ok()) << a.status().message();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->completed, b->completed);
  EXPECT_EQ(a->revenue, b->revenue);
  EXPECT_EQ(a->waits, b->waits);
  EXPECT_EQ(a->multipliers, b->multipliers);
  c.seed = 8;
  StatusOr<MarketResult> other = SimulateMarket(c);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->requests, a->requests);
}

TEST(MarketTest, PoliciesSeeTheSameRiders) {
  StatusOr<MarketResult> s = SimulateMarket(SmallMarket(PricingPolicy::kStatic));
  StatusOr<MarketResult> r = SimulateMarket(SmallMarket(PricingPolicy::kRatio));
  ASSERT_TRUE(s.ok() && r.ok());
  EXPECT_EQ(s->requests, r->requests);
  EXPECT_EQ(s->requests_by_hour, r->requests_by_hour);
  // Every request ends one way.
  for (const MarketResult* m : {&*s, &*r}) {
    EXPECT_EQ(m->bookings, m->completed + m->cancelled + m->no_driver);
    EXPECT_GT(m->completed, 0);
    EXPECT_GT(m->spike_requests, 0);
  }
  // Static never surges; ratio surge does somewhere.
  for (float m : s->multipliers) ASSERT_EQ(m, 1.0f);
  float max_ratio = 1;
  for (float m : r->multipliers) max_ratio = std::max(max_ratio, m);
  EXPECT_GT(max_ratio, 1.0f);
}

TEST(MarketTest, ForecastPolicyNeedsAForecastAndRunsWithOne) {
  MarketConfig c = SmallMarket(PricingPolicy::kForecast);
  StatusOr<MarketResult> missing = SimulateMarket(c);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("forecast"), std::string::npos);
  StatusOr<features::DemandBaselines> f = LearnDemandForecast(c, 7);
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->zones.size(), 12u);
  c.forecast = &*f;
  StatusOr<MarketResult> r = SimulateMarket(c);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_GT(r->completed, 0);
}

TEST(MarketTest, BadConfigIsRefusedNamingTheField) {
  MarketConfig c = SmallMarket(PricingPolicy::kStatic);
  c.patience_median_minutes = -1;
  EXPECT_NE(SimulateMarket(c).status().message().find("patience"), std::string::npos);
  c = SmallMarket(PricingPolicy::kStatic);
  c.city.days = 0;
  EXPECT_NE(SimulateMarket(c).status().message().find("days"), std::string::npos);
  c = SmallMarket(PricingPolicy::kStatic);
  c.pricing.cap = 0.5;
  EXPECT_NE(SimulateMarket(c).status().message().find("cap"), std::string::npos);
  EXPECT_FALSE(LearnDemandForecast(SmallMarket(PricingPolicy::kStatic), 3).ok());
}

}  // namespace
}  // namespace bimride::tasks::pricing
