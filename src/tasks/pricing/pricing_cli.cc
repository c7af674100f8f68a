#include "tasks/pricing/pricing_cli.h"

#include <cstdio>
#include <fstream>

#include "cli/command.h"
#include "common/civil_time.h"
#include "tasks/pricing/market_study.h"

namespace bimride::tasks::pricing {
namespace {

using cli::ParseFlagsOrExit;
using cli::ReportError;

}  // namespace

int RunMarket(const std::vector<std::string>& args) {
  FlagParser flags("bimride market",
                   "Simulate the marketplace of a simulated city — riders quoted tariff × surge, "
                   "drivers logging on and off, dispatch to the nearest idle driver, "
                   "cancellations, repositioning — under one pricing policy.");
  MarketConfig c;
  int64_t days = 14, zones = 40, seed = 1, city_seed = 42, history_days = 14;
  double requests = c.city.requests_per_zone_day, supply = c.city.driver_supply_ratio;
  std::string policy = "ratio", objective = "trips", outage_at, intervals_csv;
  flags.AddInt("days", &days, "simulated days");
  flags.AddInt("zones", &zones, "zones of the city");
  flags.AddInt("seed", &seed, "seed of the run (riders, drivers, weather, events)");
  flags.AddInt("city-seed", &city_seed, "seed of the city's layout");
  flags.AddDouble("requests-per-zone-day", &requests, "mean requests per zone and day");
  flags.AddDouble("supply-ratio", &supply, "driver capacity relative to mean demand");
  flags.AddString("policy", &policy, "pricing policy: static, ratio or forecast");
  flags.AddString("objective", &objective, "forecast policy's objective: trips or revenue");
  flags.AddDouble("cap", &c.pricing.cap, "highest multiplier");
  flags.AddDouble("max-step", &c.pricing.max_step, "largest change per 5 minutes");
  flags.AddDouble("smoothing", &c.pricing.smoothing, "weight of the new value (1: none)");
  flags.AddDouble("ratio-gain", &c.pricing.ratio_gain, "ratio policy: 1 + gain (ratio - 1)");
  flags.AddDouble("overflow-penalty", &c.pricing.overflow_penalty,
                  "forecast policy: trips lost per booking beyond supply");
  flags.AddDouble("arriving-weight", &c.pricing.arriving_weight,
                  "forecast policy: share of soon-free drivers counted as supply");
  flags.AddDouble("neighbour-weight", &c.pricing.neighbour_weight,
                  "forecast policy: share of nearby zones' idle drivers counted as supply");
  flags.AddDouble("base-fare", &c.city.tariff.base_fare, "tariff: base fare (USD)");
  flags.AddDouble("per-km", &c.city.tariff.per_km, "tariff: per km (USD)");
  flags.AddDouble("per-minute", &c.city.tariff.per_minute, "tariff: per minute (USD)");
  flags.AddDouble("minimum-fare", &c.city.tariff.minimum_fare, "tariff: minimum fare (USD)");
  flags.AddInt("history-days", &history_days,
               "days of an earlier run (another seed) the demand forecast is learned from");
  flags.AddString("outage-at", &outage_at, "surge outage start 'YYYY-MM-DD HH:MM' (30 minutes)");
  flags.AddString("intervals-csv", &intervals_csv, "write the 5-minute series here");
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  StatusOr<PricingPolicy> p = ParsePricingPolicy(policy);
  if (!p.ok()) return ReportError(InvalidArgumentError("--policy: " + p.status().message()), true);
  if (objective != "trips" && objective != "revenue") {
    return ReportError(InvalidArgumentError("--objective: want trips or revenue, got '" +
                                            objective + "'"), true);
  }
  c.pricing.policy = *p;
  c.pricing.objective =
      objective == "revenue" ? PricingObjective::kRevenue : PricingObjective::kCompletedTrips;
  c.city.days = days;
  c.city.zones = zones;
  c.city.seed = static_cast<uint64_t>(city_seed);
  c.city.requests_per_zone_day = requests;
  c.city.driver_supply_ratio = supply;
  c.seed = static_cast<uint64_t>(seed);
  if (!outage_at.empty()) {
    StatusOr<int64_t> t = ParseCivil(outage_at);
    if (!t.ok()) return ReportError(InvalidArgumentError("--outage-at: " + t.status().message()), true);
    c.outage_start_us = *t;
  }
  features::DemandBaselines forecast;
  if (c.pricing.policy == PricingPolicy::kForecast) {
    StatusOr<features::DemandBaselines> f = LearnDemandForecast(c, history_days);
    if (!f.ok()) return ReportError(f.status());
    forecast = std::move(*f);
    c.forecast = &forecast;
  }
  StatusOr<MarketResult> r = SimulateMarket(c);
  if (!r.ok()) return ReportError(r.status());
  PolicySummary s = Summarise(*r);
  std::printf("%s\n", FormatSummaryHeader().c_str());
  std::printf("%s\n", FormatSummaryRow(policy, s).c_str());
  std::printf("spike: requests %lld bookings %lld completed %lld cancelled %lld mean wait %.2f; "
              "city in spike hours: requests %lld completed %lld\n",
              (long long)r->spike_requests, (long long)r->spike_bookings,
              (long long)r->spike_completed, (long long)r->spike_cancelled,
              r->spike_completed ? r->spike_wait_sum / r->spike_completed : 0.0,
              (long long)r->spike_hours_requests, (long long)r->spike_hours_completed);
  if (!intervals_csv.empty()) {
    Status w = WriteIntervalsCsv(*r, intervals_csv);
    if (!w.ok()) return ReportError(w);
  }
  return cli::kExitOk;
}

}  // namespace bimride::tasks::pricing
