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
  ASSERT_TRUE(testing::WriteTestVersion(repo_, "eta", 10).ok());
  ASSERT_TRUE(testing::WriteTestVersion(repo_, "demand", 2).ok());
  ASSERT_TRUE(MakeDirs(repo_ + "/eta/tmp").ok());
  ASSERT_TRUE(MakeDirs(repo_ + "/eta/007").ok());
  auto scan = ScanRepository(repo_);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  ASSERT_EQ(scan->size(), 2u);
  const auto& eta = scan->at("eta");
  ASSERT_EQ(eta.size(), 2u);
  EXPECT_EQ(eta[0].version, 1);
  EXPECT_EQ(eta[1].version, 10);
}

TEST_F(ModelSourceTest, MissingRepositoryIsNotFound) {
  auto scan = ScanRepository(repo_ + "/nope");
  EXPECT_EQ(scan.status().code(), StatusCode::kNotFound);
}

TEST_F(ModelSourceTest, ReadsManifestAndLoadsModel) {
  testing::TestVersionOptions o;
  o.weights = {{1, 2, 3}, {0, 0, 1}};
  o.bias = {0.5f, 0};
  o.output_names = {"eta_seconds", "p90"};
  o.feature_spec = "test_trip_v1";
  ASSERT_TRUE(testing::WriteTestVersion(repo_, "eta", 3, o).ok());
  auto spec = ReadServableSpec("eta", 3, repo_ + "/eta/3");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->backend, "test_linear");
  EXPECT_EQ(spec->num_features, 3);
  EXPECT_EQ(spec->feature_spec, "test_trip_v1");
  EXPECT_EQ(spec->raw_fields.size(), 3u);
  EXPECT_EQ(spec->output_names, (std::vector<std::string>{"eta_seconds", "p90"}));
  auto model = LoadServableModel(&*spec, {});
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)->num_outputs(), 2);
}

TEST_F(ModelSourceTest, ChecksumMismatchIsDataLossNamingTheFile) {
  testing::TestVersionOptions o;
  o.corrupt_digest = true;
  ASSERT_TRUE(testing::WriteTestVersion(repo_, "eta", 1, o).ok());
  auto spec = ReadServableSpec("eta", 1, repo_ + "/eta/1");
  ASSERT_TRUE(spec.ok());
  auto model = LoadServableModel(&*spec, {});
  EXPECT_EQ(model.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(model.status().message().find("model.json: sha256 mismatch"), std::string::npos);
}

TEST_F(ModelSourceTest, RejectsManifestsThatLieOrAreMalformed) {
  ASSERT_TRUE(MakeDirs(repo_ + "/eta/1").ok());
  ASSERT_TRUE(WriteFileAtomic(repo_ + "/eta/1/manifest.json", "{not json").ok());
  EXPECT_EQ(ReadServableSpec("eta", 1, repo_ + "/eta/1").status().code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(WriteFileAtomic(repo_ + "/eta/1/manifest.json",
                              R"({"name":"other","version":1,"backend":"x","artifact":"m"})")
                  .ok());
  auto st = ReadServableSpec("eta", 1, repo_ + "/eta/1").status();
  EXPECT_NE(st.message().find("does not match folder"), std::string::npos) << st.message();
  ASSERT_TRUE(WriteFileAtomic(repo_ + "/eta/1/manifest.json",
                              R"({"version":2,"backend":"x","artifact":"m"})")
                  .ok());
  EXPECT_EQ(ReadServableSpec("eta", 1, repo_ + "/eta/1").status().code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(WriteFileAtomic(repo_ + "/eta/1/manifest.json",
                              R"({"version":1,"backend":"x","artifact":"../../etc/passwd"})")
                  .ok());
  EXPECT_EQ(ReadServableSpec("eta", 1, repo_ + "/eta/1").status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(ModelSourceTest, UnknownBackendIsReported) {
  testing::TestVersionOptions o;
  o.backend = "no_such_backend";
  ASSERT_TRUE(testing::WriteTestVersion(repo_, "eta", 1, o).ok());
  auto spec = ReadServableSpec("eta", 1, repo_ + "/eta/1");
  ASSERT_TRUE(spec.ok());
  auto model = LoadServableModel(&*spec, {});
  EXPECT_EQ(model.status().code(), StatusCode::kNotFound);
  EXPECT_NE(model.status().message().find("no_such_backend"), std::string::npos);
}

TEST_F(ModelSourceTest, ReadsLabelFile) {
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
