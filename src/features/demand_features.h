// Demand features: the one definition of what a demand model sees for a forecast made at time
// t for the H buckets after it, computed by the SAME code offline (training, backtests: the
// history is a span of a DemandGrid) and online (serving: the history comes in the request).
//
// Inputs of one forecast (all known at t, nothing later):
//   zone       the zone id (its position in the baselines' zone list is the zone feature);
//   t          the forecast time, on a bucket boundary: bucket a = the one ending at t is the
//              last one whose count is known; targets are buckets a+1 … a+H (horizon h = 1…H);
//   history    the counts of the last W = one week of buckets, those ending at t, oldest first
//              (history[W-1] is bucket a);
//   baselines  per-zone averages learned from TRAINING data only (historical average per
//              (zone, weekday, bucket of day), per (zone, bucket of day), per zone), bundled with
//              a model as a context file (demand_baselines.json);
//   weather    daily precipitation, snowfall and snow depth (features/weather.h; temperatures
//              drift with the season out of a short training range, so they are left out) of
//              the day BEFORE the day of t: a daily value
//              is only complete once its day is over, so today's is not known at t. Missing days
//              take the training means stored in the baselines (features are always finite).
//
// Features (names from names(); count-valued ones are log1p(count) so that nets get
// tame inputs; trees are indifferent):
//   zone; lag_1 … lag_K (buckets a, a-1, …); mean_day, mean_week (last B / W buckets);
//   level_recent, level_day (recent / day counts over their historical averages, smoothed);
//   level_week, zone_mean; origin calendar (slot, holiday of bucket a+1); weather (3 values);
//   per horizon h: target slot, holiday; same bucket yesterday (a+h-B) and last week
//   (a+h-W); historical averages of the target (zone, weekday, slot) and (zone, slot); the
//   target's average scaled by the zone's level over the last day and week ("expected").
//   (Weekdays enter through the (zone, weekday, slot) averages.)
// Every lag is known at t because horizons ≤ B (a day of buckets) is required.
//
// What can fail: InvalidArgument naming the input (bad config, a history of the wrong length or
// with negative/non-finite counts, t off a bucket boundary, an unknown zone, bad JSON).
// Thread safety: DemandFeatures and DemandBaselines are immutable once built; Compute may be
// called from many threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "features/demand_grid.h"
#include "features/weather.h"

namespace bimride::features {

inline constexpr char kDemandFeatureSpecName[] = "demand_zone_bucket";
inline constexpr int kDemandFeatureSpecVersion = 1;
inline constexpr char kDemandBaselinesFile[] = "demand_baselines.json";
inline constexpr char kDemandWeatherFile[] = "weather.csv";

struct DemandFeatureConfig {
  int bucket_minutes = 60;  // 15, 30 or 60
  int horizons = 6;         // H, 1 … buckets per day
  int recent_lags = 6;      // K, 1 … buckets per week
};
Status ValidateDemandFeatureConfig(const DemandFeatureConfig& config);

// Per-zone averages from a training period: the historical-average baseline and its features.
struct DemandBaselines {
  int bucket_minutes = 60;
  std::vector<int32_t> zones;            // ascending; the zone feature is a position here
  std::vector<float> weekday_slot_mean;  // zones × 7 × B: [z][weekday][slot]
  std::vector<float> slot_mean;          // zones × B
  std::vector<float> zone_mean;          // zones
  int64_t train_begin_us = 0;            // the buckets averaged: [begin, end)
  int64_t train_end_us = 0;
  DailyWeather weather_fill;  // training-period means, for missing weather

  int buckets_per_day() const { return 24 * 60 / bucket_minutes; }
  int ZonePosition(int32_t zone) const;  // -1 when unknown
  float WeekdaySlotMean(size_t zone_pos, int weekday, int slot) const {
    return weekday_slot_mean[(zone_pos * 7 + weekday) * buckets_per_day() + slot];
  }
  float SlotMean(size_t zone_pos, int slot) const {
    return slot_mean[zone_pos * buckets_per_day() + slot];
  }

  std::string ToJson() const;
  // `source` prefixes errors.
  static StatusOr<DemandBaselines> FromJson(std::string_view json, const std::string& source);
};

// Averages over the grid's buckets [begin, end), leaving out buckets [exclude_begin,
// exclude_end) (for out-of-fold training features; pass an empty range to keep all). Zones are
// the grid's. `weather` (may be null) gives the fill values over the same days.
// InvalidArgument when no bucket remains.
StatusOr<DemandBaselines> ComputeDemandBaselines(const DemandGrid& grid, int64_t begin, int64_t end,
                                                 int64_t exclude_begin, int64_t exclude_end,
                                                 const WeatherTable* weather);

// The context file a published demand model carries (kDemandBaselinesFile): the feature config
// and the baselines, so that the server computes exactly the training features.
struct DemandContext {
  DemandFeatureConfig config;
  DemandBaselines baselines;
};
std::string DemandContextToJson(const DemandContext& context);
// InvalidArgument naming `source` and the field for a bad file.
StatusOr<DemandContext> DemandContextFromJson(std::string_view json, const std::string& source);

class DemandFeatures {
 public:
  // `weather` may be null (weather features then take the fill values); it must outlive this.
  static StatusOr<DemandFeatures> Create(const DemandFeatureConfig& config,
                                         const WeatherTable* weather);

  const DemandFeatureConfig& config() const { return config_; }
  int buckets_per_day() const { return 24 * 60 / config_.bucket_minutes; }
  // W: how many bucket counts a forecast needs (one week).
  int history_buckets() const { return 7 * buckets_per_day(); }
  int num_features() const { return static_cast<int>(names_.size()); }
  const std::vector<std::string>& names() const { return names_; }
  // Column of the zone id feature (a categorical id in 0 … zones-1).
  static constexpr int kZoneColumn = 0;
  // Columns holding the target slot of day for each horizon (categorical, 0 … B-1).
  std::vector<int> TargetSlotColumns() const;

  // Writes num_features() floats for a forecast of the zone at `zone_pos` (of baselines.zones)
  // made at time t from `history` (history_buckets() counts ending at t).
  Status Compute(const DemandBaselines& baselines, size_t zone_pos, int64_t t,
                 std::span<const float> history, float* out) const;
  // The same from a zone id (InvalidArgument naming it when the baselines do not know it).
  Status ComputeForZone(const DemandBaselines& baselines, int32_t zone, int64_t t,
                        std::span<const float> history, float* out) const;
  // Offline: the history is the grid's week of buckets ending at t for the grid's zone at
  // `grid_zone_pos` (OutOfRange when the grid does not hold that whole week).
  Status ComputeFromGrid(const DemandBaselines& baselines, const DemandGrid& grid,
                         size_t grid_zone_pos, int64_t t, float* out) const;

 private:
  DemandFeatureConfig config_;
  const WeatherTable* weather_ = nullptr;
  std::vector<std::string> names_;
};

// "3,0,1,…": a history as sent in a request's recent_counts field; InvalidArgument naming
// `what` and the position for a value that is not a non-negative number, or the wrong count.
StatusOr<std::vector<float>> ParseRecentCounts(std::string_view text, size_t expected,
                                               const std::string& what);
std::string FormatRecentCounts(std::span<const float> counts);

}  // namespace bimride::features
