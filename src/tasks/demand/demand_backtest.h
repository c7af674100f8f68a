// Demand backtest: rolling-origin evaluation of every demand model on a test period after the
// training period, on the protocol of issue 6:
//
//   models are trained ONCE on [train_begin, train_end) (no refit as the origin rolls); then
//   for every test bucket s and horizon h = 1…H the forecast for s is the one made at origin
//   s − h, i.e. with the counts up to and including bucket s − h (actual counts of the test
//   period become history as the origin rolls over them). Every zone of the grid (the zones
//   with a training pickup) and every bucket count, zeros included.
//
// Metrics per model and horizon (train/metrics.h): MAE, RMSE, WAPE, bias over all cells; the
// same on the `busiest_zones` zones with most training pickups; sMAPE over zones whose
// training mean is at least `smape_min_mean` pickups per bucket ("enough volume": sMAPE is
// meaningless on cells that are mostly zero); per-zone MAE/WAPE at h = 1 for the busiest zones.
// Thread safety: pure function; `progress` is called on the caller's thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "features/demand_grid.h"
#include "features/weather.h"
#include "tasks/demand/demand_models.h"
#include "train/metrics.h"

namespace bimride::tasks::demand {

struct DemandBacktestOptions {
  DemandTrainOptions train;
  std::vector<DemandModelKind> models = {DemandModelKind::kSeasonalNaive,
                                         DemandModelKind::kHistoricalAverage,
                                         DemandModelKind::kXgboost, DemandModelKind::kTorch};
  int64_t train_begin_us = 0, train_end_us = 0;  // [begin, end), on bucket boundaries
  int64_t test_begin_us = 0, test_end_us = 0;
  int busiest_zones = 20;
  double smape_min_mean = 1.0;
};

struct DemandHorizonScores {
  int horizon = 1;
  train::Metrics all;
  train::Metrics busiest;
  train::Metrics volume;  // zones with enough volume (its smape is the reported sMAPE)
};

struct DemandModelScores {
  DemandModelKind kind;
  std::string name;
  std::vector<DemandHorizonScores> horizons;          // h = 1…H
  std::map<int32_t, train::Metrics> busiest_zone_h1;  // zone id → metrics at h = 1
  std::map<std::string, double> train_info;
  double train_seconds = 0;
};

struct DemandBacktest {
  std::vector<DemandModelScores> models;
  std::vector<int32_t> busiest;             // zone ids, busiest first
  std::map<int32_t, double> training_mean;  // zone → mean pickups per bucket in training
  int64_t zones = 0;
  int64_t volume_zones = 0;
  int64_t test_buckets = 0;
  double test_mean = 0;  // mean count per test cell
  int bucket_minutes = 60;
  int horizons = 6;
  std::string train_period, test_period;

  const DemandModelScores* Find(DemandModelKind kind) const;
  // The comparison tables (per horizon; busiest zones at h = 1; per-zone errors), Markdown.
  // `zone_names` (may be empty) labels zones.
  std::string ToMarkdown(const std::map<int32_t, std::string>& zone_names) const;
  // Flat metrics for run tracking: "<model>_h<h>_<metric>", "<model>_busiest_h<h>_wape", …
  std::map<std::string, double> ToMetricMap() const;
};

using DemandBacktestLog = std::function<void(const std::string& line)>;

// Scores one trained model on the test buckets [test_begin, test_end) of the grid (times on
// bucket boundaries, the training period before them), as the backtest does.
StatusOr<DemandModelScores> ScoreDemandModel(const TrainedDemandModel& model,
                                             const features::DemandGrid& grid,
                                             const features::WeatherTable* weather,
                                             int64_t test_begin_us, int64_t test_end_us,
                                             int busiest_zones = 20, double smape_min_mean = 1.0);

StatusOr<DemandBacktest> RunDemandBacktest(const features::DemandGrid& grid,
                                           const features::WeatherTable* weather,
                                           const DemandBacktestOptions& options,
                                           const DemandProgress& progress = nullptr,
                                           const DemandBacktestLog& log = nullptr);

}  // namespace bimride::tasks::demand
