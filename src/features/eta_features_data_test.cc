// ETA features on real data: green taxi trips of January 2021 with the TLC zone index and the
// Central Park weather table.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

#include "data/trip_loader.h"
#include "features/eta_features.h"

namespace bimride::features {
namespace {

std::string DataDir() {
  const char* env = std::getenv("BIMRIDE_DATA_DIR");
  return env != nullptr ? env : BIMRIDE_DATA_DIR;
}

TEST(EtaFeaturesDataTest, GreenJanuaryFeaturesAreFiniteAndDistancesTrackTheMeter) {
  auto zones = data::ZoneIndex::Load(DataDir() + "/zones");
  ASSERT_TRUE(zones.ok()) << "need " << DataDir() << "/zones: " << zones.status().ToString();
  auto weather = WeatherTable::Load(DataDir() + "/weather/central_park_weather.csv");
  ASSERT_TRUE(weather.ok()) << weather.status().ToString();
  data::LoadTripsOptions lo;
  lo.zones = &*zones;
  auto trips = data::LoadTrips({DataDir() + "/tlc_green/green_tripdata_2021-01.parquet"}, lo);
  ASSERT_TRUE(trips.ok()) << trips.status().ToString();
  auto ctx = BuildEtaFeatureContext(EtaFeatureSet::kWithDistance, *trips, &*zones, &*weather);
  ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
  EXPECT_EQ(ctx->max_zone, 265);
  EXPECT_GT(ctx->pairs.size(), 5000u);
  const auto requests = EtaRequestsFromTrips(*trips);
  auto f = ComputeEtaFeatures(*ctx, requests);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  const int width = EtaFeatureCount(EtaFeatureSet::kWithDistance);
  const auto names = EtaFeatureNames(EtaFeatureSet::kWithDistance);
  int km_col = 0, meter_col = 0, missing_col = 0;
  for (int k = 0; k < width; ++k) {
    if (names[k] == "distance_km") km_col = k;
    if (names[k] == "trip_distance_miles") meter_col = k;
    if (names[k] == "weather_missing") missing_col = k;
  }
  double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, n = 0, weather_missing = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    const float* row = f->data() + i * width;
    for (int k = 0; k < width; ++k) ASSERT_TRUE(std::isfinite(row[k])) << names[k] << " row " << i;
    weather_missing += row[missing_col];
    const double x = row[km_col], y = row[meter_col];
    if (y <= 0 || y > 50) continue;
    sx += x, sy += y, sxx += x * x, syy += y * y, sxy += x * y, n += 1;
  }
  const double corr = (sxy / n - sx / n * sy / n) /
                      std::sqrt((sxx / n - sx / n * sx / n) * (syy / n - sy / n * sy / n));
  EXPECT_GT(corr, 0.8) << "centroid distance vs metered distance";
  EXPECT_EQ(weather_missing, 0) << "Central Park has every day of January 2021";
}

}  // namespace
}  // namespace bimride::features
