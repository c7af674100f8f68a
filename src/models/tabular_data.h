// TabularData: a dense training/validation set for the model trainers (LibTorch tabular net,
// XGBoost), plus the per-epoch progress record they report.
//
// Layout matches Model::Predict: `features` is row-major rows × num_features (categorical ids are
// passed as floats), `targets` is row-major rows × num_outputs (O > 1 for multi-horizon demand).
// Thread safety: plain values.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"

namespace bimride::models {

// A column of ids (passed as floats) that a net embeds rather than reads as a number.
struct CategoricalColumn {
  int column = 0;       // position in the input row
  int cardinality = 0;  // ids 0 … cardinality-1
  int embedding_dim = 0;
};

struct TabularData {
  int64_t rows = 0;
  int num_features = 0;
  int num_outputs = 1;
  std::vector<float> features;  // rows × num_features
  std::vector<float> targets;   // rows × num_outputs

  float feature(int64_t row, int col) const { return features[row * num_features + col]; }
};

// InvalidArgument (naming `what`, e.g. "train") when sizes disagree, rows == 0, or a target is
// not finite. Features may hold NaN (XGBoost treats it as missing); trainers that cannot take
// NaN check their own columns.
Status ValidateTabularData(const TabularData& data, const std::string& what);

// One record per epoch (LibTorch) or boosting round (XGBoost).
struct TrainingProgress {
  int epoch = 0;             // 1-based epoch / round
  double train_loss = 0;     // mean training loss of the epoch (XGBoost: train eval metric)
  double valid_metric = 0;   // validation loss/metric; NaN without validation data
  double rows_per_second = 0;  // training rows processed per second in this epoch
  bool improved = false;     // valid_metric is the best so far (what early stopping keeps)
  int output = 0;            // XGBoost trains one model per output: the one this record is for
};
using TrainingProgressCallback = std::function<void(const TrainingProgress&)>;

}  // namespace bimride::models
