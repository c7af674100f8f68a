#include "models/tabular_data.h"

#include <cmath>

namespace bimride::models {

Status ValidateTabularData(const TabularData& data, const std::string& what) {
  if (data.rows <= 0) return InvalidArgumentError(what + ": no rows");
  if (data.num_features <= 0 || data.num_outputs <= 0) {
    return InvalidArgumentError(what + ": num_features and num_outputs must be positive (got " +
                                std::to_string(data.num_features) + ", " +
                                std::to_string(data.num_outputs) + ")");
  }
  if (data.features.size() != static_cast<size_t>(data.rows) * data.num_features) {
    return InvalidArgumentError(what + ": features hold " + std::to_string(data.features.size()) +
                                " values; expected rows × num_features = " +
                                std::to_string(data.rows * data.num_features));
  }
  if (data.targets.size() != static_cast<size_t>(data.rows) * data.num_outputs) {
    return InvalidArgumentError(what + ": targets hold " + std::to_string(data.targets.size()) +
                                " values; expected rows × num_outputs = " +
                                std::to_string(data.rows * data.num_outputs));
  }
  for (size_t i = 0; i < data.targets.size(); ++i) {
    if (!std::isfinite(data.targets[i])) {
      return InvalidArgumentError(what + ": row " + std::to_string(i / data.num_outputs) +
                                  ": target " + std::to_string(i % data.num_outputs) +
                                  " is not finite");
    }
  }
  return OkStatus();
}

}  // namespace bimride::models
