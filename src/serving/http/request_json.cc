#include "serving/http/request_json.h"

#include <limits>

namespace bimride::serving::http {

using nlohmann::json;

Status FlattenNumbers(const json& v, const std::string& what, std::vector<float>* out,
                      int depth) {
  if (v.is_number()) {
    out->push_back(ToFloat(v.get<double>()));
    return OkStatus();
  }
  if (!v.is_array()) {
    return InvalidArgumentError(what + ": expected numbers, got " + std::string(v.type_name()));
  }
  if (depth >= 16) return InvalidArgumentError(what + ": arrays nested too deeply");
  for (const json& x : v) {
    if (x.is_number()) {
      out->push_back(ToFloat(x.get<double>()));
    } else {
      RETURN_IF_ERROR(FlattenNumbers(x, what, out, depth + 1));
    }
  }
  return OkStatus();
}

StatusOr<RawValue> ToRawValue(const json& v, const std::string& what) {
  if (v.is_number()) return RawValue(v.get<double>());
  if (v.is_string()) return RawValue(v.get<std::string>());
  return InvalidArgumentError(what + ": expected a number or a string, got " +
                              std::string(v.type_name()));
}

StatusOr<json> ParseJsonBody(std::string_view body) {
  json doc = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    // Re-parse with exceptions only to get the position for the message (error path only).
    try {
      json ignored = json::parse(body.begin(), body.end());
    } catch (const json::exception& e) {
      return InvalidArgumentError(std::string("malformed JSON: ") + e.what());
    }
    return InvalidArgumentError("malformed JSON");
  }
  return doc;
}

Status TooManyRows(const std::string& list, int64_t max_rows) {
  return OutOfRangeError(list + " has more than " + std::to_string(max_rows) +
                         " rows; the limit is " + std::to_string(max_rows));
}

RowScan RowLimitScan::Run(std::string_view body) {
  json::sax_parse(body, this);
  return {status_, values_read_};
}

bool RowLimitScan::Value(const double* number, const std::string* text, bool array) {
  ++values_read_;
  if (!open_.empty() && open_.back().array) ++open_.back().count;
  return OnValue(number, text, array);
}

bool RowLimitScan::start_object(std::size_t) {
  if (!Value(nullptr, nullptr, false)) return false;
  open_.push_back({});
  return true;
}

bool RowLimitScan::key(string_t& k) {
  open_.back().key = k;
  return true;
}

bool RowLimitScan::end_object() {
  open_.pop_back();
  return true;
}

bool RowLimitScan::start_array(std::size_t) {
  if (!Value(nullptr, nullptr, true)) return false;
  open_.push_back({true, "", 0});
  return true;
}

bool RowLimitScan::end_array() {
  open_.pop_back();
  return true;
}

}  // namespace bimride::serving::http
