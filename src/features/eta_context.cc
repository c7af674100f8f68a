#include "features/eta_context.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "common/civil_time.h"
#include "features/eta_features.h"
#include "features/geo.h"

namespace bimride::features {
namespace {

constexpr float kNaNf = std::numeric_limits<float>::quiet_NaN();

float Median(std::vector<float>& v) {
  if (v.empty()) return kNaNf;
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + mid, v.end());
  float hi = v[mid];
  if (v.size() % 2 == 1) return hi;
  float lo = *std::max_element(v.begin(), v.begin() + mid);
  return static_cast<float>((static_cast<double>(lo) + hi) / 2);
}

struct Accumulator {
  std::vector<float> minutes, distance, speed;
  EtaPairStats Finish() {
    EtaPairStats s;
    s.count = static_cast<int64_t>(minutes.size());
    s.median_minutes = Median(minutes);
    s.median_distance_miles = Median(distance);
    s.median_speed_mph = Median(speed);
    return s;
  }
};

// Zone ids are 1..max_zone: at least 265 with a zone index (1 without) and `min_max_zone`,
// and every zone of the index and of the training trips.
int32_t MaxZone(const data::TripTable& train, const data::ZoneIndex* zones, int32_t min_max_zone) {
  int32_t max_zone = std::max(zones != nullptr ? 265 : 1, min_max_zone);
  if (zones != nullptr) {
    for (int32_t id : zones->ZoneIds()) max_zone = std::max(max_zone, id);
  }
  for (size_t i = 0; i < train.size(); ++i) {
    max_zone = std::max({max_zone, train.pickup_zone[i], train.dropoff_zone[i]});
  }
  return max_zone;
}

// Per zone id 0..c->max_zone: centroid and borough from `zones`, or without an index the mean
// pickup coordinates of the training trips (no boroughs).
void SetZoneGeometry(const data::TripTable& train, const data::ZoneIndex* zones,
                     EtaFeatureContext* c) {
  const size_t nz = static_cast<size_t>(c->max_zone) + 1;
  c->zone_lon.assign(nz, std::numeric_limits<double>::quiet_NaN());
  c->zone_lat.assign(nz, std::numeric_limits<double>::quiet_NaN());
  c->zone_borough.assign(nz, 0);
  if (zones != nullptr) {
    for (int32_t id : zones->ZoneIds()) {
      const data::ZoneInfo* z = zones->Zone(id);
      if (z == nullptr) continue;
      if (z->has_shape) {
        c->zone_lon[id] = z->centroid_lon;
        c->zone_lat[id] = z->centroid_lat;
      }
      c->zone_borough[id] = EtaBoroughId(z->borough);
    }
  } else {
    // No zone shapes (simulated city): a zone's centre is the mean of its pickups.
    std::vector<double> sx(nz, 0), sy(nz, 0);
    std::vector<int64_t> n(nz, 0);
    for (size_t i = 0; i < train.size(); ++i) {
      const int32_t z = train.pickup_zone[i];
      if (z <= 0 || !std::isfinite(train.pickup_lon[i]) || !std::isfinite(train.pickup_lat[i])) {
        continue;
      }
      sx[z] += train.pickup_lon[i];
      sy[z] += train.pickup_lat[i];
      ++n[z];
    }
    for (size_t z = 0; z < nz; ++z) {
      if (n[z] > 0) {
        c->zone_lon[z] = sx[z] / static_cast<double>(n[z]);
        c->zone_lat[z] = sy[z] / static_cast<double>(n[z]);
      }
    }
  }
}

// The statistics learned from the training rows with a positive duration, zones and pickup
// time: global, per zone, per pair, per hour of week. Returns those rows; InvalidArgument when
// there are none.
StatusOr<std::vector<size_t>> LearnTripStatistics(const data::TripTable& train,
                                                  const std::vector<EtaRequest>& requests,
                                                  EtaFeatureContext* c) {
  const EtaContextOptions& options = c->options;
  const int32_t max_zone = c->max_zone;
  const size_t nz = static_cast<size_t>(max_zone) + 1;
  Accumulator global;
  std::vector<Accumulator> pickup(nz), dropoff(nz);
  std::map<int64_t, Accumulator> pairs;
  std::vector<Accumulator> hour_of_week(168);
  std::vector<float> detour;
  std::vector<size_t> used;
  for (size_t i = 0; i < train.size(); ++i) {
    const double minutes = train.DurationMinutes(i);
    const EtaRequest& r = requests[i];
    if (!(minutes > 0) || r.pickup_zone < 1 || r.dropoff_zone < 1 ||
        r.pickup_time_us == data::kNullTime) {
      continue;
    }
    used.push_back(i);
    double lon1 = c->zone_lon[r.pickup_zone], lat1 = c->zone_lat[r.pickup_zone];
    double lon2 = c->zone_lon[r.dropoff_zone], lat2 = c->zone_lat[r.dropoff_zone];
    if (r.HasCoordinates())
      lon1 = r.pickup_lon, lat1 = r.pickup_lat, lon2 = r.dropoff_lon, lat2 = r.dropoff_lat;
    const double line_miles = HaversineKm(lon1, lat1, lon2, lat2) / kKmPerMile;
    double distance = train.distance_miles[i];
    if (!std::isfinite(distance)) distance = line_miles;
    if (std::isfinite(train.distance_miles[i]) && line_miles > 0.5) {
      detour.push_back(static_cast<float>(train.distance_miles[i] / line_miles));
    }
    const float m = static_cast<float>(minutes);
    const float d = static_cast<float>(distance);
    const float speed =
        std::isfinite(distance) ? static_cast<float>(distance / (minutes / 60)) : kNaNf;
    auto add = [&](Accumulator& a) {
      a.minutes.push_back(m);
      if (std::isfinite(d)) a.distance.push_back(d);
      if (std::isfinite(speed)) a.speed.push_back(speed);
    };
    add(global);
    add(pickup[r.pickup_zone]);
    add(dropoff[r.dropoff_zone]);
    add(pairs[static_cast<int64_t>(r.pickup_zone) * (max_zone + 1) + r.dropoff_zone]);
    add(hour_of_week[DayOfWeek(r.pickup_time_us) * 24 + HourOfDay(r.pickup_time_us)]);
  }
  if (used.empty()) {
    return InvalidArgumentError("ETA context: no training trip with a positive duration");
  }
  c->training_rows = static_cast<int64_t>(used.size());
  c->global = global.Finish();
  // The global "distance" is the typical detour factor (metered / straight line); without a
  // metered distance the straight line itself.
  c->global.median_distance_miles = detour.empty() ? 1.0f : Median(detour);
  c->pickup_zone_stats.resize(nz);
  c->dropoff_zone_stats.resize(nz);
  for (size_t z = 0; z < nz; ++z) {
    c->pickup_zone_stats[z] = pickup[z].Finish();
    c->dropoff_zone_stats[z] = dropoff[z].Finish();
  }
  for (auto& [key, acc] : pairs) {
    if (static_cast<int64_t>(acc.minutes.size()) >= options.min_pair_count) {
      c->pairs.emplace_back(key, acc.Finish());
    }
  }
  c->hour_of_week_speed_mph.resize(168);
  for (int h = 0; h < 168; ++h) {
    EtaPairStats s = hour_of_week[h].Finish();
    c->hour_of_week_speed_mph[h] =
        ShrinkTowards(s.count, s.median_speed_mph, c->global.median_speed_mph, options.shrinkage);
  }
  return used;
}

// Per feature: the median over the training rows `used` (the default for a value that cannot be
// computed) and, for numeric features, the range to clip into. Computed from the raw features,
// before defaults exist.
void SetDefaultsAndRanges(const std::vector<EtaRequest>& requests, const std::vector<size_t>& used,
                          EtaFeatureContext* c) {
  const EtaFeatureSet set = c->set;
  const int width = EtaFeatureCount(set);
  std::vector<std::vector<float>> columns(width);
  std::vector<float> row(width);
  for (size_t i : used) {
    if (!CheckEtaRequest(requests[i], set, c->max_zone, i).ok()) continue;
    ComputeRawEtaFeatures(*c, requests[i], row.data());
    for (int k = 0; k < width; ++k) {
      if (std::isfinite(row[k])) columns[k].push_back(row[k]);
    }
  }
  c->defaults.resize(width);
  c->lower.assign(width, -std::numeric_limits<float>::infinity());
  c->upper.assign(width, std::numeric_limits<float>::infinity());
  for (int k = 0; k < width; ++k) {
    if (!columns[k].empty() && k > kEtaColWeekday) {  // ids are not clipped
      const auto [lo, hi] = std::minmax_element(columns[k].begin(), columns[k].end());
      // Down to 0 at least: counts and amounts start there whatever the training rows had
      // (an unseen pair's log count 0 must stay 0).
      c->lower[k] = std::min(*lo, 0.0f);
      c->upper[k] = *hi;
    }
    const float m = Median(columns[k]);
    c->defaults[k] = std::isfinite(m) ? m : 0.0f;
  }
}

}  // namespace

const EtaPairStats* EtaFeatureContext::FindPair(int32_t pickup_zone, int32_t dropoff_zone) const {
  const int64_t key = static_cast<int64_t>(pickup_zone) * (max_zone + 1) + dropoff_zone;
  auto it = std::lower_bound(pairs.begin(), pairs.end(), key,
                             [](const auto& p, int64_t k) { return p.first < k; });
  return it != pairs.end() && it->first == key ? &it->second : nullptr;
}

float ShrinkTowards(int64_t n, float m, float fallback, double k) {
  if (n <= 0 || !std::isfinite(m)) return fallback;
  if (!std::isfinite(fallback)) return m;
  return static_cast<float>((static_cast<double>(n) * m + k * fallback) /
                            (static_cast<double>(n) + k));
}

StatusOr<EtaFeatureContext> BuildEtaFeatureContext(EtaFeatureSet set, const data::TripTable& train,
                                                   const data::ZoneIndex* zones,
                                                   const WeatherTable* weather,
                                                   const EtaContextOptions& options) {
  RETURN_IF_ERROR(train.CheckConsistent());
  EtaFeatureContext c;
  c.set = set;
  c.options = options;
  c.max_zone = MaxZone(train, zones, options.min_max_zone);
  SetZoneGeometry(train, zones, &c);
  if (weather != nullptr && !weather->empty()) {
    // Round trip through the bundled CSV so training sees exactly what a server loads.
    ASSIGN_OR_RETURN(
        c.weather,
        WeatherTable::Parse(weather->ToCsv(weather->first_day(), weather->last_day()), "weather"));
  }

  // Learned statistics, from rows with a positive duration only.
  const std::vector<EtaRequest> requests = EtaRequestsFromTrips(train);
  ASSIGN_OR_RETURN(const std::vector<size_t> used, LearnTripStatistics(train, requests, &c));
  SetDefaultsAndRanges(requests, used, &c);
  return c;
}

}  // namespace bimride::features
