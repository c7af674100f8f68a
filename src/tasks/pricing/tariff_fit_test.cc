#include "tasks/pricing/tariff_fit.h"

#include <gtest/gtest.h>

#include "common/civil_time.h"

namespace bimride::tasks::pricing {
namespace {

data::TripTable MeteredTrips(int n) {
  data::TripTable t;
  for (int i = 0; i < n; ++i) {
    const double miles = 0.2 + 0.05 * (i % 200);
    const double minutes = 2 + (i * 7) % 40;
    const int64_t start = 1'600'000'000LL * kMicrosPerSecond + i * kMicrosPerMinute;
    t.pickup_time_us.push_back(start);
    t.dropoff_time_us.push_back(start + static_cast<int64_t>(minutes * kMicrosPerMinute));
    t.distance_miles.push_back(static_cast<float>(miles));
    t.fare.push_back(static_cast<float>(std::max(5.0, 2.5 + 2.5 * miles + 0.3 * minutes)));
  }
  t.pickup_zone.assign(t.pickup_time_us.size(), 1);
  return t;
}

TEST(TariffFitTest, RecoversAMeteredTariffWithAMinimum) {
  data::TripTable t = MeteredTrips(4000);
  // Dirt the fit must leave out.
  t.pickup_time_us.push_back(t.pickup_time_us[0]);
  t.dropoff_time_us.push_back(t.dropoff_time_us[0]);
  t.distance_miles.push_back(0);
  t.fare.push_back(-52);
  StatusOr<TariffFit> f = FitTariff(t);
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->rows, 4001);
  EXPECT_EQ(f->used, 4000);
  EXPECT_NEAR(f->base, 2.5, 0.05);
  EXPECT_NEAR(f->per_mile, 2.5, 0.01);
  EXPECT_NEAR(f->per_minute, 0.3, 0.01);
  EXPECT_NEAR(f->minimum, 5.0, 0.26);
  EXPECT_GT(f->r2, 0.99);
  EXPECT_NEAR(f->AsTariff().per_km, 2.5 * 0.621371, 0.01);
}

TEST(TariffFitTest, TooFewFaresIsAnError) {
  StatusOr<TariffFit> f = FitTariff(MeteredTrips(50));
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("usable fares"), std::string::npos);
}

TEST(RealityChecksTest, CorrelationAndKs) {
  std::array<double, 24> a{}, b{}, c{};
  for (size_t h = 0; h < 24; ++h) a[h] = h, b[h] = 2.0 * h + 1, c[h] = 24.0 - h;
  EXPECT_NEAR(PearsonCorrelation(a, b), 1.0, 1e-12);
  EXPECT_NEAR(PearsonCorrelation(a, c), -1.0, 1e-12);
  EXPECT_EQ(KsStatistic({1, 2, 3}, {1, 2, 3}), 0.0);
  EXPECT_EQ(KsStatistic({1, 2}, {3, 4}), 1.0);
  EXPECT_NEAR(KsStatistic({1, 2, 3, 4}, {3, 4, 5, 6}), 0.5, 1e-12);
  std::array<int64_t, 24> counts{};
  counts[8] = 3;
  counts[18] = 1;
  EXPECT_DOUBLE_EQ(HourlyShare(counts)[8], 0.75);
}

}  // namespace
}  // namespace bimride::tasks::pricing
