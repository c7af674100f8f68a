// ETA requests: what the rider's app sends (or what a training trip had at booking), read from
// a data::TripTable offline or from raw request fields online, and the checks a request must
// pass before features are computed from it.
//
// Thread safety: plain values and free functions; thread-safe. What can fail: InvalidArgument
// "row R: field 'F': …" naming the first bad value or missing field.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <variant>
#include <vector>

#include "common/status.h"
#include "data/trip_table.h"
#include "features/eta_feature_spec.h"

namespace bimride::features {

// One trip request: what the rider's app sends (or what a training trip had at booking).
struct EtaRequest {
  static constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
  int32_t pickup_zone = 0;
  int32_t dropoff_zone = 0;
  int64_t pickup_time_us = data::kNullTime;  // naive local time (common/civil_time.h)
  double trip_distance_miles = kNone;        // metered; needed by eta_with_distance only
  double pickup_lon = kNone, pickup_lat = kNone, dropoff_lon = kNone, dropoff_lat = kNone;

  // True when all four coordinates are given (then they, not the zone centroids, give the
  // distance and bearing).
  bool HasCoordinates() const {
    return std::isfinite(pickup_lon) && std::isfinite(pickup_lat) && std::isfinite(dropoff_lon) &&
           std::isfinite(dropoff_lat);
  }
};

// The raw request fields a server must receive (the manifest's request_fields); optional
// fields (coordinates) are not listed.
std::vector<std::string> EtaRequestFields(EtaFeatureSet set);

// OK when row `row` is a request features can be computed from for `set` with valid zones
// 1..max_zone: zones in range, a pickup time, a finite trip_distance >= 0 for
// eta_with_distance, no or all four coordinates and those in range.
Status CheckEtaRequest(const EtaRequest& request, EtaFeatureSet set, int32_t max_zone, size_t row);

// Offline: the requests a trip table makes (coordinates only for coordinate sources).
std::vector<EtaRequest> EtaRequestsFromTrips(const data::TripTable& trips);

// Online: raw request fields, column-wise (a number or a string per row, as the server parses
// JSON). pickup_zone / dropoff_zone: integers (numbers or digit strings); pickup_datetime:
// "YYYY-MM-DD HH:MM:SS"; trip_distance (miles): number; optional pickup_longitude,
// pickup_latitude, dropoff_longitude, dropoff_latitude. A column not sent is null.
// InvalidArgument "row R: field 'F': …" naming the first bad value or missing field.
using RawFieldValue = std::variant<double, std::string>;
struct EtaRawColumns {
  int64_t rows = 0;
  const std::vector<RawFieldValue>* pickup_zone = nullptr;
  const std::vector<RawFieldValue>* dropoff_zone = nullptr;
  const std::vector<RawFieldValue>* pickup_datetime = nullptr;
  const std::vector<RawFieldValue>* trip_distance = nullptr;
  const std::vector<RawFieldValue>* pickup_longitude = nullptr;
  const std::vector<RawFieldValue>* pickup_latitude = nullptr;
  const std::vector<RawFieldValue>* dropoff_longitude = nullptr;
  const std::vector<RawFieldValue>* dropoff_latitude = nullptr;
};
StatusOr<std::vector<EtaRequest>> ParseEtaRequests(EtaFeatureSet set, const EtaRawColumns& raw);

}  // namespace bimride::features
