#include "tasks/testing/fare_task.h"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "common/file.h"
#include "common/flags.h"
#include "registry/registry.h"
#include "tasks/task.h"
#include "train/training_run.h"

namespace bimride::tasks::fare {
namespace {

// --- the trainer: y = a + b·x by least squares, saved for the test "baseline" backend ---
StatusOr<train::TrainedModel> TrainLinear(const models::TabularData& data,
                                          const models::TabularData*,
                                          const train::TrainerOptions& o,
                                          const std::string& out_dir,
                                          const train::ProgressCallback& progress) {
  train::ParamReader p("fixture_linear", o.params);
  train::TrainedModel m;
  RETURN_IF_ERROR(p.Finish(&m.resolved_params));
  if (data.num_features != 1 || data.num_outputs != 1) {
    return InvalidArgumentError("fixture_linear: one feature and one output only");
  }
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  const double n = static_cast<double>(data.rows);
  for (int64_t r = 0; r < data.rows; ++r) {
    const double x = data.features[r], y = data.targets[r];
    sx += x, sy += y, sxx += x * x, sxy += x * y;
  }
  const double b = (n * sxy - sx * sy) / (n * sxx - sx * sx), a = (sy - b * sx) / n;
  const nlohmann::json model = {{"weights", {{b}}}, {"bias", {a}}};
  RETURN_IF_ERROR(WriteFileAtomic(out_dir + "/model.json", model.dump()));
  if (progress) progress({1, 0.0, NAN, n, true, 0});
  m.backend = "baseline";
  m.artifacts = {"model.json"};
  m.load_path = out_dir + "/model.json";
  ASSIGN_OR_RETURN(m.model, models::LoadModel(m.backend, m.load_path));
  m.best_iterations = {1};
  m.best_valid_metric = {NAN};
  return m;
}

// --- the feature spec: trip_distance → [miles] ---
StatusOr<serving::FeatureAdapter> MakeFareAdapter(const serving::FeatureAdapterContext&) {
  return serving::FeatureAdapter(
      [](const serving::RawBatch& batch, int num_features) -> StatusOr<std::vector<float>> {
        const serving::RawColumn* distance = batch.Find("trip_distance");
        if (distance == nullptr)
          return InvalidArgumentError("fare_distance: no field 'trip_distance'");
        if (num_features != 1) return InvalidArgumentError("fare_distance makes 1 feature");
        std::vector<float> out;
        for (size_t r = 0; r < distance->values.size(); ++r) {
          const double* miles = std::get_if<double>(&distance->values[r]);
          if (miles == nullptr || !(*miles >= 0)) {
            return InvalidArgumentError("fare_distance: row " + std::to_string(r) +
                                        ": field 'trip_distance' must be a number >= 0");
          }
          out.push_back(static_cast<float>(*miles));
        }
        return out;
      });
}

// --- training, tracking and publishing, shared by the verb and the quickstart step ---
StatusOr<registry::Manifest> TrainAndPublish(const std::vector<float>& miles,
                                             const std::string& repo, const std::string& work_dir) {
  models::TabularData d;
  d.rows = static_cast<int64_t>(miles.size());
  d.num_features = 1;
  d.features = miles;
  for (float m : miles) d.targets.push_back(static_cast<float>(kBaseFare + kPerMile * m));
  ASSIGN_OR_RETURN(auto reg, registry::Registry::Open(repo));
  ASSIGN_OR_RETURN(auto run, train::StartTrainingRun(*reg, {"fare", {}, {}, {}, ""}));
  const std::string dir = work_dir + "/fare_model";
  ASSIGN_OR_RETURN(train::TrainedModel trained,
                   train::Train("fixture_linear", d, nullptr, {}, dir));
  registry::Manifest m;
  m.name = "fare";
  m.task = "fare";
  m.backend = trained.backend;
  m.artifacts = trained.artifacts;
  m.inputs = {{"features", registry::DType::kFloat32, {-1, 1}}};
  m.outputs = {{"fare", registry::DType::kFloat32, {-1, 1}}};
  m.feature_spec = registry::FeatureSpecRef{"fare_distance", 1, {"trip_distance"}};
  m.run_id = run->run_id();
  RETURN_IF_ERROR(
      WriteFileAtomic(dir + "/" + registry::kManifestFileName, registry::ManifestToJson(m)));
  ASSIGN_OR_RETURN(std::optional<registry::Manifest> published,
                   train::FinishTrainingRun(*reg, *run, dir));
  return *published;
}

int RunTrainFare(const std::vector<std::string>& args) {
  FlagParser flags("bimride train fare", "Fit fares to distances (a fixture task).");
  int64_t rows = 100;
  std::string repo, work = "/tmp";
  flags.AddInt("rows", &rows, "synthetic trips");
  flags.AddString("repo", &repo, "model repository", true);
  flags.AddString("work", &work, "scratch folder");
  if (int rc = cli::ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  std::vector<float> miles;
  for (int64_t i = 0; i < rows; ++i) miles.push_back(0.5f + static_cast<float>(i % 20));
  auto published = TrainAndPublish(miles, repo, work);
  if (!published.ok()) return cli::ReportError(published.status());
  std::printf("published fare:%lld\n", static_cast<long long>(published->version));
  return cli::kExitOk;
}

StatusOr<QuickstartModel> FareQuickstart(const QuickstartInput& input) {
  std::vector<float> miles;
  for (float d : input.trips->distance_miles) {
    if (std::isfinite(d)) miles.push_back(d);
  }
  ASSIGN_OR_RETURN(registry::Manifest m, TrainAndPublish(miles, input.repo, input.work_dir));
  ASSIGN_OR_RETURN(auto reg, registry::Registry::Open(input.repo));
  RETURN_IF_ERROR(reg->Promote("fare", m.version, "stable", "quickstart", "test").status());
  return QuickstartModel{"fare", R"({"instances": [{"trip_distance": 3}]})", "8.5"};
}

Task MakeFareTask() {
  Task t;
  t.name = "fare";
  t.summary = "a trip's fare from its distance (a fixture task)";
  t.verbs = {{"train", "fare", "fit fares to distances", RunTrainFare}};
  t.feature_specs = {{"fare_distance", MakeFareAdapter}};
  t.quickstart = FareQuickstart;
  return t;
}

}  // namespace
}  // namespace bimride::tasks::fare

BIMRIDE_TRAINER("fixture_linear", bimride::tasks::fare::TrainLinear);
BIMRIDE_TASK(bimride::tasks::fare::MakeFareTask());
