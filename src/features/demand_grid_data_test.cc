// DemandGrid on the real trips in ../shared/data (label: data).
#include <gtest/gtest.h>

#include "common/civil_time.h"
#include "data/trip_loader.h"
#include "features/demand_grid.h"

namespace bimride::features {
namespace {

const std::string kData = BIMRIDE_DATA_DIR;

TEST(DemandGridDataTest, GreenJanuary2021HourlyCountsAddUpToTheTrips) {
  auto trips = data::LoadTrips({kData + "/tlc_green/green_tripdata_2021-01.parquet"});
  ASSERT_TRUE(trips.ok()) << trips.status().ToString() << " (needs ../shared/data)";
  DemandGridOptions o;
  o.start_us = *ParseCivil("2021-01-01");
  o.end_us = *ParseCivil("2021-02-01");
  DemandGridReport r;
  auto grid = DemandGrid::FromTrips(*trips, o, &r);
  ASSERT_TRUE(grid.ok()) << grid.status().ToString();
  EXPECT_EQ(grid->num_buckets(), 31 * 24);
  EXPECT_EQ(r.trips, static_cast<int64_t>(trips->size()));
  EXPECT_EQ(r.counted + r.outside_window + r.no_pickup_time + r.unknown_zone + r.untracked_zone,
            r.trips);
  EXPECT_EQ(grid->Total(), r.counted);
  EXPECT_GT(r.counted, 70'000) << r.ToString();
  EXPECT_GT(grid->num_zones(), 200u);
  // Sparse: most zone-hours are zero, and the zeros are there.
  int64_t zeros = 0;
  for (float c : grid->counts()) zeros += c == 0;
  EXPECT_GT(zeros, static_cast<int64_t>(grid->counts().size() / 2));
  EXPECT_EQ(grid->counts().size(), grid->num_zones() * 31 * 24);
}

TEST(DemandGridDataTest, UberApril2014PickupsGetZonesFromCoordinates) {
  auto trips = data::LoadTrips({kData + "/uber/uber-raw-data-apr14.csv.gz"},
                               data::LoadTripsOptions{.zones_dir = kData + "/zones"});
  ASSERT_TRUE(trips.ok()) << trips.status().ToString() << " (needs ../shared/data)";
  DemandGridOptions o;
  o.bucket_minutes = 15;
  o.start_us = *ParseCivil("2014-04-01");
  o.end_us = *ParseCivil("2014-05-01");
  DemandGridReport r;
  auto grid = DemandGrid::FromTrips(*trips, o, &r);
  ASSERT_TRUE(grid.ok()) << grid.status().ToString();
  EXPECT_EQ(grid->num_buckets(), 30 * 96);
  EXPECT_GT(r.counted, 0.98 * r.trips) << r.ToString();
  EXPECT_GT(grid->num_zones(), 150u);
  // Midtown Center (161) is among the busiest Uber zones of 2014.
  const int midtown = grid->ZonePosition(161);
  ASSERT_GE(midtown, 0);
  EXPECT_GT(grid->ZoneTotal(midtown, 0, grid->num_buckets()), 5000);
}

}  // namespace
}  // namespace bimride::features
