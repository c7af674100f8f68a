#include "features/eta_request.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "common/civil_time.h"
#include "features/eta_features.h"
#include "features/eta_test_util.h"

namespace bimride::features {
namespace {

using eta_test::Col;
using eta_test::MakeTrips;

TEST(EtaRequestTest, RawRequestFieldsGiveTheSameFeaturesAsTheTripTable) {
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

TEST(EtaRequestTest, RawCoordinatesGiveTheSameFeaturesAsTheTripTable) {
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

TEST(EtaRequestTest, BadRequestsNameTheFieldAndRow) {
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
  // A negative or huge whole number is a zone out of range, not "not a whole number".
  EXPECT_EQ(message({-1.0, 1.0}, two, times, &dist),
            "row 0: field 'pickup_zone': zone -1 is outside 1..4");
  EXPECT_EQ(message(one, {2.0, std::string("-3")}, times, &dist),
            "row 1: field 'dropoff_zone': zone -3 is outside 1..4");
  EXPECT_EQ(message({1e12, 1.0}, two, times, &dist),
            "row 0: field 'pickup_zone': zone 1000000000000 is out of range");
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

}  // namespace
}  // namespace bimride::features
