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

}  // namespace
}  // namespace bimride::parquet
