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
#include "train/trainer.h"

namespace bimride::tasks::demand {
namespace {

using features::DemandBaselines;
using features::DemandFeatures;
using features::DemandGrid;

std::string ScratchDir(const DemandTrainOptions& options, DemandModelKind kind) {
  std::string base = options.work_dir;
  if (base.empty()) base = (std::filesystem::temp_directory_path() / "bimride_demand").string();
  std::mt19937_64 rng(std::random_device{}());
  return base + "/" + std::string(DemandModelName(kind)) + "_" + std::to_string(rng() % 1000000000);
}

// Options for the trainer of a learned kind: its hyper-parameters from the demand settings,
// the zone (and target-slot) columns as categorical.
train::TrainerOptions TrainerOptionsFor(DemandModelKind kind, const DemandTrainOptions& o,
                                        const DemandFeatures& f, size_t zones) {
  train::TrainerOptions t;
  t.threads = o.threads;
  t.seed = o.seed;
  if (kind == DemandModelKind::kXgboost) {
    const DemandXgboostSettings& x = o.xgboost;
    t.params = {{"objective", x.objective},
                {"max_depth", std::to_string(x.max_depth)},
                {"eta", train::ParamValue(x.eta)},
                {"rounds", std::to_string(x.rounds)},
                {"early_stopping_rounds", std::to_string(x.early_stopping_rounds)},
                {"subsample", train::ParamValue(x.subsample)},
                {"colsample_bytree", train::ParamValue(x.colsample_bytree)},
                {"min_child_weight", train::ParamValue(x.min_child_weight)},
                {"lambda", train::ParamValue(x.lambda)},
                {"tweedie_variance_power", train::ParamValue(x.tweedie_variance_power)}};
    return t;
  }
  const DemandTorchSettings& n = o.torch;
  t.categorical.push_back(
      {DemandFeatures::kZoneColumn, static_cast<int>(zones), n.zone_embedding_dim});
  if (n.slot_embedding_dim > 0) {
    for (int col : f.TargetSlotColumns()) {
      t.categorical.push_back({col, f.buckets_per_day(), n.slot_embedding_dim});
    }
  }
  std::string hidden;
  for (int h : n.hidden_sizes) hidden += (hidden.empty() ? "" : ",") + std::to_string(h);
  t.params = {{"hidden_sizes", hidden},
              {"dropout", train::ParamValue(n.dropout)},
              {"learning_rate", train::ParamValue(n.learning_rate)},
              {"weight_decay", train::ParamValue(n.weight_decay)},
              {"batch_size", std::to_string(n.batch_size)},
              {"epochs", std::to_string(n.epochs)},
              {"patience", std::to_string(n.patience)},
              {"ensemble", std::to_string(std::max(1, n.ensemble))}};
  t.loss = n.poisson ? train::Loss::kPoisson : train::Loss::kSquaredError;
  t.distributed = o.distributed;
  t.checkpoint_dir = o.checkpoint_dir;
  t.checkpoint_every_steps = o.checkpoint_every_steps;
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

std::string DemandTrainerKind(DemandModelKind kind) {
  return kind == DemandModelKind::kXgboost ? "xgboost" : "torch";
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

  // Fit with early stopping on the validation slice; then, with `refit`, train again on the
  // whole period for the rounds/epochs each sub-model (booster per horizon, ensemble member)
  // kept.
  const std::string trainer = DemandTrainerKind(kind);
  const train::TrainerOptions to = TrainerOptionsFor(kind, options, feats, grid.num_zones());
  ASSIGN_OR_RETURN(
      train::TrainedModel trained,
      train::Train(trainer, fit.data, &valid.data, to, m.artifact_dir + "/fit", report("fit")));
  for (size_t k = 0; k < trained.best_iterations.size(); ++k) {
    // XGBoost: one booster per horizon; LibTorch: one net per ensemble member.
    const std::string sub =
        "_" + std::string(kind == DemandModelKind::kXgboost ? "h" : "m") + std::to_string(k + 1);
    m.train_info["valid_" + trained.metric_name + sub] = trained.best_valid_metric[k];
    m.train_info["best_iteration" + sub] = trained.best_iterations[k];
  }
  m.train_info["fit_rows_per_second"] = trained.rows_per_second;
  m.train_info["threads"] = trained.threads_used;
  m.train_rows = fit.data.rows;
  if (full) {
    RETURN_IF_ERROR(choose_shrink(*trained.model));
    if (shrink > 0 && options.target_shrink == kAutoShrink) ShrinkTargets(&*full, shrink);
    train::TrainerOptions refit = to;
    refit.fixed_iterations = trained.best_iterations;
    ASSIGN_OR_RETURN(trained, train::Train(trainer, full->data, nullptr, refit,
                                           m.artifact_dir + "/model", report("refit")));
    m.train_rows = full->data.rows;
  } else {
    // The fit model is the model: its files move to where publishing looks for them.
    std::error_code ec;
    std::filesystem::rename(m.artifact_dir + "/fit", m.artifact_dir + "/model", ec);
    if (ec) return InternalError("demand training: cannot move the model files: " + ec.message());
  }
  m.artifacts = trained.artifacts;
  m.backend = trained.backend;
  m.model = std::move(trained.model);
  m.train_info["target_shrink"] = shrink;
  m.train_info["train_seconds"] = Seconds(start);
  m.train_info["fit_rows"] = static_cast<double>(fit.data.rows);
  m.train_info["valid_rows"] = static_cast<double>(valid.data.rows);
  return m;
}

}  // namespace bimride::tasks::demand
