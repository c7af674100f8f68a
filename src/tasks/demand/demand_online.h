// Recent pickups in the online store (online/feature_store.h), shared by every replica: what
// lets a demand request omit `recent_counts`.
//
// Writing: POST /v1/online/pickups {"events": [{"zone": 74, "time": "2021-03-10 08:03:00"},
// {"zone": 74, "time": "2021-03-10 08:00", "count": 3}, …]} (RecordPickups). Each event adds
// `count` (default 1; a whole number >= 0: 0 marks a bucket as known and empty, e.g. when
// backfilling a week) to its zone's bucket of 15, 30 and 60 minutes — the widths a demand model
// may use — under the keys "demand:pickups:m=<minutes>:zone=<zone>", each kept 8 days
// (kDemandPickupsTtlSeconds: the week a forecast reads, plus a day).
//
// Reading (RecentCountsReader, in the demand adapter): the W buckets ending at the forecast
// time, one batched read for all rows of a request. A bucket nobody posted to had 0 pickups.
// Fallbacks, each counted in bimride_online_fallback_rows_total{reader="demand_recent_counts"}:
//   no_data    the store answers but holds nothing for the zone's whole week (no feeder, or a
//              new deployment): the model's baseline, i.e. the historical average of each
//              bucket's (zone, weekday, slot) from the version's demand_baselines.json;
//   last_read  the store is down (kUnavailable, or any other read error): the zone's last
//              week read from the store by this replica, for the buckets it covers, the
//              baseline for the newer ones;
//   baseline   the store is down and this replica never read the zone: the baseline.
// A request that sends recent_counts never touches the store.
// Thread safety: RecordPickups and RecentCountsReader::Read may be called from many threads.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "features/demand_features.h"
#include "online/feature_store.h"
#include "serving/feature_adapter.h"

namespace bimride::tasks::demand {

inline constexpr char kPickupsEventKind[] = "pickups";
inline constexpr char kRecentCountsReader[] = "demand_recent_counts";
inline constexpr int64_t kDemandPickupsTtlSeconds = 8 * 24 * 3600;

// "demand:pickups:m=60:zone=74"
std::string DemandPickupsKey(int bucket_minutes, int32_t zone);

// Records pickup events (fields zone, time, optional count). InvalidArgument naming the event
// and field for a bad one (nothing is recorded then); the store's errors pass through.
StatusOr<int64_t> RecordPickups(const serving::RawBatch& events, online::FeatureStore& store);

class RecentCountsReader {
 public:
  // `features` and `baselines` must outlive the reader.
  RecentCountsReader(online::FeatureStore* store, const features::DemandFeatures* features,
                     const features::DemandBaselines* baselines);

  // The histories (history_buckets() counts each, oldest first) of the zones at forecast times
  // `ts` (on bucket boundaries), one per row; never fails: the fallbacks above stand in.
  std::vector<std::vector<float>> Read(const std::vector<int32_t>& zones,
                                       const std::vector<int64_t>& ts);

  // The baseline history (historical averages) of `zone` for a forecast at t.
  std::vector<float> BaselineHistory(int32_t zone, int64_t t) const;

 private:
  struct LastRead {
    int64_t first = 0;  // bucket index of values[0]
    std::vector<float> values;
  };

  online::FeatureStore* const store_;
  const features::DemandFeatures* const features_;
  const features::DemandBaselines* const baselines_;
  std::mutex mu_;
  std::map<int32_t, LastRead> last_read_;  // per zone, the newest week read
};

}  // namespace bimride::tasks::demand
