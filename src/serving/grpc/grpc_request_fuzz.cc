// libFuzzer target over the gRPC transport's request conversion: the bytes are a serialized
// inference.ModelInferRequest and a serialized tensorflow.serving.PredictRequest (what a client
// sends on the wire), parsed by protobuf and then converted to the Service's request by our
// codecs. Built only with -DBIMRIDE_FUZZ=ON under clang; run by scripts/fuzz-serving. Any crash,
// sanitizer report or broken invariant is a bug: every message becomes a request or an error.
#include <google/protobuf/stubs/logging.h>

#include <cstddef>
#include <cstdint>

#include "serving/grpc/kserve_grpc_codec.h"
#include "serving/grpc/tfs_grpc_codec.h"

namespace {

void CheckInput(const bimride::serving::ModelInput& in) {
  if (in.rows < 1 || in.rows > 64) __builtin_trap();
  if (!in.is_raw() && static_cast<int64_t>(in.values.size()) != in.rows * in.width) {
    __builtin_trap();
  }
  for (const auto& c : in.raw.columns) {
    if (static_cast<int64_t>(c.values.size()) != in.rows) __builtin_trap();
  }
}

}  // namespace

// Protobuf logs every string field of invalid UTF-8 it refuses to parse: noise here.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bimride::serving;
  inference::ModelInferRequest kserve;
  if (kserve.ParseFromArray(data, static_cast<int>(size))) {
    auto parsed = grpc::ParseModelInferRequest(kserve, 64);
    if (parsed.ok()) {
      CheckInput(parsed->input);
      if (parsed->model.empty()) __builtin_trap();
    } else if (parsed.status().message().empty()) {
      __builtin_trap();
    }
  }
  tensorflow::serving::PredictRequest tfs;
  if (tfs.ParseFromArray(data, static_cast<int>(size))) {
    auto parsed = grpc::ParsePredictRequest(tfs, 64);
    if (parsed.ok()) {
      CheckInput(parsed->input);
      if (parsed->model.empty()) __builtin_trap();
    } else if (parsed.status().message().empty()) {
      __builtin_trap();
    }
  }
  return 0;
}
