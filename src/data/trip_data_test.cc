// Reads the real shared data: all eight TLC green Parquet files, the Uber April 2014 pickups
// and the Kaggle trip-duration sample (label `data`).
#include <gtest/gtest.h>

#include <algorithm>

#include "common/civil_time.h"
#include "common/file.h"
#include "data/trip_loader.h"
#include "data/trip_parquet.h"
#include "parquet/file_reader.h"

namespace bimride::data {
namespace {

const std::string kData = BIMRIDE_DATA_DIR;

std::string Need(const std::string& path) {
  if (!FileExists(path)) {
    ADD_FAILURE() << "missing shared data file " << path << " (set BIMRIDE_DATA_DIR)";
  }
  return path;
}

struct Green {
  const char* month;
  int64_t rows;  // shared/data/DATA.md
};
const Green kGreen[] = {{"2021-01", 76518}, {"2021-02", 64572}, {"2021-03", 83827},
                        {"2022-01", 62495}, {"2022-02", 69399}, {"2023-01", 68211},
                        {"2023-02", 64809}, {"2023-03", 72044}};

std::string GreenPath(const char* month) {
  return Need(kData + "/tlc_green/green_tripdata_" + month + ".parquet");
}

TEST(TripDataTest, AllEightGreenFilesMapToTripTablesWithExactRowCounts) {
  for (const Green& g : kGreen) {
    SCOPED_TRACE(g.month);
    StatusOr<ParquetTrips> r = ReadTripsParquet(GreenPath(g.month));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const TripTable& t = r->trips;
    EXPECT_EQ(r->layout, "tlc_green");
    EXPECT_EQ(t.source, TripSource::kTlcGreen);
    EXPECT_EQ(static_cast<int64_t>(t.size()), g.rows);
    EXPECT_TRUE(t.CheckConsistent().ok());
    // Most pickups fall in the file's month, whatever the time unit on disk.
    int year = std::stoi(std::string(g.month).substr(0, 4));
    int month = std::stoi(std::string(g.month).substr(5, 2));
    int64_t in_month = std::count_if(t.pickup_time_us.begin(), t.pickup_time_us.end(),
                                     [&](int64_t us) {
                                       CivilTime c = CivilFromMicros(us);
                                       return us != kNullTime && c.year == year && c.month == month;
                                     });
    EXPECT_GT(in_month, g.rows * 95 / 100);
    int64_t zones_ok = std::count_if(t.pickup_zone.begin(), t.pickup_zone.end(),
                                     [](int32_t z) { return z >= 1 && z <= 265; });
    EXPECT_EQ(zones_ok, g.rows);
  }
}

TEST(TripDataTest, GreenNullsArePreservedNotInvented) {
  const std::string path = GreenPath("2021-01");
  auto reader = parquet::FileReader::Open(path);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto pc = (*reader)->ColumnIndex("passenger_count");
  ASSERT_TRUE(pc.ok());
  int64_t parquet_nulls = 0;
  for (int rg = 0; rg < (*reader)->num_row_groups(); ++rg) {
    auto b = (*reader)->ReadRowGroup(rg, {*pc});
    ASSERT_TRUE(b.ok());
    parquet_nulls += b->columns[0].null_count;
  }
  EXPECT_GT(parquet_nulls, 0);  // DATA.md: nulls in passenger_count
  StatusOr<ParquetTrips> r = ReadTripsParquet(path);
  ASSERT_TRUE(r.ok());
  int64_t table_nulls =
      std::count(r->trips.passengers.begin(), r->trips.passengers.end(), int16_t{-1});
  EXPECT_EQ(table_nulls, parquet_nulls);
}

TEST(TripDataTest, ValidationKeepsPlusQuarantinesEqualsReadOnEveryGreenFile) {
  std::vector<std::string> paths;
  int64_t documented = 0;
  for (const Green& g : kGreen) {
    paths.push_back(GreenPath(g.month));
    documented += g.rows;
  }
  StatusOr<LoadedTrips> r = LoadTripsWithReport(paths);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->files.size(), 8u);
  for (const FileLoadReport& f : r->files) {
    SCOPED_TRACE(f.path);
    EXPECT_EQ(f.report.kept + f.report.quarantined, f.report.read);
    EXPECT_EQ(f.report.month_from, "file name");
    int64_t by_rule = 0;
    for (int64_t n : f.report.per_rule) by_rule += n;
    EXPECT_EQ(by_rule, f.report.quarantined);
  }
  EXPECT_EQ(r->report.read, documented);
  EXPECT_EQ(static_cast<int64_t>(r->trips.size() + r->quarantine.size()), documented);
  EXPECT_EQ(static_cast<int64_t>(r->trips.size()), r->report.kept);
  // The documented dirt is caught: stray 2008/2009 rows, negative fares.
  EXPECT_GT(r->report.per_rule[static_cast<int>(TripRule::kOutsideFileMonth)], 0);
  EXPECT_GT(r->report.per_rule[static_cast<int>(TripRule::kBadFare)], 0);
  EXPECT_LT(r->report.quarantined, documented / 10);
}

TEST(TripDataTest, UberApril2014PickupsMapToZones) {
  LoadTripsOptions options;
  options.zones_dir = kData + "/zones";
  StatusOr<LoadedTrips> r =
      LoadTripsWithReport({Need(kData + "/uber/uber-raw-data-apr14.csv.gz")}, options);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->report.read, 564516);
  EXPECT_EQ(r->report.kept + r->report.quarantined, r->report.read);
  EXPECT_EQ(r->files[0].format, "uber_2014");
  EXPECT_EQ(r->report.month_from, "file name");
  EXPECT_EQ(r->report.month, 4);
  EXPECT_EQ(r->trips.source, TripSource::kUber);
  // Nearly every pickup lies in a zone; the rest (outside NYC) are quarantined, not dropped.
  EXPECT_GT(r->report.kept, 564516 * 95 / 100);
  EXPECT_EQ(r->report.per_rule[static_cast<int>(TripRule::kUnknownZone)], r->report.quarantined);
  EXPECT_EQ(r->trips.pickup_time_us[0], *ParseCivil("2014-04-01 00:11:00"));
  EXPECT_EQ(r->trips.vendor[0], 2512);
}

TEST(TripDataTest, KaggleSampleMapsCoordinatesToZonesAndSpansSeveralMonths) {
  LoadTripsOptions options;
  options.zones_dir = kData + "/zones";
  StatusOr<LoadedTrips> r =
      LoadTripsWithReport({Need(kData + "/kaggle_trip_duration_sample/train.csv")}, options);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->report.read, 5000);
  EXPECT_EQ(r->files[0].format, "kaggle_trip_duration");
  EXPECT_EQ(r->report.month, 0);  // Jan–Jun 2016: no single file month
  EXPECT_GT(r->report.kept, 4800);
  EXPECT_EQ(r->trips.pickup_zone[0], 100);  // -73.9906, 40.7511: 7th Ave & 34th St, Garment District
}

TEST(TripDataTest, MixingSourcesInOneLoadIsAnError) {
  LoadTripsOptions options;
  options.zones_dir = kData + "/zones";
  StatusOr<TripTable> r = LoadTrips(
      {GreenPath("2023-03"), std::string(BIMRIDE_SOURCE_DIR) + "/tests/data/uber_apr14_head.csv"},
      options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("uber_apr14_head.csv"), std::string::npos);
}

TEST(TripDataTest, BadCoordinatesNameFileLineAndColumn) {
  LoadTripsOptions options;
  options.zones_dir = kData + "/zones";
  options.validate = false;
  StatusOr<TripTable> r =
      LoadTrips({std::string(BIMRIDE_SOURCE_DIR) + "/tests/data/kaggle_bad_coordinates.csv"},
                options);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(
                "kaggle_bad_coordinates.csv: line 3: column 'pickup_longitude': longitude -273.99 "
                "is out of range"),
            std::string::npos)
      << r.status().message();
}

}  // namespace
}  // namespace bimride::data
