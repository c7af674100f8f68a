// Reading the eight TLC green Parquet files into TripTable (per file, and as one table with
// LoadTrips, the call bimride.read_trips makes), side by side with our own raw
// Parquet decode of the same files in the same run (the peers: all 20 columns decoded; the 9
// columns TripTable needs decoded; pages decompressed only = the floor) and with native
// readers materialising the same 9 columns single-threaded under node (DuckDB, Polars:
// bench/peer.h; their CPU time is the read alone, start-up excluded). Then CSV: the Uber
// April 2014 gzip CSV into TripTable (with zone lookups) against gunzip alone and gunzip +
// tokenizing alone.
//   build/bench/trip_read_bench [DATA_DIR]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <sys/stat.h>
#include <time.h>
#include <vector>

#include "bench/peer.h"
#include "data/csv_reader.h"
#include "data/trip_csv.h"
#include "data/trip_loader.h"
#include "data/trip_parquet.h"
#include "data/zone_index.h"
#include "parquet/file_reader.h"

namespace {

namespace pq = bimride::parquet;

// The green columns a TripTable holds (the TLC green layout's bindings).
const std::vector<std::string> kTripColumns = {
    "lpep_pickup_datetime", "lpep_dropoff_datetime", "PULocationID",
    "DOLocationID",         "trip_distance",         "fare_amount",
    "total_amount",         "passenger_count",       "VendorID"};

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// Best wall time and best CPU time (user + kernel, this thread) over `reps` runs. On a shared
// machine the CPU time is the steadier figure: waiting for a core does not count in it.
struct Timing {
  double wall = 1e9;
  double cpu = 1e9;
};
double g_cpu = 0;  // CPU seconds of the last Best() call, read by the printers

double Best(int reps, const std::function<void()>& fn) {
  Timing best;
  for (int r = 0; r < reps; ++r) {
    const auto t = std::chrono::steady_clock::now();
    const double c = ThreadCpuSeconds();
    fn();
    best.cpu = std::min(best.cpu, ThreadCpuSeconds() - c);
    best.wall =
        std::min(best.wall, std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count());
  }
  g_cpu = best.cpu;
  return best.wall;
}

void Die(const bimride::Status& s) {
  std::fprintf(stderr, "%s\n", s.ToString().c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  std::string data = argc > 1 ? argv[1] : BIMRIDE_DATA_DIR;
  const char* months[] = {"2021-01", "2021-02", "2021-03", "2022-01",
                          "2022-02", "2023-01", "2023-02", "2023-03"};
  std::vector<std::string> files;
  double file_mb = 0;
  for (const char* m : months) {
    files.push_back(data + "/tlc_green/green_tripdata_" + std::string(m) + ".parquet");
    struct stat st;
    if (stat(files.back().c_str(), &st) != 0) Die(bimride::NotFoundError(files.back()));
    file_mb += st.st_size / 1e6;
  }
  int64_t rows = 0;
  auto trip_table = [&] {
    rows = 0;
    for (const auto& f : files) {
      auto r = bimride::data::ReadTripsParquet(f);
      if (!r.ok()) Die(r.status());
      rows += static_cast<int64_t>(r->trips.size());
    }
  };
  pq::RowGroupBatch batch;  // reused from file to file, as ReadTripsParquet reuses its own
  auto raw = [&](bool all_columns, bool decompress_only) {
    for (const auto& f : files) {
      auto reader = pq::FileReader::Open(f);
      if (!reader.ok()) Die(reader.status());
      std::vector<int> cols;
      for (int c = 0; c < (*reader)->num_columns(); ++c) {
        const std::string& n = (*reader)->schema()[c].name;
        const bool needed =
            std::find(kTripColumns.begin(), kTripColumns.end(), n) != kTripColumns.end();
        if (all_columns || needed) cols.push_back(c);
      }
      for (int rg = 0; rg < (*reader)->num_row_groups(); ++rg) {
        if (decompress_only) {
          auto n = (*reader)->DecompressOnly(rg, cols);
          if (!n.ok()) Die(n.status());
        } else if (auto s = (*reader)->ReadRowGroup(rg, cols, &batch); !s.ok()) {
          Die(s);
        }
      }
    }
  };
  const int reps = 10;
  trip_table();  // warm-up: page cache, allocator
  // Each reader's passes back to back (as ReadTripsParquet is used: one file after another).
  // Interleaving them instead leaves the other readers' buffers between TripTable's passes,
  // so glibc returns more of each freed table to the kernel and the next one faults its pages
  // in again: TripTable then cost 15-25% more CPU in our runs (the kernel zeroing fresh pages).
  double t_table = Best(reps, trip_table);
  const double c_table = g_cpu;
  // The call bimride.read_trips makes (python/): the eight files as one table.
  auto load_trips = [&] {
    bimride::data::LoadTripsOptions o;
    o.validate = false;
    auto r = bimride::data::LoadTrips(files, o);
    if (!r.ok()) Die(r.status());
  };
  double t_load = Best(reps, load_trips);
  const double c_load = g_cpu;
  double t_all = Best(reps, [&] { raw(true, false); });
  const double c_all = g_cpu;
  double t_needed = Best(reps, [&] { raw(false, false); });
  const double c_needed = g_cpu;
  double t_floor = Best(reps, [&] { raw(false, true); });
  const double c_floor = g_cpu;
  std::printf("eight TLC green Parquet files: %lld rows, %.1f MB on disk, best of %d\n",
              static_cast<long long>(rows), file_mb, reps);
  std::printf("  %-52s %9s %14s %11s %9s %17s\n", "", "wall", "rows/s (wall)", "MB/s (wall)",
              "CPU", "CPU / TripTable's");
  auto line = [&](const char* what, double s, double cpu) {
    std::printf("  %-52s %6.1f ms  %8.2f M/s  %11.1f  %6.1f ms  %16.2fx\n", what, s * 1e3,
                rows / s / 1e6, file_mb / s, cpu * 1e3, cpu / c_table);
  };
  line("TripTable (ReadTripsParquet, 9 needed columns)", t_table, c_table);
  line("LoadTrips (the eight as one table, no validation)", t_load, c_load);
  line("peer: raw decode, all 20 columns", t_all, c_all);
  line("peer: raw decode, the 9 needed columns", t_needed, c_needed);
  line("floor: decompress the 9 needed columns' pages only", t_floor, c_floor);
  // The native peers, best pass of `reps` like ours.
  for (auto p : {bimride::bench::NativePeer::kDuckDb, bimride::bench::NativePeer::kPolars}) {
    auto peer = bimride::bench::RunNativePeer(p, files, kTripColumns, reps);
    if (!peer.ok()) Die(peer.status());
    if (peer->rows != rows) {
      Die(bimride::InternalError(std::string(bimride::bench::NativePeerName(p)) + " saw " +
                                 std::to_string(peer->rows) + " rows, we saw " +
                                 std::to_string(rows)));
    }
    const std::string name =
        std::string("peer: ") + bimride::bench::NativePeerName(p) + ", the 9 columns";
    line(name.c_str(), *std::min_element(peer->wall.begin(), peer->wall.end()),
         *std::min_element(peer->cpu.begin(), peer->cpu.end()));
  }
  std::printf("  TripTable vs the floor: %.2fx (CPU), %.2fx (wall)\n", c_table / c_floor,
              t_table / t_floor);

  // CSV.
  auto zones = bimride::data::ZoneIndex::Load(data + "/zones");
  if (!zones.ok()) Die(zones.status());
  const std::string uber = data + "/uber/uber-raw-data-apr14.csv.gz";
  std::string text;
  int64_t csv_rows = 0, fields = 0;
  double t_gunzip = Best(3, [&] {
    auto t = bimride::data::ReadMaybeGzipFile(uber);
    if (!t.ok()) Die(t.status());
    text = std::move(*t);
  });
  double t_tokenize = Best(3, [&] {
    auto t = bimride::data::ReadMaybeGzipFile(uber);
    if (!t.ok()) Die(t.status());
    bimride::data::CsvTokenizer tok(*t, uber);
    std::vector<std::string_view> f;
    fields = 0;
    for (;;) {
      auto more = tok.Next(&f);
      if (!more.ok()) Die(more.status());
      if (!*more) break;
      fields += static_cast<int64_t>(f.size());
    }
  });
  double t_csv = Best(3, [&] {
    bimride::data::CsvReadOptions o;
    o.zones = &*zones;
    auto r = bimride::data::ReadTripsCsv(uber, o);
    if (!r.ok()) Die(r.status());
    csv_rows = static_cast<int64_t>(r->trips.size());
  });
  double text_mb = text.size() / 1e6;
  std::printf("Uber Apr 2014 gzip CSV: %lld rows, %.1f MB of text, best of 3\n",
              static_cast<long long>(csv_rows), text_mb);
  auto cline = [&](const char* what, double s) {
    std::printf("  %-52s %7.1f ms  %6.2f M rows/s  %6.1f MB/s of text  (%.2fx TripTable time)\n",
                what, s * 1e3, csv_rows / s / 1e6, text_mb / s, s / t_csv);
  };
  cline("TripTable (ReadTripsCsv: gunzip, parse, zone lookup)", t_csv);
  cline("peer: gunzip + tokenize only", t_tokenize);
  cline("floor: gunzip only (zlib)", t_gunzip);
  return fields > 0 ? 0 : 1;
}
