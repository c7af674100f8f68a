#include "models/native/tree_ensemble.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/file.h"
#include "models/model_test_util.h"

namespace bimride::models::native {
namespace {

// One tree: node 0 splits feature 1 at 0.5 (missing → left) into leaf 1 (1.0) and node 2;
// node 2 splits feature 0 at 2 (missing → right) into leaves 3 (-1) and 4 (2).
std::string ModelJson(const std::string& objective, const std::string& tree_overrides = "",
                      const std::string& num_feature = "2") {
  std::string tree = R"({"left_children": [1, -1, 3, -1, -1], "right_children": [2, -1, 4, -1, -1],
      "split_indices": [1, 0, 0, 0, 0], "split_conditions": [0.5, 1.0, 2.0, -1.0, 2.0],
      "default_left": [1, 0, 0, 0, 0], "split_type": [0, 0, 0, 0, 0], "id": 0)" +
                     tree_overrides + "}";
  return R"({"learner": {"learner_model_param": {"base_score": "5E-1", "num_class": "0",
      "num_feature": ")" +
         num_feature + R"(", "num_target": "1"}, "objective": {"name": ")" + objective +
         R"("}, "gradient_booster": {"name": "gbtree", "model": {"tree_info": [0], "trees": [)" +
         tree + "]}}}, \"version\": [1, 7, 4]}";
}

StatusOr<std::unique_ptr<Model>> Load(const std::string& json) {
  std::string path = testing::MakeTempDir("trees") + "/m.json";
  RETURN_IF_ERROR(WriteFileAtomic(path, json));
  return LoadNativeTreesModel(path, LoadOptions{});
}

TEST(TreeEnsembleTest, WalksSplitsAndDefaultDirections) {
  auto m = Load(ModelJson("reg:squarederror"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)->num_features(), 2);
  auto y = (*m)->Predict({0, 0, 0, NAN, 3, 1, NAN, 1, 1, 1});
  ASSERT_TRUE(y.ok());
  EXPECT_EQ(*y, (std::vector<float>{1.5f, 1.5f, 2.5f, 2.5f, -0.5f}));
}

TEST(TreeEnsembleTest, AppliesTheObjectivesTransform) {
  auto m = Load(ModelJson("count:poisson"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto y = (*m)->Predict({3, 1});
  ASSERT_TRUE(y.ok());
  EXPECT_FLOAT_EQ((*y)[0], std::exp(std::log(0.5f) + 2.0f));
  m = Load(ModelJson("binary:logistic"));
  ASSERT_TRUE(m.ok());
  y = (*m)->Predict({1, 1});
  EXPECT_FLOAT_EQ((*y)[0], 1.0f / (1.0f + std::exp(1.0f)));  // logit(0.5) - 1 = -1
}

TEST(TreeEnsembleTest, FirstFileOfAPerOutputSetLoadsEveryOutput) {
  // A registry manifest names files, not folders: model/output_0.json must stand for the set.
  const std::string dir = testing::MakeTempDir("trees_set") + "/model";
  ASSERT_TRUE(MakeDirs(dir).ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/output_0.json", ModelJson("reg:squarederror")).ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/output_1.json", ModelJson("reg:squarederror")).ok());
  for (const std::string& path : {dir, dir + "/output_0.json"}) {
    auto files = XgboostModelFiles(path);
    ASSERT_TRUE(files.ok()) << files.status().ToString();
    EXPECT_EQ(files->size(), 2u) << path;
    auto m = LoadNativeTreesModel(path, LoadOptions{});
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ((*m)->num_outputs(), 2) << path;
  }
  // Any other file name is a single model, even beside a set.
  ASSERT_TRUE(WriteFileAtomic(dir + "/single.json", ModelJson("reg:squarederror")).ok());
  auto single = LoadNativeTreesModel(dir + "/output_1.json", LoadOptions{});
  ASSERT_TRUE(single.ok());
  EXPECT_EQ((*single)->num_outputs(), 1);
  EXPECT_EQ(XgboostModelFiles(dir + "/single.json")->size(), 1u);
}

TEST(TreeEnsembleTest, RejectsBrokenOrUnsupportedModels) {
  EXPECT_EQ(Load("{\"learner\": ").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(Load("[1, 2]").status().code(), StatusCode::kDataLoss);
  // Node 2's left child points back at the root: a cycle.
  auto cyclic = Load(ModelJson("reg:squarederror", R"(, "left_children": [1, -1, 0, -1, -1])"));
  // (duplicate keys: nlohmann keeps the last, so the override wins)
  EXPECT_EQ(cyclic.status().code(), StatusCode::kDataLoss) << cyclic.status().ToString();
  EXPECT_NE(cyclic.status().message().find("reached twice"), std::string::npos);
  EXPECT_EQ(Load(ModelJson("reg:squarederror", "", "1")).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(
      Load(ModelJson("reg:squarederror", R"(, "split_type": [1, 0, 0, 0, 0])")).status().code(),
      StatusCode::kUnimplemented);
  EXPECT_EQ(Load(ModelJson("rank:pairwise")).status().code(), StatusCode::kUnimplemented);
  EXPECT_EQ(LoadNativeTreesModel("/nonexistent/m.json", LoadOptions{}).status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace bimride::models::native
