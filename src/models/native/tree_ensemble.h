// native_trees: evaluates an XGBoost tree ensemble (gbtree, numerical splits) read from
// XGBoost's JSON model format — ours or one saved by Python — without XGBoost.
//
// Semantics follow XGBoost 1.7's CPU predictor: at a split, go left when x[feature] < condition,
// to the default child when x[feature] is NaN; per output, margin = base margin + Σ leaf values
// in tree order (float); then the objective's transform (identity, exp for count:poisson /
// reg:tweedie / reg:gamma, sigmoid for binary:logistic / reg:logistic). Outputs are the targets
// of a multi-target model (tree_info gives each tree's target) or the class margins of
// multi:softmax-free models. Categorical splits, dart and gblinear are Unimplemented.
//
// Layout: nodes of all trees flattened into one array (16 bytes a node); batches run trees
// outer, rows inner in blocks so a tree stays in cache while a block of rows walks it.
// Thread safety: Predict may be called from many threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/model.h"

namespace bimride::models::native {

struct TreeEnsemble {
  struct Node {
    float value;       // split condition, or the leaf value when left < 0
    int32_t left;      // index of the left child within the tree; -1 for a leaf
    int32_t right;
    uint32_t feature;  // split feature; top bit set when missing values go left
  };
  static constexpr uint32_t kDefaultLeftBit = 0x80000000u;  // in Node::feature
  enum class Transform { kIdentity, kExp, kSigmoid };

  int num_features = 0;
  int num_outputs = 1;
  std::vector<float> base_margin;  // num_outputs values
  Transform transform = Transform::kIdentity;
  std::string objective;
  std::vector<Node> nodes;
  std::vector<int64_t> tree_offset;  // first node of each tree
  std::vector<int> tree_output;      // output (target/class) each tree adds to
};

// Parses XGBoost JSON model text; `name` names the source in errors.
StatusOr<TreeEnsemble> ParseXgboostJson(const std::string& json_text, const std::string& name);

// An XGBoost artifact is either one JSON model file (single- or multi-target) or a folder of
// one model per output, output_0.json, output_1.json, … (outputs in that order; what
// xgboost_backend::SaveXgboostModel writes for multi-output models whose objective XGBoost
// cannot train multi-target, e.g. count:poisson). The path of a file named output_0.json
// stands for its whole set (output_0.json, output_1.json, … beside it), so a registry manifest,
// whose artifacts are files, can name a per-output model by its first file. Returns the files
// in output order;
// NotFound when the path does not exist or the folder holds no output_0.json.
StatusOr<std::vector<std::string>> XgboostModelFiles(const std::string& artifact_path);

// The ensemble of an XGBoost artifact (`artifact_path` as in XgboostModelFiles): one model, or
// the per-output models of a folder merged (outputs in order; they must share the transform).
StatusOr<TreeEnsemble> ReadXgboostEnsemble(const std::string& artifact_path);

// The "native_trees" backend loader: `artifact_path` as in XgboostModelFiles. Models of one
// folder must share the output transform.
StatusOr<std::unique_ptr<Model>> LoadNativeTreesModel(const std::string& artifact_path,
                                                      const LoadOptions& options);

}  // namespace bimride::models::native
