// Test-only helpers for the registry tests.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>

#include "common/file.h"
#include "registry/manifest.h"

namespace bimride::registry::testing {

// A fresh folder under the test temp dir, removed on destruction.
class ScopedTempDir {
 public:
  ScopedTempDir() {
    std::random_device rd;
    path_ = ::testing::TempDir() + "/bimride_registry_" + std::to_string(::getpid()) + "_" +
            std::to_string(rd());
    std::filesystem::create_directories(path_);
  }
  ~ScopedTempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Writes `contents` to dir/name and returns the path.
inline std::string WriteTestFile(const std::string& dir, const std::string& name,
                                 const std::string& contents) {
  std::string path = dir + "/" + name;
  EXPECT_TRUE(WriteFileAtomic(path, contents).ok()) << path;
  return path;
}

// A minimal valid manifest to publish (no version, no files yet).
inline Manifest DraftManifest(const std::string& name, const std::string& backend = "xgboost") {
  Manifest m;
  m.name = name;
  m.task = "eta";
  m.backend = backend;
  m.inputs = {{"features", DType::kFloat32, {-1, 3}}};
  m.outputs = {{"eta_seconds", DType::kFloat32, {-1, 1}}};
  m.feature_spec = FeatureSpecRef{"eta_booking", 1, {"pickup_zone", "dropoff_zone"}};
  return m;
}

}  // namespace bimride::registry::testing
