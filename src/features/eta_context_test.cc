#include "features/eta_context.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/civil_time.h"
#include "features/eta_features.h"
#include "features/eta_test_util.h"

namespace bimride::features {
namespace {

using eta_test::Col;
using eta_test::MakeTrips;
using eta_test::MakeWeather;

TEST(EtaContextTest, NumericFeaturesAreClippedToTheTrainingRange) {
  const data::TripTable trips = MakeTrips(800, 9);
  const WeatherTable weather = MakeWeather();  // max temperatures 31..50 °F
  auto ctx = BuildEtaFeatureContext(EtaFeatureSet::kWithDistance, trips, nullptr, &weather);
  ASSERT_TRUE(ctx.ok());
  const EtaFeatureSet s = EtaFeatureSet::kWithDistance;
  EXPECT_EQ(ctx->upper[Col(s, "max_temp_f")], 50);
  EXPECT_EQ(ctx->lower[Col(s, "max_temp_f")], 0);  // ranges start at 0 at least
  EtaRequest r;
  r.pickup_zone = 1;
  r.dropoff_zone = 2;
  r.pickup_time_us = *ParseCivil("2021-01-20 08:00:00");  // max temp 50
  r.trip_distance_miles = 5000;                           // a broken meter
  auto f = ComputeEtaFeatures(*ctx, std::span<const EtaRequest>(&r, 1));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)[Col(s, "max_temp_f")], 50);
  EXPECT_EQ((*f)[Col(s, "trip_distance_miles")], ctx->upper[Col(s, "trip_distance_miles")]);
  EXPECT_LT((*f)[Col(s, "trip_distance_miles")], 5);
  // Ids are never clipped.
  EXPECT_EQ(ctx->lower[kEtaColPickupZone], -INFINITY);
}

TEST(EtaContextTest, TrainingNeedsATripWithAPositiveDuration) {
  data::TripTable trips = MakeTrips(20, 11);
  trips.dropoff_time_us = trips.pickup_time_us;  // every duration 0
  auto ctx = BuildEtaFeatureContext(EtaFeatureSet::kBooking, trips, nullptr, nullptr);
  ASSERT_FALSE(ctx.ok());
  EXPECT_EQ(ctx.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ctx.status().message(), "ETA context: no training trip with a positive duration");
}

TEST(EtaContextTest, ShrinkTowardsWeighsTheMedianByItsCount) {
  EXPECT_EQ(ShrinkTowards(0, 10, 4, 5), 4);        // unseen: the fallback
  EXPECT_EQ(ShrinkTowards(3, NAN, 4, 5), 4);       // no median: the fallback
  EXPECT_EQ(ShrinkTowards(3, 10, NAN, 5), 10);     // no fallback: the median
  EXPECT_FLOAT_EQ(ShrinkTowards(5, 10, 4, 5), 7);  // (5·10 + 5·4) / 10
}

}  // namespace
}  // namespace bimride::features
