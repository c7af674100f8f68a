// The marketplace simulator (`bimride market`): riders, quotes, drivers and dispatch in a
// simulated city, event by event, so a pricing policy is judged on what it does to riders,
// drivers and revenue rather than on a table of errors.
//
//   riders     requests per zone and 5 minutes drawn from the city simulator's demand model
//              (simulator/city_model.h: hourly shape per zone type, rain, events that end in a
//              demand spike); each rider is quoted tariff × multiplier and books with the city's
//              true acceptance curve (AcceptProbability of price ratio × sensitivity), drawn as
//              a willingness to pay so rider surplus is known;
//   drivers    a fleet with positions; log on and off around the city's hourly online pattern,
//              more of them when recent earnings per online hour run above their long-run level;
//              idle drivers reposition towards nearby zones that show more requests × multiplier
//              per idle driver;
//   dispatch   each booking goes to the nearest idle driver (within max_dispatch_km); pickup
//              time from the distance and the city's travel-time model (the one the ETA model
//              learns); a rider whose pickup would take longer than their patience cancels
//              after waiting that long, and the driver is freed where they got to (the unpaid
//              pickup is the wild goose chase of Castillo, Knoepfle & Weyl);
//   pricing    every 5 minutes the PricingEngine sets each zone's multiplier from the zone's
//              open requests, idle and soon-free drivers and the demand forecast (a
//              historical average per zone, weekday and 15-minute slot, nowcast by the last
//              15 minutes); a surge outage switches it off for a window.
//
// Deterministic: the same config gives the same result bit for bit. Each part draws from its
// own stream, and every request draws the same numbers whatever happens to it, so policies
// compared on one seed see the same riders (common random numbers).
// Thread safety: SimulateMarket is reentrant.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "common/status.h"
#include "features/demand_features.h"
#include "simulator/city_model.h"
#include "tasks/pricing/pricing_engine.h"

namespace bimride::tasks::pricing {

inline constexpr int kIntervalMinutes = 5;

struct MarketConfig {
  // The city's layout comes from city.seed (kept fixed so a forecast learned on one run fits
  // another); days, zones, start_date, requests_per_zone_day, rain/event probabilities,
  // driver_supply_ratio and the tariff (the static price) are read from it too.
  simulator::CityConfig city;
  uint64_t seed = 1;  // the run's riders, drivers, weather and events
  PricingConfig pricing;
  double patience_median_minutes = 9;
  double max_dispatch_km = 12;
  double driver_share = 0.75;            // of the fare
  double earnings_elasticity = 0.8;      // online drivers ∝ (recent / long-run earnings)^e
  double reposition_probability = 0.15;  // per idle driver and interval
  // A surge outage: multipliers forced to 1.0 in [outage_start_us, + outage_minutes).
  int64_t outage_start_us = -1;
  int64_t outage_minutes = 30;
  // Demand forecast (historical average per zone × weekday × slot); required by the forecast
  // policy (zones must be the city's 1..zones), optional otherwise.
  const features::DemandBaselines* forecast = nullptr;
  bool keep_requests = false;  // fill MarketResult::requests
};

Status ValidateMarketConfig(const MarketConfig& config);

enum class RequestOutcome : uint8_t { kDeclined = 0, kNoDriver, kCancelled, kCompleted };

struct RequestRecord {
  int64_t time_us = 0;
  int32_t zone = 0;
  RequestOutcome outcome = RequestOutcome::kDeclined;
  float multiplier = 1;
  float wait_minutes = 0;  // pickup time (completed) or time waited before cancelling
};

// Totals of one 5-minute interval (requests by their request time).
struct IntervalStats {
  int32_t requests = 0, bookings = 0, completed = 0, cancelled = 0, no_driver = 0;
  float wait_sum = 0;  // pickup minutes of the completed
  int32_t online = 0, idle = 0;
  float mean_multiplier = 1;  // request-weighted over zones
};

struct MarketResult {
  int64_t start_us = 0;
  // requests: riders shown a quote; bookings: those who booked (a ride request).
  int64_t requests = 0, bookings = 0, completed = 0, cancelled = 0, no_driver = 0;
  double revenue = 0;        // fares of completed trips
  double rider_surplus = 0;  // willingness to pay − fare, completed trips
  double driver_online_hours = 0, driver_paid_hours = 0;
  // Requests from an event zone in its spike (the event's last hour and the one after).
  int64_t spike_requests = 0, spike_completed = 0, spike_bookings = 0, spike_cancelled = 0;
  double spike_wait_sum = 0;  // pickup minutes of the spike's completed trips
  // Every request, any zone, in the hours of a spike: what the spike does to the whole city.
  int64_t spike_hours_requests = 0, spike_hours_completed = 0;
  std::vector<float> waits;       // pickup minutes of completed trips, in completion order
  std::vector<float> trip_miles;  // completed trips
  std::array<int64_t, 24> requests_by_hour{};  // by local hour of day
  std::vector<IntervalStats> intervals;
  std::vector<float> multipliers;  // intervals × zones, interval-major
  std::vector<simulator::Zone> zones;
  std::vector<simulator::DayConditions> days;
  std::vector<float> zone_requests;  // zones × (15-minute buckets): the demand, for forecasts
  std::vector<RequestRecord> requests_log;  // with keep_requests

  // Completion rate as ride-hailing reports it (Hall, Kendrick & Nosko's surge-outage study):
  // completed trips ÷ booked requests. Riders who saw a quote and did not book are not in it;
  // TripsPerQuote counts them.
  double CompletionRate() const { return bookings ? double(completed) / double(bookings) : 0; }
  double TripsPerQuote() const { return requests ? double(completed) / double(requests) : 0; }
  double SpikeCompletionRate() const {
    return spike_bookings ? double(spike_completed) / double(spike_bookings) : 0;
  }
  double Utilisation() const {
    return driver_online_hours > 0 ? driver_paid_hours / driver_online_hours : 0;
  }
};

StatusOr<MarketResult> SimulateMarket(const MarketConfig& config);

// The nearby zones the market's forecast policy counts idle drivers in, by zone id (index
// id - 1): the 5 nearest other zones of the city `city` lays out.
std::vector<std::vector<int32_t>> ZoneNeighbourIds(const simulator::CityConfig& city);

// The historical-average forecast the forecast policy uses (the demand task's baseline), from
// a run's demand: averages per zone × weekday × 15-minute slot over all its days.
StatusOr<features::DemandBaselines> DemandForecastFromRun(const MarketResult& history);

}  // namespace bimride::tasks::pricing
