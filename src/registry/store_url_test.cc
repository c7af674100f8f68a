#include "registry/store_url.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "registry/registry.h"
#include "registry/test_util.h"

namespace bimride::registry {
namespace {

using testing::ScopedTempDir;

TEST(StoreUrlTest, KindsAndPaths) {
  EXPECT_TRUE(IsPostgresUrl("postgresql://ana@db/registry"));
  EXPECT_TRUE(IsPostgresUrl("postgres://db/registry"));
  EXPECT_FALSE(IsPostgresUrl("sqlite:registry.db"));
  EXPECT_FALSE(IsPostgresUrl("/srv/postgresql://x"));
  EXPECT_EQ(SqlitePathOf("sqlite:a/registry.db"), "a/registry.db");
  EXPECT_EQ(SqlitePathOf("sqlite:///srv/registry.db"), "/srv/registry.db");
  EXPECT_EQ(SqlitePathOf("/srv/registry.db"), "/srv/registry.db");
}

TEST(StoreUrlTest, OpensSqliteByPathOrSchemeAndRefusesUnknownSchemes) {
  ScopedTempDir dir;
  auto by_scheme = OpenMetadataStore("sqlite:" + dir.path() + "/a/registry.db", {});
  ASSERT_TRUE(by_scheme.ok()) << by_scheme.status().ToString();
  ASSERT_TRUE((*by_scheme)->RecordVersion({"eta", 1, "eta/1", "", "", "", 0}).ok());
  by_scheme->reset();
  auto by_path = OpenMetadataStore(dir.path() + "/a/registry.db", {.read_only = true});
  ASSERT_TRUE(by_path.ok()) << by_path.status().ToString();
  EXPECT_EQ((*by_path)->ListVersions("eta")->size(), 1u);

  auto mysql = OpenMetadataStore("mysql://ana:s3cret@db/reg", {});
  ASSERT_FALSE(mysql.ok());
  EXPECT_EQ(mysql.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(mysql.status().message().find("unknown metadata store scheme"), std::string::npos);
  EXPECT_EQ(mysql.status().message().find("s3cret"), std::string::npos);
  EXPECT_EQ(OpenMetadataStore("", {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenMetadataStore("sqlite:", {}).status().code(), StatusCode::kInvalidArgument);
}

TEST(StoreUrlTest, DefaultLocationIsTheEnvironmentsUrlElseTheRepositoryFile) {
  ::setenv(kRegistryUrlEnv, "postgresql://ana@db/registry", 1);
  EXPECT_EQ(DefaultStoreLocation("/srv/repo"), "postgresql://ana@db/registry");
  ::setenv(kRegistryUrlEnv, "", 1);
  EXPECT_EQ(DefaultStoreLocation("/srv/repo"), "/srv/repo/.bimride/registry.db");
  ::unsetenv(kRegistryUrlEnv);
  EXPECT_EQ(DefaultStoreLocation("/srv/repo"), DefaultDatabasePath("/srv/repo"));
}

}  // namespace
}  // namespace bimride::registry
