// The ETA feature context: everything the features need beyond the request — zone centroids and
// boroughs, the weather table and the encodings learned from the TRAINING trips (per zone pair /
// zone median duration, distance and speed; typical speed by hour of week), plus each feature's
// default and clipping range. Built from the training trips only (BuildEtaFeatureContext); saved
// and loaded with features/eta_context_files.h.
//
// Thread safety: a built or loaded context is immutable; any number of threads may read it.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "common/status.h"
#include "data/trip_table.h"
#include "data/zone_index.h"
#include "features/eta_feature_spec.h"
#include "features/weather.h"

namespace bimride::features {

// Learned per zone pair (and per zone, by using the other side 0) from the training trips.
struct EtaPairStats {
  int64_t count = 0;
  float median_minutes = 0;
  float median_distance_miles = 0;  // NaN when the training source has no metered distance
  float median_speed_mph = 0;       // median of distance / duration
};

struct EtaContextOptions {
  // Pair/zone medians are shrunk towards their fallback: (n·m + k·fallback) / (n + k).
  double shrinkage = 5;
  // Pairs seen fewer times are not kept (the fallback answers for them).
  int64_t min_pair_count = 1;
  // Zone ids up to at least this are valid (0: from the zone index and the trips). Out-of-fold
  // contexts use the full context's range so their pair keys and zone tables line up.
  int32_t min_max_zone = 0;
};

// What the features need beyond the request. Build with BuildEtaFeatureContext, persist with
// Save/LoadEtaFeatureContext.
struct EtaFeatureContext {
  EtaFeatureSet set = EtaFeatureSet::kBooking;
  int32_t max_zone = 265;                  // valid request zones are 1..max_zone
  std::vector<double> zone_lon, zone_lat;  // per zone id 0..max_zone; NaN when unknown
  std::vector<int32_t> zone_borough;       // EtaBoroughId per zone id
  WeatherTable weather;                    // may be empty (then weather features are defaults)
  EtaContextOptions options;
  // Learned from the training trips. global.median_distance_miles holds the typical detour
  // factor instead (metered ÷ straight-line distance; 1 without a meter).
  EtaPairStats global;
  std::vector<EtaPairStats> pickup_zone_stats;          // per zone id
  std::vector<EtaPairStats> dropoff_zone_stats;         // per zone id
  std::vector<std::pair<int64_t, EtaPairStats>> pairs;  // key pu * (max_zone + 1) + do, sorted
  std::vector<float> hour_of_week_speed_mph;            // 168: weekday * 24 + hour
  std::vector<float> defaults;                          // per feature: training median
  // Per feature: the range seen in training, its lower end lowered to 0 at least (an unseen
  // pair's count stays 0); ids ±inf. Numeric features are clipped into it (models
  // cannot extrapolate — a snowstorm after a snowless training month must not send a net's
  // standardised input to 50σ; trees answer the same either way).
  std::vector<float> lower, upper;
  int64_t training_rows = 0;

  // Stats of one pair; nullptr when the pair was not seen in training.
  const EtaPairStats* FindPair(int32_t pickup_zone, int32_t dropoff_zone) const;
};

// A learned median `m` of `n` training rows shrunk towards `fallback`:
// (n·m + k·fallback) / (n + k); the fallback alone when the level was not seen (n <= 0 or m not
// finite), m alone when the fallback is not finite.
float ShrinkTowards(int64_t n, float m, float fallback, double k);

// Builds the context from training trips (rows with a duration, see data::TripTable). `zones`
// gives centroids/boroughs (may be null: then zone centroids are the mean pickup coordinates of
// the training trips — the simulator's case); `weather` may be null. InvalidArgument when
// `train` has no row with a positive duration.
StatusOr<EtaFeatureContext> BuildEtaFeatureContext(EtaFeatureSet set, const data::TripTable& train,
                                                   const data::ZoneIndex* zones,
                                                   const WeatherTable* weather,
                                                   const EtaContextOptions& options = {});

}  // namespace bimride::features
