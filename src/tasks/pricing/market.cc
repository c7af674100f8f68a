#include "tasks/pricing/market.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <queue>

#include "common/civil_time.h"
#include "features/demand_grid.h"
#include "simulator/random.h"
#include "simulator/simulator.h"

namespace bimride::tasks::pricing {
namespace {

using simulator::Rng;
using simulator::Zone;

constexpr int64_t kIntervalUs = kIntervalMinutes * kMicrosPerMinute;
constexpr int kBucketMinutes = 15;  // demand counts for the forecast
constexpr int64_t kBucketUs = kBucketMinutes * kMicrosPerMinute;
constexpr double kKmPerDegLat = 111.32;
constexpr double kDetour = 1.3;  // as simulator::RoadKm
constexpr int kNeighbours = 6;   // zones a driver considers repositioning to (itself included)
constexpr double kRidesPerDriverHour = 2.2;

enum Stream : uint64_t { kDaysStream = 11, kRequestsStream, kDriversStream };

enum class DriverState : uint8_t { kOffline, kIdle, kBusy };

struct Driver {
  double lon = 0, lat = 0;
  int32_t zone = 0;  // position (0-based)
  int32_t home = 0;
  DriverState state = DriverState::kOffline;
  int64_t busy_until = 0;
  double next_lon = 0, next_lat = 0;
  int32_t next_zone = 0;
  int64_t idle_since = 0;
  int32_t idle_pos = -1;  // index in the idle list
};

struct FreeEvent {
  int64_t time_us;
  int64_t seq;
  int32_t driver;
  bool operator>(const FreeEvent& o) const {
    return time_us != o.time_us ? time_us > o.time_us : seq > o.seq;
  }
};

struct PendingRequest {
  int64_t time_us;
  int32_t zone;  // 0-based
  int32_t dest;  // 0-based
  double pu_lon, pu_lat, do_lon, do_lat;
  double sensitivity, u, patience, noise;
  bool operator<(const PendingRequest& o) const {
    return time_us != o.time_us ? time_us < o.time_us : zone < o.zone;
  }
};

class Geometry {
 public:
  explicit Geometry(double lat0) : kx_(kKmPerDegLat * std::cos(lat0 * M_PI / 180.0)) {}
  // Road km, flat-earth approximation of simulator::RoadKm (same detour factor).
  double Km(double lon1, double lat1, double lon2, double lat2) const {
    const double dx = (lon2 - lon1) * kx_, dy = (lat2 - lat1) * kKmPerDegLat;
    return kDetour * std::sqrt(dx * dx + dy * dy);
  }
  double kx() const { return kx_; }

 private:
  double kx_;
};

std::vector<simulator::DayConditions> BuildMarketDays(const MarketConfig& c,
                                                      const std::vector<Zone>& zones,
                                                      int64_t start_us, Rng rng) {
  std::vector<double> venue(zones.size());
  for (size_t i = 0; i < zones.size(); ++i) {
    constexpr double kVenue[simulator::kNumZoneTypes] = {0.2, 2.0, 3.0, 0.0};
    venue[i] = zones[i].weight * kVenue[static_cast<int>(zones[i].type)];
  }
  simulator::AliasTable venues(venue);
  if (venues.empty()) venues = simulator::AliasTable(std::vector<double>(zones.size(), 1.0));
  std::vector<simulator::DayConditions> days(static_cast<size_t>(c.city.days));
  for (int64_t d = 0; d < c.city.days; ++d) {
    simulator::DayConditions& day = days[static_cast<size_t>(d)];
    day.day_start_us = start_us + d * kMicrosPerDay;
    day.rain = rng.Bernoulli(c.city.rain_probability);
    if (rng.Bernoulli(c.city.event_probability)) {
      day.event_zone = static_cast<int32_t>(venues.Sample(rng)) + 1;
      const bool weekend = DayOfWeek(day.day_start_us) >= 5;
      static constexpr int kWeekdayEnds[] = {21, 22, 23};
      static constexpr int kWeekendEnds[] = {16, 17, 22, 23};
      day.event_end_hour = weekend ? kWeekendEnds[rng.Below(4)] : kWeekdayEnds[rng.Below(3)];
      day.event_attendance = 5000 + static_cast<int32_t>(rng.Below(15001));
    }
  }
  return days;
}

// Destination CDFs per class of (weekday, hour) with equal destination factors.
struct Destinations {
  int n = 0;
  int class_of[7][24] = {};
  std::vector<std::vector<float>> cdf;
  int32_t Sample(int wd, int hour, int32_t origin, double u) const {
    const float* row = cdf[class_of[wd][hour]].data() + static_cast<size_t>(origin) * n;
    const float x = static_cast<float>(u) * row[n - 1];
    const float* it = std::upper_bound(row, row + n, x);
    return static_cast<int32_t>(std::min<ptrdiff_t>(it - row, n - 1));
  }
};

Destinations BuildDestinations(const std::vector<Zone>& zones, double beta) {
  Destinations t;
  t.n = static_cast<int>(zones.size());
  std::map<std::array<double, simulator::kNumZoneTypes>, int> classes;
  std::vector<std::pair<int, int>> rep;
  for (int wd = 0; wd < 7; ++wd) {
    for (int h = 0; h < 24; ++h) {
      std::array<double, simulator::kNumZoneTypes> key;
      for (int ty = 0; ty < simulator::kNumZoneTypes; ++ty) {
        key[ty] = simulator::DestinationFactor(static_cast<simulator::ZoneType>(ty), wd, h);
      }
      auto [it, inserted] = classes.emplace(key, static_cast<int>(classes.size()));
      if (inserted) rep.emplace_back(wd, h);
      t.class_of[wd][h] = it->second;
    }
  }
  const size_t n = zones.size();
  t.cdf.resize(rep.size());
  for (size_t c = 0; c < rep.size(); ++c) {
    t.cdf[c].resize(n * n);
    for (size_t o = 0; o < n; ++o) {
      std::vector<double> w = simulator::DestinationWeights(zones, static_cast<int32_t>(o + 1),
                                                            rep[c].first, rep[c].second, beta);
      double sum = 0;
      for (size_t d = 0; d < n; ++d) t.cdf[c][o * n + d] = static_cast<float>(sum += w[d]);
    }
  }
  return t;
}

double Cents(double usd) { return std::round(usd * 100.0) / 100.0; }

class Market {
 public:
  Market(const MarketConfig& c, int64_t start_us)
      : c_(c), start_us_(start_us), master_(c.seed), geo_(40.748) {}

  StatusOr<MarketResult> Run();

 private:
  void SetIdle(int32_t d, int64_t now);
  void ClearIdle(int32_t d);
  int32_t NearestZone(double lon, double lat) const;
  void ProcessFreeEventsBefore(int64_t t);
  void Tick(int64_t interval, int64_t t);
  void DriversLogOnOff(int64_t t, double target);
  void Reposition(int64_t t, const std::vector<double>& m);
  void GenerateRequests(int64_t t, std::vector<PendingRequest>* out);
  void Serve(const PendingRequest& r, int64_t interval);

  const MarketConfig& c_;
  int64_t start_us_;
  Rng master_;
  Geometry geo_;
  Rng req_rng_{0}, drv_rng_{0};
  MarketResult res_;
  std::vector<Zone> zones_;
  std::vector<double> spread_km_;
  std::vector<std::vector<int32_t>> neighbours_;
  Destinations dest_;
  std::vector<double> weekly_factor_;
  double rate_scale_ = 0, online_scale_ = 0;
  std::vector<Driver> drivers_;
  std::vector<int32_t> idle_;
  int64_t online_ = 0;
  std::priority_queue<FreeEvent, std::vector<FreeEvent>, std::greater<FreeEvent>> events_;
  int64_t seq_ = 0;
  std::unique_ptr<PricingEngine> engine_;
  std::vector<double> mult_;
  std::vector<int32_t> zone_requests_now_, zone_requests_prev_;
  std::vector<int32_t> idle_by_zone_;
  std::vector<std::array<int32_t, 3>> recent_;  // requests of the last 3 intervals per zone
  simulator::AliasTable homes_, profiles_;
  int64_t nb15_ = 0;
  double earn_interval_ = 0, earn_short_ = -1, earn_long_ = -1;
  int64_t intervals_seen_ = 0;
  const simulator::DayConditions* day_ = nullptr;
  int weekday_ = 0, hour_ = 0;
};

void Market::SetIdle(int32_t d, int64_t now) {
  Driver& dr = drivers_[static_cast<size_t>(d)];
  dr.state = DriverState::kIdle;
  dr.idle_since = now;
  dr.idle_pos = static_cast<int32_t>(idle_.size());
  idle_.push_back(d);
}

void Market::ClearIdle(int32_t d) {
  Driver& dr = drivers_[static_cast<size_t>(d)];
  const int32_t pos = dr.idle_pos;
  const int32_t last = idle_.back();
  idle_[static_cast<size_t>(pos)] = last;
  drivers_[static_cast<size_t>(last)].idle_pos = pos;
  idle_.pop_back();
  dr.idle_pos = -1;
}

int32_t Market::NearestZone(double lon, double lat) const {
  int32_t best = 0;
  double best_km = 1e300;
  for (size_t z = 0; z < zones_.size(); ++z) {
    const double km = geo_.Km(lon, lat, zones_[z].lon, zones_[z].lat);
    if (km < best_km) best_km = km, best = static_cast<int32_t>(z);
  }
  return best;
}

void Market::ProcessFreeEventsBefore(int64_t t) {
  while (!events_.empty() && events_.top().time_us < t) {
    const FreeEvent e = events_.top();
    events_.pop();
    Driver& d = drivers_[static_cast<size_t>(e.driver)];
    d.lon = d.next_lon;
    d.lat = d.next_lat;
    d.zone = d.next_zone;
    SetIdle(e.driver, e.time_us);
  }
}

void Market::DriversLogOnOff(int64_t t, double target) {
  const double gap = target - static_cast<double>(online_);
  if (gap >= 1) {
    int64_t n = std::max<int64_t>(1, std::llround(gap * 0.5));
    std::vector<int32_t> offline;
    for (size_t i = 0; i < drivers_.size(); ++i) {
      if (drivers_[i].state == DriverState::kOffline) offline.push_back(static_cast<int32_t>(i));
    }
    n = std::min<int64_t>(n, static_cast<int64_t>(offline.size()));
    for (int64_t k = 0; k < n; ++k) {
      const size_t pick = static_cast<size_t>(k) + drv_rng_.Below(offline.size() - k);
      std::swap(offline[static_cast<size_t>(k)], offline[pick]);
      const int32_t id = offline[static_cast<size_t>(k)];
      Driver& d = drivers_[static_cast<size_t>(id)];
      const Zone& z = zones_[static_cast<size_t>(d.home)];
      const double s = spread_km_[static_cast<size_t>(d.home)];
      d.lon = z.lon + s * drv_rng_.Normal() / geo_.kx();
      d.lat = z.lat + s * drv_rng_.Normal() / kKmPerDegLat;
      d.zone = d.home;
      SetIdle(id, t);
      ++online_;
    }
  } else if (gap <= -1) {
    int64_t n = std::min<int64_t>(std::llround(-gap * 0.5), static_cast<int64_t>(idle_.size()));
    for (int64_t k = 0; k < n; ++k) {
      const int32_t id = idle_[drv_rng_.Below(idle_.size())];
      ClearIdle(id);
      drivers_[static_cast<size_t>(id)].state = DriverState::kOffline;
      --online_;
    }
  }
}

void Market::Reposition(int64_t t, const std::vector<double>& m) {
  std::vector<double> score(zones_.size());
  std::vector<int32_t> idle_count = idle_by_zone_;
  for (size_t z = 0; z < zones_.size(); ++z) {
    score[z] = m[z] * (zone_requests_prev_[z] + 0.5);
  }
  const std::vector<int32_t> snapshot = idle_;
  for (int32_t id : snapshot) {
    if (drv_rng_.Uniform() >= c_.reposition_probability) continue;
    Driver& d = drivers_[static_cast<size_t>(id)];
    if (t - d.idle_since < kIntervalUs) continue;
    const size_t own = static_cast<size_t>(d.zone);
    const double own_score = score[own] / (idle_count[own] + 0.0 + 1.0);
    int32_t best = -1;
    double best_score = 1.5 * own_score;
    for (int32_t z : neighbours_[own]) {
      if (static_cast<size_t>(z) == own) continue;
      const double s = score[static_cast<size_t>(z)] / (idle_count[static_cast<size_t>(z)] + 1.0);
      if (s > best_score) best_score = s, best = z;
    }
    if (best < 0) continue;
    const Zone& to = zones_[static_cast<size_t>(best)];
    const double km = geo_.Km(d.lon, d.lat, to.lon, to.lat);
    const double minutes = 60.0 * km / simulator::MeanSpeedKmh(weekday_, hour_, day_->rain, km);
    ClearIdle(id);
    --idle_count[own];
    ++idle_count[static_cast<size_t>(best)];
    d.state = DriverState::kBusy;
    d.next_lon = to.lon;
    d.next_lat = to.lat;
    d.next_zone = best;
    d.busy_until = t + std::llround(minutes * 60.0) * kMicrosPerSecond;
    events_.push({d.busy_until, seq_++, id});
  }
}

void Market::GenerateRequests(int64_t t, std::vector<PendingRequest>* out) {
  out->clear();
  const double weather = day_->rain ? 1.25 : 1.0;
  for (size_t z = 0; z < zones_.size(); ++z) {
    const Zone& zone = zones_[z];
    double lambda = rate_scale_ * zone.weight *
                    simulator::RequestRateFactor(zone.type, weekday_, hour_) * weather / 12.0;
    if (day_->event_zone == zone.id) {
      if (hour_ == day_->event_end_hour) lambda += 0.06 * day_->event_attendance / 12.0;
      if (hour_ == day_->event_end_hour + 1) lambda += 0.015 * day_->event_attendance / 12.0;
    }
    const int64_t n = req_rng_.Poisson(lambda);
    for (int64_t k = 0; k < n; ++k) {
      PendingRequest r;
      r.time_us = t + static_cast<int64_t>(req_rng_.Below(300)) * kMicrosPerSecond;
      r.zone = static_cast<int32_t>(z);
      r.dest = dest_.Sample(weekday_, hour_, r.zone, req_rng_.Uniform());
      const Zone& to = zones_[static_cast<size_t>(r.dest)];
      const double fs = spread_km_[z], ts = spread_km_[static_cast<size_t>(r.dest)];
      r.pu_lon = zone.lon + fs * req_rng_.Normal() / geo_.kx();
      r.pu_lat = zone.lat + fs * req_rng_.Normal() / kKmPerDegLat;
      r.do_lon = to.lon + ts * req_rng_.Normal() / geo_.kx();
      r.do_lat = to.lat + ts * req_rng_.Normal() / kKmPerDegLat;
      // Sensitivity as the city's rider profiles draw it (median per profile, lognormal 0.3).
      constexpr double kSensitivity[simulator::kNumRiderProfiles] = {0.7, 1.1, 1.0, 1.7};
      const uint32_t p = profiles_.Sample(req_rng_);
      r.sensitivity = std::clamp(req_rng_.LogNormal(std::log(kSensitivity[p]), 0.3), 0.2, 4.0);
      r.u = req_rng_.Uniform();
      r.patience = req_rng_.LogNormal(std::log(c_.patience_median_minutes), 0.5);
      r.noise = req_rng_.LogNormal(-0.5 * 0.25 * 0.25, 0.25);
      out->push_back(r);
    }
  }
  std::sort(out->begin(), out->end());
}

void Market::Serve(const PendingRequest& r, int64_t interval) {
  const size_t z = static_cast<size_t>(r.zone);
  IntervalStats& st = res_.intervals[static_cast<size_t>(interval)];
  ++res_.requests;
  ++st.requests;
  ++zone_requests_now_[z];
  ++res_.requests_by_hour[static_cast<size_t>(hour_)];
  const int64_t bucket = (r.time_us - start_us_) / kBucketUs;
  ++res_.zone_requests[z * static_cast<size_t>(nb15_) + static_cast<size_t>(bucket)];
  const bool spike = day_->event_zone == zones_[z].id &&
                     (hour_ == day_->event_end_hour || hour_ == day_->event_end_hour + 1);
  if (spike) ++res_.spike_requests;
  const bool spike_hour =
      day_->event_zone > 0 && (hour_ == day_->event_end_hour || hour_ == day_->event_end_hour + 1);
  if (spike_hour) ++res_.spike_hours_requests;

  const double m = mult_[z];
  const double miles =
      std::max(0.01, std::round(std::max(0.3, geo_.Km(r.pu_lon, r.pu_lat, r.do_lon, r.do_lat)) *
                                simulator::kMilesPerKm * 100.0) /
                         100.0);
  const double km = miles / simulator::kMilesPerKm;
  const double est_minutes = simulator::ExpectedMinutes(km, weekday_, hour_, day_->rain);
  const double reference = simulator::Fare(c_.city.tariff, km, est_minutes, 1.0);
  const double fare = Cents(reference * m);
  const double ratio = fare / reference;
  RequestRecord rec{r.time_us, zones_[z].id, RequestOutcome::kDeclined, static_cast<float>(m), 0};
  auto log = [&] {
    if (c_.keep_requests) res_.requests_log.push_back(rec);
  };
  if (!(r.u < simulator::AcceptProbability(ratio, r.sensitivity))) return log();
  ++res_.bookings;
  ++st.bookings;
  if (spike) ++res_.spike_bookings;
  // Nearest idle driver.
  int32_t best = -1;
  double best_d2 = 1e300;
  const double kx = geo_.kx();
  for (int32_t id : idle_) {
    const Driver& d = drivers_[static_cast<size_t>(id)];
    const double dx = (d.lon - r.pu_lon) * kx, dy = (d.lat - r.pu_lat) * kKmPerDegLat;
    const double d2 = dx * dx + dy * dy;
    if (d2 < best_d2) best_d2 = d2, best = id;
  }
  const double pickup_km = kDetour * std::sqrt(best_d2);
  if (best < 0 || pickup_km > c_.max_dispatch_km) {
    ++res_.no_driver;
    ++st.no_driver;
    rec.outcome = RequestOutcome::kNoDriver;
    return log();
  }
  Driver& d = drivers_[static_cast<size_t>(best)];
  ClearIdle(best);
  d.state = DriverState::kBusy;
  const double pickup_minutes =
      1.0 + 60.0 * pickup_km / simulator::MeanSpeedKmh(weekday_, hour_, day_->rain, pickup_km);
  if (pickup_minutes > r.patience) {
    // The rider gives up; the driver stops where they got to, unpaid.
    const double f = r.patience / pickup_minutes;
    d.next_lon = d.lon + f * (r.pu_lon - d.lon);
    d.next_lat = d.lat + f * (r.pu_lat - d.lat);
    d.next_zone = NearestZone(d.next_lon, d.next_lat);
    d.busy_until = r.time_us + std::llround(r.patience * 60.0) * kMicrosPerSecond;
    events_.push({d.busy_until, seq_++, best});
    ++res_.cancelled;
    ++st.cancelled;
    if (spike) ++res_.spike_cancelled;
    rec.outcome = RequestOutcome::kCancelled;
    rec.wait_minutes = static_cast<float>(r.patience);
    return log();
  }
  const double trip_minutes = est_minutes * r.noise;
  d.next_lon = r.do_lon;
  d.next_lat = r.do_lat;
  d.next_zone = r.dest;
  d.busy_until =
      r.time_us + std::llround((pickup_minutes + trip_minutes) * 60.0) * kMicrosPerSecond;
  events_.push({d.busy_until, seq_++, best});
  ++res_.completed;
  ++st.completed;
  st.wait_sum += static_cast<float>(pickup_minutes);
  if (spike) ++res_.spike_completed, res_.spike_wait_sum += pickup_minutes;
  if (spike_hour) ++res_.spike_hours_completed;
  res_.revenue += fare;
  // Willingness to pay as a price ratio: the u-quantile of the acceptance curve.
  const double wtp_ratio = (3.5 - std::log(r.u / (1.0 - r.u))) / (1.5 * r.sensitivity);
  res_.rider_surplus += (wtp_ratio - ratio) * reference;
  res_.driver_paid_hours += trip_minutes / 60.0;
  earn_interval_ += c_.driver_share * fare;
  res_.waits.push_back(static_cast<float>(pickup_minutes));
  res_.trip_miles.push_back(static_cast<float>(miles));
  rec.outcome = RequestOutcome::kCompleted;
  rec.wait_minutes = static_cast<float>(pickup_minutes);
  log();
}

StatusOr<MarketResult> Market::Run() {
  req_rng_ = master_.Fork(kRequestsStream);
  drv_rng_ = master_.Fork(kDriversStream);
  zones_ = simulator::BuildZones(c_.city);
  const size_t nz = zones_.size();
  res_.start_us = start_us_;
  res_.zones = zones_;
  res_.days = BuildMarketDays(c_, zones_, start_us_, master_.Fork(kDaysStream));
  dest_ = BuildDestinations(zones_, c_.city.gravity_beta);
  spread_km_.assign(nz, 1.0);
  neighbours_.resize(nz);
  for (size_t i = 0; i < nz; ++i) {
    std::vector<std::pair<double, int32_t>> by_km;
    for (size_t j = 0; j < nz; ++j) {
      by_km.emplace_back(geo_.Km(zones_[i].lon, zones_[i].lat, zones_[j].lon, zones_[j].lat),
                         static_cast<int32_t>(j));
    }
    std::sort(by_km.begin(), by_km.end());
    if (nz > 1) spread_km_[i] = std::clamp(0.35 * by_km[1].first, 0.2, 1.5);
    for (size_t k = 0; k < std::min<size_t>(kNeighbours, nz); ++k) {
      neighbours_[i].push_back(by_km[k].second);
    }
  }
  // Demand scale as the city simulator's: a dry, event-free week averages
  // requests_per_zone_day per zone and day.
  double weekly_total = 0;
  weekly_factor_.assign(nz, 0.0);
  for (size_t z = 0; z < nz; ++z) {
    for (int wd = 0; wd < 7; ++wd) {
      for (int h = 0; h < 24; ++h) {
        weekly_factor_[z] += simulator::RequestRateFactor(zones_[z].type, wd, h);
      }
    }
    weekly_total += zones_[z].weight * weekly_factor_[z];
  }
  rate_scale_ = c_.city.requests_per_zone_day * 7.0 * static_cast<double>(nz) / weekly_total;
  double driver_week_mean = 0;
  for (int wd = 0; wd < 7; ++wd) {
    for (int h = 0; h < 24; ++h) driver_week_mean += simulator::DriverOnlineFactor(wd, h) / 168.0;
  }
  const double mean_hourly = c_.city.requests_per_zone_day * static_cast<double>(nz) / 24.0;
  online_scale_ =
      c_.city.driver_supply_ratio * mean_hourly * 0.85 / kRidesPerDriverHour / driver_week_mean;
  const size_t fleet = static_cast<size_t>(std::ceil(online_scale_ * 1.8)) + 5;
  std::vector<double> home_weights(nz);
  for (size_t z = 0; z < nz; ++z) home_weights[z] = zones_[z].weight * weekly_factor_[z];
  homes_ = simulator::AliasTable(home_weights);
  profiles_ = simulator::AliasTable(std::vector<double>{0.35, 0.25, 0.30, 0.10});
  drivers_.resize(fleet);
  for (Driver& d : drivers_) d.home = static_cast<int32_t>(homes_.Sample(drv_rng_));

  const int64_t intervals = c_.city.days * 24 * 60 / kIntervalMinutes;
  nb15_ = c_.city.days * 24 * 60 / kBucketMinutes;
  res_.intervals.resize(static_cast<size_t>(intervals));
  res_.multipliers.resize(static_cast<size_t>(intervals) * nz);
  res_.zone_requests.assign(nz * static_cast<size_t>(nb15_), 0.0f);
  res_.waits.reserve(static_cast<size_t>(c_.city.requests_per_zone_day * nz * c_.city.days));
  res_.trip_miles.reserve(res_.waits.capacity());
  engine_ = std::make_unique<PricingEngine>(c_.pricing, nz);
  mult_.assign(nz, c_.pricing.floor);
  zone_requests_now_.assign(nz, 0);
  zone_requests_prev_.assign(nz, 0);
  recent_.assign(nz, {0, 0, 0});
  idle_by_zone_.assign(nz, 0);

  std::vector<PendingRequest> pending;
  std::vector<ZoneSignal> signals(nz);
  for (int64_t i = 0; i < intervals; ++i) {
    const int64_t t = start_us_ + i * kIntervalUs;
    ProcessFreeEventsBefore(t);
    day_ = &res_.days[static_cast<size_t>(i * kIntervalMinutes / (24 * 60))];
    weekday_ = DayOfWeek(t);
    hour_ = HourOfDay(t);
    // What each zone shows now.
    std::fill(idle_by_zone_.begin(), idle_by_zone_.end(), 0);
    for (int32_t id : idle_)
      ++idle_by_zone_[static_cast<size_t>(drivers_[static_cast<size_t>(id)].zone)];
    std::vector<int32_t> arriving(nz, 0);
    for (const Driver& d : drivers_) {
      if (d.state == DriverState::kBusy && d.busy_until < t + kIntervalUs) {
        ++arriving[static_cast<size_t>(d.next_zone)];
      }
    }
    zone_requests_prev_ = zone_requests_now_;
    for (size_t z = 0; z < nz; ++z) {
      recent_[z] = {recent_[z][1], recent_[z][2], zone_requests_now_[z]};
      ZoneSignal& s = signals[z];
      s.open_requests = zone_requests_now_[z];
      s.idle_drivers = idle_by_zone_[z];
      s.arriving_drivers = arriving[z];
      s.neighbour_idle = 0;
      for (int32_t n : neighbours_[z]) {
        if (static_cast<size_t>(n) != z) s.neighbour_idle += idle_by_zone_[static_cast<size_t>(n)];
      }
      s.forecast_requests = s.open_requests;
      if (c_.forecast != nullptr) {
        const features::DemandBaselines& b = *c_.forecast;
        const int pos = b.ZonePosition(zones_[z].id);
        if (pos >= 0) {
          const int minute = hour_ * 60 + static_cast<int>((t / kMicrosPerMinute) % 60);
          const int slot = minute / kBucketMinutes;
          const int prev_slot = (slot + b.buckets_per_day() - 1) % b.buckets_per_day();
          const double ha_next = b.WeekdaySlotMean(static_cast<size_t>(pos), weekday_, slot) / 3.0;
          const double ha_prev = b.WeekdaySlotMean(static_cast<size_t>(pos), weekday_, prev_slot);
          const double recent = recent_[z][0] + recent_[z][1] + recent_[z][2];
          s.forecast_requests = ha_next * (recent + 2.0) / (ha_prev + 2.0);
        }
      }
      zone_requests_now_[z] = 0;
    }
    const bool outage = c_.outage_start_us >= 0 && t >= c_.outage_start_us &&
                        t < c_.outage_start_us + c_.outage_minutes * kMicrosPerMinute;
    mult_ = engine_->Step(signals, !outage);
    std::copy(mult_.begin(), mult_.end(),
              res_.multipliers.begin() + static_cast<ptrdiff_t>(i * nz));
    // Drivers: earnings per online hour, short run against long run, move the online target.
    if (i > 0 && online_ > 0) {
      const double rate = earn_interval_ / (static_cast<double>(online_) * kIntervalMinutes / 60.0);
      earn_short_ = earn_short_ < 0 ? rate : earn_short_ + (rate - earn_short_) / 12.0;
      earn_long_ = earn_long_ < 0 ? rate : earn_long_ + (rate - earn_long_) / 288.0;
    }
    earn_interval_ = 0;
    double factor = 1.0;
    if (i >= 12 && earn_long_ > 0) {
      factor = std::clamp(std::pow(earn_short_ / earn_long_, c_.earnings_elasticity), 0.7, 1.5);
    }
    const double target = online_scale_ * simulator::DriverOnlineFactor(weekday_, hour_) *
                          (day_->rain ? 0.9 : 1.0) * factor;
    DriversLogOnOff(t, target);
    Reposition(t, mult_);
    res_.driver_online_hours += static_cast<double>(online_) * kIntervalMinutes / 60.0;
    IntervalStats& st = res_.intervals[static_cast<size_t>(i)];
    st.online = static_cast<int32_t>(online_);
    st.idle = static_cast<int32_t>(idle_.size());
    // This interval's riders, with the drivers freed between them.
    GenerateRequests(t, &pending);
    double msum = 0;
    for (const PendingRequest& r : pending) {
      ProcessFreeEventsBefore(r.time_us + 1);
      Serve(r, i);
      msum += mult_[static_cast<size_t>(r.zone)];
    }
    if (!pending.empty()) {
      st.mean_multiplier = static_cast<float>(msum / static_cast<double>(pending.size()));
    } else {
      double s = 0;
      for (double m : mult_) s += m;
      st.mean_multiplier = static_cast<float>(s / static_cast<double>(nz));
    }
  }
  return std::move(res_);
}

}  // namespace

Status ValidateMarketConfig(const MarketConfig& c) {
  RETURN_IF_ERROR(simulator::ValidateCityConfig(c.city));
  RETURN_IF_ERROR(ValidatePricingConfig(c.pricing));
  auto bad = [](const std::string& what) { return InvalidArgumentError("market config: " + what); };
  if (!(c.patience_median_minutes > 0 && c.patience_median_minutes <= 120)) {
    return bad("patience must be in (0, 120] minutes");
  }
  if (!(c.max_dispatch_km > 0 && c.max_dispatch_km <= 200)) {
    return bad("max dispatch distance must be in (0, 200] km");
  }
  if (!(c.driver_share > 0 && c.driver_share <= 1)) return bad("driver share must be in (0, 1]");
  if (!(c.earnings_elasticity >= 0 && c.earnings_elasticity <= 5)) {
    return bad("earnings elasticity must be in 0..5");
  }
  if (!(c.reposition_probability >= 0 && c.reposition_probability <= 1)) {
    return bad("reposition probability must be in 0..1");
  }
  if (c.outage_minutes <= 0 || c.outage_minutes > 24 * 60) {
    return bad("outage minutes must be in 1..1440");
  }
  if (c.pricing.policy == PricingPolicy::kForecast && c.forecast == nullptr) {
    return bad("the forecast policy needs a demand forecast");
  }
  if (c.forecast != nullptr && c.forecast->bucket_minutes != kBucketMinutes) {
    return bad("the demand forecast must be in 15-minute buckets, got " +
               std::to_string(c.forecast->bucket_minutes));
  }
  return OkStatus();
}

StatusOr<MarketResult> SimulateMarket(const MarketConfig& config) {
  RETURN_IF_ERROR(ValidateMarketConfig(config));
  ASSIGN_OR_RETURN(const int64_t start_us, ParseCivil(config.city.start_date));
  Market market(config, start_us);
  return market.Run();
}

std::vector<std::vector<int32_t>> ZoneNeighbourIds(const simulator::CityConfig& city) {
  const std::vector<Zone> zones = simulator::BuildZones(city);
  const Geometry geo(40.748);
  std::vector<std::vector<int32_t>> out(zones.size());
  for (size_t i = 0; i < zones.size(); ++i) {
    std::vector<std::pair<double, int32_t>> by_km;
    for (size_t j = 0; j < zones.size(); ++j) {
      by_km.emplace_back(geo.Km(zones[i].lon, zones[i].lat, zones[j].lon, zones[j].lat),
                         static_cast<int32_t>(j));
    }
    std::sort(by_km.begin(), by_km.end());
    for (size_t k = 0; k < std::min<size_t>(kNeighbours, zones.size()); ++k) {
      if (static_cast<size_t>(by_km[k].second) != i) out[i].push_back(by_km[k].second + 1);
    }
  }
  return out;
}

StatusOr<features::DemandBaselines> DemandForecastFromRun(const MarketResult& history) {
  const size_t nz = history.zones.size();
  if (nz == 0 || history.zone_requests.size() % nz != 0) {
    return InvalidArgumentError("demand forecast: the history run has no zones");
  }
  const int64_t nb = static_cast<int64_t>(history.zone_requests.size() / nz);
  std::vector<int32_t> ids;
  for (const Zone& z : history.zones) ids.push_back(z.id);
  ASSIGN_OR_RETURN(features::DemandGrid grid,
                   features::DemandGrid::FromCounts(kBucketMinutes, history.start_us, ids, nb,
                                                    history.zone_requests));
  return features::ComputeDemandBaselines(grid, 0, nb, 0, 0, nullptr);
}

}  // namespace bimride::tasks::pricing
