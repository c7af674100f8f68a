// TF Serving REST codec: parses `:predict` bodies and renders predict, status and metadata
// answers in the shapes TensorFlow Serving's REST API documents.
//
// Predict request: {"signature_name": "serving_default"?, "instances": [...]} (row format) or
// {"inputs": ...} (columnar format). Rows are numbers (width-1 models), arrays of numbers
// (nested arrays are flattened per row), or objects: {"features": [...]} for the named numeric
// input, or raw fields {"pickup_zone": 132, "pickup_datetime": "2024-01-05 08:30:00", …}.
// Columnar: a (nested) array, or an object of name → column.
// Response: {"predictions": [...]} for rows, {"outputs": ...} for columns; one output gives
// plain values, several give objects keyed by output name.
// `:regress` / `:classify`: TF Serving's Example format (below), answered {"results": …}.
//
// Pure functions; thread-safe. Parse errors are InvalidArgument naming the offending part;
// more than `max_rows` rows is OutOfRange.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "serving/http/request_json.h"
#include "serving/service.h"

namespace bimride::serving::http {

struct TfsPredictRequest {
  std::string signature_name;
  bool columnar = false;
  ModelInput input;
  bool operator==(const TfsPredictRequest&) const = default;
};

// Bodies over kScanRowsAbove (request_json.h) have their rows counted first by ScanTfsRows,
// which stops at the first list over the limit: a body of a million rows is refused after
// reading max_rows + 1 of them, with no tree built.
StatusOr<TfsPredictRequest> ParseTfsPredictRequest(std::string_view body, int64_t max_rows);
// The rows of `instances`, `examples`, `inputs` (an array) and each column of an `inputs` object.
RowScan ScanTfsRows(std::string_view body, int64_t max_rows);

// `:classify` and `:regress` request: {"signature_name"?: "…", "context"?: {feature: value},
// "examples": [{feature: value, …}, …]}. The context is merged into every example (a feature in
// both is an error, as TF Serving documents); then each example is a row as in `instances`:
// raw fields, or {"<input>": [numbers]}. More than `max_rows` examples is OutOfRange.
struct TfsExamplesRequest {
  std::string signature_name;
  ModelInput input;
  bool operator==(const TfsExamplesRequest&) const = default;
};
StatusOr<TfsExamplesRequest> ParseTfsExamplesRequest(std::string_view body, int64_t max_rows);
// {"results": [value, …]}: the output `signature_name` selects (serving/signature.h).
StatusOr<std::string> RenderTfsRegressResponse(const PredictResult& result,
                                               std::string_view signature_name);
// {"results": [[["label", score], …], …]}: every class of each example.
std::string RenderTfsClassifyResponse(const PredictResult& result);
std::string RenderTfsPredictResponse(const PredictResult& result, bool columnar);
std::string RenderTfsModelStatus(const std::vector<VersionStatus>& versions);
std::string RenderTfsModelMetadata(const ModelDescription& description);

}  // namespace bimride::serving::http
