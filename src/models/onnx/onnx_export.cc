#include "models/onnx/onnx_export.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "common/file.h"
#include "models/onnx/onnx_model.h"

namespace bimride::models::onnx_backend {
namespace {

// Builds one graph: initializers, nodes with fresh value names, the input and output.
class GraphBuilder {
 public:
  explicit GraphBuilder(const std::string& name) {
    model_.set_ir_version(8);
    model_.set_producer_name("bimride");
    model_.set_model_version(1);
    auto* opset = model_.add_opset_import();
    opset->set_domain("");
    opset->set_version(13);
    graph()->set_name(name);
  }
  onnx::GraphProto* graph() { return model_.mutable_graph(); }

  std::string Floats(const std::vector<float>& values, const std::vector<int64_t>& dims) {
    return Initializer(onnx::TensorProto::FLOAT, dims, values.data(), values.size() * 4);
  }
  std::string Ints(const std::vector<int64_t>& values, const std::vector<int64_t>& dims) {
    return Initializer(onnx::TensorProto::INT64, dims, values.data(), values.size() * 8);
  }

  // Adds a node; returns its (first) output's name.
  onnx::NodeProto* Node(const std::string& op, const std::vector<std::string>& inputs,
                        int outputs = 1, const std::string& domain = "") {
    onnx::NodeProto* n = graph()->add_node();
    n->set_op_type(op);
    n->set_name(op + "_" + std::to_string(graph()->node_size()));
    if (!domain.empty()) n->set_domain(domain);
    for (const std::string& in : inputs) n->add_input(in);
    for (int k = 0; k < outputs; ++k) n->add_output(Fresh(op));
    return n;
  }
  std::string Op(const std::string& op, const std::vector<std::string>& inputs) {
    return Node(op, inputs)->output(0);
  }
  static void Attr(onnx::NodeProto* n, const std::string& name, int64_t v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void Attr(onnx::NodeProto* n, const std::string& name, const std::string& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(v);
  }
  static void Attr(onnx::NodeProto* n, const std::string& name, const std::vector<int64_t>& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  }
  static void Attr(onnx::NodeProto* n, const std::string& name, const std::vector<float>& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOATS);
    for (float x : v) a->add_floats(x);
  }
  static void Attr(onnx::NodeProto* n, const std::string& name,
                   const std::vector<std::string>& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::STRINGS);
    for (const std::string& x : v) a->add_strings(x);
  }
  void UseDomain(const std::string& domain, int64_t version) {
    auto* opset = model_.add_opset_import();
    opset->set_domain(domain);
    opset->set_version(version);
  }

  // Declares the float input [N, width] and output [N, outputs], the output renamed from `last`.
  std::string Input(int64_t width) {
    Value(graph()->add_input(), "features", width);
    return "features";
  }
  Status Finish(const std::string& last, int64_t outputs, const std::string& path) {
    onnx::NodeProto* n = Node("Identity", {last});
    n->set_output(0, "outputs");
    Value(graph()->add_output(), "outputs", outputs);
    std::string bytes;
    if (!model_.SerializeToString(&bytes)) return InternalError(path + ": serializing failed");
    return WriteFileAtomic(path, bytes);
  }

 private:
  std::string Fresh(const std::string& stem) { return stem + "_" + std::to_string(next_++); }
  std::string Initializer(int type, const std::vector<int64_t>& dims, const void* data,
                          size_t bytes) {
    onnx::TensorProto* t = graph()->add_initializer();
    t->set_name(Fresh("const"));
    t->set_data_type(type);
    for (int64_t d : dims) t->add_dims(d);
    t->set_raw_data(std::string(static_cast<const char*>(data), bytes));  // little-endian host
    return t->name();
  }
  static void Value(onnx::ValueInfoProto* v, const std::string& name, int64_t width) {
    v->set_name(name);
    auto* tensor = v->mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(onnx::TensorProto::FLOAT);
    tensor->mutable_shape()->add_dim()->set_dim_param("N");
    tensor->mutable_shape()->add_dim()->set_dim_value(width);
  }
  onnx::ModelProto model_;
  int next_ = 0;
};

}  // namespace

Status ExportMlpNet(const native::MlpNet& net, const std::string& path) {
  RETURN_IF_ERROR(native::ValidateMlpNet(net));
  GraphBuilder g("bimride_mlp");
  const std::string x = g.Input(net.num_features);
  std::vector<std::string> parts;
  const std::string zero = g.Floats({0.0f}, {});
  for (size_t k = 0; k < net.categorical.size(); ++k) {
    const auto& c = net.categorical[k];
    const std::string column = g.Ints({c.column}, {});  // scalar index: [N] out
    onnx::NodeProto* pick = g.Node("Gather", {x, column});
    GraphBuilder::Attr(pick, "axis", int64_t{1});
    const std::string top = g.Floats({static_cast<float>(c.cardinality - 1)}, {});
    onnx::NodeProto* ids = g.Node("Cast", {g.Op("Clip", {pick->output(0), zero, top})});
    GraphBuilder::Attr(ids, "to", int64_t{onnx::TensorProto::INT64});
    const std::string table = g.Floats(net.embeddings[k], {c.cardinality, c.embedding_dim});
    onnx::NodeProto* embed = g.Node("Gather", {table, ids->output(0)});
    GraphBuilder::Attr(embed, "axis", int64_t{0});
    parts.push_back(embed->output(0));
  }
  if (!net.numeric_columns.empty()) {
    std::vector<int64_t> cols(net.numeric_columns.begin(), net.numeric_columns.end());
    const int64_t n = static_cast<int64_t>(cols.size());
    onnx::NodeProto* pick = g.Node("Gather", {x, g.Ints(cols, {n})});
    GraphBuilder::Attr(pick, "axis", int64_t{1});
    const std::string centred = g.Op("Sub", {pick->output(0), g.Floats(net.numeric_mean, {n})});
    parts.push_back(g.Op("Div", {centred, g.Floats(net.numeric_std, {n})}));
  }
  std::string h = parts.front();
  if (parts.size() > 1) {
    onnx::NodeProto* cat = g.Node("Concat", parts);
    GraphBuilder::Attr(cat, "axis", int64_t{1});
    h = cat->output(0);
  }
  for (size_t i = 0; i < net.layers.size(); ++i) {
    const native::DenseLayer& l = net.layers[i];
    onnx::NodeProto* gemm =
        g.Node("Gemm", {h, g.Floats(l.weight, {l.out, l.in}), g.Floats(l.bias, {l.out})});
    GraphBuilder::Attr(gemm, "transB", int64_t{1});
    h = gemm->output(0);
    if (i + 1 < net.layers.size()) h = g.Op("Relu", {h});
  }
  if (net.output_transform == native::OutputTransform::kExp) h = g.Op("Exp", {h});
  if (net.output_transform == native::OutputTransform::kSigmoid) h = g.Op("Sigmoid", {h});
  return g.Finish(h, net.num_outputs(), path);
}

Status ExportTreeEnsemble(const native::TreeEnsemble& e, const std::string& path) {
  if (e.num_features < 1 || e.num_outputs < 1 || e.tree_offset.empty() ||
      e.tree_output.size() != e.tree_offset.size() ||
      e.base_margin.size() != static_cast<size_t>(e.num_outputs)) {
    return InvalidArgumentError(path + ": the tree ensemble is inconsistent");
  }
  GraphBuilder g("bimride_trees");
  g.UseDomain("ai.onnx.ml", 1);
  const std::string x = g.Input(e.num_features);
  std::vector<int64_t> tree_ids, node_ids, feature_ids, true_ids, false_ids, missing;
  std::vector<float> values;
  std::vector<std::string> modes;
  std::vector<int64_t> t_ids, t_nodes, t_trees;
  std::vector<float> t_weights;
  for (size_t t = 0; t < e.tree_offset.size(); ++t) {
    const int64_t begin = e.tree_offset[t];
    const int64_t end =
        t + 1 < e.tree_offset.size() ? e.tree_offset[t + 1] : static_cast<int64_t>(e.nodes.size());
    for (int64_t k = begin; k < end; ++k) {
      const native::TreeEnsemble::Node& n = e.nodes[k];
      tree_ids.push_back(static_cast<int64_t>(t));
      node_ids.push_back(k - begin);
      if (n.left < 0) {
        feature_ids.push_back(0);
        values.push_back(0.0f);
        modes.push_back("LEAF");
        true_ids.push_back(0);
        false_ids.push_back(0);
        missing.push_back(0);
        t_ids.push_back(e.tree_output[t]);
        t_nodes.push_back(k - begin);
        t_trees.push_back(static_cast<int64_t>(t));
        t_weights.push_back(n.value);
        continue;
      }
      // XGBoost goes left when x < condition; missing values to the default child.
      feature_ids.push_back(n.feature & ~native::TreeEnsemble::kDefaultLeftBit);
      values.push_back(n.value);
      modes.push_back("BRANCH_LT");
      true_ids.push_back(n.left);
      false_ids.push_back(n.right);
      missing.push_back((n.feature & native::TreeEnsemble::kDefaultLeftBit) ? 1 : 0);
    }
  }
  onnx::NodeProto* trees = g.Node("TreeEnsembleRegressor", {x}, 1, "ai.onnx.ml");
  GraphBuilder::Attr(trees, "n_targets", int64_t{e.num_outputs});
  GraphBuilder::Attr(trees, "aggregate_function", std::string("SUM"));
  GraphBuilder::Attr(trees, "post_transform", std::string("NONE"));
  GraphBuilder::Attr(trees, "base_values", e.base_margin);
  GraphBuilder::Attr(trees, "nodes_treeids", tree_ids);
  GraphBuilder::Attr(trees, "nodes_nodeids", node_ids);
  GraphBuilder::Attr(trees, "nodes_featureids", feature_ids);
  GraphBuilder::Attr(trees, "nodes_values", values);
  GraphBuilder::Attr(trees, "nodes_modes", modes);
  GraphBuilder::Attr(trees, "nodes_truenodeids", true_ids);
  GraphBuilder::Attr(trees, "nodes_falsenodeids", false_ids);
  GraphBuilder::Attr(trees, "nodes_missing_value_tracks_true", missing);
  GraphBuilder::Attr(trees, "target_ids", t_ids);
  GraphBuilder::Attr(trees, "target_nodeids", t_nodes);
  GraphBuilder::Attr(trees, "target_treeids", t_trees);
  GraphBuilder::Attr(trees, "target_weights", t_weights);
  std::string y = trees->output(0);
  if (e.transform == native::TreeEnsemble::Transform::kExp) y = g.Op("Exp", {y});
  if (e.transform == native::TreeEnsemble::Transform::kSigmoid) y = g.Op("Sigmoid", {y});
  return g.Finish(y, e.num_outputs, path);
}

StatusOr<ExportCheck> ExportArtifactToOnnx(const std::string& backend,
                                           const std::string& artifact_path,
                                           const std::string& out_path, int64_t check_rows,
                                           double tolerance) {
  // Categorical columns (column → cardinality), to draw ids a net would see.
  std::vector<std::pair<int, int>> ids;
  if (backend == "native_mlp" || backend == "torchscript") {
    std::string net_path = artifact_path;
    if (backend == "torchscript") {
      net_path = (std::filesystem::path(artifact_path).parent_path() / "net.json").string();
      if (!FileExists(net_path)) {
        return UnimplementedError(artifact_path +
                                  ": a TorchScript module without net.json beside it (not written "
                                  "by bimride) cannot be exported here; export it from PyTorch "
                                  "with torch.onnx.export");
      }
    }
    ASSIGN_OR_RETURN(native::MlpNet net, native::ReadMlpNet(net_path));
    for (const auto& c : net.categorical) ids.push_back({c.column, c.cardinality});
    RETURN_IF_ERROR(ExportMlpNet(net, out_path));
  } else if (backend == "xgboost" || backend == "native_trees") {
    ASSIGN_OR_RETURN(native::TreeEnsemble trees, native::ReadXgboostEnsemble(artifact_path));
    RETURN_IF_ERROR(ExportTreeEnsemble(trees, out_path));
  } else if (backend == "onnx") {
    ASSIGN_OR_RETURN(std::string bytes, ReadFile(artifact_path));
    RETURN_IF_ERROR(WriteFileAtomic(out_path, bytes));
  } else {
    return UnimplementedError("backend '" + backend +
                              "' cannot be exported to ONNX (native_mlp, torchscript written by "
                              "bimride, xgboost, native_trees and onnx can)");
  }

  // The check: the exported file against the source backend on the same rows.
  ASSIGN_OR_RETURN(std::unique_ptr<Model> source, LoadModel(backend, artifact_path));
  ASSIGN_OR_RETURN(std::unique_ptr<Model> exported, LoadOnnxModel(out_path, {}));
  ExportCheck check{exported->num_features(), exported->num_outputs(), check_rows, 0};
  if (check.num_features != source->num_features() || check.num_outputs != source->num_outputs()) {
    return InternalError(out_path + ": exported " + std::to_string(check.num_features) + "→" +
                         std::to_string(check.num_outputs) + ", the source is " +
                         std::to_string(source->num_features()) + "→" +
                         std::to_string(source->num_outputs()));
  }
  std::mt19937 rng(20261203);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  std::vector<float> rows(static_cast<size_t>(check_rows * check.num_features));
  for (int64_t r = 0; r < check_rows; ++r) {
    float* row = rows.data() + r * check.num_features;
    for (int f = 0; f < check.num_features; ++f) row[f] = normal(rng);
    for (auto [column, cardinality] : ids) {
      row[column] = static_cast<float>(std::uniform_int_distribution<int>(0, cardinality - 1)(rng));
    }
  }
  ASSIGN_OR_RETURN(std::vector<float> want, source->Predict(rows));
  ASSIGN_OR_RETURN(std::vector<float> got, exported->Predict(rows));
  for (size_t k = 0; k < want.size(); ++k) {
    const double err = std::fabs(static_cast<double>(got[k]) - want[k]) /
                       std::max(1.0, std::fabs(static_cast<double>(want[k])));
    check.max_relative_error = std::max(check.max_relative_error, err);
  }
  if (!(check.max_relative_error <= tolerance)) {
    return InvalidArgumentError(out_path + ": the exported model differs from the " + backend +
                                " model by " + std::to_string(check.max_relative_error) +
                                " (relative) on random rows, more than " +
                                std::to_string(tolerance));
  }
  return check;
}

}  // namespace bimride::models::onnx_backend
