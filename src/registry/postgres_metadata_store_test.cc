// PostgreSQL-only store tests: bad URLs, a server that is down, a dropped connection, a missing
// database. The shared suite (metadata_store_test.cc) runs in the same binary. The throwaway
// server is the suite's (started on first use).
#include "registry/postgres_metadata_store.h"

#include <gtest/gtest.h>

#include <string>

#include "registry/postgres_test_util.h"
#include "registry/store_url.h"

namespace bimride::registry {
namespace {

using testing::FreeLoopbackPort;
using testing::PostgresTestServer;
using testing::SuiteServer;
using testing::SuiteServerStartStatus;

TEST(PostgresMetadataStoreTest, BadUrlIsInvalidArgumentNamingTheUrlWithoutPassword) {
  auto s = PostgresMetadataStore::Open("postgresql://ana:s3cret@127.0.0.1/reg?nonsense=1");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << s.status().ToString();
  EXPECT_NE(s.status().message().find("postgresql://ana:***@127.0.0.1/reg"), std::string::npos)
      << s.status().message();
  EXPECT_NE(s.status().message().find("nonsense"), std::string::npos) << s.status().message();
  EXPECT_EQ(s.status().message().find("s3cret"), std::string::npos);
  EXPECT_EQ(PostgresMetadataStore::Open("mysql://db/reg").status().code(),
            StatusCode::kInvalidArgument);
}

TEST(PostgresMetadataStoreTest, ServerDownIsUnavailableNamingTheUrlAndOperation) {
  int port = FreeLoopbackPort();  // nothing listens there
  std::string url = "postgresql://ana:s3cret@127.0.0.1:" + std::to_string(port) +
                    "/reg?connect_timeout=3";
  auto s = OpenMetadataStore(url, {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnavailable) << s.status().ToString();
  const std::string& msg = s.status().message();
  EXPECT_NE(msg.find("postgresql://ana:***@127.0.0.1:" + std::to_string(port) + "/reg"),
            std::string::npos) << msg;
  EXPECT_NE(msg.find(": open: cannot connect: "), std::string::npos) << msg;
  EXPECT_EQ(msg.find("s3cret"), std::string::npos) << msg;
}

TEST(PostgresMetadataStoreTest, UnknownDatabaseIsNotFound) {
  ASSERT_TRUE(SuiteServerStartStatus().ok()) << SuiteServerStartStatus().ToString();
  auto s = OpenMetadataStore(SuiteServer()->Url("no_such_db"), {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound) << s.status().ToString();
  EXPECT_NE(s.status().message().find("no_such_db"), std::string::npos);
}

TEST(PostgresMetadataStoreTest, NulInTextIsRefusedNotTruncated) {
  ASSERT_TRUE(SuiteServerStartStatus().ok()) << SuiteServerStartStatus().ToString();
  auto url = SuiteServer()->CreateDatabase();
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  auto store = PostgresMetadataStore::Open(*url);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Status s = (*store)->RecordVersion({"eta", 1, std::string("eta/1\0x", 7), "", "", "", 0});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("RecordVersion"), std::string::npos) << s.ToString();
  EXPECT_TRUE((*store)->ListVersions("eta")->empty());
}

// The server drops the connection (restart, failover, idle timeout): the next operation
// reconnects instead of failing forever.
TEST(PostgresMetadataStoreTest, ReconnectsAfterTheServerDroppedTheConnection) {
  ASSERT_TRUE(SuiteServerStartStatus().ok()) << SuiteServerStartStatus().ToString();
  auto url = SuiteServer()->CreateDatabase();
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  auto store = PostgresMetadataStore::Open(*url);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->RecordVersion({"eta", 1, "eta/1", "", "", "", 0}).ok());
  int pid = (*store)->backend_pid();
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(PostgresTestServer::Exec(*url, "SELECT pg_terminate_backend(" +
                                                 std::to_string(pid) + ")")
                  .ok());
  Status again = (*store)->RecordVersion({"eta", 2, "eta/2", "", "", "", 0});
  EXPECT_TRUE(again.ok()) << again.ToString();
  EXPECT_NE((*store)->backend_pid(), pid);
  EXPECT_EQ((*store)->ListVersions("eta")->size(), 2u);
}

}  // namespace
}  // namespace bimride::registry
