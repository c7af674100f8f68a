// WeatherTable: daily weather at one station (NOAA GHCN-Daily CSV, as in
// shared/data/weather/central_park_weather.csv), looked up by day for trip and demand features.
//
//   "STATION","NAME","DATE","AWND","PRCP","SNOW","SNWD","TMAX","TMIN"
//   "USW00094728","NY CITY CENTRAL PARK, NY US","2021-01-01","5.59","0.62","0.0","0.0","40","33"
//
// Units are the file's (NOAA "standard": inches, °F, mph). DATE is required; every other
// column is optional and an empty cell is a missing value (NaN). A day that the file lacks
// has all values NaN — models see "unknown", never a made-up zero.
// What can fail: NotFound for the file; InvalidArgument naming the file, line and column for
// a missing DATE column, a bad date or number, or a date given twice.
// Thread safety: immutable after Load; concurrent lookups are safe.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace bimride::features {

struct DailyWeather {
  static constexpr float kMissing = std::numeric_limits<float>::quiet_NaN();
  float precipitation_in = kMissing;  // PRCP
  float snowfall_in = kMissing;       // SNOW
  float snow_depth_in = kMissing;     // SNWD
  float max_temp_f = kMissing;        // TMAX
  float min_temp_f = kMissing;        // TMIN
  float wind_mph = kMissing;          // AWND (average wind speed)
};

class WeatherTable {
 public:
  WeatherTable() = default;
  static StatusOr<WeatherTable> Load(const std::string& path);
  // Parses CSV text; `name` prefixes errors.
  static StatusOr<WeatherTable> Parse(std::string_view csv_text, const std::string& name);

  // The weather of a day (days since 1970-01-01); all NaN outside the table or for a gap.
  DailyWeather Get(int64_t day_index) const;
  bool Has(int64_t day_index) const;

  int64_t first_day() const { return first_day_; }
  int64_t last_day() const { return first_day_ + static_cast<int64_t>(days_.size()) - 1; }
  // Days with a row in the file.
  int64_t day_count() const { return day_count_; }
  bool empty() const { return day_count_ == 0; }

  // The days in [first, last] as CSV in the same layout (DATE + the six value columns), for
  // bundling with a model so the server computes the same weather features as training.
  std::string ToCsv(int64_t first, int64_t last) const;

 private:
  int64_t first_day_ = 0;
  std::vector<DailyWeather> days_;  // first_day_ + i
  std::vector<bool> present_;
  int64_t day_count_ = 0;
};

}  // namespace bimride::features
