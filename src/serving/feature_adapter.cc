#include "serving/feature_adapter.h"

#include <map>
#include <mutex>

namespace bimride::serving {
namespace {

std::mutex& Mu() {
  static std::mutex mu;
  return mu;
}
std::map<std::string, FeatureAdapter>& Adapters() {
  static std::map<std::string, FeatureAdapter> adapters;
  return adapters;
}

}  // namespace

const RawColumn* RawBatch::Find(const std::string& name) const {
  for (const RawColumn& c : columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

bool RegisterFeatureAdapter(const std::string& feature_spec, FeatureAdapter adapter) {
  std::lock_guard<std::mutex> lock(Mu());
  Adapters()[feature_spec] = std::move(adapter);
  return true;
}

StatusOr<FeatureAdapter> FindFeatureAdapter(const std::string& feature_spec) {
  std::lock_guard<std::mutex> lock(Mu());
  auto it = Adapters().find(feature_spec);
  if (it != Adapters().end()) return it->second;
  std::string known;
  for (const auto& [name, unused] : Adapters()) known += (known.empty() ? "" : ", ") + name;
  return NotFoundError("no feature adapter registered for feature spec '" + feature_spec +
                       "' (known: " + (known.empty() ? "none" : known) + ")");
}

}  // namespace bimride::serving
