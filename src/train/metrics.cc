#include "train/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace bimride::train {
namespace {

// Running sums for one set of rows.
struct Accumulator {
  int64_t count = 0, skipped = 0, mape_count = 0, smape_count = 0;
  double sq = 0, abs = 0, err = 0, sq_log = 0, ape = 0, sape = 0, sum_abs_actual = 0,
         sum_actual = 0;

  void Add(double p, double y) {
    if (std::isnan(p) || std::isnan(y)) {
      ++skipped;
      return;
    }
    const double e = p - y;
    ++count;
    sq += e * e;
    abs += std::fabs(e);
    err += e;
    const double le = std::log1p(std::fmax(p, 0.0)) - std::log1p(std::fmax(y, 0.0));
    sq_log += le * le;
    if (y != 0) {
      ape += std::fabs(e) / std::fabs(y);
      ++mape_count;
    }
    const double denom = std::fabs(p) + std::fabs(y);
    if (denom > 0) {
      sape += 2 * std::fabs(e) / denom;
      ++smape_count;
    }
    sum_abs_actual += std::fabs(y);
    sum_actual += y;
  }

  Metrics Finish() const {
    constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
    Metrics m;
    m.count = count;
    m.skipped = skipped;
    if (count == 0) {
      m.rmse = m.mae = m.bias = m.rmsle = m.mape = m.wape = m.smape = m.mean_actual = kNaN;
      return m;
    }
    const double n = static_cast<double>(count);
    m.rmse = std::sqrt(sq / n);
    m.mae = abs / n;
    m.bias = err / n;
    m.rmsle = std::sqrt(sq_log / n);
    m.mape = mape_count ? ape / mape_count : kNaN;
    m.wape = sum_abs_actual > 0 ? abs / sum_abs_actual : kNaN;
    m.smape = smape_count ? sape / smape_count : kNaN;
    m.mean_actual = sum_actual / n;
    m.sum_actual = sum_actual;
    return m;
  }
};

}  // namespace

Metrics ComputeMetrics(std::span<const float> predicted, std::span<const float> actual) {
  Accumulator acc;
  const size_t n = std::min(predicted.size(), actual.size());
  for (size_t i = 0; i < n; ++i) acc.Add(predicted[i], actual[i]);
  acc.skipped += static_cast<int64_t>(std::max(predicted.size(), actual.size()) - n);
  return acc.Finish();
}

std::map<int64_t, Metrics> ComputeGroupedMetrics(std::span<const float> predicted,
                                                 std::span<const float> actual,
                                                 std::span<const int64_t> group) {
  std::map<int64_t, Accumulator> acc;
  const size_t n = std::min({predicted.size(), actual.size(), group.size()});
  for (size_t i = 0; i < n; ++i) acc[group[i]].Add(predicted[i], actual[i]);
  std::map<int64_t, Metrics> out;
  for (const auto& [key, a] : acc) out.emplace(key, a.Finish());
  return out;
}

std::map<std::string, double> MetricsToMap(const Metrics& m, const std::string& prefix) {
  return {{prefix + "rmse", m.rmse},   {prefix + "mae", m.mae},     {prefix + "bias", m.bias},
          {prefix + "rmsle", m.rmsle}, {prefix + "mape", m.mape},   {prefix + "wape", m.wape},
          {prefix + "smape", m.smape}, {prefix + "count", static_cast<double>(m.count)}};
}

}  // namespace bimride::train
