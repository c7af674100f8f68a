#include "simulator/simulator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

#include "common/civil_time.h"

namespace bimride::simulator {
namespace {

// Small cities keep these tests fast; two weeks give every weekday twice.
CityConfig SmallCity() {
  CityConfig c;
  c.days = 14;
  c.zones = 12;
  c.seed = 1234;
  c.rain_probability = 0;
  c.event_probability = 0;
  return c;
}

SimulatedCity MustSimulate(const CityConfig& config) {
  StatusOr<SimulatedCity> city = Simulate(config);
  EXPECT_TRUE(city.ok()) << city.status().ToString();
  return city.ok() ? std::move(city).value() : SimulatedCity{};
}

// Mean requests per (zone-summed) hour, over the days whose weekday passes `weekday_ok`.
template <typename Pred>
double MeanRequestsAt(const SimulatedCity& city, int hour, Pred weekday_ok) {
  std::map<int64_t, int64_t> per_hour;  // hour start -> requests over all zones
  for (const SupplyRecord& s : city.supply) {
    if (HourOfDay(s.hour_start_us) == hour && weekday_ok(DayOfWeek(s.hour_start_us))) {
      per_hour[s.hour_start_us] += s.requests;
    }
  }
  double sum = 0;
  for (const auto& [t, n] : per_hour) sum += static_cast<double>(n);
  return per_hour.empty() ? 0 : sum / static_cast<double>(per_hour.size());
}

bool Weekday(int wd) { return wd < 5; }
bool Weekend(int wd) { return wd >= 5; }

TEST(SimulatorTest, WeekdayRushHoursFarExceedFourAm) {
  const SimulatedCity city = MustSimulate(SmallCity());
  const double four = MeanRequestsAt(city, 4, Weekday);
  const double eight = MeanRequestsAt(city, 8, Weekday);
  const double eighteen = MeanRequestsAt(city, 18, Weekday);
  ASSERT_GT(four, 0);
  EXPECT_GT(eight / four, 5.0);
  EXPECT_GT(eighteen / four, 5.0);
}

TEST(SimulatorTest, WeekendNightsAreBusierThanWeekdayNights) {
  const SimulatedCity city = MustSimulate(SmallCity());
  EXPECT_GT(MeanRequestsAt(city, 1, Weekend), 2.0 * MeanRequestsAt(city, 1, Weekday));
  // …while weekend mornings are quieter than weekday mornings.
  EXPECT_LT(MeanRequestsAt(city, 8, Weekend), MeanRequestsAt(city, 8, Weekday));
}

TEST(SimulatorTest, ExpectedDurationGrowsWithDistanceAndCongestion) {
  for (double km : {0.5, 2.0, 5.0, 15.0, 30.0}) {
    EXPECT_LT(ExpectedMinutes(km, 2, 3, false), ExpectedMinutes(km * 1.5, 2, 3, false));
    // Same distance: Wednesday 8 am (rush hour) is slower than 3 am, and rain slows both.
    EXPECT_GT(ExpectedMinutes(km, 2, 8, false), 1.4 * ExpectedMinutes(km, 2, 3, false) - 1.5);
    EXPECT_GT(ExpectedMinutes(km, 2, 8, true), ExpectedMinutes(km, 2, 8, false));
  }
}

TEST(SimulatorTest, SimulatedTripsTakeLongerWhenLongerAndInRushHour) {
  const SimulatedCity city = MustSimulate(SmallCity());
  const data::TripTable& t = city.trips;
  double short_sum = 0, long_sum = 0, rush_pace = 0, night_pace = 0;
  int64_t short_n = 0, long_n = 0, rush_n = 0, night_n = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    const double miles = t.distance_miles[i];
    const double minutes = t.DurationMinutes(i);
    ASSERT_GT(minutes, 0);
    if (miles >= 1 && miles < 2) short_sum += minutes, ++short_n;
    if (miles >= 5 && miles < 7) long_sum += minutes, ++long_n;
    if (miles >= 2 && miles < 4 && DayOfWeek(t.pickup_time_us[i]) < 5) {
      const int h = HourOfDay(t.pickup_time_us[i]);
      if (h == 8 || h == 17) rush_pace += minutes / miles, ++rush_n;
      if (h >= 1 && h <= 4) night_pace += minutes / miles, ++night_n;
    }
  }
  ASSERT_GT(short_n, 100);
  ASSERT_GT(long_n, 100);
  ASSERT_GT(rush_n, 50);
  ASSERT_GT(night_n, 50);
  EXPECT_GT(long_sum / long_n, 2.0 * short_sum / short_n);
  EXPECT_GT(rush_pace / rush_n, 1.5 * night_pace / night_n);  // minutes per mile
}

TEST(SimulatorTest, AcceptanceFallsWithPriceAndSensitivity) {
  EXPECT_GT(AcceptProbability(1.0, 1.0), 0.8);
  for (double ratio : {0.5, 1.0, 1.5, 2.0, 3.0}) {
    EXPECT_GT(AcceptProbability(ratio, 1.0), AcceptProbability(ratio * 1.2, 1.0));
    EXPECT_GT(AcceptProbability(ratio, 0.7), AcceptProbability(ratio, 1.7));
  }
  EXPECT_LT(AcceptProbability(3.0, 1.0), 0.5);
}

TEST(SimulatorTest, SurgedQuotesAndSensitiveRidersAcceptLess) {
  const SimulatedCity city = MustSimulate(SmallCity());
  int64_t plain = 0, plain_ok = 0, surged = 0, surged_ok = 0;
  int64_t relaxed = 0, relaxed_ok = 0, sensitive = 0, sensitive_ok = 0;
  for (const QuoteRecord& q : city.quotes) {
    if (q.surge <= 1.0f) plain++, plain_ok += q.accepted;
    if (q.surge >= 2.0f) surged++, surged_ok += q.accepted;
    const Rider& r = city.riders[static_cast<size_t>(q.rider_id - 1)];
    ASSERT_EQ(r.id, q.rider_id);
    if (q.surge <= 1.0f && r.price_sensitivity < 0.8f) relaxed++, relaxed_ok += q.accepted;
    if (q.surge <= 1.0f && r.price_sensitivity > 1.4f) sensitive++, sensitive_ok += q.accepted;
  }
  ASSERT_GT(surged, 200);
  ASSERT_GT(sensitive, 200);
  EXPECT_GT(plain_ok / double(plain), surged_ok / double(surged) + 0.1);
  EXPECT_GT(relaxed_ok / double(relaxed), sensitive_ok / double(sensitive) + 0.05);
}

TEST(SimulatorTest, HigherBaseFareYieldsFewerTrips) {
  CityConfig cheap = SmallCity();
  CityConfig dear = SmallCity();
  dear.tariff.base_fare = cheap.tariff.base_fare + 8.0;
  const SimulatedCity a = MustSimulate(cheap);
  const SimulatedCity b = MustSimulate(dear);
  // Same seed, same requests: only the riders' answers differ.
  EXPECT_EQ(a.quotes.size(), b.quotes.size());
  EXPECT_LT(static_cast<double>(b.trips.size()), 0.9 * static_cast<double>(a.trips.size()));
}

bool ActiveOn(const Rider& r, int32_t day) {
  return r.signup_day <= day && (r.churn_day < 0 || day < r.churn_day);
}

TEST(SimulatorTest, RidersRideOnlyWhileActiveAndChurnedRidersAreReplaced) {
  const SimulatedCity city = MustSimulate(SmallCity());
  const int64_t start = city.days[0].day_start_us;
  for (const QuoteRecord& q : city.quotes) {
    const Rider& r = city.riders[static_cast<size_t>(q.rider_id - 1)];
    const int32_t day = static_cast<int32_t>((q.request_time_us - start) / kMicrosPerDay);
    ASSERT_TRUE(ActiveOn(r, day)) << "rider " << r.id << " on day " << day;
  }
  int64_t churned = 0;
  for (const Rider& r : city.riders) churned += r.churn_day >= 0;
  EXPECT_GT(churned, 0);
  EXPECT_GT(city.riders.size(), 12u * 150);  // newcomers joined
  for (int32_t day = 0; day < 14; ++day) {
    int64_t active = 0;
    for (const Rider& r : city.riders) active += ActiveOn(r, day);
    EXPECT_EQ(active, 12 * 150) << "day " << day;
  }
}

// Share of riders (present at the start) who churned, among those `pick` selects.
template <typename Pred>
double ChurnShare(const SimulatedCity& city, Pred pick) {
  int64_t n = 0, churned = 0;
  for (const Rider& r : city.riders) {
    if (r.signup_day >= 0 || !pick(r)) continue;
    ++n;
    churned += r.churn_day >= 0;
  }
  return n > 0 ? static_cast<double>(churned) / static_cast<double>(n) : 0;
}

TEST(SimulatorTest, HighPricesAndPriceSensitivityDriveRidersAway) {
  CityConfig cheap = SmallCity();
  CityConfig dear = SmallCity();
  dear.tariff.base_fare = cheap.tariff.base_fare + 12.0;
  const SimulatedCity a = MustSimulate(cheap);
  const SimulatedCity b = MustSimulate(dear);
  auto everyone = [](const Rider&) { return true; };
  EXPECT_GT(ChurnShare(b, everyone), 1.3 * ChurnShare(a, everyone));
  EXPECT_GT(ChurnShare(a, [](const Rider& r) { return r.price_sensitivity > 1.4f; }),
            1.5 * ChurnShare(a, [](const Rider& r) { return r.price_sensitivity < 0.8f; }));
}

TEST(SimulatorTest, RainRaisesDemand) {
  CityConfig dry = SmallCity();
  CityConfig wet = SmallCity();
  wet.rain_probability = 1.0;
  const SimulatedCity a = MustSimulate(dry);
  const SimulatedCity b = MustSimulate(wet);
  for (const DayConditions& d : b.days) EXPECT_TRUE(d.rain);
  EXPECT_GT(static_cast<double>(b.quotes.size()), 1.15 * static_cast<double>(a.quotes.size()));
}

TEST(SimulatorTest, EventZoneSpikesWhenTheEventEnds) {
  CityConfig c = SmallCity();
  c.event_probability = 1.0;
  const SimulatedCity city = MustSimulate(c);
  std::map<std::pair<int64_t, int32_t>, int32_t> requests;  // (hour start, zone) -> requests
  for (const SupplyRecord& s : city.supply) requests[{s.hour_start_us, s.zone}] = s.requests;
  for (const DayConditions& d : city.days) {
    ASSERT_GT(d.event_zone, 0);
    const int64_t end = d.day_start_us + d.event_end_hour * kMicrosPerHour;
    const int32_t at_end = requests[{end, d.event_zone}];
    const int32_t before = requests[{end - kMicrosPerHour, d.event_zone}];
    EXPECT_GT(at_end, 3 * before + 50) << FormatCivil(end) << " zone " << d.event_zone;
  }
}

TEST(SimulatorTest, GravitySendsMoreTripsToAttractiveAndNearZones) {
  std::vector<Zone> zones(3);
  zones[0] = {1, "origin", -73.98, 40.75, ZoneType::kResidential, 1.0};
  zones[1] = {2, "near", -73.97, 40.75, ZoneType::kResidential, 1.0};
  zones[2] = {3, "far", -73.90, 40.75, ZoneType::kResidential, 1.0};
  std::vector<double> w = DestinationWeights(zones, 1, 2, 12, 1.6);
  EXPECT_GT(w[1], 2 * w[2]);
  zones[2].weight = 50.0;  // a far zone that is attractive enough wins
  w = DestinationWeights(zones, 1, 2, 12, 1.6);
  EXPECT_GT(w[2], w[1]);
  // With no distance decay only attractiveness counts.
  w = DestinationWeights(zones, 1, 2, 12, 0.0);
  EXPECT_NEAR(w[2] / w[1], 50.0, 1e-9);
}

TEST(SimulatorTest, MorningTripsHeadToBusinessZonesEveningTripsHome) {
  const SimulatedCity city = MustSimulate(SmallCity());
  int64_t morning_to_business = 0, morning = 0, evening_to_business = 0, evening = 0;
  for (size_t i = 0; i < city.trips.size(); ++i) {
    const int64_t t = city.trips.pickup_time_us[i];
    if (DayOfWeek(t) >= 5) continue;
    const bool to_business =
        city.zones[static_cast<size_t>(city.trips.dropoff_zone[i] - 1)].type == ZoneType::kBusiness;
    const int h = HourOfDay(t);
    if (h >= 7 && h <= 9) morning++, morning_to_business += to_business;
    if (h >= 17 && h <= 19) evening++, evening_to_business += to_business;
  }
  ASSERT_GT(morning, 500);
  EXPECT_GT(morning_to_business / double(morning), 1.5 * evening_to_business / double(evening));
}

TEST(SimulatorTest, BusierDestinationsAreTheMoreAttractiveOnes) {
  const SimulatedCity city = MustSimulate(SmallCity());
  std::vector<int64_t> arrivals(city.zones.size(), 0);
  for (int32_t z : city.trips.dropoff_zone) arrivals[static_cast<size_t>(z - 1)]++;
  // Among residential zones (same time profile), the heaviest gets more arrivals than the
  // lightest.
  int heavy = -1, light = -1;
  for (size_t i = 0; i < city.zones.size(); ++i) {
    if (city.zones[i].type != ZoneType::kResidential) continue;
    if (heavy < 0 || city.zones[i].weight > city.zones[heavy].weight) heavy = static_cast<int>(i);
    if (light < 0 || city.zones[i].weight < city.zones[light].weight) light = static_cast<int>(i);
  }
  ASSERT_GE(heavy, 0);
  ASSERT_NE(heavy, light);
  ASSERT_GT(city.zones[heavy].weight, 1.3 * city.zones[light].weight);
  EXPECT_GT(arrivals[heavy], arrivals[light]);
}

TEST(SimulatorTest, SurgeRisesWhenRequestsExceedSupply) {
  EXPECT_EQ(SurgeMultiplier(10, 20, 3.0), 1.0);
  EXPECT_GT(SurgeMultiplier(30, 20, 3.0), 1.0);
  EXPECT_GT(SurgeMultiplier(40, 20, 3.0), SurgeMultiplier(30, 20, 3.0));
  EXPECT_EQ(SurgeMultiplier(400, 20, 3.0), 3.0);
  EXPECT_EQ(SurgeMultiplier(5, 0, 2.5), 2.5);
  const SimulatedCity city = MustSimulate(SmallCity());
  for (const SupplyRecord& s : city.supply) {
    if (s.requests <= s.drivers) {
      EXPECT_EQ(s.surge, 1.0f);
    }
    EXPECT_LE(s.trips, s.requests);
  }
}

TEST(SimulatorTest, CityIsConsistent) {
  const SimulatedCity city = MustSimulate(SmallCity());
  ASSERT_TRUE(city.trips.CheckConsistent().ok());
  EXPECT_EQ(city.trips.source, data::TripSource::kSimulator);
  EXPECT_EQ(city.zones.size(), 12u);
  EXPECT_EQ(city.days.size(), 14u);
  EXPECT_EQ(city.supply.size(), 14u * 24 * 12);
  EXPECT_EQ(city.zones.back().type, ZoneType::kAirport);
  int64_t served = 0, prev_time = 0;
  for (const QuoteRecord& q : city.quotes) {
    EXPECT_GE(q.request_time_us, prev_time);
    prev_time = q.request_time_us;
    if (q.served) {
      ++served;
      ASSERT_EQ(q.trip_id, served);
      const data::TripRow r = city.trips.Row(static_cast<size_t>(q.trip_id - 1));
      EXPECT_EQ(r.pickup_time_us, q.request_time_us);
      EXPECT_EQ(r.rider_id, q.rider_id);
      EXPECT_EQ(r.pickup_zone, q.pickup_zone);
      EXPECT_EQ(r.surge, q.surge);
      EXPECT_GE(r.total, r.fare);
    }
  }
  EXPECT_EQ(served, static_cast<int64_t>(city.trips.size()));
  int64_t total_requests = 0;
  for (const SupplyRecord& s : city.supply) total_requests += s.requests;
  EXPECT_EQ(total_requests, static_cast<int64_t>(city.quotes.size()));
}

TEST(SimulatorTest, SameSeedSameCityDifferentSeedDifferentCity) {
  const SimulatedCity a = MustSimulate(SmallCity());
  const SimulatedCity b = MustSimulate(SmallCity());
  CityConfig other = SmallCity();
  other.seed += 1;
  const SimulatedCity c = MustSimulate(other);
  EXPECT_EQ(a.trips.pickup_time_us, b.trips.pickup_time_us);
  EXPECT_EQ(a.trips.fare, b.trips.fare);
  EXPECT_EQ(a.trips.rider_id, b.trips.rider_id);
  EXPECT_NE(a.trips.pickup_time_us, c.trips.pickup_time_us);
}

TEST(SimulatorTest, RejectsBadConfigNamingTheField) {
  auto error_of = [](CityConfig c) { return Simulate(c).status(); };
  CityConfig c = SmallCity();
  c.days = 0;
  EXPECT_EQ(error_of(c).code(), StatusCode::kInvalidArgument);
  EXPECT_NE(error_of(c).message().find("days"), std::string::npos);
  c = SmallCity();
  c.days = -3;
  EXPECT_NE(error_of(c).message().find("days"), std::string::npos);
  c = SmallCity();
  c.zones = 0;
  EXPECT_NE(error_of(c).message().find("zones"), std::string::npos);
  c = SmallCity();
  c.zones = 1'000'000;
  EXPECT_NE(error_of(c).message().find("zones"), std::string::npos);
  c = SmallCity();
  c.days = kMaxDays;
  c.zones = kMaxZones;
  EXPECT_NE(error_of(c).message().find("expected requests"), std::string::npos);
  c = SmallCity();
  c.start_date = "2024-02-30";
  EXPECT_NE(error_of(c).message().find("start date"), std::string::npos);
  c = SmallCity();
  c.tariff.per_km = -1;
  EXPECT_NE(error_of(c).message().find("tariff"), std::string::npos);
  c = SmallCity();
  c.rain_probability = 1.5;
  EXPECT_NE(error_of(c).message().find("rain"), std::string::npos);
}

TEST(SimulatorTest, TinyCitiesWork) {
  for (int64_t zones : {1, 2, 9, 10}) {
    CityConfig c = SmallCity();
    c.zones = zones;
    c.days = 2;
    const SimulatedCity city = MustSimulate(c);
    EXPECT_EQ(static_cast<int64_t>(city.zones.size()), zones);
    EXPECT_GT(city.trips.size(), 0u) << zones << " zones";
  }
}


TEST(SimulatorTest, PriceTestRandomisesFaresAndLeavesRequestsAlone) {
  CityConfig plain = SmallCity();
  plain.days = 7;
  CityConfig tested = plain;
  tested.price_test_fraction = 0.3;
  const SimulatedCity a = MustSimulate(plain);
  const SimulatedCity b = MustSimulate(tested);
  ASSERT_EQ(a.quotes.size(), b.quotes.size());
  size_t in_test = 0, lower = 0, higher = 0;
  double accept_low = 0, n_low = 0, accept_high = 0, n_high = 0;
  for (size_t i = 0; i < a.quotes.size(); ++i) {
    const QuoteRecord &x = a.quotes[i], &y = b.quotes[i];
    // The same requests (time, zones, distance, surge) whatever the test does.
    ASSERT_EQ(x.request_time_us, y.request_time_us);
    ASSERT_EQ(x.pickup_zone, y.pickup_zone);
    ASSERT_EQ(x.dropoff_zone, y.dropoff_zone);
    ASSERT_EQ(x.estimated_miles, y.estimated_miles);
    EXPECT_EQ(x.price_multiplier, 1.0f);
    EXPECT_GE(x.surge_raw, 1.0f);
    EXPECT_NEAR(x.surge, std::round(x.surge_raw * 10) / 10, 1e-3);
    if (y.price_multiplier == 1.0f) {
      EXPECT_EQ(x.quoted_fare, y.quoted_fare);
      continue;
    }
    ++in_test;
    EXPECT_GE(y.price_multiplier, 0.8f - 1e-3f);
    EXPECT_LE(y.price_multiplier, 1.25f + 1e-3f);
    EXPECT_NEAR(y.quoted_fare, x.quoted_fare * y.price_multiplier, 0.011);
    if (y.price_multiplier < 0.9f) {
      ++lower;
      accept_low += y.accepted;
      ++n_low;
    } else if (y.price_multiplier > 1.1f) {
      ++higher;
      accept_high += y.accepted;
      ++n_high;
    }
  }
  const double share = static_cast<double>(in_test) / static_cast<double>(a.quotes.size());
  EXPECT_NEAR(share, 0.3, 0.02);
  EXPECT_GT(lower, 100u);
  EXPECT_GT(higher, 100u);
  // Dearer test quotes are accepted less often than cheaper ones.
  EXPECT_GT(accept_low / n_low, accept_high / n_high + 0.03);
}

TEST(SimulatorTest, PriceTestConfigOutOfRangeIsRefused) {
  CityConfig c = SmallCity();
  c.price_test_fraction = 1.5;
  StatusOr<SimulatedCity> city = Simulate(c);
  ASSERT_FALSE(city.ok());
  EXPECT_NE(city.status().message().find("price test fraction"), std::string::npos);
  c.price_test_fraction = 0.1;
  c.price_test_spread = 0.5;
  city = Simulate(c);
  ASSERT_FALSE(city.ok());
  EXPECT_NE(city.status().message().find("price test spread"), std::string::npos);
}

// A city where nothing is ever a bad experience (no surge, a fleet far above demand, no price
// test): every rider's churn hazard is their own clock alone, so the settled population can be
// computed here independently of the simulator.
CityConfig CityWithoutBadExperiences(int64_t riders) {
  CityConfig c = SmallCity();
  c.zones = 4;
  c.days = 2;
  c.riders = riders;
  c.max_surge = 1.0;
  c.driver_supply_ratio = 100;
  c.rider_start = RiderStart::kStationary;
  return c;
}

// E[1 / h] for a newcomer of each profile, h = weekly churn / 7 × (0.5 + 0.5 s) and s a
// log-normal(ln median, 0.3) clamped to 0.2 … 4 (the simulator's newcomer draw), by quadrature.
std::array<double, kNumRiderProfiles> MeanLifetimeDays() {
  constexpr double kSensitivity[kNumRiderProfiles] = {0.7, 1.1, 1.0, 1.7};
  constexpr double kWeeklyChurn[kNumRiderProfiles] = {0.01, 0.02, 0.04, 0.03};
  std::array<double, kNumRiderProfiles> out{};
  for (int p = 0; p < kNumRiderProfiles; ++p) {
    double sum = 0, mass = 0;
    for (double z = -6; z <= 6; z += 0.001) {
      const double density = std::exp(-0.5 * z * z);
      const double s = std::clamp(kSensitivity[p] * std::exp(0.3 * z), 0.2, 4.0);
      sum += density * 7.0 / (kWeeklyChurn[p] * (0.5 + 0.5 * s));
      mass += density;
    }
    out[static_cast<size_t>(p)] = sum / mass;
  }
  return out;
}

TEST(SimulatorTest, StationaryStartDrawsRidersWeightedByTheirExpectedLifetime) {
  constexpr int64_t kRiders = 20000;
  const SimulatedCity city = MustSimulate(CityWithoutBadExperiences(kRiders));
  const std::array<double, kNumRiderProfiles> lifetime = MeanLifetimeDays();
  constexpr double kNewcomerMix[kNumRiderProfiles] = {0.35, 0.25, 0.30, 0.10};
  double norm = 0;
  for (int p = 0; p < kNumRiderProfiles; ++p) norm += kNewcomerMix[p] * lifetime[p];
  std::array<double, kNumRiderProfiles> share{}, age{};
  for (const Rider& r : city.riders) {
    if (r.signup_day >= 0) continue;  // present on day 0
    share[static_cast<size_t>(r.profile)] += 1.0 / kRiders;
    age[static_cast<size_t>(r.profile)] += -r.signup_day;
  }
  for (int p = 0; p < kNumRiderProfiles; ++p) {
    const double expected = kNewcomerMix[p] * lifetime[p] / norm;
    // Sampling error of a share of 20,000 riders: sd <= 0.0035.
    EXPECT_NEAR(share[p], expected, 0.015) << RiderProfileName(static_cast<RiderProfile>(p));
  }
  // Commuters (long lives) outnumber everyone else together, unlike among newcomers (0.35).
  EXPECT_GT(share[0], 0.55);
  // A present rider's age is Exponential(h): commuters have been riding for years, far longer
  // than students; with the newcomer start every age is below 365 days.
  const double commuter_age = age[0] / (share[0] * kRiders);
  const double student_age = age[3] / (share[3] * kRiders);
  EXPECT_GT(commuter_age, 600);
  EXPECT_GT(commuter_age, 3.0 * student_age);
  CityConfig fresh = CityWithoutBadExperiences(kRiders);
  fresh.rider_start = RiderStart::kNew;
  for (const Rider& r : MustSimulate(fresh).riders) EXPECT_GE(r.signup_day, -365);
}

TEST(SimulatorTest, StationaryStartKeepsRequestsAndPopulationAndIsDeterministic) {
  CityConfig config = SmallCity();
  config.days = 7;
  config.rider_start = RiderStart::kStationary;
  const SimulatedCity a = MustSimulate(config);
  const SimulatedCity b = MustSimulate(config);
  EXPECT_EQ(a.trips.rider_id, b.trips.rider_id);
  EXPECT_EQ(a.trips.fare, b.trips.fare);
  ASSERT_EQ(a.riders.size(), b.riders.size());
  for (size_t i = 0; i < a.riders.size(); ++i) {
    EXPECT_EQ(a.riders[i].signup_day, b.riders[i].signup_day);
    EXPECT_EQ(a.riders[i].price_sensitivity, b.riders[i].price_sensitivity);
  }
  // Who rides is drawn from a stream of its own: the requests are those of the newcomer start.
  CityConfig fresh = config;
  fresh.rider_start = RiderStart::kNew;
  const SimulatedCity c = MustSimulate(fresh);
  ASSERT_EQ(a.quotes.size(), c.quotes.size());
  for (size_t i = 0; i < a.quotes.size(); i += 97) {
    ASSERT_EQ(a.quotes[i].request_time_us, c.quotes[i].request_time_us);
    ASSERT_EQ(a.quotes[i].pickup_zone, c.quotes[i].pickup_zone);
    ASSERT_EQ(a.quotes[i].surge, c.quotes[i].surge);
  }
  // The settled population: fewer quick churners (students) than among newcomers, the same
  // number of riders every day, and riders ride only while active.
  int64_t students = 0, present = 0;
  for (const Rider& r : a.riders) {
    if (r.signup_day >= 0) continue;
    ++present;
    students += r.profile == RiderProfile::kStudent;
  }
  EXPECT_EQ(present, 12 * 150);
  EXPECT_LT(static_cast<double>(students) / static_cast<double>(present), 0.08);
  const int64_t start = a.days[0].day_start_us;
  for (const QuoteRecord& q : a.quotes) {
    const Rider& r = a.riders[static_cast<size_t>(q.rider_id - 1)];
    ASSERT_TRUE(ActiveOn(r, static_cast<int32_t>((q.request_time_us - start) / kMicrosPerDay)));
  }
  for (int32_t day = 0; day < 7; ++day) {
    int64_t active = 0;
    for (const Rider& r : a.riders) active += ActiveOn(r, day);
    EXPECT_EQ(active, 12 * 150) << "day " << day;
  }
}

TEST(SimulatorTest, RiderStartParsesItsNamesAndRefusesOthers) {
  EXPECT_EQ(*ParseRiderStart("new"), RiderStart::kNew);
  EXPECT_EQ(*ParseRiderStart("stationary"), RiderStart::kStationary);
  EXPECT_EQ(RiderStartName(RiderStart::kStationary), "stationary");
  StatusOr<RiderStart> bad = ParseRiderStart("settled");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'settled'"), std::string::npos);
  CityConfig c = SmallCity();
  c.rider_start = static_cast<RiderStart>(7);
  StatusOr<SimulatedCity> city = Simulate(c);
  ASSERT_FALSE(city.ok());
  EXPECT_NE(city.status().message().find("rider start"), std::string::npos);
  // The default is the newcomer start every other task's data was generated with.
  EXPECT_EQ(CityConfig{}.rider_start, RiderStart::kNew);
}

}  // namespace
}  // namespace bimride::simulator
