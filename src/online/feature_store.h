// online: the live state models read at request time, shared by every replica (#19, #15).
//
// Demand forecasting needs the recent pickup counts of a zone; pricing needs the open requests
// and idle drivers of a zone right now. Both are small numbers per (key, time bucket), written
// as events arrive and read on the request path. One interface, two stores:
//   - "memory": in this process (one server, tests, the simulator);
//   - "redis://[:password@]host[:port][/db][?timeout_ms=N&retry_ms=N]": shared by all replicas
//     (online/redis/redis_feature_store.h).
// Keys are the caller's ("demand:pickups:zone=132"); buckets are the caller's time index
// (e.g. 5-minute buckets since the epoch). Every entry expires `ttl_seconds` of wall time after
// its last write, so a store never grows without bound.
// Thread safety: every method may be called from many threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace bimride::online {

struct FeatureStoreOptions {
  int64_t ttl_seconds = 6 * 3600;  // wall time an entry lives after its last write
};

// One counter increment of AddMany; `ttl_seconds` > 0 overrides the store's TTL for this entry
// (demand keeps a week of pickups, longer than the server-wide default).
struct Increment {
  std::string key;
  int64_t bucket = 0;
  double delta = 0;
  int64_t ttl_seconds = 0;
};

// One read of RangeMany: buckets [first, first + count) of `key`.
struct RangeQuery {
  std::string key;
  int64_t first = 0;
  int count = 0;
};

// Whether the store answers, for /metrics and alerts. A store in one process is always up.
struct FeatureStoreHealth {
  bool up = true;
  int64_t errors = 0;      // operations that failed because the store could not be reached
  int64_t reconnects = 0;  // connections re-opened after a failure
  int64_t entries = -1;    // (key, bucket) entries held, expired ones not yet dropped included;
                           // -1 when the store does not say (a shared store)
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

  // Batched forms (one round trip in a shared store). The defaults call Add / Range one by one.
  // AddMany is not atomic: on an error, some increments may have been applied.
  virtual Status AddMany(std::span<const Increment> increments);
  virtual StatusOr<std::vector<std::vector<std::optional<double>>>> RangeMany(
      std::span<const RangeQuery> queries);
  virtual FeatureStoreHealth Health() const { return {}; }

  // Readers that fell back (store down, no data) count their rows here, by reader and fallback
  // ("demand_recent_counts", "last_read"), so /metrics shows how much was served degraded.
  void CountFallback(std::string_view reader, std::string_view fallback, int64_t rows);
  std::map<std::pair<std::string, std::string>, int64_t> FallbackCounts() const;

 private:
  mutable std::mutex fallback_mu_;
  std::map<std::pair<std::string, std::string>, int64_t> fallbacks_;
};

std::unique_ptr<FeatureStore> NewMemoryFeatureStore(FeatureStoreOptions options = {});

// Opens a store by URL: "memory" (or empty), or a scheme a linked store registered
// ("redis://"); an unknown scheme is kInvalidArgument naming the URL and the known kinds.
StatusOr<std::unique_ptr<FeatureStore>> OpenFeatureStore(std::string_view url,
                                                         FeatureStoreOptions options = {});

// A store kind registers its URL scheme ("redis") with one line beside its code, linked whole
// (bimride_online_stores): BIMRIDE_FEATURE_STORE("redis", OpenRedisFeatureStore);
using FeatureStoreOpener = std::function<StatusOr<std::unique_ptr<FeatureStore>>(
    std::string_view url, const FeatureStoreOptions& options)>;
bool RegisterFeatureStoreKind(const std::string& scheme, FeatureStoreOpener opener);

}  // namespace bimride::online

#define BIMRIDE_FEATURE_STORE(scheme, opener)                                                      \
  static const bool BIMRIDE_CONCAT(bimride_feature_store_registered_, __LINE__) [[maybe_unused]] = \
      ::bimride::online::RegisterFeatureStoreKind(scheme, opener)
