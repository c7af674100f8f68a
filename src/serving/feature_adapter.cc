#include "serving/feature_adapter.h"

#include <map>
#include <mutex>
#include <set>

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

std::set<std::pair<std::string, std::string>>& OptionalFields() {
  static std::set<std::pair<std::string, std::string>> fields;
  return fields;
}
std::map<std::string, OnlineEventRecorder>& Recorders() {
  static std::map<std::string, OnlineEventRecorder> recorders;
  return recorders;
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

bool RegisterOptionalRawFields(const std::string& feature_spec, std::vector<std::string> fields) {
  std::lock_guard<std::mutex> lock(Mu());
  for (std::string& f : fields) OptionalFields().insert({feature_spec, std::move(f)});
  return true;
}

bool IsOptionalRawField(const std::string& feature_spec, const std::string& field) {
  std::lock_guard<std::mutex> lock(Mu());
  return OptionalFields().count({feature_spec, field}) > 0;
}

bool RegisterOnlineEventRecorder(const std::string& kind, OnlineEventRecorder recorder) {
  std::lock_guard<std::mutex> lock(Mu());
  Recorders()[kind] = std::move(recorder);
  return true;
}

StatusOr<int64_t> RecordOnlineEvents(const std::string& kind, const RawBatch& events,
                                     online::FeatureStore& store) {
  OnlineEventRecorder recorder;
  {
    std::lock_guard<std::mutex> lock(Mu());
    auto it = Recorders().find(kind);
    if (it == Recorders().end()) {
      std::string known;
      for (const auto& [name, unused] : Recorders()) known += (known.empty() ? "" : ", ") + name;
      return NotFoundError("no online event kind '" + kind + "' (known: " +
                           (known.empty() ? "none" : known) + ")");
    }
    recorder = it->second;
  }
  return recorder(events, store);
}

}  // namespace bimride::serving
