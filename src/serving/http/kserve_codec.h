// KServe v2 (Open Inference Protocol, as Triton speaks it) REST codec.
//
// Infer request: {"id"?: "…", "parameters"?: {…}, "inputs": [{"name", "shape", "datatype",
// "data", "parameters"?}], "outputs"?: [{"name"}]}. One numeric input of shape [N, …] is the
// model's feature tensor; several inputs of shape [N] or [N, 1] are raw fields (one per field,
// BYTES for strings). `data` may be flat or nested; its element count must match `shape`.
// Datatypes: UINT8/16/32/64, INT8/16/32/64, FP32, FP64, BYTES (BOOL, FP16 and BF16 are refused:
// no input of ours is a boolean, and true/false taken as 1/0 would pass as zone 1).
// Response: {"model_name", "model_version", "id"?, "outputs": [{"name", "shape": [N],
// "datatype": "FP32", "data"}]}.
//
// Pure functions; thread-safe. Errors are InvalidArgument naming the input; more than
// `max_rows` rows is OutOfRange.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "serving/http/request_json.h"
#include "serving/service.h"

namespace bimride::serving::http {

struct KserveInferRequest {
  std::string id;
  bool has_id = false;
  std::vector<std::string> requested_outputs;  // empty: all
  ModelInput input;
};

// Bodies over kScanRowsAbove (request_json.h) are first scanned by ScanKserveRows, which stops
// at the first input whose shape[0] (or nested data) has more rows than the limit.
StatusOr<KserveInferRequest> ParseKserveInferRequest(std::string_view body, int64_t max_rows);
RowScan ScanKserveRows(std::string_view body, int64_t max_rows);
// NotFound when a requested output does not exist.
StatusOr<std::string> RenderKserveInferResponse(const PredictResult& result,
                                                const KserveInferRequest& request);
std::string RenderKserveModelMetadata(const ModelDescription& description);
std::string RenderKserveServerMetadata();

}  // namespace bimride::serving::http
