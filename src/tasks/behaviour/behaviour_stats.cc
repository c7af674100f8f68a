#include "tasks/behaviour/behaviour_stats.h"

#include <cmath>
#include <string>

namespace bimride::tasks::behaviour {

bool SolveSymmetric(std::vector<double> a, int n, std::vector<double> b, std::vector<double>* out,
                    std::vector<double>* inverse) {
  // Gauss–Jordan with partial pivoting on [a | b | I].
  const int w = n + 1 + n;
  std::vector<double> m(static_cast<size_t>(n) * w, 0.0);
  double scale = 0;
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      m[i * w + j] = a[i * n + j];
      scale = std::max(scale, std::fabs(a[i * n + j]));
    }
    m[i * w + n] = b.empty() ? 0.0 : b[i];
    m[i * w + n + 1 + i] = 1.0;
  }
  if (!(scale > 0)) return false;
  for (int c = 0; c < n; ++c) {
    int pivot = c;
    for (int r = c + 1; r < n; ++r) {
      if (std::fabs(m[r * w + c]) > std::fabs(m[pivot * w + c])) pivot = r;
    }
    if (std::fabs(m[pivot * w + c]) <= 1e-12 * scale) return false;
    if (pivot != c) {
      for (int j = 0; j < w; ++j) std::swap(m[c * w + j], m[pivot * w + j]);
    }
    const double d = m[c * w + c];
    for (int j = 0; j < w; ++j) m[c * w + j] /= d;
    for (int r = 0; r < n; ++r) {
      if (r == c || m[r * w + c] == 0) continue;
      const double f = m[r * w + c];
      for (int j = 0; j < w; ++j) m[r * w + j] -= f * m[c * w + j];
    }
  }
  if (out != nullptr) {
    out->assign(n, 0.0);
    for (int i = 0; i < n; ++i) (*out)[i] = m[i * w + n];
  }
  if (inverse != nullptr) {
    inverse->assign(static_cast<size_t>(n) * n, 0.0);
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < n; ++j) (*inverse)[i * n + j] = m[i * w + n + 1 + j];
    }
  }
  return true;
}

namespace {

Status CheckSizes(const char* what, std::span<const double> x, int k, std::span<const double> y,
                  std::span<const double> weight) {
  if (k < 1) return InvalidArgumentError(std::string(what) + ": need at least one column");
  if (x.size() != y.size() * static_cast<size_t>(k)) {
    return InvalidArgumentError(std::string(what) + ": " + std::to_string(x.size()) +
                                " values for " + std::to_string(y.size()) + " rows of " +
                                std::to_string(k) + " columns");
  }
  if (!weight.empty() && weight.size() != y.size()) {
    return InvalidArgumentError(std::string(what) + ": weights for " +
                                std::to_string(weight.size()) + " rows, data has " +
                                std::to_string(y.size()));
  }
  if (y.size() <= static_cast<size_t>(k)) {
    return InvalidArgumentError(std::string(what) + ": " + std::to_string(y.size()) +
                                " rows are too few for " + std::to_string(k) + " coefficients");
  }
  return OkStatus();
}

}  // namespace

StatusOr<LinearFit> FitOls(std::span<const double> x, int k, std::span<const double> y) {
  RETURN_IF_ERROR(CheckSizes("ols", x, k, y, {}));
  const size_t n = y.size();
  std::vector<double> xtx(static_cast<size_t>(k) * k, 0.0), xty(k, 0.0);
  for (size_t r = 0; r < n; ++r) {
    const double* row = x.data() + r * k;
    for (int i = 0; i < k; ++i) {
      xty[i] += row[i] * y[r];
      for (int j = 0; j <= i; ++j) xtx[i * k + j] += row[i] * row[j];
    }
  }
  for (int i = 0; i < k; ++i) {
    for (int j = i + 1; j < k; ++j) xtx[i * k + j] = xtx[j * k + i];
  }
  LinearFit fit;
  fit.rows = static_cast<int64_t>(n);
  std::vector<double> inv;
  if (!SolveSymmetric(xtx, k, xty, &fit.coef, &inv)) {
    return InvalidArgumentError("ols: the columns are collinear (X'X is singular)");
  }
  // HC1: (X'X)^-1 X' diag(e²) X (X'X)^-1 · n / (n - k).
  std::vector<double> meat(static_cast<size_t>(k) * k, 0.0);
  for (size_t r = 0; r < n; ++r) {
    const double* row = x.data() + r * k;
    double e = y[r];
    for (int i = 0; i < k; ++i) e -= row[i] * fit.coef[i];
    const double e2 = e * e;
    for (int i = 0; i < k; ++i) {
      for (int j = 0; j <= i; ++j) meat[i * k + j] += e2 * row[i] * row[j];
    }
  }
  for (int i = 0; i < k; ++i) {
    for (int j = i + 1; j < k; ++j) meat[i * k + j] = meat[j * k + i];
  }
  std::vector<double> tmp(static_cast<size_t>(k) * k, 0.0);
  fit.covariance.assign(static_cast<size_t>(k) * k, 0.0);
  for (int i = 0; i < k; ++i) {
    for (int j = 0; j < k; ++j) {
      for (int l = 0; l < k; ++l) tmp[i * k + j] += inv[i * k + l] * meat[l * k + j];
    }
  }
  const double dof = static_cast<double>(n) / static_cast<double>(n - k);
  for (int i = 0; i < k; ++i) {
    for (int j = 0; j < k; ++j) {
      double s = 0;
      for (int l = 0; l < k; ++l) s += tmp[i * k + l] * inv[l * k + j];
      fit.covariance[i * k + j] = s * dof;
    }
  }
  return fit;
}

StatusOr<LinearFit> FitLogistic(std::span<const double> x, int k, std::span<const double> y,
                                std::span<const double> weight) {
  RETURN_IF_ERROR(CheckSizes("logistic regression", x, k, y, weight));
  const size_t n = y.size();
  for (size_t r = 0; r < n; ++r) {
    if (y[r] != 0 && y[r] != 1) {
      return InvalidArgumentError("logistic regression: row " + std::to_string(r) +
                                  ": target must be 0 or 1");
    }
  }
  LinearFit fit;
  fit.rows = static_cast<int64_t>(n);
  fit.coef.assign(k, 0.0);
  std::vector<double> info, grad, step, inv;
  for (int iter = 0; iter < 50; ++iter) {
    info.assign(static_cast<size_t>(k) * k, 0.0);
    grad.assign(k, 0.0);
    for (size_t r = 0; r < n; ++r) {
      const double* row = x.data() + r * k;
      double eta = 0;
      for (int i = 0; i < k; ++i) eta += row[i] * fit.coef[i];
      const double p = 1.0 / (1.0 + std::exp(-eta));
      const double wr = weight.empty() ? 1.0 : weight[r];
      const double v = wr * p * (1 - p);
      for (int i = 0; i < k; ++i) {
        grad[i] += wr * (y[r] - p) * row[i];
        for (int j = 0; j <= i; ++j) info[i * k + j] += v * row[i] * row[j];
      }
    }
    for (int i = 0; i < k; ++i) {
      for (int j = i + 1; j < k; ++j) info[i * k + j] = info[j * k + i];
    }
    if (!SolveSymmetric(info, k, grad, &step, &inv)) {
      return InvalidArgumentError(
          "logistic regression: singular information matrix (separable or constant data)");
    }
    double largest = 0;
    for (int i = 0; i < k; ++i) {
      fit.coef[i] += step[i];
      largest = std::max(largest, std::fabs(step[i]));
    }
    if (!std::isfinite(largest)) {
      return InvalidArgumentError("logistic regression: diverged (separable data?)");
    }
    if (largest < 1e-9) break;
  }
  fit.covariance = inv;
  return fit;
}

}  // namespace bimride::tasks::behaviour
