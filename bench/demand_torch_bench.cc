// Training speed of the demand LibTorch model (models/torch TrainTabularNet with the demand
// task's architecture) against the same model in Python PyTorch (bench/demand_torch_peer.py),
// side by side in one run: same rows (green taxi Jan–Feb 2021 demand rows, written to a file
// both read), same batch, epochs, threads, optimiser and loss. Prints samples/s and the ratio.
//
//   demand_torch_bench [--epochs 3] [--batch 512] [--threads 1] [--repeats 3] [--no-peer]
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common/civil_time.h"
#include "models/torch/tabular_net.h"
#include "tasks/demand/demand_data.h"
#include "tasks/demand/demand_dataset.h"

namespace {

using namespace bimride;

int Fail(const Status& s) {
  std::fprintf(stderr, "demand_torch_bench: %s\n", s.ToString().c_str());
  return 1;
}

double RunPeer(const std::string& data, int epochs, int batch, int threads) {
  const std::string cmd = "/usr/bin/python3 '" + std::string(BIMRIDE_SOURCE_DIR) +
                          "/bench/demand_torch_peer.py' --data '" + data + "' --epochs " +
                          std::to_string(epochs) + " --batch " + std::to_string(batch) +
                          " --threads " + std::to_string(threads);
  std::FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return -1;
  char buf[4096];
  std::string out;
  while (std::fgets(buf, sizeof(buf), p)) out += buf;
  if (::pclose(p) != 0) return -1;
  const size_t at = out.find("\"rows_per_second\": ");
  return at == std::string::npos ? -1 : std::stod(out.substr(at + 19));
}

}  // namespace

int main(int argc, char** argv) {
  int epochs = 3, batch = 512, threads = 1, repeats = 3;
  bool peer = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() { return i + 1 < argc ? std::atoi(argv[++i]) : 0; };
    if (a == "--epochs")
      epochs = next();
    else if (a == "--batch")
      batch = next();
    else if (a == "--threads")
      threads = next();
    else if (a == "--repeats")
      repeats = next();
    else if (a == "--no-peer")
      peer = false;
    else {
      std::fprintf(stderr,
                   "usage: demand_torch_bench [--epochs N] [--batch N] [--threads N] "
                   "[--repeats N] [--no-peer]\n");
      return 2;
    }
  }
  const std::string dir = std::string(BIMRIDE_DATA_DIR) + "/tlc_green/";
  tasks::demand::DemandDataOptions o;
  o.trip_files = {dir + "green_tripdata_2021-01.parquet", dir + "green_tripdata_2021-02.parquet"};
  o.begin_us = *ParseCivil("2021-01-01");
  o.end_us = o.zones_end_us = *ParseCivil("2021-03-01");
  o.zones_begin_us = o.begin_us;
  auto data = tasks::demand::LoadDemandGrid(o);
  if (!data.ok()) return Fail(data.status());
  auto feats = features::DemandFeatures::Create({}, nullptr);
  if (!feats.ok()) return Fail(feats.status());
  auto rows =
      tasks::demand::BuildTrainingRows(data->grid, *feats, 0, data->grid.num_buckets(), nullptr);
  if (!rows.ok()) return Fail(rows.status());

  // The demand model's net (tasks/demand/demand_models.cc defaults).
  models::torch_backend::TabularNetOptions t;
  t.categorical.push_back(
      {features::DemandFeatures::kZoneColumn, static_cast<int>(data->grid.num_zones()), 16});
  for (int col : feats->TargetSlotColumns()) t.categorical.push_back({col, 24, 4});
  t.hidden_sizes = {64, 32};
  t.loss = models::torch_backend::TabularLoss::kPoisson;
  t.learning_rate = 2e-3;
  t.batch_size = batch;
  t.epochs = epochs;
  t.num_threads = threads;

  const std::string file = "/tmp/demand_torch_bench_rows.bin";
  std::FILE* f = std::fopen(file.c_str(), "wb");
  if (f == nullptr) return Fail(ErrnoError("open", file, errno));
  const models::TabularData& d = rows->data;
  const int64_t header[4] = {d.rows, d.num_features, d.num_outputs,
                             static_cast<int64_t>(t.categorical.size())};
  std::fwrite(header, 8, 4, f);
  for (const auto& c : t.categorical) {
    const int64_t cat[3] = {c.column, c.cardinality, c.embedding_dim};
    std::fwrite(cat, 8, 3, f);
  }
  std::fwrite(d.features.data(), 4, d.features.size(), f);
  std::fwrite(d.targets.data(), 4, d.targets.size(), f);
  std::fclose(f);

  std::printf(
      "demand LibTorch training: %lld rows × %d features → %d outputs, batch %d, %d "
      "epochs, %d thread(s), Adam, Poisson NLL, hidden 64,32\n",
      static_cast<long long>(d.rows), d.num_features, d.num_outputs, batch, epochs, threads);
  for (int r = 0; r < repeats; ++r) {
    // The trainer as the demand task runs it, then the Python peer: interleaved in one run.
    auto ours = models::torch_backend::TrainTabularNet(d, nullptr, t);
    if (!ours.ok()) return Fail(ours.status());
    const double py = peer ? RunPeer(file, epochs, batch, threads) : 0;
    const double a = ours->report.rows_per_second;
    std::printf("repeat %d: LibTorch %.0f/s (loss %.4f) | PyTorch %.0f/s | LibTorch / PyTorch "
                "%.2fx\n",
                r + 1, a, ours->report.final_train_loss, py, py > 0 ? a / py : 0.0);
    std::fflush(stdout);
  }
  return 0;
}
