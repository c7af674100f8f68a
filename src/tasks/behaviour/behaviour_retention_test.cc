#include "tasks/behaviour/behaviour_retention.h"

#include <gtest/gtest.h>

#include "models/seed_ensemble.h"
#include "tasks/behaviour/behaviour_report.h"
#include "tasks/behaviour/behaviour_test_util.h"
#include "train/trainer.h"

namespace bimride::tasks::behaviour {
namespace {

RetentionOptions SmallOptions() {
  RetentionOptions o;
  o.horizon_days = 7;
  o.cutoff_step_days = 3;
  o.first_cutoff_day = 3;
  o.test_cutoffs = 1;
  o.learned = {};
  return o;
}

TEST(BehaviourRetentionTest, RowsAreActiveRidersLabelledByTheirStatusHorizonDaysLater) {
  const simulator::SimulatedCity city = SmallTestCity(21, 0.0);
  const RetentionOptions o = SmallOptions();
  StatusOr<RetentionRows> rows = BuildRetentionRows(city, o);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  // Cut-offs 3, 6, 9, 12 (12 + 7 = 19 <= 20).
  std::map<int32_t, int64_t> per_cutoff, retained;
  for (int64_t r = 0; r < rows->data.rows; ++r) {
    ++per_cutoff[rows->cutoff[r]];
    retained[rows->cutoff[r]] += rows->data.targets[r] > 0.5f ? 1 : 0;
  }
  ASSERT_EQ(per_cutoff.size(), 4u);
  EXPECT_EQ(per_cutoff.begin()->first, 3);
  EXPECT_EQ(per_cutoff.rbegin()->first, 12);
  for (const auto& [c, n] : per_cutoff) {
    int64_t active = 0, still = 0;
    for (const simulator::Rider& r : city.riders) {
      const bool on = r.signup_day < c && (r.churn_day < 0 || r.churn_day > c);
      active += on ? 1 : 0;
      still += on && (r.churn_day < 0 || r.churn_day > c + 7) ? 1 : 0;
    }
    EXPECT_EQ(n, active) << "cut-off " << c;
    EXPECT_EQ(retained[c], still) << "cut-off " << c;
    EXPECT_LT(still, active) << "some riders churn within a week";
  }
  // History stops at the cut-off: quotes at the first cut-off count only days 0..2.
  int64_t quotes_before = 0;
  const int64_t cutoff_us = city.days[3].day_start_us;
  for (const auto& q : city.quotes) quotes_before += q.request_time_us < cutoff_us ? 1 : 0;
  double counted = 0;
  for (int64_t r = 0; r < rows->data.rows; ++r) {
    if (rows->cutoff[r] == 3) counted += rows->data.feature(r, 0);
  }
  EXPECT_LE(counted, static_cast<double>(quotes_before));
  EXPECT_GT(counted, 0.9 * static_cast<double>(quotes_before));  // churned riders' quotes drop out
}

TEST(BehaviourRetentionTest, LearnedModelIsScoredOnLaterCutoffsThanItsLabels) {
  if (!train::HasTrainer("xgboost")) GTEST_SKIP() << "no xgboost trainer in this build";
  const simulator::SimulatedCity city = SmallTestCity(28, 0.0);
  RetentionOptions o = SmallOptions();
  o.learned = {"xgboost"};
  o.xgboost_params["rounds"] = "40";
  o.work_dir = ::testing::TempDir() + "/behaviour_retention_test";
  StatusOr<RetentionResult> r = TrainRetentionModels(city, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // Cut-offs 3, 6, …, 18 (18 + 7 <= 27): test 18, training 3, 6, 9 (labels by day 16).
  ASSERT_EQ(r->test_cutoffs, std::vector<int32_t>{18});
  EXPECT_EQ(r->train_cutoffs, (std::vector<int32_t>{3, 6, 9}));
  for (int32_t c : r->train_cutoffs) EXPECT_LE(c + o.horizon_days, 18);
  ASSERT_EQ(r->scores.size(), 4u);
  EXPECT_EQ(r->scores[1].model, "logistic_recency");
  EXPECT_EQ(r->scores[2].model, "xgboost");
  EXPECT_EQ(r->scores[3].model, "xgboost+isotonic");
  for (const ConversionScore& s : r->scores) {
    EXPECT_GT(s.test.count, 100);
    EXPECT_GT(s.test.base_rate, 0.5);
    // Every row has its ECE interval and noise floor.
    EXPECT_LE(s.ece_uncertainty.ci_low, s.ece_uncertainty.ci_high) << s.model;
    EXPECT_GT(s.ece_uncertainty.noise_floor, 0) << s.model;
  }
  // The calibrated model scores the same rows with other probabilities.
  EXPECT_EQ(r->scores[3].test.count, r->scores[2].test.count);
  EXPECT_NE(r->scores[3].test.log_loss, r->scores[2].test.log_loss);
}

TEST(BehaviourRetentionTest, SeedEnsembleIsTheMeanOfItsMembersAndOneMemberIsTheOldModel) {
  if (!train::HasTrainer("xgboost")) GTEST_SKIP() << "no xgboost trainer in this build";
  const simulator::SimulatedCity city = SmallTestCity(28, 0.0);
  RetentionOptions o = SmallOptions();
  o.learned = {"xgboost"};
  o.xgboost_params["rounds"] = "30";
  o.xgboost_params["subsample"] = "0.5";  // the training seed matters
  const std::string base = ::testing::TempDir() + "/behaviour_retention_ensemble_test";
  const auto train = [&](uint64_t seed, int members, const std::string& dir) {
    RetentionOptions x = o;
    x.seed = seed;
    x.seed_ensemble = {{"xgboost", members}};
    x.work_dir = base + "/" + dir;
    return TrainRetentionModels(city, x);
  };
  StatusOr<RetentionResult> one = train(42, 1, "one"), next = train(43, 1, "next"),
                            two = train(42, 2, "two");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  ASSERT_TRUE(next.ok() && two.ok()) << two.status().ToString();
  // K = 1 is the model as it always was: its own backend and files, no ensemble.
  EXPECT_EQ(one->learned[0].backend, "xgboost");
  ASSERT_EQ(two->learned[0].backend, models::kSeedEnsembleBackend);
  EXPECT_EQ(two->learned[0].artifacts.front(), models::kSeedEnsembleFile);
  EXPECT_EQ(two->scores[2].model, "xgboost");  // reported under its kind

  StatusOr<RetentionRows> rows = BuildRetentionRows(city, o);
  ASSERT_TRUE(rows.ok());
  const std::vector<float>& x = rows->data.features;
  StatusOr<std::vector<float>> p1 = one->learned[0].model->Predict(x),
                               p2 = next->learned[0].model->Predict(x),
                               pe = two->learned[0].model->Predict(x);
  ASSERT_TRUE(p1.ok() && p2.ok() && pe.ok());
  ASSERT_EQ(pe->size(), p1->size());
  size_t differ = 0;
  for (size_t i = 0; i < pe->size(); ++i) {
    EXPECT_NEAR((*pe)[i], ((*p1)[i] + (*p2)[i]) / 2.0, 1e-6) << "row " << i;
    differ += (*p1)[i] != (*p2)[i] ? 1 : 0;
  }
  EXPECT_GT(differ, pe->size() / 2) << "the two training seeds give different models";
  // Published files load back (backend seed_ensemble) to the same predictions: eval == served.
  StatusOr<std::unique_ptr<models::Model>> loaded =
      models::LoadModel(two->learned[0].backend, two->learned[0].load_path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(*(*loaded)->Predict(x), *pe);
  // The ensemble's scored ECE is that of the mean: the reported score moves with K.
  EXPECT_NE(two->scores[2].test.ece, one->scores[2].test.ece);

  StatusOr<RetentionResult> none = train(42, 0, "none");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("0 members"), std::string::npos)
      << none.status().ToString();
}

TEST(BehaviourRetentionTest, SplitPlansTestCutoffsLastAndTrainsOnlyOnLabelsKnownByThen) {
  RetentionOptions o;  // horizon 28, step 7
  o.first_cutoff_day = 154;
  o.test_cutoffs = 12;
  StatusOr<RetentionSplit> split = PlanRetentionSplit(360, o);
  ASSERT_TRUE(split.ok()) << split.status().ToString();
  // Cut-offs 154, 161, …, 329 (329 + 28 = 357 <= 359); the last 12 test.
  ASSERT_EQ(split->test_cutoffs.size(), 12u);
  EXPECT_EQ(split->test_cutoffs.front(), 252);
  EXPECT_EQ(split->test_cutoffs.back(), 329);
  // Training: from the first cut-off (the days before it are history only) while the label day
  // is not after day 252.
  ASSERT_FALSE(split->train_cutoffs.empty());
  EXPECT_EQ(split->train_cutoffs.front(), 154);
  EXPECT_EQ(split->train_cutoffs.back(), 224);
  EXPECT_EQ(split->train_cutoffs.size(), 11u);

  // Too short for the design: the message names the days and the cut-offs.
  o.test_cutoffs = 30;
  StatusOr<RetentionSplit> too_many = PlanRetentionSplit(360, o);
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(too_many.status().message().find("360 days"), std::string::npos)
      << too_many.status().ToString();
  o.test_cutoffs = 12;
  EXPECT_FALSE(PlanRetentionSplit(200, o).ok());  // one test cut-off at most, no training
  o.test_cutoffs = 0;
  EXPECT_FALSE(PlanRetentionSplit(360, o).ok());
  o.test_cutoffs = 2;
  o.first_cutoff_day = 0;
  EXPECT_FALSE(PlanRetentionSplit(360, o).ok());
}

TEST(BehaviourRetentionTest, BurnInDaysAreHistoryNotRows) {
  // A later first cut-off drops the early cut-offs' rows but not the history before it: the
  // rows of a common cut-off are the same, and equal the served snapshot of that day.
  const simulator::SimulatedCity city = SmallTestCity(21, 0.0);
  RetentionOptions early = SmallOptions(), late = SmallOptions();
  late.first_cutoff_day = 9;  // cut-offs 9, 12
  StatusOr<RetentionRows> a = BuildRetentionRows(city, early), b = BuildRetentionRows(city, late);
  ASSERT_TRUE(a.ok() && b.ok());
  std::vector<float> a9, b9;
  for (int64_t r = 0; r < a->data.rows; ++r) {
    if (a->cutoff[r] != 9) continue;
    a9.insert(a9.end(), a->data.features.begin() + r * kRetentionFeatures,
              a->data.features.begin() + (r + 1) * kRetentionFeatures);
  }
  for (int64_t r = 0; r < b->data.rows; ++r) {
    EXPECT_GE(b->cutoff[r], 9);
    if (b->cutoff[r] != 9) continue;
    b9.insert(b9.end(), b->data.features.begin() + r * kRetentionFeatures,
              b->data.features.begin() + (r + 1) * kRetentionFeatures);
  }
  ASSERT_FALSE(b9.empty());
  EXPECT_EQ(a9, b9);
  StatusOr<RetentionSnapshot> snap = RetentionFeaturesAt(city, 9);
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->features, b9);
  // Quotes from before the first cut-off are counted (feature 0: quotes so far).
  double quotes = 0;
  for (size_t i = 0; i < b9.size(); i += kRetentionFeatures) quotes += b9[i];
  EXPECT_GT(quotes, 0);
}

// The design decided on tuning seeds (docs/behaviour.md, fifth attempt): what `train behaviour
// --target retention` publishes and `eval behaviour` scores.
TEST(BehaviourRetentionTest, DesignDefaultsAreTheDecidedOnes) {
  const train::Params want = {{"max_depth", "4"},          {"eta", "0.05"},
                              {"rounds", "400"},           {"early_stopping_rounds", "30"},
                              {"min_child_weight", "100"}, {"lambda", "10"},
                              {"subsample", "0.8"}};
  EXPECT_EQ(kRetentionXgboostParams, want);
  EXPECT_EQ(RetentionOptions{}.xgboost_params, want);
  EXPECT_EQ(BehaviourEvalOptions{}.retention.xgboost_params, want);
  const std::map<std::string, int> ensemble = {{"torch", 5}, {"xgboost", 1}};
  EXPECT_EQ(RetentionOptions{}.seed_ensemble, ensemble);
  EXPECT_EQ(BehaviourEvalOptions{}.retention.seed_ensemble, ensemble);
}

TEST(BehaviourRetentionTest, ACityTooShortIsRefused) {
  const simulator::SimulatedCity city = SmallTestCity(7, 0.0);
  StatusOr<RetentionRows> rows = BuildRetentionRows(city, RetentionOptions{});
  ASSERT_FALSE(rows.ok());
  EXPECT_NE(rows.status().message().find("7 days"), std::string::npos) << rows.status().ToString();
  EXPECT_FALSE(BuildRetentionRows(simulator::SimulatedCity{}, RetentionOptions{}).ok());
}

}  // namespace
}  // namespace bimride::tasks::behaviour
