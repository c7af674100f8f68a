// The benchmarks' workloads, built once here for every bench that trains or runs our tabular
// models (eta_train_bench, demand_torch_bench, `bimride bench frameworks`): the ETA and demand
// tasks' own feature matrices and the nets the tasks train on them.
//
//  - ETA: trips → the task's features (eta_with_distance on TLC green: train 2021-01, validate
//    2021-02; eta_booking on the simulated city: the last two days validate), target minutes,
//    the task's LibTorch net (zone/borough/hour/weekday embeddings → 256 → 128 → 64 → 1, MSE).
//  - Demand: pickups per zone and hour → the task's training rows (TLC green Jan–Feb 2021; on
//    the simulated city its 14 days), six hourly targets, the task's net (zone and target-slot
//    embeddings → 64 → 32 → 6 log-rates, Poisson NLL). Validation rows are the rows whose
//    forecast origin lies in the last days of the window (their baselines are out of fold, as
//    the training rows' are).
//
// `data_dir` empty: a simulated city (simulator defaults, 14 days, seed 7) written once as
// Parquet into `work_dir`. Errors: the loaders' (naming the file), InvalidArgument when a
// split leaves no rows. Thread safety: free functions.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "models/tabular_data.h"
#include "train/trainer.h"

namespace bimride::bench {

struct TabularWorkload {
  std::string name;         // "eta", "demand"
  std::string description;  // data, windows, rows × features (one line)
  std::string target;       // what a target is: "trip minutes", "pickups per zone-hour"
  models::TabularData train, valid;
  std::vector<models::CategoricalColumn> categorical;  // the ids the net embeds
  std::vector<int> hidden;                             // the task's net
  double learning_rate = 2e-3;
  train::Loss loss = train::Loss::kSquaredError;
};

struct WorkloadSource {
  std::string data_dir;  // the shared data folder; empty: the simulated city
  std::string work_dir;  // where the simulated city's file is written
};

StatusOr<TabularWorkload> LoadEtaWorkload(const WorkloadSource& source);
StatusOr<TabularWorkload> LoadDemandWorkload(const WorkloadSource& source);

// The first `rows` rows of `data` (all when it has fewer).
models::TabularData HeadRows(const models::TabularData& data, int64_t rows);

}  // namespace bimride::bench
