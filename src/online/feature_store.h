// online: the live state models read at request time, shared by every replica (#19, #15).
//
// Demand forecasting needs the recent pickup counts of a zone; pricing needs the open requests
// and idle drivers of a zone right now. Both are small numbers per (key, time bucket), written
// as events arrive and read on the request path. One interface, two stores:
//   - "memory": in this process (one server, tests, the simulator);
//   - "redis://host:port[/db]": shared by all replicas (added by the Redis store).
// Keys are the caller's ("demand:pickups:zone=132"); buckets are the caller's time index
// (e.g. 5-minute buckets since the epoch). Every entry expires `ttl_seconds` of wall time after
// its last write, so a store never grows without bound.
// Thread safety: every method may be called from many threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace bimride::online {

struct FeatureStoreOptions {
  int64_t ttl_seconds = 6 * 3600;  // wall time an entry lives after its last write
};

class FeatureStore {
 public:
  virtual ~FeatureStore() = default;

  // Adds `delta` to the counter (key, bucket); a missing entry starts at 0.
  virtual Status Add(std::string_view key, int64_t bucket, double delta) = 0;
  // Sets (key, bucket) to `value` (a gauge, e.g. idle drivers in a zone).
  virtual Status Set(std::string_view key, int64_t bucket, double value) = 0;
  // The entries of buckets [first, first + count) of `key`, in order; nullopt for a bucket
  // never written or expired. An unreachable store is kUnavailable (callers fall back).
  virtual StatusOr<std::vector<std::optional<double>>> Range(std::string_view key, int64_t first,
                                                             int count) = 0;
  // "memory" or the store's URL (password masked), for logs, errors and /metrics.
  virtual std::string Describe() const = 0;
};

std::unique_ptr<FeatureStore> NewMemoryFeatureStore(FeatureStoreOptions options = {});

// Opens a store by URL: "memory" (or empty). Other schemes are kInvalidArgument until a store
// for them is linked in (the Redis store registers "redis://").
StatusOr<std::unique_ptr<FeatureStore>> OpenFeatureStore(std::string_view url,
                                                         FeatureStoreOptions options = {});

}  // namespace bimride::online
