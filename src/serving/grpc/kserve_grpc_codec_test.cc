#include "serving/grpc/kserve_grpc_codec.h"

#include <gtest/gtest.h>

#include <cstring>

namespace bimride::serving::grpc {
namespace {

using inference::ModelInferRequest;

ModelInferRequest::InferInputTensor* AddInput(ModelInferRequest* r, const std::string& name,
                                             const std::string& datatype,
                                             std::vector<int64_t> shape) {
  auto* in = r->add_inputs();
  in->set_name(name);
  in->set_datatype(datatype);
  for (int64_t d : shape) in->add_shape(d);
  return in;
}

std::string Bytes(const void* p, size_t n) { return std::string(static_cast<const char*>(p), n); }

std::string LengthPrefixed(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) {
    uint32_t n = static_cast<uint32_t>(s.size());
    out += Bytes(&n, 4) + s;
  }
  return out;
}

StatusOr<KserveGrpcRequest> Parse(const ModelInferRequest& r) {
  return ParseModelInferRequest(r, 100);
}

TEST(KserveGrpcCodecTest, FeatureTensorFromTypedContents) {
  ModelInferRequest r;
  r.set_model_name("eta");
  r.set_model_version("3");
  r.set_id("x");
  auto* in = AddInput(&r, "features", "FP32", {2, 2});
  for (float v : {1.f, 2.f, 3.f, 4.f}) in->mutable_contents()->add_fp32_contents(v);
  auto p = Parse(r);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->model, "eta");
  EXPECT_EQ(p->selector.version, 3);
  EXPECT_EQ(p->id, "x");
  EXPECT_FALSE(p->raw_output);
  EXPECT_EQ(p->input.rows, 2);
  EXPECT_EQ(p->input.width, 2);
  EXPECT_EQ(p->input.values, (std::vector<float>{1, 2, 3, 4}));
}

TEST(KserveGrpcCodecTest, RawInputContentsEqualTypedContents) {
  ModelInferRequest typed;
  typed.set_model_name("eta");
  auto* t = AddInput(&typed, "features", "FP64", {1, 3});
  for (double v : {1.5, -2.0, 1e10}) t->mutable_contents()->add_fp64_contents(v);
  ModelInferRequest raw;
  raw.set_model_name("eta");
  AddInput(&raw, "features", "FP64", {1, 3});
  const double values[3] = {1.5, -2.0, 1e10};
  raw.add_raw_input_contents(Bytes(values, sizeof(values)));
  auto a = Parse(typed), b = Parse(raw);
  ASSERT_TRUE(a.ok() && b.ok()) << a.status().ToString() << b.status().ToString();
  EXPECT_EQ(a->input, b->input);
  EXPECT_TRUE(b->raw_output);
}

TEST(KserveGrpcCodecTest, RawFieldsWithBytesInBothForms) {
  for (bool raw : {false, true}) {
    ModelInferRequest r;
    r.set_model_name("trip");
    auto* zone = AddInput(&r, "pickup_zone", "INT32", {2});
    auto* when = AddInput(&r, "pickup_datetime", "BYTES", {2, 1});
    const int32_t zones[2] = {74, 236};
    const std::vector<std::string> times = {"2024-01-05 08:30:00", ""};
    if (raw) {
      r.add_raw_input_contents(Bytes(zones, sizeof(zones)));
      r.add_raw_input_contents(LengthPrefixed(times));
    } else {
      for (int32_t z : zones) zone->mutable_contents()->add_int_contents(z);
      for (const auto& s : times) when->mutable_contents()->add_bytes_contents(s);
    }
    auto p = Parse(r);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    ASSERT_TRUE(p->input.is_raw());
    EXPECT_EQ(p->input.rows, 2);
    ASSERT_EQ(p->input.raw.columns.size(), 2u);
    EXPECT_EQ(p->input.raw.columns[0].values[1], RawValue(236.0));
    EXPECT_EQ(p->input.raw.columns[1].values[0], RawValue(std::string("2024-01-05 08:30:00")));
    EXPECT_EQ(p->input.raw.columns[1].values[1], RawValue(std::string()));
  }
}

void ExpectError(const ModelInferRequest& r, StatusCode code, const std::string& words) {
  auto p = Parse(r);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), code) << p.status().ToString();
  EXPECT_NE(p.status().message().find(words), std::string::npos) << p.status().ToString();
}

TEST(KserveGrpcCodecTest, BadInputIsRefusedNamingTheInput) {
  ModelInferRequest base;
  base.set_model_name("eta");
  auto* in = AddInput(&base, "features", "FP32", {1, 3});
  for (float v : {1.f, 2.f, 3.f}) in->mutable_contents()->add_fp32_contents(v);
  ASSERT_TRUE(Parse(base).ok());

  ModelInferRequest r = base;
  r.clear_model_name();
  ExpectError(r, StatusCode::kInvalidArgument, "model_name");
  r = base;
  r.set_model_version("0");
  ExpectError(r, StatusCode::kInvalidArgument, "model_version '0'");
  r = base;
  r.mutable_inputs(0)->set_shape(1, 4);
  ExpectError(r, StatusCode::kInvalidArgument, "input 'features': fp32_contents has 3 elements but shape implies 4");
  r = base;
  r.mutable_inputs(0)->set_datatype("INT32");
  ExpectError(r, StatusCode::kInvalidArgument, "input 'features': datatype INT32 takes its values in int_contents, but fp32_contents holds 3");
  r = base;
  r.mutable_inputs(0)->set_datatype("BOOL");
  ExpectError(r, StatusCode::kInvalidArgument, "BOOL data is not accepted");
  r = base;
  r.mutable_inputs(0)->set_datatype("FP16");
  ExpectError(r, StatusCode::kInvalidArgument, "FP16 is not supported");
  r = base;
  r.mutable_inputs(0)->set_datatype("FLOAT");
  ExpectError(r, StatusCode::kInvalidArgument, "unknown datatype 'FLOAT'");
  r = base;
  r.mutable_inputs(0)->set_shape(0, -1);
  ExpectError(r, StatusCode::kInvalidArgument, "input 'features': shape dimension -1");
  r = base;
  r.mutable_inputs(0)->clear_shape();
  ExpectError(r, StatusCode::kInvalidArgument, "shape is empty");
  r = base;
  r.mutable_inputs(0)->set_shape(0, 101);
  ExpectError(r, StatusCode::kOutOfRange, "input 'features' has more than 100 rows");
  r = base;
  r.mutable_inputs(0)->set_shape(1, int64_t{1} << 31);
  r.mutable_inputs(0)->set_shape(0, 2);
  ExpectError(r, StatusCode::kOutOfRange, "too large");
  r = base;
  *r.add_inputs() = base.inputs(0);
  ExpectError(r, StatusCode::kInvalidArgument, "input 'features' given twice");
  r = base;
  r.clear_inputs();
  ExpectError(r, StatusCode::kInvalidArgument, "'inputs' must not be empty");
  // Raw contents: wrong size, wrong count, both forms, truncated BYTES.
  r = base;
  r.add_raw_input_contents(std::string(12, '\0'));
  ExpectError(r, StatusCode::kInvalidArgument, "both contents and raw_input_contents");
  r.mutable_inputs(0)->clear_contents();
  ASSERT_TRUE(Parse(r).ok());
  r.set_raw_input_contents(0, std::string(13, '\0'));
  ExpectError(r, StatusCode::kInvalidArgument, "input 'features': raw_input_contents has 13 bytes but shape and datatype FP32 imply 12");
  r.add_raw_input_contents("");
  ExpectError(r, StatusCode::kInvalidArgument, "raw_input_contents has 2 entries; it needs one per input (1)");
  ModelInferRequest b;
  b.set_model_name("trip");
  AddInput(&b, "pickup_datetime", "BYTES", {2});
  b.add_raw_input_contents(LengthPrefixed({"abc"}) + std::string("\x09\0\0\0ab", 6));
  ExpectError(b, StatusCode::kInvalidArgument, "input 'pickup_datetime': raw_input_contents element 1 says 9 bytes but 2 remain");
  b.set_raw_input_contents(0, LengthPrefixed({"a", "b", "c"}));
  ExpectError(b, StatusCode::kInvalidArgument, "bytes after the 2 elements");
  b.set_raw_input_contents(0, LengthPrefixed({"a"}) + "\x01");
  ExpectError(b, StatusCode::kInvalidArgument, "ends inside the length of element 1");
  // Integer ranges.
  ModelInferRequest u;
  u.set_model_name("trip");
  AddInput(&u, "pickup_zone", "UINT8", {1})->mutable_contents()->add_uint_contents(300);
  ExpectError(u, StatusCode::kInvalidArgument, "input 'pickup_zone': element 0 (300) is out of range for UINT8");
  // Raw fields of mismatched rows and of the wrong rank.
  ModelInferRequest m;
  m.set_model_name("trip");
  AddInput(&m, "a", "FP32", {2})->mutable_contents()->add_fp32_contents(1);
  m.mutable_inputs(0)->mutable_contents()->add_fp32_contents(2);
  AddInput(&m, "b", "FP32", {1})->mutable_contents()->add_fp32_contents(1);
  ExpectError(m, StatusCode::kInvalidArgument, "input 'b': has 1 rows; input 'a' has 2");
  ModelInferRequest rank;
  rank.set_model_name("trip");
  AddInput(&rank, "a", "BYTES", {1, 2})->mutable_contents()->add_bytes_contents("x");
  rank.mutable_inputs(0)->mutable_contents()->add_bytes_contents("y");
  ExpectError(rank, StatusCode::kInvalidArgument, "raw fields have shape [N] or [N, 1]");
}

TEST(KserveGrpcCodecTest, VersionFieldIsEmptyANumberOrALabel) {
  EXPECT_FALSE(ParseVersionField("", "v")->version.has_value());
  EXPECT_EQ(ParseVersionField("12", "v")->version, 12);
  EXPECT_EQ(ParseVersionField("stable", "v")->label, "stable");
  EXPECT_FALSE(ParseVersionField("0", "v").ok());
  EXPECT_FALSE(ParseVersionField("99999999999999999999", "v").ok());
}

}  // namespace
}  // namespace bimride::serving::grpc
