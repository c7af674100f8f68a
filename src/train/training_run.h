// Run tracking and publishing around a training, written once for every task:
//
//   ASSIGN_OR_RETURN(auto run, train::StartTrainingRun(registry, {"eta", params, tags,
//                                                                 files, "pickup >= …"}));
//   Status tracking;
//   auto progress = train::TrackProgress(run.get(), "", printer, &tracking);
//   … train::Train(kind, tr, &va, options, dir, progress) … write dir/manifest.json …
//   RETURN_IF_ERROR(tracking);
//   ASSIGN_OR_RETURN(auto published, train::FinishTrainingRun(registry, *run, dir));
//
// A run that is not finished (an early return) ends as FAILED when its tracker is destroyed.
// Thread safety: one run per thread; the registry's store is thread-safe.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "models/tabular_data.h"
#include "registry/manifest.h"
#include "registry/registry.h"
#include "registry/run_tracker.h"
#include "train/trainer.h"

namespace bimride::train {

struct TrainingRunSpec {
  std::string task;  // "eta", "demand", …
  Params params;
  Params tags;
  std::vector<std::string> data_files;  // fingerprinted (sha256 of each)
  std::string data_filter;              // what was kept of them, in words
};

// Starts a run in the registry's store. The code version is read from the checkout of the
// running binary (wherever the user stands); copies of logged artifacts go to
// <repo>/.bimride/runs/<run_id>/. NotFound naming a missing data file.
StatusOr<std::unique_ptr<registry::RunTracker>> StartTrainingRun(registry::Registry& registry,
                                                                 const TrainingRunSpec& spec);

// Logs every progress record to `run` (may be null: then only `next` is called) as metrics
// "<prefix>train_loss", "<prefix>valid_metric" (when finite) and "<prefix>rows_per_second" at
// step = epoch/round; records of per-output trainers (output > 0, or `per_output`) get the
// suffix "_h<output+1>". The first failed write goes to *first_error (may be null: tracking is
// then best effort); `next` (may be null) is called for every record.
ProgressCallback TrackProgress(registry::RunTracker* run, const std::string& prefix,
                               ProgressCallback next, Status* first_error = nullptr,
                               bool per_output = false);

// Publishes the model folder `model_dir` (manifest.json + artifacts, as written by a task;
// empty: publish nothing) and ends the run as FINISHED. The run is tagged with the published
// name:version. On a failed publish the run ends as FAILED and the error names the folder.
StatusOr<std::optional<registry::Manifest>> FinishTrainingRun(registry::Registry& registry,
                                                              registry::RunTracker& run,
                                                              const std::string& model_dir);

// The manifest's feature statistics of a training matrix: one entry per column, by name.
// InvalidArgument when the names do not match the columns.
StatusOr<std::map<std::string, registry::FeatureStats>> TrainingFeatureStats(
    const models::TabularData& data, const std::vector<std::string>& names);

// What TrainedModel::resolved_params become in a run: "<kind>.<name>" → value.
Params PrefixedParams(const std::string& prefix, const Params& params);

}  // namespace bimride::train
