#include "common/status.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <memory>

namespace bimride {
namespace {

StatusOr<int> ParsePositive(int v) {
  if (v <= 0) return InvalidArgumentError("value " + std::to_string(v) + " is not positive");
  return v;
}

StatusOr<int> Doubled(int v) {
  ASSIGN_OR_RETURN(int x, ParsePositive(v));
  return 2 * x;
}

Status CheckBoth(int a, int b) {
  RETURN_IF_ERROR(ParsePositive(a).status());
  RETURN_IF_ERROR(ParsePositive(b).status());
  return OkStatus();
}

TEST(StatusTest, OkByDefaultAndErrorsCarryCodeAndMessage) {
  EXPECT_TRUE(Status().ok());
  Status s = NotFoundError("models/eta/3: no such version");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.ToString(), "NOT_FOUND: models/eta/3: no such version");
}

TEST(StatusTest, WithContextPrefixesMessageAndKeepsCode) {
  Status s = DataLossError("bad ZSTD frame").WithContext("page 3").WithContext("trips.parquet");
  EXPECT_EQ(s.message(), "trips.parquet: page 3: bad ZSTD frame");
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_TRUE(OkStatus().WithContext("x").ok());
}

TEST(StatusTest, AssignOrReturnPropagatesErrorsAndValues) {
  EXPECT_EQ(*Doubled(4), 8);
  StatusOr<int> bad = Doubled(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "value -1 is not positive");
}

TEST(StatusTest, ReturnIfErrorStopsAtFirstError) {
  EXPECT_TRUE(CheckBoth(1, 2).ok());
  EXPECT_EQ(CheckBoth(1, -2).message(), "value -2 is not positive");
  EXPECT_EQ(CheckBoth(-1, -2).message(), "value -1 is not positive");
}

TEST(StatusTest, StatusOrHoldsMoveOnlyValues) {
  StatusOr<std::unique_ptr<int>> p = std::make_unique<int>(7);
  ASSERT_TRUE(p.ok());
  std::unique_ptr<int> taken = std::move(p).value();
  EXPECT_EQ(*taken, 7);
}

TEST(StatusTest, ErrnoErrorMapsCodes) {
  EXPECT_EQ(ErrnoError("open", "a.csv", ENOENT).code(), StatusCode::kNotFound);
  EXPECT_EQ(ErrnoError("write", "a.csv", ENOSPC).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrnoError("write", "a.csv", EROFS).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrnoError("open", "a.csv", ENOENT).message().rfind("a.csv: open: ", 0), 0u);
}

}  // namespace
}  // namespace bimride
