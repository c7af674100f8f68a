#include "serving/servable.h"

#include <algorithm>

#include "serving/model_source.h"

namespace bimride::serving {

StatusOr<std::unique_ptr<Servable>> Servable::Load(ServableSpec spec,
                                                   const models::LoadOptions& load_options,
                                                   const BatchingOptions& batching,
                                                   VersionMetrics* metrics,
                                                   online::FeatureStore* online_store) {
  std::unique_ptr<Servable> s(new Servable());
  ASSIGN_OR_RETURN(s->model_, LoadServableModel(&spec, load_options));
  s->spec_ = std::move(spec);
  s->feature_names_ = std::make_shared<const std::vector<std::string>>(s->spec_.feature_names);
  s->output_names_ = std::make_shared<const std::vector<std::string>>(s->spec_.output_names);
  if (!s->spec_.feature_spec.empty()) {
    StatusOr<FeatureAdapter> adapter = MakeFeatureAdapter(
        {s->spec_.dir, s->spec_.feature_spec, s->spec_.feature_spec_version, s->spec_.raw_fields,
         online_store});
    if (!adapter.ok()) return adapter.status().WithContext(s->spec_.dir);
    s->feature_adapter_ = std::move(adapter).value();
  }
  s->metrics_ = metrics;
  // Warm-up: the first Predict of some backends allocates or JIT-compiles; pay it now, before
  // the version takes traffic.
  for (int64_t rows : {int64_t{1}, std::max<int64_t>(1, batching.max_batch_size)}) {
    std::vector<float> zeros(static_cast<size_t>(rows) * s->model_->num_features(), 0.0f);
    std::vector<float> out(static_cast<size_t>(rows) * s->model_->num_outputs());
    Status st = s->model_->Predict(zeros.data(), rows, out.data());
    if (!st.ok()) return st.WithContext(s->spec_.dir + ": warm-up with " + std::to_string(rows) +
                                        " zero rows");
  }
  if (batching.max_batch_size > 0) {
    s->batcher_ = std::make_unique<DynamicBatcher>(
        *s->model_, batching, s->spec_.model + "/" + std::to_string(s->spec_.version),
        metrics != nullptr ? &metrics->batch_rows : nullptr);
  }
  return s;
}

Servable::~Servable() {
  batcher_.reset();  // drains queued requests while the model is still alive
}

void Servable::Predict(std::vector<float> features, int64_t rows, RowsDone done) const {
  if (batcher_ != nullptr) {
    // On refusal Enqueue leaves `done` untouched, so it can report the error.
    Status st = batcher_->Enqueue(std::move(features), rows, std::move(done));
    if (!st.ok()) done(st, {}, PredictTiming{});
    return;
  }
  const int64_t start = MonotonicNanos();
  std::vector<float> out(static_cast<size_t>(rows) * model_->num_outputs());
  Status st = model_->Predict(features.data(), rows, out.data());
  if (metrics_ != nullptr) metrics_->batch_rows.Observe(static_cast<double>(rows));
  done(st, std::move(out), PredictTiming{0, MonotonicNanos() - start, rows});
}

}  // namespace bimride::serving
