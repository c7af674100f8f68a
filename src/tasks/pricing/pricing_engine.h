// The pricing engine: a surge multiplier per zone per interval (5 minutes) from what the zone
// shows now (open requests, idle drivers) and, for the forecast-driven policy, the demand
// forecast of the next interval and a conversion model P(book | price ratio).
//
// Policies:
//   static    1.0 always (the tariff alone);
//   ratio     the classic rule: 1 + gain · (open requests ÷ idle drivers − 1);
//   forecast  the multiplier m on a 0.05 grid in [1, cap] that maximises the expected completed
//             trips (or revenue, m × completed) of the next interval: bookings B(m) = forecast
//             requests × P(book | m), supply S = idle drivers + drivers about to be free,
//             + neighbour_weight × idle drivers of the nearest zones,
//             completed(m) = min(B, S) − overflow_penalty · max(0, B − S) (bookings beyond the
//             idle supply pull far-away drivers on long unpaid pickups — the wild goose chase —
//             and end as cancellations). Ties go to the lower multiplier. With a revenue
//             tolerance t, the multiplier of most revenue among those within t of the best
//             completed trips (trips first, revenue second). The trips-at-ratio-revenue
//             objective: the most completed trips among the multipliers whose expected revenue
//             (m × completed) is at least that of ratio surge's multiplier for the same signal
//             (so, by the model, never fewer trips nor less revenue than the ratio rule).
// Every policy's raw value then goes through the same guard rails, in order: exponential
// smoothing with the previous interval's multiplier, a maximum step per interval, the cap and
// the floor of 1.0.
// Thread safety: PricingEngine is not thread-safe (one per simulation or per zone shard); the
// free functions are pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace bimride::tasks::pricing {

enum class PricingPolicy { kStatic, kRatio, kForecast };
std::string_view PricingPolicyName(PricingPolicy policy);  // "static", "ratio", "forecast"
StatusOr<PricingPolicy> ParsePricingPolicy(std::string_view name);

// What the forecast policy maximises (see RawMultiplier): expected completed trips; expected
// revenue; or expected completed trips among the multipliers whose expected revenue is at least
// what ratio surge's multiplier would earn in the same zone and interval under the same model.
// Or trips + revenue_weight × revenue (revenue in tariffs: m × trips).
enum class PricingObjective { kCompletedTrips, kRevenue, kTripsAtRatioRevenue, kTripsPlusRevenue };
// "trips", "revenue", "trips-at-ratio-revenue", "trips-plus-revenue"
std::string_view PricingObjectiveName(PricingObjective objective);
StatusOr<PricingObjective> ParsePricingObjective(std::string_view name);

// P(book | price ratio) = 1 / (1 + exp(-(intercept + slope · ln ratio))): the behaviour task's
// logistic conversion model on the price ratio (tasks/behaviour, LogisticPriceProbability).
struct ConversionCurve {
  double intercept = 1.9;
  double slope = -2.0;
  double Probability(double price_ratio) const;
};

struct PricingConfig {
  PricingPolicy policy = PricingPolicy::kRatio;
  // Chosen on the tuning seeds 101-103 (docs/pricing.md): the only objective tried whose
  // forecast policy beat ratio surge on trips without losing revenue there.
  PricingObjective objective = PricingObjective::kTripsAtRatioRevenue;
  double cap = 3.0;               // highest multiplier
  double floor = 1.0;             // lowest multiplier (never below the tariff)
  double max_step = 0.5;          // largest change between two intervals
  double smoothing = 0.5;         // weight of the new raw value (1: no smoothing)
  double ratio_gain = 1.0;        // ratio policy: 1 + gain · (requests / idle − 1)
  double overflow_penalty = 0.5;  // forecast policy: completed trips lost per excess booking
  double arriving_weight = 0.5;   // forecast policy: share of soon-free drivers counted as supply
  // Forecast policy, trips objective: the most revenue among multipliers within this share of
  // the best expected completed trips (0: the most trips, nothing else).
  double revenue_tolerance = 0.0;
  // Forecast policy, trips-plus-revenue objective: expected trips + this × expected revenue.
  double revenue_weight = 0.0;
  double neighbour_weight = 0.3;  // forecast policy: share of nearby zones' idle drivers counted
  ConversionCurve conversion;
};

// InvalidArgument naming the field when a value is out of range.
Status ValidatePricingConfig(const PricingConfig& config);

// What one zone shows at the start of an interval.
struct ZoneSignal {
  double open_requests = 0;      // requests seen in the last interval
  double idle_drivers = 0;       // idle drivers in the zone now
  double arriving_drivers = 0;   // drivers whose trip ends in the zone within the interval
  double forecast_requests = 0;  // forecast requests of the next interval
  double neighbour_idle = 0;     // idle drivers in the nearest other zones (dispatch reaches them)
};

// The forecast policy's model of the next interval at multiplier m: bookings B = forecast
// requests × P(book | m) against supply S = idle + arriving_weight × arriving +
// neighbour_weight × neighbour idle; completed = min(B, S) − overflow_penalty · max(0, B − S).
// Expected revenue (in tariffs) is m × completed.
double ExpectedCompletedTrips(const PricingConfig& config, const ZoneSignal& signal, double m);
// The ratio rule's multiplier for `signal` within [floor, cap], rounded up to the forecast
// policy's 0.05 grid: what the trips-at-ratio-revenue objective must earn at least as much as.
double RatioMultiplierWithin(const PricingConfig& config, const ZoneSignal& signal);
// The policy's multiplier before the guard rails.
double RawMultiplier(const PricingConfig& config, const ZoneSignal& signal);
// The guard rails: smoothing with `previous`, max step, cap, floor.
double GuardedMultiplier(const PricingConfig& config, double previous, double raw);

// The multipliers of every zone, interval after interval.
class PricingEngine {
 public:
  PricingEngine(PricingConfig config, size_t zones)
      : config_(config), multipliers_(zones, config.floor) {}
  const PricingConfig& config() const { return config_; }
  // The next interval's multipliers (index = zone position) from each zone's signal; `enabled`
  // false (a surge outage) sets every zone to the floor and restarts from it.
  const std::vector<double>& Step(const std::vector<ZoneSignal>& signals, bool enabled = true);
  const std::vector<double>& multipliers() const { return multipliers_; }

 private:
  PricingConfig config_;
  std::vector<double> multipliers_;
};

}  // namespace bimride::tasks::pricing
