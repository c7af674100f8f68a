#include "parquet/compression.h"

#include <libdeflate.h>
#include <snappy-c.h>
#include <zconf.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <memory>

namespace bimride::parquet {
namespace {

Status SizeMismatch(std::string_view codec, size_t got, size_t expected) {
  return DataLossError(std::string(codec) + " data decompresses to " + std::to_string(got) +
                       " bytes, page header says " + std::to_string(expected));
}

Status SnappyDecompress(const uint8_t* data, size_t size, uint8_t* out, size_t expected) {
  size_t len = 0;
  if (snappy_uncompressed_length(reinterpret_cast<const char*>(data), size, &len) != SNAPPY_OK) {
    return DataLossError("bad SNAPPY data: unreadable length preamble");
  }
  if (len != expected) return SizeMismatch("SNAPPY", len, expected);
  size_t out_len = expected;
  if (snappy_uncompress(reinterpret_cast<const char*>(data), size, reinterpret_cast<char*>(out),
                        &out_len) != SNAPPY_OK ||
      out_len != expected) {
    return DataLossError("bad SNAPPY data");
  }
  return OkStatus();
}

// libdeflate (2-3x zlib's inflate, and a faster CRC-32) for the common page: one gzip member
// that decompresses to exactly `expected` bytes. Returns false, having decided nothing, for
// anything else — a zlib header, several members, a header CRC (which zlib checks and
// libdeflate skips), a corrupt stream, a size mismatch — which GzipDecompress then hands to
// zlib, so every such page gets zlib's result and error message as before.
bool FastGunzip(const uint8_t* data, size_t size, uint8_t* out, size_t expected) {
  constexpr uint8_t kHeaderCrcFlag = 0x02;
  if (expected == 0 || size < 18 || data[0] != 0x1f || data[1] != 0x8b ||
      (data[3] & kHeaderCrcFlag) != 0) {
    return false;
  }
  struct Free {
    void operator()(libdeflate_decompressor* d) const { libdeflate_free_decompressor(d); }
  };
  thread_local std::unique_ptr<libdeflate_decompressor, Free> decompressor(
      libdeflate_alloc_decompressor());
  // Output must fill `expected` exactly (no actual_out: a shorter stream is an error); input
  // after the member is ignored, as zlib ignores it once the output is full.
  return decompressor != nullptr &&
         libdeflate_gzip_decompress(decompressor.get(), data, size, out, expected, nullptr) ==
             LIBDEFLATE_SUCCESS;
}

Status GzipDecompress(const uint8_t* data, size_t size, uint8_t* out, size_t expected) {
  if (FastGunzip(data, size, out, expected)) return OkStatus();
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  // 15 + 32: accept gzip and zlib headers.
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return InternalError("zlib inflateInit2 failed");
  // zlib refuses a null output pointer even when no output is wanted, and an empty page's
  // buffer may be null (a never-grown vector): give it a byte to point at.
  uint8_t none;
  if (out == nullptr) out = &none;
  size_t produced = 0;
  int rc = Z_OK;
  const uint8_t* in = data;
  size_t in_left = size;
  // Loop over concatenated gzip members; the output must fill exactly.
  for (;;) {
    zs.next_in = const_cast<Bytef*>(in);
    zs.avail_in = static_cast<uInt>(in_left);
    zs.next_out = out + produced;
    zs.avail_out = static_cast<uInt>(expected - produced);
    rc = inflate(&zs, Z_FINISH);
    produced = expected - zs.avail_out;
    in_left = zs.avail_in;
    in = zs.next_in;
    if (rc == Z_STREAM_END && in_left > 0 && produced < expected) {
      if (inflateReset(&zs) != Z_OK) break;
      continue;
    }
    break;
  }
  std::string msg = zs.msg ? zs.msg : "";
  inflateEnd(&zs);
  if (rc == Z_STREAM_END) {
    if (produced != expected) return SizeMismatch("GZIP", produced, expected);
    return OkStatus();
  }
  if (rc == Z_BUF_ERROR && zs.avail_out == 0 && produced == expected) {
    return DataLossError("GZIP data decompresses to more than the " + std::to_string(expected) +
                         " bytes the page header says");
  }
  return DataLossError("bad GZIP data" + (msg.empty() ? std::string() : ": " + msg));
}

Status ZstdDecompress(const uint8_t* data, size_t size, uint8_t* out, size_t expected) {
  unsigned long long content = ZSTD_getFrameContentSize(data, size);
  if (content == ZSTD_CONTENTSIZE_ERROR) return DataLossError("bad ZSTD frame");
  if (content != ZSTD_CONTENTSIZE_UNKNOWN && content != expected) {
    return SizeMismatch("ZSTD", static_cast<size_t>(content), expected);
  }
  size_t rc = ZSTD_decompress(out, expected, data, size);
  if (ZSTD_isError(rc)) {
    return DataLossError(std::string("bad ZSTD frame: ") + ZSTD_getErrorName(rc));
  }
  if (rc != expected) return SizeMismatch("ZSTD", rc, expected);
  return OkStatus();
}

}  // namespace

bool CodecSupported(Codec codec) {
  return codec == Codec::kUncompressed || codec == Codec::kSnappy || codec == Codec::kGzip ||
         codec == Codec::kZstd;
}

Status Decompress(Codec codec, const uint8_t* data, size_t size, uint8_t* out,
                  size_t expected_size) {
  switch (codec) {
    case Codec::kUncompressed:
      if (size != expected_size) return SizeMismatch("UNCOMPRESSED", size, expected_size);
      if (size > 0) std::memcpy(out, data, size);
      return OkStatus();
    case Codec::kSnappy:
      return SnappyDecompress(data, size, out, expected_size);
    case Codec::kGzip:
      return GzipDecompress(data, size, out, expected_size);
    case Codec::kZstd:
      return ZstdDecompress(data, size, out, expected_size);
    default:
      return UnimplementedError("unsupported compression codec " + std::string(CodecName(codec)));
  }
}

Status Compress(Codec codec, std::string_view input, int level, std::string* out) {
  size_t start = out->size();
  switch (codec) {
    case Codec::kUncompressed:
      out->append(input);
      return OkStatus();
    case Codec::kSnappy: {
      size_t max = snappy_max_compressed_length(input.size());
      out->resize(start + max);
      size_t len = max;
      if (snappy_compress(input.data(), input.size(), out->data() + start, &len) != SNAPPY_OK) {
        out->resize(start);
        return InternalError("snappy_compress failed");
      }
      out->resize(start + len);
      return OkStatus();
    }
    case Codec::kGzip: {
      z_stream zs;
      std::memset(&zs, 0, sizeof(zs));
      // 15 + 16: a gzip header, as the Parquet spec asks for GZIP.
      if (deflateInit2(&zs, level == 0 ? Z_DEFAULT_COMPRESSION : level, Z_DEFLATED, 15 + 16, 8,
                       Z_DEFAULT_STRATEGY) != Z_OK) {
        return InternalError("zlib deflateInit2 failed");
      }
      size_t max = deflateBound(&zs, input.size()) + 32;
      out->resize(start + max);
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
      zs.avail_in = static_cast<uInt>(input.size());
      zs.next_out = reinterpret_cast<Bytef*>(out->data() + start);
      zs.avail_out = static_cast<uInt>(max);
      int rc = deflate(&zs, Z_FINISH);
      size_t len = max - zs.avail_out;
      deflateEnd(&zs);
      if (rc != Z_STREAM_END) {
        out->resize(start);
        return InternalError("zlib deflate failed");
      }
      out->resize(start + len);
      return OkStatus();
    }
    case Codec::kZstd: {
      size_t max = ZSTD_compressBound(input.size());
      out->resize(start + max);
      size_t rc = ZSTD_compress(out->data() + start, max, input.data(), input.size(),
                                level == 0 ? 3 : level);
      if (ZSTD_isError(rc)) {
        out->resize(start);
        return InternalError(std::string("ZSTD_compress failed: ") + ZSTD_getErrorName(rc));
      }
      out->resize(start + rc);
      return OkStatus();
    }
    default:
      return UnimplementedError("unsupported compression codec " + std::string(CodecName(codec)));
  }
}

}  // namespace bimride::parquet
