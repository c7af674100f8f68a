// `bimride quickstart`: the whole system on a fresh machine with no outside data, as a sequence
// of steps that are each one library call. Later issues add steps (train, register, serve,
// predict) to the same list.
#include <chrono>
#include <cstdio>
#include <functional>

#include "cli/command.h"
#include "simulator/city_files.h"
#include "simulator/simulator.h"
#include "simulator/trip_summary.h"

namespace bimride::cli {
namespace {

struct Step {
  const char* name;
  std::function<Status()> run;
};

// Runs the steps in order, printing "step i/n: name … (t s)"; stops at the first error.
Status RunSteps(const std::vector<Step>& steps) {
  for (size_t i = 0; i < steps.size(); ++i) {
    std::printf("step %zu/%zu: %s\n", i + 1, steps.size(), steps[i].name);
    std::fflush(stdout);
    const auto start = std::chrono::steady_clock::now();
    Status st = steps[i].run();
    if (!st.ok()) return st.WithContext(std::string("step ") + steps[i].name);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("  done in %.2f s\n", secs);
  }
  return OkStatus();
}

int RunQuickstart(const std::vector<std::string>& args) {
  FlagParser flags("bimride quickstart",
                   "Run BimRide end to end on built-in data: simulate a city, write its files, "
                   "read them back and summarise them.");
  simulator::CityConfig config;
  int64_t seed = static_cast<int64_t>(config.seed);
  std::string out = "out/quickstart";
  flags.AddInt("days", &config.days, "days to simulate");
  flags.AddInt("zones", &config.zones, "number of zones in the city");
  flags.AddInt("seed", &seed, "random seed");
  flags.AddString("out", &out, "output folder");
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  config.seed = static_cast<uint64_t>(seed);
  const std::string trips_path = out + "/trips.csv";

  simulator::SimulatedCity city, read_back;
  const std::vector<Step> steps = {
      {"simulate a city",
       [&]() -> Status {
         ASSIGN_OR_RETURN(city, simulator::Simulate(config));
         std::printf("  %lld days, %zu zones, %zu riders: %zu quotes, %zu trips\n",
                     static_cast<long long>(config.days), city.zones.size(), city.riders.size(),
                     city.quotes.size(), city.trips.size());
         return OkStatus();
       }},
      {"write the trips and sidecar files",
       [&]() -> Status {
         ASSIGN_OR_RETURN(simulator::CityFilePaths paths,
                          simulator::WriteSimulatedCity(city, trips_path));
         for (const std::string* p : {&paths.trips, &paths.zones, &paths.supply, &paths.requests,
                                      &paths.riders, &paths.days}) {
           std::printf("  wrote %s\n", p->c_str());
         }
         return OkStatus();
       }},
      {"read the files back and check them",
       [&]() -> Status {
         ASSIGN_OR_RETURN(read_back, simulator::ReadSimulatedCity(trips_path));
         RETURN_IF_ERROR(simulator::CompareCities(city, read_back));
         std::printf("  read %zu trips; files match the simulated city\n", read_back.trips.size());
         return OkStatus();
       }},
      {"summarise",
       [&]() -> Status {
         std::printf("\n%s\n",
                     simulator::FormatTripSummary(simulator::SummarizeCity(read_back)).c_str());
         return OkStatus();
       }},
  };
  if (Status st = RunSteps(steps); !st.ok()) return ReportError(st);
  std::printf("quickstart finished; files in %s\n", out.c_str());
  return kExitOk;
}

}  // namespace

BIMRIDE_COMMAND("quickstart", "run BimRide end to end on a simulated city (no outside data)",
                RunQuickstart);

}  // namespace bimride::cli
