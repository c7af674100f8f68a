#include "data/csv_reader.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <fstream>

namespace bimride::data {
namespace {

std::vector<std::vector<std::string>> ReadAll(std::string_view text) {
  CsvTokenizer tok(text, "t.csv");
  std::vector<std::vector<std::string>> out;
  std::vector<std::string_view> f;
  for (;;) {
    StatusOr<bool> more = tok.Next(&f);
    EXPECT_TRUE(more.ok()) << more.status().ToString();
    if (!more.ok() || !*more) break;
    out.emplace_back(f.begin(), f.end());
  }
  return out;
}

std::string Gzip(std::string_view text) {
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, text.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

TEST(CsvTokenizerTest, SplitsPlainFieldsAndKeepsEmptyOnes) {
  auto rows = ReadAll("a,b,c\n1,,3\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1], (std::vector<std::string>{"1", "", "3"}));
}

TEST(CsvTokenizerTest, QuotedFieldsKeepCommasQuotesAndNewlines) {
  auto rows = ReadAll("x,y\r\n\"a,b\",\"say \"\"hi\"\"\"\r\n\"two\nlines\",z\r\n");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1][0], "a,b");
  EXPECT_EQ(rows[1][1], "say \"hi\"");
  EXPECT_EQ(rows[2][0], "two\nlines");
  EXPECT_EQ(rows[2][1], "z");
}

TEST(CsvTokenizerTest, CountsPhysicalLinesAcrossEmbeddedNewlinesAndBlankLines) {
  CsvTokenizer tok("h\n\"a\nb\"\n\nc\n", "t.csv");
  std::vector<std::string_view> f;
  ASSERT_TRUE(*tok.Next(&f));
  EXPECT_EQ(tok.line(), 1);
  ASSERT_TRUE(*tok.Next(&f));
  EXPECT_EQ(tok.line(), 2);
  ASSERT_TRUE(*tok.Next(&f));
  EXPECT_EQ(tok.line(), 5);
  EXPECT_EQ(f[0], "c");
  EXPECT_FALSE(*tok.Next(&f));
}

TEST(CsvTokenizerTest, LastLineWithoutNewlineAndByteOrderMark) {
  auto rows = ReadAll("\xEF\xBB\xBFid,v\n1,2");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][0], "id");
  EXPECT_EQ(rows[1][1], "2");
}

TEST(CsvTokenizerTest, UnterminatedQuoteIsAnErrorNamingFileAndLine) {
  CsvTokenizer tok("a,b\n1,\"oops\n2,3\n", "bad.csv");
  std::vector<std::string_view> f;
  ASSERT_TRUE(*tok.Next(&f));
  StatusOr<bool> r = tok.Next(&f);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "bad.csv: line 2: unterminated quoted field");
  EXPECT_EQ(tok.raw(), "1,\"oops");
  // Reading resumes on the next line.
  r = tok.Next(&f);
  ASSERT_TRUE(r.ok() && *r);
  EXPECT_EQ(tok.line(), 3);
  EXPECT_EQ(f[1], "3");
}

TEST(CsvTokenizerTest, StrayQuoteIsAnErrorAndReadingResumesOnTheNextLine) {
  CsvTokenizer tok("1,ab\"c\n\"x\"y,2\n3,4\n", "bad.csv");
  std::vector<std::string_view> f;
  StatusOr<bool> r = tok.Next(&f);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("line 1: field 2: quote inside an unquoted field"),
            std::string::npos);
  EXPECT_EQ(tok.raw(), "1,ab\"c");
  r = tok.Next(&f);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("line 2: field 1: characters after a closing quote"),
            std::string::npos);
  r = tok.Next(&f);
  ASSERT_TRUE(r.ok() && *r);
  EXPECT_EQ(tok.line(), 3);
  EXPECT_EQ(f[1], "4");
}

TEST(CsvTokenizerTest, RecordOverTheCapIsAnErrorKeepingAPrefixAndReadingGoesOn) {
  const std::string giant(5000, 'x');
  for (const std::string& line :
       {giant, "1," + giant + ",2", "\"" + giant + "\",3", giant + "\""}) {
    const std::string text = "a,b\n" + line + "\n1,2\n";
    CsvTokenizer tok(text, "big.csv", ',', /*max_line_bytes=*/1024);
    std::vector<std::string_view> f;
    ASSERT_TRUE(*tok.Next(&f));
    StatusOr<bool> more = tok.Next(&f);
    ASSERT_FALSE(more.ok());
    EXPECT_EQ(more.status().message(),
              "big.csv: line 2: record longer than the cap of 1024 bytes (not a line of a CSV?)");
    EXPECT_EQ(tok.raw().size(), CsvTokenizer::kRawPrefixBytes);
    ASSERT_TRUE(*tok.Next(&f));
    EXPECT_EQ(tok.line(), 3);
    EXPECT_EQ(f, (std::vector<std::string_view>{"1", "2"}));
  }
}

TEST(CsvHeaderTest, FindsColumnsCaseInsensitively) {
  CsvHeader h({"pickup_datetime", "dropOff_datetime", " PUlocationID "});
  EXPECT_EQ(h.Find("dropoff_datetime"), 1);
  EXPECT_EQ(h.Find("PULocationID"), 2);
  EXPECT_EQ(h.Find("nope"), -1);
}

TEST(GzipTest, InflatesGzipDetectedByMagicBytes) {
  std::string plain = "a,b\n1,2\n";
  std::string gz = Gzip(plain);
  EXPECT_TRUE(IsGzip(gz));
  EXPECT_FALSE(IsGzip(plain));
  StatusOr<std::string> out = GunzipBuffer(gz, "x.gz");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, plain);
  // Two concatenated members are one valid gzip file.
  out = GunzipBuffer(gz + Gzip("3,4\n"), "x.gz");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, plain + "3,4\n");
}

TEST(GzipTest, TruncatedGzipIsDataLossNamingTheFile) {
  std::string big;
  for (int i = 0; i < 5000; ++i) big += std::to_string(i * 7919) + ",x\n";
  std::string gz = Gzip(big);
  StatusOr<std::string> out = GunzipBuffer(gz.substr(0, gz.size() / 2), "trips.csv.gz");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(out.status().message().find("trips.csv.gz: gzip: truncated"), std::string::npos);
  std::string corrupt = gz;
  corrupt[20] ^= 0x55;
  corrupt[21] ^= 0x55;
  out = GunzipBuffer(corrupt, "c.gz");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kDataLoss);
}

TEST(GzipTest, InflatingKeepsOnlyCapPlusOneBytesOfAGiantLine) {
  // 16 MiB of one line compresses to ~16 KiB; inflated it keeps 1025 bytes of it.
  const std::string text = "a,b\n" + std::string(16 << 20, 'x') + "\n1,2\n";
  const std::string gz = Gzip(text);
  StatusOr<std::string> out = GunzipBuffer(gz, "big.csv.gz", /*max_line_bytes=*/1024);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "a,b\n" + std::string(1025, 'x') + "\n1,2\n");
  EXPECT_LT(out->capacity(), size_t{4} << 20);
  // Lines under the cap come out untouched.
  EXPECT_EQ(*GunzipBuffer(Gzip("a,b\n1,2\n"), "x.gz", 3), "a,b\n1,2\n");
}

TEST(GzipTest, ReadMaybeGzipFileReadsPlainAndCompressedFilesAlike) {
  std::string dir = ::testing::TempDir();
  std::string plain_path = dir + "/plain_no_gz_name.csv", gz_path = dir + "/compressed.csv";
  std::ofstream(plain_path) << "a\n1\n";
  std::ofstream(gz_path, std::ios::binary) << Gzip("a\n1\n");
  EXPECT_EQ(*ReadMaybeGzipFile(plain_path), "a\n1\n");
  EXPECT_EQ(*ReadMaybeGzipFile(gz_path), "a\n1\n");
  // A name no other test writes (tests share ::testing::TempDir()).
  EXPECT_EQ(ReadMaybeGzipFile(dir + "/csv_reader_test_no_such_file.csv").status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace bimride::data
