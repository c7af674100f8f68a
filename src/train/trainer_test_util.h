// Test helpers for the trainers' tests: a small regression data set and a scratch folder.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "models/model.h"
#include "models/tabular_data.h"

namespace bimride::train::testing {

inline std::string TempDir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("trainer_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir.string();
}

// How many live processes have this one as parent (a launch must leave none behind).
inline int ChildProcesses() {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream f(e.path() / "stat");
    std::string line;
    std::getline(f, line);
    const size_t close = line.rfind(')');
    if (close == std::string::npos) continue;
    char state = 0;
    int ppid = 0;
    if (std::sscanf(line.c_str() + close + 1, " %c %d", &state, &ppid) == 2 &&
        ppid == ::getpid()) {
      ++n;
    }
  }
  return n;
}

// y_k = (k + 1) · (2·x0 − x1) + noise, x2 an id column in 0..4.
inline models::TabularData Linear(int64_t rows, int outputs, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> x(0, 1), noise(0, 0.05f);
  models::TabularData d;
  d.rows = rows;
  d.num_features = 3;
  d.num_outputs = outputs;
  for (int64_t r = 0; r < rows; ++r) {
    const float a = x(rng), b = x(rng);
    d.features.insert(d.features.end(), {a, b, static_cast<float>(r % 5)});
    for (int k = 0; k < outputs; ++k) d.targets.push_back((k + 1) * (2 * a - b) + noise(rng));
  }
  return d;
}

// Labels 0/1 drawn with P(y = 1) = sigmoid(2·x0 − x1); x2 an id column in 0..4.
inline models::TabularData Binary(int64_t rows, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> x(0, 1);
  std::uniform_real_distribution<float> u(0, 1);
  models::TabularData d;
  d.rows = rows;
  d.num_features = 3;
  for (int64_t r = 0; r < rows; ++r) {
    const float a = x(rng), b = x(rng);
    d.features.insert(d.features.end(), {a, b, static_cast<float>(r % 5)});
    d.targets.push_back(u(rng) < 1 / (1 + std::exp(-(2 * a - b))) ? 1.0f : 0.0f);
  }
  return d;
}

// Mean log-loss of a model's probabilities; fails the test when one is outside (0, 1).
inline double LogLoss(const models::Model& model, const models::TabularData& d) {
  std::vector<float> p(static_cast<size_t>(d.rows));
  EXPECT_TRUE(model.Predict(d.features.data(), d.rows, p.data()).ok());
  double ll = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    EXPECT_TRUE(p[i] > 0 && p[i] < 1) << "row " << i << ": " << p[i];
    ll -= d.targets[i] > 0.5f ? std::log(p[i]) : std::log(1 - p[i]);
  }
  return ll / static_cast<double>(p.size());
}

inline double Rmse(const models::Model& model, const models::TabularData& d) {
  std::vector<float> p(static_cast<size_t>(d.rows * d.num_outputs));
  EXPECT_TRUE(model.Predict(d.features.data(), d.rows, p.data()).ok());
  double se = 0;
  for (size_t i = 0; i < p.size(); ++i) se += (p[i] - d.targets[i]) * (p[i] - d.targets[i]);
  return std::sqrt(se / static_cast<double>(p.size()));
}

}  // namespace bimride::train::testing
