// SQLite-only store tests. The tests every store must pass are in
// metadata_store_test.cc (run here on SQLite, and on PostgreSQL by registry_store_postgres_test).
#include "registry/sqlite_metadata_store.h"

#include <gtest/gtest.h>

#include "common/file.h"
#include "registry/test_util.h"

namespace bimride::registry {
namespace {

using testing::ScopedTempDir;

TEST(SqliteMetadataStoreOpenTest, FileThatIsNotSqliteIsDataLossNamingThePath) {
  ScopedTempDir dir;
  std::string path = dir.path() + "/registry.db";
  ASSERT_TRUE(WriteFileAtomic(path, std::string(4096, 'x')).ok());
  auto s = SqliteMetadataStore::Open(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(s.status().message().find(path + ": "), std::string::npos) << s.status().message();
  EXPECT_NE(s.status().message().find("not an SQLite database"), std::string::npos)
      << s.status().message();
}

}  // namespace
}  // namespace bimride::registry
