// End-to-end tests of every HTTP endpoint, against an in-process server on a free loopback port.
#include "serving/http/rest_api.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/file.h"
#include "monitoring/drift.h"
#include "registry/registry.h"
#include "serving/http/http_client.h"
#include "serving/http/http_transport.h"
#include "serving/testing/test_models.h"

namespace bimride::serving::http {
namespace {

using nlohmann::json;
using http::HttpClient;

class RestApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::RegisterTestBackendAndFeatures();
    repo_ = testing::MakeTempDir("rest_api_test");
    // eta: y = x0 + 2 x1 + 3 x2 + version  (versions 1 and 2)
    for (int v = 1; v <= 2; ++v) {
      testing::TestVersionOptions o;
      o.weights = {{1, 2, 3}};
      o.bias = {static_cast<float>(v)};
      o.output_names = {"eta_seconds"};
      ASSERT_TRUE(testing::WriteTestVersion(repo_, "eta", v, o).ok());
    }
    // trip: raw fields → [zone, distance, hour]; outputs a = zone + hour, b = distance
    ASSERT_TRUE(testing::WriteTestVersion(repo_, "trip", 1, testing::TripVersionOptions()).ok());
    config_.model_repo = repo_;
    config_.port = 0;
    config_.io_threads = 2;
    config_.poll_interval_ms = 0;
    config_.max_body_bytes = 64 * 1024;
    config_.max_batch_rows = 100;
    config_.access_log = repo_ + "/access.log";
    config_.models["eta"].labels = {{"stable", 1}, {"canary", 2}};
    config_.models["eta"].policy.latest = 2;
  }
  void Start() {
    auto s = StartHttpServer(config_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
    client_ = std::make_unique<HttpClient>("127.0.0.1", HttpPort(*server_));
  }
  http::ClientResponse Get(const std::string& target) {
    auto r = client_->Get(target);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : http::ClientResponse{};
  }
  http::ClientResponse Post(const std::string& target, const std::string& body,
                               const std::map<std::string, std::string>& headers = {}) {
    auto r = client_->Send("POST", target, body, headers);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : http::ClientResponse{};
  }
  static json J(const http::ClientResponse& r) { return json::parse(r.body, nullptr, false); }
  static std::string Error(const http::ClientResponse& r) {
    json j = J(r);
    return j.is_object() && j.contains("error") ? j["error"].get<std::string>() : "<no error>";
  }

  std::string repo_;
  ServerConfig config_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<HttpClient> client_;
};

// POST /v1/online/<kind>: events go to the recorder registered for the kind, with the server's
// online store; its errors become HTTP statuses.
TEST_F(RestApiTest, OnlineEventsGoToTheRecorderOfTheirKind) {
  RegisterOnlineEventRecorder(
      "test_taps", [](const RawBatch& events, online::FeatureStore& store) -> StatusOr<int64_t> {
        const RawColumn* zone = events.Find("zone");
        if (zone == nullptr) return InvalidArgumentError("test_taps: need 'zone'");
        for (const RawValue& z : zone->values) {
          RETURN_IF_ERROR(store.Add("test:taps", static_cast<int64_t>(std::get<double>(z)), 1));
        }
        return events.rows;
      });
  Start();
  auto r = Post("/v1/online/test_taps", R"({"events": [{"zone": 4}, {"zone": 4}, {"zone": 5}]})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(J(r)["recorded"], 3);
  auto range = server_->online_store().Range("test:taps", 4, 2);
  ASSERT_TRUE(range.ok());
  EXPECT_EQ((*range)[0], 2.0);
  EXPECT_EQ((*range)[1], 1.0);
  r = Post("/v1/online/test_taps", R"({"events": [{"street": 4}]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Error(r), "test_taps: need 'zone'");
  r = Post("/v1/online/nope", R"({"events": [{"zone": 4}]})");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(Error(r).find("no online event kind 'nope'"), std::string::npos) << Error(r);
  EXPECT_EQ(Post("/v1/online/test_taps", R"({"event": []})").status, 400);
  EXPECT_EQ(Get("/v1/online/test_taps").status, 405);
  const std::string metrics = Get("/metrics").body;
  EXPECT_NE(metrics.find("bimride_online_store_up{store=\"memory\"} 1"), std::string::npos);
  // Two (key, bucket) entries: test:taps buckets 4 and 5.
  EXPECT_NE(metrics.find("bimride_online_store_entries{store=\"memory\"} 2\n"), std::string::npos)
      << metrics;
}

TEST_F(RestApiTest, TfsModelStatusForModelVersionAndLabel) {
  Start();
  auto r = Get("/v1/models/eta");
  ASSERT_EQ(r.status, 200) << r.body;
  json j = J(r);
  ASSERT_EQ(j["model_version_status"].size(), 2u);
  EXPECT_EQ(j["model_version_status"][0]["version"], "1");
  EXPECT_EQ(j["model_version_status"][0]["state"], "AVAILABLE");
  EXPECT_EQ(j["model_version_status"][0]["status"]["error_code"], "OK");
  j = J(Get("/v1/models/eta/versions/2"));
  ASSERT_EQ(j["model_version_status"].size(), 1u);
  EXPECT_EQ(j["model_version_status"][0]["version"], "2");
  j = J(Get("/v1/models/eta/labels/stable"));
  EXPECT_EQ(j["model_version_status"][0]["version"], "1");
  EXPECT_EQ(Get("/v1/models/nope").status, 404);
  EXPECT_EQ(Get("/v1/models/eta/versions/7").status, 404);
  EXPECT_EQ(Get("/v1/models/eta/labels/blue").status, 404);
  r = Get("/v1/models/eta/versions/abc");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(Error(r).find("not a positive integer"), std::string::npos);
}

TEST_F(RestApiTest, TfsStatusShowsFailedLoadWithError) {
  testing::TestVersionOptions bad;
  bad.corrupt_digest = true;
  ASSERT_TRUE(testing::WriteTestVersion(repo_, "eta", 3, bad).ok());
  Start();
  json j = J(Get("/v1/models/eta/versions/3"));
  EXPECT_EQ(j["model_version_status"][0]["state"], "END");
  EXPECT_EQ(j["model_version_status"][0]["status"]["error_code"], "DATA_LOSS");
  EXPECT_NE(j["model_version_status"][0]["status"]["error_message"].get<std::string>().find(
                "model.json"),
            std::string::npos);
  // Versions 1 and 2 still serve.
  auto r = Post("/v1/models/eta:predict", R"({"instances": [[1, 1, 1]]})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(server_->service().MetricsText().find(
                "bimride_model_load_failures_total{model=\"eta\",version=\"3\"} 1"),
            std::string::npos);
}

TEST_F(RestApiTest, TfsMetadataDescribesSignature) {
  Start();
  auto r = Get("/v1/models/eta/versions/2/metadata");
  ASSERT_EQ(r.status, 200) << r.body;
  json j = J(r);
  EXPECT_EQ(j["model_spec"]["name"], "eta");
  EXPECT_EQ(j["model_spec"]["version"], "2");
  json sig = j["metadata"]["signature_def"]["signature_def"]["serving_default"];
  EXPECT_EQ(sig["inputs"]["features"]["dtype"], "DT_FLOAT");
  EXPECT_EQ(sig["inputs"]["features"]["tensor_shape"]["dim"][1]["size"], "3");
  EXPECT_TRUE(sig["outputs"].contains("eta_seconds"));
  EXPECT_EQ(sig["method_name"], "tensorflow/serving/predict");
  EXPECT_EQ(J(Get("/v1/models/trip/metadata"))["bimride"]["feature_spec"], "test_trip_v1");
}

TEST_F(RestApiTest, TfsPredictRowAndColumnarFormats) {
  Start();
  // Default route = stable label = version 1: y = 1 + 2 + 3 + 1 = 7.
  auto r = Post("/v1/models/eta:predict", R"({"instances": [[1, 1, 1], [0, 0, 0]]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(J(r), json::parse(R"({"predictions": [7.0, 1.0]})"));
  r = Post("/v1/models/eta/versions/2:predict",
           R"({"signature_name": "serving_default", "instances": [{"features": [1, 1, 1]}]})");
  EXPECT_EQ(J(r), json::parse(R"({"predictions": [8.0]})")) << r.body;
  r = Post("/v1/models/eta/labels/canary:predict", R"({"inputs": [[1, 0, 0], [0, 1, 0]]})");
  EXPECT_EQ(J(r), json::parse(R"({"outputs": [3.0, 4.0]})")) << r.body;
  r = Post("/v1/models/eta:predict", R"({"inputs": {"features": [[0, 0, 1]]}})");
  EXPECT_EQ(J(r), json::parse(R"({"outputs": [4.0]})")) << r.body;
}

TEST_F(RestApiTest, TfsPredictRawFieldsThroughFeatureSpecWithSeveralOutputs) {
  Start();
  auto r = Post("/v1/models/trip:predict",
                R"({"instances": [{"pickup_zone": 132, "trip_distance": 2.5,
                                   "pickup_datetime": "2024-01-05 08:30:00"}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(J(r), json::parse(R"({"predictions": [{"a": 140.0, "b": 2.5}]})"));
  r = Post("/v1/models/trip:predict",
           R"({"inputs": {"pickup_zone": [1, 2], "trip_distance": [0.5, 1.5],
                          "pickup_datetime": ["2024-01-05 10:00:00", "2024-01-05 23:59:00"]}})");
  EXPECT_EQ(J(r), json::parse(R"({"outputs": {"a": [11.0, 25.0], "b": [0.5, 1.5]}})")) << r.body;
  r = Post("/v1/models/trip:predict",
           R"({"instances": [{"pickup_zone": 1, "trip_distance": 2}]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(Error(r).find("missing raw field 'pickup_datetime'"), std::string::npos) << r.body;
  r = Post("/v1/models/trip:predict",
           R"({"instances": [{"pickup_zone": 1, "trip_distance": 2, "pickup_datetime": "soon"}]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(Error(r).find("pickup_datetime"), std::string::npos) << r.body;
  r = Post("/v1/models/eta:predict", R"({"instances": [{"pickup_zone": 1}]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(Error(r).find("no feature spec"), std::string::npos) << r.body;
}

TEST_F(RestApiTest, TfsPredictRejectsBadInputWithClearErrors) {
  Start();
  struct Case {
    std::string body;
    int status;
    std::string message;
  };
  std::vector<Case> cases = {
      {"{\"instances\": [[1, 2", 400, "malformed JSON"},
      {"[1, 2, 3]", 400, "must be a JSON object"},
      {"{}", 400, "exactly one of"},
      {R"({"instances": [[1,1,1]], "inputs": [[1,1,1]]})", 400, "exactly one of"},
      {R"({"instances": []})", 400, "non-empty"},
      {R"({"instances": [[1, 2]]})", 400, "expects 3"},
      {R"({"instances": [[1, 2, 3], [1, 2]]})", 400, "instances[1]"},
      {R"({"instances": [["a", "b", "c"]]})", 400, "expected numbers"},
      {R"({"instances": [[1, 2, 1e999]]})", 400, "number overflow"},
      {R"({"instances": [[1, 2, 1e39]]})", 400, "NaN/Inf"},
      {R"({"instances": [{"pixels": [1, 2, 3]}]})", 400, "unknown input 'pixels'"},
      {R"({"signature_name": "classify", "instances": [[1, 2, 3]]})", 400, "signature_name"},
      {R"({"instances": [[1,2,3]], "extra": 1})", 400, "unknown key 'extra'"},
      {R"({"inputs": [[1, 2, 3], [1, 2]]})", 400, "rows have different lengths"},
  };
  for (const Case& c : cases) {
    auto r = Post("/v1/models/eta:predict", c.body);
    EXPECT_EQ(r.status, c.status) << c.body << " -> " << r.body;
    EXPECT_NE(Error(r).find(c.message), std::string::npos) << c.body << " -> " << r.body;
  }
  std::string many = R"({"instances": [)";
  for (int i = 0; i < 101; ++i) many += std::string(i ? "," : "") + "[1,2,3]";
  many += "]}";
  auto r = Post("/v1/models/eta:predict", many);
  EXPECT_EQ(r.status, 413) << r.body;
  r = Post("/v1/models/eta:predict", std::string(70 * 1024, ' '));
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_EQ(Post("/v1/models/nope:predict", R"({"instances": [[1,2,3]]})").status, 404);
  EXPECT_EQ(Post("/v1/models/eta/versions/9:predict", R"({"instances": [[1,2,3]]})").status, 404);
  EXPECT_EQ(Post("/v1/models/eta:classify", R"({"instances": [[1,2,3]]})").status, 400);
  EXPECT_EQ(Get("/v1/models/eta:predict").status, 405);
  EXPECT_EQ(Get("/nope").status, 404);
  auto raw = client_->SendRaw("GARBAGE\r\n\r\n");
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  EXPECT_EQ(raw->status, 400);
  // The server is still fine.
  EXPECT_EQ(Post("/v1/models/eta:predict", R"({"instances": [[1,2,3]]})").status, 200);
}

TEST_F(RestApiTest, TfsRegressAnswersResultsThroughTheSameRouting) {
  config_.models["eta"].routing.shadow = {"canary"};
  Start();
  // Default route = stable = version 1: y = x0 + 2 x1 + 3 x2 + 1.
  auto r = Post("/v1/models/eta:regress",
                R"({"examples": [{"features": [1, 1, 1]}, {"features": [0, 0, 0]}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(J(r), json::parse(R"({"results": [7.0, 1.0]})"));
  r = Post("/v1/models/eta/versions/2:regress",
           R"({"signature_name": "serving_default", "examples": [{"features": [1, 1, 1]}]})");
  EXPECT_EQ(J(r), json::parse(R"({"results": [8.0]})")) << r.body;
  r = Post("/v1/models/eta/labels/canary:regress", R"({"examples": [{"features": [0, 0, 1]}]})");
  EXPECT_EQ(J(r), json::parse(R"({"results": [5.0]})")) << r.body;
  // Raw fields with a context merged into each example; the output named as the signature.
  r = Post("/v1/models/trip:regress",
           R"({"signature_name": "a", "context": {"pickup_datetime": "2024-01-05 08:30:00"},
               "examples": [{"pickup_zone": 132, "trip_distance": 2.5},
                            {"pickup_zone": 1, "trip_distance": 0.5}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(J(r), json::parse(R"({"results": [140.0, 9.0]})"));
  // Shadow and metrics see :regress as they see :predict.
  server_->shadow_queue().Flush();
  EXPECT_EQ(server_->service().metrics().For("eta", 2)->shadow_abs_diff.count(), 1u);
  const std::string metrics = Get("/metrics").body;
  EXPECT_NE(metrics.find("bimride_predict_requests_total{model=\"eta\",version=\"1\",code=\"OK\"} 1"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("bimride_predict_requests_total{model=\"trip\",version=\"1\",code=\"OK\"} 1"),
            std::string::npos);
}

TEST_F(RestApiTest, TfsClassifyAnswersLabelScorePairsForAClassifierOnly) {
  ASSERT_TRUE(
      testing::WriteTestVersion(repo_, "payment", 1, testing::ClassifierVersionOptions()).ok());
  Start();
  auto r = Post("/v1/models/payment:classify",
                R"({"examples": [{"features": [0.25, 0.75, 0]}, {"features": [1, 0, 0]}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(J(r), json::parse(R"({"results": [[["cash", 0.25], ["card", 0.75]],
                                              [["cash", 1.0], ["card", 0.0]]]})"));
  r = Post("/v1/models/payment/versions/1:classify",
           R"({"examples": [{"features": [0.5, 0.5, 0]}]})");
  EXPECT_EQ(r.status, 200) << r.body;
  // Each side refuses the other's method, clearly.
  r = Post("/v1/models/eta:classify", R"({"examples": [{"features": [1, 1, 1]}]})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(Error(r).find("model 'eta' version 1 is a regressor, not a classifier"),
            std::string::npos)
      << r.body;
  r = Post("/v1/models/payment:regress", R"({"examples": [{"features": [1, 1, 1]}]})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(Error(r).find("is a classifier"), std::string::npos) << r.body;
}

TEST_F(RestApiTest, TfsRegressAndClassifyRejectBadInputWithClearErrors) {
  Start();
  struct Case {
    std::string target, body;
    int status;
    std::string message;
  };
  const std::string many = [] {
    std::string b = R"({"examples": [)";
    for (int i = 0; i < 101; ++i) b += std::string(i ? "," : "") + R"({"features": [1, 2, 3]})";
    return b + "]}";
  }();
  const std::vector<Case> cases = {
      {"/v1/models/eta:regress", "{\"examples\": [", 400, "malformed JSON"},
      {"/v1/models/eta:regress", R"({"instances": [[1, 2, 3]]})", 400, "unknown key 'instances'"},
      {"/v1/models/eta:regress", R"({"examples": []})", 400, "non-empty"},
      {"/v1/models/eta:regress", R"({"examples": [{"features": [1, 2]}]})", 400, "expects 3"},
      {"/v1/models/eta:regress", R"({"examples": [{"features": [1, 2, "x"]}]})", 400,
       "expected numbers"},
      {"/v1/models/eta:regress", R"({"signature_name": "nope", "examples": [{"features": [1, 2, 3]}]})",
       400, "unknown signature_name 'nope'"},
      {"/v1/models/trip:regress",
       R"({"examples": [{"pickup_zone": 1, "trip_distance": 1,
                         "pickup_datetime": "2024-01-05 08:30:00"}]})",
       400, "has 2 outputs (a, b)"},
      {"/v1/models/trip:regress",
       R"({"signature_name": "a", "context": {"pickup_zone": 1},
           "examples": [{"pickup_zone": 2, "trip_distance": 1, "pickup_datetime": "x"}]})",
       400, "feature 'pickup_zone' is also in 'context'"},
      {"/v1/models/trip:regress",
       R"({"signature_name": "a", "examples": [{"pickup_zone": false, "trip_distance": 1,
                                                 "pickup_datetime": "2024-01-05 08:30:00"}]})",
       400, "examples[0].pickup_zone: expected a number or a string, got boolean"},
      {"/v1/models/trip:regress", R"({"signature_name": "a", "examples": [{"pickup_zone": 1}]})",
       400, "missing raw field"},
      {"/v1/models/eta:regress", many, 413, "limit is 100"},
      {"/v1/models/nope:regress", R"({"examples": [{"features": [1, 2, 3]}]})", 404, "nope"},
      {"/v1/models/eta/versions/9:regress", R"({"examples": [{"features": [1, 2, 3]}]})", 404,
       "version 9"},
      {"/v1/models/eta/labels/blue:classify", R"({"examples": [{"features": [1, 2, 3]}]})", 404,
       "label 'blue'"},
      {"/v1/models/eta:classify", R"({"examples": "x"})", 400, "'examples' must be"},
  };
  for (const Case& c : cases) {
    auto r = Post(c.target, c.body);
    EXPECT_EQ(r.status, c.status) << c.target << " " << c.body << " -> " << r.body;
    EXPECT_NE(Error(r).find(c.message), std::string::npos) << c.body << " -> " << r.body;
  }
  EXPECT_EQ(Get("/v1/models/eta:regress").status, 405);
  EXPECT_EQ(Get("/v1/models/eta:classify").status, 405);
}

TEST_F(RestApiTest, BooleansAreRefusedAsNumbersNamingTheField) {
  Start();
  struct Case {
    std::string target, body, message;
  };
  const std::vector<Case> cases = {
      {"/v1/models/trip:predict",
       R"({"instances": [{"pickup_zone": true, "trip_distance": 1,
                          "pickup_datetime": "2024-01-05 08:30:00"}]})",
       "instances[0].pickup_zone: expected a number or a string, got boolean"},
      {"/v1/models/trip:predict",
       R"({"instances": [{"pickup_zone": 3, "trip_distance": 1,
                          "pickup_datetime": "2024-01-05 08:30:00"},
                         {"pickup_zone": 4, "trip_distance": false,
                          "pickup_datetime": "2024-01-05 08:30:00"}]})",
       "instances[1].trip_distance: expected a number or a string, got boolean"},
      {"/v1/models/trip:predict",
       R"({"inputs": {"pickup_zone": [1, false], "trip_distance": [1, 1],
                      "pickup_datetime": ["2024-01-05 08:30:00", "2024-01-05 08:30:00"]}})",
       "inputs.pickup_zone[1]: expected a number or a string, got boolean"},
      {"/v1/models/eta:predict", R"({"instances": [[1, true, 3]]})",
       "instances[0]: expected numbers, got boolean"},
      {"/v2/models/trip/infer",
       R"({"inputs": [{"name": "pickup_zone", "shape": [1], "datatype": "BOOL", "data": [true]},
                      {"name": "trip_distance", "shape": [1], "datatype": "FP32", "data": [1]},
                      {"name": "pickup_datetime", "shape": [1], "datatype": "BYTES",
                       "data": ["2024-01-05 08:30:00"]}]})",
       "input 'pickup_zone': BOOL data is not accepted"},
      {"/v2/models/eta/infer",
       R"({"inputs": [{"name": "features", "shape": [1, 3], "datatype": "BOOL",
                       "data": [true, false, true]}]})",
       "input 'features': BOOL data is not accepted"},
  };
  for (const Case& c : cases) {
    auto r = Post(c.target, c.body);
    EXPECT_EQ(r.status, 400) << c.body << " -> " << r.body;
    EXPECT_NE(Error(r).find(c.message), std::string::npos) << c.body << " -> " << r.body;
  }
}

TEST_F(RestApiTest, ErrorBodiesNeverCarryTheClientsIllFormedUtf8) {
  Start();
  const std::string bad = "\xff\xc3(\xed\xa0\x80";  // ill-formed UTF-8 of three kinds
  struct Case {
    std::string method, target, body;
  };
  const std::vector<Case> cases = {
      {"GET", "/v1/models/" + bad, ""},
      {"GET", "/v1/models/eta/labels/" + bad, ""},
      {"GET", "/v1/models/eta/versions/" + bad, ""},
      {"GET", "/v1/models/eta/" + bad, ""},
      {"POST", "/v1/models/eta:" + bad, ""},
      {"POST", "/v1/models/" + bad + ":predict", R"({"instances": [[1, 2, 3]]})"},
      {"POST", "/v1/models/eta:predict", "{\"instances\": [[\"" + bad + "\"]]}"},
      {"POST", "/v1/models/eta:predict", "{\"" + bad + "\": 1}"},
      {"POST", "/v1/models/eta:regress", "{\"examples\": [{\"" + bad + "\": 1}]}"},
      {"POST", "/v1/models/eta:classify", "{\"examples\": [{\"a\": \"" + bad + "\"}]}"},
      {"POST", "/v2/models/" + bad + "/infer", "{}"},
      {"POST", "/v2/models/eta/infer", "{\"id\": \"" + bad + "\", \"inputs\": []}"},
      {"GET", "/v2/" + bad, ""},
      {"POST", "/v2/repository/models/" + bad + "/load", ""},
      {"POST", "/v2/repository/models/eta/labels/" + bad, "{\"version\": 1}"},
      {"POST", "/v2/repository/index", bad},
  };
  for (const Case& c : cases) {
    auto r = client_->Send(c.method, c.target, c.body, {});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_GE(r->status, 400) << c.target;
    // nlohmann refuses ill-formed UTF-8 in a string: the body must parse.
    json j = json::parse(r->body, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << c.method << " " << c.target << " -> " << r->body;
    EXPECT_TRUE(j.is_object() && j.contains("error")) << c.target << " -> " << r->body;
  }
}

TEST_F(RestApiTest, KserveHealthMetadataAndReadiness) {
  Start();
  auto r = Get("/v2");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(J(r)["name"], "bimride");
  EXPECT_EQ(Get("/v2/health/live").status, 200);
  EXPECT_EQ(Get("/v2/health/ready").status, 200);
  for (const char* probe : {"/v2/health/live", "/v2/health/ready"}) {
    auto head = client_->Send("HEAD", probe, "", {});
    ASSERT_TRUE(head.ok()) << head.status().ToString();
    EXPECT_EQ(head->status, 200) << probe;
    for (const char* method : {"POST", "PUT", "DELETE"}) {
      auto wrong = client_->Send(method, probe, "{}", {});
      ASSERT_TRUE(wrong.ok()) << wrong.status().ToString();
      EXPECT_EQ(wrong->status, 405) << method << " " << probe;
    }
  }
  json j = J(Get("/v2/models/eta"));
  EXPECT_EQ(j["name"], "eta");
  EXPECT_EQ(j["versions"], json::parse(R"(["1", "2"])"));
  EXPECT_EQ(j["platform"], "bimride_baseline");
  EXPECT_EQ(j["inputs"][0], json::parse(R"({"name": "features", "datatype": "FP32",
                                              "shape": [-1, 3]})"));
  EXPECT_EQ(j["outputs"][0]["name"], "eta_seconds");
  EXPECT_EQ(Get("/v2/models/eta/versions/2").status, 200);
  EXPECT_EQ(Get("/v2/models/eta/ready").status, 200);
  EXPECT_EQ(Get("/v2/models/eta/versions/2/ready").status, 200);
  EXPECT_EQ(Get("/v2/models/eta/versions/5/ready").status, 404);
  EXPECT_EQ(Get("/v2/models/nope").status, 404);
  EXPECT_EQ(Get("/v2/models/nope/ready").status, 404);
}

TEST_F(RestApiTest, KserveInferWithFlatAndNestedDataEchoesId) {
  Start();
  auto r = Post("/v2/models/eta/versions/2/infer",
                R"({"id": "req-7", "parameters": {"x": 1},
                    "inputs": [{"name": "features", "shape": [2, 3], "datatype": "FP32",
                                "data": [1, 1, 1, 0, 0, 0]}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(J(r), json::parse(R"({"model_name": "eta", "model_version": "2", "id": "req-7",
                                   "outputs": [{"name": "eta_seconds", "datatype": "FP32",
                                                "shape": [2], "data": [8.0, 2.0]}]})"));
  r = Post("/v2/models/eta/infer",
           R"({"inputs": [{"name": "features", "shape": [1, 3], "datatype": "INT64",
                           "data": [[0, 0, 1]]}], "outputs": [{"name": "eta_seconds"}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(J(r)["outputs"][0]["data"], json::parse("[4.0]"));
  EXPECT_FALSE(J(r).contains("id"));
  r = Post("/v2/models/trip/infer",
           R"({"inputs": [{"name": "pickup_zone", "shape": [1], "datatype": "INT32", "data": [5]},
                          {"name": "trip_distance", "shape": [1, 1], "datatype": "FP64",
                           "data": [[3.5]]},
                          {"name": "pickup_datetime", "shape": [1], "datatype": "BYTES",
                           "data": ["2024-02-01 07:15:00"]}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(J(r)["outputs"][0]["data"], json::parse("[12.0]"));
  EXPECT_EQ(J(r)["outputs"][1]["data"], json::parse("[3.5]"));
}

TEST_F(RestApiTest, KserveInferRejectsBadTensors) {
  Start();
  struct Case {
    std::string body;
    int status;
    std::string message;
  };
  auto tensor = [](const std::string& fields) {
    return R"({"inputs": [{"name": "features", )" + fields + "}]}";
  };
  std::vector<Case> cases = {
      {"nope", 400, "malformed JSON"},
      {R"({"inputs": []})", 400, "non-empty"},
      {tensor(R"("shape": [1, 3], "datatype": "FP32", "data": [1, 2])"), 400,
       "shape implies 3"},
      {tensor(R"("shape": [1, 2], "datatype": "FP32", "data": [1, 2])"), 400, "expects 3"},
      {tensor(R"("shape": [1, 3], "datatype": "FP16", "data": [1, 2, 3])"), 400, "not supported"},
      {tensor(R"("shape": [1, 3], "datatype": "FLOAT", "data": [1, 2, 3])"), 400,
       "unknown datatype"},
      {tensor(R"("shape": [1, 3], "datatype": "INT32", "data": [1, 2.5, 3])"), 400, "integers"},
      {tensor(R"("shape": [1, 3], "datatype": "FP32", "data": [1, "2", 3])"), 400, "numbers"},
      {tensor(R"("shape": [1, 3], "datatype": "FP64", "data": [1, 2, 1e300])"), 400, "NaN/Inf"},
      {tensor(R"("shape": [-1, 3], "datatype": "FP32", "data": [1, 2, 3])"), 400, "shape"},
      {tensor(R"("shape": [1, 3], "datatype": "FP32")"), 400, "'data' is required"},
      {tensor(R"("shape": [101, 1], "datatype": "FP32", "data": [])"), 413, "limit"},
      {R"({"inputs": [{"shape": [1], "datatype": "FP32", "data": [1]}]})", 400, "'name'"},
      {R"({"id": 5, "inputs": [{"name": "features", "shape": [1, 3], "datatype": "FP32",
           "data": [1, 2, 3]}]})",
       400, "'id' must be a string"},
  };
  for (const Case& c : cases) {
    auto r = Post("/v2/models/eta/infer", c.body);
    EXPECT_EQ(r.status, c.status) << c.body << " -> " << r.body;
    EXPECT_NE(Error(r).find(c.message), std::string::npos) << c.body << " -> " << r.body;
  }
  auto r = Post("/v2/models/eta/infer",
                R"({"inputs": [{"name": "features", "shape": [1, 3], "datatype": "FP32",
                                "data": [1, 2, 3]}], "outputs": [{"name": "nope"}]})");
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(Get("/v2/models/eta/infer").status, 405);
}

TEST_F(RestApiTest, RepositoryIndexUnloadLoadAndLabelMove) {
  Start();
  auto r = Post("/v2/repository/index", "");
  ASSERT_EQ(r.status, 200) << r.body;
  json idx = J(r);
  EXPECT_EQ(idx.size(), 3u);  // eta 1, eta 2, trip 1
  EXPECT_EQ(idx[0], json::parse(R"({"name": "eta", "version": "1", "state": "READY",
                                     "reason": ""})"));
  EXPECT_EQ(Post("/v2/repository/models/trip/unload", "").status, 200);
  EXPECT_EQ(Get("/v2/models/trip/ready").status, 503);
  EXPECT_EQ(J(Post("/v2/repository/index", R"({"ready": true})")).size(), 2u);
  EXPECT_EQ(Post("/v1/models/trip:predict", R"({"instances": [{"pickup_zone": 1}]})").status,
            503);
  EXPECT_EQ(Post("/v2/repository/models/trip/load", "").status, 200);
  EXPECT_EQ(Get("/v2/models/trip/ready").status, 200);
  EXPECT_EQ(Post("/v2/repository/models/nope/load", "").status, 404);
  // Rollback/promotion = a label move, effective for the next request.
  EXPECT_EQ(J(Post("/v1/models/eta:predict", R"({"instances": [[0,0,0]]})"))["predictions"][0],
            1.0);
  EXPECT_EQ(Post("/v2/repository/models/eta/labels/stable", R"({"version": 2, "why": "good"})")
                .status,
            200);
  EXPECT_EQ(J(Post("/v1/models/eta:predict", R"({"instances": [[0,0,0]]})"))["predictions"][0],
            2.0);
  EXPECT_EQ(Post("/v2/repository/models/eta/labels/stable", R"({"version": 7, "why": "x"})").status,
            404);
  EXPECT_EQ(Post("/v2/repository/models/eta/labels/stable", R"({"v": 1})").status, 400);
  EXPECT_EQ(Get("/v2/repository/index").status, 405);
}

// A label moved through the API is moved in the registry — labels.json and the audit log with
// who and why — so later moves through the registry (`bimride models promote|rollback`) are
// followed by the server, not overridden by an in-process copy.
TEST_F(RestApiTest, LabelMovesGoThroughTheRegistryAndAreAudited) {
  Start();
  auto r = Post("/v2/repository/models/eta/labels/stable",
                R"({"version": 2, "why": "canary looks good", "who": "ana"})");
  ASSERT_EQ(r.status, 200) << r.body;
  json moved = J(r);
  EXPECT_EQ(moved["action"], "promote");
  EXPECT_EQ(moved["to_version"], 2);
  EXPECT_EQ(moved["serving_version"], 2);
  EXPECT_FALSE(moved.contains("warning")) << moved.dump();
  EXPECT_EQ(J(Post("/v1/models/eta:predict", R"({"instances": [[0,0,0]]})"))["predictions"][0],
            2.0);
  auto reg = registry::Registry::Open(repo_);
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  auto history = (*reg)->History("eta", "stable");
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ(history->front().to_version, 2);
  EXPECT_EQ(history->front().who, "ana");
  EXPECT_EQ(history->front().why, "canary looks good");
  auto file = ReadFile(repo_ + "/eta/labels.json");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(json::parse(*file)["stable"], 2);

  // What `bimride models promote` does; the server follows it on its next poll.
  ASSERT_TRUE((*reg)->Promote("eta", 1, "stable", "back to 1", "bob").ok());
  ASSERT_TRUE(server_->manager().ReconcileAll().ok());
  EXPECT_EQ(J(Post("/v1/models/eta:predict", R"({"instances": [[0,0,0]]})"))["predictions"][0],
            1.0);

  // A rollback through the API undoes the latest promotion; "who" defaults to the caller.
  r = Post("/v2/repository/models/eta/labels/stable", R"({"rollback": true, "why": "oops"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(J(r)["action"], "rollback");
  EXPECT_EQ(J(r)["to_version"], 2);
  EXPECT_EQ(J(r)["who"], "http 127.0.0.1");
  EXPECT_EQ(J(Post("/v1/models/eta:predict", R"({"instances": [[0,0,0]]})"))["predictions"][0],
            2.0);
  history = (*reg)->History("eta", "stable");
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->size(), 3u);

  for (const char* bad : {R"({"version": 1})", R"({"version": 1, "rollback": true, "why": "x"})",
                          R"({"why": "x"})", R"({"version": 1, "why": 3})",
                          R"({"version": 1, "why": "x", "extra": 1})"}) {
    r = Post("/v2/repository/models/eta/labels/stable", bad);
    EXPECT_EQ(r.status, 400) << bad << " -> " << r.body;
  }
  EXPECT_EQ(Post("/v2/repository/models/eta/labels/bad%20label", R"({"version": 1, "why": "x"})")
                .status,
            400);
  history = (*reg)->History("eta", "stable");
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->size(), 3u) << "refused moves leave no trace";
}

TEST_F(RestApiTest, MalformedPathsAndRepositoryBodiesGiveClearErrors) {
  Start();
  struct Case {
    std::string method, target, body;
    int status;
    std::string message;
  };
  std::vector<Case> cases = {
      {"GET", "/v1/models/", "", 400, "missing model name"},
      {"GET", "/v1/models/eta/versions/0", "", 400, "not a positive integer"},
      {"GET", "/v1/models/eta/labels/", "", 400, "missing label"},
      {"GET", "/v1/models/eta/bogus", "", 404, "unknown path '/v1/models/eta/bogus'"},
      {"POST", "/v1/models/eta:explain", "{}", 404, "unknown method ':explain'"},
      {"POST", "/v1/models/eta/metadata", "", 405, "use GET"},
      {"GET", "/v2/bogus", "", 404, "unknown path '/v2/bogus'"},
      {"GET", "/v2/models/eta/bogus", "", 404, "unknown path '/v2/models/eta/bogus'"},
      {"POST", "/v2/repository/index", "[1]", 400, "body must be an object"},
      {"POST", "/v2/repository/index", R"({"ready": "yes"})", 400, "'ready' is a boolean"},
      {"POST", "/v2/repository/index", "{", 400, "malformed JSON"},
      {"POST", "/v2/repository/models/bad%20name/load", "", 400, "invalid model name"},
      {"POST", "/v2/repository/models/eta/labels/stable", "{", 400, "malformed JSON"},
      {"POST", "/v2/repository/models/eta/labels/stable", R"({"version": "2"})", 400,
       "'version': body must be {\"version\": <number>, \"why\": \"<reason>\"}"},
      {"POST", "/v2/repository/models/eta/bogus", "", 404, "unknown repository path"},
      {"POST", "/v2/repository/models/eta/labels/bad%20label", R"({"version": 1})", 400,
       "invalid label name"},
      {"POST", "/v2/repository/models/eta/labels/.hidden", R"({"version": 1})", 400,
       "invalid label name"},
      {"POST", "/v2/repository/models/eta/labels/stable", R"({"version": true})", 400,
       "'version': body must be {\"version\": <number>"},
      {"POST", "/v2/repository/models/eta/labels/stable", R"({"version": 1.5})", 400,
       "'version': body must be {\"version\": <number>"},
      {"POST", "/v1/models/eta/metadata:regress", "{}", 404, "unknown path"},
      {"GET", "/v1/models/eta/versions/2:classify", "", 405, "':classify' needs POST"},
      {"POST", "/metrics", "", 501, "use GET"},
  };
  for (const Case& c : cases) {
    auto r = client_->Send(c.method, c.target, c.body);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, c.status) << c.method << " " << c.target << " -> " << r->body;
    EXPECT_NE(Error(*r).find(c.message), std::string::npos)
        << c.method << " " << c.target << " -> " << r->body;
  }
}

TEST_F(RestApiTest, RepositoryControlNeedsTokenWhenConfigured) {
  config_.admin_token = "s3cret";
  Start();
  EXPECT_EQ(Post("/v2/repository/index", "").status, 401);
  EXPECT_EQ(Post("/v2/repository/index", "", {{"Authorization", "Bearer wrong"}}).status, 401);
  EXPECT_EQ(Post("/v2/repository/index", "", {{"Authorization", "Bearer s3cret"}}).status, 200);
}

TEST_F(RestApiTest, TheBearerSchemeIsCaseInsensitiveTheTokenIsNot) {
  config_.admin_token = "s3cret";
  Start();
  for (const char* scheme : {"bearer", "BEARER", "Bearer"}) {
    EXPECT_EQ(Post("/v2/repository/index", "", {{"Authorization", std::string(scheme) + " s3cret"}})
                  .status,
              200)
        << scheme;
  }
  EXPECT_EQ(Post("/v2/repository/index", "", {{"Authorization", "Bearer S3CRET"}}).status, 401);
  EXPECT_EQ(Post("/v2/repository/index", "", {{"Authorization", "Bearer s3cre"}}).status, 401);
  EXPECT_EQ(Post("/v2/repository/index", "", {{"Authorization", "Bearer s3crett"}}).status, 401);
  EXPECT_EQ(Post("/v2/repository/index", "", {{"Authorization", "Basic s3cret"}}).status, 401);
}

// A request handed straight to a RestApi (no socket): for a server configured beyond loopback.
class DirectRequest : public HttpRequest {
 public:
  DirectRequest(std::string method, std::string target, std::string authorization,
                std::string body = "")
      : method_(std::move(method)),
        target_(std::move(target)),
        authorization_(std::move(authorization)),
        body_(std::move(body)) {}
  std::string_view method() const override { return method_; }
  std::string_view target() const override { return target_; }
  const std::string& body() const override { return body_; }
  std::string_view remote_address() const override { return "203.0.113.7"; }
  std::string_view Get(std::string_view name) const override {
    return name == "authorization" ? std::string_view(authorization_) : std::string_view();
  }

 private:
  std::string method_, target_, authorization_, body_;
};

TEST_F(RestApiTest, RepositoryControlBeyondLoopbackWithoutATokenIs403Always) {
  Start();  // the models; the API under test is configured as if bound to every interface
  ServerConfig exposed = config_;
  exposed.host = "0.0.0.0";
  exposed.admin_token.clear();
  auto no_log = AccessLog::Open("off");
  ASSERT_TRUE(no_log.ok());
  RestApi api(&server_->service(), exposed, no_log->get());
  for (const char* auth : {"", "Bearer ", "Bearer anything"}) {
    for (const char* target : {"/v2/repository/index", "/v2/repository/models/eta/unload",
                               "/v2/repository/models/eta/labels/stable"}) {
      HttpResponse got;
      api.Handle(DirectRequest("POST", target, auth), [&got](HttpResponse r) { got = r; });
      EXPECT_EQ(got.status, 403) << target << " with '" << auth << "': " << got.body;
      EXPECT_NE(got.body.find("listens beyond loopback"), std::string::npos) << got.body;
    }
  }
  EXPECT_EQ(Get("/v2/models/eta/ready").status, 200) << "nothing was unloaded";
}

TEST_F(RestApiTest, LargeBodiesAreParsedAndPredictedOnAWorkerNotTheIoThread) {
  Start();
  auto no_log = AccessLog::Open("off");
  ASSERT_TRUE(no_log.ok());
  RestApi api(&server_->service(), config_, no_log->get());
  struct Answer {
    std::promise<std::pair<std::thread::id, HttpResponse>> promise;
  };
  const auto handle = [&api](const DirectRequest& request) {
    Answer answer;
    auto future = answer.promise.get_future();
    api.Handle(request, [&answer](HttpResponse r) {
      answer.promise.set_value({std::this_thread::get_id(), std::move(r)});
    });
    return future.get();
  };
  const std::string small = R"({"instances": [[1, 1, 1]]})";
  const std::string large =
      R"({"instances": [[1, 1, 1]])" + std::string(RestApi::kWorkerBodyBytes, ' ') + "}";
  for (const char* target : {"/v1/models/eta:predict", "/v1/models/eta:regress"}) {
    const bool regress = std::string(target).find("regress") != std::string::npos;
    const auto body = [&](const std::string& b) {
      std::string out = b;
      const std::string rows = "\"instances\": [[1, 1, 1]]";
      if (regress) out.replace(out.find(rows), rows.size(), "\"examples\": [{\"features\": [1, 1, 1]}]");
      return out;
    };
    auto [small_thread, small_answer] = handle(DirectRequest("POST", target, "", body(small)));
    EXPECT_EQ(small_answer.status, 200) << small_answer.body;
    EXPECT_EQ(small_thread, std::this_thread::get_id()) << "a small body is handled inline";
    auto [large_thread, large_answer] = handle(DirectRequest("POST", target, "", body(large)));
    EXPECT_EQ(large_answer.status, 200) << large_answer.body;
    EXPECT_NE(large_thread, std::this_thread::get_id()) << "the I/O thread parsed a large body";
  }
  // After Stop, a large request is refused rather than run on a thread that is gone.
  api.Stop();
  auto [unused, refused] = handle(DirectRequest("POST", "/v1/models/eta:predict", "", large));
  EXPECT_EQ(refused.status, 429) << refused.body;
}

TEST_F(RestApiTest, FullBatchQueueAnswers429WithClearError) {
  testing::TestVersionOptions slow;
  slow.predict_delay_us = 20000;
  ASSERT_TRUE(testing::WriteTestVersion(repo_, "slow", 1, slow).ok());
  config_.models["slow"].batching = {.max_batch_size = 1, .max_queue_delay_us = 0,
                                     .max_queue_size = 1};
  config_.io_threads = 4;
  Start();
  std::atomic<int> ok{0}, too_many{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      HttpClient c("127.0.0.1", HttpPort(*server_));
      auto r = c.Post("/v1/models/slow:predict", R"({"instances": [[1, 1, 1]]})");
      if (!r.ok()) {
        other++;
      } else if (r->status == 200) {
        ok++;
      } else if (r->status == 429 && r->body.find("queue full") != std::string::npos) {
        too_many++;
      } else {
        other++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_GE(ok.load(), 1);
  EXPECT_GE(too_many.load(), 1);
  EXPECT_EQ(other.load(), 0);
}

TEST_F(RestApiTest, ShadowVersionGetsMirroredTrafficButNeverAnswers) {
  config_.models["eta"].routing.shadow = {"canary"};
  Start();
  for (int i = 0; i < 5; ++i) {
    auto r = Post("/v1/models/eta:predict", R"({"instances": [[0, 0, 0]]})");
    EXPECT_EQ(J(r)["predictions"][0], 1.0) << "stable answers; the canary only shadows";
  }
  server_->shadow_queue().Flush();
  VersionMetrics* canary = server_->service().metrics().For("eta", 2);
  EXPECT_EQ(canary->shadow_abs_diff.count(), 5u);
  EXPECT_EQ(canary->shadow_abs_diff.Quantile(0.5), 1.0) << "versions differ by 1";
}

TEST_F(RestApiTest, CanarySplitIsStickyByHeader) {
  config_.models["eta"].routing.split = {{"stable", 50}, {"canary", 50}};
  config_.models["eta"].routing.sticky_header = "x-rider-id";
  Start();
  std::set<float> seen;
  for (int rider = 0; rider < 40; ++rider) {
    std::map<std::string, std::string> h = {{"x-rider-id", "rider-" + std::to_string(rider)}};
    float first = J(Post("/v1/models/eta:predict", R"({"instances": [[0,0,0]]})", h))
                      ["predictions"][0];
    for (int k = 0; k < 3; ++k) {
      EXPECT_EQ(J(Post("/v1/models/eta:predict", R"({"instances": [[0,0,0]]})", h))
                    ["predictions"][0],
                first);
    }
    seen.insert(first);
  }
  EXPECT_EQ(seen, (std::set<float>{1.0f, 2.0f})) << "both sides get riders";
}

TEST_F(RestApiTest, MetricsAndAccessLog) {
  Start();
  Post("/v1/models/eta:predict", R"({"instances": [[1, 2, 3]]})");
  Post("/v1/models/eta:predict", R"({"instances": [[1, 2]]})");
  auto r = Get("/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "text/plain; version=0.0.4");
  for (const char* want :
       {"bimride_predict_requests_total{model=\"eta\",version=\"1\",code=\"OK\"} 1",
        "bimride_predict_requests_total{model=\"eta\",version=\"1\",code=\"INVALID_ARGUMENT\"} 1",
        "bimride_model_version_loaded{model=\"eta\",version=\"2\"} 1",
        "bimride_predict_total_seconds_count{model=\"eta\",version=\"1\"} 1",
        "bimride_predict_overhead_seconds_bucket", "bimride_predict_compute_seconds_bucket",
        "bimride_batch_rows_bucket", "bimride_http_requests_total{api=\"tfs\",code=\"400\"} 1"}) {
    EXPECT_NE(r.body.find(want), std::string::npos) << want;
  }
  auto log = ReadFile(repo_ + "/access.log");
  ASSERT_TRUE(log.ok());
  EXPECT_NE(log->find("\"POST /v1/models/eta:predict\" 200"), std::string::npos) << *log;
  EXPECT_NE(log->find("\"POST /v1/models/eta:predict\" 400"), std::string::npos) << *log;
}

TEST_F(RestApiTest, ShutdownDrainsInFlightRequests) {
  testing::TestVersionOptions slow;
  slow.predict_delay_us = 200000;
  ASSERT_TRUE(testing::WriteTestVersion(repo_, "slow", 1, slow).ok());
  Start();
  std::atomic<int> status{0};
  std::thread t([&] {
    HttpClient c("127.0.0.1", HttpPort(*server_));
    auto r = c.Post("/v1/models/slow:predict", R"({"instances": [[1, 1, 1]]})");
    status = r.ok() ? r->status : -1;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  server_->Shutdown();
  t.join();
  EXPECT_EQ(status.load(), 200);
}

// A prediction's answer carries its request id (the client's, or one made up) so the client can
// post the actual value later; /v1/feedback joins it and /v1/monitor shows the live accuracy.
TEST_F(RestApiTest, RequestIdsFeedbackAndTheLiveMonitor) {
  config_.prediction_log.dir = repo_ + "/prediction_log";
  config_.monitor.window_rows = 2;
  Start();
  auto r = Post("/v1/models/eta:predict", R"({"instances": [[1, 1, 1]]})",
                {{"x-request-id", "ride-1"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["x-request-id"], "ride-1");
  r = Post("/v1/models/eta:predict", R"({"instances": [[1, 1, 1]]})");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string made_up = r.headers["x-request-id"];
  EXPECT_FALSE(made_up.empty());
  r = Post("/v2/models/eta/infer",
           R"({"inputs": [{"name": "features", "shape": [1, 3], "datatype": "FP32",
                           "data": [1, 1, 1]}]})",
           {{"x-request-id", "ride-3"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["x-request-id"], "ride-3");
  // The monitor sees what the log wrote: wait for the writer.
  ASSERT_NE(server_->service().prediction_log(), nullptr);
  ASSERT_TRUE(server_->service().prediction_log()->Flush().ok());

  r = Post("/v1/feedback", R"({"feedback": [{"request_id": "ride-1", "actual": 8},
                                            {"request_id": ")" +
                               made_up + R"(", "actual": 5},
                                            {"key": "ride-3", "actual": 7},
                                            {"request_id": "never-seen", "actual": 1}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(J(r), json::parse(
                      R"({"received": 4, "joined": 3, "late": 2, "waiting": 1, "duplicate": 0})"))
      << r.body;
  r = Get("/v1/monitor");
  ASSERT_EQ(r.status, 200) << r.body;
  json m = J(r);
  ASSERT_EQ(m["windows"].size(), 2u) << r.body;
  EXPECT_EQ(m["windows"][0]["labelled_rows"], 2);
  EXPECT_EQ(m["windows"][0]["closed"], true);
  EXPECT_DOUBLE_EQ(m["windows"][0]["bias"].get<double>(), ((7 - 8) + (7 - 5)) / 2.0);
  EXPECT_EQ(m["counters"]["waiting_labels"], 1);
  EXPECT_NE(
      Get("/metrics").body.find("bimride_live_rmse{model=\"eta\",version=\"1\",window=\"0\"}"),
      std::string::npos);

  // Bad feedback: 400 naming the item and the problem.
  for (const auto& [body, want] : std::vector<std::pair<std::string, std::string>>{
           {"not json", "feedback: not valid JSON"},
           {R"({"request_id": "ride-1"})", "missing actual"},
           {R"([{"request_id": "ride-1", "actual": 1}, {"request_id": "x", "actual": null}])",
            "feedback[1].actual: must be a number"}}) {
    r = Post("/v1/feedback", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_NE(Error(r).find(want), std::string::npos) << body << " → " << r.body;
  }
  EXPECT_EQ(Get("/v1/feedback").status, 405);
  EXPECT_EQ(Post("/v1/monitor", "{}").status, 405);
}

// A preview (raw field preview = 1 on every row, as the console's surge map sends) is answered
// but is not traffic: no prediction log row, nothing for the live monitor, counted apart.
TEST_F(RestApiTest, PreviewRequestsAreAnsweredButNotLoggedNorCountedAsTraffic) {
  config_.prediction_log.dir = repo_ + "/prediction_log";
  Start();
  auto predict = [&](const std::string& id, const std::string& preview_values) {
    std::string body = R"({"inputs": {"pickup_zone": [132, 1], "trip_distance": [2.5, 0.5],
        "pickup_datetime": ["2024-01-05 08:30:00", "2024-01-05 10:00:00"])";
    if (!preview_values.empty()) body += R"(, "preview": )" + preview_values;
    body += "}}";
    return Post("/v1/models/trip:predict", body, {{"x-request-id", id}});
  };
  auto r = predict("console-surge-1", "[1, 1]");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(J(r), json::parse(R"({"outputs": {"a": [140.0, 11.0], "b": [2.5, 0.5]}})")) << r.body;
  EXPECT_EQ(r.headers["x-request-id"], "console-surge-1");
  monitoring::PredictionLog* log = server_->service().prediction_log();
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Flush().ok());
  EXPECT_EQ(log->stats().logged_rows, 0) << "a preview is not logged";
  EXPECT_EQ(server_->service().live_monitor()->counters().predicted_rows, 0)
      << "nor seen by the live monitor (drift, windows)";
  std::string metrics = Get("/metrics").body;
  EXPECT_NE(metrics.find(R"(bimride_preview_requests_total{model="trip",version="1",code="OK"} 1)"),
            std::string::npos)
      << metrics;
  EXPECT_EQ(metrics.find(R"(bimride_predict_requests_total{model="trip",version="1")"),
            std::string::npos)
      << "not counted as the version's traffic";
  // A label for it finds no prediction: it waits (never joins).
  r = Post("/v1/feedback", R"({"request_id": "console-surge-1", "actual": 3})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(J(r)["joined"], 0) << r.body;

  // Not previews: preview 0, a mix of 0 and 1 (a real quote among them), and no field at all.
  for (const auto& [id, values] : std::vector<std::pair<std::string, std::string>>{
           {"quote-0", "[0, 0]"}, {"quote-mixed", "[1, 0]"}, {"quote-plain", ""}}) {
    r = predict(id, values);
    ASSERT_EQ(r.status, 200) << id << ": " << r.body;
  }
  ASSERT_TRUE(log->Flush().ok());
  EXPECT_EQ(log->stats().logged_rows, 6) << "three requests of two rows";
  EXPECT_EQ(server_->service().live_monitor()->counters().predicted_rows, 6);
  metrics = Get("/metrics").body;
  EXPECT_NE(metrics.find(R"(bimride_predict_requests_total{model="trip",version="1",code="OK"} 3)"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find(R"(bimride_preview_requests_total{model="trip",version="1",code="OK"} 1)"),
            std::string::npos);
}

// A declared category (the manifest's category_stats) is scored as categories: /v1/monitor
// shows its chi-square, p-value, Cramér's V and JS distance and its calibrated alarm, /metrics
// its gauges — and not the numeric scores.
TEST_F(RestApiTest, CategoricalDriftIsShownInTheMonitorAndMetrics) {
  testing::TestVersionOptions o;
  o.feature_names = {"pickup_zone", "x", "y"};
  ASSERT_TRUE(testing::WriteTestVersion(repo_, "zones", 1, o).ok());
  const std::string path = repo_ + "/zones/1/" + registry::kManifestFileName;
  auto m = registry::ReadManifest(path);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  std::vector<float> train(1600);  // zones 1..4, evenly
  for (size_t i = 0; i < train.size(); ++i) train[i] = static_cast<float>(1 + i % 4);
  m->feature_stats["pickup_zone"] = registry::ComputeFeatureStats(train);
  m->category_stats["pickup_zone"] = *registry::ComputeCategoryStats(train, "pickup_zone");
  auto cal = monitoring::CalibrateDrift(m->feature_stats, m->category_stats,
                                        {{"pickup_zone", train}}, 40, 0.05);
  ASSERT_TRUE(cal.ok()) << cal.status().ToString();
  m->properties[monitoring::kDriftCalibrationProperty] = monitoring::DriftCalibrationToJson(*cal);
  ASSERT_TRUE(WriteFileAtomic(path, registry::ManifestToJson(*m)).ok());
  config_.prediction_log.dir = repo_ + "/prediction_log";
  config_.monitor.window_rows = 40;
  Start();
  // Window 0: zone 99 only (never seen in training: "other"); window 1 open.
  for (int i = 0; i < 42; ++i) {
    auto r = Post("/v1/models/zones:predict", R"({"instances": [[99, 1, 1]]})");
    ASSERT_EQ(r.status, 200) << r.body;
  }
  ASSERT_TRUE(server_->service().prediction_log()->Flush().ok());
  auto r = Get("/v1/monitor");
  ASSERT_EQ(r.status, 200) << r.body;
  json w = J(r)["windows"][0];
  ASSERT_TRUE(w.contains("drift")) << r.body;
  const json& zone = w["drift"]["pickup_zone"];
  EXPECT_EQ(zone["kind"], "categorical") << r.body;
  EXPECT_EQ(zone["rows"], 40);
  EXPECT_GT(zone["chi2"].get<double>(), 10);
  EXPECT_LT(zone["p_value"].get<double>(), 1e-3);
  EXPECT_DOUBLE_EQ(zone["js_distance"].get<double>(), 1.0) << "disjoint from the training zones";
  EXPECT_FALSE(zone.contains("psi"));
  EXPECT_EQ(w["drift_calibrated"], true);
  EXPECT_EQ(w["drift_alarm"], true);
  EXPECT_NE(zone.value("above", "").find("js_distance"), std::string::npos) << r.body;
  const std::string metrics = Get("/metrics").body;
  for (const char* gauge : {"bimride_drift_chi2{", "bimride_drift_chi2_p_value{",
                            "bimride_drift_cramers_v{", "bimride_drift_js_distance{"}) {
    EXPECT_NE(metrics.find(std::string(gauge) +
                           R"(model="zones",version="1",feature="pickup_zone"})"),
              std::string::npos)
        << gauge;
  }
  EXPECT_EQ(metrics.find(R"(bimride_drift_psi{model="zones",version="1",feature="pickup_zone"})"),
            std::string::npos);
  EXPECT_NE(metrics.find(R"(bimride_drift_alarm{model="zones",version="1",window="0"} 1)"),
            std::string::npos);
}

TEST_F(RestApiTest, FeedbackWithoutAPredictionLogIsRefused) {
  Start();
  auto r = Post("/v1/feedback", R"({"request_id": "a", "actual": 1})");
  EXPECT_EQ(r.status / 100, 4) << r.body;
  EXPECT_NE(Error(r).find("--prediction-log"), std::string::npos);
  EXPECT_NE(Get("/v1/monitor").status, 200);
}

}  // namespace
}  // namespace bimride::serving::http
