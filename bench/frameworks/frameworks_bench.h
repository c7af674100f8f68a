// `bimride bench frameworks`: the framework report measured on our own workloads, in one run.
//
// For each workload (bench/workloads.h: ETA and demand, on TLC green data or the simulated
// city) the bench writes the rows once (workload folder: spec.json, train_/valid_ x.bin y.bin,
// float32) and runs every engine in a process of its own, one thread each:
//   training the same MLP: LibTorch eager (our trainer, C++), Python PyTorch eager,
//     TensorFlow.js 4.22 (WASM);
//   training the same boosted trees: XGBoost C API (our trainer), Python XGBoost;
//   inference on the validation rows: TorchScript (LibTorch), native_mlp, our onnx backend,
//     Python torch eager and torch.jit, ONNX Runtime 1.30 (on the file our exporter wrote),
//     TensorFlow.js; XGBoost C API, native_trees, onnx, Python XGBoost, ONNX Runtime.
// Each engine process prints one JSON line of figures (bench_timing.h defines how each is
// taken); a missing peer (no node modules, no python3-torch) becomes "not available: <its
// error>" in the report instead of a failed run. The report goes to <out>/frameworks.md and
// <out>/frameworks.html.
//
// The C++ engines run as `bimride bench engine …` (RunCppEngine), so each has its own process,
// peak memory and cold start like the peers. Errors: the workloads' loaders, the file system;
// an engine's failure is a row, not an error. Thread safety: one run per process.
#pragma once

#include <string>

#include "bench/frameworks/frameworks_report.h"
#include "common/status.h"

namespace bimride::bench {

struct FrameworksBenchOptions {
  std::string data_dir;         // the shared data folder; empty: the simulated city
  std::string out_dir = "report";
  std::string work_dir;         // scratch; empty: a fresh folder under /tmp, removed at the end
  bool quick = false;           // capped rows, one epoch, short timings: for CI (< ~2 min)
  std::string command;          // the command as typed, for the report
  std::string bimride_binary;   // runs the C++ engines; empty: this process's executable
  std::string source_dir;       // the checkout (its peers); empty: the one this was built from
  bool verbose = true;          // a line per engine on stderr as it finishes
};

struct FrameworksBenchResult {
  std::string markdown_path, html_path;
  FrameworksReport report;
};

StatusOr<FrameworksBenchResult> RunFrameworksBench(const FrameworksBenchOptions& options);

// One C++ engine on a workload folder, in this process: "torch_train" or "xgboost_train"
// (train on train_*.bin into `out`, write out/valid_pred.bin) or "infer" with `backend` and
// `model` (load, first prediction, batch 1 and 256 timings). Returns the JSON line to print.
struct CppEngineRequest {
  std::string engine;
  std::string workload_dir;
  std::string out;
  std::string backend;
  std::string model;
};
StatusOr<std::string> RunCppEngine(const CppEngineRequest& request);

}  // namespace bimride::bench
