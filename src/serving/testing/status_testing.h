// Test-only: checking failed StatusOr results in gtest tests of the model server.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "common/status.h"

namespace bimride::serving::testing {

// The error message of `result`, which must have failed with `code` (a test failure otherwise;
// "" when it succeeded). `what` names the input in failure messages.
template <typename T>
std::string FailureMessage(const StatusOr<T>& result, StatusCode code, std::string_view what = "") {
  EXPECT_FALSE(result.ok()) << what;
  if (result.ok()) return "";
  EXPECT_EQ(result.status().code(), code) << what << ": " << result.status().ToString();
  return std::string(result.status().message());
}

}  // namespace bimride::serving::testing
