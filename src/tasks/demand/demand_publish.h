// Demand runs and publishing: run tracking for `train demand` / `backtest demand`, and the
// export of a trained demand model to the registry as a servable version:
//
//   <repo>/<model>/<version>/
//     model/output_0.json …  (XGBoost, one booster per horizon)  or  model/model.pt (+ net.json,
//                            weights.bin for native_mlp)            — the model artifact
//     demand_baselines.json  historical averages per zone of the training period + zone list +
//                            weather fill values (features/demand_features.h)
//     weather.csv            daily weather from the day before training to the table's end
//     manifest.json          signature: inputs[0] "features" [-1, F] (numeric) and the ONLINE
//                            inputs the feature spec builds it from — zone (int32), time
//                            (string, the forecast time t), recent_counts (string: the W
//                            counts of the week of buckets ending at t, oldest first);
//                            outputs demand_h1 … demand_hH (pickups expected in bucket t+h-1);
//                            feature_spec demand_zone_bucket@1 {zone, time, recent_counts};
//                            feature_stats of every feature over the training rows; metrics;
//                            run_id; properties (bucket minutes, horizons, periods).
// What can fail: the registry's errors; InvalidArgument for a baseline model (not servable).
// Thread safety: free functions; one tracker per thread.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "features/demand_grid.h"
#include "features/weather.h"
#include "registry/registry.h"
#include "tasks/demand/demand_models.h"

namespace bimride::tasks::demand {

// Starts a tracked run of task "demand" with the options as params, `job` ("train",
// "backtest") and the command line as tags, and the trip files' fingerprint.
StatusOr<std::unique_ptr<registry::RunTracker>> StartDemandRun(
    registry::Registry& registry, const std::string& job, const std::vector<std::string>& trips,
    const DemandTrainOptions& options, const std::vector<std::string>& command_line);

// Logs every epoch / round as metrics "<model>_<stage>_train_loss" / "…_valid_metric" (XGBoost
// per horizon: "xgboost_fit_valid_metric_h<k>"), through train::TrackProgress. `run` may be
// null (then it logs nothing).
DemandProgress TrackProgress(registry::RunTracker* run);

struct DemandPublishOptions {
  std::string model_name = "demand";
  std::string run_id;
  std::map<std::string, double> metrics;  // e.g. a backtest's or the validation scores
  std::string description;
};

// Publishes `model` (a learned kind) trained on `grid` with `weather` (may be null): computes
// the feature stats on the training rows, writes the context files and the manifest.
StatusOr<registry::Manifest> PublishDemandModel(registry::Registry& registry,
                                                const TrainedDemandModel& model,
                                                const features::DemandGrid& grid,
                                                const features::WeatherTable* weather,
                                                const DemandPublishOptions& options);

}  // namespace bimride::tasks::demand
