// The one backend-neutral training entry. A trainer turns a feature matrix (models::TabularData)
// into a saved, loaded model; it is found by its kind ("xgboost", "torch", later more), which
// the backend registers once beside its adapter with one line:
//
//   BIMRIDE_TRAINER("xgboost", TrainWithXgboost);
//
// Tasks call train::Train(kind, …) and never include a backend's headers, so a build without
// LibTorch or XGBoost still builds every task (the kind is then simply not registered, and
// Train answers NotFound naming the kinds that are).
//
//   train::TrainerOptions o;
//   o.loss = train::Loss::kPoisson;
//   o.params = {{"max_depth", "8"}, {"eta", "0.05"}};
//   ASSIGN_OR_RETURN(train::TrainedModel m, train::Train("xgboost", tr, &va, o, "out/model"));
//   m.model->Predict(...);   // m.backend + m.artifacts are what a registry version loads
//
// Hyper-parameters travel as strings by name (the same text run tracking records); each trainer
// parses its own and refuses a name it does not know (InvalidArgument naming the trainer, the
// parameter and the known ones), so a misspelt option never trains silently with a default.
// Thread safety: registration runs during static initialisation; Train calls may run from
// several threads only if the trainer says so (LibTorch's thread count is process-wide).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "models/model.h"
#include "models/tabular_data.h"

namespace bimride::train {

using Params = std::map<std::string, std::string>;

// What the model is fitted to minimise, in backend-neutral words.
enum class Loss {
  kSquaredError,  // regression on the raw target
  kPoisson,       // counts: log link, the model predicts the mean
  kHuber,         // squared near zero, absolute beyond huber_delta
  kLogistic,      // binary targets 0/1: log-loss, logit link, the model predicts P(y = 1)
};
std::string_view LossName(Loss loss);  // "squared_error", "poisson", "huber", "logistic"

// Data-parallel training across processes (train/distributed.h reads it from torchrun's
// environment). world_size 1 is one process. Trainers that support it ("torch") give the same
// model for N processes as for one with the same global batch; the others refuse world_size > 1.
struct DistributedOptions {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr = "127.0.0.1";  // where rank 0 hosts the rendezvous store (TCPStore)
  int master_port = 29500;
  // A collective (or the rendezvous) waiting longer than this fails, naming the rank that
  // stopped answering.
  double timeout_seconds = 60;
  bool enabled() const { return world_size > 1; }
  bool is_rank0() const { return rank == 0; }
};

struct TrainerOptions {
  Loss loss = Loss::kSquaredError;
  double huber_delta = 1.0;
  // Columns holding ids (as floats): nets embed them, trees split on them as numbers.
  std::vector<models::CategoricalColumn> categorical;
  int threads = 1;
  uint64_t seed = 42;
  // A refit: train each sub-model (XGBoost: each output's booster; LibTorch: each ensemble
  // member) for exactly this many rounds/epochs, without validation data. Empty: train with
  // early stopping on `valid`, as the params say.
  std::vector<int> fixed_iterations;
  Params params;  // the trainer's own hyper-parameters
  DistributedOptions distributed;
  // Checkpoints (trainers that support them: "torch", "xgboost"): rank 0 writes the whole
  // training state into this folder every `checkpoint_every_steps` optimizer steps (torch) or
  // boosting rounds (xgboost) (write + rename), and a training that finds a checkpoint of the
  // same run there resumes from it. Empty: none.
  std::string checkpoint_dir;
  int checkpoint_every_steps = 0;
};

// Reported once per epoch / boosting round (and output, for per-output trainers).
using ProgressCallback = std::function<void(const models::TrainingProgress&)>;

struct TrainedModel {
  std::string kind;          // the trainer that made it
  std::string backend;       // the serving backend of the artifacts ("xgboost", "torchscript")
  std::string artifact_dir;  // where the files are
  // Every file the trainer wrote, relative to artifact_dir ("model.json"; "output_0.json", …).
  std::vector<std::string> artifacts;
  // What models::LoadModel(backend, …) takes: artifact_dir + "/model.json", or artifact_dir
  // itself for a folder of per-output boosters.
  std::string load_path;
  std::unique_ptr<models::Model> model;  // the trained model, ready to predict
  // Per sub-model: rounds/epochs kept (early stopping's best, 1-based) and its validation
  // metric (NaN without validation data). Feed best_iterations back as fixed_iterations to refit.
  std::vector<int> best_iterations;
  std::vector<double> best_valid_metric;
  std::string metric_name;  // what best_valid_metric measures ("rmse", "poisson_nll", …)
  Params resolved_params;   // every hyper-parameter as used (defaults filled in), for tracking
  int threads_used = 1;
  double train_seconds = 0;
  double rows_per_second = 0;  // training rows per second over all iterations
  // Data-parallel runs: the number of ranks, and the time this rank spent blocked waiting for
  // gradient all-reduces (the part of communication that did not overlap with backward).
  int world_size = 1;
  double allreduce_wait_seconds = 0;
  std::string summary;         // one line for a person
};

using TrainerFn = StatusOr<TrainedModel> (*)(const models::TabularData& train,
                                             const models::TabularData* valid,
                                             const TrainerOptions& options,
                                             const std::string& out_dir,
                                             const ProgressCallback& progress);

// Checks options without training (the params a trainer would refuse), so a command line can
// be refused before any data is read.
using TrainerCheckFn = Status (*)(const TrainerOptions& options);

// Replaces a trainer of the same kind. `check` may be null. Returns true (for static
// registration).
bool RegisterTrainer(const char* kind, TrainerFn fn, TrainerCheckFn check = nullptr);
std::vector<std::string> RegisteredTrainers();  // sorted
bool HasTrainer(const std::string& kind);

// The trainer's own check of `options` (OK when it has none); NotFound for an unknown kind.
Status CheckTrainerOptions(const std::string& kind, const TrainerOptions& options);

// Validates the data (models::ValidateTabularData), creates `out_dir`, and runs the trainer of
// `kind`. NotFound naming the registered kinds when `kind` is unknown (not built in this binary).
// A distributed run (world size > 1) sets SIGPIPE to ignored for the process, as Python does:
// a peer that dies mid-collective must be an error naming it, not a signal.
StatusOr<TrainedModel> Train(const std::string& kind, const models::TabularData& train,
                             const models::TabularData* valid, const TrainerOptions& options,
                             const std::string& out_dir,
                             const ProgressCallback& progress = nullptr);

// A number as a parameter value: the shortest text that reads back as exactly `value` (so a
// task's tuned 0.05 reaches the trainer as the same double it wrote).
std::string ParamValue(double value);

// For trainers: reads typed values out of TrainerOptions::params, remembering which names were
// used; Finish() refuses the names nobody asked for. Errors name the trainer and the parameter.
class ParamReader {
 public:
  ParamReader(std::string trainer, Params params)
      : trainer_(std::move(trainer)), params_(std::move(params)) {}
  int Int(const std::string& name, int fallback);
  double Double(const std::string& name, double fallback);
  std::string String(const std::string& name, const std::string& fallback);
  std::vector<int> IntList(const std::string& name, const std::vector<int>& fallback);
  // The first bad value or unknown name; the values as used go to `resolved`.
  Status Finish(Params* resolved);

 private:
  const std::string* Find(const std::string& name);
  std::string trainer_;
  Params params_;
  Params used_;
  Status error_;
};

}  // namespace bimride::train

// BIMRIDE_TRAINER(kind, train_fn) or BIMRIDE_TRAINER(kind, train_fn, check_fn).
#define BIMRIDE_TRAINER(kind, ...)                                                           \
  static const bool BIMRIDE_CONCAT(bimride_trainer_registered_, __LINE__) [[maybe_unused]] = \
      ::bimride::train::RegisterTrainer(kind, __VA_ARGS__)
