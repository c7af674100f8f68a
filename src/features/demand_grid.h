// DemandGrid: pickups counted per (zone, time bucket), the input of demand forecasting.
//
// Trips come from data::LoadTrips (any source: TLC zone ids directly; coordinate-only sources
// such as Uber 2014 get their zones from the ZoneIndex inside LoadTrips). Buckets are 15, 30
// or 60 minutes of naive local time, aligned to midnight; bucket b covers
// [start_us + b·width, start_us + (b+1)·width). Every (zone, bucket) cell of the grid is
// present: a bucket without pickups holds an explicit 0.
//
// No trip is dropped silently: trips outside the window, without a pickup time, with an
// unknown zone (0) or in a zone the grid does not track are counted in DemandGridReport.
// Counts are stored zone-major (all buckets of zone 0, then zone 1, …) so one zone's history
// is a contiguous span — what the feature code reads offline and what a request carries online.
//
// What can fail: InvalidArgument for a bucket width other than 15/30/60, a window that is empty
// or not on bucket boundaries, duplicate or non-positive zones, or (FromCounts) sizes that do
// not match. Thread safety: an immutable value once built; concurrent reads are safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "data/trip_table.h"

namespace bimride::features {

// Calendar of one bucket (of its start time).
struct BucketCalendar {
  int64_t day_index = 0;  // days since 1970-01-01
  int hour = 0;           // 0..23
  int weekday = 0;        // 0 = Monday … 6 = Sunday
  int slot_of_day = 0;    // 0 .. buckets_per_day - 1
  bool holiday = false;   // US federal holiday (features/calendar.h)
};

// InvalidArgument unless `bucket_minutes` is 15, 30 or 60.
Status CheckBucketMinutes(int64_t bucket_minutes);
// Calendar of the bucket starting at `bucket_start_us` for a given width.
BucketCalendar CalendarOfBucket(int64_t bucket_start_us, int bucket_minutes);

struct DemandGridOptions {
  int bucket_minutes = 60;  // 15, 30 or 60
  // Window [start_us, end_us). kNullTime: from midnight of the first pickup / to the midnight
  // after the last pickup. Both must be on bucket boundaries.
  int64_t start_us = data::kNullTime;
  int64_t end_us = data::kNullTime;
  // Zones tracked (ids > 0, any order; the grid keeps them ascending). Empty: every zone with a
  // pickup in the window.
  std::vector<int32_t> zones;
};

struct DemandGridReport {
  int64_t trips = 0;           // rows of the table
  int64_t counted = 0;         // landed in a cell
  int64_t no_pickup_time = 0;  // kNullTime
  int64_t outside_window = 0;  // before start_us or at/after end_us
  int64_t unknown_zone = 0;    // pickup zone 0 (no zone id, or coordinates outside every zone)
  int64_t untracked_zone = 0;  // a zone not in DemandGridOptions::zones
  std::string ToString() const;
};

class DemandGrid {
 public:
  DemandGrid() = default;

  static StatusOr<DemandGrid> FromTrips(const data::TripTable& trips,
                                        const DemandGridOptions& options,
                                        DemandGridReport* report = nullptr);
  // A grid from counts already aggregated (zone-major, zones.size() × num_buckets values).
  static StatusOr<DemandGrid> FromCounts(int bucket_minutes, int64_t start_us,
                                         std::vector<int32_t> zones, int64_t num_buckets,
                                         std::vector<float> counts);

  int bucket_minutes() const { return bucket_minutes_; }
  int64_t bucket_us() const { return static_cast<int64_t>(bucket_minutes_) * 60'000'000; }
  int buckets_per_day() const { return 24 * 60 / bucket_minutes_; }
  int buckets_per_week() const { return 7 * buckets_per_day(); }
  int64_t start_us() const { return start_us_; }
  int64_t end_us() const { return start_us_ + num_buckets_ * bucket_us(); }
  int64_t num_buckets() const { return num_buckets_; }
  size_t num_zones() const { return zones_.size(); }
  const std::vector<int32_t>& zones() const { return zones_; }
  // Position of a zone id in zones(), or -1.
  int ZonePosition(int32_t zone) const;

  // The bucket holding time `t` (floor; may be < 0 or >= num_buckets() for times outside).
  int64_t BucketOf(int64_t t) const;
  int64_t BucketStart(int64_t bucket) const { return start_us_ + bucket * bucket_us(); }
  BucketCalendar Calendar(int64_t bucket) const {
    return CalendarOfBucket(BucketStart(bucket), bucket_minutes_);
  }

  float count(size_t zone_pos, int64_t bucket) const {
    return counts_[zone_pos * num_buckets_ + bucket];
  }
  // All buckets of one zone, oldest first.
  std::span<const float> ZoneCounts(size_t zone_pos) const {
    return {counts_.data() + zone_pos * num_buckets_, static_cast<size_t>(num_buckets_)};
  }
  const std::vector<float>& counts() const { return counts_; }
  // Sum of one zone's counts over buckets [begin, end) (clamped to the grid).
  double ZoneTotal(size_t zone_pos, int64_t begin, int64_t end) const;
  double Total() const;

  // The same buckets for a subset of zones (each must be in the grid; NotFound otherwise).
  StatusOr<DemandGrid> WithZones(const std::vector<int32_t>& zones) const;
  // Zones with at least one pickup in buckets [begin, end).
  std::vector<int32_t> ZonesWithPickups(int64_t begin, int64_t end) const;

 private:
  int bucket_minutes_ = 60;
  int64_t start_us_ = 0;
  int64_t num_buckets_ = 0;
  std::vector<int32_t> zones_;
  std::vector<int> zone_pos_;  // by zone id (index = id), -1 when absent
  std::vector<float> counts_;  // zone-major

  void IndexZones();
};

}  // namespace bimride::features
