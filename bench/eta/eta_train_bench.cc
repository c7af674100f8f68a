// ETA net training speed: LibTorch (train::Train("torch"), as `bimride train eta --model torch`
// runs it) against the same model in Python PyTorch (eta_train_peer.py), side by
// side in one run: same feature matrix (eta_with_distance on green 2021-01), architecture,
// loss, Adam, batch size, epochs and threads. Prints rows/s of each and the ratio.
//
//   build/bench/eta/eta_train_bench [--epochs 3] [--threads 1] [--batch-size 512]
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "common/file.h"
#include "bench/workloads.h"
#include "common/flags.h"
#include "tasks/eta/eta_training.h"

using namespace bimride;

namespace {

Status WriteFloats(const std::string& path, const std::vector<float>& v) {
  return WriteFileAtomic(
      path, std::string_view(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)));
}

int Fail(const Status& s) {
  std::fprintf(stderr, "eta_train_bench: %s\n", s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  FlagParser flags("eta_train_bench", "LibTorch vs Python PyTorch ETA net training rows/s.");
  int64_t epochs = 3, threads = 1, batch_size = 512;
  std::string data_dir = BIMRIDE_DATA_DIR, work = "/tmp/bimride_eta_train_bench";
  flags.AddInt("epochs", &epochs, "epochs (no early stopping)");
  flags.AddInt("threads", &threads, "intra-op threads for both");
  flags.AddInt("batch-size", &batch_size, "batch size for both");
  flags.AddString("data", &data_dir, "shared data folder");
  flags.AddString("work", &work, "scratch folder for the peer's inputs");
  Status st = flags.Parse(std::vector<std::string>(argv + 1, argv + argc));
  if (!st.ok() || flags.help_requested()) {
    std::fprintf(stderr, "%s\n%s", st.ToString().c_str(), flags.Help().c_str());
    return st.ok() ? 0 : 2;
  }
  // The ETA workload every model bench shares (bench/workloads.h): eta_with_distance on green
  // 2021-01, the task's net.
  auto workload = bench::LoadEtaWorkload({data_dir, work});
  if (!workload.ok()) return Fail(workload.status());
  const models::TabularData* data = &workload->train;
  const tasks::eta::EtaTrainConfig config =
      tasks::eta::DefaultEtaTrainConfig(features::EtaFeatureSet::kWithDistance, "torch");
  train::TrainerOptions o;
  o.categorical = workload->categorical;
  o.params = config.params;
  o.params["epochs"] = std::to_string(epochs);
  o.params["batch_size"] = std::to_string(batch_size);
  o.threads = static_cast<int>(threads);
  o.seed = 42;
  const double learning_rate = workload->learning_rate;
  const std::vector<int> hidden = workload->hidden;

  std::filesystem::create_directories(work);
  nlohmann::json cfg = {{"num_features", data->num_features},
                        {"threads", threads},
                        {"seed", 42},
                        {"lr", learning_rate},
                        {"batch_size", batch_size},
                        {"epochs", epochs},
                        {"hidden", hidden}};
  nlohmann::json cat = nlohmann::json::array();
  for (const auto& c : o.categorical) cat.push_back({c.column, c.cardinality, c.embedding_dim});
  cfg["categorical"] = cat;
  if (!(st = WriteFileAtomic(work + "/config.json", cfg.dump())).ok()) return Fail(st);
  if (!(st = WriteFloats(work + "/x.bin", data->features)).ok()) return Fail(st);
  if (!(st = WriteFloats(work + "/y.bin", data->targets)).ok()) return Fail(st);
  std::printf("data: %lld rows x %d features (eta_with_distance, green 2021-01); hidden",
              static_cast<long long>(data->rows), data->num_features);
  for (int h : hidden) std::printf(" %d", h);
  std::printf("; batch %lld; epochs %lld; threads %lld\n", static_cast<long long>(batch_size),
              static_cast<long long>(epochs), static_cast<long long>(threads));
  std::fflush(stdout);

  auto trained = train::Train(
      "torch", *data, nullptr, o, work + "/libtorch_model", [](const models::TrainingProgress& p) {
        std::printf("libtorch epoch %d  loss %.4f  %.0f rows/s\n", p.epoch, p.train_loss,
                    p.rows_per_second);
        std::fflush(stdout);
      });
  if (!trained.ok()) return Fail(trained.status());
  const double ours = trained->rows_per_second;
  std::printf("libtorch_rows_per_second %.0f  threads %d\n", ours, trained->threads_used);
  std::fflush(stdout);

  const std::string peer = std::string(BIMRIDE_SOURCE_DIR) + "/bench/eta/eta_train_peer.py";
  const std::string cmd = "/usr/bin/python3 " + peer + " " + work + " > " + work + "/peer.out 2>&1";
  const int rc = std::system(cmd.c_str());
  auto out = ReadFile(work + "/peer.out");
  std::printf("%s", out.ok() ? out->c_str() : "");
  if (rc != 0) return Fail(InternalError("python peer failed"));
  const size_t at = out->find("python_rows_per_second ");
  if (at == std::string::npos) return Fail(InternalError("python peer printed no rows/s"));
  const double theirs = std::atof(out->c_str() + at + 23);
  std::printf("ratio libtorch/python %.2fx\n", ours / theirs);
  return 0;
}
