#include "parquet/test_util.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

namespace bimride::parquet {

std::vector<ColumnSchema> TestSchema() {
  std::vector<ColumnSchema> s(9);
  s[0] = {.name = "id", .physical = PhysicalType::kInt64};
  s[1] = {.name = "zone", .physical = PhysicalType::kInt32, .optional = true};
  s[2] = {.name = "fare", .physical = PhysicalType::kDouble, .optional = true};
  s[3] = {.name = "ratio", .physical = PhysicalType::kFloat};
  s[4] = {.name = "shared", .physical = PhysicalType::kBoolean, .optional = true};
  s[5] = {.name = "city", .physical = PhysicalType::kByteArray, .logical = LogicalKind::kString,
          .optional = true};
  s[6] = {.name = "pickup", .physical = PhysicalType::kInt64, .logical = LogicalKind::kTimestamp,
          .time_unit = TimeUnit::kMicros};
  s[7] = {.name = "note", .physical = PhysicalType::kByteArray, .logical = LogicalKind::kString};
  s[8] = {.name = "day", .physical = PhysicalType::kInt32, .logical = LogicalKind::kDate,
          .optional = true};
  return s;
}

// Deterministic test data: low-cardinality and high-cardinality columns, nulls, odd values.
std::vector<Column> TestColumns(int64_t rows, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<Column> c(9);
  const PhysicalType types[] = {PhysicalType::kInt64,     PhysicalType::kInt32,
                                PhysicalType::kDouble,    PhysicalType::kFloat,
                                PhysicalType::kBoolean,   PhysicalType::kByteArray,
                                PhysicalType::kInt64,     PhysicalType::kByteArray,
                                PhysicalType::kInt32};
  for (int i = 0; i < 9; ++i) {
    c[i].physical = types[i];
    c[i].num_rows = rows;
  }
  const char* cities[] = {"NYC", "Zürich", "", "São Paulo", "東京"};
  for (int k : {5, 7}) c[k].offsets.push_back(0);
  for (int k : {1, 2, 4, 5, 8}) c[k].validity.resize(rows);
  for (int64_t r = 0; r < rows; ++r) {
    c[0].i64.push_back(r * 7 - 1000000000000LL);
    bool v1 = rng() % 5 != 0;
    c[1].validity[r] = v1;
    c[1].i32.push_back(v1 ? static_cast<int32_t>(rng() % 265) - 2 : 0);
    bool v2 = rng() % 7 != 0;
    c[2].validity[r] = v2;
    double fares[] = {2.5, -0.0, 0.0, 1e300, -3.75, 5e-324, 0.1 + 0.2};
    c[2].f64.push_back(v2 ? (rng() % 3 == 0 ? fares[rng() % 7] : (rng() % 100000) / 100.0) : 0.0);
    c[3].f32.push_back(static_cast<float>(rng() % 1000) / 7.0f);
    bool v4 = rng() % 3 != 0;
    c[4].validity[r] = v4;
    c[4].boolean.push_back(v4 ? rng() % 2 : 0);
    bool v5 = rng() % 4 != 0;
    c[5].validity[r] = v5;
    if (v5) c[5].bytes += cities[rng() % 5];
    c[5].offsets.push_back(static_cast<int64_t>(c[5].bytes.size()));
    c[6].i64.push_back(1675209600000000LL + r * 1000003LL);
    c[7].bytes += "trip-" + std::to_string(rng()) + (r % 11 == 0 ? std::string(300, 'x') : "");
    c[7].offsets.push_back(static_cast<int64_t>(c[7].bytes.size()));
    bool v8 = rng() % 9 != 0;
    c[8].validity[r] = v8;
    c[8].i32.push_back(v8 ? 19000 + static_cast<int32_t>(r % 40) : 0);
  }
  for (Column& col : c) {
    for (uint8_t v : col.validity) col.null_count += v == 0;
  }
  return c;
}

// Compares two columns value by value (floats bitwise), treating absent validity as all-valid.
void ExpectSameColumn(const Column& want, const Column& got, const std::string& name) {
  ASSERT_EQ(want.num_rows, got.num_rows) << name;
  ASSERT_EQ(want.physical, got.physical) << name;
  EXPECT_EQ(want.null_count, got.null_count) << name;
  for (int64_t r = 0; r < want.num_rows; ++r) {
    ASSERT_EQ(want.IsNull(r), got.IsNull(r)) << name << " row " << r;
    if (want.IsNull(r)) continue;
    switch (want.physical) {
      case PhysicalType::kBoolean:
        ASSERT_EQ(want.boolean[r], got.boolean[r]) << name << " row " << r;
        break;
      case PhysicalType::kInt32:
        ASSERT_EQ(want.i32[r], got.i32[r]) << name << " row " << r;
        break;
      case PhysicalType::kInt64:
        ASSERT_EQ(want.i64[r], got.i64[r]) << name << " row " << r;
        break;
      case PhysicalType::kFloat:
        ASSERT_EQ(0, std::memcmp(&want.f32[r], &got.f32[r], 4)) << name << " row " << r;
        break;
      case PhysicalType::kDouble:
        ASSERT_EQ(0, std::memcmp(&want.f64[r], &got.f64[r], 8)) << name << " row " << r;
        break;
      default:
        ASSERT_EQ(want.ByteValue(r), got.ByteValue(r)) << name << " row " << r;
    }
  }
}

std::vector<RoundTripCase> RoundTripCases() {
  std::vector<RoundTripCase> cases;
  for (Codec codec : {Codec::kUncompressed, Codec::kSnappy, Codec::kGzip, Codec::kZstd}) {
    for (bool v2 : {false, true}) {
      for (int mode = 0; mode < 3; ++mode) {
        WriterOptions o;
        o.codec = codec;
        o.data_page_v2 = v2;
        o.row_group_rows = 1500;
        o.page_rows = 400;
        if (mode == 1) o.dictionary = false;
        if (mode == 2) {
          o.column_encodings = {{"id", Encoding::kDeltaBinaryPacked},
                                {"zone", Encoding::kDeltaBinaryPacked},
                                {"fare", Encoding::kByteStreamSplit},
                                {"ratio", Encoding::kByteStreamSplit},
                                {"city", Encoding::kDeltaLengthByteArray},
                                {"note", Encoding::kDeltaByteArray},
                                {"pickup", Encoding::kPlain}};
        }
        std::string label = std::string(CodecName(codec)) + (v2 ? "_v2" : "_v1") +
                            (mode == 0 ? "_dict" : mode == 1 ? "_plain" : "_delta");
        cases.push_back({label, o});
      }
    }
  }
  return cases;
}

}  // namespace bimride::parquet
