#include "models/xgboost/xgboost_trainer.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>

#include "common/file.h"
#include "models/xgboost/xgboost_api.h"

namespace bimride::models::xgboost_backend {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct RoundMetrics {
  double train = kNaN;
  double valid = kNaN;
  std::string name;
};

// Parses "[3]\ttrain-rmse:0.51\tvalid-rmse:0.62"; the last metric of each set counts.
RoundMetrics ParseEval(const std::string& text) {
  RoundMetrics m;
  std::istringstream in(text);
  std::string item;
  while (std::getline(in, item, '\t')) {
    size_t dash = item.find('-'), colon = item.rfind(':');
    if (dash == std::string::npos || colon == std::string::npos || colon < dash) continue;
    std::string set = item.substr(0, dash);
    double value = std::strtod(item.c_str() + colon + 1, nullptr);
    if (set == "train") m.train = value;
    if (set == "valid") {
      m.valid = value;
      m.name = item.substr(dash + 1, colon - dash - 1);
    }
    if (set == "train" && m.name.empty()) m.name = item.substr(dash + 1, colon - dash - 1);
  }
  return m;
}

Status MakeDMatrix(const TabularData& data, const std::string& what, DMatrix& out) {
  return XgbStatus(
      XGDMatrixCreateFromMat(data.features.data(), data.rows, data.num_features,
                             std::numeric_limits<float>::quiet_NaN(), out.out()),
      what + ": XGDMatrixCreateFromMat");
}

// Sets the labels of `m` to target column `output`.
Status SetLabels(const TabularData& data, int output, const std::string& what, DMatrix& m) {
  std::vector<float> labels(data.rows);
  for (int64_t r = 0; r < data.rows; ++r) labels[r] = data.targets[r * data.num_outputs + output];
  return XgbStatus(XGDMatrixSetFloatInfo(m.get(), "label", labels.data(), data.rows),
                   what + ": setting labels of output " + std::to_string(output));
}

std::string Num(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

constexpr const char* kCheckpointAttrs[] = {"bimride_tag", "bimride_rounds_run",
                                            "bimride_best_round", "bimride_best_metric",
                                            "bimride_without", "bimride_done"};

StatusOr<std::string> GetAttr(BoosterHandle b, const char* key, const std::string& file) {
  const char* value = nullptr;
  int found = 0;
  RETURN_IF_ERROR(XgbStatus(XGBoosterGetAttr(b, key, &value, &found), file + ": attribute " + key));
  if (found == 0 || value == nullptr) {
    return InvalidArgumentError(file + ": not a checkpoint of ours (no attribute " + key + ")");
  }
  return std::string(value);
}

// The checkpoint's bytes: read by the writer and, in a collective, broadcast from rank 0 (so
// every worker resumes the same state). Empty: no checkpoint.
StatusOr<std::string> ReadCheckpoint(const std::string& file, const XgboostOptions& o) {
  std::string bytes;
  if (o.checkpoint_writer && FileExists(file)) {
    ASSIGN_OR_RETURN(bytes, ReadFile(file));
  }
  if (o.communicator_config.empty()) return bytes;
  uint64_t size = bytes.size();
  RETURN_IF_ERROR(XgbStatus(XGCommunicatorBroadcast(&size, sizeof size, 0),
                            file + ": broadcasting the checkpoint's size"));
  bytes.resize(size);
  if (size > 0) {
    RETURN_IF_ERROR(XgbStatus(XGCommunicatorBroadcast(bytes.data(), size, 0),
                              file + ": broadcasting the checkpoint"));
  }
  return bytes;
}

// Trains one booster on cache[0] (labels set), watching cache[1] when present.
StatusOr<TrainedXgboostOutput> TrainOneOutput(int64_t rows, std::vector<DMatrixHandle>& cache,
                                              std::vector<const char*>& names,
                                              const XgboostOptions& o, int output,
                                              const TrainingProgressCallback& progress,
                                              std::string& metric_name) {
  Booster booster;
  RETURN_IF_ERROR(XgbStatus(XGBoosterCreate(cache.data(), cache.size(), booster.out()),
                            "XGBoosterCreate"));
  const std::string checkpoint =
      o.checkpoint_path.empty() ? "" : o.checkpoint_path + "_output_" + std::to_string(output) + ".json";
  std::string resume;
  if (!checkpoint.empty()) {
    ASSIGN_OR_RETURN(resume, ReadCheckpoint(checkpoint, o));
    if (!resume.empty()) {
      RETURN_IF_ERROR(XgbStatus(
          XGBoosterLoadModelFromBuffer(booster.get(), resume.data(), resume.size()),
          checkpoint + ": loading the checkpoint"));
    }
  }
  std::vector<std::pair<std::string, std::string>> params = {
      {"objective", o.objective},
      {"tree_method", o.tree_method},
      {"max_depth", std::to_string(o.max_depth)},
      {"eta", Num(o.eta)},
      {"subsample", Num(o.subsample)},
      {"colsample_bytree", Num(o.colsample_bytree)},
      {"min_child_weight", Num(o.min_child_weight)},
      {"lambda", Num(o.lambda)},
      {"nthread", std::to_string(o.nthread)},
      {"seed", std::to_string(o.seed)},
      {"verbosity", "1"},
  };
  if (o.objective == "reg:tweedie") {
    params.push_back({"tweedie_variance_power", Num(o.tweedie_variance_power)});
  }
  params.insert(params.end(), o.extra_params.begin(), o.extra_params.end());
  for (const auto& [key, value] : params) {
    RETURN_IF_ERROR(XgbStatus(XGBoosterSetParam(booster.get(), key.c_str(), value.c_str()),
                              "xgboost parameter " + key + "=" + value));
  }

  TrainedXgboostOutput result;
  result.best_valid_metric = kNaN;
  const bool has_valid = cache.size() > 1;
  int rounds_without_improvement = 0;
  bool done = false;
  if (!resume.empty()) {
    ASSIGN_OR_RETURN(std::string tag, GetAttr(booster.get(), "bimride_tag", checkpoint));
    if (tag != o.checkpoint_tag) {
      return InvalidArgumentError(checkpoint + ": the checkpoint belongs to another run (" + tag +
                                  "; this run is " + o.checkpoint_tag + ")");
    }
    std::string v[5];
    for (int i = 0; i < 5; ++i) {
      ASSIGN_OR_RETURN(v[i], GetAttr(booster.get(), kCheckpointAttrs[i + 1], checkpoint));
    }
    result.rounds_run = std::atoi(v[0].c_str());
    result.best_round = std::atoi(v[1].c_str());
    result.best_valid_metric = v[2] == "nan" ? kNaN : std::strtod(v[2].c_str(), nullptr);
    rounds_without_improvement = std::atoi(v[3].c_str());
    done = v[4] == "1";
    int boosted = 0;
    RETURN_IF_ERROR(XgbStatus(XGBoosterBoostedRounds(booster.get(), &boosted), checkpoint));
    if (boosted != result.rounds_run || result.rounds_run > o.rounds) {
      return InvalidArgumentError(checkpoint + ": holds " + std::to_string(boosted) +
                                  " rounds but says " + v[0] + " (of " +
                                  std::to_string(o.rounds) + ")");
    }
    result.resumed_at_round = result.rounds_run;
  }
  // Writes the checkpoint (the writer only): the booster with the round and early-stopping
  // state as attributes, written to a temporary name and renamed.
  const auto write_checkpoint = [&](bool finished) -> Status {
    if (checkpoint.empty() || o.checkpoint_every <= 0 || !o.checkpoint_writer) return OkStatus();
    const std::string values[] = {o.checkpoint_tag,
                                  std::to_string(result.rounds_run),
                                  std::to_string(result.best_round),
                                  std::isnan(result.best_valid_metric)
                                      ? std::string("nan")
                                      : Num(result.best_valid_metric),
                                  std::to_string(rounds_without_improvement),
                                  finished ? "1" : "0"};
    for (int i = 0; i < 6; ++i) {
      RETURN_IF_ERROR(XgbStatus(
          XGBoosterSetAttr(booster.get(), kCheckpointAttrs[i], values[i].c_str()), checkpoint));
    }
    bst_ulong length = 0;
    const char* bytes = nullptr;
    RETURN_IF_ERROR(XgbStatus(
        XGBoosterSaveModelToBuffer(booster.get(), R"({"format": "json"})", &length, &bytes),
        checkpoint + ": saving the checkpoint"));
    RETURN_IF_ERROR(WriteFileAtomic(checkpoint, std::string(bytes, length)));
    for (const char* key : kCheckpointAttrs) {
      RETURN_IF_ERROR(XgbStatus(XGBoosterSetAttr(booster.get(), key, nullptr), checkpoint));
    }
    return OkStatus();
  };
  for (int round = result.rounds_run; !done && round < o.rounds; ++round) {
    const auto round_start = std::chrono::steady_clock::now();
    RETURN_IF_ERROR(XgbStatus(XGBoosterUpdateOneIter(booster.get(), round, cache[0]),
                              "round " + std::to_string(round + 1)));
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - round_start).count();
    const char* eval = nullptr;
    RETURN_IF_ERROR(XgbStatus(XGBoosterEvalOneIter(booster.get(), round, cache.data(),
                                                   names.data(), cache.size(), &eval),
                              "evaluating round " + std::to_string(round + 1)));
    RoundMetrics metrics = ParseEval(eval != nullptr ? eval : "");
    metric_name = metrics.name;
    result.rounds_run = round + 1;
    TrainingProgress p;
    p.epoch = round + 1;
    p.train_loss = metrics.train;
    p.valid_metric = metrics.valid;
    p.rows_per_second = seconds > 0 ? static_cast<double>(rows) / seconds : 0;
    p.output = output;
    if (!has_valid) {
      p.improved = true;
      result.best_round = round + 1;
    } else if (std::isnan(result.best_valid_metric) || metrics.valid < result.best_valid_metric) {
      p.improved = true;
      result.best_round = round + 1;
      result.best_valid_metric = metrics.valid;
      rounds_without_improvement = 0;
    } else {
      ++rounds_without_improvement;
    }
    if (progress) progress(p);
    if (o.early_stopping_rounds > 0 && rounds_without_improvement >= o.early_stopping_rounds) {
      break;
    }
    if (o.checkpoint_every > 0 && result.rounds_run % o.checkpoint_every == 0 &&
        result.rounds_run < o.rounds) {
      RETURN_IF_ERROR(write_checkpoint(false));
    }
  }
  if (!done) RETURN_IF_ERROR(write_checkpoint(true));
  // A resumed booster still carries the checkpoint's attributes: not part of the model.
  for (const char* key : kCheckpointAttrs) {
    RETURN_IF_ERROR(XgbStatus(XGBoosterSetAttr(booster.get(), key, nullptr), "clearing attributes"));
  }
  Booster best;
  BoosterHandle to_save = booster.get();
  if (result.best_round < result.rounds_run) {
    RETURN_IF_ERROR(XgbStatus(XGBoosterSlice(booster.get(), 0, result.best_round, 1, best.out()),
                              "keeping rounds 1.." + std::to_string(result.best_round)));
    to_save = best.get();
  }
  bst_ulong length = 0;
  const char* bytes = nullptr;
  RETURN_IF_ERROR(XgbStatus(
      XGBoosterSaveModelToBuffer(to_save, R"({"format": "json"})", &length, &bytes),
      "saving the model as JSON"));
  result.model_json.assign(bytes, length);
  return result;
}

}  // namespace

StatusOr<TrainedXgboost> TrainXgboost(const TabularData& train, const TabularData* valid,
                                      const XgboostOptions& o,
                                      const TrainingProgressCallback& progress) {
  RETURN_IF_ERROR(ValidateTabularData(train, "train"));
  if (valid != nullptr) {
    RETURN_IF_ERROR(ValidateTabularData(*valid, "valid"));
    if (valid->num_features != train.num_features || valid->num_outputs != train.num_outputs) {
      return InvalidArgumentError("valid: shape differs from train");
    }
  }
  if (o.rounds <= 0 || o.max_depth < 0 || o.eta <= 0 || o.nthread <= 0 ||
      o.early_stopping_rounds < 0) {
    return InvalidArgumentError(
        "xgboost: need rounds, eta, nthread > 0, max_depth and early_stopping_rounds >= 0");
  }
  // The collective comes first: building a DMatrix already all-reduces its column count.
  struct Communicator {
    bool on = false;
    ~Communicator() {
      if (on) XGCommunicatorFinalize();
    }
  } communicator;
  if (!o.communicator_config.empty()) {
    RETURN_IF_ERROR(XgbStatus(XGCommunicatorInit(o.communicator_config.c_str()),
                              "joining XGBoost's collective (" + o.communicator_config + ")"));
    communicator.on = true;
  }
  DMatrix dtrain, dvalid;
  RETURN_IF_ERROR(MakeDMatrix(train, "train", dtrain));
  std::vector<DMatrixHandle> cache = {dtrain.get()};
  std::vector<const char*> names = {"train"};
  if (valid != nullptr) {
    RETURN_IF_ERROR(MakeDMatrix(*valid, "valid", dvalid));
    cache.push_back(dvalid.get());
    names.push_back("valid");
  }
  TrainedXgboost result;
  result.num_features = train.num_features;
  const auto start = std::chrono::steady_clock::now();
  for (int k = 0; k < train.num_outputs; ++k) {
    RETURN_IF_ERROR(SetLabels(train, k, "train", dtrain));
    if (valid != nullptr) RETURN_IF_ERROR(SetLabels(*valid, k, "valid", dvalid));
    ASSIGN_OR_RETURN(TrainedXgboostOutput output,
                     TrainOneOutput(train.rows, cache, names, o, k, progress, result.metric_name));
    result.outputs.push_back(std::move(output));
  }
  result.train_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

Status SaveXgboostModel(const TrainedXgboost& model, const std::string& path) {
  if (model.outputs.empty()) return InvalidArgumentError(path + ": XGBoost model has no outputs");
  if (model.outputs.size() == 1) return WriteFileAtomic(path, model.outputs[0].model_json);
  RETURN_IF_ERROR(MakeDirs(path));
  for (size_t k = 0; k < model.outputs.size(); ++k) {
    RETURN_IF_ERROR(WriteFileAtomic(path + "/output_" + std::to_string(k) + ".json",
                                    model.outputs[k].model_json));
  }
  return OkStatus();
}

}  // namespace bimride::models::xgboost_backend
