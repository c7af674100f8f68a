#include "tasks/demand/demand_publish.h"

#include <filesystem>

#include "common/civil_time.h"
#include "common/file.h"
#include "registry/manifest.h"
#include "tasks/demand/demand_dataset.h"
#include "train/training_run.h"

namespace bimride::tasks::demand {
namespace {

std::string Join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

std::string Number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace

StatusOr<std::unique_ptr<registry::RunTracker>> StartDemandRun(
    registry::Registry& registry, const std::string& job, const std::vector<std::string>& trips,
    const DemandTrainOptions& o, const std::vector<std::string>& command_line) {
  std::vector<std::string> hidden;
  for (int h : o.torch.hidden_sizes) hidden.push_back(std::to_string(h));
  const std::map<std::string, std::string> params = {
      {"bucket_minutes", std::to_string(o.features.bucket_minutes)},
      {"horizons", std::to_string(o.features.horizons)},
      {"recent_lags", std::to_string(o.features.recent_lags)},
      {"feature_spec", std::string(features::kDemandFeatureSpecName) + "@" +
                           std::to_string(features::kDemandFeatureSpecVersion)},
      {"valid_days", Number(o.valid_days)},
      {"refit", o.refit ? "true" : "false"},
      {"target_shrink", Number(o.target_shrink)},
      {"torch_ensemble", std::to_string(o.torch.ensemble)},
      {"xgb_objective", o.xgboost.objective},
      {"xgb_max_depth", std::to_string(o.xgboost.max_depth)},
      {"xgb_eta", Number(o.xgboost.eta)},
      {"xgb_rounds", std::to_string(o.xgboost.rounds)},
      {"xgb_min_child_weight", Number(o.xgboost.min_child_weight)},
      {"torch_hidden", Join(hidden, ",")},
      {"torch_lr", Number(o.torch.learning_rate)},
      {"torch_batch", std::to_string(o.torch.batch_size)},
      {"torch_epochs", std::to_string(o.torch.epochs)},
      {"torch_loss", o.torch.poisson ? "poisson" : "mse"},
      {"threads", std::to_string(o.threads)},
      {"seed", std::to_string(o.seed)},
  };
  const std::map<std::string, std::string> tags = {{"job", job},
                                                   {"command", Join(command_line, " ")}};
  return train::StartTrainingRun(registry, {"demand", params, tags, trips, "demand " + job});
}

DemandProgress TrackProgress(registry::RunTracker* run) {
  if (run == nullptr) return nullptr;
  // Tracking is best effort here: a failed metric write must not stop training.
  return [run](const std::string& stage, const models::TrainingProgress& p) {
    train::TrackProgress(run, stage + "_", nullptr, nullptr,
                         /*per_output=*/stage.rfind("xgboost", 0) == 0)(p);
  };
}

StatusOr<registry::Manifest> PublishDemandModel(registry::Registry& registry,
                                                const TrainedDemandModel& model,
                                                const features::DemandGrid& grid,
                                                const features::WeatherTable* weather,
                                                const DemandPublishOptions& options) {
  if (!IsLearned(model.kind) || model.model == nullptr || model.artifact_dir.empty()) {
    return InvalidArgumentError("publish demand: '" + std::string(DemandModelName(model.kind)) +
                                "' is not a servable learned model");
  }
  ASSIGN_OR_RETURN(features::DemandFeatures feats,
                   features::DemandFeatures::Create(model.config, weather));
  // Context files beside the model: the baselines (and zone list) and the weather table.
  const std::string context = model.artifact_dir + "/context";
  RETURN_IF_ERROR(MakeDirs(context));
  RETURN_IF_ERROR(WriteFileAtomic(context + "/" + features::kDemandBaselinesFile,
                                  features::DemandContextToJson({model.config, model.baselines})));
  std::vector<registry::ArtifactFile> files;
  registry::Manifest m;
  for (const std::string& artifact : model.artifacts) {
    const std::string name = "model/" + artifact;
    files.push_back({model.artifact_dir + "/" + name, name});
    m.artifacts.push_back(name);
  }
  files.push_back({context + "/" + features::kDemandBaselinesFile, features::kDemandBaselinesFile});
  if (weather != nullptr && !weather->empty()) {
    const int64_t first = DayIndex(model.baselines.train_begin_us) - 1;
    RETURN_IF_ERROR(WriteFileAtomic(context + "/" + features::kDemandWeatherFile,
                                    weather->ToCsv(first, weather->last_day())));
    files.push_back({context + "/" + features::kDemandWeatherFile, features::kDemandWeatherFile});
  }

  // Drift baseline: every feature over the training rows.
  const int64_t begin = grid.BucketOf(model.baselines.train_begin_us);
  const int64_t end = grid.BucketOf(model.baselines.train_end_us);
  ASSIGN_OR_RETURN(DemandRows rows, BuildTrainingRows(grid, feats, begin, end, weather));
  ASSIGN_OR_RETURN(m.feature_stats, train::TrainingFeatureStats(rows.data, feats.names()));
  // The zone id is a category, not a quantity: its baseline is its frequencies (drift scores it
  // with chi-square and Jensen–Shannon, monitoring/drift.h). The slot-of-day columns are ordered
  // and stay numeric.
  {
    const int k = features::DemandFeatures::kZoneColumn;
    const std::string& name = feats.names().at(static_cast<size_t>(k));
    std::vector<float> column(static_cast<size_t>(rows.data.rows));
    for (int64_t r = 0; r < rows.data.rows; ++r) column[static_cast<size_t>(r)] = rows.data.feature(r, k);
    ASSIGN_OR_RETURN(m.category_stats[name], registry::ComputeCategoryStats(column, name));
  }

  m.name = options.model_name;
  m.task = "demand";
  m.backend = model.backend;
  m.inputs = {
      {"features", registry::DType::kFloat32, {-1, feats.num_features()}},
      {"zone", registry::DType::kInt32, {-1}},
      {"time", registry::DType::kString, {-1}},
      {"recent_counts", registry::DType::kString, {-1}},
  };
  for (int h = 1; h <= model.config.horizons; ++h) {
    m.outputs.push_back({"demand_h" + std::to_string(h), registry::DType::kFloat32, {-1, 1}});
  }
  m.feature_spec = registry::FeatureSpecRef{features::kDemandFeatureSpecName,
                                            features::kDemandFeatureSpecVersion,
                                            {"zone", "time", "recent_counts"}};
  m.run_id = options.run_id;
  m.metrics = options.metrics;
  for (const auto& [k, v] : model.train_info) {
    if (std::isfinite(v)) m.metrics["train_" + k] = v;
  }
  m.properties = {
      {"description", options.description.empty()
                          ? "pickups per zone for the next " +
                                std::to_string(model.config.horizons) + " buckets of " +
                                std::to_string(model.config.bucket_minutes) + " minutes"
                          : options.description},
      {"model_kind", std::string(DemandModelName(model.kind))},
      {"bucket_minutes", std::to_string(model.config.bucket_minutes)},
      {"horizons", std::to_string(model.config.horizons)},
      {"recent_lags", std::to_string(model.config.recent_lags)},
      {"history_buckets", std::to_string(feats.history_buckets())},
      {"train_begin", FormatCivil(model.baselines.train_begin_us)},
      {"train_end", FormatCivil(model.baselines.train_end_us)},
      {"zones", std::to_string(model.baselines.zones.size())},
      {"input.zone", "TLC zone id (one the model was trained for, see demand_baselines.json)"},
      {"input.time",
       "forecast time t 'YYYY-MM-DD HH:MM[:SS]', naive local time, floored to a bucket "
       "boundary; outputs are the buckets starting at t, t+1 bucket, …"},
      {"input.recent_counts", "comma-separated pickup counts of the zone in the " +
                                  std::to_string(feats.history_buckets()) +
                                  " buckets ending at t, oldest first; optional: left out, the "
                                  "server reads them from its online store (POST "
                                  "/v1/online/pickups)"},
  };
  registry::SetFeatureNames(&m, feats.names());
  return registry.Publish(files, m);
}

}  // namespace bimride::tasks::demand
