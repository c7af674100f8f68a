// Small regression tools the behaviour task's estimators share: ordinary least squares with
// heteroskedasticity-robust (HC1) standard errors — the linear probability models of the price
// test and the regression discontinuity — and a logistic regression fitted by Newton's method
// (the price-ratio baseline and the naive elasticity).
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/status.h"

namespace bimride::tasks::behaviour {

struct LinearFit {
  std::vector<double> coef;        // k
  std::vector<double> covariance;  // k × k, row-major (HC1 sandwich for OLS, inverse Fisher
                                   // information for the logistic fit)
  int64_t rows = 0;
  double Cov(int i, int j) const { return covariance[static_cast<size_t>(i) * coef.size() + j]; }
};

// OLS of y on the k columns of x (row-major rows × k; include a constant column yourself).
// InvalidArgument when sizes disagree, there are fewer rows than columns, or X'X is singular.
StatusOr<LinearFit> FitOls(std::span<const double> x, int k, std::span<const double> y);

// Logistic regression of y ∈ {0, 1} on the k columns of x (with a constant column if wanted),
// optionally weighted. Newton–Raphson until the step is tiny (at most 50 iterations).
// InvalidArgument for bad sizes or a singular information matrix (e.g. separable data).
StatusOr<LinearFit> FitLogistic(std::span<const double> x, int k, std::span<const double> y,
                                std::span<const double> weight = {});

// Solves the symmetric positive definite system a·out = b (a is n × n row-major) and, when
// `inverse` is not null, the inverse of a. False when a is singular.
bool SolveSymmetric(std::vector<double> a, int n, std::vector<double> b, std::vector<double>* out,
                    std::vector<double>* inverse);

// The two-sided 95% normal quantile.
inline constexpr double kZ95 = 1.959963984540054;

}  // namespace bimride::tasks::behaviour
