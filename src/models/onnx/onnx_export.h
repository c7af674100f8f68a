// ONNX out: our models as ONNX files (opset 13, ai.onnx.ml 1), for ONNX Runtime, TensorRT or
// anyone else. The graph takes one float input "features" [N, F] and gives "outputs" [N, O],
// as the onnx backend (onnx_model.h) expects, so an exported file loads back in our server too.
//
//  - ExportMlpNet: the tabular net (models/native/mlp_net.h) — per categorical column Gather →
//    Clip(0, cardinality−1) → Cast(int64) → Gather from the embedding table; numeric columns
//    Gather → Sub(mean) → Div(std); Concat; Gemm (transB) + Relu per layer; Exp for Poisson nets.
//    Ids are clamped as the net does; a NaN id is undefined in ONNX's Cast (native_mlp maps it to
//    0), so feed ids, not NaN.
//  - ExportTreeEnsemble: an XGBoost ensemble (models/native/tree_ensemble.h) as one
//    TreeEnsembleRegressor (BRANCH_LT, missing values follow XGBoost's default child, one target
//    per output, base margins as base_values), then Sigmoid or Exp for those objectives.
// Files are written atomically. Errors: InvalidArgument for a net or ensemble that does not
// validate; the file system's errors naming the path.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "models/native/mlp_net.h"
#include "models/native/tree_ensemble.h"

namespace bimride::models::onnx_backend {

Status ExportMlpNet(const native::MlpNet& net, const std::string& path);
Status ExportTreeEnsemble(const native::TreeEnsemble& trees, const std::string& path);

struct ExportCheck {
  int num_features = 0;
  int num_outputs = 0;
  int64_t rows = 0;              // rows compared
  double max_relative_error = 0;  // |onnx − source| / max(1, |source|), worst output
};

// Exports the model that `backend` loads from `artifact_path` (a registry version's first
// artifact): native_mlp (net.json), torchscript written by bimride (its net.json beside
// model.pt), xgboost and native_trees (XGBoost JSON), onnx (copied). Then loads the file with
// the onnx backend and compares it with the source backend on `check_rows` seeded random rows
// (ids within each embedding's range), so a bad export is an error, not a surprise later.
// Unimplemented naming the backend for others (a TorchScript module saved by Python has no
// net.json: export it from PyTorch with torch.onnx.export). InvalidArgument when the outputs
// differ by more than `tolerance` (relative).
StatusOr<ExportCheck> ExportArtifactToOnnx(const std::string& backend,
                                           const std::string& artifact_path,
                                           const std::string& out_path, int64_t check_rows = 256,
                                           double tolerance = 1e-5);

}  // namespace bimride::models::onnx_backend
