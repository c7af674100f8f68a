#include "serving/model_source.h"

#include <openssl/evp.h>
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/file.h"

namespace bimride::serving {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

bool ParseVersionName(const std::string& name, int64_t* version) {
  if (name.empty() || name.size() > 18) return false;
  auto [ptr, ec] = std::from_chars(name.data(), name.data() + name.size(), *version);
  return ec == std::errc() && ptr == name.data() + name.size() && *version > 0 &&
         name[0] != '0';
}

std::string Fingerprint(const std::string& dir) {
  struct stat st;
  std::string manifest = dir + "/manifest.json";
  if (::stat(manifest.c_str(), &st) != 0) return "missing";
  return std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec);
}

// Reads a string field that may be absent; a present field of another type is an error.
Status OptString(const json& doc, const char* key, std::string* out, const std::string& where) {
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) return OkStatus();
  if (!it->is_string()) return InvalidArgumentError(where + ": '" + key + "' must be a string");
  *out = it->get<std::string>();
  return OkStatus();
}

}  // namespace

bool IsValidModelName(const std::string& name) {
  if (name.empty() || name.size() > 128 || name[0] == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.';
  });
}

std::vector<VersionOnDisk> ScanModel(const std::string& repo, const std::string& model) {
  std::vector<VersionOnDisk> out;
  std::error_code ec;
  fs::directory_iterator it(fs::path(repo) / model, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    if (!it->is_directory(ec)) continue;
    int64_t version = 0;
    if (!ParseVersionName(it->path().filename().string(), &version)) continue;
    std::string dir = it->path().string();
    out.push_back({version, dir, Fingerprint(dir)});
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

StatusOr<ServableSpec> ReadServableSpec(const std::string& model, int64_t version,
                                        const std::string& dir) {
  const std::string path = dir + "/manifest.json";
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return InvalidArgumentError(path + ": not valid JSON");
  if (!doc.is_object()) return InvalidArgumentError(path + ": manifest must be a JSON object");
  try {
    ServableSpec spec;
    spec.model = model;
    spec.version = version;
    spec.dir = dir;
    std::string name;
    RETURN_IF_ERROR(OptString(doc, "name", &name, path));
    if (!name.empty() && name != model) {
      return InvalidArgumentError(path + ": manifest name '" + name + "' does not match folder '" +
                                  model + "'");
    }
    if (auto it = doc.find("version"); it != doc.end()) {
      int64_t v = it->is_number_integer()  ? it->get<int64_t>()
                  : it->is_string()        ? std::atoll(it->get<std::string>().c_str())
                                           : -1;
      if (v != version) {
        return InvalidArgumentError(path + ": manifest version " + it->dump() +
                                    " does not match folder " + std::to_string(version));
      }
    }
    RETURN_IF_ERROR(OptString(doc, "task", &spec.task, path));
    RETURN_IF_ERROR(OptString(doc, "backend", &spec.backend, path));
    if (spec.backend.empty()) return InvalidArgumentError(path + ": 'backend' is missing");

    // Files and digests: {"files": [{"path": "model.pt", "sha256": "…"}]} or
    // {"sha256": {"model.pt": "…"}}.
    if (auto it = doc.find("files"); it != doc.end()) {
      if (!it->is_array()) return InvalidArgumentError(path + ": 'files' must be an array");
      for (const json& f : *it) {
        if (f.is_string()) {
          spec.digests.push_back({f.get<std::string>(), ""});
          continue;
        }
        if (!f.is_object() || !f.contains("path") || !f["path"].is_string()) {
          return InvalidArgumentError(path + ": each of 'files' needs a string 'path'");
        }
        FileDigest d{f["path"].get<std::string>(), ""};
        if (f.contains("sha256")) d.sha256 = f["sha256"].get<std::string>();
        spec.digests.push_back(d);
      }
    }
    if (auto it = doc.find("sha256"); it != doc.end() && it->is_object()) {
      for (auto& [file, digest] : it->items()) {
        spec.digests.push_back({file, digest.get<std::string>()});
      }
    }
    for (const FileDigest& d : spec.digests) {
      if (d.path.empty() || d.path[0] == '/' || d.path.find("..") != std::string::npos) {
        return InvalidArgumentError(path + ": file path '" + d.path +
                                    "' must be relative to the version folder");
      }
    }
    std::string artifact;
    RETURN_IF_ERROR(OptString(doc, "artifact", &artifact, path));
    if (artifact.empty() && !spec.digests.empty()) artifact = spec.digests.front().path;
    if (artifact.empty()) return InvalidArgumentError(path + ": 'artifact' is missing");
    if (artifact[0] == '/' || artifact.find("..") != std::string::npos) {
      return InvalidArgumentError(path + ": artifact '" + artifact +
                                  "' must be relative to the version folder");
    }
    spec.artifact_path = dir + "/" + artifact;

    // Input signature: {"inputs": [{"name": "features", "datatype": "FP32", "shape": [-1, 8]}]}.
    if (auto it = doc.find("inputs"); it != doc.end()) {
      if (!it->is_array() || it->empty() || !(*it)[0].is_object()) {
        return InvalidArgumentError(path + ": 'inputs' must be a non-empty array of objects");
      }
      const json& in = (*it)[0];
      if (in.contains("name")) spec.input_name = in["name"].get<std::string>();
      if (in.contains("shape")) {
        const json& shape = in["shape"];
        if (!shape.is_array() || shape.empty() || !shape.back().is_number_integer()) {
          return InvalidArgumentError(path + ": input 'shape' must be an array of integers");
        }
        int64_t width = shape.back().get<int64_t>();
        if (width > 0) spec.num_features = static_cast<int>(width);
      }
    }
    // Feature spec: {"feature_spec": {"name": "eta_v1", "raw_fields": ["pickup_zone", …]}}.
    if (auto it = doc.find("feature_spec"); it != doc.end() && !it->is_null()) {
      if (it->is_string()) {
        spec.feature_spec = it->get<std::string>();
      } else if (it->is_object()) {
        if (it->contains("name")) spec.feature_spec = (*it)["name"].get<std::string>();
        if (it->contains("raw_fields")) {
          spec.raw_fields = (*it)["raw_fields"].get<std::vector<std::string>>();
        }
      } else {
        return InvalidArgumentError(path + ": 'feature_spec' must be a string or an object");
      }
    }
    if (auto it = doc.find("raw_fields"); it != doc.end()) {
      spec.raw_fields = it->get<std::vector<std::string>>();
    }
    if (auto it = doc.find("outputs"); it != doc.end()) {
      if (!it->is_array()) return InvalidArgumentError(path + ": 'outputs' must be an array");
      for (const json& o : *it) {
        if (o.is_string()) {
          spec.output_names.push_back(o.get<std::string>());
        } else if (o.is_object() && o.contains("name")) {
          spec.output_names.push_back(o["name"].get<std::string>());
        } else {
          return InvalidArgumentError(path + ": each output needs a 'name'");
        }
      }
    }
    return spec;
  } catch (const json::exception& e) {
    return InvalidArgumentError(path + ": " + e.what());
  }
}

StatusOr<std::string> Sha256File(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return ErrnoError("open", path, errno);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) EVP_DigestUpdate(ctx, buf, n);
  bool read_error = std::ferror(f) != 0;
  std::fclose(f);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  if (read_error) return InternalError(path + ": read error");
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[md[i] >> 4];
    hex += kHex[md[i] & 15];
  }
  return hex;
}

Status VerifyDigests(const ServableSpec& spec) {
  for (const FileDigest& d : spec.digests) {
    const std::string path = spec.dir + "/" + d.path;
    if (!FileExists(path)) return NotFoundError(path + ": listed in the manifest but missing");
    if (d.sha256.empty()) continue;
    ASSIGN_OR_RETURN(std::string actual, Sha256File(path));
    std::string want = d.sha256;
    std::transform(want.begin(), want.end(), want.begin(), ::tolower);
    if (actual != want) {
      return DataLossError(path + ": sha256 mismatch: manifest says " + want + ", file has " +
                           actual);
    }
  }
  return OkStatus();
}

StatusOr<std::unique_ptr<models::Model>> LoadServableModel(ServableSpec* spec,
                                                           const models::LoadOptions& options) {
  RETURN_IF_ERROR(VerifyDigests(*spec));
  auto model = models::LoadModel(spec->backend, spec->artifact_path, options);
  if (!model.ok()) return model.status().WithContext(spec->dir);
  std::unique_ptr<models::Model> m = std::move(model).value();
  if (spec->num_features < 0) spec->num_features = m->num_features();
  if (spec->num_features != m->num_features()) {
    return InvalidArgumentError(spec->dir + ": manifest says " +
                                std::to_string(spec->num_features) + " input features, model has " +
                                std::to_string(m->num_features()));
  }
  if (spec->output_names.empty()) {
    if (m->num_outputs() == 1) {
      spec->output_names.push_back("predictions");
    } else {
      for (int i = 0; i < m->num_outputs(); ++i) {
        spec->output_names.push_back("output_" + std::to_string(i));
      }
    }
  }
  if (static_cast<int>(spec->output_names.size()) != m->num_outputs()) {
    return InvalidArgumentError(spec->dir + ": manifest names " +
                                std::to_string(spec->output_names.size()) + " outputs, model has " +
                                std::to_string(m->num_outputs()));
  }
  return m;
}

StatusOr<std::map<std::string, int64_t>> ReadLabelFile(const std::string& repo,
                                                       const std::string& model) {
  std::map<std::string, int64_t> labels;
  const std::string path = repo + "/" + model + "/labels.json";
  if (!FileExists(path)) return labels;
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  json doc = json::parse(text, nullptr, false);
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
