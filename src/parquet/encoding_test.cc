#include "parquet/encoding.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <random>

namespace bimride::parquet {
namespace {

const uint8_t* U8(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

TEST(EncodingTest, BitPackedRunFromTheSpecExample) {
  // Encodings.md: 0..7 bit-packed at width 3 is 10001000 11000110 11111010.
  std::string data("\x03\x88\xc6\xfa", 4);  // header: 1 group, bit-packed
  uint32_t out[8];
  ASSERT_TRUE(DecodeRleHybrid(U8(data), data.size(), 3, 8, out).ok());
  for (uint32_t i = 0; i < 8; ++i) EXPECT_EQ(out[i], i);
}

TEST(EncodingTest, BitPackedRunsOfEveryWidthAndLength) {
  // Every bit width the unpackers specialise, lengths around whole groups of 8 and a run
  // ending at the buffer's end (no slack after it), into 32-bit and 8-bit outputs.
  std::mt19937 rng(7);
  for (int w = 0; w <= 32; ++w) {
    for (int64_t n : {1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 1003}) {
      std::vector<uint32_t> v(static_cast<size_t>(n));
      const uint32_t mask = w == 32 ? 0xffffffffu : (1u << w) - 1;
      for (auto& x : v) x = static_cast<uint32_t>(rng()) & mask;
      std::string enc;
      EncodeRleHybrid(v.data(), n, w, &enc);
      std::vector<uint32_t> back(v.size());
      ASSERT_TRUE(DecodeRleHybrid(U8(enc), enc.size(), w, n, back.data()).ok()) << w << " " << n;
      EXPECT_EQ(back, v) << "bit width " << w << ", " << n << " values";
      if (w > 8) continue;
      std::vector<uint8_t> v8(v.begin(), v.end()), back8(v.size());
      enc.clear();
      EncodeRleHybrid(v8.data(), n, w, &enc);
      ASSERT_TRUE(DecodeRleHybrid(U8(enc), enc.size(), w, n, back8.data()).ok()) << w << " " << n;
      EXPECT_EQ(back8, v8) << "bit width " << w << ", " << n << " values";
    }
  }
}

TEST(EncodingTest, GatherRleHybridMatchesIndicesThenGather) {
  std::mt19937 rng(11);
  const std::vector<double> dict = {0.5, 1.5, 2.5, 3.5, 4.5};
  for (int64_t n : {1, 9, 600, 1500}) {
    std::vector<uint32_t> idx(static_cast<size_t>(n));
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = (i / 40) % 3 ? 4 : rng() % 5;  // runs too
    std::string enc;
    EncodeRleHybrid(idx.data(), n, 3, &enc);
    std::vector<double> out(idx.size());
    ASSERT_TRUE(GatherRleHybrid(U8(enc), enc.size(), 3, n, dict.data(), dict.size(), out.data()));
    for (size_t i = 0; i < idx.size(); ++i) ASSERT_EQ(out[i], dict[idx[i]]) << i;
    // An index past the dictionary, in a bit-packed or an RLE run, and a cut stream: false.
    const bool has_4 = std::find(idx.begin(), idx.end(), 4u) != idx.end();
    EXPECT_EQ(GatherRleHybrid(U8(enc), enc.size(), 3, n, dict.data(), 4, out.data()), !has_4);
    idx.back() = 5;
    enc.clear();
    EncodeRleHybrid(idx.data(), n, 3, &enc);
    EXPECT_FALSE(GatherRleHybrid(U8(enc), enc.size(), 3, n, dict.data(), dict.size(), out.data()));
    EXPECT_FALSE(GatherRleHybrid(U8(enc), enc.size() / 2, 3, n, dict.data(), dict.size(),
                                 out.data()));
  }
}

TEST(EncodingTest, RleRunsAndBitPackedRunsRoundTrip) {
  std::mt19937 rng(5);
  for (int w : {0, 1, 2, 3, 7, 8, 13, 20, 31, 32}) {
    std::vector<uint32_t> v(5000);
    uint64_t max = w == 0 ? 0 : (w == 32 ? 0xffffffffu : (1u << w) - 1);
    for (size_t i = 0; i < v.size(); ++i) {
      // Mix long runs and noise.
      v[i] = (i / 100) % 2 ? static_cast<uint32_t>(max) : static_cast<uint32_t>(rng() & max);
    }
    std::string enc;
    EncodeRleHybrid(v.data(), static_cast<int64_t>(v.size()), w, &enc);
    std::vector<uint32_t> back(v.size());
    ASSERT_TRUE(DecodeRleHybrid(U8(enc), enc.size(), w, static_cast<int64_t>(v.size()),
                                back.data())
                    .ok())
        << w;
    EXPECT_EQ(back, v) << "bit width " << w;
    // Any truncation fails (never reads past the end).
    for (size_t cut = 0; cut + 1 < enc.size(); cut += 1 + enc.size() / 50) {
      std::string t = enc.substr(0, cut);
      EXPECT_FALSE(DecodeRleHybrid(U8(t), t.size(), w, static_cast<int64_t>(v.size()),
                                   back.data())
                       .ok());
    }
  }
}

TEST(EncodingTest, RleValueWiderThanBitWidthIsCorrupt) {
  std::string data("\x08\x05", 2);  // RLE run of 4 values of 5, at bit width 1
  uint8_t out[4];
  EXPECT_FALSE(DecodeRleHybrid(U8(data), data.size(), 1, 4, out).ok());
}

TEST(EncodingTest, DeltaBinaryPackedSpecExample) {
  // Encodings.md example 1: 1 2 3 4 5 -> block 128, 4 miniblocks, 5 values, first 1,
  // min delta 1, bit widths 0 0 0 0 and no miniblock data.
  std::string data("\x80\x01\x04\x05\x02\x02\x00\x00\x00\x00", 10);
  int64_t out[5];
  size_t used = 0;
  ASSERT_TRUE(DecodeDeltaBinaryPacked(U8(data), data.size(), 5, out, &used).ok());
  EXPECT_EQ(used, 10u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(out[i], i + 1);
}

TEST(EncodingTest, DeltaBinaryPackedRoundTripsExtremes) {
  std::mt19937_64 rng(11);
  std::vector<int64_t> v = {0, std::numeric_limits<int64_t>::max(),
                            std::numeric_limits<int64_t>::min(), -1, 1};
  for (int i = 0; i < 1000; ++i) v.push_back(static_cast<int64_t>(rng()) >> (rng() % 64));
  for (int i = 0; i < 300; ++i) v.push_back(1675209600000000LL + i * 1000000LL);
  std::string enc;
  EncodeDeltaBinaryPacked(v.data(), static_cast<int64_t>(v.size()), &enc);
  std::vector<int64_t> back(v.size());
  size_t used = 0;
  ASSERT_TRUE(DecodeDeltaBinaryPacked(U8(enc), enc.size(), static_cast<int64_t>(v.size()),
                                      back.data(), &used)
                  .ok());
  EXPECT_EQ(back, v);
  EXPECT_EQ(used, enc.size());
  // Wrong value count and truncation are errors.
  EXPECT_FALSE(DecodeDeltaBinaryPacked(U8(enc), enc.size(), 3, back.data(), nullptr).ok());
  std::string cut = enc.substr(0, enc.size() - 1);
  EXPECT_FALSE(DecodeDeltaBinaryPacked(U8(cut), cut.size(), static_cast<int64_t>(v.size()),
                                       back.data(), nullptr)
                   .ok());
  std::vector<int32_t> v32 = {5, -3, std::numeric_limits<int32_t>::max(),
                              std::numeric_limits<int32_t>::min(), 0};
  std::vector<int64_t> wide(v32.begin(), v32.end());
  enc.clear();
  EncodeDeltaBinaryPacked(wide.data(), 5, &enc);
  std::vector<int32_t> back32(5);
  ASSERT_TRUE(DecodeDeltaBinaryPacked(U8(enc), enc.size(), 5, back32.data(), nullptr).ok());
  EXPECT_EQ(back32, v32);
}

TEST(EncodingTest, DeltaByteArraySpecExample) {
  // "axis", "axle", "babble", "babyhood": prefixes 0 2 0 3, suffixes "axis" "le" "babble" "yhood".
  std::vector<int64_t> prefix = {0, 2, 0, 3}, suffix = {4, 2, 6, 5};
  std::string enc;
  EncodeDeltaBinaryPacked(prefix.data(), 4, &enc);
  EncodeDeltaBinaryPacked(suffix.data(), 4, &enc);
  enc += "axislebabbleyhood";
  std::string bytes;
  int64_t ends[4];
  ASSERT_TRUE(DecodeDeltaByteArray(U8(enc), enc.size(), 4, &bytes, ends).ok());
  EXPECT_EQ(bytes, "axisaxlebabblebabyhood");
  EXPECT_EQ(ends[0], 4);
  EXPECT_EQ(ends[1], 8);
  EXPECT_EQ(ends[2], 14);
  EXPECT_EQ(ends[3], 22);
  // A prefix longer than the previous value is corrupt.
  prefix = {3, 0, 0, 0};
  enc.clear();
  EncodeDeltaBinaryPacked(prefix.data(), 4, &enc);
  EncodeDeltaBinaryPacked(suffix.data(), 4, &enc);
  enc += "axislebabbleyhood";
  bytes.clear();
  EXPECT_FALSE(DecodeDeltaByteArray(U8(enc), enc.size(), 4, &bytes, ends).ok());
}

TEST(EncodingTest, PlainByteArrayAndByteStreamSplit) {
  std::string data("\x02\x00\x00\x00" "hi" "\x00\x00\x00\x00\x03\x00\x00\x00" "abc", 17);
  std::string bytes;
  int64_t ends[3];
  ASSERT_TRUE(DecodePlainByteArray(U8(data), data.size(), 3, &bytes, ends).ok());
  EXPECT_EQ(bytes, "hiabc");
  EXPECT_EQ(ends[0], 2);
  EXPECT_EQ(ends[1], 2);
  EXPECT_EQ(ends[2], 5);
  EXPECT_FALSE(DecodePlainByteArray(U8(data), data.size() - 1, 3, &bytes, ends).ok());
  // Two floats 1.0f (00 00 80 3f) and 2.0f (00 00 00 40) as four byte streams.
  std::string bss("\x00\x00\x00\x00\x80\x00\x3f\x40", 8);
  float f[2];
  ASSERT_TRUE(DecodeByteStreamSplit(U8(bss), bss.size(), 4, 2, f).ok());
  EXPECT_EQ(f[0], 1.0f);
  EXPECT_EQ(f[1], 2.0f);
  EXPECT_FALSE(DecodeByteStreamSplit(U8(bss), 7, 4, 2, f).ok());
}

TEST(EncodingTest, Int96TimestampsBecomeEpochNanoseconds) {
  // 1970-01-02 00:00:01 = Julian day 2440589, 1e9 ns into the day.
  std::string data(12, '\0');
  int64_t nanos = 1000000000;
  int32_t day = 2440589;
  std::memcpy(data.data(), &nanos, 8);
  std::memcpy(data.data() + 8, &day, 4);
  int64_t out;
  ASSERT_TRUE(DecodePlainInt96(U8(data), data.size(), 1, &out).ok());
  EXPECT_EQ(out, 86400LL * 1000000000LL + 1000000000LL);
}

}  // namespace
}  // namespace bimride::parquet
