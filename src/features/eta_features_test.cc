#include "features/eta_features.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/civil_time.h"
#include "features/eta_test_util.h"

namespace bimride::features {
namespace {

using eta_test::Col;
using eta_test::MakeTrips;
using eta_test::MakeWeather;

TEST(EtaFeaturesTest, FeaturesAreFiniteAndMeanWhatTheySay) {
  const data::TripTable trips = MakeTrips(2000, 1);
  const WeatherTable weather = MakeWeather();
  auto ctx = BuildEtaFeatureContext(EtaFeatureSet::kWithDistance, trips, nullptr, &weather);
  ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
  EXPECT_EQ(ctx->training_rows, 2000);
  EtaRequest r;
  r.pickup_zone = 1;
  r.dropoff_zone = 3;
  r.pickup_time_us = *ParseCivil("2021-01-04 08:30:00");  // a Monday with weather
  r.trip_distance_miles = 1.5;
  auto f = ComputeEtaFeatures(*ctx, std::span<const EtaRequest>(&r, 1));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  const EtaFeatureSet s = EtaFeatureSet::kWithDistance;
  for (float v : *f) EXPECT_TRUE(std::isfinite(v));
  EXPECT_EQ((*f)[Col(s, "pickup_zone")], 1);
  EXPECT_EQ((*f)[Col(s, "dropoff_zone")], 3);
  EXPECT_EQ((*f)[Col(s, "hour")], 8);
  EXPECT_EQ((*f)[Col(s, "weekday")], 0);
  EXPECT_EQ((*f)[Col(s, "minute_of_day")], 8 * 60 + 30);
  EXPECT_EQ((*f)[Col(s, "max_temp_f")], 34);
  EXPECT_EQ((*f)[Col(s, "weather_missing")], 0);
  EXPECT_EQ((*f)[Col(s, "trip_distance_miles")], 1.5f);
  // Centroids are the mean pickups: zones 1 and 3 lie ~0.02° of longitude (≈1.7 km) apart, east.
  EXPECT_NEAR((*f)[Col(s, "distance_km")], 1.69, 0.05);
  EXPECT_NEAR((*f)[Col(s, "bearing_sin")], 1.0, 0.01);
  // Pair (1, 3) was seen ~125 times: its median duration is near 3·(2·0.84+0.5)+2+hour effect.
  EXPECT_GT((*f)[Col(s, "pair_log_count")], std::log(50.0));
  EXPECT_NEAR((*f)[Col(s, "pair_median_minutes")], 3 * 2.18 + 2 + 1.5, 1.5);

  // Jan 1st is a federal holiday; a day the weather table lacks falls back and is flagged.
  r.pickup_time_us = *ParseCivil("2021-01-01 10:00:00");
  f = ComputeEtaFeatures(*ctx, std::span<const EtaRequest>(&r, 1));
  EXPECT_EQ((*f)[Col(s, "holiday")], 1);
  r.pickup_time_us = *ParseCivil("2021-01-25 10:00:00");
  f = ComputeEtaFeatures(*ctx, std::span<const EtaRequest>(&r, 1));
  EXPECT_EQ((*f)[Col(s, "holiday")], 0);
  EXPECT_EQ((*f)[Col(s, "weather_missing")], 1);
  EXPECT_EQ((*f)[Col(s, "max_temp_f")], ctx->defaults[Col(s, "max_temp_f")]);
  for (float v : *f) EXPECT_TRUE(std::isfinite(v));
}

TEST(EtaFeaturesTest, UnseenPairFallsBackToReversePairThenZones) {
  data::TripTable trips = MakeTrips(500, 2);
  // Keep only trips 1→2 (and a few others) so 2→1 is unseen but its reverse is known.
  std::vector<size_t> keep;
  for (size_t i = 0; i < trips.size(); ++i) {
    if (!(trips.pickup_zone[i] == 2 && trips.dropoff_zone[i] == 1)) keep.push_back(i);
  }
  trips = trips.Take(keep);
  auto ctx = BuildEtaFeatureContext(EtaFeatureSet::kBooking, trips, nullptr, nullptr);
  ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
  ASSERT_EQ(ctx->FindPair(2, 1), nullptr);
  ASSERT_NE(ctx->FindPair(1, 2), nullptr);
  EtaRequest r;
  r.pickup_zone = 2;
  r.dropoff_zone = 1;
  r.pickup_time_us = *ParseCivil("2021-01-05 12:00:00");
  auto f = ComputeEtaFeatures(*ctx, std::span<const EtaRequest>(&r, 1));
  ASSERT_TRUE(f.ok());
  const EtaFeatureSet s = EtaFeatureSet::kBooking;
  EXPECT_EQ((*f)[Col(s, "pair_log_count")], 0);
  // The reverse pair's median, shrunk a little toward the zone medians.
  EXPECT_NEAR((*f)[Col(s, "pair_median_minutes")], ctx->FindPair(1, 2)->median_minutes, 0.5);
}

TEST(EtaFeaturesTest, CoordinatesGiveDistanceAndBearingDirectly) {
  const data::TripTable trips = MakeTrips(500, 7);
  auto ctx = BuildEtaFeatureContext(EtaFeatureSet::kBooking, trips, nullptr, nullptr);
  ASSERT_TRUE(ctx.ok());
  // Training trips all ran east-west; open the clipping range to see the raw geometry.
  ctx->lower.assign(ctx->lower.size(), -INFINITY);
  ctx->upper.assign(ctx->upper.size(), INFINITY);
  EtaRequest r;
  r.pickup_zone = 1;
  r.dropoff_zone = 1;
  r.pickup_time_us = *ParseCivil("2021-01-04 08:00:00");
  r.pickup_lon = -73.99;
  r.pickup_lat = 40.70;
  r.dropoff_lon = -73.99;
  r.dropoff_lat = 40.71;  // 1.11 km due north
  auto f = ComputeEtaFeatures(*ctx, std::span<const EtaRequest>(&r, 1));
  ASSERT_TRUE(f.ok());
  const EtaFeatureSet s = EtaFeatureSet::kBooking;
  EXPECT_NEAR((*f)[Col(s, "distance_km")], 1.112, 0.01);
  EXPECT_NEAR((*f)[Col(s, "manhattan_km")], 1.112, 0.01);
  EXPECT_NEAR((*f)[Col(s, "bearing_cos")], 1.0, 1e-6);
  EXPECT_EQ((*f)[Col(s, "same_zone")], 1);
}

}  // namespace
}  // namespace bimride::features
