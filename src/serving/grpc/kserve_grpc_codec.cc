#include "serving/grpc/kserve_grpc_codec.h"

#include <cstring>
#include <limits>
#include <type_traits>

#include "common/version.h"
#include "serving/request_tensors.h"

namespace bimride::serving::grpc {
namespace {

enum class Kind { kInt, kUint, kFloat, kBytes };

struct Datatype {
  Kind kind;
  int bytes;  // element size in raw_input_contents (0: BYTES)
  double min, max;
};

StatusOr<Datatype> DatatypeOf(const std::string& dt, const std::string& what) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  if (dt == "INT8") return Datatype{Kind::kInt, 1, -128, 127};
  if (dt == "INT16") return Datatype{Kind::kInt, 2, -32768, 32767};
  if (dt == "INT32") return Datatype{Kind::kInt, 4, -2147483648.0, 2147483647.0};
  if (dt == "INT64") return Datatype{Kind::kInt, 8, -kInf, kInf};
  if (dt == "UINT8") return Datatype{Kind::kUint, 1, 0, 255};
  if (dt == "UINT16") return Datatype{Kind::kUint, 2, 0, 65535};
  if (dt == "UINT32") return Datatype{Kind::kUint, 4, 0, 4294967295.0};
  if (dt == "UINT64") return Datatype{Kind::kUint, 8, 0, kInf};
  if (dt == "FP32") return Datatype{Kind::kFloat, 4, -kInf, kInf};
  if (dt == "FP64") return Datatype{Kind::kFloat, 8, -kInf, kInf};
  if (dt == "BYTES") return Datatype{Kind::kBytes, 0, 0, 0};
  if (dt == "BOOL") {
    // No input of ours is a boolean; true/false taken as 1/0 would pass as zone 1.
    return InvalidArgumentError(what + ": BOOL data is not accepted; send numbers as INT*, "
                                "UINT*, FP32 or FP64, strings as BYTES");
  }
  if (dt == "FP16" || dt == "BF16") {
    return InvalidArgumentError(what + ": datatype " + dt + " is not supported; send FP32 or FP64");
  }
  if (dt.empty()) return InvalidArgumentError(what + ": 'datatype' is required");
  return InvalidArgumentError(what + ": unknown datatype '" + dt + "'");
}

// The typed contents field a datatype must use, and how many values each field holds.
const char* FieldFor(const std::string& dt) {
  if (dt == "INT8" || dt == "INT16" || dt == "INT32") return "int_contents";
  if (dt == "INT64") return "int64_contents";
  if (dt == "UINT8" || dt == "UINT16" || dt == "UINT32") return "uint_contents";
  if (dt == "UINT64") return "uint64_contents";
  if (dt == "FP32") return "fp32_contents";
  if (dt == "FP64") return "fp64_contents";
  return "bytes_contents";
}

struct FieldCount {
  const char* name;
  int count;
};

template <typename T>
void AppendNumbers(const google::protobuf::RepeatedField<T>& values, std::vector<double>* out) {
  out->reserve(values.size());
  for (T v : values) out->push_back(static_cast<double>(v));
}

Status CheckRange(const std::vector<double>& values, const Datatype& d, const std::string& dt,
                  const std::string& what) {
  if (d.kind == Kind::kFloat) return OkStatus();
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i] < d.min || values[i] > d.max) {
      return InvalidArgumentError(what + ": element " + std::to_string(i) + " (" +
                                  std::to_string(static_cast<long long>(values[i])) +
                                  ") is out of range for " + dt);
    }
  }
  return OkStatus();
}

Status DecodeContents(const inference::ModelInferRequest::InferInputTensor& t, const Datatype& d,
                      int64_t count, const std::string& what, DecodedTensor* out) {
  const inference::InferTensorContents& c = t.contents();
  const FieldCount fields[] = {{"bool_contents", c.bool_contents_size()},
                               {"int_contents", c.int_contents_size()},
                               {"int64_contents", c.int64_contents_size()},
                               {"uint_contents", c.uint_contents_size()},
                               {"uint64_contents", c.uint64_contents_size()},
                               {"fp32_contents", c.fp32_contents_size()},
                               {"fp64_contents", c.fp64_contents_size()},
                               {"bytes_contents", c.bytes_contents_size()}};
  const std::string want = FieldFor(t.datatype());
  for (const FieldCount& f : fields) {
    if (f.count == 0 || want == f.name) continue;
    return InvalidArgumentError(what + ": datatype " + t.datatype() + " takes its values in " +
                                want + ", but " + f.name + " holds " + std::to_string(f.count));
  }
  int64_t given = 0;
  for (const FieldCount& f : fields) {
    if (want == f.name) given = f.count;
  }
  if (given != count) {
    return InvalidArgumentError(what + ": " + want + " has " + std::to_string(given) +
                                " elements but shape implies " + std::to_string(count));
  }
  switch (d.kind) {
    case Kind::kBytes:
      out->strings.assign(c.bytes_contents().begin(), c.bytes_contents().end());
      return OkStatus();
    case Kind::kInt:
      if (t.datatype() == "INT64") {
        AppendNumbers(c.int64_contents(), &out->numbers);
      } else {
        AppendNumbers(c.int_contents(), &out->numbers);
      }
      break;
    case Kind::kUint:
      if (t.datatype() == "UINT64") {
        AppendNumbers(c.uint64_contents(), &out->numbers);
      } else {
        AppendNumbers(c.uint_contents(), &out->numbers);
      }
      break;
    case Kind::kFloat:
      if (t.datatype() == "FP32") {
        AppendNumbers(c.fp32_contents(), &out->numbers);
      } else {
        AppendNumbers(c.fp64_contents(), &out->numbers);
      }
      break;
  }
  return CheckRange(out->numbers, d, t.datatype(), what);
}

template <typename T>
double LoadLittleEndian(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));  // x86-64 and aarch64 Linux are little-endian
  return static_cast<double>(v);
}

Status DecodeRaw(const std::string& raw, const std::string& dt, const Datatype& d, int64_t count,
                 const std::string& what, DecodedTensor* out) {
  if (d.kind == Kind::kBytes) {
    size_t pos = 0;
    out->strings.reserve(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) {
      if (raw.size() - pos < 4) {
        return InvalidArgumentError(what + ": raw_input_contents ends inside the length of "
                                    "element " + std::to_string(i) + " of " +
                                    std::to_string(count));
      }
      uint32_t len = 0;
      std::memcpy(&len, raw.data() + pos, 4);
      pos += 4;
      if (raw.size() - pos < len) {
        return InvalidArgumentError(what + ": raw_input_contents element " + std::to_string(i) +
                                    " says " + std::to_string(len) + " bytes but " +
                                    std::to_string(raw.size() - pos) + " remain");
      }
      out->strings.emplace_back(raw.data() + pos, len);
      pos += len;
    }
    if (pos != raw.size()) {
      return InvalidArgumentError(what + ": raw_input_contents has " +
                                  std::to_string(raw.size() - pos) + " bytes after the " +
                                  std::to_string(count) + " elements the shape implies");
    }
    return OkStatus();
  }
  const uint64_t want = static_cast<uint64_t>(count) * static_cast<uint64_t>(d.bytes);
  if (raw.size() != want) {
    return InvalidArgumentError(what + ": raw_input_contents has " + std::to_string(raw.size()) +
                                " bytes but shape and datatype " + dt + " imply " +
                                std::to_string(want) + " (" + std::to_string(count) + " × " +
                                std::to_string(d.bytes) + ")");
  }
  out->numbers.resize(static_cast<size_t>(count));
  const char* p = raw.data();
  for (int64_t i = 0; i < count; ++i, p += d.bytes) {
    double& v = out->numbers[static_cast<size_t>(i)];
    if (dt == "FP32") v = LoadLittleEndian<float>(p);
    else if (dt == "FP64") v = LoadLittleEndian<double>(p);
    else if (dt == "INT8") v = LoadLittleEndian<int8_t>(p);
    else if (dt == "INT16") v = LoadLittleEndian<int16_t>(p);
    else if (dt == "INT32") v = LoadLittleEndian<int32_t>(p);
    else if (dt == "INT64") v = LoadLittleEndian<int64_t>(p);
    else if (dt == "UINT8") v = LoadLittleEndian<uint8_t>(p);
    else if (dt == "UINT16") v = LoadLittleEndian<uint16_t>(p);
    else if (dt == "UINT32") v = LoadLittleEndian<uint32_t>(p);
    else v = LoadLittleEndian<uint64_t>(p);
  }
  return OkStatus();
}

bool HasContents(const inference::InferTensorContents& c) {
  return c.bool_contents_size() || c.int_contents_size() || c.int64_contents_size() ||
         c.uint_contents_size() || c.uint64_contents_size() || c.fp32_contents_size() ||
         c.fp64_contents_size() || c.bytes_contents_size();
}

}  // namespace

StatusOr<VersionSelector> ParseVersionField(const std::string& version, const std::string& what) {
  VersionSelector s;
  if (version.empty()) return s;
  bool digits = true;
  for (char ch : version) digits = digits && ch >= '0' && ch <= '9';
  if (digits) {
    if (version.size() > 18 || std::stoll(version) <= 0) {
      return InvalidArgumentError(what + " '" + version + "' is not a positive version number");
    }
    s.version = std::stoll(version);
    return s;
  }
  s.label = version;
  return s;
}

StatusOr<KserveGrpcRequest> ParseModelInferRequest(const inference::ModelInferRequest& request,
                                                   int64_t max_rows) {
  KserveGrpcRequest out;
  if (request.model_name().empty()) return InvalidArgumentError("'model_name' is required");
  out.model = request.model_name();
  ASSIGN_OR_RETURN(out.selector, ParseVersionField(request.model_version(), "model_version"));
  out.id = request.id();
  for (const auto& o : request.outputs()) {
    if (o.name().empty()) return InvalidArgumentError("each of 'outputs' needs a 'name'");
    out.requested_outputs.push_back(o.name());
  }
  if (request.inputs_size() == 0) return InvalidArgumentError("'inputs' must not be empty");
  const bool raw = request.raw_input_contents_size() > 0;
  if (raw && request.raw_input_contents_size() != request.inputs_size()) {
    return InvalidArgumentError("raw_input_contents has " +
                                std::to_string(request.raw_input_contents_size()) +
                                " entries; it needs one per input (" +
                                std::to_string(request.inputs_size()) + ")");
  }
  out.raw_output = raw;
  std::vector<DecodedTensor> tensors;
  tensors.reserve(static_cast<size_t>(request.inputs_size()));
  for (int i = 0; i < request.inputs_size(); ++i) {
    const auto& t = request.inputs(i);
    if (t.name().empty()) {
      return InvalidArgumentError("inputs[" + std::to_string(i) + "]: 'name' is required");
    }
    const std::string what = InputName(t.name());
    for (const DecodedTensor& other : tensors) {
      if (other.name == t.name()) return InvalidArgumentError(what + " given twice");
    }
    ASSIGN_OR_RETURN(Datatype d, DatatypeOf(t.datatype(), what));
    DecodedTensor dt;
    dt.name = t.name();
    dt.is_bytes = d.kind == Kind::kBytes;
    dt.shape.assign(t.shape().begin(), t.shape().end());
    ASSIGN_OR_RETURN(int64_t count, CheckShape(dt.shape, what, max_rows));
    if (raw) {
      if (HasContents(t.contents())) {
        return InvalidArgumentError(what + ": has both contents and raw_input_contents; send one");
      }
      RETURN_IF_ERROR(DecodeRaw(request.raw_input_contents(i), t.datatype(), d, count, what, &dt));
    } else {
      RETURN_IF_ERROR(DecodeContents(t, d, count, what, &dt));
    }
    tensors.push_back(std::move(dt));
  }
  ASSIGN_OR_RETURN(out.input, AssembleModelInput(std::move(tensors)));
  return out;
}

Status RenderModelInferResponse(const PredictResult& result, const KserveGrpcRequest& request,
                                inference::ModelInferResponse* response) {
  const std::vector<std::string>& names = result.output_names();
  const size_t outs = names.size();
  ASSIGN_OR_RETURN(const std::vector<size_t> chosen,
                   ChooseOutputs(names, request.requested_outputs, result.model()));
  response->set_model_name(result.model());
  response->set_model_version(std::to_string(result.version()));
  response->set_id(request.id);
  for (size_t o : chosen) {
    auto* t = response->add_outputs();
    t->set_name(names[o]);
    t->set_datatype("FP32");
    t->add_shape(result.rows);
    if (request.raw_output) {
      std::string* raw = response->add_raw_output_contents();
      raw->resize(static_cast<size_t>(result.rows) * sizeof(float));
      for (int64_t r = 0; r < result.rows; ++r) {
        const float v = result.values[static_cast<size_t>(r) * outs + o];
        std::memcpy(raw->data() + r * sizeof(float), &v, sizeof(float));
      }
    } else {
      auto* values = t->mutable_contents()->mutable_fp32_contents();
      values->Reserve(static_cast<int>(result.rows));
      for (int64_t r = 0; r < result.rows; ++r) {
        values->Add(result.values[static_cast<size_t>(r) * outs + o]);
      }
    }
  }
  return OkStatus();
}

void RenderModelMetadata(const ModelDescription& d, inference::ModelMetadataResponse* response) {
  const ServableSpec& s = d.spec;
  response->set_name(s.model);
  for (int64_t v : d.available_versions) response->add_versions(std::to_string(v));
  response->set_platform("bimride_" + s.backend);
  auto* in = response->add_inputs();
  in->set_name(s.input_name);
  in->set_datatype("FP32");
  in->add_shape(-1);
  in->add_shape(s.num_features);
  for (const std::string& name : s.output_names) {
    auto* out = response->add_outputs();
    out->set_name(name);
    out->set_datatype("FP32");
    out->add_shape(-1);
  }
}

void RenderServerMetadata(inference::ServerMetadataResponse* response) {
  response->set_name("bimride");
  response->set_version(kVersion);
  // No extension: the repository API (load, unload, labels) is on the REST port only.
}

}  // namespace bimride::serving::grpc
