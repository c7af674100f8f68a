// Served pricing: POST /v1/models/pricing:predict with (zone, time) → the zone's surge
// multiplier and a quote, the engine's inputs read at request time from the live state the
// server keeps in its online::FeatureStore (keys prefixed "pricing:"):
//
//   pricing:requests:zone=Z   counter per 5-minute bucket (bucket = minutes since the epoch / 5)
//   pricing:idle:zone=Z       gauge per bucket: idle drivers in the zone
//   pricing:multiplier:zone=Z the multiplier the zone got for that bucket (smoothing, max step)
//
// The live state arrives through POST /v1/online/market (RecordMarketEvents); every event of
// one post has the same fields (serving/http/online_codec.h), requests and/or idle_drivers:
//   {"events": [{"zone": 7, "time": "2024-03-14 21:03:10", "requests": 1, "idle_drivers": 3},
//               {"zone": 8, "time": "2024-03-14 21:03:10", "requests": 0, "idle_drivers": 5}]}
//
// A pricing version is a policy (version folder: pricing_policy.json — the PricingConfig, the
// tariff, the city's zones and each zone's neighbours — and, for the forecast policy,
// demand_baselines.json, the demand forecast) behind the feature spec "pricing_zone_time";
// the spec runs the engine (one multiplier per zone and bucket: the first request of a bucket
// sets it, later ones read it) and hands the model [multiplier, quote]; the model artifact is a
// pass-through net (native_mlp, identity), so the version is published, labelled, canaried and
// rolled back like every model. Request fields:
//   zone (number), time ("YYYY-MM-DD HH:MM[:SS]"),
//   estimated_distance (miles) and estimated_minutes (optional, both or neither; without
//   them the quote is the minimum fare × multiplier).
//   preview (optional, 0 or 1): 1 answers what a quote would get without fixing the bucket's
//   multiplier (an operator's look, e.g. the web console's surge map).
// When the store is unreachable (kUnavailable) the spec fails closed to the floor multiplier
// (the tariff), so quotes keep flowing.
// Thread safety: the adapter and RecordMarketEvents are safe from many threads.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "features/demand_features.h"
#include "online/feature_store.h"
#include "serving/feature_adapter.h"
#include "simulator/city_model.h"
#include "tasks/pricing/pricing_engine.h"

namespace bimride::tasks::pricing {

inline constexpr char kPricingFeatureSpecName[] = "pricing_zone_time";
inline constexpr int kPricingFeatureSpecVersion = 1;
inline constexpr char kPricingPolicyFile[] = "pricing_policy.json";
inline constexpr char kMarketEventKind[] = "market";

std::string PricingRequestsKey(int32_t zone);
std::string PricingIdleKey(int32_t zone);
std::string PricingMultiplierKey(int32_t zone);
// 5-minute bucket of a time (floor, also before the epoch).
int64_t PricingBucket(int64_t time_us);

// What a pricing version carries.
struct PricingPolicyFile {
  PricingConfig config;
  simulator::Tariff tariff;
  int32_t zones = 0;                             // zone ids 1..zones
  std::vector<std::vector<int32_t>> neighbours;  // per zone (index id-1): nearby zone ids
};
std::string PricingPolicyToJson(const PricingPolicyFile& policy);
// InvalidArgument naming `source` and the field.
StatusOr<PricingPolicyFile> PricingPolicyFromJson(std::string_view json, const std::string& source);

// The recorder of "market" events (serving::OnlineEventRecorder): adds requests to the zone's
// counter and sets its idle drivers for the event's 5-minute bucket. InvalidArgument naming the
// event index and field for bad input (nothing of a bad post is written); the store's errors
// otherwise. Returns the number of events recorded.
StatusOr<int64_t> RecordMarketEvents(const serving::RawBatch& events, online::FeatureStore& store);

StatusOr<serving::FeatureAdapter> MakePricingFeatureAdapter(
    const serving::FeatureAdapterContext& context);
std::vector<std::pair<std::string, serving::FeatureAdapterFactory>> PricingFeatureSpecs();
std::vector<std::string> PricingRawFields();

// Writes a publishable pricing version folder into `dir` (manifest, policy, forecast when
// given, the pass-through net).
Status WritePricingVersionFolder(const PricingPolicyFile& policy,
                                 const features::DemandBaselines* forecast,
                                 const std::string& model_name, const std::string& dir);

}  // namespace bimride::tasks::pricing
