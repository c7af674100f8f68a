#include "models/native/tree_ensemble.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <nlohmann/json.hpp>

#include "common/file.h"

namespace bimride::models::native {
namespace {

using Json = nlohmann::json;

constexpr uint32_t kDefaultLeftBit = TreeEnsemble::kDefaultLeftBit;
constexpr int64_t kRowBlock = 64;

// XGBoost 1.x writes scalar model parameters as strings ("5E-1"); accept numbers too.
double NumberParam(const Json& j, const char* key) {
  const Json& v = j.at(key);
  return v.is_string() ? std::stod(v.get<std::string>()) : v.get<double>();
}

class NativeTreesModel final : public Model {
 public:
  explicit NativeTreesModel(TreeEnsemble ensemble) : e_(std::move(ensemble)) { BuildWalk(); }

  std::string_view backend() const override { return "native_trees"; }
  int num_features() const override { return e_.num_features; }
  int num_outputs() const override { return e_.num_outputs; }

  Status Predict(const float* features, int64_t rows, float* out) const override {
    if (rows < 0) return InvalidArgumentError("native_trees: negative row count");
    const int nf = e_.num_features;
    const int no = e_.num_outputs;
    for (int64_t begin = 0; begin < rows; begin += kRowBlock) {
      const int64_t end = std::min(rows, begin + kRowBlock);
      for (int64_t r = begin; r < end; ++r) {
        std::copy(e_.base_margin.begin(), e_.base_margin.end(), out + r * no);
      }
      for (size_t t = 0; t < e_.tree_offset.size(); ++t) {
        const WalkNode* tree = walk_.data() + e_.tree_offset[t];
        const int depth = depth_[t];
        const int output = e_.tree_output[t];
        // Every row takes `depth` steps, without a branch on the data: a leaf steps to itself,
        // and each step picks its child with a select; so rows do not mispredict, and the
        // steps of consecutive rows overlap.
        int64_t r = begin;
        for (; r + kInterleave <= end; r += kInterleave) {  // kInterleave rows side by side
          uint32_t n[kInterleave] = {};
          for (int d = 0; d < depth; ++d) {
            for (int j = 0; j < kInterleave; ++j) n[j] = Step(tree[n[j]], features + (r + j) * nf);
          }
          for (int j = 0; j < kInterleave; ++j) out[(r + j) * no + output] += tree[n[j]].value;
        }
        for (; r < end; ++r) {
          uint32_t n = 0;
          for (int d = 0; d < depth; ++d) n = Step(tree[n], features + r * nf);
          out[r * no + output] += tree[n].value;
        }
      }
    }
    float* end = out + rows * no;
    switch (e_.transform) {
      case TreeEnsemble::Transform::kIdentity:
        break;
      case TreeEnsemble::Transform::kExp:
        for (float* p = out; p < end; ++p) *p = std::exp(*p);
        break;
      case TreeEnsemble::Transform::kSigmoid:
        for (float* p = out; p < end; ++p) *p = 1.0f / (1.0f + std::exp(-*p));
        break;
    }
    return OkStatus();
  }

 private:
  // The nodes as Predict walks them: a leaf's children are itself.
  struct WalkNode {
    float value;  // split condition, or the leaf value
    uint32_t left, right;
    uint32_t feature;  // split feature, top bit set when missing values go left (a leaf's: 0)
  };
  static_assert(sizeof(WalkNode) == 16);
  static constexpr int kInterleave = 8;

  // The child of `node` that row `x` goes to (a leaf: itself).
  static uint32_t Step(const WalkNode& node, const float* x) {
    const float v = x[node.feature & ~kDefaultLeftBit];
    const bool left = std::isnan(v) ? (node.feature & kDefaultLeftBit) != 0 : v < node.value;
    return left ? node.left : node.right;
  }

  void BuildWalk() {
    walk_.resize(e_.nodes.size());
    depth_.assign(e_.tree_offset.size(), 0);
    for (size_t t = 0; t < e_.tree_offset.size(); ++t) {
      const size_t base = static_cast<size_t>(e_.tree_offset[t]);
      const size_t end = t + 1 < e_.tree_offset.size() ? static_cast<size_t>(e_.tree_offset[t + 1])
                                                       : e_.nodes.size();
      for (size_t k = base; k < end; ++k) {
        const TreeEnsemble::Node& n = e_.nodes[k];
        const auto i = static_cast<uint32_t>(k - base);
        WalkNode& w = walk_[k];
        w.value = n.value;
        if (n.left < 0) {
          w.left = w.right = i;
          w.feature = 0;
        } else {
          w.left = static_cast<uint32_t>(n.left);
          w.right = static_cast<uint32_t>(n.right);
          w.feature = n.feature;
        }
      }
      // Depth by a walk from the root (children may come before or after their parent).
      std::vector<std::pair<uint32_t, int>> stack = {{0u, 0}};
      while (!stack.empty()) {
        const auto [i, d] = stack.back();
        stack.pop_back();
        depth_[t] = std::max(depth_[t], d);
        const TreeEnsemble::Node& n = e_.nodes[base + i];
        if (n.left >= 0) {
          stack.push_back({static_cast<uint32_t>(n.left), d + 1});
          stack.push_back({static_cast<uint32_t>(n.right), d + 1});
        }
      }
    }
    e_.nodes = {};  // walk_ holds them now
  }

  TreeEnsemble e_;
  std::vector<WalkNode> walk_;  // the ensemble's nodes (e_.nodes, emptied once these are built)
  std::vector<int> depth_;      // per tree: the most steps from its root to a leaf
};

Status ParseTree(const Json& tree, int num_features, const std::string& where, TreeEnsemble& e) {
  const auto left = tree.at("left_children").get<std::vector<int64_t>>();
  const auto right = tree.at("right_children").get<std::vector<int64_t>>();
  const auto feature = tree.at("split_indices").get<std::vector<int64_t>>();
  const auto condition = tree.at("split_conditions").get<std::vector<double>>();
  const Json& default_left = tree.at("default_left");
  const size_t n = left.size();
  if (n == 0 || right.size() != n || feature.size() != n || condition.size() != n ||
      default_left.size() != n) {
    return DataLossError(where + ": node arrays are empty or of different lengths");
  }
  if (tree.contains("split_type")) {
    for (const Json& t : tree.at("split_type")) {
      if (t.get<int>() != 0) return UnimplementedError(where + ": categorical splits");
    }
  }
  e.tree_offset.push_back(static_cast<int64_t>(e.nodes.size()));
  for (size_t i = 0; i < n; ++i) {
    TreeEnsemble::Node node{};
    node.value = static_cast<float>(condition[i]);
    if (left[i] < 0) {
      node.left = node.right = -1;
    } else {
      if (left[i] >= static_cast<int64_t>(n) || right[i] < 0 ||
          right[i] >= static_cast<int64_t>(n)) {
        return DataLossError(where + ": node " + std::to_string(i) + " has bad children");
      }
      if (feature[i] < 0 || feature[i] >= num_features) {
        return DataLossError(where + ": node " + std::to_string(i) + " splits on feature " +
                             std::to_string(feature[i]) + " of " + std::to_string(num_features));
      }
      node.left = static_cast<int32_t>(left[i]);
      node.right = static_cast<int32_t>(right[i]);
      const Json& d = default_left[i];
      bool goes_left = d.is_boolean() ? d.get<bool>() : d.get<int>() != 0;
      node.feature = static_cast<uint32_t>(feature[i]) | (goes_left ? kDefaultLeftBit : 0u);
    }
    e.nodes.push_back(node);
  }
  // Every node reachable from the root exactly once: no cycles for Predict to loop in.
  std::vector<char> seen(n, 0);
  std::vector<int64_t> stack = {0};
  while (!stack.empty()) {
    int64_t i = stack.back();
    stack.pop_back();
    if (seen[i]) return DataLossError(where + ": node " + std::to_string(i) + " reached twice");
    seen[i] = 1;
    if (left[i] >= 0) {
      stack.push_back(left[i]);
      stack.push_back(right[i]);
    }
  }
  return OkStatus();
}

}  // namespace

StatusOr<TreeEnsemble> ParseXgboostJson(const std::string& json_text, const std::string& name) {
  Json j = Json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return DataLossError(name + ": not an XGBoost JSON model (JSON does not parse)");
  }
  TreeEnsemble e;
  try {
    const Json& learner = j.at("learner");
    const Json& params = learner.at("learner_model_param");
    e.objective = learner.at("objective").at("name").get<std::string>();
    const Json& booster = learner.at("gradient_booster");
    const std::string booster_name = booster.at("name").get<std::string>();
    if (booster_name != "gbtree") {
      return UnimplementedError(name + ": booster '" + booster_name + "' (only gbtree)");
    }
    e.num_features = static_cast<int>(NumberParam(params, "num_feature"));
    const int num_class =
        params.contains("num_class") ? static_cast<int>(NumberParam(params, "num_class")) : 0;
    if (num_class > 1) return UnimplementedError(name + ": multi-class models");
    e.num_outputs = params.contains("num_target")
                        ? std::max(1, static_cast<int>(NumberParam(params, "num_target")))
                        : 1;
    if (e.num_features <= 0) return DataLossError(name + ": num_feature must be positive");
    const float base_score = static_cast<float>(NumberParam(params, "base_score"));
    float margin = base_score;
    if (e.objective == "reg:squarederror" || e.objective == "reg:squaredlogerror" ||
        e.objective == "reg:pseudohubererror" || e.objective == "reg:absoluteerror" ||
        e.objective == "binary:logitraw" || e.objective == "reg:linear") {
      e.transform = TreeEnsemble::Transform::kIdentity;
    } else if (e.objective == "count:poisson" || e.objective == "reg:tweedie" ||
               e.objective == "reg:gamma") {
      e.transform = TreeEnsemble::Transform::kExp;
      margin = std::log(base_score);
    } else if (e.objective == "binary:logistic" || e.objective == "reg:logistic") {
      e.transform = TreeEnsemble::Transform::kSigmoid;
      margin = -std::log(1.0f / base_score - 1.0f);
    } else {
      return UnimplementedError(name + ": objective '" + e.objective + "'");
    }
    e.base_margin.assign(e.num_outputs, margin);
    const Json& model = booster.at("model");
    const Json& trees = model.at("trees");
    const Json& tree_info = model.at("tree_info");
    if (tree_info.size() != trees.size()) {
      return DataLossError(name + ": tree_info and trees differ in length");
    }
    for (size_t t = 0; t < trees.size(); ++t) {
      int output = tree_info[t].get<int>();
      if (output < 0 || output >= e.num_outputs) {
        return DataLossError(name + ": tree " + std::to_string(t) + " adds to output " +
                             std::to_string(output) + " of " + std::to_string(e.num_outputs));
      }
      e.tree_output.push_back(output);
      RETURN_IF_ERROR(ParseTree(trees[t], e.num_features, name + ": tree " + std::to_string(t), e));
    }
  } catch (const Json::exception& ex) {
    return DataLossError(name + ": not an XGBoost JSON model: " + ex.what());
  } catch (const std::exception& ex) {  // std::stod on a malformed parameter
    return DataLossError(name + ": bad model parameter: " + ex.what());
  }
  return e;
}

StatusOr<std::vector<std::string>> XgboostModelFiles(const std::string& artifact_path) {
  struct stat st;
  if (stat(artifact_path.c_str(), &st) != 0) return ErrnoError("stat", artifact_path, errno);
  std::string folder = artifact_path;
  if (!S_ISDIR(st.st_mode)) {
    // A registry artifact is a file: "<folder>/output_0.json" names the whole per-output set.
    const size_t slash = artifact_path.find_last_of('/');
    const std::string base =
        slash == std::string::npos ? artifact_path : artifact_path.substr(slash + 1);
    if (base != "output_0.json") return std::vector<std::string>{artifact_path};
    folder = slash == std::string::npos ? "." : artifact_path.substr(0, slash);
  }
  std::vector<std::string> files;
  for (int k = 0;; ++k) {
    std::string file = folder + "/output_" + std::to_string(k) + ".json";
    if (!FileExists(file)) break;
    files.push_back(file);
  }
  if (files.empty()) {
    return NotFoundError(artifact_path + ": folder holds no output_0.json (XGBoost model)");
  }
  return files;
}

StatusOr<std::unique_ptr<Model>> LoadNativeTreesModel(const std::string& artifact_path,
                                                      const LoadOptions& options) {
  ASSIGN_OR_RETURN(TreeEnsemble e, ReadXgboostEnsemble(artifact_path));
  return std::unique_ptr<Model>(new NativeTreesModel(std::move(e)));
}

StatusOr<TreeEnsemble> ReadXgboostEnsemble(const std::string& artifact_path) {
  ASSIGN_OR_RETURN(std::vector<std::string> files, XgboostModelFiles(artifact_path));
  TreeEnsemble merged;
  for (size_t i = 0; i < files.size(); ++i) {
    ASSIGN_OR_RETURN(std::string text, ReadFile(files[i]));
    ASSIGN_OR_RETURN(TreeEnsemble e, ParseXgboostJson(text, files[i]));
    if (i == 0) {
      merged = std::move(e);
      continue;
    }
    if (e.num_features != merged.num_features || e.transform != merged.transform) {
      return InvalidArgumentError(files[i] + ": differs from " + files[0] +
                                  " in num_feature or objective transform");
    }
    const int64_t node_base = static_cast<int64_t>(merged.nodes.size());
    merged.nodes.insert(merged.nodes.end(), e.nodes.begin(), e.nodes.end());
    for (size_t t = 0; t < e.tree_offset.size(); ++t) {
      merged.tree_offset.push_back(node_base + e.tree_offset[t]);
      merged.tree_output.push_back(merged.num_outputs + e.tree_output[t]);
    }
    merged.base_margin.insert(merged.base_margin.end(), e.base_margin.begin(), e.base_margin.end());
    merged.num_outputs += e.num_outputs;
  }
  return merged;
}

}  // namespace bimride::models::native
