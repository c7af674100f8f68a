#include "tasks/demand/demand_cli.h"

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/command.h"
#include "common/civil_time.h"
#include "common/data_dir.h"
#include "common/file.h"
#include "data/trip_loader.h"
#include "data/zone_index.h"
#include "features/weather.h"
#include "registry/registry.h"
#include "tasks/demand/demand_backtest.h"
#include "tasks/demand/demand_data.h"
#include "tasks/demand/demand_forecast.h"
#include "tasks/demand/demand_publish.h"
#include "train/distributed.h"

namespace bimride::tasks::demand {
namespace {

using cli::kExitOk;
using cli::kExitUsage;
using cli::ParseFlagsOrExit;
using cli::ReportError;

// Flags that train and backtest share: data, periods, features, model settings.
struct DemandFlags {
  std::vector<std::string> trips;
  std::string weather, zones_dir, layout, train_begin, train_end;
  int64_t bucket_minutes = 60, horizons = 6, lags = 6, threads = 2, seed = 42;
  double valid_days = 7, level_augment = 0.3;
  std::string target_shrink = "auto";
  bool refit = true;
  std::string xgb_objective = "count:poisson";
  int64_t xgb_depth = 6, xgb_rounds = 600;
  double xgb_eta = 0.1, xgb_min_child_weight = 5;
  int64_t torch_epochs = 30, torch_batch = 1024, torch_ensemble = 3;
  double torch_lr = 2e-3;
  std::string torch_hidden = "64,32";
  std::string repo = registry::DefaultRepositoryRoot();

  void Add(FlagParser& f) {
    f.AddStringList("trips", &trips, "trip files (TLC Parquet/CSV, Uber CSV gz, …)", true);
    f.AddString("train-begin", &train_begin, "training period start (YYYY-MM-DD[ HH:MM])", true);
    f.AddString("train-end", &train_end, "training period end, exclusive", true);
    f.AddString("weather", &weather, "NOAA daily weather CSV (optional)");
    f.AddString("zones-dir", &zones_dir,
                "taxi zone shapefile folder for coordinate sources (default "
                "$BIMRIDE_DATA_DIR/zones, else the shared data folder)");
    f.AddString("layout", &layout, data::kLayoutFlagHelp);
    f.AddInt("bucket-minutes", &bucket_minutes, "bucket width: 15, 30 or 60");
    f.AddInt("horizons", &horizons, "forecast horizons H (buckets ahead)");
    f.AddInt("lags", &lags, "recent bucket counts as lag features");
    f.AddDouble("valid-days", &valid_days,
                "validation slice for early stopping, from the END of the training period");
    f.AddString("target-shrink", &target_shrink,
                "c: refit learned models on max(count - c, 0), a point forecast for WAPE on "
                "sparse counts (0 = the mean; auto = chosen on the validation slice)");
    f.AddDouble("level-augment", &level_augment,
                "train on counts scaled per zone and day by exp(sigma·AR(1)): levels that persist");
    f.AddBool("refit", &refit, "retrain on the whole training period after early stopping");
    f.AddString("xgb-objective", &xgb_objective, "count:poisson | reg:tweedie | reg:squarederror");
    f.AddInt("xgb-depth", &xgb_depth, "XGBoost max tree depth");
    f.AddInt("xgb-rounds", &xgb_rounds, "XGBoost maximum boosting rounds");
    f.AddDouble("xgb-eta", &xgb_eta, "XGBoost learning rate");
    f.AddDouble("xgb-min-child-weight", &xgb_min_child_weight, "XGBoost min_child_weight");
    f.AddInt("torch-epochs", &torch_epochs, "LibTorch maximum epochs");
    f.AddInt("torch-batch", &torch_batch, "LibTorch batch size");
    f.AddDouble("torch-lr", &torch_lr, "LibTorch Adam learning rate");
    f.AddInt("torch-ensemble", &torch_ensemble, "LibTorch nets (seeds) averaged into the model");
    f.AddString("torch-hidden", &torch_hidden, "LibTorch hidden layer sizes, e.g. 128,64");
    f.AddInt("threads", &threads, "training threads (XGBoost nthread, torch intra-op)");
    f.AddInt("seed", &seed, "random seed");
    f.AddString("repo", &repo,
                "model repository (runs and models; default $BIMRIDE_MODEL_REPO "
                "or ./model_repo)");
  }

  StatusOr<DemandTrainOptions> TrainOptions() const {
    DemandTrainOptions o;
    o.features.bucket_minutes = static_cast<int>(bucket_minutes);
    o.features.horizons = static_cast<int>(horizons);
    o.features.recent_lags = static_cast<int>(lags);
    RETURN_IF_ERROR(features::ValidateDemandFeatureConfig(o.features));
    o.valid_days = valid_days;
    o.refit = refit;
    o.level_augment_sigma = level_augment;
    if (target_shrink == "auto") {
      o.target_shrink = kAutoShrink;
    } else {
      char* end = nullptr;
      o.target_shrink = std::strtod(target_shrink.c_str(), &end);
      if (target_shrink.empty() || *end != '\0' || !(o.target_shrink >= 0)) {
        return InvalidArgumentError("--target-shrink: '" + target_shrink +
                                    "' is not 'auto' or a number >= 0");
      }
    }
    o.xgboost.objective = xgb_objective;
    o.xgboost.max_depth = static_cast<int>(xgb_depth);
    o.xgboost.rounds = static_cast<int>(xgb_rounds);
    o.xgboost.eta = xgb_eta;
    o.xgboost.min_child_weight = xgb_min_child_weight;
    o.torch.epochs = static_cast<int>(torch_epochs);
    o.torch.batch_size = static_cast<int>(torch_batch);
    o.torch.learning_rate = torch_lr;
    o.torch.ensemble = static_cast<int>(torch_ensemble);
    o.torch.hidden_sizes.clear();
    for (size_t pos = 0; pos <= torch_hidden.size();) {
      size_t comma = torch_hidden.find(',', pos);
      if (comma == std::string::npos) comma = torch_hidden.size();
      const std::string item = torch_hidden.substr(pos, comma - pos);
      char* end = nullptr;
      const long v = std::strtol(item.c_str(), &end, 10);
      if (item.empty() || *end != '\0' || v <= 0 || v > 100000) {
        return InvalidArgumentError("--torch-hidden: '" + item + "' is not a layer size");
      }
      o.torch.hidden_sizes.push_back(static_cast<int>(v));
      pos = comma + 1;
    }
    o.threads = static_cast<int>(threads);
    o.seed = static_cast<uint64_t>(seed);
    return o;
  }

  // The trips' grid over [begin, end) with the zones that have a pickup in
  // [zones_begin, zones_end); prints its size and report on stderr.
  StatusOr<DemandData> LoadGrid(int64_t begin, int64_t end, int64_t zones_begin,
                                int64_t zones_end) const {
    DemandDataOptions data;
    data.trip_files = trips;
    data.bucket_minutes = static_cast<int>(bucket_minutes);
    data.begin_us = begin;
    data.end_us = end;
    data.zones_begin_us = zones_begin;
    data.zones_end_us = zones_end;
    data.zones_dir = zones_dir;
    data.layout_file = layout;
    ASSIGN_OR_RETURN(DemandData loaded, LoadDemandGrid(data));
    std::fprintf(stderr, "demand grid: %zu zones × %lld buckets; %s\n", loaded.grid.num_zones(),
                 static_cast<long long>(loaded.grid.num_buckets()),
                 loaded.report.ToString().c_str());
    return loaded;
  }
};

StatusOr<int64_t> ParseTimeFlag(const std::string& flag, const std::string& text) {
  StatusOr<int64_t> t = ParseCivil(text);
  if (!t.ok()) return InvalidArgumentError("--" + flag + ": " + t.status().message());
  return t;
}

StatusOr<features::WeatherTable> LoadWeather(const std::string& path) {
  if (path.empty()) return features::WeatherTable();
  return features::WeatherTable::Load(path);
}

// Zone names for tables (best effort: the lookup CSV beside the shapefile).
std::map<int32_t, std::string> ZoneNames(const std::string& zones_dir) {
  std::map<int32_t, std::string> names;
  const std::string dir = zones_dir.empty() ? DefaultDataPath("zones") : zones_dir;
  if (dir.empty()) return names;
  auto index = data::ZoneIndex::Load(dir);
  if (!index.ok()) return names;
  for (int32_t id : index->ZoneIds()) names[id] = index->Zone(id)->name;
  return names;
}

}  // namespace

int RunBacktestDemand(const std::vector<std::string>& args) {
  FlagParser flags("bimride backtest demand",
                   "Rolling-origin backtest of the demand models (seasonal naive, historical "
                   "average, XGBoost, LibTorch MLP) on a test period after the training period. "
                   "Models are trained once; the forecast for bucket s at horizon h uses counts "
                   "up to s - h. Writes the comparison tables as Markdown.");
  DemandFlags df;
  df.Add(flags);
  std::string test_begin, test_end, out;
  std::vector<std::string> model_names = {"seasonal_naive", "historical_average", "xgboost",
                                          "torch_mlp"};
  int64_t busiest = 20;
  flags.AddString("test-begin", &test_begin, "test period start", true);
  flags.AddString("test-end", &test_end, "test period end, exclusive", true);
  flags.AddStringList("models", &model_names, "models to compare");
  flags.AddInt("busiest", &busiest, "how many of the busiest zones get their own table");
  flags.AddString("out", &out, "write the Markdown tables here (default: stdout only)");
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;

  auto train = df.TrainOptions();
  if (!train.ok()) return ReportError(train.status(), true);
  DemandBacktestOptions bo;
  bo.train = *train;
  bo.busiest_zones = static_cast<int>(busiest);
  bo.models.clear();
  for (const std::string& name : model_names) {
    auto kind = ParseDemandModelKind(name);
    if (!kind.ok())
      return ReportError(InvalidArgumentError("--models: " + kind.status().message()), true);
    bo.models.push_back(*kind);
  }
  for (auto [flag, text, out_us] : {std::tuple{"train-begin", df.train_begin, &bo.train_begin_us},
                                    std::tuple{"train-end", df.train_end, &bo.train_end_us},
                                    std::tuple{"test-begin", test_begin, &bo.test_begin_us},
                                    std::tuple{"test-end", test_end, &bo.test_end_us}}) {
    auto t = ParseTimeFlag(flag, text);
    if (!t.ok()) return ReportError(t.status(), true);
    *out_us = *t;
  }
  if (bo.train_end_us <= bo.train_begin_us || bo.test_end_us <= bo.test_begin_us) {
    return ReportError(InvalidArgumentError("--train-end/--test-end must be after their begin"),
                       true);
  }
  if (bo.test_begin_us < bo.train_end_us) {
    return ReportError(
        InvalidArgumentError("--test-begin " + test_begin +
                             " starts before the training period ends (" + df.train_end + ")"),
        true);
  }
  auto weather = LoadWeather(df.weather);
  if (!weather.ok()) return ReportError(weather.status());

  auto loaded = df.LoadGrid(bo.train_begin_us, bo.test_end_us, bo.train_begin_us, bo.train_end_us);
  if (!loaded.ok()) return ReportError(loaded.status());

  auto reg = registry::Registry::Open(df.repo);
  if (!reg.ok()) return ReportError(reg.status());
  auto run = StartDemandRun(**reg, "backtest", df.trips, bo.train, args);
  if (!run.ok()) return ReportError(run.status());
  auto bt = RunDemandBacktest(
      loaded->grid, weather->empty() ? nullptr : &*weather, bo, TrackProgress(run->get()),
      [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); });
  if (!bt.ok()) return ReportError(bt.status());
  const std::string md = bt->ToMarkdown(ZoneNames(df.zones_dir));
  std::cout << md;
  if (Status s = (*run)->LogMetrics(bt->ToMetricMap(), 0); !s.ok()) return ReportError(s);
  if (!out.empty()) {
    if (Status s = WriteFileAtomic(out, md); !s.ok()) return ReportError(s);
    if (auto a = (*run)->LogArtifact(out); !a.ok()) return ReportError(a.status());
  }
  if (Status s = (*run)->EndRun(registry::RunStatus::kFinished); !s.ok()) return ReportError(s);
  std::fprintf(stderr, "run %s\n", (*run)->run_id().c_str());
  return kExitOk;
}

int RunTrainDemand(const std::vector<std::string>& args) {
  FlagParser flags("bimride train demand",
                   "Train a demand model (XGBoost or LibTorch MLP, one global model for all zones, "
                   "H horizons) on a period of trips and publish it to the registry with its "
                   "context files (historical averages, weather). With --test-begin/--test-end "
                   "the published metrics are the rolling-origin scores on that later period.");
  DemandFlags df;
  df.Add(flags);
  std::string model_name = "torch_mlp", name = "demand", label, test_begin, test_end;
  flags.AddString("model", &model_name, "xgboost | torch_mlp");
  flags.AddString("name", &name, "registry model name");
  flags.AddString("label", &label, "point this label (e.g. canary, stable) at the new version");
  flags.AddString("test-begin", &test_begin, "optional test period start (after training)");
  flags.AddString("test-end", &test_end, "optional test period end, exclusive");
  train::DistributedFlags dist;
  dist.Add(flags);
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  auto kind = ParseDemandModelKind(model_name);
  if (!kind.ok())
    return ReportError(InvalidArgumentError("--model: " + kind.status().message()), true);
  if (!IsLearned(*kind)) {
    return ReportError(InvalidArgumentError("--model: '" + model_name +
                                            "' is a baseline; train xgboost or torch_mlp"),
                       true);
  }
  if (test_begin.empty() != test_end.empty()) {
    return ReportError(InvalidArgumentError("--test-begin and --test-end go together"), true);
  }
  auto train = df.TrainOptions();
  if (!train.ok()) return ReportError(train.status(), true);
  {
    train::TrainerOptions d;
    if (Status st = dist.Apply(&d); !st.ok()) return ReportError(st, true);
    train->distributed = d.distributed;
    train->checkpoint_dir = d.checkpoint_dir;
    train->checkpoint_every_steps = d.checkpoint_every_steps;
  }
  // --nproc N: this process becomes the launcher of N ranks of this same command.
  if (auto launched = dist.MaybeLaunch(); !launched.ok()) {
    return ReportError(launched.status(), true);
  } else if (*launched >= 0) {
    return *launched;
  }
  int64_t tb = 0, te = 0, sb = 0, se = 0;
  for (auto [flag, text, out_us] :
       {std::tuple{"train-begin", df.train_begin, &tb}, std::tuple{"train-end", df.train_end, &te},
        std::tuple{"test-begin", test_begin, &sb}, std::tuple{"test-end", test_end, &se}}) {
    if (text.empty()) continue;
    auto t = ParseTimeFlag(flag, text);
    if (!t.ok()) return ReportError(t.status(), true);
    *out_us = *t;
  }
  if (te <= tb)
    return ReportError(InvalidArgumentError("--train-end must be after --train-begin"), true);
  auto weather = LoadWeather(df.weather);
  if (!weather.ok()) return ReportError(weather.status());
  const features::WeatherTable* w = weather->empty() ? nullptr : &*weather;

  auto loaded = df.LoadGrid(tb, test_end.empty() ? te : se, tb, te);
  if (!loaded.ok()) return ReportError(loaded.status());
  const features::DemandGrid& grid = loaded->grid;

  if (!train->distributed.is_rank0()) {
    // Same grid, same options: this rank's share of every batch. Rank 0 tracks and publishes.
    auto model = TrainDemandModel(*kind, grid, w, grid.BucketOf(tb), grid.BucketOf(te), *train);
    if (!model.ok()) return ReportError(model.status());
    std::error_code ignored;
    std::filesystem::remove_all(model->artifact_dir, ignored);
    return kExitOk;
  }
  auto reg = registry::Registry::Open(df.repo);
  if (!reg.ok()) return ReportError(reg.status());
  auto run = StartDemandRun(**reg, "train", df.trips, *train, args);
  if (!run.ok()) return ReportError(run.status());
  auto model = TrainDemandModel(*kind, grid, w, grid.BucketOf(tb), grid.BucketOf(te), *train,
                                TrackProgress(run->get()));
  if (!model.ok()) return ReportError(model.status());
  DemandPublishOptions po;
  po.model_name = name;
  po.run_id = (*run)->run_id();
  if (!test_end.empty()) {
    auto scores = ScoreDemandModel(*model, grid, w, sb, se);
    if (!scores.ok()) return ReportError(scores.status());
    for (const DemandHorizonScores& hs : scores->horizons) {
      const std::string p = "test_h" + std::to_string(hs.horizon) + "_";
      po.metrics[p + "wape"] = hs.all.wape;
      po.metrics[p + "rmse"] = hs.all.rmse;
      po.metrics[p + "mae"] = hs.all.mae;
      po.metrics[p + "busiest_wape"] = hs.busiest.wape;
    }
  }
  if (Status s = (*run)->LogMetrics(po.metrics, 0); !s.ok()) return ReportError(s);
  auto manifest = PublishDemandModel(**reg, *model, grid, w, po);
  if (!manifest.ok()) return ReportError(manifest.status());
  std::error_code ignored;  // the registry holds its own copy of the files now
  std::filesystem::remove_all(model->artifact_dir, ignored);
  if (Status s = (*run)->SetTags(
          {{"model", manifest->name}, {"version", std::to_string(manifest->version)}});
      !s.ok()) {
    return ReportError(s);
  }
  if (!label.empty()) {
    auto moved = (*reg)->Promote(manifest->name, manifest->version, label, "bimride train demand",
                                 registry::CurrentUser());
    if (!moved.ok()) return ReportError(moved.status());
  }
  if (Status s = (*run)->EndRun(registry::RunStatus::kFinished); !s.ok()) return ReportError(s);
  std::printf("published %s version %lld (%s, %s) run %s\n", manifest->name.c_str(),
              static_cast<long long>(manifest->version),
              std::string(DemandModelName(*kind)).c_str(), manifest->backend.c_str(),
              (*run)->run_id().c_str());
  for (const auto& [k, v] : manifest->metrics) {
    if (k.rfind("test_h", 0) == 0) std::printf("  %s %.4f\n", k.c_str(), v);
  }
  return kExitOk;
}

// `bimride forecast`: the model folder from a path or a registry reference, the zone list.

namespace {

// A folder holding manifest.json, or a registry reference resolved in `repo`.
StatusOr<std::string> ResolveModelDir(const std::string& model, const std::string& repo) {
  if (FileExists(model + "/" + registry::kManifestFileName)) return model;
  if (std::filesystem::is_directory(model)) {
    return NotFoundError(model + ": folder has no " + registry::kManifestFileName);
  }
  ASSIGN_OR_RETURN(registry::ModelRef ref, registry::ParseModelRef(model));
  if (!std::filesystem::is_directory(repo)) {
    return NotFoundError("--model " + model + ": no folder of that name, and no registry at '" +
                         repo + "'");
  }
  registry::RegistryOptions options;
  options.read_only = FileExists(registry::DefaultDatabasePath(repo));
  ASSIGN_OR_RETURN(auto reg, registry::Registry::Open(repo, options));
  ASSIGN_OR_RETURN(int64_t version, reg->Resolve(ref));
  return reg->repository().VersionDir(ref.model, version);
}

StatusOr<std::vector<int32_t>> ParseZones(const std::vector<std::string>& items) {
  std::vector<int32_t> zones;
  for (const std::string& item : items) {
    size_t pos = 0;
    while (pos <= item.size()) {
      size_t comma = item.find(',', pos);
      if (comma == std::string::npos) comma = item.size();
      const std::string z = item.substr(pos, comma - pos);
      char* end = nullptr;
      const long v = std::strtol(z.c_str(), &end, 10);
      if (z.empty() || *end != '\0' || v <= 0 || v > 1000000) {
        return InvalidArgumentError("--zones: '" + z + "' is not a zone id");
      }
      zones.push_back(static_cast<int32_t>(v));
      pos = comma + 1;
    }
  }
  return zones;
}

}  // namespace

int RunForecast(const std::vector<std::string>& args) {
  FlagParser flags("bimride forecast",
                   "Demand forecasts per zone for the next H buckets from TIME, with a published "
                   "demand model and the trips of the week before TIME.");
  std::string model, at, repo = registry::DefaultRepositoryRoot(), zones_dir, layout;
  std::vector<std::string> zone_items, history;
  flags.AddString("model", &model, "model version folder, or registry ref: demand[:N|:label]",
                  true);
  flags.AddString("at", &at, "forecast time 'YYYY-MM-DD HH:MM' (floored to the model's bucket)",
                  true);
  flags.AddStringList("history", &history, "trip files covering the week before --at", true);
  flags.AddStringList("zones", &zone_items, "zone ids (default: every zone of the model)");
  flags.AddString("repo", &repo, "model repository for registry refs");
  flags.AddString("zones-dir", &zones_dir, "taxi zone shapefile folder for coordinate sources");
  flags.AddString("layout", &layout, data::kLayoutFlagHelp);
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  auto t = ParseCivil(at);
  if (!t.ok()) return ReportError(InvalidArgumentError("--at: " + t.status().message()), true);
  auto zones = ParseZones(zone_items);
  if (!zones.ok()) return ReportError(zones.status(), true);

  auto dir = ResolveModelDir(model, repo);
  if (!dir.ok()) return ReportError(dir.status());
  auto forecaster = DemandForecaster::Open(*dir);
  if (!forecaster.ok()) return ReportError(forecaster.status());
  data::LoadTripsOptions load;
  load.zones_dir = zones_dir;
  load.layout_file = layout;
  auto trips = data::LoadTrips(history, load);
  if (!trips.ok()) return ReportError(trips.status());
  features::DemandGridReport report;
  auto forecasts = (*forecaster)->ForecastFromTrips(*trips, *t, *zones, &report);
  if (!forecasts.ok()) return ReportError(forecasts.status());

  const int64_t start = (*forecaster)->FloorToBucket(*t);
  const int64_t width = static_cast<int64_t>((*forecaster)->bucket_minutes()) * kMicrosPerMinute;
  const registry::Manifest& m = (*forecaster)->manifest();
  std::printf(
      "# %s version %lld (%s), forecasts from %s, %d-minute buckets; history: %lld "
      "pickups counted\n",
      m.name.c_str(), static_cast<long long>(m.version), m.backend.c_str(),
      FormatCivil(start).c_str(), (*forecaster)->bucket_minutes(),
      static_cast<long long>(report.counted));
  std::printf("zone,last_3_buckets");
  for (int h = 0; h < (*forecaster)->horizons(); ++h) {
    std::printf(",%s", FormatCivil(start + h * width).substr(0, 16).c_str());
  }
  std::printf("\n");
  for (const ZoneForecast& f : *forecasts) {
    std::string recent;
    for (float c : f.recent)
      recent += (recent.empty() ? "" : " ") + std::to_string(static_cast<int>(c));
    std::printf("%d,%s", f.zone, recent.c_str());
    for (float v : f.forecast) std::printf(",%.2f", v);
    std::printf("\n");
  }
  return kExitOk;
}

}  // namespace bimride::tasks::demand
