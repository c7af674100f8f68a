#include "features/demand_grid.h"

#include <gtest/gtest.h>

#include "common/civil_time.h"

namespace bimride::features {
namespace {

int64_t T(const char* text) { return *ParseCivil(text); }

data::TripTable Trips(const std::vector<std::pair<const char*, int32_t>>& rows) {
  data::TripTable t;
  for (const auto& [time, zone] : rows) {
    data::TripRow r;
    r.pickup_time_us = time ? T(time) : data::kNullTime;
    r.pickup_zone = zone;
    t.Append(r);
  }
  return t;
}

TEST(DemandGridTest, CountsPickupsPerZoneAndHourWithExplicitZeros) {
  const auto trips = Trips({{"2021-03-01 00:05", 7},
                            {"2021-03-01 00:59:59", 7},
                            {"2021-03-01 02:00", 7},
                            {"2021-03-01 01:30", 42}});
  DemandGridOptions o;
  o.start_us = T("2021-03-01");
  o.end_us = T("2021-03-02");
  DemandGridReport report;
  auto grid = DemandGrid::FromTrips(trips, o, &report);
  ASSERT_TRUE(grid.ok()) << grid.status().ToString();
  EXPECT_EQ(grid->num_buckets(), 24);
  EXPECT_EQ(grid->zones(), (std::vector<int32_t>{7, 42}));
  ASSERT_EQ(grid->counts().size(), 48u) << "every (zone, hour) cell is present";
  const int z7 = grid->ZonePosition(7), z42 = grid->ZonePosition(42);
  EXPECT_EQ(grid->count(z7, 0), 2);
  EXPECT_EQ(grid->count(z7, 1), 0);
  EXPECT_EQ(grid->count(z7, 2), 1);
  EXPECT_EQ(grid->count(z42, 1), 1);
  EXPECT_EQ(grid->count(z42, 0), 0);
  EXPECT_EQ(grid->ZonePosition(8), -1);
  EXPECT_EQ(grid->Total(), 4);
  EXPECT_EQ(report.counted, 4);
  EXPECT_EQ(report.trips, 4);
}

TEST(DemandGridTest, BucketWidthsOf15And30Minutes) {
  const auto trips =
      Trips({{"2021-03-01 00:14:59", 1}, {"2021-03-01 00:15", 1}, {"2021-03-01 00:31", 1}});
  for (int minutes : {15, 30}) {
    DemandGridOptions o;
    o.bucket_minutes = minutes;
    auto grid = DemandGrid::FromTrips(trips, o);
    ASSERT_TRUE(grid.ok()) << grid.status().ToString();
    EXPECT_EQ(grid->num_buckets(), 24 * 60 / minutes) << "a whole day by default";
    EXPECT_EQ(grid->buckets_per_week(), 7 * 24 * 60 / minutes);
    if (minutes == 15) {
      EXPECT_EQ(grid->count(0, 0), 1);
      EXPECT_EQ(grid->count(0, 1), 1);
      EXPECT_EQ(grid->count(0, 2), 1);
    } else {
      EXPECT_EQ(grid->count(0, 0), 2);
      EXPECT_EQ(grid->count(0, 1), 1);
    }
  }
}

TEST(DemandGridTest, ReportsEveryTripItDoesNotCount) {
  const auto trips = Trips({{"2021-03-01 10:00", 5},
                            {"2021-02-28 23:59", 5},    // before the window
                            {"2021-03-02 00:00", 5},    // the end is exclusive
                            {nullptr, 5},               // no pickup time
                            {"2021-03-01 10:00", 0},    // unknown zone
                            {"2021-03-01 10:00", 9}});  // not tracked
  DemandGridOptions o;
  o.start_us = T("2021-03-01");
  o.end_us = T("2021-03-02");
  o.zones = {5, 6};
  DemandGridReport r;
  auto grid = DemandGrid::FromTrips(trips, o, &r);
  ASSERT_TRUE(grid.ok());
  EXPECT_EQ(r.counted, 1);
  EXPECT_EQ(r.outside_window, 2);
  EXPECT_EQ(r.no_pickup_time, 1);
  EXPECT_EQ(r.unknown_zone, 1);
  EXPECT_EQ(r.untracked_zone, 1);
  EXPECT_EQ(r.counted + r.outside_window + r.no_pickup_time + r.unknown_zone + r.untracked_zone,
            r.trips);
  EXPECT_EQ(grid->zones(), (std::vector<int32_t>{5, 6})) << "zone 6 has no pickup but is kept";
  EXPECT_EQ(grid->ZoneTotal(1, 0, 24), 0);
  EXPECT_NE(r.ToString().find("2 outside the window"), std::string::npos) << r.ToString();
}

TEST(DemandGridTest, RejectsBadOptions) {
  const auto trips = Trips({{"2021-03-01 10:00", 5}});
  DemandGridOptions o;
  o.bucket_minutes = 20;
  EXPECT_NE(DemandGrid::FromTrips(trips, o).status().message().find("15, 30 or 60"),
            std::string::npos);
  o.bucket_minutes = 60;
  o.start_us = T("2021-03-01 00:30");
  o.end_us = T("2021-03-02");
  EXPECT_NE(DemandGrid::FromTrips(trips, o).status().message().find("boundaries"),
            std::string::npos);
  o.start_us = T("2021-03-02");
  EXPECT_NE(DemandGrid::FromTrips(trips, o).status().message().find("empty window"),
            std::string::npos);
  o.start_us = T("2021-03-01");
  o.zones = {5, 5};
  EXPECT_NE(DemandGrid::FromTrips(trips, o).status().message().find("given twice"),
            std::string::npos);
  o.zones = {-1};
  EXPECT_FALSE(DemandGrid::FromTrips(trips, o).ok());
  EXPECT_FALSE(DemandGrid::FromTrips(Trips({{nullptr, 5}}), DemandGridOptions{}).ok())
      << "no pickup time to place a default window";
}

TEST(DemandGridTest, FromCountsChecksSizesAndValues) {
  EXPECT_TRUE(DemandGrid::FromCounts(60, T("2021-03-01"), {1, 2}, 3, {0, 1, 2, 3, 4, 5}).ok());
  EXPECT_FALSE(DemandGrid::FromCounts(60, T("2021-03-01"), {1, 2}, 3, {0, 1, 2}).ok());
  EXPECT_FALSE(DemandGrid::FromCounts(60, T("2021-03-01"), {2, 1}, 1, {0, 1}).ok());
  EXPECT_FALSE(DemandGrid::FromCounts(60, T("2021-03-01"), {1}, 1, {-1}).ok());
  EXPECT_FALSE(DemandGrid::FromCounts(60, T("2021-03-01 00:10"), {1}, 1, {0}).ok());
  EXPECT_FALSE(DemandGrid::FromCounts(45, T("2021-03-01"), {1}, 1, {0}).ok());
}

TEST(DemandGridTest, WithZonesKeepsBucketsAndSelectsZones) {
  auto grid = DemandGrid::FromCounts(60, T("2021-03-01"), {1, 2, 3}, 2, {1, 2, 0, 0, 5, 6});
  ASSERT_TRUE(grid.ok());
  EXPECT_EQ(grid->ZonesWithPickups(0, 2), (std::vector<int32_t>{1, 3}));
  auto sub = grid->WithZones({3, 1});
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ(sub->zones(), (std::vector<int32_t>{1, 3}));
  EXPECT_EQ(sub->count(1, 1), 6);
  EXPECT_EQ(grid->WithZones({4}).status().code(), StatusCode::kNotFound);
}

TEST(DemandGridTest, CalendarOfBucketsIncludesHolidays) {
  auto grid = DemandGrid::FromCounts(15, T("2021-01-01"), {1}, 200, std::vector<float>(200, 0));
  ASSERT_TRUE(grid.ok());
  const BucketCalendar c = grid->Calendar(4 * 24 + 4 * 9 + 1);  // 2021-01-02 09:15
  EXPECT_EQ(c.hour, 9);
  EXPECT_EQ(c.slot_of_day, 37);
  EXPECT_EQ(c.weekday, 5) << "a Saturday";
  EXPECT_FALSE(c.holiday);
  EXPECT_TRUE(grid->Calendar(0).holiday) << "New Year's Day";
  EXPECT_EQ(grid->BucketOf(T("2021-01-01 00:29")), 1);
  EXPECT_EQ(grid->BucketOf(T("2020-12-31 23:59")), -1);
}

}  // namespace
}  // namespace bimride::features
