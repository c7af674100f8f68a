// Bad input never crashes the reader: each case gives a Status whose message names the file,
// and for page problems the column, row group and page.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "common/file.h"
#include "parquet/compression.h"
#include "parquet/encoding.h"
#include "parquet/file_reader.h"
#include "parquet/file_writer.h"
#include "parquet/metadata.h"
#include "parquet/test_util.h"
#include "parquet/thrift_compact.h"

namespace bimride::parquet {
namespace {

using ::testing::HasSubstr;

// Builds a one-column file (REQUIRED INT64 'v', or whatever `meta_edit` makes of it) from raw
// pages, so each test can break exactly one thing.
struct RawPage {
  PageHeader header;
  std::string body;
};

std::string BuildFile(const std::vector<RawPage>& pages, int64_t rows, Codec codec,
                      void (*meta_edit)(FileMetaData*) = nullptr) {
  std::string file = "PAR1";
  FileMetaData meta;
  meta.version = 1;
  SchemaElement root;
  root.name = "schema";
  root.num_children = 1;
  SchemaElement v;
  v.type = static_cast<int32_t>(PhysicalType::kInt64);
  v.repetition_type = 0;
  v.name = "v";
  meta.schema = {root, v};
  meta.num_rows = rows;
  RowGroupMeta rg;
  rg.num_rows = rows;
  ColumnChunkMeta cc;
  cc.has_meta_data = true;
  cc.meta_data.type = static_cast<int32_t>(PhysicalType::kInt64);
  cc.meta_data.path_in_schema = {"v"};
  cc.meta_data.codec = static_cast<int32_t>(codec);
  cc.meta_data.num_values = rows;
  cc.meta_data.encodings = {0};
  const int64_t start = static_cast<int64_t>(file.size());
  bool first_data = true;
  for (const RawPage& p : pages) {
    if (p.header.type == static_cast<int32_t>(PageType::kDictionaryPage)) {
      cc.meta_data.dictionary_page_offset = static_cast<int64_t>(file.size());
    } else if (first_data) {
      cc.meta_data.data_page_offset = static_cast<int64_t>(file.size());
      first_data = false;
    }
    SerializePageHeader(p.header, &file);
    file += p.body;
  }
  cc.meta_data.total_compressed_size = static_cast<int64_t>(file.size()) - start;
  cc.meta_data.total_uncompressed_size = cc.meta_data.total_compressed_size;
  rg.columns = {cc};
  meta.row_groups = {rg};
  if (meta_edit) meta_edit(&meta);
  std::string footer;
  SerializeFileMetaData(meta, &footer);
  uint32_t len = static_cast<uint32_t>(footer.size());
  file += footer;
  file.append(reinterpret_cast<const char*>(&len), 4);
  file += "PAR1";
  return file;
}

std::string PlainInt64(const std::vector<int64_t>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 8);
}

RawPage DataPage(std::string body, int32_t num_values, Encoding enc, int32_t usize = -1) {
  RawPage p;
  p.header.type = static_cast<int32_t>(PageType::kDataPage);
  p.header.uncompressed_page_size = usize >= 0 ? usize : static_cast<int32_t>(body.size());
  p.header.compressed_page_size = static_cast<int32_t>(body.size());
  p.header.data_page = DataPageHeader{num_values, static_cast<int32_t>(enc), 3, 3};
  p.body = std::move(body);
  return p;
}

RawPage DictPage(std::string body, int32_t num_values) {
  RawPage p;
  p.header.type = static_cast<int32_t>(PageType::kDictionaryPage);
  p.header.uncompressed_page_size = static_cast<int32_t>(body.size());
  p.header.compressed_page_size = static_cast<int32_t>(body.size());
  p.header.dictionary_page = DictionaryPageHeader{num_values, 0, false};
  p.body = std::move(body);
  return p;
}

// Opens and reads column 0 of every row group; returns the first error.
Status OpenAndRead(const std::string& name, const std::string& bytes,
                   const ReaderOptions& options = {}) {
  auto r = FileReader::OpenBuffer(name, bytes, options);
  if (!r.ok()) return r.status();
  std::vector<int> all;
  for (int c = 0; c < (*r)->num_columns(); ++c) all.push_back(c);
  for (int rg = 0; rg < (*r)->num_row_groups(); ++rg) {
    auto b = (*r)->ReadRowGroup(rg, all);
    if (!b.ok()) return b.status();
  }
  return OkStatus();
}

TEST(BadInputTest, BuilderMakesAValidFile) {
  std::string f = BuildFile({DataPage(PlainInt64({1, 2, 3}), 3, Encoding::kPlain)}, 3,
                            Codec::kUncompressed);
  auto r = FileReader::OpenBuffer("ok.parquet", f);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto b = (*r)->ReadRowGroup(0, {0});
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->columns[0].i64, (std::vector<int64_t>{1, 2, 3}));
}

TEST(BadInputTest, TooSmallAndWrongMagicAndTruncatedFooter) {
  Status s = OpenAndRead("tiny.parquet", "PAR1");
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("tiny.parquet: not a Parquet file"));
  std::string f = BuildFile({DataPage(PlainInt64({1}), 1, Encoding::kPlain)}, 1,
                            Codec::kUncompressed);
  std::string bad = f;
  bad[0] = 'X';
  EXPECT_THAT(OpenAndRead("magic.parquet", bad).message(), HasSubstr("wrong magic at the start"));
  // Cut the last bytes: the end magic is gone.
  EXPECT_THAT(OpenAndRead("cut.parquet", f.substr(0, f.size() - 3)).message(),
              HasSubstr("wrong magic at the end"));
  // Footer length larger than the file.
  bad = f;
  uint32_t huge = 1u << 30;
  std::memcpy(bad.data() + bad.size() - 8, &huge, 4);
  EXPECT_THAT(OpenAndRead("footer.parquet", bad).message(),
              HasSubstr("footer.parquet: footer length 1073741824 exceeds the file size"));
  EXPECT_EQ(FileReader::Open("/nonexistent/x.parquet").status().code(), StatusCode::kNotFound);
}

TEST(BadInputTest, EveryTruncationOfAValidFileFailsCleanly) {
  std::string path = ::testing::TempDir() + "/bad_input_trunc.parquet";
  auto w = FileWriter::Open(path, TestSchema(), {.codec = Codec::kSnappy, .page_rows = 100});
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Write(TestColumns(300, 5)).ok());
  ASSERT_TRUE((*w)->Close().ok());
  auto r = FileReader::Open(path);
  ASSERT_TRUE(r.ok());
  StatusOr<std::string> read = ReadFile(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  const std::string full = *read;
  EXPECT_TRUE(OpenAndRead("full.parquet", full).ok());
  for (size_t cut = 0; cut < full.size(); cut += 7) {
    Status s = OpenAndRead("trunc.parquet", full.substr(0, cut));
    ASSERT_FALSE(s.ok()) << "cut at " << cut;
    EXPECT_THAT(s.message(), HasSubstr("trunc.parquet: "));
  }
  std::remove(path.c_str());
}

TEST(BadInputTest, RandomByteFlipsNeverCrash) {
  std::string path = ::testing::TempDir() + "/bad_input_flip.parquet";
  for (Codec codec : {Codec::kUncompressed, Codec::kZstd, Codec::kGzip}) {
    for (bool v2 : {false, true}) {
      WriterOptions o{.codec = codec, .page_rows = 64, .data_page_v2 = v2};
      auto w = FileWriter::Open(path, TestSchema(), o);
      ASSERT_TRUE(w.ok());
      ASSERT_TRUE((*w)->Write(TestColumns(200, 9)).ok());
      ASSERT_TRUE((*w)->Close().ok());
      StatusOr<std::string> read = ReadFile(path);
      ASSERT_TRUE(read.ok()) << read.status().ToString();
      const std::string full = *read;
      std::mt19937 rng(1234);
      int failures = 0;
      for (int trial = 0; trial < 300; ++trial) {
        std::string bad = full;
        for (int k = 0; k < 1 + trial % 4; ++k) {
          bad[4 + rng() % (bad.size() - 12)] = static_cast<char>(rng());
        }
        Status s = OpenAndRead("flip.parquet", bad, {.max_row_group_rows = 1 << 20,
                                                     .max_page_bytes = 1 << 24});
        if (!s.ok()) {
          ++failures;
          EXPECT_THAT(s.message(), HasSubstr("flip.parquet: "));
        }
      }
      EXPECT_GT(failures, 0);
    }
  }
  std::remove(path.c_str());
}

TEST(BadInputTest, BadThriftInTheFooter) {
  auto with_footer = [](const std::string& footer) {
    std::string f = "PAR1" + footer;
    uint32_t len = static_cast<uint32_t>(footer.size());
    f.append(reinterpret_cast<const char*>(&len), 4);
    return f + "PAR1";
  };
  // Field 1 (version) sent as a string instead of an i32.
  Status s = OpenAndRead("types.parquet", with_footer(std::string("\x18\x01x\x00", 4)));
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("types.parquet: footer: bad Thrift metadata: "
                                     "FileMetaData.version has wire type 8, expected 5"));
  // A string whose length is larger than the data (a "negative" 64-bit length).
  s = OpenAndRead("neg.parquet",
                  with_footer(std::string("\x68\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10)));
  EXPECT_THAT(s.message(), HasSubstr("neg.parquet: footer: bad Thrift metadata: string of"));
  // A list claiming more elements than bytes.
  s = OpenAndRead("list.parquet", with_footer(std::string("\x29\xfc\xff\xff\xff\x0f", 6)));
  EXPECT_THAT(s.message(), HasSubstr("exceeds"));
  // Runaway nesting: struct inside struct inside ... (unknown field 15, type struct).
  std::string deep(5000, '\xfc');
  s = OpenAndRead("deep.parquet", with_footer(deep));
  EXPECT_THAT(s.message(), HasSubstr("deep.parquet: footer: bad Thrift metadata: nesting deeper"));
  // Missing required fields.
  s = OpenAndRead("empty.parquet", with_footer(std::string("\x00", 1)));
  EXPECT_THAT(s.message(), HasSubstr("lacks a required field"));
}

TEST(BadInputTest, UnknownFieldsAreSkipped) {
  // FileMetaData with an extra unknown field 20 holding a map, a list of bools and a double.
  std::string f = BuildFile({DataPage(PlainInt64({7}), 1, Encoding::kPlain)}, 1,
                            Codec::kUncompressed);
  uint32_t len;
  std::memcpy(&len, f.data() + f.size() - 8, 4);
  std::string footer = f.substr(f.size() - 8 - len, len);
  footer.pop_back();  // drop the struct's stop byte, append unknown fields, then stop
  CompactWriter w(&footer);
  w.StructBegin();  // resets delta tracking: use absolute field ids below
  w.FieldHeader(20, CompactType::kMap);
  // 2 entries, binary -> i32: "a" -> 1, "b" -> 2.
  footer += std::string("\x02\x85\x01" "a\x02\x01" "b\x04", 8);
  w.FieldHeader(21, CompactType::kList);
  w.ListHeader(CompactType::kBoolTrue, 3);
  footer += std::string("\x01\x00\x01", 3);
  w.FieldHeader(22, CompactType::kDouble);
  footer += std::string(8, '\0');
  footer.push_back('\0');
  std::string g = f.substr(0, f.size() - 8 - len) + footer;
  len = static_cast<uint32_t>(footer.size());
  g.append(reinterpret_cast<const char*>(&len), 4);
  g += "PAR1";
  auto r = FileReader::OpenBuffer("extra.parquet", g);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto b = (*r)->ReadRowGroup(0, {0});
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->columns[0].i64[0], 7);
}

void ExpectPageError(const std::string& file, const std::string& want_substr, StatusCode code,
                     const ReaderOptions& options = {}) {
  Status s = OpenAndRead("bad.parquet", file, options);
  EXPECT_EQ(s.code(), code) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("bad.parquet: column 'v': row group 0: page "));
  EXPECT_THAT(s.message(), HasSubstr(want_substr));
}

TEST(BadInputTest, CorruptCompressedPages) {
  std::string plain = PlainInt64({1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  std::string garbage = "this is not compressed data at all";
  ExpectPageError(BuildFile({DataPage(garbage, 10, Encoding::kPlain, 80)}, 10, Codec::kZstd),
                  "page 0: bad ZSTD frame", StatusCode::kDataLoss);
  ExpectPageError(BuildFile({DataPage(garbage, 10, Encoding::kPlain, 80)}, 10, Codec::kGzip),
                  "page 0: bad GZIP data", StatusCode::kDataLoss);
  ExpectPageError(BuildFile({DataPage(garbage, 10, Encoding::kPlain, 80)}, 10, Codec::kSnappy),
                  "page 0: ", StatusCode::kDataLoss);
  // Decompressed size differs from the header's.
  for (Codec codec : {Codec::kZstd, Codec::kGzip, Codec::kSnappy}) {
    std::string z;
    ASSERT_TRUE(Compress(codec, plain, 0, &z).ok());
    ExpectPageError(BuildFile({DataPage(z, 10, Encoding::kPlain, 88)}, 10, codec),
                    "page header says 88", StatusCode::kDataLoss);
    ExpectPageError(BuildFile({DataPage(z, 10, Encoding::kPlain, 72)}, 10, codec), "page 0: ",
                    StatusCode::kDataLoss);
    // Truncated compressed data.
    ExpectPageError(BuildFile({DataPage(z.substr(0, z.size() / 2), 10, Encoding::kPlain, 80)}, 10,
                              codec),
                    "page 0: ", StatusCode::kDataLoss);
  }
  // A page claiming more than the limit.
  ExpectPageError(BuildFile({DataPage(plain, 10, Encoding::kPlain, 1 << 30)}, 10, Codec::kZstd),
                  "above the limit", StatusCode::kDataLoss, {.max_page_bytes = 1 << 20});
}

TEST(BadInputTest, PageAndChunkStructureErrors) {
  std::string plain = PlainInt64({1, 2, 3});
  // Fewer values than rows: the chunk ends early.
  EXPECT_THAT(OpenAndRead("short.parquet", BuildFile({DataPage(plain, 3, Encoding::kPlain)}, 5,
                                                     Codec::kUncompressed))
                  .message(),
              HasSubstr("short.parquet: column 'v': row group 0: column chunk ends after 3 of 5 "
                        "rows"));
  // More values than the row group has rows.
  ExpectPageError(BuildFile({DataPage(plain, 3, Encoding::kPlain)}, 2, Codec::kUncompressed),
                  "page 0: page has 3 values but the row group has 2 rows left",
                  StatusCode::kDataLoss);
  // Values section shorter than the values.
  ExpectPageError(BuildFile({DataPage(plain.substr(0, 20), 3, Encoding::kPlain)}, 3,
                            Codec::kUncompressed),
                  "page 0: PLAIN data ends after 2 of 3 values", StatusCode::kDataLoss);
  // Page size beyond the chunk.
  RawPage p = DataPage(plain, 3, Encoding::kPlain);
  p.header.compressed_page_size = 1000;
  ExpectPageError(BuildFile({p}, 3, Codec::kUncompressed), "runs past the end of the column chunk",
                  StatusCode::kDataLoss);
  // Negative page size.
  p = DataPage(plain, 3, Encoding::kPlain);
  p.header.compressed_page_size = -5;
  ExpectPageError(BuildFile({p}, 3, Codec::kUncompressed), "negative page size",
                  StatusCode::kDataLoss);
  // Chunk offsets outside the file.
  std::string f = BuildFile({DataPage(plain, 3, Encoding::kPlain)}, 3, Codec::kUncompressed,
                            [](FileMetaData* m) {
                              m->row_groups[0].columns[0].meta_data.data_page_offset = 1 << 30;
                            });
  Status s = OpenAndRead("bad.parquet", f);
  EXPECT_THAT(s.message(), HasSubstr("bad.parquet: column 'v': row group 0: column chunk at "
                                     "offset 1073741824"));
}

TEST(BadInputTest, DictionaryIndexOutOfRange) {
  std::string dict = PlainInt64({100, 200});
  std::string idx(1, '\x03');  // bit width 3
  uint32_t vals[8] = {0, 1, 5, 0, 0, 0, 0, 0};
  EncodeRleHybrid(vals, 3, 3, &idx);
  ExpectPageError(BuildFile({DictPage(dict, 2), DataPage(idx, 3, Encoding::kRleDictionary)}, 3,
                            Codec::kUncompressed),
                  "page 1: dictionary index 5 out of range (dictionary has 2 values)",
                  StatusCode::kDataLoss);
  // Without a dictionary page.
  ExpectPageError(BuildFile({DataPage(idx, 3, Encoding::kRleDictionary)}, 3, Codec::kUncompressed),
                  "page 0: dictionary-encoded page without a dictionary page",
                  StatusCode::kDataLoss);
  // A valid dictionary page decodes.
  std::string ok_idx(1, '\x01');
  uint32_t ok_vals[3] = {1, 0, 1};
  EncodeRleHybrid(ok_vals, 3, 1, &ok_idx);
  auto r = FileReader::OpenBuffer(
      "dict.parquet",
      BuildFile({DictPage(dict, 2), DataPage(ok_idx, 3, Encoding::kPlainDictionary)}, 3,
                Codec::kUncompressed));
  ASSERT_TRUE(r.ok());
  auto b = (*r)->ReadRowGroup(0, {0});
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->columns[0].i64, (std::vector<int64_t>{200, 100, 200}));
}

TEST(BadInputTest, UnsupportedFeaturesAreUnimplemented) {
  std::string plain = PlainInt64({1, 2, 3});
  ExpectPageError(BuildFile({DataPage(plain, 3, static_cast<Encoding>(42))}, 3,
                            Codec::kUncompressed),
                  "page 0: unsupported encoding UNKNOWN_ENCODING", StatusCode::kUnimplemented);
  ExpectPageError(BuildFile({DataPage(plain, 3, Encoding::kDeltaLengthByteArray)}, 3,
                            Codec::kUncompressed),
                  "encoding DELTA_LENGTH_BYTE_ARRAY is not valid for INT64",
                  StatusCode::kUnimplemented);
  Status s = OpenAndRead("codec.parquet",
                         BuildFile({DataPage(plain, 3, Encoding::kPlain)}, 3, Codec::kLz4));
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_THAT(s.message(), HasSubstr("codec.parquet: column 'v': row group 0: unsupported "
                                     "compression codec LZ4"));
  // A nested schema: a group with one leaf inside.
  std::string nested = BuildFile({DataPage(plain, 3, Encoding::kPlain)}, 3, Codec::kUncompressed,
                                 [](FileMetaData* m) {
                                   SchemaElement group;
                                   group.name = "trip";
                                   group.num_children = 1;
                                   group.repetition_type = 1;
                                   m->schema.insert(m->schema.begin() + 1, group);
                                 });
  s = OpenAndRead("nested.parquet", nested);
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_THAT(s.message(), HasSubstr("nested.parquet: column 'trip': nested columns (struct, "
                                     "list, map) are not supported"));
  std::string repeated = BuildFile({DataPage(plain, 3, Encoding::kPlain)}, 3,
                                   Codec::kUncompressed,
                                   [](FileMetaData* m) { m->schema[1].repetition_type = 2; });
  EXPECT_THAT(OpenAndRead("rep.parquet", repeated).message(),
              HasSubstr("rep.parquet: column 'v': repeated fields are not supported"));
}

}  // namespace
}  // namespace bimride::parquet
