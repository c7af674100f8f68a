#include <gtest/gtest.h>

#include <cmath>

#include "common/file.h"
#include "models/model_test_util.h"
#include "models/native/mlp_net.h"
#include "models/native/native_mlp_model.h"

namespace bimride::models::native {
namespace {

// Column 0: id with cardinality 3 (embedding dim 2); column 1: numeric (mean 1, std 2).
// h = [e0, e1, z] → relu(W0 h + b0) → W1 · + b1.
MlpNet HandNet() {
  MlpNet net;
  net.num_features = 2;
  net.categorical = {{0, 3, 2}};
  net.embeddings = {{0, 0, 1, 2, 3, 4}};
  net.numeric_columns = {1};
  net.numeric_mean = {1};
  net.numeric_std = {2};
  net.layers.push_back({3, 2, {1, 0, 1, 0, 1, -1}, {0, -10}});
  net.layers.push_back({2, 1, {1, 1}, {0.5f}});
  return net;
}

TEST(NativeMlpTest, ComputesTheDocumentedForwardPass) {
  auto model = MakeNativeMlpModel(HandNet());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  // id 1, z = 2 → [1+2, 2-2-10 → 0] → 3.5; id 2.9 → 2, z = -1 → [2, 0] → 2.5;
  // NaN and negative ids → 0, z = 1 → [1, 0] → 1.5; id 7 clamps to 2, z = 0 → [3, 0] → 3.5.
  auto y = (*model)->Predict({1, 5, 2.9f, -1, NAN, 3, -4, 3, 7, 1});
  ASSERT_TRUE(y.ok());
  EXPECT_EQ(*y, (std::vector<float>{3.5f, 2.5f, 1.5f, 1.5f, 3.5f}));
}

// The forward pass written the plainest way: every layer output is its bias plus the inputs'
// products, each added with one fused multiply-add, in input order — what native_mlp promises
// on every CPU (its AVX-512, AVX2 and portable kernels alike).
std::vector<float> ReferenceForward(const MlpNet& net, const std::vector<float>& x) {
  std::vector<float> h(net.numeric_columns.size());
  for (size_t i = 0; i < h.size(); ++i) {
    h[i] = (x[net.numeric_columns[i]] - net.numeric_mean[i]) / net.numeric_std[i];
  }
  for (size_t l = 0; l < net.layers.size(); ++l) {
    const DenseLayer& layer = net.layers[l];
    std::vector<float> y(layer.out);
    for (int o = 0; o < layer.out; ++o) {
      float acc = layer.bias[o];
      for (int i = 0; i < layer.in; ++i) acc = std::fma(h[i], layer.weight[o * layer.in + i], acc);
      y[o] = l + 1 < net.layers.size() && acc < 0 ? 0 : acc;
    }
    h = y;
  }
  return h;
}

TEST(NativeMlpTest, WideLayersGiveExactlyThePlainForwardPass) {
  // Widths that are not multiples of the vector or block sizes (tails of 5-7 AVX2 registers,
  // 7 AVX-512 ones: ASan caught unmasked loads past the end there), ReLU zeros in every hidden
  // layer, and inputs that are exactly zero.
  MlpNet net;
  net.num_features = 37;
  for (int c = 0; c < 37; ++c) {
    net.numeric_columns.push_back(c);
    net.numeric_mean.push_back(c % 3 == 0 ? 0.0f : 0.5f);
    net.numeric_std.push_back(1.0f + c % 5);
  }
  uint32_t state = 12345;
  auto next = [&state] {
    state = state * 1664525u + 1013904223u;
    return static_cast<float>(static_cast<int>(state >> 8) % 2001 - 1000) / 997.0f;
  };
  int in = 37;
  for (int out : {67, 100, 33, 3}) {  // every tail width of the AVX-512 and AVX2 tiles
    DenseLayer layer{in, out, {}, {}};
    for (int k = 0; k < in * out; ++k) layer.weight.push_back(next());
    for (int o = 0; o < out; ++o) layer.bias.push_back(next());
    net.layers.push_back(layer);
    in = out;
  }
  auto model = MakeNativeMlpModel(net);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  std::vector<std::vector<float>> rows;
  for (int row = 0; row < 20; ++row) {
    std::vector<float> x(37);
    for (int c = 0; c < 37; ++c) x[c] = (c + row) % 3 == 0 ? net.numeric_mean[c] : next() * 3;
    rows.push_back(x);
  }
  // Every kernel this CPU has (AVX-512, AVX2, portable), each held to the same floats.
  const std::vector<std::string> kernels = DenseKernelNames();
  ASSERT_FALSE(kernels.empty());
  EXPECT_EQ(kernels.back(), "portable");
  for (const std::string& kernel : kernels) {
    ASSERT_TRUE(UseDenseKernel(kernel).ok());
    for (size_t row = 0; row < rows.size(); ++row) {
      auto y = (*model)->Predict(rows[row]);
      ASSERT_TRUE(y.ok());
      EXPECT_EQ(*y, ReferenceForward(net, rows[row])) << kernel << ", row " << row;
    }
  }
  ASSERT_TRUE(UseDenseKernel(kernels.front()).ok());
  EXPECT_EQ(UseDenseKernel("sse9").code(), StatusCode::kInvalidArgument);
}

TEST(NativeMlpTest, ExpTransformForPoissonNets) {
  MlpNet net = HandNet();
  net.output_transform = OutputTransform::kExp;
  auto model = MakeNativeMlpModel(net);
  ASSERT_TRUE(model.ok());
  auto y = (*model)->Predict({1, 5});
  ASSERT_TRUE(y.ok());
  EXPECT_FLOAT_EQ((*y)[0], std::exp(3.5f));
}

TEST(NativeMlpTest, AveragedNetsGiveTheMeanOfTheirOutputsBeforeTheTransform) {
  MlpNet a = HandNet(), b = HandNet();
  b.embeddings = {{1, -1, 0.5f, 2, -3, 1}};
  b.layers[0].weight = {0.5f, 2, -1, 1, 0, 1};
  b.layers[0].bias = {1, 0};
  b.layers[1] = {2, 1, {2, -1}, {0.25f}};
  for (OutputTransform t : {OutputTransform::kIdentity, OutputTransform::kExp}) {
    a.output_transform = b.output_transform = t;
    auto merged = AverageMlpNets({a, b});
    ASSERT_TRUE(merged.ok()) << merged.status().ToString();
    EXPECT_EQ(merged->categorical[0].embedding_dim, 4);
    const std::vector<float> x = {1, 5, 2, -1, 0, 3, 2, 0.5f};
    std::vector<float> ya = *(*MakeNativeMlpModel(a))->Predict(x);
    std::vector<float> yb = *(*MakeNativeMlpModel(b))->Predict(x);
    std::vector<float> ym = *(*MakeNativeMlpModel(*merged))->Predict(x);
    ASSERT_EQ(ym.size(), 4u);
    for (size_t i = 0; i < ym.size(); ++i) {
      const float expected =
          t == OutputTransform::kExp ? std::sqrt(ya[i] * yb[i]) : (ya[i] + yb[i]) / 2;
      EXPECT_NEAR(ym[i], expected, 1e-4 * std::max(1.0f, std::fabs(expected))) << i;
    }
  }
  MlpNet other = HandNet();
  other.output_transform = a.output_transform;
  ASSERT_TRUE(AverageMlpNets({a, other}).ok());
  other.numeric_mean = {2};
  EXPECT_FALSE(AverageMlpNets({a, other}).ok());
  EXPECT_FALSE(AverageMlpNets({}).ok());
}

TEST(NativeMlpTest, WriteThenReadGivesTheSameNet) {
  std::string dir = testing::MakeTempDir("mlp");
  MlpNet net = HandNet();
  net.output_transform = OutputTransform::kExp;
  ASSERT_TRUE(WriteMlpNet(net, dir).ok());
  for (std::string path : {dir, dir + "/net.json"}) {
    auto read = ReadMlpNet(path);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    EXPECT_EQ(read->num_features, 2);
    EXPECT_EQ(read->embeddings, net.embeddings);
    EXPECT_EQ(read->numeric_columns, net.numeric_columns);
    EXPECT_EQ(read->numeric_std, net.numeric_std);
    ASSERT_EQ(read->layers.size(), 2u);
    EXPECT_EQ(read->layers[0].weight, net.layers[0].weight);
    EXPECT_EQ(read->layers[1].bias, net.layers[1].bias);
    EXPECT_EQ(read->output_transform, OutputTransform::kExp);
  }
}

TEST(NativeMlpTest, DamagedFilesAreClearErrors) {
  std::string dir = testing::MakeTempDir("mlp");
  EXPECT_EQ(ReadMlpNet(dir).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(WriteMlpNet(HandNet(), dir).ok());
  auto bytes = ReadFile(dir + "/weights.bin");
  ASSERT_TRUE(bytes.ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/weights.bin", bytes->substr(0, bytes->size() - 4)).ok());
  auto r = ReadMlpNet(dir);
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("weights.bin"), std::string::npos) << r.status().message();

  ASSERT_TRUE(WriteFileAtomic(dir + "/net.json", "{\"format\": \"bimride_mlp\", \"ver").ok());
  EXPECT_EQ(ReadMlpNet(dir).status().code(), StatusCode::kDataLoss);
  ASSERT_TRUE(WriteFileAtomic(dir + "/net.json", "{\"format\": \"onnx\"}").ok());
  EXPECT_EQ(ReadMlpNet(dir).status().code(), StatusCode::kInvalidArgument);
}

TEST(NativeMlpTest, InconsistentNetsAreRejected) {
  MlpNet net = HandNet();
  net.layers[1].in = 3;
  EXPECT_EQ(MakeNativeMlpModel(net).status().code(), StatusCode::kInvalidArgument);
  net = HandNet();
  net.numeric_columns = {0};  // also the categorical column
  EXPECT_EQ(MakeNativeMlpModel(net).status().code(), StatusCode::kInvalidArgument);
  net = HandNet();
  net.numeric_std = {0};
  EXPECT_EQ(MakeNativeMlpModel(net).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace bimride::models::native
