// The predict fast path against the general path: the same request for every body it accepts
// (seed bodies and tens of thousands of mutations of them), and it does accept the shapes it
// is for.
#include "serving/http/tfs_fast_parse.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace bimride::serving::http {
namespace {

// The property: whatever the fast path accepts, the general path parses to the same request.
// Returns whether the fast path accepted.
bool CheckAgreement(const std::string& body, int64_t max_rows = 64) {
  std::optional<TfsPredictRequest> fast = TryParseTfsPredictFast(body, max_rows);
  if (!fast) return false;
  StatusOr<TfsPredictRequest> general = ParseTfsPredictRequestGeneral(body, max_rows);
  EXPECT_TRUE(general.ok()) << "fast path accepted what the general path rejects ("
                            << general.status().ToString() << "): " << body;
  if (general.ok()) {
    EXPECT_TRUE(*fast == *general) << "the paths disagree on: " << body;
  }
  return true;
}

const std::vector<std::string>& Seeds() {
  static const std::vector<std::string> seeds = {
      R"({"instances": [{"pickup_zone": 74, "dropoff_zone": 236, "pickup_datetime": "2021-02-10 08:31:00", "trip_distance": 2.1}]})",
      R"({"instances": [{"b": 1, "a": "x", "c": 1}, {"c": 0, "a": "y", "b": -2.5e3}]})",
      R"({"instances": [[1, 2.5, -3e-2, 18446744073709551615, -9223372036854775808], [0, 0.1, 1E2, 7, 8]]})",
      R"({ "instances" : [ [ 1.5 ] , [ 2 ] , [ 3 ] ] } )",
      R"({"instances": [{"zone": 1, "when": "2024-01-05 08:30:00"}, {"zone": 2, "when": "2024-01-05 09:30:00"}, {"zone": 3, "when": "2024-01-06 00:00:00"}]})",
  };
  return seeds;
}

TEST(TfsFastParseTest, AcceptsTheCommonShapesAndAgreesWithTheGeneralPath) {
  for (const std::string& body : Seeds()) EXPECT_TRUE(CheckAgreement(body)) << body;
  auto raw = TryParseTfsPredictFast(Seeds()[1], 64);
  ASSERT_TRUE(raw.has_value());
  // Columns in name order, as the general path (nlohmann's sorted objects) gives them.
  ASSERT_EQ(raw->input.raw.columns.size(), 3u);
  EXPECT_EQ(raw->input.raw.columns[0].name, "a");
  EXPECT_EQ(raw->input.raw.columns[2].name, "c");
  EXPECT_EQ(raw->input.raw.columns[1].values[1], RawValue(-2500.0));
  EXPECT_EQ(raw->input.raw.columns[2].values[0], RawValue(1.0));
  auto numeric = TryParseTfsPredictFast(Seeds()[2], 64);
  ASSERT_TRUE(numeric.has_value());
  EXPECT_EQ(numeric->input.rows, 2);
  EXPECT_EQ(numeric->input.width, 5);
}

TEST(TfsFastParseTest, DeclinesWhatIsNotItsShapeOrIsWrong) {
  const std::vector<std::string> declined = {
      R"({"instances": [{"a": 1}], "signature_name": "serving_default"})",  // another key
      R"({"inputs": {"a": [1, 2]}})",                                      // columnar
      R"({"instances": [{"features": [1, 2, 3]}]})",                       // a named tensor
      R"({"instances": [1, 2, 3]})",                                       // scalar rows
      R"({"instances": []})",
      R"({"instances": [{}]})",
      R"({"instances": [{"a": 1, "a": 2}]})",                              // duplicate key
      R"({"instances": [{"a": 1}, {"b": 1}]})",                            // other fields
      R"({"instances": [{"a": 1}, {"a": 1, "b": 2}]})",
      R"({"instances": [[1, 2], [3]]})",                                   // ragged
      R"({"instances": [[1, [2]]]})",                                      // nested
      R"({"instances": [[]]})",
      R"({"instances": [{"a": null}]})",
      R"({"instances": [{"a": 1}, {"a": true}]})",                         // not a number
      R"({"instances": [{"a": "caf\u00e9"}]})",                            // an escape
      R"({"instances": [[123456789012345678901234567890]]})",              // beyond 64 bits
      R"({"instances": [[1e999]]})",
      R"({"instances": [[1, 2]]} trailing)",
      R"({"instances": [[1, 2]])",
      "",
      "[]",
  };
  for (const std::string& body : declined) {
    EXPECT_FALSE(TryParseTfsPredictFast(body, 64).has_value()) << body;
  }
  // More rows than the limit: the general path answers with its OutOfRange.
  EXPECT_FALSE(TryParseTfsPredictFast(R"({"instances": [[1], [2], [3]]})", 2).has_value());
  EXPECT_TRUE(TryParseTfsPredictFast(R"({"instances": [[1], [2], [3]]})", 3).has_value());
}

TEST(TfsFastParseTest, TooManyRowsAreRefusedWithoutTheGeneralPathsFullParse) {
  std::string body = R"({"instances": [)";
  for (int r = 0; r < 1000000; ++r) body += r == 0 ? "[1]" : ",[1]";  // ~4 MB
  body += "]}";
  Status refused;
  EXPECT_FALSE(TryParseTfsPredictFast(body, 1024, &refused).has_value());
  EXPECT_EQ(refused.code(), StatusCode::kOutOfRange) << refused.ToString();
  EXPECT_EQ(refused.message(), "'instances' has more than 1024 rows; the limit is 1024")
      << "the general path's own words";
  EXPECT_EQ(ParseTfsPredictRequestGeneral(body, 1024).status(), refused);
  EXPECT_EQ(ParseTfsPredictRequest(body, 1024).status(), refused);
  // Refused by the scan both paths share, at row 1025 of a million: two values a row read.
  EXPECT_LE(ScanTfsRows(body, 1024).values_read, 2 * 1025 + 2);
  // A small body is counted by simdjson's document, in the same words.
  Status small;
  EXPECT_FALSE(TryParseTfsPredictFast(R"({"instances": [[1], [2], [3]]})", 2, &small));
  EXPECT_EQ(small.message(), "'instances' has more than 2 rows; the limit is 2");
  // Within the limit nothing is refused.
  Status none;
  EXPECT_TRUE(TryParseTfsPredictFast(R"({"instances": [[1], [2]]})", 2, &none).has_value());
  EXPECT_TRUE(none.ok());
}

TEST(TfsFastParseTest, MutatedBodiesNeverMakeThePathsDisagree) {
  // Byte flips, insertions and deletions drawn from JSON's own alphabet, many times over.
  const std::string alphabet = "{}[]\":,. -+eE0123456789truefalsn\\u\t\x01\x7f\xc3\xa9";
  uint64_t state = 0x9e3779b97f4a7c15ull;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  int accepted = 0;
  for (int i = 0; i < 40000; ++i) {
    std::string body = Seeds()[next() % Seeds().size()];
    const int edits = 1 + static_cast<int>(next() % 3);
    for (int e = 0; e < edits && !body.empty(); ++e) {
      const size_t at = next() % body.size();
      const char c = alphabet[next() % alphabet.size()];
      switch (next() % 3) {
        case 0: body[at] = c; break;
        case 1: body.insert(body.begin() + static_cast<std::ptrdiff_t>(at), c); break;
        default: body.erase(at, 1); break;
      }
    }
    accepted += CheckAgreement(body) ? 1 : 0;
    if (::testing::Test::HasFailure()) break;
  }
  // Plenty of the mutants are still valid requests (a digit for a digit, a space for a space):
  // the comparison ran on them.
  EXPECT_GT(accepted, 1000);
  std::printf("%d of 40000 mutants accepted by the fast path\n", accepted);
}

}  // namespace
}  // namespace bimride::serving::http
