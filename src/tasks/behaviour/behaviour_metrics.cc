#include "tasks/behaviour/behaviour_metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace bimride::tasks::behaviour {

StatusOr<ClassifierMetrics> ComputeClassifierMetrics(std::span<const float> probability,
                                                     std::span<const float> label, int bins) {
  if (probability.size() != label.size()) {
    return InvalidArgumentError("classifier metrics: " + std::to_string(probability.size()) +
                                " probabilities for " + std::to_string(label.size()) + " labels");
  }
  if (probability.empty()) return InvalidArgumentError("classifier metrics: no rows");
  if (bins < 1) return InvalidArgumentError("classifier metrics: bins must be >= 1");
  const size_t n = probability.size();
  for (size_t i = 0; i < n; ++i) {
    if (label[i] != 0 && label[i] != 1) {
      return InvalidArgumentError("classifier metrics: row " + std::to_string(i) +
                                  ": label must be 0 or 1");
    }
    if (!(probability[i] >= 0 && probability[i] <= 1)) {
      return InvalidArgumentError("classifier metrics: row " + std::to_string(i) +
                                  ": probability " + std::to_string(probability[i]) +
                                  " is not in [0, 1]");
    }
  }
  ClassifierMetrics m;
  m.count = static_cast<int64_t>(n);
  double positives = 0, ll = 0, brier = 0;
  for (size_t i = 0; i < n; ++i) {
    const double p = std::clamp(static_cast<double>(probability[i]), 1e-15, 1 - 1e-15);
    const double y = label[i];
    positives += y;
    ll -= y * std::log(p) + (1 - y) * std::log(1 - p);
    brier += (probability[i] - y) * (probability[i] - y);
  }
  m.base_rate = positives / static_cast<double>(n);
  m.log_loss = ll / static_cast<double>(n);
  m.brier = brier / static_cast<double>(n);

  // AUC by ranks with ties averaged.
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return probability[a] < probability[b]; });
  double rank_sum_pos = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && probability[order[j]] == probability[order[i]]) ++j;
    const double mid_rank = (static_cast<double>(i) + static_cast<double>(j - 1)) / 2.0 + 1.0;
    for (size_t t = i; t < j; ++t) rank_sum_pos += label[order[t]] * mid_rank;
    i = j;
  }
  const double negatives = static_cast<double>(n) - positives;
  m.auc = positives > 0 && negatives > 0
              ? (rank_sum_pos - positives * (positives + 1) / 2.0) / (positives * negatives)
              : std::nan("");

  // Deciles: top and bottom 10% by p (stable order: ties by row order).
  const size_t decile = std::max<size_t>(1, n / 10);
  double top = 0, bottom = 0;
  for (size_t t = 0; t < decile; ++t) {
    bottom += label[order[t]];
    top += label[order[n - 1 - t]];
  }
  if (m.base_rate > 0) {
    m.lift_top_decile = top / static_cast<double>(decile) / m.base_rate;
    m.lift_bottom_decile = bottom / static_cast<double>(decile) / m.base_rate;
  }

  m.reliability.resize(static_cast<size_t>(bins));
  std::vector<double> sum_p(bins, 0.0), sum_y(bins, 0.0);
  for (size_t i = 0; i < n; ++i) {
    const int b = std::min(bins - 1, static_cast<int>(probability[i] * bins));
    sum_p[b] += probability[i];
    sum_y[b] += label[i];
    ++m.reliability[b].count;
  }
  for (int b = 0; b < bins; ++b) {
    ReliabilityBin& r = m.reliability[b];
    r.lower = static_cast<double>(b) / bins;
    r.upper = static_cast<double>(b + 1) / bins;
    if (r.count == 0) continue;
    r.mean_predicted = sum_p[b] / static_cast<double>(r.count);
    r.observed_rate = sum_y[b] / static_cast<double>(r.count);
    m.ece += static_cast<double>(r.count) / static_cast<double>(n) *
             std::fabs(r.mean_predicted - r.observed_rate);
  }
  return m;
}

}  // namespace bimride::tasks::behaviour
