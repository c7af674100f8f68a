// Servable: one loaded, warmed-up model version (TF Serving's "servable"), with its batcher.
//
// Ownership: the ServableManager creates servables and hands out shared_ptr copies through
// snapshots; a request keeps its servable alive until it is answered, so unloading never cuts
// an in-flight request.
// Thread safety: Predict may be called from any thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "models/model.h"
#include "serving/dynamic_batcher.h"
#include "serving/feature_adapter.h"
#include "serving/servable_spec.h"
#include "serving/serving_metrics.h"

namespace bimride::serving {

class Servable {
 public:
  // Verifies digests, loads the model, builds the feature adapter when the spec names a feature
  // spec (serving/feature_adapter.h), warms it up with a zero batch of 1 row and of
  // max(1, max_batch_size) rows, and starts the batcher when batching is on. Any failure
  // is returned naming the version folder.
  static StatusOr<std::unique_ptr<Servable>> Load(ServableSpec spec,
                                                  const models::LoadOptions& load_options,
                                                  const BatchingOptions& batching,
                                                  VersionMetrics* metrics,
                                                  online::FeatureStore* online_store = nullptr);
  ~Servable();

  const ServableSpec& spec() const { return spec_; }
  const models::Model& model() const { return *model_; }
  // spec().feature_names and output_names as shared lists, for whoever keeps them past a
  // request (the prediction log hands them over per request without copying; holding them
  // does not keep the servable loaded).
  const std::shared_ptr<const std::vector<std::string>>& shared_feature_names() const {
    return feature_names_;
  }
  const std::shared_ptr<const std::vector<std::string>>& shared_output_names() const {
    return output_names_;
  }
  VersionMetrics* metrics() const { return metrics_; }
  bool batching() const { return batcher_ != nullptr; }
  // The adapter for raw request fields; null when the version has no feature spec.
  const FeatureAdapter* feature_adapter() const {
    return feature_adapter_ ? &feature_adapter_ : nullptr;
  }

  // Runs `rows` rows through the model: inline on this thread when batching is off, otherwise
  // through the batcher (then `done` runs on the batcher thread). When the batcher refuses
  // (queue full), `done` is called here with the error.
  void Predict(std::vector<float> features, int64_t rows, RowsDone done) const;

 private:
  Servable() = default;
  ServableSpec spec_;
  std::shared_ptr<const std::vector<std::string>> feature_names_, output_names_;
  std::unique_ptr<models::Model> model_;
  std::unique_ptr<DynamicBatcher> batcher_;
  FeatureAdapter feature_adapter_;
  VersionMetrics* metrics_ = nullptr;
};

}  // namespace bimride::serving
