// parquet_bench: how fast bimride::parquet reads the green TLC files, side by side with
// (a) hyparquet under node reading the same files in the same run and (b) the decompression
// floor (walking the same pages and only decompressing them — no reader can beat that).
//
//   ./build/bench/parquet_bench [--iterations 5] [--no-peer] [--files a.parquet b.parquet]
//
// Each iteration opens every file and decodes every column of every row group. Reports the
// median iteration time, rows/s, and MB/s of Parquet file bytes.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <sys/stat.h>

#include "common/flags.h"
#include "common/status.h"
#include "parquet/file_reader.h"

namespace bimride::parquet {
namespace {

using Clock = std::chrono::steady_clock;

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

StatusOr<std::vector<double>> Time(const std::vector<std::string>& files, bool decode,
                                   int iterations, int64_t* rows) {
  RowGroupBatch batch;
  std::vector<double> seconds;
  for (int i = 0; i < iterations; ++i) {
    auto start = Clock::now();
    ASSIGN_OR_RETURN(*rows, Pass(files, decode, &batch));
    seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  return seconds;
}

// Runs the node peer; parses {"seconds":[...],"rows":N}.
StatusOr<std::vector<double>> TimePeer(const std::vector<std::string>& files, int iterations,
                                       int64_t* rows) {
  std::string cmd = "node '" + std::string(BIMRIDE_SOURCE_DIR) +
                    "/tests/peers/parquet_bench.mjs' " + std::to_string(iterations);
  for (const auto& f : files) cmd += " '" + f + "'";
  std::FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return InternalError("cannot run " + cmd);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  if (::pclose(p) != 0) return InternalError(cmd + " failed (is hyparquet installed?)");
  std::vector<double> seconds;
  size_t a = out.find('['), b = out.find(']');
  if (a == std::string::npos || b == std::string::npos) return InternalError("bad peer output");
  std::string list = out.substr(a + 1, b - a - 1);
  for (size_t pos = 0; pos < list.size();) {
    size_t end = list.find(',', pos);
    if (end == std::string::npos) end = list.size();
    seconds.push_back(std::stod(list.substr(pos, end - pos)));
    pos = end + 1;
  }
  size_t r = out.find("\"rows\":");
  if (r == std::string::npos) return InternalError("bad peer output");
  *rows = std::stoll(out.substr(r + 7));
  return seconds;
}

int Main(int argc, char** argv) {
  FlagParser flags("parquet_bench", "Parquet read speed vs hyparquet and the decompression floor.");
  int64_t iterations = 5;
  bool no_peer = false;
  std::vector<std::string> files;
  flags.AddInt("iterations", &iterations, "timed passes over all files (median reported)");
  flags.AddBool("no-peer", &no_peer, "skip the hyparquet peer");
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
  int64_t rows = 0, floor_rows = 0, peer_rows = 0;
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
  const double t_ours = Median(*ours), t_floor = Median(*floor);
  std::printf("files: %zu (%.2f MB), rows: %lld, iterations: %lld (median)\n", files.size(), mb,
              static_cast<long long>(rows), static_cast<long long>(iterations));
  std::printf("%-34s %10s %14s %10s\n", "reader", "seconds", "rows/s", "MB/s");
  auto line = [&](const char* name, double t) {
    std::printf("%-34s %10.4f %14.0f %10.1f\n", name, t, rows / t, mb / t);
  };
  line("bimride::parquet (decode all)", t_ours);
  line("decompress-only floor", t_floor);
  if (!no_peer) {
    auto peer = TimePeer(files, static_cast<int>(iterations), &peer_rows);
    if (!peer.ok()) {
      std::cerr << peer.status().ToString() << "\n";
      return 1;
    }
    if (peer_rows != rows) {
      std::cerr << "hyparquet saw " << peer_rows << " rows, we saw " << rows << "\n";
      return 1;
    }
    const double t_peer = Median(*peer);
    line("hyparquet (node, onChunk)", t_peer);
    std::printf("speed-up vs hyparquet: %.1fx\n", t_peer / t_ours);
  }
  std::printf("time vs decompression floor: %.2fx\n", t_ours / t_floor);
  return 0;
}

}  // namespace
}  // namespace bimride::parquet

int main(int argc, char** argv) { return bimride::parquet::Main(argc, argv); }
