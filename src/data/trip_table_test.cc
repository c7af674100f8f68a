#include "data/trip_table.h"

#include <gtest/gtest.h>

namespace bimride::data {
namespace {

TEST(TripTableTest, AppendAndReadRowsBack) {
  TripTable t;
  t.source = TripSource::kTlcGreen;
  TripRow r;
  r.pickup_time_us = 1'000'000;
  r.dropoff_time_us = 1'000'000 + 15 * 60'000'000LL;
  r.pickup_zone = 74;
  r.dropoff_zone = 75;
  r.fare = 12.5f;
  t.Append(r);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_TRUE(t.CheckConsistent().ok());
  TripRow back = t.Row(0);
  EXPECT_EQ(back.pickup_zone, 74);
  EXPECT_FLOAT_EQ(back.fare, 12.5f);
  EXPECT_TRUE(std::isnan(back.distance_miles));
  EXPECT_DOUBLE_EQ(t.DurationMinutes(0), 15.0);
}

TEST(TripTableTest, AppendTableRefusesMixedSources) {
  TripTable a, b;
  a.source = TripSource::kTlcGreen;
  b.source = TripSource::kUber;
  a.Append(TripRow{});
  b.Append(TripRow{});
  Status s = a.AppendTable(b);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  TripTable c;
  ASSERT_TRUE(c.AppendTable(a).ok());
  EXPECT_EQ(c.source, TripSource::kTlcGreen);
  EXPECT_EQ(c.size(), 1u);
}

TEST(TripTableTest, TakeSelectsRowsInOrder) {
  TripTable t;
  t.source = TripSource::kTlcYellow;
  for (int i = 0; i < 4; ++i) {
    TripRow r;
    r.pickup_zone = 10 + i;
    r.fare = static_cast<float>(i);
    t.Append(r);
  }
  TripTable s = t.Take({3, 1});
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s.source, TripSource::kTlcYellow);
  EXPECT_EQ(s.pickup_zone[0], 13);
  EXPECT_EQ(s.pickup_zone[1], 11);
  EXPECT_FLOAT_EQ(s.fare[1], 1.0f);
  EXPECT_TRUE(s.CheckConsistent().ok());
}

TEST(TripTableTest, InconsistentColumnsAreReported) {
  TripTable t;
  t.Append(TripRow{});
  t.fare.push_back(1.0f);
  Status s = t.CheckConsistent();
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(s.message().find("'fare'"), std::string::npos);
}

TEST(TripSourceTest, NamesReadBack) {
  for (TripSource s : {TripSource::kUnknown, TripSource::kTlcGreen, TripSource::kSimulator}) {
    StatusOr<TripSource> parsed = ParseTripSource(TripSourceName(s));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, s);
  }
  StatusOr<TripSource> bad = ParseTripSource("lyft");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "unknown trip source 'lyft' (want one of unknown, tlc_green, tlc_yellow, tlc_fhv, "
            "kaggle, uber, simulator)");
}

}  // namespace
}  // namespace bimride::data
