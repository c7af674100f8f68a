#include "features/eta_features.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include "common/civil_time.h"
#include "features/calendar.h"
#include "features/geo.h"

namespace bimride::features {
namespace {

constexpr float kNaNf = std::numeric_limits<float>::quiet_NaN();
constexpr double kMaxTripMiles = 100;
constexpr double kMaxRatio = 10;
constexpr double kMaxMinutes = 240;

}  // namespace

void ComputeRawEtaFeatures(const EtaFeatureContext& c, const EtaRequest& r, float* f) {
  const int32_t pu = r.pickup_zone, dz = r.dropoff_zone;
  const int64_t day = DayIndex(r.pickup_time_us);
  const int hour = HourOfDay(r.pickup_time_us);
  const int weekday = DayOfWeek(r.pickup_time_us);
  const int64_t micros_of_day = r.pickup_time_us - day * kMicrosPerDay;

  double lon1, lat1, lon2, lat2;
  if (r.HasCoordinates()) {
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
  const float pu_minutes =
      ShrinkTowards(pz.count, pz.median_minutes, c.global.median_minutes, shrink);
  const float do_minutes =
      ShrinkTowards(dzs.count, dzs.median_minutes, c.global.median_minutes, shrink);
  float minutes_fallback = (pu_minutes + do_minutes) / 2;
  float speed_fallback =
      ShrinkTowards(pz.count, pz.median_speed_mph, c.global.median_speed_mph, shrink);
  // Distance without a pair: the straight line times the training trips' typical detour.
  float distance_fallback = static_cast<float>(miles * c.global.median_distance_miles);
  if (reverse != nullptr) {
    minutes_fallback =
        ShrinkTowards(reverse->count, reverse->median_minutes, minutes_fallback, shrink);
    speed_fallback =
        ShrinkTowards(reverse->count, reverse->median_speed_mph, speed_fallback, shrink);
    distance_fallback =
        ShrinkTowards(reverse->count, reverse->median_distance_miles, distance_fallback, shrink);
  }
  const int64_t n = pair ? pair->count : 0;
  const float pair_minutes =
      ShrinkTowards(n, pair ? pair->median_minutes : kNaNf, minutes_fallback, shrink);
  const float pair_distance =
      ShrinkTowards(n, pair ? pair->median_distance_miles : kNaNf, distance_fallback, shrink);
  const float pair_speed =
      ShrinkTowards(n, pair ? pair->median_speed_mph : kNaNf, speed_fallback, shrink);
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

Status ComputeEtaFeatures(const EtaFeatureContext& context, std::span<const EtaRequest> rows,
                          float* out) {
  const int width = EtaFeatureCount(context.set);
  if (static_cast<int>(context.defaults.size()) != width ||
      static_cast<int>(context.lower.size()) != width ||
      static_cast<int>(context.upper.size()) != width) {
    return FailedPreconditionError("ETA context has no feature defaults (not built or loaded)");
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    RETURN_IF_ERROR(CheckEtaRequest(rows[i], context.set, context.max_zone, i));
    float* f = out + i * width;
    ComputeRawEtaFeatures(context, rows[i], f);
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

}  // namespace bimride::features
