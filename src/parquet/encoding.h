// Value encodings of the Parquet format (Encodings.md): decoders for PLAIN, RLE/bit-packed
// hybrid, DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY and BYTE_STREAM_SPLIT,
// and the encoders the writer needs (PLAIN is trivial; RLE/bit-packed hybrid here).
//
// Every decoder decodes exactly `n` values from [data, data + size) into caller-owned output, or
// returns a DataLoss status saying what ran out or was malformed. They never read outside the
// range. Byte-array decoders append the bytes to *bytes and write the end offset of each value
// (relative to bytes->data()) into ends[0..n). Thread safety: free functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace bimride::parquet {

// The RLE/bit-packed hybrid without a length prefix. bit_width 0..32.
Status DecodeRleHybrid(const uint8_t* data, size_t size, int bit_width, int64_t n, uint32_t* out);
Status DecodeRleHybrid(const uint8_t* data, size_t size, int bit_width, int64_t n, uint8_t* out);

// Dictionary indices in the RLE/bit-packed hybrid straight to values: out[i] = dict[index i],
// without the index array in between. False (out partly written) when the data is malformed
// or an index is not below dict_size: the caller then decodes the indices with
// DecodeRleHybrid and gathers, for the error that names what is wrong.
// T: uint8_t (booleans), int32_t, int64_t, float or double.
template <typename T>
bool GatherRleHybrid(const uint8_t* data, size_t size, int bit_width, int64_t n, const T* dict,
                     size_t dict_size, T* out);

Status DecodePlainFixed(const uint8_t* data, size_t size, int width, int64_t n, void* out);
// DecodePlainFixed's check alone: do `size` bytes hold n values of `width` bytes?
Status CheckPlainFixed(size_t size, int width, int64_t n);
Status DecodePlainBoolean(const uint8_t* data, size_t size, int64_t n, uint8_t* out);
// INT96 timestamps (nanoseconds of day + Julian day) to nanoseconds since the Unix epoch.
Status DecodePlainInt96(const uint8_t* data, size_t size, int64_t n, int64_t* out);
Status DecodePlainByteArray(const uint8_t* data, size_t size, int64_t n, std::string* bytes,
                            int64_t* ends);
Status DecodePlainFixedByteArray(const uint8_t* data, size_t size, int width, int64_t n,
                                 std::string* bytes, int64_t* ends);

// *consumed (optional) gets the number of bytes the encoded block occupies.
Status DecodeDeltaBinaryPacked(const uint8_t* data, size_t size, int64_t n, int64_t* out,
                               size_t* consumed);
Status DecodeDeltaBinaryPacked(const uint8_t* data, size_t size, int64_t n, int32_t* out,
                               size_t* consumed);
Status DecodeDeltaLengthByteArray(const uint8_t* data, size_t size, int64_t n, std::string* bytes,
                                  int64_t* ends);
Status DecodeDeltaByteArray(const uint8_t* data, size_t size, int64_t n, std::string* bytes,
                            int64_t* ends);
// width: bytes per value (4 or 8 for numbers, type_length for FIXED_LEN_BYTE_ARRAY).
Status DecodeByteStreamSplit(const uint8_t* data, size_t size, int width, int64_t n, void* out);

// Appends the RLE/bit-packed hybrid encoding (no length prefix) of values[0..n).
void EncodeRleHybrid(const uint32_t* values, int64_t n, int bit_width, std::string* out);
void EncodeRleHybrid(const uint8_t* values, int64_t n, int bit_width, std::string* out);

// Appends DELTA_BINARY_PACKED (block 128, 4 miniblocks) of values[0..n).
void EncodeDeltaBinaryPacked(const int64_t* values, int64_t n, std::string* out);

// Smallest bit width that holds `max_value`.
int BitWidth(uint64_t max_value);

}  // namespace bimride::parquet
