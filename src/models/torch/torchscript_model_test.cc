#include "models/torch/torchscript_model.h"

#include <gtest/gtest.h>
#include <torch/script.h>

#include "models/model_test_util.h"

namespace bimride::models::torch_backend {
namespace {

// Saves a module whose forward is `source` (no num_features/num_outputs attributes).
std::string SaveModule(const std::string& dir, const std::string& name, const std::string& source) {
  ::torch::jit::Module m("Test");
  m.register_parameter("w", ::torch::tensor({1.0f, 2.0f, 3.0f}).reshape({3, 1}), false);
  m.define(source);
  std::string path = dir + "/" + name + ".pt";
  m.save(path);
  return path;
}

TEST(TorchScriptModelTest, ShapesComeFromLoadOptionsWhenTheModuleHasNone) {
  std::string dir = testing::MakeTempDir("ts");
  std::string path =
      SaveModule(dir, "mm", "def forward(self, x):\n    return torch.mm(x, self.w) + 1.0\n");
  auto m = LoadTorchScriptModel(path, LoadOptions{});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(m.status().message().find("num_features"), std::string::npos);

  for (bool optimize : {true, false}) {
    LoadOptions options;
    options.num_features = 3;
    options.num_outputs = 1;
    options.optimize = optimize;
    m = LoadTorchScriptModel(path, options);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    auto y = (*m)->Predict({1, 1, 1, 0, 0, 2});
    ASSERT_TRUE(y.ok()) << y.status().ToString();
    EXPECT_EQ(*y, (std::vector<float>{7, 7}));
  }
}

TEST(TorchScriptModelTest, ForwardErrorsBecomeStatusNotExceptions) {
  std::string dir = testing::MakeTempDir("ts");
  LoadOptions options;
  options.num_features = 2;  // the module needs 3 columns: torch.mm throws inside forward
  options.num_outputs = 1;
  auto m = LoadTorchScriptModel(
      SaveModule(dir, "mm", "def forward(self, x):\n    return torch.mm(x, self.w)\n"), options);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto y = (*m)->Predict({1, 2, 3, 4});
  ASSERT_FALSE(y.ok());
  EXPECT_EQ(y.status().code(), StatusCode::kInternal);
  EXPECT_NE(y.status().message().find("forward"), std::string::npos);
  EXPECT_EQ(y.status().message().find('\n'), std::string::npos) << "backtrace leaked";
}

TEST(TorchScriptModelTest, WrongOutputShapeIsInternalError) {
  std::string dir = testing::MakeTempDir("ts");
  LoadOptions options;
  options.num_features = 3;
  options.num_outputs = 2;  // forward gives one column
  auto m = LoadTorchScriptModel(
      SaveModule(dir, "mm", "def forward(self, x):\n    return torch.mm(x, self.w)\n"), options);
  ASSERT_TRUE(m.ok());
  auto y = (*m)->Predict({1, 2, 3});
  ASSERT_FALSE(y.ok());
  EXPECT_NE(y.status().message().find("shape [1, 1]"), std::string::npos) << y.status().message();
}

TEST(TorchScriptModelTest, MissingAndGarbageFilesAreClearErrors) {
  std::string dir = testing::MakeTempDir("ts");
  auto m = LoadTorchScriptModel(dir + "/nope.pt", LoadOptions{});
  EXPECT_EQ(m.status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(WriteFileAtomic(dir + "/junk.pt", "definitely not a zip archive").ok());
  m = LoadTorchScriptModel(dir + "/junk.pt", LoadOptions{});
  EXPECT_EQ(m.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(m.status().message().find("junk.pt"), std::string::npos);
}

}  // namespace
}  // namespace bimride::models::torch_backend
