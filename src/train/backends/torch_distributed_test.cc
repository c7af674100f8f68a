// Data-parallel "torch" training (c10d ProcessGroupGloo over a TCPStore), end to end in real
// processes: the tests start ranks with train::RunLocalRanks, each rank being this test
// program re-run with --gtest_filter=TorchDistributedWorker.Run and torchrun's environment.
//   - N ranks with global batch B give the net of 1 process with batch B (to rounding), for a
//     squared-error net with embeddings (ETA-shaped) and a multi-output Poisson net
//     (demand-shaped), also when the batch does not split evenly (3 ranks);
//   - a killed rank and a hung rank make rank 0 stop within the timeout with an error naming
//     the rank, and the launcher leaves no process behind;
//   - a job that died mid-run resumes from rank 0's last checkpoint to the same final net as
//     an uninterrupted run.
#include <dirent.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "common/file.h"
#include "models/native/mlp_net.h"
#include "train/distributed.h"
#include "train/trainer.h"
#include "train/trainer_test_util.h"

namespace bimride::train {
namespace {

struct Scenario {
  models::TabularData train, valid;
  TrainerOptions options;
};

// "mse": y = 2a − b + id effect, ids embedded (as the ETA net's zones); "poisson": two count
// outputs with a log-linear rate (as the demand net's horizons).
Scenario MakeScenario(const std::string& name) {
  Scenario s;
  if (name == "mse") {
    s.train = testing::Linear(1203, 1, 11);
    s.valid = testing::Linear(301, 1, 12);
    s.options.params = {{"hidden_sizes", "16,8"}, {"epochs", "4"}, {"batch_size", "64"},
                        {"learning_rate", "0.01"}, {"patience", "1"}, {"bucket_kb", "1"}};
  } else {
    for (auto* d : {&s.train, &s.valid}) {
      const int64_t rows = d == &s.train ? 1001 : 257;
      std::mt19937 rng(d == &s.train ? 21 : 22);
      std::normal_distribution<float> x(0, 1);
      d->rows = rows;
      d->num_features = 3;
      d->num_outputs = 2;
      for (int64_t r = 0; r < rows; ++r) {
        const float a = x(rng), b = x(rng), id = static_cast<float>(r % 7);
        d->features.insert(d->features.end(), {a, b, id});
        for (int k = 0; k < 2; ++k) {
          std::poisson_distribution<int> y(std::exp(0.5 + 0.4 * a - 0.3 * b * (k + 1) + 0.1 * id));
          d->targets.push_back(static_cast<float>(y(rng)));
        }
      }
    }
    s.options.loss = Loss::kPoisson;
    s.options.params = {{"hidden_sizes", "12"}, {"epochs", "3"}, {"batch_size", "50"},
                        {"learning_rate", "0.02"}, {"bucket_kb", "1"}};
  }
  s.options.categorical = {{2, name == "mse" ? 5 : 7, 3}};
  s.options.seed = 5;
  return s;
}

std::string Env(const char* name, const std::string& fallback = "") {
  const char* v = std::getenv(name);
  return v ? v : fallback;
}

// One rank (started by the tests below; skipped when run directly).
TEST(TorchDistributedWorker, Run) {
  if (Env("BIMRIDE_DDP_SCENARIO").empty()) GTEST_SKIP() << "a rank started by the tests below";
  if (!HasTrainer("torch")) GTEST_SKIP() << "built without LibTorch";
  Scenario s = MakeScenario(Env("BIMRIDE_DDP_SCENARIO"));
  auto d = DistributedFromEnv(std::atof(Env("BIMRIDE_DDP_TIMEOUT", "30").c_str()));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  s.options.distributed = *d;
  s.options.checkpoint_dir = Env("BIMRIDE_DDP_CHECKPOINTS");
  s.options.checkpoint_every_steps = std::atoi(Env("BIMRIDE_DDP_EVERY", "0").c_str());
  const std::string out = Env("BIMRIDE_DDP_OUT") + "/rank" + std::to_string(d->rank);
  auto m = Train("torch", s.train, &s.valid, s.options, out);
  const std::string status =
      m.ok() ? "OK " + std::to_string(m->best_valid_metric[0]) + "\n" + m->summary
             : m.status().ToString();
  ASSERT_TRUE(WriteFileAtomic(out + ".status", status).ok());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
}

struct Launch {
  int exit_code = 0;
  double seconds = 0;
};

// Runs `world` ranks of the worker with the scenario; extra environment as NAME=VALUE.
Launch RunRanks(const std::string& scenario, int world, const std::string& out,
                const std::vector<std::pair<std::string, std::string>>& env = {},
                double grace_seconds = 30) {
  ::setenv("BIMRIDE_DDP_SCENARIO", scenario.c_str(), 1);
  ::setenv("BIMRIDE_DDP_OUT", out.c_str(), 1);
  for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
  LocalLaunchOptions lo;
  lo.nproc = world;
  lo.grace_seconds = grace_seconds;
  const auto start = std::chrono::steady_clock::now();
  Launch l;
  l.exit_code = RunLocalRanks({"/proc/self/exe", "--gtest_filter=TorchDistributedWorker.Run"}, lo);
  l.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const char* k : {"BIMRIDE_DDP_SCENARIO", "BIMRIDE_DDP_OUT", "BIMRIDE_FAULT",
                        "BIMRIDE_DDP_TIMEOUT", "BIMRIDE_DDP_CHECKPOINTS", "BIMRIDE_DDP_EVERY"}) {
    ::unsetenv(k);
  }
  return l;
}

std::string Status(const std::string& out, int rank) {
  auto s = ReadFile(out + "/rank" + std::to_string(rank) + ".status");
  return s.ok() ? *s : "(no status file: " + s.status().ToString() + ")";
}

// Largest absolute difference over every weight of two nets (they must have one shape).
double MaxWeightDifference(const models::native::MlpNet& a, const models::native::MlpNet& b) {
  double diff = 0;
  const auto cmp = [&](const std::vector<float>& x, const std::vector<float>& y) {
    EXPECT_EQ(x.size(), y.size());
    for (size_t i = 0; i < std::min(x.size(), y.size()); ++i) {
      diff = std::max(diff, static_cast<double>(std::abs(x[i] - y[i])));
    }
  };
  EXPECT_EQ(a.embeddings.size(), b.embeddings.size());
  for (size_t k = 0; k < std::min(a.embeddings.size(), b.embeddings.size()); ++k) {
    cmp(a.embeddings[k], b.embeddings[k]);
  }
  EXPECT_EQ(a.layers.size(), b.layers.size());
  for (size_t k = 0; k < std::min(a.layers.size(), b.layers.size()); ++k) {
    cmp(a.layers[k].weight, b.layers[k].weight);
    cmp(a.layers[k].bias, b.layers[k].bias);
  }
  return diff;
}

models::native::MlpNet ReadNet(const std::string& dir) {
  auto n = models::native::ReadMlpNet(dir + "/net.json");
  EXPECT_TRUE(n.ok()) << dir << ": " << n.status().ToString();
  return n.ok() ? *n : models::native::MlpNet{};
}

class TorchDistributedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HasTrainer("torch")) GTEST_SKIP() << "built without LibTorch";
    dir_ = testing::TempDir("ddp_" + std::string(::testing::UnitTest::GetInstance()
                                                     ->current_test_info()
                                                     ->name()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(TorchDistributedTest, NRanksWithGlobalBatchBTrainTheNetOfOneProcessWithBatchB) {
  for (const std::string scenario : {"mse", "poisson"}) {
    SCOPED_TRACE(scenario);
    Scenario s = MakeScenario(scenario);
    auto single = Train("torch", s.train, &s.valid, s.options, dir_ + "/single_" + scenario);
    ASSERT_TRUE(single.ok()) << single.status().ToString();
    const models::native::MlpNet one = ReadNet(dir_ + "/single_" + scenario);
    for (int world : {2, 3}) {
      SCOPED_TRACE(world);
      const std::string out = dir_ + "/" + scenario + std::to_string(world);
      const Launch l = RunRanks(scenario, world, out);
      ASSERT_EQ(l.exit_code, 0) << Status(out, 0);
      const std::string st = Status(out, 0);
      ASSERT_EQ(st.rfind("OK ", 0), 0u) << st;
      EXPECT_NE(st.find(std::to_string(world) + " ranks"), std::string::npos) << st;
      const double valid_loss = std::atof(st.c_str() + 3);
      EXPECT_NEAR(valid_loss, single->best_valid_metric[0],
                  1e-4 * std::max(1.0, std::abs(valid_loss)));
      const models::native::MlpNet net0 = ReadNet(out + "/rank0");
      EXPECT_LT(MaxWeightDifference(net0, one), 2e-4) << "N ranks vs one process";
      for (int r = 1; r < world; ++r) {
        EXPECT_EQ(MaxWeightDifference(ReadNet(out + "/rank" + std::to_string(r)), net0), 0.0)
            << "every rank holds the same net";
      }
    }
    // And the difference is real: another global batch gives another net.
    Scenario other = s;
    other.options.params["batch_size"] = "32";
    ASSERT_TRUE(Train("torch", other.train, &other.valid, other.options, dir_ + "/b32").ok());
    EXPECT_GT(MaxWeightDifference(ReadNet(dir_ + "/b32"), one), 1e-3);
  }
  EXPECT_EQ(testing::ChildProcesses(), 0);
}

TEST_F(TorchDistributedTest, AKilledRankStopsTheOthersWithinTheTimeoutNamingIt) {
  const std::string out = dir_ + "/killed";
  const Launch l = RunRanks("mse", 2, out,
                            {{"BIMRIDE_FAULT", "1:7:kill"}, {"BIMRIDE_DDP_TIMEOUT", "5"}});
  EXPECT_NE(l.exit_code, 0);
  const std::string st = Status(out, 0);
  EXPECT_NE(st.find("rank 1 "), std::string::npos) << st;
  EXPECT_NE(st.find("stopped"), std::string::npos) << st;
  EXPECT_LT(l.seconds, 5 + 10) << "timeout 5 s";
  EXPECT_EQ(testing::ChildProcesses(), 0) << "no orphaned rank";
}

TEST_F(TorchDistributedTest, AHungRankStopsTheOthersWithinTheTimeoutNamingIt) {
  const std::string out = dir_ + "/hung";
  const auto start = std::chrono::steady_clock::now();
  const Launch l = RunRanks("mse", 2, out,
                            {{"BIMRIDE_FAULT", "1:7:hang"}, {"BIMRIDE_DDP_TIMEOUT", "4"}},
                            /*grace_seconds=*/1);
  EXPECT_NE(l.exit_code, 0);
  const std::string st = Status(out, 0);
  EXPECT_NE(st.find("rank 1 is hung"), std::string::npos) << st;
  EXPECT_NE(st.find("started only 6 steps"), std::string::npos) << st;
  // Timeout 4 s + 1 s watching heartbeats + 1 s grace before the launcher ends the hung rank.
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
            4 + 10);
  EXPECT_EQ(testing::ChildProcesses(), 0) << "the hung rank was ended by the launcher";
}

TEST_F(TorchDistributedTest, ResumeFromRankZerosCheckpointReachesTheUninterruptedNet) {
  const std::string whole = dir_ + "/whole", broken = dir_ + "/broken", ck = dir_ + "/ck";
  ASSERT_EQ(RunRanks("mse", 2, whole).exit_code, 0) << Status(whole, 0);
  // 1203 rows / 64 = 19 steps an epoch; die in epoch 2, after the checkpoint of step 25.
  Launch l = RunRanks("mse", 2, broken,
                      {{"BIMRIDE_FAULT", "1:30:exit"}, {"BIMRIDE_DDP_CHECKPOINTS", ck},
                       {"BIMRIDE_DDP_EVERY", "5"}, {"BIMRIDE_DDP_TIMEOUT", "5"}});
  ASSERT_NE(l.exit_code, 0);
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(ck)) {
    ++files;
    EXPECT_EQ(e.path().extension(), ".pt") << "only the renamed checkpoint, no temporary";
  }
  EXPECT_EQ(files, 1u);
  l = RunRanks("mse", 2, broken, {{"BIMRIDE_DDP_CHECKPOINTS", ck}, {"BIMRIDE_DDP_EVERY", "5"}});
  ASSERT_EQ(l.exit_code, 0) << Status(broken, 0);
  EXPECT_NE(Status(broken, 0).find("resumed at step 25"), std::string::npos) << Status(broken, 0);
  EXPECT_LT(MaxWeightDifference(ReadNet(broken + "/rank0"), ReadNet(whole + "/rank0")), 1e-6);
  EXPECT_EQ(std::atof(Status(broken, 0).c_str() + 3), std::atof(Status(whole, 0).c_str() + 3));

  // A checkpoint of another run (other data and options, same folder) is refused.
  l = RunRanks("poisson", 2, broken, {{"BIMRIDE_DDP_CHECKPOINTS", ck}});
  EXPECT_NE(l.exit_code, 0);
  EXPECT_NE(Status(broken, 0).find("belongs to another run"), std::string::npos)
      << Status(broken, 0);
}

TEST(TorchDistributedEnvTest, TorchrunEnvironmentIsReadAndCheckedNamingTheVariable) {
  for (const char* k : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"}) {
    ::unsetenv(k);
  }
  auto none = DistributedFromEnv();
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->world_size, 1);
  ::setenv("RANK", "1", 1);
  ::setenv("WORLD_SIZE", "2", 1);
  ::setenv("MASTER_ADDR", "10.0.0.1", 1);
  EXPECT_NE(DistributedFromEnv().status().message().find("MASTER_PORT is not set"),
            std::string::npos);
  ::setenv("MASTER_PORT", "70000", 1);
  EXPECT_NE(DistributedFromEnv().status().message().find("MASTER_PORT='70000'"),
            std::string::npos);
  ::setenv("MASTER_PORT", "29501", 1);
  ::setenv("RANK", "2", 1);
  EXPECT_NE(DistributedFromEnv().status().message().find("RANK='2'"), std::string::npos);
  ::setenv("RANK", "1", 1);
  ::setenv("LOCAL_RANK", "1", 1);
  auto d = DistributedFromEnv(7);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->rank, 1);
  EXPECT_EQ(d->world_size, 2);
  EXPECT_EQ(d->master_addr, "10.0.0.1");
  EXPECT_EQ(d->master_port, 29501);
  EXPECT_EQ(d->timeout_seconds, 7);
  for (const char* k : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"}) {
    ::unsetenv(k);
  }
  // The trainers refuse a rank outside the world.
  TrainerOptions o;
  o.distributed.world_size = 2;
  o.distributed.rank = 2;
  const models::TabularData t = testing::Linear(50, 1, 1);
  EXPECT_NE(Train("torch", t, nullptr, o, testing::TempDir("badrank")).status().message().find(
                "rank 2 of world size 2"),
            std::string::npos);
}

}  // namespace
}  // namespace bimride::train
