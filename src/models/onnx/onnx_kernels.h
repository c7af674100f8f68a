// The onnx interpreter's float kernels: a register-blocked matrix product and vectorised
// Exp / Tanh / Sigmoid. Each is built for AVX2+FMA and for baseline x86-64; what the CPU has
// picks one at start-up. Results are within a few float ulps of the plain loops and libm
// (tested in onnx_kernels_test.cc), not bit-identical: fused multiply-adds round once, and
// the exponential is a degree-6 polynomial (Cephes expf) — well inside the 1e-5 parity the
// backend promises. Thread safety: pure functions.
#pragma once

#include <cstdint>

namespace bimride::models::onnx_backend {

// c[m, n] = alpha · a[m, k] · b[k, n], all row-major and dense.
void MatMulRowMajor(const float* a, const float* b, int64_t m, int64_t k, int64_t n, float alpha,
                    float* c);

// In place over v[0, n): exp(x); tanh(x); 1 / (1 + exp(−x)).
void ExpInPlace(float* v, int64_t n);
void TanhInPlace(float* v, int64_t n);
void SigmoidInPlace(float* v, int64_t n);

}  // namespace bimride::models::onnx_backend
