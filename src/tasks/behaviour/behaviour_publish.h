// A conversion model as a servable classifier version, written into the trainer's folder for
// train::FinishTrainingRun to publish:
//
//   <repo>/<model>/<version>/
//     model.json | model.pt, net.json, weights.bin   the learned model's artifacts
//     rider_features.csv every rider's history at the end of the data (behaviour_serving.h)
//     manifest.json      task "behaviour"; inputs[0] "features" [-1, 15] (kConversionFeatureNames,
//                        in order) and the raw request fields the feature spec
//                        behaviour_conversion@1 builds them from (rider id, time, zones,
//                        distance, minutes, fare, surge); output "booked" [-1, 1] = P(rider
//                        books); properties
//                        serving_method=classify (TF Serving :classify answers ["booked", p]),
//                        feature names, the split; metrics of the test period; run id.
// Thread safety: free functions.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "registry/registry.h"
#include "tasks/behaviour/behaviour_conversion.h"
#include "tasks/behaviour/behaviour_retention.h"

namespace bimride::tasks::behaviour {

// A tracked run of task "behaviour" (job "train") over the city's files.
StatusOr<std::unique_ptr<registry::RunTracker>> StartBehaviourRun(
    registry::Registry& registry, const std::vector<std::string>& files,
    const ConversionOptions& options, const std::vector<std::string>& command_line);

// Writes manifest.json beside the artifacts of the learned model of `kind` from `result`
// (trained by TrainConversionModels) and returns that folder. InvalidArgument when that kind
// was not trained.
StatusOr<std::string> WriteConversionModelFolder(const ConversionResult& result,
                                                 const std::string& kind,
                                                 const std::vector<RiderHistory>& riders,
                                                 const std::string& model_name,
                                                 const std::string& run_id);

// A retention model as a servable classifier version: the learned model of `kind` from
// `result` (trained by TrainRetentionModels), with retention_features.csv (the riders' features
// at `snapshot`, behaviour_serving.h) and manifest.json: task "behaviour"; inputs[0] "features"
// [-1, 11] (kRetentionFeatureNames) and the raw field rider_id that the feature spec
// behaviour_retention@2 looks up; output "retained" [-1, 1] = P(rider still active
// `horizon_days` later); serving_method=classify; the cut-offs and the test metrics. Returns the
// folder. InvalidArgument when that kind was not trained.
StatusOr<std::string> WriteRetentionModelFolder(const RetentionResult& result,
                                                const std::string& kind,
                                                const RetentionSnapshot& snapshot,
                                                int32_t horizon_days,
                                                const std::string& model_name,
                                                const std::string& run_id);

// A tracked run of task "behaviour" (job "train_retention") over the city's files.
StatusOr<std::unique_ptr<registry::RunTracker>> StartRetentionRun(
    registry::Registry& registry, const std::vector<std::string>& files,
    const RetentionOptions& options, const std::vector<std::string>& command_line);

}  // namespace bimride::tasks::behaviour
