// The "torch" trainer: an ensemble is one net, its files load in both backends, params checked
// up front. Skipped in a build without LibTorch.
#include <gtest/gtest.h>

#include <filesystem>

#include "train/trainer.h"
#include "train/trainer_test_util.h"

namespace bimride::train {
namespace {

using testing::Linear;
using testing::Rmse;
using testing::TempDir;

TEST(TorchTrainerTest, EnsembleIsOneNetAndTheFilesLoadInBothBackends) {
  if (!HasTrainer("torch")) GTEST_SKIP() << "built without LibTorch";
  const models::TabularData train = Linear(1500, 1, 6), valid = Linear(300, 1, 7);
  TrainerOptions o;
  o.categorical = {{2, 5, 2}};
  o.params = {
      {"hidden_sizes", "16"}, {"epochs", "8"}, {"ensemble", "2"}, {"learning_rate", "0.01"}};
  const std::string dir = TempDir("torch");
  auto m = Train("torch", train, &valid, o, dir);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->backend, "torchscript");
  EXPECT_EQ(m->best_iterations.size(), 2u) << "one per ensemble member";
  EXPECT_LT(Rmse(*m->model, valid), 1.0);
  auto mlp = models::LoadModel("native_mlp", dir + "/net.json");
  ASSERT_TRUE(mlp.ok()) << mlp.status().ToString();
  EXPECT_NEAR(Rmse(**mlp, valid), Rmse(*m->model, valid), 1e-4);
  TrainerOptions bad = o;
  bad.params["hidden_sizes"] = "12,x";
  EXPECT_NE(CheckTrainerOptions("torch", bad).message().find("'hidden_sizes': '12,x'"),
            std::string::npos);
  TrainerOptions refit = o;
  refit.fixed_iterations = {2};  // the ensemble has 2 members
  EXPECT_EQ(Train("torch", train, nullptr, refit, dir + "/bad").status().code(),
            StatusCode::kInvalidArgument);
  std::filesystem::remove_all(dir);
}


TEST(TorchTrainerTest, LogisticLossPredictsProbabilitiesInEveryBackend) {
  if (!HasTrainer("torch")) GTEST_SKIP() << "not built";
  const models::TabularData train = testing::Binary(3000, 8), valid = testing::Binary(1000, 9);
  TrainerOptions o;
  o.loss = Loss::kLogistic;
  o.params = {{"hidden_sizes", "16"}, {"epochs", "10"}, {"learning_rate", "0.01"}};
  const std::string dir = TempDir("torch_logistic");
  auto m = Train("torch", train, &valid, o, dir);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  // The true model's log-loss on these data is about 0.43; a constant 0.5 scores 0.69.
  const double ll = testing::LogLoss(*m->model, valid);
  EXPECT_LT(ll, 0.50);
  auto other = models::LoadModel("native_mlp", dir + "/net.json");
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_NEAR(testing::LogLoss(**other, valid), ll, 1e-4);
  TrainerOptions bad = o;
  models::TabularData not_binary = train;
  not_binary.targets[5] = 2.0f;
  if (std::string("torch") == "torch") {
    EXPECT_EQ(Train("torch", not_binary, nullptr, bad, dir + "/bad").status().code(),
              StatusCode::kInvalidArgument);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace bimride::train
