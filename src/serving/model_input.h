// ModelInput: a request's inputs before they meet a model version, and ComputeFeatures, which
// turns them into that version's feature matrix. The Service computes the primary's features
// with it; the ShadowQueue computes each shadow's own, from the same request, with the shadow
// version's feature adapter (its own context files) and width.
// Plain values and a pure function: safe from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "monitoring/prediction_log.h"
#include "serving/feature_adapter.h"
#include "serving/servable.h"

namespace bimride::serving {

// A request's inputs before they meet a model: either a numeric rows × width matrix, or raw
// fields column-wise (computed into features by the manifest's feature spec).
struct ModelInput {
  std::string tensor_name;  // numeric input's name as sent ("" when unnamed)
  int64_t rows = 0;
  int64_t width = -1;
  std::vector<float> values;
  RawBatch raw;
  bool is_raw() const { return !raw.columns.empty(); }
  bool operator==(const ModelInput&) const = default;
};

// Features of `input` for `servable`: rows × servable.model().num_features() floats. Numeric
// rows are checked against the version's input name and width and for NaN/Inf; raw fields go
// through the version's feature adapter. Consumes `input` (its values are moved out; copy it
// first to compute features for another version). Errors: InvalidArgument (shape, dtype,
// NaN/Inf, missing raw field, no rows), OutOfRange (more than `max_batch_rows` rows), Internal
// (an adapter that produced the wrong number of values).
StatusOr<std::vector<float>> ComputeFeatures(const Servable& servable, ModelInput& input,
                                             int64_t max_batch_rows);

// Each raw row as a JSON object text ({"pickup_zone": 74, …}), for the prediction log; empty
// for a numeric input.
std::vector<std::string> RawRowsAsJson(const RawBatch& raw);
// The same texts appended to `text`, each row's end in `text` pushed to `ends` (a Parquet
// byte-array column's layout: the log's writer renders straight into its column).
void AppendRawRowsJson(const RawBatch& raw, std::string* text, std::vector<int64_t>* ends);
// The raw fields handed to the prediction log as they are (moved, not rendered): its writer
// thread renders them with AppendRawRowsJson. Null for a numeric input.
std::shared_ptr<const monitoring::RawRows> RawRowsForLog(RawBatch raw);
// A version's feature and output names for the prediction log: its lists, shared (no copy per
// request; they do not keep the servable loaded).
monitoring::ColumnNames LogFeatureNames(const std::shared_ptr<const Servable>& servable);
monitoring::ColumnNames LogOutputNames(const std::shared_ptr<const Servable>& servable);

// Whether a request is a preview: it has a raw field `preview` equal to 1 on every row (the
// console's surge map asks what a quote would get without fixing anything, docs/pricing.md).
// A preview is answered like any request but is not traffic: the Service does not log it (no
// prediction log row, so the live monitor, drift and label joins never see it), mirrors it to
// no shadow, and counts it in bimride_preview_requests_total instead of the version's request
// counters and latency histograms. A request with some rows 0 is an ordinary request, logged
// whole.
bool IsPreview(const ModelInput& input);

// "model 'eta' version 3", for messages.
std::string VersionName(const Servable& servable);

}  // namespace bimride::serving
