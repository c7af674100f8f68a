#include "serving/service.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <future>
#include <limits>

#include "monitoring/prediction_log.h"
#include "parquet/file_reader.h"
#include "serving/testing/status_testing.h"
#include "serving/testing/test_models.h"

namespace bimride::serving {
namespace {

class MapHeaders : public RequestHeaders {
 public:
  explicit MapHeaders(std::map<std::string, std::string, std::less<>> h) : h_(std::move(h)) {}
  std::string_view Get(std::string_view name) const override {
    auto it = h_.find(name);
    return it == h_.end() ? std::string_view() : it->second;
  }

 private:
  std::map<std::string, std::string, std::less<>> h_;
};

// A Service over a ServableManager of test models:
//   eta   v1, v2: y = x0 + 2 x1 + 3 x2 + version; labels stable → 1, canary → 2
//   trip  v1:     raw fields → [zone, distance, hour]; a = zone + hour, b = distance
class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::RegisterTestBackendAndFeatures();
    config_.model_repo = testing::MakeTempDir("service_test");
    config_.poll_interval_ms = 0;
    config_.max_batch_rows = 10;
    for (int v = 1; v <= 2; ++v) {
      testing::TestVersionOptions o;
      o.weights = {{1, 2, 3}};
      o.bias = {static_cast<float>(v)};
      ASSERT_TRUE(testing::WriteTestVersion(config_.model_repo, "eta", v, o).ok());
    }
    ASSERT_TRUE(
        testing::WriteTestVersion(config_.model_repo, "trip", 1, testing::TripVersionOptions())
            .ok());
    config_.models["eta"].policy.latest = 2;
    config_.models["eta"].labels = {{"stable", 1}, {"canary", 2}};
  }
  void TearDown() override {
    shadows_.Stop();
    if (shadows_ptr_) shadows_ptr_->Stop();
    if (manager_) manager_->Stop();
  }
  void Start(monitoring::PredictionLog* log = nullptr, monitoring::LiveMonitor* monitor = nullptr) {
    manager_ = std::make_unique<ServableManager>(config_, &metrics_);
    ASSERT_TRUE(manager_->Start().ok());
    if (log != nullptr) {
      // The queue logs shadows into the same log (as the Server wires it).
      shadows_.Stop();
      shadows_ptr_ = std::make_unique<ShadowQueue>(ShadowQueueOptions{.prediction_log = log});
    }
    shadows().Start();
    service_ = std::make_unique<Service>(manager_.get(), &metrics_, &shadows(),
                                         config_.max_batch_rows, log, monitor);
  }
  ShadowQueue& shadows() { return shadows_ptr_ ? *shadows_ptr_ : shadows_; }
  // Predict, waiting for the answer (from whichever thread it comes).
  StatusOr<PredictResult> Predict(PredictRequest request) {
    std::promise<StatusOr<PredictResult>> answer;
    service_->Predict(std::move(request),
                      [&answer](StatusOr<PredictResult> r) { answer.set_value(std::move(r)); });
    return answer.get_future().get();
  }
  static PredictRequest Rows(std::string model, int64_t rows, int64_t width,
                             std::vector<float> values, VersionSelector selector = {}) {
    PredictRequest r;
    r.model = std::move(model);
    r.selector = std::move(selector);
    r.input.rows = rows;
    r.input.width = width;
    r.input.values = std::move(values);
    return r;
  }
  static PredictRequest Trips(std::vector<RawColumn> columns, int64_t rows) {
    PredictRequest r;
    r.model = "trip";
    r.input.rows = rows;
    r.input.raw.columns = std::move(columns);
    return r;
  }
  // The message of a failed Predict, which must fail with `code`.
  std::string ErrorOf(PredictRequest request, StatusCode code) {
    return testing::FailureMessage(Predict(std::move(request)), code);
  }

  ServerConfig config_;
  ServingMetrics metrics_;
  std::unique_ptr<ServableManager> manager_;
  ShadowQueue shadows_;
  std::unique_ptr<ShadowQueue> shadows_ptr_;
  std::unique_ptr<Service> service_;
};

TEST_F(ServiceTest, PredictsNumericRowsWithTheStableVersionByDefault) {
  Start();
  auto r = Predict(Rows("eta", 2, 3, {1, 1, 1, 0, 0, 0}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->model(), "eta");
  EXPECT_EQ(r->version(), 1);
  EXPECT_EQ(r->rows, 2);
  EXPECT_EQ(r->values, (std::vector<float>{7, 1}));
  EXPECT_EQ(r->output_names(), (std::vector<std::string>{"y"}));
  VersionSelector canary;
  canary.label = "canary";
  r = Predict(Rows("eta", 1, 3, {0, 0, 0}, canary));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->version(), 2);
  EXPECT_EQ(metrics_.For("eta", 1)->requests[static_cast<int>(StatusCode::kOk)].load(), 1u);
}

TEST_F(ServiceTest, RawFieldsGoThroughTheVersionsFeatureAdapter) {
  Start();
  auto r = Predict(Trips(
      {{"pickup_zone", {RawValue(74.0), RawValue(10.0)}},
       {"trip_distance", {RawValue(2.5), RawValue(1.0)}},
       {"pickup_datetime", {RawValue("2021-02-10 08:30:00"), RawValue("2021-02-10 17:00:00")}}},
      2));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->values, (std::vector<float>{82, 2.5, 27, 1}));  // (zone + hour, distance) per row
}

TEST_F(ServiceTest, AWidthOneColumnNamedLikeTheInputIsATensor) {
  testing::TestVersionOptions one;
  one.weights = {{2}};
  ASSERT_TRUE(testing::WriteTestVersion(config_.model_repo, "scale", 1, one).ok());
  Start();
  PredictRequest r;
  r.model = "scale";
  r.input.rows = 2;
  r.input.raw.columns = {{"features", {RawValue(1.0), RawValue(4.0)}}};
  auto answer = Predict(std::move(r));
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_EQ(answer->values, (std::vector<float>{2, 8}));
}

TEST_F(ServiceTest, BadRequestsAreRefusedWithTypedErrorsNamingTheProblem) {
  Start();
  EXPECT_NE(ErrorOf(Rows("nope", 1, 3, {0, 0, 0}), StatusCode::kNotFound).find("'nope'"),
            std::string::npos);
  VersionSelector v7;
  v7.version = 7;
  EXPECT_NE(ErrorOf(Rows("eta", 1, 3, {0, 0, 0}, v7), StatusCode::kNotFound).find("version 7"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Rows("eta", 1, 2, {0, 0}), StatusCode::kInvalidArgument)
                .find("has 2 values per row; model 'eta' version 1 expects 3"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Rows("eta", 1, 3, {0, NAN, 0}), StatusCode::kInvalidArgument)
                .find("row 0 column 1: NaN/Inf"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Rows("eta", 0, 3, {}), StatusCode::kInvalidArgument).find("no rows"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Rows("eta", 11, 3, std::vector<float>(33)), StatusCode::kOutOfRange)
                .find("the limit is 10"),
            std::string::npos);
  PredictRequest named = Rows("eta", 1, 3, {0, 0, 0});
  named.input.tensor_name = "x";
  EXPECT_NE(ErrorOf(std::move(named), StatusCode::kInvalidArgument).find("unknown input 'x'"),
            std::string::npos);
  PredictRequest raw_to_numeric = Trips({{"pickup_zone", {RawValue(1.0)}}}, 1);
  raw_to_numeric.model = "eta";
  EXPECT_NE(ErrorOf(std::move(raw_to_numeric), StatusCode::kInvalidArgument)
                .find("no feature spec for raw fields"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Trips({{"pickup_zone", {RawValue(1.0)}}}, 1), StatusCode::kInvalidArgument)
                .find("missing raw field 'trip_distance'"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Trips({{"pickup_zone", {RawValue(1.0)}},
                           {"trip_distance", {RawValue(1.0), RawValue(2.0)}},
                           {"pickup_datetime", {RawValue("2021-02-10 08:30:00")}}},
                          1),
                    StatusCode::kInvalidArgument)
                .find("'trip_distance' has 2 values, expected 1"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Trips({{"pickup_zone", {RawValue(INFINITY)}},
                           {"trip_distance", {RawValue(1.0)}},
                           {"pickup_datetime", {RawValue("2021-02-10 08:30:00")}}},
                          1),
                    StatusCode::kInvalidArgument)
                .find("'pickup_zone' row 0: NaN/Inf"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Trips({{"pickup_zone", {RawValue(1.0)}},
                           {"trip_distance", {RawValue(1.0)}},
                           {"pickup_datetime", {RawValue("yesterday")}}},
                          1),
                    StatusCode::kInvalidArgument)
                .find("pickup_datetime"),
            std::string::npos);
  EXPECT_EQ(metrics_.For("", 0)->requests[static_cast<int>(StatusCode::kNotFound)].load(), 1u);
  EXPECT_EQ(metrics_.For("eta", 1)->requests[static_cast<int>(StatusCode::kInvalidArgument)], 5u);
}

TEST_F(ServiceTest, RegressAndClassifyNeedAVersionWithThatSignature) {
  ASSERT_TRUE(
      testing::WriteTestVersion(config_.model_repo, "payment", 1, testing::ClassifierVersionOptions()).ok());
  Start();
  auto call = [&](PredictRequest r, Method method, std::string signature = "") {
    r.method = method;
    r.signature_name = std::move(signature);
    return Predict(std::move(r));
  };
  // A regressor of one output regresses through the same routing as :predict (stable = v1).
  auto r = call(Rows("eta", 1, 3, {1, 1, 1}), Method::kRegress);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->version(), 1);
  EXPECT_EQ(r->values, (std::vector<float>{7}));
  r = call(Rows("eta", 1, 3, {1, 1, 1}, {std::nullopt, "canary"}), Method::kRegress,
           "serving_default");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->version(), 2);
  // Several outputs: :regress names one as its signature.
  const std::vector<RawColumn> trip = {{"pickup_zone", {RawValue(3.0)}},
                                       {"trip_distance", {RawValue(1.5)}},
                                       {"pickup_datetime", {RawValue("2024-01-05 08:30:00")}}};
  r = call(Trips(trip, 1), Method::kRegress, "b");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*SignatureOutputs(r->servable->spec(), Method::kRegress, "b"),
            (std::vector<size_t>{1}));
  const std::string several =
      testing::FailureMessage(call(Trips(trip, 1), Method::kRegress), StatusCode::kInvalidArgument);
  EXPECT_NE(several.find("model 'trip' version 1 has 2 outputs (a, b)"), std::string::npos);
  EXPECT_NE(testing::FailureMessage(call(Trips(trip, 1), Method::kRegress, "c"),
                                    StatusCode::kInvalidArgument)
                .find("unknown signature_name 'c'"),
            std::string::npos);
  // A classifier classifies; each side refuses the other's method.
  r = call(Rows("payment", 1, 3, {0.25f, 0.75f, 9}), Method::kClassify);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->values, (std::vector<float>{0.25f, 0.75f}));
  EXPECT_EQ(r->output_names(), (std::vector<std::string>{"cash", "card"}));
  EXPECT_NE(testing::FailureMessage(call(Rows("eta", 1, 3, {1, 1, 1}), Method::kClassify),
                                    StatusCode::kInvalidArgument)
                .find("model 'eta' version 1 is a regressor, not a classifier"),
            std::string::npos);
  EXPECT_NE(testing::FailureMessage(call(Rows("payment", 1, 3, {1, 1, 1}), Method::kRegress),
                                    StatusCode::kInvalidArgument)
                .find("model 'payment' version 1 is a classifier"),
            std::string::npos);
  EXPECT_NE(testing::FailureMessage(call(Rows("payment", 1, 3, {1, 1, 1}), Method::kClassify,
                                         "scores"),
                                    StatusCode::kInvalidArgument)
                .find("unknown signature_name 'scores'"),
            std::string::npos);
  // Refusals are counted against the version that was asked, as :predict's are.
  EXPECT_EQ(metrics_.For("eta", 1)->requests[static_cast<int>(StatusCode::kInvalidArgument)], 1u);
}

TEST_F(ServiceTest, NonFiniteModelOutputIsAnInternalError) {
  testing::TestVersionOptions huge;
  huge.weights = {{1e30f, 1e30f, 1e30f}};
  ASSERT_TRUE(testing::WriteTestVersion(config_.model_repo, "huge", 1, huge).ok());
  Start();
  const float big = std::numeric_limits<float>::max();
  EXPECT_NE(ErrorOf(Rows("huge", 2, 3, {0, 0, 0, big, big, big}), StatusCode::kInternal)
                .find("non-finite output at row 1"),
            std::string::npos);
}

TEST_F(ServiceTest, FullBatchQueueIsResourceExhausted) {
  testing::TestVersionOptions slow;
  slow.predict_delay_us = 30000;
  ASSERT_TRUE(testing::WriteTestVersion(config_.model_repo, "slow", 1, slow).ok());
  config_.models["slow"].batching = {
      .max_batch_size = 1, .max_queue_delay_us = 0, .max_queue_size = 1};
  Start();
  std::vector<std::promise<Status>> answers(4);
  for (auto& answer : answers) {
    service_->Predict(Rows("slow", 1, 3, {0, 0, 0}),
                      [&answer](StatusOr<PredictResult> r) { answer.set_value(r.status()); });
  }
  int ok = 0, full = 0;
  for (auto& answer : answers) {
    Status st = answer.get_future().get();
    if (st.ok()) {
      ++ok;
    } else {
      EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
      EXPECT_NE(st.message().find("queue full"), std::string::npos) << st.ToString();
      ++full;
    }
  }
  EXPECT_GE(ok, 1);
  EXPECT_GE(full, 1);
}

TEST_F(ServiceTest, StickyHeaderKeepsACallerOnOneSideOfTheSplit) {
  config_.models["eta"].routing.split = {{"stable", 50}, {"canary", 50}};
  config_.models["eta"].routing.sticky_header = "x-rider-id";
  Start();
  std::set<int64_t> versions;
  for (int rider = 0; rider < 20; ++rider) {
    MapHeaders headers({{"x-rider-id", "rider-" + std::to_string(rider)}});
    PredictRequest first = Rows("eta", 1, 3, {0, 0, 0});
    first.headers = &headers;
    auto r = Predict(std::move(first));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    for (int k = 0; k < 3; ++k) {
      PredictRequest again = Rows("eta", 1, 3, {0, 0, 0});
      again.headers = &headers;
      EXPECT_EQ(Predict(std::move(again))->version(), r->version());
    }
    versions.insert(r->version());
  }
  EXPECT_EQ(versions, (std::set<int64_t>{1, 2}));
}

TEST_F(ServiceTest, ShadowVersionsGetAMirrorAfterThePrimaryAnswers) {
  config_.models["eta"].routing.shadow = {"canary"};
  Start();
  for (int i = 0; i < 3; ++i) {
    auto r = Predict(Rows("eta", 1, 3, {0, 0, 0}));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->version(), 1) << "the shadow never answers";
  }
  shadows_.Flush();
  EXPECT_EQ(shadows_.completed(), 3u);
  VersionMetrics* canary = metrics_.For("eta", 2);
  EXPECT_EQ(canary->shadow_abs_diff.count(), 3u);
  EXPECT_EQ(canary->shadow_abs_diff.Quantile(0.5), 1.0) << "versions differ by 1";
}

// Feature spec "test_ctx_v1": any width; feature 0 is pickup_zone + 100 × the version the
// adapter was built for (its context), the rest are 0. Versions with other contexts disagree.
void RegisterVersionContextFeatures() {
  RegisterFeatureAdapterFactory("test_ctx_v1", [](const FeatureAdapterContext& context) {
    const float offset =
        100.0f * std::stof(std::filesystem::path(context.version_dir).filename().string());
    return StatusOr<FeatureAdapter>(
        FeatureAdapter([offset](const RawBatch& batch, int width) -> StatusOr<std::vector<float>> {
          std::vector<float> out(static_cast<size_t>(batch.rows) * width, 0.0f);
          const RawColumn* zone = batch.Find("pickup_zone");
          for (int64_t r = 0; r < batch.rows; ++r) {
            out[r * width] = static_cast<float>(std::get<double>(zone->values[r])) + offset;
          }
          return out;
        }));
  });
}

TEST_F(ServiceTest, AShadowComputesItsOwnFeaturesWithItsOwnVersionsContextAndWidth) {
  RegisterVersionContextFeatures();
  for (int v = 1; v <= 2; ++v) {
    testing::TestVersionOptions o = testing::TripVersionOptions();
    o.feature_spec = "test_ctx_v1";
    o.weights = {std::vector<float>(v == 1 ? 3 : 5, 0.0f)};  // the shadow is wider
    o.weights[0][0] = 1;                                     // y = zone + 100 × version
    o.bias = {0};
    o.output_names = {"y"};
    ASSERT_TRUE(testing::WriteTestVersion(config_.model_repo, "ctx", v, o).ok());
  }
  config_.models["ctx"].policy.latest = 2;
  config_.models["ctx"].labels = {{"stable", 1}};
  config_.models["ctx"].routing.shadow = {"2"};
  Start();
  PredictRequest request = Trips({{"pickup_zone", {7.0, 8.0}},
                                  {"trip_distance", {1.0, 2.0}},
                                  {"pickup_datetime", {"2021-01-01 00:00:00", "x"}}},
                                 2);
  request.model = "ctx";
  auto r = Predict(std::move(request));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->values, (std::vector<float>{107, 108}));
  shadows_.Flush();
  VersionMetrics* shadow = metrics_.For("ctx", 2);
  ASSERT_EQ(shadow->shadow_abs_diff.count(), 1u);
  EXPECT_EQ(shadow->shadow_abs_diff.Quantile(1.0), 100.0)
      << "the shadow's own context gives zone + 200, the primary's zone + 100";
}

TEST_F(ServiceTest, AShadowOfAnotherWidthRefusesNumericRowsAndCountsItApartFromTraffic) {
  testing::TestVersionOptions wide;
  wide.weights = {{1, 1, 1, 1, 1}};
  ASSERT_TRUE(testing::WriteTestVersion(config_.model_repo, "eta", 3, wide).ok());
  config_.models["eta"].policy.latest = 3;
  config_.models["eta"].routing.shadow = {"3"};
  Start();
  auto r = Predict(Rows("eta", 2, 3, {1, 1, 1, 1, 1, 1}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  shadows_.Flush();
  VersionMetrics* shadow = metrics_.For("eta", 3);
  EXPECT_EQ(shadow->shadow_abs_diff.count(), 0u) << "3 values per row never reach a 5-wide model";
  for (int c = 0; c < kNumStatusCodes; ++c) {
    EXPECT_EQ(shadow->requests[c].load(), 0u) << "a shadow call is not traffic (code " << c << ")";
  }
  EXPECT_EQ(shadow->shadow_requests[static_cast<int>(StatusCode::kInvalidArgument)].load(), 1u);
  EXPECT_NE(service_->MetricsText().find("bimride_shadow_requests_total{model=\"eta\",version="
                                         "\"3\",code=\"INVALID_ARGUMENT\"} 1"),
            std::string::npos);
}

TEST_F(ServiceTest, StatusDescriptionAndReadiness) {
  Start();
  auto all = service_->GetModelStatus("eta", {});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
  VersionSelector canary;
  canary.label = "canary";
  auto one = service_->GetModelStatus("eta", canary);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].version, 2);
  VersionSelector blue;
  blue.label = "blue";
  EXPECT_EQ(service_->GetModelStatus("eta", blue).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service_->GetModelStatus("nope", {}).status().code(), StatusCode::kNotFound);

  auto d = service_->DescribeModel("eta", {});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->spec.version, 1) << "the stable version describes the model";
  EXPECT_EQ(d->available_versions, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(d->labels.at("canary"), 2);
  EXPECT_EQ(service_->DescribeModel("nope", {}).status().code(), StatusCode::kNotFound);

  EXPECT_TRUE(service_->Live());
  EXPECT_TRUE(service_->Ready());
  EXPECT_TRUE(service_->ModelReady("eta", canary).ok());
  EXPECT_EQ(service_->ModelReady("nope", {}).code(), StatusCode::kNotFound);
  EXPECT_EQ(service_->ModelReady("eta", blue).code(), StatusCode::kNotFound);
}

TEST_F(ServiceTest, RepositoryControl) {
  Start();
  std::vector<std::pair<std::string, int64_t>> listed;
  for (const RepositoryEntry& e : service_->RepositoryIndex()) {
    listed.push_back({e.model, e.status.version});
    EXPECT_EQ(e.status.state, VersionState::kAvailable);
  }
  EXPECT_EQ(listed,
            (std::vector<std::pair<std::string, int64_t>>{{"eta", 1}, {"eta", 2}, {"trip", 1}}));
  auto moved = service_->MoveLabel({"eta", "stable", 2, "promote the canary", "test"});
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(moved->move.to_version, 2);
  EXPECT_EQ(moved->serving_version, 2);
  EXPECT_TRUE(moved->serving.ok()) << moved->serving.ToString();
  EXPECT_EQ(Predict(Rows("eta", 1, 3, {0, 0, 0}))->version(), 2);
  EXPECT_EQ(service_->MoveLabel({"eta", "stable", 9, "no such version", "test"}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(service_->MoveLabel({"eta", "stable", 1, "", "test"}).status().code(),
            StatusCode::kInvalidArgument)
      << "a move without a reason is refused";
  ASSERT_TRUE(service_->UnloadModel("trip").ok());
  EXPECT_FALSE(service_->ModelReady("trip", {}).ok());
  ASSERT_TRUE(service_->LoadModel("trip").ok());
  EXPECT_TRUE(service_->ModelReady("trip", {}).ok());
  EXPECT_EQ(service_->LoadModel("nope").code(), StatusCode::kNotFound);
}

TEST_F(ServiceTest, MetricsTextListsRequestsAndLoadedVersions) {
  Start();
  ASSERT_TRUE(Predict(Rows("eta", 1, 3, {0, 0, 0})).ok());
  const std::string text = service_->MetricsText();
  EXPECT_NE(text.find("bimride_predict_requests_total{model=\"eta\",version=\"1\",code=\"OK\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("bimride_model_version_loaded{model=\"trip\",version=\"1\"} 1"),
            std::string::npos);
}

}  // namespace
}  // namespace bimride::serving

namespace bimride::serving {
namespace {

// Served rows reach the prediction log: the request's id, route, raw fields, the features the
// model saw and its outputs, one Parquet row each; /metrics counts them.
TEST_F(ServiceTest, AnsweredPredictionsGoToThePredictionLog) {
  const std::string dir = config_.model_repo + "/prediction_log";
  auto log = monitoring::PredictionLog::Open({.dir = dir});
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  Start(log->get());
  PredictRequest trips = Trips({{"pickup_zone", {74.0, 236.0}},
                                {"trip_distance", {1.5, 3.0}},
                                {"pickup_datetime", {std::string("2021-02-10 08:30:00"),
                                                     std::string("2021-02-10 17:05:00")}}},
                               2);
  MapHeaders headers({{"x-request-id", std::string("ride-42")}});
  trips.headers = &headers;
  ASSERT_TRUE(Predict(std::move(trips)).ok());
  ASSERT_TRUE(Predict(Rows("eta", 1, 3, {1, 1, 1})).ok());
  EXPECT_FALSE(Predict(Rows("eta", 1, 2, {1, 1})).ok()) << "failed requests are not logged";
  ASSERT_TRUE((*log)->Flush().ok());
  EXPECT_EQ((*log)->stats().logged_rows, 3);
  EXPECT_NE(service_->MetricsText().find("bimride_prediction_log_rows_total 3"), std::string::npos);
  EXPECT_NE(service_->MetricsText().find("bimride_prediction_log_labels_total 0"),
            std::string::npos);

  std::vector<std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  ASSERT_EQ(files.size(), 2u);  // eta/<day>/v1-…, trip/<day>/v1-…
  auto reader = parquet::FileReader::Open(files[1]);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  std::vector<std::string> names;
  for (const auto& c : (*reader)->schema()) names.push_back(c.name);
  EXPECT_EQ(names, (std::vector<std::string>{"request_id", "time", "model", "version", "route",
                                             "row", "raw", "f_0", "f_1", "f_2", "y_a", "y_b",
                                             "latency_us"}));
  auto batch = (*reader)->ReadRowGroup(0, {0, 4, 6, 7, 9, 10, 11});
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  ASSERT_EQ(batch->num_rows, 2);
  EXPECT_EQ(batch->columns[0].ByteValue(1), "ride-42");
  EXPECT_EQ(batch->columns[1].ByteValue(1), "default");
  EXPECT_EQ(batch->columns[2].ByteValue(1),
            R"({"pickup_datetime":"2021-02-10 17:05:00","pickup_zone":236.0,"trip_distance":3.0})");
  EXPECT_EQ(batch->columns[3].f32[1], 236.0f);  // features: zone, distance, hour
  EXPECT_EQ(batch->columns[4].f32[1], 17.0f);
  EXPECT_EQ(batch->columns[5].f32[1], 236.0f + 17.0f);  // a = zone + hour
  EXPECT_EQ(batch->columns[6].f32[1], 3.0f);            // b = distance
}

// The request id: the client's x-request-id is answered back; without one the service makes
// one up, different for each request.
TEST_F(ServiceTest, EveryAnswerCarriesItsRequestId) {
  Start();
  MapHeaders headers({{"x-request-id", std::string("trip-7")}});
  PredictRequest sent = Rows("eta", 1, 3, {0, 0, 0});
  sent.headers = &headers;
  auto r = Predict(std::move(sent));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->request_id, "trip-7");
  auto a = Predict(Rows("eta", 1, 3, {0, 0, 0}));
  auto b = Predict(Rows("eta", 1, 3, {0, 0, 0}));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_FALSE(a->request_id.empty());
  EXPECT_NE(a->request_id, b->request_id);
  PredictRequest given = Rows("eta", 1, 3, {0, 0, 0});
  given.request_id = "set-by-transport";
  given.headers = &headers;
  EXPECT_EQ(Predict(std::move(given))->request_id, "set-by-transport");
}

// The manifest's feature names name the log's feature columns; a shadow's answer is logged too
// (route "shadow", its own version, features and outputs), and feedback joins both.
TEST_F(ServiceTest, LogNamesFeaturesFromTheManifestLogsShadowsAndJoinsFeedback) {
  config_.model_repo = testing::MakeTempDir("service_test_named");
  for (int v = 1; v <= 2; ++v) {
    testing::TestVersionOptions o;
    o.weights = {{1, 2, 3}};
    o.bias = {static_cast<float>(v)};
    o.feature_names = {"distance", "hour", "zone"};
    ASSERT_TRUE(testing::WriteTestVersion(config_.model_repo, "eta", v, o).ok());
  }
  config_.models.erase("trip");
  config_.models["eta"].routing.shadow = {"canary"};
  const std::string dir = config_.model_repo + "/prediction_log";
  auto log = monitoring::PredictionLog::Open({.dir = dir});
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  auto monitor = monitoring::LiveMonitor::Create({});
  ASSERT_TRUE(monitor.ok());
  (*log)->SetObserver(monitor->get());
  Start(log->get(), monitor->get());
  EXPECT_EQ(service_->PostFeedback({{"x", 0, 1}}).status().code(), StatusCode::kOk);
  PredictRequest req = Rows("eta", 1, 3, {1, 1, 1});  // v1: 7, v2 (shadow): 8
  req.request_id = "ride-1";
  ASSERT_TRUE(Predict(std::move(req)).ok());
  shadows().Flush();
  ASSERT_TRUE((*log)->Flush().ok());
  EXPECT_EQ((*log)->stats().logged_rows, 2);
  auto fb = service_->PostFeedback({{"ride-1", 0, 10}});
  ASSERT_TRUE(fb.ok());
  EXPECT_EQ(fb->joined, 1);
  std::vector<monitoring::WindowAccuracy> w = (*monitor)->Windows("eta");
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].metrics.bias, 7.0 - 10.0);
  EXPECT_EQ(w[1].metrics.bias, 8.0 - 10.0);
  const std::string metrics = service_->MetricsText();
  EXPECT_NE(metrics.find("bimride_live_bias{model=\"eta\",version=\"2\",window=\"0\"} -2"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("bimride_feedback_joined_total 2"), std::string::npos);

  std::vector<std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  ASSERT_EQ(files.size(), 2u);  // eta/<day>/v1-…, eta/<day>/v2-…
  for (int v = 1; v <= 2; ++v) {
    auto reader = parquet::FileReader::Open(files[v - 1]);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    std::vector<std::string> names;
    for (const auto& c : (*reader)->schema()) names.push_back(c.name);
    EXPECT_EQ(names, (std::vector<std::string>{"request_id", "time", "model", "version", "route",
                                               "row", "raw", "f_distance", "f_hour", "f_zone",
                                               "y_y", "latency_us"}));
    auto batch = (*reader)->ReadRowGroup(0, {0, 4, 10});
    ASSERT_TRUE(batch.ok()) << batch.status().ToString();
    EXPECT_EQ(batch->columns[0].ByteValue(0), "ride-1");
    EXPECT_EQ(batch->columns[1].ByteValue(0), v == 1 ? "default" : "shadow");
    EXPECT_EQ(batch->columns[2].f32[0], v == 1 ? 7.0f : 8.0f);
  }
}

TEST_F(ServiceTest, FeedbackWithoutAPredictionLogIsRefused) {
  Start();
  auto r = service_->PostFeedback({{"ride-1", 0, 10}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("--prediction-log"), std::string::npos);
}

}  // namespace
}  // namespace bimride::serving
