#include "models/torch/tabular_net.h"

#include <gtest/gtest.h>

#include <cmath>

#include "models/model_test_util.h"
#include "models/native/native_mlp_model.h"
#include "models/torch/torchscript_model.h"

namespace bimride::models::torch_backend {
namespace {

using testing::ExpectClose;
using testing::MakeSyntheticData;

TabularNetOptions SmallOptions() {
  TabularNetOptions o;
  o.categorical = {{0, 10, 4}, {1, 24, 3}};
  o.hidden_sizes = {16, 8};
  o.batch_size = 64;
  o.epochs = 8;
  o.learning_rate = 1e-2;
  o.seed = 7;
  return o;
}

double MeanSquaredError(const std::vector<float>& pred, const std::vector<float>& y) {
  double s = 0;
  for (size_t i = 0; i < y.size(); ++i) s += (pred[i] - y[i]) * (pred[i] - y[i]);
  return s / y.size();
}

TEST(TabularNetTest, LearnsSyntheticTargetFarBetterThanTheMean) {
  TabularData train = MakeSyntheticData(3000, 2, 1), valid = MakeSyntheticData(800, 2, 2);
  std::vector<TrainingProgress> epochs;
  StatusOr<TrainedTabularNet> trained = TrainTabularNet(
      train, &valid, SmallOptions(), [&](const TrainingProgress& p) { epochs.push_back(p); });
  ASSERT_TRUE(trained.ok()) << trained.status().ToString();
  ASSERT_FALSE(epochs.empty());
  EXPECT_EQ(epochs[0].epoch, 1);
  EXPECT_GT(epochs[0].rows_per_second, 0);
  EXPECT_LT(epochs.back().train_loss, epochs.front().train_loss);
  EXPECT_EQ(trained->report.num_threads, 1);
  EXPECT_EQ(trained->net.num_outputs(), 2);

  auto model = native::MakeNativeMlpModel(trained->net);
  ASSERT_TRUE(model.ok());
  auto pred = (*model)->Predict(valid.features);
  ASSERT_TRUE(pred.ok());
  double mean = 0;
  for (float y : valid.targets) mean += y;
  mean /= valid.targets.size();
  std::vector<float> baseline(valid.targets.size(), static_cast<float>(mean));
  double mse = MeanSquaredError(*pred, valid.targets);
  EXPECT_LT(mse, 0.1 * MeanSquaredError(baseline, valid.targets));
  // The kept weights are the best epoch's: their validation loss is the reported one.
  EXPECT_NEAR(mse, trained->report.best_valid_loss, 1e-4 * std::max(1.0, mse));
}

TEST(TabularNetTest, SameSeedGivesIdenticalWeights) {
  TabularData train = MakeSyntheticData(1000, 1, 3);
  TabularNetOptions o = SmallOptions();
  o.epochs = 2;
  o.dropout = 0.2;
  auto a = TrainTabularNet(train, nullptr, o), b = TrainTabularNet(train, nullptr, o);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->net.layers[0].weight, b->net.layers[0].weight);
  EXPECT_EQ(a->net.embeddings[1], b->net.embeddings[1]);
  o.seed = 8;
  auto c = TrainTabularNet(train, nullptr, o);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(a->net.layers[0].weight, c->net.layers[0].weight);
}

TEST(TabularNetTest, EarlyStoppingKeepsTheBestEpoch) {
  TabularData train = MakeSyntheticData(400, 1, 4), valid = MakeSyntheticData(200, 1, 5);
  TabularNetOptions o = SmallOptions();
  o.learning_rate = 0.3;  // unstable on purpose: validation loss stops improving
  o.epochs = 40;
  o.patience = 1;
  std::vector<TrainingProgress> epochs;
  auto trained =
      TrainTabularNet(train, &valid, o, [&](const TrainingProgress& p) { epochs.push_back(p); });
  ASSERT_TRUE(trained.ok()) << trained.status().ToString();
  const TabularTrainingReport& r = trained->report;
  EXPECT_TRUE(r.stopped_early);
  EXPECT_LT(r.epochs_run, 40);
  EXPECT_EQ(r.epochs_run, static_cast<int>(epochs.size()));
  EXPECT_LT(r.best_epoch, r.epochs_run);
  double best = epochs[0].valid_metric;
  for (const TrainingProgress& p : epochs) best = std::min(best, p.valid_metric);
  EXPECT_DOUBLE_EQ(r.best_valid_loss, best);
  auto model = native::MakeNativeMlpModel(trained->net);
  ASSERT_TRUE(model.ok());
  auto pred = (*model)->Predict(valid.features);
  ASSERT_TRUE(pred.ok());
  EXPECT_NEAR(MeanSquaredError(*pred, valid.targets), best, 1e-4 * std::max(1.0, best));
}

TEST(TabularNetTest, PoissonLossPredictsPositiveRates) {
  TabularData train = MakeSyntheticData(2000, 3, 6, /*counts=*/true);
  TabularNetOptions o = SmallOptions();
  o.loss = TabularLoss::kPoisson;
  o.epochs = 3;
  auto trained = TrainTabularNet(train, nullptr, o);
  ASSERT_TRUE(trained.ok()) << trained.status().ToString();
  EXPECT_EQ(trained->net.output_transform, native::OutputTransform::kExp);
  auto model = native::MakeNativeMlpModel(trained->net);
  auto pred = (*model)->Predict(train.features);
  ASSERT_TRUE(pred.ok());
  double mean_pred = 0, mean_y = 0;
  for (size_t i = 0; i < pred->size(); ++i) {
    ASSERT_GT((*pred)[i], 0.0f);
    mean_pred += (*pred)[i];
    mean_y += train.targets[i];
  }
  EXPECT_NEAR(mean_pred / mean_y, 1.0, 0.15);
}

TEST(TabularNetTest, HuberLossTrains) {
  TabularData train = MakeSyntheticData(1000, 1, 9);
  TabularNetOptions o = SmallOptions();
  o.loss = TabularLoss::kHuber;
  o.epochs = 3;
  std::vector<double> losses;
  auto trained = TrainTabularNet(
      train, nullptr, o, [&](const TrainingProgress& p) { losses.push_back(p.train_loss); });
  ASSERT_TRUE(trained.ok()) << trained.status().ToString();
  EXPECT_LT(losses.back(), losses.front());
}

TEST(TabularNetTest, RejectsBadInputsNamingRowAndColumn) {
  TabularData train = MakeSyntheticData(100, 1, 10);
  train.features[5 * 4 + 0] = 10;  // zone id 10 with cardinality 10
  auto r = TrainTabularNet(train, nullptr, SmallOptions());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("row 5"), std::string::npos) << r.status().message();

  train = MakeSyntheticData(100, 1, 10);
  train.features[7 * 4 + 3] = NAN;
  r = TrainTabularNet(train, nullptr, SmallOptions());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("row 7: numeric column 3"), std::string::npos);

  train = MakeSyntheticData(100, 1, 10);
  TabularNetOptions o = SmallOptions();
  o.loss = TabularLoss::kPoisson;
  train.targets[3] = -1;
  EXPECT_EQ(TrainTabularNet(train, nullptr, o).status().code(), StatusCode::kInvalidArgument);

  train = MakeSyntheticData(100, 1, 10);
  train.targets.pop_back();
  EXPECT_EQ(TrainTabularNet(train, nullptr, SmallOptions()).status().code(),
            StatusCode::kInvalidArgument);
  o = SmallOptions();
  o.categorical.push_back({0, 5, 2});
  EXPECT_EQ(TrainTabularNet(MakeSyntheticData(100, 1, 10), nullptr, o).status().code(),
            StatusCode::kInvalidArgument);
}

// The exported TorchScript (run by LibTorch) and native_mlp compute the same function on random
// inputs, including out-of-range and NaN ids (python_peer_test checks Python's torch.jit.load).
TEST(TabularNetTest, ExportedNetGivesSameOutputsInTorchScriptAndNative) {
  TabularNetOptions o = SmallOptions();
  o.epochs = 1;
  o.loss = TabularLoss::kPoisson;
  auto trained = TrainTabularNet(MakeSyntheticData(500, 2, 11, true), nullptr, o);
  ASSERT_TRUE(trained.ok());
  std::string dir = testing::MakeTempDir("export");
  ASSERT_TRUE(ExportTabularNet(trained->net, dir).ok());

  std::vector<float> x = testing::RandomInputs(300, 4, 12, /*with_nan=*/false);
  x[0] = NAN;  // NaN id → 0
  auto script = LoadTorchScriptModel(dir + "/model.pt", LoadOptions{});
  auto native = native::LoadNativeMlpModel(dir, LoadOptions{});
  ASSERT_TRUE(script.ok()) << script.status().ToString();
  ASSERT_TRUE(native.ok()) << native.status().ToString();
  EXPECT_EQ((*script)->num_features(), 4);
  EXPECT_EQ((*script)->num_outputs(), 2);
  auto from_script = (*script)->Predict(x);
  auto from_native = (*native)->Predict(x);
  ASSERT_TRUE(from_script.ok()) << from_script.status().ToString();
  ASSERT_TRUE(from_native.ok());
  ExpectClose(*from_native, *from_script, 1e-4, "native_mlp vs torchscript");
}

}  // namespace
}  // namespace bimride::models::torch_backend
