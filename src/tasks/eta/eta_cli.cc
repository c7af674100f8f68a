#include "tasks/eta/eta_cli.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "cli/command.h"
#include "common/data_dir.h"
#include "common/file.h"
#include "data/trip_loader.h"
#include "registry/registry.h"
#include "tasks/eta/eta_training.h"
#include "train/distributed.h"
#include "train/training_run.h"

namespace bimride::tasks::eta {
namespace {

using cli::kExitOk;
using cli::ParseFlagsOrExit;
using cli::ReportError;

std::string DataDirDefault(const std::string& rel) {
  const std::string path = DefaultDataPath(rel);
  return path.empty() ? std::string("none") : path;
}

struct SharedFlags {
  std::string zones = DataDirDefault("zones"), layout;
  double min_minutes = 1, max_minutes = 60;
  int64_t threads = 2;
  bool no_validate = false;
  void Add(FlagParser& flags) {
    flags.AddBool("no-validate", &no_validate,
                  "keep every row the reader parses (no quarantine of unknown zones, implausible "
                  "speeds, …); the duration filter still applies");
    flags.AddString("zones", &zones,
                    "taxi zone shapefile folder, or 'none' (default $BIMRIDE_DATA_DIR/zones, else "
                    "the shared data folder)");
    flags.AddDouble("min-minutes", &min_minutes, "duration filter: shortest trip kept (minutes)");
    flags.AddDouble("max-minutes", &max_minutes, "duration filter: longest trip kept (minutes)");
    flags.AddInt("threads", &threads, "threads for training and inference");
    flags.AddString("layout", &layout, data::kLayoutFlagHelp);
  }
};

StatusOr<std::optional<data::ZoneIndex>> LoadZones(const std::string& dir) {
  if (dir == "none") return std::optional<data::ZoneIndex>();
  ASSIGN_OR_RETURN(data::ZoneIndex z, data::ZoneIndex::Load(dir));
  return std::optional<data::ZoneIndex>(std::move(z));
}

StatusOr<EtaDataset> LoadDataset(const char* what, const std::vector<std::string>& files,
                                 const data::ZoneIndex* zones, const SharedFlags& f,
                                 bool filter = true) {
  EtaDatasetOptions o;
  o.min_minutes = f.min_minutes;
  o.max_minutes = f.max_minutes;
  o.apply_duration_filter = filter;
  o.validate = !f.no_validate;
  o.layout_file = f.layout;
  ASSIGN_OR_RETURN(EtaDataset d, LoadEtaDataset(files, zones, o));
  std::printf("%s: %s\n", what, d.report.ToString().c_str());
  return d;
}

void PrintProgress(const models::TrainingProgress& p, const std::string& kind) {
  if (kind == "xgboost") {
    if (p.epoch % 50 != 0 && p.epoch != 1) return;
    std::printf("round %5d  train_rmse %.4f  valid_rmse %.4f%s  %.0f rows/s\n", p.epoch,
                p.train_loss, p.valid_metric, p.improved ? " *" : "  ", p.rows_per_second);
  } else {
    std::printf("epoch %3d  train_loss %.4f  valid_loss %.4f (rmse %.4f)%s  %.0f rows/s\n", p.epoch,
                p.train_loss, p.valid_metric, std::sqrt(p.valid_metric), p.improved ? " *" : "  ",
                p.rows_per_second);
  }
  std::fflush(stdout);
}

}  // namespace

int RunTrainEta(const std::vector<std::string>& args) {
  FlagParser flags("bimride train eta",
                   "Train a trip-duration (ETA) model: features from the training files only, "
                   "early stopping and metrics on the (later) validation files, compared with "
                   "the baselines; the run is tracked and the model published to the registry.");
  std::vector<std::string> train_files, valid_files;
  std::string model = "xgboost", baseline = "pair-median", features = "booking", out = "eta_model";
  std::string repo = registry::DefaultRepositoryRoot(), name = "eta";
  std::string weather = DataDirDefault("weather/central_park_weather.csv");
  bool no_publish = false;
  SharedFlags shared;
  int64_t max_depth = -1, rounds = -1, epochs = -1, batch_size = -1, seed = -1;
  double eta = -1, lr = -1, huber = -1, shrinkage = -1, min_child_weight = -1, subsample = -1;
  double colsample = -1, weight_decay = -1, dropout = -1;
  int64_t folds = -1, patience = -1, embedding_dim = -1, drift_window_rows = 1000;
  int64_t loss_estimator_max_rounds = EtaTrainConfig{}.loss_estimator_max_rounds;
  double drift_target_rate = 0.05;
  std::string hidden;
  std::vector<std::string> params;
  flags.AddStringList("train", &train_files, "training trip files (earlier months)", true);
  flags.AddStringList("valid", &valid_files, "validation trip files (later months)", true);
  flags.AddString("model", &model, "xgboost | torch | baseline");
  flags.AddString("baseline", &baseline, "with --model baseline: mean | pair-median | speed");
  flags.AddString("features", &features, "booking | with-distance");
  flags.AddString("out", &out, "model folder to write");
  flags.AddString("repo", &repo, "model registry (default $BIMRIDE_MODEL_REPO or ./model_repo)");
  flags.AddString("name", &name, "model name in the registry");
  flags.AddBool("no-publish", &no_publish, "track the run but do not publish the model");
  flags.AddString("weather", &weather,
                  "NOAA daily weather CSV, or 'none' (default $BIMRIDE_DATA_DIR/weather/"
                  "central_park_weather.csv, else the shared data folder's)");
  shared.Add(flags);
  flags.AddInt("max-depth", &max_depth, "xgboost: tree depth");
  flags.AddDouble("eta", &eta, "xgboost: learning rate");
  flags.AddInt("rounds", &rounds, "xgboost: most boosting rounds (early stopping on valid)");
  flags.AddInt("epochs", &epochs, "torch: most epochs (early stopping on valid)");
  flags.AddInt("batch-size", &batch_size, "torch: batch size");
  flags.AddDouble("lr", &lr, "torch: Adam learning rate");
  flags.AddString("hidden", &hidden, "torch: hidden layer sizes, e.g. 256,128,64");
  flags.AddDouble("huber", &huber, "torch: Huber loss with this delta (default: MSE)");
  flags.AddInt("seed", &seed, "random seed");
  flags.AddInt("drift-window-rows", &drift_window_rows,
               "drift alarms calibrated on training windows of this many rows (the server's "
               "monitor.window_rows; 0: none)");
  flags.AddDouble("drift-target-rate", &drift_target_rate,
                  "drift alarms: the share of training windows allowed to alarm");
  flags.AddInt("loss-estimator-max-rounds", &loss_estimator_max_rounds,
               "the loss estimator's most trees (the server walks them all on every logged row)");
  flags.AddInt("encoding-folds", &folds,
               "out-of-fold folds for the training rows' learned encodings (1: off)");
  flags.AddDouble("shrinkage", &shrinkage, "pseudo-count shrinking pair/zone medians to fallbacks");
  flags.AddDouble("min-child-weight", &min_child_weight, "xgboost: min_child_weight");
  flags.AddDouble("subsample", &subsample, "xgboost: row subsample");
  flags.AddDouble("colsample", &colsample, "xgboost: colsample_bytree");
  flags.AddInt("patience", &patience, "torch: early-stopping patience (epochs)");
  flags.AddDouble("weight-decay", &weight_decay, "torch: Adam weight decay");
  flags.AddDouble("dropout", &dropout, "torch: dropout");
  flags.AddInt("embedding-dim", &embedding_dim, "torch: zone embedding size");
  flags.AddStringList("param", &params,
                      "a trainer parameter NAME=VALUE (repeatable), e.g. max_bin=128");
  train::DistributedFlags dist;
  dist.Add(flags);
  // -1: unset; DefaultEtaTrainConfig picks the value for the chosen model and features.
  for (const char* sentinel :
       {"max-depth", "eta", "rounds", "epochs", "batch-size", "lr", "seed", "encoding-folds",
        "shrinkage", "min-child-weight", "subsample", "colsample", "patience", "weight-decay",
        "dropout", "embedding-dim"}) {
    flags.SetDefaultText(sentinel, "the model's tuned value");
  }
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;

  if (Status st = CheckEtaModelKind(model); !st.ok()) return ReportError(st, /*usage=*/true);
  auto set = features::ParseEtaFeatureSet(features);
  if (!set.ok()) return ReportError(set.status(), true);
  auto baseline_kind = ParseEtaBaselineKind(baseline);
  if (!baseline_kind.ok()) return ReportError(baseline_kind.status(), true);
  if (shared.threads <= 0) return ReportError(InvalidArgumentError("--threads must be > 0"), true);
  EtaTrainConfig config = DefaultEtaTrainConfig(*set, model);
  config.baseline = *baseline_kind;
  config.threads = static_cast<int>(shared.threads);
  config.model_name = name;
  if (drift_window_rows < 0 || !(drift_target_rate > 0 && drift_target_rate < 1)) {
    return ReportError(InvalidArgumentError("--drift-window-rows must be >= 0 and "
                                            "--drift-target-rate in (0, 1)"),
                       true);
  }
  config.drift_window_rows = drift_window_rows;
  config.drift_target_rate = drift_target_rate;
  if (loss_estimator_max_rounds < 1 || loss_estimator_max_rounds > 100000) {
    return ReportError(InvalidArgumentError("--loss-estimator-max-rounds must be in [1, 100000], "
                                            "not " + std::to_string(loss_estimator_max_rounds)),
                       true);
  }
  config.loss_estimator_max_rounds = static_cast<int>(loss_estimator_max_rounds);
  // The named flags are the trainers' most used parameters; --param sets any other.
  const auto set_param = [&](const char* param, const std::string& value) {
    config.params[param] = value;
  };
  if (max_depth > 0) set_param("max_depth", std::to_string(max_depth));
  if (eta > 0) set_param("eta", train::ParamValue(eta));
  if (rounds > 0) set_param("rounds", std::to_string(rounds));
  if (epochs > 0) set_param("epochs", std::to_string(epochs));
  if (batch_size > 0) set_param("batch_size", std::to_string(batch_size));
  if (lr > 0) set_param("learning_rate", train::ParamValue(lr));
  if (huber > 0) config.huber_delta = huber;
  if (folds >= 0) config.encoding_folds = static_cast<int>(folds);
  if (shrinkage >= 0) config.context.shrinkage = shrinkage;
  if (min_child_weight >= 0) set_param("min_child_weight", train::ParamValue(min_child_weight));
  if (subsample > 0) set_param("subsample", train::ParamValue(subsample));
  if (colsample > 0) set_param("colsample_bytree", train::ParamValue(colsample));
  if (patience >= 0) set_param("patience", std::to_string(patience));
  if (weight_decay >= 0) set_param("weight_decay", train::ParamValue(weight_decay));
  if (dropout >= 0) set_param("dropout", train::ParamValue(dropout));
  if (embedding_dim > 0) config.zone_embedding_dim = static_cast<int>(embedding_dim);
  if (seed >= 0) config.seed = static_cast<uint64_t>(seed);
  if (!hidden.empty()) set_param("hidden_sizes", hidden);
  for (const std::string& kv : params) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return ReportError(InvalidArgumentError("--param: want NAME=VALUE, got '" + kv + "'"), true);
    }
    config.params[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  {
    train::TrainerOptions d;
    if (Status st = dist.Apply(&d); !st.ok()) return ReportError(st, /*usage=*/true);
    config.distributed = d.distributed;
    config.checkpoint_dir = d.checkpoint_dir;
    config.checkpoint_every_steps = d.checkpoint_every_steps;
    // The launcher itself does not train, but refuses a model that cannot train in N ranks.
    if (dist.nproc > 1 && !config.distributed.enabled()) {
      config.distributed.world_size = static_cast<int>(dist.nproc);
    }
  }
  if (Status st = CheckEtaTrainConfig(config); !st.ok()) return ReportError(st, /*usage=*/true);
  // --nproc N: this process becomes the launcher of N ranks of this same command.
  if (auto launched = dist.MaybeLaunch(); !launched.ok()) {
    return ReportError(launched.status(), /*usage=*/true);
  } else if (*launched >= 0) {
    return *launched;
  }
  // Rank 0 tracks the run, writes --out and publishes; the other ranks train with it and keep
  // their (identical) model folder in a scratch folder they remove.
  const bool rank0 = config.distributed.is_rank0();
  std::string scratch;
  if (!rank0) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "bimride_eta_rank.XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      return ReportError(InternalError("a scratch folder for rank " +
                                       std::to_string(config.distributed.rank) + ": " +
                                       std::strerror(errno)));
    }
    scratch = tmpl;
    out = scratch + "/model";
    no_publish = true;
  }

  auto zones = LoadZones(shared.zones);
  if (!zones.ok()) return ReportError(zones.status());
  const data::ZoneIndex* zone_index = *zones ? &**zones : nullptr;
  std::optional<features::WeatherTable> weather_table;
  if (weather != "none") {
    auto w = features::WeatherTable::Load(weather);
    if (!w.ok()) return ReportError(w.status());
    weather_table = std::move(w).value();
  }
  auto train = LoadDataset("train", train_files, zone_index, shared);
  if (!train.ok()) return ReportError(train.status());
  auto valid = LoadDataset("valid", valid_files, zone_index, shared);
  if (!valid.ok()) return ReportError(valid.status());

  if (!rank0) {
    // Same data, same options: this rank's half of every batch. No tracking, no output.
    auto result = TrainEtaModel(*train, *valid, zone_index,
                                weather_table ? &*weather_table : nullptr, config, out, nullptr);
    std::error_code ignored;
    std::filesystem::remove_all(scratch, ignored);
    if (!result.ok()) return ReportError(result.status().WithContext("train eta"));
    return kExitOk;
  }
  auto reg = registry::Registry::Open(repo);
  if (!reg.ok()) return ReportError(reg.status());
  train::TrainingRunSpec spec;
  spec.task = "eta";
  spec.tags = {{"model_name", name}};
  spec.data_files = train_files;
  spec.data_files.insert(spec.data_files.end(), valid_files.begin(), valid_files.end());
  if (weather_table) spec.data_files.push_back(weather);
  spec.data_filter = "train: " + train->report.filter + "; valid: " + valid->report.filter;
  auto run = train::StartTrainingRun(**reg, spec);
  if (!run.ok()) return ReportError(run.status());
  std::printf("run %s: training %s on %s\n", (*run)->run_id().c_str(), model.c_str(),
              std::string(features::EtaFeatureSpecName(*set)).c_str());
  std::fflush(stdout);

  auto result = TrainEtaModel(*train, *valid, zone_index, weather_table ? &*weather_table : nullptr,
                              config, out, run->get(),
                              [&](const models::TrainingProgress& p) { PrintProgress(p, model); });
  if (!result.ok()) return ReportError(result.status().WithContext("train eta"));
  std::cout << result->summary << "\nvalidation (" << valid->report.filter << "):\n"
            << FormatComparisonTable(result->comparison) << "\nRMSE by hour:\n"
            << FormatHourBreakdown(result->comparison) << "\nRMSE by trip length:\n"
            << FormatLengthBreakdown(result->comparison);
  std::printf("\nmodel written to %s\n", out.c_str());

  const bool publish = !no_publish && model != kEtaBaselineModel;
  if (!no_publish && !publish) {
    std::printf("baselines are not published (no serving backend); kept in %s\n", out.c_str());
  }
  auto published = train::FinishTrainingRun(**reg, **run, publish ? out : "");
  if (!published.ok()) return ReportError(published.status());
  if (*published) {
    std::printf("published %s version %lld to %s\n", (*published)->name.c_str(),
                static_cast<long long>((*published)->version), repo.c_str());
  }
  return kExitOk;
}

int RunEvalEta(const std::vector<std::string>& args) {
  FlagParser flags("bimride eval eta",
                   "Evaluate ETA model folders (from `train eta --out` or a registry version) on "
                   "trip files: one comparison table, RMSE by hour and by trip length.");
  std::vector<std::string> model_dirs, data_files;
  std::string backend;
  bool no_filter = false;
  SharedFlags shared;
  flags.AddStringList("model", &model_dirs, "model folder(s)", true);
  flags.AddStringList("data", &data_files, "trip files to evaluate on", true);
  flags.AddString("backend", &backend,
                  "load with this backend instead of the manifest's (native_trees, native_mlp)");
  flags.AddBool("no-filter", &no_filter, "evaluate on every trip with a positive duration");
  int64_t skip = 0, limit = 0;
  flags.AddInt("skip", &skip,
               "skip this many trips in pickup order first (as `replay eta --skip`: the same "
               "trips a replay sends)");
  flags.AddInt("limit", &limit, "evaluate at most this many trips, in pickup order (0: all)");
  std::string zone_errors;
  flags.AddString("zone-errors", &zone_errors,
                  "also write the first model's error per pickup zone to this CSV (zone,rows,mae,"
                  "rmse,bias; the console's map: bimride console series --csv)");
  shared.Add(flags);
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  if (shared.threads <= 0) return ReportError(InvalidArgumentError("--threads must be > 0"), true);

  std::vector<LoadedEtaModel> loaded;
  for (const std::string& dir : model_dirs) {
    auto m = LoadEtaModel(dir, static_cast<int>(shared.threads), backend);
    if (!m.ok()) return ReportError(m.status());
    loaded.push_back(std::move(m).value());
  }
  auto zones = LoadZones(shared.zones);
  if (!zones.ok()) return ReportError(zones.status());
  if (skip < 0 || limit < 0) {
    return ReportError(InvalidArgumentError("--skip and --limit must be >= 0"), true);
  }
  auto data = LoadDataset("data", data_files, *zones ? &**zones : nullptr, shared, !no_filter);
  if (!data.ok()) return ReportError(data.status());
  if (skip > 0 || limit > 0) {
    // The trips `replay eta --skip --limit` sends: pickup order (stable), then the range.
    std::vector<size_t> order(data->trips.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return data->trips.pickup_time_us[a] < data->trips.pickup_time_us[b];
    });
    const size_t first = std::min(order.size(), static_cast<size_t>(skip));
    const size_t last =
        limit > 0 ? std::min(order.size(), first + static_cast<size_t>(limit)) : order.size();
    std::vector<size_t> keep(order.begin() + static_cast<std::ptrdiff_t>(first),
                             order.begin() + static_cast<std::ptrdiff_t>(last));
    EtaDataset range;
    range.trips = data->trips.Take(keep);
    for (size_t i : keep) range.minutes.push_back(data->minutes[i]);
    range.report = data->report;
    *data = std::move(range);
    std::printf("evaluating trips %zu..%zu of %zu in pickup order\n", first, last, order.size());
  }
  std::vector<NamedEvaluation> evals;
  for (size_t i = 0; i < loaded.size(); ++i) {
    auto p = PredictEta(loaded[i], data->trips);
    if (!p.ok()) return ReportError(p.status().WithContext(model_dirs[i]));
    evals.push_back({model_dirs[i], EvaluateEta(*p, data->minutes, data->trips)});
  }
  if (!zone_errors.empty()) {
    if (Status st = WriteFileAtomic(zone_errors, FormatZoneErrorsCsv(evals.front().second));
        !st.ok()) {
      return ReportError(st);
    }
  }
  std::cout << FormatComparisonTable(evals) << "\nRMSE by hour:\n"
            << FormatHourBreakdown(evals) << "\nRMSE by trip length:\n"
            << FormatLengthBreakdown(evals);
  return kExitOk;
}

}  // namespace bimride::tasks::eta
