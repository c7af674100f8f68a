#include "features/geo.h"

#include <gtest/gtest.h>

#include <cmath>

namespace bimride::features {
namespace {

TEST(GeoTest, HaversineMatchesAKnownDistance) {
  // Times Square → JFK terminal 4, ~21.6 km great circle.
  const double km = HaversineKm(-73.9855, 40.7580, -73.7781, 40.6413);
  EXPECT_NEAR(km, 21.6, 0.3);
  EXPECT_DOUBLE_EQ(HaversineKm(-73.9, 40.7, -73.9, 40.7), 0.0);
  EXPECT_TRUE(std::isnan(HaversineKm(NAN, 40.7, -73.9, 40.7)));
}

TEST(GeoTest, ManhattanIsAtLeastTheStraightLine) {
  const double h = HaversineKm(-73.99, 40.73, -73.95, 40.78);
  const double m = ManhattanKm(-73.99, 40.73, -73.95, 40.78);
  EXPECT_GT(m, h);
  EXPECT_LT(m, h * std::sqrt(2.0) + 1e-9);
  // Due north: both are the same.
  EXPECT_NEAR(ManhattanKm(-73.9, 40.7, -73.9, 40.8), HaversineKm(-73.9, 40.7, -73.9, 40.8), 1e-3);
}

TEST(GeoTest, BearingPointsTheRightWay) {
  EXPECT_NEAR(BearingDegrees(-73.9, 40.7, -73.9, 40.8), 0.0, 1e-6);     // north
  EXPECT_NEAR(BearingDegrees(-73.9, 40.7, -73.8, 40.7), 90.0, 0.1);     // east
  EXPECT_NEAR(BearingDegrees(-73.9, 40.8, -73.9, 40.7), 180.0, 1e-6);   // south
  EXPECT_NEAR(BearingDegrees(-73.8, 40.7, -73.9, 40.7), 270.0, 0.1);    // west
}

}  // namespace
}  // namespace bimride::features
