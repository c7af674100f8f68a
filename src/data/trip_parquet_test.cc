#include "data/trip_parquet.h"

#include <gtest/gtest.h>

#include "common/civil_time.h"
#include "common/file.h"
#include "data/trip_loader.h"
#include "parquet/file_reader.h"
#include "parquet/file_writer.h"

namespace bimride::data {
namespace {

TripTable Sample() {
  TripTable t;
  t.source = TripSource::kSimulator;
  TripRow a;
  a.pickup_time_us = *ParseCivil("2024-05-06 07:08:09.123456");
  a.dropoff_time_us = a.pickup_time_us + 900 * kMicrosPerSecond;
  a.pickup_zone = 161;
  a.dropoff_zone = 237;
  a.pickup_lon = -73.978;
  a.pickup_lat = 40.758;
  a.distance_miles = 2.25f;
  a.fare = 13.5f;
  a.total = 18.1f;
  a.surge = 1.4f;
  a.passengers = 3;
  a.vendor = 2;
  a.rider_id = 9'000'000'001LL;
  t.Append(a);
  t.Append(TripRow{});  // every column null
  return t;
}

TEST(TripParquetTest, OwnLayoutRoundTripsIncludingNulls) {
  TripTable t = Sample();
  std::string path = ::testing::TempDir() + "/trips_roundtrip.parquet";
  ASSERT_TRUE(WriteTripsParquet(t, path).ok());
  StatusOr<ParquetTrips> r = ReadTripsParquet(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->layout, "bimride");
  EXPECT_EQ(r->trips.source, TripSource::kSimulator);
  ASSERT_EQ(r->trips.size(), 2u);
  TripRow a = t.Row(0), b = r->trips.Row(0);
  EXPECT_EQ(b.pickup_time_us, a.pickup_time_us);
  EXPECT_EQ(b.dropoff_time_us, a.dropoff_time_us);
  EXPECT_EQ(b.pickup_zone, 161);
  EXPECT_EQ(b.dropoff_zone, 237);
  EXPECT_EQ(b.pickup_lon, a.pickup_lon);
  EXPECT_TRUE(std::isnan(b.dropoff_lon));
  EXPECT_EQ(b.fare, a.fare);
  EXPECT_EQ(b.surge, a.surge);
  EXPECT_EQ(b.passengers, 3);
  EXPECT_EQ(b.rider_id, a.rider_id);
  TripRow n = r->trips.Row(1);
  EXPECT_EQ(n.pickup_time_us, kNullTime);
  EXPECT_EQ(n.pickup_zone, kUnknownZone);
  EXPECT_TRUE(std::isnan(n.total));
  EXPECT_EQ(n.passengers, -1);
  EXPECT_EQ(n.rider_id, -1);
  // Times are written as naive microsecond timestamps.
  auto reader = parquet::FileReader::Open(path);
  ASSERT_TRUE(reader.ok());
  const parquet::ColumnSchema& s = (*reader)->schema()[1];
  EXPECT_EQ(s.name, "pickup_time");
  EXPECT_EQ(s.time_unit, parquet::TimeUnit::kMicros);
  EXPECT_FALSE(s.utc_adjusted);
}

TEST(TripParquetTest, TimesInEveryUnitBecomeMicroseconds) {
  // The simulator layout's columns, times in milliseconds and nanoseconds (floor division:
  // -1 ns is -1 µs), a null in each time column.
  namespace pq = parquet;
  auto field = [](const char* name, pq::PhysicalType p, pq::TimeUnit unit = pq::TimeUnit::kNone) {
    pq::ColumnSchema s;
    s.name = name;
    s.physical = p;
    s.optional = true;
    if (unit != pq::TimeUnit::kNone) {
      s.logical = pq::LogicalKind::kTimestamp;
      s.time_unit = unit;
    }
    return s;
  };
  using P = pq::PhysicalType;
  std::vector<pq::ColumnSchema> schema = {
      field("trip_id", P::kInt64),
      field("rider_id", P::kInt64),
      field("pickup_datetime", P::kInt64, pq::TimeUnit::kMillis),
      field("dropoff_datetime", P::kInt64, pq::TimeUnit::kNanos),
      field("pickup_zone", P::kInt32),
      field("dropoff_zone", P::kInt32),
      field("surge_multiplier", P::kDouble)};
  auto column = [](P p, std::vector<int64_t> v, std::vector<uint8_t> validity = {}) {
    pq::Column c;
    c.physical = p;
    c.num_rows = static_cast<int64_t>(v.size());
    if (p == P::kInt32) {
      c.i32.assign(v.begin(), v.end());
    } else if (p == P::kDouble) {
      c.f64.assign(v.begin(), v.end());
    } else {
      c.i64 = v;
    }
    c.validity = std::move(validity);
    for (uint8_t b : c.validity) c.null_count += b == 0;
    return c;
  };
  const std::vector<int64_t> millis = {1'700'000'000'123, 0, -1};
  const std::vector<int64_t> nanos = {1'700'000'000'123'456'789, -1, 0};
  std::vector<pq::Column> columns = {
      column(P::kInt64, {1, 2, 3}),           column(P::kInt64, {7, 8, 9}),
      column(P::kInt64, millis, {1, 0, 1}),   column(P::kInt64, nanos, {1, 1, 0}),
      column(P::kInt32, {1, 2, 3}),           column(P::kInt32, {4, 5, 6}),
      column(P::kDouble, {1, 1, 2})};
  const std::string path = ::testing::TempDir() + "/trips_time_units.parquet";
  auto w = pq::FileWriter::Open(path, schema);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  ASSERT_TRUE((*w)->Write(columns).ok());
  ASSERT_TRUE((*w)->Close().ok());
  StatusOr<ParquetTrips> r = ReadTripsParquet(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->layout, "simulator");
  const TripTable& t = r->trips;
  EXPECT_EQ(t.pickup_time_us, (std::vector<int64_t>{1'700'000'000'123'000, kNullTime, -1000}));
  EXPECT_EQ(t.dropoff_time_us, (std::vector<int64_t>{1'700'000'000'123'456, -1, kNullTime}));
}

TEST(TripParquetTest, QuarantineParquetHasRuleColumnAndMalformedRecords) {
  TripRow bad = Sample().Row(0);
  bad.fare = -2;
  TripTable t;
  t.source = TripSource::kSimulator;
  t.Append(Sample().Row(0));
  t.Append(bad);
  std::vector<RejectedRecord> malformed = {{"/x/in.csv", 4, "expected 16 fields, found 2", "a,b"}};
  ValidationResult v = Validate(t, {}, {"in.csv", nullptr, &malformed});
  ASSERT_EQ(v.quarantine.size(), 2u);
  std::string path = ::testing::TempDir() + "/quarantine.parquet";
  ASSERT_TRUE(SaveQuarantine(v.quarantine, path).ok());
  auto reader = parquet::FileReader::Open(path);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->num_rows(), 2);
  auto batch = (*reader)->ReadRowGroup(0, {0, 1, 2, 3, 14});
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_EQ(batch->columns[0].ByteValue(0), "malformed_record");
  EXPECT_EQ(batch->columns[1].ByteValue(0), "in.csv line 4");
  EXPECT_EQ(batch->columns[2].ByteValue(0), "expected 16 fields, found 2");
  EXPECT_EQ(batch->columns[3].ByteValue(0), "a,b");
  EXPECT_EQ(batch->columns[0].ByteValue(1), "bad_fare");
  EXPECT_TRUE(batch->columns[2].IsNull(1));
  EXPECT_EQ((*reader)->schema()[14].name, "fare");
  EXPECT_TRUE(batch->columns[4].IsNull(0));
  EXPECT_FLOAT_EQ(batch->columns[4].f32[1], -2.0f);
}

TEST(TripParquetTest, UnknownParquetLayoutAndCorruptFilesAreErrors) {
  std::string path = ::testing::TempDir() + "/not_trips.parquet";
  parquet::ColumnSchema s;
  s.name = "temperature";
  s.physical = parquet::PhysicalType::kDouble;
  auto w = parquet::FileWriter::Open(path, {s});
  ASSERT_TRUE(w.ok());
  parquet::Column c;
  c.physical = parquet::PhysicalType::kDouble;
  c.num_rows = 1;
  c.f64 = {21.5};
  ASSERT_TRUE((*w)->Write({c}).ok());
  ASSERT_TRUE((*w)->Close().ok());
  StatusOr<ParquetTrips> r = ReadTripsParquet(path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unknown Parquet trip layout (columns 'temperature"),
            std::string::npos)
      << r.status().message();

  std::string corrupt = ::testing::TempDir() + "/corrupt.parquet";
  ASSERT_TRUE(WriteFileAtomic(corrupt, "PAR1 this is not really parquet PAR1").ok());
  StatusOr<LoadedTrips> l = LoadTripsWithReport({corrupt});
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.status().message().find("corrupt.parquet"), std::string::npos);
}

TEST(TripParquetTest, SaveTripsChoosesTheFormatByExtension) {
  TripTable t = Sample();
  std::string dir = ::testing::TempDir();
  ASSERT_TRUE(SaveTrips(t, dir + "/by_ext.parquet").ok());
  ASSERT_TRUE(SaveTrips(t, dir + "/by_ext.csv").ok());
  LoadTripsOptions no_validation;
  no_validation.validate = false;
  StatusOr<TripTable> a = LoadTrips({dir + "/by_ext.parquet"}, no_validation);
  StatusOr<TripTable> b = LoadTrips({dir + "/by_ext.csv"}, no_validation);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 2u);
  EXPECT_EQ(a->fare[0], b->fare[0]);
  EXPECT_TRUE(std::isnan(a->fare[1]) && std::isnan(b->fare[1]));
  EXPECT_EQ(a->pickup_time_us, b->pickup_time_us);
  EXPECT_EQ(a->rider_id, b->rider_id);
  EXPECT_EQ(SaveTrips(t, dir + "/x.json").code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace bimride::data
