// "xgboost" backend: loads an XGBoost JSON model (ours or one saved by Python's xgboost), or a
// folder of one model per output (output_<k>.json, see native/tree_ensemble.h), and predicts
// with XGBoosterPredictFromDense (in-place prediction; NaN = missing).
// num_features from the booster, num_outputs from learner_model_param.num_target summed over
// the files (multi-class models are Unimplemented). LoadOptions::num_threads becomes each
// booster's nthread; LoadOptions::num_features/num_outputs, when set, must match.
// Thread safety: Predict may be called from many threads at once. XGBoost's in-place predict
// keeps its output in a per-thread buffer, so concurrent calls on one booster are safe
// (model_conformance_test checks concurrent == serial); each call copies the result out.
#pragma once

#include <memory>
#include <string>

#include "models/model.h"

namespace bimride::models::xgboost_backend {

StatusOr<std::unique_ptr<Model>> LoadXgboostModel(const std::string& artifact_path,
                                                  const LoadOptions& options);

}  // namespace bimride::models::xgboost_backend
