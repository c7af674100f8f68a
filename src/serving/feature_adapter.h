// Feature adapters: turn raw request fields (pickup_zone, dropoff_zone, pickup_datetime,
// trip_distance, …) into the model's feature matrix, with the same feature code training used.
// A manifest names its feature spec; when a version loads, the factory registered under that
// name builds the version's adapter from the version folder (which may carry what the features
// need: zone centroids, a weather table, encodings learned in training). The adapter then turns
// every request that sends raw fields instead of a numeric tensor into features.
//
// Each task registers its specs with its BIMRIDE_TASK line (tasks/task.h); tests register their
// own. A spec registered as "name@version" is preferred over plain "name".
// Thread safety: registration is meant for start-up or test set-up; lookups are safe from any
// thread once registration is done. Adapters must be thread-safe (they are shared by requests).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"
#include "online/feature_store.h"

namespace bimride::serving {

// One raw field as sent by the client: a number or a string.
using RawValue = std::variant<double, std::string>;

// Raw fields column-wise: every column has the same number of rows.
struct RawColumn {
  std::string name;
  std::vector<RawValue> values;
  bool operator==(const RawColumn&) const = default;
};

struct RawBatch {
  int64_t rows = 0;
  std::vector<RawColumn> columns;
  // The column named `name`, or nullptr.
  const RawColumn* Find(const std::string& name) const;
  bool operator==(const RawBatch&) const = default;
};

// Writes rows × num_features floats. InvalidArgument naming the field and row on bad input.
using FeatureAdapter =
    std::function<StatusOr<std::vector<float>>(const RawBatch& batch, int num_features)>;

// What a factory gets to build one version's adapter.
struct FeatureAdapterContext {
  std::string version_dir;      // <repo>/<model>/<version>
  std::string feature_spec;     // the manifest's feature spec name
  int64_t feature_spec_version = 1;
  std::vector<std::string> raw_fields;  // the manifest's request fields
  // The server's live state (online/feature_store.h), for specs that look up recent demand or
  // supply at request time; null where no server is behind the adapter (tools, tests).
  online::FeatureStore* online_store = nullptr;
};
// Errors (a missing or bad context file) fail the version's load, naming the file.
using FeatureAdapterFactory =
    std::function<StatusOr<FeatureAdapter>(const FeatureAdapterContext& context)>;

// Replaces any factory registered under the same name. Returns true (for static registration).
bool RegisterFeatureAdapterFactory(const std::string& feature_spec, FeatureAdapterFactory factory);
// An adapter that needs no per-version context.
bool RegisterFeatureAdapter(const std::string& feature_spec, FeatureAdapter adapter);
// Builds the adapter for a version: the factory of "spec@version", else of "spec". NotFound
// naming the spec and the known ones when none is registered.
StatusOr<FeatureAdapter> MakeFeatureAdapter(const FeatureAdapterContext& context);

// Raw fields a spec can do without although its manifests list them (demand's recent_counts,
// read from the online store when a request omits it): the server does not require them.
bool RegisterOptionalRawFields(const std::string& feature_spec, std::vector<std::string> fields);
bool IsOptionalRawField(const std::string& feature_spec, const std::string& field);

// Online events: live facts posted to the server (POST /v1/online/<kind>, e.g. demand's
// "pickups") that a task records into the online store, for its feature specs to read at
// request time. A recorder checks its rows (errors name the row and field) and returns how
// many events it recorded; the store's errors (kUnavailable when it is down) pass through.
using OnlineEventRecorder =
    std::function<StatusOr<int64_t>(const RawBatch& events, online::FeatureStore& store)>;
bool RegisterOnlineEventRecorder(const std::string& kind, OnlineEventRecorder recorder);
// NotFound naming the kind and the known ones when no recorder is registered for it.
StatusOr<int64_t> RecordOnlineEvents(const std::string& kind, const RawBatch& events,
                                     online::FeatureStore& store);

}  // namespace bimride::serving
