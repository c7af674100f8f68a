#include "models/onnx/onnx_kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace bimride::models::onnx_backend {
namespace {

TEST(OnnxKernelsTest, MatMulEqualsThePlainLoopForEveryTailOfRowsAndColumns) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal;
  for (int64_t m : {1, 3, 4, 5, 9, 256}) {
    for (int64_t n : {1, 2, 15, 16, 17, 33, 64}) {
      for (int64_t k : {0, 1, 7, 32}) {
        std::vector<float> a(m * k), b(k * n), c(m * n, 123.0f);
        for (float& v : a) v = normal(rng);
        for (float& v : b) v = normal(rng);
        MatMulRowMajor(a.data(), b.data(), m, k, n, 0.5f, c.data());
        for (int64_t r = 0; r < m; ++r) {
          for (int64_t j = 0; j < n; ++j) {
            double want = 0;
            for (int64_t p = 0; p < k; ++p) want += static_cast<double>(a[r * k + p]) * b[p * n + j];
            want *= 0.5;
            ASSERT_NEAR(c[r * n + j], want, 1e-5 * std::max(1.0, std::fabs(want)) + 1e-5)
                << "m " << m << " n " << n << " k " << k << " at " << r << "," << j;
          }
        }
      }
    }
  }
}

TEST(OnnxKernelsTest, ExpTanhSigmoidMatchLibmWithinFloatPrecision) {
  std::vector<float> xs;
  for (float x = -120.0f; x <= 120.0f; x += 0.0137f) xs.push_back(x);
  for (float x : {0.0f, -0.0f, 1e-8f, -1e-8f, 1e-4f, 88.7f, 88.8f, -103.9f, -104.5f}) xs.push_back(x);
  std::vector<float> e = xs, t = xs, s = xs;
  ExpInPlace(e.data(), static_cast<int64_t>(e.size()));
  TanhInPlace(t.data(), static_cast<int64_t>(t.size()));
  SigmoidInPlace(s.data(), static_cast<int64_t>(s.size()));
  for (size_t i = 0; i < xs.size(); ++i) {
    const double x = xs[i];
    const double want_e = std::exp(x);
    if (want_e > std::numeric_limits<float>::max()) {
      EXPECT_TRUE(std::isinf(e[i])) << x;
    } else {
      EXPECT_NEAR(e[i], want_e, 3e-7 * want_e + 1e-44) << x;
    }
    EXPECT_NEAR(t[i], std::tanh(x), 3e-7 * std::fabs(std::tanh(x)) + 1e-30) << x;
    const double want_s = 1.0 / (1.0 + std::exp(-x));
    EXPECT_NEAR(s[i], want_s, 3e-7 * std::max(1e-30, want_s)) << x;
  }
}

TEST(OnnxKernelsTest, NanStaysNanAndLengthsThatAreNotMultiplesOfEightAreDone) {
  std::vector<float> v = {NAN, 1.0f, -1.0f};  // 3 values: all in the tail
  std::vector<float> w = v;
  TanhInPlace(v.data(), 3);
  ExpInPlace(w.data(), 3);
  EXPECT_TRUE(std::isnan(v[0]));
  EXPECT_TRUE(std::isnan(w[0]));
  EXPECT_NEAR(v[1], std::tanh(1.0), 1e-7);
  EXPECT_NEAR(w[2], std::exp(-1.0), 1e-7);
}

}  // namespace
}  // namespace bimride::models::onnx_backend
