#include "serving/grpc/tfs_grpc_codec.h"

#include <gtest/gtest.h>

namespace bimride::serving::grpc {
namespace {

using tensorflow::TensorProto;
using tensorflow::serving::PredictRequest;

TensorProto& Input(PredictRequest* r, const std::string& name, tensorflow::DataType dtype,
                   std::vector<int64_t> dims) {
  TensorProto& t = (*r->mutable_inputs())[name];
  t.set_dtype(dtype);
  for (int64_t d : dims) t.mutable_tensor_shape()->add_dim()->set_size(d);
  return t;
}

PredictRequest FeatureRequest() {
  PredictRequest r;
  r.mutable_model_spec()->set_name("eta");
  TensorProto& t = Input(&r, "features", tensorflow::DT_FLOAT, {1, 3});
  for (float v : {1.f, 2.f, 3.f}) t.add_float_val(v);
  return r;
}

void ExpectError(const PredictRequest& r, StatusCode code, const std::string& words) {
  auto p = ParsePredictRequest(r, 100);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), code) << p.status().ToString();
  EXPECT_NE(p.status().message().find(words), std::string::npos) << p.status().ToString();
}

TEST(TfsGrpcCodecTest, FeatureTensorFromFloatValAndTensorContent) {
  PredictRequest r = FeatureRequest();
  r.mutable_model_spec()->set_version_label("canary");
  auto p = ParsePredictRequest(r, 100);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->model, "eta");
  EXPECT_EQ(p->selector.label, "canary");
  EXPECT_EQ(p->input.values, (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(p->input.width, 3);

  PredictRequest c = FeatureRequest();
  c.mutable_model_spec()->mutable_version()->set_value(4);
  TensorProto& t = (*c.mutable_inputs())["features"];
  t.clear_float_val();
  const float values[3] = {1, 2, 3};
  t.set_tensor_content(std::string(reinterpret_cast<const char*>(values), sizeof(values)));
  auto q = ParsePredictRequest(c, 100);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->selector.version, 4);
  EXPECT_EQ(q->input, p->input);
}

TEST(TfsGrpcCodecTest, RawFieldsWithStrings) {
  PredictRequest r;
  r.mutable_model_spec()->set_name("trip");
  Input(&r, "pickup_zone", tensorflow::DT_INT64, {2}).add_int64_val(74);
  (*r.mutable_inputs())["pickup_zone"].add_int64_val(236);
  TensorProto& when = Input(&r, "pickup_datetime", tensorflow::DT_STRING, {2, 1});
  when.add_string_val("2024-01-05 08:30:00");
  when.add_string_val("2024-01-05 09:30:00");
  auto p = ParsePredictRequest(r, 100);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_TRUE(p->input.is_raw());
  ASSERT_NE(p->input.raw.Find("pickup_zone"), nullptr);
  EXPECT_EQ(p->input.raw.Find("pickup_zone")->values[1], RawValue(236.0));
  EXPECT_EQ(p->input.raw.Find("pickup_datetime")->values[1],
            RawValue(std::string("2024-01-05 09:30:00")));
}

TEST(TfsGrpcCodecTest, BadInputIsRefusedNamingTheInput) {
  PredictRequest r = FeatureRequest();
  r.mutable_model_spec()->clear_name();
  ExpectError(r, StatusCode::kInvalidArgument, "model_spec.name");
  r = FeatureRequest();
  r.mutable_model_spec()->mutable_version()->set_value(0);
  ExpectError(r, StatusCode::kInvalidArgument, "model_spec.version 0");
  r = FeatureRequest();
  (*r.mutable_inputs())["features"].set_dtype(tensorflow::DT_INT32);
  ExpectError(r, StatusCode::kInvalidArgument,
              "input 'features': dtype DT_INT32 takes its values in int_val, but float_val holds 3");
  r = FeatureRequest();
  (*r.mutable_inputs())["features"].mutable_tensor_shape()->mutable_dim(1)->set_size(4);
  ExpectError(r, StatusCode::kInvalidArgument, "input 'features': float_val has 3 values but shape implies 4");
  r = FeatureRequest();
  (*r.mutable_inputs())["features"].set_tensor_content(std::string(10, '\0'));
  ExpectError(r, StatusCode::kInvalidArgument, "tensor_content has 10 bytes but shape and dtype DT_FLOAT imply 12");
  r = FeatureRequest();
  (*r.mutable_inputs())["features"].set_tensor_content(std::string(12, '\0'));
  ExpectError(r, StatusCode::kInvalidArgument, "both tensor_content and float_val");
  r = FeatureRequest();
  (*r.mutable_inputs())["features"].set_dtype(tensorflow::DT_BOOL);
  ExpectError(r, StatusCode::kInvalidArgument, "DT_BOOL is not accepted");
  r = FeatureRequest();
  (*r.mutable_inputs())["features"].set_dtype(tensorflow::DT_COMPLEX64);
  ExpectError(r, StatusCode::kInvalidArgument, "dtype DT_COMPLEX64 is not supported");
  r = FeatureRequest();
  (*r.mutable_inputs())["features"].set_dtype(static_cast<tensorflow::DataType>(999));
  ExpectError(r, StatusCode::kInvalidArgument, "dtype 999 is not supported");
  r = FeatureRequest();
  (*r.mutable_inputs())["features"].mutable_tensor_shape()->set_unknown_rank(true);
  ExpectError(r, StatusCode::kInvalidArgument, "unknown rank");
  r = FeatureRequest();
  (*r.mutable_inputs())["features"].mutable_tensor_shape()->mutable_dim(0)->set_size(101);
  ExpectError(r, StatusCode::kOutOfRange, "input 'features' has more than 100 rows");
  r = FeatureRequest();
  r.clear_inputs();
  ExpectError(r, StatusCode::kInvalidArgument, "'inputs' must not be empty");
  PredictRequest s;
  s.mutable_model_spec()->set_name("trip");
  Input(&s, "pickup_zone", tensorflow::DT_UINT8, {1}).add_int_val(256);
  ExpectError(s, StatusCode::kInvalidArgument, "input 'pickup_zone': element 0 (256) is out of range for DT_UINT8");
  PredictRequest str;
  str.mutable_model_spec()->set_name("trip");
  Input(&str, "pickup_datetime", tensorflow::DT_STRING, {1}).set_tensor_content("abcd");
  ExpectError(str, StatusCode::kInvalidArgument, "DT_STRING values go in string_val");
}

TEST(TfsGrpcCodecTest, MetadataNeedsSignatureDef) {
  ModelDescription d;
  d.spec.model = "eta";
  d.spec.version = 2;
  d.spec.input_name = "features";
  d.spec.num_features = 3;
  d.spec.output_names = {"eta_seconds"};
  tensorflow::serving::GetModelMetadataRequest req;
  tensorflow::serving::GetModelMetadataResponse resp;
  EXPECT_EQ(RenderModelMetadata(d, req, &resp).code(), StatusCode::kInvalidArgument);
  req.add_metadata_field("signature_def");
  ASSERT_TRUE(RenderModelMetadata(d, req, &resp).ok());
  EXPECT_EQ(resp.metadata().at("signature_def").type_url(),
            "type.googleapis.com/tensorflow.serving.SignatureDefMap");
  tensorflow::serving::SignatureDefMap map;
  ASSERT_TRUE(resp.metadata().at("signature_def").UnpackTo(&map));
  EXPECT_EQ(map.signature_def().at("serving_default").method_name(), "tensorflow/serving/predict");
  req.add_metadata_field("other");
  EXPECT_EQ(RenderModelMetadata(d, req, &resp).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace bimride::serving::grpc
