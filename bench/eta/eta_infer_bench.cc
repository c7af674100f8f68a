// ETA inference speed: rows/s at batch 1 and batch 256 for the four backends loading the same
// exported artifacts (torchscript and native_mlp: the LibTorch net's model.pt / net.json;
// xgboost and native_trees: model.json), one thread, on the ETA feature rows of green
// 2021-02; the Python peers (torch.jit + xgboost, eta_infer_peer.py) on the same files and
// rows in the same run. Also the feature computation itself (features/eta_features.h).
//
//   build/bench/eta/eta_infer_bench --torch-model DIR --xgboost-model DIR
// With a loss estimator beside the XGBoost model (loss_model.json), also that estimator's rows/s
// under both tree backends.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "bench/bench_timing.h"
#include "common/file.h"
#include "common/flags.h"
#include "models/model.h"
#include "models/native/native_mlp_model.h"
#include "tasks/eta/eta_training.h"

using namespace bimride;

namespace {

int Fail(const Status& s) {
  std::fprintf(stderr, "eta_infer_bench: %s\n", s.ToString().c_str());
  return 1;
}

// Rows per second of fn(first_row, rows) over `n` rows in batches of `batch`, ≥ 1 s.
template <typename Fn>
double Rate(int64_t n, int64_t batch, Fn fn) {
  return bench::RowsPerSecond(n, batch, 1.0, fn);
}

}  // namespace

int main(int argc, char** argv) {
  FlagParser flags("eta_infer_bench", "ETA inference rows/s per backend and batch size.");
  std::string data_dir = BIMRIDE_DATA_DIR, torch_dir, xgb_dir,
              work = "/tmp/bimride_eta_infer_bench";
  flags.AddString("torch-model", &torch_dir,
                  "folder from `train eta --model torch` (without it: the tree backends only)");
  flags.AddString("xgboost-model", &xgb_dir, "folder from `train eta --model xgboost`", true);
  flags.AddString("data", &data_dir, "shared data folder");
  flags.AddString("work", &work, "scratch folder for the peer's inputs");
  Status st = flags.Parse(std::vector<std::string>(argv + 1, argv + argc));
  if (!st.ok() || flags.help_requested()) {
    std::fprintf(stderr, "%s\n%s", st.ToString().c_str(), flags.Help().c_str());
    return st.ok() ? 0 : 2;
  }
  auto zones = data::ZoneIndex::Load(data_dir + "/zones");
  if (!zones.ok()) return Fail(zones.status());
  auto valid = tasks::eta::LoadEtaDataset({data_dir + "/tlc_green/green_tripdata_2021-02.parquet"},
                                          &*zones, {});
  if (!valid.ok()) return Fail(valid.status());
  const auto requests = features::EtaRequestsFromTrips(valid->trips);
  const int64_t n = static_cast<int64_t>(requests.size());
  std::printf("rows: %lld trips of green 2021-02; 1 thread everywhere\n",
              static_cast<long long>(n));

  struct Case {
    std::string dir, backend;
  };
  const Case cases[] = {{torch_dir, "torchscript"},
                        {torch_dir, "native_mlp"},
                        {xgb_dir, "xgboost"},
                        {xgb_dir, "native_trees"}};
  std::filesystem::create_directories(work);
  for (const Case& c : cases) {
    if (c.dir.empty()) continue;
    auto m = tasks::eta::LoadEtaModel(c.dir, 1, c.backend);
    if (!m.ok()) return Fail(m.status());
    auto x = features::ComputeEtaFeatures(m->context, requests);
    if (!x.ok()) return Fail(x.status());
    const int f = m->model->num_features();
    if (c.backend == "torchscript" || c.backend == "xgboost") {
      st = WriteFileAtomic(
          work + "/x_" + c.backend + ".bin",
          std::string_view(reinterpret_cast<const char*>(x->data()), x->size() * sizeof(float)));
      if (!st.ok()) return Fail(st);
    }
    std::vector<float> out(static_cast<size_t>(n));
    // native_mlp once per dense kernel this CPU has (the widest is what the server uses).
    const std::vector<std::string> kernels =
        c.backend == "native_mlp" ? models::native::DenseKernelNames() : std::vector<std::string>{""};
    for (const std::string& kernel : kernels) {
      if (!kernel.empty() && !models::native::UseDenseKernel(kernel).ok()) return 1;
      const std::string label = kernel.empty() ? c.backend : c.backend + " (" + kernel + ")";
      for (int64_t batch : {int64_t{1}, int64_t{256}}) {
        const double r =
            Rate(batch == 1 ? std::min<int64_t>(n, 20000) : n, batch, [&](int64_t s, int64_t b) {
              return m->model->Predict(x->data() + s * f, b, out.data() + s).ok();
            });
        std::printf("%-21s batch %3lld: %10.0f rows/s\n", label.c_str(),
                    static_cast<long long>(batch), r);
        std::fflush(stdout);
      }
    }
    if (!kernels.front().empty() && !models::native::UseDenseKernel(kernels.front()).ok()) return 1;
    if (c.backend == "torchscript") {
      std::vector<float> row(static_cast<size_t>(f) * 256);
      for (int64_t batch : {int64_t{1}, int64_t{256}}) {
        const double r =
            Rate(batch == 1 ? std::min<int64_t>(n, 20000) : n, batch, [&](int64_t s, int64_t b) {
              return features::ComputeEtaFeatures(
                         m->context, std::span<const features::EtaRequest>(&requests[s], b),
                         row.data())
                  .ok();
            });
        std::printf("%-21s batch %3lld: %10.0f rows/s\n", "eta features",
                    static_cast<long long>(batch), r);
      }
    }
  }
  // The loss estimator published beside the XGBoost model (what the server's live monitor runs
  // on every logged row, off the request path): its inputs are the features and the
  // prediction; both tree backends on the same file and rows, at batch 1 and at the size of a
  // log writer's run (1024).
  const std::string loss_path = xgb_dir + "/" + tasks::eta::kEtaLossModelFile;
  if (std::filesystem::exists(loss_path)) {
    auto xgb = tasks::eta::LoadEtaModel(xgb_dir, 1);
    if (!xgb.ok()) return Fail(xgb.status());
    auto x = features::ComputeEtaFeatures(xgb->context, requests);
    if (!x.ok()) return Fail(x.status());
    const int f = xgb->model->num_features();
    std::vector<float> predicted(static_cast<size_t>(n));
    if (st = xgb->model->Predict(x->data(), n, predicted.data()); !st.ok()) return Fail(st);
    std::vector<float> in(static_cast<size_t>(n) * (f + 1));
    for (int64_t r = 0; r < n; ++r) {
      std::copy(x->begin() + r * f, x->begin() + (r + 1) * f, in.begin() + r * (f + 1));
      in[static_cast<size_t>(r * (f + 1) + f)] = predicted[static_cast<size_t>(r)];
    }
    std::vector<float> est(static_cast<size_t>(n)), first;
    for (const char* backend : {"xgboost", "native_trees"}) {
      auto loss = models::LoadModel(backend, loss_path);
      if (!loss.ok()) return Fail(loss.status());
      for (int64_t batch : {int64_t{1}, int64_t{1024}}) {
        const double r =
            Rate(batch == 1 ? std::min<int64_t>(n, 20000) : n, batch, [&](int64_t s, int64_t b) {
              return (*loss)->Predict(in.data() + s * (f + 1), b, est.data() + s).ok();
            });
        std::printf("loss estimator, %-12s batch %4lld: %10.0f rows/s\n", backend,
                    static_cast<long long>(batch), r);
        std::fflush(stdout);
      }
      if (st = (*loss)->Predict(in.data(), n, est.data()); !st.ok()) return Fail(st);
      if (first.empty()) {
        first = est;
      } else {
        int64_t differ = 0;
        for (int64_t r = 0; r < n; ++r) differ += est[r] != first[r];
        std::printf("loss estimator: %lld of %lld rows differ between the two backends\n",
                    static_cast<long long>(differ), static_cast<long long>(n));
      }
    }
  }
  // The Python peers on the same files and rows (each model's own feature matrix).
  if (torch_dir.empty()) return 0;
  const std::string peer = std::string(BIMRIDE_SOURCE_DIR) + "/bench/eta/eta_infer_peer.py";
  auto tm = tasks::eta::LoadEtaModel(torch_dir, 1);
  auto xm = tasks::eta::LoadEtaModel(xgb_dir, 1);
  if (!tm.ok() || !xm.ok()) return Fail(tm.ok() ? xm.status() : tm.status());
  if (tm->model->num_features() != xm->model->num_features()) {
    std::printf("python peers skipped: the two models take different feature sets\n");
    return 0;
  }
  std::filesystem::copy_file(work + "/x_torchscript.bin", work + "/x.bin",
                             std::filesystem::copy_options::overwrite_existing);
  const std::string cmd = "/usr/bin/python3 " + peer + " " + work + " " + torch_dir + "/model.pt " +
                          xgb_dir + "/model.json " + std::to_string(tm->model->num_features()) +
                          " 2>&1";
  return std::system(cmd.c_str()) == 0 ? 0 : 1;
}
