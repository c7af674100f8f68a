#include "tasks/behaviour/behaviour_cli.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "cli/command.h"
#include "common/file.h"
#include "models/seed_ensemble.h"
#include "registry/registry.h"
#include "simulator/city_files.h"
#include "tasks/behaviour/behaviour_publish.h"
#include "tasks/behaviour/behaviour_report.h"
#include "train/training_run.h"

namespace bimride::tasks::behaviour {
namespace {

using cli::kExitOk;
using cli::kExitUsage;
using cli::ParseFlagsOrExit;
using cli::ReportError;

void PrintScores(const ConversionResult& r) {
  std::printf("%-15s %8s %9s %8s %8s %9s %12s\n", "model", "AUC", "log-loss", "Brier", "ECE",
              "lift@10%", "train rows/s");
  for (const ConversionScore& s : r.scores) {
    std::printf("%-15s %8.4f %9.4f %8.4f %8.4f %9.3f %12.0f\n", s.model.c_str(), s.test.auc,
                s.test.log_loss, s.test.brier, s.test.ece, s.test.lift_top_decile,
                s.train_rows_per_second);
  }
}

// A new folder under $TMPDIR (or /tmp) for model files nobody asked to keep.
StatusOr<std::string> MakeTempDir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/" +
                        prefix + ".XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    return InternalError("cannot create a temporary folder " + pattern + ": " +
                         std::strerror(errno));
  }
  return pattern;
}

StatusOr<std::vector<uint64_t>> ParseSeeds(const std::string& text) {
  std::vector<uint64_t> seeds;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(item.c_str(), &end, 10);
    if (item.empty() || end == nullptr || *end != '\0') {
      return InvalidArgumentError("--seeds: '" + item + "' is not a number (want e.g. 1,2,3)");
    }
    seeds.push_back(v);
  }
  if (seeds.empty()) return InvalidArgumentError("--seeds: no seeds given");
  return seeds;
}

// `train behaviour --target retention`: train and score on the city's cut-offs, publish the
// model with the riders' features at the end of the data.
int TrainAndPublishRetention(const simulator::SimulatedCity& city, const std::string& city_path,
                             const RetentionOptions& o, const std::string& name,
                             const std::string& repo, bool no_publish,
                             const std::vector<std::string>& args) {
  auto reg = registry::Registry::Open(repo);
  if (!reg.ok()) return ReportError(reg.status());
  const simulator::CityFilePaths paths = simulator::CityFilePathsFor(city_path);
  auto run = StartRetentionRun(**reg, {paths.trips, paths.requests, paths.riders}, o,
                               std::vector<std::string>(args.begin(), args.end()));
  if (!run.ok()) return ReportError(run.status());
  std::printf("run %s: retention models on %zu riders\n", (*run)->run_id().c_str(),
              city.riders.size());
  std::fflush(stdout);
  StatusOr<RetentionResult> result = TrainRetentionModels(city, o);
  if (!result.ok()) return ReportError(result.status().WithContext("train behaviour"));
  std::string train_days, test_days;
  for (int32_t d : result->train_cutoffs) train_days += " " + std::to_string(d);
  for (int32_t d : result->test_cutoffs) test_days += " " + std::to_string(d);
  std::printf("split: training cut-off days%s (%lld rows, the last one validation: %lld rows), "
              "test cut-off days%s (%lld rows)\n",
              train_days.c_str(), static_cast<long long>(result->train_rows),
              static_cast<long long>(result->valid_rows), test_days.c_str(),
              static_cast<long long>(result->test_rows));
  std::printf("%-18s %8s %9s %8s %8s %9s %12s\n", "model", "AUC", "log-loss", "Brier", "ECE",
              "lift@10%", "train rows/s");
  std::map<std::string, double> metrics;
  for (const ConversionScore& s : result->scores) {
    std::printf("%-18s %8.4f %9.4f %8.4f %8.4f %9.3f %12.0f\n", s.model.c_str(), s.test.auc,
                s.test.log_loss, s.test.brier, s.test.ece, s.test.lift_top_decile,
                s.train_rows_per_second);
    metrics[s.model + "_test_auc"] = s.test.auc;
    metrics[s.model + "_test_log_loss"] = s.test.log_loss;
    metrics[s.model + "_test_ece"] = s.test.ece;
  }
  for (const train::TrainedModel& m : result->learned) {
    if (m.backend == models::kSeedEnsembleBackend) std::printf("%s\n", m.summary.c_str());
  }
  if (Status st = (*run)->LogMetrics(metrics, 0); !st.ok()) return ReportError(st);
  std::string folder;
  if (!no_publish) {
    // Served with every rider's features at the end of the data.
    auto snapshot = RetentionFeaturesAt(city, static_cast<int32_t>(city.days.size()));
    if (!snapshot.ok()) return ReportError(snapshot.status());
    auto written = WriteRetentionModelFolder(*result, o.learned.front(), *snapshot,
                                             o.horizon_days, name, (*run)->run_id());
    if (!written.ok()) return ReportError(written.status());
    folder = *written;
  }
  auto published = train::FinishTrainingRun(**reg, **run, folder);
  if (!published.ok()) return ReportError(published.status());
  if (*published) {
    std::printf("published %s version %lld to %s\n", (*published)->name.c_str(),
                static_cast<long long>((*published)->version), repo.c_str());
  }
  return kExitOk;
}

}  // namespace

int RunTrainBehaviour(const std::vector<std::string>& args) {
  FlagParser flags("bimride train behaviour",
                   "Train conversion models (P(book | quote, rider history)) on a simulated "
                   "city's quote log, or with --target retention retention models (P(rider "
                   "still active 28 days later)) on its riders' cut-off days; score them on "
                   "the later period against the baselines, and publish the chosen one as a "
                   "classifier.");
  std::string city_path, model = "xgboost", name, work, target = "conversion";
  std::string repo = registry::DefaultRepositoryRoot();
  int64_t train_days = 0, valid_days = 7, threads = 2, seed = 42;
  int64_t horizon_days = 28, cutoff_step_days = 7, first_cutoff_day = 14, test_cutoffs = 2;
  int64_t members = 0;
  std::vector<std::string> params;
  bool no_publish = false;
  flags.AddString("target", &target,
                  "conversion (P(book | quote, rider history)) or retention (P(rider still "
                  "active --horizon-days later | history up to a cut-off day))");
  flags.AddInt("horizon-days", &horizon_days, "retention: days ahead the label looks");
  flags.AddInt("cutoff-step-days", &cutoff_step_days, "retention: days between cut-off days");
  flags.AddInt("first-cutoff-day", &first_cutoff_day, "retention: the first cut-off day");
  flags.AddInt("test-cutoffs", &test_cutoffs, "retention: the last cut-offs, scored not trained");
  flags.AddInt("members", &members,
               "retention: a seed ensemble of this many --model models, seeds --seed, --seed + 1, "
               "… (0: the design's, kRetentionSeedEnsemble)");
  flags.AddString("city", &city_path, "trips file of a simulated city (its .requests.csv and "
                                      ".riders.csv beside it)", /*required=*/true);
  flags.AddString("model", &model, "learned model to publish: xgboost or torch");
  flags.AddStringList("param", &params,
                      "a --model trainer parameter NAME=VALUE over the target's defaults "
                      "(repeatable), e.g. eta=0.02");
  flags.AddString("name", &name, "model name in the registry (default: the target)");
  flags.AddInt("train-days", &train_days, "training days (0: the first 75%)");
  flags.AddInt("valid-days", &valid_days, "last training days used for early stopping");
  flags.AddInt("threads", &threads, "training threads");
  flags.AddInt("seed", &seed, "random seed");
  flags.AddString("work-dir", &work, "where model files are written (default: a new folder)");
  flags.AddBool("no-publish", &no_publish, "train and score only");
  flags.AddString("repo", &repo, "model repository (default $BIMRIDE_MODEL_REPO or ./model_repo)");
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  if (model != "xgboost" && model != "torch") {
    return ReportError(InvalidArgumentError("--model: want xgboost or torch, got '" + model + "'"),
                       /*usage=*/true);
  }
  if (target != "conversion" && target != "retention") {
    return ReportError(
        InvalidArgumentError("--target: want conversion or retention, got '" + target + "'"),
        /*usage=*/true);
  }
  if (name.empty()) name = target;
  train::Params overrides;
  for (const std::string& kv : params) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return ReportError(InvalidArgumentError("--param: want NAME=VALUE, got '" + kv + "'"), true);
    }
    overrides[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  const auto apply_overrides = [&](train::Params& xgboost_params, train::Params& torch_params) {
    train::Params& p = model == "xgboost" ? xgboost_params : torch_params;
    for (const auto& [k, v] : overrides) p[k] = v;
  };
  StatusOr<simulator::SimulatedCity> city = simulator::ReadSimulatedCity(city_path);
  if (!city.ok()) return ReportError(city.status());
  if (city->quotes.empty() || city->riders.empty()) {
    return ReportError(InvalidArgumentError(
        city_path + ": no quotes or riders beside it (want the .requests.csv and .riders.csv "
                    "that `bimride simulate` writes)"));
  }
  if (work.empty()) {
    StatusOr<std::string> tmp = MakeTempDir("bimride-behaviour");
    if (!tmp.ok()) return ReportError(tmp.status());
    work = *tmp;
  }
  if (target == "retention") {
    RetentionOptions ro;
    ro.horizon_days = static_cast<int32_t>(horizon_days);
    ro.cutoff_step_days = static_cast<int32_t>(cutoff_step_days);
    ro.first_cutoff_day = static_cast<int32_t>(first_cutoff_day);
    ro.test_cutoffs = static_cast<int32_t>(test_cutoffs);
    ro.threads = static_cast<int>(threads);
    ro.seed = static_cast<uint64_t>(seed);
    ro.learned = {model};
    if (members != 0) {
      ro.seed_ensemble[model] = static_cast<int>(std::clamp<int64_t>(members, -1, 1000));
    }
    ro.work_dir = work;
    apply_overrides(ro.xgboost_params, ro.torch_params);
    return TrainAndPublishRetention(*city, city_path, ro, name, repo, no_publish, args);
  }
  ConversionOptions o;
  o.train_days = static_cast<int32_t>(train_days);
  o.valid_days = static_cast<int32_t>(valid_days);
  o.threads = static_cast<int>(threads);
  o.seed = static_cast<uint64_t>(seed);
  o.learned = {model};
  o.work_dir = work;
  apply_overrides(o.xgboost_params, o.torch_params);
  auto reg = registry::Registry::Open(repo);
  if (!reg.ok()) return ReportError(reg.status());
  const simulator::CityFilePaths paths = simulator::CityFilePathsFor(city_path);
  auto run = StartBehaviourRun(**reg, {paths.trips, paths.requests, paths.riders}, o,
                               std::vector<std::string>(args.begin(), args.end()));
  if (!run.ok()) return ReportError(run.status());
  std::printf("run %s: conversion models on %zu quotes\n", (*run)->run_id().c_str(),
              city->quotes.size());
  std::fflush(stdout);
  o.progress = train::TrackProgress(run->get(), model + "_", nullptr);
  StatusOr<ConversionResult> result = TrainConversionModels(*city, o);
  if (!result.ok()) return ReportError(result.status().WithContext("train behaviour"));
  std::printf("split: %d training days (%lld rows, last %d days validation: %lld rows), %d test "
              "days (%lld rows)\n",
              result->train_days, static_cast<long long>(result->train_rows), result->valid_days,
              static_cast<long long>(result->valid_rows), result->test_days,
              static_cast<long long>(result->test_rows));
  PrintScores(*result);
  std::map<std::string, double> metrics;
  for (const ConversionScore& s : result->scores) {
    metrics[s.model + "_test_auc"] = s.test.auc;
    metrics[s.model + "_test_log_loss"] = s.test.log_loss;
    metrics[s.model + "_test_brier"] = s.test.brier;
    metrics[s.model + "_test_ece"] = s.test.ece;
  }
  for (const train::TrainedModel& m : result->learned) {
    if (m.backend == models::kSeedEnsembleBackend) std::printf("%s\n", m.summary.c_str());
  }
  if (Status st = (*run)->LogMetrics(metrics, 0); !st.ok()) return ReportError(st);
  std::string folder;
  if (!no_publish) {
    StatusOr<std::string> written =
        WriteConversionModelFolder(*result, model,
                                   RiderHistoriesAt(*city, std::numeric_limits<int64_t>::max()),
                                   name, (*run)->run_id());
    if (!written.ok()) return ReportError(written.status());
    folder = *written;
  }
  auto published = train::FinishTrainingRun(**reg, **run, folder);
  if (!published.ok()) return ReportError(published.status());
  if (*published) {
    std::printf("published %s version %lld to %s\n", (*published)->name.c_str(),
                static_cast<long long>((*published)->version), repo.c_str());
  }
  return kExitOk;
}

int RunEvalBehaviour(const std::vector<std::string>& args) {
  FlagParser flags("bimride eval behaviour",
                   "Simulate one city per seed; score the conversion models on the later days "
                   "and estimate the elasticity of conversion to price (naive, randomised price "
                   "test, regression discontinuity on surge rounding) against the simulator's "
                   "truth; write the Markdown report.");
  BehaviourEvalOptions o;
  o.city.days = 60;
  o.city.zones = 40;
  o.city.price_test_fraction = 0.2;
  // Retention's design (docs/behaviour.md, decided on tuning seeds 101-106): a long city with
  // a settled rider population, cut-offs from day 63 (the first whose 56-day windows are full),
  // 12 test cut-offs.
  o.retention_city.days = 360;
  o.retention_city.zones = 20;
  // A settled rider population from day 0: with newcomer-drawn riders the label rate drifts
  // across the whole year (docs/behaviour.md, "Retention calibration, third attempt").
  o.retention_city.rider_start = simulator::RiderStart::kStationary;
  o.retention.first_cutoff_day = 63;
  o.retention.test_cutoffs = 12;
  std::string seeds = "1,2,3", out, work;
  int64_t threads = 1;
  bool no_torch = false;
  flags.AddString("seeds", &seeds, "one simulated city per seed, e.g. 1,2,3");
  flags.AddInt("days", &o.city.days, "days per city");
  flags.AddInt("zones", &o.city.zones, "zones per city");
  flags.AddDouble("requests-per-zone-day", &o.city.requests_per_zone_day,
                  "mean quotes per zone and day");
  flags.AddDouble("price-test", &o.city.price_test_fraction, "fraction of quotes in the price test");
  flags.AddDouble("price-test-spread", &o.city.price_test_spread,
                  "test multipliers log-uniform in [1/spread, spread]");
  flags.AddDouble("rd-bandwidth", &o.elasticity.rd_bandwidth,
                  "raw-surge distance from a rounding threshold for the RD");
  flags.AddInt("retention-days", &o.retention_city.days,
               "days of each seed's retention city (0: no retention)");
  flags.AddInt("retention-zones", &o.retention_city.zones, "zones of each retention city");
  std::string retention_rider_start(simulator::RiderStartName(o.retention_city.rider_start));
  flags.AddString("retention-rider-start", &retention_rider_start,
                  "who rides on each retention city's day 0: stationary (the settled population "
                  "of a city that has run for ever) or new (drawn like newcomers, as `bimride "
                  "simulate` does by default)");
  int64_t retention_first_cutoff = o.retention.first_cutoff_day;
  int64_t retention_test_cutoffs = o.retention.test_cutoffs;
  flags.AddInt("retention-first-cutoff-day", &retention_first_cutoff,
               "the first retention cut-off day (the days before it are a burn-in: history "
               "only)");
  flags.AddInt("retention-test-cutoffs", &retention_test_cutoffs,
               "the last retention cut-offs, scored not trained");
  flags.AddInt("threads", &threads, "training threads");
  int64_t torch_members = o.retention.seed_ensemble["torch"];
  int64_t xgboost_members = o.retention.seed_ensemble["xgboost"];
  flags.AddInt("retention-torch-members", &torch_members,
               "retention: the torch model is a seed ensemble of this many");
  flags.AddInt("retention-xgboost-members", &xgboost_members,
               "retention: the xgboost model is a seed ensemble of this many");
  flags.AddBool("no-torch", &no_torch, "skip the LibTorch model (faster)");
  flags.AddString("work-dir", &work, "where model files are written (default: a new folder)");
  flags.AddString("out", &out, "Markdown report to write (default: print it)");
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  StatusOr<std::vector<uint64_t>> parsed = ParseSeeds(seeds);
  if (!parsed.ok()) return ReportError(parsed.status(), /*usage=*/true);
  o.seeds = *parsed;
  StatusOr<simulator::RiderStart> rider_start = simulator::ParseRiderStart(retention_rider_start);
  if (!rider_start.ok()) {
    return ReportError(rider_start.status().WithContext("--retention-rider-start"),
                       /*usage=*/true);
  }
  o.retention_city.rider_start = *rider_start;
  o.conversion.threads = o.retention.threads = static_cast<int>(threads);
  o.retention.first_cutoff_day = static_cast<int32_t>(
      std::clamp<int64_t>(retention_first_cutoff, 0, std::numeric_limits<int32_t>::max()));
  o.retention.test_cutoffs = static_cast<int32_t>(
      std::clamp<int64_t>(retention_test_cutoffs, 0, std::numeric_limits<int32_t>::max()));
  o.retention.seed_ensemble["torch"] =
      static_cast<int>(std::clamp<int64_t>(torch_members, -1, 1000));
  o.retention.seed_ensemble["xgboost"] =
      static_cast<int>(std::clamp<int64_t>(xgboost_members, -1, 1000));
  if (no_torch) o.conversion.learned = o.retention.learned = {"xgboost"};
  if (work.empty()) {
    StatusOr<std::string> tmp = MakeTempDir("bimride-behaviour");
    if (!tmp.ok()) return ReportError(tmp.status());
    work = *tmp;
  }
  o.conversion.work_dir = work;
  o.command = "bimride eval behaviour";
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--work-dir" || a == "--threads") {
      ++i;  // where files go and how fast: not what the report shows
      continue;
    }
    if (a.rfind("--work-dir=", 0) == 0 || a.rfind("--threads=", 0) == 0) continue;
    o.command += " " + a;
  }
  auto evals = EvaluateBehaviour(o, [](const std::string& line) {
    std::fprintf(stderr, "%s\n", line.c_str());
  });
  if (!evals.ok()) return ReportError(evals.status().WithContext("eval behaviour"));
  const std::string report = RenderBehaviourReport(o, *evals);
  if (out.empty()) {
    std::fputs(report.c_str(), stdout);
  } else {
    if (Status st = WriteFileAtomic(out, report); !st.ok()) return ReportError(st);
    std::printf("wrote %s\n", out.c_str());
  }
  const BehaviourChecks c = CheckBehaviour(*evals);
  std::printf("learned beat baselines: %s; worst ECE %.4f; causal coverage %lld/%lld; naive "
              "coverage %lld/%lld\n",
              c.learned_beat_baselines ? "yes" : "no", c.worst_learned_ece,
              static_cast<long long>(c.causal_covered), static_cast<long long>(c.causal_cells),
              static_cast<long long>(c.naive_covered), static_cast<long long>(c.naive_cells));
  if (!c.worst_retention_model.empty()) {
    std::printf("retention: learned beat baselines: %s; worst ECE %.4f (%s)\n",
                c.retention_learned_beat_baselines ? "yes" : "no", c.worst_retention_ece,
                c.worst_retention_model.c_str());
  }
  return kExitOk;
}

}  // namespace bimride::tasks::behaviour
