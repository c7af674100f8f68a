// The Redis store against a real redis-server started by the test: the memory store's contract
// (add, set, ranges, TTL, concurrent adds), batched reads and writes, two stores sharing one
// Redis, bad URLs, and Redis going away and coming back (kUnavailable fast, health, recovery).
#include "online/redis/redis_feature_store.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "online/testing/redis_test_server.h"

namespace bimride::online {
namespace {

using testing::RedisTestServer;

class RedisFeatureStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = RedisTestServer::Start();
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    redis_ = std::move(server).value();
  }
  std::unique_ptr<FeatureStore> Open(const std::string& suffix = "",
                                     FeatureStoreOptions options = {}) {
    auto store = OpenFeatureStore(redis_->Url() + suffix, options);  // through the registry
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }
  std::unique_ptr<RedisTestServer> redis_;
};

TEST_F(RedisFeatureStoreTest, AddsSetsAndReadsRangesLikeTheMemoryStore) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Describe(), redis_->Url());
  ASSERT_TRUE(store->Add("demand:zone=1", 10, 2).ok());
  ASSERT_TRUE(store->Add("demand:zone=1", 10, 3.5).ok());
  ASSERT_TRUE(store->Set("demand:zone=1", 12, 7).ok());
  ASSERT_TRUE(store->Set("demand:zone=1", 12, 4).ok());
  ASSERT_TRUE(store->Add("demand:zone=2", 11, 9).ok());
  ASSERT_TRUE(store->Add("demand:zone=1", -3, 1).ok());  // buckets may be negative
  auto range = store->Range("demand:zone=1", 9, 5);
  ASSERT_TRUE(range.ok()) << range.status().ToString();
  ASSERT_EQ(range->size(), 5u);
  EXPECT_FALSE((*range)[0].has_value());
  EXPECT_EQ((*range)[1], 5.5);
  EXPECT_FALSE((*range)[2].has_value());  // zone 2's bucket 11 is another key
  EXPECT_EQ((*range)[3], 4.0);
  EXPECT_FALSE((*range)[4].has_value());
  EXPECT_EQ((*store->Range("demand:zone=1", -3, 1))[0], 1.0);
  auto empty = store->Range("nothing", 0, 0);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  EXPECT_FALSE(store->Add("", 0, 1).ok());
  EXPECT_FALSE(store->Range("k", 0, -1).ok());
  EXPECT_TRUE(store->Health().up);
}

TEST_F(RedisFeatureStoreTest, BatchedWritesAndReadsInOneRoundTrip) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  std::vector<Increment> adds;
  for (int z = 0; z < 50; ++z) {
    for (int b = 0; b < 20; ++b) adds.push_back({"z" + std::to_string(z), b, double(z + b), 0});
  }
  ASSERT_TRUE(store->AddMany(adds).ok());
  ASSERT_TRUE(store->AddMany(adds).ok());
  std::vector<RangeQuery> queries = {{"z3", 18, 4}, {"z49", 0, 1}, {"none", 0, 2}, {"z0", 0, 0}};
  auto many = store->RangeMany(queries);
  ASSERT_TRUE(many.ok()) << many.status().ToString();
  ASSERT_EQ(many->size(), 4u);
  EXPECT_EQ((*many)[0],
            (std::vector<std::optional<double>>{42.0, 44.0, std::nullopt, std::nullopt}));
  EXPECT_EQ((*many)[1], (std::vector<std::optional<double>>{98.0}));
  EXPECT_EQ((*many)[2], (std::vector<std::optional<double>>{std::nullopt, std::nullopt}));
  EXPECT_TRUE((*many)[3].empty());
}

TEST_F(RedisFeatureStoreTest, TwoStoresShareOneRedis) {
  auto a = Open(), b = Open();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(a->Add("shared", 1, 2).ok());
  ASSERT_TRUE(b->Add("shared", 1, 3).ok());
  EXPECT_EQ((*a->Range("shared", 1, 1))[0], 5.0);
  // Another database is another namespace.
  auto other_db = Open("/3");
  ASSERT_NE(other_db, nullptr);
  EXPECT_FALSE((*other_db->Range("shared", 1, 1))[0].has_value());
}

TEST_F(RedisFeatureStoreTest, EntriesExpireThroughExpire) {
  auto store = Open("", {.ttl_seconds = 1});
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Add("k", 1, 5).ok());
  ASSERT_TRUE(store->Set("k", 2, 5).ok());
  const Increment longer{"k", 3, 1, 60};  // an entry's own TTL wins over the store's
  ASSERT_TRUE(store->AddMany({&longer, 1}).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  auto range = store->Range("k", 1, 3);
  ASSERT_TRUE(range.ok());
  EXPECT_FALSE((*range)[0].has_value());
  EXPECT_FALSE((*range)[1].has_value());
  EXPECT_EQ((*range)[2], 1.0);
  ASSERT_TRUE(store->Add("k", 1, 2).ok());  // an expired counter restarts at 0
  EXPECT_EQ((*store->Range("k", 1, 1))[0], 2.0);
}

TEST_F(RedisFeatureStoreTest, ConcurrentAddsLoseNothing) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&store, t] {
      for (int i = 0; i < 500; ++i) ASSERT_TRUE(store->Add("k", i % 3, 1).ok()) << t;
    });
  }
  for (auto& t : threads) t.join();
  auto range = store->Range("k", 0, 3);
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(*(*range)[0] + *(*range)[1] + *(*range)[2], 2000.0);
}

TEST_F(RedisFeatureStoreTest, RedisDownIsUnavailableFastAndRecovers) {
  auto store = Open("?timeout_ms=200&retry_ms=300");
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Add("k", 1, 1).ok());
  redis_->Stop();
  auto t0 = std::chrono::steady_clock::now();
  auto down = store->Range("k", 1, 1);
  EXPECT_EQ(down.status().code(), StatusCode::kUnavailable) << down.status().ToString();
  EXPECT_NE(down.status().message().find(redis_->Url()), std::string::npos);
  EXPECT_FALSE(store->Health().up);
  // While backing off, calls fail at once without trying to connect.
  auto t1 = std::chrono::steady_clock::now();
  EXPECT_EQ(store->Add("k", 1, 1).code(), StatusCode::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - t1, std::chrono::milliseconds(20));
  EXPECT_LT(t1 - t0, std::chrono::milliseconds(1000));
  EXPECT_GE(store->Health().errors, 2);

  ASSERT_TRUE(redis_->Restart().ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(350));  // past retry_ms
  auto back = store->Range("k", 1, 1);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_FALSE((*back)[0].has_value());  // the restarted Redis kept nothing
  EXPECT_TRUE(store->Health().up);
  EXPECT_EQ(store->Health().reconnects, 1);
  ASSERT_TRUE(store->Add("k", 1, 4).ok());
  EXPECT_EQ((*store->Range("k", 1, 1))[0], 4.0);
}

TEST_F(RedisFeatureStoreTest, OpensWhileRedisIsDownAndAnswersOnceItIsUp) {
  redis_->Stop();
  auto store = OpenFeatureStore(redis_->Url() + "?retry_ms=100");
  ASSERT_TRUE(store.ok()) << store.status().ToString();  // a replica starts without Redis
  EXPECT_FALSE((*store)->Health().up);
  ASSERT_TRUE(redis_->Restart().ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_TRUE((*store)->Add("k", 0, 1).ok());
}

TEST_F(RedisFeatureStoreTest, AValueSomeoneElseWroteIsDataLossNamingTheKey) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Set("k", 0, 1).ok());
  // A hash and a non-number under our key names: writes to them fail naming the key; reads
  // of the hash see nothing (MGET's answer for a non-string), of the text a DataLoss.
  const std::string cli = "redis-cli -p " + std::to_string(redis_->port());
  ASSERT_EQ(std::system((cli + " HSET 'k#1' a b >/dev/null").c_str()), 0);
  auto read = store->Range("k", 0, 2);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_FALSE((*read)[1].has_value());
  ASSERT_EQ(std::system((cli + " SET 'k#2' abc >/dev/null").c_str()), 0);
  auto text = store->Range("k", 2, 1);
  EXPECT_EQ(text.status().code(), StatusCode::kDataLoss) << text.status().ToString();
  EXPECT_NE(text.status().message().find("k#2"), std::string::npos);
  Status write = store->Add("k", 1, 1);
  EXPECT_EQ(write.code(), StatusCode::kDataLoss) << write.ToString();
  EXPECT_NE(write.message().find("'k'"), std::string::npos) << write.ToString();
  EXPECT_TRUE(store->Health().up);  // a bad key is not an outage
}

TEST(RedisFeatureStoreUrl, BadUrlsAreClearErrorsWithThePasswordMasked) {
  struct Case {
    const char* url;
    const char* want;
  };
  for (const Case& c : std::vector<Case>{
           {"redis://", "no host"},
           {"redis://h:0", "port '0' is not a number in 1..65535"},
           {"redis://h:x", "port 'x'"},
           {"redis://h/db", "database 'db' is not a number"},
           {"redis://h?timeout=5", "unknown option 'timeout'"},
           {"redis://h?timeout_ms=0", "timeout_ms '0'"},
           {"redis://:s3cret@h:1/x", "redis://:***@h:1/x"},
           {"redis://bob:s3cret@h", "user names"},
       }) {
    auto s = OpenFeatureStore(c.url);
    ASSERT_FALSE(s.ok()) << c.url;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << c.url;
    EXPECT_NE(s.status().message().find(c.want), std::string::npos)
        << c.url << ": " << s.status().ToString();
    EXPECT_EQ(s.status().message().find("s3cret"), std::string::npos) << s.status().ToString();
  }
  auto unknown = OpenFeatureStore("memcached://h");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("redis://"), std::string::npos)
      << "the error lists the registered kinds: " << unknown.status().ToString();
}

}  // namespace
}  // namespace bimride::online
