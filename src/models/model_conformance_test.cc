// The shared conformance test: every registered backend, one row each in kBackends.
// For each: save → load gives the training-side predictions (when the row has them) and a
// byte-for-byte copy of the artifact loads to identical predictions; a batch equals row-by-row
// prediction; concurrent Predict from several threads equals serial; missing, garbage and
// truncated artifacts give a clear Status (no crash); a wrong input width is InvalidArgument.
// Adding a backend: one row (name, how to make an artifact, tolerances).
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <random>
#include <thread>

#include "models/model.h"
#include "models/model_test_util.h"
#include "models/native/native_mlp_model.h"
#include "models/onnx/onnx_export.h"
#include "models/seed_ensemble.h"
#if defined(BIMRIDE_HAVE_TORCH)
#include "models/torch/tabular_net.h"
#endif
#if defined(BIMRIDE_HAVE_XGBOOST)
#include "models/xgboost/xgboost_trainer.h"
#endif

namespace bimride::models {
namespace {

namespace fs = std::filesystem;
using testing::ExpectClose;

struct Artifact {
  std::string path;                // what LoadModel gets (file or folder)
  std::vector<std::string> files;  // files inside `dir` to damage in the bad-artifact test
  std::vector<float> expected;     // training-side predictions on Probe(), empty if none
};

struct BackendRow {
  const char* backend;
  std::function<StatusOr<Artifact>(const std::string& dir)> make;
  double expected_tolerance;  // artifact vs training-side predictions
  double batch_tolerance;     // batch vs single rows, concurrent vs serial (0 = bit-identical)
};

void PrintTo(const BackendRow& row, std::ostream* os) { *os << row.backend; }

constexpr int kFeatures = 4;
std::vector<float> Probe() { return testing::RandomInputs(97, kFeatures, 21, false); }

#if defined(BIMRIDE_HAVE_TORCH)
StatusOr<Artifact> MakeTabularNetArtifact(const std::string& dir, bool torchscript,
                                          uint64_t seed = 42) {
  torch_backend::TabularNetOptions o;
  o.seed = seed;
  o.categorical = {{0, 10, 3}, {1, 24, 2}};
  o.hidden_sizes = {8};
  o.epochs = 1;
  ASSIGN_OR_RETURN(auto trained, torch_backend::TrainTabularNet(
                                     testing::MakeSyntheticData(300, 2, 5), nullptr, o));
  RETURN_IF_ERROR(torch_backend::ExportTabularNet(trained.net, dir));
  ASSIGN_OR_RETURN(auto reference, native::MakeNativeMlpModel(trained.net));
  ASSIGN_OR_RETURN(std::vector<float> expected, reference->Predict(Probe()));
  if (torchscript) return Artifact{dir + "/model.pt", {"model.pt"}, expected};
  return Artifact{dir, {"net.json", "weights.bin"}, expected};
}
#else
// Without LibTorch the native MLP's files are written directly: a small net with seeded
// weights (two embedded id columns, two numeric columns, one hidden layer, two outputs).
StatusOr<Artifact> MakeNativeMlpArtifact(const std::string& dir, uint32_t seed = 7) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> w(0, 0.3f);
  native::MlpNet net;
  net.num_features = kFeatures;
  net.categorical = {{0, 10, 3}, {1, 24, 2}};
  for (const auto& c : net.categorical) {
    std::vector<float> e(static_cast<size_t>(c.cardinality * c.embedding_dim));
    for (float& v : e) v = w(rng);
    net.embeddings.push_back(e);
  }
  net.numeric_columns = {2, 3};
  net.numeric_mean = {0.5f, -0.2f};
  net.numeric_std = {1.5f, 0.8f};
  for (auto [in, out] : {std::pair{7, 8}, std::pair{8, 2}}) {
    native::DenseLayer layer{in, out, std::vector<float>(in * out), std::vector<float>(out)};
    for (float& v : layer.weight) v = w(rng);
    for (float& v : layer.bias) v = w(rng);
    net.layers.push_back(layer);
  }
  RETURN_IF_ERROR(native::WriteMlpNet(net, dir));
  ASSIGN_OR_RETURN(auto reference, native::MakeNativeMlpModel(net));
  ASSIGN_OR_RETURN(std::vector<float> expected, reference->Predict(Probe()));
  return Artifact{dir, {"net.json", "weights.bin"}, expected};
}
#endif

// The onnx backend runs the same net exported to ONNX (onnx_export.h).
StatusOr<Artifact> MakeOnnxArtifact(const std::string& dir) {
#if defined(BIMRIDE_HAVE_TORCH)
  ASSIGN_OR_RETURN(Artifact net, MakeTabularNetArtifact(dir, false));
#else
  ASSIGN_OR_RETURN(Artifact net, MakeNativeMlpArtifact(dir));
#endif
  ASSIGN_OR_RETURN(native::MlpNet mlp, native::ReadMlpNet(net.path));
  RETURN_IF_ERROR(onnx_backend::ExportMlpNet(mlp, dir + "/model.onnx"));
  return Artifact{dir + "/model.onnx", {"model.onnx"}, net.expected};
}

// The seed_ensemble backend: two native MLPs made with different seeds, loaded through the
// ensemble's folder; its prediction is the members' mean.
StatusOr<Artifact> MakeSeedEnsembleArtifact(const std::string& dir) {
  std::vector<SeedEnsembleMember> refs;
  std::vector<float> expected;
  std::vector<std::string> files = {kSeedEnsembleFile};
  for (int i = 0; i < 2; ++i) {
    const std::string sub = "member_" + std::to_string(i);
    fs::create_directories(dir + "/" + sub);
#if defined(BIMRIDE_HAVE_TORCH)
    ASSIGN_OR_RETURN(Artifact m, MakeTabularNetArtifact(dir + "/" + sub, false, 42 + i));
#else
    ASSIGN_OR_RETURN(Artifact m, MakeNativeMlpArtifact(dir + "/" + sub, 7 + i));
#endif
    refs.push_back({"native_mlp", sub});
    for (const std::string& f : m.files) files.push_back(sub + "/" + f);
    if (expected.empty()) expected.assign(m.expected.size(), 0.0f);
    for (size_t k = 0; k < expected.size(); ++k) expected[k] += m.expected[k] / 2.0f;
  }
  RETURN_IF_ERROR(WriteFileAtomic(dir + "/" + kSeedEnsembleFile, SeedEnsembleToJson(refs)));
  return Artifact{dir, files, expected};
}

#if defined(BIMRIDE_HAVE_XGBOOST)
StatusOr<Artifact> MakeXgboostArtifact(const std::string& dir) {
  xgboost_backend::XgboostOptions o;
  o.rounds = 10;
  o.max_depth = 4;
  o.objective = "count:poisson";
  ASSIGN_OR_RETURN(auto trained, xgboost_backend::TrainXgboost(
                                     testing::MakeSyntheticData(500, 2, 6, true), nullptr, o));
  // Two outputs: a folder with one model per output.
  RETURN_IF_ERROR(xgboost_backend::SaveXgboostModel(trained, dir + "/model"));
  return Artifact{dir + "/model", {"model/output_0.json", "model/output_1.json"}, {}};
}
#endif

const std::vector<BackendRow>& Backends() {
  static const auto* rows = new std::vector<BackendRow> {
#if defined(BIMRIDE_HAVE_TORCH)
    {"torchscript", [](const std::string& d) { return MakeTabularNetArtifact(d, true); }, 1e-4,
     1e-6},
        {"native_mlp", [](const std::string& d) { return MakeTabularNetArtifact(d, false); }, 0, 0},
        {"torch_eager", [](const std::string& d) { return MakeTabularNetArtifact(d, false); }, 1e-5,
         1e-6},
#else
    {"native_mlp", [](const std::string& d) { return MakeNativeMlpArtifact(d); }, 0, 0},
#endif
        {"onnx", MakeOnnxArtifact, 1e-5, 0}, {"seed_ensemble", MakeSeedEnsembleArtifact, 1e-5, 0},
#if defined(BIMRIDE_HAVE_XGBOOST)
        {"xgboost", MakeXgboostArtifact, 0, 0}, {"native_trees", MakeXgboostArtifact, 0, 0},
#endif
  };
  return *rows;
}

class ModelConformanceTest : public ::testing::TestWithParam<BackendRow> {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir(std::string("conf_") + GetParam().backend);
    StatusOr<Artifact> a = GetParam().make(dir_);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    artifact_ = *a;
    auto m = LoadModel(GetParam().backend, artifact_.path);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    model_ = std::move(m).value();
  }
  std::string dir_;
  Artifact artifact_;
  std::unique_ptr<Model> model_;
};

TEST(ModelConformanceRegistryTest, EveryRowIsRegisteredAndEveryBackendHasARow) {
  std::vector<std::string> rows;
  for (const BackendRow& r : Backends()) rows.push_back(r.backend);
#if !defined(BIMRIDE_HAVE_XGBOOST)
  // native_trees loads XGBoost's JSON models; without XGBoost this test cannot make one.
  rows.push_back("native_trees");
#endif
  std::sort(rows.begin(), rows.end());
  EXPECT_EQ(RegisteredModelBackends(), rows);
}

TEST_P(ModelConformanceTest, SaveLoadRoundTripKeepsPredictions) {
  EXPECT_EQ(model_->backend(), GetParam().backend);
  EXPECT_EQ(model_->num_features(), kFeatures);
  auto first = model_->Predict(Probe());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  if (!artifact_.expected.empty()) {
    ExpectClose(*first, artifact_.expected, GetParam().expected_tolerance, "vs training side");
  }
  // A copy of the artifact somewhere else (as a registry would store it) loads the same.
  std::string copy = testing::MakeTempDir("conf_copy") + "/artifact";
  fs::copy(artifact_.path, copy, fs::copy_options::recursive);
  auto again = LoadModel(GetParam().backend, copy);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  auto second = (*again)->Predict(Probe());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, *second);
}

TEST_P(ModelConformanceTest, BatchEqualsRowByRow) {
  std::vector<float> x = Probe();
  auto batch = model_->Predict(x);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  std::vector<float> single;
  for (size_t r = 0; r < x.size() / kFeatures; ++r) {
    auto y = model_->Predict(
        std::vector<float>(x.begin() + r * kFeatures, x.begin() + (r + 1) * kFeatures));
    ASSERT_TRUE(y.ok());
    single.insert(single.end(), y->begin(), y->end());
  }
  ExpectClose(single, *batch, GetParam().batch_tolerance, "row by row vs batch");
  auto empty = model_->Predict(std::vector<float>{});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST_P(ModelConformanceTest, ConcurrentPredictEqualsSerial) {
  std::vector<float> x = Probe();
  auto serial = model_->Predict(x);
  ASSERT_TRUE(serial.ok());
  std::vector<std::vector<float>> results(4);
  std::vector<Status> statuses(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        auto y = model_->Predict(x);
        if (!y.ok()) {
          statuses[t] = y.status();
          return;
        }
        results[t] = *y;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int t = 0; t < 4; ++t) {
    ASSERT_TRUE(statuses[t].ok()) << statuses[t].ToString();
    ExpectClose(results[t], *serial, GetParam().batch_tolerance, "thread vs serial");
  }
}

TEST_P(ModelConformanceTest, BadArtifactsGiveAClearStatus) {
  auto missing = LoadModel(GetParam().backend, dir_ + "/no_such_artifact");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
  for (const std::string& file : artifact_.files) {
    std::string path = dir_ + "/" + file;
    auto original = ReadFile(path);
    ASSERT_TRUE(original.ok());
    for (std::string damaged :
         {std::string("\x89garbage\0bytes here", 20), original->substr(0, original->size() / 2)}) {
      ASSERT_TRUE(WriteFileAtomic(path, damaged).ok());
      auto m = LoadModel(GetParam().backend, artifact_.path);
      EXPECT_FALSE(m.ok()) << file << " damaged (" << damaged.size() << " bytes) still loads";
      if (!m.ok()) {
        EXPECT_FALSE(m.status().message().empty());
        EXPECT_EQ(m.status().message().find('\n'), std::string::npos) << m.status().message();
      }
    }
    ASSERT_TRUE(WriteFileAtomic(path, *original).ok());
  }
}

TEST_P(ModelConformanceTest, WrongInputWidthIsInvalidArgument) {
  std::vector<float> x(kFeatures * 3 + 1, 1.0f);
  auto y = model_->Predict(x);
  ASSERT_FALSE(y.ok());
  EXPECT_EQ(y.status().code(), StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(AllBackends, ModelConformanceTest, ::testing::ValuesIn(Backends()),
                         [](const ::testing::TestParamInfo<BackendRow>& info) {
                           return std::string(info.param.backend);
                         });

}  // namespace
}  // namespace bimride::models
