#include "models/native/native_mlp_model.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <immintrin.h>
#include <vector>

namespace bimride::models::native {
namespace {

struct Layer {
  int in = 0;
  int out = 0;
  std::vector<float> weight_t;  // in × out: column j of PyTorch's out × in weight is contiguous
  std::vector<float> bias;
};

// One dense layer over the `m` nonzero inputs (`index[k]`, `value[k]`) of weights stored in × n:
// y[o] = relu?(fma(value[m-1], w[index[m-1]][o], ... fma(value[0], w[index[0]][o], bias[o]))).
using DenseKernel = void (*)(const float* w, const float* bias, int n, const int* index,
                             const float* value, int m, float* y, bool relu);

void DensePortable(const float* w, const float* bias, int n, const int* index,
                   const float* value, int m, float* y, bool relu) {
  std::copy(bias, bias + n, y);
  for (int k = 0; k < m; ++k) {
    const float v = value[k];
    const float* wk = w + static_cast<size_t>(index[k]) * n;
    for (int o = 0; o < n; ++o) y[o] = std::fma(v, wk[o], y[o]);
  }
  if (relu) {
    for (int o = 0; o < n; ++o) y[o] = y[o] > 0 ? y[o] : 0;
  }
}

// GCC 12's avx512fintrin.h trips its own -Wmaybe-uninitialized in _mm512_set1_ps at -O3.
// (Clang, which builds the fuzzers, has no such warning group.)
#pragma GCC diagnostic push
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
// A tile of 16 * V outputs from o0 (the last vector masked to the layer's end), held in V
// registers while every input is added: a weight row is read once per tile and the outputs are
// written once.
__attribute__((target("avx512f"), always_inline)) inline __m512 LoadAvx512(bool masked,
                                                                          __mmask16 mask,
                                                                          const float* p) {
  return masked ? _mm512_maskz_loadu_ps(mask, p) : _mm512_loadu_ps(p);
}

template <int V>
__attribute__((target("avx512f"), always_inline)) inline void TileAvx512(
    const float* w, const float* bias, int n, int o0, const int* index, const float* value,
    int m, float* y, bool relu) {
  const int left = std::clamp(n - o0 - 16 * (V - 1), 0, 16);
  const __mmask16 last = static_cast<__mmask16>((1u << left) - 1);
  __m512 acc[V];
#pragma GCC unroll 8
  for (int j = 0; j < V; ++j) acc[j] = LoadAvx512(j == V - 1, last, bias + o0 + 16 * j);
  for (int k = 0; k < m; ++k) {
    const __m512 v = _mm512_set1_ps(value[k]);
    const float* wk = w + static_cast<size_t>(index[k]) * n + o0;
#pragma GCC unroll 8
    for (int j = 0; j < V; ++j) acc[j] = _mm512_fmadd_ps(v, LoadAvx512(j == V - 1, last, wk + 16 * j), acc[j]);
  }
#pragma GCC unroll 8
  for (int j = 0; j < V; ++j) {
    // max(a, 0) is a > 0 ? a : 0 (NaN and -0 give 0), as in the portable kernel.
    const __m512 out = relu ? _mm512_max_ps(acc[j], _mm512_setzero_ps()) : acc[j];
    if (j == V - 1) {
      _mm512_mask_storeu_ps(y + o0 + 16 * j, last, out);
    } else {
      _mm512_storeu_ps(y + o0 + 16 * j, out);
    }
  }
}

// Tiles of 128 outputs (eight registers of 16); the last tile only as wide as it needs: only
// its last register is masked, so a narrower tail must not take a wider tile (it would load
// and store unmasked past the layer's end).
__attribute__((target("avx512f"))) void DenseAvx512(const float* w, const float* bias, int n,
                                                    const int* index, const float* value, int m,
                                                    float* y, bool relu) {
  int o0 = 0;
  for (; o0 + 128 <= n; o0 += 128) TileAvx512<8>(w, bias, n, o0, index, value, m, y, relu);
  switch ((n - o0 + 15) / 16) {
    case 0: break;
    case 1: TileAvx512<1>(w, bias, n, o0, index, value, m, y, relu); break;
    case 2: TileAvx512<2>(w, bias, n, o0, index, value, m, y, relu); break;
    case 3: TileAvx512<3>(w, bias, n, o0, index, value, m, y, relu); break;
    case 4: TileAvx512<4>(w, bias, n, o0, index, value, m, y, relu); break;
    case 5: TileAvx512<5>(w, bias, n, o0, index, value, m, y, relu); break;
    case 6: TileAvx512<6>(w, bias, n, o0, index, value, m, y, relu); break;
    case 7: TileAvx512<7>(w, bias, n, o0, index, value, m, y, relu); break;
    default: TileAvx512<8>(w, bias, n, o0, index, value, m, y, relu); break;
  }
}
#pragma GCC diagnostic pop

// The same with 8-float registers: tiles of 64 outputs.
__attribute__((target("avx2,fma"), always_inline)) inline __m256 LoadAvx2(bool masked,
                                                                         __m256i mask,
                                                                         const float* p) {
  return masked ? _mm256_maskload_ps(p, mask) : _mm256_loadu_ps(p);
}

template <int V>
__attribute__((target("avx2,fma"), always_inline)) inline void TileAvx2(
    const float* w, const float* bias, int n, int o0, const int* index, const float* value,
    int m, float* y, bool relu) {
  const int left = std::clamp(n - o0 - 8 * (V - 1), 0, 8);
  const __m256i last = _mm256_cmpgt_epi32(_mm256_set1_epi32(left),
                                          _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  __m256 acc[V];
#pragma GCC unroll 8
  for (int j = 0; j < V; ++j) acc[j] = LoadAvx2(j == V - 1, last, bias + o0 + 8 * j);
  for (int k = 0; k < m; ++k) {
    const __m256 v = _mm256_set1_ps(value[k]);
    const float* wk = w + static_cast<size_t>(index[k]) * n + o0;
#pragma GCC unroll 8
    for (int j = 0; j < V; ++j) acc[j] = _mm256_fmadd_ps(v, LoadAvx2(j == V - 1, last, wk + 8 * j), acc[j]);
  }
#pragma GCC unroll 8
  for (int j = 0; j < V; ++j) {
    const __m256 out = relu ? _mm256_max_ps(acc[j], _mm256_setzero_ps()) : acc[j];
    if (j == V - 1) {
      _mm256_maskstore_ps(y + o0 + 8 * j, last, out);
    } else {
      _mm256_storeu_ps(y + o0 + 8 * j, out);
    }
  }
}

__attribute__((target("avx2,fma"))) void DenseAvx2(const float* w, const float* bias, int n,
                                                   const int* index, const float* value, int m,
                                                   float* y, bool relu) {
  int o0 = 0;
  for (; o0 + 64 <= n; o0 += 64) TileAvx2<8>(w, bias, n, o0, index, value, m, y, relu);
  switch ((n - o0 + 7) / 8) {
    case 0: break;
    case 1: TileAvx2<1>(w, bias, n, o0, index, value, m, y, relu); break;
    case 2: TileAvx2<2>(w, bias, n, o0, index, value, m, y, relu); break;
    case 3: TileAvx2<3>(w, bias, n, o0, index, value, m, y, relu); break;
    case 4: TileAvx2<4>(w, bias, n, o0, index, value, m, y, relu); break;
    case 5: TileAvx2<5>(w, bias, n, o0, index, value, m, y, relu); break;
    case 6: TileAvx2<6>(w, bias, n, o0, index, value, m, y, relu); break;
    case 7: TileAvx2<7>(w, bias, n, o0, index, value, m, y, relu); break;
    default: TileAvx2<8>(w, bias, n, o0, index, value, m, y, relu); break;
  }
}

// Writes the positions and values of x's nonzero entries (NaN counts as nonzero); returns how
// many there are.
using CompactKernel = int (*)(const float* x, int n, int* index, float* value);

int CompactPortable(const float* __restrict x, int n, int* __restrict index,
                    float* __restrict value) {
  int m = 0;
  for (int i = 0; i < n; ++i) {
    index[m] = i;
    value[m] = x[i];
    m += x[i] != 0.0f;
  }
  return m;
}

// Sixteen at a time with compressing stores.
__attribute__((target("avx512f"))) int CompactAvx512(const float* x, int n, int* index,
                                                     float* value) {
  int m = 0;
  int i = 0;
  const __m512i step = _mm512_set1_epi32(16);
  __m512i position = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    const __mmask16 nonzero = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_NEQ_UQ);
    _mm512_mask_compressstoreu_ps(value + m, nonzero, v);
    _mm512_mask_compressstoreu_epi32(index + m, nonzero, position);
    m += __builtin_popcount(nonzero);
    position = _mm512_add_epi32(position, step);
  }
  for (; i < n; ++i) {
    index[m] = i;
    value[m] = x[i];
    m += x[i] != 0.0f;
  }
  return m;
}

struct NamedKernel {
  std::string_view name;
  DenseKernel kernel;
  CompactKernel compact;
};

// The kernels this CPU can run, widest first.
std::vector<NamedKernel> CpuKernels() {
  __builtin_cpu_init();
  std::vector<NamedKernel> kernels;
  if (__builtin_cpu_supports("avx512f")) kernels.push_back({"avx512", DenseAvx512, CompactAvx512});
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    kernels.push_back({"avx2", DenseAvx2, CompactPortable});
  }
  kernels.push_back({"portable", DensePortable, CompactPortable});
  return kernels;
}

std::atomic<DenseKernel> g_dense_kernel{CpuKernels().front().kernel};
std::atomic<CompactKernel> g_compact_nonzero{CpuKernels().front().compact};

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
      } else if (net_.output_transform == OutputTransform::kSigmoid) {
        float* y = out + r * num_outputs;
        for (int o = 0; o < num_outputs; ++o) y[o] = 1.0f / (1.0f + std::exp(-y[o]));
      }
    }
    return OkStatus();
  }

 private:
  // y = W x + b: every output is its bias plus the products of the layer's nonzero inputs,
  // each added with one fused multiply-add, in input order. Inputs that are exactly zero —
  // half of a ReLU layer's, typically — add nothing and are skipped. DenseForward picks the
  // widest kernel the CPU has; all of them do the same operations in the same order, so every
  // CPU gives the same floats (the tests hold them to a plain loop of std::fma).
  static void DenseForward(const Layer& layer, const float* x, float* y, bool relu) {
    thread_local std::vector<int> nonzero_index;
    thread_local std::vector<float> nonzero_value;
    nonzero_index.resize(layer.in);
    nonzero_value.resize(layer.in);
    const int m = g_compact_nonzero.load(std::memory_order_relaxed)(
        x, layer.in, nonzero_index.data(), nonzero_value.data());
    const int* index = nonzero_index.data();
    const float* value = nonzero_value.data();
    g_dense_kernel.load(std::memory_order_relaxed)(layer.weight_t.data(), layer.bias.data(), layer.out, index, value, m, y, relu);
  }

  MlpNet net_;
  std::vector<Layer> layers_;
  int max_width_ = 1;
};

}  // namespace

std::vector<std::string> DenseKernelNames() {
  std::vector<std::string> names;
  for (const NamedKernel& k : CpuKernels()) names.emplace_back(k.name);
  return names;
}

Status UseDenseKernel(std::string_view name) {
  for (const NamedKernel& k : CpuKernels()) {
    if (k.name == name) {
      g_dense_kernel.store(k.kernel);
      g_compact_nonzero.store(k.compact);
      return OkStatus();
    }
  }
  return InvalidArgumentError("native_mlp: no dense kernel '" + std::string(name) +
                              "' on this CPU");
}

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
