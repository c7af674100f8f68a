#include "serving/request_tensors.h"

#include <limits>
#include <utility>

#include "serving/feature_adapter.h"

namespace bimride::serving {

std::string InputName(std::string_view name) { return "input '" + std::string(name) + "'"; }

float ToFloat(double d) {
  constexpr double kMax = 3.4028234663852886e38;
  if (d > kMax) return std::numeric_limits<float>::infinity();
  if (d < -kMax) return -std::numeric_limits<float>::infinity();
  return static_cast<float>(d);
}

StatusOr<int64_t> CheckShape(const std::vector<int64_t>& shape, const std::string& what,
                             int64_t max_rows) {
  if (shape.empty()) {
    return InvalidArgumentError(what + ": shape is empty (a scalar); send shape [N] or [N, W]");
  }
  int64_t count = 1;
  for (int64_t d : shape) {
    if (d < 0 || d > kMaxTensorElements) {
      return InvalidArgumentError(what + ": shape dimension " + std::to_string(d) +
                                  " is not in 0.." + std::to_string(kMaxTensorElements));
    }
    count *= d;
    if (count > kMaxTensorElements) return OutOfRangeError(what + ": tensor too large");
  }
  if (shape[0] > max_rows) {
    return OutOfRangeError(what + " has more than " + std::to_string(max_rows) +
                           " rows; the limit is " + std::to_string(max_rows));
  }
  return count;
}

StatusOr<ModelInput> AssembleModelInput(std::vector<DecodedTensor> tensors) {
  if (tensors.empty()) return InvalidArgumentError("the request has no inputs");
  ModelInput in;
  const DecodedTensor& t0 = tensors[0];
  if (tensors.size() == 1 && !t0.is_bytes && (t0.shape.size() >= 2 || t0.name == "features")) {
    // The feature tensor: [N, W…] → N rows of prod(W…) values.
    in.tensor_name = t0.name;
    in.rows = t0.shape[0];
    if (in.rows == 0) return InvalidArgumentError(InputName(t0.name) + ": has no rows");
    in.width = static_cast<int64_t>(t0.numbers.size()) / in.rows;
    in.values.reserve(t0.numbers.size());
    for (double v : t0.numbers) in.values.push_back(ToFloat(v));
    return in;
  }
  // Raw fields: one tensor per field, shape [N] or [N, 1].
  for (DecodedTensor& t : tensors) {
    if (t.shape.size() > 2 || (t.shape.size() == 2 && t.shape[1] != 1)) {
      return InvalidArgumentError(InputName(t.name) + ": raw fields have shape [N] or [N, 1]" +
                                  (tensors.size() == 1 ? "; a feature tensor has shape [N, W]"
                                                       : ""));
    }
    if (t.shape[0] != t0.shape[0]) {
      return InvalidArgumentError(InputName(t.name) + ": has " + std::to_string(t.shape[0]) +
                                  " rows; " + InputName(t0.name) + " has " +
                                  std::to_string(t0.shape[0]));
    }
    RawColumn c{t.name, {}};
    if (t.is_bytes) {
      c.values.reserve(t.strings.size());
      for (std::string& s : t.strings) c.values.emplace_back(std::move(s));
    } else {
      c.values.reserve(t.numbers.size());
      for (double v : t.numbers) c.values.emplace_back(v);
    }
    in.raw.columns.push_back(std::move(c));
  }
  in.rows = t0.shape[0];
  in.raw.rows = in.rows;
  if (in.rows == 0) return InvalidArgumentError("inputs have no rows");
  return in;
}

StatusOr<std::vector<size_t>> ChooseOutputs(const std::vector<std::string>& names,
                                            const std::vector<std::string>& requested,
                                            const std::string& model) {
  std::vector<size_t> chosen;
  if (requested.empty()) {
    for (size_t o = 0; o < names.size(); ++o) chosen.push_back(o);
    return chosen;
  }
  for (const std::string& want : requested) {
    size_t o = 0;
    while (o < names.size() && names[o] != want) ++o;
    if (o == names.size()) {
      return NotFoundError("model '" + model + "' has no output '" + want + "'");
    }
    chosen.push_back(o);
  }
  return chosen;
}

}  // namespace bimride::serving
