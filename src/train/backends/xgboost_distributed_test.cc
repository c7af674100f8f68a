// Distributed "xgboost" through XGBoost's own collective (rabit) and tracker (python3-xgboost's
// RabitTracker, started by rank 0): 2 and 3 ranks, each with its shard of the rows, grow the
// same trees as one process with tree_method hist on all the rows (features with fewer distinct
// values than max_bin, so the merged quantile sketch has the single-node cuts), and their
// validation metric is the single-node one. A worker killed (or hung) mid-training ends the job
// within the timeout, the launcher naming it and how far it got, with no process left behind.
// Ranks are this program re-run (--gtest_filter=XgboostDistributedWorker.Run) by
// train::RunLocalRanks.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "common/file.h"
#include "train/distributed.h"
#include "train/trainer.h"
#include "train/trainer_test_util.h"

namespace bimride::train {
namespace {

// y = 2a − b + id effect + noise; a, b on a 0.1 grid (≤ 61 distinct values), id 0..4.
models::TabularData Data(int64_t rows, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> x(0, 1), noise(0, 0.1f);
  models::TabularData d;
  d.rows = rows;
  d.num_features = 3;
  d.num_outputs = 1;
  for (int64_t r = 0; r < rows; ++r) {
    const float a = std::round(std::clamp(x(rng), -3.0f, 3.0f) * 10) / 10;
    const float b = std::round(std::clamp(x(rng), -3.0f, 3.0f) * 10) / 10;
    const float id = static_cast<float>(r % 5);
    d.features.insert(d.features.end(), {a, b, id});
    d.targets.push_back(2 * a - b + 0.3f * id + noise(rng));
  }
  return d;
}

TrainerOptions Options() {
  TrainerOptions o;
  o.params = {{"rounds", "25"}, {"max_depth", "4"}, {"eta", "0.3"}, {"tree_method", "hist"}};
  return o;
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

TEST(XgboostDistributedWorker, Run) {
  if (Env("BIMRIDE_XGB_OUT").empty()) GTEST_SKIP() << "a rank started by the tests below";
  const std::string timeout = Env("BIMRIDE_XGB_TIMEOUT");
  auto d = DistributedFromEnv(timeout.empty() ? 30 : std::atof(timeout.c_str()));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  TrainerOptions o = Options();
  o.distributed = *d;
  if (!Env("BIMRIDE_XGB_CHECKPOINTS").empty()) {
    o.checkpoint_dir = Env("BIMRIDE_XGB_CHECKPOINTS");
    o.checkpoint_every_steps = 5;
  }
  const models::TabularData train = Data(2001, 1), valid = Data(500, 2);
  auto m = Train("xgboost", train, &valid, o, Env("BIMRIDE_XGB_OUT") + "/rank" +
                                                   std::to_string(d->rank));
  if (!m.ok()) {  // what this rank says on its own (as under torchrun, with no launcher)
    ASSERT_TRUE(WriteFileAtomic(Env("BIMRIDE_XGB_OUT") + "/rank" + std::to_string(d->rank) +
                                    ".error",
                                m.status().ToString())
                    .ok());
  }
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_TRUE(WriteFileAtomic(Env("BIMRIDE_XGB_OUT") + "/rank" + std::to_string(d->rank) +
                                  ".metric",
                              std::to_string(m->best_valid_metric[0]))
                  .ok());
  ASSERT_TRUE(WriteFileAtomic(Env("BIMRIDE_XGB_OUT") + "/rank" + std::to_string(d->rank) +
                                  ".summary",
                              m->summary)
                  .ok());
}

// The trees of an XGBoost JSON model: per tree, its split features, thresholds and leaf values.
struct Trees {
  std::vector<std::vector<int>> features;
  std::vector<std::vector<double>> conditions;
};
Trees ReadTrees(const std::string& path) {
  Trees t;
  auto text = ReadFile(path);
  EXPECT_TRUE(text.ok()) << path;
  if (!text.ok()) return t;
  const auto j = nlohmann::json::parse(*text);
  for (const auto& tree : j["learner"]["gradient_booster"]["model"]["trees"]) {
    t.features.push_back(tree["split_indices"].get<std::vector<int>>());
    t.conditions.push_back(tree["split_conditions"].get<std::vector<double>>());
  }
  return t;
}

TEST(XgboostDistributedTest, RanksWithShardsGrowTheTreesOfOneProcessWithHist) {
  if (!HasTrainer("xgboost")) GTEST_SKIP() << "built without XGBoost";
  if (!std::filesystem::exists("/usr/bin/python3")) GTEST_SKIP() << "no python3 (the tracker)";
  const std::string dir = testing::TempDir("xgb_dist");
  const models::TabularData train = Data(2001, 1), valid = Data(500, 2);
  auto single = Train("xgboost", train, &valid, Options(), dir + "/single");
  ASSERT_TRUE(single.ok()) << single.status().ToString();
  const Trees one = ReadTrees(dir + "/single/model.json");
  ASSERT_EQ(one.features.size(), 25u);
  for (int world : {2, 3}) {
    SCOPED_TRACE(world);
    const std::string out = dir + "/w" + std::to_string(world);
    ::setenv("BIMRIDE_XGB_OUT", out.c_str(), 1);
    LocalLaunchOptions lo;
    lo.nproc = world;
    lo.grace_seconds = 10;
    ASSERT_EQ(RunLocalRanks({"/proc/self/exe", "--gtest_filter=XgboostDistributedWorker.Run"}, lo),
              0);
    ::unsetenv("BIMRIDE_XGB_OUT");
    for (int r = 0; r < world; ++r) {
      const Trees many = ReadTrees(out + "/rank" + std::to_string(r) + "/model.json");
      ASSERT_EQ(many.features.size(), one.features.size());
      for (size_t k = 0; k < one.features.size(); ++k) {
        EXPECT_EQ(many.features[k], one.features[k]) << "tree " << k << " rank " << r;
        ASSERT_EQ(many.conditions[k].size(), one.conditions[k].size()) << "tree " << k;
        for (size_t n = 0; n < one.conditions[k].size(); ++n) {
          // Split thresholds exactly; leaf values (also stored here) to float rounding.
          EXPECT_NEAR(many.conditions[k][n], one.conditions[k][n], 1e-5)
              << "tree " << k << " node " << n << " rank " << r;
        }
      }
      auto metric = ReadFile(out + "/rank" + std::to_string(r) + ".metric");
      ASSERT_TRUE(metric.ok());
      EXPECT_NEAR(std::atof(metric->c_str()), single->best_valid_metric[0], 1e-5);
    }
  }
  std::filesystem::remove_all(dir);
}

void ExpectSameTrees(const Trees& a, const Trees& b, const std::string& what) {
  ASSERT_EQ(a.features.size(), b.features.size()) << what;
  for (size_t k = 0; k < a.features.size(); ++k) {
    EXPECT_EQ(a.features[k], b.features[k]) << what << " tree " << k;
    ASSERT_EQ(a.conditions[k].size(), b.conditions[k].size()) << what << " tree " << k;
    for (size_t n = 0; n < a.conditions[k].size(); ++n) {
      EXPECT_NEAR(a.conditions[k][n], b.conditions[k][n], 1e-5) << what << " tree " << k;
    }
  }
}

TEST(XgboostDistributedTest, ResumeFromRankZerosCheckpointGrowsTheTreesOfAnUninterruptedRun) {
  if (!HasTrainer("xgboost")) GTEST_SKIP() << "built without XGBoost";
  if (!std::filesystem::exists("/usr/bin/python3")) GTEST_SKIP() << "no python3 (the tracker)";
  const std::string dir = testing::TempDir("xgb_resume"), ck = dir + "/ck";
  const models::TabularData train = Data(2001, 1), valid = Data(500, 2);
  auto single = Train("xgboost", train, &valid, Options(), dir + "/single");
  ASSERT_TRUE(single.ok()) << single.status().ToString();
  const Trees one = ReadTrees(dir + "/single/model.json");
  LocalLaunchOptions lo;
  lo.nproc = 2;
  lo.grace_seconds = 3;
  const std::vector<std::string> worker = {"/proc/self/exe",
                                           "--gtest_filter=XgboostDistributedWorker.Run"};
  // Rank 1 dies after round 12 of 25; rank 0 wrote checkpoints at rounds 5 and 10.
  ::setenv("BIMRIDE_XGB_OUT", (dir + "/broken").c_str(), 1);
  ::setenv("BIMRIDE_XGB_CHECKPOINTS", ck.c_str(), 1);
  ::setenv("BIMRIDE_FAULT", "1:12:exit", 1);
  ASSERT_NE(RunLocalRanks(worker, lo), 0);
  ::unsetenv("BIMRIDE_FAULT");
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(ck)) {
    ++files;
    EXPECT_EQ(e.path().filename(), "xgboost_fit_output_0.json") << "only the renamed checkpoint";
  }
  EXPECT_EQ(files, 1u);
  auto at10 = ReadFile(ck + "/xgboost_fit_output_0.json");
  ASSERT_TRUE(at10.ok());
  // The same job again: it resumes at round 10 and ends with the uninterrupted run's trees.
  ASSERT_EQ(RunLocalRanks(worker, lo), 0);
  for (int r = 0; r < 2; ++r) {
    auto summary = ReadFile(dir + "/broken/rank" + std::to_string(r) + ".summary");
    ASSERT_TRUE(summary.ok());
    EXPECT_NE(summary->find("resumed at round 10"), std::string::npos) << *summary;
    ExpectSameTrees(ReadTrees(dir + "/broken/rank" + std::to_string(r) + "/model.json"), one,
                    "resumed rank " + std::to_string(r));
  }
  ::unsetenv("BIMRIDE_XGB_OUT");
  ::unsetenv("BIMRIDE_XGB_CHECKPOINTS");
  // One process resumes the 2-rank job's round-10 checkpoint too (the same rows in all).
  TrainerOptions o = Options();
  o.checkpoint_dir = ck;
  o.checkpoint_every_steps = 5;
  ASSERT_TRUE(WriteFileAtomic(ck + "/xgboost_fit_output_0.json", *at10).ok());
  auto alone = Train("xgboost", train, &valid, o, dir + "/alone");
  ASSERT_TRUE(alone.ok()) << alone.status().ToString();
  EXPECT_NE(alone->summary.find("resumed at round 10"), std::string::npos) << alone->summary;
  ExpectSameTrees(ReadTrees(dir + "/alone/model.json"), one, "one process from the checkpoint");
  // A checkpoint of another run (other parameters, same folder) is refused.
  o.params["max_depth"] = "3";
  auto other = Train("xgboost", train, &valid, o, dir + "/other");
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("belongs to another run"), std::string::npos)
      << other.status().ToString();
  std::filesystem::remove_all(dir);
}

struct Launch {
  int exit_code = 0;
  LaunchFailure failure;
  double seconds = 0;
};

// 2 ranks with BIMRIDE_FAULT=`fault` and a 4 s collective timeout.
Launch RunFaultyRanks(const std::string& out, const std::string& fault) {
  ::setenv("BIMRIDE_XGB_OUT", out.c_str(), 1);
  ::setenv("BIMRIDE_XGB_TIMEOUT", "4", 1);
  ::setenv("BIMRIDE_FAULT", fault.c_str(), 1);
  LocalLaunchOptions lo;
  lo.nproc = 2;
  lo.grace_seconds = 3;  // as `--nproc` with --dist-timeout >= 3
  Launch l;
  const auto start = std::chrono::steady_clock::now();
  l.exit_code = RunLocalRanks({"/proc/self/exe", "--gtest_filter=XgboostDistributedWorker.Run"},
                              lo, &l.failure);
  l.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const char* k : {"BIMRIDE_XGB_OUT", "BIMRIDE_XGB_TIMEOUT", "BIMRIDE_FAULT"}) ::unsetenv(k);
  return l;
}

TEST(XgboostDistributedTest, AKilledWorkerIsNamedAndTheJobEndsWithinTheTimeout) {
  if (!HasTrainer("xgboost")) GTEST_SKIP() << "built without XGBoost";
  if (!std::filesystem::exists("/usr/bin/python3")) GTEST_SKIP() << "no python3 (the tracker)";
  const std::string dir = testing::TempDir("xgb_killed");
  // Rank 1 SIGKILLs itself when round 10 (of 25) is done, before reporting it.
  const Launch l = RunFaultyRanks(dir, "1:10:kill");
  EXPECT_NE(l.exit_code, 0);
  EXPECT_EQ(l.failure.rank, 1) << l.failure.what;
  EXPECT_NE(l.failure.what.find("killed by signal 9"), std::string::npos) << l.failure.what;
  EXPECT_NE(l.failure.what.find("last progress: step 9,"), std::string::npos) << l.failure.what;
  // Rank 0 fails at its next collective (a closed connection), well within the 4 s timeout.
  EXPECT_LT(l.failure.stop_seconds, 4) << "timeout 4 s";
  EXPECT_FALSE(std::filesystem::exists(dir + "/rank0.metric")) << "rank 0 did not finish";
  // Rank 0 names the dead rank itself, from the job's heartbeats (no launcher needed: torchrun,
  // several machines).
  const auto said = ReadFile(dir + "/rank0.error");
  ASSERT_TRUE(said.ok()) << "rank 0 wrote no error";
  EXPECT_NE(said->find("rank 1 (last heartbeat at step 9) stopped: no heartbeat for 1 s"),
            std::string::npos)
      << *said;
  EXPECT_EQ(testing::ChildProcesses(), 0) << "no orphaned rank";
  std::filesystem::remove_all(dir);
}

TEST(XgboostDistributedTest, AHungWorkerIsNamedAndEndedByTheLauncher) {
  if (!HasTrainer("xgboost")) GTEST_SKIP() << "built without XGBoost";
  if (!std::filesystem::exists("/usr/bin/python3")) GTEST_SKIP() << "no python3 (the tracker)";
  const std::string dir = testing::TempDir("xgb_hung");
  const Launch l = RunFaultyRanks(dir, "1:10:hang");
  EXPECT_NE(l.exit_code, 0);
  EXPECT_EQ(l.failure.rank, 1) << l.failure.what;
  EXPECT_NE(l.failure.what.find("is hung"), std::string::npos) << l.failure.what;
  EXPECT_NE(l.failure.what.find("last progress: step 9,"), std::string::npos) << l.failure.what;
  // Rank 0's collective times out after 4 s; the launcher gives rank 1 3 s more, then SIGTERM.
  EXPECT_LT(l.failure.stop_seconds, 3 + 2 + 1) << "grace 3 s, SIGKILL 2 s after SIGTERM";
  EXPECT_LT(l.seconds, 30) << "startup + timeout 4 s + grace 3 s";
  const auto said = ReadFile(dir + "/rank0.error");
  ASSERT_TRUE(said.ok()) << "rank 0 wrote no error";
  EXPECT_NE(said->find("rank 1 is hung: alive, but has started only 9 steps while rank 0 "
                       "waited 4 s in step 10"),
            std::string::npos)
      << *said;
  EXPECT_EQ(testing::ChildProcesses(), 0) << "the hung rank was ended by the launcher";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace bimride::train
