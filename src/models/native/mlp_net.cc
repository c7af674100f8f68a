#include "models/native/mlp_net.h"

#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "common/file.h"

namespace bimride::models::native {
namespace {

using Json = nlohmann::json;

constexpr char kFormat[] = "bimride_mlp";
constexpr int kVersion = 1;

std::string Dirname(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

// Appends `values` to the flat weight buffer and returns their offset in floats.
size_t Append(std::vector<float>& flat, const std::vector<float>& values) {
  size_t offset = flat.size();
  flat.insert(flat.end(), values.begin(), values.end());
  return offset;
}

}  // namespace

int MlpNet::input_width() const {
  int width = static_cast<int>(numeric_columns.size());
  for (const CategoricalColumn& c : categorical) width += c.embedding_dim;
  return width;
}

Status ValidateMlpNet(const MlpNet& net) {
  if (net.num_features <= 0) return InvalidArgumentError("mlp net: num_features must be positive");
  std::set<int> used;
  auto use_column = [&](int column, const std::string& what) -> Status {
    if (column < 0 || column >= net.num_features) {
      return InvalidArgumentError("mlp net: " + what + " column " + std::to_string(column) +
                                  " is outside 0.." + std::to_string(net.num_features - 1));
    }
    if (!used.insert(column).second) {
      return InvalidArgumentError("mlp net: column " + std::to_string(column) + " used twice");
    }
    return OkStatus();
  };
  if (net.embeddings.size() != net.categorical.size()) {
    return InvalidArgumentError("mlp net: one embedding table per categorical column expected");
  }
  for (size_t k = 0; k < net.categorical.size(); ++k) {
    const CategoricalColumn& c = net.categorical[k];
    RETURN_IF_ERROR(use_column(c.column, "categorical"));
    if (c.cardinality <= 0 || c.embedding_dim <= 0) {
      return InvalidArgumentError("mlp net: categorical column " + std::to_string(c.column) +
                                  ": cardinality and embedding_dim must be positive");
    }
    if (net.embeddings[k].size() != static_cast<size_t>(c.cardinality) * c.embedding_dim) {
      return InvalidArgumentError("mlp net: embedding for column " + std::to_string(c.column) +
                                  " has " + std::to_string(net.embeddings[k].size()) +
                                  " values; expected cardinality × dim");
    }
  }
  for (int column : net.numeric_columns) RETURN_IF_ERROR(use_column(column, "numeric"));
  if (net.numeric_mean.size() != net.numeric_columns.size() ||
      net.numeric_std.size() != net.numeric_columns.size()) {
    return InvalidArgumentError("mlp net: numeric mean/std must have one value per column");
  }
  for (float s : net.numeric_std) {
    if (!(s > 0)) return InvalidArgumentError("mlp net: numeric std must be positive");
  }
  if (net.layers.empty()) return InvalidArgumentError("mlp net: no layers");
  int width = net.input_width();
  for (size_t i = 0; i < net.layers.size(); ++i) {
    const DenseLayer& l = net.layers[i];
    std::string name = "mlp net: layer " + std::to_string(i);
    if (l.in != width) {
      return InvalidArgumentError(name + " takes " + std::to_string(l.in) + " inputs; previous " +
                                  "stage gives " + std::to_string(width));
    }
    if (l.out <= 0 || l.weight.size() != static_cast<size_t>(l.in) * l.out ||
        l.bias.size() != static_cast<size_t>(l.out)) {
      return InvalidArgumentError(name + ": weight must be out × in and bias out values");
    }
    width = l.out;
  }
  return OkStatus();
}

StatusOr<MlpNet> AverageMlpNets(const std::vector<MlpNet>& nets) {
  if (nets.empty()) return InvalidArgumentError("average mlp nets: no net");
  for (const MlpNet& n : nets) RETURN_IF_ERROR(ValidateMlpNet(n));
  const MlpNet& a = nets[0];
  for (size_t n = 1; n < nets.size(); ++n) {
    const MlpNet& b = nets[n];
    const std::string which = "average mlp nets: net " + std::to_string(n) + " ";
    if (b.num_features != a.num_features || b.num_outputs() != a.num_outputs() ||
        b.output_transform != a.output_transform || b.layers.size() != a.layers.size()) {
      return InvalidArgumentError(which + "differs in features, outputs, transform or depth");
    }
    if (b.categorical.size() != a.categorical.size() || b.numeric_columns != a.numeric_columns ||
        b.numeric_mean != a.numeric_mean || b.numeric_std != a.numeric_std) {
      return InvalidArgumentError(which + "differs in its inputs or their standardisation");
    }
    for (size_t k = 0; k < a.categorical.size(); ++k) {
      if (b.categorical[k].column != a.categorical[k].column ||
          b.categorical[k].cardinality != a.categorical[k].cardinality) {
        return InvalidArgumentError(which + "differs in categorical column " + std::to_string(k));
      }
    }
  }
  const size_t count = nets.size();
  MlpNet m;
  m.num_features = a.num_features;
  m.numeric_columns = a.numeric_columns;
  m.numeric_mean = a.numeric_mean;
  m.numeric_std = a.numeric_std;
  m.output_transform = a.output_transform;
  // Embeddings: per column, the nets' vectors side by side. in_pos[n][j] = where input j of
  // net n's first layer sits in the merged input.
  std::vector<std::vector<int>> in_pos(count);
  int merged_offset = 0;
  for (size_t k = 0; k < a.categorical.size(); ++k) {
    CategoricalColumn c = a.categorical[k];
    c.embedding_dim = 0;
    for (const MlpNet& n : nets) c.embedding_dim += n.categorical[k].embedding_dim;
    std::vector<float> table(static_cast<size_t>(c.cardinality) * c.embedding_dim);
    int part = 0;
    for (size_t n = 0; n < count; ++n) {
      const int dim = nets[n].categorical[k].embedding_dim;
      for (int r = 0; r < c.cardinality; ++r) {
        for (int d = 0; d < dim; ++d) {
          table[static_cast<size_t>(r) * c.embedding_dim + part + d] =
              nets[n].embeddings[k][static_cast<size_t>(r) * dim + d];
        }
      }
      for (int d = 0; d < dim; ++d) in_pos[n].push_back(merged_offset + part + d);
      part += dim;
    }
    merged_offset += c.embedding_dim;
    m.categorical.push_back(c);
    m.embeddings.push_back(std::move(table));
  }
  for (size_t j = 0; j < a.numeric_columns.size(); ++j) {
    for (size_t n = 0; n < count; ++n) in_pos[n].push_back(merged_offset + static_cast<int>(j));
  }
  const int merged_in0 = merged_offset + static_cast<int>(a.numeric_columns.size());
  const size_t depth = a.layers.size();
  std::vector<int> prev_offset(count, 0);  // where net n's previous-layer outputs start
  int prev_width = merged_in0;
  for (size_t i = 0; i < depth; ++i) {
    const bool last = i + 1 == depth;
    DenseLayer l;
    l.in = prev_width;
    l.out = last ? a.layers[i].out : 0;
    if (!last) {
      for (const MlpNet& n : nets) l.out += n.layers[i].out;
    }
    l.weight.assign(static_cast<size_t>(l.out) * l.in, 0.0f);
    l.bias.assign(l.out, 0.0f);
    std::vector<int> offset(count, 0);
    int out_base = 0;
    for (size_t n = 0; n < count; ++n) {
      const DenseLayer& src = nets[n].layers[i];
      const float scale = last ? 1.0f / static_cast<float>(count) : 1.0f;
      const int row_base = last ? 0 : out_base;
      for (int r = 0; r < src.out; ++r) {
        for (int j = 0; j < src.in; ++j) {
          const int col = i == 0 ? in_pos[n][j] : prev_offset[n] + j;
          l.weight[static_cast<size_t>(row_base + r) * l.in + col] +=
              scale * src.weight[static_cast<size_t>(r) * src.in + j];
        }
        l.bias[row_base + r] += scale * src.bias[r];
      }
      offset[n] = out_base;
      out_base += src.out;
    }
    prev_offset = offset;
    prev_width = l.out;
    m.layers.push_back(std::move(l));
  }
  RETURN_IF_ERROR(ValidateMlpNet(m));
  return m;
}

Status WriteMlpNet(const MlpNet& net, const std::string& dir) {
  RETURN_IF_ERROR(ValidateMlpNet(net));
  RETURN_IF_ERROR(MakeDirs(dir));
  std::vector<float> flat;
  Json j;
  j["format"] = kFormat;
  j["version"] = kVersion;
  j["num_features"] = net.num_features;
  j["num_outputs"] = net.num_outputs();
  j["output_transform"] = net.output_transform == OutputTransform::kExp       ? "exp"
                          : net.output_transform == OutputTransform::kSigmoid ? "sigmoid"
                                                                              : "identity";
  j["activation"] = "relu";
  j["weights_file"] = "weights.bin";
  j["categorical"] = Json::array();
  for (size_t k = 0; k < net.categorical.size(); ++k) {
    const CategoricalColumn& c = net.categorical[k];
    j["categorical"].push_back({{"column", c.column},
                                {"cardinality", c.cardinality},
                                {"embedding_dim", c.embedding_dim},
                                {"offset", Append(flat, net.embeddings[k])}});
  }
  j["numeric"] = {{"columns", net.numeric_columns},
                  {"mean_offset", Append(flat, net.numeric_mean)},
                  {"std_offset", Append(flat, net.numeric_std)}};
  j["layers"] = Json::array();
  for (const DenseLayer& l : net.layers) {
    size_t w = Append(flat, l.weight);
    size_t b = Append(flat, l.bias);
    j["layers"].push_back({{"in", l.in}, {"out", l.out}, {"weight_offset", w}, {"bias_offset", b}});
  }
  j["weights_floats"] = flat.size();
  static_assert(sizeof(float) == 4);
  // The file is little-endian float32; every machine we build for is little-endian.
  std::string bytes(flat.size() * sizeof(float), '\0');
  if (!flat.empty()) std::memcpy(bytes.data(), flat.data(), bytes.size());
  RETURN_IF_ERROR(WriteFileAtomic(dir + "/weights.bin", bytes));
  return WriteFileAtomic(dir + "/net.json", j.dump(1) + "\n");
}

StatusOr<MlpNet> ReadMlpNet(const std::string& path) {
  std::string json_path = path;
  if (json_path.size() < 5 || json_path.substr(json_path.size() - 5) != ".json") {
    json_path = path + "/net.json";
  }
  ASSIGN_OR_RETURN(std::string text, ReadFile(json_path));
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return DataLossError(json_path + ": not a JSON object");
  }
  if (j.value("format", "") != kFormat) {
    return InvalidArgumentError(json_path + ": format is not '" + std::string(kFormat) + "'");
  }
  MlpNet net;
  std::string bin_path;
  std::vector<float> flat;
  try {
    if (j.at("version").get<int>() != kVersion) {
      return UnimplementedError(json_path + ": unsupported version " + j.at("version").dump());
    }
    if (j.value("activation", "relu") != "relu") {
      return UnimplementedError(json_path + ": unsupported activation");
    }
    bin_path = Dirname(json_path) + "/" + j.at("weights_file").get<std::string>();
    ASSIGN_OR_RETURN(std::string bytes, ReadFile(bin_path));
    size_t expected = j.at("weights_floats").get<size_t>();
    if (bytes.size() != expected * sizeof(float)) {
      return DataLossError(bin_path + ": holds " + std::to_string(bytes.size()) +
                           " bytes; net.json expects " + std::to_string(expected * sizeof(float)));
    }
    flat.resize(expected);
    if (expected > 0) std::memcpy(flat.data(), bytes.data(), bytes.size());
    auto slice = [&](size_t offset, size_t count, std::vector<float>& out) -> Status {
      if (offset > flat.size() || count > flat.size() - offset) {
        return DataLossError(json_path + ": weights at offset " + std::to_string(offset) +
                             " run past the end of " + bin_path);
      }
      out.assign(flat.begin() + offset, flat.begin() + offset + count);
      return OkStatus();
    };
    net.num_features = j.at("num_features").get<int>();
    std::string transform = j.at("output_transform").get<std::string>();
    if (transform == "exp") {
      net.output_transform = OutputTransform::kExp;
    } else if (transform == "sigmoid") {
      net.output_transform = OutputTransform::kSigmoid;
    } else if (transform != "identity") {
      return UnimplementedError(json_path + ": unknown output_transform '" + transform + "'");
    }
    for (const Json& c : j.at("categorical")) {
      CategoricalColumn col{c.at("column").get<int>(), c.at("cardinality").get<int>(),
                            c.at("embedding_dim").get<int>()};
      if (col.cardinality <= 0 || col.embedding_dim <= 0) {
        return DataLossError(json_path + ": bad categorical column " + c.dump());
      }
      net.categorical.push_back(col);
      net.embeddings.emplace_back();
      RETURN_IF_ERROR(slice(c.at("offset").get<size_t>(),
                            static_cast<size_t>(col.cardinality) * col.embedding_dim,
                            net.embeddings.back()));
    }
    const Json& numeric = j.at("numeric");
    net.numeric_columns = numeric.at("columns").get<std::vector<int>>();
    RETURN_IF_ERROR(slice(numeric.at("mean_offset").get<size_t>(), net.numeric_columns.size(),
                          net.numeric_mean));
    RETURN_IF_ERROR(
        slice(numeric.at("std_offset").get<size_t>(), net.numeric_columns.size(), net.numeric_std));
    for (const Json& l : j.at("layers")) {
      DenseLayer layer;
      layer.in = l.at("in").get<int>();
      layer.out = l.at("out").get<int>();
      if (layer.in <= 0 || layer.out <= 0) {
        return DataLossError(json_path + ": bad layer " + l.dump());
      }
      RETURN_IF_ERROR(slice(l.at("weight_offset").get<size_t>(),
                            static_cast<size_t>(layer.in) * layer.out, layer.weight));
      RETURN_IF_ERROR(slice(l.at("bias_offset").get<size_t>(), layer.out, layer.bias));
      net.layers.push_back(std::move(layer));
    }
    if (j.at("num_outputs").get<int>() != net.num_outputs()) {
      return DataLossError(json_path + ": num_outputs disagrees with the last layer");
    }
  } catch (const Json::exception& e) {
    return DataLossError(json_path + ": " + e.what());
  }
  Status valid = ValidateMlpNet(net);
  if (!valid.ok()) return DataLossError(json_path + ": " + valid.message());
  return net;
}

}  // namespace bimride::models::native
