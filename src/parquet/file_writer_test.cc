// Round trips through FileWriter and FileReader: every codec, encoding and page version, with
// nulls, several row groups and pages; statistics; bad writer input.
#include "parquet/file_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "common/file.h"
#include "parquet/file_reader.h"
#include "parquet/test_util.h"

namespace bimride::parquet {
namespace {

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/parquet_writer_" + std::to_string(::getpid()) + "_" + name;
}

TEST(FileWriterTest, EveryCodecEncodingAndPageVersionReadsBackIdentically) {
  const int64_t rows = 4000;
  std::vector<Column> data = TestColumns(rows, 42);
  for (const RoundTripCase& tc : RoundTripCases()) {
    SCOPED_TRACE(tc.label);
    const std::string path = TempPath(tc.label + ".parquet");
    auto w = FileWriter::Open(path, TestSchema(), tc.options);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    // Two writes that straddle row groups.
    std::vector<Column> first(9), second(9);
    for (int i = 0; i < 9; ++i) {
      AppendRows(data[i], 0, 1000, &first[i]);
      AppendRows(data[i], 1000, rows - 1000, &second[i]);
    }
    ASSERT_TRUE((*w)->Write(first).ok());
    ASSERT_TRUE((*w)->Write(second).ok());
    ASSERT_TRUE((*w)->Close().ok());

    auto r = FileReader::Open(path);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ((*r)->num_rows(), rows);
    EXPECT_EQ((*r)->num_row_groups(), 3);  // 1500 + 1500 + 1000
    EXPECT_EQ((*r)->schema()[6].logical, LogicalKind::kTimestamp);
    EXPECT_EQ((*r)->schema()[6].time_unit, TimeUnit::kMicros);
    EXPECT_EQ((*r)->schema()[5].logical, LogicalKind::kString);
    EXPECT_EQ((*r)->schema()[8].logical, LogicalKind::kDate);
    std::vector<int> all = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    std::vector<Column> back(9);
    for (int rg = 0; rg < (*r)->num_row_groups(); ++rg) {
      EXPECT_EQ((*r)->codec(rg, 0), tc.options.codec);
      auto batch = (*r)->ReadRowGroup(rg, all);
      ASSERT_TRUE(batch.ok()) << batch.status().ToString();
      for (int i = 0; i < 9; ++i) AppendRows(batch->columns[i], 0, batch->num_rows, &back[i]);
    }
    for (int i = 0; i < 9; ++i) ExpectSameColumn(data[i], back[i], TestSchema()[i].name);
    std::remove(path.c_str());
  }
}

TEST(FileWriterTest, StatisticsHoldMinMaxAndNullCount) {
  const std::string path = TempPath("stats.parquet");
  std::vector<Column> data = TestColumns(3000, 7);
  auto w = FileWriter::Open(path, TestSchema(), {});
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Write(data).ok());
  ASSERT_TRUE((*w)->Close().ok());
  auto r = FileReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const ColumnStatistics& id = (*r)->statistics(0, 0);
  ASSERT_TRUE(id.min && id.max && id.null_count);
  EXPECT_EQ(*StatisticAsInt64(PhysicalType::kInt64, *id.min), data[0].i64.front());
  EXPECT_EQ(*StatisticAsInt64(PhysicalType::kInt64, *id.max), data[0].i64.back());
  EXPECT_EQ(*id.null_count, 0);
  const ColumnStatistics& zone = (*r)->statistics(0, 1);
  EXPECT_EQ(*zone.null_count, data[1].null_count);
  int32_t lo = INT32_MAX, hi = INT32_MIN;
  for (int64_t i = 0; i < 3000; ++i) {
    if (data[1].IsNull(i)) continue;
    lo = std::min(lo, data[1].i32[i]);
    hi = std::max(hi, data[1].i32[i]);
  }
  EXPECT_EQ(*StatisticAsInt64(PhysicalType::kInt32, *zone.min), lo);
  EXPECT_EQ(*StatisticAsInt64(PhysicalType::kInt32, *zone.max), hi);
  const ColumnStatistics& city = (*r)->statistics(0, 5);
  EXPECT_EQ(*city.min, "");
  EXPECT_EQ(*city.max, "東京");
  std::remove(path.c_str());
}

// Thousands of distinct values in one dictionary (its index grows many times over), repeated
// in a scrambled order, for every dictionary-encoded type: each row reads back as written.
TEST(FileWriterTest, LargeDictionariesKeepEveryValue) {
  const std::string path = TempPath("large_dictionary.parquet");
  const int64_t rows = 50000;
  const std::vector<ColumnSchema> schema = {{"f", PhysicalType::kFloat},
                                            {"d", PhysicalType::kDouble},
                                            {"i", PhysicalType::kInt32},
                                            {"l", PhysicalType::kInt64},
                                            {"s", PhysicalType::kByteArray, LogicalKind::kString}};
  std::vector<Column> data(5);
  data[0].physical = PhysicalType::kFloat;
  data[1].physical = PhysicalType::kDouble;
  data[2].physical = PhysicalType::kInt32;
  data[3].physical = PhysicalType::kInt64;
  data[4].physical = PhysicalType::kByteArray;
  data[4].offsets.push_back(0);
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t k = (r * 7919) % 6007;  // 6007 distinct keys, scrambled
    data[0].f32.push_back(static_cast<float>(k) * 0.25f - 100.0f);
    data[1].f64.push_back(k == 3 ? -0.0 : static_cast<double>(k) / 3.0);
    data[2].i32.push_back(static_cast<int32_t>(k * 1000003 % 1000033));
    data[3].i64.push_back(k << 40);
    const std::string text = "trip-" + std::to_string(k * 31 % 6007);
    data[4].bytes += text;
    data[4].offsets.push_back(static_cast<int64_t>(data[4].bytes.size()));
  }
  for (Column& c : data) c.num_rows = rows;
  auto w = FileWriter::Open(path, schema, {});
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Write(data).ok());
  ASSERT_TRUE((*w)->Close().ok());
  auto r = FileReader::Open(path);
  ASSERT_TRUE(r.ok());
  for (const auto& chunk : (*r)->metadata().row_groups[0].columns) {
    EXPECT_TRUE(chunk.meta_data.dictionary_page_offset.has_value());
  }
  auto batch = (*r)->ReadRowGroup(0, {0, 1, 2, 3, 4});
  ASSERT_TRUE(batch.ok());
  for (size_t c = 0; c < data.size(); ++c) {
    ExpectSameColumn(data[c], batch->columns[c], schema[c].name);
  }
  std::remove(path.c_str());
}

// Writes of 7 rows into row groups of 10: each row group carries the rows past the last one
// over (nulls and strings included), and every row reads back in order.
TEST(FileWriterTest, RowsCarriedOverBetweenRowGroupsReadBackInOrder) {
  const std::string path = TempPath("carried.parquet");
  WriterOptions o;
  o.row_group_rows = 10;
  const std::vector<Column> data = TestColumns(703, 5);
  auto w = FileWriter::Open(path, TestSchema(), o);
  ASSERT_TRUE(w.ok());
  for (int64_t begin = 0; begin < 703; begin += 7) {
    std::vector<Column> part(data.size());
    for (size_t c = 0; c < data.size(); ++c) {
      AppendRows(data[c], begin, std::min<int64_t>(7, 703 - begin), &part[c]);
    }
    ASSERT_TRUE((*w)->Write(part).ok());
  }
  ASSERT_TRUE((*w)->Close().ok());
  auto r = FileReader::Open(path);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ((*r)->metadata().row_groups.size(), 71u);
  std::vector<Column> got(data.size());
  for (size_t g = 0; g < 71; ++g) {
    EXPECT_EQ((*r)->metadata().row_groups[g].num_rows, g < 70 ? 10 : 3);
    std::vector<int> all;
    for (size_t c = 0; c < data.size(); ++c) all.push_back(static_cast<int>(c));
    auto batch = (*r)->ReadRowGroup(static_cast<int>(g), all);
    ASSERT_TRUE(batch.ok());
    for (size_t c = 0; c < data.size(); ++c) {
      AppendRows(batch->columns[c], 0, batch->columns[c].num_rows, &got[c]);
    }
  }
  for (size_t c = 0; c < data.size(); ++c) {
    ExpectSameColumn(data[c], got[c], TestSchema()[c].name);
  }
  std::remove(path.c_str());
}

TEST(FileWriterTest, HighCardinalityColumnFallsBackToPlain) {
  const std::string path = TempPath("fallback.parquet");
  WriterOptions o;
  o.dictionary_max_values = 100;
  std::vector<Column> data = TestColumns(2000, 3);
  auto w = FileWriter::Open(path, TestSchema(), o);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Write(data).ok());
  ASSERT_TRUE((*w)->Close().ok());
  auto r = FileReader::Open(path);
  ASSERT_TRUE(r.ok());
  const auto& chunks = (*r)->metadata().row_groups[0].columns;
  EXPECT_FALSE(chunks[0].meta_data.dictionary_page_offset.has_value());  // 2000 distinct ids
  EXPECT_TRUE(chunks[5].meta_data.dictionary_page_offset.has_value());   // 5 cities
  auto batch = (*r)->ReadRowGroup(0, {0, 5});
  ASSERT_TRUE(batch.ok());
  ExpectSameColumn(data[0], batch->columns[0], "id");
  ExpectSameColumn(data[5], batch->columns[1], "city");
  std::remove(path.c_str());
}

TEST(FileWriterTest, RejectsBadColumnsWithTheColumnName) {
  const std::string path = TempPath("bad.parquet");
  auto w = FileWriter::Open(path, TestSchema(), {});
  ASSERT_TRUE(w.ok());
  std::vector<Column> data = TestColumns(10, 1);
  data[1].i32.pop_back();
  Status s = (*w)->Write(data);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'zone'"), std::string::npos) << s.message();

  data = TestColumns(10, 1);
  data[0].validity.assign(10, 1);
  data[0].validity[3] = 0;  // null in REQUIRED "id"
  s = (*w)->Write(data);
  EXPECT_NE(s.message().find("null in a REQUIRED column"), std::string::npos) << s.message();

  data = TestColumns(10, 1);
  data[7].offsets[5] = 1 << 20;
  s = (*w)->Write(data);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();

  auto bad = FileWriter::Open(path, {{.name = "x", .physical = PhysicalType::kInt96}}, {});
  EXPECT_EQ(bad.status().code(), StatusCode::kUnimplemented);
  WriterOptions o;
  o.column_encodings = {{"city", Encoding::kDeltaBinaryPacked}};
  bad = FileWriter::Open(path, TestSchema(), o);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST(FileWriterTest, UnclosedWriterLeavesNoFile) {
  const std::string path = TempPath("unclosed.parquet");
  {
    auto w = FileWriter::Open(path, TestSchema(), {});
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Write(TestColumns(5, 1)).ok());
  }
  EXPECT_FALSE(FileExists(path));
  EXPECT_FALSE(FileExists(path + ".tmp-" + std::to_string(::getpid())));
}

TEST(FileWriterTest, EmptyFileHasSchemaAndNoRows) {
  const std::string path = TempPath("empty.parquet");
  auto w = FileWriter::Open(path, TestSchema(), {});
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Close().ok());
  auto r = FileReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->num_rows(), 0);
  EXPECT_EQ((*r)->num_row_groups(), 0);
  EXPECT_EQ((*r)->num_columns(), 9);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace bimride::parquet
