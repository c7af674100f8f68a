#include "data/trip_loader.h"

#include <gtest/gtest.h>

#include "common/file.h"
#include "data/csv_reader.h"

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

}  // namespace
}  // namespace bimride::data
