#include "serving/model_input.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

namespace bimride::serving {

std::string VersionName(const Servable& s) {
  return "model '" + s.spec().model + "' version " + std::to_string(s.spec().version);
}

StatusOr<std::vector<float>> ComputeFeatures(const Servable& servable, ModelInput& input,
                                             int64_t max_batch_rows) {
  const ServableSpec& spec = servable.spec();
  const int width = servable.model().num_features();
  if (input.rows <= 0) return InvalidArgumentError("request has no rows");
  if (input.rows > max_batch_rows) {
    return OutOfRangeError("request has " + std::to_string(input.rows) + " rows; the limit is " +
                           std::to_string(max_batch_rows));
  }
  // A single numeric column named like the model's input is a width-1 tensor, not raw fields.
  if (input.is_raw() && spec.feature_spec.empty() && input.raw.columns.size() == 1 &&
      input.raw.columns[0].name == spec.input_name) {
    RawColumn& c = input.raw.columns[0];
    std::vector<float> values;
    for (const RawValue& v : c.values) {
      const double* d = std::get_if<double>(&v);
      if (d == nullptr) {
        return InvalidArgumentError("input '" + c.name + "' must be numeric");
      }
      values.push_back(static_cast<float>(*d));
    }
    input.tensor_name = c.name;
    input.values = std::move(values);
    input.width = 1;
    input.raw.columns.clear();
  }
  if (input.is_raw()) {
    if (spec.feature_spec.empty()) {
      return InvalidArgumentError(VersionName(servable) + " takes a numeric input '" +
                                  spec.input_name + "' of " + std::to_string(width) +
                                  " values per row; it has no feature spec for raw fields");
    }
    for (const std::string& field : spec.raw_fields) {
      if (input.raw.Find(field) == nullptr && !IsOptionalRawField(spec.feature_spec, field)) {
        return InvalidArgumentError("missing raw field '" + field + "' (feature spec '" +
                                    spec.feature_spec + "' of " + VersionName(servable) + ")");
      }
    }
    for (const RawColumn& c : input.raw.columns) {
      if (static_cast<int64_t>(c.values.size()) != input.rows) {
        return InvalidArgumentError("raw field '" + c.name + "' has " +
                                    std::to_string(c.values.size()) + " values, expected " +
                                    std::to_string(input.rows));
      }
      for (size_t r = 0; r < c.values.size(); ++r) {
        if (const double* d = std::get_if<double>(&c.values[r]); d && !std::isfinite(*d)) {
          return InvalidArgumentError("raw field '" + c.name + "' row " + std::to_string(r) +
                                      ": NaN/Inf is not allowed");
        }
      }
    }
    input.raw.rows = input.rows;
    const FeatureAdapter* adapter = servable.feature_adapter();
    if (adapter == nullptr) {
      return InternalError(VersionName(servable) + " has feature spec '" + spec.feature_spec +
                           "' but no feature adapter");
    }
    ASSIGN_OR_RETURN(std::vector<float> features, (*adapter)(input.raw, width));
    if (static_cast<int64_t>(features.size()) != input.rows * width) {
      return InternalError("feature spec '" + spec.feature_spec + "' produced " +
                           std::to_string(features.size()) + " values for " +
                           std::to_string(input.rows) + " rows of width " + std::to_string(width));
    }
    return features;
  }
  if (!input.tensor_name.empty() && input.tensor_name != spec.input_name) {
    return InvalidArgumentError("unknown input '" + input.tensor_name + "'; " +
                                VersionName(servable) + " takes '" + spec.input_name + "'" +
                                (spec.feature_spec.empty() ? "" : " or raw fields"));
  }
  if (input.width != width) {
    return InvalidArgumentError("input '" + spec.input_name + "' has " +
                                std::to_string(input.width) + " values per row; " +
                                VersionName(servable) + " expects " + std::to_string(width));
  }
  for (size_t i = 0; i < input.values.size(); ++i) {
    if (!std::isfinite(input.values[i])) {
      return InvalidArgumentError(
          "input '" + spec.input_name + "' row " + std::to_string(i / width) + " column " +
          std::to_string(i % width) + ": NaN/Inf (or a value beyond float range) is not allowed");
    }
  }
  return std::move(input.values);
}

namespace {

// `text` as a JSON string, as nlohmann::json's dump renders it (ensure_ascii off, invalid UTF-8
// replaced): printable ASCII without quotes or backslashes as it is, anything else through
// nlohmann itself.
void AppendJsonString(std::string_view text, std::string* out) {
  const bool plain = std::all_of(text.begin(), text.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
  });
  if (plain) {
    out->push_back('"');
    out->append(text);
    out->push_back('"');
    return;
  }
  *out += nlohmann::json(std::string(text)).dump(-1, ' ', false,
                                                 nlohmann::json::error_handler_t::replace);
}

// A number as nlohmann::json's dump renders a double: its shortest round-trip digits (the same
// Grisu2 routine), ".0" on whole numbers, null for NaN and infinities.
void AppendJsonNumber(double value, std::string* out) {
  if (!std::isfinite(value)) {
    *out += "null";
    return;
  }
  std::array<char, 64> buffer;
  const char* end = nlohmann::detail::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  out->append(buffer.data(), static_cast<size_t>(end - buffer.data()));
}

}  // namespace

void AppendRawRowsJson(const RawBatch& raw, std::string* text, std::vector<int64_t>* ends) {
  if (raw.columns.empty()) return;
  // The text nlohmann::json gives for an object of these fields, without building one per row:
  // keys in its (std::map) order, and of a repeated name the last column.
  std::vector<size_t> order(raw.columns.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto by_name = [&](size_t a, size_t b) { return raw.columns[a].name < raw.columns[b].name; };
  // Requests parsed by nlohmann come sorted already.
  if (!std::is_sorted(order.begin(), order.end(), by_name)) {
    std::stable_sort(order.begin(), order.end(), by_name);
  }
  // Of a repeated name, the last column only.
  std::vector<size_t> shown;
  shown.reserve(order.size());
  for (size_t k = 0; k < order.size(); ++k) {
    if (k + 1 < order.size() && raw.columns[order[k + 1]].name == raw.columns[order[k]].name) {
      continue;
    }
    shown.push_back(order[k]);
  }
  for (int64_t r = 0; r < raw.rows; ++r) {
    char open = '{';
    for (size_t k : shown) {
      const RawColumn& c = raw.columns[k];
      text->push_back(open);
      open = ',';
      AppendJsonString(c.name, text);
      text->push_back(':');
      const RawValue& v = c.values[r];
      if (const double* d = std::get_if<double>(&v)) {
        AppendJsonNumber(*d, text);
      } else {
        AppendJsonString(std::get<std::string>(v), text);
      }
    }
    text->push_back('}');
    ends->push_back(static_cast<int64_t>(text->size()));
  }
}

std::vector<std::string> RawRowsAsJson(const RawBatch& raw) {
  std::string text;
  std::vector<int64_t> ends;
  AppendRawRowsJson(raw, &text, &ends);
  std::vector<std::string> rows;
  rows.reserve(ends.size());
  int64_t begin = 0;
  for (int64_t end : ends) {
    rows.push_back(text.substr(static_cast<size_t>(begin), static_cast<size_t>(end - begin)));
    begin = end;
  }
  return rows;
}

bool IsPreview(const ModelInput& input) {
  const RawColumn* c = input.raw.Find("preview");
  if (c == nullptr || c->values.empty()) return false;
  for (const RawValue& v : c->values) {
    const double* d = std::get_if<double>(&v);
    if (d == nullptr || *d != 1.0) return false;
  }
  return true;
}

namespace {

class RawBatchRows : public monitoring::RawRows {
 public:
  explicit RawBatchRows(RawBatch raw) : raw_(std::move(raw)) {}
  void AppendJson(std::string* text, std::vector<int64_t>* ends) const override {
    AppendRawRowsJson(raw_, text, ends);
  }

 private:
  RawBatch raw_;
};

}  // namespace

std::shared_ptr<const monitoring::RawRows> RawRowsForLog(RawBatch raw) {
  if (raw.columns.empty()) return nullptr;
  return std::make_shared<const RawBatchRows>(std::move(raw));
}

monitoring::ColumnNames LogFeatureNames(const std::shared_ptr<const Servable>& servable) {
  return monitoring::ColumnNames(servable->shared_feature_names());
}

monitoring::ColumnNames LogOutputNames(const std::shared_ptr<const Servable>& servable) {
  return monitoring::ColumnNames(servable->shared_output_names());
}

}  // namespace bimride::serving
