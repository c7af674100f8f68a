#include "serving/http/online_codec.h"

#include <gtest/gtest.h>

namespace bimride::serving::http {
namespace {

TEST(OnlineCodecTest, ParsesEventsColumnWise) {
  auto b = ParseOnlineEventsRequest(
      R"({"events": [{"zone": 74, "time": "2021-03-10 08:03"}, {"time": "x", "zone": 3}]})", 10);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->rows, 2);
  ASSERT_EQ(b->columns.size(), 2u);
  const RawColumn* zone = b->Find("zone");
  ASSERT_NE(zone, nullptr);
  EXPECT_EQ(std::get<double>(zone->values[1]), 3.0);
  EXPECT_EQ(std::get<std::string>(b->Find("time")->values[0]), "2021-03-10 08:03");
}

TEST(OnlineCodecTest, BadBodiesNameTheEventAndField) {
  struct Case {
    const char* body;
    const char* want;
  };
  for (const Case& c : std::vector<Case>{
           {"[]", "must be a JSON object"},
           {"{}", "missing 'events'"},
           {R"({"event": []})", "unknown key 'event'"},
           {R"({"events": []})", "non-empty list"},
           {R"({"events": [1]})", "events[0]: must be a non-empty object"},
           {R"({"events": [{"zone": 1}, {"zone": 2, "count": 3}]})",
            "events[1]: every event must have the same fields"},
           {R"({"events": [{"zone": 1}, {"zonee": 2}]})", "events[1]: missing field 'zone'"},
           {R"({"events": [{"zone": [1]}]})", "events[0].zone"},
           {R"({"events": [{"zone": 1}, {"zone": 1}, {"zone": 1}]})", "more than 2"},
           {"{", ""},
       }) {
    auto b = ParseOnlineEventsRequest(c.body, 2);
    ASSERT_FALSE(b.ok()) << c.body;
    EXPECT_NE(b.status().message().find(c.want), std::string::npos)
        << c.body << ": " << b.status().ToString();
  }
}

}  // namespace
}  // namespace bimride::serving::http
