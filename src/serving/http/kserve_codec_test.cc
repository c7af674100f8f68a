#include "serving/http/kserve_codec.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "serving/testing/status_testing.h"
#include "serving/testing/test_models.h"

namespace bimride::serving::http {
namespace {

using nlohmann::json;

constexpr int64_t kMaxRows = 4;

StatusOr<KserveInferRequest> Parse(std::string_view body) {
  return ParseKserveInferRequest(body, kMaxRows);
}

// The error message of parsing `body`, which must fail with `code`.
std::string ErrorOf(std::string_view body, StatusCode code = StatusCode::kInvalidArgument) {
  return testing::FailureMessage(Parse(body), code, body);
}

// One input tensor as JSON text.
std::string Tensor(const std::string& name, const std::string& shape, const std::string& dtype,
                   const std::string& data) {
  return R"({"name": ")" + name + R"(", "shape": )" + shape + R"(, "datatype": ")" + dtype +
         R"(", "data": )" + data + "}";
}
std::string Infer(const std::string& tensors) { return R"({"inputs": [)" + tensors + "]}"; }

TEST(KserveCodecTest, ParsesTheFeatureTensorFlatOrNested) {
  for (const char* data : {"[1, 2, 3, 4, 5, 6]", "[[1, 2, 3], [4, 5, 6]]"}) {
    auto r = Parse(R"({"id": "r1", "inputs": [)" + Tensor("features", "[2, 3]", "FP32", data) +
                   R"(], "outputs": [{"name": "y"}]})");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->id, "r1");
    EXPECT_TRUE(r->has_id);
    EXPECT_EQ(r->requested_outputs, (std::vector<std::string>{"y"}));
    EXPECT_EQ(r->input.tensor_name, "features");
    EXPECT_EQ(r->input.rows, 2);
    EXPECT_EQ(r->input.width, 3);
    EXPECT_EQ(r->input.values, (std::vector<float>{1, 2, 3, 4, 5, 6}));
  }
}

TEST(KserveCodecTest, ParsesOneRawFieldPerInput) {
  auto r = Parse(Infer(Tensor("pickup_zone", "[2]", "INT32", "[74, 236]") + ", " +
                       Tensor("pickup_datetime", "[2, 1]", "BYTES",
                              R"(["2021-02-10 08:30:00", "2021-02-10 09:00:00"])") +
                       ", " + Tensor("airport", "[2]", "FP32", "[1, 0]")));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->has_id);
  ASSERT_TRUE(r->input.is_raw());
  EXPECT_EQ(r->input.rows, 2);
  EXPECT_EQ(r->input.raw.Find("pickup_zone")->values, (std::vector<RawValue>{74.0, 236.0}));
  EXPECT_EQ(std::get<std::string>(r->input.raw.Find("pickup_datetime")->values[0]),
            "2021-02-10 08:30:00");
  EXPECT_EQ(r->input.raw.Find("airport")->values, (std::vector<RawValue>{1.0, 0.0}));
}

TEST(KserveCodecTest, MalformedBodiesGiveClearErrors) {
  EXPECT_NE(ErrorOf(R"({"inputs": [)").find("malformed JSON"), std::string::npos);
  EXPECT_NE(ErrorOf("[]").find("must be a JSON object"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"inputs": []})").find("'inputs' must be a non-empty array"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"id": 7, "inputs": []})").find("'id' must be a string"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"parameters": 1, "inputs": []})").find("'parameters'"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"outputs": [{}], "inputs": []})").find("string 'name'"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"inputs": [3]})").find("inputs[0]: must be an object"), std::string::npos);
  EXPECT_NE(
      ErrorOf(R"({"inputs": [{"shape": [1], "datatype": "FP32", "data": [1]}]})").find("'name'"),
      std::string::npos);
}

TEST(KserveCodecTest, BadTensorsNameTheInput) {
  auto error = [](const std::string& shape, const std::string& dtype, const std::string& data) {
    return ErrorOf(Infer(Tensor("x", shape, dtype, data)));
  };
  EXPECT_NE(error("[1, 2]", "FP16", "[1, 2]").find("input 'x': datatype FP16 is not supported"),
            std::string::npos);
  EXPECT_NE(error("[1, 2]", "FLOAT", "[1, 2]").find("unknown datatype 'FLOAT'"), std::string::npos);
  EXPECT_NE(error("[2, 2]", "FP32", "[1, 2, 3]").find("has 3 elements but shape implies 4"),
            std::string::npos);
  EXPECT_NE(error("[1, 2]", "INT32", "[1, 2.5]").find("integers"), std::string::npos);
  EXPECT_NE(error("[1, 2]", "UINT8", "[1, -2]").find("non-negative"), std::string::npos);
  EXPECT_NE(error("[1, 2]", "FP32", R"([1, "a"])").find("numbers"), std::string::npos);
  EXPECT_NE(error("[1]", "BYTES", "[1]").find("BYTES data must be strings"), std::string::npos);
  // true/false are not numbers: a BOOL zone must not become zone 1.
  EXPECT_NE(error("[2]", "BOOL", "[true, false]").find("input 'x': BOOL data is not accepted"),
            std::string::npos);
  EXPECT_NE(error("[1, 2]", "BOOL", "[true, false]").find("input 'x': BOOL data is not accepted"),
            std::string::npos);
  EXPECT_NE(error("[-1, 2]", "FP32", "[1, 2]").find("'shape' must hold non-negative integers"),
            std::string::npos);
  EXPECT_NE(error("[]", "FP32", "[]").find("'shape'"), std::string::npos);
  EXPECT_NE(ErrorOf(Infer(R"({"name": "x", "shape": [1], "datatype": "FP32"})")).find("'data'"),
            std::string::npos);
  EXPECT_NE(
      ErrorOf(Infer(Tensor("x", "[1]", "FP32", "[1]") + ", " + Tensor("x", "[1]", "FP32", "[2]")))
          .find("given twice"),
      std::string::npos);
  EXPECT_NE(ErrorOf(Infer(Tensor("a", "[2]", "FP32", "[1, 2]") + ", " +
                          Tensor("b", "[1]", "FP32", "[1]")))
                .find("input 'b': has 1 rows"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Infer(Tensor("a", "[1]", "FP32", "[1]") + ", " +
                          Tensor("b", "[1, 2]", "FP32", "[1, 2]")))
                .find("raw fields have shape [N] or [N, 1]"),
            std::string::npos);
}

TEST(KserveCodecTest, TooManyRowsIsOutOfRange) {
  EXPECT_NE(ErrorOf(Infer(Tensor("features", "[5, 1]", "FP32", "[1, 2, 3, 4, 5]")),
                    StatusCode::kOutOfRange)
                .find("input 'features' has more than 4 rows; the limit is 4"),
            std::string::npos);
}

TEST(KserveCodecTest, TheRowLimitIsCheckedWhileParsingNotAfter) {
  // ~4 MB bodies of a million rows: the scan stops at the shape, or at the row over the limit.
  const auto million = [](const std::string& head, const std::string& row,
                          const std::string& tail) {
    std::string body = head;
    for (int r = 0; r < 1000000; ++r) body += (r ? "," : "") + row;
    return body + tail;
  };
  struct Case {
    std::string body, message;
    int64_t max_values;
  };
  const std::vector<Case> cases = {
      // The shape comes first: refused before any data is read.
      {million(R"({"inputs": [{"name": "pickup_zone", "shape": [1000000], "datatype": "INT32",
                                "data": [)",
               "7", "]}]}"),
       "input 'pickup_zone' has more than 4 rows", 8},
      // Nested data before its shape: refused at the fifth row.
      {million(R"({"inputs": [{"datatype": "FP32", "data": [)", "[1, 2, 3]",
               R"(], "shape": [1000000, 3], "name": "features"}]})"),
       "inputs[0]: 'data' has more than 4 rows", 32},
      // The second input is the one too long.
      {million(R"({"inputs": [{"name": "a", "shape": [1], "datatype": "FP32", "data": [1]},
                               {"name": "b", "shape": [1000000], "datatype": "FP32", "data": [)",
               "1", "]}]}"),
       "input 'b' has more than 4 rows", 24},
  };
  for (const Case& c : cases) {
    RowScan scan = ScanKserveRows(c.body, kMaxRows);
    EXPECT_EQ(scan.status.code(), StatusCode::kOutOfRange) << c.message;
    EXPECT_NE(scan.status.message().find(c.message + "; the limit is 4"), std::string::npos)
        << scan.status.message();
    EXPECT_LE(scan.values_read, c.max_values) << c.message;
    EXPECT_EQ(Parse(c.body).status(), scan.status) << c.message;
  }
  RowScan fine = ScanKserveRows(Infer(Tensor("features", "[2, 3]", "FP32", "[[1, 2, 3], [4, 5, 6]]")),
                                kMaxRows);
  EXPECT_TRUE(fine.status.ok()) << fine.status.ToString();
}

class KserveRenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::RegisterTestBackendAndFeatures();
    const std::string repo = testing::MakeTempDir("kserve_codec_test");
    ASSERT_TRUE(testing::WriteTestVersion(repo, "trip", 1, testing::TripVersionOptions()).ok());
    auto t = testing::LoadTestServable(repo, "trip", 1);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    result_.servable = *t;
    result_.rows = 2;
    result_.values = {1, 2, 3, 4};  // rows × (a, b)
  }
  PredictResult result_;
};

TEST_F(KserveRenderTest, RendersEveryOutputOrTheRequestedOnesWithTheId) {
  KserveInferRequest all;
  auto body = RenderKserveInferResponse(result_, all);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(json::parse(*body), json::parse(R"({"model_name": "trip", "model_version": "1",
      "outputs": [{"name": "a", "datatype": "FP32", "shape": [2], "data": [1, 3]},
                  {"name": "b", "datatype": "FP32", "shape": [2], "data": [2, 4]}]})"));
  KserveInferRequest only_b;
  only_b.requested_outputs = {"b"};
  only_b.id = "r9";
  only_b.has_id = true;
  body = RenderKserveInferResponse(result_, only_b);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  json j = json::parse(*body);
  EXPECT_EQ(j["id"], "r9");
  ASSERT_EQ(j["outputs"].size(), 1u);
  EXPECT_EQ(j["outputs"][0]["data"], json::parse("[2, 4]"));
}

TEST_F(KserveRenderTest, UnknownRequestedOutputIsNotFound) {
  KserveInferRequest request;
  request.requested_outputs = {"c"};
  auto body = RenderKserveInferResponse(result_, request);
  ASSERT_FALSE(body.ok());
  EXPECT_EQ(body.status().code(), StatusCode::kNotFound);
  EXPECT_NE(body.status().message().find("no output 'c'"), std::string::npos);
}

TEST_F(KserveRenderTest, ModelAndServerMetadata) {
  ModelDescription d{result_.servable->spec(), {1}, {}};
  json j = json::parse(RenderKserveModelMetadata(d));
  EXPECT_EQ(j["name"], "trip");
  EXPECT_EQ(j["versions"], json::parse(R"(["1"])"));
  EXPECT_EQ(j["platform"], "bimride_baseline");
  EXPECT_EQ(j["inputs"][0]["shape"], json::parse("[-1, 3]"));
  EXPECT_EQ(j["outputs"].size(), 2u);
  EXPECT_EQ(j["parameters"]["feature_spec"], "test_trip_v1");
  json server = json::parse(RenderKserveServerMetadata());
  EXPECT_EQ(server["name"], "bimride");
  EXPECT_EQ(server["extensions"], json::parse(R"(["model_repository"])"));
}

}  // namespace
}  // namespace bimride::serving::http
