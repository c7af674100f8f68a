#include "tasks/demand/demand_models.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <random>

#include "common/civil_time.h"
#include "common/file.h"
#include "common/logging.h"
#include "models/native/native_mlp_model.h"
#include "models/torch/tabular_net.h"
#include "models/xgboost/xgboost_model.h"
#include "models/xgboost/xgboost_trainer.h"

namespace bimride::tasks::demand {
namespace {

using features::DemandBaselines;
using features::DemandFeatures;
using features::DemandGrid;
namespace xgb = models::xgboost_backend;
namespace tnet = models::torch_backend;

std::string ScratchDir(const DemandTrainOptions& options, DemandModelKind kind) {
  std::string base = options.work_dir;
  if (base.empty()) base = (std::filesystem::temp_directory_path() / "bimride_demand").string();
  std::mt19937_64 rng(std::random_device{}());
  return base + "/" + std::string(DemandModelName(kind)) + "_" + std::to_string(rng() % 1000000000);
}

// One output column of a multi-output data set.
models::TabularData OneOutput(const models::TabularData& d, int output) {
  models::TabularData out;
  out.rows = d.rows;
  out.num_features = d.num_features;
  out.num_outputs = 1;
  out.features = d.features;
  out.targets.resize(d.rows);
  for (int64_t r = 0; r < d.rows; ++r) out.targets[r] = d.targets[r * d.num_outputs + output];
  return out;
}

xgb::XgboostOptions XgbOptions(const DemandTrainOptions& o) {
  xgb::XgboostOptions x;
  x.objective = o.xgboost.objective;
  x.max_depth = o.xgboost.max_depth;
  x.eta = o.xgboost.eta;
  x.rounds = o.xgboost.rounds;
  x.early_stopping_rounds = o.xgboost.early_stopping_rounds;
  x.subsample = o.xgboost.subsample;
  x.colsample_bytree = o.xgboost.colsample_bytree;
  x.min_child_weight = o.xgboost.min_child_weight;
  x.lambda = o.xgboost.lambda;
  x.tweedie_variance_power = o.xgboost.tweedie_variance_power;
  x.nthread = o.threads;
  x.seed = o.seed;
  return x;
}

tnet::TabularNetOptions TorchOptions(const DemandTrainOptions& o, const DemandFeatures& f,
                                     size_t zones) {
  tnet::TabularNetOptions t;
  t.categorical.push_back(
      {DemandFeatures::kZoneColumn, static_cast<int>(zones), o.torch.zone_embedding_dim});
  if (o.torch.slot_embedding_dim > 0) {
    for (int col : f.TargetSlotColumns()) {
      t.categorical.push_back({col, f.buckets_per_day(), o.torch.slot_embedding_dim});
    }
  }
  t.hidden_sizes = o.torch.hidden_sizes;
  t.dropout = o.torch.dropout;
  t.loss = o.torch.poisson ? tnet::TabularLoss::kPoisson : tnet::TabularLoss::kMse;
  t.learning_rate = o.torch.learning_rate;
  t.weight_decay = o.torch.weight_decay;
  t.batch_size = o.torch.batch_size;
  t.epochs = o.torch.epochs;
  t.patience = o.torch.patience;
  t.seed = o.seed;
  t.num_threads = o.threads;
  return t;
}

void ShrinkTargets(DemandRows* rows, double c) {
  for (float& y : rows->data.targets) y = std::max(0.0f, y - static_cast<float>(c));
}

// The shrink c whose forecasts μ − c·(1 − e^−μ) (the mean of max(y − c, 0) for a Poisson count
// of mean μ) do best on the validation slice by WAPE and RMSE together, each relative to the
// historical average's on the same slice (the baseline a model must beat on both).
StatusOr<double> ChooseShrink(const DemandFeatures& feats, const DemandRows& valid,
                              const std::vector<float>& mean) {
  const int horizons = feats.config().horizons;
  const auto& names = feats.names();
  std::vector<int> ha_col;
  for (int h = 1; h <= horizons; ++h) {
    const auto it = std::find(names.begin(), names.end(), "ha_weekday_slot_h" + std::to_string(h));
    if (it == names.end()) return InternalError("demand features: no ha_weekday_slot column");
    ha_col.push_back(static_cast<int>(it - names.begin()));
  }
  const auto score = [&](auto forecast) {
    double abs_err = 0, sq_err = 0, ha_abs = 0, ha_sq = 0;
    for (int64_t r = 0; r < valid.data.rows; ++r) {
      for (int h = 0; h < horizons; ++h) {
        const double y = valid.data.targets[r * horizons + h];
        const double p = forecast(mean[r * horizons + h]);
        const double ha = std::expm1(valid.data.feature(r, ha_col[h]));
        abs_err += std::fabs(p - y);
        sq_err += (p - y) * (p - y);
        ha_abs += std::fabs(ha - y);
        ha_sq += (ha - y) * (ha - y);
      }
    }
    return abs_err / std::max(ha_abs, 1e-9) + std::sqrt(sq_err / std::max(ha_sq, 1e-9));
  };
  double best_c = 0, best = std::numeric_limits<double>::infinity();
  for (double c : {0.0, 0.1, 0.2, 0.3, 0.4, 0.5}) {
    const double v = score([c](double mu) { return mu - c * (1 - std::exp(-mu)); });
    if (v < best - 1e-12) best = v, best_c = c;
  }
  return best_c;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

std::string_view DemandModelName(DemandModelKind kind) {
  switch (kind) {
    case DemandModelKind::kSeasonalNaive:
      return "seasonal_naive";
    case DemandModelKind::kHistoricalAverage:
      return "historical_average";
    case DemandModelKind::kXgboost:
      return "xgboost";
    case DemandModelKind::kTorch:
      return "torch_mlp";
  }
  return "unknown";
}

StatusOr<DemandModelKind> ParseDemandModelKind(std::string_view name) {
  for (DemandModelKind k : {DemandModelKind::kSeasonalNaive, DemandModelKind::kHistoricalAverage,
                            DemandModelKind::kXgboost, DemandModelKind::kTorch}) {
    if (name == DemandModelName(k)) return k;
  }
  return InvalidArgumentError("unknown demand model '" + std::string(name) +
                              "' (known: seasonal_naive, historical_average, xgboost, torch_mlp)");
}

StatusOr<std::vector<float>> TrainedDemandModel::Predict(const DemandGrid& grid,
                                                         const DemandRows& rows) const {
  const int horizons = config.horizons;
  if (rows.data.num_outputs != horizons) {
    return InvalidArgumentError("demand predict: rows have " +
                                std::to_string(rows.data.num_outputs) + " horizons, model " +
                                std::to_string(horizons));
  }
  if (grid.zones() != baselines.zones) {
    return InvalidArgumentError("demand predict: the grid's zones are not the model's");
  }
  std::vector<float> out(static_cast<size_t>(rows.data.rows) * horizons);
  switch (kind) {
    case DemandModelKind::kSeasonalNaive: {
      const int64_t week = grid.buckets_per_week();
      for (int64_t r = 0; r < rows.data.rows; ++r) {
        for (int h = 1; h <= horizons; ++h) {
          const int64_t b = rows.origin[r] + h - week;
          if (b < 0) return OutOfRangeError("seasonal naive: no count a week before the target");
          out[r * horizons + h - 1] = grid.count(rows.zone_pos[r], b);
        }
      }
      return out;
    }
    case DemandModelKind::kHistoricalAverage: {
      for (int64_t r = 0; r < rows.data.rows; ++r) {
        for (int h = 1; h <= horizons; ++h) {
          const features::BucketCalendar c = grid.Calendar(rows.origin[r] + h);
          out[r * horizons + h - 1] =
              baselines.WeekdaySlotMean(rows.zone_pos[r], c.weekday, c.slot_of_day);
        }
      }
      return out;
    }
    case DemandModelKind::kXgboost:
    case DemandModelKind::kTorch:
      if (model == nullptr) return FailedPreconditionError("demand predict: model not trained");
      RETURN_IF_ERROR(model->Predict(rows.data.features.data(), rows.data.rows, out.data()));
      return out;
  }
  return InternalError("demand predict: unknown model kind");
}

StatusOr<TrainedDemandModel> TrainDemandModel(DemandModelKind kind, const DemandGrid& grid,
                                              const features::WeatherTable* weather,
                                              int64_t train_begin, int64_t train_end,
                                              const DemandTrainOptions& options,
                                              const DemandProgress& progress) {
  if (options.features.bucket_minutes != grid.bucket_minutes()) {
    return InvalidArgumentError(
        "demand training: features use " + std::to_string(options.features.bucket_minutes) +
        "-minute buckets, the grid " + std::to_string(grid.bucket_minutes()));
  }
  TrainedDemandModel m;
  m.kind = kind;
  m.config = options.features;
  ASSIGN_OR_RETURN(m.baselines,
                   features::ComputeDemandBaselines(grid, train_begin, train_end, 0, 0, weather));
  if (!IsLearned(kind)) return m;

  ASSIGN_OR_RETURN(DemandFeatures feats, DemandFeatures::Create(options.features, weather));
  const int64_t valid_buckets =
      static_cast<int64_t>(std::llround(options.valid_days * grid.buckets_per_day()));
  const int64_t valid_begin = train_end - valid_buckets;
  if (valid_buckets <= 0 || valid_begin <= train_begin + grid.buckets_per_week()) {
    return InvalidArgumentError("demand training: the validation slice of " +
                                std::to_string(options.valid_days) +
                                " days leaves too little of the training period");
  }
  std::optional<DemandGrid> augmented;
  if (options.level_augment_sigma > 0) {
    augmented = LevelAugmentedGrid(grid, options.level_augment_sigma, options.level_augment_rho,
                                   options.seed);
  }
  const DemandGrid* rows_grid = augmented ? &*augmented : nullptr;
  // Fit rows: [train_begin, valid_begin) with out-of-fold baselines. Validation rows: targets in
  // [valid_begin, train_end), seen through the fit period's baselines — as the test will be.
  ASSIGN_OR_RETURN(DemandRows fit, BuildTrainingRows(grid, feats, train_begin, valid_begin, weather,
                                                     TrainingBaselines::kOutOfFold, rows_grid));
  ASSIGN_OR_RETURN(DemandBaselines fit_baselines,
                   features::ComputeDemandBaselines(grid, train_begin, valid_begin, 0, 0, weather));
  const int64_t horizons = options.features.horizons;
  ASSIGN_OR_RETURN(DemandRows valid, BuildForecastRows(grid, feats, fit_baselines, valid_begin - 1,
                                                       train_end - horizons));
  std::optional<DemandRows> full;
  if (options.refit) {
    ASSIGN_OR_RETURN(full, BuildTrainingRows(grid, feats, train_begin, train_end, weather,
                                             TrainingBaselines::kOutOfFold, rows_grid));
  }
  if (!std::isfinite(options.target_shrink) ||
      (options.target_shrink < 0 && options.target_shrink != kAutoShrink)) {
    return InvalidArgumentError("demand training: target_shrink must be >= 0 (or auto)");
  }
  if (options.target_shrink == kAutoShrink && !options.refit) {
    return InvalidArgumentError("demand training: an automatic target shrink needs the refit");
  }
  const auto report = [&](const std::string& what) {
    const std::string stage = std::string(DemandModelName(kind)) + "_" + what;
    return [&progress, stage](const models::TrainingProgress& p) {
      if (progress) progress(stage, p);
    };
  };
  m.artifact_dir = ScratchDir(options, kind);
  RETURN_IF_ERROR(MakeDirs(m.artifact_dir));
  const auto start = std::chrono::steady_clock::now();
  // A fixed shrink applies to every stage; the automatic one is chosen on the validation slice
  // from the (mean-forecasting) fit model and applies to the refit.
  double shrink = options.target_shrink == kAutoShrink ? 0 : options.target_shrink;
  if (shrink > 0) {
    ShrinkTargets(&fit, shrink);
    ShrinkTargets(&valid, shrink);
  }
  const auto choose_shrink = [&](const models::Model& fit_model) -> Status {
    if (options.target_shrink != kAutoShrink) return OkStatus();
    std::vector<float> pred(static_cast<size_t>(valid.data.rows) * horizons);
    RETURN_IF_ERROR(fit_model.Predict(valid.data.features.data(), valid.data.rows, pred.data()));
    ASSIGN_OR_RETURN(shrink, ChooseShrink(feats, valid, pred));
    m.train_info["target_shrink"] = shrink;
    return OkStatus();
  };
  if (full && shrink > 0 && options.target_shrink != kAutoShrink) ShrinkTargets(&*full, shrink);

  if (kind == DemandModelKind::kXgboost) {
    xgb::XgboostOptions xo = XgbOptions(options);
    ASSIGN_OR_RETURN(xgb::TrainedXgboost trained,
                     xgb::TrainXgboost(fit.data, &valid.data, xo, report("fit")));
    for (int k = 0; k < trained.num_outputs(); ++k) {
      m.train_info["valid_" + trained.metric_name + "_h" + std::to_string(k + 1)] =
          trained.outputs[k].best_valid_metric;
      m.train_info["best_round_h" + std::to_string(k + 1)] = trained.outputs[k].best_round;
    }
    m.train_rows = fit.data.rows;
    models::LoadOptions lo;
    lo.num_threads = options.threads;
    if (full) {
      if (options.target_shrink == kAutoShrink) {
        RETURN_IF_ERROR(xgb::SaveXgboostModel(trained, m.artifact_dir + "/fit_model"));
        ASSIGN_OR_RETURN(std::unique_ptr<models::Model> fit_model,
                         xgb::LoadXgboostModel(m.artifact_dir + "/fit_model", lo));
        RETURN_IF_ERROR(choose_shrink(*fit_model));
        if (shrink > 0) ShrinkTargets(&*full, shrink);
      }
      // One booster per horizon, each for the rounds its early stopping kept.
      xgb::TrainedXgboost refit;
      refit.num_features = trained.num_features;
      refit.metric_name = trained.metric_name;
      for (int k = 0; k < trained.num_outputs(); ++k) {
        xgb::XgboostOptions ko = xo;
        ko.rounds = std::max(1, trained.outputs[k].best_round);
        ko.early_stopping_rounds = 0;
        const models::TabularData one = OneOutput(full->data, k);
        ASSIGN_OR_RETURN(xgb::TrainedXgboost single, xgb::TrainXgboost(one, nullptr, ko));
        refit.outputs.push_back(std::move(single.outputs[0]));
      }
      trained = std::move(refit);
      m.train_rows = full->data.rows;
    }
    const std::string path = m.artifact_dir + "/model";
    RETURN_IF_ERROR(xgb::SaveXgboostModel(trained, path));
    ASSIGN_OR_RETURN(std::unique_ptr<models::Model> loaded, xgb::LoadXgboostModel(path, lo));
    m.model = std::move(loaded);
    m.backend = "xgboost";
  } else {
    std::vector<models::native::MlpNet> nets;
    std::vector<int> epochs;
    double rows_per_second = 0, valid_loss = 0;
    const int members = std::max(1, options.torch.ensemble);
    for (int k = 0; k < members; ++k) {
      tnet::TabularNetOptions to = TorchOptions(options, feats, grid.num_zones());
      to.seed = options.seed + static_cast<uint64_t>(k);
      ASSIGN_OR_RETURN(tnet::TrainedTabularNet trained,
                       tnet::TrainTabularNet(fit.data, &valid.data, to, report("fit")));
      valid_loss += trained.report.best_valid_loss / members;
      rows_per_second += trained.report.rows_per_second / members;
      m.train_info["torch_threads"] = trained.report.num_threads;
      epochs.push_back(std::max(1, trained.report.best_epoch));
      nets.push_back(std::move(trained.net));
    }
    m.train_rows = fit.data.rows;
    if (full) {
      ASSIGN_OR_RETURN(models::native::MlpNet fit_net, models::native::AverageMlpNets(nets));
      ASSIGN_OR_RETURN(std::unique_ptr<models::Model> fit_model,
                       models::native::MakeNativeMlpModel(fit_net));
      RETURN_IF_ERROR(choose_shrink(*fit_model));
      if (shrink > 0 && options.target_shrink == kAutoShrink) ShrinkTargets(&*full, shrink);
      for (int k = 0; k < members; ++k) {
        tnet::TabularNetOptions to = TorchOptions(options, feats, grid.num_zones());
        to.seed = options.seed + static_cast<uint64_t>(k);
        to.epochs = epochs[k];
        ASSIGN_OR_RETURN(tnet::TrainedTabularNet trained,
                         tnet::TrainTabularNet(full->data, nullptr, to, report("refit")));
        nets[k] = std::move(trained.net);
      }
      m.train_rows = full->data.rows;
    }
    double mean_epochs = 0;
    for (int e : epochs) mean_epochs += static_cast<double>(e) / members;
    m.train_info["valid_loss"] = valid_loss;
    m.train_info["best_epoch"] = mean_epochs;
    m.train_info["fit_rows_per_second"] = rows_per_second;
    m.train_info["ensemble"] = members;
    ASSIGN_OR_RETURN(models::native::MlpNet net, models::native::AverageMlpNets(nets));
    RETURN_IF_ERROR(tnet::ExportTabularNet(net, m.artifact_dir + "/model"));
    ASSIGN_OR_RETURN(std::unique_ptr<models::Model> native,
                     models::native::MakeNativeMlpModel(net));
    m.model = std::move(native);
    m.backend = "torchscript";
  }
  m.train_info["target_shrink"] = shrink;
  m.train_info["train_seconds"] = Seconds(start);
  m.train_info["fit_rows"] = static_cast<double>(fit.data.rows);
  m.train_info["valid_rows"] = static_cast<double>(valid.data.rows);
  return m;
}

}  // namespace bimride::tasks::demand
