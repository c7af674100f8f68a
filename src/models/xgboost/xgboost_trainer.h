// XGBoost training through its C API (only models/xgboost/ includes XGBoost).
// Multi-output: one booster per output (XGBoost 1.7's own multi-target training refuses
// count:poisson and reg:tweedie, which demand forecasting needs), each with its own early
// stopping; saved as a folder output_0.json, output_1.json, … that both the "xgboost" and the
// "native_trees" backends load (see native/tree_ensemble.h, XgboostModelFiles). A single output
// is one JSON file. Early stopping watches the last metric XGBoost reports for the validation
// set (the objective's default: rmse, poisson-nloglik, tweedie-nloglik@p — all lower-is-better)
// and keeps the trees up to the best round.
// Thread safety: TrainXgboost calls are independent.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "models/tabular_data.h"

namespace bimride::models::xgboost_backend {

struct XgboostOptions {
  std::string objective = "reg:squarederror";  // | count:poisson | reg:tweedie
  std::string tree_method = "hist";
  int max_depth = 6;
  double eta = 0.3;
  double subsample = 1.0;
  double colsample_bytree = 1.0;
  double min_child_weight = 1.0;
  double lambda = 1.0;
  double tweedie_variance_power = 1.5;  // used by reg:tweedie only
  int rounds = 100;
  // Stop when the validation metric has not improved for this many rounds (0 = never).
  int early_stopping_rounds = 0;
  int nthread = 1;
  uint64_t seed = 0;
  // Any other booster parameter, passed through as is (e.g. {"max_bin", "128"}).
  std::vector<std::pair<std::string, std::string>> extra_params;
  // Distributed training: the JSON configuration of XGBoost's collective (XGCommunicatorInit:
  // {"xgboost_communicator": "rabit", "rabit_tracker_uri": …, "rabit_tracker_port": …,
  // "rabit_task_id": …, "rabit_world_size": …}). Every worker calls TrainXgboost with its shard
  // of the rows; XGBoost all-reduces the quantile sketches, gradient histograms and metrics,
  // so every worker grows the same trees. The communicator is finalised before returning.
  // Empty: one process.
  std::string communicator_config;
  // Checkpoints: with `checkpoint_every` > 0, after every that many rounds (and when an
  // output's booster is done) the booster of output k — its trees and, as model attributes, the
  // round, the early-stopping state and `checkpoint_tag` — is written atomically to
  // `checkpoint_path` + "_output_<k>.json" by the writer (rank 0). A training that finds such a
  // file resumes from it (in the collective, rank 0 reads it and broadcasts it to every
  // worker): the trees of the rounds it holds are kept and training goes on from the next
  // round, to the trees of an uninterrupted run (for subsample = 1: XGBoost does not save its
  // random state). A checkpoint whose tag differs is refused (another run's). Empty path: none.
  std::string checkpoint_path;
  int checkpoint_every = 0;
  bool checkpoint_writer = true;
  std::string checkpoint_tag;
};

struct TrainedXgboostOutput {
  std::string model_json;        // XGBoost JSON model; trees after the best round dropped
  int rounds_run = 0;
  int resumed_at_round = 0;      // rounds taken from a checkpoint (0: none)
  int best_round = 0;            // 1-based; the model keeps rounds 1..best_round
  double best_valid_metric = 0;  // NaN without validation data
};

struct TrainedXgboost {
  std::vector<TrainedXgboostOutput> outputs;  // one booster per output column
  int num_features = 0;
  std::string metric_name;  // e.g. "rmse", "poisson-nloglik"
  double train_seconds = 0;
  int num_outputs() const { return static_cast<int>(outputs.size()); }
};

// InvalidArgument for bad data/options; Internal with XGBGetLastError() when XGBoost fails.
// `progress` gets one record per round and output (train metric as train_loss, valid metric).
StatusOr<TrainedXgboost> TrainXgboost(const TabularData& train, const TabularData* valid,
                                      const XgboostOptions& options,
                                      const TrainingProgressCallback& progress = nullptr);

// One output: writes the JSON model to `path` (name it *.json). Several: makes `path` a folder
// holding output_<k>.json. Files are written atomically. Both backends load `path`.
Status SaveXgboostModel(const TrainedXgboost& model, const std::string& path);

}  // namespace bimride::models::xgboost_backend
