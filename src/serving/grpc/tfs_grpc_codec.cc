#include "serving/grpc/tfs_grpc_codec.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "serving/request_tensors.h"

namespace bimride::serving::grpc {
namespace {

using tensorflow::DataType;
using tensorflow::TensorProto;

struct Dtype {
  bool is_string;
  int bytes;  // element size in tensor_content
  double min, max;
  const char* field;  // the typed field its values go in
};

StatusOr<Dtype> DtypeOf(DataType dt, const std::string& what) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  switch (dt) {
    case tensorflow::DT_FLOAT: return Dtype{false, 4, -kInf, kInf, "float_val"};
    case tensorflow::DT_DOUBLE: return Dtype{false, 8, -kInf, kInf, "double_val"};
    case tensorflow::DT_INT8: return Dtype{false, 1, -128, 127, "int_val"};
    case tensorflow::DT_INT16: return Dtype{false, 2, -32768, 32767, "int_val"};
    case tensorflow::DT_INT32: return Dtype{false, 4, -2147483648.0, 2147483647.0, "int_val"};
    case tensorflow::DT_INT64: return Dtype{false, 8, -kInf, kInf, "int64_val"};
    case tensorflow::DT_UINT8: return Dtype{false, 1, 0, 255, "int_val"};
    case tensorflow::DT_UINT16: return Dtype{false, 2, 0, 65535, "int_val"};
    case tensorflow::DT_UINT32: return Dtype{false, 4, 0, 4294967295.0, "uint32_val"};
    case tensorflow::DT_UINT64: return Dtype{false, 8, 0, kInf, "uint64_val"};
    case tensorflow::DT_STRING: return Dtype{true, 0, 0, 0, "string_val"};
    case tensorflow::DT_BOOL:
      return InvalidArgumentError(what + ": DT_BOOL is not accepted; send numbers as DT_FLOAT, "
                                  "DT_DOUBLE or DT_INT*, strings as DT_STRING");
    case tensorflow::DT_HALF:
    case tensorflow::DT_BFLOAT16:
      return InvalidArgumentError(what + ": dtype " + tensorflow::DataType_Name(dt) +
                                  " is not supported; send DT_FLOAT or DT_DOUBLE");
    case tensorflow::DT_INVALID:
      return InvalidArgumentError(what + ": 'dtype' is required");
    default: {
      std::string name = tensorflow::DataType_Name(dt);
      if (name.empty()) name = std::to_string(static_cast<int>(dt));
      return InvalidArgumentError(what + ": dtype " + name + " is not supported");
    }
  }
}

template <typename T>
void AppendNumbers(const google::protobuf::RepeatedField<T>& values, std::vector<double>* out) {
  out->reserve(values.size());
  for (T v : values) out->push_back(static_cast<double>(v));
}

template <typename T>
double LoadLittleEndian(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));  // x86-64 and aarch64 Linux are little-endian
  return static_cast<double>(v);
}

Status DecodeTensor(const TensorProto& t, int64_t count, const Dtype& d, const std::string& what,
                    DecodedTensor* out) {
  struct Field {
    const char* name;
    int count;
  };
  const Field fields[] = {{"half_val", t.half_val_size()},     {"float_val", t.float_val_size()},
                          {"double_val", t.double_val_size()}, {"int_val", t.int_val_size()},
                          {"string_val", t.string_val_size()}, {"int64_val", t.int64_val_size()},
                          {"bool_val", t.bool_val_size()},     {"uint32_val", t.uint32_val_size()},
                          {"uint64_val", t.uint64_val_size()}};
  const std::string dtype = tensorflow::DataType_Name(t.dtype());
  if (!t.tensor_content().empty()) {
    if (d.is_string) {
      return InvalidArgumentError(what + ": DT_STRING values go in string_val, not tensor_content");
    }
    const uint64_t want = static_cast<uint64_t>(count) * static_cast<uint64_t>(d.bytes);
    if (t.tensor_content().size() != want) {
      return InvalidArgumentError(what + ": tensor_content has " +
                                  std::to_string(t.tensor_content().size()) +
                                  " bytes but shape and dtype " + dtype + " imply " +
                                  std::to_string(want) + " (" + std::to_string(count) + " × " +
                                  std::to_string(d.bytes) + ")");
    }
    for (const Field& f : fields) {
      if (f.count != 0) {
        return InvalidArgumentError(what + ": has both tensor_content and " + f.name + "; send one");
      }
    }
    out->numbers.resize(static_cast<size_t>(count));
    const char* p = t.tensor_content().data();
    for (int64_t i = 0; i < count; ++i, p += d.bytes) {
      double& v = out->numbers[static_cast<size_t>(i)];
      switch (t.dtype()) {
        case tensorflow::DT_FLOAT: v = LoadLittleEndian<float>(p); break;
        case tensorflow::DT_DOUBLE: v = LoadLittleEndian<double>(p); break;
        case tensorflow::DT_INT8: v = LoadLittleEndian<int8_t>(p); break;
        case tensorflow::DT_INT16: v = LoadLittleEndian<int16_t>(p); break;
        case tensorflow::DT_INT32: v = LoadLittleEndian<int32_t>(p); break;
        case tensorflow::DT_INT64: v = LoadLittleEndian<int64_t>(p); break;
        case tensorflow::DT_UINT8: v = LoadLittleEndian<uint8_t>(p); break;
        case tensorflow::DT_UINT16: v = LoadLittleEndian<uint16_t>(p); break;
        case tensorflow::DT_UINT32: v = LoadLittleEndian<uint32_t>(p); break;
        default: v = LoadLittleEndian<uint64_t>(p); break;
      }
    }
    return OkStatus();
  }
  int given = 0;
  for (const Field& f : fields) {
    if (f.count == 0) continue;
    if (std::strcmp(f.name, d.field) != 0) {
      return InvalidArgumentError(what + ": dtype " + dtype + " takes its values in " + d.field +
                                  ", but " + f.name + " holds " + std::to_string(f.count));
    }
    given = f.count;
  }
  if (given != count) {
    return InvalidArgumentError(what + ": " + d.field + " has " + std::to_string(given) +
                                " values but shape implies " + std::to_string(count));
  }
  switch (t.dtype()) {
    case tensorflow::DT_STRING:
      out->strings.assign(t.string_val().begin(), t.string_val().end());
      return OkStatus();
    case tensorflow::DT_FLOAT: AppendNumbers(t.float_val(), &out->numbers); break;
    case tensorflow::DT_DOUBLE: AppendNumbers(t.double_val(), &out->numbers); break;
    case tensorflow::DT_INT64: AppendNumbers(t.int64_val(), &out->numbers); break;
    case tensorflow::DT_UINT32: AppendNumbers(t.uint32_val(), &out->numbers); break;
    case tensorflow::DT_UINT64: AppendNumbers(t.uint64_val(), &out->numbers); break;
    default: AppendNumbers(t.int_val(), &out->numbers); break;
  }
  for (size_t i = 0; i < out->numbers.size(); ++i) {
    if (out->numbers[i] < d.min || out->numbers[i] > d.max) {
      return InvalidArgumentError(what + ": element " + std::to_string(i) + " (" +
                                  std::to_string(static_cast<long long>(out->numbers[i])) +
                                  ") is out of range for " + dtype);
    }
  }
  return OkStatus();
}

tensorflow::TensorInfo FloatTensorInfo(const std::string& name, std::vector<int64_t> dims) {
  tensorflow::TensorInfo info;
  info.set_name(name);
  info.set_dtype(tensorflow::DT_FLOAT);
  for (int64_t d : dims) info.mutable_tensor_shape()->add_dim()->set_size(d);
  return info;
}

}  // namespace

Status ParseModelSpec(const tensorflow::serving::ModelSpec& spec, std::string* model,
                      VersionSelector* selector) {
  if (spec.name().empty()) return InvalidArgumentError("model_spec.name is required");
  *model = spec.name();
  *selector = VersionSelector{};
  if (spec.has_version()) {
    if (spec.version().value() <= 0) {
      return InvalidArgumentError("model_spec.version " + std::to_string(spec.version().value()) +
                                  " is not a positive version number");
    }
    selector->version = spec.version().value();
  } else if (spec.version_choice_case() == tensorflow::serving::ModelSpec::kVersionLabel) {
    if (spec.version_label().empty()) {
      return InvalidArgumentError("model_spec.version_label is empty");
    }
    selector->label = spec.version_label();
  }
  return OkStatus();
}

StatusOr<TfsGrpcRequest> ParsePredictRequest(const tensorflow::serving::PredictRequest& request,
                                             int64_t max_rows) {
  TfsGrpcRequest out;
  RETURN_IF_ERROR(ParseModelSpec(request.model_spec(), &out.model, &out.selector));
  out.signature_name = request.model_spec().signature_name();
  out.output_filter.assign(request.output_filter().begin(), request.output_filter().end());
  if (request.inputs().empty()) return InvalidArgumentError("'inputs' must not be empty");
  // Protobuf maps have no order; sorted by name, so the same request always reads the same.
  std::vector<const google::protobuf::MapPair<std::string, TensorProto>*> sorted;
  for (const auto& kv : request.inputs()) sorted.push_back(&kv);
  std::sort(sorted.begin(), sorted.end(),
            [](const auto* a, const auto* b) { return a->first < b->first; });
  std::vector<DecodedTensor> tensors;
  tensors.reserve(sorted.size());
  for (const auto* kv : sorted) {
    if (kv->first.empty()) return InvalidArgumentError("an input has an empty name");
    const std::string what = InputName(kv->first);
    const TensorProto& t = kv->second;
    ASSIGN_OR_RETURN(Dtype d, DtypeOf(t.dtype(), what));
    if (t.tensor_shape().unknown_rank()) {
      return InvalidArgumentError(what + ": tensor_shape has an unknown rank; give its dims");
    }
    DecodedTensor dt;
    dt.name = kv->first;
    dt.is_bytes = d.is_string;
    for (const auto& dim : t.tensor_shape().dim()) dt.shape.push_back(dim.size());
    ASSIGN_OR_RETURN(int64_t count, CheckShape(dt.shape, what, max_rows));
    RETURN_IF_ERROR(DecodeTensor(t, count, d, what, &dt));
    tensors.push_back(std::move(dt));
  }
  ASSIGN_OR_RETURN(out.input, AssembleModelInput(std::move(tensors)));
  return out;
}

Status RenderPredictResponse(const PredictResult& result, const TfsGrpcRequest& request,
                             tensorflow::serving::PredictResponse* response) {
  const std::vector<std::string>& names = result.output_names();
  const size_t outs = names.size();
  auto chosen = ChooseOutputs(names, request.output_filter, result.model());
  if (!chosen.ok()) return InvalidArgumentError("output_filter: " + chosen.status().message());
  auto* spec = response->mutable_model_spec();
  spec->set_name(result.model());
  spec->mutable_version()->set_value(result.version());
  spec->set_signature_name(request.signature_name.empty() ? "serving_default"
                                                          : request.signature_name);
  auto* outputs = response->mutable_outputs();
  for (size_t o : *chosen) {
    TensorProto& t = (*outputs)[names[o]];
    t.set_dtype(tensorflow::DT_FLOAT);
    t.mutable_tensor_shape()->add_dim()->set_size(result.rows);
    t.mutable_float_val()->Reserve(static_cast<int>(result.rows));
    for (int64_t r = 0; r < result.rows; ++r) {
      t.add_float_val(result.values[static_cast<size_t>(r) * outs + o]);
    }
  }
  return OkStatus();
}

Status RenderModelMetadata(const ModelDescription& d,
                           const tensorflow::serving::GetModelMetadataRequest& request,
                           tensorflow::serving::GetModelMetadataResponse* response) {
  if (request.metadata_field_size() == 0) {
    return InvalidArgumentError("metadata_field must name at least one field (\"signature_def\")");
  }
  for (const std::string& f : request.metadata_field()) {
    if (f != "signature_def") {
      return InvalidArgumentError("metadata_field '" + f + "' is not supported (only "
                                  "\"signature_def\")");
    }
  }
  const ServableSpec& s = d.spec;
  auto* spec = response->mutable_model_spec();
  spec->set_name(s.model);
  spec->mutable_version()->set_value(s.version);
  tensorflow::serving::SignatureDefMap map;
  tensorflow::SignatureDef& sig = (*map.mutable_signature_def())["serving_default"];
  (*sig.mutable_inputs())[s.input_name] = FloatTensorInfo(s.input_name, {-1, s.num_features});
  for (const std::string& name : s.output_names) {
    (*sig.mutable_outputs())[name] = FloatTensorInfo(name, {-1});
  }
  sig.set_method_name("tensorflow/serving/predict");
  (*response->mutable_metadata())["signature_def"].PackFrom(map);
  return OkStatus();
}

}  // namespace bimride::serving::grpc
