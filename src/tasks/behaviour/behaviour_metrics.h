// How good a probability is: the metrics of a binary classifier's predicted P(y = 1).
//
// Conventions (stated because libraries differ):
//   AUC        the probability that a random positive scores above a random negative, ties
//              counting one half (Mann–Whitney U / (n+ n−)); NaN without both classes;
//   log-loss   mean of −[y ln p + (1 − y) ln(1 − p)] with p clipped to [1e-15, 1 − 1e-15]
//              (scikit-learn's clipping);
//   Brier      mean of (p − y)²;
//   ECE        Σ_bins (n_b / n) |mean p_b − mean y_b| over `bins` equal-width bins of p in
//              [0, 1] (p = 1 falls in the last bin);
//   ECE, equal-mass  the same sum over `bins` bins of equal row counts by p (rows sorted by p,
//              ties by row order; bin b holds rows [b·n/bins, (b+1)·n/bins));
//   lift@10%   positive rate of the top decile by p (ties broken by row order) over the base
//              rate. For conversion the interesting end is often the bottom decile (who will not
//              book), so both are reported.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"

namespace bimride::tasks::behaviour {

struct ReliabilityBin {
  double lower = 0, upper = 0;  // p range
  int64_t count = 0;
  double mean_predicted = 0;
  double observed_rate = 0;
};

struct ClassifierMetrics {
  int64_t count = 0;
  double base_rate = 0;
  double auc = 0;
  double log_loss = 0;
  double brier = 0;
  double ece = 0;
  double ece_equal_mass = 0;
  double lift_top_decile = 0;     // positive rate among the top 10% by p / base rate
  double lift_bottom_decile = 0;  // positive rate among the bottom 10% by p / base rate
  std::vector<ReliabilityBin> reliability;
};

// InvalidArgument when sizes differ, there are no rows, a label is not 0/1 or a probability is
// not in [0, 1] (naming the row).
StatusOr<ClassifierMetrics> ComputeClassifierMetrics(std::span<const float> probability,
                                                     std::span<const float> label,
                                                     int bins = 10);

// How far the equal-width ECE (`bins` bins) of these predictions can be trusted on this many
// rows:
//   ci_low, ci_high  95% bootstrap percentile interval: `resamples` resamples of the rows
//                    (with replacement), the 2.5% and 97.5% quantiles of their ECE;
//   noise_floor      the mean ECE of the same predictions against labels drawn from them
//                    (y ~ Bernoulli(p), `resamples` draws): what a perfectly calibrated model
//                    with these predictions shows on this many rows ("consistency resampling",
//                    Bröcker & Smith 2007).
// Deterministic for a seed. Same input checks as ComputeClassifierMetrics.
struct EceUncertainty {
  double ci_low = 0, ci_high = 0;
  double noise_floor = 0;
};
StatusOr<EceUncertainty> ComputeEceUncertainty(std::span<const float> probability,
                                               std::span<const float> label, int bins = 10,
                                               int resamples = 200, uint64_t seed = 1);

// Isotonic calibration (pool adjacent violators): a non-decreasing step function of the
// predicted probability fitted to 0/1 labels. Apply() gives a prediction the value of the last
// block whose smallest prediction is ≤ it (below the first block: the first block's value).
class IsotonicCalibration {
 public:
  // InvalidArgument as ComputeClassifierMetrics for bad input.
  static StatusOr<IsotonicCalibration> Fit(std::span<const float> probability,
                                           std::span<const float> label);
  float Apply(float probability) const;
  size_t blocks() const { return lower_.size(); }

 private:
  std::vector<float> lower_;   // each block's smallest prediction, increasing
  std::vector<float> value_;   // each block's label mean, non-decreasing
};

}  // namespace bimride::tasks::behaviour
