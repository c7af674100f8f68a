#include "serving/http/tfs_codec.h"

#include "serving/http/json_text.h"
#include "serving/http/request_json.h"
#include "serving/http/tfs_fast_parse.h"

namespace bimride::serving::http {
namespace {

using nlohmann::json;

// Rows given as objects: either {"<input>": [numbers]} (one named numeric input) or raw fields.
// `list` names the rows in messages ("instances", "examples").
Status ParseObjectRows(const json& rows, const std::string& list, ModelInput* input) {
  const json& first = rows[0];
  bool numeric_tensor = first.size() == 1 && first.begin()->is_array();
  if (numeric_tensor) {
    input->tensor_name = first.begin().key();
    for (size_t r = 0; r < rows.size(); ++r) {
      const json& row = rows[r];
      const std::string what = list + "[" + std::to_string(r) + "]";
      if (!row.is_object() || row.size() != 1 || !row.contains(input->tensor_name)) {
        return InvalidArgumentError(what + ": every row must name the same single input '" +
                                    input->tensor_name + "'");
      }
      size_t before = input->values.size();
      RETURN_IF_ERROR(FlattenNumbers(row[input->tensor_name], what + "." + input->tensor_name,
                                     &input->values));
      int64_t width = static_cast<int64_t>(input->values.size() - before);
      if (r == 0) input->width = width;
      if (width != input->width || width == 0) {
        return InvalidArgumentError(what + ": has " + std::to_string(width) + " values; " +
                                    list + "[0] has " + std::to_string(input->width));
      }
    }
    input->rows = static_cast<int64_t>(rows.size());
    return OkStatus();
  }
  // Raw fields: columns in the order of the first row; every row has the same keys.
  for (auto it = first.begin(); it != first.end(); ++it) {
    input->raw.columns.push_back({it.key(), {}});
    input->raw.columns.back().values.reserve(rows.size());
  }
  if (input->raw.columns.empty()) return InvalidArgumentError(list + "[0]: empty object");
  for (size_t r = 0; r < rows.size(); ++r) {
    const json& row = rows[r];
    const std::string what = list + "[" + std::to_string(r) + "]";
    if (!row.is_object() || row.size() != input->raw.columns.size()) {
      return InvalidArgumentError(what + ": every row must have the same fields as " + list +
                                  "[0]");
    }
    for (RawColumn& c : input->raw.columns) {
      auto v = row.find(c.name);
      if (v == row.end()) return InvalidArgumentError(what + ": missing field '" + c.name + "'");
      ASSIGN_OR_RETURN(RawValue value, ToRawValue(*v, what + "." + c.name));
      c.values.push_back(std::move(value));
    }
  }
  input->rows = static_cast<int64_t>(rows.size());
  input->raw.rows = input->rows;
  return OkStatus();
}

Status ParseInstances(const json& instances, int64_t max_rows, ModelInput* input) {
  if (!instances.is_array() || instances.empty()) {
    return InvalidArgumentError("'instances' must be a non-empty array");
  }
  if (static_cast<int64_t>(instances.size()) > max_rows) return TooManyRows("'instances'", max_rows);
  if (instances[0].is_object()) return ParseObjectRows(instances, "instances", input);
  input->values.reserve(instances.size() * (instances[0].is_array() ? instances[0].size() : 1));
  for (size_t r = 0; r < instances.size(); ++r) {
    const std::string what = "instances[" + std::to_string(r) + "]";
    size_t before = input->values.size();
    RETURN_IF_ERROR(FlattenNumbers(instances[r], what, &input->values));
    int64_t width = static_cast<int64_t>(input->values.size() - before);
    if (r == 0) input->width = width;
    if (width != input->width || width == 0) {
      return InvalidArgumentError(what + ": has " + std::to_string(width) +
                                  " values; instances[0] has " + std::to_string(input->width));
    }
  }
  input->rows = static_cast<int64_t>(instances.size());
  return OkStatus();
}

// A numeric column block: [[row], [row]] or [scalar, scalar] (width 1).
Status ParseNumericColumn(const json& v, const std::string& what, int64_t max_rows,
                          ModelInput* input) {
  if (!v.is_array() || v.empty()) return InvalidArgumentError(what + ": must be a non-empty array");
  if (static_cast<int64_t>(v.size()) > max_rows) return TooManyRows(what, max_rows);
  RETURN_IF_ERROR(FlattenNumbers(v, what, &input->values));
  input->rows = static_cast<int64_t>(v.size());
  if (input->values.size() % v.size() != 0) {
    return InvalidArgumentError(what + ": rows have different lengths");
  }
  input->width = static_cast<int64_t>(input->values.size() / v.size());
  // Ragged rows with the right total are still wrong: check each row.
  for (size_t r = 0; r < v.size(); ++r) {
    int64_t n = v[r].is_array() ? 0 : 1;
    if (v[r].is_array()) {
      std::vector<float> tmp;
      RETURN_IF_ERROR(FlattenNumbers(v[r], what, &tmp));
      n = static_cast<int64_t>(tmp.size());
    }
    if (n != input->width) {
      return InvalidArgumentError(what + "[" + std::to_string(r) + "]: has " + std::to_string(n) +
                                  " values; expected " + std::to_string(input->width));
    }
  }
  return OkStatus();
}

Status ParseColumnar(const json& inputs, int64_t max_rows, ModelInput* input) {
  if (inputs.is_array()) return ParseNumericColumn(inputs, "inputs", max_rows, input);
  if (!inputs.is_object() || inputs.empty()) {
    return InvalidArgumentError("'inputs' must be an array or a non-empty object");
  }
  // {"features": [[...], ...]}: the named numeric input.
  if (inputs.size() == 1 && inputs.begin()->is_array() && !inputs.begin()->empty() &&
      inputs.begin()->front().is_array()) {
    input->tensor_name = inputs.begin().key();
    return ParseNumericColumn(*inputs.begin(), "inputs." + input->tensor_name, max_rows, input);
  }
  // Raw fields column-wise: {"pickup_zone": [132, 48], "trip_distance": [2.5, 1.1]}.
  int64_t rows = -1;
  for (auto it = inputs.begin(); it != inputs.end(); ++it) {
    const std::string what = "inputs." + it.key();
    const json& col = *it;
    if (!col.is_array()) return InvalidArgumentError(what + ": must be an array (one per row)");
    if (rows < 0) rows = static_cast<int64_t>(col.size());
    if (static_cast<int64_t>(col.size()) != rows || rows == 0) {
      return InvalidArgumentError(what + ": has " + std::to_string(col.size()) +
                                  " values; other fields have " + std::to_string(rows));
    }
    if (rows > max_rows) return TooManyRows(what, max_rows);
    RawColumn c{it.key(), {}};
    c.values.reserve(col.size());
    for (size_t r = 0; r < col.size(); ++r) {
      ASSIGN_OR_RETURN(RawValue v, ToRawValue(col[r], what + "[" + std::to_string(r) + "]"));
      c.values.push_back(std::move(v));
    }
    input->raw.columns.push_back(std::move(c));
  }
  input->rows = rows;
  input->raw.rows = rows;
  return OkStatus();
}

void AppendStatusObject(std::string* out, const Status& status) {
  *out += "{\"error_code\": ";
  AppendJsonString(out, StatusCodeName(status.code()));
  *out += ", \"error_message\": ";
  AppendJsonString(out, status.message());
  *out += "}";
}

// The rows of a TF Serving body: the elements of the top-level "instances", "examples" or
// "inputs" array, or of each column of an "inputs" object; named as the tree parse names them.
class TfsRowScan : public RowLimitScan {
 public:
  using RowLimitScan::RowLimitScan;

 private:
  bool OnValue(const double*, const std::string*, bool) override {
    const std::vector<Frame>& o = open();
    if (o.size() == 2 && o[1].array && o[1].count > max_rows_) {
      const std::string& list = o[0].key;
      if (list == "instances" || list == "examples") return Refuse("'" + list + "'");
      if (list == "inputs") return Refuse("inputs");
    }
    if (o.size() == 3 && o[0].key == "inputs" && !o[1].array && o[2].array &&
        o[2].count > max_rows_) {
      return Refuse("inputs." + o[1].key);
    }
    return true;
  }
};

}  // namespace

RowScan ScanTfsRows(std::string_view body, int64_t max_rows) {
  return TfsRowScan(max_rows).Run(body);
}

StatusOr<TfsPredictRequest> ParseTfsPredictRequest(std::string_view body, int64_t max_rows) {
  Status refused;
  if (std::optional<TfsPredictRequest> fast = TryParseTfsPredictFast(body, max_rows, &refused)) {
    return std::move(*fast);
  }
  if (!refused.ok()) return refused;
  return ParseTfsPredictRequestGeneral(body, max_rows);
}

StatusOr<TfsPredictRequest> ParseTfsPredictRequestGeneral(std::string_view body,
                                                          int64_t max_rows) {
  if (body.size() > kScanRowsAbove) RETURN_IF_ERROR(ScanTfsRows(body, max_rows).status);
  ASSIGN_OR_RETURN(json doc, ParseJsonBody(body));
  if (!doc.is_object()) return InvalidArgumentError("request body must be a JSON object");
  TfsPredictRequest req;
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const std::string& key = it.key();
    if (key == "signature_name") {
      if (!it->is_string()) return InvalidArgumentError("'signature_name' must be a string");
      req.signature_name = it->get<std::string>();
    } else if (key != "instances" && key != "inputs") {
      return InvalidArgumentError("unknown key '" + key +
                                  "' (expected 'instances' or 'inputs', and 'signature_name')");
    }
  }
  if (!req.signature_name.empty() && req.signature_name != "serving_default") {
    return InvalidArgumentError("unknown signature_name '" + req.signature_name +
                                "'; this model has 'serving_default'");
  }
  bool has_instances = doc.contains("instances");
  bool has_inputs = doc.contains("inputs");
  if (has_instances == has_inputs) {
    return InvalidArgumentError(
        "request must have exactly one of 'instances' (row format) or 'inputs' (columnar)");
  }
  if (has_instances) {
    RETURN_IF_ERROR(ParseInstances(doc["instances"], max_rows, &req.input));
  } else {
    req.columnar = true;
    RETURN_IF_ERROR(ParseColumnar(doc["inputs"], max_rows, &req.input));
  }
  return req;
}

StatusOr<TfsExamplesRequest> ParseTfsExamplesRequest(std::string_view body, int64_t max_rows) {
  if (body.size() > kScanRowsAbove) RETURN_IF_ERROR(ScanTfsRows(body, max_rows).status);
  ASSIGN_OR_RETURN(json doc, ParseJsonBody(body));
  if (!doc.is_object()) return InvalidArgumentError("request body must be a JSON object");
  TfsExamplesRequest req;
  const json* context = nullptr;
  const json* examples = nullptr;
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const std::string& key = it.key();
    if (key == "signature_name") {
      if (!it->is_string()) return InvalidArgumentError("'signature_name' must be a string");
      req.signature_name = it->get<std::string>();
    } else if (key == "context") {
      if (!it->is_object()) return InvalidArgumentError("'context' must be an object");
      context = &*it;
    } else if (key == "examples") {
      examples = &*it;
    } else {
      return InvalidArgumentError("unknown key '" + key +
                                  "' (expected 'examples', and 'context', 'signature_name')");
    }
  }
  if (examples == nullptr || !examples->is_array() || examples->empty()) {
    return InvalidArgumentError("'examples' must be a non-empty array of objects");
  }
  if (static_cast<int64_t>(examples->size()) > max_rows) return TooManyRows("'examples'", max_rows);
  // Each example with the context's features added: then rows as `instances` takes them.
  json rows = json::array();
  for (size_t r = 0; r < examples->size(); ++r) {
    const json& example = (*examples)[r];
    const std::string what = "examples[" + std::to_string(r) + "]";
    if (!example.is_object()) return InvalidArgumentError(what + ": must be an object");
    json merged = example;
    if (context != nullptr) {
      for (auto it = context->begin(); it != context->end(); ++it) {
        if (merged.contains(it.key())) {
          return InvalidArgumentError(what + ": feature '" + it.key() +
                                      "' is also in 'context' (a feature goes in one of them)");
        }
        merged[it.key()] = *it;
      }
    }
    rows.push_back(std::move(merged));
  }
  RETURN_IF_ERROR(ParseObjectRows(rows, "examples", &req.input));
  return req;
}

StatusOr<std::string> RenderTfsRegressResponse(const PredictResult& result,
                                               std::string_view signature_name) {
  ASSIGN_OR_RETURN(std::vector<size_t> chosen,
                   SignatureOutputs(result.servable->spec(), Method::kRegress, signature_name));
  const size_t outs = result.output_names().size();
  std::string out;
  out.reserve(16 + result.rows * 12);
  out += "{\"results\": [";
  for (int64_t r = 0; r < result.rows; ++r) {
    if (r) out += ", ";
    AppendFloat(&out, result.values[r * outs + chosen[0]]);
  }
  out += "]}";
  return out;
}

std::string RenderTfsClassifyResponse(const PredictResult& result) {
  const std::vector<std::string>& labels = result.output_names();
  const size_t outs = labels.size();
  std::string out;
  out.reserve(16 + result.values.size() * 24);
  out += "{\"results\": [";
  for (int64_t r = 0; r < result.rows; ++r) {
    out += r ? ", [" : "[";
    for (size_t o = 0; o < outs; ++o) {
      out += o ? ", [" : "[";
      AppendJsonString(&out, labels[o]);
      out += ", ";
      AppendFloat(&out, result.values[r * outs + o]);
      out += "]";
    }
    out += "]";
  }
  out += "]}";
  return out;
}

std::string RenderTfsPredictResponse(const PredictResult& result, bool columnar) {
  const std::vector<std::string>& names = result.output_names();
  const size_t outs = names.size();
  std::string out;
  out.reserve(32 + result.values.size() * 12);
  if (!columnar) {
    out += "{\"predictions\": [";
    for (int64_t r = 0; r < result.rows; ++r) {
      if (r) out += ", ";
      if (outs == 1) {
        AppendFloat(&out, result.values[r]);
        continue;
      }
      out += "{";
      for (size_t o = 0; o < outs; ++o) {
        if (o) out += ", ";
        AppendJsonString(&out, names[o]);
        out += ": ";
        AppendFloat(&out, result.values[r * outs + o]);
      }
      out += "}";
    }
    out += "]}";
    return out;
  }
  out += "{\"outputs\": ";
  if (outs != 1) out += "{";
  for (size_t o = 0; o < outs; ++o) {
    if (outs != 1) {
      if (o) out += ", ";
      AppendJsonString(&out, names[o]);
      out += ": ";
    }
    out += "[";
    for (int64_t r = 0; r < result.rows; ++r) {
      if (r) out += ", ";
      AppendFloat(&out, result.values[r * outs + o]);
    }
    out += "]";
  }
  if (outs != 1) out += "}";
  out += "}";
  return out;
}

std::string RenderTfsModelStatus(const std::vector<VersionStatus>& versions) {
  std::string out = "{\"model_version_status\": [";
  for (size_t i = 0; i < versions.size(); ++i) {
    const VersionStatus& v = versions[i];
    if (i) out += ", ";
    out += "{\"version\": \"" + std::to_string(v.version) + "\", \"state\": \"";
    out += VersionStateName(v.state);
    out += "\", \"status\": ";
    AppendStatusObject(&out, v.status);
    out += "}";
  }
  out += "]}";
  return out;
}

std::string RenderTfsModelMetadata(const ModelDescription& d) {
  const ServableSpec& s = d.spec;
  json tensor_in = {{"dtype", "DT_FLOAT"},
                    {"tensor_shape",
                     {{"dim", json::array({{{"size", "-1"}, {"name", ""}},
                                           {{"size", std::to_string(s.num_features)},
                                            {"name", ""}}})},
                      {"unknown_rank", false}}},
                    {"name", s.input_name}};
  json outputs = json::object();
  for (const std::string& name : s.output_names) {
    outputs[name] = {{"dtype", "DT_FLOAT"},
                     {"tensor_shape",
                      {{"dim", json::array({{{"size", "-1"}, {"name", ""}}})},
                       {"unknown_rank", false}}},
                     {"name", name}};
  }
  json signatures = {{"serving_default",
                      {{"inputs", {{s.input_name, tensor_in}}},
                       {"outputs", outputs},
                       {"method_name", "tensorflow/serving/predict"}}}};
  // A regressor's outputs can each be asked for by name with :regress (signature.h); list them
  // as TF Serving lists regression signatures: serialized Examples in, one float per example out.
  if (!s.classifier) {
    for (const std::string& name : s.output_names) {
      if (signatures.contains(name)) continue;
      signatures[name] = {
          {"inputs",
           {{"inputs",
             {{"dtype", "DT_STRING"},
              {"tensor_shape", {{"dim", json::array({{{"size", "-1"}, {"name", ""}}})},
                                {"unknown_rank", false}}},
              {"name", "inputs"}}}}},
          {"outputs", {{"outputs", outputs[name]}}},
          {"method_name", "tensorflow/serving/regress"}};
    }
  }
  json doc = {
      {"model_spec",
       {{"name", s.model}, {"signature_name", ""}, {"version", std::to_string(s.version)}}},
      {"metadata", {{"signature_def", {{"signature_def", std::move(signatures)}}}}}};
  // serving_default answers :predict and, by the model's kind, :classify or :regress.
  json methods = json::array({"predict", s.classifier ? "classify" : "regress"});
  json extra = {{"backend", s.backend}, {"task", s.task}, {"labels", d.labels},
                {"available_versions", d.available_versions}, {"methods", methods}};
  if (!s.feature_spec.empty()) {
    extra["feature_spec"] = s.feature_spec;
    extra["raw_fields"] = s.raw_fields;
  }
  doc["bimride"] = extra;
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace bimride::serving::http
