#include "features/eta_test_util.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>

#include "common/civil_time.h"
#include "features/eta_features.h"

namespace bimride::features::eta_test {

int Col(EtaFeatureSet set, const std::string& name) {
  const auto names = EtaFeatureNames(set);
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<int>(i);
  }
  ADD_FAILURE() << "no feature " << name;
  return 0;
}

std::string TempDir(const std::string& name) {
  std::string dir = (std::filesystem::temp_directory_path() /
                     ("eta_features_test_" + name + std::to_string(::getpid())))
                        .string();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

data::TripTable MakeTrips(int n, uint64_t seed, bool with_coordinates) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> zone(1, 4), minute(0, 28 * 24 * 60 - 1);
  std::normal_distribution<double> noise(0, 0.0005);
  data::TripTable t;
  t.source = data::TripSource::kSimulator;
  const int64_t start = MicrosFromCivil({2021, 1, 1});
  for (int i = 0; i < n; ++i) {
    data::TripRow r;
    r.pickup_zone = zone(rng);
    r.dropoff_zone = zone(rng);
    r.pickup_lon = -74.0 + 0.01 * r.pickup_zone + noise(rng);
    r.pickup_lat = 40.7 + noise(rng);
    r.dropoff_lon = -74.0 + 0.01 * r.dropoff_zone + noise(rng);
    r.dropoff_lat = 40.7 + noise(rng);
    if (!with_coordinates) r.pickup_lon = r.pickup_lat = r.dropoff_lon = r.dropoff_lat = NAN;
    r.pickup_time_us = start + minute(rng) * kMicrosPerMinute;
    const double km = std::abs(r.pickup_zone - r.dropoff_zone) * 0.84 + 0.5;
    const double minutes =
        3 * km + (HourOfDay(r.pickup_time_us) / 6) + 2 + std::abs(noise(rng)) * 1000;
    r.dropoff_time_us = r.pickup_time_us + static_cast<int64_t>(minutes * kMicrosPerMinute);
    r.distance_miles = static_cast<float>(km / 1.609344 * 1.3);
    t.Append(r);
  }
  return t;
}

WeatherTable MakeWeather() {
  std::string csv = "DATE,PRCP,SNOW,SNWD,TMAX,TMIN,AWND\n";
  for (int d = 1; d <= 20; ++d) {  // days 21.. are missing on purpose
    char line[96];
    std::snprintf(line, sizeof line, "2021-01-%02d,%.2f,0,0,%d,%d,5.5\n", d, d % 3 * 0.1, 30 + d,
                  20 + d);
    csv += line;
  }
  auto w = WeatherTable::Parse(csv, "weather.csv");
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  return w.ok() ? *w : WeatherTable();
}

}  // namespace bimride::features::eta_test
