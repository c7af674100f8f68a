#include "data/trip_csv.h"

#include <gtest/gtest.h>

#include "common/civil_time.h"

namespace bimride::data {
namespace {

const std::string kFixtures = std::string(BIMRIDE_SOURCE_DIR) + "/tests/data/";

int64_t T(const char* text) { return *ParseCivil(text); }

TEST(TripCsvTest, ReadsGreenLayoutWithCrlfBlankLinesAndNulls) {
  StatusOr<CsvTrips> r = ReadTripsCsv(kFixtures + "green_tripdata_sample.csv");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->layout, CsvLayout::kTlcGreen);
  const TripTable& t = r->trips;
  EXPECT_EQ(t.source, TripSource::kTlcGreen);
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t.pickup_time_us[0], T("2021-01-01 00:15:56"));
  EXPECT_EQ(t.dropoff_time_us[0], T("2021-01-01 00:19:52"));
  EXPECT_EQ(t.pickup_zone[0], 43);
  EXPECT_EQ(t.dropoff_zone[0], 151);
  EXPECT_FLOAT_EQ(t.distance_miles[1], 2.53f);
  EXPECT_FLOAT_EQ(t.fare[1], 10.0f);
  EXPECT_FLOAT_EQ(t.total[1], 16.86f);
  EXPECT_EQ(t.vendor[2], 1);
  EXPECT_EQ(t.passengers[2], -1);  // empty passenger_count stays null
  EXPECT_EQ(r->lines[2], 5);       // after the blank line 4
  EXPECT_TRUE(std::isnan(t.pickup_lon[0]));
}

TEST(TripCsvTest, ReadsYellowAndFhvLayoutsByHeader) {
  StatusOr<CsvTrips> y = ReadTripsCsv(kFixtures + "yellow_tripdata_sample.csv");
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->layout, CsvLayout::kTlcYellow);
  ASSERT_EQ(y->trips.size(), 2u);
  EXPECT_EQ(y->trips.pickup_zone[1], 239);
  EXPECT_FLOAT_EQ(y->trips.fare[1], 14.0f);

  StatusOr<CsvTrips> f = ReadTripsCsv(kFixtures + "fhv_tripdata_sample.csv");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->layout, CsvLayout::kTlcFhv);
  EXPECT_EQ(f->trips.source, TripSource::kTlcFhv);
  ASSERT_EQ(f->trips.size(), 3u);
  EXPECT_EQ(f->trips.pickup_zone[0], kUnknownZone);  // null PUlocationID
  EXPECT_EQ(f->trips.pickup_zone[1], 132);
  EXPECT_EQ(f->trips.dropoff_zone[2], 72);
  EXPECT_EQ(f->trips.vendor[1], 13);  // base B00013
  EXPECT_EQ(f->trips.dropoff_time_us[2], T("2021-01-01 00:21:26"));
}

TEST(TripCsvTest, ReadsSimulatorTripsFiles) {
  const std::string text =
      "trip_id,rider_id,pickup_datetime,dropoff_datetime,pickup_zone,dropoff_zone,pickup_lon,"
      "pickup_lat,dropoff_lon,dropoff_lat,trip_distance,fare_amount,surge_multiplier,"
      "total_amount,passenger_count\n"
      "1,17,2025-03-03 08:01:00,2025-03-03 08:15:30,3,7,-73.99,40.71,-73.95,40.75,2.5,11.25,"
      "1.2,13.5,1\n";
  StatusOr<CsvTrips> r = ParseTripsCsv(text, "city.csv");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->layout, CsvLayout::kSimulator);
  EXPECT_EQ(CsvLayoutName(r->layout), "simulator");
  EXPECT_EQ(r->trips.source, TripSource::kSimulator);
  ASSERT_EQ(r->trips.size(), 1u);
  EXPECT_EQ(r->trips.dropoff_time_us[0], T("2025-03-03 08:15:30"));
  EXPECT_EQ(r->trips.dropoff_zone[0], 7);
  EXPECT_DOUBLE_EQ(r->trips.pickup_lat[0], 40.71);
  EXPECT_FLOAT_EQ(r->trips.distance_miles[0], 2.5f);
  EXPECT_FLOAT_EQ(r->trips.surge[0], 1.2f);
  EXPECT_EQ(r->trips.rider_id[0], 17);
}

TEST(TripCsvTest, IntegerFieldsTakeIntegralDecimalsButNothingOutOfRange) {
  const std::string header =
      "trip_id,rider_id,pickup_datetime,dropoff_datetime,pickup_zone,dropoff_zone,pickup_lon,"
      "pickup_lat,dropoff_lon,dropoff_lat,trip_distance,fare_amount,surge_multiplier,"
      "total_amount,passenger_count\n";
  auto parse = [&](const std::string& rider) {
    return ParseTripsCsv(header + "1," + rider +
                             ",2025-03-03 08:01:00,2025-03-03 08:15:30,3,7,-73.99,40.71,-73.95,"
                             "40.75,2.5,11.25,1.2,13.5,1\n",
                         "city.csv");
  };
  StatusOr<CsvTrips> r = parse("9223372036854775807");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->trips.rider_id[0], INT64_MAX);
  r = parse("17.0");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->trips.rider_id[0], 17);
  // 2^63 written as a decimal is one past INT64_MAX; 1e19 and 17.5 are not ids either.
  for (const char* bad : {"9223372036854775808.0", "1e19", "-1e19", "17.5"}) {
    r = parse(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("city.csv: line 2"), std::string::npos)
        << r.status().message();
    EXPECT_NE(r.status().message().find("rider id"), std::string::npos) << r.status().message();
  }
}

TEST(TripCsvTest, CoordinateLayoutsNeedAZoneIndex) {
  StatusOr<CsvTrips> r = ReadTripsCsv(kFixtures + "uber_apr14_head.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("uber_2014"), std::string::npos);
}

TEST(TripCsvTest, MalformedLineIsAnErrorNamingFileLineAndColumn) {
  StatusOr<CsvTrips> r = ReadTripsCsv(kFixtures + "green_malformed.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(
                "green_malformed.csv: line 3: column 'fare_amount': cannot parse 'ten' as a number"),
            std::string::npos)
      << r.status().message();
}

TEST(TripCsvTest, KeptMalformedRecordsNameEachProblemAndLoseNothing) {
  CsvReadOptions options;
  options.keep_malformed = true;
  StatusOr<CsvTrips> r = ReadTripsCsv(kFixtures + "green_malformed.csv", options);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->trips.size(), 1u);
  ASSERT_EQ(r->rejected.size(), 4u);
  EXPECT_EQ(r->records(), 5);
  EXPECT_EQ(r->rejected[0].line, 3);
  EXPECT_EQ(r->rejected[1].line, 4);
  EXPECT_EQ(r->rejected[1].problem, "expected 20 fields, found 11");
  EXPECT_EQ(r->rejected[2].line, 5);
  EXPECT_EQ(r->rejected[2].problem,
            "column 'lpep_pickup_datetime': cannot parse '2021-13-01 00:25:59' as a time");
  EXPECT_EQ(r->rejected[3].line, 6);
  EXPECT_EQ(r->rejected[3].problem, "unterminated quoted field");
  EXPECT_NE(r->rejected[0].raw.find(",ten,"), std::string::npos);
}

TEST(TripCsvTest, UnknownLayoutIsAnErrorShowingTheHeader) {
  StatusOr<CsvTrips> r = ReadTripsCsv(kFixtures + "unknown_layout.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unknown_layout.csv: line 1: unknown CSV layout (header "
                                      "'when,where,what'"),
            std::string::npos)
      << r.status().message();
  EXPECT_EQ(ParseTripsCsv("", "empty.csv").status().code(), StatusCode::kInvalidArgument);
}

TEST(TripCsvTest, TruncatedGzipIsDataLossNotACrash) {
  StatusOr<CsvTrips> r = ReadTripsCsv(kFixtures + "uber_truncated.csv.gz");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("uber_truncated.csv.gz: gzip: truncated"),
            std::string::npos);
}

TEST(TripCsvTest, DetectsLayoutOfAGzipFileNamedCsv) {
  StatusOr<CsvLayout> l = DetectCsvFileLayout(kFixtures + "uber_apr14_head_gzipped.csv");
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_EQ(*l, CsvLayout::kUber);
}

TEST(TripCsvTest, ParsesUsDateTimes) {
  EXPECT_EQ(*ParseUsDateTime("4/1/2014 0:11:00"), T("2014-04-01 00:11:00"));
  EXPECT_EQ(*ParseUsDateTime("04/30/2014 23:59"), T("2014-04-30 23:59:00"));
  EXPECT_EQ(*ParseUsDateTime("01/01/2019 12:05:00 AM"), T("2019-01-01 00:05:00"));
  EXPECT_EQ(*ParseUsDateTime("01/01/2019 12:05:00 PM"), T("2019-01-01 12:05:00"));
  EXPECT_EQ(*ParseUsDateTime("1/2/2019"), T("2019-01-02"));
  EXPECT_FALSE(ParseUsDateTime("4/31/2014 0:11:00").ok());
  EXPECT_FALSE(ParseUsDateTime("4/1/2014 0:11:00 XM").ok());
  EXPECT_FALSE(ParseUsDateTime("2014-04-01").ok());
}

TEST(TripCsvTest, OwnLayoutHeaderNamesItsColumnsInOrder) {
  EXPECT_EQ(TripsCsvHeader(),
            "source,pickup_time,dropoff_time,pickup_zone,dropoff_zone,pickup_lon,pickup_lat,"
            "dropoff_lon,dropoff_lat,distance_miles,fare,total,surge,passengers,vendor,rider_id");
}

TEST(TripCsvTest, OwnLayoutRoundTripsLosslessly) {
  TripTable t;
  t.source = TripSource::kSimulator;
  TripRow a;
  a.pickup_time_us = T("2024-05-06 07:08:09") + 123456;
  a.dropoff_time_us = a.pickup_time_us + 600 * kMicrosPerSecond;
  a.pickup_zone = 4;
  a.dropoff_zone = 263;
  a.pickup_lon = -73.98765432101;
  a.pickup_lat = 40.7;
  a.distance_miles = 1.0f / 3.0f;
  a.fare = 12.35f;
  a.surge = 1.7f;
  a.passengers = 2;
  a.rider_id = 1234567890123LL;
  t.Append(a);
  t.Append(TripRow{});  // all nulls
  std::string path = ::testing::TempDir() + "/roundtrip.csv";
  ASSERT_TRUE(WriteTripsCsv(t, path).ok());
  StatusOr<CsvTrips> r = ReadTripsCsv(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->layout, CsvLayout::kBimride);
  EXPECT_EQ(r->trips.source, TripSource::kSimulator);
  ASSERT_EQ(r->trips.size(), 2u);
  TripRow b = r->trips.Row(0);
  EXPECT_EQ(b.pickup_time_us, a.pickup_time_us);
  EXPECT_EQ(b.dropoff_time_us, a.dropoff_time_us);
  EXPECT_EQ(b.dropoff_zone, 263);
  EXPECT_EQ(b.pickup_lon, a.pickup_lon);
  EXPECT_EQ(b.distance_miles, a.distance_miles);
  EXPECT_EQ(b.fare, a.fare);
  EXPECT_EQ(b.surge, a.surge);
  EXPECT_EQ(b.passengers, 2);
  EXPECT_EQ(b.rider_id, a.rider_id);
  TripRow n = r->trips.Row(1);
  EXPECT_EQ(n.pickup_time_us, kNullTime);
  EXPECT_TRUE(std::isnan(n.fare));
  EXPECT_EQ(n.vendor, -1);
}

}  // namespace
}  // namespace bimride::data
