// Point-in-zone throughput: ZoneIndex::Lookup (grid) against LookupBruteForce (every polygon,
// bounding-box pre-check) on the same points in the same run.
//   build/bench/zone_index_bench [DATA_DIR]
// Points: the 564,516 real Uber April 2014 pickups, then uniform random points over the NYC
// bounding box. Prints points/s for both and the ratio; fails if any answer differs.
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "data/trip_csv.h"
#include "data/zone_index.h"

using bimride::data::ZoneIndex;

namespace {

double Seconds(std::chrono::steady_clock::time_point a) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
}

int Run(const ZoneIndex& z, const char* label, const std::vector<double>& lon,
        const std::vector<double>& lat, size_t brute_n) {
  std::vector<int32_t> grid(lon.size()), brute(brute_n);
  double best_grid = 1e9;
  for (int rep = 0; rep < 5; ++rep) {
    auto t = std::chrono::steady_clock::now();
    z.LookupMany(lon.data(), lat.data(), lon.size(), grid.data());
    best_grid = std::min(best_grid, Seconds(t));
  }
  auto t = std::chrono::steady_clock::now();
  for (size_t i = 0; i < brute_n; ++i) brute[i] = z.LookupBruteForce(lon[i], lat[i]);
  double brute_s = Seconds(t);
  size_t differ = 0, inside = 0;
  for (size_t i = 0; i < brute_n; ++i) differ += grid[i] != brute[i];
  for (int32_t g : grid) inside += g != 0;
  double grid_rate = lon.size() / best_grid, brute_rate = brute_n / brute_s;
  std::printf("%-28s %9zu points (%5.1f%% in a zone): grid %7.2f M points/s, brute force %7.3f "
              "M points/s (%zu points), grid/brute = %.0fx, answers differ: %zu\n",
              label, lon.size(), 100.0 * inside / lon.size(), grid_rate / 1e6, brute_rate / 1e6,
              brute_n, grid_rate / brute_rate, differ);
  return differ == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string data = argc > 1 ? argv[1] : BIMRIDE_DATA_DIR;
  auto t = std::chrono::steady_clock::now();
  auto z = ZoneIndex::Load(data + "/zones");
  if (!z.ok()) {
    std::fprintf(stderr, "%s\n", z.status().ToString().c_str());
    return 1;
  }
  std::printf("ZoneIndex::Load: %.0f ms (%zu polygons, %zu vertices, %zu grid cells, %zu on a "
              "boundary)\n",
              Seconds(t) * 1e3, z->polygon_count(), z->vertex_count(), z->grid_cells(),
              z->boundary_cells());
  bimride::data::CsvReadOptions options;
  options.zones = &*z;
  auto uber = bimride::data::ReadTripsCsv(data + "/uber/uber-raw-data-apr14.csv.gz", options);
  if (!uber.ok()) {
    std::fprintf(stderr, "%s\n", uber.status().ToString().c_str());
    return 1;
  }
  int rc = Run(*z, "Uber Apr 2014 pickups", uber->trips.pickup_lon, uber->trips.pickup_lat,
               uber->trips.size() / 10);
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> ulon(-74.26, -73.70), ulat(40.49, 40.92);
  std::vector<double> lon(2'000'000), lat(2'000'000);
  for (size_t i = 0; i < lon.size(); ++i) {
    lon[i] = ulon(rng);
    lat[i] = ulat(rng);
  }
  rc |= Run(*z, "uniform over the NYC bbox", lon, lat, 100'000);
  return rc;
}
