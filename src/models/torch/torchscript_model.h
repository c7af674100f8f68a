// "torchscript" backend: serves any TorchScript module whose forward maps a float tensor
// [rows, num_features] to [rows, num_outputs] (or [rows] when num_outputs == 1) — ours
// (ExportTabularNet) or one saved by Python's torch.jit.save.
//
// Shapes: the module's int attributes `num_features` / `num_outputs` (ExportTabularNet writes
// them; a Python module declares them as class annotations `num_features: int` set in
// __init__), else LoadOptions::num_features / num_outputs. Neither, or both disagreeing →
// InvalidArgument.
// Loading: torch::jit::load, eval, then (LoadOptions::optimize) freeze + optimize_for_inference,
// falling back to the plain module when the module cannot be frozen. Predict runs under
// c10::InferenceMode. LibTorch's intra-op thread count is process-wide: the loader sets it to
// LoadOptions::num_threads.
// Errors: LibTorch's c10::Error becomes a Status (Internal for forward failures, DataLoss for
// unreadable files, NotFound for missing ones). Thread safety: Predict is safe from many threads.
#pragma once

#include <memory>
#include <string>

#include "models/model.h"

namespace bimride::models::torch_backend {

StatusOr<std::unique_ptr<Model>> LoadTorchScriptModel(const std::string& artifact_path,
                                                      const LoadOptions& options);

}  // namespace bimride::models::torch_backend
