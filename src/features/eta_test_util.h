// Test helpers for the ETA feature tests (features_test only): a small simulated city's trips,
// a weather table with a gap, a feature's column and a fresh temporary folder.
#pragma once

#include <cstdint>
#include <string>

#include "data/trip_table.h"
#include "features/eta_feature_spec.h"
#include "features/weather.h"

namespace bimride::features::eta_test {

// The column of feature `name` in `set` (a test failure when there is none).
int Col(EtaFeatureSet set, const std::string& name);

// An empty folder under the system temp folder, unique to `name` and this process.
std::string TempDir(const std::string& name);

// A small simulated city: zones 1..4 on a line of longitudes, trips with coordinates near the
// zone centres, duration = 3 min per km + hour effect + noise.
data::TripTable MakeTrips(int n, uint64_t seed, bool with_coordinates = true);

// Daily weather for 2021-01-01..20 (max temperatures 31..50 °F); days 21.. are missing.
WeatherTable MakeWeather();

}  // namespace bimride::features::eta_test
