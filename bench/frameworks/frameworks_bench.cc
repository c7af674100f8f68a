#include "bench/frameworks/frameworks_bench.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "bench/bench_timing.h"
#include "bench/workloads.h"
#include "common/file.h"
#include "models/model.h"
#include "models/onnx/onnx_export.h"
#include "train/trainer.h"

namespace bimride::bench {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Workload folders

struct Settings {
  int64_t max_train_rows = 0, max_valid_rows = 0;  // 0: all
  int epochs = 3, batch_size = 512;
  int eta_rounds = 200, demand_rounds = 50;
  double infer_seconds = 1.0;
  int64_t b1_rows = 20000;
};

Settings SettingsFor(bool quick) {
  Settings s;
  if (quick) {
    s.max_train_rows = 20000;
    s.max_valid_rows = 4000;
    s.epochs = 1;
    s.eta_rounds = s.demand_rounds = 10;
    s.infer_seconds = 0.2;
    s.b1_rows = 2000;
  }
  return s;
}

Status WriteFloats(const std::string& path, const std::vector<float>& v) {
  return WriteFileAtomic(
      path, std::string_view(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)));
}

StatusOr<std::vector<float>> ReadFloats(const std::string& path, size_t expected) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  if (bytes.size() != expected * sizeof(float)) {
    return InvalidArgumentError(path + ": " + std::to_string(bytes.size()) + " bytes, expected " +
                                std::to_string(expected * sizeof(float)));
  }
  std::vector<float> v(expected);
  std::memcpy(v.data(), bytes.data(), bytes.size());
  return v;
}

std::string Join(const std::vector<int>& v, const char* sep) {
  std::string s;
  for (int x : v) s += (s.empty() ? "" : sep) + std::to_string(x);
  return s;
}

json XgboostParams(const TabularWorkload& w, const Settings& s) {
  const bool eta = w.name == "eta";
  return {{"objective", w.loss == train::Loss::kPoisson ? "count:poisson" : "reg:squarederror"},
          {"tree_method", "hist"},
          {"max_depth", eta ? 8 : 6},
          {"eta", 0.1},
          {"subsample", 1.0},
          {"colsample_bytree", 1.0},
          {"min_child_weight", 1.0},
          {"lambda", 1.0},
          {"rounds", eta ? s.eta_rounds : s.demand_rounds}};
}

Status WriteWorkload(const TabularWorkload& w, const Settings& s, const std::string& dir) {
  RETURN_IF_ERROR(MakeDirs(dir));
  json cats = json::array();
  for (const auto& c : w.categorical) cats.push_back({c.column, c.cardinality, c.embedding_dim});
  json spec = {{"workload", w.name},
               {"num_features", w.train.num_features},
               {"num_outputs", w.train.num_outputs},
               {"rows_train", w.train.rows},
               {"rows_valid", w.valid.rows},
               {"categorical", cats},
               {"hidden", w.hidden},
               {"learning_rate", w.learning_rate},
               {"batch_size", s.batch_size},
               {"epochs", s.epochs},
               {"loss", w.loss == train::Loss::kPoisson ? "poisson" : "mse"},
               {"seed", 42},
               {"threads", 1},
               {"b1_rows", s.b1_rows},
               {"infer_seconds", s.infer_seconds},
               {"xgboost", XgboostParams(w, s)}};
  RETURN_IF_ERROR(WriteFileAtomic(dir + "/spec.json", spec.dump(1)));
  RETURN_IF_ERROR(WriteFloats(dir + "/train_x.bin", w.train.features));
  RETURN_IF_ERROR(WriteFloats(dir + "/train_y.bin", w.train.targets));
  RETURN_IF_ERROR(WriteFloats(dir + "/valid_x.bin", w.valid.features));
  return WriteFloats(dir + "/valid_y.bin", w.valid.targets);
}

// A workload folder read back by a C++ engine process.
struct WorkloadFiles {
  json spec;
  models::TabularData train, valid;
};

StatusOr<models::TabularData> ReadSplit(const std::string& dir, const std::string& split,
                                        const json& spec) {
  models::TabularData d;
  d.rows = spec.at("rows_" + split).get<int64_t>();
  d.num_features = spec.at("num_features").get<int>();
  d.num_outputs = spec.at("num_outputs").get<int>();
  ASSIGN_OR_RETURN(d.features, ReadFloats(dir + "/" + split + "_x.bin",
                                          static_cast<size_t>(d.rows) * d.num_features));
  ASSIGN_OR_RETURN(d.targets, ReadFloats(dir + "/" + split + "_y.bin",
                                         static_cast<size_t>(d.rows) * d.num_outputs));
  return d;
}

StatusOr<WorkloadFiles> ReadWorkload(const std::string& dir, bool with_train) {
  WorkloadFiles w;
  ASSIGN_OR_RETURN(std::string text, ReadFile(dir + "/spec.json"));
  w.spec = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (w.spec.is_discarded()) return InvalidArgumentError(dir + "/spec.json: not JSON");
  try {
    if (with_train) {
      ASSIGN_OR_RETURN(w.train, ReadSplit(dir, "train", w.spec));
    }
    ASSIGN_OR_RETURN(w.valid, ReadSplit(dir, "valid", w.spec));
  } catch (const json::exception& e) {
    return InvalidArgumentError(dir + "/spec.json: " + e.what());
  }
  return w;
}

StatusOr<std::vector<float>> PredictAll(const models::Model& m, const models::TabularData& d) {
  std::vector<float> out(static_cast<size_t>(d.rows) * m.num_outputs());
  for (int64_t s = 0; s < d.rows; s += 4096) {
    const int64_t n = std::min<int64_t>(4096, d.rows - s);
    RETURN_IF_ERROR(m.Predict(d.features.data() + s * d.num_features, n,
                              out.data() + s * m.num_outputs()));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Engine processes

struct EngineOutput {
  json figures;       // the engine's JSON line
  std::string error;  // non-empty: it failed (its last line of stderr, or how it ended)
};

std::string LastLine(const std::string& text) {
  std::istringstream in(text);
  std::string line, last;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
  }
  return last;
}

// For a report cell: one line, at most 240 bytes.
std::string Shorten(const std::string& s) { return s.size() > 240 ? s.substr(0, 240) + "…" : s; }

std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs `argv` (shell-quoted) with the spawn time in its environment; stderr goes to `log`.
EngineOutput Spawn(const std::vector<std::string>& argv, const std::string& log) {
  std::string cmd = "timeout 1800";
  for (const auto& a : argv) cmd += " " + Quote(a);
  cmd += " 2>" + Quote(log);
  cmd = std::string(kSpawnTimeEnv) + "=" + std::to_string(RealtimeNs()) + " " + cmd;
  EngineOutput out;
  std::FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) {
    out.error = "could not start " + argv[0];
    return out;
  }
  std::string text;
  char buf[4096];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, got);
  const int rc = ::pclose(p);
  const std::string line = LastLine(text);
  if (rc == 0 && !line.empty() && line[0] == '{') {
    out.figures = json::parse(line, nullptr, false);
    if (!out.figures.is_discarded()) return out;
  }
  StatusOr<std::string> err = ReadFile(log);
  out.error = Shorten(LastLine(err.ok() ? *err : ""));
  if (out.error.empty()) {
    out.error = rc == -1                ? argv[0] + ": could not be waited for"
                : WIFSIGNALED(rc)       ? argv[0] + " was killed by signal " + std::to_string(WTERMSIG(rc))
                : WEXITSTATUS(rc) != 0  ? argv[0] + " exited with status " + std::to_string(WEXITSTATUS(rc))
                                        : argv[0] + " printed no JSON line of figures";
  }
  return out;
}

double Num(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : kNotMeasured;
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

double FilesBytes(const std::vector<std::string>& paths) {
  double total = 0;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      for (const auto& e : fs::directory_iterator(p, ec)) {
        if (e.is_regular_file()) total += static_cast<double>(e.file_size());
      }
    } else {
      const auto size = fs::file_size(p, ec);
      if (ec) return kNotMeasured;
      total += static_cast<double>(size);
    }
  }
  return total;
}

void Fill(EngineFigures& e, const EngineOutput& out) {
  if (!out.error.empty()) {
    e.unavailable = out.error;
    return;
  }
  const json& f = out.figures;
  e.version = Str(f, "version");
  e.train_samples_per_s = Num(f, "train_samples_per_s");
  e.train_seconds = Num(f, "train_seconds");
  e.b1_rows_per_s = Num(f, "b1_rows_per_s");
  e.b256_rows_per_s = Num(f, "b256_rows_per_s");
  e.cold_start_ms = Num(f, "cold_start_ms");
  e.peak_rss_mb = Num(f, "peak_rss_mb");
}

double MeanAbsoluteError(const std::vector<float>& pred, const std::vector<float>& target) {
  double sum = 0;
  for (size_t i = 0; i < pred.size(); ++i) sum += std::fabs(pred[i] - target[i]);
  return pred.empty() ? kNotMeasured : sum / static_cast<double>(pred.size());
}

// The validation MAE of what a training engine wrote to out/valid_pred.bin.
void AddAccuracy(EngineFigures& e, const std::string& out, const models::TabularData& valid) {
  if (!e.unavailable.empty()) return;
  auto pred = ReadFloats(out + "/valid_pred.bin", valid.targets.size());
  if (!pred.ok()) {
    e.unavailable = "no validation predictions: " + pred.status().message();
    return;
  }
  e.valid_mae = MeanAbsoluteError(*pred, valid.targets);
}

// |a − b| / max(1, |b|), worst over all outputs: the export check's measure (onnx_export.h).
double MaxRelativeError(const std::vector<float>& a, const std::vector<float>& b) {
  double worst = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    worst = std::max(worst, std::fabs(static_cast<double>(a[i]) - b[i]) /
                                std::max(1.0, std::fabs(static_cast<double>(b[i]))));
  }
  return worst;
}

std::string Scientific(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1e", v);
  return buf;
}

std::string CommandOutput(const std::string& cmd) {
  std::FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return "";
  std::string text;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) text += buf;
  ::pclose(p);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

std::string MachineLine() {
  std::string cpu = "unknown CPU";
  std::ifstream info("/proc/cpuinfo");
  for (std::string line; std::getline(info, line);) {
    if (line.rfind("model name", 0) == 0) {
      cpu = line.substr(line.find(':') + 2);
      break;
    }
  }
  std::ifstream load_file("/proc/loadavg");
  std::string load;
  load_file >> load;
  const std::string kernel = CommandOutput("uname -r");
  std::ostringstream s;
  s << cpu << "; " << std::thread::hardware_concurrency() << " logical cores (shared with other "
    << "jobs; 1-minute load average " << load << " at the start); Linux " << kernel
    << ". Every engine runs with 1 thread (LibTorch / PyTorch intra-op 1, XGBoost nthread 1, "
       "ONNX Runtime intra- and inter-op 1, TensorFlow.js WASM 1 thread). Libraries: LibTorch "
    << CommandOutput("dpkg-query -W -f='${Version}' libtorch-dev 2>/dev/null") << ", XGBoost "
    << CommandOutput("dpkg-query -W -f='${Version}' libxgboost-dev 2>/dev/null") << ", python3-torch "
    << CommandOutput("dpkg-query -W -f='${Version}' python3-torch 2>/dev/null") << ", node "
    << CommandOutput("node --version 2>/dev/null") << ".";
  return s.str();
}

std::string UtcNow() {
  char buf[32];
  const std::time_t t = std::time(nullptr);
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", std::gmtime(&t));
  return buf;
}

// ---------------------------------------------------------------------------------------------
// One workload, every engine

struct Runner {
  const FrameworksBenchOptions& options;
  std::string self, source, python = "/usr/bin/python3";

  void Log(const std::string& workload, const EngineFigures& e) const {
    if (!options.verbose) return;
    if (!e.unavailable.empty()) {
      std::fprintf(stderr, "  %s / %s: not available: %s\n", workload.c_str(), e.engine.c_str(),
                   e.unavailable.c_str());
    } else if (!std::isnan(e.train_samples_per_s)) {
      std::fprintf(stderr, "  %s / %s: %.0f samples/s, MAE %.4f\n", workload.c_str(),
                   e.engine.c_str(), e.train_samples_per_s, e.valid_mae);
    } else {
      std::fprintf(stderr, "  %s / %s: batch 1 %.0f rows/s, batch 256 %.0f rows/s, cold %.0f ms\n",
                   workload.c_str(), e.engine.c_str(), e.b1_rows_per_s, e.b256_rows_per_s,
                   e.cold_start_ms);
    }
  }

  std::vector<std::string> Cpp(const std::string& engine, const std::string& dir,
                               const std::string& out, const std::string& backend = "",
                               const std::string& model = "") const {
    std::vector<std::string> argv = {self, "bench", "engine", "--engine", engine,
                                     "--workload", dir, "--out", out};
    if (!backend.empty()) argv.insert(argv.end(), {"--backend", backend, "--model", model});
    return argv;
  }
  std::vector<std::string> Python(const std::string& mode, const std::string& dir,
                                  const std::string& out, const std::string& model = "") const {
    std::vector<std::string> argv = {python, source + "/bench/frameworks/python_peer.py", mode, dir,
                                     out};
    if (!model.empty()) argv.push_back(model);
    return argv;
  }
  std::vector<std::string> Node(const std::string& script, std::vector<std::string> args) const {
    std::vector<std::string> argv = {"node", source + "/bench/peers/frameworks/" + script};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  EngineFigures Run(const std::string& workload, const std::string& log, EngineFigures e,
                    const std::vector<std::string>& argv) const {
    Fill(e, Spawn(argv, log));
    return e;
  }

  StatusOr<WorkloadFigures> RunWorkload(const TabularWorkload& w, const Settings& s,
                                        const std::string& dir) const {
    RETURN_IF_ERROR(WriteWorkload(w, s, dir));
    WorkloadFigures r;
    r.name = w.name;
    r.description = w.description;
    r.target = w.target;
    r.net = "id embeddings (" + std::to_string(w.categorical.size()) + " columns) + standardised " +
            "numerics → " + Join(w.hidden, " → ") + " → " + std::to_string(w.train.num_outputs) +
            " (ReLU), " + (w.loss == train::Loss::kPoisson ? "Poisson NLL on log-rates" : "MSE") +
            ", Adam " + FormatFigure(w.learning_rate, 4) + ", batch " +
            std::to_string(s.batch_size) + ", " + std::to_string(s.epochs) + " epoch(s), " +
            std::to_string(w.train.rows) + " rows";
    const json xp = XgboostParams(w, s);
    r.trees = "XGBoost " + xp["objective"].get<std::string>() + ", hist, depth " +
              std::to_string(xp["max_depth"].get<int>()) + ", eta 0.1, " +
              std::to_string(xp["rounds"].get<int>()) + " rounds" +
              (w.train.num_outputs > 1
                   ? ", one booster per output (" + std::to_string(w.train.num_outputs) + ")"
                   : "") +
              "; samples/s counts a row once per round";
    auto log = [&](const std::string& name) { return dir + "/" + name + ".stderr"; };
    auto add = [&](std::vector<EngineFigures>& to, EngineFigures e) {
      Log(w.name, e);
      to.push_back(std::move(e));
    };

    // Training: the MLP, then the trees.
    EngineFigures e;
    e = Run(w.name, log("libtorch_train"),
            {"LibTorch eager (C++, our trainer)", "PyTorch", "", "", ""},
            Cpp("torch_train", dir, dir + "/libtorch"));
    AddAccuracy(e, dir + "/libtorch", w.valid);
    add(r.mlp_training, e);
    e = Run(w.name, log("python_torch_train"), {"Python PyTorch eager", "PyTorch", "", "", ""},
            Python("torch_train", dir, dir + "/python_torch"));
    AddAccuracy(e, dir + "/python_torch", w.valid);
    add(r.mlp_training, e);
    e = Run(w.name, log("tfjs_train"), {"TensorFlow.js 4.22 (WASM)", "TensorFlow", "", "", ""},
            Node("tfjs_mlp.mjs", {"train", dir, dir + "/tfjs"}));
    AddAccuracy(e, dir + "/tfjs", w.valid);
    add(r.mlp_training, e);
    e = Run(w.name, log("xgboost_train"), {"XGBoost C API (our trainer)", "XGBoost", "", "", ""},
            Cpp("xgboost_train", dir, dir + "/xgboost"));
    AddAccuracy(e, dir + "/xgboost", w.valid);
    add(r.tree_training, e);
    const std::string xgb_model = w.train.num_outputs > 1 ? dir + "/xgboost" : dir + "/xgboost/model.json";
    e = Run(w.name, log("python_xgboost_train"), {"Python XGBoost", "XGBoost", "", "", ""},
            Python("xgb_train", dir, dir + "/python_xgboost"));
    AddAccuracy(e, dir + "/python_xgboost", w.valid);
    add(r.tree_training, e);

    // ONNX files of our two trained models, by our exporter.
    const std::string net_onnx = dir + "/onnx/net.onnx", trees_onnx = dir + "/onnx/trees.onnx";
    (void)MakeDirs(dir + "/onnx");
    const bool have_net = r.mlp_training[0].unavailable.empty();
    const bool have_trees = r.tree_training[0].unavailable.empty();
    std::string net_export_error = have_net ? "" : "the LibTorch net did not train";
    std::string trees_export_error = have_trees ? "" : "the XGBoost model did not train";
    if (have_net) {
      auto c = models::onnx_backend::ExportArtifactToOnnx("native_mlp", dir + "/libtorch/net.json",
                                                          net_onnx);
      if (!c.ok()) net_export_error = "export failed: " + c.status().message();
    }
    if (have_trees) {
      auto c = models::onnx_backend::ExportArtifactToOnnx("xgboost", xgb_model, trees_onnx);
      if (!c.ok()) trees_export_error = "export failed: " + c.status().message();
    }

    // Inference.
    const std::string net_model = "MLP trained by LibTorch", tree_model = "trees trained by XGBoost C API";
    struct Infer {
      EngineFigures e;
      std::vector<std::string> argv;
      std::vector<std::string> files;
      std::string missing;  // a precondition that failed
    };
    const std::string pt = dir + "/libtorch/model.pt";
    const std::string net_json = dir + "/libtorch/net.json";
    const std::string ort_net_pred = dir + "/ort_net_pred.bin", ort_trees_pred = dir + "/ort_trees_pred.bin";
    std::vector<Infer> infer = {
        {{"LibTorch eager (C++)", "PyTorch", net_model, "", ""},
         Cpp("infer", dir, dir + "/libtorch", "torch_eager", net_json),
         {net_json, dir + "/libtorch/weights.bin"}, have_net ? "" : net_export_error},
        {{"TorchScript (LibTorch C++)", "PyTorch", net_model, "", ""},
         Cpp("infer", dir, dir + "/libtorch", "torchscript", pt), {pt},
         have_net ? "" : net_export_error},
        {{"native_mlp (ours)", "ours", net_model, "", ""},
         Cpp("infer", dir, dir + "/libtorch", "native_mlp", net_json),
         {net_json, dir + "/libtorch/weights.bin"}, have_net ? "" : net_export_error},
        {{"onnx backend (ours)", "ours", net_model + ", our ONNX export", "", ""},
         Cpp("infer", dir, dir + "/onnx", "onnx", net_onnx), {net_onnx}, net_export_error},
        {{"ONNX Runtime 1.30 (node)", "ONNX Runtime", net_model + ", our ONNX export", "", ""},
         Node("ort_infer.mjs", {dir, net_onnx, ort_net_pred}), {net_onnx}, net_export_error},
        {{"Python PyTorch eager", "PyTorch", "MLP trained by Python PyTorch", "", ""},
         Python("torch_eager_infer", dir, dir + "/python_torch"), {dir + "/python_torch/net.pt"},
         r.mlp_training[1].unavailable.empty() ? "" : "Python PyTorch did not train"},
        {{"Python torch.jit", "PyTorch", net_model + " (same model.pt)", "", ""},
         Python("torch_jit_infer", dir, dir + "/python_torch", pt), {pt},
         have_net ? "" : net_export_error},
        {{"TensorFlow.js 4.22 (WASM)", "TensorFlow", "MLP trained by TensorFlow.js", "", ""},
         Node("tfjs_mlp.mjs", {"infer", dir, dir + "/tfjs"}),
         {dir + "/tfjs/model.json", dir + "/tfjs/weights.bin", dir + "/tfjs/scaler.json"},
         r.mlp_training[2].unavailable.empty() ? "" : "TensorFlow.js did not train"},
        {{"XGBoost C API", "XGBoost", tree_model, "", ""},
         Cpp("infer", dir, dir + "/xgboost", "xgboost", xgb_model), {xgb_model},
         have_trees ? "" : trees_export_error},
        {{"native_trees (ours)", "ours", tree_model, "", ""},
         Cpp("infer", dir, dir + "/xgboost", "native_trees", xgb_model), {xgb_model},
         have_trees ? "" : trees_export_error},
        {{"onnx backend (ours), trees", "ours", tree_model + ", our ONNX export", "", ""},
         Cpp("infer", dir, dir + "/onnx", "onnx", trees_onnx), {trees_onnx}, trees_export_error},
        {{"ONNX Runtime 1.30 (node), trees", "ONNX Runtime", tree_model + ", our ONNX export", "", ""},
         Node("ort_infer.mjs", {dir, trees_onnx, ort_trees_pred}), {trees_onnx},
         trees_export_error},
        {{"Python XGBoost", "XGBoost", tree_model + " (same files)", "", ""},
         Python("xgb_infer", dir, dir + "/python_xgboost", xgb_model), {xgb_model},
         have_trees ? "" : trees_export_error},
    };
    int i = 0;
    for (Infer& in : infer) {
      if (!in.missing.empty()) {
        in.e.unavailable = in.missing;
      } else {
        in.e = Run(w.name, log("infer_" + std::to_string(i)), in.e, in.argv);
        if (in.e.unavailable.empty()) in.e.model_bytes = FilesBytes(in.files);
      }
      ++i;
      add(r.inference, in.e);
    }

    // Same outputs: ONNX (ours and ONNX Runtime) against the framework that trained the model,
    // on every validation row.
    auto parity = [&](const std::string& what, const std::string& source_backend,
                      const std::string& source_path, const std::string& onnx_path,
                      const std::string& ort_pred) {
      auto source = models::LoadModel(source_backend, source_path);
      auto onnx = models::LoadModel("onnx", onnx_path);
      if (!source.ok() || !onnx.ok()) {
        r.parity.push_back(what + ": not checked: " +
                           (source.ok() ? onnx.status() : source.status()).message());
        return;
      }
      auto a = PredictAll(**source, w.valid);
      auto b = PredictAll(**onnx, w.valid);
      if (!a.ok() || !b.ok()) {
        r.parity.push_back(what + ": not checked: " + (a.ok() ? b.status() : a.status()).message());
        return;
      }
      std::string line = what + ": our onnx backend vs " + source_backend +
                         ": max relative error " + Scientific(MaxRelativeError(*b, *a));
      auto ort = ReadFloats(ort_pred, a->size());
      line += ort.ok() ? "; ONNX Runtime vs " + source_backend + ": " +
                             Scientific(MaxRelativeError(*ort, *a))
                       : "; ONNX Runtime: not checked (" + ort.status().message() + ")";
      r.parity.push_back(line + " (" + std::to_string(w.valid.rows) +
                         " validation rows; |onnx − source| / max(1, |source|))");
    };
    if (have_net && net_export_error.empty()) parity("MLP", "torchscript", pt, net_onnx, ort_net_pred);
    if (have_trees && trees_export_error.empty()) {
      parity("trees", "xgboost", xgb_model, trees_onnx, ort_trees_pred);
    }
    return r;
  }
};

const EngineFigures* Find(const std::vector<EngineFigures>& rows, const std::string& prefix) {
  for (const EngineFigures& e : rows) {
    if (e.engine.rfind(prefix, 0) == 0 && e.unavailable.empty()) return &e;
  }
  return nullptr;
}

std::string X(double a, double b) {
  if (!(a > 0) || !(b > 0)) return "?×";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f×", a / b);
  return buf;
}

// The report's question — TensorFlow or PyTorch for this team — answered from the figures.
std::vector<std::string> Answer(const std::vector<WorkloadFigures>& workloads) {
  std::vector<std::string> a;
  int pytorch_trains_faster = 0, measured = 0;
  for (const WorkloadFigures& w : workloads) {
    const EngineFigures* lt = Find(w.mlp_training, "LibTorch");
    const EngineFigures* py = Find(w.mlp_training, "Python PyTorch");
    const EngineFigures* tf = Find(w.mlp_training, "TensorFlow.js");
    const EngineFigures* mlp = Find(w.inference, "native_mlp");
    const EngineFigures* ts = Find(w.inference, "TorchScript");
    const EngineFigures* tfi = Find(w.inference, "TensorFlow.js");
    const EngineFigures* pyi = Find(w.inference, "Python torch.jit");
    if (lt == nullptr || tf == nullptr) {
      a.push_back(w.name + ": not enough engines ran to compare (see the tables).");
      continue;
    }
    ++measured;
    if (lt->train_samples_per_s > tf->train_samples_per_s) ++pytorch_trains_faster;
    std::ostringstream s;
    s << w.name << ": training the same MLP, LibTorch runs " << FormatFigure(lt->train_samples_per_s)
      << " samples/s";
    if (py != nullptr) s << " and Python PyTorch " << FormatFigure(py->train_samples_per_s);
    s << ", TensorFlow.js (WASM) " << FormatFigure(tf->train_samples_per_s) << " — LibTorch is "
      << X(lt->train_samples_per_s, tf->train_samples_per_s) << " TensorFlow.js; validation MAE "
      << FormatFigure(lt->valid_mae, 3) << " (LibTorch)";
    if (py != nullptr) s << ", " << FormatFigure(py->valid_mae, 3) << " (PyTorch)";
    s << ", " << FormatFigure(tf->valid_mae, 3) << " (TensorFlow.js) " << w.target << ".";
    if (mlp != nullptr && tfi != nullptr) {
      s << " Serving one row: native_mlp " << FormatFigure(1e6 / mlp->b1_rows_per_s, 1) << " µs";
      if (ts != nullptr) s << ", TorchScript " << FormatFigure(1e6 / ts->b1_rows_per_s, 1) << " µs";
      if (pyi != nullptr) s << ", Python torch.jit " << FormatFigure(1e6 / pyi->b1_rows_per_s, 1) << " µs";
      s << ", TensorFlow.js " << FormatFigure(1e6 / tfi->b1_rows_per_s, 1) << " µs; batch 256: "
        << "TorchScript " << (ts ? FormatFigure(ts->b256_rows_per_s) : "–") << " rows/s vs "
        << "TensorFlow.js " << FormatFigure(tfi->b256_rows_per_s) << ".";
    }
    if (ts != nullptr && pyi != nullptr && tfi != nullptr) {
      s << " Cold start to first prediction: TorchScript in bimride " << FormatFigure(ts->cold_start_ms)
        << " ms, Python torch.jit " << FormatFigure(pyi->cold_start_ms) << " ms, TensorFlow.js "
        << FormatFigure(tfi->cold_start_ms) << " ms; peak memory " << FormatFigure(ts->peak_rss_mb)
        << ", " << FormatFigure(pyi->peak_rss_mb) << " and " << FormatFigure(tfi->peak_rss_mb)
        << " MB.";
    }
    a.push_back(s.str());
    // Our onnx backend against ONNX Runtime on the same files (ORT's figure includes ~6 µs of
    // node call cost per call; see the method).
    const EngineFigures* on = Find(w.inference, "onnx backend (ours)");
    const EngineFigures* ot = Find(w.inference, "onnx backend (ours), trees");
    const EngineFigures* rn = Find(w.inference, "ONNX Runtime 1.30 (node)");
    const EngineFigures* rt = Find(w.inference, "ONNX Runtime 1.30 (node), trees");
    if (on != nullptr && rn != nullptr && ot != nullptr && rt != nullptr && on != ot && rn != rt) {
      std::ostringstream o;
      o << w.name << ", ONNX models made elsewhere: our onnx backend vs ONNX Runtime on the same "
        << "files, batch 1: net " << FormatFigure(1e6 / on->b1_rows_per_s, 1) << " vs "
        << FormatFigure(1e6 / rn->b1_rows_per_s, 1) << " µs, trees "
        << FormatFigure(1e6 / ot->b1_rows_per_s, 1) << " vs " << FormatFigure(1e6 / rt->b1_rows_per_s, 1)
        << " µs; batch 256: net " << FormatFigure(on->b256_rows_per_s) << " vs "
        << FormatFigure(rn->b256_rows_per_s) << " rows/s, trees " << FormatFigure(ot->b256_rows_per_s)
        << " vs " << FormatFigure(rt->b256_rows_per_s) << " rows/s.";
      a.push_back(o.str());
    }
  }
  if (measured > 0) {
    a.push_back(
        pytorch_trains_faster == measured
            ? "PyTorch, for this team. The stack we run — LibTorch training in C++, TorchScript "
              "or our native kernels serving, Python PyTorch for exploration on the same model "
              "files — is faster than the TensorFlow we can run here on every workload above, "
              "and TensorFlow itself is not installable on this platform (not in Debian; "
              "tfjs-node needs a download). What TensorFlow gives the team — models trained "
              "elsewhere, Keras exports — reaches us through ONNX: our onnx backend loads them "
              "and the parity lines below show it gives the source framework's outputs."
            : "Mixed: TensorFlow.js trained faster than LibTorch on at least one workload (see "
              "the tables); PyTorch still has the serving path (TorchScript, native kernels) and "
              "TensorFlow remains uninstallable here.");
  }
  return a;
}

std::vector<std::string> Method(const Settings& s) {
  char timing[400];
  std::snprintf(timing, sizeof timing,
                "Inference: batch 1 over the first %lld validation rows and batch 256 over all of "
                "them, each for ≥ %.1f s of calls that walk through the rows (no row repeated "
                "back to back); rows/s includes each engine's own input handling.",
                static_cast<long long>(s.b1_rows), s.infer_seconds);
  return {
      "Every engine runs in its own process with one thread, on the same rows: the C++ side "
      "writes the workload's train and validation matrices once (float32) and each engine reads "
      "them. Training figures are samples processed per second of training (epochs × rows / "
      "time in the training loop), and the validation MAE of the model it trained.",
      timing,
      "Cold start: from the parent spawning the process (its clock passed in the environment) "
      "to the first prediction returned — runtime start-up, library loading, model load and one "
      "call. Our C++ engines run as the `bimride` binary, which links LibTorch, XGBoost and ONNX "
      "whatever the engine, so their cold start includes loading LibTorch.",
      "Peak memory: VmHWM of the engine's process (/proc/self/status) at the end of its run; for "
      "node and Python it includes the runtime itself. Model size: the files the engine loads.",
      "Same model, different engines: LibTorch eager (the torch_eager backend: the training "
      "module run op by op), TorchScript, native_mlp, the onnx backend, ONNX Runtime "
      "and Python torch.jit run the net LibTorch trained (ONNX: the file `bimride models export "
      "--format onnx` writes); XGBoost, native_trees, onnx, ONNX Runtime and Python XGBoost run "
      "the trees the XGBoost C API trained. Python eager and TensorFlow.js run the nets they "
      "trained themselves (same shape, same rows, same epochs).",
      "TensorFlow.js's WASM backend lacks the kernel for the embedding gradient "
      "(UnsortedSegmentSum), so its training looks ids up as oneHot(id) · table (the same values "
      "and gradients) and its prediction gathers. ONNX Runtime is driven from node (no C/C++ "
      "package in Debian), so its figures include the N-API call cost (BENCHMARKS.md's ONNX "
      "section measures that cost on an Identity graph: ~6 µs per call).",
  };
}

}  // namespace

StatusOr<FrameworksBenchResult> RunFrameworksBench(const FrameworksBenchOptions& options) {
  const Settings settings = SettingsFor(options.quick);
  Runner runner{options, options.bimride_binary, options.source_dir};
  if (runner.self.empty()) {
    std::error_code ec;
    runner.self = fs::read_symlink("/proc/self/exe", ec).string();
    if (ec) return InternalError("cannot find this executable: " + ec.message());
  }
#ifdef BIMRIDE_SOURCE_DIR
  if (runner.source.empty()) runner.source = BIMRIDE_SOURCE_DIR;
#endif
  if (!fs::exists(runner.source + "/bench/frameworks/python_peer.py")) {
    return NotFoundError("--source-dir '" + runner.source +
                         "': not a BimRide checkout (no bench/frameworks/python_peer.py)");
  }
  std::string work = options.work_dir;
  const bool own_work = work.empty();
  if (own_work) {
    char tmpl[] = "/tmp/bimride_bench_frameworks.XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return ErrnoError("mkdtemp", tmpl, errno);
    work = tmpl;
  }
  RETURN_IF_ERROR(MakeDirs(work));
  RETURN_IF_ERROR(MakeDirs(options.out_dir));

  FrameworksBenchResult result;
  FrameworksReport& report = result.report;
  report.command = options.command;
  report.generated_at = UtcNow();
  report.mode = options.quick ? "quick mode: at most 20,000 training and 4,000 validation rows, "
                                "1 epoch, 10 boosting rounds, 0.2 s timings — for CI, not for "
                                "quoting"
                              : "full mode";
  report.machine = MachineLine();
  report.method = Method(settings);
  const WorkloadSource source{options.data_dir, work};
  for (const auto& load : {LoadEtaWorkload, LoadDemandWorkload}) {
    ASSIGN_OR_RETURN(TabularWorkload w, load(source));
    if (settings.max_train_rows > 0) {
      w.train = HeadRows(w.train, settings.max_train_rows);
      w.valid = HeadRows(w.valid, settings.max_valid_rows);
      w.description += " (quick mode: first " + std::to_string(w.train.rows) + " training and " +
                       std::to_string(w.valid.rows) + " validation rows)";
    }
    if (options.verbose) std::fprintf(stderr, "workload %s: %s\n", w.name.c_str(), w.description.c_str());
    ASSIGN_OR_RETURN(WorkloadFigures figures, runner.RunWorkload(w, settings, work + "/" + w.name));
    report.workloads.push_back(std::move(figures));
  }
  report.answer = Answer(report.workloads);
  result.markdown_path = options.out_dir + "/frameworks.md";
  result.html_path = options.out_dir + "/frameworks.html";
  RETURN_IF_ERROR(WriteFileAtomic(result.markdown_path, RenderFrameworksMarkdown(report)));
  RETURN_IF_ERROR(WriteFileAtomic(result.html_path, RenderFrameworksHtml(report)));
  if (own_work) {
    std::error_code ec;
    fs::remove_all(work, ec);
  }
  return result;
}

StatusOr<std::string> RunCppEngine(const CppEngineRequest& r) {
  const bool train = r.engine == "torch_train" || r.engine == "xgboost_train";
  if (!train && r.engine != "infer") {
    return InvalidArgumentError("--engine '" + r.engine +
                                "': not one of torch_train, xgboost_train, infer");
  }
  ASSIGN_OR_RETURN(WorkloadFiles w, ReadWorkload(r.workload_dir, train));
  json out = {{"threads", 1}};
  try {
    if (train) {
      train::TrainerOptions o;
      for (const auto& c : w.spec.at("categorical")) {
        o.categorical.push_back({c[0].get<int>(), c[1].get<int>(), c[2].get<int>()});
      }
      o.loss = w.spec.at("loss") == "poisson" ? train::Loss::kPoisson : train::Loss::kSquaredError;
      o.threads = 1;
      o.seed = w.spec.at("seed").get<uint64_t>();
      std::string kind;
      if (r.engine == "torch_train") {
        kind = "torch";
        o.params = {{"hidden_sizes", Join(w.spec.at("hidden").get<std::vector<int>>(), ",")},
                    {"learning_rate", train::ParamValue(w.spec.at("learning_rate").get<double>())},
                    {"epochs", std::to_string(w.spec.at("epochs").get<int>())},
                    {"batch_size", std::to_string(w.spec.at("batch_size").get<int>())}};
        out["version"] = "LibTorch (Debian libtorch " +
                         CommandOutput("dpkg-query -W -f='${Version}' libtorch-dev 2>/dev/null") + ")";
      } else {
        kind = "xgboost";
        for (const auto& [k, v] : w.spec.at("xgboost").items()) {
          o.params[k] = v.is_string() ? v.get<std::string>()
                        : v.is_number_integer() ? std::to_string(v.get<int64_t>())
                                                : train::ParamValue(v.get<double>());
        }
        out["version"] = "XGBoost C API (Debian libxgboost " +
                         CommandOutput("dpkg-query -W -f='${Version}' libxgboost-dev 2>/dev/null") + ")";
      }
      ASSIGN_OR_RETURN(train::TrainedModel m, train::Train(kind, w.train, nullptr, o, r.out));
      ASSIGN_OR_RETURN(std::vector<float> pred, PredictAll(*m.model, w.valid));
      RETURN_IF_ERROR(WriteFloats(r.out + "/valid_pred.bin", pred));
      out["train_samples_per_s"] = m.rows_per_second;
      out["train_seconds"] = m.train_seconds;
      out["threads"] = m.threads_used;
      out["model_path"] = m.load_path;
    } else {
      models::LoadOptions lo;
      lo.num_threads = 1;
      ASSIGN_OR_RETURN(std::unique_ptr<models::Model> m, models::LoadModel(r.backend, r.model, lo));
      const int f = m->num_features();
      if (f != w.valid.num_features) {
        return InvalidArgumentError(r.model + ": takes " + std::to_string(f) +
                                    " features, the workload has " +
                                    std::to_string(w.valid.num_features));
      }
      std::vector<float> y(static_cast<size_t>(256) * m->num_outputs());
      RETURN_IF_ERROR(m->Predict(w.valid.features.data(), 1, y.data()));
      out["cold_start_ms"] = MsSinceSpawn();
      auto predict = [&](int64_t s, int64_t b) {
        return m->Predict(w.valid.features.data() + s * f, b, y.data()).ok();
      };
      const double seconds = w.spec.at("infer_seconds").get<double>();
      out["b1_rows_per_s"] = RowsPerSecond(
          std::min<int64_t>(w.valid.rows, w.spec.at("b1_rows").get<int64_t>()), 1, seconds, predict);
      out["b256_rows_per_s"] = RowsPerSecond(w.valid.rows, 256, seconds, predict);
      out["version"] = r.backend;
    }
  } catch (const json::exception& e) {
    return InvalidArgumentError(r.workload_dir + "/spec.json: " + e.what());
  }
  out["peak_rss_mb"] = PeakRssMb();
  return out.dump();
}

}  // namespace bimride::bench
