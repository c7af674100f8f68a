// ETA training: builds the feature context from the training trips only, computes features for
// the training and validation trips with the one ETA feature path, trains a model (a baseline,
// or any trainer kind through train::Train: "xgboost", "torch", …), writes a
// self-contained model folder, reloads it through the serving backend and evaluates it on the
// validation trips next to all three baselines (same rows, same features).
//
// Model folder (also what a registry version holds):
//   manifest.json        registry::Manifest (unpublished: version 0, no digests) with inputs,
//                        outputs, feature_spec {name, version, request_fields}, metrics,
//                        feature_stats of the training features as served, run_id, properties
//   model.json           XGBoost JSON model            (backend "xgboost"; native_trees too)
//   model.pt             TorchScript module            (backend "torchscript")
//   net.json weights.bin the same net for native_mlp   (with the TorchScript model)
//   baseline.json        a baseline                    (backend "baseline")
//   eta_context.json eta_zone_pairs.csv eta_weather.csv   the feature context
//
// Errors: InvalidArgument for bad options/data (naming the part), Internal from a backend.
// Thread safety: one training at a time per process (LibTorch's thread count is global).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "data/zone_index.h"
#include "features/eta_features.h"
#include "features/weather.h"
#include "models/model.h"
#include "models/tabular_data.h"
#include "registry/manifest.h"
#include "registry/run_tracker.h"
#include "tasks/eta/eta_baselines.h"
#include "tasks/eta/eta_dataset.h"
#include "tasks/eta/eta_evaluation.h"
#include "train/trainer.h"

namespace bimride::tasks::eta {

// The model kinds: "baseline" (the task's own) or a trainer kind registered in this build.
inline constexpr std::string_view kEtaBaselineModel = "baseline";
// OK for "baseline" and every registered trainer; InvalidArgument naming the known ones.
Status CheckEtaModelKind(const std::string& model);

// The rows the loss estimator (EtaTrainConfig::loss_estimator) learns the model's squared error
// from.
enum class EtaLossRows {
  // Half the validation rows (even positions); the other half stops it early.
  kValidationHalf,
  // Every validation row, for the rounds 2-fold cross-fitting between the halves chose (each
  // half fit, stopped on the other; their mean best round).
  kValidationCrossFit,
  // Every training row with the error of a model that did not see it: `loss_estimator_folds`
  // fold models (the same trainer and parameters, for the published model's best round count,
  // row i held out of fold i % folds — the out-of-fold encoding's folds when the counts agree),
  // each predicting its held-out rows; the validation rows (the published model's own errors)
  // stop it early. Needs a trainer that refits for fixed rounds (xgboost); others fall back to
  // kValidationHalf.
  kTrainingOutOfFold,
};
std::string_view EtaLossRowsName(EtaLossRows rows);

struct EtaTrainConfig {
  features::EtaFeatureSet features = features::EtaFeatureSet::kBooking;
  std::string model = "xgboost";  // "baseline" or a trainer kind (train::RegisteredTrainers())
  EtaBaselineKind baseline = EtaBaselineKind::kPairMedian;  // with model "baseline"
  features::EtaContextOptions context;
  // The trainer's hyper-parameters by name (train/backends/*: max_depth, eta, rounds, …;
  // hidden_sizes, learning_rate, epochs, …). The zone/borough/hour/weekday columns are given to
  // the trainer as categorical.
  train::Params params;
  double huber_delta = 0;  // > 0: Huber loss with this delta; else squared error
  uint64_t seed = 42;
  int zone_embedding_dim = 16;
  // Training rows get their learned encodings (zone-pair medians, …) out of fold: from a
  // context built on the other folds, so a row never sees its own label. 0/1 = off (the full
  // training context, which leaks each row's own duration into its pair median).
  int encoding_folds = 5;
  int threads = 2;                 // XGBoost nthread, LibTorch threads, inference threads
  std::string model_name = "eta";  // manifest name
  // Data-parallel training (trainers that support it: "torch"): this process's rank, from
  // torchrun's environment (train/distributed.h); every rank runs TrainEtaModel on the same
  // data, rank 0 writes the folder that is published. And rank 0's checkpoints.
  train::DistributedOptions distributed;
  std::string checkpoint_dir;
  int checkpoint_every_steps = 0;
  // Drift alarms (monitoring/drift.h) calibrated on the training rows in pickup order, in
  // windows of this many rows — the server's monitor.window_rows — to this false-alarm rate;
  // kept in the manifest property "drift_calibration". 0: not calibrated.
  int64_t drift_window_rows = 1000;
  double drift_target_rate = 0.05;
  // Features with one value per day (weekday, holiday, the day's weather): a window of the
  // monitor's size holds one or two days, so their scores are set by which day it is, and a
  // month of training windows holds ~30 such days. kScoreOnly scores them but gives them no
  // calibrated threshold; kAlarm calibrates them like the rest; kAuto (default) calibrates
  // with them and, when the calibration's held-out rate is above the target, also without them,
  // and keeps the lower held-out rate (the training data's own estimate of the false-alarm
  // rate). Measured on the odd/even days of 2021-01 (results/monitoring.md): at 100-row windows
  // both reach the target and with them the even days alarm less (3.6% vs 6.2% of 357); at
  // 1000-row windows neither does (held out 11.8% with them, 6.7% without) and the even days
  // alarm in 26 of 35 windows with them, 2 without.
  enum class DayLevelDrift { kAuto, kAlarm, kScoreOnly };
  DayLevelDrift drift_day_level = DayLevelDrift::kAuto;
  // The drift baseline (the manifest's feature_stats and the calibration windows) is the
  // training rows' features as served: learned encodings out-of-fold over this many folds
  // (a context of all but 1/folds of the rows, as close to the served context as is cheap).
  // <= 1: the training view.
  int drift_baseline_folds = 20;
  // Publish a loss estimator (kEtaLossModelFile; monitoring's estimated accuracy before labels):
  // XGBoost (depth 3, at most loss_estimator_max_rounds trees) of the model's squared error.
  // Needs the xgboost trainer.
  bool loss_estimator = true;
  // Which rows it learns the squared error from (EtaLossRows), and its XGBoost objective:
  // "reg:squarederror", or "reg:gamma" (a squared error is a scale times a chi-square: a gamma
  // variable; the target is floored at 1e-4 min², as gamma takes only positive values).
  // Out-of-fold training rows with gamma won the choice on 2021-02/03 replays and took 2022/2023
  // from 156 to 158 of 200 windows within 15% (results/monitoring.md, "Tried, not made the
  // default"); it trains loss_estimator_folds more models at every publish and retrain (2.7×
  // the publish time of a 60-round model), so the default stays the cheap fit.
  EtaLossRows loss_estimator_rows = EtaLossRows::kValidationHalf;
  std::string loss_estimator_objective = "reg:squarederror";
  int loss_estimator_folds = 5;  // kTrainingOutOfFold: fold models (rows i % folds held out)
  // At most this many boosting rounds (trees) for the estimator, early stopping within them.
  // The server's monitor walks every tree on every logged row, so this bounds the log writer's
  // work per request. With a large validation set (the logging benchmark's model: 30,741 rows)
  // early stopping went to 261 trees, and on the next month (2021-03, windows of 1000) every
  // cut of those trees from 150 down to 25 estimated as well or better; 50 did best
  // (results/monitoring.md, "The loss estimator's size"). The item-4 model's estimator stops at
  // 47, under the cap. The gamma objective (log link from base 0.5) needs more: give it 500.
  int loss_estimator_max_rounds = 50;
};

// weekday, holiday and the weather features: one value per day (see drift_day_level).
bool IsDayLevelEtaFeature(std::string_view name);

// The loss estimator's artifact in the model folder (manifest property "loss_estimator").
inline constexpr char kEtaLossModelFile[] = "loss_model.json";
// The loss estimator's input rows, as the monitor builds them from a logged batch: each row's
// served features, then the model's prediction (row-major, x.num_features + 1 per row).
std::vector<float> EtaLossEstimatorInputs(const models::TabularData& x,
                                          const std::vector<float>& predicted);

// The model kind and the trainer's parameters, checked without training (InvalidArgument or
// NotFound naming what is wrong), so a command line is refused before any data is read.
Status CheckEtaTrainConfig(const EtaTrainConfig& config);

// The tuned defaults (results/eta.md) for a feature set and model kind.
EtaTrainConfig DefaultEtaTrainConfig(features::EtaFeatureSet set, const std::string& model);

struct EtaTrainResult {
  std::string model_dir;
  registry::Manifest manifest;              // as written to model_dir/manifest.json
  std::vector<NamedEvaluation> comparison;  // the model, then the three baselines (validation)
  std::string summary;                      // training details, one line each
};

// One progress record per epoch / boosting round.
using EtaProgressCallback = std::function<void(const models::TrainingProgress&)>;

// Trains, writes `out_dir` (created; files replaced atomically), evaluates. `valid` is used for
// early stopping and the reported metrics (the protocol: the later month). `run` (may
// be null) gets params, metrics by epoch and the final metrics; its id goes into the manifest.
StatusOr<EtaTrainResult> TrainEtaModel(const EtaDataset& train, const EtaDataset& valid,
                                       const data::ZoneIndex* zones,
                                       const features::WeatherTable* weather,
                                       const EtaTrainConfig& config, const std::string& out_dir,
                                       registry::RunTracker* run,
                                       const EtaProgressCallback& progress = nullptr);

// A model folder loaded for prediction: manifest, feature context and the model.
struct LoadedEtaModel {
  registry::Manifest manifest;
  features::EtaFeatureContext context;
  std::unique_ptr<models::Model> model;
};
// Reads <dir>/manifest.json (a training output or a registry version folder), the context and
// the model through its backend (`backend` overrides the manifest's, e.g. "native_trees").
StatusOr<LoadedEtaModel> LoadEtaModel(const std::string& dir, int threads = 1,
                                      const std::string& backend = "");

// Features (the one path) + Predict: one ETA in minutes per trip.
StatusOr<std::vector<float>> PredictEta(const LoadedEtaModel& model, const data::TripTable& trips);

// Training features with out-of-fold encodings: row i belongs to fold i % folds and gets the
// features of a context built from the other folds (folds <= 1: `full` for every row).
StatusOr<models::TabularData> MakeOutOfFoldTabularData(const EtaDataset& train,
                                                       const features::EtaFeatureContext& full,
                                                       int folds, const data::ZoneIndex* zones,
                                                       const features::WeatherTable* weather);

// The ETA features that are ids (zones, boroughs, hour, weekday), for trainers that embed them.
std::vector<models::CategoricalColumn> EtaCategoricalColumns(
    const features::EtaFeatureContext& context, int zone_embedding_dim);

// Builds the training features of a dataset with a context (TabularData, label = minutes).
StatusOr<models::TabularData> MakeEtaTabularData(const features::EtaFeatureContext& context,
                                                 const EtaDataset& dataset);

}  // namespace bimride::tasks::eta
