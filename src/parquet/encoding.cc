#include "parquet/encoding.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

namespace bimride::parquet {
namespace {

Status Truncated(std::string_view encoding, int64_t done, int64_t n) {
  return DataLossError(std::string(encoding) + " data ends after " + std::to_string(done) +
                       " of " + std::to_string(n) + " values");
}

// Reads an unsigned LEB128 varint within [*pos, size).
bool ReadUleb(const uint8_t* data, size_t size, size_t* pos, uint64_t* value) {
  uint64_t result = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*pos >= size) return false;
    uint8_t b = data[(*pos)++];
    result |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *value = result;
      return true;
    }
  }
  return false;
}

int64_t ZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

// Unpacks `groups` groups of 8 values of W bits (a group is W bytes) from data, each value
// with one 8-byte load; requires groups * W + 8 bytes readable. W a constant: the compiler
// turns each group into straight-line loads, shifts and masks.
template <int W, typename T>
void UnpackGroups(const uint8_t* data, int64_t groups, T* out) {
  constexpr uint64_t kMask = (uint64_t{1} << W) - 1;
  for (int64_t g = 0; g < groups; ++g, data += W, out += 8) {
    for (int j = 0; j < 8; ++j) {
      uint64_t v;
      std::memcpy(&v, data + j * W / 8, 8);
      out[j] = static_cast<T>((v >> (j * W % 8)) & kMask);
    }
  }
}

template <typename T, int... W>
constexpr auto MakeUnpackTable(std::integer_sequence<int, W...>) {
  return std::array<void (*)(const uint8_t*, int64_t, T*), sizeof...(W)>{
      &UnpackGroups<W + 1, T>...};
}

// UnpackGroups for bit widths 1 .. min(32, bits of T), indexed by width - 1.
template <typename T>
constexpr auto kUnpackGroups =
    MakeUnpackTable<T>(std::make_integer_sequence<int, std::min<int>(32, 8 * sizeof(T))>());

// Unpacks n values of w bits (LSB first) from data; requires avail >= ceil(n * w / 8).
template <typename T>
void UnpackBits(const uint8_t* data, size_t avail, int w, int64_t n, T* out) {
  if (w == 0) {
    std::fill(out, out + n, T(0));
    return;
  }
  const uint64_t mask = w == 64 ? ~uint64_t{0} : (uint64_t{1} << w) - 1;
  int64_t i = 0;
  if (static_cast<size_t>(w) <= kUnpackGroups<T>.size() && avail >= 8) {
    // Whole groups while the group's bytes and 8 more lie within avail.
    const int64_t groups = std::min<int64_t>(n / 8, static_cast<int64_t>((avail - 8) / w));
    kUnpackGroups<T>[w - 1](data, groups, out);
    i = groups * 8;
  }
  if (w <= 56 && avail >= 8) {
    // Value i can be read with one 8-byte load while its first byte + 8 stays in range.
    int64_t safe = static_cast<int64_t>(((avail - 7) * 8 - 1) / static_cast<size_t>(w)) + 1;
    int64_t fast_end = std::min(n, safe);
    uint64_t bit = static_cast<uint64_t>(i) * w;
    for (; i < fast_end; ++i, bit += w) {
      uint64_t v;
      std::memcpy(&v, data + (bit >> 3), 8);
      out[i] = static_cast<T>((v >> (bit & 7)) & mask);
    }
  }
  for (; i < n; ++i) {
    uint64_t bit = static_cast<uint64_t>(i) * w;
    size_t byte = bit >> 3;
    int shift = static_cast<int>(bit & 7);
    uint64_t v = 0;
    int got = 0;
    while (got < w) {
      uint64_t b = static_cast<uint64_t>(data[byte++] >> shift);
      v |= b << got;
      got += 8 - shift;
      shift = 0;
    }
    out[i] = static_cast<T>(v & mask);
  }
}

// Walks the runs of n values of the RLE/bit-packed hybrid (bit width w <= 32): calls
// repeat(value, count) for an RLE run and packed(bytes, readable, count) for a bit-packed one
// (readable >= ceil(count * w / 8): the bytes left in the buffer, so that short runs still
// unpack with whole-word loads), counts clipped to the n values. A callback returning false
// stops the walk with DataLoss `stopped`.
template <typename Repeat, typename Packed>
Status WalkRleHybrid(const uint8_t* data, size_t size, int w, int64_t n, Repeat repeat,
                     Packed packed, const char* stopped) {
  const size_t value_bytes = (w + 7) / 8;
  size_t pos = 0;
  int64_t done = 0;
  while (done < n) {
    uint64_t header;
    if (!ReadUleb(data, size, &pos, &header)) return Truncated("RLE/bit-packed", done, n);
    if (header & 1) {
      uint64_t groups = header >> 1;
      if (groups > (uint64_t{1} << 40)) return DataLossError("RLE/bit-packed run too long");
      uint64_t count = groups * 8;
      size_t run_bytes = static_cast<size_t>(groups * w);
      int64_t take = static_cast<int64_t>(std::min<uint64_t>(count, n - done));
      size_t avail = std::min(run_bytes, size - pos);
      if ((static_cast<uint64_t>(take) * w + 7) / 8 > avail) {
        return Truncated("RLE/bit-packed", done, n);
      }
      if (!packed(data + pos, size - pos, take)) return DataLossError(stopped);
      pos += avail;
      done += take;
    } else {
      uint64_t count = header >> 1;
      if (value_bytes > size - pos) return Truncated("RLE/bit-packed", done, n);
      uint32_t v = 0;
      for (size_t b = 0; b < value_bytes; ++b) v |= static_cast<uint32_t>(data[pos + b]) << (8 * b);
      pos += value_bytes;
      if (w < 32 && (v >> w) != 0) {
        return DataLossError("RLE run value " + std::to_string(v) + " exceeds bit width " +
                             std::to_string(w));
      }
      int64_t take = static_cast<int64_t>(std::min<uint64_t>(count, n - done));
      if (!repeat(v, take)) return DataLossError(stopped);
      done += take;
    }
  }
  return OkStatus();
}

template <typename T>
Status DecodeRleHybridT(const uint8_t* data, size_t size, int w, int64_t n, T* out) {
  if (w < 0 || w > static_cast<int>(8 * sizeof(T)) || w > 32) {
    return DataLossError("RLE/bit-packed bit width " + std::to_string(w) + " out of range");
  }
  return WalkRleHybrid(
      data, size, w, n,
      [&](uint32_t v, int64_t count) {
        out = std::fill_n(out, count, static_cast<T>(v));
        return true;
      },
      [&](const uint8_t* bytes, size_t readable, int64_t count) {
        UnpackBits(bytes, readable, w, count, out);
        out += count;
        return true;
      },
      "");
}

template <typename T>
bool GatherRleHybridT(const uint8_t* data, size_t size, int w, int64_t n, const T* dict,
                      size_t dict_size, T* out) {
  if (w < 0 || w > 32) return false;
  // Bit-packed indices are unpacked a block at a time into `idx` (L1-resident), then gathered.
  constexpr int64_t kBlock = 512;  // a multiple of 8: each block but a run's last is whole bytes
  uint32_t idx[kBlock];
  return WalkRleHybrid(
             data, size, w, n,
             [&](uint32_t v, int64_t count) {
               if (count > 0 && v >= dict_size) return false;
               out = std::fill_n(out, count, count > 0 ? dict[v] : T());
               return true;
             },
             [&](const uint8_t* bytes, size_t readable, int64_t count) {
               for (int64_t left = count; left > 0;) {
                 const int64_t m = std::min(left, kBlock);
                 UnpackBits(bytes, readable, w, m, idx);
                 for (int64_t i = 0; i < m; ++i) {
                   if (idx[i] >= dict_size) return false;
                   out[i] = dict[idx[i]];
                 }
                 const size_t used = static_cast<size_t>(m) * w / 8;
                 bytes += used;
                 readable -= used;
                 out += m;
                 left -= m;
               }
               return true;
             },
             "dictionary index out of range")
      .ok();
}

template <typename T>
Status DecodeDeltaT(const uint8_t* data, size_t size, int64_t n, T* out, size_t* consumed) {
  size_t pos = 0;
  uint64_t block_size, miniblocks, total, first_raw;
  if (!ReadUleb(data, size, &pos, &block_size) || !ReadUleb(data, size, &pos, &miniblocks) ||
      !ReadUleb(data, size, &pos, &total) || !ReadUleb(data, size, &pos, &first_raw)) {
    return DataLossError("DELTA_BINARY_PACKED header truncated");
  }
  if (block_size == 0 || block_size % 128 != 0 || block_size > (1u << 20) || miniblocks == 0 ||
      block_size % miniblocks != 0 || (block_size / miniblocks) % 32 != 0) {
    return DataLossError("DELTA_BINARY_PACKED header has bad block size " +
                         std::to_string(block_size) + " / " + std::to_string(miniblocks) +
                         " miniblocks");
  }
  if (total != static_cast<uint64_t>(n)) {
    return DataLossError("DELTA_BINARY_PACKED holds " + std::to_string(total) +
                         " values, page needs " + std::to_string(n));
  }
  const uint64_t per_mini = block_size / miniblocks;
  if (n > 0) {
    uint64_t last = static_cast<uint64_t>(ZigZag(first_raw));
    out[0] = static_cast<T>(last);
    int64_t done = 1;
    uint64_t buf[1024];
    while (done < n) {
      uint64_t min_raw;
      if (!ReadUleb(data, size, &pos, &min_raw)) return Truncated("DELTA_BINARY_PACKED", done, n);
      uint64_t min_delta = static_cast<uint64_t>(ZigZag(min_raw));
      if (miniblocks > size - pos) return Truncated("DELTA_BINARY_PACKED", done, n);
      const uint8_t* widths = data + pos;
      pos += miniblocks;
      for (uint64_t m = 0; m < miniblocks && done < n; ++m) {
        int w = widths[m];
        if (w > 64) {
          return DataLossError("DELTA_BINARY_PACKED miniblock bit width " + std::to_string(w));
        }
        size_t full = static_cast<size_t>(per_mini * w / 8);
        size_t avail = std::min(full, size - pos);
        uint64_t left = std::min<uint64_t>(per_mini, n - done);
        if ((left * w + 7) / 8 > avail) return Truncated("DELTA_BINARY_PACKED", done, n);
        const uint8_t* mini = data + pos;
        uint64_t off = 0;
        while (off < left) {
          uint64_t chunk = std::min<uint64_t>(left - off, 1024);
          // chunk offsets are multiples of 1024 values, so byte aligned.
          size_t byte_off = static_cast<size_t>(off * w / 8);
          UnpackBits(mini + byte_off, avail - byte_off, w, static_cast<int64_t>(chunk), buf);
          for (uint64_t k = 0; k < chunk; ++k) {
            last += min_delta + buf[k];
            out[done++] = static_cast<T>(last);
          }
          off += chunk;
        }
        pos += avail;
      }
    }
  }
  if (consumed) *consumed = pos;
  return OkStatus();
}

}  // namespace

int BitWidth(uint64_t max_value) {
  int w = 0;
  while (max_value) {
    ++w;
    max_value >>= 1;
  }
  return w;
}

Status DecodeRleHybrid(const uint8_t* data, size_t size, int bit_width, int64_t n, uint32_t* out) {
  return DecodeRleHybridT(data, size, bit_width, n, out);
}
Status DecodeRleHybrid(const uint8_t* data, size_t size, int bit_width, int64_t n, uint8_t* out) {
  return DecodeRleHybridT(data, size, bit_width, n, out);
}

template <typename T>
bool GatherRleHybrid(const uint8_t* data, size_t size, int bit_width, int64_t n, const T* dict,
                     size_t dict_size, T* out) {
  return GatherRleHybridT(data, size, bit_width, n, dict, dict_size, out);
}
template bool GatherRleHybrid(const uint8_t*, size_t, int, int64_t, const uint8_t*, size_t,
                              uint8_t*);
template bool GatherRleHybrid(const uint8_t*, size_t, int, int64_t, const int32_t*, size_t,
                              int32_t*);
template bool GatherRleHybrid(const uint8_t*, size_t, int, int64_t, const int64_t*, size_t,
                              int64_t*);
template bool GatherRleHybrid(const uint8_t*, size_t, int, int64_t, const float*, size_t, float*);
template bool GatherRleHybrid(const uint8_t*, size_t, int, int64_t, const double*, size_t,
                              double*);

Status CheckPlainFixed(size_t size, int width, int64_t n) {
  if (static_cast<uint64_t>(n) * width > size) {
    return Truncated("PLAIN", static_cast<int64_t>(size / width), n);
  }
  return OkStatus();
}

Status DecodePlainFixed(const uint8_t* data, size_t size, int width, int64_t n, void* out) {
  RETURN_IF_ERROR(CheckPlainFixed(size, width, n));
  if (n > 0) std::memcpy(out, data, static_cast<size_t>(n) * width);
  return OkStatus();
}

Status DecodePlainBoolean(const uint8_t* data, size_t size, int64_t n, uint8_t* out) {
  if (static_cast<uint64_t>(n + 7) / 8 > size) {
    return Truncated("PLAIN boolean", static_cast<int64_t>(size * 8), n);
  }
  UnpackBits(data, size, 1, n, out);
  return OkStatus();
}

Status DecodePlainInt96(const uint8_t* data, size_t size, int64_t n, int64_t* out) {
  if (static_cast<uint64_t>(n) * 12 > size) return Truncated("PLAIN INT96", size / 12, n);
  constexpr int64_t kJulianEpochDay = 2440588;
  constexpr uint64_t kNanosPerDay = 86400ull * 1000000000ull;
  for (int64_t i = 0; i < n; ++i) {
    int64_t nanos;
    int32_t day;
    std::memcpy(&nanos, data + 12 * i, 8);
    std::memcpy(&day, data + 12 * i + 8, 4);
    // Unsigned arithmetic: garbage days wrap instead of overflowing.
    uint64_t v = static_cast<uint64_t>(static_cast<int64_t>(day) - kJulianEpochDay) * kNanosPerDay +
                 static_cast<uint64_t>(nanos);
    out[i] = static_cast<int64_t>(v);
  }
  return OkStatus();
}

Status DecodePlainByteArray(const uint8_t* data, size_t size, int64_t n, std::string* bytes,
                            int64_t* ends) {
  // First pass: validate and total, so the bytes are appended with one allocation.
  size_t pos = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (size - pos < 4) return Truncated("PLAIN byte array", i, n);
    uint32_t len;
    std::memcpy(&len, data + pos, 4);
    pos += 4;
    if (len > size - pos) return Truncated("PLAIN byte array", i, n);
    pos += len;
  }
  size_t base = bytes->size();
  bytes->resize(base + pos - 4 * static_cast<size_t>(n));
  char* dst = bytes->data() + base;
  size_t out_pos = 0;
  pos = 0;
  for (int64_t i = 0; i < n; ++i) {
    uint32_t len;
    std::memcpy(&len, data + pos, 4);
    pos += 4;
    if (len) std::memcpy(dst + out_pos, data + pos, len);
    pos += len;
    out_pos += len;
    ends[i] = static_cast<int64_t>(base + out_pos);
  }
  return OkStatus();
}

Status DecodePlainFixedByteArray(const uint8_t* data, size_t size, int width, int64_t n,
                                 std::string* bytes, int64_t* ends) {
  if (width < 0) return DataLossError("negative FIXED_LEN_BYTE_ARRAY length");
  uint64_t need = static_cast<uint64_t>(n) * width;
  if (need > size) return Truncated("PLAIN fixed byte array", width ? size / width : 0, n);
  size_t base = bytes->size();
  bytes->append(reinterpret_cast<const char*>(data), need);
  for (int64_t i = 0; i < n; ++i) ends[i] = static_cast<int64_t>(base + (i + 1) * width);
  return OkStatus();
}

Status DecodeDeltaBinaryPacked(const uint8_t* data, size_t size, int64_t n, int64_t* out,
                               size_t* consumed) {
  return DecodeDeltaT(data, size, n, out, consumed);
}
Status DecodeDeltaBinaryPacked(const uint8_t* data, size_t size, int64_t n, int32_t* out,
                               size_t* consumed) {
  return DecodeDeltaT(data, size, n, out, consumed);
}

Status DecodeDeltaLengthByteArray(const uint8_t* data, size_t size, int64_t n, std::string* bytes,
                                  int64_t* ends) {
  std::vector<int64_t> lengths(n);
  size_t pos = 0;
  RETURN_IF_ERROR(DecodeDeltaBinaryPacked(data, size, n, lengths.data(), &pos));
  uint64_t total = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (lengths[i] < 0) return DataLossError("DELTA_LENGTH_BYTE_ARRAY has a negative length");
    total += static_cast<uint64_t>(lengths[i]);
    if (total > size - pos) return Truncated("DELTA_LENGTH_BYTE_ARRAY", i, n);
  }
  size_t base = bytes->size();
  bytes->append(reinterpret_cast<const char*>(data + pos), total);
  int64_t end = static_cast<int64_t>(base);
  for (int64_t i = 0; i < n; ++i) ends[i] = end += lengths[i];
  return OkStatus();
}

Status DecodeDeltaByteArray(const uint8_t* data, size_t size, int64_t n, std::string* bytes,
                            int64_t* ends) {
  std::vector<int64_t> prefix(n), suffix(n);
  size_t pos = 0, used = 0;
  RETURN_IF_ERROR(DecodeDeltaBinaryPacked(data, size, n, prefix.data(), &used));
  pos += used;
  RETURN_IF_ERROR(DecodeDeltaBinaryPacked(data + pos, size - pos, n, suffix.data(), &used));
  pos += used;
  size_t base = bytes->size();
  size_t prev_begin = base, prev_len = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (prefix[i] < 0 || suffix[i] < 0) {
      return DataLossError("DELTA_BYTE_ARRAY has a negative length");
    }
    if (static_cast<uint64_t>(prefix[i]) > prev_len) {
      return DataLossError("DELTA_BYTE_ARRAY prefix " + std::to_string(prefix[i]) +
                           " longer than the previous value (" + std::to_string(prev_len) + ")");
    }
    if (static_cast<uint64_t>(suffix[i]) > size - pos) {
      return Truncated("DELTA_BYTE_ARRAY", i, n);
    }
    size_t begin = bytes->size();
    // Copy the prefix from the previous value (which lives in *bytes), then the suffix.
    bytes->resize(begin + prefix[i]);
    if (prefix[i] > 0) std::memmove(bytes->data() + begin, bytes->data() + prev_begin, prefix[i]);
    bytes->append(reinterpret_cast<const char*>(data + pos), suffix[i]);
    pos += suffix[i];
    prev_begin = begin;
    prev_len = bytes->size() - begin;
    ends[i] = static_cast<int64_t>(bytes->size());
  }
  return OkStatus();
}

Status DecodeByteStreamSplit(const uint8_t* data, size_t size, int width, int64_t n, void* out) {
  if (width <= 0) return DataLossError("BYTE_STREAM_SPLIT with width " + std::to_string(width));
  uint64_t need = static_cast<uint64_t>(n) * width;
  if (need > size) return Truncated("BYTE_STREAM_SPLIT", size / width, n);
  // The values section is `width` streams of n bytes each.
  const size_t stride = static_cast<size_t>(n);
  auto* dst = static_cast<uint8_t*>(out);
  for (int k = 0; k < width; ++k) {
    const uint8_t* stream = data + k * stride;
    for (int64_t i = 0; i < n; ++i) dst[i * width + k] = stream[i];
  }
  return OkStatus();
}

// ---- encoders ----

namespace {

void PutUleb(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Appends values[0..n) bit-packed at width w (LSB first), padded to whole bytes.
template <typename T>
void PackBits(const T* values, int64_t n, int w, std::string* out) {
  uint64_t acc = 0;
  int bits = 0;
  for (int64_t i = 0; i < n; ++i) {
    uint64_t v = static_cast<uint64_t>(values[i]);
    int left = w;
    while (left > 0) {
      int take = std::min(left, 64 - bits);
      uint64_t part = take == 64 ? v : (v & ((uint64_t{1} << take) - 1));
      acc |= bits == 64 ? 0 : part << bits;
      bits += take;
      left -= take;
      v = take == 64 ? 0 : v >> take;
      while (bits >= 8) {
        out->push_back(static_cast<char>(acc & 0xff));
        acc >>= 8;
        bits -= 8;
      }
    }
  }
  if (bits > 0) out->push_back(static_cast<char>(acc & 0xff));
}

template <typename T>
void EncodeRleHybridT(const T* values, int64_t n, int w, std::string* out) {
  const int value_bytes = (w + 7) / 8;
  auto run_length = [&](int64_t i) {
    int64_t j = i + 1;
    while (j < n && values[j] == values[i]) ++j;
    return j - i;
  };
  int64_t i = 0;
  while (i < n) {
    int64_t r = run_length(i);
    if (r >= 8) {
      PutUleb(static_cast<uint64_t>(r) << 1, out);
      uint32_t v = static_cast<uint32_t>(values[i]);
      for (int b = 0; b < value_bytes; ++b) out->push_back(static_cast<char>((v >> (8 * b)) & 0xff));
      i += r;
      continue;
    }
    // Bit-packed groups of 8 until a long run starts at a group boundary (or the end).
    int64_t start = i;
    do {
      i = std::min(i + 8, n);
    } while (i < n && run_length(i) < 8);
    int64_t count = i - start;
    int64_t groups = (count + 7) / 8;
    PutUleb((static_cast<uint64_t>(groups) << 1) | 1, out);
    std::vector<T> padded(values + start, values + i);
    padded.resize(groups * 8, T(0));
    PackBits(padded.data(), groups * 8, w, out);
  }
}

}  // namespace

void EncodeRleHybrid(const uint32_t* values, int64_t n, int bit_width, std::string* out) {
  EncodeRleHybridT(values, n, bit_width, out);
}
void EncodeRleHybrid(const uint8_t* values, int64_t n, int bit_width, std::string* out) {
  EncodeRleHybridT(values, n, bit_width, out);
}

void EncodeDeltaBinaryPacked(const int64_t* values, int64_t n, std::string* out) {
  constexpr int kBlock = 128, kMini = 4, kPerMini = kBlock / kMini;
  PutUleb(kBlock, out);
  PutUleb(kMini, out);
  PutUleb(static_cast<uint64_t>(n), out);
  auto zigzag = [](int64_t v) {
    return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  };
  PutUleb(n > 0 ? zigzag(values[0]) : 0, out);
  int64_t i = 1;
  while (i < n) {
    int64_t count = std::min<int64_t>(kBlock, n - i);
    uint64_t deltas[kBlock];
    for (int64_t k = 0; k < count; ++k) {
      deltas[k] = static_cast<uint64_t>(values[i + k]) - static_cast<uint64_t>(values[i + k - 1]);
    }
    int64_t min_delta = static_cast<int64_t>(deltas[0]);
    for (int64_t k = 1; k < count; ++k) {
      min_delta = std::min(min_delta, static_cast<int64_t>(deltas[k]));
    }
    PutUleb(zigzag(min_delta), out);
    uint64_t rel[kBlock] = {};
    for (int64_t k = 0; k < count; ++k) rel[k] = deltas[k] - static_cast<uint64_t>(min_delta);
    int widths[kMini];
    for (int m = 0; m < kMini; ++m) {
      uint64_t mx = 0;
      for (int k = m * kPerMini; k < std::min<int64_t>((m + 1) * kPerMini, count); ++k) {
        mx = std::max(mx, rel[k]);
      }
      widths[m] = m * kPerMini < count ? BitWidth(mx) : 0;
      out->push_back(static_cast<char>(widths[m]));
    }
    for (int m = 0; m < kMini && m * kPerMini < count; ++m) {
      PackBits(rel + m * kPerMini, kPerMini, widths[m], out);
    }
    i += count;
  }
}

}  // namespace bimride::parquet
