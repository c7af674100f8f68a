#include "models/xgboost/xgboost_model.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "common/file.h"
#include "models/native/tree_ensemble.h"
#include "models/xgboost/xgboost_api.h"

namespace bimride::models::xgboost_backend {
namespace {

constexpr char kPredictConfig[] =
    R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0, )"
    R"("strict_shape": false, "cache_id": 0, "missing": NaN})";

class XgboostModel final : public Model {
 public:
  XgboostModel(std::string path, int num_features) : path_(std::move(path)), num_features_(num_features) {}

  // Takes ownership of `booster`, which adds `outputs` output columns.
  void AddBooster(BoosterHandle booster, int outputs) {
    boosters_.emplace_back(std::make_unique<Booster>());
    boosters_.back()->reset(booster);
    outputs_.push_back(outputs);
    num_outputs_ += outputs;
  }

  std::string_view backend() const override { return "xgboost"; }
  int num_features() const override { return num_features_; }
  int num_outputs() const override { return num_outputs_; }

  Status Predict(const float* features, int64_t rows, float* out) const override {
    if (rows < 0) return InvalidArgumentError(path_ + ": negative row count");
    if (rows == 0) return OkStatus();
    std::string values = FloatArrayInterface(features, rows, num_features_);
    int column = 0;
    for (size_t b = 0; b < boosters_.size(); ++b) {
      const bst_ulong* shape = nullptr;
      bst_ulong dims = 0;
      const float* result = nullptr;
      RETURN_IF_ERROR(XgbStatus(XGBoosterPredictFromDense(boosters_[b]->get(), values.c_str(),
                                                          kPredictConfig, nullptr, &shape, &dims,
                                                          &result),
                                path_ + ": predict"));
      uint64_t count = 1;
      for (bst_ulong i = 0; i < dims; ++i) count *= shape[i];
      const int k = outputs_[b];
      if (count != static_cast<uint64_t>(rows) * k) {
        return InternalError(path_ + ": XGBoost returned " + std::to_string(count) +
                             " values for " + std::to_string(rows) + " rows × " +
                             std::to_string(k) + " outputs");
      }
      if (boosters_.size() == 1) {
        std::memcpy(out, result, sizeof(float) * count);
        return OkStatus();
      }
      for (int64_t r = 0; r < rows; ++r) {
        std::memcpy(out + r * num_outputs_ + column, result + r * k, sizeof(float) * k);
      }
      column += k;
    }
    return OkStatus();
  }

 private:
  std::string path_;
  int num_features_;
  int num_outputs_ = 0;
  std::vector<std::unique_ptr<Booster>> boosters_;
  std::vector<int> outputs_;
};

int IntParam(const nlohmann::json& params, const char* key, int fallback) {
  if (!params.contains(key)) return fallback;
  const nlohmann::json& v = params.at(key);
  if (v.is_number()) return v.get<int>();
  if (v.is_string()) return std::atoi(v.get<std::string>().c_str());
  return fallback;
}

// Loads one JSON model file into a booster; returns its output count.
StatusOr<int> LoadBooster(const std::string& file, int num_threads, Booster& booster,
                          bst_ulong& num_features) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(file));
  // Check the JSON ourselves first: a clear DataLoss for garbage or truncated files.
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("learner") ||
      !j["learner"].is_object() || !j["learner"].contains("learner_model_param")) {
    return DataLossError(file + ": not an XGBoost JSON model");
  }
  const nlohmann::json& params = j["learner"]["learner_model_param"];
  if (IntParam(params, "num_class", 0) > 1) return UnimplementedError(file + ": multi-class models");
  RETURN_IF_ERROR(XgbStatus(XGBoosterCreate(nullptr, 0, booster.out()), file));
  RETURN_IF_ERROR(XgbStatus(XGBoosterLoadModelFromBuffer(booster.get(), text.data(), text.size()),
                            file + ": loading"));
  std::string threads = std::to_string(std::max(1, num_threads));
  RETURN_IF_ERROR(
      XgbStatus(XGBoosterSetParam(booster.get(), "nthread", threads.c_str()), file + ": nthread"));
  RETURN_IF_ERROR(XgbStatus(XGBoosterGetNumFeature(booster.get(), &num_features), file));
  if (num_features == 0) return DataLossError(file + ": model has no features");
  return std::max(1, IntParam(params, "num_target", 1));
}

}  // namespace

StatusOr<std::unique_ptr<Model>> LoadXgboostModel(const std::string& artifact_path,
                                                  const LoadOptions& options) {
  ASSIGN_OR_RETURN(std::vector<std::string> files, native::XgboostModelFiles(artifact_path));
  std::unique_ptr<XgboostModel> model;
  for (const std::string& file : files) {
    Booster booster;
    bst_ulong num_features = 0;
    ASSIGN_OR_RETURN(int outputs, LoadBooster(file, options.num_threads, booster, num_features));
    if (model == nullptr) {
      model = std::make_unique<XgboostModel>(artifact_path, static_cast<int>(num_features));
    } else if (static_cast<int>(num_features) != model->num_features()) {
      return InvalidArgumentError(file + ": takes " + std::to_string(num_features) +
                                  " features; " + files[0] + " takes " +
                                  std::to_string(model->num_features()));
    }
    model->AddBooster(booster.release(), outputs);
  }
  if (options.num_features > 0 && model->num_features() != options.num_features) {
    return InvalidArgumentError(artifact_path + ": model takes " +
                                std::to_string(model->num_features()) + " features; expected " +
                                std::to_string(options.num_features));
  }
  if (options.num_outputs > 0 && model->num_outputs() != options.num_outputs) {
    return InvalidArgumentError(artifact_path + ": model has " +
                                std::to_string(model->num_outputs()) + " outputs; expected " +
                                std::to_string(options.num_outputs));
  }
  return std::unique_ptr<Model>(std::move(model));
}

}  // namespace bimride::models::xgboost_backend
