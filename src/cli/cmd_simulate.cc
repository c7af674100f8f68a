#include <cinttypes>
#include <cstdio>

#include "cli/command.h"
#include "simulator/city_files.h"
#include "simulator/simulator.h"

namespace bimride::cli {
namespace {

int RunSimulate(const std::vector<std::string>& args) {
  FlagParser flags("bimride simulate",
                   "Simulate a city's ride requests, quotes and trips; write the trips file and "
                   "its sidecars (.zones/.supply/.requests/.riders/.days.csv) next to it.");
  simulator::CityConfig config;
  int64_t seed = static_cast<int64_t>(config.seed);
  std::string out, format = "csv";
  flags.AddInt("days", &config.days, "days to simulate");
  flags.AddInt("zones", &config.zones, "number of zones in the city");
  flags.AddInt("seed", &seed, "random seed (same seed, same files)");
  flags.AddString("out", &out, "trips file to write (e.g. out/city.csv)", /*required=*/true);
  flags.AddString("start", &config.start_date, "first day, YYYY-MM-DD");
  flags.AddString("format", &format, "trips file format: csv (parquet once available)");
  flags.AddDouble("requests-per-zone-day", &config.requests_per_zone_day,
                  "mean ride requests per zone and day");
  flags.AddInt("riders", &config.riders, "riders in the city (0: 150 per zone)");
  flags.AddDouble("base-fare", &config.tariff.base_fare, "tariff base fare, USD");
  flags.AddDouble("supply-ratio", &config.driver_supply_ratio,
                  "driver capacity relative to mean demand");
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  config.seed = static_cast<uint64_t>(seed);
  if (format != "csv") {
    return ReportError(UnimplementedError("--format " + format + ": only csv is supported yet"));
  }

  StatusOr<simulator::SimulatedCity> city = simulator::Simulate(config);
  if (!city.ok()) return ReportError(city.status());
  StatusOr<simulator::CityFilePaths> paths = simulator::WriteSimulatedCity(*city, out);
  if (!paths.ok()) return ReportError(paths.status());
  std::printf("wrote %zu trips to %s (%zu quotes, %zu riders, %zu zones in sidecars)\n",
              city->trips.size(), paths->trips.c_str(), city->quotes.size(), city->riders.size(),
              city->zones.size());
  return kExitOk;
}

}  // namespace

BIMRIDE_COMMAND("simulate", "simulate a city's ride requests and trips", RunSimulate);

}  // namespace bimride::cli
