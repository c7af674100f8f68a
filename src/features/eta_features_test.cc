#include "features/eta_features.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>

#include "common/civil_time.h"
#include "common/file.h"

namespace bimride::features {
namespace {

int Col(EtaFeatureSet set, const std::string& name) {
  const auto names = EtaFeatureNames(set);
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<int>(i);
  }
  ADD_FAILURE() << "no feature " << name;
  return 0;
}

std::string TempDir(const std::string& name) {
  std::string dir = (std::filesystem::temp_directory_path() /
                     ("eta_features_test_" + name + std::to_string(::getpid())))
                        .string();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// A small simulated city: zones 1..4 on a line of longitudes, trips with coordinates near the
// zone centres, duration = 3 min per km + hour effect + noise.
data::TripTable MakeTrips(int n, uint64_t seed, bool with_coordinates = true) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> zone(1, 4), minute(0, 28 * 24 * 60 - 1);
  std::normal_distribution<double> noise(0, 0.0005);
  data::TripTable t;
  t.source = data::TripSource::kSimulator;
  const int64_t start = MicrosFromCivil({2021, 1, 1});
  for (int i = 0; i < n; ++i) {
    data::TripRow r;
    r.pickup_zone = zone(rng);
    r.dropoff_zone = zone(rng);
    r.pickup_lon = -74.0 + 0.01 * r.pickup_zone + noise(rng);
    r.pickup_lat = 40.7 + noise(rng);
    r.dropoff_lon = -74.0 + 0.01 * r.dropoff_zone + noise(rng);
    r.dropoff_lat = 40.7 + noise(rng);
    if (!with_coordinates) r.pickup_lon = r.pickup_lat = r.dropoff_lon = r.dropoff_lat = NAN;
    r.pickup_time_us = start + minute(rng) * kMicrosPerMinute;
    const double km = std::abs(r.pickup_zone - r.dropoff_zone) * 0.84 + 0.5;
    const double minutes =
        3 * km + (HourOfDay(r.pickup_time_us) / 6) + 2 + std::abs(noise(rng)) * 1000;
    r.dropoff_time_us = r.pickup_time_us + static_cast<int64_t>(minutes * kMicrosPerMinute);
    r.distance_miles = static_cast<float>(km / 1.609344 * 1.3);
    t.Append(r);
  }
  return t;
}

WeatherTable MakeWeather() {
  std::string csv = "DATE,PRCP,SNOW,SNWD,TMAX,TMIN,AWND\n";
  for (int d = 1; d <= 20; ++d) {  // days 21.. are missing on purpose
    char line[96];
    std::snprintf(line, sizeof line, "2021-01-%02d,%.2f,0,0,%d,%d,5.5\n", d, d % 3 * 0.1, 30 + d,
                  20 + d);
    csv += line;
  }
  auto w = WeatherTable::Parse(csv, "weather.csv");
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  return w.ok() ? *w : WeatherTable();
}

TEST(EtaFeaturesTest, NamesAndSpecsOfBothFeatureSets) {
  EXPECT_EQ(EtaFeatureSpecName(EtaFeatureSet::kBooking), "eta_booking");
  EXPECT_EQ(EtaFeatureSpecName(EtaFeatureSet::kWithDistance), "eta_with_distance");
  EXPECT_EQ(*ParseEtaFeatureSet("booking"), EtaFeatureSet::kBooking);
  EXPECT_EQ(*ParseEtaFeatureSet("with-distance"), EtaFeatureSet::kWithDistance);
  EXPECT_EQ(*ParseEtaFeatureSet("eta_with_distance"), EtaFeatureSet::kWithDistance);
  EXPECT_FALSE(ParseEtaFeatureSet("fast").ok());
  const auto booking = EtaFeatureNames(EtaFeatureSet::kBooking);
  const auto with = EtaFeatureNames(EtaFeatureSet::kWithDistance);
  EXPECT_EQ(static_cast<int>(booking.size()), EtaFeatureCount(EtaFeatureSet::kBooking));
  ASSERT_GT(with.size(), booking.size());
  EXPECT_TRUE(std::equal(booking.begin(), booking.end(), with.begin()));
  EXPECT_EQ(booking[kEtaColPickupZone], "pickup_zone");
  EXPECT_EQ(booking[kEtaColDropoffZone], "dropoff_zone");
  EXPECT_EQ(booking[kEtaColHour], "hour");
  EXPECT_EQ(booking[kEtaColWeekday], "weekday");
  EXPECT_EQ(EtaRequestFields(EtaFeatureSet::kBooking).size(), 3u);
  EXPECT_EQ(EtaRequestFields(EtaFeatureSet::kWithDistance).back(), "trip_distance");
}

TEST(EtaFeaturesTest, FeaturesAreFiniteAndMeanWhatTheySay) {
  const data::TripTable trips = MakeTrips(2000, 1);
  const WeatherTable weather = MakeWeather();
  auto ctx = BuildEtaFeatureContext(EtaFeatureSet::kWithDistance, trips, nullptr, &weather);
  ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
  EXPECT_EQ(ctx->training_rows, 2000);
  EtaRequest r;
  r.pickup_zone = 1;
  r.dropoff_zone = 3;
  r.pickup_time_us = *ParseCivil("2021-01-04 08:30:00");  // a Monday with weather
  r.trip_distance_miles = 1.5;
  auto f = ComputeEtaFeatures(*ctx, std::span<const EtaRequest>(&r, 1));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  const EtaFeatureSet s = EtaFeatureSet::kWithDistance;
  for (float v : *f) EXPECT_TRUE(std::isfinite(v));
  EXPECT_EQ((*f)[Col(s, "pickup_zone")], 1);
  EXPECT_EQ((*f)[Col(s, "dropoff_zone")], 3);
  EXPECT_EQ((*f)[Col(s, "hour")], 8);
  EXPECT_EQ((*f)[Col(s, "weekday")], 0);
  EXPECT_EQ((*f)[Col(s, "minute_of_day")], 8 * 60 + 30);
  EXPECT_EQ((*f)[Col(s, "max_temp_f")], 34);
  EXPECT_EQ((*f)[Col(s, "weather_missing")], 0);
  EXPECT_EQ((*f)[Col(s, "trip_distance_miles")], 1.5f);
  // Centroids are the mean pickups: zones 1 and 3 lie ~0.02° of longitude (≈1.7 km) apart, east.
  EXPECT_NEAR((*f)[Col(s, "distance_km")], 1.69, 0.05);
  EXPECT_NEAR((*f)[Col(s, "bearing_sin")], 1.0, 0.01);
  // Pair (1, 3) was seen ~125 times: its median duration is near 3·(2·0.84+0.5)+2+hour effect.
  EXPECT_GT((*f)[Col(s, "pair_log_count")], std::log(50.0));
  EXPECT_NEAR((*f)[Col(s, "pair_median_minutes")], 3 * 2.18 + 2 + 1.5, 1.5);

  // Jan 1st is a federal holiday; a day the weather table lacks falls back and is flagged.
  r.pickup_time_us = *ParseCivil("2021-01-01 10:00:00");
  f = ComputeEtaFeatures(*ctx, std::span<const EtaRequest>(&r, 1));
  EXPECT_EQ((*f)[Col(s, "holiday")], 1);
  r.pickup_time_us = *ParseCivil("2021-01-25 10:00:00");
  f = ComputeEtaFeatures(*ctx, std::span<const EtaRequest>(&r, 1));
  EXPECT_EQ((*f)[Col(s, "holiday")], 0);
  EXPECT_EQ((*f)[Col(s, "weather_missing")], 1);
  EXPECT_EQ((*f)[Col(s, "max_temp_f")], ctx->defaults[Col(s, "max_temp_f")]);
  for (float v : *f) EXPECT_TRUE(std::isfinite(v));
}

TEST(EtaFeaturesTest, UnseenPairFallsBackToReversePairThenZones) {
  data::TripTable trips = MakeTrips(500, 2);
  // Keep only trips 1→2 (and a few others) so 2→1 is unseen but its reverse is known.
  std::vector<size_t> keep;
  for (size_t i = 0; i < trips.size(); ++i) {
    if (!(trips.pickup_zone[i] == 2 && trips.dropoff_zone[i] == 1)) keep.push_back(i);
  }
  trips = trips.Take(keep);
  auto ctx = BuildEtaFeatureContext(EtaFeatureSet::kBooking, trips, nullptr, nullptr);
  ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
  ASSERT_EQ(ctx->FindPair(2, 1), nullptr);
  ASSERT_NE(ctx->FindPair(1, 2), nullptr);
  EtaRequest r;
  r.pickup_zone = 2;
  r.dropoff_zone = 1;
  r.pickup_time_us = *ParseCivil("2021-01-05 12:00:00");
  auto f = ComputeEtaFeatures(*ctx, std::span<const EtaRequest>(&r, 1));
  ASSERT_TRUE(f.ok());
  const EtaFeatureSet s = EtaFeatureSet::kBooking;
  EXPECT_EQ((*f)[Col(s, "pair_log_count")], 0);
  // The reverse pair's median, shrunk a little toward the zone medians.
  EXPECT_NEAR((*f)[Col(s, "pair_median_minutes")], ctx->FindPair(1, 2)->median_minutes, 0.5);
}

TEST(EtaFeaturesTest, RawRequestFieldsGiveTheSameFeaturesAsTheTripTable) {
  const data::TripTable trips = MakeTrips(300, 3, /*with_coordinates=*/false);
  const data::TripTable with_coords = MakeTrips(300, 3);
  auto ctx = BuildEtaFeatureContext(EtaFeatureSet::kWithDistance, with_coords, nullptr, nullptr);
  ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
  // Requests without coordinates (the TLC case): zone centroids answer.
  auto offline = ComputeEtaFeatures(*ctx, EtaRequestsFromTrips(trips));
  ASSERT_TRUE(offline.ok()) << offline.status().ToString();
  std::vector<RawFieldValue> pu, dz, when, dist;
  for (size_t i = 0; i < trips.size(); ++i) {
    pu.emplace_back(static_cast<double>(trips.pickup_zone[i]));
    dz.emplace_back(std::to_string(trips.dropoff_zone[i]));  // digit strings are accepted
    when.emplace_back(FormatCivil(trips.pickup_time_us[i]));
    dist.emplace_back(static_cast<double>(trips.distance_miles[i]));
  }
  EtaRawColumns raw;
  raw.rows = static_cast<int64_t>(trips.size());
  raw.pickup_zone = &pu;
  raw.dropoff_zone = &dz;
  raw.pickup_datetime = &when;
  raw.trip_distance = &dist;
  auto requests = ParseEtaRequests(EtaFeatureSet::kWithDistance, raw);
  ASSERT_TRUE(requests.ok()) << requests.status().ToString();
  auto online = ComputeEtaFeatures(*ctx, *requests);
  ASSERT_TRUE(online.ok());
  ASSERT_EQ(offline->size(), online->size());
  EXPECT_EQ(std::memcmp(offline->data(), online->data(), offline->size() * sizeof(float)), 0);
}

TEST(EtaFeaturesTest, RawCoordinatesGiveTheSameFeaturesAsTheTripTable) {
  const data::TripTable trips = MakeTrips(200, 10);  // Kaggle / simulator: coordinates
  auto ctx = BuildEtaFeatureContext(EtaFeatureSet::kBooking, trips, nullptr, nullptr);
  ASSERT_TRUE(ctx.ok());
  auto offline = ComputeEtaFeatures(*ctx, EtaRequestsFromTrips(trips));
  ASSERT_TRUE(offline.ok());
  std::vector<RawFieldValue> pu, dz, when, plon, plat, dlon, dlat;
  for (size_t i = 0; i < trips.size(); ++i) {
    pu.emplace_back(static_cast<double>(trips.pickup_zone[i]));
    dz.emplace_back(static_cast<double>(trips.dropoff_zone[i]));
    when.emplace_back(FormatCivil(trips.pickup_time_us[i]));
    plon.emplace_back(trips.pickup_lon[i]);
    plat.emplace_back(trips.pickup_lat[i]);
    dlon.emplace_back(trips.dropoff_lon[i]);
    dlat.emplace_back(trips.dropoff_lat[i]);
  }
  EtaRawColumns raw;
  raw.rows = static_cast<int64_t>(trips.size());
  raw.pickup_zone = &pu;
  raw.dropoff_zone = &dz;
  raw.pickup_datetime = &when;
  raw.pickup_longitude = &plon;
  raw.pickup_latitude = &plat;
  raw.dropoff_longitude = &dlon;
  raw.dropoff_latitude = &dlat;
  auto requests = ParseEtaRequests(EtaFeatureSet::kBooking, raw);
  ASSERT_TRUE(requests.ok()) << requests.status().ToString();
  auto online = ComputeEtaFeatures(*ctx, *requests);
  ASSERT_TRUE(online.ok());
  EXPECT_EQ(std::memcmp(offline->data(), online->data(), offline->size() * sizeof(float)), 0);
  // The coordinates, not the zone centroids, gave the distances.
  const int km = Col(EtaFeatureSet::kBooking, "distance_km");
  EtaRequest centroid_only = (*requests)[0];
  centroid_only.pickup_lon = centroid_only.pickup_lat = NAN;
  centroid_only.dropoff_lon = centroid_only.dropoff_lat = NAN;
  auto c = ComputeEtaFeatures(*ctx, std::span<const EtaRequest>(&centroid_only, 1));
  ASSERT_TRUE(c.ok());
  EXPECT_NE((*c)[km], (*online)[km]);
}

TEST(EtaFeaturesTest, SavedAndLoadedContextComputesBitIdenticalFeatures) {
  const data::TripTable trips = MakeTrips(1500, 4);
  const WeatherTable weather = MakeWeather();
  for (EtaFeatureSet set : {EtaFeatureSet::kBooking, EtaFeatureSet::kWithDistance}) {
    auto ctx = BuildEtaFeatureContext(set, trips, nullptr, &weather);
    ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
    const std::string dir = TempDir("roundtrip");
    ASSERT_TRUE(SaveEtaFeatureContext(*ctx, dir).ok());
    for (const std::string& f : EtaContextFileNames()) EXPECT_TRUE(FileExists(dir + "/" + f)) << f;
    auto loaded = LoadEtaFeatureContext(dir);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ(loaded->set, set);
    EXPECT_EQ(loaded->pairs.size(), ctx->pairs.size());
    const data::TripTable other = MakeTrips(400, 5);  // new trips, coordinates included
    auto a = ComputeEtaFeatures(*ctx, EtaRequestsFromTrips(other));
    auto b = ComputeEtaFeatures(*loaded, EtaRequestsFromTrips(other));
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(std::memcmp(a->data(), b->data(), a->size() * sizeof(float)), 0);
    std::filesystem::remove_all(dir);
  }
}

TEST(EtaFeaturesTest, BadRequestsNameTheFieldAndRow) {
  const data::TripTable trips = MakeTrips(200, 6);
  auto ctx = BuildEtaFeatureContext(EtaFeatureSet::kWithDistance, trips, nullptr, nullptr);
  ASSERT_TRUE(ctx.ok());
  auto message = [&](const std::vector<RawFieldValue>& pu, const std::vector<RawFieldValue>& dz,
                     const std::vector<RawFieldValue>& when,
                     const std::vector<RawFieldValue>* dist) {
    EtaRawColumns raw;
    raw.rows = static_cast<int64_t>(pu.size());
    raw.pickup_zone = &pu;
    raw.dropoff_zone = &dz;
    raw.pickup_datetime = &when;
    raw.trip_distance = dist;
    auto req = ParseEtaRequests(EtaFeatureSet::kWithDistance, raw);
    if (!req.ok()) return req.status().message();
    auto f = ComputeEtaFeatures(*ctx, *req);
    return f.ok() ? std::string("ok") : f.status().message();
  };
  const std::vector<RawFieldValue> one = {1.0, 2.0}, two = {2.0, 3.0};
  const std::vector<RawFieldValue> times = {std::string("2021-01-04 08:00:00"),
                                            std::string("2021-01-04 09:00:00")};
  const std::vector<RawFieldValue> dist = {1.0, 2.0};
  EXPECT_EQ(message(one, two, times, &dist), "ok");
  EXPECT_EQ(message(one, two, times, nullptr), "missing field 'trip_distance'");
  EXPECT_EQ(message({1.0, 2.5}, two, times, &dist),
            "row 1: field 'pickup_zone': zone must be a whole number");
  EXPECT_EQ(message({1.0, std::string("x")}, two, times, &dist),
            "row 1: field 'pickup_zone': 'x' is not a number");
  EXPECT_EQ(message(one, {2.0, 9.0}, times, &dist),
            "row 1: field 'dropoff_zone': zone 9 is outside 1..4");
  EXPECT_EQ(message({0.0, 1.0}, two, times, &dist),
            "row 0: field 'pickup_zone': zone 0 is outside 1..4");
  EXPECT_NE(message(one, two, {std::string("2021-01-04 08:00:00"), std::string("soon")}, &dist)
                .find("row 1: field 'pickup_datetime'"),
            std::string::npos);
  EXPECT_EQ(message(one, two, {std::string("2021-01-04 08:00:00"), 5.0}, &dist),
            "row 1: field 'pickup_datetime': must be text 'YYYY-MM-DD HH:MM:SS'");
  const std::vector<RawFieldValue> negative = {1.0, -2.0};
  EXPECT_EQ(message(one, two, times, &negative),
            "row 1: field 'trip_distance': must be a finite number >= 0 (miles) for "
            "eta_with_distance");
  const std::vector<RawFieldValue> short_column = {1.0};
  EXPECT_EQ(message(one, two, times, &short_column),
            "field 'trip_distance' has 1 values, expected 2");
  // Half the coordinates is an error, not a silent fallback to centroids.
  EtaRequest r;
  r.pickup_zone = 1;
  r.dropoff_zone = 2;
  r.pickup_time_us = *ParseCivil("2021-01-04 08:00:00");
  r.trip_distance_miles = 1;
  r.pickup_lon = -73.99;
  auto f = ComputeEtaFeatures(*ctx, std::span<const EtaRequest>(&r, 1));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(),
            "row 0: field 'pickup_latitude': missing while other coordinates are given");
}

TEST(EtaFeaturesTest, CoordinatesGiveDistanceAndBearingDirectly) {
  const data::TripTable trips = MakeTrips(500, 7);
  auto ctx = BuildEtaFeatureContext(EtaFeatureSet::kBooking, trips, nullptr, nullptr);
  ASSERT_TRUE(ctx.ok());
  // Training trips all ran east-west; open the clipping range to see the raw geometry.
  ctx->lower.assign(ctx->lower.size(), -INFINITY);
  ctx->upper.assign(ctx->upper.size(), INFINITY);
  EtaRequest r;
  r.pickup_zone = 1;
  r.dropoff_zone = 1;
  r.pickup_time_us = *ParseCivil("2021-01-04 08:00:00");
  r.pickup_lon = -73.99;
  r.pickup_lat = 40.70;
  r.dropoff_lon = -73.99;
  r.dropoff_lat = 40.71;  // 1.11 km due north
  auto f = ComputeEtaFeatures(*ctx, std::span<const EtaRequest>(&r, 1));
  ASSERT_TRUE(f.ok());
  const EtaFeatureSet s = EtaFeatureSet::kBooking;
  EXPECT_NEAR((*f)[Col(s, "distance_km")], 1.112, 0.01);
  EXPECT_NEAR((*f)[Col(s, "manhattan_km")], 1.112, 0.01);
  EXPECT_NEAR((*f)[Col(s, "bearing_cos")], 1.0, 1e-6);
  EXPECT_EQ((*f)[Col(s, "same_zone")], 1);
}

TEST(EtaFeaturesTest, NumericFeaturesAreClippedToTheTrainingRange) {
  const data::TripTable trips = MakeTrips(800, 9);
  const WeatherTable weather = MakeWeather();  // max temperatures 31..50 °F
  auto ctx = BuildEtaFeatureContext(EtaFeatureSet::kWithDistance, trips, nullptr, &weather);
  ASSERT_TRUE(ctx.ok());
  const EtaFeatureSet s = EtaFeatureSet::kWithDistance;
  EXPECT_EQ(ctx->upper[Col(s, "max_temp_f")], 50);
  EXPECT_EQ(ctx->lower[Col(s, "max_temp_f")], 0);  // ranges start at 0 at least
  EtaRequest r;
  r.pickup_zone = 1;
  r.dropoff_zone = 2;
  r.pickup_time_us = *ParseCivil("2021-01-20 08:00:00");  // max temp 50
  r.trip_distance_miles = 5000;                           // a broken meter
  auto f = ComputeEtaFeatures(*ctx, std::span<const EtaRequest>(&r, 1));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)[Col(s, "max_temp_f")], 50);
  EXPECT_EQ((*f)[Col(s, "trip_distance_miles")], ctx->upper[Col(s, "trip_distance_miles")]);
  EXPECT_LT((*f)[Col(s, "trip_distance_miles")], 5);
  // Ids are never clipped.
  EXPECT_EQ(ctx->lower[kEtaColPickupZone], -INFINITY);
}

TEST(EtaFeaturesTest, LoadRejectsMissingAndCorruptContextFiles) {
  const data::TripTable trips = MakeTrips(200, 8);
  auto ctx = BuildEtaFeatureContext(EtaFeatureSet::kBooking, trips, nullptr, nullptr);
  ASSERT_TRUE(ctx.ok());
  const std::string dir = TempDir("corrupt");
  EXPECT_EQ(LoadEtaFeatureContext(dir).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(SaveEtaFeatureContext(*ctx, dir).ok());
  ASSERT_TRUE(LoadEtaFeatureContext(dir).ok());
  const std::string pairs = *ReadFile(dir + "/eta_zone_pairs.csv");
  ASSERT_TRUE(WriteFileAtomic(dir + "/eta_zone_pairs.csv", pairs + "1,2,x,1,1,1\n").ok());
  auto bad = LoadEtaFeatureContext(dir);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("eta_zone_pairs.csv: line"), std::string::npos)
      << bad.status().message();
  ASSERT_TRUE(WriteFileAtomic(dir + "/eta_zone_pairs.csv", pairs).ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/eta_context.json", "{\"format\": 1").ok());
  bad = LoadEtaFeatureContext(dir);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("eta_context.json: not a JSON object"), std::string::npos);
  std::filesystem::remove(dir + "/eta_weather.csv");
  ASSERT_TRUE(SaveEtaFeatureContext(*ctx, dir).ok());
  std::filesystem::remove(dir + "/eta_weather.csv");
  EXPECT_EQ(LoadEtaFeatureContext(dir).status().code(), StatusCode::kNotFound);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace bimride::features
