#include "data/trip_loader.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/civil_time.h"
#include "common/file.h"
#include "data/csv_reader.h"
#include "data/trip_parquet.h"

namespace bimride::data {
namespace {

const std::string kGreenHeader =
    "VendorID,lpep_pickup_datetime,lpep_dropoff_datetime,store_and_fwd_flag,RatecodeID,"
    "PULocationID,DOLocationID,passenger_count,trip_distance,fare_amount,extra,mta_tax,"
    "tip_amount,tolls_amount,ehail_fee,improvement_surcharge,total_amount,payment_type,"
    "trip_type,congestion_surcharge\n";
const std::string kGreenRow =
    "2,2021-01-01 00:15:56,2021-01-01 00:19:52,N,1,43,151,1,1.01,5.5,0.5,0.5,0,0,,0.3,6.8,2,1,0\n";

std::string WriteTemp(const std::string& name, const std::string& contents) {
  const std::string path = ::testing::TempDir() + "/" + name;
  EXPECT_TRUE(WriteFileAtomic(path, contents).ok());
  return path;
}

TEST(LoadTripsTest, LineOverTheCapIsQuarantinedNamingFileAndLine) {
  const std::string path =
      WriteTemp("giant_line.csv",
                kGreenHeader + kGreenRow + std::string(kMaxLineBytes + 10, '7') + "\n" + kGreenRow);
  StatusOr<LoadedTrips> loaded = LoadTripsWithReport({path});
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->report.read, 3);
  EXPECT_EQ(loaded->report.kept, 2);
  ASSERT_EQ(loaded->quarantine.malformed.size(), 1u);
  const RejectedRecord& r = loaded->quarantine.malformed[0];
  EXPECT_EQ(r.line, 3);
  EXPECT_EQ(r.problem, "record longer than the cap of 1048576 bytes (not a line of a CSV?)");
  EXPECT_EQ(r.raw.size(), CsvTokenizer::kRawPrefixBytes);
  // Without validation the line is an error naming the file and line.
  LoadTripsOptions off;
  off.validate = false;
  StatusOr<LoadedTrips> strict = LoadTripsWithReport({path}, off);
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.status().message(), path +
                                           ": line 3: record longer than the cap of 1048576 "
                                           "bytes (not a line of a CSV?)");
}

TEST(LoadTripsTest, ParquetNamedFileWithoutTheMarkerGetsAParquetError) {
  for (const std::string& contents :
       {kGreenHeader + kGreenRow, std::string("\"x"), std::string()}) {
    const std::string path = WriteTemp("not_really.parquet", contents);
    StatusOr<LoadedTrips> loaded = LoadTripsWithReport({path});
    ASSERT_FALSE(loaded.ok());
    const std::string message = loaded.status().message();
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("Parquet"), std::string::npos) << message;
    EXPECT_EQ(message.find("CSV"), std::string::npos) << message;
    EXPECT_EQ(message.find("line"), std::string::npos) << message;
  }
}


TripTable Trips(TripSource source, int rows, int64_t first_rider) {
  TripTable t;
  t.source = source;
  for (int i = 0; i < rows; ++i) {
    TripRow r;
    r.pickup_time_us = *ParseCivil("2024-05-06 07:08:09") + i * kMicrosPerSecond;
    r.dropoff_time_us = r.pickup_time_us + 600 * kMicrosPerSecond;
    r.pickup_zone = 1 + i % 200;
    r.dropoff_zone = 2 + i % 150;
    r.distance_miles = 0.5f + static_cast<float>(i);
    r.fare = 7.0f + static_cast<float>(i);
    r.rider_id = first_rider + i;
    t.Append(r);
  }
  return t;
}

std::string WriteParquetTemp(const std::string& name, const TripTable& t) {
  const std::string path = ::testing::TempDir() + "/" + name;
  EXPECT_TRUE(WriteTripsParquet(t, path).ok());
  return path;
}

void ExpectSameRow(const TripTable& a, size_t i, const TripTable& b, size_t j) {
  TripRow x = a.Row(i), y = b.Row(j);
  EXPECT_EQ(x.pickup_time_us, y.pickup_time_us);
  EXPECT_EQ(x.pickup_zone, y.pickup_zone);
  EXPECT_EQ(x.distance_miles, y.distance_miles);
  EXPECT_EQ(x.fare, y.fare);
  EXPECT_EQ(x.rider_id, y.rider_id);
}

TEST(LoadTripsTest, UnvalidatedParquetFilesAreAppendedInFileOrder) {
  const TripTable a = Trips(TripSource::kSimulator, 3, 100);
  const TripTable b = Trips(TripSource::kSimulator, 5, 200);
  const std::string pa = WriteParquetTemp("append_a.parquet", a);
  const std::string pb = WriteParquetTemp("append_b.parquet", b);
  LoadTripsOptions off;
  off.validate = false;
  StatusOr<LoadedTrips> loaded = LoadTripsWithReport({pa, pb, pa}, off);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const TripTable& t = loaded->trips;
  ASSERT_EQ(t.size(), 11u);
  EXPECT_TRUE(t.CheckConsistent().ok());
  EXPECT_EQ(t.source, TripSource::kSimulator);
  for (size_t i = 0; i < 3; ++i) ExpectSameRow(t, i, a, i);
  for (size_t i = 0; i < 5; ++i) ExpectSameRow(t, 3 + i, b, i);
  for (size_t i = 0; i < 3; ++i) ExpectSameRow(t, 8 + i, a, i);
  ASSERT_EQ(loaded->files.size(), 3u);
  EXPECT_EQ(loaded->files[1].report.read, 5);
  EXPECT_EQ(loaded->files[1].format, "parquet bimride");
  EXPECT_EQ(loaded->report.kept, 11);
  // Validated, the same files give the same rows (each file's table moved or appended).
  StatusOr<LoadedTrips> validated = LoadTripsWithReport({pa, pb});
  ASSERT_TRUE(validated.ok()) << validated.status().ToString();
  EXPECT_EQ(validated->report.read, 8);
  EXPECT_EQ(validated->report.kept + validated->report.quarantined, 8);
}

TEST(LoadTripsTest, UnvalidatedParquetDecodesOnlyTheAskedColumns) {
  const TripTable a = Trips(TripSource::kSimulator, 4, 100);
  const std::string path = WriteParquetTemp("only_columns.parquet", a);
  LoadTripsOptions options;
  options.validate = false;
  options.columns = {"fare", "rider_id"};
  StatusOr<TripTable> t = LoadTrips({path}, options);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->size(), 4u);
  EXPECT_EQ(t->source, TripSource::kSimulator);  // the source is always read
  EXPECT_EQ(t->fare, a.fare);
  EXPECT_EQ(t->rider_id, a.rider_id);
  for (size_t i = 0; i < t->size(); ++i) {  // the others were not decoded: null
    EXPECT_EQ(t->pickup_zone[i], kUnknownZone);
    EXPECT_EQ(t->pickup_time_us[i], kNullTime);
    EXPECT_TRUE(std::isnan(t->distance_miles[i]));
  }
  options.columns = {"fare", "pickup_time"};
  StatusOr<TripTable> bad = LoadTrips({path}, options);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("no trip column 'pickup_time'"), std::string::npos)
      << bad.status().ToString();
  // Validated reads need every column: the option names what the caller keeps, nothing less.
  options.validate = true;
  options.columns = {"fare"};
  StatusOr<TripTable> validated = LoadTrips({path}, options);
  ASSERT_TRUE(validated.ok()) << validated.status().ToString();
  EXPECT_EQ(validated->pickup_zone, a.pickup_zone);
}

TEST(LoadTripsTest, ParquetOfAnotherSourceIsRefusedAndTheTableIsLeftAsItWas) {
  const std::string sim = WriteParquetTemp("source_sim.parquet", Trips(TripSource::kSimulator, 4, 1));
  const std::string green =
      WriteParquetTemp("source_green.parquet", Trips(TripSource::kTlcGreen, 2, 1));
  LoadTripsOptions off;
  off.validate = false;
  StatusOr<TripTable> mixed = LoadTrips({sim, green}, off);
  ASSERT_FALSE(mixed.ok());
  EXPECT_EQ(mixed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(mixed.status().message().find(green), std::string::npos) << mixed.status().ToString();
  EXPECT_NE(mixed.status().message().find("cannot append"), std::string::npos);

  TripTable into = Trips(TripSource::kSimulator, 4, 1);
  StatusOr<ParquetTripsRead> refused = AppendTripsParquet(green, &into);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(into.size(), 4u);
  EXPECT_EQ(into.source, TripSource::kSimulator);
  EXPECT_TRUE(into.CheckConsistent().ok());
  // A damaged file (cut in half) is an error naming it, and the table is untouched too.
  StatusOr<std::string> bytes = ReadFile(sim);
  ASSERT_TRUE(bytes.ok());
  const std::string cut = WriteTemp("source_cut.parquet", bytes->substr(0, bytes->size() / 2));
  StatusOr<ParquetTripsRead> damaged = AppendTripsParquet(cut, &into);
  ASSERT_FALSE(damaged.ok());
  EXPECT_NE(damaged.status().message().find(cut), std::string::npos);
  EXPECT_EQ(into.size(), 4u);
  EXPECT_TRUE(into.CheckConsistent().ok());
}

}  // namespace
}  // namespace bimride::data
