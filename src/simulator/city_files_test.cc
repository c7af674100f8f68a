#include "simulator/city_files.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include "common/file.h"
#include "common/testing/temp_dir.h"
#include "data/trip_loader.h"
#include "parquet/file_writer.h"

namespace bimride::simulator {
namespace {

std::string MakeTempDir() {
  std::string dir = bimride::testing::NewTempDir("city_files_test.");
  EXPECT_FALSE(dir.empty());
  return dir;
}

CityConfig SmallCity(uint64_t seed = 77) {
  CityConfig c;
  c.days = 3;
  c.zones = 11;
  c.seed = seed;
  c.event_probability = 0.5;
  return c;
}

SimulatedCity MustSimulate(const CityConfig& config) {
  StatusOr<SimulatedCity> city = Simulate(config);
  EXPECT_TRUE(city.ok()) << city.status().ToString();
  return city.ok() ? std::move(city).value() : SimulatedCity{};
}

std::string MustRead(const std::string& path) {
  StatusOr<std::string> text = ReadFile(path);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  return text.ok() ? *text : "";
}

TEST(CityFilesTest, SidecarsSitNextToTheTripsFile) {
  CityFilePaths p = CityFilePathsFor("out/run/city.csv");
  EXPECT_EQ(p.trips, "out/run/city.csv");
  EXPECT_EQ(p.zones, "out/run/city.zones.csv");
  EXPECT_EQ(p.requests, "out/run/city.requests.csv");
  EXPECT_EQ(CityFilePathsFor("trips.parquet").supply, "trips.supply.csv");
  EXPECT_EQ(CityFilePathsFor("trips").riders, "trips.riders.csv");
}

TEST(CityFilesTest, ReadingTheFilesBackGivesTheSimulatedCity) {
  const std::string dir = MakeTempDir();
  const SimulatedCity city = MustSimulate(SmallCity());
  ASSERT_GT(city.trips.size(), 1000u);
  StatusOr<CityFilePaths> paths = WriteSimulatedCity(city, dir + "/sub/city.csv");
  ASSERT_TRUE(paths.ok()) << paths.status().ToString();
  StatusOr<SimulatedCity> back = ReadSimulatedCity(paths->trips);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(CompareCities(city, *back).ok()) << CompareCities(city, *back).ToString();
  EXPECT_EQ(back->config.days, 3);
  EXPECT_EQ(back->config.zones, 11);
  EXPECT_EQ(back->config.start_date, city.config.start_date);
  // The comparison itself notices a change.
  SimulatedCity changed = *back;
  changed.trips.fare[17] += 0.01f;
  Status diff = CompareCities(city, changed);
  EXPECT_EQ(diff.code(), StatusCode::kDataLoss);
  EXPECT_NE(diff.message().find("trips row 18: column 'fare'"), std::string::npos)
      << diff.ToString();
}

TEST(CityFilesTest, PriceTestColumnsRoundTripAndOlderRequestFilesStillRead) {
  const std::string dir = MakeTempDir();
  CityConfig config = SmallCity();
  config.price_test_fraction = 0.3;
  const SimulatedCity city = MustSimulate(config);
  StatusOr<CityFilePaths> paths = WriteSimulatedCity(city, dir + "/city.csv");
  ASSERT_TRUE(paths.ok()) << paths.status().ToString();
  StatusOr<SimulatedCity> back = ReadSimulatedCity(paths->trips);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(CompareCities(city, *back).ok()) << CompareCities(city, *back).ToString();
  size_t tested = 0;
  for (const QuoteRecord& q : back->quotes) tested += q.price_multiplier != 1.0f ? 1 : 0;
  EXPECT_GT(tested, back->quotes.size() / 5);

  // A requests file written before the two columns existed: raw surge = surge, multiplier 1.
  std::string text = MustRead(paths->requests), old;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    std::string line = text.substr(start, end - start);
    for (int k = 0; k < 2; ++k) line.erase(line.rfind(','));
    old += line + "\n";
    start = end + 1;
  }
  ASSERT_TRUE(WriteFileAtomic(paths->requests, old).ok());
  back = ReadSimulatedCity(paths->trips);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->quotes.size(), city.quotes.size());
  for (const QuoteRecord& q : back->quotes) {
    ASSERT_EQ(q.surge_raw, q.surge);
    ASSERT_EQ(q.price_multiplier, 1.0f);
  }
  // A bad multiplier is refused, naming the file and line.
  ASSERT_TRUE(WriteFileAtomic(paths->requests, text).ok());
  const size_t line2 = text.find('\n') + 1;
  const size_t eol = text.find('\n', line2);
  std::string broken = text.substr(0, text.rfind(',', eol) + 1) + "-1" + text.substr(eol);
  ASSERT_TRUE(WriteFileAtomic(paths->requests, broken).ok());
  back = ReadSimulatedCity(paths->trips);
  ASSERT_FALSE(back.ok());
  EXPECT_NE(back.status().message().find("price multiplier"), std::string::npos)
      << back.status().ToString();
  EXPECT_NE(back.status().message().find("line 2"), std::string::npos) << back.status().ToString();
}

TEST(CityFilesTest, TripsCsvHeaderIsTheDocumentedOne) {
  // The writer takes the names from data/trip_layouts.h's SimulatorLayout; this pins their order
  // (city_files.h documents it, and the readers index the columns by it).
  const std::string dir = MakeTempDir();
  StatusOr<CityFilePaths> paths = WriteSimulatedCity(MustSimulate(SmallCity()), dir + "/c.csv");
  ASSERT_TRUE(paths.ok()) << paths.status().ToString();
  const std::string text = MustRead(paths->trips);
  EXPECT_EQ(text.substr(0, text.find('\n')),
            "trip_id,rider_id,pickup_datetime,dropoff_datetime,pickup_zone,dropoff_zone,"
            "pickup_lon,pickup_lat,dropoff_lon,dropoff_lat,trip_distance,fare_amount,"
            "surge_multiplier,total_amount,passenger_count");
}

TEST(CityFilesTest, ParquetTripsReadBackLikeCsvTrips) {
  const std::string dir = MakeTempDir();
  const SimulatedCity city = MustSimulate(SmallCity());
  ASSERT_TRUE(WriteSimulatedCity(city, dir + "/city.parquet", TripFileFormat::kParquet).ok());
  StatusOr<SimulatedCity> back = ReadSimulatedCity(dir + "/city.parquet");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(CompareCities(city, *back).ok()) << CompareCities(city, *back).ToString();
  EXPECT_TRUE(FileExists(dir + "/city.requests.csv"));
  // Smaller than the CSV, and the same bytes for the same seed.
  ASSERT_TRUE(WriteSimulatedCity(city, dir + "/again.parquet", TripFileFormat::kParquet).ok());
  ASSERT_TRUE(WriteSimulatedCity(city, dir + "/city.csv").ok());
  EXPECT_EQ(MustRead(dir + "/city.parquet"), MustRead(dir + "/again.parquet"));
  EXPECT_LT(MustRead(dir + "/city.parquet").size(), MustRead(dir + "/city.csv").size() / 2);
}

TEST(CityFilesTest, LoadTripsReadsSimulatedParquetAndCsvTripsAlike) {
  const std::string dir = MakeTempDir();
  const SimulatedCity city = MustSimulate(SmallCity());
  ASSERT_TRUE(WriteSimulatedCity(city, dir + "/city.parquet", TripFileFormat::kParquet).ok());
  ASSERT_TRUE(WriteSimulatedCity(city, dir + "/city.csv").ok());
  data::LoadTripsOptions options;
  options.validate = false;
  StatusOr<data::TripTable> from_parquet = data::LoadTrips({dir + "/city.parquet"}, options);
  StatusOr<data::TripTable> from_csv = data::LoadTrips({dir + "/city.csv"}, options);
  ASSERT_TRUE(from_parquet.ok()) << from_parquet.status().ToString();
  ASSERT_TRUE(from_csv.ok()) << from_csv.status().ToString();
  EXPECT_EQ(from_parquet->source, data::TripSource::kSimulator);
  ASSERT_EQ(from_parquet->size(), city.trips.size());
  ASSERT_EQ(from_csv->size(), city.trips.size());
  EXPECT_EQ(from_parquet->pickup_time_us, city.trips.pickup_time_us);
  EXPECT_EQ(from_parquet->dropoff_zone, city.trips.dropoff_zone);
  EXPECT_EQ(from_parquet->rider_id, city.trips.rider_id);
  EXPECT_EQ(from_parquet->pickup_lon, from_csv->pickup_lon);
  EXPECT_EQ(from_parquet->fare, from_csv->fare);
  EXPECT_EQ(from_parquet->surge, from_csv->surge);
  EXPECT_EQ(from_parquet->passengers, from_csv->passengers);
}

TEST(CityFilesTest, ParquetReaderChecksSchemaAndRows) {
  const std::string dir = MakeTempDir();
  // A Parquet file without the trips columns.
  {
    std::vector<parquet::ColumnSchema> schema(1);
    schema[0].name = "trip_id";
    schema[0].physical = parquet::PhysicalType::kDouble;
    auto w = parquet::FileWriter::Open(dir + "/odd.parquet", schema);
    ASSERT_TRUE(w.ok());
    parquet::Column c;
    c.physical = parquet::PhysicalType::kDouble;
    c.num_rows = 1;
    c.f64 = {1.0};
    ASSERT_TRUE((*w)->Write({c}).ok());
    ASSERT_TRUE((*w)->Close().ok());
  }
  Status st = ReadSimulatedTrips(dir + "/odd.parquet").status();
  EXPECT_NE(st.message().find("odd.parquet: column 'trip_id': type DOUBLE, expected INT64"),
            std::string::npos)
      << st.ToString();
  // A row that breaks the contract is reported by row and column.
  SimulatedCity city = MustSimulate(SmallCity());
  city.trips.passengers[41] = 12;
  ASSERT_TRUE(WriteSimulatedCity(city, dir + "/bad.parquet", TripFileFormat::kParquet).ok());
  st = ReadSimulatedTrips(dir + "/bad.parquet").status();
  EXPECT_NE(st.message().find("bad.parquet: row 42: column 'passenger_count': passenger count"),
            std::string::npos)
      << st.ToString();
}

TEST(CityFilesTest, FormatFollowsFlagOrExtension) {
  EXPECT_EQ(*ResolveTripFileFormat("", "a.parquet"), TripFileFormat::kParquet);
  EXPECT_EQ(*ResolveTripFileFormat("", "a.csv"), TripFileFormat::kCsv);
  EXPECT_EQ(*ResolveTripFileFormat("", "a"), TripFileFormat::kCsv);
  EXPECT_EQ(*ResolveTripFileFormat("parquet", "trips"), TripFileFormat::kParquet);
  EXPECT_FALSE(ResolveTripFileFormat("parquet", "a.csv").ok());
  EXPECT_FALSE(ResolveTripFileFormat("csv", "a.parquet").ok());
  EXPECT_NE(ResolveTripFileFormat("orc", "a").status().message().find("'orc'"), std::string::npos);
}

TEST(CityFilesTest, TripsAloneReadWithoutSidecars) {
  const std::string dir = MakeTempDir();
  const SimulatedCity city = MustSimulate(SmallCity());
  ASSERT_TRUE(WriteSimulatedCity(city, dir + "/city.csv").ok());
  ASSERT_EQ(::unlink((dir + "/city.requests.csv").c_str()), 0);
  StatusOr<SimulatedCity> back = ReadSimulatedCity(dir + "/city.csv");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->trips.size(), city.trips.size());
  EXPECT_TRUE(back->quotes.empty());
  EXPECT_EQ(back->zones.size(), city.zones.size());
}

TEST(CityFilesTest, SameSeedSameBytesDifferentSeedDifferentBytes) {
  const std::string dir = MakeTempDir();
  ASSERT_TRUE(WriteSimulatedCity(MustSimulate(SmallCity(5)), dir + "/a.csv").ok());
  ASSERT_TRUE(WriteSimulatedCity(MustSimulate(SmallCity(5)), dir + "/b.csv").ok());
  ASSERT_TRUE(WriteSimulatedCity(MustSimulate(SmallCity(6)), dir + "/c.csv").ok());
  for (const char* kind :
       {".csv", ".zones.csv", ".supply.csv", ".requests.csv", ".riders.csv", ".days.csv"}) {
    EXPECT_EQ(MustRead(dir + "/a" + kind), MustRead(dir + "/b" + kind)) << kind;
  }
  EXPECT_NE(MustRead(dir + "/a.csv"), MustRead(dir + "/c.csv"));
  EXPECT_NE(MustRead(dir + "/a.requests.csv"), MustRead(dir + "/c.requests.csv"));
}

TEST(CityFilesTest, UnwritableOutputIsAClearError) {
  const std::string dir = MakeTempDir();
  ASSERT_TRUE(WriteFileAtomic(dir + "/plain_file", "x").ok());
  const SimulatedCity city = MustSimulate(SmallCity());
  StatusOr<CityFilePaths> r = WriteSimulatedCity(city, dir + "/plain_file/city.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("plain_file"), std::string::npos) << r.status().ToString();
  r = WriteSimulatedCity(city, "");
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  // Nothing half-written is left behind.
  EXPECT_FALSE(FileExists(dir + "/plain_file/city.csv.tmp"));
}

// Writes `text` to a trips file and returns the reader's error message.
std::string ReadError(const std::string& dir, const std::string& text) {
  const std::string path = dir + "/bad.csv";
  EXPECT_TRUE(WriteFileAtomic(path, text).ok());
  StatusOr<data::TripTable> t = ReadSimulatedTrips(path);
  EXPECT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  return t.status().message();
}

TEST(CityFilesTest, ReaderRejectsMalformedTripsNamingFileAndLine) {
  const std::string dir = MakeTempDir();
  const SimulatedCity city = MustSimulate(SmallCity());
  ASSERT_TRUE(WriteSimulatedCity(city, dir + "/good.csv").ok());
  const std::string good = MustRead(dir + "/good.csv");
  std::vector<std::string> lines;
  for (size_t start = 0; start < good.size();) {
    const size_t end = good.find('\n', start);
    lines.push_back(good.substr(start, end - start));
    start = end + 1;
  }
  auto with_line = [&](size_t index, const std::string& replacement) {
    std::string out;
    for (size_t i = 0; i < 6; ++i) out += (i == index ? replacement : lines[i]) + "\n";
    return out;
  };
  auto replace_field = [&](size_t line, int field, const std::string& value) {
    std::string l = lines[line];
    size_t start = 0;
    for (int f = 0; f < field; ++f) start = l.find(',', start) + 1;
    size_t end = l.find(',', start);
    return with_line(line,
                     l.substr(0, start) + value + (end == std::string::npos ? "" : l.substr(end)));
  };
  const std::string bad = dir + "/bad.csv";
  EXPECT_NE(ReadError(dir, "").find(bad + ": empty file"), std::string::npos);
  EXPECT_NE(ReadError(dir, with_line(0, "a,b,c")).find(bad + ": line 1: header"), std::string::npos);
  std::string msg = ReadError(dir, with_line(3, "4,5,6"));
  EXPECT_NE(msg.find(bad + ": line 4: expected 15 fields, got 3"), std::string::npos) << msg;
  msg = ReadError(dir, replace_field(2, 11, "abc"));
  EXPECT_NE(msg.find(bad + ": line 3: column 'fare_amount': not a number: 'abc'"), std::string::npos)
      << msg;
  msg = ReadError(dir, replace_field(2, 2, "2024-13-01 00:00:00"));
  EXPECT_NE(msg.find(": line 3: column 'pickup_datetime'"), std::string::npos) << msg;
  msg = ReadError(dir, replace_field(4, 0, "99"));
  EXPECT_NE(msg.find(": line 5: column 'trip_id': trip_id must be the row number 4"), std::string::npos)
      << msg;
  msg = ReadError(dir, replace_field(1, 3, "2000-01-01 00:00:00"));
  EXPECT_NE(msg.find(": line 2: column 'dropoff_datetime': dropoff before pickup"), std::string::npos)
      << msg;
  msg = ReadError(dir, replace_field(1, 4, "0"));
  EXPECT_NE(msg.find(": line 2: column 'pickup_zone': zone out of range"), std::string::npos) << msg;
  msg = ReadError(dir, replace_field(1, 14, "2.5"));
  EXPECT_NE(msg.find(": line 2: column 'passenger_count': not an integer"), std::string::npos) << msg;
  EXPECT_EQ(ReadSimulatedTrips(dir + "/missing.csv").status().code(), StatusCode::kNotFound);
}

TEST(CityFilesTest, ReaderRejectsMalformedSidecars) {
  const std::string dir = MakeTempDir();
  const SimulatedCity city = MustSimulate(SmallCity());
  ASSERT_TRUE(WriteSimulatedCity(city, dir + "/city.csv").ok());
  std::string zones = MustRead(dir + "/city.zones.csv");
  zones.replace(zones.find("business"), 8, "castle!!");
  ASSERT_TRUE(WriteFileAtomic(dir + "/city.zones.csv", zones).ok());
  StatusOr<SimulatedCity> back = ReadSimulatedCity(dir + "/city.csv");
  ASSERT_FALSE(back.ok());
  EXPECT_NE(back.status().message().find("city.zones.csv: line 2: column 'type'"), std::string::npos)
      << back.status().ToString();
}

}  // namespace
}  // namespace bimride::simulator
