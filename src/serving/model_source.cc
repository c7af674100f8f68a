#include "serving/model_source.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/file.h"
#include "registry/model_repository.h"
#include "registry/registry.h"
#include "serving/signature.h"

namespace bimride::serving {
namespace {

namespace fs = std::filesystem;

std::string Fingerprint(const std::string& dir) {
  struct stat st;
  std::string manifest = dir + "/" + registry::kManifestFileName;
  if (::stat(manifest.c_str(), &st) != 0) return "missing";
  return std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec);
}

}  // namespace

bool IsValidModelName(const std::string& name) { return registry::IsValidModelName(name); }

std::vector<VersionOnDisk> ScanModel(const std::string& repo, const std::string& model) {
  std::vector<VersionOnDisk> out;
  std::error_code ec;
  fs::directory_iterator it(fs::path(repo) / model, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    if (!it->is_directory(ec)) continue;
    auto version = registry::ParseVersionDirName(it->path().filename().string());
    if (!version.ok()) continue;
    std::string dir = it->path().string();
    out.push_back({*version, dir, Fingerprint(dir)});
  }
  std::sort(out.begin(), out.end(),
            [](const VersionOnDisk& a, const VersionOnDisk& b) { return a.version < b.version; });
  return out;
}

StatusOr<std::map<std::string, std::vector<VersionOnDisk>>> ScanRepository(
    const std::string& repo) {
  std::error_code ec;
  if (!fs::is_directory(repo, ec)) {
    return NotFoundError(repo + ": model repository is not a folder");
  }
  std::map<std::string, std::vector<VersionOnDisk>> out;
  fs::directory_iterator it(repo, ec), end;
  if (ec) return InternalError(repo + ": cannot list: " + ec.message());
  for (; !ec && it != end; it.increment(ec)) {
    if (!it->is_directory(ec)) continue;
    std::string name = it->path().filename().string();
    if (!IsValidModelName(name)) continue;
    out[name] = ScanModel(repo, name);
  }
  return out;
}

StatusOr<ServableSpec> LoadServableSpec(const std::string& repo, const std::string& model,
                                        int64_t version) {
  registry::ModelRepository repository(repo);
  ASSIGN_OR_RETURN(registry::Manifest m,
                   repository.LoadVersion(model, version, registry::VerifyMode::kFull));
  ServableSpec spec;
  spec.model = model;
  spec.version = version;
  spec.dir = repository.VersionDir(model, version);
  spec.task = m.task;
  spec.backend = m.backend;
  if (m.artifacts.empty()) return InvalidArgumentError(spec.dir + ": manifest has no artifacts");
  spec.artifact_path = spec.dir + "/" + m.artifacts[0];
  if (!m.inputs.empty()) {
    spec.input_name = m.inputs[0].name;
    if (!m.inputs[0].shape.empty() && m.inputs[0].shape.back() > 0) {
      int64_t width = 1;
      for (size_t i = 1; i < m.inputs[0].shape.size(); ++i) width *= m.inputs[0].shape[i];
      spec.num_features = static_cast<int>(width);
    }
  }
  spec.feature_names = registry::FeatureNames(m);
  if (m.feature_spec.has_value()) {
    spec.feature_spec = m.feature_spec->name;
    spec.feature_spec_version = m.feature_spec->version;
    spec.raw_fields = m.feature_spec->request_fields;
  }
  for (const registry::TensorSpec& o : m.outputs) spec.output_names.push_back(o.name);
  if (auto method = m.properties.find(kServingMethodProperty); method != m.properties.end()) {
    if (method->second != kClassifyMethod && method->second != "regress") {
      return InvalidArgumentError(spec.dir + ": manifest property " + kServingMethodProperty +
                                  " is '" + method->second + "'; expected 'regress' or '" +
                                  kClassifyMethod + "'");
    }
    spec.classifier = method->second == kClassifyMethod;
  }
  return spec;
}

StatusOr<std::unique_ptr<models::Model>> LoadServableModel(ServableSpec* spec,
                                                           const models::LoadOptions& options) {
  auto model = models::LoadModel(spec->backend, spec->artifact_path, options);
  if (!model.ok()) return model.status().WithContext(spec->dir);
  std::unique_ptr<models::Model> m = std::move(model).value();
  if (spec->num_features < 0) spec->num_features = m->num_features();
  if (spec->num_features != m->num_features()) {
    return InvalidArgumentError(spec->dir + ": manifest says " +
                                std::to_string(spec->num_features) + " input features, model has " +
                                std::to_string(m->num_features()));
  }
  if (!spec->feature_names.empty() &&
      static_cast<int>(spec->feature_names.size()) != spec->num_features) {
    return InvalidArgumentError(spec->dir + ": manifest property feature_names names " +
                                std::to_string(spec->feature_names.size()) +
                                " features, the model has " + std::to_string(spec->num_features));
  }
  const int outs = m->num_outputs();
  if (static_cast<int>(spec->output_names.size()) != outs) {
    // One output tensor of width k (shape [-1, k]) names its columns <name>_<i>.
    std::string base = spec->output_names.size() == 1 ? spec->output_names[0] : "output";
    if (spec->output_names.size() > 1) {
      return InvalidArgumentError(spec->dir + ": manifest names " +
                                  std::to_string(spec->output_names.size()) +
                                  " outputs, model has " + std::to_string(outs));
    }
    spec->output_names.clear();
    if (outs == 1) {
      spec->output_names.push_back(base == "output" ? "predictions" : base);
    } else {
      for (int i = 0; i < outs; ++i) spec->output_names.push_back(base + "_" + std::to_string(i));
    }
  }
  return m;
}

StatusOr<std::map<std::string, int64_t>> ReadLabelFile(const std::string& repo,
                                                       const std::string& model) {
  std::map<std::string, int64_t> labels;
  const std::string path = repo + "/" + model + "/" + registry::kLabelsFileName;
  if (!FileExists(path)) return labels;
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return InvalidArgumentError(path + ": must be a JSON object of label → version");
  }
  for (auto& [label, v] : doc.items()) {
    if (!v.is_number_integer() || v.get<int64_t>() <= 0) {
      return InvalidArgumentError(path + ": label '" + label + "' must map to a version number");
    }
    labels[label] = v.get<int64_t>();
  }
  return labels;
}

}  // namespace bimride::serving
