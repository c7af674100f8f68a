#include "models/rank_failure.h"

#include <gtest/gtest.h>

namespace bimride::models {
namespace {

RankWatch Watch(int self, std::vector<int64_t> before, std::vector<int64_t> after,
                std::vector<int64_t> steps) {
  RankWatch w;
  w.self = self;
  w.beats_before = std::move(before);
  w.beats_after = std::move(after);
  w.steps = std::move(steps);
  w.watched_seconds = 1;
  w.timeout_seconds = 4;
  return w;
}

TEST(NameFailedRankTest, ARankWhoseHeartbeatStoppedIsNamedWithItsLastStep) {
  const Status s = NameFailedRank(Watch(0, {10, 7, 9}, {15, 7, 14}, {6, 3, 6}), "rank 0 of 3: x");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(),
            "rank 1 (last heartbeat at step 3) stopped: no heartbeat for 1 s (rank 0 of 3: x)");
}

TEST(NameFailedRankTest, SeveralStoppedRanksAreAllNamedButNeverTheAskingRank) {
  // The asking rank's own counter does not matter (a hub's table may lag for it).
  const Status s = NameFailedRank(Watch(2, {1, 2, 3}, {1, 2, 3}, {5, 5, 5}), "h");
  EXPECT_EQ(s.message(), "rank 0 (last heartbeat at step 5), 1 (last heartbeat at step 5) "
                         "stopped: no heartbeat for 1 s (h)");
}

TEST(NameFailedRankTest, ALiveRankBehindTheAskingOneIsHung) {
  const Status s = NameFailedRank(Watch(0, {1, 1}, {6, 6}, {10, 9}), "h");
  EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(s.message(), "rank 1 is hung: alive, but has started only 9 steps while rank 0 "
                         "waited 4 s in step 10 (h)");
}

TEST(NameFailedRankTest, EveryRankAliveAndLevelBlamesNobody) {
  const Status s = NameFailedRank(Watch(1, {1, 1}, {6, 6}, {4, 4}), "h");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "a collective failed and every rank still has a heartbeat (h)");
  // The asking rank behind the others: it is not hung by its own account.
  EXPECT_EQ(NameFailedRank(Watch(1, {1, 1}, {6, 6}, {5, 4}), "h").message(), s.message());
}

TEST(NameFailedRankTest, MismatchedSizesAreRefused) {
  EXPECT_EQ(NameFailedRank(Watch(0, {1, 1}, {1}, {1, 1}), "h").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(NameFailedRank(Watch(3, {1, 1}, {1, 1}, {1, 1}), "h").code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace bimride::models
