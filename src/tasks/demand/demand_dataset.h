// Demand datasets: turn a DemandGrid into model rows — one row per (zone, forecast origin),
// features from features/demand_features.h, targets the next H bucket counts — for training
// (with out-of-fold baselines) and for forecasting/backtests (baselines of the training period).
//
// Buckets are grid indices. "Origin a" is the last bucket whose count is known; the forecast
// is made at t = start of bucket a+1 and row output h-1 (h = 1…H) forecasts bucket a+h.
//
// Out-of-fold baselines: the historical averages a training row sees must not contain its own
// targets (with 3 weeks of data a cell's mean is a third its own target, and a model trained
// on that learns to trust the averages far more than it should on new weeks). The training
// period is cut into 7-day folds; rows whose origin lies in a fold see averages computed from
// the rest of the period, minus that fold and the H buckets after it. Rows built for the test
// period see the averages of the whole training period — what a published model carries.
// What can fail: InvalidArgument / OutOfRange naming the period when it has no rows.
// Thread safety: pure functions over immutable inputs.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "features/demand_features.h"
#include "features/demand_grid.h"
#include "models/tabular_data.h"

namespace bimride::tasks::demand {

struct DemandRows {
  models::TabularData data;       // rows × features; targets rows × H (NaN beyond the grid)
  std::vector<int32_t> zone_pos;  // grid zone position of each row
  std::vector<int64_t> origin;    // origin bucket a of each row
};

// Rows for every zone and every origin a in [origin_begin, origin_end); the week before a+1
// must be in the grid (OutOfRange otherwise). Targets outside the grid are NaN.
StatusOr<DemandRows> BuildForecastRows(const features::DemandGrid& grid,
                                       const features::DemandFeatures& features,
                                       const features::DemandBaselines& baselines,
                                       int64_t origin_begin, int64_t origin_end);

// How training rows get their baselines (historical averages).
enum class TrainingBaselines {
  kOutOfFold,  // the rest of the period minus the row's 7-day fold (and H buckets after it)
  kPastOnly,   // the period before the row's fold (an expanding window: what was known then)
};

// Training rows for the period [begin, end) of buckets: every origin with a full week of
// history inside the grid and all H targets inside [begin, end), with baselines per 7-day fold
// as `mode` says (see above). `weather` is the one the features use (for the fill values).
// With `rows_grid` (same zones and buckets), features and targets are read from it while the
// baselines still come from `grid`.
StatusOr<DemandRows> BuildTrainingRows(const features::DemandGrid& grid,
                                       const features::DemandFeatures& features, int64_t begin,
                                       int64_t end, const features::WeatherTable* weather,
                                       TrainingBaselines mode = TrainingBaselines::kOutOfFold,
                                       const features::DemandGrid* rows_grid = nullptr);

// Level augmentation: a copy of the grid whose counts of each (zone, day) are multiplied by
// exp(sigma·e), e a per-zone AR(1) series over days (correlation `rho`, unit variance). Rows
// built on it (BuildTrainingRows's rows_grid) with the baselines of the real grid show levels
// that drift away from the averages and stay away for a while — as they do when demand grows
// or shifts (Uber in spring 2014) — which a few stationary weeks would never teach.
features::DemandGrid LevelAugmentedGrid(const features::DemandGrid& grid, double sigma, double rho,
                                        uint64_t seed);

// The rows of `rows` with the given indices (for shuffles and subsets).
DemandRows TakeRows(const DemandRows& rows, const std::vector<int64_t>& indices);

}  // namespace bimride::tasks::demand
