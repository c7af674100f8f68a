#include "serving/model_source.h"

#include <gtest/gtest.h>

#include "common/file.h"
#include "serving/testing/test_models.h"

namespace bimride::serving {
namespace {

class ModelSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::RegisterTestBackendAndFeatures();
    repo_ = testing::MakeTempDir("model_source_test");
  }
  std::string repo_;
};

TEST_F(ModelSourceTest, ScansTfServingLayoutAndSkipsNonVersionFolders) {
  ASSERT_TRUE(testing::WriteTestVersion(repo_, "eta", 1).ok());
  ASSERT_TRUE(testing::WriteTestVersion(repo_, "eta", 2).ok());
  ASSERT_TRUE(testing::WriteTestVersion(repo_, "demand", 1).ok());
  ASSERT_TRUE(MakeDirs(repo_ + "/eta/.staging-1-abc").ok());
  ASSERT_TRUE(MakeDirs(repo_ + "/eta/007").ok());
  ASSERT_TRUE(MakeDirs(repo_ + "/.bimride").ok());
  auto scan = ScanRepository(repo_);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  ASSERT_EQ(scan->size(), 2u);
  const auto& eta = scan->at("eta");
  ASSERT_EQ(eta.size(), 2u);
  EXPECT_EQ(eta[0].version, 1);
  EXPECT_EQ(eta[1].version, 2);
}

TEST_F(ModelSourceTest, MissingRepositoryIsNotFound) {
  EXPECT_EQ(ScanRepository(repo_ + "/nope").status().code(), StatusCode::kNotFound);
}

TEST_F(ModelSourceTest, AManifestSaysWhetherAVersionIsAClassifier) {
  ASSERT_TRUE(testing::WriteTestVersion(repo_, "payment", 1, testing::ClassifierVersionOptions())
                  .ok());
  testing::TestVersionOptions odd = testing::ClassifierVersionOptions();
  odd.serving_method = "cluster";
  ASSERT_TRUE(testing::WriteTestVersion(repo_, "payment", 2, odd).ok());
  ASSERT_TRUE(testing::WriteTestVersion(repo_, "eta", 1).ok());
  auto classifier = LoadServableSpec(repo_, "payment", 1);
  ASSERT_TRUE(classifier.ok()) << classifier.status().ToString();
  EXPECT_TRUE(classifier->classifier);
  auto regressor = LoadServableSpec(repo_, "eta", 1);
  ASSERT_TRUE(regressor.ok()) << regressor.status().ToString();
  EXPECT_FALSE(regressor->classifier);
  auto bad = LoadServableSpec(repo_, "payment", 2);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("serving_method is 'cluster'; expected 'regress' or "
                                        "'classify'"),
            std::string::npos)
      << bad.status().message();
}

TEST_F(ModelSourceTest, MapsRegistryManifestAndLoadsModel) {
  testing::TestVersionOptions o;
  o.weights = {{1, 2, 3}, {0, 0, 1}};
  o.bias = {0.5f, 0};
  o.output_names = {"eta_seconds", "p90"};
  o.feature_spec = "test_trip_v1";
  ASSERT_TRUE(testing::WriteTestVersion(repo_, "eta", 1, o).ok());
  auto spec = LoadServableSpec(repo_, "eta", 1);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->backend, "baseline");
  EXPECT_EQ(spec->num_features, 3);
  EXPECT_EQ(spec->feature_spec, "test_trip_v1");
  EXPECT_EQ(spec->raw_fields.size(), 3u);
  EXPECT_EQ(spec->output_names, (std::vector<std::string>{"eta_seconds", "p90"}));
  auto model = LoadServableModel(&*spec, {});
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)->num_outputs(), 2);
}

TEST_F(ModelSourceTest, OneOutputTensorOfWidthKNamesItsColumns) {
  testing::TestVersionOptions o;
  o.weights = {{1, 0, 0}, {0, 1, 0}};
  o.bias = {0, 0};
  o.output_names = {"quantiles"};
  ASSERT_TRUE(testing::WriteTestVersion(repo_, "eta", 1, o).ok());
  auto spec = LoadServableSpec(repo_, "eta", 1);
  ASSERT_TRUE(spec.ok());
  ASSERT_TRUE(LoadServableModel(&*spec, {}).ok());
  EXPECT_EQ(spec->output_names, (std::vector<std::string>{"quantiles_0", "quantiles_1"}));
}

TEST_F(ModelSourceTest, ChecksumMismatchIsDataLossNamingTheFile) {
  testing::TestVersionOptions o;
  o.corrupt_digest = true;
  ASSERT_TRUE(testing::WriteTestVersion(repo_, "eta", 1, o).ok());
  auto spec = LoadServableSpec(repo_, "eta", 1);
  EXPECT_EQ(spec.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(spec.status().message().find("model.json"), std::string::npos)
      << spec.status().message();
}

TEST_F(ModelSourceTest, MalformedManifestIsRejected) {
  ASSERT_TRUE(MakeDirs(repo_ + "/eta/1").ok());
  ASSERT_TRUE(WriteFileAtomic(repo_ + "/eta/1/manifest.json", "{not json").ok());
  auto spec = LoadServableSpec(repo_, "eta", 1);
  EXPECT_FALSE(spec.ok());
  EXPECT_NE(spec.status().message().find("manifest.json"), std::string::npos)
      << spec.status().message();
}

TEST_F(ModelSourceTest, BackendNotInThisBinaryIsReported) {
  testing::TestVersionOptions o;
  o.backend = "onnx";
  ASSERT_TRUE(testing::WriteTestVersion(repo_, "eta", 1, o).ok());
  auto spec = LoadServableSpec(repo_, "eta", 1);
  ASSERT_TRUE(spec.ok());
  auto model = LoadServableModel(&*spec, {});
  EXPECT_EQ(model.status().code(), StatusCode::kNotFound);
  EXPECT_NE(model.status().message().find("onnx"), std::string::npos);
}

TEST_F(ModelSourceTest, WrongWidthAgainstManifestIsRejected) {
  ASSERT_TRUE(testing::WriteTestVersion(repo_, "eta", 1).ok());
  auto spec = LoadServableSpec(repo_, "eta", 1);
  ASSERT_TRUE(spec.ok());
  spec->num_features = 5;
  auto model = LoadServableModel(&*spec, {});
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(model.status().message().find("manifest says 5"), std::string::npos);
}

TEST_F(ModelSourceTest, ReadsRegistryLabelFile) {
  ASSERT_TRUE(MakeDirs(repo_ + "/eta").ok());
  EXPECT_TRUE(ReadLabelFile(repo_, "eta")->empty());
  ASSERT_TRUE(WriteFileAtomic(repo_ + "/eta/labels.json", R"({"stable": 3, "canary": 4})").ok());
  auto labels = ReadLabelFile(repo_, "eta");
  ASSERT_TRUE(labels.ok());
  EXPECT_EQ(labels->at("canary"), 4);
  ASSERT_TRUE(WriteFileAtomic(repo_ + "/eta/labels.json", R"({"stable": "x"})").ok());
  EXPECT_FALSE(ReadLabelFile(repo_, "eta").ok());
}

}  // namespace
}  // namespace bimride::serving
