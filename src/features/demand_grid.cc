#include "features/demand_grid.h"

#include <algorithm>
#include <limits>

#include "common/civil_time.h"
#include "features/calendar.h"

namespace bimride::features {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

Status CheckZones(const std::vector<int32_t>& sorted_zones) {
  for (size_t i = 0; i < sorted_zones.size(); ++i) {
    if (sorted_zones[i] <= 0) {
      return InvalidArgumentError("demand grid: zone id " + std::to_string(sorted_zones[i]) +
                                  " is not a zone (ids are > 0)");
    }
    if (i > 0 && sorted_zones[i] == sorted_zones[i - 1]) {
      return InvalidArgumentError("demand grid: zone " + std::to_string(sorted_zones[i]) +
                                  " given twice");
    }
  }
  return OkStatus();
}

}  // namespace

Status CheckBucketMinutes(int64_t bucket_minutes) {
  if (bucket_minutes == 15 || bucket_minutes == 30 || bucket_minutes == 60) return OkStatus();
  return InvalidArgumentError("bucket of " + std::to_string(bucket_minutes) +
                              " minutes: must be 15, 30 or 60");
}

BucketCalendar CalendarOfBucket(int64_t bucket_start_us, int bucket_minutes) {
  BucketCalendar c;
  c.day_index = DayIndex(bucket_start_us);
  c.hour = HourOfDay(bucket_start_us);
  c.weekday = WeekdayOfDay(c.day_index);
  const int64_t into_day = bucket_start_us - c.day_index * kMicrosPerDay;
  c.slot_of_day =
      static_cast<int>(into_day / (static_cast<int64_t>(bucket_minutes) * kMicrosPerMinute));
  c.holiday = IsUsFederalHoliday(c.day_index);
  return c;
}

std::string DemandGridReport::ToString() const {
  return std::to_string(trips) + " trips: " + std::to_string(counted) + " counted, " +
         std::to_string(outside_window) + " outside the window, " + std::to_string(no_pickup_time) +
         " without pickup time, " + std::to_string(unknown_zone) + " in an unknown zone, " +
         std::to_string(untracked_zone) + " in untracked zones";
}

void DemandGrid::IndexZones() {
  const int32_t max_zone = zones_.empty() ? 0 : zones_.back();
  zone_pos_.assign(static_cast<size_t>(max_zone) + 1, -1);
  for (size_t i = 0; i < zones_.size(); ++i) zone_pos_[zones_[i]] = static_cast<int>(i);
}

int DemandGrid::ZonePosition(int32_t zone) const {
  if (zone < 0 || static_cast<size_t>(zone) >= zone_pos_.size()) return -1;
  return zone_pos_[zone];
}

int64_t DemandGrid::BucketOf(int64_t t) const { return FloorDiv(t - start_us_, bucket_us()); }

StatusOr<DemandGrid> DemandGrid::FromTrips(const data::TripTable& trips,
                                           const DemandGridOptions& options,
                                           DemandGridReport* report) {
  RETURN_IF_ERROR(CheckBucketMinutes(options.bucket_minutes));
  const int64_t width = static_cast<int64_t>(options.bucket_minutes) * kMicrosPerMinute;
  int64_t start = options.start_us, end = options.end_us;
  if (start == data::kNullTime || end == data::kNullTime) {
    int64_t lo = std::numeric_limits<int64_t>::max(), hi = std::numeric_limits<int64_t>::min();
    for (int64_t t : trips.pickup_time_us) {
      if (t == data::kNullTime) continue;
      lo = std::min(lo, t);
      hi = std::max(hi, t);
    }
    if (lo > hi) return InvalidArgumentError("demand grid: no trip has a pickup time");
    if (start == data::kNullTime) start = DayIndex(lo) * kMicrosPerDay;
    if (end == data::kNullTime) end = (DayIndex(hi) + 1) * kMicrosPerDay;
  }
  if (end <= start) {
    return InvalidArgumentError("demand grid: empty window [" + FormatCivil(start) + ", " +
                                FormatCivil(end) + ")");
  }
  if (FloorDiv(start, width) * width != start || FloorDiv(end, width) * width != end) {
    return InvalidArgumentError("demand grid: window [" + FormatCivil(start) + ", " +
                                FormatCivil(end) + ") is not on " +
                                std::to_string(options.bucket_minutes) + "-minute boundaries");
  }

  DemandGrid grid;
  grid.bucket_minutes_ = options.bucket_minutes;
  grid.start_us_ = start;
  grid.num_buckets_ = (end - start) / width;
  DemandGridReport r;
  r.trips = static_cast<int64_t>(trips.size());
  if (options.zones.empty()) {
    std::vector<char> seen;
    for (size_t i = 0; i < trips.size(); ++i) {
      const int64_t t = trips.pickup_time_us[i];
      const int32_t z = trips.pickup_zone[i];
      if (t == data::kNullTime || t < start || t >= end || z <= 0) continue;
      if (static_cast<size_t>(z) >= seen.size()) seen.resize(static_cast<size_t>(z) + 1, 0);
      seen[z] = 1;
    }
    for (size_t z = 0; z < seen.size(); ++z) {
      if (seen[z]) grid.zones_.push_back(static_cast<int32_t>(z));
    }
  } else {
    grid.zones_ = options.zones;
    std::sort(grid.zones_.begin(), grid.zones_.end());
    RETURN_IF_ERROR(CheckZones(grid.zones_));
  }
  grid.IndexZones();
  grid.counts_.assign(grid.zones_.size() * grid.num_buckets_, 0.0f);
  for (size_t i = 0; i < trips.size(); ++i) {
    const int64_t t = trips.pickup_time_us[i];
    if (t == data::kNullTime) {
      ++r.no_pickup_time;
      continue;
    }
    if (t < start || t >= end) {
      ++r.outside_window;
      continue;
    }
    const int32_t z = trips.pickup_zone[i];
    if (z <= 0) {
      ++r.unknown_zone;
      continue;
    }
    const int pos = grid.ZonePosition(z);
    if (pos < 0) {
      ++r.untracked_zone;
      continue;
    }
    grid.counts_[static_cast<size_t>(pos) * grid.num_buckets_ + (t - start) / width] += 1.0f;
    ++r.counted;
  }
  if (report != nullptr) *report = r;
  return grid;
}

StatusOr<DemandGrid> DemandGrid::FromCounts(int bucket_minutes, int64_t start_us,
                                            std::vector<int32_t> zones, int64_t num_buckets,
                                            std::vector<float> counts) {
  RETURN_IF_ERROR(CheckBucketMinutes(bucket_minutes));
  const int64_t width = static_cast<int64_t>(bucket_minutes) * kMicrosPerMinute;
  if (FloorDiv(start_us, width) * width != start_us) {
    return InvalidArgumentError("demand grid: start " + FormatCivil(start_us) + " is not on a " +
                                std::to_string(bucket_minutes) + "-minute boundary");
  }
  if (num_buckets <= 0) return InvalidArgumentError("demand grid: no buckets");
  if (!std::is_sorted(zones.begin(), zones.end())) {
    return InvalidArgumentError("demand grid: zones must be ascending");
  }
  RETURN_IF_ERROR(CheckZones(zones));
  if (counts.size() != zones.size() * static_cast<size_t>(num_buckets)) {
    return InvalidArgumentError("demand grid: " + std::to_string(counts.size()) + " counts for " +
                                std::to_string(zones.size()) + " zones × " +
                                std::to_string(num_buckets) + " buckets");
  }
  for (size_t i = 0; i < counts.size(); ++i) {
    if (!(counts[i] >= 0) || !std::isfinite(counts[i])) {
      return InvalidArgumentError("demand grid: count " + std::to_string(i) +
                                  " is not a finite non-negative number");
    }
  }
  DemandGrid grid;
  grid.bucket_minutes_ = bucket_minutes;
  grid.start_us_ = start_us;
  grid.num_buckets_ = num_buckets;
  grid.zones_ = std::move(zones);
  grid.counts_ = std::move(counts);
  grid.IndexZones();
  return grid;
}

double DemandGrid::ZoneTotal(size_t zone_pos, int64_t begin, int64_t end) const {
  begin = std::max<int64_t>(begin, 0);
  end = std::min(end, num_buckets_);
  double sum = 0;
  for (int64_t b = begin; b < end; ++b) sum += count(zone_pos, b);
  return sum;
}

double DemandGrid::Total() const {
  double sum = 0;
  for (float c : counts_) sum += c;
  return sum;
}

StatusOr<DemandGrid> DemandGrid::WithZones(const std::vector<int32_t>& zones) const {
  std::vector<int32_t> sorted = zones;
  std::sort(sorted.begin(), sorted.end());
  RETURN_IF_ERROR(CheckZones(sorted));
  std::vector<float> counts;
  counts.reserve(sorted.size() * num_buckets_);
  for (int32_t z : sorted) {
    const int pos = ZonePosition(z);
    if (pos < 0) return NotFoundError("demand grid: zone " + std::to_string(z) + " not in grid");
    const auto span = ZoneCounts(pos);
    counts.insert(counts.end(), span.begin(), span.end());
  }
  return FromCounts(bucket_minutes_, start_us_, std::move(sorted), num_buckets_, std::move(counts));
}

std::vector<int32_t> DemandGrid::ZonesWithPickups(int64_t begin, int64_t end) const {
  std::vector<int32_t> out;
  for (size_t z = 0; z < zones_.size(); ++z) {
    if (ZoneTotal(z, begin, end) > 0) out.push_back(zones_[z]);
  }
  return out;
}

}  // namespace bimride::features
