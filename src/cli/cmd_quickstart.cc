// `bimride quickstart`: the whole system on a fresh machine with no outside data, as a sequence
// of steps that are each one library call: simulate a city → write and read back its files →
// summarise → each registered task's quickstart step (ETA: train on all days but the last,
// publish, label `stable`) → serve the repository over HTTP → ask the server for one answer of
// each task's model, as a client would.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "common/civil_time.h"
#include "registry/registry.h"
#include "serving/http/http_client.h"
#include "serving/http/http_transport.h"
#include "simulator/city_files.h"
#include "simulator/simulator.h"
#include "simulator/trip_summary.h"
#include "tasks/task.h"

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
                   "read them back, summarise them, run each task's quickstart step (ETA: train "
                   "an XGBoost model on all days but the last, register it as eta:stable), serve "
                   "the models over TF Serving REST and KServe v2, and ask the server for one "
                   "answer of each.");
  simulator::CityConfig config;
  int64_t seed = static_cast<int64_t>(config.seed);
  std::string out = "out/quickstart", format = "csv";
  flags.AddInt("days", &config.days, "days to simulate");
  flags.AddInt("zones", &config.zones, "number of zones in the city");
  flags.AddInt("seed", &seed, "random seed");
  flags.AddString("out", &out, "output folder");
  flags.AddString("format", &format, "trips file format: csv or parquet");
  int64_t rounds = 300, threads = 2;
  flags.AddInt("rounds", &rounds, "most boosting rounds / epochs of a task's quick model");
  flags.AddInt("threads", &threads, "training threads");
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  if (rounds < 1) {
    return ReportError(InvalidArgumentError("--rounds: must be at least 1"), /*usage=*/true);
  }
  config.seed = static_cast<uint64_t>(seed);
  if (format != "csv" && format != "parquet") {
    return ReportError(InvalidArgumentError("--format: '" + format + "' is not csv or parquet"),
                       /*usage=*/true);
  }
  const std::string trips_path = out + "/trips." + format;
  const std::string repo = out + "/model_repo";

  simulator::SimulatedCity city, read_back;
  std::vector<tasks::QuickstartModel> published;
  std::unique_ptr<serving::Server> server;
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
         ASSIGN_OR_RETURN(
             simulator::CityFilePaths paths,
             simulator::WriteSimulatedCity(city, trips_path,
                                           format == "parquet" ? simulator::TripFileFormat::kParquet
                                                               : simulator::TripFileFormat::kCsv));
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
      {"run each task's quickstart step: train, publish, label stable",
       [&]() -> Status {
         for (const tasks::Task& task : tasks::RegisteredTasks()) {
           if (!task.quickstart) continue;
           std::printf("  task %s: %s\n", task.name.c_str(), task.summary.c_str());
           tasks::QuickstartInput input;
           input.trips = &read_back.trips;
           input.trips_path = trips_path;
           input.repo = repo;
           input.work_dir = out + "/" + task.name;
           input.threads = static_cast<int>(threads);
           input.rounds = static_cast<int>(rounds);
           StatusOr<tasks::QuickstartModel> model = task.quickstart(input);
           if (!model.ok()) return model.status().WithContext("task " + task.name);
           published.push_back(std::move(model).value());
         }
         if (published.empty()) return FailedPreconditionError("no task has a quickstart step");
         return OkStatus();
       }},
      {"serve the repository (TF Serving REST + KServe v2)",
       [&]() -> Status {
         serving::ServerConfig config;
         config.model_repo = repo;
         config.port = 0;  // a free port
         config.poll_interval_ms = 0;
         ASSIGN_OR_RETURN(server, serving::http::StartHttpServer(config));
         std::printf("  listening on 127.0.0.1:%d\n", serving::http::HttpPort(*server));
         for (const tasks::QuickstartModel& m : published) {
           RETURN_IF_ERROR(server->service().ModelReady(m.model_name, {}));
         }
         return OkStatus();
       }},
      {"ask the server for one answer of each model, as a client would",
       [&]() -> Status {
         serving::http::HttpClient client("127.0.0.1", serving::http::HttpPort(*server));
         for (const tasks::QuickstartModel& m : published) {
           const std::string target = "/v1/models/" + m.model_name + "/labels/stable:predict";
           ASSIGN_OR_RETURN(serving::http::ClientResponse response,
                            client.Post(target, m.request_body));
           std::printf("  POST %s\n  %s\n  -> HTTP %d %s\n", target.c_str(), m.request_body.c_str(),
                       response.status, response.body.c_str());
           if (response.status != 200) {
             return InternalError("the server answered HTTP " + std::to_string(response.status) +
                                  ": " + response.body);
           }
           const nlohmann::json answer = nlohmann::json::parse(response.body, nullptr, false);
           if (!answer.contains("predictions") || !answer["predictions"].is_array() ||
               answer["predictions"].empty() || !answer["predictions"][0].is_number()) {
             return InternalError("the server's answer has no predictions: " + response.body);
           }
           std::printf("  %s: %.1f (%s)\n", m.model_name.c_str(),
                       answer["predictions"][0].get<double>(), m.expected.c_str());
         }
         std::fflush(stdout);
         server->Shutdown();
         return OkStatus();
       }},
  };
  if (Status st = RunSteps(steps); !st.ok()) return ReportError(st);
  std::printf("quickstart finished; files in %s, models in %s\n", out.c_str(), repo.c_str());
  return kExitOk;
}

}  // namespace

BIMRIDE_COMMAND("quickstart", "run BimRide end to end on a simulated city (no outside data)",
                RunQuickstart);

}  // namespace bimride::cli
