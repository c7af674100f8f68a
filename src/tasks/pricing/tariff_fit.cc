#include "tasks/pricing/tariff_fit.h"

#include <algorithm>
#include <cmath>

#include "common/civil_time.h"

namespace bimride::tasks::pricing {
namespace {

struct FareRow {
  double miles, minutes, fare;
};

// Least squares of fare on (1, miles, minutes) over `rows`; false when singular.
bool Ols(const std::vector<FareRow>& rows, double coef[3]) {
  double a[3][3] = {}, b[3] = {};
  for (const FareRow& r : rows) {
    const double x[3] = {1.0, r.miles, r.minutes};
    for (int i = 0; i < 3; ++i) {
      b[i] += x[i] * r.fare;
      for (int j = 0; j < 3; ++j) a[i][j] += x[i] * x[j];
    }
  }
  // Gaussian elimination with partial pivoting.
  for (int c = 0; c < 3; ++c) {
    int p = c;
    for (int r = c + 1; r < 3; ++r) {
      if (std::fabs(a[r][c]) > std::fabs(a[p][c])) p = r;
    }
    if (std::fabs(a[p][c]) < 1e-9) return false;
    std::swap(a[c], a[p]);
    std::swap(b[c], b[p]);
    for (int r = 0; r < 3; ++r) {
      if (r == c) continue;
      const double f = a[r][c] / a[c][c];
      for (int k = 0; k < 3; ++k) a[r][k] -= f * a[c][k];
      b[r] -= f * b[c];
    }
  }
  for (int i = 0; i < 3; ++i) coef[i] = b[i] / a[i][i];
  return true;
}

double Predict(const double coef[3], double minimum, const FareRow& r) {
  return std::max(minimum, coef[0] + coef[1] * r.miles + coef[2] * r.minutes);
}

}  // namespace

simulator::Tariff TariffFit::AsTariff(const simulator::Tariff& like) const {
  simulator::Tariff t = like;
  t.base_fare = base;
  t.per_km = per_mile * simulator::kMilesPerKm;
  t.per_minute = per_minute;
  t.minimum_fare = minimum;
  return t;
}

StatusOr<TariffFit> FitTariff(const data::TripTable& trips) {
  TariffFit fit;
  fit.rows = static_cast<int64_t>(trips.size());
  std::vector<FareRow> rows;
  rows.reserve(trips.size());
  for (size_t i = 0; i < trips.size(); ++i) {
    const double miles = trips.distance_miles[i], fare = trips.fare[i];
    if (trips.pickup_time_us[i] == data::kNullTime || trips.dropoff_time_us[i] == data::kNullTime) {
      continue;
    }
    const double minutes =
        static_cast<double>(trips.dropoff_time_us[i] - trips.pickup_time_us[i]) / kMicrosPerMinute;
    if (!(fare > 0 && fare <= 500) || !(miles > 0 && miles <= 100) ||
        !(minutes >= 1 && minutes <= 180)) {
      continue;
    }
    rows.push_back({miles, minutes, fare});
  }
  fit.used = static_cast<int64_t>(rows.size());
  if (rows.size() < 100) {
    return InvalidArgumentError("tariff fit: only " + std::to_string(rows.size()) +
                                " usable fares (want at least 100: fare > 0, distance > 0, "
                                "1..180 minutes)");
  }
  double coef[3];
  double minimum = 0;
  for (int iter = 0; iter < 5; ++iter) {
    std::vector<FareRow> above;
    for (const FareRow& r : rows) {
      if (r.fare > minimum) above.push_back(r);
    }
    if (above.size() < 100 || !Ols(above, coef)) {
      return InvalidArgumentError("tariff fit: degenerate fares (singular least squares)");
    }
    double best_min = 0, best_err = 1e300;
    for (double m = 0; m <= 20.0 + 1e-9; m += 0.25) {
      double err = 0;
      for (const FareRow& r : rows) err += std::fabs(Predict(coef, m, r) - r.fare);
      if (err < best_err) best_err = err, best_min = m;
    }
    if (best_min == minimum && iter > 0) break;
    minimum = best_min;
  }
  fit.base = coef[0];
  fit.per_mile = coef[1];
  fit.per_minute = coef[2];
  fit.minimum = minimum;
  double mean = 0;
  for (const FareRow& r : rows) mean += r.fare;
  mean /= static_cast<double>(rows.size());
  double ss_res = 0, ss_tot = 0, abs_sum = 0;
  std::vector<float> abs_err;
  abs_err.reserve(rows.size());
  for (const FareRow& r : rows) {
    const double e = Predict(coef, minimum, r) - r.fare;
    ss_res += e * e;
    ss_tot += (r.fare - mean) * (r.fare - mean);
    abs_sum += std::fabs(e);
    abs_err.push_back(static_cast<float>(std::fabs(e)));
  }
  std::nth_element(abs_err.begin(), abs_err.begin() + abs_err.size() / 2, abs_err.end());
  fit.mean_fare = mean;
  fit.r2 = ss_tot > 0 ? 1.0 - ss_res / ss_tot : 0;
  fit.mae = abs_sum / static_cast<double>(rows.size());
  fit.median_abs_error = abs_err[abs_err.size() / 2];
  return fit;
}

std::array<double, 24> HourlyShare(const std::vector<int64_t>& pickup_time_us) {
  std::array<int64_t, 24> counts{};
  for (int64_t t : pickup_time_us) {
    if (t != data::kNullTime) ++counts[static_cast<size_t>(HourOfDay(t))];
  }
  return HourlyShare(counts);
}

std::array<double, 24> HourlyShare(const std::array<int64_t, 24>& counts) {
  std::array<double, 24> share{};
  double total = 0;
  for (int64_t c : counts) total += static_cast<double>(c);
  if (total <= 0) return share;
  for (size_t h = 0; h < 24; ++h) share[h] = static_cast<double>(counts[h]) / total;
  return share;
}

double PearsonCorrelation(const std::array<double, 24>& a, const std::array<double, 24>& b) {
  double ma = 0, mb = 0;
  for (size_t i = 0; i < 24; ++i) ma += a[i] / 24, mb += b[i] / 24;
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < 24; ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0;
}

double KsStatistic(std::vector<float> a, std::vector<float> b) {
  if (a.empty() || b.empty()) return 0;
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  size_t i = 0, j = 0;
  double d = 0;
  const double na = static_cast<double>(a.size()), nb = static_cast<double>(b.size());
  while (i < a.size() && j < b.size()) {
    const float x = std::min(a[i], b[j]);
    while (i < a.size() && a[i] <= x) ++i;
    while (j < b.size() && b[j] <= x) ++j;
    d = std::max(d, std::fabs(static_cast<double>(i) / na - static_cast<double>(j) / nb));
  }
  return d;
}

}  // namespace bimride::tasks::pricing
