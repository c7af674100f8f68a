// Test-only: fresh folders under $TMPDIR (or /tmp) that are removed when the test program ends
// with every test passed, and kept when one failed (the evidence stays for whoever looks).
// Header-only for the test binaries; the first folder made installs a googletest listener that
// removes them at the end of the program.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <system_error>
#include <vector>

namespace bimride::testing {
namespace temp_dir_internal {

struct Made {
  std::mutex mu;
  std::vector<std::string> dirs;
  bool listening = false;
};
inline Made& MadeDirs() {
  static Made* made = new Made;  // never destroyed: the listener may run after static teardown
  return *made;
}

class RemoveWhenAllPassed : public ::testing::EmptyTestEventListener {
  void OnTestProgramEnd(const ::testing::UnitTest& unit_test) override {
    if (!unit_test.Passed() || std::getenv("BIMRIDE_KEEP_TEST_DIRS") != nullptr) return;
    Made& made = MadeDirs();
    std::lock_guard<std::mutex> lock(made.mu);
    for (const std::string& dir : made.dirs) {
      std::error_code ec;  // a folder already gone, or busy: left as it is
      std::filesystem::remove_all(dir, ec);
    }
    made.dirs.clear();
  }
};

}  // namespace temp_dir_internal

// A new folder "<TMPDIR>/<prefix>XXXXXX"; "" when it cannot be made (the caller asserts).
inline std::string NewTempDir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr && *base ? base : "/tmp") + "/" + prefix +
                        "XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) return "";
  temp_dir_internal::Made& made = temp_dir_internal::MadeDirs();
  std::lock_guard<std::mutex> lock(made.mu);
  if (!made.listening) {
    ::testing::UnitTest::GetInstance()->listeners().Append(
        new temp_dir_internal::RemoveWhenAllPassed);
    made.listening = true;
  }
  made.dirs.push_back(pattern);
  return pattern;
}

}  // namespace bimride::testing
