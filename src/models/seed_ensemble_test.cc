#include "models/seed_ensemble.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/file.h"
#include "models/native/mlp_net.h"

namespace bimride::models {
namespace {

// A one-layer logistic net: sigmoid(w · x + b) over `features` numeric columns.
native::MlpNet LogisticNet(int features, float w, float b) {
  native::MlpNet net;
  net.num_features = features;
  for (int c = 0; c < features; ++c) {
    net.numeric_columns.push_back(c);
    net.numeric_mean.push_back(0.0f);
    net.numeric_std.push_back(1.0f);
  }
  native::DenseLayer l;
  l.in = features;
  l.out = 1;
  l.weight.assign(static_cast<size_t>(features), w);
  l.bias = {b};
  net.layers.push_back(l);
  net.output_transform = native::OutputTransform::kSigmoid;
  return net;
}

std::string Dir(const std::string& name) {
  const std::string d = ::testing::TempDir() + "/seed_ensemble_test_" + name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

std::vector<float> Rows() { return {0.0f, 1.0f, -2.0f, 0.5f, 3.0f, -1.0f, 0.2f, 0.2f}; }

TEST(SeedEnsembleTest, PredictsTheMeanOfItsMembersProbabilities) {
  const std::string dir = Dir("mean");
  const std::vector<std::pair<float, float>> wb = {{0.5f, -0.2f}, {-1.0f, 0.3f}, {2.0f, 1.0f}};
  std::vector<SeedEnsembleMember> refs;
  std::vector<std::vector<float>> member_p;
  for (size_t i = 0; i < wb.size(); ++i) {
    const std::string sub = "member_" + std::to_string(i);
    ASSERT_TRUE(
        native::WriteMlpNet(LogisticNet(2, wb[i].first, wb[i].second), dir + "/" + sub).ok());
    refs.push_back({"native_mlp", sub + "/net.json"});
    StatusOr<std::unique_ptr<Model>> m = LoadModel("native_mlp", dir + "/" + sub + "/net.json");
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    StatusOr<std::vector<float>> p = (*m)->Predict(Rows());
    ASSERT_TRUE(p.ok());
    member_p.push_back(*p);
  }
  ASSERT_TRUE(WriteFileAtomic(dir + "/" + kSeedEnsembleFile, SeedEnsembleToJson(refs)).ok());
  StatusOr<std::unique_ptr<Model>> e =
      LoadModel(kSeedEnsembleBackend, dir + "/" + kSeedEnsembleFile);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ((*e)->num_features(), 2);
  EXPECT_EQ((*e)->num_outputs(), 1);
  StatusOr<std::vector<float>> p = (*e)->Predict(Rows());
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->size(), 4u);
  for (size_t r = 0; r < p->size(); ++r) {
    const double mean = (member_p[0][r] + member_p[1][r] + member_p[2][r]) / 3.0;
    EXPECT_NEAR((*p)[r], mean, 1e-6) << "row " << r;
    // Not the sigmoid of the mean logit: a different number for these members.
    EXPECT_NE((*p)[r], member_p[0][r]);
  }
}

TEST(SeedEnsembleTest, OneMemberIsThatModel) {
  const std::string dir = Dir("one");
  ASSERT_TRUE(native::WriteMlpNet(LogisticNet(2, 0.7f, -0.1f), dir + "/member_0").ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/" + kSeedEnsembleFile,
                              SeedEnsembleToJson({{"native_mlp", "member_0"}}))
                  .ok());
  StatusOr<std::unique_ptr<Model>> member = LoadModel("native_mlp", dir + "/member_0");
  StatusOr<std::unique_ptr<Model>> e =
      LoadModel(kSeedEnsembleBackend, dir + "/" + kSeedEnsembleFile);
  ASSERT_TRUE(member.ok() && e.ok());
  EXPECT_EQ(*(*e)->Predict(Rows()), *(*member)->Predict(Rows()));  // bit for bit
}

TEST(SeedEnsembleTest, RefusesBadFilesNamingThem) {
  const std::string dir = Dir("bad");
  ASSERT_TRUE(native::WriteMlpNet(LogisticNet(2, 1.0f, 0.0f), dir + "/two").ok());
  ASSERT_TRUE(native::WriteMlpNet(LogisticNet(3, 1.0f, 0.0f), dir + "/three").ok());
  const auto load = [&](const std::string& json) {
    EXPECT_TRUE(WriteFileAtomic(dir + "/e.json", json).ok());
    return LoadModel(kSeedEnsembleBackend, dir + "/e.json").status();
  };
  const Status not_json = load("{");
  EXPECT_EQ(not_json.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(not_json.message().find("e.json: not a JSON object"), std::string::npos)
      << not_json.ToString();
  EXPECT_NE(load(R"({"members": []})").message().find("non-empty"), std::string::npos);
  EXPECT_NE(load(R"({"members": [{"backend": "native_mlp"}]})").message().find("members[0]"),
            std::string::npos);
  EXPECT_NE(load(R"({"members": [{"backend": "native_mlp", "path": "../two"}]})")
                .message()
                .find("inside the ensemble's folder"),
            std::string::npos);
  const Status widths = load(
      R"({"members": [{"backend": "native_mlp", "path": "two"},
                      {"backend": "native_mlp", "path": "three"}]})");
  EXPECT_EQ(widths.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(widths.message().find("member 1 takes 3 features"), std::string::npos)
      << widths.ToString();
  const Status missing = load(R"({"members": [{"backend": "native_mlp", "path": "nope"}]})");
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("members[0]"), std::string::npos) << missing.ToString();
  EXPECT_EQ(load(R"({"members": [{"backend": "no_such", "path": "two"}]})").code(),
            StatusCode::kNotFound);
}

TEST(SeedEnsembleTest, CreateRefusesNoMembers) {
  EXPECT_EQ(SeedEnsembleModel::Create({}).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace bimride::models
