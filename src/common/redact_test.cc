#include "common/redact.h"

#include <gtest/gtest.h>

namespace bimride {
namespace {

TEST(RedactTest, MasksPasswordsInUrls) {
  EXPECT_EQ(RedactUrl("postgresql://ana:s3cret@db:5432/reg"), "postgresql://ana:***@db:5432/reg");
  EXPECT_EQ(RedactUrl("postgresql://ana@db/reg"), "postgresql://ana@db/reg");
  EXPECT_EQ(RedactUrl("postgresql://db/reg?user=ana&password=s3cret&sslmode=require"),
            "postgresql://db/reg?user=ana&password=***&sslmode=require");
  EXPECT_EQ(RedactUrl("postgresql://a:b@c@db/reg"), "postgresql://a:***@db/reg");
  EXPECT_EQ(RedactUrl("/srv/registry.db"), "/srv/registry.db");
  EXPECT_EQ(RedactUrl("redis://:s3cret@h:6379/1"), "redis://:***@h:6379/1");
  EXPECT_EQ(RedactUrl("redis://h:6379"), "redis://h:6379");
}

}  // namespace
}  // namespace bimride
