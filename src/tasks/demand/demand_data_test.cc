// Loading a demand grid from trip files: the protocol's zone set (zones with a training
// pickup), counts per bucket, dropped trips counted, and clear errors. Label: unit.
#include "tasks/demand/demand_data.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/civil_time.h"
#include "data/trip_parquet.h"
#include "registry/run_tracker.h"
#include "tasks/demand/demand_test_util.h"

namespace bimride::tasks::demand {
namespace {

using testing::T;

class DemandDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        (std::filesystem::temp_directory_path() / ("demand_data_" + registry::NewRunId())).string();
    std::filesystem::create_directories(dir_);
    // Zone 4: 2 pickups at 08:xx on Mar 1 and 1 at 09:10 on Mar 2 (training window).
    // Zone 7: 1 pickup on Mar 3 only (after the training window): dropped.
    data::TripTable trips;
    for (auto [zone, when] : {std::pair{4, "2021-03-01 08:05"}, std::pair{4, "2021-03-01 08:55"},
                              std::pair{4, "2021-03-02 09:10"}, std::pair{7, "2021-03-03 12:00"}}) {
      data::TripRow r;
      r.pickup_zone = zone;
      r.dropoff_zone = 1;
      r.pickup_time_us = T(when);
      r.dropoff_time_us = r.pickup_time_us + 12 * kMicrosPerMinute;
      r.distance_miles = 2;
      trips.Append(r);
    }
    path_ = dir_ + "/trips.parquet";
    ASSERT_TRUE(data::WriteTripsParquet(trips, path_).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  DemandDataOptions Options() const {
    DemandDataOptions o;
    o.trip_files = {path_};
    o.begin_us = T("2021-03-01");
    o.end_us = T("2021-03-04");
    o.zones_begin_us = T("2021-03-01");
    o.zones_end_us = T("2021-03-03");
    return o;
  }

  std::string dir_, path_;
};

TEST_F(DemandDataTest, KeepsZonesWithATrainingPickupAndCountsTheRest) {
  auto d = LoadDemandGrid(Options());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->grid.zones(), (std::vector<int32_t>{4}));
  EXPECT_EQ(d->grid.num_buckets(), 3 * 24);
  EXPECT_EQ(d->grid.count(0, 8), 2) << "two pickups in the 08:00 bucket of Mar 1";
  EXPECT_EQ(d->grid.count(0, 24 + 9), 1);
  EXPECT_EQ(d->grid.Total(), 3);
  EXPECT_EQ(d->dropped_zone_trips, 1);
}

TEST_F(DemandDataTest, BadWindowsAndFilesAreClearErrors) {
  DemandDataOptions o = Options();
  o.trip_files = {};
  EXPECT_EQ(LoadDemandGrid(o).status().code(), StatusCode::kInvalidArgument);
  o = Options();
  o.trip_files = {dir_ + "/missing.parquet"};
  auto missing = LoadDemandGrid(o);
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("missing.parquet"), std::string::npos);
  o = Options();
  o.zones_begin_us = T("2021-03-03 13:00");
  o.zones_end_us = T("2021-03-04");
  auto none = LoadDemandGrid(o);
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_NE(none.status().message().find("trips.parquet"), std::string::npos);
  o = Options();
  o.end_us = o.begin_us;
  EXPECT_FALSE(LoadDemandGrid(o).ok());
}

}  // namespace
}  // namespace bimride::tasks::demand
