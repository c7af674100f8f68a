// Drift: how far a window of served feature values is from the training baseline in the
// manifest (registry::FeatureStats: a histogram of equal-width bins over the training range),
// and alarms calibrated on the training data's own window-to-window variation (#13 item 5).
//
// A window's values are counted into the baseline's bins plus an underflow and an overflow bin
// (values outside the training range); both distributions are compared on those n + 2 bins:
//   psi          Σ (p − q) ln(p / q), each bin's share floored at kDriftFloor (an empty bin
//                would make it infinite);
//   js           Jensen–Shannon divergence, base 2 (0 = same, 1 = disjoint);
//   ks           Kolmogorov–Smirnov statistic: the largest gap between the two CDFs at the
//                bin edges;
//   wasserstein  ∫ |F_p − F_q| over the bins (each bin's width; the outer bins count as one
//                interior bin's width), divided by the baseline's standard deviation (unitless;
//                the binned, not the exact, distance).
//
// Fixed cut-offs misfire (PSI > 0.1 fires on most 100-row windows drawn from the training data
// itself), so each (feature, score) gets its own threshold from the training rows: cut them, in
// time order, into (overlapping) windows of the size the monitor uses and score each window
// against the baseline. A per-(feature, score) quantile does not hold the *window's* alarm rate
// (~100 correlated alarms: their union fires far more often than any one, and the maximum of a
// few hundred windows is a noisy estimate of a 1-in-300 tail). So every score is standardised
// over the training windows (log scale, robust centre and spread) and a window's statistic is
// its largest standardised score; one cut-off on that statistic, at the training windows'
// (1 − target) quantile with the conformal rank correction, gives every (feature, score) its
// threshold (centre + spread × cut-off, back on the score's scale). A window alarms when any
// score of any feature is above its threshold — exactly when its statistic is above the cut-off.
// The rate the cut-off is fit at is lowered until thresholds fit on half of the training
// windows hold the target on the other half (alternating blocks, both ways): fitted tails are
// optimistic out of sample, and how much is measured on the training data, not assumed.
//
// Categorical features (integer codes a task declares as categories — zones, boroughs — with a
// registry::CategoryStats baseline in the manifest) are not binned as numbers: a window's
// values are counted into the baseline's categories plus "other" (the last slot: codes rare or
// unseen in training, non-integer values) and scored on those k + 1 cells:
//   chi2         Pearson's chi-square goodness of fit, Σ (O − E)² / E, E = n·q with q the
//                baseline shares smoothed add-½ (Jeffreys: q_i = (c_i + ½) / (N + ½(k + 1)),
//                so a category empty in training — "other" when every code was kept — still
//                expects a little and one unseen value cannot make chi2 infinite); cells with
//                E < 5 are pooled into one (Cochran's rule; when the pool still expects < 5 it
//                joins the smallest other cell); df = cells − 1;
//   p_value      P(χ²_df ≥ chi2): the textbook test, which assumes independent rows — a
//                window of consecutive trips is not (an hour's zones), so it is reported, not
//                alarmed on: the calibrated thresholds decide;
//   cramers_v    effect size √(chi2 / (n·(cells − 1))) (Cramér's V of a goodness-of-fit test;
//                0 = the baseline's shares; can pass 1 when a window piles on a rare cell);
//   js_distance  Jensen–Shannon distance, √(JS divergence) base 2 (0 = same, 1 = disjoint), of
//                the window's and the baseline's raw shares over the k + 1 cells (finite with
//                empty cells: no smoothing).
// Alarms are calibrated with the numeric ones, in the same statistic: chi2 and js_distance of
// each categorical feature are two more standardised scores (their thresholds in the
// calibration's "category_thresholds").
// Thread safety: pure functions and plain values.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "registry/manifest.h"

namespace bimride::monitoring {

inline constexpr double kDriftFloor = 1e-4;
inline constexpr int kDriftScores = 4;
inline constexpr std::array<std::string_view, kDriftScores> kDriftScoreNames = {
    "psi", "js", "ks", "wasserstein"};

struct DriftScores {
  std::array<double, kDriftScores> value{};  // psi, js, ks, wasserstein
  double psi() const { return value[0]; }
  double js() const { return value[1]; }
  double ks() const { return value[2]; }
  double wasserstein() const { return value[3]; }
};

// Counts of `values` in the baseline's bins: [underflow, bin 0 … bin n−1, overflow]. NaN values
// are not counted. An empty histogram (a feature with no training values) counts nothing.
std::vector<int64_t> BinCounts(const registry::Histogram& baseline, std::span<const float> values);
void AddToBins(const registry::Histogram& baseline, float value, std::vector<int64_t>* counts);

// Scores of a window's bin counts (BinCounts' layout) against the baseline. A window with no
// counted values scores 0.
DriftScores ScoreDrift(const registry::FeatureStats& baseline, std::span<const int64_t> counts);

// Categorical drift (see the top of this file).
inline constexpr int kCategoryDriftScores = 2;  // the calibrated ones
inline constexpr std::array<std::string_view, kCategoryDriftScores> kCategoryDriftScoreNames = {
    "chi2", "js_distance"};
inline constexpr double kCategorySmoothing = 0.5;   // add-½ on the baseline's counts
inline constexpr double kChiSquareMinExpected = 5;  // Cochran's rule

struct CategoryDriftScores {
  int64_t rows = 0;   // values counted in the window
  int64_t df = 0;     // cells after pooling − 1
  double chi2 = 0;
  double p_value = 1;
  double cramers_v = 0;
  double js_distance = 0;
  std::array<double, kCategoryDriftScores> calibrated() const { return {chi2, js_distance}; }
};

// A baseline's categories → their cell: [category 0 … category k−1, other].
class CategoryCells {
 public:
  explicit CategoryCells(const registry::CategoryStats& baseline);
  size_t cells() const { return slots_.size() + 1; }
  // The cell of `value`: its category's, or the last ("other") for a code not kept in the
  // baseline or a non-integer; −1 for NaN (not counted).
  int Cell(float value) const;
  void Add(float value, std::vector<int64_t>* counts) const;
  std::vector<int64_t> Counts(std::span<const float> values) const;

 private:
  std::vector<std::pair<int64_t, int>> slots_;  // (code, cell), sorted by code
};

// Scores a window's cell counts (CategoryCells' layout) against the baseline. InvalidArgument
// when the counts do not have the baseline's cells, the window is empty (nothing to test), or
// the baseline has no values.
StatusOr<CategoryDriftScores> ScoreCategoryDrift(const registry::CategoryStats& baseline,
                                                 std::span<const int64_t> counts);

// P(χ²_df ≥ x), the chi-square distribution's upper tail (1 for x <= 0).
double ChiSquareUpperTail(double x, int64_t df);

// The fewest disjoint training windows a calibration is made from, and below how many the
// windows overlap more (see CalibrateDrift).
inline constexpr int kDriftMinWindows = 12;
inline constexpr int kDriftFewWindows = 20;

// Per-feature thresholds: what the monitor compares each window's scores with.
struct DriftCalibration {
  int64_t window_rows = 0;       // the window the thresholds are for
  int64_t stride_rows = 0;       // the training windows started every this many rows
  int64_t windows = 0;           // training windows they were measured on
  double z_threshold = 0;        // the cut-off on the largest standardised score
  double fit_rate = 0;           // the rate the cut-off was fit at (<= target_rate)
  double held_out_rate = 0;      // the training data's held-out alarm rate at fit_rate
  double target_rate = 0;        // fraction of windows allowed to alarm
  double training_rate = 0;      // fraction of the training windows that alarm with them
  std::map<std::string, std::array<double, kDriftScores>> thresholds;
  // Categorical features': chi2, js_distance (absent in calibrations made before them).
  std::map<std::string, std::array<double, kCategoryDriftScores>> category_thresholds;
};

// `columns[name]` holds the training values of each feature in time order (all the same
// length) — the features *as the server computes them* (a learned encoding's served view, not
// the training view); `baseline` their manifest stats, from the same values. Windows start every
// `stride_rows` rows (0: window_rows / 4, or window_rows / 16 when the rows make fewer than
// kDriftFewWindows disjoint windows). InvalidArgument when a column has no baseline, the
// lengths differ, or the rows make fewer than kDriftMinWindows disjoint windows.
StatusOr<DriftCalibration> CalibrateDrift(
    const std::map<std::string, registry::FeatureStats>& baseline,
    const std::map<std::string, std::vector<float>>& columns, int64_t window_rows,
    double target_rate, int64_t stride_rows = 0);
// The same with categorical features: a column named in `category_baseline` is scored as
// categories (chi2, js_distance) against it, whatever `baseline` holds for it.
StatusOr<DriftCalibration> CalibrateDrift(
    const std::map<std::string, registry::FeatureStats>& baseline,
    const std::map<std::string, registry::CategoryStats>& category_baseline,
    const std::map<std::string, std::vector<float>>& columns, int64_t window_rows,
    double target_rate, int64_t stride_rows = 0);

// InvalidArgument naming `source` and the feature when the calibration has thresholds for a
// categorical feature the baseline has no categories of (or numeric ones for a feature with
// neither kind of baseline): a manifest whose parts do not belong together.
Status CheckDriftCalibration(const DriftCalibration& c,
                             const std::map<std::string, registry::FeatureStats>& baseline,
                             const std::map<std::string, registry::CategoryStats>& categories,
                             std::string_view source);

// As JSON text (kept as the manifest property "drift_calibration") and back; errors name
// `source`.
std::string DriftCalibrationToJson(const DriftCalibration& c);
StatusOr<DriftCalibration> DriftCalibrationFromJson(std::string_view json, std::string_view source);
inline constexpr char kDriftCalibrationProperty[] = "drift_calibration";

// The manifest property naming a version's loss estimator (live_monitor.h's LossEstimator):
// {"artifact": "loss_model.json", "backend": "xgboost", …} — a model of the version's squared
// error over its features then its prediction, learned from validation rows at publish.
inline constexpr char kLossEstimatorProperty[] = "loss_estimator";
struct LossEstimatorRef {
  std::string artifact;  // in the version folder
  std::string backend;   // models::LoadModel's
};
// Errors name `source` and the missing or mistyped key.
StatusOr<LossEstimatorRef> LossEstimatorRefFromJson(std::string_view json, std::string_view source);

}  // namespace bimride::monitoring
