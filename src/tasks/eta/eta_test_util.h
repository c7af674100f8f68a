// Test-only: synthetic trips for the ETA tests (a line of zones with coordinates; duration
// grows with distance and rush hour), so unit tests need no outside data.
#pragma once

#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>

#include "common/civil_time.h"
#include "data/trip_table.h"

namespace bimride::tasks::eta::testing {

// `first_day` days since 1970; trips spread over `days` days.
inline data::TripTable SyntheticTrips(int n, uint64_t seed, int64_t first_day, int days,
                                      bool with_coordinates) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> zone(1, 6), minute(0, days * 24 * 60 - 1);
  std::normal_distribution<double> jitter(0, 0.001), noise(0, 1.0);
  data::TripTable t;
  t.source = data::TripSource::kSimulator;
  for (int i = 0; i < n; ++i) {
    data::TripRow r;
    r.pickup_zone = zone(rng);
    r.dropoff_zone = zone(rng);
    r.pickup_time_us = first_day * kMicrosPerDay + minute(rng) * kMicrosPerMinute;
    const int hour = HourOfDay(r.pickup_time_us);
    const double km =
        std::abs(r.pickup_zone - r.dropoff_zone) * 1.2 + 0.6 + std::abs(noise(rng)) * 0.3;
    const double rush = (hour >= 7 && hour <= 9) || (hour >= 16 && hour <= 18) ? 1.6 : 1.0;
    const double minutes = std::max(1.5, 2.5 * km * rush + 2 + noise(rng));
    r.dropoff_time_us = r.pickup_time_us + static_cast<int64_t>(minutes * kMicrosPerMinute);
    r.distance_miles = static_cast<float>(km / 1.609344 * 1.25);
    if (with_coordinates) {
      r.pickup_lon = -73.95 + 0.015 * r.pickup_zone + jitter(rng);
      r.pickup_lat = 40.75 + jitter(rng);
      r.dropoff_lon = -73.95 + 0.015 * r.dropoff_zone + jitter(rng);
      r.dropoff_lat = 40.75 + jitter(rng);
    }
    t.Append(r);
  }
  return t;
}

inline std::string TempDir(const std::string& name) {
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("bimride_eta_" + name + "_" + std::to_string(::getpid())))
                              .string();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace bimride::tasks::eta::testing
