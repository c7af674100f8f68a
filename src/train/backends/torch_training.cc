// The "torch" trainer: train::Train over models/torch (an eager LibTorch tabular net:
// embeddings for the categorical columns + standardised numeric columns → ReLU MLP). Files in
// out_dir: model.pt (TorchScript, backend "torchscript") and net.json + weights.bin (the same
// net for "native_mlp"). The returned model is the native MLP, which computes the same forward
// pass without LibTorch.
//
// Params (defaults in brackets): hidden_sizes [64,32], dropout [0], learning_rate [0.001],
// weight_decay [0], batch_size [256], epochs [20], patience [3], min_delta [0], and ensemble
// [1] and bucket_kb [128] (data-parallel: the size of the gradient buckets all-reduced during
// backward): nets trained with seeds seed, seed+1, … merged into one net averaging their outputs
// (models/native AverageMlpNets; for a Poisson net, the log-rates). With fixed_iterations, one
// epoch count per ensemble member.
// This file includes no LibTorch (tabular_net.h is torch-free): it compiles in a second.
#include <algorithm>
#include <cstdio>

#include "common/file.h"
#include "models/native/mlp_net.h"
#include "models/native/native_mlp_model.h"
#include "models/torch/tabular_net.h"
#include "train/trainer.h"

namespace bimride::train {
namespace {

namespace tnet = models::torch_backend;

StatusOr<tnet::TabularNetOptions> ReadOptions(const TrainerOptions& o, int* ensemble,
                                              Params* resolved) {
  ParamReader p("torch", o.params);
  tnet::TabularNetOptions t;
  t.categorical = o.categorical;
  t.hidden_sizes = p.IntList("hidden_sizes", t.hidden_sizes);
  t.dropout = p.Double("dropout", t.dropout);
  t.learning_rate = p.Double("learning_rate", t.learning_rate);
  t.weight_decay = p.Double("weight_decay", t.weight_decay);
  t.batch_size = p.Int("batch_size", t.batch_size);
  t.epochs = p.Int("epochs", t.epochs);
  t.patience = p.Int("patience", t.patience);
  t.min_delta = p.Double("min_delta", t.min_delta);
  *ensemble = p.Int("ensemble", 1);
  t.distributed.bucket_kb = p.Int("bucket_kb", t.distributed.bucket_kb);
  RETURN_IF_ERROR(p.Finish(resolved));
  if (*ensemble < 1) return InvalidArgumentError("torch: parameter 'ensemble' must be >= 1");
  switch (o.loss) {
    case Loss::kSquaredError:
      t.loss = tnet::TabularLoss::kMse;
      break;
    case Loss::kPoisson:
      t.loss = tnet::TabularLoss::kPoisson;
      break;
    case Loss::kHuber:
      t.loss = tnet::TabularLoss::kHuber;
      t.huber_delta = o.huber_delta;
      break;
    case Loss::kLogistic:
      t.loss = tnet::TabularLoss::kLogistic;
      break;
  }
  t.seed = o.seed;
  t.num_threads = o.threads;
  t.distributed.rank = o.distributed.rank;
  t.distributed.world_size = o.distributed.world_size;
  t.distributed.master_addr = o.distributed.master_addr;
  t.distributed.master_port = o.distributed.master_port;
  t.distributed.timeout_seconds = o.distributed.timeout_seconds;
  t.checkpoint_every_steps = o.checkpoint_every_steps;
  return t;
}

StatusOr<TrainedModel> TrainWithTorch(const models::TabularData& train,
                                      const models::TabularData* valid,
                                      const TrainerOptions& options, const std::string& out_dir,
                                      const ProgressCallback& progress) {
  TrainedModel m;
  int members = 1;
  ASSIGN_OR_RETURN(tnet::TabularNetOptions base,
                   ReadOptions(options, &members, &m.resolved_params));
  const bool refit = !options.fixed_iterations.empty();
  if (refit && static_cast<int>(options.fixed_iterations.size()) != members) {
    return InvalidArgumentError("torch: " + std::to_string(options.fixed_iterations.size()) +
                                " fixed epoch counts for an ensemble of " +
                                std::to_string(members));
  }
  if (!options.checkpoint_dir.empty()) RETURN_IF_ERROR(MakeDirs(options.checkpoint_dir));
  std::vector<models::native::MlpNet> nets;
  tnet::TabularTrainingReport first;
  double seconds = 0, rows_per_second = 0, valid_loss = 0;
  for (int k = 0; k < members; ++k) {
    tnet::TabularNetOptions to = base;
    to.seed = options.seed + static_cast<uint64_t>(k);
    if (refit) to.epochs = options.fixed_iterations[k];
    if (!options.checkpoint_dir.empty()) {
      // One file per stage (a fit with validation, a refit) and ensemble member, so they never
      // resume each other's state (the checkpoint's fingerprint also refuses another run's).
      to.checkpoint_path = options.checkpoint_dir + "/checkpoint_" + (refit ? "refit" : "fit") +
                           "_m" + std::to_string(k) + ".pt";
    }
    ASSIGN_OR_RETURN(tnet::TrainedTabularNet trained,
                     tnet::TrainTabularNet(train, refit ? nullptr : valid, to, progress));
    if (k == 0) first = trained.report;
    m.best_iterations.push_back(std::max(1, trained.report.best_epoch));
    m.best_valid_metric.push_back(trained.report.best_valid_loss);
    valid_loss += trained.report.best_valid_loss / members;
    seconds += trained.report.train_seconds;
    rows_per_second += trained.report.rows_per_second / members;
    m.threads_used = trained.report.num_threads;
    nets.push_back(std::move(trained.net));
  }
  models::native::MlpNet net;
  if (members == 1) {
    net = std::move(nets[0]);
  } else {
    ASSIGN_OR_RETURN(net, models::native::AverageMlpNets(nets));
  }
  RETURN_IF_ERROR(tnet::ExportTabularNet(net, out_dir));
  ASSIGN_OR_RETURN(m.model, models::native::MakeNativeMlpModel(net));
  m.backend = "torchscript";
  m.artifacts = {"model.pt", "net.json", "weights.bin"};
  m.load_path = out_dir + "/model.pt";
  m.metric_name = std::string(LossName(options.loss)) + "_loss";
  m.train_seconds = seconds;
  m.rows_per_second = rows_per_second;
  char line[256];
  std::snprintf(line, sizeof line,
                "torch: %d epochs, best epoch %d (valid loss %.6g), %.6g s, %.6g rows/s, "
                "%d threads",
                first.epochs_run, first.best_epoch,
                members == 1 ? first.best_valid_loss : valid_loss, seconds, rows_per_second,
                m.threads_used);
  m.summary = line;
  m.world_size = first.world_size;
  m.allreduce_wait_seconds = first.allreduce_wait_seconds;
  if (first.world_size > 1) {
    std::snprintf(line, sizeof line, ", %d ranks (all-reduce wait %.3g s on this rank)",
                  first.world_size, first.allreduce_wait_seconds);
    m.summary += line;
  }
  if (first.resumed_at_step > 0) {
    m.summary += ", resumed at step " + std::to_string(first.resumed_at_step);
  }
  if (members > 1) m.summary += ", ensemble of " + std::to_string(members);
  return m;
}

Status CheckTorchOptions(const TrainerOptions& options) {
  int ensemble = 1;
  return ReadOptions(options, &ensemble, nullptr).status();
}

}  // namespace
}  // namespace bimride::train

BIMRIDE_TRAINER("torch", bimride::train::TrainWithTorch, bimride::train::CheckTorchOptions);
