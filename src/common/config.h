// Config: a JSON configuration file read once, queried by dotted path ("server.port").
//
//   ASSIGN_OR_RETURN(Config cfg, Config::Load("serve.json"));
//   int64_t port = cfg.GetInt("server.port", 8501);            // default when absent
//   ASSIGN_OR_RETURN(std::string repo, cfg.RequireString("server.model_repo"));
//
// A value of the wrong type is an error (never silently defaulted): Require* returns
// InvalidArgument naming the file and the path; Get* with a default returns the default only
// when the key is absent, and `TypeErrors()` lists keys that were present with a wrong type.
// Thread safety: immutable after Load; safe to read from many threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace bimride {

class Config {
 public:
  Config();
  ~Config();
  Config(Config&&) noexcept;
  Config& operator=(Config&&) noexcept;

  static StatusOr<Config> Load(const std::string& path);
  static StatusOr<Config> Parse(const std::string& json_text, const std::string& source_name);

  bool Has(const std::string& path) const;
  StatusOr<std::string> RequireString(const std::string& path) const;
  StatusOr<int64_t> RequireInt(const std::string& path) const;
  StatusOr<double> RequireDouble(const std::string& path) const;
  StatusOr<bool> RequireBool(const std::string& path) const;

  // Absent -> default; present with a wrong type -> InvalidArgument.
  StatusOr<std::string> GetString(const std::string& path, const std::string& def) const;
  StatusOr<int64_t> GetInt(const std::string& path, int64_t def) const;
  StatusOr<double> GetDouble(const std::string& path, double def) const;
  StatusOr<bool> GetBool(const std::string& path, bool def) const;

  // The JSON text of the subtree at `path` ("" for the whole document).
  StatusOr<std::string> SubtreeJson(const std::string& path) const;
  const std::string& source() const { return source_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string source_;
};

}  // namespace bimride
