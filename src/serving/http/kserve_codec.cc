#include "serving/http/kserve_codec.h"

#include <cmath>

#include "common/version.h"
#include "serving/http/json_text.h"
#include "serving/http/request_json.h"

namespace bimride::serving::http {
namespace {

using nlohmann::json;

enum class Kind { kBool, kInt, kUint, kFloat, kBytes, kUnsupported, kUnknown };

Kind KindOf(const std::string& dt) {
  if (dt == "BOOL") return Kind::kBool;
  if (dt == "INT8" || dt == "INT16" || dt == "INT32" || dt == "INT64") return Kind::kInt;
  if (dt == "UINT8" || dt == "UINT16" || dt == "UINT32" || dt == "UINT64") return Kind::kUint;
  if (dt == "FP32" || dt == "FP64") return Kind::kFloat;
  if (dt == "BYTES") return Kind::kBytes;
  if (dt == "FP16" || dt == "BF16") return Kind::kUnsupported;
  return Kind::kUnknown;
}

// Appends the leaves of `data` (flat or nested) checking each against the datatype.
Status CollectLeaves(const json& data, Kind kind, const std::string& what,
                     std::vector<const json*>* out, int depth = 0) {
  if (!data.is_array()) {
    out->push_back(&data);
    return OkStatus();
  }
  if (depth >= 16) return InvalidArgumentError(what + ": data nested too deeply");
  for (const json& x : data) {
    if (x.is_array()) {
      RETURN_IF_ERROR(CollectLeaves(x, kind, what, out, depth + 1));
    } else {
      out->push_back(&x);
    }
  }
  return OkStatus();
}

Status CheckLeaf(const json& v, Kind kind, const std::string& what) {
  switch (kind) {
    case Kind::kInt:
      if (!v.is_number_integer()) return InvalidArgumentError(what + ": data must be integers");
      return OkStatus();
    case Kind::kUint:
      if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0)) {
        return InvalidArgumentError(what + ": data must be non-negative integers");
      }
      return OkStatus();
    case Kind::kFloat:
      if (!v.is_number()) return InvalidArgumentError(what + ": data must be numbers");
      return OkStatus();
    case Kind::kBytes:
      if (!v.is_string()) return InvalidArgumentError(what + ": BYTES data must be strings");
      return OkStatus();
    default:
      return InvalidArgumentError(what + ": unsupported datatype");
  }
}

struct ParsedTensor {
  std::string name;
  Kind kind;
  std::vector<int64_t> shape;
  std::vector<const json*> leaves;
};

StatusOr<ParsedTensor> ParseTensor(const json& t, size_t index, int64_t max_rows) {
  std::string what = "inputs[" + std::to_string(index) + "]";
  if (!t.is_object()) return InvalidArgumentError(what + ": must be an object");
  ParsedTensor p;
  auto name = t.find("name");
  if (name == t.end() || !name->is_string() || name->get<std::string>().empty()) {
    return InvalidArgumentError(what + ": 'name' (a non-empty string) is required");
  }
  p.name = name->get<std::string>();
  what = "input '" + p.name + "'";
  auto dt = t.find("datatype");
  if (dt == t.end() || !dt->is_string()) {
    return InvalidArgumentError(what + ": 'datatype' (a string) is required");
  }
  p.kind = KindOf(dt->get<std::string>());
  if (p.kind == Kind::kUnknown) {
    return InvalidArgumentError(what + ": unknown datatype '" + dt->get<std::string>() + "'");
  }
  if (p.kind == Kind::kBool) {
    // No input of ours is a boolean; true/false taken as 1/0 would pass as zone 1.
    return InvalidArgumentError(what + ": BOOL data is not accepted; send numbers as INT*, "
                                "UINT*, FP32 or FP64, strings as BYTES");
  }
  if (p.kind == Kind::kUnsupported) {
    return InvalidArgumentError(what + ": datatype " + dt->get<std::string>() +
                                " is not supported; send FP32 or FP64");
  }
  auto shape = t.find("shape");
  if (shape == t.end() || !shape->is_array() || shape->empty()) {
    return InvalidArgumentError(what + ": 'shape' (a non-empty array) is required");
  }
  int64_t count = 1;
  for (const json& d : *shape) {
    if (!d.is_number_integer() || d.get<int64_t>() < 0 || d.get<int64_t>() > (int64_t{1} << 31)) {
      return InvalidArgumentError(what + ": 'shape' must hold non-negative integers");
    }
    p.shape.push_back(d.get<int64_t>());
    count *= d.get<int64_t>();
    if (count > (int64_t{1} << 31)) return OutOfRangeError(what + ": tensor too large");
  }
  if (p.shape[0] > max_rows) return TooManyRows(what, max_rows);
  auto data = t.find("data");
  if (data == t.end()) return InvalidArgumentError(what + ": 'data' is required");
  if (auto params = t.find("parameters"); params != t.end() && !params->is_object()) {
    return InvalidArgumentError(what + ": 'parameters' must be an object");
  }
  RETURN_IF_ERROR(CollectLeaves(*data, p.kind, what, &p.leaves));
  if (static_cast<int64_t>(p.leaves.size()) != count) {
    return InvalidArgumentError(what + ": 'data' has " + std::to_string(p.leaves.size()) +
                                " elements but shape implies " + std::to_string(count));
  }
  for (const json* leaf : p.leaves) RETURN_IF_ERROR(CheckLeaf(*leaf, p.kind, what));
  return p;
}

// The rows of a KServe body: each input's shape[0], and the outer elements of its `data` when
// they are arrays (nested data: one per row). Flat data says its rows only with its shape.
class KserveRowScan : public RowLimitScan {
 public:
  using RowLimitScan::RowLimitScan;

 private:
  bool OnValue(const double* number, const std::string* text, bool array) override {
    const std::vector<Frame>& o = open();
    // o[0]: the body; o[1]: "inputs"; o[2]: one input; o[3]: its "shape" or "data".
    if (o.size() < 3 || o[0].key != "inputs" || !o[1].array || o[2].array) return true;
    const int64_t index = o[1].count - 1;
    if (o.size() == 3 && o[2].key == "name" && text != nullptr) {
      names_.resize(static_cast<size_t>(index) + 1);
      names_[static_cast<size_t>(index)] = *text;
    }
    if (o.size() != 4 || !o[3].array) return true;
    if (o[2].key == "shape" && o[3].count == 1 && number != nullptr && *number > max_rows_) {
      return Refuse(Input(index));
    }
    if (o[2].key == "data" && array && o[3].count > max_rows_) {
      return Refuse(Input(index) + ": 'data'");
    }
    return true;
  }
  std::string Input(int64_t index) const {
    if (index < static_cast<int64_t>(names_.size()) && !names_[index].empty()) {
      return "input '" + names_[index] + "'";
    }
    return "inputs[" + std::to_string(index) + "]";
  }
  std::vector<std::string> names_;  // by input index, when seen
};

}  // namespace

RowScan ScanKserveRows(std::string_view body, int64_t max_rows) {
  return KserveRowScan(max_rows).Run(body);
}

StatusOr<KserveInferRequest> ParseKserveInferRequest(std::string_view body, int64_t max_rows) {
  if (body.size() > kScanRowsAbove) RETURN_IF_ERROR(ScanKserveRows(body, max_rows).status);
  ASSIGN_OR_RETURN(json doc, ParseJsonBody(body));
  if (!doc.is_object()) return InvalidArgumentError("request body must be a JSON object");
  KserveInferRequest req;
  if (auto id = doc.find("id"); id != doc.end()) {
    if (!id->is_string()) return InvalidArgumentError("'id' must be a string");
    req.id = id->get<std::string>();
    req.has_id = true;
  }
  if (auto params = doc.find("parameters"); params != doc.end() && !params->is_object()) {
    return InvalidArgumentError("'parameters' must be an object");
  }
  if (auto outs = doc.find("outputs"); outs != doc.end()) {
    if (!outs->is_array()) return InvalidArgumentError("'outputs' must be an array");
    for (const json& o : *outs) {
      if (!o.is_object() || !o.contains("name") || !o["name"].is_string()) {
        return InvalidArgumentError("each of 'outputs' needs a string 'name'");
      }
      req.requested_outputs.push_back(o["name"].get<std::string>());
    }
  }
  auto inputs = doc.find("inputs");
  if (inputs == doc.end() || !inputs->is_array() || inputs->empty()) {
    return InvalidArgumentError("'inputs' must be a non-empty array");
  }
  std::vector<ParsedTensor> tensors;
  for (size_t i = 0; i < inputs->size(); ++i) {
    ASSIGN_OR_RETURN(ParsedTensor t, ParseTensor((*inputs)[i], i, max_rows));
    for (const ParsedTensor& other : tensors) {
      if (other.name == t.name) return InvalidArgumentError("input '" + t.name + "' given twice");
    }
    tensors.push_back(std::move(t));
  }
  // The same assembly as the gRPC codecs (serving/request_tensors.h).
  std::vector<DecodedTensor> decoded;
  decoded.reserve(tensors.size());
  for (ParsedTensor& t : tensors) {
    DecodedTensor d;
    d.name = std::move(t.name);
    d.is_bytes = t.kind == Kind::kBytes;
    d.shape = std::move(t.shape);
    if (d.is_bytes) {
      d.strings.reserve(t.leaves.size());
      for (const json* leaf : t.leaves) d.strings.push_back(leaf->get<std::string>());
    } else {
      d.numbers.reserve(t.leaves.size());
      for (const json* leaf : t.leaves) d.numbers.push_back(leaf->get<double>());
    }
    decoded.push_back(std::move(d));
  }
  ASSIGN_OR_RETURN(req.input, AssembleModelInput(std::move(decoded)));
  return req;
}

StatusOr<std::string> RenderKserveInferResponse(const PredictResult& result,
                                                const KserveInferRequest& request) {
  const std::vector<std::string>& names = result.output_names();
  const size_t outs = names.size();
  ASSIGN_OR_RETURN(const std::vector<size_t> chosen,
                   ChooseOutputs(names, request.requested_outputs, result.model()));
  std::string out;
  out.reserve(96 + result.values.size() * 12);
  out += "{\"model_name\": ";
  AppendJsonString(&out, result.model());
  out += ", \"model_version\": \"";
  AppendInt(&out, result.version());
  out += "\"";
  if (request.has_id) {
    out += ", \"id\": ";
    AppendJsonString(&out, request.id);
  }
  out += ", \"outputs\": [";
  for (size_t i = 0; i < chosen.size(); ++i) {
    size_t o = chosen[i];
    if (i) out += ", ";
    out += "{\"name\": ";
    AppendJsonString(&out, names[o]);
    out += ", \"datatype\": \"FP32\", \"shape\": [";
    AppendInt(&out, result.rows);
    out += "], \"data\": [";
    for (int64_t r = 0; r < result.rows; ++r) {
      if (r) out += ", ";
      AppendFloat(&out, result.values[r * outs + o]);
    }
    out += "]}";
  }
  out += "]}";
  return out;
}

std::string RenderKserveModelMetadata(const ModelDescription& d) {
  const ServableSpec& s = d.spec;
  json versions = json::array();
  for (int64_t v : d.available_versions) versions.push_back(std::to_string(v));
  json inputs = json::array();
  inputs.push_back({{"name", s.input_name}, {"datatype", "FP32"}, {"shape", {-1, s.num_features}}});
  json outputs = json::array();
  for (const std::string& name : s.output_names) {
    outputs.push_back({{"name", name}, {"datatype", "FP32"}, {"shape", {-1}}});
  }
  json doc = {{"name", s.model},
              {"versions", versions},
              {"platform", "bimride_" + s.backend},
              {"inputs", inputs},
              {"outputs", outputs}};
  if (!s.feature_spec.empty()) {
    doc["parameters"] = {{"feature_spec", s.feature_spec}, {"raw_fields", s.raw_fields}};
  }
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string RenderKserveServerMetadata() {
  return std::string("{\"name\": \"bimride\", \"version\": \"") + kVersion +
         "\", \"extensions\": [\"model_repository\"]}";
}

}  // namespace bimride::serving::http
