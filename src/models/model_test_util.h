// Test-only helpers shared by the model tests: temporary folders, running the Python peers
// (/usr/bin/python3 with Debian's python3-torch / python3-xgboost) and float matrix files.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "common/file.h"
#include "common/status.h"
#include "common/testing/temp_dir.h"
#include "models/tabular_data.h"

namespace bimride::models::testing {

// A fresh folder under TMPDIR (or /tmp); removed when every test of the program passed, kept
// when one failed (common/testing/temp_dir.h).
inline std::string MakeTempDir(const std::string& tag) {
  std::string dir = bimride::testing::NewTempDir("bimride_" + tag + "_");
  EXPECT_FALSE(dir.empty()) << "could not make a folder for " << tag;
  return dir.empty() ? "/tmp" : dir;
}

// Runs a Python script with Debian's interpreter (which has torch and xgboost). Internal with
// the script's stderr tail when it fails.
inline Status RunPython(const std::string& dir, const std::string& script) {
  std::string path = dir + "/peer.py";
  RETURN_IF_ERROR(WriteFileAtomic(path, script));
  std::string cmd = "/usr/bin/python3 " + path + " > " + dir + "/peer.log 2>&1";
  int rc = std::system(cmd.c_str());
  if (rc != 0) {
    StatusOr<std::string> log = ReadFile(dir + "/peer.log");
    return InternalError("python peer failed (" + std::to_string(rc) + "): " +
                         (log.ok() ? *log : std::string("no log")));
  }
  return OkStatus();
}

// Raw little-endian float32 files (numpy: np.fromfile(path, dtype=np.float32)).
inline Status WriteFloats(const std::string& path, const std::vector<float>& v) {
  return WriteFileAtomic(path, std::string_view(reinterpret_cast<const char*>(v.data()),
                                                v.size() * sizeof(float)));
}
inline StatusOr<std::vector<float>> ReadFloats(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  std::vector<float> v(bytes.size() / sizeof(float));
  std::memcpy(v.data(), bytes.data(), v.size() * sizeof(float));
  return v;
}

// |a - b| <= rel * max(1, |b|) element-wise (NaN equals NaN).
inline void ExpectClose(const std::vector<float>& a, const std::vector<float>& b, double rel,
                        const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  int failures = 0;
  for (size_t i = 0; i < a.size() && failures < 5; ++i) {
    if (std::isnan(a[i]) && std::isnan(b[i])) continue;
    double tol = rel * std::max(1.0, std::fabs(static_cast<double>(b[i])));
    if (!(std::fabs(static_cast<double>(a[i]) - b[i]) <= tol)) {
      ADD_FAILURE() << what << ": element " << i << ": " << a[i] << " vs " << b[i];
      ++failures;
    }
  }
}

// Synthetic trips-like data: column 0 = zone id (0..9), column 1 = hour (0..23), columns 2, 3 =
// numeric; target(s) = a zone effect + an hour effect + a linear numeric part (+ noise), output o
// shifted by o. With `counts`, targets are Poisson draws of exp(that / 4).
inline TabularData MakeSyntheticData(int64_t rows, int num_outputs, uint64_t seed,
                                     bool counts = false) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> zone(0, 9), hour(0, 23);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  TabularData d;
  d.rows = rows;
  d.num_features = 4;
  d.num_outputs = num_outputs;
  for (int64_t r = 0; r < rows; ++r) {
    int z = zone(rng), h = hour(rng);
    float a = 3.0f + 2.0f * normal(rng), b = normal(rng);
    d.features.insert(d.features.end(), {static_cast<float>(z), static_cast<float>(h), a, b});
    for (int o = 0; o < num_outputs; ++o) {
      float mean = 0.3f * static_cast<float>(z % 4) + 0.5f * std::sin(h / 3.8f) + 0.4f * a - 0.3f * b + 0.2f * o;
      if (counts) {
        std::poisson_distribution<int> p(std::exp(mean / 4.0f));
        d.targets.push_back(static_cast<float>(p(rng)));
      } else {
        d.targets.push_back(mean + 0.1f * normal(rng));
      }
    }
  }
  return d;
}

// Uniform random inputs of the synthetic shape, ids sometimes out of range or NaN, numerics
// sometimes NaN when `with_nan`.
inline std::vector<float> RandomInputs(int64_t rows, int num_features, uint64_t seed,
                                       bool with_nan) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-2.0f, 26.0f);
  std::uniform_real_distribution<float> coin(0.0f, 1.0f);
  std::vector<float> x(rows * num_features);
  for (float& v : x) v = with_nan && coin(rng) < 0.1f ? NAN : u(rng);
  return x;
}

}  // namespace bimride::models::testing
