#include "tasks/behaviour/behaviour_report.h"

#include <gtest/gtest.h>

namespace bimride::tasks::behaviour {
namespace {

ConversionScore Score(const std::string& model, double auc, double log_loss, double ece) {
  ConversionScore s;
  s.model = model;
  s.test.count = 1000;
  s.test.auc = auc;
  s.test.log_loss = log_loss;
  s.test.ece = ece;
  s.ece_uncertainty = {ece / 2, ece * 2, 0.009};
  return s;
}

SeedEvaluation RetentionSeed(uint64_t seed, double xgboost_ece, double torch_ece,
                             double calibrated_ece) {
  SeedEvaluation e;
  e.seed = seed;
  e.has_retention = true;
  e.retention.scores = {Score("base_rate", 0.5, 0.50, 0.004),
                        Score("logistic_recency", 0.53, 0.50, 0.005),
                        Score("xgboost", 0.64, 0.48, xgboost_ece),
                        Score("xgboost+isotonic", 0.64, 0.49, calibrated_ece),
                        Score("torch", 0.64, 0.48, torch_ece),
                        Score("torch+isotonic", 0.64, 0.49, 0.001)};
  return e;
}

TEST(BehaviourReportTest, RetentionCalibrationCheckIsTheWorstPublishedKindNotTheCalibrated) {
  std::vector<SeedEvaluation> evals;  // not copyable: the trained models
  evals.push_back(RetentionSeed(1, 0.012, 0.011, 0.035));
  evals.push_back(RetentionSeed(2, 0.009, 0.017, 0.002));
  const BehaviourChecks c = CheckBehaviour(evals);
  EXPECT_TRUE(c.retention_learned_beat_baselines);
  EXPECT_DOUBLE_EQ(c.worst_retention_ece, 0.017);
  EXPECT_EQ(c.worst_retention_model, "torch, seed 2");
  EXPECT_DOUBLE_EQ(c.worst_retention_uncertainty.ci_high, 0.034);
  EXPECT_DOUBLE_EQ(c.worst_calibrated_retention_ece, 0.035);
  EXPECT_EQ(c.worst_calibrated_retention_model, "xgboost+isotonic, seed 1");

  BehaviourEvalOptions o;
  const std::string md = RenderBehaviourReport(o, evals);
  EXPECT_NE(md.find("| 0.0170 ✔ (torch, seed 2; 95% bootstrap interval [0.0085, 0.0340]"),
            std::string::npos)
      << md;
}

TEST(BehaviourReportTest, RetentionCalibrationCheckFailsAboveTheThresholdOrWithoutAModel) {
  std::vector<SeedEvaluation> evals;
  evals.push_back(RetentionSeed(3, 0.025, 0.011, 0.01));
  BehaviourEvalOptions o;
  EXPECT_NE(RenderBehaviourReport(o, evals).find("| 0.0250 ✘ (xgboost, seed 3;"),
            std::string::npos);
  // A learned model that loses to a baseline on log-loss fails the other check.
  evals[0].retention.scores[4].test.log_loss = 0.51;
  EXPECT_FALSE(CheckBehaviour(evals).retention_learned_beat_baselines);
  // Only baselines: nothing measured, nothing passes.
  evals[0].retention.scores.resize(2);
  EXPECT_NE(RenderBehaviourReport(o, evals).find("no learned model ✘"), std::string::npos);
}

}  // namespace
}  // namespace bimride::tasks::behaviour
