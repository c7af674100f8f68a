#include "models/torch/tabular_net.h"

#include <signal.h>
#include <torch/script.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <numeric>
#include <random>
#include <sstream>
#include <thread>

#include "common/file.h"
#include "models/torch/data_parallel.h"

namespace bimride::models::torch_backend {
namespace {

using native::CategoricalColumn;
using native::MlpNet;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The eager training module; its forward takes pre-split inputs (ids, standardised numerics)
// and returns the raw output (log-rate for the Poisson loss).
struct TabularModuleImpl : ::torch::nn::Module {
  TabularModuleImpl(const TabularNetOptions& options, int num_numeric, int num_outputs)
      : dropout(options.dropout) {
    int width = num_numeric;
    for (size_t k = 0; k < options.categorical.size(); ++k) {
      const CategoricalColumn& c = options.categorical[k];
      embeddings.push_back(register_module("emb" + std::to_string(k),
                                           ::torch::nn::Embedding(c.cardinality, c.embedding_dim)));
      width += c.embedding_dim;
    }
    std::vector<int> sizes = options.hidden_sizes;
    sizes.push_back(num_outputs);
    for (size_t i = 0; i < sizes.size(); ++i) {
      layers.push_back(
          register_module("fc" + std::to_string(i), ::torch::nn::Linear(width, sizes[i])));
      width = sizes[i];
    }
  }

  ::torch::Tensor forward(const ::torch::Tensor& ids, const ::torch::Tensor& numeric) {
    std::vector<::torch::Tensor> parts;
    for (size_t k = 0; k < embeddings.size(); ++k) {
      parts.push_back(embeddings[k]->forward(ids.select(1, static_cast<int64_t>(k))));
    }
    if (numeric.size(1) > 0) parts.push_back(numeric);
    ::torch::Tensor h = parts.size() == 1 ? parts[0] : ::torch::cat(parts, 1);
    for (size_t i = 0; i + 1 < layers.size(); ++i) {
      h = ::torch::relu(layers[i]->forward(h));
      if (dropout > 0) h = ::torch::dropout(h, dropout, is_training());
    }
    return layers.back()->forward(h);
  }

  std::vector<::torch::nn::Embedding> embeddings;
  std::vector<::torch::nn::Linear> layers;
  double dropout;
};
TORCH_MODULE(TabularModule);

// Inputs split once into tensors so batches are index_selects.
struct PreparedData {
  ::torch::Tensor ids;      // rows × K, int64
  ::torch::Tensor numeric;  // rows × M, float, standardised
  ::torch::Tensor targets;  // rows × O, float
};

Status CheckOptions(const TabularData& train, const TabularNetOptions& o) {
  std::vector<char> used(train.num_features, 0);
  for (const CategoricalColumn& c : o.categorical) {
    if (c.column < 0 || c.column >= train.num_features || used[c.column]) {
      return InvalidArgumentError("tabular net: categorical column " + std::to_string(c.column) +
                                  " is out of range or listed twice");
    }
    used[c.column] = 1;
    if (c.cardinality <= 0 || c.embedding_dim <= 0) {
      return InvalidArgumentError("tabular net: categorical column " + std::to_string(c.column) +
                                  ": cardinality and embedding_dim must be positive");
    }
  }
  for (int h : o.hidden_sizes) {
    if (h <= 0) return InvalidArgumentError("tabular net: hidden sizes must be positive");
  }
  if (o.batch_size <= 0 || o.epochs <= 0 || o.learning_rate <= 0 || o.num_threads <= 0 ||
      o.dropout < 0 || o.dropout >= 1 || o.patience < 0) {
    return InvalidArgumentError(
        "tabular net: need batch_size, epochs, learning_rate, num_threads > 0, "
        "0 <= dropout < 1, patience >= 0");
  }
  return OkStatus();
}

std::vector<int> NumericColumns(int num_features, const TabularNetOptions& o) {
  std::vector<char> categorical(num_features, 0);
  for (const CategoricalColumn& c : o.categorical) categorical[c.column] = 1;
  std::vector<int> numeric;
  for (int i = 0; i < num_features; ++i) {
    if (!categorical[i]) numeric.push_back(i);
  }
  return numeric;
}

StatusOr<PreparedData> Prepare(const TabularData& data, const std::string& what,
                               const TabularNetOptions& o, const std::vector<int>& numeric_columns,
                               const std::vector<float>& mean, const std::vector<float>& stddev) {
  const int64_t n = data.rows;
  const int k = static_cast<int>(o.categorical.size());
  const int m = static_cast<int>(numeric_columns.size());
  ::torch::Tensor ids = ::torch::empty({n, k}, ::torch::kLong);
  ::torch::Tensor numeric = ::torch::empty({n, m}, ::torch::kFloat);
  int64_t* id = ids.data_ptr<int64_t>();
  float* z = numeric.data_ptr<float>();
  for (int64_t r = 0; r < n; ++r) {
    for (int c = 0; c < k; ++c) {
      const CategoricalColumn& col = o.categorical[c];
      float v = data.feature(r, col.column);
      if (!(v >= 0 && v < static_cast<float>(col.cardinality))) {
        return InvalidArgumentError(what + ": row " + std::to_string(r) + ": column " +
                                    std::to_string(col.column) + ": id " + std::to_string(v) +
                                    " is outside 0.." + std::to_string(col.cardinality - 1));
      }
      id[r * k + c] = static_cast<int64_t>(v);
    }
    for (int c = 0; c < m; ++c) {
      float v = data.feature(r, numeric_columns[c]);
      if (!std::isfinite(v)) {
        return InvalidArgumentError(what + ": row " + std::to_string(r) + ": numeric column " +
                                    std::to_string(numeric_columns[c]) + " is not finite");
      }
      z[r * m + c] = (v - mean[c]) / stddev[c];
    }
  }
  if (o.loss == TabularLoss::kLogistic) {
    for (size_t i = 0; i < data.targets.size(); ++i) {
      if (!(data.targets[i] >= 0 && data.targets[i] <= 1)) {
        return InvalidArgumentError(what + ": row " + std::to_string(i / data.num_outputs) +
                                    ": target outside 0..1 with the logistic loss");
      }
    }
  }
  if (o.loss == TabularLoss::kPoisson) {
    for (size_t i = 0; i < data.targets.size(); ++i) {
      if (data.targets[i] < 0) {
        return InvalidArgumentError(what + ": row " + std::to_string(i / data.num_outputs) +
                                    ": negative target with the Poisson loss");
      }
    }
  }
  ::torch::Tensor targets = ::torch::from_blob(const_cast<float*>(data.targets.data()),
                                               {n, data.num_outputs}, ::torch::kFloat)
                                .clone();
  return PreparedData{ids, numeric, targets};
}

::torch::Tensor Loss(const TabularNetOptions& o, const ::torch::Tensor& raw,
                     const ::torch::Tensor& target,
                     at::Reduction::Reduction reduction = at::Reduction::Mean) {
  switch (o.loss) {
    case TabularLoss::kPoisson:
      return ::torch::poisson_nll_loss(raw, target, /*log_input=*/true, /*full=*/false,
                                       /*eps=*/1e-8, reduction);
    case TabularLoss::kHuber:
      return ::torch::huber_loss(raw, target, reduction, o.huber_delta);
    case TabularLoss::kLogistic:
      return ::torch::binary_cross_entropy_with_logits(raw, target, /*weight=*/{},
                                                       /*pos_weight=*/{}, reduction);
    case TabularLoss::kMse:
      break;
  }
  return ::torch::mse_loss(raw, target, reduction);
}

// The summed loss over rows [begin, end) (a rank's shard of the validation rows).
double EvalLossSum(TabularModule& module, const TabularNetOptions& o, const PreparedData& d,
                   int64_t begin, int64_t end) {
  ::torch::NoGradGuard no_grad;
  module->eval();
  const int64_t chunk = 16384;
  double total = 0;
  for (int64_t s = begin; s < end; s += chunk) {
    int64_t e = std::min(end, s + chunk);
    ::torch::Tensor raw = module->forward(d.ids.slice(0, s, e), d.numeric.slice(0, s, e));
    total += Loss(o, raw, d.targets.slice(0, s, e)).item<double>() * static_cast<double>(e - s);
  }
  return total;
}

// What a checkpoint must match to be resumed: the data's shape and the training options.
std::string RunFingerprint(const TabularData& train, const TabularData* valid,
                           const TabularNetOptions& o) {
  std::ostringstream f;
  f.precision(17);
  f << "rows=" << train.rows << " features=" << train.num_features
    << " outputs=" << train.num_outputs << " valid=" << (valid ? valid->rows : -1)
    << " loss=" << static_cast<int>(o.loss) << " huber=" << o.huber_delta << " hidden=";
  for (int h : o.hidden_sizes) f << h << ",";
  f << " cat=";
  for (const CategoricalColumn& c : o.categorical) {
    f << c.column << ":" << c.cardinality << ":" << c.embedding_dim << ",";
  }
  double target_sum = 0;
  for (float t : train.targets) target_sum += t;
  f << " dropout=" << o.dropout << " lr=" << o.learning_rate << " wd=" << o.weight_decay
    << " batch=" << o.batch_size << " epochs=" << o.epochs << " patience=" << o.patience
    << " min_delta=" << o.min_delta << " seed=" << o.seed << " target_sum=" << target_sum;
  return f.str();
}

// Test hook: BIMRIDE_FAULT="RANK:STEP:exit|kill|hang" makes that rank fail at that step.
void MaybeInjectFault(int rank, int64_t step) {
  static const char* spec = std::getenv("BIMRIDE_FAULT");
  if (spec == nullptr) return;
  int r = -1;
  long long st = -1;
  char action[16] = {0};
  if (std::sscanf(spec, "%d:%lld:%15s", &r, &st, action) != 3 || r != rank || st != step) return;
  std::fprintf(stderr, "BIMRIDE_FAULT: rank %d at step %lld: %s\n", rank, st, action);
  std::fflush(stderr);
  if (std::string(action) == "kill") ::raise(SIGKILL);
  if (std::string(action) == "hang") {
    for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  std::_Exit(3);
}

std::vector<float> ToVector(const ::torch::Tensor& t) {
  ::torch::Tensor c = t.detach().to(::torch::kFloat).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

::torch::Tensor ToTensor(const std::vector<float>& v, std::vector<int64_t> shape) {
  return ::torch::from_blob(const_cast<float*>(v.data()), shape, ::torch::kFloat).clone();
}

std::string FloatLiteral(double v) {
  std::ostringstream s;
  s.precision(9);
  s << std::fixed << v;
  return s.str();
}

}  // namespace

StatusOr<TrainedTabularNet> TrainTabularNet(const TabularData& train, const TabularData* valid,
                                            const TabularNetOptions& options,
                                            const TrainingProgressCallback& progress) {
  RETURN_IF_ERROR(ValidateTabularData(train, "train"));
  RETURN_IF_ERROR(CheckOptions(train, options));
  if (valid != nullptr) {
    RETURN_IF_ERROR(ValidateTabularData(*valid, "valid"));
    if (valid->num_features != train.num_features || valid->num_outputs != train.num_outputs) {
      return InvalidArgumentError("valid: shape differs from train");
    }
  }
  if (options.distributed.world_size > 1 &&
      (options.distributed.rank < 0 || options.distributed.rank >= options.distributed.world_size)) {
    return InvalidArgumentError("tabular net: rank " + std::to_string(options.distributed.rank) +
                                " is outside world size " +
                                std::to_string(options.distributed.world_size));
  }
  if (options.checkpoint_every_steps > 0 && options.checkpoint_path.empty()) {
    return InvalidArgumentError("tabular net: checkpoint_every_steps needs a checkpoint_path");
  }
  std::shared_ptr<ProcessGroup> group;
  try {
    ::torch::set_num_threads(options.num_threads);
    ::torch::manual_seed(options.seed);
    const std::vector<int> numeric_columns = NumericColumns(train.num_features, options);
    const int m = static_cast<int>(numeric_columns.size());
    // Standardisation statistics from the training rows (population std; constant → 1).
    std::vector<float> mean(m, 0.0f), stddev(m, 1.0f);
    for (int c = 0; c < m; ++c) {
      double sum = 0, sum2 = 0;
      for (int64_t r = 0; r < train.rows; ++r) {
        double v = train.feature(r, numeric_columns[c]);
        sum += v;
        sum2 += v * v;
      }
      double mu = sum / train.rows;
      double var = std::max(0.0, sum2 / train.rows - mu * mu);
      mean[c] = static_cast<float>(mu);
      stddev[c] = var > 1e-12 ? static_cast<float>(std::sqrt(var)) : 1.0f;
    }
    ASSIGN_OR_RETURN(PreparedData tr,
                     Prepare(train, "train", options, numeric_columns, mean, stddev));
    std::optional<PreparedData> va;
    if (valid != nullptr) {
      ASSIGN_OR_RETURN(va, Prepare(*valid, "valid", options, numeric_columns, mean, stddev));
    }

    TabularModule module(options, m, train.num_outputs);
    ::torch::optim::Adam optimizer(
        module->parameters(),
        ::torch::optim::AdamOptions(options.learning_rate).weight_decay(options.weight_decay));
    std::vector<::torch::Tensor> params = module->parameters();

    const TabularDistributedOptions& dist = options.distributed;
    const int world = dist.world_size, rank = dist.rank;
    if (world > 1) {
      ASSIGN_OR_RETURN(group, ProcessGroup::Connect(dist));
      group->set_step(0);
    }

    TrainedTabularNet result;
    TabularTrainingReport& report = result.report;
    report.num_threads = ::torch::get_num_threads();
    report.best_valid_loss = kNaN;
    report.world_size = world;
    std::vector<::torch::Tensor> best_weights;
    std::mt19937_64 rng(options.seed);
    std::vector<int64_t> order(train.rows);
    std::iota(order.begin(), order.end(), 0);
    int epochs_without_improvement = 0;
    int start_epoch = 1;
    int64_t start_row = 0, global_step = 0;
    double resumed_loss_sum = 0;

    // Resume: rank 0 reads the checkpoint and broadcasts its bytes, so every rank (on any host)
    // restores the same state. Without one, rank 0's initial parameters are broadcast.
    const std::string fingerprint = RunFingerprint(train, valid, options);
    std::string checkpoint;
    if (!options.checkpoint_path.empty() && rank == 0 &&
        std::filesystem::exists(options.checkpoint_path)) {
      ASSIGN_OR_RETURN(checkpoint, ReadFile(options.checkpoint_path));
    }
    if (group) checkpoint = group->BroadcastBytes(checkpoint);
    if (!checkpoint.empty()) {
      ::torch::serialize::InputArchive in;
      in.load_from(checkpoint.data(), checkpoint.size());
      c10::IValue fp;
      in.read("fingerprint", fp);
      if (!fp.isString() || fp.toStringRef() != fingerprint) {
        return FailedPreconditionError(
            "checkpoint " + (rank == 0 ? options.checkpoint_path : std::string("of rank 0")) +
            " belongs to another run (different data or options); remove it to start over");
      }
      ::torch::Tensor meta, dmeta, state;
      in.read("meta", meta, true);
      in.read("dmeta", dmeta, true);
      const int64_t* mv = meta.data_ptr<int64_t>();
      start_epoch = static_cast<int>(mv[0]);
      start_row = mv[1];
      global_step = mv[2];
      report.best_epoch = static_cast<int>(mv[3]);
      epochs_without_improvement = static_cast<int>(mv[4]);
      const int64_t num_best = mv[5];
      report.epochs_run = static_cast<int>(mv[6]);
      resumed_loss_sum = rank == 0 ? dmeta.data_ptr<double>()[0] : 0.0;
      report.best_valid_loss = dmeta.data_ptr<double>()[1];
      ::torch::NoGradGuard no_grad;
      for (size_t i = 0; i < params.size(); ++i) {
        ::torch::Tensor t;
        in.read("p" + std::to_string(i), t, true);
        params[i].copy_(t);
      }
      for (int64_t i = 0; i < num_best; ++i) {
        ::torch::Tensor t;
        in.read("b" + std::to_string(i), t, true);
        best_weights.push_back(t.clone());
      }
      ::torch::serialize::InputArchive opt;
      in.read("optimizer", opt);
      optimizer.load(opt);
      in.read("rng", state, true);
      auto gen = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_state(state);
      report.resumed_at_step = global_step;
      for (int ep = 1; ep < start_epoch; ++ep) std::shuffle(order.begin(), order.end(), rng);
      if (group) group->set_step(global_step);
    } else if (group) {
      ::torch::NoGradGuard no_grad;
      group->Broadcast(params);
    }
    std::unique_ptr<GradientReducer> reducer;
    if (group) {
      reducer = std::make_unique<GradientReducer>(
          group.get(), params, static_cast<size_t>(std::max(1, dist.bucket_kb)) * 1024);
    }

    const auto save_checkpoint = [&](int epoch, int64_t next_row, double loss_sum_global) {
      ::torch::serialize::OutputArchive out;
      out.write("fingerprint", c10::IValue(fingerprint));
      out.write("meta",
                ::torch::tensor(std::vector<int64_t>{
                    epoch, next_row, global_step, report.best_epoch, epochs_without_improvement,
                    static_cast<int64_t>(best_weights.size()), report.epochs_run}),
                true);
      out.write("dmeta",
                ::torch::tensor(std::vector<double>{loss_sum_global, report.best_valid_loss},
                                ::torch::kDouble),
                true);
      for (size_t i = 0; i < params.size(); ++i) {
        out.write("p" + std::to_string(i), params[i].detach().clone(), true);
      }
      for (size_t i = 0; i < best_weights.size(); ++i) {
        out.write("b" + std::to_string(i), best_weights[i], true);
      }
      ::torch::serialize::OutputArchive opt;
      optimizer.save(opt);
      out.write("optimizer", opt);
      {
        auto gen = at::detail::getDefaultCPUGenerator();
        std::lock_guard<std::mutex> lock(gen.mutex());
        out.write("rng", gen.get_state(), true);
      }
      std::ostringstream bytes;
      out.save_to(bytes);
      return WriteFileAtomic(options.checkpoint_path, bytes.str());
    };

    // Validation rows are sharded: rank r evaluates [r*n/W, (r+1)*n/W).
    const int64_t vrows = va ? va->ids.size(0) : 0;
    const int64_t vbegin = vrows * rank / world, vend = vrows * (rank + 1) / world;
    const auto start = std::chrono::steady_clock::now();

    for (int epoch = start_epoch; epoch <= options.epochs; ++epoch) {
      const auto epoch_start = std::chrono::steady_clock::now();
      std::shuffle(order.begin(), order.end(), rng);
      ::torch::Tensor perm = ::torch::from_blob(order.data(), {train.rows}, ::torch::kLong);
      module->train();
      double loss_sum = epoch == start_epoch ? resumed_loss_sum : 0.0;
      const int64_t first_row = epoch == start_epoch ? start_row : 0;
      for (int64_t s = first_row; s < train.rows; s += options.batch_size) {
        const int64_t e = std::min(train.rows, s + options.batch_size);
        MaybeInjectFault(rank, global_step + 1);
        if (group) group->set_step(global_step + 1);  // steps started, for naming a hung rank
        optimizer.zero_grad();
        ::torch::Tensor loss;
        if (!group) {
          ::torch::Tensor idx = perm.slice(0, s, e);
          ::torch::Tensor raw =
              module->forward(tr.ids.index_select(0, idx), tr.numeric.index_select(0, idx));
          loss = Loss(options, raw, tr.targets.index_select(0, idx));
          loss.backward();
        } else {
          // This rank's share of the global batch: every world-th row from s + rank. The loss
          // is its sum over the global batch's count, so the sum over ranks is the global mean.
          ::torch::Tensor idx = perm.slice(0, std::min(e, s + rank), e, world);
          ::torch::Tensor raw =
              module->forward(tr.ids.index_select(0, idx), tr.numeric.index_select(0, idx));
          loss = Loss(options, raw, tr.targets.index_select(0, idx), at::Reduction::Sum) /
                 static_cast<double>((e - s) * train.num_outputs);
          reducer->Prepare();
          loss.backward();
          reducer->Finish();
        }
        optimizer.step();
        loss_sum += loss.item<double>() * static_cast<double>(e - s);
        ++global_step;
        if (options.checkpoint_every_steps > 0 && global_step % options.checkpoint_every_steps == 0) {
          double total = loss_sum;
          if (group) {
            ::torch::Tensor t = ::torch::tensor({loss_sum}, ::torch::kDouble);
            group->AllReduceSum(t);
            total = t.item<double>();
          }
          if (rank == 0) RETURN_IF_ERROR(save_checkpoint(epoch, e, total));
        }
      }
      if (group) {
        ::torch::Tensor t = ::torch::tensor({loss_sum}, ::torch::kDouble);
        group->AllReduceSum(t);
        loss_sum = t.item<double>();
      }
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
      TrainingProgress p;
      p.epoch = epoch;
      p.train_loss = loss_sum / static_cast<double>(train.rows);
      p.rows_per_second = seconds > 0 ? static_cast<double>(train.rows) / seconds : 0;
      p.valid_metric = kNaN;
      report.epochs_run = epoch;
      report.final_train_loss = p.train_loss;
      bool stop = false;
      if (va) {
        double vsum = EvalLossSum(module, options, *va, vbegin, vend);
        if (group) {
          ::torch::Tensor t = ::torch::tensor({vsum}, ::torch::kDouble);
          group->AllReduceSum(t);
          vsum = t.item<double>();
        }
        p.valid_metric = vsum / static_cast<double>(vrows);
        // Decided once, on rank 0, and broadcast: every rank keeps the same weights and stops
        // at the same epoch.
        ::torch::Tensor decision = ::torch::zeros({2}, ::torch::kLong);
        if (rank == 0) {
          const bool improved = std::isnan(report.best_valid_loss) ||
                                p.valid_metric < report.best_valid_loss - options.min_delta;
          decision[0] = improved ? 1 : 0;
          decision[1] = !improved && epochs_without_improvement + 1 > options.patience ? 1 : 0;
        }
        if (group) {
          std::vector<::torch::Tensor> v = {decision};
          group->Broadcast(v);
        }
        if (decision[0].item<int64_t>() != 0) {
          p.improved = true;
          report.best_valid_loss = p.valid_metric;
          report.best_epoch = epoch;
          epochs_without_improvement = 0;
          best_weights.clear();
          for (const ::torch::Tensor& t : module->parameters()) {
            best_weights.push_back(t.detach().clone());
          }
        } else {
          ++epochs_without_improvement;
        }
        stop = decision[1].item<int64_t>() != 0;
      } else {
        p.improved = true;
        report.best_epoch = epoch;
      }
      if (progress && rank == 0) progress(p);
      if (stop) {
        report.stopped_early = epoch < options.epochs;
        break;
      }
    }
    report.train_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    report.rows_per_second = report.train_seconds > 0 ? static_cast<double>(train.rows) *
                                                            report.epochs_run / report.train_seconds
                                                      : 0;
    report.steps = global_step;
    if (reducer) report.allreduce_wait_seconds = reducer->wait_seconds();
    if (!best_weights.empty()) {
      ::torch::NoGradGuard no_grad;
      for (size_t i = 0; i < params.size(); ++i) params[i].copy_(best_weights[i]);
    }
    MlpNet& net = result.net;
    net.num_features = train.num_features;
    net.categorical = options.categorical;
    for (const auto& emb : module->embeddings) net.embeddings.push_back(ToVector(emb->weight));
    net.numeric_columns = numeric_columns;
    net.numeric_mean = mean;
    net.numeric_std = stddev;
    for (const auto& layer : module->layers) {
      native::DenseLayer d;
      d.in = static_cast<int>(layer->weight.size(1));
      d.out = static_cast<int>(layer->weight.size(0));
      d.weight = ToVector(layer->weight);
      d.bias = ToVector(layer->bias);
      net.layers.push_back(std::move(d));
    }
    net.output_transform = options.loss == TabularLoss::kPoisson ? native::OutputTransform::kExp
                           : options.loss == TabularLoss::kLogistic
                               ? native::OutputTransform::kSigmoid
                               : native::OutputTransform::kIdentity;
    RETURN_IF_ERROR(native::ValidateMlpNet(net));
    return result;
  } catch (const c10::Error& e) {
    // A failed collective: name the rank that died or hung.
    if (group) return group->Failure(std::string("tabular net training: ") +
                                     e.what_without_backtrace());
    return InternalError(std::string("tabular net training: ") + e.what_without_backtrace());
  } catch (const std::exception& e) {
    // A failed collective: name the rank that died or hung.
    if (group) return group->Failure(std::string("tabular net training: ") + e.what());
    return InternalError(std::string("tabular net training: ") + e.what());
  }
}

namespace {

// Eager LibTorch inference: the training module (TabularModuleImpl) holding a net's weights,
// run op by op under InferenceMode — what a C++ team gets without TorchScript.
class EagerTabularNetModel final : public Model {
 public:
  EagerTabularNetModel(TabularModule module, MlpNet net, std::string path)
      : module_(std::move(module)), net_(std::move(net)), path_(std::move(path)) {}

  std::string_view backend() const override { return "torch_eager"; }
  int num_features() const override { return net_.num_features; }
  int num_outputs() const override { return net_.num_outputs(); }

  Status Predict(const float* x, int64_t rows, float* out) const override {
    if (rows < 0) return InvalidArgumentError(path_ + ": negative row count");
    if (rows == 0) return OkStatus();
    try {
      c10::InferenceMode guard;
      const int f = net_.num_features;
      const int64_t k = static_cast<int64_t>(net_.categorical.size());
      const int64_t m = static_cast<int64_t>(net_.numeric_columns.size());
      // The net's input contract (mlp_net.h): ids clamped into range (NaN → 0), numerics
      // standardised.
      ::torch::Tensor ids = ::torch::empty({rows, k}, ::torch::kLong);
      ::torch::Tensor numeric = ::torch::empty({rows, m}, ::torch::kFloat);
      int64_t* id = ids.data_ptr<int64_t>();
      float* num = numeric.data_ptr<float>();
      for (int64_t r = 0; r < rows; ++r) {
        const float* row = x + r * f;
        for (int64_t c = 0; c < k; ++c) {
          const CategoricalColumn& col = net_.categorical[c];
          const float v = row[col.column];
          const int64_t i = std::isnan(v) ? 0 : static_cast<int64_t>(v);
          id[r * k + c] = std::clamp<int64_t>(i, 0, col.cardinality - 1);
        }
        for (int64_t c = 0; c < m; ++c) {
          num[r * m + c] = (row[net_.numeric_columns[c]] - net_.numeric_mean[c]) / net_.numeric_std[c];
        }
      }
      ::torch::Tensor y = const_cast<TabularModule&>(module_)->forward(ids, numeric);
      if (net_.output_transform == native::OutputTransform::kExp) y = ::torch::exp(y);
      y = y.contiguous();
      std::memcpy(out, y.data_ptr<float>(), sizeof(float) * rows * num_outputs());
      return OkStatus();
    } catch (const std::exception& e) {
      return InternalError(path_ + ": eager forward: " + e.what());
    }
  }

 private:
  TabularModule module_;
  MlpNet net_;
  std::string path_;
};

}  // namespace

StatusOr<std::unique_ptr<Model>> LoadEagerTabularNetModel(const std::string& artifact_path,
                                                          const LoadOptions& options) {
  ASSIGN_OR_RETURN(MlpNet net, native::ReadMlpNet(artifact_path));
  try {
    if (options.num_threads > 0) ::torch::set_num_threads(options.num_threads);
    TabularNetOptions o;
    o.categorical = net.categorical;
    o.hidden_sizes.clear();
    for (size_t i = 0; i + 1 < net.layers.size(); ++i) o.hidden_sizes.push_back(net.layers[i].out);
    TabularModule module(o, static_cast<int>(net.numeric_columns.size()), net.num_outputs());
    module->eval();
    ::torch::NoGradGuard no_grad;
    auto fill = [](const ::torch::Tensor& t, const std::vector<float>& v) {
      t.copy_(::torch::from_blob(const_cast<float*>(v.data()), t.sizes(), ::torch::kFloat));
    };
    for (size_t k = 0; k < net.embeddings.size(); ++k) fill(module->embeddings[k]->weight, net.embeddings[k]);
    for (size_t i = 0; i < net.layers.size(); ++i) {
      fill(module->layers[i]->weight, net.layers[i].weight);
      fill(module->layers[i]->bias, net.layers[i].bias);
    }
    return std::unique_ptr<Model>(
        std::make_unique<EagerTabularNetModel>(std::move(module), std::move(net), artifact_path));
  } catch (const std::exception& e) {
    return InternalError(artifact_path + ": building the eager module: " + e.what());
  }
}

Status WriteTorchScriptNet(const MlpNet& net, const std::string& path) {
  RETURN_IF_ERROR(native::ValidateMlpNet(net));
  try {
    ::torch::jit::Module module("BimrideTabularNet");
    module.register_attribute("num_features", c10::IntType::get(),
                              static_cast<int64_t>(net.num_features));
    module.register_attribute("num_outputs", c10::IntType::get(),
                              static_cast<int64_t>(net.num_outputs()));
    std::ostringstream src;
    src << "def forward(self, x):\n";
    std::vector<std::string> parts;
    for (size_t k = 0; k < net.categorical.size(); ++k) {
      const native::CategoricalColumn& c = net.categorical[k];
      std::string name = "emb" + std::to_string(k);
      module.register_parameter(name, ToTensor(net.embeddings[k], {c.cardinality, c.embedding_dim}),
                                /*is_buffer=*/false);
      // NaN → 0, then clamp into the table, then truncate: the contract of mlp_net.h.
      src << "    e" << k << " = torch.embedding(self." << name
          << ", torch.clamp(torch.nan_to_num(x[:, " << c.column << "], 0.0), 0.0, "
          << FloatLiteral(c.cardinality - 1) << ").long())\n";
      parts.push_back("e" + std::to_string(k));
    }
    if (!net.numeric_columns.empty()) {
      std::vector<int64_t> cols(net.numeric_columns.begin(), net.numeric_columns.end());
      module.register_buffer("num_idx", ::torch::tensor(cols, ::torch::kLong));
      const int64_t m = static_cast<int64_t>(cols.size());
      module.register_buffer("num_mean", ToTensor(net.numeric_mean, {m}));
      module.register_buffer("num_std", ToTensor(net.numeric_std, {m}));
      src << "    z = (torch.index_select(x, 1, self.num_idx) - self.num_mean) / self.num_std\n";
      parts.push_back("z");
    }
    src << "    h = torch.cat([";
    for (size_t i = 0; i < parts.size(); ++i) src << (i ? ", " : "") << parts[i];
    src << "], 1)\n";
    for (size_t i = 0; i < net.layers.size(); ++i) {
      const native::DenseLayer& l = net.layers[i];
      std::string w = "w" + std::to_string(i), b = "b" + std::to_string(i);
      module.register_parameter(w, ToTensor(l.weight, {l.out, l.in}), false);
      module.register_parameter(b, ToTensor(l.bias, {l.out}), false);
      std::string affine = "torch.addmm(self." + b + ", h, self." + w + ".t())";
      if (i + 1 < net.layers.size()) {
        src << "    h = torch.relu(" << affine << ")\n";
      } else {
        src << "    h = " << affine << "\n";
      }
    }
    src << (net.output_transform == native::OutputTransform::kExp       ? "    return torch.exp(h)\n"
            : net.output_transform == native::OutputTransform::kSigmoid ? "    return torch.sigmoid(h)\n"
                                                                        : "    return h\n");
    module.define(src.str());
    module.eval();
    // Save to a temporary name, then rename: readers never see half a file.
    std::ostringstream bytes;
    module.save(bytes);
    return WriteFileAtomic(path, bytes.str());
  } catch (const std::exception& e) {
    return InternalError(path + ": writing TorchScript: " + e.what());
  }
}

Status ExportTabularNet(const MlpNet& net, const std::string& dir) {
  RETURN_IF_ERROR(native::WriteMlpNet(net, dir));
  return WriteTorchScriptNet(net, dir + "/model.pt");
}

}  // namespace bimride::models::torch_backend
