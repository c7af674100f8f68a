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
  std::string out, format;
  flags.AddInt("days", &config.days, "days to simulate");
  flags.AddInt("zones", &config.zones, "number of zones in the city");
  flags.AddInt("seed", &seed, "random seed (same seed, same files)");
  flags.AddString("out", &out, "trips file to write (e.g. out/city.csv)", /*required=*/true);
  flags.AddString("start", &config.start_date, "first day, YYYY-MM-DD");
  flags.AddString("format", &format,
                  "trips file format: csv or parquet (default: by --out extension)");
  flags.AddDouble("requests-per-zone-day", &config.requests_per_zone_day,
                  "mean ride requests per zone and day");
  flags.AddInt("riders", &config.riders, "riders in the city (0: 150 per zone)");
  flags.AddDouble("base-fare", &config.tariff.base_fare, "tariff base fare, USD");
  flags.AddDouble("rain-probability", &config.rain_probability, "chance that a day is rainy");
  flags.AddDouble("event-probability", &config.event_probability,
                  "chance that a day has an event (a burst of requests when it ends)");
  flags.AddDouble("supply-ratio", &config.driver_supply_ratio,
                  "driver capacity relative to mean demand");
  flags.AddDouble("price-test", &config.price_test_fraction,
                  "fraction of quotes in a randomised price test (0: none, the city unchanged)");
  flags.AddDouble("price-test-spread", &config.price_test_spread,
                  "test multipliers are log-uniform in [1/spread, spread]");
  std::string rider_start = "new";
  flags.AddString("rider-start", &rider_start,
                  "who rides on day 0: new (drawn like newcomers; the mix then drifts for years "
                  "towards riders who stay) or stationary (the settled population of a city that "
                  "has run for ever)");
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  StatusOr<simulator::RiderStart> start = simulator::ParseRiderStart(rider_start);
  if (!start.ok()) return ReportError(start.status().WithContext("--rider-start"), /*usage=*/true);
  config.rider_start = *start;
  config.seed = static_cast<uint64_t>(seed);
  StatusOr<simulator::TripFileFormat> file_format = simulator::ResolveTripFileFormat(format, out);
  if (!file_format.ok()) return ReportError(file_format.status(), /*usage=*/true);

  StatusOr<simulator::SimulatedCity> city = simulator::Simulate(config);
  if (!city.ok()) return ReportError(city.status());
  StatusOr<simulator::CityFilePaths> paths =
      simulator::WriteSimulatedCity(*city, out, *file_format);
  if (!paths.ok()) return ReportError(paths.status());
  std::printf("wrote %zu trips to %s (%zu quotes, %zu riders, %zu zones in sidecars)\n",
              city->trips.size(), paths->trips.c_str(), city->quotes.size(), city->riders.size(),
              city->zones.size());
  return kExitOk;
}

}  // namespace

BIMRIDE_COMMAND("simulate", "simulate a city's ride requests and trips", RunSimulate);

}  // namespace bimride::cli
