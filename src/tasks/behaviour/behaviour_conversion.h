// Conversion models: P(rider books | quote, rider history) on the later part of a city's quote
// log, learned (XGBoost binary:logistic, LibTorch MLP with a logistic loss, both through
// train::Train) against two baselines (the training base rate; a logistic regression on
// ln(price ratio)). The split is by day: the first `train_days` days train (their last
// `valid_days` days early-stop the learned models), every later day tests.
// Thread safety: one call per thread (LibTorch's thread count is process-wide).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "simulator/simulator.h"
#include "tasks/behaviour/behaviour_dataset.h"
#include "tasks/behaviour/behaviour_metrics.h"
#include "train/trainer.h"

namespace bimride::tasks::behaviour {

struct ConversionOptions {
  int32_t train_days = 0;  // 0: the first 75% of the city's days
  int32_t valid_days = 7;  // the end of the training days, for early stopping
  std::vector<std::string> learned = {"xgboost", "torch"};  // trainer kinds to fit
  train::Params xgboost_params = {{"max_depth", "6"},          {"eta", "0.1"},
                                  {"rounds", "400"},           {"early_stopping_rounds", "20"},
                                  {"min_child_weight", "20"},  {"subsample", "0.8"}};
  train::Params torch_params = {{"hidden_sizes", "64,32"}, {"learning_rate", "0.002"},
                                {"batch_size", "1024"},    {"epochs", "12"},
                                {"patience", "2"}};
  int threads = 2;
  uint64_t seed = 42;
  std::string work_dir;  // the learned models' artifacts go to <work_dir>/<kind>
  train::ProgressCallback progress;  // may be empty
};

struct ConversionScore {
  std::string model;  // "base_rate", "logistic_price", "xgboost", "torch"
  ClassifierMetrics test;
  double train_seconds = 0;
  double train_rows_per_second = 0;  // learned models: rows × iterations / s, as the trainer says
  int iterations = 0;                // boosting rounds / epochs kept
  // Retention only (ComputeEceUncertainty of the test predictions); zero elsewhere.
  EceUncertainty ece_uncertainty;
};

struct ConversionResult {
  int32_t train_days = 0, valid_days = 0, test_days = 0;
  int64_t train_rows = 0, valid_rows = 0, test_rows = 0;
  std::vector<ConversionScore> scores;  // baselines first, then the learned kinds in order
  std::vector<train::TrainedModel> learned;  // same order as options.learned
  std::vector<double> logistic_price_coef;   // intercept, slope on ln(price ratio)
};

// InvalidArgument when the split leaves a part empty (too few days), an unknown trainer kind
// is asked for (NotFound from train::Train), or the data are degenerate.
StatusOr<ConversionResult> TrainConversionModels(const simulator::SimulatedCity& city,
                                                 const ConversionOptions& options);

// One learned classifier, the same steps for conversion and retention: `kind` ("xgboost",
// "torch") trained with the logistic loss on `fit`, early-stopped on `valid`, artifacts in
// `dir`; its probabilities on `test` (clamped to [0, 1]) scored. Errors from train::Train.
struct ScoredClassifier {
  ConversionScore score;
  train::TrainedModel model;
  std::vector<float> test_probability;  // what was scored
};
StatusOr<ScoredClassifier> TrainAndScoreClassifier(
    const std::string& kind, const train::Params& params, int threads, uint64_t seed,
    const models::TabularData& fit, const models::TabularData& valid,
    const models::TabularData& test, const std::string& dir,
    const train::ProgressCallback& progress = nullptr);

// The baseline's probability for a price ratio.
double LogisticPriceProbability(const std::vector<double>& coef, double price_ratio);

}  // namespace bimride::tasks::behaviour
