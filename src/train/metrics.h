// Evaluation metrics for regression (ETA) and count forecasts (demand), and a breakdown of
// them by group (hour of day, trip-length band, zone, horizon).
//
// Conventions (stated because libraries differ):
//   RMSE, MAE, bias = mean(predicted − actual) over all rows;
//   RMSLE = sqrt(mean((log1p(max(p, 0)) − log1p(max(y, 0)))²));
//   MAPE = mean(|p − y| / |y|) over rows with y != 0 (rows with y == 0 are not counted);
//   WAPE = Σ|p − y| / Σ|y| (NaN when Σ|y| == 0);
//   sMAPE = mean(2|p − y| / (|p| + |y|)) over rows where |p| + |y| > 0.
// Rows where either value is NaN are skipped and counted in `skipped`.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace bimride::train {

struct Metrics {
  int64_t count = 0;    // rows used
  int64_t skipped = 0;  // rows with a NaN prediction or actual
  double rmse = 0;
  double mae = 0;
  double bias = 0;
  double rmsle = 0;
  double mape = 0;
  double wape = 0;
  double smape = 0;
  double mean_actual = 0;
  double sum_actual = 0;
};

Metrics ComputeMetrics(std::span<const float> predicted, std::span<const float> actual);

// Metrics per group: group[i] names row i's group (e.g. the hour); rows of a group in any order.
// Groups in ascending key order.
std::map<int64_t, Metrics> ComputeGroupedMetrics(std::span<const float> predicted,
                                                 std::span<const float> actual,
                                                 std::span<const int64_t> group);

// The metrics as a flat map with `prefix` ("valid_" → "valid_rmse", …), for run tracking.
std::map<std::string, double> MetricsToMap(const Metrics& m, const std::string& prefix);

}  // namespace bimride::train
