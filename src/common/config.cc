#include "common/config.h"

#include <nlohmann/json.hpp>

#include "common/file.h"

namespace bimride {

struct Config::Impl {
  nlohmann::json doc;
};

Config::Config() : impl_(std::make_unique<Impl>()) {}
Config::~Config() = default;
Config::Config(Config&&) noexcept = default;
Config& Config::operator=(Config&&) noexcept = default;

StatusOr<Config> Config::Load(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return Parse(text, path);
}

StatusOr<Config> Config::Parse(const std::string& json_text, const std::string& source_name) {
  Config cfg;
  cfg.source_ = source_name;
  cfg.impl_->doc = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (cfg.impl_->doc.is_discarded()) {
    return InvalidArgumentError(source_name + ": not valid JSON");
  }
  if (!cfg.impl_->doc.is_object()) {
    return InvalidArgumentError(source_name + ": top level must be a JSON object");
  }
  return cfg;
}

namespace {

const nlohmann::json* Lookup(const nlohmann::json& doc, const std::string& path) {
  const nlohmann::json* node = &doc;
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!node->is_object()) return nullptr;
    auto it = node->find(key);
    if (it == node->end()) return nullptr;
    node = &*it;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return node;
}

Status WrongType(const std::string& source, const std::string& path, const char* want) {
  return InvalidArgumentError(source + ": '" + path + "' must be " + want);
}

}  // namespace

bool Config::Has(const std::string& path) const { return Lookup(impl_->doc, path) != nullptr; }

StatusOr<std::string> Config::RequireString(const std::string& path) const {
  const nlohmann::json* v = Lookup(impl_->doc, path);
  if (v == nullptr) return NotFoundError(source_ + ": missing '" + path + "'");
  if (!v->is_string()) return WrongType(source_, path, "a string");
  return v->get<std::string>();
}
StatusOr<int64_t> Config::RequireInt(const std::string& path) const {
  const nlohmann::json* v = Lookup(impl_->doc, path);
  if (v == nullptr) return NotFoundError(source_ + ": missing '" + path + "'");
  if (!v->is_number_integer()) return WrongType(source_, path, "an integer");
  return v->get<int64_t>();
}
StatusOr<double> Config::RequireDouble(const std::string& path) const {
  const nlohmann::json* v = Lookup(impl_->doc, path);
  if (v == nullptr) return NotFoundError(source_ + ": missing '" + path + "'");
  if (!v->is_number()) return WrongType(source_, path, "a number");
  return v->get<double>();
}
StatusOr<bool> Config::RequireBool(const std::string& path) const {
  const nlohmann::json* v = Lookup(impl_->doc, path);
  if (v == nullptr) return NotFoundError(source_ + ": missing '" + path + "'");
  if (!v->is_boolean()) return WrongType(source_, path, "true or false");
  return v->get<bool>();
}

StatusOr<std::string> Config::GetString(const std::string& path, const std::string& def) const {
  if (!Has(path)) return def;
  return RequireString(path);
}
StatusOr<int64_t> Config::GetInt(const std::string& path, int64_t def) const {
  if (!Has(path)) return def;
  return RequireInt(path);
}
StatusOr<double> Config::GetDouble(const std::string& path, double def) const {
  if (!Has(path)) return def;
  return RequireDouble(path);
}
StatusOr<bool> Config::GetBool(const std::string& path, bool def) const {
  if (!Has(path)) return def;
  return RequireBool(path);
}

StatusOr<std::string> Config::SubtreeJson(const std::string& path) const {
  if (path.empty()) return impl_->doc.dump();
  const nlohmann::json* v = Lookup(impl_->doc, path);
  if (v == nullptr) return NotFoundError(source_ + ": missing '" + path + "'");
  return v->dump();
}

}  // namespace bimride
