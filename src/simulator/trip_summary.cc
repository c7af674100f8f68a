#include "simulator/trip_summary.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdarg>
#include <cstdio>

#include "common/civil_time.h"

namespace bimride::simulator {
namespace {

// Nearest-rank quantile of the finite values; NaN when there are none. Reorders `values`.
double Quantile(std::vector<double>& values, double q) {
  if (values.empty()) return std::nan("");
  const size_t k = std::min(
      values.size() - 1,
      static_cast<size_t>(std::ceil(q * static_cast<double>(values.size()))) - (q > 0 ? 1 : 0));
  std::nth_element(values.begin(), values.begin() + static_cast<ptrdiff_t>(k), values.end());
  return values[k];
}

std::string Format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string Format(const char* fmt, ...) {
  char buf[512];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buf, sizeof(buf), fmt, args);
  va_end(args);
  return buf;
}

std::string Percent(int64_t part, int64_t whole) {
  return whole > 0
             ? Format("%.1f%%", 100.0 * static_cast<double>(part) / static_cast<double>(whole))
             : "n/a";
}

}  // namespace

TripSummary SummarizeTrips(const data::TripTable& trips, const std::vector<Zone>* zones,
                           const std::vector<QuoteRecord>* quotes, size_t top_zones) {
  TripSummary s;
  s.source = std::string(data::TripSourceName(trips.source));
  s.trips = static_cast<int64_t>(trips.size());
  std::vector<double> minutes, miles;
  minutes.reserve(trips.size());
  miles.reserve(trips.size());
  std::vector<int64_t> by_zone;
  double fare_sum = 0;
  int64_t fare_count = 0;
  int64_t surge_counts[4] = {0, 0, 0, 0};
  bool any_surge = false;
  for (size_t i = 0; i < trips.size(); ++i) {
    const int64_t t = trips.pickup_time_us[i];
    if (t != data::kNullTime) {
      if (s.first_pickup_us == data::kNullTime || t < s.first_pickup_us) s.first_pickup_us = t;
      if (s.last_pickup_us == data::kNullTime || t > s.last_pickup_us) s.last_pickup_us = t;
      ++s.trips_by_hour[HourOfDay(t)];
    }
    const double m = trips.DurationMinutes(i);
    if (std::isfinite(m)) minutes.push_back(m);
    if (std::isfinite(trips.distance_miles[i])) miles.push_back(trips.distance_miles[i]);
    if (std::isfinite(trips.fare[i])) {
      fare_sum += trips.fare[i];
      ++fare_count;
    }
    const int32_t zone = trips.pickup_zone[i];
    if (zone > 0) {
      if (static_cast<size_t>(zone) >= by_zone.size()) by_zone.resize(zone + 1, 0);
      ++by_zone[zone];
    }
    const float surge = trips.surge[i];
    if (std::isfinite(surge)) {
      any_surge = true;
      const int tenths = static_cast<int>(std::lround(surge * 10.0f));
      ++surge_counts[tenths <= 10 ? 0 : tenths < 15 ? 1 : tenths < 20 ? 2 : 3];
    }
  }
  s.median_minutes = Quantile(minutes, 0.5);
  s.p90_minutes = Quantile(minutes, 0.9);
  s.median_miles = Quantile(miles, 0.5);
  s.p90_miles = Quantile(miles, 0.9);
  if (fare_count > 0) s.mean_fare = fare_sum / static_cast<double>(fare_count);
  if (any_surge) {
    const char* labels[4] = {"1.0x", "1.1-1.4x", "1.5-1.9x", "2.0x+"};
    for (int b = 0; b < 4; ++b) s.surge.push_back({labels[b], surge_counts[b]});
  }
  for (size_t z = 1; z < by_zone.size(); ++z) {
    if (by_zone[z] == 0) continue;
    ZoneTrips zt;
    zt.zone = static_cast<int32_t>(z);
    zt.trips = by_zone[z];
    if (zones != nullptr && z <= zones->size()) zt.name = (*zones)[z - 1].name;
    s.busiest_pickup_zones.push_back(std::move(zt));
  }
  std::sort(s.busiest_pickup_zones.begin(), s.busiest_pickup_zones.end(),
            [](const ZoneTrips& a, const ZoneTrips& b) {
              return a.trips != b.trips ? a.trips > b.trips : a.zone < b.zone;
            });
  if (s.busiest_pickup_zones.size() > top_zones) s.busiest_pickup_zones.resize(top_zones);
  if (quotes != nullptr) {
    s.quotes = static_cast<int64_t>(quotes->size());
    for (const QuoteRecord& q : *quotes) {
      s.accepted_quotes += q.accepted ? 1 : 0;
      s.served_quotes += q.served ? 1 : 0;
    }
  }
  return s;
}

TripSummary SummarizeCity(const SimulatedCity& city) {
  return SummarizeTrips(city.trips, city.zones.empty() ? nullptr : &city.zones,
                        city.quotes.empty() ? nullptr : &city.quotes);
}

std::string FormatTripSummary(const TripSummary& s) {
  std::string out;
  out += Format("trips:            %" PRId64 " (source %s)\n", s.trips, s.source.c_str());
  if (s.first_pickup_us != data::kNullTime) {
    out += "pickups:          " + FormatCivil(s.first_pickup_us) + " .. " +
           FormatCivil(s.last_pickup_us) + "\n";
  }
  out += Format("duration (min):   median %.1f, p90 %.1f\n", s.median_minutes, s.p90_minutes);
  out += Format("distance (miles): median %.2f, p90 %.2f\n", s.median_miles, s.p90_miles);
  out += Format("mean fare:        $%.2f\n", s.mean_fare);
  if (s.quotes > 0) {
    out += Format("quotes:           %" PRId64 ", accepted %s, served %s of accepted\n", s.quotes,
                  Percent(s.accepted_quotes, s.quotes).c_str(),
                  Percent(s.served_quotes, s.accepted_quotes).c_str());
  }
  if (!s.surge.empty()) {
    out += "surge:           ";
    for (const SurgeBucket& b : s.surge) {
      out += " " + b.label + " " + Percent(b.trips, s.trips);
    }
    out += "\n";
  }
  if (!s.busiest_pickup_zones.empty()) {
    out += "busiest pickup zones:\n";
    for (const ZoneTrips& z : s.busiest_pickup_zones) {
      out += Format("  %4d %-18s %9" PRId64 " trips (%s)\n", z.zone, z.name.c_str(), z.trips,
                    Percent(z.trips, s.trips).c_str());
    }
  }
  const int64_t peak = *std::max_element(s.trips_by_hour.begin(), s.trips_by_hour.end());
  if (peak > 0) {
    out += "trips by hour of day:\n";
    constexpr int kBarWidth = 40;
    for (int h = 0; h < 24; ++h) {
      const int64_t n = s.trips_by_hour[h];
      const int len = static_cast<int>((n * kBarWidth + peak / 2) / peak);
      out += Format("  %02d %-*s %" PRId64 "\n", h, kBarWidth, std::string(len, '#').c_str(), n);
    }
  }
  return out;
}

}  // namespace bimride::simulator
