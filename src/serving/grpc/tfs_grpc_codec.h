// TF Serving gRPC codec: tensorflow.serving.PredictRequest → the Service's request, and the
// PredictResponse / GetModelMetadataResponse answers. The same rules as the REST codec
// (serving/http/tfs_codec.h) on TensorProto inputs:
//
//   - model_spec.name is required; model_spec.version (Int64Value) picks a version,
//     model_spec.version_label a label; neither: the default route ("stable", else latest).
//   - inputs: one numeric tensor of rank >= 2 is the feature tensor [N, W]; otherwise each
//     input is a raw field of shape [N] or [N, 1] (DT_STRING for strings), as
//     serving/request_tensors.h says. dtypes DT_FLOAT, DT_DOUBLE, DT_INT8/16/32/64,
//     DT_UINT8/16/32/64, DT_STRING; values in the dtype's *_val field (exactly prod(shape) of
//     them; a value in another field is a dtype mismatch) or in tensor_content (little-endian,
//     exactly prod(shape) × the element size). DT_BOOL and DT_HALF/DT_BFLOAT16 are refused.
//   - outputs: every output of the version (or those in output_filter) as DT_FLOAT [N] in
//     float_val, keyed by output name; model_spec names the version that answered.
//
// Pure functions; thread-safe. Errors are InvalidArgument naming the input (an unknown
// output_filter name too, as TF Serving answers), OutOfRange beyond `max_rows` rows.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "serving/service.h"
#include "tensorflow_serving/apis/get_model_metadata.pb.h"
#include "tensorflow_serving/apis/predict.pb.h"

namespace bimride::serving::grpc {

struct TfsGrpcRequest {
  std::string model;
  VersionSelector selector;
  std::string signature_name;
  std::vector<std::string> output_filter;  // empty: all
  ModelInput input;
};

// The version choice of a ModelSpec. InvalidArgument for an empty name or a version <= 0.
Status ParseModelSpec(const tensorflow::serving::ModelSpec& spec, std::string* model,
                      VersionSelector* selector);

StatusOr<TfsGrpcRequest> ParsePredictRequest(const tensorflow::serving::PredictRequest& request,
                                             int64_t max_rows);
Status RenderPredictResponse(const PredictResult& result, const TfsGrpcRequest& request,
                             tensorflow::serving::PredictResponse* response);
// metadata_field must name "signature_def" (the only field TF Serving defines); the answer packs
// a SignatureDefMap with "serving_default" as the REST metadata endpoint describes it.
Status RenderModelMetadata(const ModelDescription& description,
                           const tensorflow::serving::GetModelMetadataRequest& request,
                           tensorflow::serving::GetModelMetadataResponse* response);

}  // namespace bimride::serving::grpc
