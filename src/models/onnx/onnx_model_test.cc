// The onnx backend against the frameworks that wrote the files: PyTorch (torch.onnx.export),
// XGBoost (trees written as ai.onnx.ml ensembles) and numpy (hand-built graphs). The files and
// the frameworks' answers come from testdata/make_test_models.py, run once per test program
// with Debian's python3 (python3-onnx, python3-torch, python3-xgboost).
#include "models/onnx/onnx_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/file.h"
#include "models/native/tree_ensemble.h"
#include "models/onnx/onnx_export.h"

namespace bimride::models::onnx_backend {
namespace {

class OnnxModelTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(::testing::TempDir() + "/onnx_model_test_" +
                           std::to_string(::getpid()));
    std::filesystem::create_directories(*dir_);
    const std::string cmd = std::string("/usr/bin/python3 ") + BIMRIDE_ONNX_TESTDATA_SCRIPT +
                            " " + *dir_ + " > " + *dir_ + "/make.log 2>&1";
    made_ = std::system(cmd.c_str()) == 0;
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  void SetUp() override {
    auto log = ReadFile(*dir_ + "/make.log");
    ASSERT_TRUE(made_) << "make_test_models.py failed: " << (log.ok() ? *log : "");
  }
  static std::string Path(const std::string& name) { return *dir_ + "/" + name + ".onnx"; }

  // Runs the file on its rows (as one batch and row by row) and compares with the framework.
  void ExpectMatchesFramework(const std::string& name, double rel_tol) {
    auto model = LoadModel("onnx", Path(name));
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    auto doc = nlohmann::json::parse(*ReadFile(*dir_ + "/" + name + ".json"));
    std::vector<std::vector<float>> inputs;  // null: a missing value (NaN)
    for (const auto& row : doc["inputs"]) {
      inputs.emplace_back();
      for (const auto& v : row) inputs.back().push_back(v.is_null() ? NAN : v.get<float>());
    }
    const auto expected = doc["outputs"].get<std::vector<std::vector<double>>>();
    ASSERT_EQ((*model)->num_features(), static_cast<int>(inputs[0].size()));
    ASSERT_EQ((*model)->num_outputs(), static_cast<int>(expected[0].size()));
    std::vector<float> flat;
    for (const auto& row : inputs) flat.insert(flat.end(), row.begin(), row.end());
    auto batch = (*model)->Predict(flat);
    ASSERT_TRUE(batch.ok()) << batch.status().ToString();
    const size_t width = expected[0].size();
    double worst = 0;
    for (size_t r = 0; r < inputs.size(); ++r) {
      auto one = (*model)->Predict(inputs[r]);
      ASSERT_TRUE(one.ok()) << one.status().ToString();
      for (size_t k = 0; k < width; ++k) {
        const double want = expected[r][k];
        const double got = (*batch)[r * width + k];
        const double err = std::fabs(got - want) / std::max(1.0, std::fabs(want));
        worst = std::max(worst, err);
        EXPECT_LE(err, rel_tol) << name << " row " << r << " output " << k << ": " << got
                                << " vs " << want;
        EXPECT_EQ((*one)[k], (*batch)[r * width + k]) << "a row alone = the row in a batch";
      }
    }
    RecordProperty(name + "_worst_relative_error", std::to_string(worst));
  }
  void ExpectRefused(const std::string& name, const std::string& message) {
    auto model = LoadModel("onnx", Path(name));
    ASSERT_FALSE(model.ok()) << name << " loaded";
    EXPECT_NE(model.status().message().find(message), std::string::npos)
        << model.status().ToString();
    EXPECT_NE(model.status().message().find(Path(name)), std::string::npos)
        << "the error names the file: " << model.status().ToString();
  }

  static std::string* dir_;
  static bool made_;
};
std::string* OnnxModelTest::dir_ = nullptr;
bool OnnxModelTest::made_ = false;

TEST_F(OnnxModelTest, PyTorchExportMatchesPyTorch) { ExpectMatchesFramework("torch_mlp", 1e-5); }

TEST_F(OnnxModelTest, XgboostRegressorAsTreeEnsembleMatchesXgboost) {
  ExpectMatchesFramework("xgb_reg", 1e-5);
}

TEST_F(OnnxModelTest, XgboostClassifiersAsTreeEnsembleMatchXgboost) {
  ExpectMatchesFramework("xgb_binary", 1e-5);
  ExpectMatchesFramework("xgb_multi", 1e-5);
}

TEST_F(OnnxModelTest, ShapeOperatorsMatchNumpy) { ExpectMatchesFramework("numpy_ops", 1e-5); }

// ONNX out: XGBoost models exported by us give XGBoost's own answers when read back.
TEST_F(OnnxModelTest, ExportedXgboostEnsemblesMatchXgboost) {
  for (const std::string name : {"xgb_reg", "xgb_binary"}) {
    auto text = ReadFile(*dir_ + "/" + name + ".model.json");
    ASSERT_TRUE(text.ok()) << text.status().ToString();
    auto trees = native::ParseXgboostJson(*text, name);
    ASSERT_TRUE(trees.ok()) << trees.status().ToString();
    ASSERT_TRUE(ExportTreeEnsemble(*trees, Path(name + "_exported")).ok());
    auto exported = LoadModel("onnx", Path(name + "_exported"));
    ASSERT_TRUE(exported.ok()) << exported.status().ToString();
    auto doc = nlohmann::json::parse(*ReadFile(*dir_ + "/" + name + ".json"));
    for (const auto& [row, want] : [&] {
           std::vector<std::pair<std::vector<float>, double>> out;
           for (size_t r = 0; r < doc["inputs"].size(); ++r) {
             std::vector<float> x;
             for (const auto& v : doc["inputs"][r]) x.push_back(v.is_null() ? NAN : v.get<float>());
             out.push_back({x, doc["outputs"][r].back().get<double>()});  // P(class 1) for binary
           }
           return out;
         }()) {
      auto got = (*exported)->Predict(row);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      EXPECT_NEAR((*got)[0], want, 1e-5 * std::max(1.0, std::fabs(want))) << name;
    }
  }
}

TEST_F(OnnxModelTest, UnsupportedOrBrokenFilesAreRefusedWithTheReason) {
  ExpectRefused("bad_operator", "operator 'Erf' is not supported");
  ExpectRefused("bad_attribute", "attribute 'alpha_beta' is not supported");
  ExpectRefused("bad_two_inputs", "more than one input");
  ExpectRefused("bad_order", "input 'h' is not defined before it");
  ExpectRefused("bad_reshape", "holds more than");
  ExpectRefused("bad_truncated", "not an ONNX model");
  auto missing = LoadModel("onnx", *dir_ + "/nope.onnx");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
  for (const std::string& bytes : {std::string(), std::string("\x08\x07garbage", 9),
                                  std::string(1000, '\xff')}) {
    auto m = LoadOnnxModelFromBytes(bytes, "bytes.onnx");
    EXPECT_FALSE(m.ok());
  }
}

TEST_F(OnnxModelTest, WidthsStatedByTheManifestAreChecked) {
  LoadOptions o;
  o.num_features = 9;
  auto m = LoadModel("onnx", Path("torch_mlp"), o);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("takes 7 features, 9 expected"), std::string::npos)
      << m.status().ToString();
  o = {};
  o.num_outputs = 1;
  m = LoadModel("onnx", Path("torch_mlp"), o);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("makes 2 outputs, 1 expected"), std::string::npos);
}

TEST_F(OnnxModelTest, ABadRowIsAnErrorNotACrash) {
  auto model = LoadModel("onnx", Path("torch_mlp"));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  std::vector<float> row = {999, 1, 0, 0, 0, 0, 0};  // zone 999: beyond the embedding table
  auto out = (*model)->Predict(row);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("out of range"), std::string::npos)
      << out.status().ToString();
  row[0] = std::nanf("");
  EXPECT_FALSE((*model)->Predict(row).ok()) << "NaN is no zone id";
}

}  // namespace
}  // namespace bimride::models::onnx_backend
