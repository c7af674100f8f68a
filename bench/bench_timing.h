// Timing helpers every C++ bench shares (their node and Python peers have the same three in
// bench/peers/frameworks/bench_common.mjs and bench/frameworks/python_peer.py).
#pragma once

#include <time.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace bimride::bench {

// Rows per second of fn(first_row, rows) in batches of `batch` over the first `n` rows,
// wrapping around, until `min_seconds` have passed (the clock is read every 64 calls); every
// call sees the next rows, not one row repeated. 0 when fn returns false or n < batch.
template <typename Fn>
double RowsPerSecond(int64_t n, int64_t batch, double min_seconds, Fn fn) {
  n -= n % batch;
  if (n <= 0) return 0;
  int64_t calls = 0, s = 0;
  const auto start = std::chrono::steady_clock::now();
  while (true) {
    for (int k = 0; k < 64; ++k, ++calls) {
      if (!fn(s, batch)) return 0;
      s += batch;
      if (s >= n) s = 0;
    }
    const double sec =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (sec >= min_seconds) return static_cast<double>(calls * batch) / sec;
  }
}

// Peak resident memory of this process in MB (VmHWM of /proc/self/status); NaN if unreadable.
inline double PeakRssMb() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return std::numeric_limits<double>::quiet_NaN();
  char line[256];
  double mb = std::numeric_limits<double>::quiet_NaN();
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, "VmHWM:", 6) == 0) mb = std::atof(line + 6) / 1024.0;
  }
  std::fclose(f);
  return mb;
}

// The environment variable a parent sets to its CLOCK_REALTIME (ns) just before spawning a
// measured process, so the child can tell its cold start: spawn to first prediction.
inline constexpr char kSpawnTimeEnv[] = "BIMRIDE_BENCH_SPAWN_NS";

inline int64_t RealtimeNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Milliseconds since the parent spawned this process; NaN when it did not say.
inline double MsSinceSpawn() {
  const char* v = std::getenv(kSpawnTimeEnv);
  if (v == nullptr || *v == '\0') return std::numeric_limits<double>::quiet_NaN();
  return static_cast<double>(RealtimeNs() - std::atoll(v)) / 1e6;
}

}  // namespace bimride::bench
