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
  // y = W x + b as a sum of scaled weight rows (axpy form: vectorises without reassociation).
  static void DenseForward(const Layer& layer, const float* __restrict x, float* __restrict y,
                           bool relu) {
    const int n = layer.out;
    std::copy(layer.bias.begin(), layer.bias.end(), y);
    const float* w = layer.weight_t.data();
    for (int i = 0; i < layer.in; ++i) {
      const float xi = x[i];
      const float* wi = w + static_cast<size_t>(i) * n;
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
