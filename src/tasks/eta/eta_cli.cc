// `bimride train eta` and `bimride eval eta`: trip-duration models (tasks/eta). Thin: flags,
// then tasks::eta calls; runs are tracked in the registry and models published there.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "cli/command.h"
#include "common/data_dir.h"
#include "common/file.h"
#include "registry/registry.h"
#include "tasks/eta/eta_training.h"

namespace bimride::cli {
namespace {

using tasks::eta::EtaDataset;
using tasks::eta::EtaModelKind;

std::string DataDirDefault(const std::string& rel) {
  const std::string path = DefaultDataPath(rel);
  return path.empty() ? std::string("none") : path;
}

struct SharedFlags {
  std::string zones = DataDirDefault("zones");
  double min_minutes = 1, max_minutes = 60;
  int64_t threads = 2;
  bool no_validate = false;
  void Add(FlagParser& flags) {
    flags.AddBool("no-validate", &no_validate,
                  "keep every row the reader parses (no quarantine of unknown zones, implausible "
                  "speeds, …); the duration filter still applies");
    flags.AddString("zones", &zones,
                    "taxi zone shapefile folder, or 'none' (default $BIMRIDE_DATA_DIR/zones, else the shared data folder)");
    flags.AddDouble("min-minutes", &min_minutes, "duration filter: shortest trip kept (minutes)");
    flags.AddDouble("max-minutes", &max_minutes, "duration filter: longest trip kept (minutes)");
    flags.AddInt("threads", &threads, "threads for training and inference");
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
  tasks::eta::EtaDatasetOptions o;
  o.min_minutes = f.min_minutes;
  o.max_minutes = f.max_minutes;
  o.apply_duration_filter = filter;
  o.validate = !f.no_validate;
  ASSIGN_OR_RETURN(EtaDataset d, tasks::eta::LoadEtaDataset(files, zones, o));
  std::printf("%s: %s\n", what, d.report.ToString().c_str());
  return d;
}

void PrintProgress(const models::TrainingProgress& p, EtaModelKind kind) {
  if (kind == EtaModelKind::kXgboost) {
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

std::vector<int> ParseIntList(const std::string& text, bool* ok) {
  std::vector<int> out;
  std::stringstream s(text);
  std::string part;
  *ok = true;
  while (std::getline(s, part, ',')) {
    char* end = nullptr;
    long v = std::strtol(part.c_str(), &end, 10);
    if (part.empty() || *end != '\0' || v <= 0) *ok = false;
    out.push_back(static_cast<int>(v));
  }
  if (out.empty()) *ok = false;
  return out;
}

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
  int64_t folds = -1, patience = -1, embedding_dim = -1;
  std::string hidden;
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
                  "central_park_weather.csv)");
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
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;

  auto kind = tasks::eta::ParseEtaModelKind(model);
  if (!kind.ok()) return ReportError(kind.status(), /*usage=*/true);
  auto set = features::ParseEtaFeatureSet(features);
  if (!set.ok()) return ReportError(set.status(), true);
  auto baseline_kind = tasks::eta::ParseEtaBaselineKind(baseline);
  if (!baseline_kind.ok()) return ReportError(baseline_kind.status(), true);
  if (shared.threads <= 0) return ReportError(InvalidArgumentError("--threads must be > 0"), true);
  tasks::eta::EtaTrainConfig config = tasks::eta::DefaultEtaTrainConfig(*set, *kind);
  config.baseline = *baseline_kind;
  config.threads = static_cast<int>(shared.threads);
  config.model_name = name;
  if (max_depth > 0) config.xgboost.max_depth = static_cast<int>(max_depth);
  if (eta > 0) config.xgboost.eta = eta;
  if (rounds > 0) config.xgboost.rounds = static_cast<int>(rounds);
  if (epochs > 0) config.torch.epochs = static_cast<int>(epochs);
  if (batch_size > 0) config.torch.batch_size = static_cast<int>(batch_size);
  if (lr > 0) config.torch.learning_rate = lr;
  if (huber > 0) {
    config.torch.loss = models::torch_backend::TabularLoss::kHuber;
    config.torch.huber_delta = huber;
  }
  if (folds >= 0) config.encoding_folds = static_cast<int>(folds);
  if (shrinkage >= 0) config.context.shrinkage = shrinkage;
  if (min_child_weight >= 0) config.xgboost.min_child_weight = min_child_weight;
  if (subsample > 0) config.xgboost.subsample = subsample;
  if (colsample > 0) config.xgboost.colsample_bytree = colsample;
  if (patience >= 0) config.torch.patience = static_cast<int>(patience);
  if (weight_decay >= 0) config.torch.weight_decay = weight_decay;
  if (dropout >= 0) config.torch.dropout = dropout;
  if (embedding_dim > 0) config.zone_embedding_dim = static_cast<int>(embedding_dim);
  if (seed >= 0) {
    config.torch.seed = static_cast<uint64_t>(seed);
    config.xgboost.seed = static_cast<uint64_t>(seed);
  }
  if (!hidden.empty()) {
    bool ok = false;
    config.torch.hidden_sizes = ParseIntList(hidden, &ok);
    if (!ok) return ReportError(InvalidArgumentError("--hidden: want sizes like 256,128"), true);
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

  auto reg = registry::Registry::Open(repo);
  if (!reg.ok()) return ReportError(reg.status());
  // The code that runs is the binary's checkout, wherever the user stands.
  registry::RunOptions run_options;
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  run_options.code_dir = ec ? "." : exe.parent_path().string();
  auto run = (*reg)->StartRun("eta", {}, {{"model_name", name}}, run_options);
  if (!run.ok()) return ReportError(run.status());
  std::vector<std::string> inputs = train_files;
  inputs.insert(inputs.end(), valid_files.begin(), valid_files.end());
  std::vector<std::string> all_inputs = inputs;
  if (weather_table) all_inputs.push_back(weather);
  Status st = (*run)->SetDataFingerprint(
      all_inputs, "train: " + train->report.filter + "; valid: " + valid->report.filter);
  if (!st.ok()) return ReportError(st);
  std::printf("run %s: training %s on %s\n", (*run)->run_id().c_str(), model.c_str(),
              std::string(features::EtaFeatureSpecName(*set)).c_str());
  std::fflush(stdout);

  auto result = tasks::eta::TrainEtaModel(
      *train, *valid, zone_index, weather_table ? &*weather_table : nullptr, config, out,
      run->get(), [&](const models::TrainingProgress& p) { PrintProgress(p, *kind); });
  if (!result.ok()) return ReportError(result.status().WithContext("train eta"));
  std::cout << result->summary << "\nvalidation (" << valid->report.filter << "):\n"
            << tasks::eta::FormatComparisonTable(result->comparison) << "\nRMSE by hour:\n"
            << tasks::eta::FormatHourBreakdown(result->comparison) << "\nRMSE by trip length:\n"
            << tasks::eta::FormatLengthBreakdown(result->comparison);
  std::printf("\nmodel written to %s\n", out.c_str());

  if (!no_publish && *kind != EtaModelKind::kBaseline) {
    auto published = (*reg)->PublishFolder(out);
    if (!published.ok()) return ReportError(published.status().WithContext("publish " + name));
    std::printf("published %s version %lld to %s\n", name.c_str(),
                static_cast<long long>(published->version), repo.c_str());
  } else if (!no_publish) {
    std::printf("baselines are not published (no serving backend); kept in %s\n", out.c_str());
  }
  st = (*run)->EndRun(registry::RunStatus::kFinished);
  if (!st.ok()) return ReportError(st);
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
  shared.Add(flags);
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  if (shared.threads <= 0) return ReportError(InvalidArgumentError("--threads must be > 0"), true);

  std::vector<tasks::eta::LoadedEtaModel> loaded;
  for (const std::string& dir : model_dirs) {
    auto m = tasks::eta::LoadEtaModel(dir, static_cast<int>(shared.threads), backend);
    if (!m.ok()) return ReportError(m.status());
    loaded.push_back(std::move(m).value());
  }
  auto zones = LoadZones(shared.zones);
  if (!zones.ok()) return ReportError(zones.status());
  auto data = LoadDataset("data", data_files, *zones ? &**zones : nullptr, shared, !no_filter);
  if (!data.ok()) return ReportError(data.status());
  std::vector<tasks::eta::NamedEvaluation> evals;
  for (size_t i = 0; i < loaded.size(); ++i) {
    auto p = tasks::eta::PredictEta(loaded[i], data->trips);
    if (!p.ok()) return ReportError(p.status().WithContext(model_dirs[i]));
    evals.push_back({model_dirs[i], tasks::eta::EvaluateEta(*p, data->minutes, data->trips)});
  }
  std::cout << tasks::eta::FormatComparisonTable(evals) << "\nRMSE by hour:\n"
            << tasks::eta::FormatHourBreakdown(evals) << "\nRMSE by trip length:\n"
            << tasks::eta::FormatLengthBreakdown(evals);
  return kExitOk;
}

}  // namespace

BIMRIDE_VERB("train", "eta", "train a trip-duration model (xgboost | torch | baseline)",
             RunTrainEta);
BIMRIDE_VERB("eval", "eta", "evaluate trip-duration models on trip files", RunEvalEta);

}  // namespace bimride::cli
