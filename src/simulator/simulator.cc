#include "simulator/simulator.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <optional>

#include "common/civil_time.h"
#include "simulator/random.h"

namespace bimride::simulator {
namespace {

constexpr double kCentreLon = -73.985;  // Midtown Manhattan
constexpr double kCentreLat = 40.748;
constexpr double kCityRadiusKm = 14.0;
constexpr double kAirportEastKm = 17.0;  // JFK-like: east-south-east of the centre
constexpr double kAirportSouthKm = 11.5;
constexpr double kKmPerDegLat = 111.32;
constexpr double kGoldenAngle = 2.399963229728653;
constexpr double kGravityOffsetKm = 0.8;
constexpr double kHomeZoneShare = 0.55;  // share of requests made by a rider living in the zone
constexpr double kMinTripKm = 0.3;
constexpr double kDurationNoiseSigma = 0.25;
// A rider who turns down a quote at least this many times the usual price, or finds no driver,
// leaves with probability kBadExperienceChurn × their price sensitivity.
constexpr double kChurnPriceRatio = 1.5;
constexpr double kBadExperienceChurn = 0.01;

// Sub-streams of the master seed, so each part draws independently of the others.
enum Stream : uint64_t {
  kZonesStream = 1,
  kRidersStream,
  kDaysStream,
  kRequestsStream,
  kPriceTestStream
};

double KmPerDegLon() { return kKmPerDegLat * std::cos(kCentreLat * M_PI / 180.0); }

// Values are rounded to the precision the CSV files carry, so a city read back from its files
// equals the one simulated in memory.
double RoundTo(double v, double scale) { return std::round(v * scale) / scale; }
double Cents(double usd) { return RoundTo(usd, 100.0); }
double Micro(double degrees) { return RoundTo(degrees, 1e6); }

// How often a quote is a bad experience (a quote at least kChurnPriceRatio times the usual price
// turned down, or a booking no driver served) for a rider of price sensitivity s, per pickup
// zone, and how many quotes each zone sees a day: what the stationary start needs to know of a
// rider's churn hazard beyond their own clock. Measured on a pilot of the city (MeasureBad...).
struct BadExperienceRates {
  static constexpr int kGridSize = 33;  // sensitivities log-spaced over the clamp 0.2 … 4
  static constexpr double kLowSensitivity = 0.2, kHighSensitivity = 4.0;
  std::vector<double> zone_quotes_per_day;
  std::vector<std::array<double, kGridSize>> zone_share;  // per zone, per grid sensitivity
  std::array<double, kGridSize> all_share{};              // over every zone's quotes

  static double GridSensitivity(int k) {
    return kLowSensitivity *
           std::pow(kHighSensitivity / kLowSensitivity, static_cast<double>(k) / (kGridSize - 1));
  }
  static double Interpolate(const std::array<double, kGridSize>& share, double s) {
    const double x = std::log(std::clamp(s, kLowSensitivity, kHighSensitivity) / kLowSensitivity) /
                     std::log(kHighSensitivity / kLowSensitivity) * (kGridSize - 1);
    const int k = std::min(static_cast<int>(x), kGridSize - 2);
    const double f = x - k;
    return (1 - f) * share[static_cast<size_t>(k)] + f * share[static_cast<size_t>(k + 1)];
  }
  double ZoneShare(size_t zone, double s) const { return Interpolate(zone_share[zone], s); }
  double GlobalShare(double s) const { return Interpolate(all_share, s); }
};

// The riders of the city. The active population stays constant: a rider who churns (by their
// own clock, or after a bad experience: a quote far above the usual price they turned down, or
// no driver) is replaced the next day by a newcomer. Requests pick active riders in proportion to
// how often they ride, half of them among residents of the request's zone.
// Owns its random stream, so churn never shifts the draws of the request stream.
class RiderPool {
 public:
  // `stationary` null: the riders present on day 0 are drawn like newcomers (RiderStart::kNew).
  RiderPool(const CityConfig& config, const std::vector<Zone>& zones, Rng rng,
            std::vector<Rider>* riders, const BadExperienceRates* stationary)
      : riders_(riders), rng_(rng), num_zones_(zones.size()) {
    days_ = static_cast<int32_t>(config.days);
    churn_on_day_.resize(static_cast<size_t>(days_));
    std::vector<double> home_weights(zones.size());
    for (size_t i = 0; i < zones.size(); ++i) {
      constexpr double kLivesThere[kNumZoneTypes] = {3.0, 0.5, 1.0, 0.0};
      home_weights[i] = zones[i].weight * kLivesThere[static_cast<int>(zones[i].type)];
    }
    homes_ = AliasTable(home_weights);
    if (homes_.empty()) homes_ = AliasTable(std::vector<double>(zones.size(), 1.0));
    profiles_ = AliasTable(std::vector<double>{0.35, 0.25, 0.30, 0.10});
    const int64_t n = config.riders > 0 ? config.riders : 150 * config.zones;
    riders_->reserve(static_cast<size_t>(n + n / 8));
    if (stationary != nullptr) {
      AddStationaryRiders(n, *stationary);
      return;
    }
    // Riders present at the start joined during the year before it.
    for (int64_t i = 0; i < n; ++i) {
      AddRider(-1 - static_cast<int32_t>(rng_.Below(365)));
    }
  }

  // Replaces the riders who churn today and rebuilds the sampling tables when anything changed.
  void StartDay(int32_t day) {
    for (size_t idx : churn_on_day_[static_cast<size_t>(day)]) {
      if ((*riders_)[idx].churn_day == day) {
        AddRider(day);
        dirty_ = true;
      }
    }
    if (!dirty_) return;
    dirty_ = false;
    std::vector<double> all_weights;
    std::vector<std::vector<double>> zone_weights(num_zones_);
    active_.clear();
    zone_members_.assign(num_zones_, {});
    for (size_t i = 0; i < riders_->size(); ++i) {
      const Rider& r = (*riders_)[i];
      if (r.signup_day > day || (r.churn_day >= 0 && r.churn_day <= day)) continue;
      active_.push_back(i);
      all_weights.push_back(r.trips_per_week);
      zone_members_[static_cast<size_t>(r.home_zone - 1)].push_back(i);
      zone_weights[static_cast<size_t>(r.home_zone - 1)].push_back(r.trips_per_week);
    }
    all_ = AliasTable(all_weights);
    zone_tables_.clear();
    for (size_t z = 0; z < num_zones_; ++z) zone_tables_.emplace_back(zone_weights[z]);
  }

  // Index into the riders of an active rider for a request from `zone_id`. Uses the same number
  // of draws from `rng` whatever the pool holds (common random numbers).
  size_t Pick(int32_t zone_id, Rng& rng) const {
    const size_t z = static_cast<size_t>(zone_id - 1);
    const bool local = rng.Bernoulli(kHomeZoneShare);
    if (local && !zone_tables_[z].empty()) return zone_members_[z][zone_tables_[z].Sample(rng)];
    return active_[all_.Sample(rng)];
  }

  // After a bad experience the rider may leave: from tomorrow on they ride no more.
  void MaybeChurn(size_t idx, int32_t day, double probability) {
    Rider& r = (*riders_)[idx];
    if (r.churn_day >= 0 && r.churn_day <= day + 1) return;
    if (rng_.Uniform() >= probability) return;
    r.churn_day = day + 1;
    if (day + 1 < days_) churn_on_day_[static_cast<size_t>(day + 1)].push_back(idx);
  }

 private:
  // A newcomer's home, profile, trips per week and price sensitivity (no id, no days yet).
  Rider DrawNewcomer(Rng& rng) const {
    // Median trips per week and median price sensitivity of each profile.
    constexpr double kTripsPerWeek[kNumRiderProfiles] = {6.0, 3.0, 0.8, 2.5};
    constexpr double kSensitivity[kNumRiderProfiles] = {0.7, 1.1, 1.0, 1.7};
    Rider r;
    r.home_zone = static_cast<int32_t>(homes_.Sample(rng)) + 1;
    const uint32_t p = profiles_.Sample(rng);
    r.profile = static_cast<RiderProfile>(p);
    r.trips_per_week = static_cast<float>(
        std::max(0.001, RoundTo(rng.LogNormal(std::log(kTripsPerWeek[p]), 0.4), 1000.0)));
    r.price_sensitivity = static_cast<float>(
        RoundTo(std::clamp(rng.LogNormal(std::log(kSensitivity[p]), 0.3), 0.2, 4.0), 1000.0));
    return r;
  }

  void AddRider(int32_t signup_day) {
    Rider r = DrawNewcomer(rng_);
    r.signup_day = signup_day;
    Register(r, std::max(signup_day, 0) + 1 + std::floor(rng_.Exponential(ClockHazard(r))));
  }

  // Gives `r` its id and churn day (day index `churn`, or -1 beyond the city) and adds it.
  void Register(Rider r, double churn) {
    r.id = static_cast<int64_t>(riders_->size()) + 1;
    r.churn_day = churn < days_ ? static_cast<int32_t>(churn) : -1;
    if (r.churn_day >= 0) {
      churn_on_day_[static_cast<size_t>(r.churn_day)].push_back(riders_->size());
    }
    riders_->push_back(r);
    dirty_ = true;
  }

  // The expected daily rate of bad experiences × their churn probability for `r`, with `local`
  // and `global` the quotes per day per unit of trips_per_week routed to residents of r's zone
  // and to everyone (RiderPool::Pick).
  static double BadExperienceHazard(const Rider& r, const BadExperienceRates& rates,
                                    const std::vector<double>& local, double global) {
    const size_t z = static_cast<size_t>(r.home_zone - 1);
    const double s = r.price_sensitivity;
    return kBadExperienceChurn * s * r.trips_per_week *
           (local[z] * rates.ZoneShare(z, s) + global * rates.GlobalShare(s));
  }

  // The day-0 population of a city that has run for ever (RiderStart::kStationary). Each rider
  // has a constant daily churn hazard h (own clock + bad experiences); with every leaver
  // replaced by a newcomer, the riders present are the newcomers weighted by their expected
  // lifetime 1 / h, and a present rider's age is Exponential(h) (memoryless). The bad-experience
  // part depends on how many quotes each rider gets, which depends on who else rides: solved
  // as a fixed point on a pool of candidate newcomers, then the riders are drawn by rejection
  // (accept with probability h_min / h).
  void AddStationaryRiders(int64_t n, const BadExperienceRates& rates) {
    const size_t nz = num_zones_;
    Rng candidates_rng = rng_.Fork(1);
    // Enough candidates that every zone people live in has residents among them.
    std::vector<Rider> pool(std::max<size_t>(4096, 200 * nz));
    for (Rider& r : pool) r = DrawNewcomer(candidates_rng);
    // Quotes per day per unit of trips_per_week: local[z] for residents of zone z, global for
    // everyone; from the total trips_per_week of the population they ride in.
    std::vector<double> local(nz, 0.0);
    double global = 0;
    std::vector<double> weight(pool.size(), 1.0);
    // Damped oscillation: 50 rounds settle the quote rates to ~1e-4 relative (checked on 5, 20
    // and 200 zones and a dear tariff).
    for (int iteration = 0; iteration < 50; ++iteration) {
      std::vector<double> zone_tpw(nz, 0.0);
      double total_w = 0, total_tpw = 0;
      for (size_t i = 0; i < pool.size(); ++i) total_w += weight[i];
      for (size_t i = 0; i < pool.size(); ++i) {
        const double tpw = static_cast<double>(n) * weight[i] / total_w * pool[i].trips_per_week;
        zone_tpw[static_cast<size_t>(pool[i].home_zone - 1)] += tpw;
        total_tpw += tpw;
      }
      double global_quotes = 0;
      for (size_t z = 0; z < nz; ++z) {
        const double q = rates.zone_quotes_per_day[z];
        // Pick: a local draw in a zone where nobody lives goes to everyone.
        const bool residents = zone_tpw[z] > 0;
        local[z] = residents ? kHomeZoneShare * q / zone_tpw[z] : 0.0;
        global_quotes += residents ? (1.0 - kHomeZoneShare) * q : q;
      }
      global = total_tpw > 0 ? global_quotes / total_tpw : 0.0;
      for (size_t i = 0; i < pool.size(); ++i) {
        weight[i] = 1.0 / (ClockHazard(pool[i]) + BadExperienceHazard(pool[i], rates, local, global));
      }
    }
    // No rider's hazard is below the least sensitive commuter's own clock.
    const double h_min = ClockHazard(Rider{0, 1, RiderProfile::kCommuter, 1, 0.2f});
    for (int64_t i = 0; i < n; ++i) {
      Rider r;
      double h = 0;
      do {
        r = DrawNewcomer(rng_);
        h = ClockHazard(r) + BadExperienceHazard(r, rates, local, global);
      } while (rng_.Uniform() * h > h_min);
      const double age = 1.0 + std::floor(rng_.Exponential(h));
      r.signup_day = static_cast<int32_t>(-std::min(age, 1e6));
      // The own clock is memoryless too: what is left of it is a fresh draw.
      Register(r, 1 + std::floor(rng_.Exponential(ClockHazard(r))));
    }
  }

  // The rider's own churn clock (per day): price-sensitive riders leave sooner.
  static double ClockHazard(const Rider& r) {
    constexpr double kWeeklyChurn[kNumRiderProfiles] = {0.01, 0.02, 0.04, 0.03};
    return kWeeklyChurn[static_cast<int>(r.profile)] / 7.0 * (0.5 + 0.5 * r.price_sensitivity);
  }

  std::vector<Rider>* riders_;
  Rng rng_;
  size_t num_zones_;
  int32_t days_ = 0;
  AliasTable homes_, profiles_;
  std::vector<std::vector<size_t>> churn_on_day_;  // rider indices whose churn clock rings
  bool dirty_ = true;
  std::vector<size_t> active_;
  AliasTable all_;
  std::vector<std::vector<size_t>> zone_members_;
  std::vector<AliasTable> zone_tables_;
};

std::vector<DayConditions> BuildDays(const CityConfig& config, const std::vector<Zone>& zones,
                                     int64_t start_us, Rng rng) {
  std::vector<double> venue_weights(zones.size());
  for (size_t i = 0; i < zones.size(); ++i) {
    constexpr double kVenue[kNumZoneTypes] = {0.2, 2.0, 3.0, 0.0};
    venue_weights[i] = zones[i].weight * kVenue[static_cast<int>(zones[i].type)];
  }
  AliasTable venues(venue_weights);
  if (venues.empty()) venues = AliasTable(std::vector<double>(zones.size(), 1.0));
  std::vector<DayConditions> days(static_cast<size_t>(config.days));
  for (int64_t d = 0; d < config.days; ++d) {
    DayConditions& day = days[static_cast<size_t>(d)];
    day.day_start_us = start_us + d * kMicrosPerDay;
    day.rain = rng.Bernoulli(config.rain_probability);
    if (rng.Bernoulli(config.event_probability)) {
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

// Destination sampling tables: the destination factors of the 168 (weekday, hour) slots collapse
// into a few distinct classes; each class holds one cumulative distribution per origin.
struct DestinationTables {
  int num_zones = 0;
  std::array<std::array<int, 24>, 7> class_of{};
  std::vector<std::vector<float>> cdf;  // [class][origin * num_zones + dest]

  int32_t Sample(int weekday, int hour, int32_t origin_id, Rng& rng) const {
    const float* row =
        cdf[class_of[weekday][hour]].data() + static_cast<size_t>(origin_id - 1) * num_zones;
    const float u = static_cast<float>(rng.Uniform()) * row[num_zones - 1];
    const float* it = std::upper_bound(row, row + num_zones, u);
    return static_cast<int32_t>(std::min<ptrdiff_t>(it - row, num_zones - 1)) + 1;
  }
};

DestinationTables BuildDestinationTables(const std::vector<Zone>& zones, double beta) {
  DestinationTables t;
  t.num_zones = static_cast<int>(zones.size());
  std::map<std::array<double, kNumZoneTypes>, int> classes;
  std::vector<std::pair<int, int>> representative;  // (weekday, hour) of each class
  for (int wd = 0; wd < 7; ++wd) {
    for (int h = 0; h < 24; ++h) {
      std::array<double, kNumZoneTypes> key;
      for (int ty = 0; ty < kNumZoneTypes; ++ty) {
        key[ty] = DestinationFactor(static_cast<ZoneType>(ty), wd, h);
      }
      auto [it, inserted] = classes.emplace(key, static_cast<int>(classes.size()));
      if (inserted) representative.emplace_back(wd, h);
      t.class_of[wd][h] = it->second;
    }
  }
  const size_t n = zones.size();
  t.cdf.resize(representative.size());
  for (size_t c = 0; c < representative.size(); ++c) {
    t.cdf[c].resize(n * n);
    for (size_t o = 0; o < n; ++o) {
      std::vector<double> w =
          DestinationWeights(zones, static_cast<int32_t>(o + 1), representative[c].first,
                             representative[c].second, beta);
      double sum = 0;
      for (size_t d = 0; d < n; ++d) {
        sum += w[d];
        t.cdf[c][o * n + d] = static_cast<float>(sum);
      }
    }
  }
  return t;
}

// Typical distance to the nearest other zone: how far pickups spread around a zone's centre.
std::vector<double> ZoneSpreadKm(const std::vector<Zone>& zones) {
  std::vector<double> spread(zones.size(), 1.0);
  for (size_t i = 0; i < zones.size(); ++i) {
    double nearest = 1e9;
    for (size_t j = 0; j < zones.size(); ++j) {
      if (i != j)
        nearest = std::min(nearest, RoadKm(zones[i].lon, zones[i].lat, zones[j].lon, zones[j].lat));
    }
    spread[i] = std::clamp(0.35 * nearest, 0.2, 1.5);
  }
  return spread;
}

// A pending request within the current hour, before it is served in time order.
struct PendingRequest {
  int64_t time_us;
  int32_t zone;
  int32_t supply_index;
  bool operator<(const PendingRequest& o) const {
    return time_us != o.time_us ? time_us < o.time_us : zone < o.zone;
  }
};

}  // namespace

std::vector<Zone> BuildZones(const CityConfig& config) {
  Rng rng = Rng(config.seed).Fork(kZonesStream);
  const int64_t total = config.zones;
  const bool has_airport = total >= 10;
  const int64_t n = has_airport ? total - 1 : total;
  const int64_t num_business = std::max<int64_t>(1, std::llround(0.2 * static_cast<double>(n)));
  const int64_t num_nightlife = std::llround(0.15 * static_cast<double>(n));
  const double km_per_deg_lon = KmPerDegLon();
  std::vector<Zone> zones;
  zones.reserve(static_cast<size_t>(total));
  int counts[kNumZoneTypes] = {0, 0, 0, 0};
  for (int64_t i = 0; i < n; ++i) {
    // Sunflower spiral with radius growing faster than sqrt: zones are dense in the core.
    const double u = (static_cast<double>(i) + 0.5) / static_cast<double>(n);
    const double r = kCityRadiusKm * std::pow(u, 0.75) * (1.0 + 0.08 * rng.Normal());
    const double angle = static_cast<double>(i) * kGoldenAngle + 0.15 * rng.Normal();
    Zone z;
    z.id = static_cast<int32_t>(i + 1);
    z.lon = Micro(kCentreLon + r * std::cos(angle) / km_per_deg_lon);
    z.lat = Micro(kCentreLat + r * std::sin(angle) / kKmPerDegLat);
    z.type = i < num_business                   ? ZoneType::kBusiness
             : i < num_business + num_nightlife ? ZoneType::kNightlife
                                                : ZoneType::kResidential;
    constexpr double kTypeWeight[kNumZoneTypes] = {1.0, 3.0, 2.0, 4.0};
    z.weight = RoundTo(
        kTypeWeight[static_cast<int>(z.type)] * std::exp(-r / 10.0) * rng.LogNormal(0.0, 0.35),
        1e4);
    zones.push_back(std::move(z));
  }
  if (has_airport) {
    Zone a;
    a.id = static_cast<int32_t>(total);
    a.lon = Micro(kCentreLon + kAirportEastKm / km_per_deg_lon);
    a.lat = Micro(kCentreLat - kAirportSouthKm / kKmPerDegLat);
    a.type = ZoneType::kAirport;
    a.weight = 2.0;
    zones.push_back(std::move(a));
  }
  for (Zone& z : zones) {
    static constexpr const char* kNames[kNumZoneTypes] = {"Residential", "Business", "Nightlife",
                                                          "Airport"};
    const int k = ++counts[static_cast<int>(z.type)];
    z.name = std::string(kNames[static_cast<int>(z.type)]) + " " + std::to_string(k);
  }
  return zones;
}

std::vector<double> DestinationWeights(const std::vector<Zone>& zones, int32_t origin_id,
                                       int weekday, int hour, double beta) {
  std::vector<double> w(zones.size(), 0.0);
  if (origin_id < 1 || origin_id > static_cast<int32_t>(zones.size())) return w;
  const Zone& o = zones[static_cast<size_t>(origin_id - 1)];
  for (size_t j = 0; j < zones.size(); ++j) {
    const Zone& d = zones[j];
    const double km = RoadKm(o.lon, o.lat, d.lon, d.lat);
    w[j] =
        d.weight * DestinationFactor(d.type, weekday, hour) / std::pow(km + kGravityOffsetKm, beta);
    if (d.id == o.id) w[j] *= d.type == ZoneType::kAirport ? 0.0 : 0.3;  // few intra-zone rides
  }
  if (zones.size() == 1) w[0] = 1.0;
  return w;
}

namespace {

constexpr int64_t kPilotDays = 28;

// Runs the first kPilotDays days of `config`'s city with the newcomer start and measures, per
// pickup zone, the quotes a day and the share of quotes that are a bad experience for a rider
// of each grid sensitivity: (quote ≥ kChurnPriceRatio × usual) × (1 − P(accept)) + P(accept) ×
// (share of the zone-hour's bookings no driver served). Requests, surges and supply do not
// depend on who rides, so the pilot's are the city's own.
StatusOr<BadExperienceRates> MeasureBadExperienceRates(const CityConfig& config) {
  CityConfig pilot_config = config;
  pilot_config.rider_start = RiderStart::kNew;
  pilot_config.days = std::min(config.days, kPilotDays);
  ASSIGN_OR_RETURN(const SimulatedCity pilot, Simulate(pilot_config));
  const size_t nz = pilot.zones.size();
  std::vector<int32_t> accepted(pilot.supply.size(), 0);
  const int64_t start_us = pilot.days.front().day_start_us;
  auto supply_index = [&](const QuoteRecord& q) {
    return static_cast<size_t>((q.request_time_us - start_us) / kMicrosPerHour) * nz +
           static_cast<size_t>(q.pickup_zone - 1);
  };
  for (const QuoteRecord& q : pilot.quotes) accepted[supply_index(q)] += q.accepted ? 1 : 0;
  BadExperienceRates rates;
  rates.zone_quotes_per_day.assign(nz, 0.0);
  rates.zone_share.assign(nz, {});
  std::array<double, BadExperienceRates::kGridSize> grid;
  for (int k = 0; k < BadExperienceRates::kGridSize; ++k) {
    grid[static_cast<size_t>(k)] = BadExperienceRates::GridSensitivity(k);
  }
  const Tariff reference_tariff;
  for (const QuoteRecord& q : pilot.quotes) {
    const size_t si = supply_index(q);
    const size_t z = static_cast<size_t>(q.pickup_zone - 1);
    const double unserved =
        accepted[si] > 0 ? 1.0 - static_cast<double>(pilot.supply[si].trips) / accepted[si] : 0.0;
    const double km = q.estimated_miles / kMilesPerKm;
    const double reference = Fare(reference_tariff, km, q.estimated_minutes, 1.0);
    const double ratio = q.quoted_fare / reference;
    const bool dear = q.quoted_fare >= kChurnPriceRatio * reference;
    for (size_t k = 0; k < grid.size(); ++k) {
      const double accept = AcceptProbability(ratio, grid[k]);
      rates.zone_share[z][k] += (dear ? 1.0 - accept : 0.0) + accept * unserved;
    }
    rates.zone_quotes_per_day[z] += 1.0;
  }
  const double total = static_cast<double>(pilot.quotes.size());
  for (size_t z = 0; z < nz; ++z) {
    for (size_t k = 0; k < grid.size(); ++k) {
      rates.all_share[k] += total > 0 ? rates.zone_share[z][k] / total : 0.0;
      if (rates.zone_quotes_per_day[z] > 0) rates.zone_share[z][k] /= rates.zone_quotes_per_day[z];
    }
    rates.zone_quotes_per_day[z] /= static_cast<double>(pilot_config.days);
  }
  return rates;
}

}  // namespace

StatusOr<SimulatedCity> Simulate(const CityConfig& config) {
  RETURN_IF_ERROR(ValidateCityConfig(config));
  std::optional<BadExperienceRates> stationary;
  if (config.rider_start == RiderStart::kStationary) {
    ASSIGN_OR_RETURN(stationary, MeasureBadExperienceRates(config));
  }
  ASSIGN_OR_RETURN(const int64_t start_us, ParseCivil(config.start_date));
  const Rng master(config.seed);
  SimulatedCity city;
  city.config = config;
  city.zones = BuildZones(config);
  RiderPool riders(config, city.zones, master.Fork(kRidersStream), &city.riders,
                   stationary ? &*stationary : nullptr);
  city.days = BuildDays(config, city.zones, start_us, master.Fork(kDaysStream));
  Rng rng = master.Fork(kRequestsStream);
  // Its own stream: the price test never shifts the draws of the requests.
  Rng price_test_rng = master.Fork(kPriceTestStream);
  const double log_spread = std::log(config.price_test_spread);

  const std::vector<Zone>& zones = city.zones;
  const size_t nz = zones.size();
  const DestinationTables destinations = BuildDestinationTables(zones, config.gravity_beta);
  const std::vector<double> spread_km = ZoneSpreadKm(zones);
  const double km_per_deg_lon = KmPerDegLon();

  // Scale so that a dry, event-free week averages requests_per_zone_day per zone and day.
  std::vector<double> weekly_factor(nz, 0.0);
  double weekly_total = 0;
  for (size_t z = 0; z < nz; ++z) {
    for (int wd = 0; wd < 7; ++wd) {
      for (int h = 0; h < 24; ++h) weekly_factor[z] += RequestRateFactor(zones[z].type, wd, h);
    }
    weekly_total += zones[z].weight * weekly_factor[z];
  }
  const double rate_scale =
      config.requests_per_zone_day * 7.0 * static_cast<double>(nz) / weekly_total;
  double driver_week_mean = 0;
  for (int wd = 0; wd < 7; ++wd) {
    for (int h = 0; h < 24; ++h) driver_week_mean += DriverOnlineFactor(wd, h) / 168.0;
  }
  constexpr double kRidesPerDriverHour = 2.0;
  std::vector<double> drivers_scale(nz);
  for (size_t z = 0; z < nz; ++z) {
    const double mean_hourly = rate_scale * zones[z].weight * weekly_factor[z] / 168.0;
    drivers_scale[z] =
        config.driver_supply_ratio * mean_hourly / kRidesPerDriverHour / driver_week_mean;
  }

  const Tariff reference_tariff;  // what riders consider a normal price
  const double expected_requests = config.requests_per_zone_day * static_cast<double>(nz) *
                                   static_cast<double>(config.days) * 1.1;
  city.quotes.reserve(static_cast<size_t>(expected_requests));
  city.trips.Reserve(static_cast<size_t>(expected_requests * 0.85));
  city.trips.source = data::TripSource::kSimulator;
  city.supply.reserve(static_cast<size_t>(config.days) * 24 * nz);

  std::vector<PendingRequest> pending;
  std::vector<int32_t> capacity_units(nz);
  std::vector<float> raw_surge;  // per supply record of the current hour
  for (size_t day_index = 0; day_index < city.days.size(); ++day_index) {
    const DayConditions& day = city.days[day_index];
    const int32_t day_number = static_cast<int32_t>(day_index);
    riders.StartDay(day_number);
    const int weekday = DayOfWeek(day.day_start_us);
    const double demand_weather = day.rain ? 1.25 : 1.0;
    const double supply_weather = day.rain ? 0.9 : 1.0;
    const double rides_per_driver = day.rain ? 1.6 : kRidesPerDriverHour;
    for (int hour = 0; hour < 24; ++hour) {
      const int64_t hour_start = day.day_start_us + hour * kMicrosPerHour;
      const size_t supply_base = city.supply.size();
      pending.clear();
      raw_surge.assign(nz, 1.0f);
      for (size_t z = 0; z < nz; ++z) {
        const Zone& zone = zones[z];
        double lambda =
            rate_scale * zone.weight * RequestRateFactor(zone.type, weekday, hour) * demand_weather;
        if (day.event_zone == zone.id) {
          if (hour == day.event_end_hour) lambda += 0.06 * day.event_attendance;
          if (hour == day.event_end_hour + 1) lambda += 0.015 * day.event_attendance;
        }
        const int64_t requests = rng.Poisson(lambda);
        const int64_t drivers =
            rng.Poisson(drivers_scale[z] * DriverOnlineFactor(weekday, hour) * supply_weather);
        const double capacity = static_cast<double>(drivers) * rides_per_driver;
        SupplyRecord s;
        s.hour_start_us = hour_start;
        s.zone = zone.id;
        s.drivers = static_cast<int32_t>(drivers);
        s.requests = static_cast<int32_t>(requests);
        s.surge = static_cast<float>(
            SurgeMultiplier(static_cast<double>(requests), capacity, config.max_surge));
        raw_surge[z] = static_cast<float>(RoundTo(
            RawSurge(static_cast<double>(requests), capacity, config.max_surge), 1e4));
        city.supply.push_back(s);
        capacity_units[z] = static_cast<int32_t>(std::floor(capacity)) +
                            (rng.Uniform() < capacity - std::floor(capacity) ? 1 : 0);
        for (int64_t k = 0; k < requests; ++k) {
          const int64_t second = static_cast<int64_t>(rng.Below(3600));
          pending.push_back({hour_start + second * kMicrosPerSecond, zone.id,
                             static_cast<int32_t>(supply_base + z)});
        }
      }
      std::sort(pending.begin(), pending.end());
      for (const PendingRequest& p : pending) {
        const size_t zi = static_cast<size_t>(p.zone - 1);
        SupplyRecord& supply = city.supply[static_cast<size_t>(p.supply_index)];
        const size_t rider_index = riders.Pick(p.zone, rng);
        const Rider* rider = &city.riders[rider_index];
        const int32_t dest = destinations.Sample(weekday, hour, p.zone, rng);
        const Zone& from = zones[zi];
        const Zone& to = zones[static_cast<size_t>(dest - 1)];
        const double from_spread = spread_km[zi];
        const double to_spread = spread_km[static_cast<size_t>(dest - 1)];
        const double pu_lon = Micro(from.lon + from_spread * rng.Normal() / km_per_deg_lon);
        const double pu_lat = Micro(from.lat + from_spread * rng.Normal() / kKmPerDegLat);
        const double do_lon = Micro(to.lon + to_spread * rng.Normal() / km_per_deg_lon);
        const double do_lat = Micro(to.lat + to_spread * rng.Normal() / kKmPerDegLat);
        // Metered distance in whole hundredths of a mile, as the CSV carries it.
        const double miles = std::max(
            0.01,
            RoundTo(std::max(kMinTripKm, RoadKm(pu_lon, pu_lat, do_lon, do_lat)) * kMilesPerKm,
                    100.0));
        const double km = miles / kMilesPerKm;
        const double est_minutes = RoundTo(ExpectedMinutes(km, weekday, hour, day.rain), 100.0);
        const double surge = supply.surge;
        double multiplier = 1.0;
        if (config.price_test_fraction > 0) {
          const bool tested = price_test_rng.Uniform() < config.price_test_fraction;
          const double m = RoundTo(std::exp(log_spread * (2.0 * price_test_rng.Uniform() - 1.0)),
                                   1000.0);
          if (tested) multiplier = m;
        }
        const double quote =
            multiplier == 1.0 ? Cents(Fare(config.tariff, km, est_minutes, surge))
                              : Cents(Fare(config.tariff, km, est_minutes, surge) * multiplier);
        const double reference = Fare(reference_tariff, km, est_minutes, 1.0);
        const bool accepted =
            rng.Bernoulli(AcceptProbability(quote / reference, rider->price_sensitivity));
        const bool served = accepted && supply.trips < capacity_units[zi];
        if ((!accepted && quote >= kChurnPriceRatio * reference) || (accepted && !served)) {
          riders.MaybeChurn(rider_index, day_number,
                            kBadExperienceChurn * rider->price_sensitivity);
        }

        QuoteRecord q;
        q.request_time_us = p.time_us;
        q.rider_id = rider->id;
        q.pickup_zone = p.zone;
        q.dropoff_zone = dest;
        q.estimated_miles = static_cast<float>(miles);
        q.estimated_minutes = static_cast<float>(est_minutes);
        q.quoted_fare = static_cast<float>(quote);
        q.surge = static_cast<float>(surge);
        q.surge_raw = raw_surge[zi];
        q.price_multiplier = static_cast<float>(multiplier);
        q.accepted = accepted;
        q.served = served;
        // Drawn for every quote, served or not, so that cities differing only in prices or
        // supply see the very same requests (common random numbers for what-if comparisons).
        const double noise =
            rng.LogNormal(-0.5 * kDurationNoiseSigma * kDurationNoiseSigma, kDurationNoiseSigma);
        static constexpr int16_t kPassengers[10] = {1, 1, 1, 1, 1, 1, 1, 2, 2, 3};
        int16_t passengers = kPassengers[rng.Below(10)];
        if (rng.Uniform() < 0.4 && passengers == 3) passengers = 4;
        if (served) {
          ++supply.trips;
          const double minutes = est_minutes * noise;
          const double fare = Cents(Fare(config.tariff, km, minutes, surge) * multiplier);
          const double total =
              Cents(fare + config.tariff.booking_fee + fare * config.tariff.tax_rate);
          data::TripTable& t = city.trips;
          t.pickup_time_us.push_back(p.time_us);
          t.dropoff_time_us.push_back(p.time_us + std::llround(minutes * 60.0) * kMicrosPerSecond);
          t.pickup_zone.push_back(p.zone);
          t.dropoff_zone.push_back(dest);
          t.pickup_lon.push_back(pu_lon);
          t.pickup_lat.push_back(pu_lat);
          t.dropoff_lon.push_back(do_lon);
          t.dropoff_lat.push_back(do_lat);
          t.distance_miles.push_back(static_cast<float>(miles));
          t.fare.push_back(static_cast<float>(fare));
          t.total.push_back(static_cast<float>(total));
          t.surge.push_back(static_cast<float>(surge));
          t.passengers.push_back(passengers);
          t.vendor.push_back(-1);
          t.rider_id.push_back(rider->id);
          q.trip_id = static_cast<int64_t>(t.size());
        }
        city.quotes.push_back(q);
      }
    }
  }
  return city;
}

}  // namespace bimride::simulator
