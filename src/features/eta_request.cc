#include "features/eta_request.h"

#include <charconv>
#include <cstdio>
#include <limits>

#include "common/civil_time.h"

namespace bimride::features {
namespace {

std::string RowField(size_t row, const char* field) {
  return "row " + std::to_string(row) + ": field '" + field + "': ";
}

StatusOr<double> NumberField(const std::vector<RawFieldValue>& column, size_t row,
                             const char* field) {
  const RawFieldValue& v = column[row];
  if (const double* d = std::get_if<double>(&v)) {
    if (!std::isfinite(*d)) return InvalidArgumentError(RowField(row, field) + "not finite");
    return *d;
  }
  const std::string& s = std::get<std::string>(v);
  double d = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(d)) {
    return InvalidArgumentError(RowField(row, field) + "'" + s + "' is not a number");
  }
  return d;
}

StatusOr<int32_t> ZoneField(const std::vector<RawFieldValue>& column, size_t row,
                            const char* field) {
  ASSIGN_OR_RETURN(double d, NumberField(column, row, field));
  if (d != std::floor(d)) {
    return InvalidArgumentError(RowField(row, field) + "zone must be a whole number");
  }
  // Whole numbers an int32 holds go on to CheckEtaRequest, which names the valid range.
  if (d < std::numeric_limits<int32_t>::min() || d > std::numeric_limits<int32_t>::max()) {
    char text[32];
    std::snprintf(text, sizeof text, "%.0f", d);
    return InvalidArgumentError(RowField(row, field) + "zone " + text + " is out of range");
  }
  return static_cast<int32_t>(d);
}

}  // namespace

std::vector<std::string> EtaRequestFields(EtaFeatureSet set) {
  std::vector<std::string> fields = {"pickup_zone", "dropoff_zone", "pickup_datetime"};
  if (set == EtaFeatureSet::kWithDistance) fields.push_back("trip_distance");
  return fields;
}

Status CheckEtaRequest(const EtaRequest& r, EtaFeatureSet set, int32_t max_zone, size_t row) {
  if (r.pickup_zone < 1 || r.pickup_zone > max_zone) {
    return InvalidArgumentError(RowField(row, "pickup_zone") + "zone " +
                                std::to_string(r.pickup_zone) + " is outside 1.." +
                                std::to_string(max_zone));
  }
  if (r.dropoff_zone < 1 || r.dropoff_zone > max_zone) {
    return InvalidArgumentError(RowField(row, "dropoff_zone") + "zone " +
                                std::to_string(r.dropoff_zone) + " is outside 1.." +
                                std::to_string(max_zone));
  }
  if (r.pickup_time_us == data::kNullTime) {
    return InvalidArgumentError(RowField(row, "pickup_datetime") + "missing");
  }
  if (set == EtaFeatureSet::kWithDistance &&
      !(std::isfinite(r.trip_distance_miles) && r.trip_distance_miles >= 0)) {
    return InvalidArgumentError(RowField(row, "trip_distance") +
                                "must be a finite number >= 0 (miles) for eta_with_distance");
  }
  const double coords[] = {r.pickup_lon, r.pickup_lat, r.dropoff_lon, r.dropoff_lat};
  const char* names[] = {"pickup_longitude", "pickup_latitude", "dropoff_longitude",
                         "dropoff_latitude"};
  int present = 0;
  for (double v : coords) present += std::isnan(v) ? 0 : 1;
  if (present != 0 && present != 4) {
    for (int i = 0; i < 4; ++i) {
      if (std::isnan(coords[i])) {
        return InvalidArgumentError(RowField(row, names[i]) +
                                    "missing while other coordinates are given");
      }
    }
  }
  for (int i = 0; i < 4 && present == 4; ++i) {
    const double limit = (i % 2 == 0) ? 180 : 90;
    if (!(std::fabs(coords[i]) <= limit)) {
      return InvalidArgumentError(RowField(row, names[i]) + "out of range");
    }
  }
  return OkStatus();
}

std::vector<EtaRequest> EtaRequestsFromTrips(const data::TripTable& t) {
  std::vector<EtaRequest> out(t.size());
  for (size_t i = 0; i < t.size(); ++i) {
    EtaRequest& r = out[i];
    r.pickup_zone = t.pickup_zone[i];
    r.dropoff_zone = t.dropoff_zone[i];
    r.pickup_time_us = t.pickup_time_us[i];
    r.trip_distance_miles = t.distance_miles[i];
    if (std::isfinite(t.pickup_lon[i]) && std::isfinite(t.pickup_lat[i]) &&
        std::isfinite(t.dropoff_lon[i]) && std::isfinite(t.dropoff_lat[i])) {
      r.pickup_lon = t.pickup_lon[i];
      r.pickup_lat = t.pickup_lat[i];
      r.dropoff_lon = t.dropoff_lon[i];
      r.dropoff_lat = t.dropoff_lat[i];
    }
  }
  return out;
}

StatusOr<std::vector<EtaRequest>> ParseEtaRequests(EtaFeatureSet set, const EtaRawColumns& raw) {
  struct Required {
    const std::vector<RawFieldValue>* column;
    const char* name;
  };
  std::vector<Required> required = {{raw.pickup_zone, "pickup_zone"},
                                    {raw.dropoff_zone, "dropoff_zone"},
                                    {raw.pickup_datetime, "pickup_datetime"}};
  if (set == EtaFeatureSet::kWithDistance) required.push_back({raw.trip_distance, "trip_distance"});
  for (const Required& q : required) {
    if (q.column == nullptr) {
      return InvalidArgumentError(std::string("missing field '") + q.name + "'");
    }
  }
  const std::vector<RawFieldValue>* optional[] = {raw.trip_distance, raw.pickup_longitude,
                                                  raw.pickup_latitude, raw.dropoff_longitude,
                                                  raw.dropoff_latitude};
  const char* optional_names[] = {"trip_distance", "pickup_longitude", "pickup_latitude",
                                  "dropoff_longitude", "dropoff_latitude"};
  for (const Required& q : required) {
    if (static_cast<int64_t>(q.column->size()) != raw.rows) {
      return InvalidArgumentError(std::string("field '") + q.name + "' has " +
                                  std::to_string(q.column->size()) + " values, expected " +
                                  std::to_string(raw.rows));
    }
  }
  for (int k = 0; k < 5; ++k) {
    if (optional[k] != nullptr && static_cast<int64_t>(optional[k]->size()) != raw.rows) {
      return InvalidArgumentError(std::string("field '") + optional_names[k] + "' has " +
                                  std::to_string(optional[k]->size()) + " values, expected " +
                                  std::to_string(raw.rows));
    }
  }
  std::vector<EtaRequest> out(static_cast<size_t>(std::max<int64_t>(raw.rows, 0)));
  for (size_t i = 0; i < out.size(); ++i) {
    EtaRequest& r = out[i];
    ASSIGN_OR_RETURN(r.pickup_zone, ZoneField(*raw.pickup_zone, i, "pickup_zone"));
    ASSIGN_OR_RETURN(r.dropoff_zone, ZoneField(*raw.dropoff_zone, i, "dropoff_zone"));
    const std::string* when = std::get_if<std::string>(&(*raw.pickup_datetime)[i]);
    if (when == nullptr) {
      return InvalidArgumentError(RowField(i, "pickup_datetime") +
                                  "must be text 'YYYY-MM-DD HH:MM:SS'");
    }
    StatusOr<int64_t> t = ParseCivil(*when);
    if (!t.ok()) return InvalidArgumentError(RowField(i, "pickup_datetime") + t.status().message());
    r.pickup_time_us = *t;
    double* targets[] = {&r.trip_distance_miles, &r.pickup_lon, &r.pickup_lat, &r.dropoff_lon,
                         &r.dropoff_lat};
    for (int k = 0; k < 5; ++k) {
      if (optional[k] == nullptr) continue;
      ASSIGN_OR_RETURN(*targets[k], NumberField(*optional[k], i, optional_names[k]));
    }
    // Offline the metered distance is a float column; round the same way online.
    r.trip_distance_miles = static_cast<float>(r.trip_distance_miles);
  }
  return out;
}

}  // namespace bimride::features
