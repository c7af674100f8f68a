// The node peers of the Parquet benchmarks (tests/peers/*.mjs), run in the same process tree
// and the same run as our reader: hyparquet (JavaScript), DuckDB (C++) and Polars (Rust).
// Each peer times its own passes around the read only (node and module start-up excluded)
// and prints {"seconds":[...],"cpu_seconds":[...],"rows":N}; CPU is the peer process's user +
// system time, every thread counted.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace bimride::bench {

// Wall and CPU seconds of each timed pass, and the rows a pass read.
struct PeerTimes {
  std::vector<double> wall, cpu;
  int64_t rows = 0;
};

// A native reader run single-threaded by tests/peers/native_bench.mjs.
enum class NativePeer { kDuckDb, kPolars };

// "DuckDB 1.5.6 (C++, 1 thread)" and the like, for report lines.
const char* NativePeerName(NativePeer peer);

// Runs hyparquet over `files` (all columns), `iterations` timed passes after its warm-up.
StatusOr<PeerTimes> RunHyparquet(const std::vector<std::string>& files, int iterations);

// Runs `peer` over `files`, materialising `columns` (empty: all columns), `iterations` timed
// passes after one warm-up pass.
StatusOr<PeerTimes> RunNativePeer(NativePeer peer, const std::vector<std::string>& files,
                                  const std::vector<std::string>& columns, int iterations);

}  // namespace bimride::bench
