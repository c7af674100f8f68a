#include "common/config.h"

#include <gtest/gtest.h>

namespace bimride {
namespace {

TEST(ConfigTest, ReadsDottedPathsWithDefaults) {
  auto cfg = Config::Parse(R"({"server": {"port": 8601, "host": "0.0.0.0", "ratio": 0.5}})",
                           "serve.json");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(*cfg->GetInt("server.port", 8501), 8601);
  EXPECT_EQ(*cfg->GetInt("server.threads", 2), 2);
  EXPECT_EQ(*cfg->RequireString("server.host"), "0.0.0.0");
  EXPECT_DOUBLE_EQ(*cfg->RequireDouble("server.ratio"), 0.5);
  EXPECT_TRUE(cfg->Has("server"));
  EXPECT_FALSE(cfg->Has("server.nope"));
}

TEST(ConfigTest, WrongTypesAreErrorsNotDefaults) {
  auto cfg = Config::Parse(R"({"server": {"port": "8601"}})", "serve.json");
  ASSERT_TRUE(cfg.ok());
  auto port = cfg->GetInt("server.port", 8501);
  ASSERT_FALSE(port.ok());
  EXPECT_EQ(port.status().message(), "serve.json: 'server.port' must be an integer");
  auto missing = cfg->RequireString("server.repo");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST(ConfigTest, RejectsInvalidJsonNamingTheSource) {
  auto cfg = Config::Parse("{not json", "bad.json");
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.status().message(), "bad.json: not valid JSON");
  EXPECT_FALSE(Config::Parse("[1,2]", "arr.json").ok());
  auto missing = Config::Load("/nonexistent/dir/x.json");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace bimride
