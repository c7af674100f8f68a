// Reads the real NYC TLC green-taxi files (GZIP and ZSTD, dictionary pages, nulls).
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "common/file.h"
#include "parquet/file_reader.h"

namespace bimride::parquet {
namespace {

std::string GreenPath(const std::string& month) {
  return std::string(BIMRIDE_DATA_DIR) + "/tlc_green/green_tripdata_" + month + ".parquet";
}

struct GreenFile {
  const char* month;
  int64_t rows;  // from shared/data/DATA.md
  Codec codec;
};

const GreenFile kGreenFiles[] = {
    {"2021-01", 76518, Codec::kGzip}, {"2021-02", 64572, Codec::kGzip},
    {"2021-03", 83827, Codec::kGzip}, {"2022-01", 62495, Codec::kGzip},
    {"2022-02", 69399, Codec::kGzip}, {"2023-01", 68211, Codec::kGzip},
    {"2023-02", 64809, Codec::kZstd}, {"2023-03", 72044, Codec::kZstd},
};

TEST(GreenFilesTest, EveryFileDecodesEveryColumnWithTheDocumentedRowCount) {
  for (const GreenFile& g : kGreenFiles) {
    SCOPED_TRACE(g.month);
    const std::string path = GreenPath(g.month);
    ASSERT_TRUE(FileExists(path)) << "missing shared data file " << path
                                  << " (set BIMRIDE_DATA_DIR)";
    auto reader = FileReader::Open(path);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    FileReader& r = **reader;
    EXPECT_EQ(r.num_rows(), g.rows);
    ASSERT_EQ(r.num_columns(), 20);
    std::vector<int> all;
    for (int c = 0; c < r.num_columns(); ++c) all.push_back(c);
    int64_t rows = 0;
    for (int rg = 0; rg < r.num_row_groups(); ++rg) {
      EXPECT_EQ(r.codec(rg, 0), g.codec);
      auto batch = r.ReadRowGroup(rg, all);
      ASSERT_TRUE(batch.ok()) << batch.status().ToString();
      for (size_t c = 0; c < batch->columns.size(); ++c) {
        const Column& col = batch->columns[c];
        EXPECT_EQ(col.num_rows, batch->num_rows);
        const ColumnStatistics& st = r.statistics(rg, static_cast<int>(c));
        if (st.null_count) {
          EXPECT_EQ(col.null_count, *st.null_count) << r.schema()[c].name;
        }
      }
      rows += batch->num_rows;
    }
    EXPECT_EQ(rows, g.rows);
  }
}

TEST(GreenFilesTest, SchemaOfGreen2023HasLocalMicrosecondTimestampsAndStrings) {
  auto reader = FileReader::Open(GreenPath("2023-01"));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  const auto& schema = (*reader)->schema();
  auto pickup = (*reader)->ColumnIndex("lpep_pickup_datetime");
  ASSERT_TRUE(pickup.ok());
  const ColumnSchema& p = schema[*pickup];
  EXPECT_EQ(p.physical, PhysicalType::kInt64);
  EXPECT_EQ(p.logical, LogicalKind::kTimestamp);
  EXPECT_EQ(p.time_unit, TimeUnit::kMicros);
  EXPECT_FALSE(p.utc_adjusted);
  EXPECT_TRUE(p.optional);
  auto flag = (*reader)->ColumnIndex("store_and_fwd_flag");
  ASSERT_TRUE(flag.ok());
  EXPECT_EQ(schema[*flag].physical, PhysicalType::kByteArray);
  EXPECT_EQ(schema[*flag].logical, LogicalKind::kString);
  EXPECT_FALSE((*reader)->ColumnIndex("no_such_column").ok());
}

TEST(GreenFilesTest, ValuesArePlausibleTripRecords) {
  auto reader = FileReader::Open(GreenPath("2023-02"));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  FileReader& r = **reader;
  auto pickup = r.ColumnIndex("lpep_pickup_datetime");
  auto flag = r.ColumnIndex("store_and_fwd_flag");
  auto fare = r.ColumnIndex("fare_amount");
  ASSERT_TRUE(pickup.ok() && flag.ok() && fare.ok());
  auto batch = r.ReadRowGroup(0, {*pickup, *flag, *fare});
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  const Column& ts = batch->columns[0];
  // These TLC files carry no column statistics.
  EXPECT_FALSE(r.statistics(0, *pickup).min.has_value());
  int64_t in_feb = 0;
  for (int64_t i = 0; i < ts.num_rows; ++i) {
    if (ts.IsNull(i)) continue;
    // 2023-02-01T00:00 .. 2023-03-01T00:00 in microseconds (naive local time).
    in_feb += ts.i64[i] >= 1675209600000000 && ts.i64[i] < 1677628800000000;
  }
  EXPECT_GT(in_feb, ts.num_rows * 99 / 100);
  const Column& f = batch->columns[1];
  int64_t n_or_y = 0;
  for (int64_t i = 0; i < f.num_rows; ++i) {
    if (f.IsNull(i)) continue;
    n_or_y += f.ByteValue(i) == "N" || f.ByteValue(i) == "Y";
  }
  EXPECT_EQ(n_or_y, f.num_rows - f.null_count);
  EXPECT_GT(f.null_count, 0);  // real-world dirt: some rows lack the flag
  const Column& fare_col = batch->columns[2];
  double sum = 0;
  for (int64_t i = 0; i < fare_col.num_rows; ++i) sum += fare_col.f64[i];
  EXPECT_GT(sum / fare_col.num_rows, 5.0);
  EXPECT_LT(sum / fare_col.num_rows, 50.0);
}

}  // namespace
}  // namespace bimride::parquet
