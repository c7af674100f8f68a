// ZoneSeries: one value per taxi zone and time bucket — what the console's city map draws
// (pickups, forecast demand, ETA error, surge multipliers, any other per-zone series).
//
// Made by our code from trips (PickupsPerZoneHour, via features::DemandGrid) or read from a CSV
// a command wrote (ReadZoneSeriesCsv: `bimride forecast`'s table, a pricing run's surge table,
// an evaluation's per-zone errors), and kept as JSON files `<name>.series.json` in the
// console's data folder (`bimride serve --ui-data DIR`, `bimride console series`).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "data/trip_table.h"

namespace bimride::console {

struct ZoneSeries {
  std::string name;   // [A-Za-z0-9_.-]: the file name and the API path
  std::string title;  // "pickups per zone and hour"
  std::string unit;   // "trips", "minutes", "x"
  std::vector<std::string> times;  // bucket starts "YYYY-MM-DD HH:MM", ascending; one "" when
                                   // the series has no time (a per-zone total)
  std::vector<int32_t> zones;      // ascending zone ids
  std::vector<double> values;      // zone-major: zones.size() × times.size(); NaN when missing
  double value(size_t zone_pos, size_t time) const { return values[zone_pos * times.size() + time]; }
};

// InvalidArgument naming the name when it is empty or has characters beyond [A-Za-z0-9_.-].
Status CheckSeriesName(std::string_view name);

// Pickups per zone and hour of `trips` (rows without a pickup time or zone are not counted), from
// midnight of the first pickup to midnight after the last. InvalidArgument for a table without
// a counted pickup.
StatusOr<ZoneSeries> PickupsPerZoneHour(const data::TripTable& trips, const std::string& name);

// A CSV with a header. Long form: columns `zone`, `value` (or `value_column`) and optionally `time`
// ("YYYY-MM-DD HH:MM[:SS]"); wide form: `zone` then one column per time, headed by the time
// (other columns, as `bimride forecast`'s `last_3_buckets`, are skipped). Lines starting with
// '#' are comments. Errors name the file, the line and what is wrong (a zone that is not a
// positive integer, a value that is not a number, a repeated (zone, time), no time column in
// wide form, no rows).
StatusOr<ZoneSeries> ReadZoneSeriesCsv(const std::string& path, const std::string& name,
                                       const std::string& title, const std::string& unit,
                                       const std::string& value_column = "value");

std::string ZoneSeriesToJson(const ZoneSeries& series);
// Errors name `source` and the field.
StatusOr<ZoneSeries> ZoneSeriesFromJson(std::string_view json, std::string_view source);

}  // namespace bimride::console
