// Retention: P(rider is still active `horizon_days` later | history up to a cut-off day), from
// a simulated city's riders (signup and churn days: the account status the company knows) and
// its quote log (the history). One row per (cut-off day, rider active that day); features from
// the quotes before the cut-off only; label: still active on cut-off + horizon.
//
// Features (kRetentionFeatureNames): quotes, bookings, booking rate (shrunk), quotes in the last
// 7 and 28 days, days since the last quote and since the last booking (capped at 60), dear
// quotes declined (≥ 1.3× the usual price), bookings no driver served, tenure in days (capped at
// 365), recent surge exposure.
//
// Time-based split with no overlap: the test cut-offs are the last `test_cutoffs`; a training
// cut-off's label day is never after the first test cut-off (what the model learns from was
// all known when the test rows are scored); the last training cut-off early-stops the learned
// models. Baselines: the training base rate; a logistic regression on recency (days since the
// last quote).
// Thread safety: one call per thread (LibTorch's thread count is process-wide).
#pragma once

#include <array>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "models/tabular_data.h"
#include "simulator/simulator.h"
#include "tasks/behaviour/behaviour_conversion.h"

namespace bimride::tasks::behaviour {

// kRetentionFeatures, kRetentionFeatureNames: behaviour_dataset.h.

// The design's seed ensembles (docs/behaviour.md, fourth attempt; decided on tuning seeds).
inline const std::map<std::string, int> kRetentionSeedEnsemble = {{"torch", 5}, {"xgboost", 1}};

// The design's xgboost parameters (docs/behaviour.md, fifth attempt; decided on tuning seeds
// 101–166): min_child_weight 100 and lambda 10 (were 20 and 1), the rest as before.
inline const train::Params kRetentionXgboostParams = {
    {"max_depth", "4"},          {"eta", "0.05"},
    {"rounds", "400"},           {"early_stopping_rounds", "30"},
    {"min_child_weight", "100"}, {"lambda", "10"},
    {"subsample", "0.8"}};

struct RetentionOptions {
  int32_t horizon_days = 28;
  int32_t cutoff_step_days = 7;
  int32_t first_cutoff_day = 14;  // some history first
  int32_t test_cutoffs = 2;
  std::vector<std::string> learned = {"xgboost", "torch"};
  train::Params xgboost_params = kRetentionXgboostParams;
  train::Params torch_params = {{"hidden_sizes", "32,16"}, {"learning_rate", "0.002"},
                                {"batch_size", "256"},     {"epochs", "30"},
                                {"patience", "3"}};
  // A seed ensemble per learned kind (kind -> K; absent or 1: one model): K models trained on
  // the same rows with training seeds seed, seed + 1, …, seed + K - 1, their probabilities
  // averaged (models/seed_ensemble.h). It is what is scored, reported and published; member 0
  // is the one-model result bit for bit. K decided on tuning seeds (docs/behaviour.md).
  std::map<std::string, int> seed_ensemble = kRetentionSeedEnsemble;
  int threads = 1;
  uint64_t seed = 42;
  std::string work_dir;
};

struct RetentionRows {
  models::TabularData data;     // kRetentionFeatures columns, target: active at cut-off + horizon
  std::vector<int32_t> cutoff;  // cut-off day per row
};

// The time split of a city of `days` days: cut-offs from first_cutoff_day every
// cutoff_step_days while cut-off + horizon is a simulated day; the last `test_cutoffs` test; the
// earlier ones whose label day is not after the first test cut-off train (the last of them
// validates: early stopping and the calibration). InvalidArgument, naming the days and
// cut-offs, when the options are out of range or the city is too short for it (fewer than two
// training cut-offs). Needs no data: callers check a design before simulating.
struct RetentionSplit {
  std::vector<int32_t> train_cutoffs, test_cutoffs;
};
StatusOr<RetentionSplit> PlanRetentionSplit(int32_t days, const RetentionOptions& options);

// InvalidArgument when the city is too short for one cut-off and its horizon, or has no riders.
StatusOr<RetentionRows> BuildRetentionRows(const simulator::SimulatedCity& city,
                                           const RetentionOptions& options);

// The features of every rider active on `cutoff_day` (history before that day's start), as the
// rows of BuildRetentionRows are made, without labels: what a published retention model is
// served with. `cutoff_day` may be the day after the city's last (its end). InvalidArgument
// for a day outside 1..days or a city without riders.
struct RetentionSnapshot {
  int32_t cutoff_day = 0;
  int64_t cutoff_us = 0;         // the start of that day
  std::vector<int64_t> rider_id;  // one per row of `features`
  std::vector<float> features;    // rider_id.size() × kRetentionFeatures
};
StatusOr<RetentionSnapshot> RetentionFeaturesAt(const simulator::SimulatedCity& city,
                                                int32_t cutoff_day);

struct RetentionResult {
  std::vector<int32_t> train_cutoffs, test_cutoffs;
  int64_t train_rows = 0, valid_rows = 0, test_rows = 0;
  // base_rate, logistic_recency, then per learned kind: the model, and the model with an
  // isotonic calibration fitted on the validation cut-off ("<kind>+isotonic"). Every score has
  // its ece_uncertainty.
  std::vector<ConversionScore> scores;
  // Same order as options.learned. A seed ensemble is one TrainedModel of backend
  // "seed_ensemble": artifacts seed_ensemble.json (first) and member_<i>/…, model the ensemble.
  std::vector<train::TrainedModel> learned;
};

// InvalidArgument when a kind's seed_ensemble size is < 1 or > 32.
StatusOr<RetentionResult> TrainRetentionModels(const simulator::SimulatedCity& city,
                                               const RetentionOptions& options);

}  // namespace bimride::tasks::behaviour
