// What every tensor codec shares — KServe v2 over REST (serving/http/kserve_codec.h) and gRPC
// (ModelInferRequest), TF Serving's gRPC PredictRequest: a request's tensors once decoded from
// their wire form, how a list of them becomes a ModelInput, and which of a model's outputs an
// answer carries. The rule for inputs:
//
//   - one numeric tensor of rank >= 2 (or named "features") is the model's feature tensor:
//     [N, W…] → N rows of prod(W…) values;
//   - otherwise every tensor is one raw field of shape [N] or [N, 1] (strings as BYTES /
//     DT_STRING), all with the same N, which the version's feature adapter turns into features.
//
// Pure functions; thread-safe. Errors are InvalidArgument naming the input; more rows than
// `max_rows` is OutOfRange (in the REST API's words).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "serving/model_input.h"

namespace bimride::serving {

// Elements in one tensor at most (2^31), as the REST API allows.
inline constexpr int64_t kMaxTensorElements = int64_t{1} << 31;

struct DecodedTensor {
  std::string name;
  bool is_bytes = false;         // strings (BYTES, DT_STRING) in `strings`, else `numbers`
  std::vector<int64_t> shape;    // rank >= 1
  std::vector<double> numbers;   // row-major, prod(shape) of them
  std::vector<std::string> strings;
};

// "input 'name'", for messages.
std::string InputName(std::string_view name);

// Checks a shape (rank >= 1, dims >= 0, at most kMaxTensorElements elements, shape[0] <=
// max_rows) and returns its element count. `what` names the input.
StatusOr<int64_t> CheckShape(const std::vector<int64_t>& shape, const std::string& what,
                             int64_t max_rows);

// The tensors (already checked: each holds prod(shape) values, names unique) as a ModelInput.
StatusOr<ModelInput> AssembleModelInput(std::vector<DecodedTensor> tensors);

// double → float without undefined behaviour: beyond float range becomes ±Inf (which
// ComputeFeatures refuses, naming the input).
float ToFloat(double d);

// The indices into `names` (a model's outputs) of the `requested` outputs, in the order asked;
// every output when none is requested. NotFound "model '<model>' has no output '<name>'".
StatusOr<std::vector<size_t>> ChooseOutputs(const std::vector<std::string>& names,
                                            const std::vector<std::string>& requested,
                                            const std::string& model);

}  // namespace bimride::serving
