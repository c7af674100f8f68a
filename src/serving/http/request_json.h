// Shared pieces of the TF Serving and KServe request parsers: turning JSON values into rows of
// floats or raw-field columns with clear errors. Internal to serving/http.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "serving/feature_adapter.h"

namespace bimride::serving::http {

// double → float without undefined behaviour: beyond float range becomes ±Inf (rejected later).
float ToFloat(double d);

// Appends every number in `v` (a number or arbitrarily nested arrays of numbers) to `out`.
// InvalidArgument naming `what` for strings, objects, booleans or nesting deeper than 16.
Status FlattenNumbers(const nlohmann::json& v, const std::string& what, std::vector<float>* out,
                      int depth = 0);

// A scalar raw field value: number or string. InvalidArgument naming `what` otherwise — true
// and false included: no raw field is a boolean, and one taken as 1/0 would pass as zone 1.
StatusOr<RawValue> ToRawValue(const nlohmann::json& v, const std::string& what);

// Parses JSON text without exceptions; InvalidArgument "malformed JSON: …" on error.
StatusOr<nlohmann::json> ParseJsonBody(std::string_view body);

}  // namespace bimride::serving::http
