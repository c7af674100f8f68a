#include "serving/http/request_json.h"

#include <gtest/gtest.h>

#include <cmath>

namespace bimride::serving::http {
namespace {

using nlohmann::json;

TEST(RequestJsonTest, ToFloatSaturatesBeyondFloatRangeToInfinity) {
  EXPECT_EQ(ToFloat(1.5), 1.5f);
  EXPECT_TRUE(std::isinf(ToFloat(1e39)));
  EXPECT_GT(ToFloat(1e39), 0);
  EXPECT_LT(ToFloat(-1e39), 0);
  EXPECT_EQ(ToFloat(3.4028234663852886e38), std::numeric_limits<float>::max());
}

TEST(RequestJsonTest, FlattenNumbersTakesNestedArraysAndRefusesTheRest) {
  std::vector<float> out;
  ASSERT_TRUE(FlattenNumbers(json::parse("[1, [2, [3]], 4.5]"), "row", &out).ok());
  EXPECT_EQ(out, (std::vector<float>{1, 2, 3, 4.5}));
  out.clear();
  ASSERT_TRUE(FlattenNumbers(json(7), "row", &out).ok());
  EXPECT_EQ(out, (std::vector<float>{7}));
  Status s = FlattenNumbers(json::parse(R"([1, "2"])"), "instances[3]", &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("instances[3]: expected numbers, got string"), std::string::npos);
  std::string deep = std::string(20, '[') + "1" + std::string(20, ']');
  s = FlattenNumbers(json::parse(deep), "row", &out);
  EXPECT_NE(s.message().find("nested too deeply"), std::string::npos) << s.ToString();
}

TEST(RequestJsonTest, RawValuesAreNumbersOrStrings) {
  EXPECT_EQ(*ToRawValue(json(3), "f"), RawValue(3.0));
  EXPECT_EQ(*ToRawValue(json("2021-02-10"), "f"), RawValue("2021-02-10"));
  // true/false are not numbers: a zone sent as true must not become zone 1.
  auto boolean = ToRawValue(json(true), "instances[0].pickup_zone");
  ASSERT_FALSE(boolean.ok());
  EXPECT_EQ(boolean.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(boolean.status().message().find(
                "instances[0].pickup_zone: expected a number or a string, got boolean"),
            std::string::npos)
      << boolean.status().message();
  auto bad = ToRawValue(json::parse("[1]"), "row 2: field 'zone'");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("row 2: field 'zone': expected a number or a string, "
                                        "got array"),
            std::string::npos);
  EXPECT_FALSE(ToRawValue(json(nullptr), "f").ok());
}

TEST(RequestJsonTest, ParseJsonBodySaysWhereMalformedJsonBreaks) {
  auto ok = ParseJsonBody(R"({"a": [1, 2]})");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)["a"][1], 2);
  for (const char* bad : {"", "{", R"({"a": })", "[1, 2", "nul", "{} extra"}) {
    auto r = ParseJsonBody(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message().rfind("malformed JSON: ", 0), 0u) << r.status().ToString();
  }
}

}  // namespace
}  // namespace bimride::serving::http
