#include "online/feature_store.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace bimride::online {
namespace {

TEST(MemoryFeatureStore, AddsSetsAndReadsRanges) {
  auto store = NewMemoryFeatureStore();
  ASSERT_TRUE(store->Add("demand:zone=1", 10, 2).ok());
  ASSERT_TRUE(store->Add("demand:zone=1", 10, 3).ok());
  ASSERT_TRUE(store->Set("demand:zone=1", 12, 7).ok());
  ASSERT_TRUE(store->Set("demand:zone=1", 12, 4).ok());
  ASSERT_TRUE(store->Add("demand:zone=2", 11, 9).ok());
  auto range = store->Range("demand:zone=1", 9, 5);
  ASSERT_TRUE(range.ok()) << range.status().ToString();
  ASSERT_EQ(range->size(), 5u);
  EXPECT_FALSE((*range)[0].has_value());
  EXPECT_EQ((*range)[1], 5.0);
  EXPECT_FALSE((*range)[2].has_value());  // zone 2's bucket 11 is another key
  EXPECT_EQ((*range)[3], 4.0);
  EXPECT_FALSE((*range)[4].has_value());
  auto unknown = store->Range("nothing", 0, 3);
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->size(), 3u);
  EXPECT_FALSE((*unknown)[0].has_value());
}

TEST(MemoryFeatureStore, EntriesExpireAfterTheirTtl) {
  auto store = NewMemoryFeatureStore({.ttl_seconds = 1});
  ASSERT_TRUE(store->Add("k", 1, 5).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto range = store->Range("k", 1, 1);
  ASSERT_TRUE(range.ok());
  EXPECT_FALSE((*range)[0].has_value());
  ASSERT_TRUE(store->Add("k", 1, 2).ok());  // an expired counter restarts at 0
  EXPECT_EQ((*store->Range("k", 1, 1))[0], 2.0);
}

TEST(MemoryFeatureStore, ExpiredEntriesAreDroppedAFewPerWriteSoMemoryStaysBounded) {
  auto store = NewMemoryFeatureStore({.ttl_seconds = 1});
  EXPECT_EQ(store->Health().entries, 0);
  // 30 keys × 1000 buckets, then all of them expire.
  for (int k = 0; k < 30; ++k) {
    for (int b = 0; b < 1000; ++b) ASSERT_TRUE(store->Set("old:" + std::to_string(k), b, 1).ok());
  }
  EXPECT_EQ(store->Health().entries, 30000);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  // Writes to 10 live entries: each visits a few old ones, so 30000 ÷ 15 writes and a lap of
  // the keys drop them all (none of them read or written again).
  for (int i = 0; i < 4000; ++i) ASSERT_TRUE(store->Add("live", i % 10, 1).ok());
  EXPECT_EQ(store->Health().entries, 10);
  auto live = store->Range("live", 0, 10);
  ASSERT_TRUE(live.ok());
  for (const auto& v : *live) EXPECT_EQ(v, 400.0);
  auto old = store->Range("old:7", 0, 3);
  ASSERT_TRUE(old.ok());
  EXPECT_FALSE((*old)[0].has_value());
  // Live entries are never dropped however often the sweep passes them.
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(store->Set("gauge", i, 2).ok());
  EXPECT_EQ(store->Health().entries, 1010);
  EXPECT_EQ((*store->Range("gauge", 0, 1))[0], 2.0);
  EXPECT_EQ((*store->Range("gauge", 999, 1))[0], 2.0);
}

TEST(MemoryFeatureStore, ConcurrentAddsLoseNothing) {
  auto store = NewMemoryFeatureStore();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&store, t] {
      for (int i = 0; i < 5000; ++i) ASSERT_TRUE(store->Add("k", i % 3, 1).ok()) << t;
    });
  }
  for (auto& t : threads) t.join();
  auto range = store->Range("k", 0, 3);
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(*(*range)[0] + *(*range)[1] + *(*range)[2], 20000.0);
}

TEST(OpenFeatureStore, RejectsBadUrlsAndOptions) {
  EXPECT_TRUE(OpenFeatureStore("memory").ok());
  EXPECT_TRUE(OpenFeatureStore("").ok());
  auto bad = OpenFeatureStore("memcached://x");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("memcached://x"), std::string::npos);
  // A password in an unknown URL is not printed.
  auto secret = OpenFeatureStore("memcached://:s3cret@x");
  ASSERT_FALSE(secret.ok());
  EXPECT_EQ(secret.status().message().find("s3cret"), std::string::npos)
      << secret.status().message();
  EXPECT_NE(secret.status().message().find("memcached://:***@x"), std::string::npos);
  EXPECT_FALSE(OpenFeatureStore("memory", {.ttl_seconds = 0}).ok());
  auto store = NewMemoryFeatureStore();
  EXPECT_FALSE(store->Add("", 0, 1).ok());
  EXPECT_FALSE(store->Range("k", 0, -1).ok());
}

}  // namespace
}  // namespace bimride::online
