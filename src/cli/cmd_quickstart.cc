// `bimride quickstart`: the whole system on a fresh machine with no outside data, as a sequence
// of steps that are each one library call: simulate a city → write and read back its files →
// summarise → train an ETA model on all days but the last → register it (label `stable`) →
// serve the repository over HTTP → ask the server for one ETA, as a rider's app would.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "common/civil_time.h"
#include "registry/registry.h"
#include "serving/feature_specs.h"
#include "serving/http/http_client.h"
#include "serving/http/http_transport.h"
#include "simulator/city_files.h"
#include "simulator/simulator.h"
#include "simulator/trip_summary.h"
#include "tasks/eta/eta_training.h"

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

// Trips of the last simulated day validate; the days before train.
struct TimeSplit {
  data::TripTable train, valid;
};
StatusOr<TimeSplit> SplitLastDay(const data::TripTable& trips) {
  if (trips.empty()) return FailedPreconditionError("the city has no trips to train on");
  const int64_t last = DayIndex(
      *std::max_element(trips.pickup_time_us.begin(), trips.pickup_time_us.end()));
  std::vector<size_t> train, valid;
  for (size_t i = 0; i < trips.size(); ++i) {
    (DayIndex(trips.pickup_time_us[i]) < last ? train : valid).push_back(i);
  }
  if (train.empty()) {
    return FailedPreconditionError("one simulated day leaves nothing to train on; use --days 2+");
  }
  return TimeSplit{trips.Take(train), trips.Take(valid)};
}

// The TF Serving REST request a rider's app sends for one trip: zones, time, coordinates.
std::string EtaRequestBody(const data::TripTable& trips, size_t i) {
  nlohmann::json row = {{"pickup_zone", trips.pickup_zone[i]},
                        {"dropoff_zone", trips.dropoff_zone[i]},
                        {"pickup_datetime", FormatCivil(trips.pickup_time_us[i]).substr(0, 19)},
                        {"pickup_longitude", trips.pickup_lon[i]},
                        {"pickup_latitude", trips.pickup_lat[i]},
                        {"dropoff_longitude", trips.dropoff_lon[i]},
                        {"dropoff_latitude", trips.dropoff_lat[i]}};
  return nlohmann::json{{"instances", {row}}}.dump();
}

int RunQuickstart(const std::vector<std::string>& args) {
  FlagParser flags("bimride quickstart",
                   "Run BimRide end to end on built-in data: simulate a city, write its files, "
                   "read them back, summarise them, train an ETA model (XGBoost) on all days but "
                   "the last, register it as eta:stable, serve it over TF Serving REST and KServe "
                   "v2, and ask the server for one ETA.");
  simulator::CityConfig config;
  int64_t seed = static_cast<int64_t>(config.seed);
  std::string out = "out/quickstart", format = "csv";
  flags.AddInt("days", &config.days, "days to simulate");
  flags.AddInt("zones", &config.zones, "number of zones in the city");
  flags.AddInt("seed", &seed, "random seed");
  flags.AddString("out", &out, "output folder");
  flags.AddString("format", &format, "trips file format: csv or parquet");
  int64_t rounds = 300, threads = 2;
  flags.AddInt("rounds", &rounds, "most XGBoost boosting rounds for the ETA model");
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
  const std::string repo = out + "/model_repo", model_dir = out + "/eta_model";

  simulator::SimulatedCity city, read_back;
  TimeSplit split;
  registry::Manifest published;
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
      {"train an ETA model (XGBoost, booking-time features) on all days but the last",
       [&]() -> Status {
         ASSIGN_OR_RETURN(split, SplitLastDay(read_back.trips));
         ASSIGN_OR_RETURN(tasks::eta::EtaDataset train, tasks::eta::MakeEtaDataset(split.train, {}));
         ASSIGN_OR_RETURN(tasks::eta::EtaDataset valid, tasks::eta::MakeEtaDataset(split.valid, {}));
         std::printf("  train: %s\n  valid: %s\n", train.report.ToString().c_str(),
                     valid.report.ToString().c_str());
         tasks::eta::EtaTrainConfig config = tasks::eta::DefaultEtaTrainConfig(
             features::EtaFeatureSet::kBooking, tasks::eta::EtaModelKind::kXgboost);
         config.xgboost.rounds = static_cast<int>(rounds);
         config.xgboost.eta = 0.1;
         config.threads = static_cast<int>(threads);
         ASSIGN_OR_RETURN(auto registry, registry::Registry::Open(repo));
         ASSIGN_OR_RETURN(auto run,
                          registry->StartRun("eta", {{"source", "quickstart"}}, {}, {}));
         RETURN_IF_ERROR(run->SetDataFingerprint(
             {trips_path}, "quickstart: days before the last train, the last day validates; " +
                               train.report.filter));
         // The simulated city has coordinates but no TLC zones or NOAA weather.
         ASSIGN_OR_RETURN(tasks::eta::EtaTrainResult result,
                          tasks::eta::TrainEtaModel(train, valid, /*zones=*/nullptr,
                                                    /*weather=*/nullptr, config, model_dir,
                                                    run.get()));
         std::printf("  validation, last simulated day:\n%s",
                     tasks::eta::FormatComparisonTable(result.comparison).c_str());
         std::printf("  model folder %s (run %s)\n", model_dir.c_str(), run->run_id().c_str());
         return run->EndRun(registry::RunStatus::kFinished);
       }},
      {"register the model and label it stable",
       [&]() -> Status {
         ASSIGN_OR_RETURN(auto registry, registry::Registry::Open(repo));
         ASSIGN_OR_RETURN(published, registry->PublishFolder(model_dir));
         RETURN_IF_ERROR(registry
                             ->Promote(published.name, published.version, "stable",
                                       "quickstart: first model", registry::CurrentUser())
                             .status());
         std::printf("  published %s:%lld in %s, label stable -> %lld\n", published.name.c_str(),
                     static_cast<long long>(published.version), repo.c_str(),
                     static_cast<long long>(published.version));
         return OkStatus();
       }},
      {"serve the repository (TF Serving REST + KServe v2)",
       [&]() -> Status {
         serving::RegisterBuiltinFeatureSpecs();
         serving::ServerConfig config;
         config.model_repo = repo;
         config.port = 0;  // a free port
         config.poll_interval_ms = 0;
         ASSIGN_OR_RETURN(server, serving::http::StartHttpServer(config));
         std::printf("  listening on 127.0.0.1:%d\n", serving::http::HttpPort(*server));
         return server->service().ModelReady(published.name, {});
       }},
      {"ask the server for one ETA, as a rider's app would",
       [&]() -> Status {
         const std::string target = "/v1/models/" + published.name + "/labels/stable:predict";
         const std::string body = EtaRequestBody(split.valid, 0);
         serving::http::HttpClient client("127.0.0.1", serving::http::HttpPort(*server));
         ASSIGN_OR_RETURN(serving::http::ClientResponse response, client.Post(target, body));
         std::printf("  POST %s\n  %s\n  -> HTTP %d %s\n", target.c_str(), body.c_str(),
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
         std::printf("  ETA %.1f min for a trip that took %.1f min\n",
                     answer["predictions"][0].get<double>(), split.valid.DurationMinutes(0));
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
