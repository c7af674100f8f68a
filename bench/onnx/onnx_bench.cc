// Our onnx backend vs ONNX Runtime 1.30 (npm onnxruntime-node: its native CPU library, driven
// from node) on the same ONNX files and the same varied rows, one thread each: per-call p50 at
// batch 1 and batch 256, and CPU per call. ONNX Runtime's figures include the cost of calling
// it from node; the same calls on an Identity graph measure that cost, and "ORT − identity" is
// the estimate of its own work.
//
// Files: torch_mlp.onnx (an ETA-like net: two zone embeddings, numeric features, three Linear
// layers, exported by PyTorch) and xgb_reg.onnx (12 XGBoost trees of depth 4 as an ai.onnx.ml
// TreeEnsembleRegressor), written by src/models/onnx/testdata/make_test_models.py.
//
// Usage: onnx_bench [--calls-b1 N] [--calls-b256 N] [--no-peer]
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "common/file.h"
#include "models/model.h"

namespace {

using bimride::models::LoadModel;

double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct Timing {
  double p50_us = 0;
  double cpu_us_per_call = 0;
};

Timing TimeOurs(const bimride::models::Model& model, const std::vector<float>& rows, int batch,
                int calls) {
  const int f = model.num_features();
  const int n = static_cast<int>(rows.size()) / f;
  std::vector<float> out(static_cast<size_t>(batch) * model.num_outputs());
  auto run = [&](int i) {
    const int start = (i * batch) % (n - batch + 1);
    if (!model.Predict(rows.data() + static_cast<size_t>(start) * f, batch, out.data()).ok()) {
      std::fprintf(stderr, "onnx_bench: Predict failed\n");
      std::exit(1);
    }
  };
  for (int i = 0; i < 200; ++i) run(i);
  std::vector<double> us;
  const double cpu0 = CpuSeconds();
  for (int i = 0; i < calls; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    run(i);
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0)
                     .count());
  }
  const double cpu = CpuSeconds() - cpu0;
  std::sort(us.begin(), us.end());
  return {us[us.size() / 2], cpu * 1e6 / calls};
}

}  // namespace

int main(int argc, char** argv) {
  int calls_b1 = 20000, calls_b256 = 1000;
  bool peer = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--calls-b1" && i + 1 < argc) {
      calls_b1 = std::atoi(argv[++i]);
    } else if (a == "--calls-b256" && i + 1 < argc) {
      calls_b256 = std::atoi(argv[++i]);
    } else if (a == "--no-peer") {
      peer = false;
    } else {
      std::fprintf(stderr, "usage: onnx_bench [--calls-b1 N] [--calls-b256 N] [--no-peer]\n");
      return 2;
    }
  }
  if (calls_b1 < 1 || calls_b256 < 1) {
    std::fprintf(stderr, "onnx_bench: call counts must be positive\n");
    return 2;
  }
  const std::string dir = std::filesystem::temp_directory_path().string() + "/onnx_bench_" +
                          std::to_string(::getpid());
  const std::string make = std::string("/usr/bin/python3 ") + BIMRIDE_SOURCE_DIR +
                           "/src/models/onnx/testdata/make_test_models.py " + dir + " > /dev/null";
  if (std::system(make.c_str()) != 0) {
    std::fprintf(stderr, "onnx_bench: make_test_models.py failed\n");
    return 1;
  }
  std::printf("onnx_bench: one thread each; %d calls at batch 1, %d at batch 256, rows cycled "
              "from 4096 varied rows\n\n",
              calls_b1, calls_b256);
  std::printf("| model | batch | ours p50 µs | ours CPU µs/call | ORT p50 µs (from node) | "
              "ORT − identity p50 µs | ratio ORT−identity / ours |\n|---|---:|---:|---:|---:|---:|---:|\n");
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (const std::string name : {"torch_mlp", "xgb_reg"}) {
    auto model = LoadModel("onnx", dir + "/" + name + ".onnx");
    if (!model.ok()) {
      std::fprintf(stderr, "onnx_bench: %s\n", model.status().ToString().c_str());
      return 1;
    }
    const int f = (*model)->num_features();
    std::vector<float> rows;
    nlohmann::json doc = {{"inputs", nlohmann::json::array()}};
    for (int r = 0; r < 4096; ++r) {
      nlohmann::json row = nlohmann::json::array();
      for (int c = 0; c < f; ++c) {
        float v = normal(rng);
        if (name == "torch_mlp" && c < 2) v = static_cast<float>(1 + rng() % 263);  // zone ids
        rows.push_back(v);
        row.push_back(v);
      }
      doc["inputs"].push_back(row);
    }
    const std::string rows_file = dir + "/" + name + "_rows.json";
    if (!bimride::WriteFileAtomic(rows_file, doc.dump()).ok()) return 1;
    const Timing b1 = TimeOurs(**model, rows, 1, calls_b1);
    const Timing b256 = TimeOurs(**model, rows, 256, calls_b256);
    nlohmann::json ort;
    if (peer) {
      const std::string cmd = std::string("node ") + BIMRIDE_SOURCE_DIR +
                              "/bench/peers/frameworks/ort_bench.mjs " + dir + "/" + name +
                              ".onnx " + dir + "/identity_" + std::to_string(f) + ".onnx " +
                              rows_file + " " + std::to_string(calls_b1) + " " +
                              std::to_string(calls_b256);
      std::FILE* p = ::popen(cmd.c_str(), "r");
      std::string text;
      char buf[4096];
      size_t got;
      while (p != nullptr && (got = std::fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, got);
      if (p == nullptr || ::pclose(p) != 0 || text.empty()) {
        std::fprintf(stderr, "onnx_bench: the ONNX Runtime peer failed (scripts/setup installs it)\n");
        return 1;
      }
      ort = nlohmann::json::parse(text);
    }
    for (const auto& [batch, ours, key] :
         {std::tuple{1, b1, "b1"}, std::tuple{256, b256, "b256"}}) {
      if (!peer) {
        std::printf("| %s | %d | %.2f | %.2f | – | – | – |\n", name.c_str(), batch, ours.p50_us,
                    ours.cpu_us_per_call);
        continue;
      }
      const double ort_p50 = ort[key]["p50_us"].get<double>();
      const double own = ort_p50 - ort["identity_b1"]["p50_us"].get<double>();
      std::printf("| %s | %d | %.2f | %.2f | %.2f | %.2f | %.2f× |\n", name.c_str(), batch,
                  ours.p50_us, ours.cpu_us_per_call, ort_p50, own, own / ours.p50_us);
    }
  }
  std::filesystem::remove_all(dir);
  return 0;
}
