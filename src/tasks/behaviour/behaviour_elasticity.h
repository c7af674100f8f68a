// The elasticity of conversion to price, by surge level and rider profile, estimated three ways
// from a simulated city's quote log and compared with the simulator's truth.
//
// Estimand (per cell of quotes): the elasticity of the cell's booking rate to a proportional
// change of every quoted price, at the prices actually quoted (before any test multiplier):
//   ε = d ln(Σ_i P_i(λ·price_i)) / d ln λ at λ = 1 = Σ_i dP_i/d ln price / Σ_i P_i.
// Truth: the simulator's own P_i = AcceptProbability(price ratio, sensitivity_i) and its
// derivative, from each rider's true sensitivity.
//
// Estimators:
//   naive       a logistic regression of booked on ln(price ratio) over the quotes outside the
//               price test of the cell's riders (the profile, or everyone), pooled over surge
//               levels, evaluated on the cell: β Σ p̂(1 − p̂) / Σ p̂. Surge is high exactly when
//               demand is high, when the mix of riders differs (commuters at rush hour): the
//               price variation it uses is confounded.
//   price_test  the randomised test's multipliers m (independent of everything else): booked ~
//               a + b ln m + c (ln m)² by OLS over the cell's quotes (untested ones at ln m = 0);
//               ε = b / a (delta method, HC1 errors).
//   rd          regression discontinuity on surge rounding (Cohen, Hahn, Hall, Levitt &
//               Metcalfe 2016, NBER w22627): quotes outside the test whose raw surge lies within
//               `bandwidth` of a rounding threshold t = s + 0.05 (shown s below t, s + 0.1 above)
//               see nearly the same demand but a price 0.1/s higher above; booked ~ threshold
//               fixed effects + τ·above + local linear trends on each side; ε = ln(1 + τ/μ̄) /
//               mean ln((t + 0.05)/(t − 0.05)), μ̄ the count-weighted level just below. A threshold
//               counts for the band of the surge below it.
// Each estimate comes with a 95% interval (normal, delta method).
// Thread safety: pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "simulator/simulator.h"

namespace bimride::tasks::behaviour {

// Surge bands by the surge shown: 1.0 | 1.1–1.4 | 1.5–1.9 | 2.0–2.4 | 2.5+.
inline constexpr int kSurgeBands = 5;
inline constexpr std::array<const char*, kSurgeBands> kSurgeBandNames = {
    "1.0", "1.1-1.4", "1.5-1.9", "2.0-2.4", "2.5-3.0"};
int SurgeBand(double surge);

inline constexpr int kAllProfiles = -1;

struct Estimate {
  bool ok = false;  // false: too little data in the cell (reason in `note`)
  double value = 0, se = 0, lower = 0, upper = 0;
  int64_t rows = 0;  // quotes the estimate used
  std::string note;
  bool Covers(double truth) const { return ok && lower <= truth && truth <= upper; }
};

struct ElasticityCell {
  int band = 0;
  int profile = kAllProfiles;  // simulator::RiderProfile, or kAllProfiles
  int64_t quotes = 0;
  double booking_rate = 0;
  double truth = 0;
  Estimate naive, price_test, rd;
};

struct ElasticityOptions {
  double rd_bandwidth = 0.03;    // raw-surge distance from a threshold
  int64_t min_rows_per_side = 30;  // a threshold needs this many quotes on each side
};

// One cell per (band, profile) and per band over all riders, in that order (bands outer).
// InvalidArgument when the city has no quotes or a quote names an unknown rider.
StatusOr<std::vector<ElasticityCell>> EstimateElasticities(const simulator::SimulatedCity& city,
                                                           const ElasticityOptions& options = {});

std::string ProfileLabel(int profile);  // "commuter", …, "all"

}  // namespace bimride::tasks::behaviour
