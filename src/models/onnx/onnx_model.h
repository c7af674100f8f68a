// onnx: runs ONNX models (from PyTorch's torch.onnx.export, Keras/TensorFlow via tf2onnx,
// scikit-learn or XGBoost via their converters) natively, without ONNX Runtime. The file is
// parsed with Debian's ONNX protobuf library; the graph is checked once at load and run by a
// small interpreter over float and int64 tensors.
//
// Operators (domain ai.onnx, opsets 7–17): Gemm, MatMul, Add, Sub, Mul, Div, Relu, Sigmoid,
// Tanh, Exp, Softmax, Clip, Gather, Concat, Reshape, Flatten, Unsqueeze, Squeeze, Slice, Cast, Shape,
// Constant, Identity; (ai.onnx.ml) TreeEnsembleRegressor and TreeEnsembleClassifier. Anything
// else — an operator, an attribute value, external tensor data, a string tensor — is refused at
// load with an error naming the file, the node and what is not supported.
//
// Model contract (models/model.h): the graph has one float input of shape [N, F] (N may be
// symbolic; F is num_features()). The model's outputs are its float graph outputs of shape [N]
// or [N, k], side by side in graph order (a classifier's int64 label output is skipped: its
// probabilities are the outputs). Widths are learnt by running one zero row at load.
//
// Limits: a tensor may hold at most kMaxTensorElements values, one run's values together four
// times that, and one MatMul/Gemm at most 2^31 multiply-adds (a hostile file cannot make the
// server allocate or compute without bound); errors, not crashes, for every bad file.
// Thread safety: Predict may be called from many threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "models/model.h"

namespace bimride::models::onnx_backend {

inline constexpr int64_t kMaxTensorElements = int64_t{1} << 24;

// The "onnx" backend loader: `artifact_path` is a .onnx file.
StatusOr<std::unique_ptr<Model>> LoadOnnxModel(const std::string& artifact_path,
                                               const LoadOptions& options);

// The same from the file's bytes; `name` names the source in errors (the fuzzer's entry).
StatusOr<std::unique_ptr<Model>> LoadOnnxModelFromBytes(const std::string& bytes,
                                                        const std::string& name,
                                                        const LoadOptions& options = {});

}  // namespace bimride::models::onnx_backend
