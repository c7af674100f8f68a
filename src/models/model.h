// Model: the one interface every model backend implements, for training code, evaluation and
// the model server alike.
//
// Inputs are a dense row-major float matrix of `rows × num_features()` in the order of the
// model's feature spec (ids such as zones are passed as floats and cast back inside the model).
// Outputs are `rows × num_outputs()` floats.
//
// Adding a backend: implement Model in its own folder (models/torch/, models/xgboost/,
// models/native/ …) and register a loader with one BIMRIDE_MODEL_BACKEND line; the shared
// conformance test (save → load round trip, batch equals single rows) picks it up.
// Thread safety: Predict() may be called from many threads at once on one loaded model.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace bimride::models {

struct LoadOptions {
  int num_threads = 1;   // intra-op threads for backends that have them
  bool optimize = true;  // freeze / optimize for inference where the backend supports it
  // Expected input/output widths, for artifacts that do not state them (a TorchScript module
  // saved by Python without num_features/num_outputs attributes). 0 = take them from the
  // artifact; when both are known and disagree, loading fails with InvalidArgument.
  int num_features = 0;
  int num_outputs = 0;
};

class Model {
 public:
  virtual ~Model() = default;
  // "torchscript", "xgboost", "native_mlp", "native_trees", "baseline", …
  virtual std::string_view backend() const = 0;
  virtual int num_features() const = 0;
  virtual int num_outputs() const = 0;
  // Writes rows × num_outputs() values to `out`. InvalidArgument on rows < 0;
  // Internal with the backend's message when the backend fails. Never throws.
  virtual Status Predict(const float* features, int64_t rows, float* out) const = 0;

  // Convenience: predicts a vector of rows (features.size() must be a multiple of num_features()).
  StatusOr<std::vector<float>> Predict(const std::vector<float>& features) const;
};

// Loads a model artifact (a file or folder) with the named backend.
using ModelLoader = StatusOr<std::unique_ptr<Model>> (*)(const std::string& artifact_path,
                                                         const LoadOptions& options);

bool RegisterModelBackend(const char* backend, ModelLoader loader);
// NotFound naming the backend and the known ones when `backend` is not registered.
StatusOr<std::unique_ptr<Model>> LoadModel(const std::string& backend,
                                           const std::string& artifact_path,
                                           const LoadOptions& options = {});
std::vector<std::string> RegisteredModelBackends();

}  // namespace bimride::models

// In a backend's .cc: BIMRIDE_MODEL_BACKEND("xgboost", LoadXgboostModel);
// The backend's library must be linked whole (see models/CMakeLists.txt) so the line runs.
#define BIMRIDE_MODEL_BACKEND(name, loader)                                                     \
  static const bool BIMRIDE_CONCAT(bimride_backend_registered_, __LINE__) [[maybe_unused]] = \
      ::bimride::models::RegisterModelBackend(name, loader)
