#include <gtest/gtest.h>

#include <cmath>

#include "models/model_test_util.h"
#include "models/native/tree_ensemble.h"
#include "models/xgboost/xgboost_model.h"
#include "models/xgboost/xgboost_trainer.h"

namespace bimride::models::xgboost_backend {
namespace {

using testing::ExpectClose;
using testing::MakeSyntheticData;

XgboostOptions SmallOptions() {
  XgboostOptions o;
  o.max_depth = 4;
  o.eta = 0.3;
  o.rounds = 30;
  o.seed = 3;
  return o;
}

double Rmse(const std::vector<float>& pred, const std::vector<float>& y) {
  double s = 0;
  for (size_t i = 0; i < y.size(); ++i) s += (pred[i] - y[i]) * (pred[i] - y[i]);
  return std::sqrt(s / y.size());
}

std::unique_ptr<Model> SaveAndLoad(const TrainedXgboost& trained, const std::string& backend_name,
                                   const std::string& path) {
  EXPECT_TRUE(SaveXgboostModel(trained, path).ok());
  StatusOr<std::unique_ptr<Model>> m = backend_name == "xgboost"
                                           ? LoadXgboostModel(path, LoadOptions{})
                                           : native::LoadNativeTreesModel(path, LoadOptions{});
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? std::move(m).value() : nullptr;
}

TEST(XgboostTest, TrainsMultiTargetModelThatBeatsTheMean) {
  TabularData train = MakeSyntheticData(3000, 2, 1), valid = MakeSyntheticData(800, 2, 2);
  std::vector<TrainingProgress> rounds;
  auto trained = TrainXgboost(train, &valid, SmallOptions(),
                              [&](const TrainingProgress& p) { rounds.push_back(p); });
  ASSERT_TRUE(trained.ok()) << trained.status().ToString();
  EXPECT_EQ(rounds.size(), 60u);  // 30 rounds for each of the 2 outputs
  EXPECT_EQ(rounds.back().output, 1);
  ASSERT_EQ(trained->num_outputs(), 2);
  EXPECT_EQ(trained->metric_name, "rmse");
  EXPECT_LT(rounds.back().train_loss, rounds.front().train_loss);
  std::string dir = testing::MakeTempDir("xgb");
  auto model = SaveAndLoad(*trained, "xgboost", dir + "/model.json");
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->num_features(), 4);
  EXPECT_EQ(model->num_outputs(), 2);
  auto pred = model->Predict(valid.features);
  ASSERT_TRUE(pred.ok()) << pred.status().ToString();
  double mean = 0;
  for (float y : valid.targets) mean += y;
  std::vector<float> baseline(valid.targets.size(),
                              static_cast<float>(mean / valid.targets.size()));
  EXPECT_LT(Rmse(*pred, valid.targets), 0.3 * Rmse(baseline, valid.targets));
  // Output 0's own validation RMSE is what its early stopping saw.
  std::vector<float> pred0, y0;
  for (size_t i = 0; i < pred->size(); i += 2) {
    pred0.push_back((*pred)[i]);
    y0.push_back(valid.targets[i]);
  }
  EXPECT_NEAR(Rmse(pred0, y0), trained->outputs[0].best_valid_metric, 1e-4);
}

TEST(XgboostTest, PerOutputModelLoadsFromItsFirstFileAsARegistryArtifact) {
  XgboostOptions o = SmallOptions();
  o.objective = "count:poisson";
  TabularData train = MakeSyntheticData(500, 2, 6, true);
  auto trained = TrainXgboost(train, nullptr, o);
  ASSERT_TRUE(trained.ok()) << trained.status().ToString();
  const std::string dir = testing::MakeTempDir("xgb_set") + "/model";
  auto from_folder = SaveAndLoad(*trained, "xgboost", dir);
  ASSERT_NE(from_folder, nullptr);
  auto from_file = LoadXgboostModel(dir + "/output_0.json", LoadOptions{});
  ASSERT_TRUE(from_file.ok()) << from_file.status().ToString();
  EXPECT_EQ((*from_file)->num_outputs(), 2);
  EXPECT_EQ(*(*from_file)->Predict(train.features), *from_folder->Predict(train.features));
}

TEST(XgboostTest, EarlyStoppingKeepsTheBestRound) {
  TabularData train = MakeSyntheticData(300, 1, 3), valid = MakeSyntheticData(300, 1, 4);
  XgboostOptions o = SmallOptions();
  o.max_depth = 8;
  o.eta = 0.9;  // overfits quickly: the validation metric turns up
  o.min_child_weight = 0;
  o.rounds = 200;
  o.early_stopping_rounds = 3;
  std::vector<TrainingProgress> rounds;
  auto trained =
      TrainXgboost(train, &valid, o, [&](const TrainingProgress& p) { rounds.push_back(p); });
  ASSERT_TRUE(trained.ok()) << trained.status().ToString();
  const TrainedXgboostOutput& out = trained->outputs[0];
  EXPECT_LT(out.rounds_run, 200);
  EXPECT_EQ(out.rounds_run, out.best_round + 3);
  double best = rounds[0].valid_metric;
  for (const TrainingProgress& p : rounds) best = std::min(best, p.valid_metric);
  EXPECT_DOUBLE_EQ(out.best_valid_metric, best);
  auto model = SaveAndLoad(*trained, "xgboost", testing::MakeTempDir("xgb") + "/m.json");
  ASSERT_NE(model, nullptr);
  auto pred = model->Predict(valid.features);
  ASSERT_TRUE(pred.ok()) << pred.status().ToString();
  EXPECT_NEAR(Rmse(*pred, valid.targets), best, 1e-4);
}

TEST(XgboostTest, SameSeedGivesTheSameModel) {
  TabularData train = MakeSyntheticData(500, 1, 5);
  XgboostOptions o = SmallOptions();
  o.subsample = 0.7;
  o.colsample_bytree = 0.7;
  o.rounds = 5;
  auto a = TrainXgboost(train, nullptr, o), b = TrainXgboost(train, nullptr, o);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->outputs[0].model_json, b->outputs[0].model_json);
  o.seed = 4;
  auto c = TrainXgboost(train, nullptr, o);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(a->outputs[0].model_json, c->outputs[0].model_json);
}

// native_trees matches XGBoost's own predictor for each objective, with missing values.
TEST(XgboostTest, NativeTreesMatchXgboostForEveryObjective) {
  for (std::string objective : {"reg:squarederror", "count:poisson", "reg:tweedie"}) {
    SCOPED_TRACE(objective);
    bool counts = objective != "reg:squarederror";
    TabularData train = MakeSyntheticData(1500, 3, 6, counts);
    // Missing values in training too, so default directions are learned, not all "right".
    for (size_t i = 2; i < train.features.size(); i += 7) train.features[i] = NAN;
    XgboostOptions o = SmallOptions();
    o.objective = objective;
    auto trained = TrainXgboost(train, nullptr, o);
    ASSERT_TRUE(trained.ok()) << trained.status().ToString();
    std::string path = testing::MakeTempDir("xgb") + "/model";  // a folder: 3 outputs
    auto xgb = SaveAndLoad(*trained, "xgboost", path);
    auto native = SaveAndLoad(*trained, "native_trees", path);
    ASSERT_TRUE(xgb && native);
    EXPECT_EQ(native->num_outputs(), 3);
    std::vector<float> x = testing::RandomInputs(2000, 4, 7, /*with_nan=*/true);
    auto a = xgb->Predict(x), b = native->Predict(x);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    ExpectClose(*b, *a, 1e-5, "native_trees vs xgboost");
    // Rows walk the trees side by side in groups of 8, the rest one by one: a row's outputs are
    // the same whichever way it went (1997 rows: the last 5 of them one by one).
    auto c = native->Predict(std::vector<float>(x.begin(), x.begin() + 1997 * 4));
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(*c, std::vector<float>(b->begin(), b->begin() + 1997 * 3));
  }
}

TEST(XgboostTest, BadParameterIsAStatusWithXgboostsMessage) {
  XgboostOptions o = SmallOptions();
  o.objective = "reg:no_such_objective";
  auto r = TrainXgboost(MakeSyntheticData(100, 1, 9), nullptr, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_NE(r.status().message().find("no_such_objective"), std::string::npos)
      << r.status().message();
  o = SmallOptions();
  o.rounds = 0;
  EXPECT_EQ(TrainXgboost(MakeSyntheticData(100, 1, 9), nullptr, o).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(XgboostTest, LoadOptionsShapeMismatchIsInvalidArgument) {
  auto trained = TrainXgboost(MakeSyntheticData(200, 1, 10), nullptr, SmallOptions());
  ASSERT_TRUE(trained.ok());
  std::string path = testing::MakeTempDir("xgb") + "/m.json";
  ASSERT_TRUE(SaveXgboostModel(*trained, path).ok());
  LoadOptions options;
  options.num_features = 7;
  EXPECT_EQ(LoadXgboostModel(path, options).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace bimride::models::xgboost_backend
