#include "tasks/behaviour/behaviour_publish.h"

#include "common/file.h"
#include "models/seed_ensemble.h"
#include "registry/manifest.h"
#include "tasks/behaviour/behaviour_serving.h"
#include "train/training_run.h"

namespace bimride::tasks::behaviour {

StatusOr<std::unique_ptr<registry::RunTracker>> StartBehaviourRun(
    registry::Registry& registry, const std::vector<std::string>& files,
    const ConversionOptions& o, const std::vector<std::string>& command_line) {
  train::Params params = {{"train_days", std::to_string(o.train_days)},
                          {"valid_days", std::to_string(o.valid_days)},
                          {"threads", std::to_string(o.threads)},
                          {"seed", std::to_string(o.seed)}};
  for (const auto& [k, v] : o.xgboost_params) params["xgboost." + k] = v;
  for (const auto& [k, v] : o.torch_params) params["torch." + k] = v;
  std::string command;
  for (const std::string& a : command_line) command += (command.empty() ? "" : " ") + a;
  return train::StartTrainingRun(
      registry, {"behaviour", params, {{"job", "train"}, {"command", command}}, files,
                 "every quote; train on the first days, test on the later ones"});
}

StatusOr<std::string> WriteConversionModelFolder(const ConversionResult& result,
                                                 const std::string& kind,
                                                 const std::vector<RiderHistory>& riders,
                                                 const std::string& model_name,
                                                 const std::string& run_id) {
  const train::TrainedModel* model = nullptr;
  for (const train::TrainedModel& m : result.learned) {
    if (m.kind == kind) model = &m;
  }
  if (model == nullptr) {
    return InvalidArgumentError("publish behaviour: no '" + kind + "' conversion model was trained");
  }
  registry::Manifest m;
  m.artifacts = model->artifacts;
  RETURN_IF_ERROR(WriteFileAtomic(model->artifact_dir + "/" + kRiderFeaturesFile,
                                  RiderFeaturesToCsv(riders)));
  m.artifacts.push_back(kRiderFeaturesFile);
  m.name = model_name;
  m.task = "behaviour";
  m.backend = model->backend;
  m.inputs = {{"features", registry::DType::kFloat32, {-1, kConversionFeatures}},
              {"rider_id", registry::DType::kInt64, {-1}},
              {"request_datetime", registry::DType::kString, {-1}},
              {"pickup_zone", registry::DType::kInt32, {-1}},
              {"dropoff_zone", registry::DType::kInt32, {-1}},
              {"estimated_distance", registry::DType::kFloat32, {-1}},
              {"estimated_minutes", registry::DType::kFloat32, {-1}},
              {"quoted_fare", registry::DType::kFloat32, {-1}},
              {"surge_multiplier", registry::DType::kFloat32, {-1}}};
  m.feature_spec = registry::FeatureSpecRef{kConversionFeatureSpecName,
                                            kConversionFeatureSpecVersion, ConversionRawFields()};
  m.outputs = {{"booked", registry::DType::kFloat32, {-1, 1}}};
  m.run_id = run_id;
  for (const ConversionScore& s : result.scores) {
    m.metrics[s.model + "_test_auc"] = s.test.auc;
    m.metrics[s.model + "_test_log_loss"] = s.test.log_loss;
    m.metrics[s.model + "_test_ece"] = s.test.ece;
  }
  std::string names;
  for (const char* n : kConversionFeatureNames) names += (names.empty() ? "" : ",") + std::string(n);
  m.properties = {
      {"description", "P(rider books | quote, rider history): conversion of a price quote"},
      {"serving_method", "classify"},
      {"model_kind", kind},
      {"feature_names", names},
      {"train_days", std::to_string(result.train_days)},
      {"test_days", std::to_string(result.test_days)},
  };
  RETURN_IF_ERROR(WriteFileAtomic(model->artifact_dir + "/manifest.json",
                                  registry::ManifestToJson(m)));
  return model->artifact_dir;
}

StatusOr<std::unique_ptr<registry::RunTracker>> StartRetentionRun(
    registry::Registry& registry, const std::vector<std::string>& files,
    const RetentionOptions& o, const std::vector<std::string>& command_line) {
  train::Params params = {{"horizon_days", std::to_string(o.horizon_days)},
                          {"cutoff_step_days", std::to_string(o.cutoff_step_days)},
                          {"first_cutoff_day", std::to_string(o.first_cutoff_day)},
                          {"test_cutoffs", std::to_string(o.test_cutoffs)},
                          {"threads", std::to_string(o.threads)},
                          {"seed", std::to_string(o.seed)}};
  for (const auto& [k, v] : o.xgboost_params) params["xgboost." + k] = v;
  for (const auto& [k, v] : o.torch_params) params["torch." + k] = v;
  std::string command;
  for (const std::string& a : command_line) command += (command.empty() ? "" : " ") + a;
  return train::StartTrainingRun(
      registry, {"behaviour", params, {{"job", "train_retention"}, {"command", command}}, files,
                 "riders active on each cut-off day; train on the early cut-offs, test on the "
                 "last ones"});
}

StatusOr<std::string> WriteRetentionModelFolder(const RetentionResult& result,
                                                const std::string& kind,
                                                const RetentionSnapshot& snapshot,
                                                int32_t horizon_days,
                                                const std::string& model_name,
                                                const std::string& run_id) {
  const train::TrainedModel* model = nullptr;
  for (const train::TrainedModel& m : result.learned) {
    if (m.kind == kind) model = &m;
  }
  if (model == nullptr) {
    return InvalidArgumentError("publish behaviour: no '" + kind + "' retention model was trained");
  }
  registry::Manifest m;
  m.artifacts = model->artifacts;
  RETURN_IF_ERROR(WriteFileAtomic(
      model->artifact_dir + "/" + kRetentionFeaturesFile,
      RetentionFeaturesToCsv(snapshot.cutoff_us, snapshot.rider_id, snapshot.features)));
  m.artifacts.push_back(kRetentionFeaturesFile);
  m.name = model_name;
  m.task = "behaviour";
  m.backend = model->backend;
  m.inputs = {{"features", registry::DType::kFloat32, {-1, kRetentionFeatures}},
              {"rider_id", registry::DType::kInt64, {-1}}};
  m.feature_spec = registry::FeatureSpecRef{kRetentionFeatureSpecName,
                                            kRetentionFeatureSpecVersion, RetentionRawFields()};
  m.outputs = {{"retained", registry::DType::kFloat32, {-1, 1}}};
  m.run_id = run_id;
  for (const ConversionScore& s : result.scores) {
    m.metrics[s.model + "_test_auc"] = s.test.auc;
    m.metrics[s.model + "_test_log_loss"] = s.test.log_loss;
    m.metrics[s.model + "_test_ece"] = s.test.ece;
  }
  const auto days = [](const std::vector<int32_t>& v) {
    std::string out;
    for (int32_t d : v) out += (out.empty() ? "" : ",") + std::to_string(d);
    return out;
  };
  std::string names;
  for (const char* n : kRetentionFeatureNames) names += (names.empty() ? "" : ",") + std::string(n);
  m.properties = {
      {"description", "P(rider still active " + std::to_string(horizon_days) +
                          " days later | history up to the snapshot): retention"},
      {"serving_method", "classify"},
      {"model_kind", kind},
      {"feature_names", names},
      {"horizon_days", std::to_string(horizon_days)},
      {"train_cutoff_days", days(result.train_cutoffs)},
      {"test_cutoff_days", days(result.test_cutoffs)},
      {"snapshot_day", std::to_string(snapshot.cutoff_day)},
  };
  // A seed ensemble (behaviour_retention.h): every member published, their mean served.
  if (model->backend == models::kSeedEnsembleBackend)
    m.properties["seed_ensemble"] = model->summary;
  RETURN_IF_ERROR(WriteFileAtomic(model->artifact_dir + "/manifest.json",
                                  registry::ManifestToJson(m)));
  return model->artifact_dir;
}

}  // namespace bimride::tasks::behaviour
