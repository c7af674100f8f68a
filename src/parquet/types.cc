#include "parquet/types.h"

#include <cstring>

namespace bimride::parquet {

std::string_view PhysicalTypeName(PhysicalType type) {
  switch (type) {
    case PhysicalType::kBoolean:
      return "BOOLEAN";
    case PhysicalType::kInt32:
      return "INT32";
    case PhysicalType::kInt64:
      return "INT64";
    case PhysicalType::kInt96:
      return "INT96";
    case PhysicalType::kFloat:
      return "FLOAT";
    case PhysicalType::kDouble:
      return "DOUBLE";
    case PhysicalType::kByteArray:
      return "BYTE_ARRAY";
    case PhysicalType::kFixedLenByteArray:
      return "FIXED_LEN_BYTE_ARRAY";
  }
  return "UNKNOWN_TYPE";
}

std::string_view CodecName(Codec codec) {
  switch (codec) {
    case Codec::kUncompressed:
      return "UNCOMPRESSED";
    case Codec::kSnappy:
      return "SNAPPY";
    case Codec::kGzip:
      return "GZIP";
    case Codec::kLzo:
      return "LZO";
    case Codec::kBrotli:
      return "BROTLI";
    case Codec::kLz4:
      return "LZ4";
    case Codec::kZstd:
      return "ZSTD";
    case Codec::kLz4Raw:
      return "LZ4_RAW";
  }
  return "UNKNOWN_CODEC";
}

std::string_view EncodingName(Encoding encoding) {
  switch (encoding) {
    case Encoding::kPlain:
      return "PLAIN";
    case Encoding::kPlainDictionary:
      return "PLAIN_DICTIONARY";
    case Encoding::kRle:
      return "RLE";
    case Encoding::kBitPacked:
      return "BIT_PACKED";
    case Encoding::kDeltaBinaryPacked:
      return "DELTA_BINARY_PACKED";
    case Encoding::kDeltaLengthByteArray:
      return "DELTA_LENGTH_BYTE_ARRAY";
    case Encoding::kDeltaByteArray:
      return "DELTA_BYTE_ARRAY";
    case Encoding::kRleDictionary:
      return "RLE_DICTIONARY";
    case Encoding::kByteStreamSplit:
      return "BYTE_STREAM_SPLIT";
  }
  return "UNKNOWN_ENCODING";
}

void Column::Clear() {
  num_rows = 0;
  null_count = 0;
  boolean.clear();
  i32.clear();
  i64.clear();
  f32.clear();
  f64.clear();
  offsets.clear();
  bytes.clear();
  validity.clear();
}

std::optional<int64_t> StatisticAsInt64(PhysicalType type, std::string_view value) {
  if (type == PhysicalType::kInt32 && value.size() == 4) {
    int32_t v;
    std::memcpy(&v, value.data(), 4);
    return v;
  }
  if (type == PhysicalType::kInt64 && value.size() == 8) {
    int64_t v;
    std::memcpy(&v, value.data(), 8);
    return v;
  }
  if (type == PhysicalType::kBoolean && value.size() == 1) return value[0] != 0;
  return std::nullopt;
}

std::optional<double> StatisticAsDouble(PhysicalType type, std::string_view value) {
  if (type == PhysicalType::kFloat && value.size() == 4) {
    float v;
    std::memcpy(&v, value.data(), 4);
    return v;
  }
  if (type == PhysicalType::kDouble && value.size() == 8) {
    double v;
    std::memcpy(&v, value.data(), 8);
    return v;
  }
  auto i = StatisticAsInt64(type, value);
  if (i) return static_cast<double>(*i);
  return std::nullopt;
}

}  // namespace bimride::parquet
