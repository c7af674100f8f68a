// LibTorch tabular net: embeddings for categorical columns + standardised numeric columns →
// ReLU MLP with dropout → O outputs. Training runs in eager LibTorch; the result is a plain
// MlpNet (models/native/mlp_net.h, which also defines the exact forward pass) that can be
// evaluated directly, exported as TorchScript (for the "torchscript" backend and Python) and as
// net.json + weights.bin (for "native_mlp").
//
// This header includes no LibTorch: callers compile fast. Only tabular_net.cc includes torch.
// Threads: TrainTabularNet calls torch::set_num_threads(options.num_threads), which is
// process-wide in LibTorch; the count used is reported in TabularTrainingReport.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "models/model.h"
#include "models/native/mlp_net.h"
#include "models/tabular_data.h"

namespace bimride::models::torch_backend {

enum class TabularLoss {
  kMse,      // mean squared error on the raw output
  kPoisson,  // Poisson NLL with log link: the net predicts log(rate), outputs exp(·)
  kHuber,    // Huber (smooth L1) with `huber_delta`
  kLogistic,  // binary cross-entropy on logits (targets 0/1): outputs sigmoid(·)
};

// Data-parallel training over c10d (ProcessGroupGloo, rendezvous through a TCPStore hosted by
// rank 0); see data_parallel.h. world_size 1: one process, no communication.
struct TabularDistributedOptions {
  int rank = 0;
  int world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  double timeout_seconds = 60;  // a collective waiting longer fails, naming the rank
  // Gradients are all-reduced in buckets of about this size, each launched (asynchronously) as
  // soon as backward has produced all its gradients.
  int bucket_kb = 128;
};

struct TabularNetOptions {
  // Columns holding ids (as floats); every other input column is numeric.
  std::vector<native::CategoricalColumn> categorical;
  std::vector<int> hidden_sizes = {64, 32};
  double dropout = 0.0;
  TabularLoss loss = TabularLoss::kMse;
  double huber_delta = 1.0;
  double learning_rate = 1e-3;
  double weight_decay = 0.0;
  int batch_size = 256;
  int epochs = 20;
  // Early stopping (only with validation data): stop after `patience` epochs without the
  // validation loss improving by more than `min_delta`, then restore the best weights.
  int patience = 3;
  double min_delta = 0.0;
  uint64_t seed = 42;  // weights init, dropout and shuffling: same seed → same net
  int num_threads = 1;
  // With world_size > 1, `batch_size` is the GLOBAL batch: each step, rank r takes every
  // world_size-th row of the step's batch (r, r + W, …), gradients are averaged exactly over
  // the global batch, so N ranks train the same net as one process (to rounding) when dropout
  // is 0. Every rank needs the same data and options; rank 0's parameters are broadcast first;
  // validation is sharded; rank 0 decides early stopping and broadcasts the decision; only
  // rank 0 calls `progress`.
  TabularDistributedOptions distributed;
  // Rank 0 writes the training state (parameters, Adam state, RNG, position, early-stopping
  // state) to `checkpoint_path` every `checkpoint_every_steps` steps (write + rename); if the
  // file exists when training starts and belongs to the same run (same data shape and
  // options), training resumes from it (rank 0 reads it and broadcasts it). Empty: none.
  std::string checkpoint_path;
  int checkpoint_every_steps = 0;
};

struct TabularTrainingReport {
  int epochs_run = 0;
  int best_epoch = 0;          // epoch whose weights were kept
  double best_valid_loss = 0;  // NaN without validation data
  double final_train_loss = 0;
  bool stopped_early = false;
  int num_threads = 1;        // torch::get_num_threads() during training
  double train_seconds = 0;
  double rows_per_second = 0;  // training rows processed per second, over all epochs
  int world_size = 1;
  double allreduce_wait_seconds = 0;  // time blocked waiting for gradient all-reduces (rank 0)
  int64_t steps = 0;                  // optimizer steps taken (including before a resume)
  int64_t resumed_at_step = 0;        // 0: started fresh
};

struct TrainedTabularNet {
  native::MlpNet net;
  TabularTrainingReport report;
};

// Trains on `train`, early-stopping on `valid` (may be null). InvalidArgument for bad data or
// options (category id outside 0..cardinality-1, non-finite numeric feature, negative target
// with the Poisson loss, …), naming the row and column. Never throws.
StatusOr<TrainedTabularNet> TrainTabularNet(const TabularData& train, const TabularData* valid,
                                            const TabularNetOptions& options,
                                            const TrainingProgressCallback& progress = nullptr);

// Writes the net for serving into `dir`:
//   model.pt               TorchScript (loads in LibTorch and Python torch.jit.load), with int
//                          attributes num_features / num_outputs for the "torchscript" backend;
//   net.json, weights.bin  the same weights for "native_mlp" (format in mlp_net.h).
Status ExportTabularNet(const native::MlpNet& net, const std::string& dir);

// The "torch_eager" backend: loads a net's net.json + weights.bin (a folder or net.json itself)
// into the eager training module and predicts op by op under InferenceMode, as a C++ program
// using LibTorch without TorchScript would. Same outputs as native_mlp within float rounding.
StatusOr<std::unique_ptr<Model>> LoadEagerTabularNetModel(const std::string& artifact_path,
                                                          const LoadOptions& options);

// Writes only the TorchScript file (see ExportTabularNet).
Status WriteTorchScriptNet(const native::MlpNet& net, const std::string& path);

}  // namespace bimride::models::torch_backend
