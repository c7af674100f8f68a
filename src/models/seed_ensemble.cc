#include "models/seed_ensemble.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/file.h"

namespace bimride::models {

StatusOr<std::unique_ptr<SeedEnsembleModel>> SeedEnsembleModel::Create(
    std::vector<std::unique_ptr<Model>> members) {
  if (members.empty()) return InvalidArgumentError("seed ensemble: no members");
  for (size_t i = 0; i < members.size(); ++i) {
    if (members[i] == nullptr) {
      return InvalidArgumentError("seed ensemble: member " + std::to_string(i) + " is null");
    }
    if (members[i]->num_features() != members[0]->num_features() ||
        members[i]->num_outputs() != members[0]->num_outputs()) {
      return InvalidArgumentError("seed ensemble: member " + std::to_string(i) + " takes " +
                                  std::to_string(members[i]->num_features()) + " features to " +
                                  std::to_string(members[i]->num_outputs()) +
                                  " outputs; member 0 takes " +
                                  std::to_string(members[0]->num_features()) + " to " +
                                  std::to_string(members[0]->num_outputs()));
    }
  }
  return std::unique_ptr<SeedEnsembleModel>(new SeedEnsembleModel(std::move(members)));
}

Status SeedEnsembleModel::Predict(const float* features, int64_t rows, float* out) const {
  if (rows < 0) return InvalidArgumentError("seed ensemble: negative row count");
  const size_t n = static_cast<size_t>(rows) * static_cast<size_t>(num_outputs());
  if (members_.size() == 1) return members_[0]->Predict(features, rows, out);
  std::vector<double> sum(n, 0.0);
  std::vector<float> one(n);
  for (const std::unique_ptr<Model>& m : members_) {
    RETURN_IF_ERROR(m->Predict(features, rows, one.data()));
    for (size_t i = 0; i < n; ++i) sum[i] += one[i];
  }
  const double k = static_cast<double>(members_.size());
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(sum[i] / k);
  return OkStatus();
}

std::string SeedEnsembleToJson(const std::vector<SeedEnsembleMember>& members) {
  nlohmann::json j;
  j["members"] = nlohmann::json::array();
  for (const SeedEnsembleMember& m : members) {
    j["members"].push_back({{"backend", m.backend}, {"path", m.path}});
  }
  return j.dump(2) + "\n";
}

StatusOr<std::unique_ptr<Model>> LoadSeedEnsembleModel(const std::string& path_or_folder,
                                                       const LoadOptions& options) {
  std::error_code ec;
  const std::string artifact_path = std::filesystem::is_directory(path_or_folder, ec)
                                        ? path_or_folder + "/" + kSeedEnsembleFile
                                        : path_or_folder;
  ASSIGN_OR_RETURN(const std::string text, ReadFile(artifact_path));
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgumentError(artifact_path + ": not a JSON object");
  }
  const auto it = j.find("members");
  if (it == j.end() || !it->is_array() || it->empty()) {
    return InvalidArgumentError(artifact_path + ": 'members' must be a non-empty array");
  }
  const size_t slash = artifact_path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : artifact_path.substr(0, slash);
  std::vector<std::unique_ptr<Model>> members;
  for (size_t i = 0; i < it->size(); ++i) {
    const nlohmann::json& m = (*it)[i];
    const std::string where = artifact_path + ": members[" + std::to_string(i) + "]";
    if (!m.is_object() || !m.contains("backend") || !m["backend"].is_string() ||
        !m.contains("path") || !m["path"].is_string()) {
      return InvalidArgumentError(where + ": want {\"backend\": string, \"path\": string}");
    }
    const std::string path = m["path"].get<std::string>();
    if (path.empty() || path.front() == '/' || path.find("..") != std::string::npos) {
      return InvalidArgumentError(where + ": path '" + path +
                                  "' must be relative and inside the ensemble's folder");
    }
    const std::string backend = m["backend"].get<std::string>();
    if (backend == kSeedEnsembleBackend) {
      return InvalidArgumentError(where + ": a member cannot itself be a seed ensemble");
    }
    StatusOr<std::unique_ptr<Model>> loaded = LoadModel(backend, dir + "/" + path, options);
    if (!loaded.ok()) return loaded.status().WithContext(where);
    members.push_back(std::move(loaded).value());
  }
  StatusOr<std::unique_ptr<SeedEnsembleModel>> e = SeedEnsembleModel::Create(std::move(members));
  if (!e.ok()) return e.status().WithContext(artifact_path);
  return std::unique_ptr<Model>(std::move(e).value());
}

}  // namespace bimride::models
