// Feature adapters: turn raw request fields (pickup_zone, dropoff_zone, pickup_datetime,
// trip_distance, …) into the model's feature matrix, with the same feature code training used.
// A manifest names its feature spec; the adapter registered under that name is used for every
// request that sends raw fields instead of a numeric tensor.
//
// features/ registers its specs here (one line per spec); tests may register their own.
// Thread safety: registration is meant for static initialisation or test set-up; lookups are
// safe from any thread once registration is done. Adapters must be thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "common/status.h"

namespace bimride::serving {

// One raw field as sent by the client: a number or a string.
using RawValue = std::variant<double, std::string>;

// Raw fields column-wise: every column has the same number of rows.
struct RawColumn {
  std::string name;
  std::vector<RawValue> values;
};

struct RawBatch {
  int64_t rows = 0;
  std::vector<RawColumn> columns;
  // The column named `name`, or nullptr.
  const RawColumn* Find(const std::string& name) const;
};

// Writes rows × num_features floats. InvalidArgument naming the field and row on bad input.
using FeatureAdapter =
    std::function<StatusOr<std::vector<float>>(const RawBatch& batch, int num_features)>;

// Replaces any adapter registered under the same name. Returns true (for static registration).
bool RegisterFeatureAdapter(const std::string& feature_spec, FeatureAdapter adapter);
// NotFound naming the spec and the known ones when none is registered.
StatusOr<FeatureAdapter> FindFeatureAdapter(const std::string& feature_spec);

}  // namespace bimride::serving
