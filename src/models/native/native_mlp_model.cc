#include "models/native/native_mlp_model.h"

#include <algorithm>
#include <cmath>

namespace bimride::models::native {
namespace {

struct Layer {
  int in = 0;
  int out = 0;
  std::vector<float> weight_t;  // in × out: column j of PyTorch's out × in weight is contiguous
  std::vector<float> bias;
};

class NativeMlpModel final : public Model {
 public:
  explicit NativeMlpModel(const MlpNet& net) : net_(net) {
    for (const DenseLayer& l : net.layers) {
      Layer layer{l.in, l.out, std::vector<float>(l.weight.size()), l.bias};
      for (int o = 0; o < l.out; ++o) {
        for (int i = 0; i < l.in; ++i) layer.weight_t[i * l.out + o] = l.weight[o * l.in + i];
      }
      max_width_ = std::max({max_width_, l.in, l.out});
      layers_.push_back(std::move(layer));
    }
  }

  std::string_view backend() const override { return "native_mlp"; }
  int num_features() const override { return net_.num_features; }
  int num_outputs() const override { return net_.num_outputs(); }

  Status Predict(const float* features, int64_t rows, float* out) const override {
    if (rows < 0) return InvalidArgumentError("native_mlp: negative row count");
    thread_local std::vector<float> scratch;
    if (scratch.size() < 2 * static_cast<size_t>(max_width_)) scratch.resize(2 * max_width_);
    float* a = scratch.data();
    float* b = a + max_width_;
    const int num_outputs = net_.num_outputs();
    for (int64_t r = 0; r < rows; ++r) {
      const float* x = features + r * net_.num_features;
      int width = 0;
      for (size_t k = 0; k < net_.categorical.size(); ++k) {
        const CategoricalColumn& c = net_.categorical[k];
        float v = x[c.column];
        if (!(v >= 0)) v = 0;  // negative and NaN ids → 0
        int id = v >= static_cast<float>(c.cardinality - 1) ? c.cardinality - 1 : static_cast<int>(v);
        const float* e = net_.embeddings[k].data() + static_cast<size_t>(id) * c.embedding_dim;
        std::copy(e, e + c.embedding_dim, a + width);
        width += c.embedding_dim;
      }
      for (size_t i = 0; i < net_.numeric_columns.size(); ++i) {
        a[width++] = (x[net_.numeric_columns[i]] - net_.numeric_mean[i]) / net_.numeric_std[i];
      }
      for (size_t l = 0; l < layers_.size(); ++l) {
        const Layer& layer = layers_[l];
        const bool last = l + 1 == layers_.size();
        float* y = last ? out + r * num_outputs : b;
        DenseForward(layer, a, y, /*relu=*/!last);
        std::swap(a, b);
      }
      if (net_.output_transform == OutputTransform::kExp) {
        float* y = out + r * num_outputs;
        for (int o = 0; o < num_outputs; ++o) y[o] = std::exp(y[o]);
      }
    }
    return OkStatus();
  }

 private:
  // y = W x + b as a sum of scaled weight rows, added in input order (axpy form: vectorises
  // without reassociation, so every build gives the same floats). Inputs that are exactly
  // zero — half of a ReLU layer's, typically — add nothing and are skipped; the others go four
  // rows at a time, which reads and writes y a quarter as often. (((y + a) + b) + c) + d
  // rounds exactly as four single steps. Compiled at -O3 (CMakeLists.txt) and cloned for
  // AVX-512 / AVX2, chosen once by the CPU: a batch-1 request is this loop and little else.
  __attribute__((target_clones("avx512f", "avx2", "default"))) static void DenseForward(
      const Layer& layer, const float* __restrict x, float* __restrict y, bool relu) {
    const int n = layer.out;
    std::copy(layer.bias.begin(), layer.bias.end(), y);
    const float* w = layer.weight_t.data();
    thread_local std::vector<int> nonzero;
    nonzero.clear();
    for (int i = 0; i < layer.in; ++i) {
      if (x[i] != 0.0f) nonzero.push_back(i);
    }
    const size_t m = nonzero.size();
    size_t k = 0;
    for (; k + 4 <= m; k += 4) {
      const int i0 = nonzero[k], i1 = nonzero[k + 1], i2 = nonzero[k + 2], i3 = nonzero[k + 3];
      const float x0 = x[i0], x1 = x[i1], x2 = x[i2], x3 = x[i3];
      const float* __restrict w0 = w + static_cast<size_t>(i0) * n;
      const float* __restrict w1 = w + static_cast<size_t>(i1) * n;
      const float* __restrict w2 = w + static_cast<size_t>(i2) * n;
      const float* __restrict w3 = w + static_cast<size_t>(i3) * n;
      for (int o = 0; o < n; ++o) y[o] = y[o] + x0 * w0[o] + x1 * w1[o] + x2 * w2[o] + x3 * w3[o];
    }
    for (; k < m; ++k) {
      const float xi = x[nonzero[k]];
      const float* __restrict wi = w + static_cast<size_t>(nonzero[k]) * n;
      for (int o = 0; o < n; ++o) y[o] += xi * wi[o];
    }
    if (relu) {
      for (int o = 0; o < n; ++o) y[o] = y[o] > 0 ? y[o] : 0;
    }
  }

  MlpNet net_;
  std::vector<Layer> layers_;
  int max_width_ = 1;
};

}  // namespace

StatusOr<std::unique_ptr<Model>> MakeNativeMlpModel(const MlpNet& net) {
  RETURN_IF_ERROR(ValidateMlpNet(net));
  return std::unique_ptr<Model>(new NativeMlpModel(net));
}

StatusOr<std::unique_ptr<Model>> LoadNativeMlpModel(const std::string& artifact_path,
                                                    const LoadOptions& options) {
  ASSIGN_OR_RETURN(MlpNet net, ReadMlpNet(artifact_path));
  return MakeNativeMlpModel(net);
}

}  // namespace bimride::models::native
