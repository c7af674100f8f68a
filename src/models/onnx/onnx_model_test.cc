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
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/file.h"
#include "models/native/mlp_net.h"
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

// ONNX Runtime (onnxruntime-node's native library, bench/peers/frameworks) on the same files
// and rows: the imported files give ONNX Runtime's answers in our backend, and the files we
// export give our backends' answers in ONNX Runtime.
class OnnxRuntimeParityTest : public OnnxModelTest {
 protected:
  // ONNX Runtime's outputs for `rows_json` ({"inputs": rows}).
  std::vector<std::vector<double>> RunOrt(const std::string& model, const std::string& rows_json) {
    const std::string out = *dir_ + "/ort_out.json";
    const std::string cmd = std::string("node ") + BIMRIDE_ORT_RUN_SCRIPT + " " + model + " " +
                            rows_json + " > " + out + " 2> " + out + ".err";
    const int rc = std::system(cmd.c_str());
    auto err = ReadFile(out + ".err");
    EXPECT_EQ(rc, 0) << "ONNX Runtime failed on " << model << ": " << (err.ok() ? *err : "");
    auto text = ReadFile(out);
    if (!text.ok()) return {};
    return nlohmann::json::parse(*text)["outputs"].get<std::vector<std::vector<double>>>();
  }
  void ExpectSame(const std::string& what, const std::vector<std::vector<double>>& ort,
                  const std::vector<float>& ours, int width) {
    ASSERT_EQ(ort.size() * width, ours.size()) << what;
    for (size_t r = 0; r < ort.size(); ++r) {
      ASSERT_EQ(ort[r].size(), static_cast<size_t>(width)) << what;
      for (int k = 0; k < width; ++k) {
        EXPECT_LE(std::fabs(ours[r * width + k] - ort[r][k]) / std::max(1.0, std::fabs(ort[r][k])),
                  1e-5)
            << what << " row " << r << " output " << k;
      }
    }
  }
  static std::vector<float> Rows(const std::string& rows_json) {
    std::vector<float> flat;
    const nlohmann::json doc = nlohmann::json::parse(*ReadFile(rows_json));
    for (const auto& row : doc["inputs"]) {
      for (const auto& v : row) flat.push_back(v.is_null() ? NAN : v.get<float>());
    }
    return flat;
  }
};

TEST_F(OnnxRuntimeParityTest, ImportedFilesGiveOnnxRuntimesAnswers) {
  for (const std::string name : {"torch_mlp", "xgb_reg", "xgb_binary", "xgb_multi", "numpy_ops"}) {
    const std::string rows = *dir_ + "/" + name + ".json";
    auto model = LoadModel("onnx", Path(name));
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    auto ours = (*model)->Predict(Rows(rows));
    ASSERT_TRUE(ours.ok()) << ours.status().ToString();
    ExpectSame(name, RunOrt(Path(name), rows), *ours, (*model)->num_outputs());
  }
}

TEST_F(OnnxRuntimeParityTest, ExportedModelsGiveOurBackendsAnswersInOnnxRuntime) {
  // Trees: XGBoost's own JSON, run by native_trees, exported.
  for (const std::string name : {"xgb_reg", "xgb_binary"}) {
    auto check = ExportArtifactToOnnx("native_trees", *dir_ + "/" + name + ".model.json",
                                      Path(name + "_out"));
    ASSERT_TRUE(check.ok()) << check.status().ToString();
    auto source = LoadModel("native_trees", *dir_ + "/" + name + ".model.json");
    ASSERT_TRUE(source.ok());
    const std::string rows = *dir_ + "/" + name + ".json";
    auto ours = (*source)->Predict(Rows(rows));
    ASSERT_TRUE(ours.ok());
    ExpectSame(name + " exported", RunOrt(Path(name + "_out"), rows), *ours, 1);
  }
  // A net: two embedded ids, three numeric columns, a Poisson output, written and exported.
  native::MlpNet net;
  net.num_features = 5;
  net.categorical = {{0, 12, 3}, {1, 7, 2}};
  net.embeddings = {std::vector<float>(36), std::vector<float>(14)};
  for (size_t k = 0; k < 36; ++k) net.embeddings[0][k] = std::sin(0.7f * k);
  for (size_t k = 0; k < 14; ++k) net.embeddings[1][k] = std::cos(0.3f * k);
  net.numeric_columns = {2, 3, 4};
  net.numeric_mean = {0.5f, -1.0f, 2.0f};
  net.numeric_std = {2.0f, 0.5f, 1.5f};
  net.layers = {{8, 6, std::vector<float>(48), std::vector<float>(6, 0.1f)},
                {6, 2, std::vector<float>(12), std::vector<float>(2, -0.2f)}};
  for (size_t k = 0; k < 48; ++k) net.layers[0].weight[k] = 0.3f * std::sin(1.3f * k);
  for (size_t k = 0; k < 12; ++k) net.layers[1].weight[k] = 0.2f * std::cos(0.9f * k);
  net.output_transform = native::OutputTransform::kExp;
  ASSERT_TRUE(native::WriteMlpNet(net, *dir_ + "/net").ok());
  auto check = ExportArtifactToOnnx("native_mlp", *dir_ + "/net", Path("net_out"));
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  nlohmann::json rows_doc = {{"inputs", nlohmann::json::array()}};
  for (int r = 0; r < 50; ++r) {
    rows_doc["inputs"].push_back({r % 12, (r * 5) % 9, 0.1 * r, std::sin(r), -0.05 * r});
  }
  ASSERT_TRUE(WriteFileAtomic(*dir_ + "/net_rows.json", rows_doc.dump()).ok());
  auto source = LoadModel("native_mlp", *dir_ + "/net");
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  auto ours = (*source)->Predict(Rows(*dir_ + "/net_rows.json"));
  ASSERT_TRUE(ours.ok());
  ExpectSame("exported net (ids 7 and 8 beyond the second table: clamped by both)",
             RunOrt(Path("net_out"), *dir_ + "/net_rows.json"), *ours, 2);
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

TEST_F(OnnxModelTest, ASliceWithoutItsDataInputIsRefusedNotACrash) {
  // Found by onnx_model_fuzzer: a Slice node with no inputs, run when the model is probed at
  // load; Slice read its data input before checking it had one.
  static const unsigned char kFile[] = {
    0x08, 0x08, 0x3a, 0x9b, 0x05, 0x0a, 0x17, 0x0a, 0x01, 0x58, 0x0a, 0x06, 0x73, 0x68, 0x61, 0x70,
    0x65, 0x33, 0x12, 0x01, 0x72, 0x22, 0x07, 0x52, 0x65, 0x73, 0x68, 0x61, 0x70, 0x65, 0x0a, 0x1c,
    0x0a, 0x01, 0x72, 0x12, 0x01, 0x66, 0x22, 0x07, 0x46, 0x6c, 0x61, 0x74, 0x74, 0x65, 0x6e, 0x2a,
    0x0b, 0x0a, 0x04, 0x61, 0x78, 0x69, 0x73, 0x18, 0x01, 0xa0, 0x01, 0x02, 0x0a, 0x20, 0x0a, 0x01,
    0x66, 0x0a, 0x04, 0x7a, 0x65, 0x72, 0x6f, 0x0a, 0x04, 0x66, 0x6f, 0x75, 0x72, 0x0a, 0x05, 0x61,
    0x78, 0x69, 0x73, 0x31, 0x12, 0x01, 0x73, 0x22, 0x05, 0x53, 0x6c, 0x69, 0x63, 0x65, 0x0a, 0x11,
    0x0a, 0x01, 0x73, 0x0a, 0x01, 0x57, 0x12, 0x01, 0x6d, 0x22, 0x06, 0x4d, 0x61, 0x74, 0x4d, 0x75,
    0x6c, 0x0a, 0x10, 0x0a, 0x01, 0x6d, 0x0a, 0x03, 0x74, 0x77, 0x6f, 0x12, 0x01, 0x64, 0x22, 0x03,
    0x44, 0x69, 0x76, 0x0a, 0x26, 0x0a, 0x01, 0x64, 0x12, 0x02, 0x73, 0x6d, 0x22, 0x07, 0x53, 0x6f,
    0x66, 0x74, 0x6d, 0x61, 0x78, 0x2a, 0x14, 0x0a, 0x04, 0x61, 0x78, 0x69, 0x73, 0x18, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0xa0, 0x01, 0x02, 0x0a, 0x0b, 0x0a, 0x01, 0x64,
    0x12, 0x01, 0x65, 0x22, 0x03, 0x45, 0x78, 0x70, 0x0a, 0x10, 0x0a, 0x01, 0x65, 0x0a, 0x02, 0x73,
    0x6d, 0x12, 0x02, 0x65, 0x73, 0x22, 0x03, 0x53, 0x75, 0x62, 0x0a, 0x19, 0x0a, 0x02, 0x65, 0x73,
    0x0a, 0x05, 0x61, 0x78, 0x69, 0x73, 0x31, 0x12, 0x01, 0x75, 0x22, 0x09, 0x55, 0x6e, 0x73, 0x71,
    0x75, 0x65, 0x65, 0x7a, 0x65, 0x0a, 0x16, 0x0a, 0x01, 0x75, 0x0a, 0x05, 0x61, 0x78, 0x69, 0x73,
    0x31, 0x12, 0x01, 0x71, 0x22, 0x07, 0x53, 0x71, 0x75, 0x65, 0x65, 0x7a, 0x65, 0x0a, 0x0f, 0x0a,
    0x01, 0x71, 0x12, 0x03, 0x73, 0x68, 0x70, 0x22, 0x05, 0x53, 0x68, 0x61, 0x70, 0x65, 0x0a, 0x1c,
    0x0a, 0x03, 0x73, 0x68, 0x70, 0x12, 0x04, 0x73, 0x68, 0x70, 0x66, 0x22, 0x04, 0x43, 0x61, 0x73,
    0x74, 0x2a, 0x09, 0x0a, 0x02, 0x74, 0x6f, 0x18, 0x01, 0xa0, 0x01, 0x02, 0x0a, 0x21, 0xf9, 0x04,
    0x73, 0x68, 0x70, 0x66, 0x0a, 0x05, 0x61, 0x78, 0x69, 0x73, 0x31, 0x0a, 0x04, 0x66, 0x6f, 0x75,
    0x72, 0x12, 0x05, 0x77, 0x69, 0x64, 0x74, 0x68, 0x22, 0x05, 0x53, 0x6c, 0x69, 0x63, 0x65, 0x0a,
    0x13, 0x0a, 0x01, 0x71, 0x0a, 0x05, 0x77, 0x69, 0x64, 0x74, 0x68, 0x12, 0x02, 0x71, 0x77, 0x22,
    0x03, 0x4d, 0x75, 0x6c, 0x0a, 0x16, 0x0a, 0x02, 0x71, 0x77, 0x0a, 0x06, 0x6d, 0x69, 0x6e, 0x75,
    0x73, 0x31, 0x12, 0x02, 0x71, 0x63, 0x22, 0x04, 0x43, 0x6c, 0x69, 0x70, 0x0a, 0x20, 0x0a, 0x02,
    0x71, 0x63, 0x0a, 0x02, 0x73, 0x6d, 0x12, 0x01, 0x59, 0x22, 0x06, 0x43, 0x6f, 0x6e, 0x63, 0x61,
    0x74, 0x2a, 0x0b, 0x0a, 0x04, 0x61, 0x78, 0x69, 0x73, 0x18, 0x01, 0xa0, 0x01, 0x02, 0x12, 0x09,
    0x6e, 0x75, 0x6d, 0x70, 0x79, 0x5f, 0x6f, 0x70, 0x73, 0x2a, 0x3b, 0x08, 0x04, 0x08, 0x03, 0x10,
    0x01, 0x42, 0x01, 0x57, 0x4a, 0x30, 0x09, 0xbc, 0xa3, 0x3e, 0x55, 0xec, 0xfd, 0x3f, 0x12, 0xb4,
    0xc7, 0x3f, 0x75, 0x7d, 0x66, 0xbd, 0xe2, 0xc9, 0x65, 0x3f, 0x4d, 0x82, 0x2c, 0xbf, 0x99, 0x5a,
    0xb9, 0xbf, 0xe3, 0xe7, 0x0d, 0x3f, 0x44, 0x74, 0x7c, 0x3e, 0x63, 0x9f, 0x03, 0x3f, 0xeb, 0x55,
    0xca, 0xbc, 0xcb, 0xe5, 0xa6, 0x3e, 0x2a, 0x26, 0x08, 0x03, 0x10, 0x07, 0x42, 0x06, 0x73, 0x68,
    0x61, 0x70, 0x65, 0x33, 0x4a, 0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, 0x15,
    0x08, 0x01, 0x10, 0x07, 0x42, 0x05, 0x61, 0x78, 0x69, 0x73, 0x31, 0x4a, 0x08, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, 0x14, 0x08, 0x01, 0x10, 0x07, 0x42, 0x04, 0x7a, 0x65, 0x72,
    0x6f, 0x4a, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, 0x14, 0x08, 0x01, 0x10,
    0x07, 0x42, 0x04, 0x66, 0x6f, 0x75, 0x72, 0x4a, 0x08, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x2a, 0x0f, 0x08, 0x01, 0x10, 0x01, 0x42, 0x03, 0x74, 0x77, 0x6f, 0x4a, 0x04, 0x00, 0x00,
    0x00, 0x40, 0x2a, 0x10, 0x10, 0x01, 0x42, 0x06, 0x6d, 0x69, 0x6e, 0x75, 0x73, 0x31, 0x4a, 0x04,
    0x00, 0x00, 0x80, 0xbf, 0x5a, 0x14, 0x0a, 0x01, 0x58, 0x12, 0x0f, 0x0a, 0x0d, 0x08, 0x01, 0x12,
    0x09, 0x0a, 0x03, 0x12, 0x01, 0x6e, 0x0a, 0x02, 0x08, 0x06, 0x62, 0x14, 0x0a, 0x01, 0x59, 0x12,
    0x0f, 0x0a, 0x0d, 0x08, 0x01, 0x12, 0x09, 0x0a, 0x03, 0x12, 0x01, 0x6e, 0x0a, 0x02, 0x08, 0x06,
    0x42, 0x04, 0x0a, 0x00, 0x10, 0x0d,
  };
  auto m = LoadOnnxModelFromBytes(std::string(std::begin(kFile), std::end(kFile)), "fuzz.onnx");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("inputs, has 0"), std::string::npos) << m.status().ToString();
}

}  // namespace
}  // namespace bimride::models::onnx_backend
