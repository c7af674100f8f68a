#include "simulator/trip_summary.h"

#include <gtest/gtest.h>

#include "common/civil_time.h"

namespace bimride::simulator {
namespace {

int64_t At(const char* text) { return *ParseCivil(text); }

data::TripRow Trip(const char* pickup, double minutes, int32_t zone, float miles, float fare,
                   float surge) {
  data::TripRow r;
  r.pickup_time_us = At(pickup);
  r.dropoff_time_us = r.pickup_time_us + static_cast<int64_t>(minutes * 60e6);
  r.pickup_zone = zone;
  r.dropoff_zone = 1;
  r.distance_miles = miles;
  r.fare = fare;
  r.surge = surge;
  return r;
}

TEST(TripSummaryTest, CountsHoursZonesQuantilesAndSurge) {
  data::TripTable t;
  t.source = data::TripSource::kSimulator;
  // Ten trips: durations 1..10 min, distances 1..10 miles, fares 10..100.
  for (int i = 1; i <= 10; ++i) {
    const char* time = i <= 6 ? "2024-03-04 08:30:00" : "2024-03-05 17:05:00";
    t.Append(Trip(time, i, i <= 7 ? 3 : 5, static_cast<float>(i), 10.0f * i,
                  i <= 5 ? 1.0f : (i <= 8 ? 1.3f : 2.4f)));
  }
  std::vector<Zone> zones(5);
  zones[2].name = "Harbour";
  std::vector<QuoteRecord> quotes(4);
  quotes[0].accepted = quotes[1].accepted = quotes[2].accepted = true;
  quotes[0].served = quotes[1].served = true;

  const TripSummary s = SummarizeTrips(t, &zones, &quotes, 1);
  EXPECT_EQ(s.trips, 10);
  EXPECT_EQ(s.source, "simulator");
  EXPECT_EQ(s.first_pickup_us, At("2024-03-04 08:30"));
  EXPECT_EQ(s.last_pickup_us, At("2024-03-05 17:05"));
  EXPECT_EQ(s.trips_by_hour[8], 6);
  EXPECT_EQ(s.trips_by_hour[17], 4);
  EXPECT_EQ(s.trips_by_hour[0], 0);
  ASSERT_EQ(s.busiest_pickup_zones.size(), 1u);
  EXPECT_EQ(s.busiest_pickup_zones[0].zone, 3);
  EXPECT_EQ(s.busiest_pickup_zones[0].trips, 7);
  EXPECT_EQ(s.busiest_pickup_zones[0].name, "Harbour");
  EXPECT_DOUBLE_EQ(s.median_minutes, 5.0);  // nearest rank
  EXPECT_DOUBLE_EQ(s.p90_minutes, 9.0);
  EXPECT_DOUBLE_EQ(s.median_miles, 5.0);
  EXPECT_DOUBLE_EQ(s.mean_fare, 55.0);
  ASSERT_EQ(s.surge.size(), 4u);
  EXPECT_EQ(s.surge[0].trips, 5);
  EXPECT_EQ(s.surge[1].trips, 3);
  EXPECT_EQ(s.surge[2].trips, 0);
  EXPECT_EQ(s.surge[3].trips, 2);
  EXPECT_EQ(s.quotes, 4);
  EXPECT_EQ(s.accepted_quotes, 3);
  EXPECT_EQ(s.served_quotes, 2);

  const std::string text = FormatTripSummary(s);
  EXPECT_NE(text.find("trips:            10"), std::string::npos) << text;
  EXPECT_NE(text.find("2024-03-04 08:30:00 .. 2024-03-05 17:05:00"), std::string::npos);
  EXPECT_NE(text.find("accepted 75.0%"), std::string::npos) << text;
  EXPECT_NE(text.find("Harbour"), std::string::npos);
  // The busiest hour has the full bar, an empty hour none.
  EXPECT_NE(text.find("  08 " + std::string(40, '#') + " 6"), std::string::npos) << text;
  EXPECT_NE(text.find("  17 " + std::string(27, '#') + " "), std::string::npos) << text;
}

TEST(TripSummaryTest, EmptyTableAndMissingValuesDoNotBreakTheReport) {
  data::TripTable t;
  TripSummary s = SummarizeTrips(t, nullptr, nullptr);
  EXPECT_EQ(s.trips, 0);
  EXPECT_TRUE(std::isnan(s.median_minutes));
  EXPECT_TRUE(s.surge.empty());
  EXPECT_NE(FormatTripSummary(s).find("trips:            0"), std::string::npos);
  data::TripRow r;  // all values missing
  t.Append(r);
  s = SummarizeTrips(t, nullptr, nullptr);
  EXPECT_EQ(s.trips, 1);
  EXPECT_TRUE(s.busiest_pickup_zones.empty());
  EXPECT_TRUE(std::isnan(s.mean_fare));
  EXPECT_FALSE(FormatTripSummary(s).empty());
}

TEST(TripSummaryTest, SimulatedCitySummaryShowsAcceptanceAndNamedZones) {
  CityConfig c;
  c.days = 2;
  c.zones = 10;
  StatusOr<SimulatedCity> city = Simulate(c);
  ASSERT_TRUE(city.ok());
  const TripSummary s = SummarizeCity(*city);
  EXPECT_EQ(s.trips, static_cast<int64_t>(city->trips.size()));
  EXPECT_EQ(s.quotes, static_cast<int64_t>(city->quotes.size()));
  EXPECT_EQ(s.served_quotes, s.trips);
  EXPECT_LT(s.accepted_quotes, s.quotes);
  ASSERT_FALSE(s.busiest_pickup_zones.empty());
  EXPECT_FALSE(s.busiest_pickup_zones[0].name.empty());
}

}  // namespace
}  // namespace bimride::simulator
