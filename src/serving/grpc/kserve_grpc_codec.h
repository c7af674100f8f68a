// KServe v2 gRPC codec: inference.ModelInferRequest → the Service's request, and the answers
// (ModelInferResponse, ModelMetadataResponse, ServerMetadataResponse) from the Service's. The
// same rules as the REST codec (serving/http/kserve_codec.h), on protobuf messages:
//
//   - model_name is required; model_version is "" (the default route: the "stable" label, else
//     the latest version), a positive version number, or a label name ("stable", "canary": the
//     REST API's /labels/{l}; gRPC has no path to carry it).
//   - inputs: datatypes UINT8/16/32/64, INT8/16/32/64, FP32, FP64, BYTES. BOOL, FP16 and BF16
//     are refused as the REST API refuses them. Values come either in each input's typed
//     `contents` (the field of its datatype, exactly prod(shape) values; a value in another
//     field is a datatype mismatch), or in `raw_input_contents` — one entry per input, little-
//     endian, BYTES as 4-byte little-endian lengths each followed by the bytes — never both.
//   - the answer's outputs are FP32 of shape [N]: in `raw_output_contents` when the request
//     sent raw_input_contents (what Triton's clients read), in typed `contents` otherwise.
//
// Pure functions; thread-safe. Errors are InvalidArgument naming the input (NotFound for an
// unknown requested output, OutOfRange beyond `max_rows` rows).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "grpc_predict_v2.pb.h"
#include "serving/service.h"

namespace bimride::serving::grpc {

struct KserveGrpcRequest {
  std::string model;
  VersionSelector selector;
  std::string id;
  std::vector<std::string> requested_outputs;  // empty: all
  bool raw_output = false;  // answer in raw_output_contents
  ModelInput input;
};

// "" → the default route; digits → that version (> 0); otherwise a label. `what` names the
// field in messages.
StatusOr<VersionSelector> ParseVersionField(const std::string& version, const std::string& what);

StatusOr<KserveGrpcRequest> ParseModelInferRequest(const inference::ModelInferRequest& request,
                                                   int64_t max_rows);
Status RenderModelInferResponse(const PredictResult& result, const KserveGrpcRequest& request,
                                inference::ModelInferResponse* response);
void RenderModelMetadata(const ModelDescription& description,
                         inference::ModelMetadataResponse* response);
void RenderServerMetadata(inference::ServerMetadataResponse* response);

}  // namespace bimride::serving::grpc
