// The reader against an INDEPENDENT writer: tests/peers/parquet_matrix.mjs writes a matrix of
// files with arrow-rs's Parquet writer (npm parquet-wasm) — every physical type, nulls, strings,
// decimals, timestamps (ms/us/ns), dates and times; data pages v1 and v2; dictionary on, off and
// falling back mid-chunk; PLAIN, DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY,
// BYTE_STREAM_SPLIT and RLE; UNCOMPRESSED, SNAPPY, GZIP, ZSTD; three row groups of one-value,
// 61-value or whole-row-group pages — together with the values the writer was given. Every cell
// our FileReader decodes must equal those values (integers, bytes and timestamps exactly, floats
// bit for bit), reading all columns and projections, row group by row group; the schema and
// chunk statistics must say what was written; the page headers must be what the matrix claims
// (so a writer falling back silently cannot shrink the test). Files with features beyond the
// reader (nested columns, other codecs) must be refused as Unimplemented, naming file and column.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "common/file.h"
#include "parquet/file_reader.h"
#include "parquet/metadata.h"

namespace bimride::parquet {
namespace {

using Json = nlohmann::json;
const std::string kPeers = std::string(BIMRIDE_SOURCE_DIR) + "/tests/peers";

struct ExpectedColumn {
  std::string name;
  bool optional = false;
  std::string physical, logical, unit;
  bool utc = false;
  int type_length = 0, int_bits = 0, precision = 0, scale = 0;
  bool int_signed = true;
  std::vector<std::optional<std::string>> values;  // canonical cells; nullopt = null
};

struct Dataset {
  int64_t rows = 0;
  std::vector<ExpectedColumn> columns;
};

struct MatrixFile {
  std::string file, dataset, codec, version, mode, pages;  // pages: tiny | small | large
  int64_t row_group_rows = 0;
  std::set<std::string> dictionary_columns;  // fully dictionary-encoded in every row group
  bool no_dictionary = false;                // no dictionary page anywhere
  bool fallback = false;                     // some chunk falls back from dictionary mid-chunk
  std::map<std::string, std::set<std::string>> encodings;  // column -> allowed data page encodings
};

struct Refused {
  std::string file, column, what;
};

struct Matrix {
  std::string dir, writer;
  std::map<std::string, Dataset> datasets;
  std::vector<MatrixFile> files;
  std::vector<Refused> refused;
};

void ParseManifest(const std::string& text, Matrix* m);  // throws Json::exception

// Generates the matrix once per test binary run, into a fresh temp folder.
const Matrix* GetMatrix() {
  static const Matrix* matrix = []() -> const Matrix* {
    if (!FileExists(kPeers + "/node_modules/parquet-wasm/package.json") ||
        !FileExists(kPeers + "/node_modules/apache-arrow/package.json")) {
      ADD_FAILURE() << "parquet-wasm / apache-arrow are not installed: run `npm ci` in " << kPeers
                    << " (scripts/setup does)";
      return nullptr;
    }
    auto* m = new Matrix;
    m->dir = ::testing::TempDir() + "/pq_matrix_" + std::to_string(::getpid());
    const std::string cmd =
        "node '" + kPeers + "/parquet_matrix.mjs' '" + m->dir + "' > '" + m->dir + ".log' 2>&1";
    if (std::system(cmd.c_str()) != 0) {
      auto log = ReadFile(m->dir + ".log");
      ADD_FAILURE() << cmd << " failed:\n" << (log.ok() ? *log : log.status().ToString());
      return nullptr;
    }
    auto text = ReadFile(m->dir + "/manifest.json");
    if (!text.ok()) {
      ADD_FAILURE() << text.status().ToString();
      return nullptr;
    }
    try {
      ParseManifest(*text, m);
    } catch (const Json::exception& e) {
      ADD_FAILURE() << m->dir << "/manifest.json: " << e.what();
      return nullptr;
    }
    return m;
  }();
  return matrix;
}

void ParseManifest(const std::string& text, Matrix* m) {
  Json j = Json::parse(text);
  m->writer = j.at("writer").get<std::string>();
  for (auto& [name, d] : j.at("datasets").items()) {
    Dataset ds;
    ds.rows = d.at("rows").get<int64_t>();
    for (const Json& c : d.at("columns")) {
      ExpectedColumn e;
      e.name = c.at("name").get<std::string>();
      e.optional = c.at("optional").get<bool>();
      e.physical = c.at("physical").get<std::string>();
      e.logical = c.at("logical").get<std::string>();
      e.unit = c.at("unit").get<std::string>();
      e.utc = c.at("utc").get<bool>();
      e.type_length = c.at("type_length").get<int>();
      e.int_bits = c.at("int_bits").get<int>();
      e.int_signed = c.at("int_signed").get<bool>();
      e.precision = c.at("precision").get<int>();
      e.scale = c.at("scale").get<int>();
      for (const Json& v : c.at("values")) {
        if (v.is_null()) {
          e.values.emplace_back(std::nullopt);
        } else {
          e.values.emplace_back(v.get<std::string>());
        }
      }
      ds.columns.push_back(std::move(e));
    }
    m->datasets[name] = std::move(ds);
  }
  for (const Json& f : j.at("files")) {
    MatrixFile mf;
    mf.file = f.at("file").get<std::string>();
    mf.dataset = f.at("dataset").get<std::string>();
    mf.codec = f.at("codec").get<std::string>();
    mf.version = f.at("version").get<std::string>();
    mf.mode = f.at("mode").get<std::string>();
    mf.pages = f.at("pages").get<std::string>();
    for (const Json& c : f.at("dictionary_columns")) {
      mf.dictionary_columns.insert(c.get<std::string>());
    }
    mf.no_dictionary = f.at("no_dictionary").get<bool>();
    mf.fallback = f.at("fallback").get<bool>();
    mf.row_group_rows = f.at("row_group_rows").get<int64_t>();
    for (auto& [col, list] : f.at("encodings").items()) {
      for (const Json& e : list) mf.encodings[col].insert(e.get<std::string>());
    }
    m->files.push_back(std::move(mf));
  }
  for (const Json& r : j.at("refused")) {
    m->refused.push_back({r.at("file").get<std::string>(), r.at("column").get<std::string>(),
                          r.at("what").get<std::string>()});
  }
}

std::string LogicalName(LogicalKind k) {
  switch (k) {
    case LogicalKind::kNone:
      return "NONE";
    case LogicalKind::kString:
      return "STRING";
    case LogicalKind::kTimestamp:
      return "TIMESTAMP";
    case LogicalKind::kDate:
      return "DATE";
    case LogicalKind::kTime:
      return "TIME";
    case LogicalKind::kInt:
      return "INT";
    case LogicalKind::kDecimal:
      return "DECIMAL";
    case LogicalKind::kNull:
      return "NULL";
    case LogicalKind::kOther:
      return "OTHER";
  }
  return "?";
}

std::string UnitName(TimeUnit u) {
  switch (u) {
    case TimeUnit::kMillis:
      return "MILLIS";
    case TimeUnit::kMicros:
      return "MICROS";
    case TimeUnit::kNanos:
      return "NANOS";
    default:
      return "NONE";
  }
}

// The manifest's canonical text of a decoded cell (see parquet_matrix.mjs); nullopt for null.
std::optional<std::string> ExactCell(const ColumnSchema& s, const Column& c, int64_t row) {
  if (c.IsNull(row)) return std::nullopt;
  const bool is_unsigned = s.logical == LogicalKind::kInt && !s.int_signed;
  char buf[32];
  switch (c.physical) {
    case PhysicalType::kBoolean:
      return c.boolean[row] ? "true" : "false";
    case PhysicalType::kInt32:
      if (is_unsigned) return std::to_string(static_cast<uint32_t>(c.i32[row]));
      return std::to_string(c.i32[row]);
    case PhysicalType::kInt64:
    case PhysicalType::kInt96:
      if (is_unsigned) return std::to_string(static_cast<uint64_t>(c.i64[row]));
      return std::to_string(c.i64[row]);
    case PhysicalType::kFloat: {
      uint32_t bits;
      std::memcpy(&bits, &c.f32[row], 4);
      std::snprintf(buf, sizeof(buf), "f32:%08" PRIx32, bits);
      return std::string(buf);
    }
    case PhysicalType::kDouble: {
      uint64_t bits;
      std::memcpy(&bits, &c.f64[row], 8);
      std::snprintf(buf, sizeof(buf), "f64:%016" PRIx64, bits);
      return std::string(buf);
    }
    case PhysicalType::kByteArray:
    case PhysicalType::kFixedLenByteArray: {
      static const char kHex[] = "0123456789abcdef";
      std::string out;
      for (unsigned char ch : c.ByteValue(row)) {
        out.push_back(kHex[ch >> 4]);
        out.push_back(kHex[ch & 15]);
      }
      return out;
    }
  }
  return "?";
}

std::string Show(const std::optional<std::string>& v) {
  if (!v) return "null";
  return v->size() > 80 ? v->substr(0, 80) + "...(" + std::to_string(v->size()) + " chars)" : *v;
}

void ExpectSchema(const std::string& file, const FileReader& r, const Dataset& ds) {
  ASSERT_EQ(r.num_columns(), static_cast<int>(ds.columns.size())) << file;
  for (size_t i = 0; i < ds.columns.size(); ++i) {
    const ExpectedColumn& e = ds.columns[i];
    const ColumnSchema& s = r.schema()[i];
    const std::string where = file + ": column '" + e.name + "'";
    EXPECT_EQ(s.name, e.name) << where;
    EXPECT_EQ(std::string(PhysicalTypeName(s.physical)), e.physical) << where;
    EXPECT_EQ(LogicalName(s.logical), e.logical) << where;
    EXPECT_EQ(s.optional, e.optional) << where;
    if (e.logical == "TIMESTAMP" || e.logical == "TIME") {
      EXPECT_EQ(UnitName(s.time_unit), e.unit) << where;
      EXPECT_EQ(s.utc_adjusted, e.utc) << where;
    }
    if (e.physical == "FIXED_LEN_BYTE_ARRAY") {
      EXPECT_EQ(s.type_length, e.type_length) << where;
    }
    if (e.logical == "INT") {
      EXPECT_EQ(s.int_bit_width, e.int_bits) << where;
      EXPECT_EQ(s.int_signed, e.int_signed) << where;
    }
    if (e.logical == "DECIMAL") {
      EXPECT_EQ(s.decimal_precision, e.precision) << where;
      EXPECT_EQ(s.decimal_scale, e.scale) << where;
    }
  }
}

// Compares one decoded column chunk with the expected values of rows [row0, row0 + n); one
// failure per chunk naming file, column, row group and the first differing rows.
void ExpectChunk(const std::string& file, const ColumnSchema& schema, const ExpectedColumn& e,
                 int rg, int64_t row0, const Column& c, int64_t n) {
  const std::string where = file + ": column '" + e.name + "': row group " + std::to_string(rg);
  if (c.num_rows != n) {
    ADD_FAILURE() << where << ": decoded " << c.num_rows << " rows, row group has " << n;
    return;
  }
  int64_t bad = 0, nulls = 0;
  std::ostringstream first;
  for (int64_t i = 0; i < n; ++i) {
    const std::optional<std::string>& want = e.values[row0 + i];
    nulls += !want.has_value();
    std::optional<std::string> got = ExactCell(schema, c, i);
    if (got != want) {
      if (bad < 5) {
        first << "\n  row " << row0 + i << " (row " << i << " of the row group): got " << Show(got)
              << ", want " << Show(want);
      }
      ++bad;
    }
  }
  if (bad) ADD_FAILURE() << where << ": " << bad << " of " << n << " cells differ" << first.str();
  EXPECT_EQ(c.null_count, nulls) << where << ": null_count";
}

// Reads every row group of `columns` (schema indices) with one reused batch and checks them.
void ExpectReaderValues(FileReader& r, const MatrixFile& mf, const Dataset& ds,
                        const std::vector<int>& columns) {
  ASSERT_EQ(r.num_rows(), ds.rows) << mf.file;
  RowGroupBatch batch;
  int64_t row0 = 0;
  for (int rg = 0; rg < r.num_row_groups(); ++rg) {
    Status s = r.ReadRowGroup(rg, columns, &batch);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_EQ(batch.columns.size(), columns.size()) << mf.file;
    ASSERT_LE(batch.num_rows, mf.row_group_rows) << mf.file << ": row group " << rg;
    for (size_t k = 0; k < columns.size(); ++k) {
      const int c = columns[k];
      EXPECT_EQ(batch.column_indices[k], c);
      ExpectChunk(mf.file, r.schema()[c], ds.columns[c], rg, row0, batch.columns[k],
                  batch.num_rows);
    }
    row0 += batch.num_rows;
  }
  EXPECT_EQ(row0, ds.rows) << mf.file << ": rows over all row groups";
}

void ExpectFileValues(const std::string& dir, const MatrixFile& mf, const Dataset& ds,
                      const std::vector<int>& columns) {
  auto reader = FileReader::Open(dir + "/" + mf.file);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  ExpectReaderValues(**reader, mf, ds, columns);
}

std::vector<int> AllColumns(const Dataset& ds) {
  std::vector<int> all(ds.columns.size());
  for (size_t c = 0; c < all.size(); ++c) all[c] = static_cast<int>(c);
  return all;
}

// Removes the generated folder after the run, unless a test failed (then it is kept to look at).
class RemoveMatrixEnvironment : public ::testing::Environment {
 public:
  void TearDown() override {
    const Matrix* m = GetMatrix();
    if (m == nullptr) return;
    if (::testing::UnitTest::GetInstance()->Failed()) {
      std::cerr << "kept the generated files in " << m->dir << "\n";
      return;
    }
    std::error_code ec;
    std::filesystem::remove_all(m->dir, ec);
    std::filesystem::remove(m->dir + ".log", ec);
  }
};
const auto* const kRemoveMatrix = ::testing::AddGlobalTestEnvironment(new RemoveMatrixEnvironment);

class IndependentWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    matrix_ = GetMatrix();
    ASSERT_NE(matrix_, nullptr) << "the parquet-wasm matrix could not be generated";
  }
  const Dataset& DatasetOf(const MatrixFile& f) const { return matrix_->datasets.at(f.dataset); }
  const Matrix* matrix_ = nullptr;
};

TEST_F(IndependentWriterTest, MatrixCoversEveryCodecPageVersionAndMode) {
  std::set<std::string> codecs, versions, modes;
  for (const MatrixFile& f : matrix_->files) {
    codecs.insert(f.codec);
    versions.insert(f.version);
    modes.insert(f.mode);
  }
  EXPECT_EQ(codecs, (std::set<std::string>{"UNCOMPRESSED", "SNAPPY", "GZIP", "ZSTD"}));
  EXPECT_EQ(versions, (std::set<std::string>{"v1", "v2"}));
  EXPECT_EQ(modes, (std::set<std::string>{"dict", "fallback", "plain", "delta", "split"}));
  EXPECT_GE(matrix_->files.size(), 40u);
  size_t dictionary_columns = 0;
  for (const MatrixFile& f : matrix_->files) dictionary_columns += f.dictionary_columns.size();
  EXPECT_GT(dictionary_columns, 0u);
  EXPECT_GE(matrix_->refused.size(), 5u);
}

TEST_F(IndependentWriterTest, EveryFileSchemaMatchesTheArrowTypesWritten) {
  for (const MatrixFile& f : matrix_->files) {
    SCOPED_TRACE(f.file);
    auto reader = FileReader::Open(matrix_->dir + "/" + f.file);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    ExpectSchema(f.file, **reader, DatasetOf(f));
  }
}

TEST_F(IndependentWriterTest, EveryCellOfEveryFileEqualsTheValueWritten) {
  for (const MatrixFile& f : matrix_->files) {
    SCOPED_TRACE(f.file);
    ExpectFileValues(matrix_->dir, f, DatasetOf(f), AllColumns(DatasetOf(f)));
  }
}

TEST_F(IndependentWriterTest, ProjectionDecodesTheRequestedColumnsInTheRequestedOrder) {
  for (const MatrixFile& f : matrix_->files) {
    SCOPED_TRACE(f.file);
    const Dataset& ds = DatasetOf(f);
    // Every third column, last first, and one column twice.
    std::vector<int> some;
    for (int c = static_cast<int>(ds.columns.size()) - 1; c >= 0; c -= 3) some.push_back(c);
    if (!some.empty()) some.push_back(some.front());
    ExpectFileValues(matrix_->dir, f, ds, some);
  }
}

TEST_F(IndependentWriterTest, ProjectionNeverReadsTheOtherColumnsPages) {
  // Overwrite every page of one column with garbage: a projection without it must still read
  // exactly, and asking for it must fail naming it.
  int checked = 0;
  for (const MatrixFile& f : matrix_->files) {
    if (f.dataset != "main" || (f.mode != "plain" && f.mode != "dict")) continue;
    SCOPED_TRACE(f.file);
    const Dataset& ds = DatasetOf(f);
    auto bytes = ReadFile(matrix_->dir + "/" + f.file);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    auto clean = FileReader::OpenBuffer(f.file, *bytes);
    ASSERT_TRUE(clean.ok()) << clean.status().ToString();
    auto victim = (*clean)->ColumnIndex("i64_opt");
    ASSERT_TRUE(victim.ok()) << victim.status().ToString();
    std::string broken = *bytes;
    for (const RowGroupMeta& rg : (*clean)->metadata().row_groups) {
      const ColumnMetaData& m = rg.columns[*victim].meta_data;
      int64_t start = m.data_page_offset;
      if (m.dictionary_page_offset) start = std::min(start, *m.dictionary_page_offset);
      ASSERT_LE(start + m.total_compressed_size, static_cast<int64_t>(broken.size()));
      std::memset(broken.data() + start, 0xA5, static_cast<size_t>(m.total_compressed_size));
    }
    auto reader = FileReader::OpenBuffer(f.file, broken);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    std::vector<int> others;
    for (int c : AllColumns(ds)) {
      if (c != *victim) others.push_back(c);
    }
    ExpectReaderValues(**reader, f, ds, others);
    auto bad = (*reader)->ReadRowGroup(0, {*victim});
    ASSERT_FALSE(bad.ok()) << f.file << ": garbage pages decoded without error";
    EXPECT_EQ(bad.status().code(), StatusCode::kDataLoss) << bad.status().ToString();
    EXPECT_NE(bad.status().message().find(f.file + ": column 'i64_opt': row group 0: page 0"),
              std::string::npos)
        << bad.status().ToString();
    ++checked;
  }
  EXPECT_GE(checked, 8);
}

TEST_F(IndependentWriterTest, ChunkStatisticsMatchTheValuesWritten) {
  // arrow-rs writes chunk statistics by default; null counts for every column and min/max for
  // integer columns (signed or unsigned as annotated) must be what the values say.
  int64_t checked = 0;
  for (const MatrixFile& f : matrix_->files) {
    if (f.dataset != "main") continue;
    SCOPED_TRACE(f.file);
    const Dataset& ds = DatasetOf(f);
    auto reader = FileReader::Open(matrix_->dir + "/" + f.file);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    const FileReader& r = **reader;
    int64_t row0 = 0;
    for (int rg = 0; rg < r.num_row_groups(); ++rg) {
      const int64_t n = r.row_group_num_rows(rg);
      for (int c = 0; c < r.num_columns(); ++c) {
        const ColumnSchema& s = r.schema()[c];
        const ExpectedColumn& e = ds.columns[c];
        const ColumnStatistics& st = r.statistics(rg, c);
        const std::string where =
            f.file + ": column '" + s.name + "': row group " + std::to_string(rg);
        int64_t nulls = 0;
        const bool is_unsigned = s.logical == LogicalKind::kInt && !s.int_signed;
        const bool integer =
            (s.physical == PhysicalType::kInt32 || s.physical == PhysicalType::kInt64) &&
            s.logical != LogicalKind::kNull;
        std::optional<int64_t> smin, smax;
        std::optional<uint64_t> umin, umax;
        for (int64_t i = row0; i < row0 + n; ++i) {
          if (!e.values[i]) {
            ++nulls;
            continue;
          }
          if (!integer) continue;
          if (is_unsigned) {
            uint64_t v = std::stoull(*e.values[i]);
            umin = std::min(umin.value_or(v), v);
            umax = std::max(umax.value_or(v), v);
          } else {
            int64_t v = std::stoll(*e.values[i]);
            smin = std::min(smin.value_or(v), v);
            smax = std::max(smax.value_or(v), v);
          }
        }
        ASSERT_TRUE(st.null_count.has_value()) << where;
        EXPECT_EQ(*st.null_count, nulls) << where;
        ++checked;
        if (!integer || nulls == n) continue;
        ASSERT_TRUE(st.min && st.max) << where << ": no min/max";
        auto got_min = StatisticAsInt64(s.physical, *st.min);
        auto got_max = StatisticAsInt64(s.physical, *st.max);
        ASSERT_TRUE(got_min && got_max) << where;
        if (is_unsigned) {
          const uint64_t mask = s.physical == PhysicalType::kInt32 ? 0xffffffffu : ~uint64_t{0};
          EXPECT_EQ(static_cast<uint64_t>(*got_min) & mask, *umin) << where << ": min";
          EXPECT_EQ(static_cast<uint64_t>(*got_max) & mask, *umax) << where << ": max";
        } else {
          EXPECT_EQ(*got_min, *smin) << where << ": min";
          EXPECT_EQ(*got_max, *smax) << where << ": max";
        }
      }
      row0 += n;
    }
  }
  EXPECT_GT(checked, 1000);
}

// What the pages of one column chunk are, read straight from the page headers.
struct ChunkPages {
  int dictionary_pages = 0, v1_pages = 0, v2_pages = 0;
  int32_t max_values = 0;  // the most values in one data page
  int one_value_pages = 0;
  std::set<std::string> data_encodings;
  bool dict_encoded = false, other_encoded = false;
};

ChunkPages WalkPages(const std::string& bytes, const ColumnMetaData& m, const std::string& where) {
  ChunkPages p;
  int64_t pos = m.data_page_offset;
  if (m.dictionary_page_offset && *m.dictionary_page_offset > 0 &&
      *m.dictionary_page_offset < pos) {
    pos = *m.dictionary_page_offset;
  }
  const int64_t end = pos + m.total_compressed_size;
  if (pos < 0 || end > static_cast<int64_t>(bytes.size())) {
    ADD_FAILURE() << where << ": chunk outside the file";
    return p;
  }
  while (pos < end) {
    PageHeader h;
    size_t header_size = 0;
    Status s = ParsePageHeader(reinterpret_cast<const uint8_t*>(bytes.data()) + pos,
                               static_cast<size_t>(end - pos), &h, &header_size);
    if (!s.ok()) {
      ADD_FAILURE() << where << ": " << s.ToString();
      return p;
    }
    pos += static_cast<int64_t>(header_size) + h.compressed_page_size;
    std::optional<int32_t> encoding;
    if (h.dictionary_page) ++p.dictionary_pages;
    if (h.data_page) {
      ++p.v1_pages;
      encoding = h.data_page->encoding;
      p.max_values = std::max(p.max_values, h.data_page->num_values);
      p.one_value_pages += h.data_page->num_values == 1;
    }
    if (h.data_page_v2) {
      ++p.v2_pages;
      encoding = h.data_page_v2->encoding;
      p.max_values = std::max(p.max_values, h.data_page_v2->num_values);
      p.one_value_pages += h.data_page_v2->num_values == 1;
    }
    if (encoding) {
      const auto e = static_cast<Encoding>(*encoding);
      p.data_encodings.insert(std::string(EncodingName(e)));
      const bool dict = e == Encoding::kPlainDictionary || e == Encoding::kRleDictionary;
      p.dict_encoded |= dict;
      p.other_encoded |= !dict;
    }
  }
  return p;
}

TEST_F(IndependentWriterTest, PagesAreTheVersionsEncodingsAndCodecsTheMatrixClaims) {
  // Guards the matrix itself: a writer that silently chose other encodings or one page per
  // chunk would leave the value comparison testing less than it claims.
  std::map<std::string, int64_t> tally;
  for (const MatrixFile& f : matrix_->files) {
    if (f.dataset != "main") continue;
    SCOPED_TRACE(f.file);
    auto bytes = ReadFile(matrix_->dir + "/" + f.file);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    auto reader = FileReader::Open(matrix_->dir + "/" + f.file);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    const FileReader& r = **reader;
    EXPECT_GE(r.num_row_groups(), 3) << f.file;
    int max_pages = 0;
    int32_t max_values = 0;
    int64_t one_value_pages = 0, data_pages = 0;
    bool some_fallback = false;
    for (int rg = 0; rg < r.num_row_groups(); ++rg) {
      for (int c = 0; c < r.num_columns(); ++c) {
        const ColumnSchema& s = r.schema()[c];
        const std::string where =
            f.file + ": column '" + s.name + "': row group " + std::to_string(rg);
        EXPECT_EQ(std::string(CodecName(r.codec(rg, c))), f.codec) << where;
        const ColumnMetaData& m = r.metadata().row_groups[rg].columns[c].meta_data;
        ChunkPages p = WalkPages(*bytes, m, where);
        tally[f.version + " dictionary pages"] += p.dictionary_pages;
        for (const std::string& e : p.data_encodings) ++tally[f.version + " chunks with " + e];
        tally[f.version + " data pages"] += p.v1_pages + p.v2_pages;
        if (f.version == "v1") {
          EXPECT_EQ(p.v2_pages, 0) << where;
          EXPECT_GT(p.v1_pages, 0) << where;
        } else {
          EXPECT_EQ(p.v1_pages, 0) << where;
          EXPECT_GT(p.v2_pages, 0) << where;
        }
        max_pages = std::max(max_pages, p.v1_pages + p.v2_pages);
        max_values = std::max(max_values, p.max_values);
        one_value_pages += p.one_value_pages;
        data_pages += p.v1_pages + p.v2_pages;
        if (s.logical == LogicalKind::kNull) continue;  // always-null: any encoding
        auto allowed = f.encodings.find(s.name);
        ASSERT_NE(allowed, f.encodings.end()) << where;
        for (const std::string& e : p.data_encodings) {
          EXPECT_TRUE(allowed->second.count(e)) << where << ": data page encoding " << e;
        }
        if (f.dictionary_columns.count(s.name)) {
          EXPECT_EQ(p.dictionary_pages, 1) << where;
          EXPECT_FALSE(p.other_encoded) << where;
        }
        if (f.no_dictionary) {
          EXPECT_EQ(p.dictionary_pages, 0) << where;
        }
        some_fallback |= p.dict_encoded && p.other_encoded;
      }
    }
    if (f.pages == "tiny") {
      // Most pages hold one value (encoders that buffer, and always-null chunks, write more).
      EXPECT_GE(one_value_pages, std::max<int64_t>(data_pages / 2, 10000))
          << f.file << ": only " << one_value_pages << " of " << data_pages
          << " pages hold one value";
    } else if (f.pages == "small") {
      EXPECT_GE(max_pages, 5) << f.file << ": too few pages per chunk to test page boundaries";
    } else {
      EXPECT_GE(max_values, 900) << f.file << ": no page long enough for long runs and blocks";
    }
    if (f.fallback) {
      EXPECT_TRUE(some_fallback) << f.file << ": no chunk falls back from dictionary";
    }
  }
  std::cout << "matrix pages (" << matrix_->writer << "):\n";
  for (const auto& [what, n] : tally) std::cout << "  " << what << ": " << n << "\n";
}

TEST_F(IndependentWriterTest, ZeroRowFileHasItsSchemaAndNoRows) {
  bool seen = false;
  for (const MatrixFile& f : matrix_->files) {
    if (f.dataset != "empty") continue;
    seen = true;
    auto reader = FileReader::Open(matrix_->dir + "/" + f.file);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    ExpectSchema(f.file, **reader, DatasetOf(f));
    EXPECT_EQ((*reader)->num_rows(), 0);
    for (int rg = 0; rg < (*reader)->num_row_groups(); ++rg) {
      auto batch = (*reader)->ReadRowGroup(rg, AllColumns(DatasetOf(f)));
      ASSERT_TRUE(batch.ok()) << batch.status().ToString();
      EXPECT_EQ(batch->num_rows, 0);
    }
  }
  EXPECT_TRUE(seen);
}

TEST_F(IndependentWriterTest, NestedColumnsAndOtherCodecsAreRefusedNamingFileAndColumn) {
  for (const Refused& f : matrix_->refused) {
    SCOPED_TRACE(f.file);
    const std::string path = matrix_->dir + "/" + f.file;
    Status s;
    auto reader = FileReader::Open(path);
    if (!reader.ok()) {
      s = reader.status();
    } else {
      // Opening may succeed (the footer is fine); decoding the column must then fail.
      FileReader& r = **reader;
      for (int rg = 0; rg < r.num_row_groups() && s.ok(); ++rg) {
        std::vector<int> all(r.num_columns());
        for (int c = 0; c < r.num_columns(); ++c) all[c] = c;
        RowGroupBatch batch;
        s = r.ReadRowGroup(rg, all, &batch);
      }
    }
    ASSERT_FALSE(s.ok()) << path << " (" << f.what << ") was read without error";
    EXPECT_EQ(s.code(), StatusCode::kUnimplemented) << s.ToString();
    EXPECT_NE(s.message().find(path), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find("column '" + f.column + "'"), std::string::npos) << s.ToString();
    if (f.what.rfind("codec ", 0) == 0) {
      EXPECT_NE(s.message().find(f.what.substr(6)), std::string::npos) << s.ToString();
    }
  }
}

}  // namespace
}  // namespace bimride::parquet
