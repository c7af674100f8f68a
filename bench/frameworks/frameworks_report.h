// The framework report's figures and its two renderings: report/frameworks.md (tables) and
// report/frameworks.html (the same tables and inline SVG bar charts; no script, no external
// file). Every engine row is either fully measured or says "not available: <reason>".
// Thread safety: plain values and pure functions.
#pragma once

#include <limits>
#include <string>
#include <vector>

namespace bimride::bench {

inline constexpr double kNotMeasured = std::numeric_limits<double>::quiet_NaN();

// One engine on one workload. NaN: not measured (a training row has no inference figures and
// the other way round).
struct EngineFigures {
  std::string engine;       // "LibTorch eager (C++)", "TensorFlow.js 4.22, WASM", …
  std::string family;       // "PyTorch", "TensorFlow", "XGBoost", "ours", "ONNX Runtime"
  std::string model;        // which model file it runs: "MLP trained by LibTorch", …
  std::string version;      // what the engine reported ("torch 1.13.0a0", …)
  std::string unavailable;  // non-empty: why this engine has no figures
  double train_samples_per_s = kNotMeasured;
  double train_seconds = kNotMeasured;
  double valid_mae = kNotMeasured;  // of the model it trained, on the validation rows
  double b1_rows_per_s = kNotMeasured;
  double b256_rows_per_s = kNotMeasured;
  double cold_start_ms = kNotMeasured;  // process spawn → first prediction
  double peak_rss_mb = kNotMeasured;    // VmHWM of the engine's process
  double model_bytes = kNotMeasured;    // the files it loads
};

struct WorkloadFigures {
  std::string name;         // "eta"
  std::string description;  // data, windows, rows
  std::string target;       // "trip minutes"
  std::string net;          // "embeddings → 256 → 128 → 64 → 1, MSE, Adam 2e-3, batch 512, 3 epochs"
  std::string trees;        // "XGBoost hist, depth 8, eta 0.1, 200 rounds"
  std::vector<EngineFigures> mlp_training;
  std::vector<EngineFigures> tree_training;
  std::vector<EngineFigures> inference;
  std::vector<std::string> parity;  // "ONNX (ours) vs TorchScript: max relative error … on N rows"
};

struct FrameworksReport {
  std::string title = "TensorFlow or PyTorch for BimRide: measured on our own workloads";
  std::string command;       // the command that regenerates it
  std::string generated_at;  // UTC
  std::string mode;          // "full" or "quick (…)"
  std::string machine;       // CPU, cores, load, threads used
  std::vector<std::string> method;  // how each column is measured
  std::vector<WorkloadFigures> workloads;
  std::vector<std::string> answer;  // the report's question answered, with the numbers
};

std::string RenderFrameworksMarkdown(const FrameworksReport& report);
std::string RenderFrameworksHtml(const FrameworksReport& report);

// "12,345", "1.23", "–" for NaN: the one number format of both renderings.
std::string FormatFigure(double value, int decimals = 0);

}  // namespace bimride::bench
