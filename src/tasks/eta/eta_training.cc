#include "tasks/eta/eta_training.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <numeric>
#include <sstream>
#include <filesystem>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "common/civil_time.h"
#include "common/file.h"
#include "monitoring/drift.h"
#include "train/training_run.h"

namespace bimride::tasks::eta {
namespace {

using features::EtaFeatureSet;

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::map<std::string, std::string> ConfigParams(const EtaTrainConfig& c) {
  std::map<std::string, std::string> p = {
      {"features", std::string(features::EtaFeatureSpecName(c.features))},
      {"model", c.model},
      {"threads", std::to_string(c.threads)},
      {"seed", std::to_string(c.seed)},
      {"context.shrinkage", Num(c.context.shrinkage)},
      {"context.min_pair_count", std::to_string(c.context.min_pair_count)},
      {"encoding_folds", std::to_string(c.encoding_folds)}};
  if (c.model == kEtaBaselineModel) {
    p["baseline"] = std::string(EtaBaselineName(c.baseline));
  } else {
    p["loss"] = c.huber_delta > 0 ? "huber(" + Num(c.huber_delta) + ")" : "squared_error";
    p["zone_embedding_dim"] = std::to_string(c.zone_embedding_dim);
  }
  if (c.loss_estimator) {
    p["loss_estimator.rows"] = std::string(EtaLossRowsName(c.loss_estimator_rows));
    p["loss_estimator.objective"] = c.loss_estimator_objective;
    p["loss_estimator.max_rounds"] = std::to_string(c.loss_estimator_max_rounds);
  }
  return p;
}

void AddMetrics(const std::string& prefix, const train::Metrics& m,
                std::map<std::string, double>* out) {
  (*out)[prefix + "rmse"] = m.rmse;
  (*out)[prefix + "mae"] = m.mae;
  (*out)[prefix + "rmsle"] = m.rmsle;
  (*out)[prefix + "mape"] = m.mape;
  (*out)[prefix + "bias"] = m.bias;
  (*out)[prefix + "rows"] = static_cast<double>(m.count);
}

std::string ModelLabel(const EtaTrainConfig& c) {
  if (c.model == kEtaBaselineModel) return "baseline " + std::string(EtaBaselineName(c.baseline));
  return c.model;
}

}  // namespace

Status CheckEtaModelKind(const std::string& model) {
  if (model == kEtaBaselineModel || train::HasTrainer(model)) return OkStatus();
  std::string known(kEtaBaselineModel);
  for (const std::string& kind : train::RegisteredTrainers()) known += " | " + kind;
  return InvalidArgumentError("unknown ETA model '" + model + "' (" + known + ")");
}

namespace {

// What the trainer gets, but the categorical columns (which need the feature context).
train::TrainerOptions TrainerOptionsFor(const EtaTrainConfig& config) {
  train::TrainerOptions o;
  o.params = config.params;
  o.threads = config.threads;
  o.seed = config.seed;
  o.distributed = config.distributed;
  o.checkpoint_dir = config.checkpoint_dir;
  o.checkpoint_every_steps = config.checkpoint_every_steps;
  if (config.huber_delta > 0) {
    o.loss = train::Loss::kHuber;
    o.huber_delta = config.huber_delta;
  }
  return o;
}

}  // namespace

Status CheckEtaTrainConfig(const EtaTrainConfig& config) {
  RETURN_IF_ERROR(CheckEtaModelKind(config.model));
  if (config.model == kEtaBaselineModel) {
    if (config.distributed.enabled()) {
      return InvalidArgumentError("the ETA baselines train in one process (no --nproc/torchrun)");
    }
    return OkStatus();
  }
  return train::CheckTrainerOptions(config.model, TrainerOptionsFor(config));
}

EtaTrainConfig DefaultEtaTrainConfig(EtaFeatureSet set, const std::string& model) {
  EtaTrainConfig c;
  c.features = set;
  c.model = model;
  if (model == "xgboost") {
    c.params = {{"objective", "reg:squarederror"},
                {"tree_method", "hist"},
                {"max_depth", "8"},
                {"eta", "0.05"},
                {"subsample", "0.8"},
                {"colsample_bytree", "0.8"},
                {"min_child_weight", "5"},
                {"lambda", "1"},
                {"rounds", "3000"},
                {"early_stopping_rounds", "50"}};
    c.seed = 0;
  } else if (model == "torch") {
    c.params = {{"hidden_sizes", "256,128,64"}, {"dropout", "0"}, {"learning_rate", "0.002"},
                {"batch_size", "512"},          {"epochs", "30"}, {"patience", "4"}};
    c.seed = 42;
  }
  return c;
}

std::vector<models::CategoricalColumn> EtaCategoricalColumns(
    const features::EtaFeatureContext& context, int zone_embedding_dim) {
  const int zone_card = context.max_zone + 1;
  return {{features::kEtaColPickupZone, zone_card, zone_embedding_dim},
          {features::kEtaColDropoffZone, zone_card, zone_embedding_dim},
          {features::kEtaColPickupBorough, features::kEtaBoroughCount, 3},
          {features::kEtaColDropoffBorough, features::kEtaBoroughCount, 3},
          {features::kEtaColHour, 24, 4},
          {features::kEtaColWeekday, 7, 3}};
}

StatusOr<models::TabularData> MakeEtaTabularData(const features::EtaFeatureContext& context,
                                                 const EtaDataset& dataset) {
  models::TabularData d;
  d.rows = static_cast<int64_t>(dataset.trips.size());
  d.num_features = features::EtaFeatureCount(context.set);
  d.num_outputs = 1;
  ASSIGN_OR_RETURN(d.features, features::ComputeEtaFeatures(
                                   context, features::EtaRequestsFromTrips(dataset.trips)));
  d.targets = dataset.minutes;
  return d;
}

StatusOr<models::TabularData> MakeOutOfFoldTabularData(const EtaDataset& train,
                                                       const features::EtaFeatureContext& full,
                                                       int folds, const data::ZoneIndex* zones,
                                                       const features::WeatherTable* weather) {
  ASSIGN_OR_RETURN(models::TabularData d, MakeEtaTabularData(full, train));
  if (folds <= 1) return d;
  const size_t n = train.trips.size();
  const int width = d.num_features;
  for (int k = 0; k < folds; ++k) {
    std::vector<size_t> in_fold, rest;
    for (size_t i = 0; i < n; ++i) (static_cast<int>(i % folds) == k ? in_fold : rest).push_back(i);
    if (in_fold.empty() || rest.empty()) continue;
    features::EtaContextOptions options = full.options;
    options.min_max_zone = full.max_zone;  // same zone range and pair keys as the full context
    ASSIGN_OR_RETURN(features::EtaFeatureContext fold_context,
                     features::BuildEtaFeatureContext(full.set, train.trips.Take(rest), zones,
                                                      weather, options));
    if (fold_context.max_zone != full.max_zone) {
      return InternalError("out-of-fold context has a different zone range");
    }
    fold_context.zone_lon = full.zone_lon;  // centroids from all training trips
    fold_context.zone_lat = full.zone_lat;
    const data::TripTable fold_trips = train.trips.Take(in_fold);
    ASSIGN_OR_RETURN(
        std::vector<float> x,
        features::ComputeEtaFeatures(fold_context, features::EtaRequestsFromTrips(fold_trips)));
    for (size_t j = 0; j < in_fold.size(); ++j) {
      std::copy(x.begin() + j * width, x.begin() + (j + 1) * width,
                d.features.begin() + in_fold[j] * width);
    }
  }
  return d;
}

// The pair count of a training row as the server sees it (the drift baseline's served view;
// the model is fit on its own out-of-fold encodings). A served trip comes after the training
// days, so the context counts none of its own day's trips — while a row's random out-of-fold
// context holds 95% of its day's other trips of the same pair (repeats: the same riders, the
// same events), and a fold of whole days holds one day fewer than the server's context. So the
// view counts the pair's trips on the other training days, scaled to all D days by D/(D−1)
// (with one training day: the other trips). On the even days of a month through a model of its
// odd days, 1,000-row windows alarmed on `pair_log_count` in 20 of 35 with the row-fold count,
// and in none with this one (results/monitoring.md).
void SetServedPairCounts(const EtaDataset& train, const features::EtaFeatureContext& full,
                         models::TabularData* view) {
  const std::vector<std::string> names = features::EtaFeatureNames(full.set);
  const auto col = std::find(names.begin(), names.end(), "pair_log_count");
  if (col == names.end()) return;
  const size_t k = static_cast<size_t>(col - names.begin());
  const data::TripTable& t = train.trips;
  auto pair_day = [&](size_t i) {  // (pair, day) as one key: zones < 2^16, days < 2^31
    return (static_cast<uint64_t>(static_cast<uint16_t>(t.pickup_zone[i])) << 48) |
           (static_cast<uint64_t>(static_cast<uint16_t>(t.dropoff_zone[i])) << 32) |
           static_cast<uint32_t>(DayIndex(t.pickup_time_us[i]));
  };
  std::unordered_map<uint64_t, int64_t> same_day;
  std::unordered_set<int64_t> days;
  for (size_t i = 0; i < t.size(); ++i) {
    ++same_day[pair_day(i)];
    days.insert(DayIndex(t.pickup_time_us[i]));
  }
  const double d = static_cast<double>(days.size());
  for (size_t i = 0; i < t.size(); ++i) {
    const features::EtaPairStats* pair = full.FindPair(t.pickup_zone[i], t.dropoff_zone[i]);
    double n = 0;
    if (pair != nullptr) {
      const int64_t others = days.size() > 1 ? pair->count - same_day[pair_day(i)]
                                             : pair->count - 1;
      if (others >= std::max<int64_t>(1, full.options.min_pair_count)) {
        n = days.size() > 1 ? static_cast<double>(others) * d / (d - 1) : others;
      }
    }
    view->features[i * static_cast<size_t>(view->num_features) + k] =
        static_cast<float>(std::log1p(n));
  }
}

std::vector<float> EtaLossEstimatorInputs(const models::TabularData& x,
                                          const std::vector<float>& predicted) {
  std::vector<float> in;
  in.reserve(static_cast<size_t>(x.rows) * static_cast<size_t>(x.num_features + 1));
  for (int64_t r = 0; r < x.rows; ++r) {
    for (int k = 0; k < x.num_features; ++k) in.push_back(x.feature(r, k));
    in.push_back(predicted[static_cast<size_t>(r)]);
  }
  return in;
}

std::string_view EtaLossRowsName(EtaLossRows rows) {
  switch (rows) {
    case EtaLossRows::kValidationHalf:
      return "validation_half";
    case EtaLossRows::kValidationCrossFit:
      return "validation_crossfit";
    case EtaLossRows::kTrainingOutOfFold:
      return "training_out_of_fold";
  }
  return "?";
}

bool IsDayLevelEtaFeature(std::string_view name) {
  static constexpr std::string_view kDayLevel[] = {
      "weekday",  "holiday",    "precipitation_in", "snowfall_in",
      "snow_depth_in", "max_temp_f", "wind_mph",        "weather_missing"};
  for (std::string_view d : kDayLevel) {
    if (name == d) return true;
  }
  return false;
}

namespace {

// Direct loss estimation (#13 item 4, as NannyML does it): a model of this model's squared
// error from the served features and the prediction, published beside the model as
// `loss_model.json` (manifest property "loss_estimator"). The monitor turns it into each
// window's estimated RMSE before the labels come. Shallow, heavily regularised trees: the
// target is heavy-tailed. Which rows it learns from: EtaLossRows (config.loss_estimator_rows).
//
// `tr` is the training rows as the model was fit on them (targets: minutes), `va` the
// validation rows with the published model's `predicted` and the `actual` minutes;
// `model_rounds` the published model's best round count (the fold models' rounds).
StatusOr<std::string> FitEtaLossEstimator(const models::TabularData& tr,
                                          const models::TabularData& va,
                                          const std::vector<float>& predicted,
                                          const std::vector<float>& actual,
                                          const EtaTrainConfig& config, int model_rounds,
                                          const std::vector<models::CategoricalColumn>& categorical,
                                          const std::string& out_dir,
                                          std::ostringstream* summary) {
  const bool gamma = config.loss_estimator_objective == "reg:gamma";
  if (!gamma && config.loss_estimator_objective != "reg:squarederror") {
    return InvalidArgumentError("loss estimator: objective '" + config.loss_estimator_objective +
                                "' (want reg:squarederror or reg:gamma)");
  }
  if (config.loss_estimator_max_rounds < 1) {
    return InvalidArgumentError("loss estimator: loss_estimator_max_rounds must be >= 1, not " +
                                std::to_string(config.loss_estimator_max_rounds));
  }
  EtaLossRows mode = config.loss_estimator_rows;
  if (mode == EtaLossRows::kTrainingOutOfFold &&
      (config.model != "xgboost" || model_rounds < 1 || config.loss_estimator_folds < 2 ||
       tr.rows < config.loss_estimator_folds)) {
    *summary << "loss estimator: " << EtaLossRowsName(mode) << " needs an xgboost model and "
             << ">= 2 folds; fitting on " << EtaLossRowsName(EtaLossRows::kValidationHalf)
             << "\n";
    mode = EtaLossRows::kValidationHalf;
  }
  const int width = va.num_features + 1;
  auto empty = [&] {
    models::TabularData d;
    d.num_features = width;
    d.num_outputs = 1;
    return d;
  };
  // One row: the features, the prediction; the target its squared error (gamma: > 0).
  auto add = [&](models::TabularData* d, const models::TabularData& x, int64_t r, float p,
                 float y) {
    for (int k = 0; k < x.num_features; ++k) d->features.push_back(x.feature(r, k));
    d->features.push_back(p);
    const float e = p - y;
    d->targets.push_back(gamma ? std::max(e * e, 1e-4f) : e * e);
    ++d->rows;
  };
  models::TabularData even = empty(), odd = empty();
  for (int64_t r = 0; r < va.rows; ++r) {
    add(r % 2 == 0 ? &even : &odd, va, r, predicted[static_cast<size_t>(r)],
        actual[static_cast<size_t>(r)]);
  }
  if (even.rows < 200 || odd.rows < 200) {
    return FailedPreconditionError("the loss estimator needs >= 400 validation rows, have " +
                                   std::to_string(va.rows));
  }
  train::TrainerOptions o;
  o.params = {{"objective", config.loss_estimator_objective},
              {"tree_method", "hist"}, {"max_depth", "3"},
              {"eta", "0.05"}, {"subsample", "0.8"}, {"colsample_bytree", "0.8"},
              {"min_child_weight", "100"}, {"lambda", "10"},
              {"rounds", std::to_string(config.loss_estimator_max_rounds)},
              {"early_stopping_rounds", "40"}};
  o.threads = config.threads;
  o.seed = config.seed;
  const std::string dir = out_dir + "/loss_estimator.tmp";
  std::error_code ec;
  // The estimate on rows the published estimator (or its fold twin) did not fit: estimated vs
  // realised RMSE.
  double held_est = 0, held_real = 0;
  int64_t held_rows = 0;
  auto held_out = [&](const models::Model& m, const models::TabularData& d) -> Status {
    ASSIGN_OR_RETURN(std::vector<float> e, m.Predict(d.features));
    for (int64_t r = 0; r < d.rows; ++r) {
      held_est += std::max(0.0f, e[static_cast<size_t>(r)]);
      held_real += d.targets[static_cast<size_t>(r)];
    }
    held_rows += d.rows;
    return OkStatus();
  };
  int64_t fit_rows = 0;
  int rounds = 0;
  train::TrainedModel trained;
  if (mode == EtaLossRows::kValidationHalf) {
    ASSIGN_OR_RETURN(trained, train::Train("xgboost", even, &odd, o, dir));
    RETURN_IF_ERROR(held_out(*trained.model, odd));
    fit_rows = even.rows;
    rounds = trained.best_iterations.at(0);
  } else if (mode == EtaLossRows::kValidationCrossFit) {
    ASSIGN_OR_RETURN(train::TrainedModel a, train::Train("xgboost", even, &odd, o, dir + "/a"));
    ASSIGN_OR_RETURN(train::TrainedModel b, train::Train("xgboost", odd, &even, o, dir + "/b"));
    RETURN_IF_ERROR(held_out(*a.model, odd));
    RETURN_IF_ERROR(held_out(*b.model, even));
    rounds = std::max(1, (a.best_iterations.at(0) + b.best_iterations.at(0) + 1) / 2);
    models::TabularData all = even;
    all.features.insert(all.features.end(), odd.features.begin(), odd.features.end());
    all.targets.insert(all.targets.end(), odd.targets.begin(), odd.targets.end());
    all.rows += odd.rows;
    train::TrainerOptions refit = o;
    refit.fixed_iterations = {rounds};
    ASSIGN_OR_RETURN(trained, train::Train("xgboost", all, nullptr, refit, dir));
    fit_rows = all.rows;
  } else {
    // Out-of-fold predictions of the training rows by fold models of the same kind.
    const int folds = config.loss_estimator_folds;
    std::vector<float> oof(static_cast<size_t>(tr.rows), 0.0f);
    train::TrainerOptions fo = TrainerOptionsFor(config);
    fo.checkpoint_dir.clear();
    fo.checkpoint_every_steps = 0;
    fo.distributed = {};
    fo.categorical = categorical;
    fo.fixed_iterations = {model_rounds};
    for (int k = 0; k < folds; ++k) {
      models::TabularData in = empty();
      in.num_features = tr.num_features;
      std::vector<int64_t> held;
      for (int64_t r = 0; r < tr.rows; ++r) {
        if (r % folds == k) {
          held.push_back(r);
          continue;
        }
        const float* x = tr.features.data() + r * tr.num_features;
        in.features.insert(in.features.end(), x, x + tr.num_features);
        in.targets.push_back(tr.targets[static_cast<size_t>(r)]);
        ++in.rows;
      }
      ASSIGN_OR_RETURN(train::TrainedModel m, train::Train(config.model, in, nullptr, fo,
                                                           dir + "/fold_" + std::to_string(k)));
      std::vector<float> x;
      x.reserve(held.size() * tr.num_features);
      for (int64_t r : held) {
        const float* row = tr.features.data() + r * tr.num_features;
        x.insert(x.end(), row, row + tr.num_features);
      }
      ASSIGN_OR_RETURN(std::vector<float> p, m.model->Predict(x));
      for (size_t j = 0; j < held.size(); ++j) oof[static_cast<size_t>(held[j])] = p[j];
    }
    models::TabularData fit = empty();
    for (int64_t r = 0; r < tr.rows; ++r) {
      add(&fit, tr, r, oof[static_cast<size_t>(r)], tr.targets[static_cast<size_t>(r)]);
    }
    models::TabularData stop = even;  // every validation row, the published model's errors
    stop.features.insert(stop.features.end(), odd.features.begin(), odd.features.end());
    stop.targets.insert(stop.targets.end(), odd.targets.begin(), odd.targets.end());
    stop.rows += odd.rows;
    std::filesystem::remove_all(dir, ec);
    ASSIGN_OR_RETURN(trained, train::Train("xgboost", fit, &stop, o, dir));
    RETURN_IF_ERROR(held_out(*trained.model, stop));
    fit_rows = fit.rows;
    rounds = trained.best_iterations.at(0);
  }
  if (trained.load_path != dir + "/model.json") {
    return InternalError("loss estimator: unexpected artifact " + trained.load_path);
  }
  std::filesystem::rename(trained.load_path, out_dir + "/" + kEtaLossModelFile, ec);
  if (ec) return InternalError("loss estimator: " + ec.message());
  std::filesystem::remove_all(dir, ec);
  const double est_rmse = std::sqrt(held_est / static_cast<double>(held_rows));
  const double real_rmse = std::sqrt(held_real / static_cast<double>(held_rows));
  *summary << "loss estimator (" << config.loss_estimator_objective
           << " of the squared error from the features and the prediction, "
           << EtaLossRowsName(mode) << ": " << fit_rows << " rows, " << rounds
           << " rounds): held-out estimated RMSE " << est_rmse << " vs realised " << real_rmse
           << "\n";
  nlohmann::ordered_json j;
  j["artifact"] = kEtaLossModelFile;
  j["backend"] = trained.backend;
  j["inputs"] = "feature_names, then the prediction";
  j["target"] = "squared error";
  j["objective"] = config.loss_estimator_objective;
  j["rows"] = std::string(EtaLossRowsName(mode));
  j["fit_rows"] = fit_rows;
  j["rounds"] = rounds;
  j["max_rounds"] = config.loss_estimator_max_rounds;
  j["held_out_estimated_rmse"] = est_rmse;
  j["held_out_rmse"] = real_rmse;
  return j.dump();
}

}  // namespace

StatusOr<EtaTrainResult> TrainEtaModel(const EtaDataset& train, const EtaDataset& valid,
                                       const data::ZoneIndex* zones,
                                       const features::WeatherTable* weather,
                                       const EtaTrainConfig& config, const std::string& out_dir,
                                       registry::RunTracker* run,
                                       const EtaProgressCallback& progress) {
  if (train.trips.empty()) return InvalidArgumentError("train: no trips left after the filter");
  if (valid.trips.empty()) return InvalidArgumentError("valid: no trips left after the filter");
  if (config.threads <= 0) return InvalidArgumentError("threads must be > 0");
  RETURN_IF_ERROR(CheckEtaTrainConfig(config));
  if (config.features == EtaFeatureSet::kWithDistance) {
    size_t metered = 0;
    for (float d : train.trips.distance_miles) metered += std::isfinite(d) ? 1 : 0;
    if (metered == 0) {
      return InvalidArgumentError(
          "train: the source has no metered trip_distance; use --features booking");
    }
  }
  if (zones == nullptr) {
    size_t with_coordinates = 0;
    for (double lon : train.trips.pickup_lon) with_coordinates += std::isfinite(lon) ? 1 : 0;
    if (with_coordinates == 0) {
      return InvalidArgumentError(
          "train: the trips have zones but no coordinates; the ETA features need the taxi zone "
          "shapefile for zone centroids (--zones DIR)");
    }
  }
  const auto start = std::chrono::steady_clock::now();
  EtaTrainResult result;
  result.model_dir = out_dir;
  std::ostringstream summary;
  ASSIGN_OR_RETURN(features::EtaFeatureContext context,
                   features::BuildEtaFeatureContext(config.features, train.trips, zones, weather,
                                                    config.context));
  ASSIGN_OR_RETURN(models::TabularData tr,
                   MakeOutOfFoldTabularData(train, context, config.encoding_folds, zones, weather));
  ASSIGN_OR_RETURN(models::TabularData va, MakeEtaTabularData(context, valid));
  summary << "features: " << features::EtaFeatureSpecName(config.features) << " ("
          << tr.num_features << " columns), context from " << context.training_rows
          << " training trips, " << context.pairs.size() << " zone pairs\n";
  RETURN_IF_ERROR(MakeDirs(out_dir));
  RETURN_IF_ERROR(features::SaveEtaFeatureContext(context, out_dir));
  if (run != nullptr) RETURN_IF_ERROR(run->LogParams(ConfigParams(config)));

  double mean = 0;
  for (float y : train.minutes) mean += y;
  mean /= static_cast<double>(train.minutes.size());

  Status progress_status;
  const train::ProgressCallback on_progress =
      train::TrackProgress(run, "", progress, &progress_status);

  registry::Manifest manifest;
  manifest.name = config.model_name;
  manifest.task = "eta";
  std::vector<std::string> artifacts;
  std::unique_ptr<models::Model> fitted;  // the trained model (for the output's drift baseline)
  if (config.model == kEtaBaselineModel) {
    auto b = EtaBaselineModel::Make(config.baseline, config.features, static_cast<float>(mean));
    RETURN_IF_ERROR(b->Save(out_dir + "/baseline.json"));
    manifest.backend = "baseline";
    artifacts = {"baseline.json"};
    summary << "baseline " << EtaBaselineName(config.baseline) << "\n";
  } else {
    train::TrainerOptions o = TrainerOptionsFor(config);
    o.categorical = EtaCategoricalColumns(context, config.zone_embedding_dim);
    ASSIGN_OR_RETURN(train::TrainedModel trained,
                     train::Train(config.model, tr, &va, o, out_dir, on_progress));
    if (run != nullptr) {
      RETURN_IF_ERROR(
          run->LogParams(train::PrefixedParams(config.model + ".", trained.resolved_params)));
    }
    manifest.backend = trained.backend;
    artifacts = trained.artifacts;
    summary << trained.summary << "\n";
    manifest.properties["best_iteration"] = std::to_string(trained.best_iterations.at(0));
    manifest.properties["train_rows_per_second"] = Num(trained.rows_per_second);
    fitted = std::move(trained.model);
  }
  RETURN_IF_ERROR(progress_status);
  for (const std::string& f : features::EtaContextFileNames()) artifacts.push_back(f);
  manifest.artifacts = artifacts;
  manifest.inputs = {{"features", registry::DType::kFloat32, {-1, tr.num_features}}};
  manifest.outputs = {{"eta_minutes", registry::DType::kFloat32, {-1, 1}}};
  manifest.feature_spec = registry::FeatureSpecRef{
      std::string(features::EtaFeatureSpecName(config.features)), features::kEtaFeatureSpecVersion,
      features::EtaRequestFields(config.features)};
  if (run != nullptr) manifest.run_id = run->run_id();
  const std::vector<std::string> names = features::EtaFeatureNames(config.features);
  // The drift baseline is the features as the server computes them, not as the model was fit
  // on them: the learned encodings (pair counts, medians) of the training rows are out-of-fold
  // over `encoding_folds` folds (4/5 of the rows at the default 5), while a served trip is
  // encoded with the context of all of them — `pair_log_count` alone sits log(5/4) lower in
  // the training view and alarmed on half the windows of exchangeable data
  // (results/monitoring.md). The served view of a training row: out-of-fold over many folds
  // (`drift_baseline_folds`, the context holds 1 − 1/folds of the rows and never the row itself,
  // as the served context never holds the trip it encodes).
  const models::TabularData* baseline_rows = &tr;
  models::TabularData served_view;
  if (config.drift_baseline_folds > 1 && config.drift_baseline_folds != config.encoding_folds) {
    ASSIGN_OR_RETURN(served_view, MakeOutOfFoldTabularData(train, context,
                                                           config.drift_baseline_folds, zones,
                                                           weather));
    SetServedPairCounts(train, context, &served_view);
    baseline_rows = &served_view;
  }
  ASSIGN_OR_RETURN(manifest.feature_stats, train::TrainingFeatureStats(*baseline_rows, names));
  registry::SetFeatureNames(&manifest, names);
  // The spec's categorical features (zones, boroughs) also get a baseline of their category
  // frequencies: drift scores them as categories (chi-square, Jensen–Shannon), not as numbers.
  for (const std::string& name : features::EtaCategoricalFeatureNames(config.features)) {
    const int k = static_cast<int>(std::find(names.begin(), names.end(), name) - names.begin());
    if (k >= static_cast<int>(names.size())) {
      return InternalError("ETA categorical feature '" + name + "' is not a feature of the spec");
    }
    std::vector<float> column(static_cast<size_t>(baseline_rows->rows));
    for (int64_t r = 0; r < baseline_rows->rows; ++r) column[r] = baseline_rows->feature(r, k);
    ASSIGN_OR_RETURN(manifest.category_stats[name], registry::ComputeCategoryStats(column, name));
  }
  // Drift of the output: the model's predictions on the same served-view rows, kept under the
  // output's name ("eta_minutes") beside the features' stats.
  std::vector<float> output_baseline;
  const std::string output_name = manifest.outputs.at(0).name;
  if (fitted != nullptr && fitted->num_outputs() == 1) {
    ASSIGN_OR_RETURN(output_baseline, fitted->Predict(baseline_rows->features));
    manifest.feature_stats[output_name] = registry::ComputeFeatureStats(output_baseline);
  }
  if (config.drift_window_rows > 0 &&
      baseline_rows->rows == static_cast<int64_t>(train.trips.size())) {
    // The training rows' own window-to-window variation, windows in pickup order.
    std::vector<size_t> order(train.trips.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return train.trips.pickup_time_us[a] < train.trips.pickup_time_us[b];
    });
    std::map<std::string, std::vector<float>> columns;
    std::string day_level;
    for (int k = 0; k < baseline_rows->num_features; ++k) {
      if (IsDayLevelEtaFeature(names[k])) day_level += (day_level.empty() ? "" : ",") + names[k];
      std::vector<float>& col = columns[names[k]];
      col.reserve(order.size());
      for (size_t r : order) col.push_back(baseline_rows->feature(static_cast<int64_t>(r), k));
    }
    if (!output_baseline.empty()) {
      std::vector<float>& col = columns[output_name];
      for (size_t r : order) col.push_back(output_baseline[r]);
    }
    auto calibrate = [&](bool with_day_level) {
      std::map<std::string, std::vector<float>> used;
      for (const auto& [name, col] : columns) {
        if (with_day_level || !IsDayLevelEtaFeature(name)) used[name] = col;
      }
      return monitoring::CalibrateDrift(manifest.feature_stats, manifest.category_stats, used,
                                        config.drift_window_rows, config.drift_target_rate);
    };
    using DayLevel = EtaTrainConfig::DayLevelDrift;
    bool with_day_level = config.drift_day_level != DayLevel::kScoreOnly || day_level.empty();
    StatusOr<monitoring::DriftCalibration> drift = calibrate(with_day_level);
    if (config.drift_day_level == DayLevel::kAuto && !day_level.empty() && drift.ok() &&
        drift->held_out_rate > drift->target_rate) {
      StatusOr<monitoring::DriftCalibration> without = calibrate(false);
      if (without.ok() && without->held_out_rate < drift->held_out_rate) {
        summary << "drift: held-out rate " << drift->held_out_rate
                << " with the one-value-per-day features, " << without->held_out_rate
                << " without them: calibrated without\n";
        drift = std::move(without);
        with_day_level = false;
      }
    }
    if (drift.ok()) {
      manifest.properties[monitoring::kDriftCalibrationProperty] =
          monitoring::DriftCalibrationToJson(*drift);
      summary << "drift alarms calibrated on " << drift->windows << " training windows of "
              << drift->window_rows << " rows every " << drift->stride_rows
              << " (served-view features; fit at rate " << drift->fit_rate
              << ", held-out rate " << drift->held_out_rate << ", training alarm rate " << drift->training_rate
              << ", target " << drift->target_rate << ")\n";
      if (!with_day_level) {
        summary << "drift of one-value-per-day features scored, not alarmed: " << day_level
                << "\n";
      }
    } else {
      summary << "drift alarms not calibrated: " << drift.status().message() << "\n";
    }
  }
  manifest.properties["train_filter"] = train.report.filter;
  manifest.properties["train_rows"] = std::to_string(train.report.kept);
  manifest.properties["valid_rows"] = std::to_string(valid.report.kept);
  manifest.properties["train_report"] = train.report.ToString();
  manifest.properties["valid_report"] = valid.report.ToString();
  manifest.created_at = registry::NowRfc3339();
  RETURN_IF_ERROR(WriteFileAtomic(out_dir + "/" + registry::kManifestFileName,
                                  registry::ManifestToJson(manifest)));

  // Evaluate through the written folder: the artifact and context a server would load.
  ASSIGN_OR_RETURN(LoadedEtaModel loaded, LoadEtaModel(out_dir, config.threads));
  ASSIGN_OR_RETURN(std::vector<float> predicted, PredictEta(loaded, valid.trips));
  result.comparison.push_back(
      {ModelLabel(config), EvaluateEta(predicted, valid.minutes, valid.trips)});
  if (config.loss_estimator && train::HasTrainer("xgboost") &&
      va.rows == static_cast<int64_t>(predicted.size())) {
    const int model_rounds =
        manifest.properties.count("best_iteration") > 0
            ? std::atoi(manifest.properties.at("best_iteration").c_str())
            : 0;
    StatusOr<std::string> loss = FitEtaLossEstimator(
        tr, va, predicted, valid.minutes, config, model_rounds,
        EtaCategoricalColumns(context, config.zone_embedding_dim), out_dir, &summary);
    if (loss.ok()) {
      manifest.properties[monitoring::kLossEstimatorProperty] = *loss;
      manifest.artifacts.push_back(kEtaLossModelFile);
    } else {
      summary << "no loss estimator: " << loss.status().message() << "\n";
    }
  }
  std::map<std::string, double> metrics;
  AddMetrics("valid_", result.comparison[0].second.overall, &metrics);
  for (EtaBaselineKind kind : kAllEtaBaselines) {
    auto b = EtaBaselineModel::Make(kind, config.features, static_cast<float>(mean));
    std::vector<float> p(static_cast<size_t>(va.rows));
    RETURN_IF_ERROR(b->Predict(va.features.data(), va.rows, p.data()));
    result.comparison.push_back({"baseline " + std::string(EtaBaselineName(kind)),
                                 EvaluateEta(p, valid.minutes, valid.trips)});
    metrics["baseline_" + std::string(EtaBaselineName(kind)) + "_valid_rmse"] =
        result.comparison.back().second.overall.rmse;
  }
  metrics["train_rows"] = static_cast<double>(tr.rows);
  metrics["train_seconds"] =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  manifest.metrics = metrics;
  RETURN_IF_ERROR(WriteFileAtomic(out_dir + "/" + registry::kManifestFileName,
                                  registry::ManifestToJson(manifest)));
  if (run != nullptr) {
    RETURN_IF_ERROR(run->LogMetrics(metrics, 0));
    RETURN_IF_ERROR(run->SetTags(
        {{"feature_spec", manifest.feature_spec->ToString()}, {"backend", manifest.backend}}));
  }
  result.manifest = manifest;
  result.summary = summary.str();
  return result;
}

StatusOr<LoadedEtaModel> LoadEtaModel(const std::string& dir, int threads,
                                      const std::string& backend) {
  const std::string path = dir + "/" + registry::kManifestFileName;
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  LoadedEtaModel m;
  ASSIGN_OR_RETURN(m.manifest, registry::ManifestFromJson(text, path, /*require_version=*/false));
  if (m.manifest.task != "eta" || !m.manifest.feature_spec) {
    return InvalidArgumentError(
        path + ": not an ETA model (task '" + m.manifest.task + "', feature spec " +
        (m.manifest.feature_spec ? m.manifest.feature_spec->ToString() : std::string("none")) +
        ")");
  }
  ASSIGN_OR_RETURN(EtaFeatureSet set, features::ParseEtaFeatureSet(m.manifest.feature_spec->name));
  ASSIGN_OR_RETURN(m.context, features::LoadEtaFeatureContext(dir));
  if (m.context.set != set) {
    return InvalidArgumentError(dir + ": context is " +
                                std::string(features::EtaFeatureSpecName(m.context.set)) +
                                " but the manifest says " + m.manifest.feature_spec->name);
  }
  const std::string b = backend.empty() ? m.manifest.backend : backend;
  models::LoadOptions lo;
  lo.num_threads = threads;
  if (b == "baseline") {
    ASSIGN_OR_RETURN(auto baseline, EtaBaselineModel::Load(dir + "/" + m.manifest.artifacts[0]));
    m.model = std::move(baseline);
  } else if (b == "native_mlp") {
    ASSIGN_OR_RETURN(m.model, models::LoadModel(b, dir + "/net.json", lo));
  } else if (b == "native_trees") {
    ASSIGN_OR_RETURN(m.model, models::LoadModel(b, dir + "/model.json", lo));
  } else {
    ASSIGN_OR_RETURN(m.model, models::LoadModel(b, dir + "/" + m.manifest.artifacts[0], lo));
  }
  if (m.model->num_features() != features::EtaFeatureCount(set) || m.model->num_outputs() != 1) {
    return InvalidArgumentError(dir + ": model takes " + std::to_string(m.model->num_features()) +
                                " features and gives " + std::to_string(m.model->num_outputs()) +
                                " outputs; " + m.manifest.feature_spec->name + " makes " +
                                std::to_string(features::EtaFeatureCount(set)) + " and ETA is 1");
  }
  return m;
}

StatusOr<std::vector<float>> PredictEta(const LoadedEtaModel& model, const data::TripTable& trips) {
  ASSIGN_OR_RETURN(std::vector<float> x, features::ComputeEtaFeatures(
                                             model.context, features::EtaRequestsFromTrips(trips)));
  std::vector<float> out(trips.size());
  RETURN_IF_ERROR(model.model->Predict(x.data(), static_cast<int64_t>(trips.size()), out.data()));
  return out;
}

}  // namespace bimride::tasks::eta
