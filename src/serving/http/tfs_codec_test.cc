#include "serving/http/tfs_codec.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "serving/testing/status_testing.h"
#include "serving/testing/test_models.h"

namespace bimride::serving::http {
namespace {

using nlohmann::json;

constexpr int64_t kMaxRows = 4;

StatusOr<TfsPredictRequest> Parse(std::string_view body) {
  return ParseTfsPredictRequest(body, kMaxRows);
}

// The error message of parsing `body`, which must fail with `code`.
std::string ErrorOf(std::string_view body, StatusCode code = StatusCode::kInvalidArgument) {
  return testing::FailureMessage(Parse(body), code, body);
}

TEST(TfsCodecTest, ParsesNumericRows) {
  auto r = Parse(R"({"instances": [[1, 2, 3], [4, 5, 6]]})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->columnar);
  EXPECT_EQ(r->input.rows, 2);
  EXPECT_EQ(r->input.width, 3);
  EXPECT_EQ(r->input.values, (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_FALSE(r->input.is_raw());
}

TEST(TfsCodecTest, ParsesNamedInputObjectsAndScalarsAndSignature) {
  auto named = Parse(R"({"signature_name": "serving_default",
                         "instances": [{"features": [1, 2]}, {"features": [3, 4]}]})");
  ASSERT_TRUE(named.ok()) << named.status().ToString();
  EXPECT_EQ(named->signature_name, "serving_default");
  EXPECT_EQ(named->input.tensor_name, "features");
  EXPECT_EQ(named->input.width, 2);
  EXPECT_EQ(named->input.values, (std::vector<float>{1, 2, 3, 4}));
  auto scalars = Parse(R"({"instances": [7, 8]})");
  ASSERT_TRUE(scalars.ok()) << scalars.status().ToString();
  EXPECT_EQ(scalars->input.rows, 2);
  EXPECT_EQ(scalars->input.width, 1);
}

TEST(TfsCodecTest, ParsesRawFieldRowsColumnWise) {
  auto r = Parse(R"({"instances": [
      {"pickup_zone": 74, "pickup_datetime": "2021-02-10 08:30:00"},
      {"pickup_zone": 236, "pickup_datetime": "2021-02-10 09:00:00"}]})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->input.is_raw());
  EXPECT_EQ(r->input.rows, 2);
  const RawColumn* zone = r->input.raw.Find("pickup_zone");
  ASSERT_NE(zone, nullptr);
  EXPECT_EQ(zone->values, (std::vector<RawValue>{74.0, 236.0}));
  const RawColumn* when = r->input.raw.Find("pickup_datetime");
  ASSERT_NE(when, nullptr);
  EXPECT_EQ(std::get<std::string>(when->values[1]), "2021-02-10 09:00:00");
}

TEST(TfsCodecTest, ParsesColumnarInputs) {
  auto tensor = Parse(R"({"inputs": [[1, 2], [3, 4], [5, 6]]})");
  ASSERT_TRUE(tensor.ok()) << tensor.status().ToString();
  EXPECT_TRUE(tensor->columnar);
  EXPECT_EQ(tensor->input.rows, 3);
  EXPECT_EQ(tensor->input.width, 2);
  auto fields = Parse(R"({"inputs": {"pickup_zone": [1, 2], "trip_distance": [0.5, 1.5]}})");
  ASSERT_TRUE(fields.ok()) << fields.status().ToString();
  EXPECT_TRUE(fields->columnar);
  EXPECT_EQ(fields->input.rows, 2);
  EXPECT_EQ(fields->input.raw.columns.size(), 2u);
}

TEST(TfsCodecTest, MalformedBodiesGiveClearErrors) {
  EXPECT_NE(ErrorOf("{\"instances\": [[1, 2]").find("malformed JSON"), std::string::npos);
  EXPECT_NE(ErrorOf("").find("malformed JSON"), std::string::npos);
  EXPECT_NE(ErrorOf("[1, 2]").find("must be a JSON object"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"instances": [[1]], "inputs": [[1]]})").find("exactly one of"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({})").find("exactly one of"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"rows": [[1]]})").find("unknown key 'rows'"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"signature_name": 3, "instances": [[1]]})").find("must be a string"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"signature_name": "classify", "instances": [[1]]})")
                .find("unknown signature_name 'classify'"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"instances": []})").find("non-empty array"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"instances": 5})").find("non-empty array"), std::string::npos);
}

TEST(TfsCodecTest, BadRowsNameTheRow) {
  EXPECT_NE(ErrorOf(R"({"instances": [[1, 2], [3]]})").find("instances[1]"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"instances": [[1, "x"]]})").find("instances[0]"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"instances": [{"a": 1}, {"b": 2}]})").find("instances[1]"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"instances": [{}]})").find("empty object"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"instances": [{"a": 1, "b": 2}, {"a": 1}]})").find("instances[1]"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"inputs": {"a": [1, 2], "b": [1]}})").find("inputs.b: has 1 values"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"inputs": {"a": 1}})").find("must be an array"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"inputs": "x"})").find("'inputs' must be"), std::string::npos);
}

TEST(TfsCodecTest, TooManyRowsIsOutOfRange) {
  EXPECT_NE(
      ErrorOf(R"({"instances": [1, 2, 3, 4, 5]})", StatusCode::kOutOfRange).find("limit is 4"),
      std::string::npos);
  EXPECT_NE(ErrorOf(R"({"inputs": [[1], [2], [3], [4], [5]]})", StatusCode::kOutOfRange)
                .find("limit is 4"),
            std::string::npos);
}

TEST(TfsCodecTest, TheGeneralPathCountsTheRowsOfABigBodyBeforeBuildingItsTree) {
  // An escape sequence keeps the fast path out; a misplaced signature_name would be found only
  // once the tree is built. Counted first, the rows are refused before either is looked at.
  std::string body = R"({"instances": [)";
  for (int r = 0; r < 20000; ++r) body += r == 0 ? R"({"f": "\u0041"})" : R"(,{"f": "\u0041"})";
  body += R"(], "signature_name": 5})";
  auto parsed = ParseTfsPredictRequest(body, 1024);
  EXPECT_EQ(parsed.status().code(), StatusCode::kOutOfRange) << parsed.status().ToString();
  EXPECT_EQ(parsed.status().message(), "'instances' has more than 1024 rows; the limit is 1024");
  // A small body keeps the general path's order of checks.
  EXPECT_EQ(
      ParseTfsPredictRequest(R"({"instances": [1, 2], "signature_name": 5})", 1).status().code(),
      StatusCode::kInvalidArgument);
}

TEST(TfsCodecTest, ExamplesGetTheContextMergedIntoEachRow) {
  auto r = ParseTfsExamplesRequest(
      R"({"signature_name": "eta_minutes", "context": {"pickup_datetime": "2024-01-05 08:30:00"},
          "examples": [{"pickup_zone": 74, "trip_distance": 2.5},
                       {"trip_distance": 1, "pickup_zone": 236}]})",
      kMaxRows);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->signature_name, "eta_minutes");
  ASSERT_TRUE(r->input.is_raw());
  EXPECT_EQ(r->input.rows, 2);
  EXPECT_EQ(r->input.raw.rows, 2);
  EXPECT_EQ(r->input.raw.Find("pickup_zone")->values, (std::vector<RawValue>{74.0, 236.0}));
  EXPECT_EQ(r->input.raw.Find("pickup_datetime")->values,
            (std::vector<RawValue>{std::string("2024-01-05 08:30:00"),
                                   std::string("2024-01-05 08:30:00")}));
  // Without a context; the numeric input as a named list.
  auto numeric = ParseTfsExamplesRequest(R"({"examples": [{"features": [1, 2, 3]}]})", kMaxRows);
  ASSERT_TRUE(numeric.ok()) << numeric.status().ToString();
  EXPECT_EQ(numeric->input.tensor_name, "features");
  EXPECT_EQ(numeric->input.values, (std::vector<float>{1, 2, 3}));
  EXPECT_TRUE(numeric->signature_name.empty());
}

TEST(TfsCodecTest, BadExamplesBodiesNameTheProblem) {
  const auto error = [](std::string_view body, StatusCode code = StatusCode::kInvalidArgument) {
    return testing::FailureMessage(ParseTfsExamplesRequest(body, kMaxRows), code, body);
  };
  EXPECT_NE(error(R"({"examples": [{"a": 1})").find("malformed JSON"), std::string::npos);
  EXPECT_NE(error("[]").find("must be a JSON object"), std::string::npos);
  EXPECT_NE(error("{}").find("'examples' must be a non-empty array"), std::string::npos);
  EXPECT_NE(error(R"({"examples": []})").find("'examples' must be a non-empty array"),
            std::string::npos);
  EXPECT_NE(error(R"({"examples": {"a": 1}})").find("'examples' must be"), std::string::npos);
  EXPECT_NE(error(R"({"examples": [1]})").find("examples[0]: must be an object"),
            std::string::npos);
  EXPECT_NE(error(R"({"examples": [{"a": 1}], "instances": [1]})").find("unknown key 'instances'"),
            std::string::npos);
  EXPECT_NE(error(R"({"examples": [{"a": 1}], "context": [1]})").find("'context' must be an object"),
            std::string::npos);
  EXPECT_NE(error(R"({"examples": [{"a": 1}], "signature_name": 3})").find("'signature_name'"),
            std::string::npos);
  EXPECT_NE(error(R"({"context": {"a": 1}, "examples": [{"b": 1}, {"a": 2}]})")
                .find("examples[1]: feature 'a' is also in 'context'"),
            std::string::npos);
  EXPECT_NE(error(R"({"examples": [{"a": 1, "b": 2}, {"a": 1}]})").find("examples[1]"),
            std::string::npos);
  EXPECT_NE(error(R"({"examples": [{"a": true}]})")
                .find("examples[0].a: expected a number or a string, got boolean"),
            std::string::npos);
  EXPECT_NE(error(R"({"context": {"a": null}, "examples": [{"b": 1}]})").find("examples[0].a"),
            std::string::npos);
  EXPECT_NE(error(R"({"examples": [{}]})").find("empty object"), std::string::npos);
  EXPECT_NE(error(R"({"examples": [{"a":1},{"a":2},{"a":3},{"a":4},{"a":5}]})",
                  StatusCode::kOutOfRange)
                .find("limit is 4"),
            std::string::npos);
}

// A body of a million rows (~4 MB): `row` repeated inside `head` … `tail`.
std::string MillionRows(const std::string& head, const std::string& row, const std::string& tail) {
  std::string body = head;
  body.reserve(head.size() + 1000000 * (row.size() + 1) + tail.size());
  for (int r = 0; r < 1000000; ++r) {
    if (r) body += ',';
    body += row;
  }
  return body + tail;
}

TEST(TfsCodecTest, TheRowLimitIsCheckedWhileParsingNotAfter) {
  struct Case {
    std::string body, message;
  };
  const std::vector<Case> cases = {
      {MillionRows(R"({"instances": [)", "[1]", "]}"), "'instances' has more than 1024 rows"},
      {MillionRows(R"({"signature_name": "serving_default", "instances": [)", R"({"f": "\u0041"})",
                   "]}"),
       "'instances' has more than 1024 rows"},
      {MillionRows(R"({"inputs": [)", "[1]", "]}"), "inputs has more than 1024 rows"},
      {MillionRows(R"({"inputs": {"pickup_zone": [)", "7", "]}}"),
       "inputs.pickup_zone has more than 1024 rows"},
      {MillionRows(R"({"context": {"a": 1}, "examples": [)", R"({"b": 2})", "]}"),
       "'examples' has more than 1024 rows"},
  };
  for (const Case& c : cases) {
    ASSERT_GT(c.body.size(), 2'000'000u);
    // The scan stops at the 1025th row: it read a bounded number of values (no tree, and a
    // thousandth of the body), whatever the body's size.
    RowScan scan = ScanTfsRows(c.body, 1024);
    EXPECT_EQ(scan.status.code(), StatusCode::kOutOfRange) << c.message;
    EXPECT_NE(scan.status.message().find(c.message + "; the limit is 1024"), std::string::npos)
        << scan.status.message();
    EXPECT_LE(scan.values_read, 3 * 1025 + 8) << c.message;
    // And the parsers answer with it.
    const Status parsed = c.body.find("examples") != std::string::npos
                              ? ParseTfsExamplesRequest(c.body, 1024).status()
                              : ParseTfsPredictRequest(c.body, 1024).status();
    EXPECT_EQ(parsed, scan.status) << c.message;
  }
  // Within the limit the scan reads everything and refuses nothing.
  RowScan fine = ScanTfsRows(R"({"instances": [[1, 2], [3, 4]]})", 2);
  EXPECT_TRUE(fine.status.ok()) << fine.status.ToString();
  EXPECT_EQ(fine.values_read, 8);  // the body, 'instances', two rows, four numbers
}

class TfsRenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::RegisterTestBackendAndFeatures();
    const std::string repo = testing::MakeTempDir("tfs_codec_test");
    ASSERT_TRUE(testing::WriteTestVersion(repo, "trip", 1, testing::TripVersionOptions()).ok());
    ASSERT_TRUE(testing::WriteTestVersion(repo, "eta", 1).ok());
    auto t = testing::LoadTestServable(repo, "trip", 1);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    trip_ = *t;
    auto e = testing::LoadTestServable(repo, "eta", 1);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    eta_ = *e;
  }
  static PredictResult Result(std::shared_ptr<const Servable> s, int64_t rows,
                              std::vector<float> values) {
    PredictResult r;
    r.servable = std::move(s);
    r.rows = rows;
    r.values = std::move(values);
    return r;
  }
  std::shared_ptr<const Servable> trip_, eta_;
};

TEST_F(TfsRenderTest, OneOutputRendersPlainValuesInRowAndColumnFormat) {
  PredictResult r = Result(eta_, 2, {1.5f, 2});
  EXPECT_EQ(json::parse(RenderTfsPredictResponse(r, false)),
            json::parse(R"({"predictions": [1.5, 2]})"));
  EXPECT_EQ(json::parse(RenderTfsPredictResponse(r, true)),
            json::parse(R"({"outputs": [1.5, 2]})"));
}

TEST_F(TfsRenderTest, SeveralOutputsRenderObjectsKeyedByName) {
  PredictResult r = Result(trip_, 2, {1, 2, 3, 4});  // rows × (a, b)
  EXPECT_EQ(json::parse(RenderTfsPredictResponse(r, false)),
            json::parse(R"({"predictions": [{"a": 1, "b": 2}, {"a": 3, "b": 4}]})"));
  EXPECT_EQ(json::parse(RenderTfsPredictResponse(r, true)),
            json::parse(R"({"outputs": {"a": [1, 3], "b": [2, 4]}})"));
}

TEST_F(TfsRenderTest, RegressAnswersOneValuePerExample) {
  auto body = RenderTfsRegressResponse(Result(eta_, 2, {1.5f, 2}), "");
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(json::parse(*body), json::parse(R"({"results": [1.5, 2]})"));
  // Several outputs: the one the signature names.
  body = RenderTfsRegressResponse(Result(trip_, 2, {1, 2, 3, 4}), "b");
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(json::parse(*body), json::parse(R"({"results": [2, 4]})"));
  EXPECT_EQ(RenderTfsRegressResponse(Result(trip_, 2, {1, 2, 3, 4}), "").status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(TfsRenderTest, ClassifyAnswersLabelScorePairsPerExample) {
  EXPECT_EQ(json::parse(RenderTfsClassifyResponse(Result(trip_, 2, {0.25f, 0.75f, 1, 0}))),
            json::parse(R"({"results": [[["a", 0.25], ["b", 0.75]], [["a", 1], ["b", 0]]]})"));
}

TEST_F(TfsRenderTest, ModelStatusCarriesStateAndError) {
  std::vector<VersionStatus> versions(2);
  versions[0].version = 1;
  versions[0].state = VersionState::kAvailable;
  versions[1].version = 2;
  versions[1].state = VersionState::kEnd;
  versions[1].status = DataLossError("model.json: sha256 mismatch");
  json j = json::parse(RenderTfsModelStatus(versions));
  ASSERT_EQ(j["model_version_status"].size(), 2u);
  EXPECT_EQ(j["model_version_status"][0], json::parse(R"({"version": "1", "state": "AVAILABLE",
                            "status": {"error_code": "OK", "error_message": ""}})"));
  EXPECT_EQ(j["model_version_status"][1]["state"], "END");
  EXPECT_EQ(j["model_version_status"][1]["status"]["error_code"], "DATA_LOSS");
  EXPECT_EQ(j["model_version_status"][1]["status"]["error_message"], "model.json: sha256 mismatch");
}

TEST_F(TfsRenderTest, MetadataIsASignatureDefWithFeatureSpec) {
  ModelDescription d{trip_->spec(), {1}, {{"stable", 1}}};
  json j = json::parse(RenderTfsModelMetadata(d));
  EXPECT_EQ(j["model_spec"]["name"], "trip");
  EXPECT_EQ(j["model_spec"]["version"], "1");
  const json& sig = j["metadata"]["signature_def"]["signature_def"]["serving_default"];
  EXPECT_EQ(sig["method_name"], "tensorflow/serving/predict");
  EXPECT_EQ(sig["inputs"]["features"]["tensor_shape"]["dim"][1]["size"], "3");
  EXPECT_TRUE(sig["outputs"].contains("a"));
  EXPECT_TRUE(sig["outputs"].contains("b"));
  EXPECT_EQ(j["bimride"]["feature_spec"], "test_trip_v1");
  EXPECT_EQ(j["bimride"]["labels"]["stable"], 1);
  // Each output of a regressor is a regression signature :regress accepts by name.
  for (const char* output : {"a", "b"}) {
    const json& reg = j["metadata"]["signature_def"]["signature_def"][output];
    EXPECT_EQ(reg["method_name"], "tensorflow/serving/regress") << output;
    EXPECT_EQ(reg["inputs"]["inputs"]["dtype"], "DT_STRING") << output;
    EXPECT_EQ(reg["outputs"]["outputs"]["name"], output);
  }
  EXPECT_EQ(j["bimride"]["methods"], json::parse(R"(["predict", "regress"])"));
}

}  // namespace
}  // namespace bimride::serving::http
