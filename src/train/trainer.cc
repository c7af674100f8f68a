#include "train/trainer.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <sstream>

#include "common/file.h"

namespace bimride::train {
namespace {

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? std::string("none") : out;
}

struct Registered {
  TrainerFn train = nullptr;
  TrainerCheckFn check = nullptr;
};

std::map<std::string, Registered>& Trainers() {
  static auto* trainers = new std::map<std::string, Registered>();
  return *trainers;
}

Status UnknownKind(const std::string& kind) {
  return NotFoundError("no trainer '" + kind +
                       "' in this build (trainers: " + JoinNames(RegisteredTrainers()) + ")");
}

}  // namespace

std::string_view LossName(Loss loss) {
  switch (loss) {
    case Loss::kSquaredError:
      return "squared_error";
    case Loss::kPoisson:
      return "poisson";
    case Loss::kHuber:
      return "huber";
    case Loss::kLogistic:
      return "logistic";
  }
  return "?";
}

bool RegisterTrainer(const char* kind, TrainerFn fn, TrainerCheckFn check) {
  Trainers()[kind] = Registered{fn, check};
  return true;
}

Status CheckTrainerOptions(const std::string& kind, const TrainerOptions& options) {
  const auto it = Trainers().find(kind);
  if (it == Trainers().end()) return UnknownKind(kind);
  return it->second.check == nullptr ? OkStatus() : it->second.check(options);
}

std::vector<std::string> RegisteredTrainers() {
  std::vector<std::string> kinds;
  for (const auto& [kind, fn] : Trainers()) kinds.push_back(kind);
  return kinds;
}

bool HasTrainer(const std::string& kind) { return Trainers().count(kind) > 0; }

StatusOr<TrainedModel> Train(const std::string& kind, const models::TabularData& train,
                             const models::TabularData* valid, const TrainerOptions& options,
                             const std::string& out_dir, const ProgressCallback& progress) {
  const auto it = Trainers().find(kind);
  if (it == Trainers().end()) {
    return NotFoundError("no trainer '" + kind +
                         "' in this build (trainers: " + JoinNames(RegisteredTrainers()) + ")");
  }
  if (options.threads <= 0) return InvalidArgumentError(kind + ": threads must be > 0");
  RETURN_IF_ERROR(models::ValidateTabularData(train, "train"));
  if (valid != nullptr) {
    RETURN_IF_ERROR(models::ValidateTabularData(*valid, "valid"));
    if (valid->num_features != train.num_features || valid->num_outputs != train.num_outputs) {
      return InvalidArgumentError("valid: " + std::to_string(valid->num_features) + " features × " +
                                  std::to_string(valid->num_outputs) + " outputs, train has " +
                                  std::to_string(train.num_features) + " × " +
                                  std::to_string(train.num_outputs));
    }
  }
  for (const models::CategoricalColumn& c : options.categorical) {
    if (c.column < 0 || c.column >= train.num_features || c.cardinality <= 0) {
      return InvalidArgumentError(kind + ": categorical column " + std::to_string(c.column) +
                                  " (cardinality " + std::to_string(c.cardinality) +
                                  ") is outside the " + std::to_string(train.num_features) +
                                  " features");
    }
  }
  for (int n : options.fixed_iterations) {
    if (n <= 0) return InvalidArgumentError(kind + ": fixed iterations must be > 0");
  }
  const DistributedOptions& d = options.distributed;
  if (d.world_size < 1 || d.rank < 0 || d.rank >= d.world_size || d.timeout_seconds <= 0 ||
      d.master_port <= 0 || d.master_port > 65535) {
    return InvalidArgumentError(kind + ": distributed rank " + std::to_string(d.rank) +
                                " of world size " + std::to_string(d.world_size) + ", port " +
                                std::to_string(d.master_port) +
                                ": need 0 <= rank < world size, a port in 1..65535 and a "
                                "positive timeout");
  }
  if (options.checkpoint_every_steps < 0 ||
      (options.checkpoint_every_steps > 0 && options.checkpoint_dir.empty())) {
    return InvalidArgumentError(kind + ": checkpoint_every_steps " +
                                std::to_string(options.checkpoint_every_steps) +
                                " needs a checkpoint folder and must be >= 0");
  }
  // A rank writing to a peer that just died must get an error it can name the peer in, not
  // SIGPIPE (which killed rank 0 in a test when rank 1 exited mid-collective): Python, and so
  // PyTorch's DDP, ignores SIGPIPE for the same reason.
  if (d.enabled()) std::signal(SIGPIPE, SIG_IGN);
  RETURN_IF_ERROR(MakeDirs(out_dir));
  ASSIGN_OR_RETURN(TrainedModel m, it->second.train(train, valid, options, out_dir, progress));
  m.kind = kind;
  m.artifact_dir = out_dir;
  if (m.model == nullptr || m.artifacts.empty() || m.backend.empty()) {
    return InternalError(kind + ": trainer returned no model, backend or artifact");
  }
  return m;
}

std::string ParamValue(double value) {
  char buf[32];
  for (int digits = 6; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, value);
    if (std::strtod(buf, nullptr) == value) break;
  }
  return buf;
}

const std::string* ParamReader::Find(const std::string& name) {
  const auto it = params_.find(name);
  return it == params_.end() ? nullptr : &it->second;
}

int ParamReader::Int(const std::string& name, int fallback) {
  const std::string* text = Find(name);
  int value = fallback;
  if (text != nullptr) {
    char* end = nullptr;
    errno = 0;
    const long v = std::strtol(text->c_str(), &end, 10);
    if (text->empty() || *end != '\0' || errno != 0 || v < INT32_MIN || v > INT32_MAX) {
      if (error_.ok()) {
        error_ = InvalidArgumentError(trainer_ + ": parameter '" + name + "': '" + *text +
                                      "' is not a whole number");
      }
    } else {
      value = static_cast<int>(v);
    }
  }
  used_[name] = std::to_string(value);
  return value;
}

double ParamReader::Double(const std::string& name, double fallback) {
  const std::string* text = Find(name);
  double value = fallback;
  if (text != nullptr) {
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(text->c_str(), &end);
    if (text->empty() || *end != '\0' || errno != 0 || !std::isfinite(v)) {
      if (error_.ok()) {
        error_ = InvalidArgumentError(trainer_ + ": parameter '" + name + "': '" + *text +
                                      "' is not a finite number");
      }
    } else {
      value = v;
    }
  }
  used_[name] = ParamValue(value);
  return value;
}

std::string ParamReader::String(const std::string& name, const std::string& fallback) {
  const std::string* text = Find(name);
  const std::string value = text != nullptr ? *text : fallback;
  used_[name] = value;
  return value;
}

std::vector<int> ParamReader::IntList(const std::string& name, const std::vector<int>& fallback) {
  const std::string* text = Find(name);
  std::vector<int> value = fallback;
  if (text != nullptr) {
    std::vector<int> parsed;
    std::stringstream s(*text);
    std::string part;
    bool ok = !text->empty();
    while (ok && std::getline(s, part, ',')) {
      char* end = nullptr;
      const long v = std::strtol(part.c_str(), &end, 10);
      ok = !part.empty() && *end == '\0' && v > 0 && v <= INT32_MAX;
      parsed.push_back(static_cast<int>(v));
    }
    if (!ok) {
      if (error_.ok()) {
        error_ = InvalidArgumentError(trainer_ + ": parameter '" + name + "': '" + *text +
                                      "' is not a list of positive whole numbers like 256,128");
      }
    } else {
      value = parsed;
    }
  }
  std::string joined;
  for (int v : value) joined += (joined.empty() ? "" : ",") + std::to_string(v);
  used_[name] = joined;
  return value;
}

Status ParamReader::Finish(Params* resolved) {
  RETURN_IF_ERROR(error_);
  for (const auto& [name, value] : params_) {
    if (used_.count(name) == 0) {
      std::vector<std::string> known;
      for (const auto& [k, v] : used_) known.push_back(k);
      return InvalidArgumentError(trainer_ + ": unknown parameter '" + name +
                                  "' (known: " + JoinNames(known) + ")");
    }
  }
  if (resolved != nullptr) *resolved = used_;
  return OkStatus();
}

}  // namespace bimride::train
