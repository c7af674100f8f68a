#include "serving/model_input.h"

#include <gtest/gtest.h>

#include <cmath>
#include <initializer_list>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bimride::serving {
namespace {

// Values built one by one (gcc 12 warns, wrongly, on braced lists of variants holding strings).
std::vector<RawValue> Numbers(std::initializer_list<double> values) {
  std::vector<RawValue> out;
  for (double v : values) out.emplace_back(v);
  return out;
}
std::vector<RawValue> Strings(std::initializer_list<const char*> values) {
  std::vector<RawValue> out;
  for (const char* v : values) out.emplace_back(std::string(v));
  return out;
}

// What RawRowsAsJson gave before it rendered the text itself: one nlohmann::json object per row.
std::vector<std::string> ThroughNlohmann(const RawBatch& raw) {
  std::vector<std::string> rows;
  for (int64_t r = 0; r < raw.rows; ++r) {
    nlohmann::json row = nlohmann::json::object();
    for (const RawColumn& c : raw.columns) {
      const RawValue& v = c.values[r];
      if (const double* d = std::get_if<double>(&v)) {
        row[c.name] = *d;
      } else {
        row[c.name] = std::get<std::string>(v);
      }
    }
    rows.push_back(row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  return rows;
}

TEST(RawRowsAsJson, RendersARequestsFieldsSortedByName) {
  RawBatch raw;
  raw.rows = 2;
  raw.columns = {{"pickup_zone", Numbers({74.0, 75.0})},
                 {"pickup_datetime", Strings({"2021-02-10 08:31:00", "x"})},
                 {"trip_distance", Numbers({2.1, -0.5})}};
  EXPECT_EQ(RawRowsAsJson(raw),
            (std::vector<std::string>{
                R"({"pickup_datetime":"2021-02-10 08:31:00","pickup_zone":74.0,"trip_distance":2.1})",
                R"({"pickup_datetime":"x","pickup_zone":75.0,"trip_distance":-0.5})"}));
  EXPECT_TRUE(RawRowsAsJson(RawBatch{}).empty());
}

// The same text as nlohmann::json for awkward names and values: escapes, control characters,
// UTF-8 (valid and not), a repeated name (the last column wins), NaN and infinities (null),
// signed zeros, whole numbers, the extremes of double, and random doubles and strings.
TEST(RawRowsAsJson, GivesNlohmannsTextForAnyValue) {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<RawValue> numbers = Numbers({0.0, -0.0, 1.0, -3.0, 1e15, 1e16, 1e21, 1e-5, 1e-7, 0.1,
                                   123456.789, std::numeric_limits<double>::max(),
                                   std::numeric_limits<double>::min(),
                                   std::numeric_limits<double>::denorm_min(),
                                   std::numeric_limits<double>::quiet_NaN(), inf, -inf});
  std::vector<RawValue> strings =
      Strings({"", "plain", "quote \" and \\ backslash", "tab\tnew\nline\x01\x1f\x7f",
               "caf\xc3\xa9 \xe2\x82\xac", "bad \xff\xfe utf-8 \xc3", "/</>"});
  std::mt19937_64 rng(11);
  for (int i = 0; i < 300; ++i) {
    numbers.emplace_back(std::ldexp(static_cast<double>(rng() % 2000001) - 1e6,
                                 static_cast<int>(rng() % 80) - 40));
    std::string s;
    for (uint64_t k = rng() % 12; k > 0; --k) s.push_back(static_cast<char>(rng() % 256));
    strings.emplace_back(s);
  }
  RawBatch raw;
  raw.rows = static_cast<int64_t>(std::max(numbers.size(), strings.size()));
  auto column = [&](const std::string& name, const std::vector<RawValue>& from) {
    RawColumn c{name, {}};
    for (int64_t r = 0; r < raw.rows; ++r) c.values.push_back(from[r % from.size()]);
    return c;
  };
  raw.columns = {column("zeta", numbers), column("a\"key\n", strings), column("alpha", numbers),
                 column("zeta", strings), column("caf\xc3\xa9", numbers), column("Alpha", strings),
                 column("", numbers)};
  const std::vector<std::string> want = ThroughNlohmann(raw);
  const std::vector<std::string> got = RawRowsAsJson(raw);
  ASSERT_EQ(got.size(), want.size());
  for (size_t r = 0; r < got.size(); ++r) EXPECT_EQ(got[r], want[r]) << "row " << r;
}

}  // namespace
}  // namespace bimride::serving
