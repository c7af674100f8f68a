// What the pricing study makes of marketplace runs: the demand forecast learned from an earlier
// run, one summary per run (the figures results/pricing.md reports), and their text forms.
// Thread safety: pure functions.
#pragma once

#include <string>

#include "common/status.h"
#include "features/demand_features.h"
#include "tasks/pricing/market.h"

namespace bimride::tasks::pricing {

// The forecast policy's demand forecast: the historical average of an earlier run of the same
// city (`history_days` days just before config's start, a seed no evaluation uses, static
// pricing; demand does not depend on the policy).
StatusOr<features::DemandBaselines> LearnDemandForecast(const MarketConfig& config,
                                                        int64_t history_days);

// The forecast policy's conversion model: the behaviour task's logistic regression of booking
// on ln(price ratio) (tasks/behaviour TrainConversionModels, its logistic_price model), fitted
// on a simulated city of config's size with a randomised price test (20% of quotes, a seed no
// evaluation uses, 28 days, the reference tariff so the price ratio is surge × test multiplier).
StatusOr<ConversionCurve> LearnConversionCurve(const MarketConfig& config);

struct PolicySummary {
  double requests = 0, bookings = 0, completed = 0, completion_rate = 0, trips_per_quote = 0;
  double revenue = 0;
  double wait_p50 = 0, wait_p90 = 0, cancellations = 0, no_driver = 0;
  double utilisation = 0, earnings_per_hour = 0, rider_surplus = 0;
  double spike_completion_rate = 0;
};

PolicySummary Summarise(const MarketResult& result, double driver_share = 0.75);
// The q-quantile (0..1) of `values` (linear interpolation); 0 when empty.
double Quantile(std::vector<float> values, double q);

std::string FormatSummaryHeader();
std::string FormatSummaryRow(const std::string& name, const PolicySummary& s);
Status WriteIntervalsCsv(const MarketResult& result, const std::string& path);
// Where a policy's trips come from: one row per zone × local hour of day with its quotes, mean
// quoted multiplier, bookings, completed trips, cancellations and no-driver requests, from the
// run's requests_log (FailedPrecondition when the run did not keep it).
Status WriteZoneHourCsv(const MarketResult& result, const std::string& path);

}  // namespace bimride::tasks::pricing
