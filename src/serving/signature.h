// Signatures: which outputs of a model version answer TF Serving's `:regress` and `:classify`
// (and `:predict`, which answers with all of them). A version is a regressor unless its manifest
// says `"properties": {"serving_method": "classify"}`; then each output column is the score of
// one class, and the output's name is the class label.
//
//   :regress   one value per example. signature_name "" or "serving_default": the version's
//              only output (a version of several outputs, like demand's horizons, must name
//              one: "signature_name": "demand_h1"). A classifier is refused.
//   :classify  every output as [label, score] per example. signature_name "" or
//              "serving_default". A regressor is refused.
//
// Pure functions of the version's spec; thread-safe. Errors are InvalidArgument naming the
// version, what it is, and what to send instead.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "serving/servable_spec.h"

namespace bimride::serving {

enum class Method { kPredict, kRegress, kClassify };

// The manifest property that makes a version a classifier, and its value.
inline constexpr char kServingMethodProperty[] = "serving_method";
inline constexpr char kClassifyMethod[] = "classify";

// The output columns (indices into spec.output_names) that answer `method` with
// `signature_name` on this version, in order; every column for kPredict.
StatusOr<std::vector<size_t>> SignatureOutputs(const ServableSpec& spec, Method method,
                                               std::string_view signature_name);

}  // namespace bimride::serving
