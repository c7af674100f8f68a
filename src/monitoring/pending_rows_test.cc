#include "monitoring/pending_rows.h"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <random>
#include <string>
#include <utility>

namespace bimride::monitoring {
namespace {

TEST(PendingRows, FindsRowsByIdAndRowAndDropsTheOldestFirst) {
  PendingRows<int> rows;
  bool added = false;
  rows.FindOrAdd("ride-1", 0, &added).value = 10;
  EXPECT_TRUE(added);
  rows.FindOrAdd("ride-1", 1, &added).value = 11;
  EXPECT_TRUE(added);
  rows.FindOrAdd("ride-2", 0, &added).value = 20;
  EXPECT_TRUE(added);
  EXPECT_EQ(rows.FindOrAdd("ride-1", 1, &added).value, 11);
  EXPECT_FALSE(added);
  EXPECT_EQ(rows.size(), 3u);
  ASSERT_NE(rows.Find("ride-2", 0), nullptr);
  EXPECT_EQ(rows.Find("ride-2", 0)->value, 20);
  EXPECT_EQ(rows.Find("ride-2", 1), nullptr);
  EXPECT_EQ(rows.Find("ride-3", 0), nullptr);
  // An id that is another's prefix, and ids with the old key's separator, stay apart.
  rows.FindOrAdd("ride-1\x1f" "1", 0, &added).value = 99;
  EXPECT_TRUE(added);
  EXPECT_EQ(rows.Find("ride-1", 1)->value, 11);
  EXPECT_EQ(rows.front().request_id, "ride-1");
  EXPECT_EQ(rows.front().row, 0);
  rows.pop_front();
  EXPECT_EQ(rows.Find("ride-1", 0), nullptr);
  EXPECT_EQ(rows.Find("ride-1", 1)->value, 11);
  EXPECT_EQ(rows.size(), 3u);
}

// Against a map and a queue, through growth and many drops: a small key space makes repeated
// keys, and a bounded size keeps the index's probe runs wrapping and shifting.
TEST(PendingRows, AgreesWithAMapThroughAddsFindsAndDrops) {
  PendingRows<int64_t> rows;
  std::map<std::pair<std::string, int64_t>, int64_t> want;
  std::deque<std::pair<std::string, int64_t>> order;
  std::mt19937_64 rng(7);
  for (int64_t step = 0; step < 200000; ++step) {
    const std::string id = "r" + std::to_string(rng() % 5000);
    const auto row = static_cast<int64_t>(rng() % 3);
    const uint64_t op = rng() % 10;
    if (op < 6) {
      bool added = false;
      auto& got = rows.FindOrAdd(id, row, &added);
      const bool was_there = want.count({id, row}) > 0;
      ASSERT_EQ(added, !was_there) << id << " " << row;
      if (added) {
        got.value = step;
        want[{id, row}] = step;
        order.emplace_back(id, row);
      } else {
        ASSERT_EQ(got.value, (want[{id, row}]));
      }
    } else if (op < 9) {
      auto* got = rows.Find(id, row);
      auto it = want.find({id, row});
      ASSERT_EQ(got != nullptr, it != want.end()) << id << " " << row;
      if (got != nullptr) {
        ASSERT_EQ(got->value, it->second);
      }
    }
    while (order.size() > 3000 || (op == 9 && !order.empty())) {
      ASSERT_EQ(rows.front().request_id, order.front().first);
      ASSERT_EQ(rows.front().row, order.front().second);
      want.erase(order.front());
      order.pop_front();
      rows.pop_front();
      if (op == 9) break;
    }
    ASSERT_EQ(rows.size(), want.size());
  }
  // Every remaining key is still found, and each dropped one is not.
  for (const auto& [key, value] : want) {
    auto* got = rows.Find(key.first, key.second);
    ASSERT_NE(got, nullptr);
    EXPECT_EQ(got->value, value);
  }
  while (!rows.empty()) rows.pop_front();
  EXPECT_EQ(rows.Find(order.front().first, order.front().second), nullptr);
}

}  // namespace
}  // namespace bimride::monitoring
