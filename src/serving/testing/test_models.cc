#include "serving/testing/test_models.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/file.h"
#include "common/testing/temp_dir.h"
#include "models/model.h"
#include "serving/feature_adapter.h"
#include "serving/model_source.h"
#include "registry/model_repository.h"

namespace bimride::serving::testing {
namespace {

using nlohmann::json;

class LinearModel : public models::Model {
 public:
  LinearModel(std::vector<std::vector<float>> w, std::vector<float> b, int64_t delay_us,
              bool fail)
      : w_(std::move(w)), b_(std::move(b)), delay_us_(delay_us), fail_(fail) {}
  std::string_view backend() const override { return "baseline"; }
  int num_features() const override { return static_cast<int>(w_[0].size()); }
  int num_outputs() const override { return static_cast<int>(w_.size()); }
  Status Predict(const float* x, int64_t rows, float* out) const override {
    if (rows < 0) return InvalidArgumentError("rows < 0");
    if (fail_) return InternalError("test_linear: asked to fail");
    if (delay_us_ > 0) std::this_thread::sleep_for(std::chrono::microseconds(delay_us_));
    const int f = num_features();
    for (int64_t r = 0; r < rows; ++r) {
      for (size_t o = 0; o < w_.size(); ++o) {
        float acc = b_[o];
        for (int j = 0; j < f; ++j) acc += w_[o][j] * x[r * f + j];
        out[r * w_.size() + o] = acc;
      }
    }
    return OkStatus();
  }

 private:
  std::vector<std::vector<float>> w_;
  std::vector<float> b_;
  int64_t delay_us_;
  bool fail_;
};

StatusOr<std::unique_ptr<models::Model>> LoadLinear(const std::string& path,
                                                    const models::LoadOptions&) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("weights") ||
      !doc.contains("bias")) {
    return InvalidArgumentError(path + ": test_linear: needs {\"weights\", \"bias\"}");
  }
  try {
    auto w = doc["weights"].get<std::vector<std::vector<float>>>();
    auto b = doc["bias"].get<std::vector<float>>();
    if (w.empty() || w.size() != b.size() || w[0].empty()) {
      return InvalidArgumentError(path + ": test_linear: weights/bias sizes disagree");
    }
    // A slow load (a big model): lets tests watch a version while it is LOADING.
    if (int64_t ms = doc.value("load_delay_ms", int64_t{0}); ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    }
    return std::unique_ptr<models::Model>(
        new LinearModel(w, b, doc.value("predict_delay_us", int64_t{0}),
                        doc.value("fail_predict", false)));
  } catch (const json::exception& e) {
    return InvalidArgumentError(path + ": test_linear: " + e.what());
  }
}

StatusOr<std::vector<float>> TestTripFeatures(const RawBatch& batch, int num_features) {
  if (num_features != 3) {
    return InvalidArgumentError("test_trip_v1 makes 3 features, model wants " +
                                std::to_string(num_features));
  }
  const RawColumn* zone = batch.Find("pickup_zone");
  const RawColumn* dist = batch.Find("trip_distance");
  const RawColumn* when = batch.Find("pickup_datetime");
  if (!zone || !dist || !when) {
    return InvalidArgumentError("test_trip_v1 needs pickup_zone, trip_distance, pickup_datetime");
  }
  std::vector<float> out;
  for (int64_t r = 0; r < batch.rows; ++r) {
    const double* z = std::get_if<double>(&zone->values[r]);
    const double* d = std::get_if<double>(&dist->values[r]);
    const std::string* t = std::get_if<std::string>(&when->values[r]);
    if (!z || !d) {
      return InvalidArgumentError("row " + std::to_string(r) +
                                  ": pickup_zone and trip_distance must be numbers");
    }
    if (!t || t->size() < 13 || (*t)[10] != ' ' || !isdigit((*t)[11]) || !isdigit((*t)[12])) {
      return InvalidArgumentError("row " + std::to_string(r) +
                                  ": pickup_datetime must be 'YYYY-MM-DD HH:MM:SS'");
    }
    out.push_back(static_cast<float>(*z));
    out.push_back(static_cast<float>(*d));
    out.push_back(static_cast<float>(((*t)[11] - '0') * 10 + ((*t)[12] - '0')));
  }
  return out;
}

}  // namespace

void RegisterTestBackendAndFeatures() {
  static const bool once = [] {
    models::RegisterModelBackend("baseline", LoadLinear);
    RegisterFeatureAdapter("test_trip_v1", TestTripFeatures);
    return true;
  }();
  (void)once;
}

TestVersionOptions TripVersionOptions() {
  TestVersionOptions t;
  t.weights = {{1, 0, 1}, {0, 1, 0}};
  t.bias = {0, 0};
  t.output_names = {"a", "b"};
  t.feature_spec = "test_trip_v1";
  return t;
}

TestVersionOptions ClassifierVersionOptions() {
  TestVersionOptions t;
  t.weights = {{1, 0, 0}, {0, 1, 0}};
  t.bias = {0, 0};
  t.output_names = {"cash", "card"};
  t.serving_method = "classify";
  return t;
}

Status WriteTestVersion(const std::string& repo, const std::string& model, int64_t version,
                        const TestVersionOptions& o) {
  const std::string scratch = MakeTempDir("bimride_test_artifact");
  json artifact = {{"weights", o.weights}, {"bias", o.bias},
                   {"predict_delay_us", o.predict_delay_us}, {"fail_predict", o.fail_predict},
                   {"load_delay_ms", o.load_delay_ms}};
  RETURN_IF_ERROR(WriteFileAtomic(scratch + "/model.json", artifact.dump()));
  registry::Manifest m;
  m.name = model;
  m.task = "test";
  m.backend = o.backend;
  m.inputs = {{"features", registry::DType::kFloat32,
               {-1, static_cast<int64_t>(o.weights[0].size())}}};
  for (const std::string& n : o.output_names) {
    m.outputs.push_back({n, registry::DType::kFloat32, {-1, 1}});
  }
  if (!o.feature_spec.empty()) {
    m.feature_spec =
        registry::FeatureSpecRef{o.feature_spec, 1, {"pickup_zone", "trip_distance",
                                                     "pickup_datetime"}};
  }
  if (!o.serving_method.empty()) m.properties["serving_method"] = o.serving_method;
  if (!o.feature_names.empty()) registry::SetFeatureNames(&m, o.feature_names);
  registry::ModelRepository repository(repo);
  ASSIGN_OR_RETURN(registry::Manifest published,
                   repository.Publish({{scratch + "/model.json", ""}}, m));
  std::filesystem::remove_all(scratch);
  if (published.version != version) {
    return InternalError("published " + model + " as version " +
                         std::to_string(published.version) + ", test wanted " +
                         std::to_string(version));
  }
  if (o.corrupt_digest) {
    const std::string path = repository.VersionDir(model, version) + "/model.json";
    ASSIGN_OR_RETURN(std::string text, ReadFile(path));
    RETURN_IF_ERROR(WriteFileAtomic(path, text + " "));  // still valid JSON, different digest
  }
  return OkStatus();
}

StatusOr<std::shared_ptr<const Servable>> LoadTestServable(const std::string& repo,
                                                           const std::string& model,
                                                           int64_t version,
                                                           const BatchingOptions& batching,
                                                           VersionMetrics* metrics) {
  ASSIGN_OR_RETURN(ServableSpec spec, LoadServableSpec(repo, model, version));
  ASSIGN_OR_RETURN(std::unique_ptr<Servable> servable,
                   Servable::Load(std::move(spec), models::LoadOptions{}, batching, metrics));
  return std::shared_ptr<const Servable>(std::move(servable));
}

std::string MakeTempDir(const std::string& prefix) { return bimride::testing::NewTempDir(prefix); }

}  // namespace bimride::serving::testing
