#include "parquet/cell_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace bimride::parquet {
namespace {

// Expected strings are what JavaScript's String(x) prints for the same doubles.
TEST(CellTextTest, DoublesPrintLikeJavaScriptShortestRoundTrip) {
  EXPECT_EQ(DoubleText(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(DoubleText(1e21), "1e+21");
  EXPECT_EQ(DoubleText(1e20), "100000000000000000000");
  EXPECT_EQ(DoubleText(123456789012345680000.0), "123456789012345680000");
  EXPECT_EQ(DoubleText(1e-7), "1e-7");
  EXPECT_EQ(DoubleText(1.5e-7), "1.5e-7");
  EXPECT_EQ(DoubleText(0.000001), "0.000001");
  EXPECT_EQ(DoubleText(5e-324), "5e-324");
  EXPECT_EQ(DoubleText(-2.5), "-2.5");
  EXPECT_EQ(DoubleText(100), "100");
  EXPECT_EQ(DoubleText(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(DoubleText(static_cast<double>(0.1f)), "0.10000000149011612");
  EXPECT_EQ(DoubleText(-0.0), "-0");
  EXPECT_EQ(DoubleText(0.0), "0");
  EXPECT_EQ(DoubleText(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(DoubleText(-std::numeric_limits<double>::infinity()), "-Infinity");
}

TEST(CellTextTest, CellsPrintNullsIntegersAndBytes) {
  Column c;
  c.physical = PhysicalType::kByteArray;
  c.num_rows = 2;
  c.bytes = "Y\xff";
  c.offsets = {0, 2, 2};
  c.validity = {1, 0};
  ColumnSchema s{.name = "flag", .physical = PhysicalType::kByteArray};
  EXPECT_EQ(CellText(s, c, 0), "59ff");
  EXPECT_EQ(CellText(s, c, 1), "null");
  Column u;
  u.physical = PhysicalType::kInt32;
  u.num_rows = 1;
  u.i32 = {-1};
  ColumnSchema us{.name = "u", .physical = PhysicalType::kInt32, .logical = LogicalKind::kInt,
                  .int_bit_width = 32, .int_signed = false};
  EXPECT_EQ(CellText(us, u, 0), "4294967295");
  us.int_signed = true;
  EXPECT_EQ(CellText(us, u, 0), "-1");
}

}  // namespace
}  // namespace bimride::parquet
