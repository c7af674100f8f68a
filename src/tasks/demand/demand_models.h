// Demand models: the two baselines dispatch teams use — seasonal naive (the same bucket last
// week) and the historical average per (zone, weekday, bucket of day) — and two learned global
// models over the demand features (one model for all zones, zone as a feature), trained through
// train::Train: XGBoost (count:poisson by default; one booster per horizon) and a LibTorch
// tabular net (zone and target-slot embeddings + the lag window → MLP with H outputs, Poisson
// loss). A learned kind whose trainer is not in this build fails with the trainer's NotFound.
//
// Training protocol (TrainDemandModel): the period [train_begin, train_end) of the grid. The
// learned models keep the LAST `valid_days` of it as a validation slice for early stopping
// (never anything after train_end); with `refit`, they are then trained again on the whole
// period for the rounds/epochs early stopping chose. Baselines of the whole period are the
// model's context (the historical-average table it ships with).
//
// What can fail: InvalidArgument for bad options or a period too short; the trainers' errors.
// Thread safety: a TrainedDemandModel is immutable after training; Predict is thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "features/demand_features.h"
#include "features/demand_grid.h"
#include "models/model.h"
#include "models/tabular_data.h"
#include "tasks/demand/demand_dataset.h"
#include "train/trainer.h"

namespace bimride::tasks::demand {

enum class DemandModelKind { kSeasonalNaive, kHistoricalAverage, kXgboost, kTorch };
// "seasonal_naive", "historical_average", "xgboost", "torch_mlp"
std::string_view DemandModelName(DemandModelKind kind);
StatusOr<DemandModelKind> ParseDemandModelKind(std::string_view name);
inline bool IsLearned(DemandModelKind k) {
  return k == DemandModelKind::kXgboost || k == DemandModelKind::kTorch;
}
// The trainer kind (train::Train) of a learned model: "xgboost" or "torch".
std::string DemandTrainerKind(DemandModelKind kind);

struct DemandXgboostSettings {
  std::string objective = "count:poisson";  // | reg:tweedie | reg:squarederror
  int max_depth = 6;
  double eta = 0.1;
  int rounds = 600;
  int early_stopping_rounds = 30;
  double subsample = 0.8;
  double colsample_bytree = 0.8;
  double min_child_weight = 5;
  double lambda = 1;
  double tweedie_variance_power = 1.2;
};

struct DemandTorchSettings {
  std::vector<int> hidden_sizes = {64, 32};
  int zone_embedding_dim = 16;
  int slot_embedding_dim = 4;
  double learning_rate = 2e-3;
  double weight_decay = 0;
  double dropout = 0;
  int batch_size = 1024;
  int epochs = 30;
  int patience = 3;
  bool poisson = true;  // Poisson NLL (log link); false: MSE
  // Nets trained with seeds seed, seed+1, …, merged into one net averaging their log-rates
  // (models/native AverageMlpNets): less seed-to-seed variance on a few weeks of data.
  int ensemble = 3;
};

inline constexpr double kAutoShrink = -1;

struct DemandTrainOptions {
  features::DemandFeatureConfig features;
  double valid_days = 7;  // validation slice at the END of the training period
  bool refit = true;      // retrain on the whole period with the early-stopped rounds/epochs
  // Learned models are trained on max(count − target_shrink, 0): under a Poisson count that
  // is the mean μ − c·(1 − e^−μ), i.e. the mean pulled towards zero where demand is sparse.
  // WAPE (an absolute error) is minimised by the median, which for sparse cells is 0, so a
  // little shrink lowers WAPE a lot and RMSE a little. 0 = forecast the mean.
  // kAutoShrink: chosen on the validation slice from {0, 0.1, …, 0.5} (needs `refit`).
  double target_shrink = kAutoShrink;
  // Learned models train on rows of a level-augmented grid (LevelAugmentedGrid) with this
  // sigma (0: the real counts) and day-to-day correlation; validation stays on real counts.
  double level_augment_sigma = 0.3;
  double level_augment_rho = 0.8;
  DemandXgboostSettings xgboost;
  DemandTorchSettings torch;
  int threads = 2;  // XGBoost nthread and LibTorch intra-op threads
  uint64_t seed = 42;
  std::string work_dir;  // scratch folder for model files (empty: a temp folder)
  // Data-parallel LibTorch training (train/distributed.h): this process's rank; every rank runs
  // TrainDemandModel on the same grid. And rank 0's checkpoints.
  train::DistributedOptions distributed;
  std::string checkpoint_dir;
  int checkpoint_every_steps = 0;
};

// One record per epoch / boosting round, for run tracking (stage: "fit" or "refit").
using DemandProgress =
    std::function<void(const std::string& stage, const models::TrainingProgress& progress)>;

struct TrainedDemandModel {
  DemandModelKind kind = DemandModelKind::kHistoricalAverage;
  features::DemandFeatureConfig config;
  features::DemandBaselines baselines;         // of the whole training period (the context)
  std::shared_ptr<const models::Model> model;  // learned kinds only
  std::string artifact_dir;                    // learned kinds: the saved model files, in
  std::vector<std::string> artifacts;          //   artifact_dir/model/<artifacts[i]>
  std::string backend;                         // the trainer's: "xgboost" or "torchscript"
  std::map<std::string, double> train_info;    // valid loss, rounds/epochs, seconds, rows/s
  int64_t train_rows = 0;

  // rows.data.rows × H forecasts for rows built on `grid` (same zones as training).
  StatusOr<std::vector<float>> Predict(const features::DemandGrid& grid,
                                       const DemandRows& rows) const;
};

// Trains `kind` on buckets [train_begin, train_end) of the grid.
StatusOr<TrainedDemandModel> TrainDemandModel(DemandModelKind kind,
                                              const features::DemandGrid& grid,
                                              const features::WeatherTable* weather,
                                              int64_t train_begin, int64_t train_end,
                                              const DemandTrainOptions& options,
                                              const DemandProgress& progress = nullptr);

}  // namespace bimride::tasks::demand
