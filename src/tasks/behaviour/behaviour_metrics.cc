#include "tasks/behaviour/behaviour_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

namespace bimride::tasks::behaviour {
namespace {

Status CheckRows(std::span<const float> probability, std::span<const float> label,
                 const char* what) {
  if (probability.size() != label.size()) {
    return InvalidArgumentError(std::string(what) + ": " + std::to_string(probability.size()) +
                                " probabilities for " + std::to_string(label.size()) + " labels");
  }
  if (probability.empty()) return InvalidArgumentError(std::string(what) + ": no rows");
  for (size_t i = 0; i < probability.size(); ++i) {
    if (label[i] != 0 && label[i] != 1) {
      return InvalidArgumentError(std::string(what) + ": row " + std::to_string(i) +
                                  ": label must be 0 or 1");
    }
    if (!(probability[i] >= 0 && probability[i] <= 1)) {
      return InvalidArgumentError(std::string(what) + ": row " + std::to_string(i) +
                                  ": probability " + std::to_string(probability[i]) +
                                  " is not in [0, 1]");
    }
  }
  return OkStatus();
}

// Equal-width ECE of rows idx[0..n) (`y` gives each row's label).
template <typename Label>
double EqualWidthEce(std::span<const float> p, const Label& y, const std::vector<uint32_t>& idx,
                     int bins, std::vector<double>& sum_p, std::vector<double>& sum_y,
                     std::vector<int64_t>& count) {
  std::fill(sum_p.begin(), sum_p.end(), 0.0);
  std::fill(sum_y.begin(), sum_y.end(), 0.0);
  std::fill(count.begin(), count.end(), 0);
  for (size_t k = 0; k < idx.size(); ++k) {
    const uint32_t i = idx[k];
    const int b = std::min(bins - 1, static_cast<int>(p[i] * bins));
    sum_p[b] += p[i];
    sum_y[b] += y(k, i);
    ++count[b];
  }
  double ece = 0;
  for (int b = 0; b < bins; ++b) {
    if (count[b] > 0) ece += std::fabs(sum_p[b] - sum_y[b]);
  }
  return ece / static_cast<double>(idx.size());
}

}  // namespace

StatusOr<ClassifierMetrics> ComputeClassifierMetrics(std::span<const float> probability,
                                                     std::span<const float> label, int bins) {
  RETURN_IF_ERROR(CheckRows(probability, label, "classifier metrics"));
  if (bins < 1) return InvalidArgumentError("classifier metrics: bins must be >= 1");
  const size_t n = probability.size();
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
  // Equal-mass bins over the rows sorted by p (`order`, ties by row order).
  for (int b = 0; b < bins; ++b) {
    const size_t from = n * static_cast<size_t>(b) / static_cast<size_t>(bins);
    const size_t to = n * static_cast<size_t>(b + 1) / static_cast<size_t>(bins);
    double sp = 0, sy = 0;
    for (size_t t = from; t < to; ++t) {
      sp += probability[order[t]];
      sy += label[order[t]];
    }
    m.ece_equal_mass += std::fabs(sp - sy) / static_cast<double>(n);
  }
  return m;
}

StatusOr<EceUncertainty> ComputeEceUncertainty(std::span<const float> probability,
                                               std::span<const float> label, int bins,
                                               int resamples, uint64_t seed) {
  RETURN_IF_ERROR(CheckRows(probability, label, "ECE uncertainty"));
  if (bins < 1 || resamples < 1) {
    return InvalidArgumentError("ECE uncertainty: bins and resamples must be >= 1");
  }
  if (probability.size() > std::numeric_limits<uint32_t>::max()) {
    return InvalidArgumentError("ECE uncertainty: too many rows");
  }
  const size_t n = probability.size();
  std::mt19937_64 rng(seed);
  std::vector<double> sum_p(bins), sum_y(bins);
  std::vector<int64_t> count(bins);
  std::vector<uint32_t> idx(n);
  std::vector<double> boot;
  std::uniform_int_distribution<uint32_t> row(0, static_cast<uint32_t>(n - 1));
  for (int r = 0; r < resamples; ++r) {
    for (uint32_t& i : idx) i = row(rng);
    boot.push_back(EqualWidthEce(probability, [&](size_t, uint32_t i) { return label[i]; }, idx,
                                 bins, sum_p, sum_y, count));
  }
  std::sort(boot.begin(), boot.end());
  const auto quantile = [&](double q) {
    const double pos = q * static_cast<double>(boot.size() - 1);
    const size_t lo = static_cast<size_t>(std::floor(pos));
    const size_t hi = std::min(boot.size() - 1, lo + 1);
    return boot[lo] + (pos - static_cast<double>(lo)) * (boot[hi] - boot[lo]);
  };
  EceUncertainty u;
  u.ci_low = quantile(0.025);
  u.ci_high = quantile(0.975);
  std::iota(idx.begin(), idx.end(), uint32_t{0});
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<float> drawn(n);
  double floor_sum = 0;
  for (int r = 0; r < resamples; ++r) {
    for (size_t i = 0; i < n; ++i) drawn[i] = unit(rng) < probability[i] ? 1.0f : 0.0f;
    floor_sum += EqualWidthEce(probability, [&](size_t, uint32_t i) { return drawn[i]; }, idx,
                               bins, sum_p, sum_y, count);
  }
  u.noise_floor = floor_sum / resamples;
  return u;
}

StatusOr<IsotonicCalibration> IsotonicCalibration::Fit(std::span<const float> probability,
                                                       std::span<const float> label) {
  RETURN_IF_ERROR(CheckRows(probability, label, "isotonic calibration"));
  const size_t n = probability.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return probability[a] < probability[b]; });
  // Blocks of equal predictions first, then pool adjacent violators.
  struct Block {
    float lower;
    double sum_y, weight;
  };
  std::vector<Block> blocks;
  for (size_t t = 0; t < n; ++t) {
    const float p = probability[order[t]];
    const double y = label[order[t]];
    if (!blocks.empty() && blocks.back().lower == p) {
      blocks.back().sum_y += y;
      blocks.back().weight += 1;
    } else {
      blocks.push_back({p, y, 1});
    }
    while (blocks.size() > 1) {
      Block& last = blocks.back();
      Block& prev = blocks[blocks.size() - 2];
      if (prev.sum_y / prev.weight <= last.sum_y / last.weight) break;
      prev.sum_y += last.sum_y;
      prev.weight += last.weight;
      blocks.pop_back();
    }
  }
  IsotonicCalibration c;
  for (const Block& b : blocks) {
    c.lower_.push_back(b.lower);
    c.value_.push_back(static_cast<float>(b.sum_y / b.weight));
  }
  return c;
}

float IsotonicCalibration::Apply(float probability) const {
  if (lower_.empty()) return probability;
  const auto it = std::upper_bound(lower_.begin(), lower_.end(), probability);
  const size_t block = it == lower_.begin() ? 0 : static_cast<size_t>(it - lower_.begin()) - 1;
  return value_[block];
}

}  // namespace bimride::tasks::behaviour
