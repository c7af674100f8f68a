// The demand feature spec for the model server: "demand_zone_bucket" (features/demand_features.h).
// A demand version folder carries demand_baselines.json (feature config + per-zone averages)
// and, optionally, weather.csv; the factory reads them when the version loads, and the adapter
// turns raw request rows into the model's features with the same code training used:
//
//   {"instances": [{"zone": 74, "time": "2021-03-10 08:00",
//                   "recent_counts": "3,0,1,…"}]}      → demand_h1 … demand_hH per row
//
//   zone           number: a TLC zone id the model was trained for
//   time           string: the forecast time t ("YYYY-MM-DD HH:MM[:SS]"), floored to a bucket;
//                  outputs are the H buckets from t on
//   recent_counts  string: comma-separated counts of the zone's W buckets ending at t
//                  (W = one week of buckets), oldest first. Optional: when a request leaves it
//                  out, the adapter reads the zones' recent pickups from the server's online
//                  store (posted to POST /v1/online/pickups; shared by every replica with a
//                  redis:// store), with the fallbacks of demand_online.h when it is down
//
// Errors name the field and the row ("demand_zone_bucket: row 2: field 'zone': …"); a missing
// or bad context file fails the version's load, naming the file.
// Thread safety: the adapter is immutable and safe from many threads.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "serving/feature_adapter.h"

namespace bimride::tasks::demand {

// The factory of the demand task's feature spec (registered by demand_task.cc).
StatusOr<serving::FeatureAdapter> MakeDemandFeatureAdapter(
    const serving::FeatureAdapterContext& context);

// The task's feature specs by name ("demand_zone_bucket") with their factories: what
// demand_task.cc registers for the server, and what the Python module registers.
std::vector<std::pair<std::string, serving::FeatureAdapterFactory>> DemandFeatureSpecs();

}  // namespace bimride::tasks::demand
