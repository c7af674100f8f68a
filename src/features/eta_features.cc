#include "features/eta_features.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <numbers>

#include "common/civil_time.h"
#include "common/file.h"
#include "data/csv_reader.h"
#include "features/calendar.h"
#include "features/geo.h"

namespace bimride::features {
namespace {

using nlohmann::json;

constexpr double kKmPerMile = 1.609344;
constexpr float kNaNf = std::numeric_limits<float>::quiet_NaN();
constexpr double kMaxTripMiles = 100;
constexpr double kMaxRatio = 10;
constexpr double kMaxMinutes = 240;
constexpr char kContextFile[] = "eta_context.json";
constexpr char kPairsFile[] = "eta_zone_pairs.csv";
constexpr char kWeatherFile[] = "eta_weather.csv";

const std::vector<std::string>& BookingNames() {
  static const std::vector<std::string> names = {"pickup_zone",
                                                 "dropoff_zone",
                                                 "pickup_borough",
                                                 "dropoff_borough",
                                                 "hour",
                                                 "weekday",
                                                 "same_zone",
                                                 "distance_km",
                                                 "manhattan_km",
                                                 "bearing_sin",
                                                 "bearing_cos",
                                                 "minute_of_day",
                                                 "holiday",
                                                 "precipitation_in",
                                                 "snowfall_in",
                                                 "snow_depth_in",
                                                 "max_temp_f",
                                                 "wind_mph",
                                                 "weather_missing",
                                                 "pair_log_count",
                                                 "pair_median_minutes",
                                                 "pickup_zone_median_minutes",
                                                 "dropoff_zone_median_minutes",
                                                 "pair_median_distance_miles",
                                                 "pair_median_speed_mph",
                                                 "hour_of_week_speed_mph",
                                                 "expected_minutes_booking"};
  return names;
}
const std::vector<std::string>& DistanceNames() {
  static const std::vector<std::string> names = {"trip_distance_miles", "detour_ratio",
                                                 "distance_vs_pair", "expected_minutes_pair_speed",
                                                 "expected_minutes_hour_speed"};
  return names;
}

float Median(std::vector<float>& v) {
  if (v.empty()) return kNaNf;
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + mid, v.end());
  float hi = v[mid];
  if (v.size() % 2 == 1) return hi;
  float lo = *std::max_element(v.begin(), v.begin() + mid);
  return static_cast<float>((static_cast<double>(lo) + hi) / 2);
}

// (n·m + k·fallback) / (n + k); the fallback alone when the level was not seen.
float Shrink(int64_t n, float m, float fallback, double k) {
  if (n <= 0 || !std::isfinite(m)) return fallback;
  if (!std::isfinite(fallback)) return m;
  return static_cast<float>((static_cast<double>(n) * m + k * fallback) /
                            (static_cast<double>(n) + k));
}

struct Accumulator {
  std::vector<float> minutes, distance, speed;
  EtaPairStats Finish() {
    EtaPairStats s;
    s.count = static_cast<int64_t>(minutes.size());
    s.median_minutes = Median(minutes);
    s.median_distance_miles = Median(distance);
    s.median_speed_mph = Median(speed);
    return s;
  }
};

bool HasCoordinates(const EtaRequest& r) {
  return std::isfinite(r.pickup_lon) && std::isfinite(r.pickup_lat) &&
         std::isfinite(r.dropoff_lon) && std::isfinite(r.dropoff_lat);
}

std::string RowField(size_t row, const char* field) {
  return "row " + std::to_string(row) + ": field '" + field + "': ";
}

Status CheckRequest(const EtaFeatureContext& c, const EtaRequest& r, size_t row) {
  if (r.pickup_zone < 1 || r.pickup_zone > c.max_zone) {
    return InvalidArgumentError(RowField(row, "pickup_zone") + "zone " +
                                std::to_string(r.pickup_zone) + " is outside 1.." +
                                std::to_string(c.max_zone));
  }
  if (r.dropoff_zone < 1 || r.dropoff_zone > c.max_zone) {
    return InvalidArgumentError(RowField(row, "dropoff_zone") + "zone " +
                                std::to_string(r.dropoff_zone) + " is outside 1.." +
                                std::to_string(c.max_zone));
  }
  if (r.pickup_time_us == data::kNullTime) {
    return InvalidArgumentError(RowField(row, "pickup_datetime") + "missing");
  }
  if (c.set == EtaFeatureSet::kWithDistance &&
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

// Features of one checked request; NaN where a value cannot be computed (defaults fill it).
void RawFeatures(const EtaFeatureContext& c, const EtaRequest& r, float* f) {
  const int32_t pu = r.pickup_zone, dz = r.dropoff_zone;
  const int64_t day = DayIndex(r.pickup_time_us);
  const int hour = HourOfDay(r.pickup_time_us);
  const int weekday = DayOfWeek(r.pickup_time_us);
  const int64_t micros_of_day = r.pickup_time_us - day * kMicrosPerDay;

  double lon1, lat1, lon2, lat2;
  if (HasCoordinates(r)) {
    lon1 = r.pickup_lon, lat1 = r.pickup_lat, lon2 = r.dropoff_lon, lat2 = r.dropoff_lat;
  } else {
    lon1 = c.zone_lon[pu], lat1 = c.zone_lat[pu], lon2 = c.zone_lon[dz], lat2 = c.zone_lat[dz];
  }
  const double km = HaversineKm(lon1, lat1, lon2, lat2);
  const double manhattan = ManhattanKm(lon1, lat1, lon2, lat2);
  const double bearing = BearingDegrees(lon1, lat1, lon2, lat2) * std::numbers::pi / 180.0;
  const double miles = km / kKmPerMile;

  int k = 0;
  f[k++] = static_cast<float>(pu);
  f[k++] = static_cast<float>(dz);
  f[k++] = static_cast<float>(c.zone_borough[pu]);
  f[k++] = static_cast<float>(c.zone_borough[dz]);
  f[k++] = static_cast<float>(hour);
  f[k++] = static_cast<float>(weekday);
  f[k++] = pu == dz ? 1.0f : 0.0f;
  f[k++] = static_cast<float>(km);
  f[k++] = static_cast<float>(manhattan);
  f[k++] = static_cast<float>(km > 0 ? std::sin(bearing) : 0.0);
  f[k++] = static_cast<float>(km > 0 ? std::cos(bearing) : 0.0);
  f[k++] = static_cast<float>(static_cast<double>(micros_of_day) / kMicrosPerMinute);
  f[k++] = IsUsFederalHoliday(day) ? 1.0f : 0.0f;
  const DailyWeather w = c.weather.Get(day);
  f[k++] = w.precipitation_in;
  f[k++] = w.snowfall_in;
  f[k++] = w.snow_depth_in;
  f[k++] = w.max_temp_f;
  f[k++] = w.wind_mph;
  f[k++] = c.weather.Has(day) ? 0.0f : 1.0f;

  // Encodings with fallbacks: pair → reverse pair → zones → global.
  const EtaPairStats* pair = c.FindPair(pu, dz);
  const EtaPairStats* reverse = c.FindPair(dz, pu);
  const EtaPairStats& pz = c.pickup_zone_stats[pu];
  const EtaPairStats& dzs = c.dropoff_zone_stats[dz];
  const double shrink = c.options.shrinkage;
  const float pu_minutes = Shrink(pz.count, pz.median_minutes, c.global.median_minutes, shrink);
  const float do_minutes = Shrink(dzs.count, dzs.median_minutes, c.global.median_minutes, shrink);
  float minutes_fallback = (pu_minutes + do_minutes) / 2;
  float speed_fallback = Shrink(pz.count, pz.median_speed_mph, c.global.median_speed_mph, shrink);
  // Distance without a pair: the straight line times the training trips' typical detour.
  float distance_fallback = static_cast<float>(miles * c.global.median_distance_miles);
  if (reverse != nullptr) {
    minutes_fallback = Shrink(reverse->count, reverse->median_minutes, minutes_fallback, shrink);
    speed_fallback = Shrink(reverse->count, reverse->median_speed_mph, speed_fallback, shrink);
    distance_fallback =
        Shrink(reverse->count, reverse->median_distance_miles, distance_fallback, shrink);
  }
  const int64_t n = pair ? pair->count : 0;
  const float pair_minutes =
      Shrink(n, pair ? pair->median_minutes : kNaNf, minutes_fallback, shrink);
  const float pair_distance =
      Shrink(n, pair ? pair->median_distance_miles : kNaNf, distance_fallback, shrink);
  const float pair_speed = Shrink(n, pair ? pair->median_speed_mph : kNaNf, speed_fallback, shrink);
  const float hour_speed = c.hour_of_week_speed_mph[weekday * 24 + hour];
  f[k++] = static_cast<float>(std::log1p(static_cast<double>(n)));
  f[k++] = pair_minutes;
  f[k++] = pu_minutes;
  f[k++] = do_minutes;
  f[k++] = pair_distance;
  f[k++] = pair_speed;
  f[k++] = hour_speed;
  f[k++] = static_cast<float>(
      std::min(kMaxMinutes, pair_distance / std::max(1.0, static_cast<double>(hour_speed)) * 60));
  if (c.set == EtaFeatureSet::kWithDistance) {
    // Meters go wrong (thousands of miles on a 10-minute trip): clip so one bad value cannot
    // dominate a standardised input; trees split the same either way.
    const double d = std::min(r.trip_distance_miles, kMaxTripMiles);
    f[k++] = static_cast<float>(d);
    f[k++] = static_cast<float>(std::min(kMaxRatio, d / std::max(0.05, miles)));
    f[k++] = static_cast<float>(
        std::min(kMaxRatio, d / std::max(0.05, static_cast<double>(pair_distance))));
    f[k++] = static_cast<float>(
        std::min(kMaxMinutes, d / std::max(1.0, static_cast<double>(pair_speed)) * 60));
    f[k++] = static_cast<float>(
        std::min(kMaxMinutes, d / std::max(1.0, static_cast<double>(hour_speed)) * 60));
  }
}

// ---- raw request fields ----

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
  if (d != std::floor(d) || d < 0 || d > 1e6) {
    return InvalidArgumentError(RowField(row, field) + "zone must be a whole number");
  }
  return static_cast<int32_t>(d);
}

// ---- context files ----

std::string FloatText(double v) {
  if (std::isnan(v)) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

json StatsToJson(const EtaPairStats& s) {
  return json::array({s.count, FloatText(s.median_minutes), FloatText(s.median_distance_miles),
                      FloatText(s.median_speed_mph)});
}

StatusOr<float> ParseFloatText(std::string_view text, const std::string& where) {
  if (text.empty()) return kNaNf;
  float v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return InvalidArgumentError(where + ": '" + std::string(text) + "' is not a number");
  }
  return v;
}

StatusOr<int64_t> ParseIntText(std::string_view text, const std::string& where) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return InvalidArgumentError(where + ": '" + std::string(text) + "' is not an integer");
  }
  return v;
}

StatusOr<EtaPairStats> StatsFromJson(const json& j, const std::string& where) {
  if (!j.is_array() || j.size() != 4 || !j[0].is_number_integer() || !j[1].is_string() ||
      !j[2].is_string() || !j[3].is_string()) {
    return InvalidArgumentError(where + ": expected [count, \"minutes\", \"miles\", \"mph\"]");
  }
  EtaPairStats s;
  s.count = j[0].get<int64_t>();
  ASSIGN_OR_RETURN(s.median_minutes, ParseFloatText(j[1].get<std::string>(), where));
  ASSIGN_OR_RETURN(s.median_distance_miles, ParseFloatText(j[2].get<std::string>(), where));
  ASSIGN_OR_RETURN(s.median_speed_mph, ParseFloatText(j[3].get<std::string>(), where));
  return s;
}

json FloatsToJson(const std::vector<float>& v) {
  json a = json::array();
  for (float x : v) a.push_back(FloatText(x));
  return a;
}

StatusOr<std::vector<float>> FloatsFromJson(const json& j, size_t expected,
                                            const std::string& where) {
  if (!j.is_array() || j.size() != expected) {
    return InvalidArgumentError(where + ": expected an array of " + std::to_string(expected) +
                                " numbers as text");
  }
  std::vector<float> out;
  for (const json& e : j) {
    if (!e.is_string()) return InvalidArgumentError(where + ": expected numbers as text");
    ASSIGN_OR_RETURN(float v, ParseFloatText(e.get<std::string>(), where));
    out.push_back(v);
  }
  return out;
}

std::string DoubleText(double v) {
  if (std::isnan(v)) return "";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

StatusOr<double> ParseDoubleText(std::string_view text, const std::string& where) {
  if (text.empty()) return std::numeric_limits<double>::quiet_NaN();
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return InvalidArgumentError(where + ": '" + std::string(text) + "' is not a number");
  }
  return v;
}

}  // namespace

std::string_view EtaFeatureSpecName(EtaFeatureSet set) {
  return set == EtaFeatureSet::kBooking ? kEtaBookingSpec : kEtaWithDistanceSpec;
}

StatusOr<EtaFeatureSet> ParseEtaFeatureSet(std::string_view text) {
  if (text == "booking" || text == kEtaBookingSpec) return EtaFeatureSet::kBooking;
  if (text == "with-distance" || text == kEtaWithDistanceSpec) return EtaFeatureSet::kWithDistance;
  return InvalidArgumentError("unknown ETA feature set '" + std::string(text) +
                              "' (booking | with-distance)");
}

std::vector<std::string> EtaRequestFields(EtaFeatureSet set) {
  std::vector<std::string> fields = {"pickup_zone", "dropoff_zone", "pickup_datetime"};
  if (set == EtaFeatureSet::kWithDistance) fields.push_back("trip_distance");
  return fields;
}

std::vector<std::string> EtaFeatureNames(EtaFeatureSet set) {
  std::vector<std::string> names = BookingNames();
  if (set == EtaFeatureSet::kWithDistance) {
    names.insert(names.end(), DistanceNames().begin(), DistanceNames().end());
  }
  return names;
}

int EtaFeatureCount(EtaFeatureSet set) {
  return static_cast<int>(BookingNames().size() +
                          (set == EtaFeatureSet::kWithDistance ? DistanceNames().size() : 0));
}

int EtaBoroughId(std::string_view b) {
  if (b.empty() || b == "Unknown" || b == "N/A") return 0;
  if (b == "Manhattan") return 1;
  if (b == "Brooklyn") return 2;
  if (b == "Queens") return 3;
  if (b == "Bronx") return 4;
  if (b == "Staten Island") return 5;
  if (b == "EWR") return 6;
  return 7;
}

const EtaPairStats* EtaFeatureContext::FindPair(int32_t pickup_zone, int32_t dropoff_zone) const {
  const int64_t key = static_cast<int64_t>(pickup_zone) * (max_zone + 1) + dropoff_zone;
  auto it = std::lower_bound(pairs.begin(), pairs.end(), key,
                             [](const auto& p, int64_t k) { return p.first < k; });
  return it != pairs.end() && it->first == key ? &it->second : nullptr;
}

StatusOr<EtaFeatureContext> BuildEtaFeatureContext(EtaFeatureSet set, const data::TripTable& train,
                                                   const data::ZoneIndex* zones,
                                                   const WeatherTable* weather,
                                                   const EtaContextOptions& options) {
  RETURN_IF_ERROR(train.CheckConsistent());
  EtaFeatureContext c;
  c.set = set;
  c.options = options;
  int32_t max_zone = std::max(zones != nullptr ? 265 : 1, options.min_max_zone);
  if (zones != nullptr) {
    for (int32_t id : zones->ZoneIds()) max_zone = std::max(max_zone, id);
  }
  for (size_t i = 0; i < train.size(); ++i) {
    max_zone = std::max({max_zone, train.pickup_zone[i], train.dropoff_zone[i]});
  }
  c.max_zone = max_zone;
  const size_t nz = static_cast<size_t>(max_zone) + 1;
  c.zone_lon.assign(nz, std::numeric_limits<double>::quiet_NaN());
  c.zone_lat.assign(nz, std::numeric_limits<double>::quiet_NaN());
  c.zone_borough.assign(nz, 0);
  if (zones != nullptr) {
    for (int32_t id : zones->ZoneIds()) {
      const data::ZoneInfo* z = zones->Zone(id);
      if (z == nullptr) continue;
      if (z->has_shape) {
        c.zone_lon[id] = z->centroid_lon;
        c.zone_lat[id] = z->centroid_lat;
      }
      c.zone_borough[id] = EtaBoroughId(z->borough);
    }
  } else {
    // No zone shapes (simulated city): a zone's centre is the mean of its pickups.
    std::vector<double> sx(nz, 0), sy(nz, 0);
    std::vector<int64_t> n(nz, 0);
    for (size_t i = 0; i < train.size(); ++i) {
      const int32_t z = train.pickup_zone[i];
      if (z <= 0 || !std::isfinite(train.pickup_lon[i]) || !std::isfinite(train.pickup_lat[i])) {
        continue;
      }
      sx[z] += train.pickup_lon[i];
      sy[z] += train.pickup_lat[i];
      ++n[z];
    }
    for (size_t z = 0; z < nz; ++z) {
      if (n[z] > 0) {
        c.zone_lon[z] = sx[z] / static_cast<double>(n[z]);
        c.zone_lat[z] = sy[z] / static_cast<double>(n[z]);
      }
    }
  }
  if (weather != nullptr && !weather->empty()) {
    // Round trip through the bundled CSV so training sees exactly what a server loads.
    ASSIGN_OR_RETURN(
        c.weather,
        WeatherTable::Parse(weather->ToCsv(weather->first_day(), weather->last_day()), "weather"));
  }

  // Learned statistics, from rows with a positive duration only.
  const std::vector<EtaRequest> requests = EtaRequestsFromTrips(train);
  Accumulator global;
  std::vector<Accumulator> pickup(nz), dropoff(nz);
  std::map<int64_t, Accumulator> pairs;
  std::vector<Accumulator> hour_of_week(168);
  std::vector<float> detour;
  std::vector<size_t> used;
  for (size_t i = 0; i < train.size(); ++i) {
    const double minutes = train.DurationMinutes(i);
    const EtaRequest& r = requests[i];
    if (!(minutes > 0) || r.pickup_zone < 1 || r.dropoff_zone < 1 ||
        r.pickup_time_us == data::kNullTime) {
      continue;
    }
    used.push_back(i);
    double lon1 = c.zone_lon[r.pickup_zone], lat1 = c.zone_lat[r.pickup_zone];
    double lon2 = c.zone_lon[r.dropoff_zone], lat2 = c.zone_lat[r.dropoff_zone];
    if (HasCoordinates(r))
      lon1 = r.pickup_lon, lat1 = r.pickup_lat, lon2 = r.dropoff_lon, lat2 = r.dropoff_lat;
    const double line_miles = HaversineKm(lon1, lat1, lon2, lat2) / kKmPerMile;
    double distance = train.distance_miles[i];
    if (!std::isfinite(distance)) distance = line_miles;
    if (std::isfinite(train.distance_miles[i]) && line_miles > 0.5) {
      detour.push_back(static_cast<float>(train.distance_miles[i] / line_miles));
    }
    const float m = static_cast<float>(minutes);
    const float d = static_cast<float>(distance);
    const float speed =
        std::isfinite(distance) ? static_cast<float>(distance / (minutes / 60)) : kNaNf;
    auto add = [&](Accumulator& a) {
      a.minutes.push_back(m);
      if (std::isfinite(d)) a.distance.push_back(d);
      if (std::isfinite(speed)) a.speed.push_back(speed);
    };
    add(global);
    add(pickup[r.pickup_zone]);
    add(dropoff[r.dropoff_zone]);
    add(pairs[static_cast<int64_t>(r.pickup_zone) * (max_zone + 1) + r.dropoff_zone]);
    add(hour_of_week[DayOfWeek(r.pickup_time_us) * 24 + HourOfDay(r.pickup_time_us)]);
  }
  if (used.empty()) {
    return InvalidArgumentError("ETA context: no training trip with a positive duration");
  }
  c.training_rows = static_cast<int64_t>(used.size());
  c.global = global.Finish();
  // The global "distance" is the typical detour factor (metered / straight line); without a
  // metered distance the straight line itself.
  c.global.median_distance_miles = detour.empty() ? 1.0f : Median(detour);
  c.pickup_zone_stats.resize(nz);
  c.dropoff_zone_stats.resize(nz);
  for (size_t z = 0; z < nz; ++z) {
    c.pickup_zone_stats[z] = pickup[z].Finish();
    c.dropoff_zone_stats[z] = dropoff[z].Finish();
  }
  for (auto& [key, acc] : pairs) {
    if (static_cast<int64_t>(acc.minutes.size()) >= options.min_pair_count) {
      c.pairs.emplace_back(key, acc.Finish());
    }
  }
  c.hour_of_week_speed_mph.resize(168);
  for (int h = 0; h < 168; ++h) {
    EtaPairStats s = hour_of_week[h].Finish();
    c.hour_of_week_speed_mph[h] =
        Shrink(s.count, s.median_speed_mph, c.global.median_speed_mph, options.shrinkage);
  }

  // Defaults: the median of every feature over the training rows (before defaults exist).
  const int width = EtaFeatureCount(set);
  std::vector<std::vector<float>> columns(width);
  std::vector<float> row(width);
  for (size_t i : used) {
    if (!CheckRequest(c, requests[i], i).ok()) continue;
    RawFeatures(c, requests[i], row.data());
    for (int k = 0; k < width; ++k) {
      if (std::isfinite(row[k])) columns[k].push_back(row[k]);
    }
  }
  c.defaults.resize(width);
  c.lower.assign(width, -std::numeric_limits<float>::infinity());
  c.upper.assign(width, std::numeric_limits<float>::infinity());
  for (int k = 0; k < width; ++k) {
    if (!columns[k].empty() && k > kEtaColWeekday) {  // ids are not clipped
      const auto [lo, hi] = std::minmax_element(columns[k].begin(), columns[k].end());
      // Down to 0 at least: counts and amounts start there whatever the training rows had
      // (an unseen pair's log count 0 must stay 0).
      c.lower[k] = std::min(*lo, 0.0f);
      c.upper[k] = *hi;
    }
    const float m = Median(columns[k]);
    c.defaults[k] = std::isfinite(m) ? m : 0.0f;
  }
  return c;
}

Status ComputeEtaFeatures(const EtaFeatureContext& context, std::span<const EtaRequest> rows,
                          float* out) {
  const int width = EtaFeatureCount(context.set);
  if (static_cast<int>(context.defaults.size()) != width ||
      static_cast<int>(context.lower.size()) != width ||
      static_cast<int>(context.upper.size()) != width) {
    return FailedPreconditionError("ETA context has no feature defaults (not built or loaded)");
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    RETURN_IF_ERROR(CheckRequest(context, rows[i], i));
    float* f = out + i * width;
    RawFeatures(context, rows[i], f);
    for (int k = 0; k < width; ++k) {
      f[k] = std::isfinite(f[k]) ? std::clamp(f[k], context.lower[k], context.upper[k])
                                 : context.defaults[k];
    }
  }
  return OkStatus();
}

StatusOr<std::vector<float>> ComputeEtaFeatures(const EtaFeatureContext& context,
                                                std::span<const EtaRequest> rows) {
  std::vector<float> out(rows.size() * EtaFeatureCount(context.set));
  RETURN_IF_ERROR(ComputeEtaFeatures(context, rows, out.data()));
  return out;
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

std::vector<std::string> EtaContextFileNames() { return {kContextFile, kPairsFile, kWeatherFile}; }

Status SaveEtaFeatureContext(const EtaFeatureContext& c, const std::string& dir) {
  RETURN_IF_ERROR(MakeDirs(dir));
  json j;
  j["format"] = "bimride_eta_context";
  j["format_version"] = 1;
  j["feature_spec"] = std::string(EtaFeatureSpecName(c.set));
  j["feature_spec_version"] = kEtaFeatureSpecVersion;
  j["feature_names"] = EtaFeatureNames(c.set);
  j["max_zone"] = c.max_zone;
  j["shrinkage"] = DoubleText(c.options.shrinkage);
  j["min_pair_count"] = c.options.min_pair_count;
  j["training_rows"] = c.training_rows;
  j["global"] = StatsToJson(c.global);
  j["hour_of_week_speed_mph"] = FloatsToJson(c.hour_of_week_speed_mph);
  j["defaults"] = FloatsToJson(c.defaults);
  j["lower"] = FloatsToJson(c.lower);
  j["upper"] = FloatsToJson(c.upper);
  json zones = json::array();
  for (int32_t z = 0; z <= c.max_zone; ++z) {
    zones.push_back({z, DoubleText(c.zone_lon[z]), DoubleText(c.zone_lat[z]), c.zone_borough[z],
                     StatsToJson(c.pickup_zone_stats[z]), StatsToJson(c.dropoff_zone_stats[z])});
  }
  j["zones"] = zones;
  RETURN_IF_ERROR(WriteFileAtomic(dir + "/" + kContextFile, j.dump(1) + "\n"));

  std::string pairs =
      "pickup_zone,dropoff_zone,count,median_minutes,median_distance_miles,median_speed_mph\n";
  for (const auto& [key, s] : c.pairs) {
    pairs += std::to_string(key / (c.max_zone + 1)) + "," + std::to_string(key % (c.max_zone + 1)) +
             "," + std::to_string(s.count) + "," + FloatText(s.median_minutes) + "," +
             FloatText(s.median_distance_miles) + "," + FloatText(s.median_speed_mph) + "\n";
  }
  RETURN_IF_ERROR(WriteFileAtomic(dir + "/" + kPairsFile, pairs));
  const std::string weather = c.weather.empty()
                                  ? std::string("DATE,PRCP,SNOW,SNWD,TMAX,TMIN,AWND\n")
                                  : c.weather.ToCsv(c.weather.first_day(), c.weather.last_day());
  return WriteFileAtomic(dir + "/" + kWeatherFile, weather);
}

StatusOr<EtaFeatureContext> LoadEtaFeatureContext(const std::string& dir) {
  const std::string path = dir + "/" + kContextFile;
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return InvalidArgumentError(path + ": not a JSON object");
  EtaFeatureContext c;
  try {
    if (j.value("format", "") != "bimride_eta_context" || j.value("format_version", 0) != 1) {
      return InvalidArgumentError(path + ": not a bimride_eta_context file of format_version 1");
    }
    ASSIGN_OR_RETURN(c.set, ParseEtaFeatureSet(j.at("feature_spec").get<std::string>()));
    if (j.at("feature_spec_version").get<int64_t>() != kEtaFeatureSpecVersion) {
      return InvalidArgumentError(path + ": feature_spec_version " +
                                  j.at("feature_spec_version").dump() + " is not supported (want " +
                                  std::to_string(kEtaFeatureSpecVersion) + ")");
    }
    if (j.at("feature_names").get<std::vector<std::string>>() != EtaFeatureNames(c.set)) {
      return InvalidArgumentError(path + ": feature_names differ from this build's " +
                                  std::string(EtaFeatureSpecName(c.set)));
    }
    c.max_zone = j.at("max_zone").get<int32_t>();
    if (c.max_zone < 1 || c.max_zone > 1000000) {
      return InvalidArgumentError(path + ": max_zone out of range");
    }
    ASSIGN_OR_RETURN(c.options.shrinkage,
                     ParseDoubleText(j.at("shrinkage").get<std::string>(), path + ": shrinkage"));
    c.options.min_pair_count = j.at("min_pair_count").get<int64_t>();
    c.training_rows = j.at("training_rows").get<int64_t>();
    ASSIGN_OR_RETURN(c.global, StatsFromJson(j.at("global"), path + ": global"));
    ASSIGN_OR_RETURN(c.hour_of_week_speed_mph, FloatsFromJson(j.at("hour_of_week_speed_mph"), 168,
                                                              path + ": hour_of_week_speed_mph"));
    ASSIGN_OR_RETURN(c.defaults,
                     FloatsFromJson(j.at("defaults"), EtaFeatureCount(c.set), path + ": defaults"));
    ASSIGN_OR_RETURN(c.lower,
                     FloatsFromJson(j.at("lower"), EtaFeatureCount(c.set), path + ": lower"));
    ASSIGN_OR_RETURN(c.upper,
                     FloatsFromJson(j.at("upper"), EtaFeatureCount(c.set), path + ": upper"));
    for (size_t k = 0; k < c.lower.size(); ++k) {
      if (!(c.lower[k] <= c.upper[k])) {
        return InvalidArgumentError(path + ": lower/upper: feature " + std::to_string(k) +
                                    " has an empty range");
      }
    }
    const json& zones = j.at("zones");
    const size_t nz = static_cast<size_t>(c.max_zone) + 1;
    if (!zones.is_array() || zones.size() != nz) {
      return InvalidArgumentError(path + ": zones: expected " + std::to_string(nz) + " entries");
    }
    c.zone_lon.resize(nz);
    c.zone_lat.resize(nz);
    c.zone_borough.resize(nz);
    c.pickup_zone_stats.resize(nz);
    c.dropoff_zone_stats.resize(nz);
    for (size_t z = 0; z < nz; ++z) {
      const json& e = zones[z];
      const std::string where = path + ": zones[" + std::to_string(z) + "]";
      if (!e.is_array() || e.size() != 6 || e[0].get<int64_t>() != static_cast<int64_t>(z)) {
        return InvalidArgumentError(where + ": expected [id, lon, lat, borough, pickup, dropoff]");
      }
      ASSIGN_OR_RETURN(c.zone_lon[z], ParseDoubleText(e[1].get<std::string>(), where));
      ASSIGN_OR_RETURN(c.zone_lat[z], ParseDoubleText(e[2].get<std::string>(), where));
      c.zone_borough[z] = e[3].get<int32_t>();
      if (c.zone_borough[z] < 0 || c.zone_borough[z] >= kEtaBoroughCount) {
        return InvalidArgumentError(where + ": borough id out of range");
      }
      ASSIGN_OR_RETURN(c.pickup_zone_stats[z], StatsFromJson(e[4], where));
      ASSIGN_OR_RETURN(c.dropoff_zone_stats[z], StatsFromJson(e[5], where));
    }
  } catch (const json::exception& e) {
    return InvalidArgumentError(path + ": " + e.what());
  }

  const std::string pairs_path = dir + "/" + kPairsFile;
  ASSIGN_OR_RETURN(std::string pairs_text, ReadFile(pairs_path));
  data::CsvTokenizer tok(pairs_text, pairs_path);
  std::vector<std::string_view> fields;
  ASSIGN_OR_RETURN(bool has_header, tok.Next(&fields));
  if (!has_header || fields.size() != 6 || fields[0] != "pickup_zone") {
    return InvalidArgumentError(pairs_path + ": line 1: expected the pickup_zone,… header");
  }
  int64_t last_key = -1;
  while (true) {
    ASSIGN_OR_RETURN(bool more, tok.Next(&fields));
    if (!more) break;
    const std::string where = pairs_path + ": line " + std::to_string(tok.line());
    if (fields.size() != 6) return InvalidArgumentError(where + ": expected 6 fields");
    ASSIGN_OR_RETURN(int64_t pu, ParseIntText(fields[0], where));
    ASSIGN_OR_RETURN(int64_t dz, ParseIntText(fields[1], where));
    if (pu < 0 || pu > c.max_zone || dz < 0 || dz > c.max_zone) {
      return InvalidArgumentError(where + ": zone outside 0.." + std::to_string(c.max_zone));
    }
    EtaPairStats s;
    ASSIGN_OR_RETURN(s.count, ParseIntText(fields[2], where));
    ASSIGN_OR_RETURN(s.median_minutes, ParseFloatText(fields[3], where));
    ASSIGN_OR_RETURN(s.median_distance_miles, ParseFloatText(fields[4], where));
    ASSIGN_OR_RETURN(s.median_speed_mph, ParseFloatText(fields[5], where));
    const int64_t key = pu * (c.max_zone + 1) + dz;
    if (key <= last_key) return InvalidArgumentError(where + ": pairs out of order or repeated");
    last_key = key;
    c.pairs.emplace_back(key, s);
  }
  const std::string weather_path = dir + "/" + kWeatherFile;
  ASSIGN_OR_RETURN(std::string weather_text, ReadFile(weather_path));
  ASSIGN_OR_RETURN(c.weather, WeatherTable::Parse(weather_text, weather_path));
  return c;
}

}  // namespace bimride::features
