#include "models/onnx/onnx_kernels.h"

#include <cmath>
#include <cstring>

namespace bimride::models::onnx_backend {
namespace {

// GCC vector extensions: 8 floats, lowered to one AVX register in the AVX2 clone and to two
// SSE registers in the baseline one.
typedef float V8 __attribute__((vector_size(32)));
typedef int32_t I8 __attribute__((vector_size(32)));

// The helpers below pass vectors by value but are always inlined, so no call ever uses the
// vector ABI that GCC notes and clang warns about (both spell the option -Wpsabi).
#pragma GCC diagnostic ignored "-Wpsabi"
#define BIMRIDE_INLINE __attribute__((always_inline)) inline

BIMRIDE_INLINE V8 Load(const float* p) {
  V8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
BIMRIDE_INLINE void Store(float* p, V8 v) { std::memcpy(p, &v, sizeof v); }
BIMRIDE_INLINE V8 Splat(float x) { return V8{x, x, x, x, x, x, x, x}; }

// R rows of c, columns [j, j + 16): the 2R accumulators stay in registers over all of k, so
// each 16-wide slice of a row of b is read once per R rows.
template <int R>
BIMRIDE_INLINE void Tile16(const float* a, const float* b, int64_t k, int64_t n, float alpha,
                           float* c, int64_t j) {
  V8 acc[R][2] = {};
  for (int64_t p = 0; p < k; ++p) {
    const V8 b0 = Load(b + p * n + j), b1 = Load(b + p * n + j + 8);
    for (int r = 0; r < R; ++r) {
      const V8 av = Splat(a[r * k + p]);
      acc[r][0] += av * b0;
      acc[r][1] += av * b1;
    }
  }
  for (int r = 0; r < R; ++r) {
    Store(c + r * n + j, acc[r][0] * alpha);
    Store(c + r * n + j + 8, acc[r][1] * alpha);
  }
}

// R rows of c, the columns past the last multiple of 16.
template <int R>
BIMRIDE_INLINE void TailColumns(const float* a, const float* b, int64_t k, int64_t n, float alpha,
                                float* c, int64_t j0) {
  for (int r = 0; r < R; ++r) {
    for (int64_t j = j0; j < n; ++j) c[r * n + j] = 0.0f;
    for (int64_t p = 0; p < k; ++p) {
      const float av = a[r * k + p];
      for (int64_t j = j0; j < n; ++j) c[r * n + j] += av * b[p * n + j];
    }
    for (int64_t j = j0; j < n; ++j) c[r * n + j] *= alpha;
  }
}

template <int R>
BIMRIDE_INLINE void Rows(const float* a, const float* b, int64_t k, int64_t n, float alpha,
                         float* c) {
  const int64_t n16 = n - n % 16;
  for (int64_t j = 0; j < n16; j += 16) Tile16<R>(a, b, k, n, alpha, c, j);
  if (n16 < n) TailColumns<R>(a, b, k, n, alpha, c, n16);
}

// exp over 8 lanes (Cephes expf: 2^i · P(f), |f| ≤ ln2/2, degree-6 polynomial; ~1 ulp). 2^i is
// applied as two factors so that i from −150 to 128 stays within normal floats; above
// ln(FLT_MAX) the answer is +inf and below −104 it is 0 (as expf's), NaN stays NaN.
BIMRIDE_INLINE V8 Exp8(V8 x) {
  const V8 in = x;
  const V8 hi = Splat(88.7228391f), lo = Splat(-104.0f);
  x = x > hi ? hi : x;
  x = x < lo ? lo : x;
  const V8 fx = x * 1.44269504088896341f + 0.5f;
  const I8 t = __builtin_convertvector(fx, I8);  // truncates toward zero
  V8 tf = __builtin_convertvector(t, V8);
  tf = tf > fx ? tf - 1.0f : tf;  // floor
  x = x - tf * 0.693359375f;
  x = x - tf * -2.12194440e-4f;
  V8 y = Splat(1.9875691500e-4f);
  y = y * x + 1.3981999507e-3f;
  y = y * x + 8.3334519073e-3f;
  y = y * x + 4.1665795894e-2f;
  y = y * x + 1.6666665459e-1f;
  y = y * x + 5.0000001201e-1f;
  y = y * (x * x) + x + 1.0f;
  const I8 i = __builtin_convertvector(tf, I8);
  const I8 half = i >> 1;
  const I8 e1 = (half + 127) << 23, e2 = (i - half + 127) << 23;
  V8 s1, s2;
  std::memcpy(&s1, &e1, sizeof s1);
  std::memcpy(&s2, &e2, sizeof s2);
  y = y * s1 * s2;
  y = in > hi ? Splat(HUGE_VALF) : y;
  y = in < lo ? Splat(0.0f) : y;
  return in != in ? in : y;
}

enum class Unary { kExp, kTanh, kSigmoid };

template <Unary U>
BIMRIDE_INLINE V8 Apply8(V8 x) {
  if constexpr (U == Unary::kExp) {
    return Exp8(x);
  } else if constexpr (U == Unary::kSigmoid) {
    return 1.0f / (1.0f + Exp8(-x));
  } else {
    // Cephes tanhf: an odd polynomial below |x| = 0.625 (where 1 − 2 / (exp(2|x|) + 1) would
    // cancel), that formula above it.
    const V8 ax = x < 0.0f ? -x : x;
    const V8 z = ax * ax;
    V8 p = Splat(-5.70498872745e-3f);
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    const V8 small = p * z * ax + ax;
    V8 t = 1.0f - 2.0f / (Exp8(ax + ax) + 1.0f);
    t = ax < 0.625f ? small : t;
    return x < 0.0f ? -t : t;
  }
}

template <Unary U>
BIMRIDE_INLINE void ApplyAll(float* v, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) Store(v + i, Apply8<U>(Load(v + i)));
  if (i < n) {
    float tail[8] = {};
    std::memcpy(tail, v + i, (n - i) * sizeof(float));
    Store(tail, Apply8<U>(Load(tail)));
    std::memcpy(v + i, tail, (n - i) * sizeof(float));
  }
}

BIMRIDE_INLINE void MatMulImpl(const float* a, const float* b, int64_t m, int64_t k, int64_t n,
                               float alpha, float* c) {
  int64_t r = 0;
  for (; r + 4 <= m; r += 4) Rows<4>(a + r * k, b, k, n, alpha, c + r * n);
  for (; r < m; ++r) Rows<1>(a + r * k, b, k, n, alpha, c + r * n);
}

// Each kernel twice: for AVX2 + FMA, and for baseline x86-64; chosen by what the CPU has (by
// feature, not by CPU model).
#define BIMRIDE_KERNELS(suffix, target)                                                      \
  target void MatMul##suffix(const float* a, const float* b, int64_t m, int64_t k, int64_t n, \
                             float alpha, float* c) {                                         \
    MatMulImpl(a, b, m, k, n, alpha, c);                                                      \
  }                                                                                           \
  target void Exp##suffix(float* v, int64_t n) { ApplyAll<Unary::kExp>(v, n); }              \
  target void Tanh##suffix(float* v, int64_t n) { ApplyAll<Unary::kTanh>(v, n); }            \
  target void Sigmoid##suffix(float* v, int64_t n) { ApplyAll<Unary::kSigmoid>(v, n); }

BIMRIDE_KERNELS(Avx2, __attribute__((target("avx2,fma"))))
BIMRIDE_KERNELS(Baseline, )

const bool kAvx2Fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");

}  // namespace

void MatMulRowMajor(const float* a, const float* b, int64_t m, int64_t k, int64_t n, float alpha,
                    float* c) {
  kAvx2Fma ? MatMulAvx2(a, b, m, k, n, alpha, c) : MatMulBaseline(a, b, m, k, n, alpha, c);
}
void ExpInPlace(float* v, int64_t n) { kAvx2Fma ? ExpAvx2(v, n) : ExpBaseline(v, n); }
void TanhInPlace(float* v, int64_t n) { kAvx2Fma ? TanhAvx2(v, n) : TanhBaseline(v, n); }
void SigmoidInPlace(float* v, int64_t n) {
  kAvx2Fma ? SigmoidAvx2(v, n) : SigmoidBaseline(v, n);
}

}  // namespace bimride::models::onnx_backend
