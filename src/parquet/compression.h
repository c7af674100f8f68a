// Page compression codecs: UNCOMPRESSED, SNAPPY (libsnappy), GZIP (zlib), ZSTD (libzstd).
//
// Decompress writes exactly `expected_size` bytes into `out` or fails with a DataLoss status
// ("bad ZSTD frame", "GZIP data decompresses to 10 bytes, page header says 12"); an unsupported
// codec is Unimplemented. Messages carry no file context; callers add it.
// Thread safety: free functions, safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "parquet/types.h"

namespace bimride::parquet {

bool CodecSupported(Codec codec);

Status Decompress(Codec codec, const uint8_t* data, size_t size, uint8_t* out,
                  size_t expected_size);

// Appends the compressed form of `input` to *out. `level` is used by ZSTD and GZIP
// (0 = the codec's default).
Status Compress(Codec codec, std::string_view input, int level, std::string* out);

}  // namespace bimride::parquet
