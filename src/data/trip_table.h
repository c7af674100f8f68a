// TripTable: the one canonical, columnar, in-memory table of trips that every source maps to
// (TLC green/yellow/FHV Parquet and CSV, the Kaggle trip-duration CSV, Uber 2014 pickups, the
// city simulator). Models, features and validation read only this.
//
// Times are local wall-clock time (New York for TLC data) without a zone, stored as
// microseconds since 1970-01-01T00:00:00 of that wall clock ("naive" time, as TLC publishes it).
// Missing values: kNullTime for times, 0 for zones (TLC's own ids are 1..265), NaN for floats,
// -1 for small integers and ids.
// Thread safety: a plain value; concurrent reads are safe, writes need external locking.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace bimride::data {

inline constexpr int64_t kNullTime = std::numeric_limits<int64_t>::min();
inline constexpr int32_t kUnknownZone = 0;
inline constexpr float kNullFloat = std::numeric_limits<float>::quiet_NaN();
inline constexpr double kNullCoord = std::numeric_limits<double>::quiet_NaN();

enum class TripSource : uint8_t {
  kUnknown = 0,
  kTlcGreen,
  kTlcYellow,
  kTlcFhv,
  kKaggle,
  kUber,
  kSimulator,
};
std::string_view TripSourceName(TripSource source);
// The source named `name` as TripSourceName spells it; InvalidArgument listing the names.
StatusOr<TripSource> ParseTripSource(std::string_view name);

// One trip, for building tables row by row and reading single rows back.
struct TripRow {
  int64_t pickup_time_us = kNullTime;
  int64_t dropoff_time_us = kNullTime;
  int32_t pickup_zone = kUnknownZone;
  int32_t dropoff_zone = kUnknownZone;
  double pickup_lon = kNullCoord;
  double pickup_lat = kNullCoord;
  double dropoff_lon = kNullCoord;
  double dropoff_lat = kNullCoord;
  float distance_miles = kNullFloat;  // metered trip distance
  float fare = kNullFloat;            // fare amount (before extras), USD
  float total = kNullFloat;           // total amount charged, USD
  float surge = kNullFloat;           // surge multiplier when known (simulator), else NaN
  int16_t passengers = -1;
  int16_t vendor = -1;
  int64_t rider_id = -1;              // simulator riders; -1 when unknown
};

// Every column of TripTable (and field of TripRow), in order: X(member) for each, for code that
// treats all columns alike (copying, reserving, the Python module's NumPy arrays).
#define BIMRIDE_TRIP_COLUMNS(X)                                                              \
  X(pickup_time_us) X(dropoff_time_us) X(pickup_zone) X(dropoff_zone) X(pickup_lon)          \
  X(pickup_lat) X(dropoff_lon) X(dropoff_lat) X(distance_miles) X(fare) X(total) X(surge)    \
  X(passengers) X(vendor) X(rider_id)

// InvalidArgument naming the first name that is not a TripTable column (as the
// BIMRIDE_TRIP_COLUMNS list spells them) and listing the columns.
Status CheckTripColumnNames(const std::vector<std::string>& names);

struct TripTable {
  TripSource source = TripSource::kUnknown;

  std::vector<int64_t> pickup_time_us;
  std::vector<int64_t> dropoff_time_us;
  std::vector<int32_t> pickup_zone;
  std::vector<int32_t> dropoff_zone;
  std::vector<double> pickup_lon;
  std::vector<double> pickup_lat;
  std::vector<double> dropoff_lon;
  std::vector<double> dropoff_lat;
  std::vector<float> distance_miles;
  std::vector<float> fare;
  std::vector<float> total;
  std::vector<float> surge;
  std::vector<int16_t> passengers;
  std::vector<int16_t> vendor;
  std::vector<int64_t> rider_id;

  size_t size() const { return pickup_time_us.size(); }
  bool empty() const { return pickup_time_us.empty(); }
  void Reserve(size_t n);
  void Clear();
  // Keeps the first n rows (n <= size()).
  void Truncate(size_t n);
  void Append(const TripRow& row);
  TripRow Row(size_t i) const;
  // Appends all rows of `other` (sources must match, or this table must be empty).
  Status AppendTable(const TripTable& other);
  // Internal error naming the column when column lengths disagree.
  Status CheckConsistent() const;
  // A table of the given rows, in the given order (indices must be < size()).
  TripTable Take(const std::vector<size_t>& rows) const;
  // Trip duration in minutes for row i (NaN when either time is missing).
  double DurationMinutes(size_t i) const;
};

}  // namespace bimride::data
