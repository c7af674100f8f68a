// Trip layouts a user describes in a JSON file (`--layout FILE`), for trip files of a provider
// the built-in layouts (trip_layouts.h) do not know:
//
//   {
//     "name": "citypickups",                        // optional; default: the file's stem
//     "source": "uber",                             // optional TripSource name; default unknown
//     "columns": {                                  // TripTable role → source column
//       "pickup_time": {"column": "pickup_time", "format": "%m/%d/%Y %H:%M"},
//       "pickup_lat": "lat",
//       "pickup_lon": "lon",
//       "distance": {"column": "dist_km", "unit": "km"}
//     }
//   }
//
// Roles: pickup_time, dropoff_time, pickup_zone, dropoff_zone, pickup_lon, pickup_lat,
// dropoff_lon, dropoff_lat, distance, fare, total, surge, passengers, vendor, base, rider_id.
// pickup_time is required; coordinates come in lon/lat pairs. A column is a name or an object
// with "column" and, for times, "format" (strftime-like, below) or, for distance, "unit"
// ("miles", "km", "m") or, for coordinates, "unit" ("degrees", "microdegrees"). Column names
// match the header case-insensitively; every mapped column must be present in a file read with
// the layout. Times without a format take the built-in forms (ISO or M/D/YYYY H:MM[:SS]).
//
// Time formats: %Y (year), %y (2-digit year, 20yy), %m (month, 1–2 digits), %b (Jan…Dec),
// %d (day), %H (hour 0–23), %I (hour 1–12) with %p (AM/PM), %M (minute), %S (second, with an
// optional fraction), %%; other characters match themselves. Seconds are optional: a format
// without %S also reads a trailing ":SS", and one ending in ":%S" also reads times without it.
//
// Errors name the layout file, the key path and the expected form ("l.json: columns.pickup_time
// .format: unknown directive %Q (want …)"); unknown keys are errors.
// Thread safety: a TripLayoutFile is immutable after loading; share it freely.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "data/trip_layouts.h"

namespace bimride::data {

struct TripLayoutFile {
  std::string path;
  // Name "<name> (layout file)"; readers kCsvReader | kParquetReader; bindings point into
  // `strings`.
  layouts::SourceLayout layout;
  bool has_dropoff = false;         // maps a dropoff time
  bool needs_zones = false;         // coordinates but no pickup zone: zones come from a ZoneIndex
  std::deque<std::string> strings;  // stable storage for the layout's C strings
};

StatusOr<std::unique_ptr<const TripLayoutFile>> LoadTripLayoutFile(const std::string& path);
// `json_text` as if read from `path` (for messages).
StatusOr<std::unique_ptr<const TripLayoutFile>> ParseTripLayout(std::string_view json_text,
                                                                const std::string& path);

// Checks a time format (the directives above); InvalidArgument naming the problem.
Status CheckTimeFormat(std::string_view format);
// Parses `text` by a format CheckTimeFormat accepts; InvalidArgument when it does not match.
StatusOr<int64_t> ParseTimeWithFormat(std::string_view text, std::string_view format);

}  // namespace bimride::data
