#include "parquet/compression.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bimride::parquet {
namespace {

const Codec kCodecs[] = {Codec::kUncompressed, Codec::kSnappy, Codec::kGzip, Codec::kZstd};

TEST(CompressionTest, EveryCodecRoundTrips) {
  std::string input;
  for (int i = 0; i < 5000; ++i) input += std::to_string(i * 7919 % 1000) + ",";
  for (Codec codec : kCodecs) {
    SCOPED_TRACE(std::string(CodecName(codec)));
    std::string z;
    ASSERT_TRUE(Compress(codec, input, 0, &z).ok());
    std::vector<uint8_t> out(input.size());
    ASSERT_TRUE(Decompress(codec, reinterpret_cast<const uint8_t*>(z.data()), z.size(), out.data(),
                           out.size())
                    .ok());
    EXPECT_EQ(std::string(out.begin(), out.end()), input);
  }
}

// An empty page (e.g. the dictionary page of an all-null column, as arrow-rs writes it) is a
// compressed empty stream with uncompressed size 0; the reader's page buffer may then still be
// null. Found by the parquet-wasm matrix (GZIP failed with "bad GZIP data").
TEST(CompressionTest, EmptyPageDecompressesIntoANullBuffer) {
  for (Codec codec : kCodecs) {
    SCOPED_TRACE(std::string(CodecName(codec)));
    std::string z;
    ASSERT_TRUE(Compress(codec, "", 0, &z).ok());
    Status s = Decompress(codec, reinterpret_cast<const uint8_t*>(z.data()), z.size(), nullptr, 0);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
}

TEST(CompressionTest, NonEmptyStreamIntoAnEmptyPageIsCorrupt) {
  for (Codec codec : {Codec::kSnappy, Codec::kGzip, Codec::kZstd}) {
    SCOPED_TRACE(std::string(CodecName(codec)));
    std::string z;
    ASSERT_TRUE(Compress(codec, "not empty", 0, &z).ok());
    Status s = Decompress(codec, reinterpret_cast<const uint8_t*>(z.data()), z.size(), nullptr, 0);
    EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  }
}

// GZIP pages go through libdeflate when they are one plain member of exactly the page's size,
// else through zlib: the outcomes (and messages) at the edges between the two are zlib's.
TEST(CompressionTest, GzipEdgeCasesGetZlibsResults) {
  std::string input;
  for (int i = 0; i < 3000; ++i) input += std::to_string(i * 31 % 977) + ";";
  std::string z;
  ASSERT_TRUE(Compress(Codec::kGzip, input, 0, &z).ok());
  auto gunzip = [](const std::string& data, size_t expected, std::string* out) {
    std::vector<uint8_t> buf(expected);
    Status s = Decompress(Codec::kGzip, reinterpret_cast<const uint8_t*>(data.data()),
                          data.size(), buf.data(), expected);
    out->assign(buf.begin(), buf.end());
    return s;
  };
  std::string out;
  ASSERT_TRUE(gunzip(z, input.size(), &out).ok());
  EXPECT_EQ(out, input);
  // Two members fill a page of both; bytes after a member that filled the page are ignored.
  ASSERT_TRUE(gunzip(z + z, 2 * input.size(), &out).ok());
  EXPECT_EQ(out, input + input);
  ASSERT_TRUE(gunzip(z + "trailing", input.size(), &out).ok());
  EXPECT_EQ(out, input);
  // A page size off by one either way.
  EXPECT_EQ(gunzip(z, input.size() - 1, &out).message(),
            "GZIP data decompresses to more than the " + std::to_string(input.size() - 1) +
                " bytes the page header says");
  EXPECT_EQ(gunzip(z, input.size() + 1, &out).message(),
            "GZIP data decompresses to " + std::to_string(input.size()) + " bytes, page header says " +
                std::to_string(input.size() + 1));
  // A wrong CRC-32 in the trailer.
  std::string bad_crc = z;
  bad_crc[bad_crc.size() - 8] ^= 1;
  EXPECT_EQ(gunzip(bad_crc, input.size(), &out).message(), "bad GZIP data: incorrect data check");
  // A header CRC (FHCRC), here a wrong one: zlib checks it.
  std::string fhcrc = z;
  fhcrc[3] |= 0x02;
  fhcrc.insert(10, std::string(2, '\0'));
  EXPECT_EQ(gunzip(fhcrc, input.size(), &out).message(), "bad GZIP data: header crc mismatch");
}

}  // namespace
}  // namespace bimride::parquet
