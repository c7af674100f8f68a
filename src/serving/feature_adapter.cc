#include "serving/feature_adapter.h"

#include <map>
#include <mutex>

namespace bimride::serving {
namespace {

std::mutex& Mu() {
  static std::mutex mu;
  return mu;
}
std::map<std::string, FeatureAdapterFactory>& Factories() {
  static std::map<std::string, FeatureAdapterFactory> factories;
  return factories;
}

std::map<std::string, OnlineEventSink>& Sinks() {
  static std::map<std::string, OnlineEventSink> sinks;
  return sinks;
}

}  // namespace

const RawColumn* RawBatch::Find(const std::string& name) const {
  for (const RawColumn& c : columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

bool RegisterFeatureAdapterFactory(const std::string& feature_spec,
                                   FeatureAdapterFactory factory) {
  std::lock_guard<std::mutex> lock(Mu());
  Factories()[feature_spec] = std::move(factory);
  return true;
}

bool RegisterFeatureAdapter(const std::string& feature_spec, FeatureAdapter adapter) {
  return RegisterFeatureAdapterFactory(
      feature_spec, [adapter = std::move(adapter)](const FeatureAdapterContext&)
                        -> StatusOr<FeatureAdapter> { return adapter; });
}

StatusOr<FeatureAdapter> MakeFeatureAdapter(const FeatureAdapterContext& context) {
  FeatureAdapterFactory factory;
  {
    std::lock_guard<std::mutex> lock(Mu());
    auto it = Factories().find(context.feature_spec + "@" +
                               std::to_string(context.feature_spec_version));
    if (it == Factories().end()) it = Factories().find(context.feature_spec);
    if (it == Factories().end()) {
      std::string known;
      for (const auto& [name, unused] : Factories()) known += (known.empty() ? "" : ", ") + name;
      return NotFoundError("no feature adapter registered for feature spec '" +
                           context.feature_spec + "' (known: " +
                           (known.empty() ? "none" : known) + ")");
    }
    factory = it->second;
  }
  return factory(context);
}

bool RegisterOnlineEventSink(const std::string& name, OnlineEventSink sink) {
  std::lock_guard<std::mutex> lock(Mu());
  Sinks()[name] = std::move(sink);
  return true;
}

StatusOr<OnlineEventSink> FindOnlineEventSink(const std::string& name) {
  std::lock_guard<std::mutex> lock(Mu());
  auto it = Sinks().find(name);
  if (it != Sinks().end()) return it->second;
  std::string known;
  for (const auto& [n, unused] : Sinks()) known += (known.empty() ? "" : ", ") + n;
  return NotFoundError("no online event sink '" + name + "' (known: " +
                       (known.empty() ? "none" : known) + ")");
}

}  // namespace bimride::serving
