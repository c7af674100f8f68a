// Conversion model training speed: XGBoost (binary:logistic) and the LibTorch MLP (logistic
// loss) through train::Train — what `bimride train behaviour` runs — against Python XGBoost and
// PyTorch (behaviour_train_peer.py) on the same rows, side by side in one run. The rows are the
// conversion training rows of a simulated city (BuildConversionRows), written by this program
// and read by the peer. Both sides: the same parameters and threads, a fixed number of boosting
// rounds / epochs (no early stopping), and the training-set metric evaluated every round.
//
//   build/bench/behaviour/behaviour_train_bench [--days 60] [--zones 40] [--rounds 100]
//                                               [--epochs 3] [--threads 1]
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "common/file.h"
#include "common/flags.h"
#include "simulator/simulator.h"
#include "tasks/behaviour/behaviour_dataset.h"
#include "train/trainer.h"

using namespace bimride;

namespace {

Status WriteFloats(const std::string& path, const std::vector<float>& v) {
  return WriteFileAtomic(
      path, std::string_view(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)));
}

int Fail(const Status& s) {
  std::fprintf(stderr, "behaviour_train_bench: %s\n", s.ToString().c_str());
  return 1;
}

double PeerFigure(const std::string& out, const std::string& key) {
  const size_t at = out.find(key + " ");
  return at == std::string::npos ? 0 : std::atof(out.c_str() + at + key.size() + 1);
}

}  // namespace

int main(int argc, char** argv) {
  FlagParser flags("behaviour_train_bench",
                   "Conversion model training rows/s: ours vs Python XGBoost / PyTorch.");
  int64_t days = 60, zones = 40, rounds = 100, epochs = 3, threads = 1, seed = 1;
  std::string work = "/tmp/bimride_behaviour_train_bench";
  flags.AddInt("days", &days, "days of the simulated city");
  flags.AddInt("zones", &zones, "zones of the simulated city");
  flags.AddInt("seed", &seed, "city seed");
  flags.AddInt("rounds", &rounds, "XGBoost boosting rounds (no early stopping)");
  flags.AddInt("epochs", &epochs, "LibTorch / PyTorch epochs (no early stopping)");
  flags.AddInt("threads", &threads, "threads for every trainer");
  flags.AddString("work", &work, "scratch folder for the peer's inputs");
  Status st = flags.Parse(std::vector<std::string>(argv + 1, argv + argc));
  if (!st.ok() || flags.help_requested()) {
    std::fprintf(stderr, "%s\n%s", st.ToString().c_str(), flags.Help().c_str());
    return st.ok() ? 0 : 2;
  }
  simulator::CityConfig config;
  config.days = days;
  config.zones = zones;
  config.seed = static_cast<uint64_t>(seed);
  config.price_test_fraction = 0.2;
  auto city = simulator::Simulate(config);
  if (!city.ok()) return Fail(city.status());
  auto rows = tasks::behaviour::BuildConversionRows(*city);
  if (!rows.ok()) return Fail(rows.status());
  const models::TabularData data =
      tasks::behaviour::SliceByDay(*rows, 0, static_cast<int32_t>(days * 3 / 4));

  const train::Params xgb_params = {{"max_depth", "6"},          {"eta", "0.1"},
                                    {"min_child_weight", "20"},  {"subsample", "0.8"},
                                    {"rounds", std::to_string(rounds)}};
  const train::Params torch_params = {{"hidden_sizes", "64,32"}, {"learning_rate", "0.002"},
                                      {"batch_size", "1024"},    {"epochs", std::to_string(epochs)},
                                      {"patience", "1000"}};
  std::filesystem::create_directories(work);
  nlohmann::json cfg = {{"num_features", data.num_features},
                        {"threads", threads},
                        {"seed", 42},
                        {"rounds", rounds},
                        {"max_depth", 6},
                        {"eta", 0.1},
                        {"min_child_weight", 20},
                        {"subsample", 0.8},
                        {"lr", 0.002},
                        {"batch_size", 1024},
                        {"epochs", epochs},
                        {"hidden", {64, 32}}};
  if (!(st = WriteFileAtomic(work + "/config.json", cfg.dump())).ok()) return Fail(st);
  if (!(st = WriteFloats(work + "/x.bin", data.features)).ok()) return Fail(st);
  if (!(st = WriteFloats(work + "/y.bin", data.targets)).ok()) return Fail(st);
  std::printf("data: %lld conversion rows x %d features (city seed %lld, %lld days, %lld zones, "
              "first 75%% of days); threads %lld\n",
              static_cast<long long>(data.rows), data.num_features, static_cast<long long>(seed),
              static_cast<long long>(days), static_cast<long long>(zones),
              static_cast<long long>(threads));
  std::fflush(stdout);

  double ours[2] = {0, 0};
  const char* kinds[2] = {"xgboost", "torch"};
  for (int k = 0; k < 2; ++k) {
    train::TrainerOptions o;
    o.loss = train::Loss::kLogistic;
    o.threads = static_cast<int>(threads);
    o.seed = 42;
    o.params = k == 0 ? xgb_params : torch_params;
    auto trained = train::Train(kinds[k], data, nullptr, o, work + "/" + kinds[k]);
    if (!trained.ok()) return Fail(trained.status());
    ours[k] = trained->rows_per_second;
    std::printf("ours %s: %.2f s, %.0f rows/s (%s)\n", kinds[k], trained->train_seconds, ours[k],
                trained->summary.c_str());
    std::fflush(stdout);
  }

  const std::string peer =
      std::string(BIMRIDE_SOURCE_DIR) + "/bench/behaviour/behaviour_train_peer.py";
  const std::string cmd = "/usr/bin/python3 " + peer + " " + work + " > " + work + "/peer.out 2>&1";
  const int rc = std::system(cmd.c_str());
  auto out = ReadFile(work + "/peer.out");
  std::printf("%s", out.ok() ? out->c_str() : "");
  if (rc != 0 || !out.ok()) return Fail(InternalError("python peer failed"));
  const double theirs[2] = {PeerFigure(*out, "python_xgboost_rows_per_second"),
                            PeerFigure(*out, "python_torch_rows_per_second")};
  for (int k = 0; k < 2; ++k) {
    if (!(theirs[k] > 0)) return Fail(InternalError("python peer printed no rows/s"));
    std::printf("ratio %s ours/python %.2fx\n", kinds[k], ours[k] / theirs[k]);
  }
  return 0;
}
