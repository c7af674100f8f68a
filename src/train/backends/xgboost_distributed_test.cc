// Distributed "xgboost" through XGBoost's own collective (rabit) and tracker (python3-xgboost's
// RabitTracker, started by rank 0): 2 and 3 ranks, each with its shard of the rows, grow the
// same trees as one process with tree_method hist on all the rows (features with fewer distinct
// values than max_bin, so the merged quantile sketch has the single-node cuts), and their
// validation metric is the single-node one. Ranks are this program re-run
// (--gtest_filter=XgboostDistributedWorker.Run) by train::RunLocalRanks.
#include <gtest/gtest.h>

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
  auto d = DistributedFromEnv(30);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  TrainerOptions o = Options();
  o.distributed = *d;
  const models::TabularData train = Data(2001, 1), valid = Data(500, 2);
  auto m = Train("xgboost", train, &valid, o, Env("BIMRIDE_XGB_OUT") + "/rank" +
                                                   std::to_string(d->rank));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_TRUE(WriteFileAtomic(Env("BIMRIDE_XGB_OUT") + "/rank" + std::to_string(d->rank) +
                                  ".metric",
                              std::to_string(m->best_valid_metric[0]))
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

}  // namespace
}  // namespace bimride::train
