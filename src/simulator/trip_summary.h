// A readable summary of a TripTable (any source) plus, when given, a simulated city's zones
// and quotes: size, date range, trips per hour of day, busiest zones, duration and distance
// quantiles, mean fare, surge distribution and quote acceptance. Pure functions; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "data/trip_table.h"
#include "simulator/simulator.h"

namespace bimride::simulator {

struct ZoneTrips {
  int32_t zone = 0;
  std::string name;  // empty when zone names are unknown
  int64_t trips = 0;
};

struct SurgeBucket {
  std::string label;  // "1.0x", "1.1-1.4x", "1.5-1.9x", "2.0x+"
  int64_t trips = 0;
};

struct TripSummary {
  std::string source;
  int64_t trips = 0;
  int64_t first_pickup_us = data::kNullTime;
  int64_t last_pickup_us = data::kNullTime;
  std::array<int64_t, 24> trips_by_hour{};
  std::vector<ZoneTrips> busiest_pickup_zones;  // most trips first
  // NaN when no row has the value.
  double median_minutes = std::nan("");
  double p90_minutes = std::nan("");
  double median_miles = std::nan("");
  double p90_miles = std::nan("");
  double mean_fare = std::nan("");
  std::vector<SurgeBucket> surge;  // empty when no trip has a surge multiplier
  // From the quotes, when given.
  int64_t quotes = 0;
  int64_t accepted_quotes = 0;
  int64_t served_quotes = 0;
};

// `zones` (names for zone ids) and `quotes` may be null.
TripSummary SummarizeTrips(const data::TripTable& trips, const std::vector<Zone>* zones,
                           const std::vector<QuoteRecord>* quotes, size_t top_zones = 5);
TripSummary SummarizeCity(const SimulatedCity& city);
// Multi-line text report with a small bar chart of trips per hour.
std::string FormatTripSummary(const TripSummary& summary);

}  // namespace bimride::simulator
