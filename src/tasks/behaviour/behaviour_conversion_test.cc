#include "tasks/behaviour/behaviour_conversion.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "tasks/behaviour/behaviour_test_util.h"
#include "train/trainer.h"

namespace bimride::tasks::behaviour {
namespace {

TEST(BehaviourConversionTest, LearnedModelBeatsTheBaselinesOnLaterDays) {
  if (!train::HasTrainer("xgboost")) GTEST_SKIP() << "no xgboost trainer in this build";
  const simulator::SimulatedCity city = SmallTestCity(12, 0.2);
  ConversionOptions o;
  o.learned = {"xgboost"};
  o.xgboost_params["rounds"] = "30";
  o.xgboost_params["eta"] = "0.3";
  o.threads = 1;
  o.train_days = 8;
  o.valid_days = 2;
  o.work_dir = ::testing::TempDir() + "/behaviour_conversion_test";
  std::filesystem::remove_all(o.work_dir);
  StatusOr<ConversionResult> r = TrainConversionModels(city, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->scores.size(), 3u);
  EXPECT_EQ(r->scores[0].model, "base_rate");
  EXPECT_EQ(r->scores[1].model, "logistic_price");
  EXPECT_EQ(r->test_days, 4);
  const ClassifierMetrics& base = r->scores[0].test;
  const ClassifierMetrics& price = r->scores[1].test;
  const ClassifierMetrics& xgb = r->scores[2].test;
  EXPECT_NEAR(base.auc, 0.5, 1e-9);  // a constant ranks nothing
  EXPECT_GT(price.auc, 0.55);        // price alone says something
  EXPECT_GT(xgb.auc, price.auc);
  EXPECT_LT(xgb.log_loss, price.log_loss);
  EXPECT_LT(price.log_loss, base.log_loss);
  EXPECT_LT(xgb.ece, 0.03);
  // The slope on ln(price ratio) is negative: dearer quotes convert less.
  EXPECT_LT(r->logistic_price_coef[1], 0);
}

TEST(BehaviourConversionTest, ASplitWithoutTestDaysIsRefused) {
  const simulator::SimulatedCity city = SmallTestCity(7, 0.0);
  ConversionOptions o;
  o.train_days = 7;
  o.valid_days = 2;
  StatusOr<ConversionResult> r = TrainConversionModels(city, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("7 days"), std::string::npos) << r.status().ToString();
}

TEST(BehaviourConversionTest, AnUnknownTrainerIsNamed) {
  const simulator::SimulatedCity city = SmallTestCity(7, 0.0);
  ConversionOptions o;
  o.learned = {"no_such_trainer"};
  o.train_days = 5;
  o.valid_days = 1;
  o.work_dir = ::testing::TempDir() + "/behaviour_conversion_unknown";
  StatusOr<ConversionResult> r = TrainConversionModels(city, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no_such_trainer"), std::string::npos);
}

}  // namespace
}  // namespace bimride::tasks::behaviour
