#include "serving/http/json_text.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace bimride::serving::http {
namespace {

TEST(JsonTextTest, StringsAreQuotedAndEscapedAsJson) {
  std::string out;
  AppendJsonString(&out, std::string("a\"b\\c\nd\re\tf\x01g"));
  EXPECT_EQ(out, R"("a\"b\\c\nd\re\tf\u0001g")");
  EXPECT_EQ(nlohmann::json::parse(out), std::string("a\"b\\c\nd\re\tf\x01g"));
  out.clear();
  AppendJsonString(&out, "zone ü");
  EXPECT_EQ(out, "\"zone ü\"") << "UTF-8 passes through";
}

TEST(JsonTextTest, InvalidUtf8IsReplacedSoTheTextStaysValidJson) {
  struct Case {
    std::string in, want;
  };
  const std::string kReplacement = "\xEF\xBF\xBD";  // U+FFFD
  for (const Case& c : std::vector<Case>{
           {"zone \xff", "zone " + kReplacement},                         // never valid
           {"a\xc3", "a" + kReplacement},                                 // truncated 2-byte
           {"\xc3\xa9\x80", "\xc3\xa9" + kReplacement},                   // é, stray continuation
           {"\xc0\xaf", kReplacement + kReplacement},                     // overlong '/'
           {"\xed\xa0\x80", kReplacement + kReplacement + kReplacement},  // a UTF-16 surrogate
           {"\xf0\x9f\x9a\x95 ok", "\xf0\x9f\x9a\x95 ok"},                // a 4-byte character
       }) {
    std::string out;
    AppendJsonString(&out, c.in);
    EXPECT_EQ(out, "\"" + c.want + "\"");
    EXPECT_FALSE(nlohmann::json::parse(out, nullptr, false).is_discarded()) << out;
  }
}

TEST(JsonTextTest, FloatsAreShortestTextThatReadsBackTheSame) {
  for (float v : {0.0f, 1.0f, -2.5f, 14.86913f, 1e-7f, 3.4028235e38f,
                  std::numeric_limits<float>::denorm_min()}) {
    std::string out;
    AppendFloat(&out, v);
    EXPECT_EQ(std::strtof(out.c_str(), nullptr), v) << out;
  }
  std::string out;
  AppendFloat(&out, 0.1f);
  EXPECT_EQ(out, "0.1");
  out.clear();
  AppendInt(&out, -9007199254740993);
  EXPECT_EQ(out, "-9007199254740993");
}

TEST(JsonTextTest, ErrorBodyIsOneJsonObject) {
  EXPECT_EQ(ErrorBody("field 'x': \"bad\""), R"({"error": "field 'x': \"bad\""})");
}

TEST(JsonTextTest, ErrorBodyCutsAMessageThatQuotesMegabytesOfTheRequest) {
  // "'<4 MB of the client's text>' is not a number": the answer must not be the request again.
  const std::string quoted = "row 0: field 'zone': '" + std::string(4 << 20, 'x') + "\xc3\xa9' is not a number";
  const std::string body = ErrorBody(quoted);
  EXPECT_LT(body.size(), 2 * kMaxErrorMessageBytes);
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << body.substr(0, 200);
  const std::string message = j["error"];
  EXPECT_EQ(message.substr(0, 22), "row 0: field 'zone': '");
  EXPECT_NE(message.find("… (" + std::to_string(quoted.size()) + " bytes in all)"),
            std::string::npos)
      << message.substr(1000);
  // A cut inside a UTF-8 sequence still gives valid UTF-8 (parsed above).
  std::string cut_in_sequence(kMaxErrorMessageBytes - 1, 'y');
  cut_in_sequence += "\xc3\xa9 and more";
  EXPECT_FALSE(nlohmann::json::parse(ErrorBody(cut_in_sequence), nullptr, false).is_discarded());
}

}  // namespace
}  // namespace bimride::serving::http
