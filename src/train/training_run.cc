#include "train/training_run.h"

#include <cmath>
#include <filesystem>

namespace bimride::train {

StatusOr<std::unique_ptr<registry::RunTracker>> StartTrainingRun(registry::Registry& registry,
                                                                 const TrainingRunSpec& spec) {
  registry::RunOptions options;
  // The code that runs is the binary's checkout, wherever the user stands.
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  options.code_dir = ec ? "." : exe.parent_path().string();
  options.artifact_dir = registry.repository().root() + "/.bimride/runs";
  ASSIGN_OR_RETURN(std::unique_ptr<registry::RunTracker> run,
                   registry.StartRun(spec.task, spec.params, spec.tags, options));
  if (!spec.data_files.empty()) {
    RETURN_IF_ERROR(run->SetDataFingerprint(spec.data_files, spec.data_filter));
  }
  return run;
}

ProgressCallback TrackProgress(registry::RunTracker* run, const std::string& prefix,
                               ProgressCallback next, Status* first_error, bool per_output) {
  return [run, prefix, next = std::move(next), first_error,
          per_output](const models::TrainingProgress& p) {
    if (run != nullptr && (first_error == nullptr || first_error->ok())) {
      const std::string suffix =
          per_output || p.output > 0 ? "_h" + std::to_string(p.output + 1) : std::string();
      std::map<std::string, double> m = {{prefix + "train_loss" + suffix, p.train_loss},
                                         {prefix + "rows_per_second" + suffix, p.rows_per_second}};
      if (std::isfinite(p.valid_metric)) m[prefix + "valid_metric" + suffix] = p.valid_metric;
      Status st = run->LogMetrics(m, p.epoch);
      if (first_error != nullptr && !st.ok()) *first_error = st;
    }
    if (next) next(p);
  };
}

StatusOr<std::optional<registry::Manifest>> FinishTrainingRun(registry::Registry& registry,
                                                              registry::RunTracker& run,
                                                              const std::string& model_dir) {
  std::optional<registry::Manifest> published;
  if (!model_dir.empty()) {
    StatusOr<registry::Manifest> m = registry.PublishFolder(model_dir);
    if (!m.ok()) {
      (void)run.EndRun(registry::RunStatus::kFailed);
      return m.status().WithContext("publish " + model_dir);
    }
    published = std::move(m).value();
    RETURN_IF_ERROR(
        run.SetTags({{"published", published->name + ":" + std::to_string(published->version)}}));
  }
  RETURN_IF_ERROR(run.EndRun(registry::RunStatus::kFinished));
  return published;
}

StatusOr<std::map<std::string, registry::FeatureStats>> TrainingFeatureStats(
    const models::TabularData& data, const std::vector<std::string>& names) {
  if (static_cast<int>(names.size()) != data.num_features) {
    return InvalidArgumentError("feature stats: " + std::to_string(names.size()) + " names for " +
                                std::to_string(data.num_features) + " columns");
  }
  std::map<std::string, registry::FeatureStats> stats;
  std::vector<float> column(static_cast<size_t>(data.rows));
  for (int k = 0; k < data.num_features; ++k) {
    for (int64_t r = 0; r < data.rows; ++r) column[r] = data.feature(r, k);
    stats[names[k]] = registry::ComputeFeatureStats(column);
  }
  return stats;
}

Params PrefixedParams(const std::string& prefix, const Params& params) {
  Params out;
  for (const auto& [k, v] : params) out[prefix + k] = v;
  return out;
}

}  // namespace bimride::train
