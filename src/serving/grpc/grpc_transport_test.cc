// End to end: a C++ client built from our .proto files against an in-process server with the
// gRPC transport on a free loopback port (the test backend: serving/testing/test_models.h).
#include "serving/grpc/grpc_transport.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>

#include "grpc_predict_v2.grpc.pb.h"
#include "serving/grpc/grpc_status.h"
#include "serving/testing/test_models.h"
#include "tensorflow_serving/apis/prediction_service.grpc.pb.h"

namespace bimride::serving::grpc {
namespace {

using inference::GRPCInferenceService;
using inference::ModelInferRequest;
using inference::ModelInferResponse;
using tensorflow::serving::PredictionService;

class GrpcTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::RegisterTestBackendAndFeatures();
    repo_ = testing::MakeTempDir("grpc_transport_test");
    // eta: y = x0 + 2 x1 + 3 x2 + version  (versions 1 and 2; stable → 1)
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
    config_.poll_interval_ms = 0;
    config_.max_batch_rows = 100;
    config_.grpc_port = 0;
    config_.models["eta"].labels = {{"stable", 1}, {"canary", 2}};
    config_.models["eta"].policy.latest = 2;
  }
  void Start() {
    auto server = Server::Create(config_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    auto grpc = GrpcTransport::Create(&server_->service(), server_->config());
    ASSERT_TRUE(grpc.ok()) << grpc.status().ToString();
    ASSERT_TRUE(server_->AddTransport(std::move(grpc).value()).ok());
    ASSERT_GT(GrpcPort(*server_), 0);
    ::grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(64 << 20);
    channel_ = ::grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(GrpcPort(*server_)),
                                           ::grpc::InsecureChannelCredentials(), args);
    kserve_ = GRPCInferenceService::NewStub(channel_);
    tfs_ = PredictionService::NewStub(channel_);
  }
  void TearDown() override {
    if (server_) server_->Shutdown(1000);
  }
  // An FP32 [rows, width] feature tensor in typed contents.
  static ModelInferRequest FeatureRequest(const std::string& model, std::vector<float> values,
                                          int64_t rows) {
    ModelInferRequest req;
    req.set_model_name(model);
    auto* in = req.add_inputs();
    in->set_name("features");
    in->set_datatype("FP32");
    in->add_shape(rows);
    in->add_shape(static_cast<int64_t>(values.size()) / rows);
    for (float v : values) in->mutable_contents()->add_fp32_contents(v);
    return req;
  }
  ::grpc::Status Infer(const ModelInferRequest& req, ModelInferResponse* resp,
                       const std::string& request_id = "") {
    ::grpc::ClientContext ctx;
    if (!request_id.empty()) ctx.AddMetadata("x-request-id", request_id);
    ::grpc::Status st = kserve_->ModelInfer(&ctx, req, resp);
    auto it = ctx.GetServerInitialMetadata().find("x-request-id");
    echoed_id_ = it == ctx.GetServerInitialMetadata().end()
                     ? ""
                     : std::string(it->second.data(), it->second.size());
    return st;
  }

  std::string repo_;
  ServerConfig config_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<::grpc::Channel> channel_;
  std::unique_ptr<GRPCInferenceService::Stub> kserve_;
  std::unique_ptr<PredictionService::Stub> tfs_;
  std::string echoed_id_;
};

TEST_F(GrpcTransportTest, HealthAndServerMetadata) {
  Start();
  ::grpc::ClientContext c1, c2, c3;
  inference::ServerLiveResponse live;
  ASSERT_TRUE(kserve_->ServerLive(&c1, {}, &live).ok());
  EXPECT_TRUE(live.live());
  inference::ServerReadyResponse ready;
  ASSERT_TRUE(kserve_->ServerReady(&c2, {}, &ready).ok());
  EXPECT_TRUE(ready.ready());
  inference::ServerMetadataResponse meta;
  ASSERT_TRUE(kserve_->ServerMetadata(&c3, {}, &meta).ok());
  EXPECT_EQ(meta.name(), "bimride");
  EXPECT_FALSE(meta.version().empty());
}

TEST_F(GrpcTransportTest, ModelReadyAndMetadata) {
  Start();
  inference::ModelReadyRequest req;
  req.set_name("eta");
  req.set_version("2");
  inference::ModelReadyResponse resp;
  ::grpc::ClientContext c1;
  ASSERT_TRUE(kserve_->ModelReady(&c1, req, &resp).ok());
  EXPECT_TRUE(resp.ready());

  req.set_name("nope");
  ::grpc::ClientContext c2;
  ::grpc::Status st = kserve_->ModelReady(&c2, req, &resp);
  EXPECT_EQ(st.error_code(), ::grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(st.error_message().find("nope"), std::string::npos) << st.error_message();

  inference::ModelMetadataRequest mreq;
  mreq.set_name("eta");
  inference::ModelMetadataResponse meta;
  ::grpc::ClientContext c3;
  ASSERT_TRUE(kserve_->ModelMetadata(&c3, mreq, &meta).ok());
  EXPECT_EQ(meta.name(), "eta");
  EXPECT_EQ(meta.platform(), "bimride_baseline");
  ASSERT_EQ(meta.inputs_size(), 1);
  EXPECT_EQ(meta.inputs(0).name(), "features");
  ASSERT_EQ(meta.inputs(0).shape_size(), 2);
  EXPECT_EQ(meta.inputs(0).shape(1), 3);
  ASSERT_EQ(meta.outputs_size(), 1);
  EXPECT_EQ(meta.outputs(0).name(), "eta_seconds");
  EXPECT_EQ(meta.versions_size(), 2);
}

TEST_F(GrpcTransportTest, ModelInferTypedContentsByVersionAndLabel) {
  Start();
  ModelInferRequest req = FeatureRequest("eta", {1, 2, 3, 0, 0, 1}, 2);
  req.set_id("call-7");
  ModelInferResponse resp;
  ::grpc::Status st = Infer(req, &resp, "rid-42");
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.model_name(), "eta");
  EXPECT_EQ(resp.model_version(), "1");  // the stable label
  EXPECT_EQ(resp.id(), "call-7");
  EXPECT_EQ(echoed_id_, "rid-42");
  ASSERT_EQ(resp.outputs_size(), 1);
  EXPECT_EQ(resp.outputs(0).datatype(), "FP32");
  ASSERT_EQ(resp.outputs(0).contents().fp32_contents_size(), 2);
  EXPECT_FLOAT_EQ(resp.outputs(0).contents().fp32_contents(0), 1 + 4 + 9 + 1);
  EXPECT_FLOAT_EQ(resp.outputs(0).contents().fp32_contents(1), 3 + 1);
  EXPECT_EQ(resp.raw_output_contents_size(), 0);

  req.set_model_version("2");
  ModelInferResponse v2;
  ASSERT_TRUE(Infer(req, &v2).ok());
  EXPECT_EQ(v2.model_version(), "2");
  EXPECT_FLOAT_EQ(v2.outputs(0).contents().fp32_contents(0), 1 + 4 + 9 + 2);
  req.set_model_version("canary");
  ModelInferResponse canary;
  ASSERT_TRUE(Infer(req, &canary).ok());
  EXPECT_EQ(canary.model_version(), "2");
}

TEST_F(GrpcTransportTest, ModelInferRawInputContentsAnswersRawOutput) {
  Start();
  ModelInferRequest req;
  req.set_model_name("eta");
  auto* in = req.add_inputs();
  in->set_name("features");
  in->set_datatype("FP32");
  in->add_shape(1);
  in->add_shape(3);
  const float values[3] = {1, 2, 3};
  req.add_raw_input_contents(std::string(reinterpret_cast<const char*>(values), sizeof(values)));
  ModelInferResponse resp;
  ::grpc::Status st = Infer(req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(resp.raw_output_contents_size(), 1);
  ASSERT_EQ(resp.raw_output_contents(0).size(), sizeof(float));
  float y = 0;
  std::memcpy(&y, resp.raw_output_contents(0).data(), sizeof(float));
  EXPECT_FLOAT_EQ(y, 15);
}

TEST_F(GrpcTransportTest, ModelInferRawFieldsThroughTheFeatureAdapter) {
  Start();
  ModelInferRequest req;
  req.set_model_name("trip");
  auto* zone = req.add_inputs();
  zone->set_name("pickup_zone");
  zone->set_datatype("INT64");
  zone->add_shape(2);
  zone->mutable_contents()->add_int64_contents(74);
  zone->mutable_contents()->add_int64_contents(236);
  auto* dist = req.add_inputs();
  dist->set_name("trip_distance");
  dist->set_datatype("FP64");
  dist->add_shape(2);
  dist->mutable_contents()->add_fp64_contents(2.5);
  dist->mutable_contents()->add_fp64_contents(1.0);
  auto* when = req.add_inputs();
  when->set_name("pickup_datetime");
  when->set_datatype("BYTES");
  when->add_shape(2);
  when->add_shape(1);
  when->mutable_contents()->add_bytes_contents("2024-01-05 08:30:00");
  when->mutable_contents()->add_bytes_contents("2024-01-05 17:00:00");
  auto* out = req.add_outputs();
  out->set_name("a");
  ModelInferResponse resp;
  ::grpc::Status st = Infer(req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(resp.outputs_size(), 1);
  EXPECT_EQ(resp.outputs(0).name(), "a");
  ASSERT_EQ(resp.outputs(0).contents().fp32_contents_size(), 2);
  EXPECT_FLOAT_EQ(resp.outputs(0).contents().fp32_contents(0), 74 + 8);
  EXPECT_FLOAT_EQ(resp.outputs(0).contents().fp32_contents(1), 236 + 17);

  // A missing raw field is the feature adapter's error, naming the field.
  req.mutable_inputs()->RemoveLast();
  ModelInferResponse bad;
  st = Infer(req, &bad);
  EXPECT_EQ(st.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("pickup_datetime"), std::string::npos) << st.error_message();
}

TEST_F(GrpcTransportTest, ModelInferBadInputGetsCodesAndMessagesNamingTheInput) {
  Start();
  ModelInferResponse resp;
  // Width 4 for a model of 3 features.
  ::grpc::Status st = Infer(FeatureRequest("eta", {1, 2, 3, 4}, 1), &resp);
  EXPECT_EQ(st.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("features"), std::string::npos) << st.error_message();
  // Shape says 2 rows, contents hold 3 values.
  ModelInferRequest mismatch = FeatureRequest("eta", {1, 2, 3}, 1);
  mismatch.mutable_inputs(0)->set_shape(0, 2);
  st = Infer(mismatch, &resp);
  EXPECT_EQ(st.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("input 'features'"), std::string::npos) << st.error_message();
  // Wrong datatype for the field the values are in.
  ModelInferRequest wrong_type = FeatureRequest("eta", {1, 2, 3}, 1);
  wrong_type.mutable_inputs(0)->set_datatype("INT64");
  st = Infer(wrong_type, &resp);
  EXPECT_EQ(st.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("int64_contents"), std::string::npos) << st.error_message();
  // Raw contents of the wrong size.
  ModelInferRequest raw = FeatureRequest("eta", {1, 2, 3}, 1);
  raw.mutable_inputs(0)->clear_contents();
  raw.add_raw_input_contents(std::string(11, '\0'));
  st = Infer(raw, &resp);
  EXPECT_EQ(st.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("11 bytes"), std::string::npos) << st.error_message();
  // Unknown model, unknown version.
  st = Infer(FeatureRequest("nope", {1, 2, 3}, 1), &resp);
  EXPECT_EQ(st.error_code(), ::grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(st.error_message().find("nope"), std::string::npos) << st.error_message();
  ModelInferRequest v9 = FeatureRequest("eta", {1, 2, 3}, 1);
  v9.set_model_version("9");
  st = Infer(v9, &resp);
  EXPECT_EQ(st.error_code(), ::grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(st.error_message().find("9"), std::string::npos) << st.error_message();
  // Too many rows (max_batch_rows 100).
  st = Infer(FeatureRequest("eta", std::vector<float>(101 * 3, 1), 101), &resp);
  EXPECT_EQ(st.error_code(), ::grpc::StatusCode::OUT_OF_RANGE);
  // Unknown requested output.
  ModelInferRequest out = FeatureRequest("eta", {1, 2, 3}, 1);
  out.add_outputs()->set_name("speed");
  st = Infer(out, &resp);
  EXPECT_EQ(st.error_code(), ::grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(st.error_message().find("speed"), std::string::npos) << st.error_message();
  // Every call is counted by method and code.
  const std::string metrics = server_->service().MetricsText();
  EXPECT_NE(metrics.find("bimride_grpc_requests_total{method=\"ModelInfer\",code=\"NOT_FOUND\"} 3"),
            std::string::npos)
      << metrics;
}

TEST_F(GrpcTransportTest, MessagesAbove4MiBPassTheTransportAndTheLimitIsConfigurable) {
  Start();
  // 5 MiB of FP32 in one row: past gRPC's stock 4 MiB limit, within ours (64 MiB); the model
  // then refuses the width, which shows the message reached it.
  ModelInferRequest big = FeatureRequest("eta", std::vector<float>(5 << 18, 1), 1);
  ModelInferResponse resp;
  ::grpc::Status st = Infer(big, &resp);
  EXPECT_EQ(st.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  server_->Shutdown(1000);
  server_.reset();

  config_.grpc_max_message_bytes = 4096;
  Start();
  st = Infer(FeatureRequest("eta", std::vector<float>(3000, 1), 1000), &resp);
  EXPECT_EQ(st.error_code(), ::grpc::StatusCode::RESOURCE_EXHAUSTED) << st.error_message();
  ASSERT_TRUE(Infer(FeatureRequest("eta", {1, 2, 3}, 1), &resp).ok());
}

TEST_F(GrpcTransportTest, TfServingPredictAndMetadata) {
  Start();
  tensorflow::serving::PredictRequest req;
  req.mutable_model_spec()->set_name("eta");
  req.mutable_model_spec()->mutable_version()->set_value(2);
  tensorflow::TensorProto& t = (*req.mutable_inputs())["features"];
  t.set_dtype(tensorflow::DT_FLOAT);
  t.mutable_tensor_shape()->add_dim()->set_size(1);
  t.mutable_tensor_shape()->add_dim()->set_size(3);
  for (float v : {1.f, 2.f, 3.f}) t.add_float_val(v);
  tensorflow::serving::PredictResponse resp;
  ::grpc::ClientContext c1;
  ::grpc::Status st = tfs_->Predict(&c1, req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.model_spec().version().value(), 2);
  ASSERT_EQ(resp.outputs().count("eta_seconds"), 1u);
  ASSERT_EQ(resp.outputs().at("eta_seconds").float_val_size(), 1);
  EXPECT_FLOAT_EQ(resp.outputs().at("eta_seconds").float_val(0), 16);

  // Raw fields by label-less default route, strings as DT_STRING.
  tensorflow::serving::PredictRequest trip;
  trip.mutable_model_spec()->set_name("trip");
  auto& zone = (*trip.mutable_inputs())["pickup_zone"];
  zone.set_dtype(tensorflow::DT_INT32);
  zone.mutable_tensor_shape()->add_dim()->set_size(1);
  zone.add_int_val(74);
  auto& dist = (*trip.mutable_inputs())["trip_distance"];
  dist.set_dtype(tensorflow::DT_DOUBLE);
  dist.mutable_tensor_shape()->add_dim()->set_size(1);
  dist.add_double_val(2.5);
  auto& when = (*trip.mutable_inputs())["pickup_datetime"];
  when.set_dtype(tensorflow::DT_STRING);
  when.mutable_tensor_shape()->add_dim()->set_size(1);
  when.add_string_val("2024-01-05 08:30:00");
  tensorflow::serving::PredictResponse trip_resp;
  ::grpc::ClientContext c2;
  st = tfs_->Predict(&c2, trip, &trip_resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_FLOAT_EQ(trip_resp.outputs().at("a").float_val(0), 82);
  EXPECT_FLOAT_EQ(trip_resp.outputs().at("b").float_val(0), 2.5);

  // Bad input: a label that does not exist; a dtype mismatch.
  req.mutable_model_spec()->set_version_label("blue");
  ::grpc::ClientContext c3;
  st = tfs_->Predict(&c3, req, &resp);
  EXPECT_EQ(st.error_code(), ::grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(st.error_message().find("blue"), std::string::npos) << st.error_message();
  req.mutable_model_spec()->clear_version_label();
  (*req.mutable_inputs())["features"].set_dtype(tensorflow::DT_DOUBLE);
  ::grpc::ClientContext c4;
  st = tfs_->Predict(&c4, req, &resp);
  EXPECT_EQ(st.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("input 'features'"), std::string::npos) << st.error_message();

  tensorflow::serving::GetModelMetadataRequest mreq;
  mreq.mutable_model_spec()->set_name("eta");
  mreq.add_metadata_field("signature_def");
  tensorflow::serving::GetModelMetadataResponse meta;
  ::grpc::ClientContext c5;
  st = tfs_->GetModelMetadata(&c5, mreq, &meta);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(meta.model_spec().version().value(), 1);
  tensorflow::serving::SignatureDefMap map;
  ASSERT_TRUE(meta.metadata().at("signature_def").UnpackTo(&map));
  const tensorflow::SignatureDef& sig = map.signature_def().at("serving_default");
  EXPECT_EQ(sig.inputs().at("features").tensor_shape().dim(1).size(), 3);
  EXPECT_EQ(sig.outputs().count("eta_seconds"), 1u);
}

TEST_F(GrpcTransportTest, SecondTransportOnTheSamePortFailsToStart) {
  Start();
  ServerConfig other = config_;
  other.grpc_port = GrpcPort(*server_);
  auto second = GrpcTransport::Create(&server_->service(), other);
  ASSERT_TRUE(second.ok());
  Status st = (*second)->Start();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  other.grpc_port = 70000;
  EXPECT_FALSE(GrpcTransport::Create(&server_->service(), other).ok());
}

TEST(GrpcStatusTest, EveryCodeMapsToItsGrpcCode) {
  EXPECT_TRUE(GrpcStatusFor(OkStatus()).ok());
  ::grpc::Status s = GrpcStatusFor(InvalidArgumentError("input 'x': bad"));
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "input 'x': bad");
  EXPECT_EQ(GrpcCodeFor(StatusCode::kNotFound), ::grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(GrpcCodeFor(StatusCode::kUnavailable), ::grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(GrpcCodeFor(StatusCode::kResourceExhausted), ::grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(GrpcCodeFor(StatusCode::kOutOfRange), ::grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(GrpcCodeFor(StatusCode::kInternal), ::grpc::StatusCode::INTERNAL);
}

}  // namespace
}  // namespace bimride::serving::grpc
