// `bimride data inspect|convert` end to end: runs the built CLI ($BIMRIDE_CLI).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <sys/wait.h>

#include "common/file.h"

namespace bimride {
namespace {

const std::string kFixtures = std::string(BIMRIDE_SOURCE_DIR) + "/tests/data/";

struct CliRun {
  int code;
  std::string out, err;
};

CliRun Cli(const std::string& args) {
  const char* cli = std::getenv("BIMRIDE_CLI");
  std::string bin = cli ? cli : std::string(BIMRIDE_BINARY_DIR) + "/bimride";
  std::string dir = ::testing::TempDir();
  std::string cmd = "BIMRIDE_DATA_DIR='" + std::string(BIMRIDE_DATA_DIR) + "' '" + bin +
                    "' data " + args + " >" + dir + "/cli.out 2>" + dir + "/cli.err";
  int status = std::system(cmd.c_str());
  CliRun r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, "", ""};
  r.out = ReadFile(dir + "/cli.out").value();
  r.err = ReadFile(dir + "/cli.err").value();
  return r;
}

int CountLines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

TEST(DataCliTest, ConvertWritesCsvAndPrintsTheReport) {
  std::string out = ::testing::TempDir() + "/green_out.csv";
  CliRun r = Cli("convert " + kFixtures + "green_tripdata_sample.csv " + out);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("kept + quarantined == read: yes"), std::string::npos) << r.out;
  std::string written = ReadFile(out).value();
  EXPECT_EQ(CountLines(written), 4);  // header + 3 trips
  EXPECT_NE(written.find("tlc_green,2021-01-01 00:15:56,2021-01-01 00:19:52,43,151"),
            std::string::npos);
}

TEST(DataCliTest, ConvertQuarantinesMalformedLinesWithTheirRule) {
  std::string out = ::testing::TempDir() + "/bad_out.csv";
  std::string q = ::testing::TempDir() + "/bad_q.csv";
  CliRun r = Cli("convert " + kFixtures + "green_malformed.csv " + out + " --quarantine " + q);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("read 5, kept 1, quarantined 4"), std::string::npos) << r.out;
  std::string quarantine = ReadFile(q).value();
  EXPECT_EQ(CountLines(quarantine), 5);
  EXPECT_NE(quarantine.find("malformed_record,green_malformed.csv line 3,column 'fare_amount': "
                            "cannot parse 'ten' as a number"),
            std::string::npos)
      << quarantine;
}

TEST(DataCliTest, WithoutValidationAMalformedLineFailsWithOneLineNamingIt) {
  CliRun r = Cli("convert --no-validate " + kFixtures + "green_malformed.csv " +
              ::testing::TempDir() + "/x.csv");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(CountLines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("green_malformed.csv: line 3: column 'fare_amount'"), std::string::npos)
      << r.err;
}

TEST(DataCliTest, BadInputsFailCleanly) {
  CliRun r = Cli("inspect " + kFixtures + "unknown_layout.csv");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("unknown CSV layout"), std::string::npos) << r.err;
  r = Cli("inspect " + kFixtures + "uber_truncated.csv.gz");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("gzip: truncated"), std::string::npos) << r.err;
  r = Cli("inspect /nonexistent/trips.csv");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("/nonexistent/trips.csv"), std::string::npos) << r.err;
  r = Cli("convert only_one_arg.csv");
  EXPECT_EQ(r.code, 2);
}

TEST(DataCliTest, InspectParquetShowsSchemaNullsAndRuleCounts) {
  CliRun r = Cli("inspect " + std::string(BIMRIDE_DATA_DIR) +
              "/tlc_green/green_tripdata_2023-01.parquet");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("68211 rows"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("lpep_pickup_datetime"), std::string::npos);
  EXPECT_NE(r.out.find("timestamp"), std::string::npos);
  EXPECT_NE(r.out.find("ehail_fee"), std::string::npos);
  EXPECT_NE(r.out.find("(all null)"), std::string::npos);
  EXPECT_NE(r.out.find("outside_file_month"), std::string::npos);
  EXPECT_NE(r.out.find("kept + quarantined == read: yes"), std::string::npos);
}

TEST(DataCliTest, InspectGzipCsvNamedCsvDetectsTheLayout) {
  CliRun r = Cli("inspect " + kFixtures + "uber_apr14_head_gzipped.csv");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("format: CSV (gzip), layout uber_2014"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("records: 5"), std::string::npos) << r.out;
}

// Another provider's pickups (`pickup_time,lat,lon`, times without seconds) through a layout file.
TEST(DataCliTest, ConvertReadsAnUnknownLayoutThroughALayoutFile) {
  const std::string dir = ::testing::TempDir();
  const std::string in = dir + "/pickups.csv", layout = dir + "/pickups.json";
  ASSERT_TRUE(WriteFileAtomic(in,
                              "pickup_time,lat,lon\n9/4/2014 9:51,40.769,-73.9549\n"
                              "9/5/2014 17:10,40.6449,-73.7822\n")
                  .ok());
  CliRun r = Cli("convert " + in + " " + dir + "/pickups_out.csv");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("unknown CSV layout"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--layout"), std::string::npos) << r.err;
  ASSERT_TRUE(WriteFileAtomic(layout, R"({"columns": {
      "pickup_time": {"column": "pickup_time", "format": "%m/%d/%Y %H:%M"},
      "pickup_lat": "lat", "pickup_lon": "lon"}})")
                  .ok());
  r = Cli("convert " + in + " " + dir + "/pickups_out.csv --layout " + layout);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("pickups (layout file), read 2, kept 2, quarantined 0"), std::string::npos)
      << r.out;
  const std::string written = ReadFile(dir + "/pickups_out.csv").value();
  EXPECT_NE(written.find("unknown,2014-09-04 09:51:00,,140,,-73.9549,40.769"), std::string::npos)
      << written;
  EXPECT_NE(written.find("unknown,2014-09-05 17:10:00,,132,"), std::string::npos) << written;
  // A bad layout file: exit 1, one line naming the file and the key.
  ASSERT_TRUE(WriteFileAtomic(layout, R"({"columns": {"pickup_time": "t"}, "zone": 1})").ok());
  r = Cli("inspect " + in + " --layout " + layout);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "bimride: " + layout + ": zone: unknown key (want name, source, columns)\n");
}

}  // namespace
}  // namespace bimride
