#include "tasks/pricing/market.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <sstream>

#include "common/file.h"
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

TEST(MarketStudyTest, ZoneHourBreakdownAddsUpToTheRunAndNeedsTheRequestLog) {
  MarketConfig c = SmallMarket(PricingPolicy::kRatio);
  char dir[] = "/tmp/pricing_zone_hour.XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/zone_hour.csv";
  StatusOr<MarketResult> no_log = SimulateMarket(c);
  ASSERT_TRUE(no_log.ok());
  Status refused = WriteZoneHourCsv(*no_log, path);
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("request log"), std::string::npos);
  c.keep_requests = true;
  StatusOr<MarketResult> r = SimulateMarket(c);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(WriteZoneHourCsv(*r, path).ok());
  StatusOr<std::string> text = ReadFile(path);
  ASSERT_TRUE(text.ok());
  std::istringstream in(*text);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "zone,hour,quotes,mean_multiplier,bookings,completed,cancelled,no_driver");
  long long quotes = 0, bookings = 0, completed = 0, cancelled = 0, no_driver = 0, rows = 0;
  while (std::getline(in, line)) {
    int zone = 0, hour = 0;
    long long q = 0, b = 0, d = 0, x = 0, n = 0;
    double m = 0;
    ASSERT_EQ(std::sscanf(line.c_str(), "%d,%d,%lld,%lf,%lld,%lld,%lld,%lld", &zone, &hour, &q, &m,
                          &b, &d, &x, &n),
              8)
        << line;
    EXPECT_GE(zone, 1);
    EXPECT_LE(zone, 12);
    EXPECT_LT(hour, 24);
    EXPECT_GE(m, c.pricing.floor);
    EXPECT_LE(m, c.pricing.cap);
    quotes += q, bookings += b, completed += d, cancelled += x, no_driver += n, ++rows;
  }
  EXPECT_GT(rows, 12);
  EXPECT_EQ(quotes, r->requests);
  EXPECT_EQ(bookings, r->bookings);
  EXPECT_EQ(completed, r->completed);
  EXPECT_EQ(cancelled, r->cancelled);
  EXPECT_EQ(no_driver, r->no_driver);
  std::remove(path.c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace bimride::tasks::pricing
