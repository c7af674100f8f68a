#include "models/model.h"

#include <algorithm>
#include <map>
#include <mutex>

namespace bimride::models {
namespace {

struct BackendRegistry {
  std::mutex mu;
  std::map<std::string, ModelLoader> loaders;
};

BackendRegistry& Backends() {
  static BackendRegistry registry;
  return registry;
}

}  // namespace

StatusOr<std::vector<float>> Model::Predict(const std::vector<float>& features) const {
  int nf = num_features();
  if (nf <= 0 || features.size() % static_cast<size_t>(nf) != 0) {
    return InvalidArgumentError("model expects rows of " + std::to_string(nf) +
                                " features; got " + std::to_string(features.size()) + " values");
  }
  int64_t rows = static_cast<int64_t>(features.size()) / nf;
  std::vector<float> out(static_cast<size_t>(rows * num_outputs()));
  RETURN_IF_ERROR(Predict(features.data(), rows, out.data()));
  return out;
}

bool RegisterModelBackend(const char* backend, ModelLoader loader) {
  BackendRegistry& r = Backends();
  std::lock_guard<std::mutex> lock(r.mu);
  r.loaders[backend] = loader;
  return true;
}

std::vector<std::string> RegisteredModelBackends() {
  BackendRegistry& r = Backends();
  std::lock_guard<std::mutex> lock(r.mu);
  std::vector<std::string> names;
  for (const auto& [name, loader] : r.loaders) names.push_back(name);
  return names;
}

StatusOr<std::unique_ptr<Model>> LoadModel(const std::string& backend,
                                           const std::string& artifact_path,
                                           const LoadOptions& options) {
  ModelLoader loader = nullptr;
  {
    BackendRegistry& r = Backends();
    std::lock_guard<std::mutex> lock(r.mu);
    auto it = r.loaders.find(backend);
    if (it != r.loaders.end()) loader = it->second;
  }
  if (loader == nullptr) {
    std::string known;
    for (const std::string& n : RegisteredModelBackends()) known += (known.empty() ? "" : ", ") + n;
    return NotFoundError(artifact_path + ": unknown model backend '" + backend +
                         "' (known: " + (known.empty() ? "none" : known) + ")");
  }
  return loader(artifact_path, options);
}

}  // namespace bimride::models
