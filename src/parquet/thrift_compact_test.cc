#include "parquet/thrift_compact.h"

#include <gtest/gtest.h>

#include <limits>

#include "parquet/metadata.h"

namespace bimride::parquet {
namespace {

const uint8_t* U8(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

TEST(ThriftCompactTest, WriterAndReaderAgreeOnFieldsAndDeltas) {
  std::string buf;
  CompactWriter w(&buf);
  w.StructBegin();
  w.FieldI32(1, -7);
  w.FieldI64(3, std::numeric_limits<int64_t>::min());
  w.FieldBinary(40, "hello");  // delta > 15: long-form field header
  w.FieldBool(41, true);
  w.FieldHeader(42, CompactType::kStruct);
  w.StructBegin();
  w.FieldI32(1, std::numeric_limits<int32_t>::max());
  w.StructEnd();
  w.FieldI32(2, 5);  // a smaller id after a larger one: long form
  w.StructEnd();

  CompactReader r(U8(buf), buf.size());
  ASSERT_TRUE(r.StructBegin().ok());
  int16_t id;
  CompactType t;
  int32_t i32;
  int64_t i64;
  std::string s;
  bool b;
  ASSERT_TRUE(r.ReadFieldHeader(&id, &t).ok());
  EXPECT_EQ(id, 1);
  ASSERT_TRUE(r.ReadI32(&i32).ok());
  EXPECT_EQ(i32, -7);
  ASSERT_TRUE(r.ReadFieldHeader(&id, &t).ok());
  EXPECT_EQ(id, 3);
  ASSERT_TRUE(r.ReadI64(&i64).ok());
  EXPECT_EQ(i64, std::numeric_limits<int64_t>::min());
  ASSERT_TRUE(r.ReadFieldHeader(&id, &t).ok());
  EXPECT_EQ(id, 40);
  ASSERT_TRUE(r.ReadBinary(&s).ok());
  EXPECT_EQ(s, "hello");
  ASSERT_TRUE(r.ReadFieldHeader(&id, &t).ok());
  EXPECT_EQ(id, 41);
  ASSERT_TRUE(r.ReadBool(t, &b).ok());
  EXPECT_TRUE(b);
  ASSERT_TRUE(r.ReadFieldHeader(&id, &t).ok());
  EXPECT_EQ(id, 42);
  ASSERT_TRUE(r.Skip(t).ok());  // skips the nested struct
  ASSERT_TRUE(r.ReadFieldHeader(&id, &t).ok());
  EXPECT_EQ(id, 2);
  ASSERT_TRUE(r.ReadI32(&i32).ok());
  EXPECT_EQ(i32, 5);
  ASSERT_TRUE(r.ReadFieldHeader(&id, &t).ok());
  EXPECT_EQ(t, CompactType::kStop);
  EXPECT_EQ(r.position(), buf.size());
}

TEST(ThriftCompactTest, RejectsTruncationOverflowAndDeepNesting) {
  std::string varint("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11);
  CompactReader r(U8(varint), varint.size());
  int64_t v;
  EXPECT_FALSE(r.ReadI64(&v).ok());
  std::string big_i32("\xff\xff\xff\xff\x7f", 5);  // zigzag value beyond int32
  CompactReader r2(U8(big_i32), big_i32.size());
  int32_t i;
  EXPECT_FALSE(r2.ReadI32(&i).ok());
  std::string cut("\x85", 1);
  CompactReader r3(U8(cut), cut.size());
  EXPECT_FALSE(r3.ReadI32(&i).ok());
  std::string nest(200, '\x0c');  // struct-typed elements of struct-typed...
  nest = "\x1c" + nest;
  CompactReader r4(U8(nest), nest.size());
  Status s = r4.Skip(CompactType::kStruct);
  EXPECT_FALSE(s.ok());
  std::string lst("\xf9\xff\xff\xff\xff\x07", 6);  // list of 2^31-1 structs in 6 bytes
  CompactReader r5(U8(lst), lst.size());
  CompactType et;
  int32_t n;
  EXPECT_FALSE(r5.ReadListHeader(&et, &n).ok());
}

TEST(ThriftCompactTest, PageHeaderRoundTrips) {
  PageHeader h;
  h.type = static_cast<int32_t>(PageType::kDataPageV2);
  h.uncompressed_page_size = 1234;
  h.compressed_page_size = 567;
  DataPageHeaderV2 v2;
  v2.num_values = 100;
  v2.num_nulls = 3;
  v2.num_rows = 100;
  v2.encoding = 8;
  v2.definition_levels_byte_length = 9;
  v2.is_compressed = false;
  h.data_page_v2 = v2;
  std::string buf;
  SerializePageHeader(h, &buf);
  buf += "trailing page bytes";
  PageHeader back;
  size_t size = 0;
  ASSERT_TRUE(ParsePageHeader(U8(buf), buf.size(), &back, &size).ok());
  EXPECT_EQ(size, buf.size() - 19);
  EXPECT_EQ(back.type, h.type);
  EXPECT_EQ(back.uncompressed_page_size, 1234);
  EXPECT_EQ(back.compressed_page_size, 567);
  ASSERT_TRUE(back.data_page_v2.has_value());
  EXPECT_EQ(back.data_page_v2->num_nulls, 3);
  EXPECT_EQ(back.data_page_v2->encoding, 8);
  EXPECT_EQ(back.data_page_v2->definition_levels_byte_length, 9);
  EXPECT_FALSE(back.data_page_v2->is_compressed);
}

}  // namespace
}  // namespace bimride::parquet
