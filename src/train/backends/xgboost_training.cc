// The "xgboost" trainer: train::Train over models/xgboost (XGBoost's C API), one booster per
// output, early stopping on the validation set. Files in out_dir: model.json (one output) or
// output_0.json … output_{K-1}.json (K outputs, loaded as the folder) — both the "xgboost"
// and the "native_trees" backends load them.
//
// Params (defaults in brackets): objective [from the loss: reg:squarederror | count:poisson |
// reg:pseudohubererror | binary:logistic], tree_method [hist], max_depth [6], eta [0.3], subsample [1],
// colsample_bytree [1], min_child_weight [1], lambda [1], tweedie_variance_power [1.5],
// rounds [100], early_stopping_rounds [0: never], and the booster parameters passed through as
// they are: max_bin, gamma, alpha, max_leaves, grow_policy, max_delta_step.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "common/file.h"
#include "models/xgboost/xgboost_model.h"
#include "models/xgboost/xgboost_trainer.h"
#include "train/distributed.h"
#include "train/rank_heartbeats.h"
#include "train/trainer.h"

namespace bimride::train {
namespace {

namespace xgb = models::xgboost_backend;

std::string DefaultObjective(const TrainerOptions& o) {
  switch (o.loss) {
    case Loss::kPoisson:
      return "count:poisson";
    case Loss::kHuber:
      return "reg:pseudohubererror";
    case Loss::kLogistic:
      return "binary:logistic";
    case Loss::kSquaredError:
      break;
  }
  return "reg:squarederror";
}

StatusOr<xgb::XgboostOptions> ReadOptions(const TrainerOptions& o, Params* resolved) {
  ParamReader p("xgboost", o.params);
  xgb::XgboostOptions x;
  x.objective = p.String("objective", DefaultObjective(o));
  x.tree_method = p.String("tree_method", x.tree_method);
  x.max_depth = p.Int("max_depth", x.max_depth);
  x.eta = p.Double("eta", x.eta);
  x.subsample = p.Double("subsample", x.subsample);
  x.colsample_bytree = p.Double("colsample_bytree", x.colsample_bytree);
  x.min_child_weight = p.Double("min_child_weight", x.min_child_weight);
  x.lambda = p.Double("lambda", x.lambda);
  x.tweedie_variance_power = p.Double("tweedie_variance_power", x.tweedie_variance_power);
  x.rounds = p.Int("rounds", x.rounds);
  x.early_stopping_rounds = p.Int("early_stopping_rounds", x.early_stopping_rounds);
  for (const char* name :
       {"max_bin", "gamma", "alpha", "max_leaves", "grow_policy", "max_delta_step"}) {
    if (o.params.count(name) > 0) x.extra_params.emplace_back(name, p.String(name, ""));
  }
  if (x.objective == "reg:pseudohubererror") {
    x.extra_params.emplace_back("huber_slope", std::to_string(o.huber_delta));
  }
  RETURN_IF_ERROR(p.Finish(resolved));
  if (x.rounds <= 0) return InvalidArgumentError("xgboost: parameter 'rounds' must be > 0");
  x.nthread = o.threads;
  x.seed = o.seed;
  return x;
}

// One output column of a multi-output data set.
models::TabularData OneOutput(const models::TabularData& d, int output) {
  models::TabularData out;
  out.rows = d.rows;
  out.num_features = d.num_features;
  out.num_outputs = 1;
  out.features = d.features;
  out.targets.resize(d.rows);
  for (int64_t r = 0; r < d.rows; ++r) out.targets[r] = d.targets[r * d.num_outputs + output];
  return out;
}

// Rows r, r+W, r+2W, … of `data`.
models::TabularData Shard(const models::TabularData& data, int rank, int world) {
  models::TabularData s;
  s.num_features = data.num_features;
  s.num_outputs = data.num_outputs;
  for (int64_t r = rank; r < data.rows; r += world) {
    s.features.insert(s.features.end(), data.features.begin() + r * data.num_features,
                      data.features.begin() + (r + 1) * data.num_features);
    s.targets.insert(s.targets.end(), data.targets.begin() + r * data.num_outputs,
                     data.targets.begin() + (r + 1) * data.num_outputs);
    ++s.rows;
  }
  return s;
}

// What a checkpoint must match to be resumed: the (whole, unsharded) data's shape and sums,
// the booster parameters and the round counts.
std::string CheckpointTag(const models::TabularData& data, const models::TabularData* valid,
                          const xgb::XgboostOptions& o, const Params& resolved) {
  double features = 0, targets = 0;
  for (float v : data.features) features += std::isnan(v) ? 0.0 : v;
  for (float v : data.targets) targets += v;
  std::string tag = "rows=" + std::to_string(data.rows) + " features=" +
                    std::to_string(data.num_features) + " outputs=" +
                    std::to_string(data.num_outputs);
  char sums[96];
  std::snprintf(sums, sizeof sums, " sum_x=%.9g sum_y=%.9g", features, targets);
  tag += sums;
  tag += " valid_rows=" + std::to_string(valid != nullptr ? valid->rows : 0);
  tag += " rounds=" + std::to_string(o.rounds) + " seed=" + std::to_string(o.seed);
  for (const auto& [k, v] : resolved) tag += " " + k + "=" + v;
  return tag;
}

// One session of XGBoost's collective (rabit): rank 0 starts the tracker at MASTER_ADDR on
// MASTER_PORT + 1 + (the session's number: every rank counts the same sessions), every rank
// joins with its rank as task id and trains on its shard.
StatusOr<xgb::TrainedXgboost> TrainXgboostDistributed(const models::TabularData& train,
                                                      const models::TabularData* valid,
                                                      xgb::XgboostOptions o,
                                                      const DistributedOptions& d,
                                                      const ProgressCallback& progress) {
  static int session = 0;
  const int port = d.master_port + 1 + session++ % 1000;
  if (port > 65535) return InvalidArgumentError("xgboost: tracker port above 65535");
  const models::TabularData tr = Shard(train, d.rank, d.world_size);
  models::TabularData va;
  if (valid != nullptr) va = Shard(*valid, d.rank, d.world_size);
  if (tr.rows == 0 || (valid != nullptr && va.rows == 0)) {
    return InvalidArgumentError("xgboost: rank " + std::to_string(d.rank) +
                                " has no rows (fewer rows than ranks)");
  }
  char task[16];
  std::snprintf(task, sizeof task, "%06d", d.rank);
  o.communicator_config = std::string(R"({"xgboost_communicator": "rabit", "rabit_tracker_uri": ")") +
                          d.master_addr + R"(", "rabit_tracker_port": )" + std::to_string(port) +
                          R"(, "rabit_task_id": ")" + task + R"(", "rabit_world_size": )" +
                          std::to_string(d.world_size) +
                          R"(, "rabit_timeout": true, "rabit_timeout_sec": )" +
                          std::to_string(static_cast<int>(d.timeout_seconds)) + "}";
  // Rabit retries the tracker waiting 2, 4, 6, … s (n tries: n(n + 1) s in all). At the start
  // the tracker (Python, started by rank 0) is up in about a second. After a rank died, the
  // survivors' rabit goes back to the tracker — gone when rank 0 is the one that died — and with
  // 10 tries it retried for 110 s, past any timeout, before failing: keep the tries to about
  // the collective's timeout (at least 4: 20 s for the tracker to start), so the failure
  // surfaces and the heartbeats name the rank. A value in the environment is kept.
  int tries = 4;
  while (tries * (tries + 1) < d.timeout_seconds && tries < 30) ++tries;
  ::setenv("DMLC_WORKER_CONNECT_RETRY", std::to_string(tries).c_str(), 0);
  // Rabit's errors do not say which peer failed: the job's heartbeats do (rank_heartbeats.h).
  ASSIGN_OR_RETURN(RankHeartbeats * heartbeats, JobHeartbeats(d));
  int tracker = -1;
  if (d.rank == 0) {
    ASSIGN_OR_RETURN(tracker, StartRabitTracker(d.master_addr, port, d.world_size));
  }
  // Every rank reports each round to a `--nproc` launcher (so a failure report says how far
  // each rank got); only rank 0 prints progress.
  static int64_t rounds_done = 0;  // over every session of this process
  const int rank = d.rank;
  const ProgressCallback each_round = [&progress, rank,
                                      heartbeats](const models::TrainingProgress& p) {
    MaybeInjectFault(rank, rounds_done + 1);
    ReportProgressToLauncher(++rounds_done);
    heartbeats->set_step(rounds_done);
    if (rank == 0 && progress) progress(p);
  };
  auto trained = xgb::TrainXgboost(tr, valid != nullptr ? &va : nullptr, o, each_round);
  if (tracker > 0) StopRabitTracker(tracker, trained.ok() ? 10 : 0);
  if (!trained.ok()) {
    // A failed collective: name the rank that stopped or hung. Other failures (bad
    // parameters, a checkpoint of another run) are this rank's own.
    const std::string what = "xgboost: " + trained.status().message();
    if (trained.status().code() == StatusCode::kInternal) return heartbeats->Failure(what);
    return Status(trained.status().code(), "xgboost rank " + std::to_string(d.rank) + " of " +
                                               std::to_string(d.world_size) + ": " +
                                               trained.status().message());
  }
  return trained;
}

StatusOr<TrainedModel> TrainWithXgboost(const models::TabularData& train,
                                        const models::TabularData* valid,
                                        const TrainerOptions& options, const std::string& out_dir,
                                        const ProgressCallback& progress) {
  TrainedModel m;
  ASSIGN_OR_RETURN(xgb::XgboostOptions xo, ReadOptions(options, &m.resolved_params));
  // Distributed: every rank trains on its shard of the rows (r, r+W, …) through XGBoost's
  // collective, each booster a session with XGBoost's tracker started by rank 0.
  // Checkpoints (--checkpoint-dir, --checkpoint-every rounds): one file per stage and output,
  // written by rank 0; the tag (data shape and sums, parameters) refuses another run's.
  if (!options.checkpoint_dir.empty()) RETURN_IF_ERROR(MakeDirs(options.checkpoint_dir));
  const auto run = [&](const models::TabularData& data, const models::TabularData* va,
                       xgb::XgboostOptions opts,
                       const std::string& stage) -> StatusOr<xgb::TrainedXgboost> {
    if (!options.checkpoint_dir.empty()) {
      opts.checkpoint_path = options.checkpoint_dir + "/xgboost_" + stage;
      opts.checkpoint_every = options.checkpoint_every_steps;
      opts.checkpoint_writer = options.distributed.is_rank0();
      opts.checkpoint_tag = CheckpointTag(data, va, opts, m.resolved_params);
    }
    if (!options.distributed.enabled()) return xgb::TrainXgboost(data, va, opts, progress);
    return TrainXgboostDistributed(data, va, opts, options.distributed, progress);
  };
  const auto start = std::chrono::steady_clock::now();
  xgb::TrainedXgboost trained;
  if (options.fixed_iterations.empty()) {
    ASSIGN_OR_RETURN(trained, run(train, valid, xo, "fit"));
  } else {
    // A refit: each output's booster for the rounds it was given, without validation data.
    if (static_cast<int>(options.fixed_iterations.size()) != train.num_outputs) {
      return InvalidArgumentError("xgboost: " + std::to_string(options.fixed_iterations.size()) +
                                  " fixed round counts for " + std::to_string(train.num_outputs) +
                                  " outputs");
    }
    trained.num_features = train.num_features;
    for (int k = 0; k < train.num_outputs; ++k) {
      xgb::XgboostOptions ko = xo;
      ko.rounds = options.fixed_iterations[k];
      ko.early_stopping_rounds = 0;
      models::TabularData one;
      const models::TabularData* data = &train;
      if (train.num_outputs > 1) {
        one = OneOutput(train, k);
        data = &one;
      }
      ASSIGN_OR_RETURN(xgb::TrainedXgboost single,
                       run(*data, nullptr, ko, "refit_" + std::to_string(k)));
      trained.metric_name = single.metric_name;
      trained.outputs.push_back(std::move(single.outputs[0]));
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (trained.num_outputs() == 1) {
    m.artifacts = {"model.json"};
    m.load_path = out_dir + "/model.json";
  } else {
    for (int k = 0; k < trained.num_outputs(); ++k) {
      m.artifacts.push_back("output_" + std::to_string(k) + ".json");
    }
    m.load_path = out_dir;
  }
  RETURN_IF_ERROR(xgb::SaveXgboostModel(trained, m.load_path));
  models::LoadOptions lo;
  lo.num_threads = options.threads;
  ASSIGN_OR_RETURN(m.model, xgb::LoadXgboostModel(m.load_path, lo));
  m.backend = "xgboost";
  m.metric_name = trained.metric_name;
  int64_t rows_trained = 0;
  for (const xgb::TrainedXgboostOutput& out : trained.outputs) {
    m.best_iterations.push_back(std::max(1, out.best_round));
    m.best_valid_metric.push_back(out.best_valid_metric);
    rows_trained += train.rows * out.rounds_run;
  }
  m.threads_used = xo.nthread;
  m.train_seconds = seconds;
  m.rows_per_second = seconds > 0 ? static_cast<double>(rows_trained) / seconds : 0;
  const xgb::TrainedXgboostOutput& first = trained.outputs[0];
  char line[256];
  std::snprintf(line, sizeof line,
                "xgboost: %d rounds, best round %d (valid %s %.6g), %.6g s, %d threads",
                first.rounds_run, first.best_round, trained.metric_name.c_str(),
                first.best_valid_metric, seconds, xo.nthread);
  m.summary = line;
  if (trained.num_outputs() > 1) {
    m.summary += " (output 1 of " + std::to_string(trained.num_outputs()) + ")";
  }
  if (first.resumed_at_round > 0) {
    m.summary += "; resumed at round " + std::to_string(first.resumed_at_round) +
                 " from the checkpoint";
  }
  return m;
}

Status CheckXgboostOptions(const TrainerOptions& options) {
  return ReadOptions(options, nullptr).status();
}

}  // namespace
}  // namespace bimride::train

BIMRIDE_TRAINER("xgboost", bimride::train::TrainWithXgboost, bimride::train::CheckXgboostOptions);
