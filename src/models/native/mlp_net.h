// MlpNet: the architecture and weights of our tabular net (categorical embeddings + standardised
// numeric features → ReLU MLP), independent of any framework, and its on-disk format.
//
// Forward pass (the contract the LibTorch trainer, the TorchScript export and native_mlp share):
//   for each categorical column k: id = clamp(trunc(x[column_k]), 0, cardinality_k - 1), NaN → 0;
//       e_k = embeddings[k][id]                                   (embedding_dim_k values)
//   z = (x[numeric_columns] - numeric_mean) / numeric_std         (NaN propagates)
//   h = concat(e_0, …, e_{K-1}, z)
//   h = relu(W_i h + b_i) for every layer but the last; y = W_last h + b_last
//   y = exp(y) when output_transform is kExp (Poisson log link), 1 / (1 + exp(-y)) when kSigmoid
//   (logistic link), else y.
//
// Files (written by WriteMlpNet, read by ReadMlpNet), in one folder:
//   net.json     {"format": "bimride_mlp", "version": 1, "num_features": F, "num_outputs": O,
//                 "output_transform": "identity" | "exp" | "sigmoid", "activation": "relu",
//                 "weights_file": "weights.bin", "weights_floats": N,
//                 "categorical": [{"column", "cardinality", "embedding_dim", "offset"}],
//                 "numeric": {"columns": [...], "mean_offset", "std_offset"},
//                 "layers": [{"in", "out", "weight_offset", "bias_offset"}]}
//   weights.bin  N little-endian float32 values; each "offset" counts floats from the start.
//                Embedding k is cardinality × dim row-major; a layer weight is out × in
//                row-major (PyTorch's Linear layout); mean/std/bias are plain vectors.
// Thread safety: plain values.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "models/tabular_data.h"

namespace bimride::models::native {

using models::CategoricalColumn;

struct DenseLayer {
  int in = 0;
  int out = 0;
  std::vector<float> weight;  // out × in, row-major
  std::vector<float> bias;    // out
};

enum class OutputTransform { kIdentity, kExp, kSigmoid };

struct MlpNet {
  int num_features = 0;
  std::vector<CategoricalColumn> categorical;
  std::vector<std::vector<float>> embeddings;  // one per categorical column
  std::vector<int> numeric_columns;
  std::vector<float> numeric_mean;
  std::vector<float> numeric_std;  // > 0
  std::vector<DenseLayer> layers;  // ReLU after every layer but the last
  OutputTransform output_transform = OutputTransform::kIdentity;

  int num_outputs() const { return layers.empty() ? 0 : layers.back().out; }
  // Width of h before the first layer: sum of embedding dims + number of numeric columns.
  int input_width() const;
};

// InvalidArgument naming the first inconsistency (column out of range or used twice, sizes that
// do not chain, non-positive std, …).
Status ValidateMlpNet(const MlpNet& net);

// One net computing the mean of the nets' last-layer outputs (before the output transform, so
// for Poisson nets the geometric mean of their rates): embeddings are concatenated per column,
// hidden layers placed block-diagonally, the last layers averaged. The nets must share inputs
// (num_features, categorical columns and cardinalities, numeric columns and standardisation),
// depth, outputs and transform — as nets trained on the same data with different seeds do.
// InvalidArgument naming the first difference.
StatusOr<MlpNet> AverageMlpNets(const std::vector<MlpNet>& nets);

// Writes net.json and weights.bin into `dir` (created if missing), each atomically.
Status WriteMlpNet(const MlpNet& net, const std::string& dir);
// Reads a net from a folder holding net.json, or from the path of net.json itself.
// NotFound / DataLoss / InvalidArgument naming the file and the problem.
StatusOr<MlpNet> ReadMlpNet(const std::string& path);

}  // namespace bimride::models::native
