// Data-parallel scaling of the ETA net on this machine: LibTorch over c10d/Gloo (train::Train
// "torch" in 1 and 2 ranks, each 1 thread) against Python PyTorch DDP (Debian's python3-torch,
// gloo) on the same feature matrix, net, loss, Adam, global batch and epochs, side by side in
// one run. Prints global samples/s of each, the 2-rank/1-rank speed-up of each, and the time
// rank 0 spent waiting on all-reduce.
//
//   build/bench/distributed/eta_ddp_bench [--epochs 3] [--batch-size 512] [--work DIR]
//
// The driver computes the features once (eta_with_distance on green 2021-01, as
// bench/eta/eta_train_bench) into DIR/x.bin, y.bin, config.json; every rank (C++ and Python)
// reads those files, so data loading is outside every timing. Ranks are this program re-run
// with torchrun's environment (train::RunLocalRanks); the Python ranks are spawned by
// ddp_peer.py.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "common/file.h"
#include "common/flags.h"
#include "tasks/eta/eta_training.h"
#include "train/distributed.h"

using namespace bimride;

namespace {

Status WriteFloats(const std::string& path, const std::vector<float>& v) {
  return WriteFileAtomic(
      path, std::string_view(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)));
}

StatusOr<std::vector<float>> ReadFloats(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  std::vector<float> v(bytes.size() / sizeof(float));
  std::memcpy(v.data(), bytes.data(), v.size() * sizeof(float));
  return v;
}

int Fail(const Status& s) {
  std::fprintf(stderr, "eta_ddp_bench: %s\n", s.ToString().c_str());
  return 1;
}

// One rank: reads the matrix and the options the driver wrote, trains, rank 0 prints.
int RunRank(const std::string& work) {
  auto cfg_text = ReadFile(work + "/config.json");
  if (!cfg_text.ok()) return Fail(cfg_text.status());
  const nlohmann::json cfg = nlohmann::json::parse(*cfg_text);
  models::TabularData d;
  d.num_features = cfg["num_features"];
  d.num_outputs = 1;
  auto x = ReadFloats(work + "/x.bin");
  auto y = ReadFloats(work + "/y.bin");
  if (!x.ok() || !y.ok()) return Fail(InternalError("reading " + work + "/x.bin, y.bin"));
  d.features = std::move(*x);
  d.targets = std::move(*y);
  d.rows = static_cast<int64_t>(d.targets.size());
  train::TrainerOptions o;
  for (const auto& c : cfg["categorical"]) o.categorical.push_back({c[0], c[1], c[2]});
  std::string hidden;
  for (int h : cfg["hidden"]) hidden += (hidden.empty() ? "" : ",") + std::to_string(h);
  o.params = {{"hidden_sizes", hidden},
              {"learning_rate", train::ParamValue(cfg["lr"].get<double>())},
              {"batch_size", std::to_string(cfg["batch_size"].get<int>())},
              {"epochs", std::to_string(cfg["epochs"].get<int>())},
              {"bucket_kb", std::to_string(cfg["bucket_kb"].get<int>())}};
  o.threads = cfg["threads"];
  o.seed = 42;
  auto dist = train::DistributedFromEnv(120);
  if (!dist.ok()) return Fail(dist.status());
  o.distributed = *dist;
  auto trained = train::Train("torch", d, nullptr, o,
                              work + "/libtorch_rank" + std::to_string(dist->rank));
  if (!trained.ok()) return Fail(trained.status());
  if (dist->rank == 0) {
    char line[256];
    std::snprintf(line, sizeof line,
                  "libtorch ranks %d  threads %d  samples_per_second %.0f  train_seconds %.3f  "
                  "allreduce_wait_seconds %.3f\n",
                  trained->world_size, trained->threads_used, trained->rows_per_second,
                  trained->train_seconds, trained->allreduce_wait_seconds);
    Status st = WriteFileAtomic(work + "/libtorch_result.txt", line);
    if (!st.ok()) return Fail(st);
  }
  return 0;
}

double Field(const std::string& text, const std::string& key) {
  const size_t at = text.rfind(key + " ");
  return at == std::string::npos ? 0 : std::atof(text.c_str() + at + key.size() + 1);
}

}  // namespace

int main(int argc, char** argv) {
  FlagParser flags("eta_ddp_bench",
                   "ETA net data-parallel samples/s: LibTorch c10d/Gloo vs Python DDP, 1 and 2 "
                   "ranks of 1 thread.");
  int64_t epochs = 3, batch_size = 512, repeats = 1, bucket_kb = 128;
  std::string data_dir = BIMRIDE_DATA_DIR, work = "/tmp/bimride_eta_ddp_bench";
  flags.AddInt("epochs", &epochs, "epochs (no early stopping)");
  flags.AddInt("batch-size", &batch_size, "global batch size");
  flags.AddInt("bucket-kb", &bucket_kb, "LibTorch: gradient bucket size (KiB)");
  flags.AddInt("repeats", &repeats, "runs of each configuration (the best is reported)");
  flags.AddString("data", &data_dir, "shared data folder");
  flags.AddString("work", &work, "scratch folder (features, models, logs)");
  Status st = flags.Parse(std::vector<std::string>(argv + 1, argv + argc));
  if (!st.ok() || flags.help_requested()) {
    std::fprintf(stderr, "%s\n%s", st.ToString().c_str(), flags.Help().c_str());
    return st.ok() ? 0 : 2;
  }
  if (std::getenv("RANK") != nullptr) return RunRank(work);

  auto zones = data::ZoneIndex::Load(data_dir + "/zones");
  if (!zones.ok()) return Fail(zones.status());
  auto weather = features::WeatherTable::Load(data_dir + "/weather/central_park_weather.csv");
  if (!weather.ok()) return Fail(weather.status());
  auto train = tasks::eta::LoadEtaDataset({data_dir + "/tlc_green/green_tripdata_2021-01.parquet"},
                                          &*zones, {});
  if (!train.ok()) return Fail(train.status());
  const auto set = features::EtaFeatureSet::kWithDistance;
  auto context = features::BuildEtaFeatureContext(set, train->trips, &*zones, &*weather);
  if (!context.ok()) return Fail(context.status());
  auto data = tasks::eta::MakeEtaTabularData(*context, *train);
  if (!data.ok()) return Fail(data.status());
  const tasks::eta::EtaTrainConfig config = tasks::eta::DefaultEtaTrainConfig(set, "torch");
  std::vector<int> hidden;
  for (const char* p = config.params.at("hidden_sizes").c_str(); *p != '\0';) {
    char* end = nullptr;
    hidden.push_back(static_cast<int>(std::strtol(p, &end, 10)));
    p = *end == ',' ? end + 1 : end;
  }
  std::filesystem::create_directories(work);
  nlohmann::json cfg = {{"num_features", data->num_features},
                        {"threads", 1},
                        {"seed", 42},
                        {"lr", std::atof(config.params.at("learning_rate").c_str())},
                        {"batch_size", batch_size},
                        {"epochs", epochs},
                        {"bucket_kb", bucket_kb},
                        {"hidden", hidden}};
  nlohmann::json cat = nlohmann::json::array();
  for (const auto& c : tasks::eta::EtaCategoricalColumns(*context, config.zone_embedding_dim)) {
    cat.push_back({c.column, c.cardinality, c.embedding_dim});
  }
  cfg["categorical"] = cat;
  if (!(st = WriteFileAtomic(work + "/config.json", cfg.dump())).ok()) return Fail(st);
  if (!(st = WriteFloats(work + "/x.bin", data->features)).ok()) return Fail(st);
  if (!(st = WriteFloats(work + "/y.bin", data->targets)).ok()) return Fail(st);
  std::printf("data: %lld rows x %d features (eta_with_distance, green 2021-01); hidden",
              static_cast<long long>(data->rows), data->num_features);
  for (int h : hidden) std::printf(" %d", h);
  std::printf("; global batch %lld; epochs %lld; 1 thread per rank; LibTorch buckets %lld KiB; "
              "%u cores\n",
              static_cast<long long>(batch_size), static_cast<long long>(epochs),
              static_cast<long long>(bucket_kb), std::thread::hardware_concurrency());
  std::fflush(stdout);

  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  const std::string peer = std::string(BIMRIDE_SOURCE_DIR) + "/bench/distributed/ddp_peer.py";
  double ours[3] = {0, 0, 0}, theirs[3] = {0, 0, 0}, wait2 = 0;
  for (int64_t rep = 0; rep < repeats; ++rep) {
    for (int world : {1, 2}) {
      // `world` ranks of this program (RANK etc. set); rank 0 writes its result line.
      const std::string result = work + "/libtorch_result.txt";
      std::filesystem::remove(result);
      train::LocalLaunchOptions lo;
      lo.nproc = world;
      const int rc = train::RunLocalRanks({self, "--work", work}, lo);
      auto out = ReadFile(result);
      if (rc != 0 || !out.ok()) return Fail(InternalError("libtorch ranks failed"));
      const double sps = Field(*out, "samples_per_second");
      std::printf("%s", out->c_str());
      if (sps > ours[world]) {
        ours[world] = sps;
        if (world == 2) wait2 = Field(*out, "allreduce_wait_seconds");
      }
      const std::string pcmd = "/usr/bin/python3 " + peer + " " + work + " " +
                               std::to_string(world) + " > " + work + "/python_" +
                               std::to_string(world) + ".out 2>&1";
      const int prc = std::system(pcmd.c_str());
      auto pout = ReadFile(work + "/python_" + std::to_string(world) + ".out");
      if (prc != 0 || !pout.ok()) {
        return Fail(InternalError("python peer failed: " + (pout.ok() ? *pout : "")));
      }
      std::printf("%s", pout->substr(pout->find("python ranks")).c_str());
      theirs[world] = std::max(theirs[world], Field(*pout, "samples_per_second"));
      std::fflush(stdout);
    }
  }
  std::printf("\n| | 1 rank x 1 thread | 2 ranks x 1 thread | speed-up |\n|---|---|---|---|\n");
  std::printf("| LibTorch c10d/Gloo (ours) | %.0f samples/s | %.0f samples/s | %.2fx |\n",
              ours[1], ours[2], ours[2] / ours[1]);
  std::printf("| Python PyTorch DDP (gloo) | %.0f samples/s | %.0f samples/s | %.2fx |\n",
              theirs[1], theirs[2], theirs[2] / theirs[1]);
  std::printf("ours/python: 1 rank %.2fx, 2 ranks %.2fx; rank 0 waited %.3f s on all-reduce "
              "(2 ranks)\n",
              ours[1] / theirs[1], ours[2] / theirs[2], wait2);
  return 0;
}
