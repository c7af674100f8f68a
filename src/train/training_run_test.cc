// Run tracking and publishing around a training (train/training_run.h): what a run records,
// progress records as metrics, publish-and-finish, and the feature statistics.
#include "train/training_run.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "common/file.h"
#include "registry/test_util.h"

namespace bimride::train {
namespace {

using registry::testing::ScopedTempDir;
using registry::testing::WriteTestFile;

// A model folder as a task writes it: manifest.json (unpublished) and its one artifact.
std::string WriteModelFolder(const std::string& dir) {
  registry::Manifest m;
  m.name = "fixture";
  m.task = "fixture";
  m.backend = "native_trees";
  m.artifacts = {"model.json"};
  m.inputs = {{"features", registry::DType::kFloat32, {-1, 2}}};
  m.outputs = {{"y", registry::DType::kFloat32, {-1, 1}}};
  EXPECT_TRUE(MakeDirs(dir).ok());
  WriteTestFile(dir, "model.json", "{}");
  WriteTestFile(dir, registry::kManifestFileName, registry::ManifestToJson(m));
  return dir;
}

TEST(TrainingRunTest, RecordsParamsTagsDataAndPublishesTheFolder) {
  ScopedTempDir tmp;
  auto reg = registry::Registry::Open(tmp.path() + "/repo");
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  const std::string data = WriteTestFile(tmp.path(), "trips.csv", "a,b\n1,2\n");
  auto run =
      StartTrainingRun(**reg, {"fixture", {{"lr", "0.1"}}, {{"who", "test"}}, {data}, "all rows"});
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  Status tracking;
  int forwarded = 0;
  ProgressCallback progress = TrackProgress(
      run->get(), "fit_", [&](const models::TrainingProgress&) { ++forwarded; }, &tracking);
  progress({1, 2.0, 1.5, 100, true, 0});
  progress({2, 1.0, NAN, 100, false, 0});  // no validation value: not logged
  progress({1, 3.0, 2.5, 100, true, 1});   // a second output gets its suffix
  EXPECT_TRUE(tracking.ok()) << tracking.ToString();
  EXPECT_EQ(forwarded, 3);
  auto published = FinishTrainingRun(**reg, **run, WriteModelFolder(tmp.path() + "/model"));
  ASSERT_TRUE(published.ok()) << published.status().ToString();
  ASSERT_TRUE(published->has_value());
  EXPECT_EQ((*published)->version, 1);

  auto record = (*reg)->store().GetRun((*run)->run_id());
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  EXPECT_EQ(record->status, registry::RunStatus::kFinished);
  EXPECT_EQ(record->params.at("lr"), "0.1");
  EXPECT_EQ(record->tags.at("who"), "test");
  EXPECT_EQ(record->tags.at("published"), "fixture:1");
  ASSERT_EQ(record->data.files.size(), 1u);
  EXPECT_EQ(record->data.filter, "all rows");
  std::map<std::string, int> points;
  for (const auto& m : record->metrics) ++points[m.key];
  EXPECT_EQ(points["fit_train_loss"], 2);
  EXPECT_EQ(points["fit_valid_metric"], 1);
  EXPECT_EQ(points["fit_train_loss_h2"], 1);
  EXPECT_EQ(points["fit_valid_metric_h2"], 1);
}

TEST(TrainingRunTest, AFailedPublishEndsTheRunFailedAndNamesTheFolder) {
  ScopedTempDir tmp;
  auto reg = registry::Registry::Open(tmp.path() + "/repo");
  ASSERT_TRUE(reg.ok());
  auto run = StartTrainingRun(**reg, {"fixture", {}, {}, {}, ""});
  ASSERT_TRUE(run.ok());
  auto published = FinishTrainingRun(**reg, **run, tmp.path() + "/no_such_model");
  ASSERT_FALSE(published.ok());
  EXPECT_NE(published.status().message().find("no_such_model"), std::string::npos)
      << published.status().message();
  EXPECT_EQ((*reg)->store().GetRun((*run)->run_id())->status, registry::RunStatus::kFailed);
  // Nothing to publish (a baseline): the run just ends.
  auto other = StartTrainingRun(**reg, {"fixture", {}, {}, {}, ""});
  ASSERT_TRUE(other.ok());
  auto none = FinishTrainingRun(**reg, **other, "");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST(TrainingRunTest, AMissingDataFileIsNamed) {
  ScopedTempDir tmp;
  auto reg = registry::Registry::Open(tmp.path() + "/repo");
  ASSERT_TRUE(reg.ok());
  auto run = StartTrainingRun(**reg, {"fixture", {}, {}, {tmp.path() + "/gone.csv"}, ""});
  EXPECT_EQ(run.status().code(), StatusCode::kNotFound);
  EXPECT_NE(run.status().message().find("gone.csv"), std::string::npos);
}

TEST(TrainingRunTest, FeatureStatsAreOnePerNamedColumn) {
  models::TabularData d;
  d.rows = 4;
  d.num_features = 2;
  d.features = {1, 10, 2, 20, 3, 30, 4, NAN};
  d.targets = {0, 0, 0, 0};
  auto stats = TrainingFeatureStats(d, {"a", "b"});
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_DOUBLE_EQ(stats->at("a").mean, 2.5);
  EXPECT_DOUBLE_EQ(stats->at("b").max, 30);
  EXPECT_EQ(TrainingFeatureStats(d, {"a"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(PrefixedParams("x.", {{"a", "1"}}), (Params{{"x.a", "1"}}));
}

}  // namespace
}  // namespace bimride::train
