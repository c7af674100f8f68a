// parquet_bench: how fast bimride::parquet reads the green TLC files, side by side with
// (a) peers under node reading the same files, all columns, in the same run: hyparquet
// (JavaScript), DuckDB (C++) and Polars (Rust), the last two single-threaded (bench/peer.h),
// and (b) the decompression floor (walking the same pages and only decompressing them — no
// reader can beat that).
//
//   ./build/bench/parquet_bench [--iterations 5] [--no-peer] [--files a.parquet b.parquet]
//
// Each iteration opens every file and decodes every column of every row group. Reports the
// median iteration time (wall and CPU), rows/s, and MB/s of Parquet file bytes. On a shared
// machine read the CPU ratios: waiting for a core counts in wall time, not in CPU time.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <sys/stat.h>
#include <time.h>

#include "bench/peer.h"
#include "common/flags.h"
#include "common/status.h"
#include "parquet/file_reader.h"
#ifdef BIMRIDE_BENCH_TRIP_TABLE
#include "data/trip_parquet.h"
#endif

namespace bimride::parquet {
namespace {

using Clock = std::chrono::steady_clock;

double ProcessCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// Per-iteration wall and CPU seconds.
struct Times {
  std::vector<double> wall, cpu;
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// One pass over all files: decode everything (decode=true) or only decompress pages.
StatusOr<int64_t> Pass(const std::vector<std::string>& files, bool decode, RowGroupBatch* batch) {
  int64_t rows = 0;
  for (const std::string& path : files) {
    ASSIGN_OR_RETURN(auto reader, FileReader::Open(path));
    std::vector<int> all;
    for (int c = 0; c < reader->num_columns(); ++c) all.push_back(c);
    for (int rg = 0; rg < reader->num_row_groups(); ++rg) {
      if (decode) {
        RETURN_IF_ERROR(reader->ReadRowGroup(rg, all, batch));
      } else {
        ASSIGN_OR_RETURN(int64_t bytes, reader->DecompressOnly(rg, all));
        (void)bytes;
      }
    }
    rows += reader->num_rows();
  }
  return rows;
}

StatusOr<Times> Time(const std::vector<std::string>& files, bool decode, int iterations,
                     int64_t* rows) {
  RowGroupBatch batch;
  Times t;
  for (int i = 0; i < iterations; ++i) {
    auto start = Clock::now();
    const double cpu = ProcessCpuSeconds();
    ASSIGN_OR_RETURN(*rows, Pass(files, decode, &batch));
    t.cpu.push_back(ProcessCpuSeconds() - cpu);
    t.wall.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  return t;
}

int Main(int argc, char** argv) {
  FlagParser flags("parquet_bench",
                   "Parquet read speed vs hyparquet, DuckDB, Polars and the decompression floor.");
  int64_t iterations = 5;
  bool no_peer = false;
  std::vector<std::string> files;
  flags.AddInt("iterations", &iterations, "timed passes over all files (median reported)");
  flags.AddBool("no-peer", &no_peer, "skip the node peers (hyparquet, DuckDB, Polars)");
  flags.AddStringList("files", &files, "Parquet files (default: the eight green TLC files)");
  Status s = flags.Parse(std::vector<std::string>(argv + 1, argv + argc));
  if (flags.help_requested()) {
    std::cout << flags.Help();
    return 0;
  }
  if (!s.ok() || iterations < 1) {
    std::cerr << s.ToString() << "\n" << flags.Help();
    return 2;
  }
  if (files.empty()) {
    for (const char* m : {"2021-01", "2021-02", "2021-03", "2022-01", "2022-02", "2023-01",
                          "2023-02", "2023-03"}) {
      files.push_back(std::string(BIMRIDE_DATA_DIR) + "/tlc_green/green_tripdata_" + m +
                      ".parquet");
    }
  }
  double mb = 0;
  for (const auto& f : files) {
    struct stat st;
    if (::stat(f.c_str(), &st) != 0) {
      std::cerr << f << ": cannot stat\n";
      return 1;
    }
    mb += static_cast<double>(st.st_size) / 1e6;
  }
  int64_t rows = 0, floor_rows = 0;
  // Warm-up pass (page cache, allocator).
  auto warm = Time(files, true, 1, &rows);
  if (!warm.ok()) {
    std::cerr << warm.status().ToString() << "\n";
    return 1;
  }
  auto ours = Time(files, true, static_cast<int>(iterations), &rows);
  auto floor = Time(files, false, static_cast<int>(iterations), &floor_rows);
  if (!ours.ok() || !floor.ok()) {
    std::cerr << (ours.ok() ? floor.status() : ours.status()).ToString() << "\n";
    return 1;
  }
  const double t_ours = Median(ours->wall), t_floor = Median(floor->wall);
  const double c_ours = Median(ours->cpu), c_floor = Median(floor->cpu);
  std::printf("files: %zu (%.2f MB), rows: %lld, iterations: %lld (median)\n", files.size(), mb,
              static_cast<long long>(rows), static_cast<long long>(iterations));
  std::printf("%-34s %10s %14s %10s %10s %14s\n", "reader", "wall s", "rows/s", "MB/s", "CPU s",
              "rows/CPU-s");
  auto line = [&](const char* name, double t, double c) {
    std::printf("%-34s %10.4f %14.0f %10.1f %10.4f %14.0f\n", name, t, rows / t, mb / t, c,
                rows / c);
  };
  line("bimride::parquet (decode all)", t_ours, c_ours);
  line("decompress-only floor", t_floor, c_floor);
  if (!no_peer) {
    // Each peer in turn: name, its times, and the speed-up of ours over it.
    auto peer_line = [&](const std::string& name, const StatusOr<bench::PeerTimes>& peer) {
      if (!peer.ok()) {
        std::cerr << peer.status().ToString() << "\n";
        return false;
      }
      if (peer->rows != rows) {
        std::cerr << name << " saw " << peer->rows << " rows, we saw " << rows << "\n";
        return false;
      }
      const double t_peer = Median(peer->wall), c_peer = Median(peer->cpu);
      line(name.c_str(), t_peer, c_peer);
      std::printf("  speed-up of bimride::parquet vs %s: %.1fx (wall), %.1fx (CPU)\n",
                  name.c_str(), t_peer / t_ours, c_peer / c_ours);
      return true;
    };
    const int n = static_cast<int>(iterations);
    if (!peer_line("hyparquet (node, onChunk)", bench::RunHyparquet(files, n))) return 1;
    for (bench::NativePeer p : {bench::NativePeer::kDuckDb, bench::NativePeer::kPolars}) {
      if (!peer_line(bench::NativePeerName(p), bench::RunNativePeer(p, files, {}, n))) return 1;
    }
  }
  std::printf("time vs decompression floor: %.2fx (wall), %.2fx (CPU)\n", t_ours / t_floor,
              c_ours / c_floor);
#ifdef BIMRIDE_BENCH_TRIP_TABLE
  // The trip layer on top: the same files into TripTable (data/trip_parquet.h), which decodes
  // only the 9 columns a TripTable needs and maps them (time units, nulls, types).
  std::vector<double> table_seconds, table_cpu;
  for (int i = 0; i < iterations; ++i) {
    auto start = Clock::now();
    const double cpu = ProcessCpuSeconds();
    for (const auto& f : files) {
      auto trips = ::bimride::data::ReadTripsParquet(f);
      if (!trips.ok()) {
        std::cerr << trips.status().ToString() << "\n";
        return 1;
      }
    }
    table_cpu.push_back(ProcessCpuSeconds() - cpu);
    table_seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  const double t_table = Median(table_seconds), c_table = Median(table_cpu);
  line("TripTable (data::ReadTripsParquet)", t_table, c_table);
  std::printf("TripTable vs decode all: %.2fx (CPU); vs decompression floor (all columns): "
              "%.2fx (CPU), %.2fx (wall)\n",
              c_table / c_ours, c_table / c_floor, t_table / t_floor);
#endif
  return 0;
}

}  // namespace
}  // namespace bimride::parquet

int main(int argc, char** argv) { return bimride::parquet::Main(argc, argv); }
