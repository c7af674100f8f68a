#include "serving/http/access_log.h"

#include <gtest/gtest.h>

#include <regex>

#include "common/file.h"
#include "serving/testing/test_models.h"

namespace bimride::serving::http {
namespace {

TEST(AccessLogTest, OffWritesNothing) {
  for (const char* where : {"off", ""}) {
    auto log = AccessLog::Open(where);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    EXPECT_FALSE((*log)->enabled());
    (*log)->Write("127.0.0.1", "GET", "/metrics", 200, 10, 5);  // no-op
  }
}

TEST(AccessLogTest, FileGetsOneLinePerRequestAppended) {
  const std::string path = testing::MakeTempDir("access_log_test") + "/access.log";
  for (int i = 0; i < 2; ++i) {
    auto log = AccessLog::Open(path);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    ASSERT_TRUE((*log)->enabled());
    (*log)->Write("10.0.0.7", "POST", "/v1/models/eta:predict", 200, 57, 85);
  }
  auto log = AccessLog::Open(path);
  ASSERT_TRUE(log.ok());
  (*log)->Write("", "GET", "/a\"b\nc", 404, 0, 1);  // client-controlled target: stays one line
  auto text = ReadFile(path);
  ASSERT_TRUE(text.ok());
  const std::regex line(
      R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z 10\.0\.0\.7 "POST /v1/models/eta:predict" 200 57B 85us
)");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(*text, m, line)) << *text;
  EXPECT_EQ(std::count(text->begin(), text->end(), '\n'), 3) << *text;
  EXPECT_NE(text->find(" - \"GET /a?b?c\" 404 0B 1us\n"), std::string::npos) << *text;
}

TEST(AccessLogTest, UnopenableFileIsAnErrorNamingIt) {
  auto log = AccessLog::Open("/nonexistent-dir/access.log");
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.status().message().find("/nonexistent-dir/access.log"), std::string::npos)
      << log.status().ToString();
}

}  // namespace
}  // namespace bimride::serving::http
