// The Redis online store (hiredis): the FeatureStore every replica shares.
//
// URL: redis://[:password@]host[:port][/db][?timeout_ms=N&retry_ms=N]
//   port 6379, db 0 by default; timeout_ms (default 100) bounds connecting and every command,
//   so a hung Redis costs a request at most that; retry_ms (default 1000): after a failure the
//   store answers kUnavailable at once, without trying to connect, until retry_ms have passed.
//
// Layout: entry (key, bucket) is the Redis string "<key>#<bucket>": Add is INCRBYFLOAT + EXPIRE,
// Set is SET … EX, Range one MGET; AddMany and RangeMany pipeline every command of the batch in
// one round trip. Each write renews the entry's TTL (EXPIRE), as the memory store does.
//
// Failures: an unreachable, timed-out or dropped Redis is kUnavailable naming the URL (password
// masked), and the connection is dropped; the next call after retry_ms reconnects. The store
// logs one ERROR "ALERT" line when it goes down and one WARN line when it is back, and reports
// both through Health() (bimride_online_store_up on /metrics). A reply of the wrong type (a key
// someone else wrote) is kDataLoss naming the key.
// Thread safety: every method may be called from many threads at once (a small pool of
// connections, one per concurrent caller).
#pragma once

#include <memory>
#include <string_view>

#include "online/feature_store.h"

namespace bimride::online {

StatusOr<std::unique_ptr<FeatureStore>> OpenRedisFeatureStore(std::string_view url,
                                                              const FeatureStoreOptions& options);

}  // namespace bimride::online
