// The trainer registry: lookup by kind, the checks train::Train makes for every trainer and the
// parameter reader every trainer uses. A fixture trainer registered here proves a new kind is
// one registration line (the real trainers are tested beside them, in backends/).
#include "train/trainer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "common/file.h"
#include "train/trainer_test_util.h"

namespace bimride::train {
namespace {

using testing::Linear;
using testing::TempDir;

// A fixture trainer: predicts the training mean of each output.
class MeanModel : public models::Model {
 public:
  MeanModel(int features, std::vector<float> means)
      : features_(features), means_(std::move(means)) {}
  std::string_view backend() const override { return "fixture_mean"; }
  int num_features() const override { return features_; }
  int num_outputs() const override { return static_cast<int>(means_.size()); }
  Status Predict(const float*, int64_t rows, float* out) const override {
    for (int64_t r = 0; r < rows; ++r) {
      for (size_t k = 0; k < means_.size(); ++k) out[r * means_.size() + k] = means_[k];
    }
    return OkStatus();
  }

 private:
  int features_;
  std::vector<float> means_;
};

StatusOr<TrainedModel> TrainMean(const models::TabularData& train, const models::TabularData*,
                                 const TrainerOptions& options, const std::string& out_dir,
                                 const ProgressCallback& progress) {
  ParamReader p("fixture_mean", options.params);
  const double scale = p.Double("scale", 1.0);
  TrainedModel m;
  RETURN_IF_ERROR(p.Finish(&m.resolved_params));
  std::vector<float> means(train.num_outputs, 0.0f);
  for (int64_t r = 0; r < train.rows; ++r) {
    for (int k = 0; k < train.num_outputs; ++k) {
      means[k] += static_cast<float>(scale * train.targets[r * train.num_outputs + k] / train.rows);
    }
  }
  RETURN_IF_ERROR(WriteFileAtomic(out_dir + "/means.txt", std::to_string(means[0])));
  if (progress) progress({1, 0.0, NAN, 0.0, true, 0});
  m.model = std::make_unique<MeanModel>(train.num_features, means);
  m.backend = "fixture_mean";
  m.artifacts = {"means.txt"};
  m.load_path = out_dir + "/means.txt";
  m.best_iterations = {1};
  m.best_valid_metric = {NAN};
  return m;
}

StatusOr<TrainedModel> TrainNothing(const models::TabularData&, const models::TabularData*,
                                    const TrainerOptions&, const std::string&,
                                    const ProgressCallback&) {
  return TrainedModel{};
}

}  // namespace
}  // namespace bimride::train

BIMRIDE_TRAINER("fixture_mean", bimride::train::TrainMean);
BIMRIDE_TRAINER("fixture_nothing", bimride::train::TrainNothing);

namespace bimride::train {
namespace {

TEST(TrainerRegistryTest, AKindIsOneRegistrationLine) {
  EXPECT_TRUE(HasTrainer("fixture_mean"));
  const std::vector<std::string> kinds = RegisteredTrainers();
  EXPECT_TRUE(std::is_sorted(kinds.begin(), kinds.end()));
  const std::string dir = TempDir("mean");
  int records = 0;
  auto m = Train("fixture_mean", Linear(100, 2, 1), nullptr, {}, dir,
                 [&](const models::TrainingProgress&) { ++records; });
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->kind, "fixture_mean");
  EXPECT_EQ(m->artifact_dir, dir);
  EXPECT_TRUE(FileExists(dir + "/means.txt"));
  EXPECT_EQ(m->model->num_outputs(), 2);
  EXPECT_EQ(m->resolved_params.at("scale"), "1");
  EXPECT_EQ(records, 1);
  std::filesystem::remove_all(dir);
}

TEST(TrainerRegistryTest, UnknownKindNamesTheKindsThisBuildHas) {
  auto m = Train("lightgbm", Linear(10, 1, 1), nullptr, {}, TempDir("unknown"));
  EXPECT_EQ(m.status().code(), StatusCode::kNotFound);
  EXPECT_NE(m.status().message().find("no trainer 'lightgbm' in this build"), std::string::npos);
  EXPECT_NE(m.status().message().find("fixture_mean"), std::string::npos) << m.status().message();
  EXPECT_EQ(CheckTrainerOptions("lightgbm", {}).code(), StatusCode::kNotFound);
  EXPECT_TRUE(CheckTrainerOptions("fixture_mean", {}).ok()) << "a trainer without a check";
}

TEST(TrainerRegistryTest, BadDataAndOptionsAreRefusedBeforeAnyTrainerRuns) {
  const std::string dir = TempDir("bad");
  const models::TabularData train = Linear(50, 1, 2);
  models::TabularData narrow = Linear(10, 1, 3);
  narrow.num_features = 2;
  narrow.features.resize(20);
  auto m = Train("fixture_mean", train, &narrow, {}, dir);
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(m.status().message().find("valid: 2 features"), std::string::npos)
      << m.status().message();
  models::TabularData empty;
  EXPECT_EQ(Train("fixture_mean", empty, nullptr, {}, dir).status().code(),
            StatusCode::kInvalidArgument);
  TrainerOptions o;
  o.categorical = {{7, 5, 2}};
  m = Train("fixture_mean", train, nullptr, o, dir);
  EXPECT_NE(m.status().message().find("categorical column 7"), std::string::npos);
  o = {};
  o.threads = 0;
  EXPECT_EQ(Train("fixture_mean", train, nullptr, o, dir).status().code(),
            StatusCode::kInvalidArgument);
  o = {};
  o.fixed_iterations = {0};
  EXPECT_EQ(Train("fixture_mean", train, nullptr, o, dir).status().code(),
            StatusCode::kInvalidArgument);
  // A trainer that returns nothing is a bug in the trainer, reported as such.
  EXPECT_EQ(Train("fixture_nothing", train, nullptr, {}, dir).status().code(),
            StatusCode::kInternal);
  std::filesystem::remove_all(dir);
}

TEST(ParamReaderTest, NumbersAsParametersReadBackExactly) {
  for (double v : {0.05, 0.002, 2e-3, 1.0 / 3, 1e-300, 123456789.0, -0.0}) {
    const std::string text = ParamValue(v);
    EXPECT_EQ(std::strtod(text.c_str(), nullptr), v) << text;
  }
  EXPECT_EQ(ParamValue(0.05), "0.05");  // the shortest such text
}

TEST(ParamReaderTest, UnknownAndMalformedParametersAreNamed) {
  Params resolved;
  {
    ParamReader p("t", {{"depth", "4"}, {"rate", "0.5"}, {"sizes", "8,4"}});
    EXPECT_EQ(p.Int("depth", 1), 4);
    EXPECT_DOUBLE_EQ(p.Double("rate", 1), 0.5);
    EXPECT_EQ(p.IntList("sizes", {}), (std::vector<int>{8, 4}));
    EXPECT_EQ(p.String("mode", "fast"), "fast");
    ASSERT_TRUE(p.Finish(&resolved).ok());
    EXPECT_EQ(resolved,
              (Params{{"depth", "4"}, {"rate", "0.5"}, {"sizes", "8,4"}, {"mode", "fast"}}));
  }
  {
    ParamReader p("t", {{"depht", "4"}});
    p.Int("depth", 1);
    const Status st = p.Finish(&resolved);
    EXPECT_EQ(st.message(), "t: unknown parameter 'depht' (known: depth)");
  }
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, std::string>>{{"depth", "4.5"},
                                                        {"depth", ""},
                                                        {"depth", "99999999999"},
                                                        {"rate", "fast"},
                                                        {"rate", "inf"},
                                                        {"sizes", "8,,4"},
                                                        {"sizes", "8,-4"}}) {
    ParamReader p("t", {{name, value}});
    p.Int("depth", 1);
    p.Double("rate", 1);
    p.IntList("sizes", {1});
    const Status st = p.Finish(nullptr);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << name << "=" << value;
    EXPECT_NE(st.message().find("parameter '" + name + "': '" + value + "'"), std::string::npos)
        << st.message();
  }
}

}  // namespace
}  // namespace bimride::train
