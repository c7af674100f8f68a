// SeedEnsemble: K models of one kind trained with different training seeds on the same rows,
// served as one model whose prediction is the mean of its members' (per row and output). With
// K = 1 it predicts exactly what its one member does.
//
// On disk (backend "seed_ensemble"): a folder holding `seed_ensemble.json`
//   {"members": [{"backend": "torchscript", "path": "member_0/model.pt"}, …]}
// with each member's artifacts at its relative path; LoadModel("seed_ensemble", <that json>)
// loads every member with its own backend. Members must agree on num_features and num_outputs.
// Thread safety: Predict() may be called from many threads at once (as the members allow).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "models/model.h"

namespace bimride::models {

inline constexpr char kSeedEnsembleBackend[] = "seed_ensemble";
inline constexpr char kSeedEnsembleFile[] = "seed_ensemble.json";

struct SeedEnsembleMember {
  std::string backend;  // the member's own backend ("torchscript", "xgboost", …)
  std::string path;     // what LoadModel takes, relative to the ensemble's folder
};

class SeedEnsembleModel final : public Model {
 public:
  // InvalidArgument when `members` is empty, one is null, or they disagree on widths.
  static StatusOr<std::unique_ptr<SeedEnsembleModel>> Create(
      std::vector<std::unique_ptr<Model>> members);

  std::string_view backend() const override { return kSeedEnsembleBackend; }
  int num_features() const override { return members_.front()->num_features(); }
  int num_outputs() const override { return members_.front()->num_outputs(); }
  Status Predict(const float* features, int64_t rows, float* out) const override;
  size_t size() const { return members_.size(); }

 private:
  explicit SeedEnsembleModel(std::vector<std::unique_ptr<Model>> members)
      : members_(std::move(members)) {}
  std::vector<std::unique_ptr<Model>> members_;
};

// The JSON of seed_ensemble.json for these members.
std::string SeedEnsembleToJson(const std::vector<SeedEnsembleMember>& members);

// Loads `path_or_folder` (a seed_ensemble.json, or the folder holding one) and every member it
// names. InvalidArgument naming the file when it is malformed (no members, a member without
// backend or path, a path leaving the folder); a member's own load error with the file as
// context.
StatusOr<std::unique_ptr<Model>> LoadSeedEnsembleModel(const std::string& path_or_folder,
                                                       const LoadOptions& options);

}  // namespace bimride::models
