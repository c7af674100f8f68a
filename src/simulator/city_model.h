// The simulated city's model: its configuration, what it produces (zones, riders, daily
// conditions, driver supply, quotes, trips) and the pure functions that encode its behaviour
// (seasonality, congestion, gravity, tariff, price response). Simulate() in simulator.h drives
// these; tests check the behaviour through them and through whole simulated cities.
// All functions here are pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "data/trip_table.h"

namespace bimride::simulator {

enum class ZoneType : uint8_t { kResidential = 0, kBusiness, kNightlife, kAirport };
inline constexpr int kNumZoneTypes = 4;
std::string_view ZoneTypeName(ZoneType type);
StatusOr<ZoneType> ParseZoneType(std::string_view name);

struct Zone {
  int32_t id = 0;  // 1..zones (0 is "unknown", as in TripTable)
  std::string name;
  double lon = 0;
  double lat = 0;
  ZoneType type = ZoneType::kResidential;
  double weight = 1;  // population / attractiveness: scales both requests from and trips to it
};

enum class RiderProfile : uint8_t { kCommuter = 0, kLeisure, kOccasional, kStudent };
inline constexpr int kNumRiderProfiles = 4;
std::string_view RiderProfileName(RiderProfile profile);
StatusOr<RiderProfile> ParseRiderProfile(std::string_view name);

// Who the riders present on day 0 are. kNew: drawn like newcomers (the profile mix and
// sensitivities of people who sign up), joined during the year before; the mix then drifts for
// years towards the riders who stay longest. kStationary: drawn from the population a long-running
// city settles into — newcomers weighted by their expected lifetime (1 / their daily churn hazard,
// own clock plus bad experiences, estimated from a 28-day pilot of the same city), each with an
// age drawn from that hazard — so rates that depend on who is riding (retention) do not drift.
enum class RiderStart : uint8_t { kNew = 0, kStationary };
std::string_view RiderStartName(RiderStart start);
// "new" or "stationary"; InvalidArgument naming the value otherwise.
StatusOr<RiderStart> ParseRiderStart(std::string_view name);

struct Rider {
  int64_t id = 0;  // 1..riders
  int32_t home_zone = 0;
  RiderProfile profile = RiderProfile::kOccasional;
  float trips_per_week = 1;     // how often the rider asks for a ride, relative to others
  float price_sensitivity = 1;  // 1 = typical; higher accepts fewer expensive quotes
  // Days since the first simulated day: joined on signup_day (negative: before the start) and
  // rides no more from churn_day on (-1: still riding at the end). A churned rider is replaced
  // by a newcomer the same day, so the active population stays constant.
  int32_t signup_day = 0;
  int32_t churn_day = -1;
};

// Weather and events of one simulated day.
struct DayConditions {
  int64_t day_start_us = 0;  // local midnight
  bool rain = false;         // rain raises demand and slows traffic all day
  int32_t event_zone = 0;    // 0 = no event that day
  int32_t event_end_hour = -1;
  int32_t event_attendance = 0;
};

// Drivers online and requests seen in one zone and hour.
struct SupplyRecord {
  int64_t hour_start_us = 0;
  int32_t zone = 0;
  int32_t drivers = 0;
  int32_t requests = 0;  // quotes shown
  int32_t trips = 0;     // accepted quotes a driver served
  float surge = 1;
};

// One price quote shown to a rider, and what happened.
struct QuoteRecord {
  int64_t request_time_us = 0;
  int64_t rider_id = 0;
  int32_t pickup_zone = 0;
  int32_t dropoff_zone = 0;
  float estimated_miles = 0;
  float estimated_minutes = 0;
  float quoted_fare = 0;  // including surge (and the price-test multiplier)
  float surge = 1;
  // Surge before rounding to 0.1 steps (clamped to 1 … max_surge, 4 decimals): the running
  // variable of a regression discontinuity on surge rounding.
  float surge_raw = 1;
  // The randomised price test's multiplier of this quote (1: not in the test).
  float price_multiplier = 1;
  bool accepted = false;
  bool served = false;   // a driver was free; a trip row exists
  int64_t trip_id = -1;  // 1-based row number in the trips table when served, else -1
};

// Fare = max(minimum, base + per_km·km + per_minute·minutes) · surge; total adds the booking fee
// and sales tax on the fare.
struct Tariff {
  double base_fare = 2.50;
  double per_km = 1.10;
  double per_minute = 0.40;
  double minimum_fare = 7.00;
  double booking_fee = 2.75;
  double tax_rate = 0.08875;
};

struct CityConfig {
  int64_t days = 7;
  int64_t zones = 40;
  uint64_t seed = 42;
  std::string start_date = "2024-03-04";  // YYYY-MM-DD, local midnight of the first day
  double requests_per_zone_day = 400;     // mean quotes per zone per day, before weather/events
  int64_t riders = 0;                     // 0: 150 per zone
  Tariff tariff;
  double gravity_beta = 1.6;         // destination ∝ attractiveness / (distance + 0.8 km)^β
  double rain_probability = 0.2;     // per day
  double event_probability = 0.3;    // per day
  double driver_supply_ratio = 1.3;  // fleet capacity relative to mean demand
  double max_surge = 3.0;
  // Randomised price test: this fraction of quotes (drawn from a stream of its own, so 0 leaves
  // the city exactly as without the test) gets its fare times a multiplier drawn log-uniformly
  // from [1/price_test_spread, price_test_spread] (rounded to 0.001).
  double price_test_fraction = 0;
  double price_test_spread = 1.25;
  // kNew (the default) leaves every city as it was before the option existed, bit for bit.
  RiderStart rider_start = RiderStart::kNew;
};

inline constexpr int64_t kMaxDays = 3660;
inline constexpr int64_t kMaxZones = 1000;
inline constexpr double kMaxExpectedRequests = 200e6;

// InvalidArgument naming the field when a value is out of range.
Status ValidateCityConfig(const CityConfig& config);

// ---- Behaviour of the city (used by Simulate; exposed so tests can check each part) ----

// Relative request rate leaving a zone of `type` at local `hour` on ISO `weekday` (0 = Monday).
// Weekday morning and evening peaks, quiet 3–5 am, late-night peaks on weekend nights.
double RequestRateFactor(ZoneType type, int weekday, int hour);
// Relative share of the fleet online at `hour` on `weekday` (drivers follow their own pattern).
double DriverOnlineFactor(int weekday, int hour);
// Destination attractiveness multiplier for a zone of `type` at this time (mornings pull towards
// business zones, evenings towards residential ones, weekend nights towards nightlife).
double DestinationFactor(ZoneType type, int weekday, int hour);
// Mean car speed in km/h for a trip of `km` at this time (congestion at rush hour, slower in
// rain, faster for long trips that use highways).
double MeanSpeedKmh(int weekday, int hour, bool rain, double km);
// Expected door-to-door minutes (no noise): pickup/dropoff overhead plus km / speed.
double ExpectedMinutes(double km, int weekday, int hour, bool rain);
// Road distance between two points: great-circle distance times a detour factor.
double RoadKm(double lon1, double lat1, double lon2, double lat2);
double Fare(const Tariff& tariff, double km, double minutes, double surge);
// Probability that a rider accepts a quote `price_ratio` times the price of the same trip at the
// reference tariff without surge. Falls with price_ratio × sensitivity.
double AcceptProbability(double price_ratio, double sensitivity);
// Surge multiplier (1 … max_surge, 0.1 steps) for `requests` against `capacity` rides an hour:
// RawSurge rounded to 0.1.
double SurgeMultiplier(double requests, double capacity, double max_surge);
// The surge before rounding: 1 + 1.2 (requests / capacity - 1), clamped to 1 … max_surge.
double RawSurge(double requests, double capacity, double max_surge);

inline constexpr double kMilesPerKm = 0.621371;

}  // namespace bimride::simulator
