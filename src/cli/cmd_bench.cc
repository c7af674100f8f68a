// `bimride bench frameworks`: the framework report (bench/frameworks/frameworks_bench.h) in one
// command. `bimride bench engine` is its C++ engine process (one engine, one JSON line), which
// the report runs itself; it is not meant to be typed.
#include <cstdio>

#include "bench/frameworks/frameworks_bench.h"
#include "cli/command.h"

namespace bimride::cli {
namespace {

int RunBenchFrameworks(const std::vector<std::string>& args) {
  FlagParser flags("bimride bench frameworks",
                   "LibTorch, TorchScript, native_mlp, XGBoost, native_trees, our onnx backend, "
                   "Python PyTorch and XGBoost, ONNX Runtime and TensorFlow.js side by side on the "
                   "ETA and demand workloads, one thread each; writes OUT/frameworks.md and "
                   "OUT/frameworks.html.");
  bench::FrameworksBenchOptions o;
  flags.AddString("data", &o.data_dir,
                  "shared data folder with tlc_green/, zones/, weather/ (e.g. ../shared/data); "
                  "empty: a simulated city");
  flags.AddString("out", &o.out_dir, "folder for frameworks.md and frameworks.html");
  flags.AddString("work", &o.work_dir, "scratch folder, kept (default: a temporary one, removed)");
  flags.AddBool("quick", &o.quick, "capped rows, one epoch, short timings (CI; not for quoting)");
  flags.AddString("source-dir", &o.source_dir,
                  "the checkout whose bench/ peers to run (default: the one bimride was built from)");
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  o.command = "bimride bench frameworks";
  if (!o.data_dir.empty()) o.command += " --data " + o.data_dir;
  if (o.out_dir != "report") o.command += " --out " + o.out_dir;
  if (o.quick) o.command += " --quick";
  StatusOr<bench::FrameworksBenchResult> r = bench::RunFrameworksBench(o);
  if (!r.ok()) return ReportError(r.status());
  std::printf("wrote %s and %s\n", r->markdown_path.c_str(), r->html_path.c_str());
  return kExitOk;
}

int RunBenchEngine(const std::vector<std::string>& args) {
  FlagParser flags("bimride bench engine",
                   "One C++ engine of `bench frameworks` in this process; prints one JSON line.");
  bench::CppEngineRequest r;
  flags.AddString("engine", &r.engine, "torch_train, xgboost_train or infer", true);
  flags.AddString("workload", &r.workload_dir, "workload folder (spec.json, *_x.bin, *_y.bin)", true);
  flags.AddString("out", &r.out, "folder the trainers write into", true);
  flags.AddString("backend", &r.backend, "model backend (infer)");
  flags.AddString("model", &r.model, "model artifact path (infer)");
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  StatusOr<std::string> line = bench::RunCppEngine(r);
  if (!line.ok()) return ReportError(line.status());
  std::printf("%s\n", line->c_str());
  return kExitOk;
}

int RunBench(const std::vector<std::string>& args) {
  return DispatchVerbs("bench", "benchmarks that write reports",
                       {{"frameworks", "the framework report: every engine on our workloads",
                         RunBenchFrameworks},
                        {"engine", "(internal) one C++ engine of `bench frameworks`",
                         RunBenchEngine}},
                       args);
}

}  // namespace

BIMRIDE_COMMAND("bench", "benchmarks that write reports (frameworks)", RunBench);

}  // namespace bimride::cli
