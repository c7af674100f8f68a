#include "simulator/city_model.h"

#include <algorithm>
#include <cmath>

#include "common/civil_time.h"

namespace bimride::simulator {
namespace {

// Hourly shape of all requests, shaped after NYC for-hire trips: weekday peaks at 8 am and
// 6 pm, a trough at 4 am; weekend days start late and their nights (Sat/Sun early hours) peak.
constexpr double kWeekdayShape[24] = {0.45, 0.28, 0.18, 0.12, 0.10, 0.18, 0.45, 0.85,
                                      1.00, 0.85, 0.70, 0.70, 0.75, 0.75, 0.80, 0.85,
                                      0.90, 1.05, 1.10, 1.00, 0.85, 0.80, 0.75, 0.60};
constexpr double kWeekendShape[24] = {1.00, 0.90, 0.70, 0.45, 0.22, 0.14, 0.15, 0.20,
                                      0.30, 0.45, 0.60, 0.70, 0.75, 0.80, 0.80, 0.80,
                                      0.80, 0.80, 0.85, 0.85, 0.85, 0.90, 0.95, 0.95};
constexpr double kDriverWeekday[24] = {0.35, 0.25, 0.20, 0.15, 0.15, 0.25, 0.50, 0.75,
                                       0.85, 0.90, 0.90, 0.90, 0.90, 0.90, 0.90, 0.90,
                                       0.95, 0.95, 0.95, 0.90, 0.80, 0.70, 0.60, 0.50};
constexpr double kDriverWeekend[24] = {0.70, 0.60, 0.45, 0.30, 0.20, 0.15, 0.20, 0.30,
                                       0.45, 0.60, 0.70, 0.75, 0.80, 0.80, 0.80, 0.80,
                                       0.80, 0.80, 0.80, 0.80, 0.75, 0.75, 0.75, 0.75};

bool IsWeekend(int weekday) { return weekday >= 5; }
bool InRange(int hour, int from, int to) { return hour >= from && hour <= to; }  // inclusive
bool LateNight(int hour) { return hour >= 21 || hour <= 3; }
// Friday and Saturday nights, including the early hours of Saturday and Sunday.
bool PartyNight(int weekday, int hour) {
  return (weekday == 4 && hour >= 21) || (weekday == 5 && (hour >= 21 || hour <= 3)) ||
         (weekday == 6 && hour <= 3);
}

constexpr double kDegToRad = M_PI / 180.0;
constexpr double kEarthRadiusKm = 6371.0;
constexpr double kDetourFactor = 1.3;

}  // namespace

std::string_view ZoneTypeName(ZoneType type) {
  switch (type) {
    case ZoneType::kResidential:
      return "residential";
    case ZoneType::kBusiness:
      return "business";
    case ZoneType::kNightlife:
      return "nightlife";
    case ZoneType::kAirport:
      return "airport";
  }
  return "residential";
}

StatusOr<ZoneType> ParseZoneType(std::string_view name) {
  for (int t = 0; t < kNumZoneTypes; ++t) {
    if (ZoneTypeName(static_cast<ZoneType>(t)) == name) return static_cast<ZoneType>(t);
  }
  return InvalidArgumentError("unknown zone type '" + std::string(name) + "'");
}

std::string_view RiderProfileName(RiderProfile profile) {
  switch (profile) {
    case RiderProfile::kCommuter:
      return "commuter";
    case RiderProfile::kLeisure:
      return "leisure";
    case RiderProfile::kOccasional:
      return "occasional";
    case RiderProfile::kStudent:
      return "student";
  }
  return "occasional";
}

StatusOr<RiderProfile> ParseRiderProfile(std::string_view name) {
  for (int p = 0; p < kNumRiderProfiles; ++p) {
    if (RiderProfileName(static_cast<RiderProfile>(p)) == name) {
      return static_cast<RiderProfile>(p);
    }
  }
  return InvalidArgumentError("unknown rider profile '" + std::string(name) + "'");
}

std::string_view RiderStartName(RiderStart start) {
  return start == RiderStart::kStationary ? "stationary" : "new";
}

StatusOr<RiderStart> ParseRiderStart(std::string_view name) {
  if (name == "new") return RiderStart::kNew;
  if (name == "stationary") return RiderStart::kStationary;
  return InvalidArgumentError("rider start: want new or stationary, got '" + std::string(name) +
                              "'");
}

Status ValidateCityConfig(const CityConfig& c) {
  auto bad = [](const std::string& what) { return InvalidArgumentError("city config: " + what); };
  if (c.days <= 0 || c.days > kMaxDays) {
    return bad("days must be in 1.." + std::to_string(kMaxDays) + ", got " +
               std::to_string(c.days));
  }
  if (c.zones <= 0 || c.zones > kMaxZones) {
    return bad("zones must be in 1.." + std::to_string(kMaxZones) + ", got " +
               std::to_string(c.zones));
  }
  StatusOr<int64_t> start = ParseCivil(c.start_date);
  if (!start.ok()) return bad("start date: " + start.status().message());
  if (*start % kMicrosPerDay != 0) return bad("start date must be a date without a time");
  if (!(c.requests_per_zone_day > 0) || !std::isfinite(c.requests_per_zone_day)) {
    return bad("requests per zone and day must be > 0");
  }
  const double expected =
      c.requests_per_zone_day * static_cast<double>(c.zones) * static_cast<double>(c.days);
  if (expected > kMaxExpectedRequests) {
    return bad("days × zones × requests per zone-day = " + std::to_string(expected) +
               " expected requests, more than the limit of " +
               std::to_string(kMaxExpectedRequests));
  }
  if (c.riders < 0 || c.riders > 100'000'000) return bad("riders must be in 0..1e8");
  const Tariff& t = c.tariff;
  if (!(t.base_fare >= 0) || !(t.per_km >= 0) || !(t.per_minute >= 0) || !(t.minimum_fare >= 0) ||
      !(t.booking_fee >= 0) || !(t.tax_rate >= 0) ||
      !std::isfinite(t.base_fare + t.per_km + t.per_minute + t.minimum_fare + t.booking_fee +
                     t.tax_rate)) {
    return bad("tariff values must be finite and >= 0");
  }
  if (!(c.gravity_beta >= 0 && c.gravity_beta <= 5)) return bad("gravity beta must be in 0..5");
  if (!(c.rain_probability >= 0 && c.rain_probability <= 1)) {
    return bad("rain probability must be in 0..1");
  }
  if (!(c.event_probability >= 0 && c.event_probability <= 1)) {
    return bad("event probability must be in 0..1");
  }
  if (!(c.price_test_fraction >= 0 && c.price_test_fraction <= 1)) {
    return bad("price test fraction must be in 0..1");
  }
  if (!(c.price_test_spread >= 1 && c.price_test_spread <= 4)) {
    return bad("price test spread must be in 1..4");
  }
  if (!(c.driver_supply_ratio > 0 && c.driver_supply_ratio <= 100)) {
    return bad("driver supply ratio must be in (0, 100]");
  }
  if (!(c.max_surge >= 1 && c.max_surge <= 10)) return bad("max surge must be in 1..10");
  if (c.rider_start != RiderStart::kNew && c.rider_start != RiderStart::kStationary) {
    return bad("rider start must be new or stationary");
  }
  return OkStatus();
}

double RequestRateFactor(ZoneType type, int weekday, int hour) {
  const bool weekend = IsWeekend(weekday);
  double f = weekend ? kWeekendShape[hour] : kWeekdayShape[hour];
  if (weekday == 6 && hour >= 20) f *= 0.7;  // Sunday evening: home early
  if (weekday == 4 && hour >= 21) f *= 1.3;  // Friday night out
  const bool morning = !weekend && InRange(hour, 6, 9);
  const bool evening = !weekend && InRange(hour, 16, 19);
  switch (type) {
    case ZoneType::kResidential:
      if (morning) f *= 1.6;
      if (evening) f *= 0.7;
      if (LateNight(hour)) f *= 0.6;
      break;
    case ZoneType::kBusiness:
      if (morning) f *= 0.6;
      if (evening) f *= 1.6;
      if (weekend) f *= 0.6;
      if (LateNight(hour)) f *= 0.5;
      break;
    case ZoneType::kNightlife:
      if (LateNight(hour)) f *= PartyNight(weekday, hour) ? 2.5 : 1.8;
      if (InRange(hour, 6, 11)) f *= 0.5;
      break;
    case ZoneType::kAirport:
      // Flights land all day; few before 6 am.
      f = 0.5 * f + 0.5 * (hour < 6 ? 0.2 : (InRange(hour, 15, 20) ? 1.2 : 1.0));
      break;
  }
  return f;
}

double DriverOnlineFactor(int weekday, int hour) {
  return IsWeekend(weekday) ? kDriverWeekend[hour] : kDriverWeekday[hour];
}

double DestinationFactor(ZoneType type, int weekday, int hour) {
  const bool weekend = IsWeekend(weekday);
  switch (type) {
    case ZoneType::kResidential:
      if (!weekend && InRange(hour, 6, 10)) return 0.6;
      if (!weekend && InRange(hour, 16, 20)) return 2.5;
      if (hour <= 4) return 1.8;  // going home
      return 1.0;
    case ZoneType::kBusiness:
      if (!weekend && InRange(hour, 6, 10)) return 3.0;
      if (!weekend && InRange(hour, 16, 20)) return 0.6;
      if (weekend) return 0.6;
      return 1.0;
    case ZoneType::kNightlife:
      if (PartyNight(weekday, hour)) return 2.0;
      if (LateNight(hour) || InRange(hour, 19, 20)) return 1.5;
      return 0.8;
    case ZoneType::kAirport:
      return hour < 5 ? 0.4 : 1.0;
  }
  return 1.0;
}

double MeanSpeedKmh(int weekday, int hour, bool rain, double km) {
  double v;
  if (!IsWeekend(weekday)) {
    if (InRange(hour, 7, 9) || InRange(hour, 16, 18)) {
      v = 14;
    } else if (InRange(hour, 10, 15) || InRange(hour, 19, 20) || hour == 6) {
      v = 19;
    } else if (hour <= 5) {
      v = 32;
    } else {
      v = 25;
    }
  } else {
    if (hour <= 6) {
      v = 30;
    } else if (InRange(hour, 11, 19)) {
      v = 20;
    } else {
      v = 25;
    }
  }
  if (rain) v *= 0.8;
  // Longer trips spend more of their distance on faster roads.
  return v * (1.0 + 0.4 * std::min(km / 15.0, 1.0));
}

double ExpectedMinutes(double km, int weekday, int hour, bool rain) {
  constexpr double kOverheadMinutes = 1.5;
  return kOverheadMinutes + 60.0 * km / MeanSpeedKmh(weekday, hour, rain, km);
}

double RoadKm(double lon1, double lat1, double lon2, double lat2) {
  const double p1 = lat1 * kDegToRad, p2 = lat2 * kDegToRad;
  const double dp = p2 - p1, dl = (lon2 - lon1) * kDegToRad;
  const double h = std::sin(dp / 2) * std::sin(dp / 2) +
                   std::cos(p1) * std::cos(p2) * std::sin(dl / 2) * std::sin(dl / 2);
  return kDetourFactor * 2 * kEarthRadiusKm * std::asin(std::min(1.0, std::sqrt(h)));
}

double Fare(const Tariff& t, double km, double minutes, double surge) {
  const double metered = t.base_fare + t.per_km * km + t.per_minute * minutes;
  return std::max(t.minimum_fare, metered) * surge;
}

double AcceptProbability(double price_ratio, double sensitivity) {
  // Logistic in price × sensitivity: ~0.88 at the reference price for a typical rider, ~0.6 at
  // double the price, ~0.27 at triple.
  return 1.0 / (1.0 + std::exp(-(3.5 - 1.5 * sensitivity * price_ratio)));
}

double RawSurge(double requests, double capacity, double max_surge) {
  if (requests <= 0) return 1.0;
  const double pressure = capacity > 0 ? requests / capacity : max_surge + 1;
  const double s = 1.0 + 1.2 * (pressure - 1.0);
  return std::clamp(s, 1.0, max_surge);
}

double SurgeMultiplier(double requests, double capacity, double max_surge) {
  return std::round(RawSurge(requests, capacity, max_surge) * 10.0) / 10.0;
}

}  // namespace bimride::simulator
