// The static price from real fares, and the checks of the simulated market against reality.
//
// FitTariff: fare = max(minimum, base + per_mile · miles + per_minute · minutes), fitted to
// metered taxi trips (TLC green): base, per-mile and per-minute by least squares on the trips
// whose fare is above the minimum, the minimum by least absolute error over a 0.25 grid,
// alternated until the split settles. Rows with a fare ≤ 0, no distance, a duration outside
// 1..180 minutes, more than 100 miles or a fare above $500 are left out (counted).
// Thread safety: pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "data/trip_table.h"
#include "simulator/city_model.h"

namespace bimride::tasks::pricing {

struct TariffFit {
  double base = 0, per_mile = 0, per_minute = 0, minimum = 0;
  int64_t rows = 0, used = 0;  // rows given, rows fitted (after the filters)
  double r2 = 0;               // of the fitted fare on the used rows
  double mae = 0, median_abs_error = 0;
  double mean_fare = 0;
  // The simulator's tariff with these values (per km from per mile); booking fee and tax as
  // `like`.
  simulator::Tariff AsTariff(const simulator::Tariff& like = {}) const;
};

// InvalidArgument when fewer than 100 rows pass the filters or the fit is degenerate.
StatusOr<TariffFit> FitTariff(const data::TripTable& trips);

// Share of pickups in each local hour of the day (sums to 1; all 0 when empty).
std::array<double, 24> HourlyShare(const std::vector<int64_t>& pickup_time_us);
std::array<double, 24> HourlyShare(const std::array<int64_t, 24>& counts);
// Pearson correlation; 0 when either side has no variance.
double PearsonCorrelation(const std::array<double, 24>& a, const std::array<double, 24>& b);
// Two-sample Kolmogorov–Smirnov statistic sup |F_a − F_b| (0 when either is empty).
double KsStatistic(std::vector<float> a, std::vector<float> b);

}  // namespace bimride::tasks::pricing
