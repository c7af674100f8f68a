#include "tasks/behaviour/behaviour_elasticity.h"

#include <cmath>
#include <map>

#include "simulator/city_model.h"
#include "tasks/behaviour/behaviour_dataset.h"
#include "tasks/behaviour/behaviour_stats.h"

namespace bimride::tasks::behaviour {

int SurgeBand(double surge) {
  const int tenths = static_cast<int>(std::lround(surge * 10));
  if (tenths <= 10) return 0;
  if (tenths <= 14) return 1;
  if (tenths <= 19) return 2;
  if (tenths <= 24) return 3;
  return 4;
}

std::string ProfileLabel(int profile) {
  if (profile == kAllProfiles) return "all";
  return std::string(simulator::RiderProfileName(static_cast<simulator::RiderProfile>(profile)));
}

namespace {

// What the estimators need of one quote.
struct QuoteView {
  int band = 0;
  int profile = 0;
  bool tested = false;
  double log_multiplier = 0;
  double price_ratio = 1;       // as quoted (with the multiplier)
  double base_ratio = 1;        // without the multiplier
  double sensitivity = 1;
  double surge = 1, surge_raw = 1;
  double booked = 0;
};

void FinishInterval(Estimate* e) {
  e->lower = e->value - kZ95 * e->se;
  e->upper = e->value + kZ95 * e->se;
  e->ok = std::isfinite(e->value) && std::isfinite(e->se) && e->se > 0;
  if (!e->ok && e->note.empty()) e->note = "no finite estimate";
}

bool InCell(const QuoteView& q, int band, int profile) {
  return q.band == band && (profile == kAllProfiles || q.profile == profile);
}

double Truth(const std::vector<QuoteView>& quotes, int band, int profile, int64_t* count,
             double* rate) {
  double sum_d = 0, sum_p = 0, booked = 0;
  int64_t n = 0;
  for (const QuoteView& q : quotes) {
    if (!InCell(q, band, profile)) continue;
    const double p = simulator::AcceptProbability(q.base_ratio, q.sensitivity);
    // P = σ(3.5 − 1.5 s r): dP/d ln r = −P(1 − P)·1.5 s r (the simulator's logistic, city_model.cc).
    sum_d += -p * (1 - p) * 1.5 * q.sensitivity * q.base_ratio;
    sum_p += p;
    booked += q.booked;
    ++n;
  }
  *count = n;
  *rate = n > 0 ? booked / static_cast<double>(n) : 0;
  return sum_p > 0 ? sum_d / sum_p : std::nan("");
}

// Naive: one logistic fit per rider group (profile or all) over untested quotes of all bands.
struct NaiveFit {
  bool ok = false;
  std::vector<double> coef;
  std::vector<double> cov;
};

NaiveFit FitNaive(const std::vector<QuoteView>& quotes, int profile) {
  std::vector<double> x, y;
  for (const QuoteView& q : quotes) {
    if (q.tested || (profile != kAllProfiles && q.profile != profile)) continue;
    x.push_back(1.0);
    x.push_back(std::log(q.price_ratio));
    y.push_back(q.booked);
  }
  NaiveFit f;
  StatusOr<LinearFit> fit = FitLogistic(x, 2, y);
  if (!fit.ok()) return f;
  f.ok = true;
  f.coef = fit->coef;
  f.cov = fit->covariance;
  return f;
}

Estimate NaiveEstimate(const std::vector<QuoteView>& quotes, const NaiveFit& fit, int band,
                       int profile) {
  Estimate e;
  if (!fit.ok) {
    e.note = "logistic fit failed";
    return e;
  }
  auto eval = [&](double a, double b) {
    double num = 0, den = 0;
    for (const QuoteView& q : quotes) {
      if (q.tested || !InCell(q, band, profile)) continue;
      const double p = 1.0 / (1.0 + std::exp(-(a + b * std::log(q.price_ratio))));
      num += b * p * (1 - p);
      den += p;
    }
    return den > 0 ? num / den : std::nan("");
  };
  for (const QuoteView& q : quotes) e.rows += (!q.tested && InCell(q, band, profile)) ? 1 : 0;
  const double a = fit.coef[0], b = fit.coef[1];
  e.value = eval(a, b);
  const double h = 1e-5;
  const double ga = (eval(a + h, b) - eval(a - h, b)) / (2 * h);
  const double gb = (eval(a, b + h) - eval(a, b - h)) / (2 * h);
  const double var = ga * ga * fit.cov[0] + 2 * ga * gb * fit.cov[1] + gb * gb * fit.cov[3];
  e.se = std::sqrt(std::max(var, 0.0));
  FinishInterval(&e);
  return e;
}

Estimate PriceTestEstimate(const std::vector<QuoteView>& quotes, int band, int profile) {
  Estimate e;
  std::vector<double> x, y;
  int64_t tested = 0;
  for (const QuoteView& q : quotes) {
    if (!InCell(q, band, profile)) continue;
    x.insert(x.end(), {1.0, q.log_multiplier, q.log_multiplier * q.log_multiplier});
    y.push_back(q.booked);
    tested += q.tested ? 1 : 0;
  }
  e.rows = static_cast<int64_t>(y.size());
  if (tested < 30) {
    e.note = "fewer than 30 quotes in the price test";
    return e;
  }
  StatusOr<LinearFit> fit = FitOls(x, 3, y);
  if (!fit.ok()) {
    e.note = fit.status().message();
    return e;
  }
  const double a = fit->coef[0], b = fit->coef[1];
  e.value = b / a;
  const double ga = -b / (a * a), gb = 1.0 / a;
  const double var = ga * ga * fit->Cov(0, 0) + 2 * ga * gb * fit->Cov(0, 1) +
                     gb * gb * fit->Cov(1, 1);
  e.se = std::sqrt(std::max(var, 0.0));
  FinishInterval(&e);
  return e;
}

Estimate RdEstimate(const std::vector<QuoteView>& quotes, int band, int profile,
                    const ElasticityOptions& o) {
  Estimate e;
  // Quotes near a threshold t = lower + 0.05, keyed by the tenths of the surge below it.
  struct Near {
    int threshold;  // tenths of the surge below
    double z;       // raw surge − t
    bool above;
    double booked;
  };
  std::vector<Near> near;
  std::map<int, std::array<int64_t, 2>> sides;
  for (const QuoteView& q : quotes) {
    if (q.tested || (profile != kAllProfiles && q.profile != profile)) continue;
    const int shown = static_cast<int>(std::lround(q.surge * 10));
    // The threshold this quote is near: the one below its shown surge or the one above.
    for (const int below : {shown - 1, shown}) {
      if (below < 10) continue;
      if (SurgeBand(below / 10.0) != band) continue;
      const double t = below / 10.0 + 0.05;
      const double z = q.surge_raw - t;
      if (std::fabs(z) >= o.rd_bandwidth) continue;
      const bool above = shown == below + 1;
      near.push_back({below, z, above, q.booked});
      ++sides[below][above ? 1 : 0];
    }
  }
  std::map<int, int> column;  // threshold → fixed-effect column
  std::vector<int> kept;
  for (const auto& [t, n] : sides) {
    if (n[0] >= o.min_rows_per_side && n[1] >= o.min_rows_per_side) {
      column[t] = static_cast<int>(kept.size());
      kept.push_back(t);
    }
  }
  if (kept.empty()) {
    e.note = "no threshold with enough quotes on both sides";
    return e;
  }
  const int nt = static_cast<int>(kept.size());
  const int k = nt + 3;  // fixed effects, above, z, above·z
  std::vector<double> x, y;
  std::vector<int64_t> count(nt, 0);
  for (const Near& q : near) {
    auto it = column.find(q.threshold);
    if (it == column.end()) continue;
    std::vector<double> row(k, 0.0);
    row[it->second] = 1.0;
    row[nt] = q.above ? 1.0 : 0.0;
    row[nt + 1] = q.z;
    row[nt + 2] = q.above ? q.z : 0.0;
    x.insert(x.end(), row.begin(), row.end());
    y.push_back(q.booked);
    ++count[it->second];
  }
  e.rows = static_cast<int64_t>(y.size());
  StatusOr<LinearFit> fit = FitOls(x, k, y);
  if (!fit.ok()) {
    e.note = fit.status().message();
    return e;
  }
  double mu = 0, log_jump = 0;
  std::vector<double> w(nt);
  for (int i = 0; i < nt; ++i) {
    w[i] = static_cast<double>(count[i]) / static_cast<double>(e.rows);
    mu += w[i] * fit->coef[i];
    const double t = kept[i] / 10.0 + 0.05;
    log_jump += w[i] * std::log((t + 0.05) / (t - 0.05));
  }
  const double tau = fit->coef[nt];
  if (!(mu > 0) || !(mu + tau > 0)) {
    e.note = "booking rate at the threshold is not positive";
    return e;
  }
  e.value = std::log1p(tau / mu) / log_jump;
  std::vector<double> g(k, 0.0);
  for (int i = 0; i < nt; ++i) g[i] = w[i] * (1.0 / (mu + tau) - 1.0 / mu) / log_jump;
  g[nt] = 1.0 / ((mu + tau) * log_jump);
  double var = 0;
  for (int i = 0; i < k; ++i) {
    for (int j = 0; j < k; ++j) var += g[i] * g[j] * fit->Cov(i, j);
  }
  e.se = std::sqrt(std::max(var, 0.0));
  FinishInterval(&e);
  return e;
}

}  // namespace

StatusOr<std::vector<ElasticityCell>> EstimateElasticities(const simulator::SimulatedCity& city,
                                                           const ElasticityOptions& options) {
  if (city.quotes.empty()) return InvalidArgumentError("elasticity: the city has no quotes");
  if (!(options.rd_bandwidth > 0 && options.rd_bandwidth <= 0.05)) {
    return InvalidArgumentError("elasticity: the RD bandwidth must be in (0, 0.05]");
  }
  std::vector<QuoteView> quotes;
  quotes.reserve(city.quotes.size());
  for (size_t i = 0; i < city.quotes.size(); ++i) {
    const simulator::QuoteRecord& r = city.quotes[i];
    if (r.rider_id < 1 || r.rider_id > static_cast<int64_t>(city.riders.size())) {
      return InvalidArgumentError("elasticity: quote " + std::to_string(i + 1) + " names rider " +
                                  std::to_string(r.rider_id) + ", the city has riders 1.." +
                                  std::to_string(city.riders.size()));
    }
    const simulator::Rider& rider = city.riders[static_cast<size_t>(r.rider_id - 1)];
    QuoteView q;
    q.band = SurgeBand(r.surge);
    q.profile = static_cast<int>(rider.profile);
    q.tested = r.price_multiplier != 1.0f;
    q.log_multiplier = std::log(static_cast<double>(r.price_multiplier));
    const double reference = ReferenceFare(r.estimated_miles, r.estimated_minutes);
    q.price_ratio = r.quoted_fare / reference;
    q.base_ratio = q.price_ratio / r.price_multiplier;
    q.sensitivity = rider.price_sensitivity;
    q.surge = r.surge;
    q.surge_raw = r.surge_raw;
    q.booked = r.accepted ? 1.0 : 0.0;
    quotes.push_back(q);
  }
  std::vector<NaiveFit> naive(simulator::kNumRiderProfiles + 1);
  for (int p = kAllProfiles; p < simulator::kNumRiderProfiles; ++p) {
    naive[static_cast<size_t>(p + 1)] = FitNaive(quotes, p);
  }
  std::vector<ElasticityCell> cells;
  for (int band = 0; band < kSurgeBands; ++band) {
    for (int p = 0; p <= simulator::kNumRiderProfiles; ++p) {
      const int profile = p == simulator::kNumRiderProfiles ? kAllProfiles : p;
      ElasticityCell c;
      c.band = band;
      c.profile = profile;
      c.truth = Truth(quotes, band, profile, &c.quotes, &c.booking_rate);
      if (c.quotes == 0) continue;
      c.naive = NaiveEstimate(quotes, naive[static_cast<size_t>(profile + 1)], band, profile);
      c.price_test = PriceTestEstimate(quotes, band, profile);
      c.rd = RdEstimate(quotes, band, profile, options);
      cells.push_back(std::move(c));
    }
  }
  return cells;
}

}  // namespace bimride::tasks::behaviour
