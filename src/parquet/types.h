// Public value types of the Parquet library: physical/logical types, the flat column schema,
// decoded columns and column-chunk statistics. No trip-domain knowledge lives here.
//
// Thread safety: plain values; safe to copy and to read from several threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bimride::parquet {

// Values match the `Type` enum of parquet.thrift.
enum class PhysicalType : int32_t {
  kBoolean = 0,
  kInt32 = 1,
  kInt64 = 2,
  kInt96 = 3,  // legacy timestamps; decoded as int64 nanoseconds since the epoch
  kFloat = 4,
  kDouble = 5,
  kByteArray = 6,
  kFixedLenByteArray = 7,
};

// Bytes per value of the fixed-width numeric types (INT32 and FLOAT 4, INT64 and DOUBLE 8); 0 for
// the others (BOOLEAN is bit-packed, INT96 and byte arrays are handled on their own).
constexpr size_t FixedValueWidth(PhysicalType t) {
  switch (t) {
    case PhysicalType::kInt32:
    case PhysicalType::kFloat:
      return 4;
    case PhysicalType::kInt64:
    case PhysicalType::kDouble:
      return 8;
    default:
      return 0;
  }
}

// What the values mean, folded from LogicalType and the legacy ConvertedType.
enum class LogicalKind : int32_t {
  kNone = 0,    // plain physical values
  kString,      // UTF-8 (STRING / UTF8), also ENUM and JSON
  kTimestamp,   // int64 (or INT96) since the Unix epoch in `time_unit`
  kDate,        // int32 days since 1970-01-01
  kTime,        // time of day in `time_unit`
  kInt,         // INTEGER(bit_width, signed)
  kDecimal,     // DECIMAL(precision, scale)
  kNull,        // always-null column (LogicalType UNKNOWN)
  kOther,       // UUID, FLOAT16, BSON, ... read as their physical type
};

enum class TimeUnit : int32_t { kNone = 0, kMillis, kMicros, kNanos };

// Values match `CompressionCodec` in parquet.thrift.
enum class Codec : int32_t {
  kUncompressed = 0,
  kSnappy = 1,
  kGzip = 2,
  kLzo = 3,
  kBrotli = 4,
  kLz4 = 5,
  kZstd = 6,
  kLz4Raw = 7,
};

// Values match `Encoding` in parquet.thrift.
enum class Encoding : int32_t {
  kPlain = 0,
  kPlainDictionary = 2,
  kRle = 3,
  kBitPacked = 4,
  kDeltaBinaryPacked = 5,
  kDeltaLengthByteArray = 6,
  kDeltaByteArray = 7,
  kRleDictionary = 8,
  kByteStreamSplit = 9,
};

std::string_view PhysicalTypeName(PhysicalType type);
std::string_view CodecName(Codec codec);
std::string_view EncodingName(Encoding encoding);  // "ENCODING_<n>" for unknown values

// One leaf column of a flat schema.
struct ColumnSchema {
  std::string name;
  PhysicalType physical = PhysicalType::kInt32;
  LogicalKind logical = LogicalKind::kNone;
  TimeUnit time_unit = TimeUnit::kNone;  // kTimestamp / kTime only
  bool utc_adjusted = false;             // kTimestamp / kTime: isAdjustedToUTC
  bool optional = false;                 // OPTIONAL (may hold nulls) vs REQUIRED
  int32_t type_length = 0;               // FIXED_LEN_BYTE_ARRAY only
  int32_t int_bit_width = 0;             // kInt only (8, 16, 32, 64)
  bool int_signed = true;                // kInt only
  int32_t decimal_precision = 0;         // kDecimal only
  int32_t decimal_scale = 0;             // kDecimal only
};

// A decoded column of one row group: row i of the column is row i of the row group.
// Exactly one value vector is used, chosen by `physical`:
//   kBoolean -> boolean (0/1); kInt32 -> i32; kInt64, kInt96 -> i64 (INT96 as nanoseconds since
//   the epoch); kFloat -> f32; kDouble -> f64; kByteArray, kFixedLenByteArray -> offsets + bytes
//   (value i is bytes[offsets[i], offsets[i+1]); offsets has num_rows + 1 entries).
// `validity` is empty when the column has no nulls; otherwise validity[i] is 1 for a value and 0
// for a null, and a null slot holds 0 (or an empty byte string).
struct Column {
  PhysicalType physical = PhysicalType::kInt32;
  int64_t num_rows = 0;
  int64_t null_count = 0;
  std::vector<uint8_t> boolean;
  std::vector<int32_t> i32;
  std::vector<int64_t> i64;
  std::vector<float> f32;
  std::vector<double> f64;
  std::vector<int64_t> offsets;
  std::string bytes;
  std::vector<uint8_t> validity;

  bool IsNull(int64_t row) const { return !validity.empty() && validity[row] == 0; }
  std::string_view ByteValue(int64_t row) const {
    return std::string_view(bytes).substr(offsets[row], offsets[row + 1] - offsets[row]);
  }
  // Empties the vectors but keeps their capacity, so a reused Column does not reallocate.
  void Clear();
};

// Statistics of one column chunk, as stored by the writer (all fields optional).
// `min` / `max` hold PLAIN-encoded values of the column's physical type (for byte arrays the
// bytes themselves); use the typed accessors below to read them.
struct ColumnStatistics {
  std::optional<std::string> min;
  std::optional<std::string> max;
  std::optional<int64_t> null_count;
  std::optional<int64_t> distinct_count;
};

// Decodes a PLAIN-encoded statistics value; nullopt when the size does not match the type.
std::optional<int64_t> StatisticAsInt64(PhysicalType type, std::string_view value);
std::optional<double> StatisticAsDouble(PhysicalType type, std::string_view value);

}  // namespace bimride::parquet
