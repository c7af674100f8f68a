#include "console/console_export.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/file.h"

namespace bimride::console {

std::string ExportKey(std::string_view path) {
  std::string key(path);
  for (char& c : key) {
    if (c == '/') c = '~';
  }
  return key;
}

StatusOr<ExportReport> ExportConsole(ConsoleData& data,
                                     const std::map<std::string, StaticAsset>& assets,
                                     const std::string& out_dir) {
  RETURN_IF_ERROR(MakeDirs(out_dir + "/data"));
  for (const auto& [rel, asset] : assets) {
    const std::string path = out_dir + "/" + rel;
    RETURN_IF_ERROR(MakeDirs(std::filesystem::path(path).parent_path().string()));
    RETURN_IF_ERROR(WriteFileAtomic(path, asset.body));
  }
  RETURN_IF_ERROR(WriteFileAtomic(out_dir + "/static.js", "window.BIMRIDE_STATIC = true;\n"));
  ExportReport report;
  ASSIGN_OR_RETURN(std::vector<std::string> paths, data.ExportPaths());
  for (const std::string& p : paths) {
    StatusOr<std::string> body = data.Get(p, "");
    if (!body.ok()) {
      report.skipped.push_back(p + ": " + body.status().message());
      continue;
    }
    const std::string script = "(window.BIMRIDE_DATA = window.BIMRIDE_DATA || {})[" +
                               nlohmann::json(p).dump() + "] = " + *body + ";\n";
    RETURN_IF_ERROR(WriteFileAtomic(out_dir + "/data/" + ExportKey(p) + ".js", script));
    report.written.push_back(p);
  }
  return report;
}

}  // namespace bimride::console
