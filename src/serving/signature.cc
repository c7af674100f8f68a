#include "serving/signature.h"

namespace bimride::serving {
namespace {

std::string Version(const ServableSpec& spec) {
  return "model '" + spec.model + "' version " + std::to_string(spec.version);
}

std::string OutputList(const ServableSpec& spec) {
  std::string out;
  for (const std::string& name : spec.output_names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

bool IsDefault(std::string_view signature_name) {
  return signature_name.empty() || signature_name == "serving_default";
}

}  // namespace

StatusOr<std::vector<size_t>> SignatureOutputs(const ServableSpec& spec, Method method,
                                               std::string_view signature_name) {
  std::vector<size_t> all(spec.output_names.size());
  for (size_t o = 0; o < all.size(); ++o) all[o] = o;
  switch (method) {
    case Method::kPredict:
      return all;
    case Method::kClassify:
      if (!spec.classifier) {
        return InvalidArgumentError(Version(spec) +
                                    " is a regressor, not a classifier: use ':regress' or "
                                    "':predict'");
      }
      if (!IsDefault(signature_name)) {
        return InvalidArgumentError("unknown signature_name '" + std::string(signature_name) +
                                    "'; :classify takes 'serving_default'");
      }
      return all;
    case Method::kRegress:
      break;
  }
  if (spec.classifier) {
    return InvalidArgumentError(Version(spec) +
                                " is a classifier (its outputs are class scores): use ':classify'");
  }
  if (IsDefault(signature_name)) {
    if (spec.output_names.size() == 1) return all;
    return InvalidArgumentError(
        Version(spec) + " has " + std::to_string(spec.output_names.size()) + " outputs (" +
        OutputList(spec) +
        ") and :regress answers one value per example: name one as \"signature_name\"");
  }
  for (size_t o = 0; o < spec.output_names.size(); ++o) {
    if (spec.output_names[o] == signature_name) return std::vector<size_t>{o};
  }
  return InvalidArgumentError("unknown signature_name '" + std::string(signature_name) + "'; " +
                              Version(spec) + " takes 'serving_default' or an output name (" +
                              OutputList(spec) + ")");
}

}  // namespace bimride::serving
