// ExportConsole: the console as static files (`bimride console export DIR`): the pages and
// libraries, and every page's data (ConsoleData::ExportPaths) as `data/<path with / as ~>.js`
// scripts that set window.BIMRIDE_DATA[path], so the export opens from disk (file://, where a
// page may not fetch) or from any static web server. The pages know they are static from
// static.js.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "console/console_data.h"
#include "console/console_handler.h"

namespace bimride::console {

struct ExportReport {
  std::vector<std::string> written;  // data paths written
  std::vector<std::string> skipped;  // "path: why" — data a page will show as missing
};

// Errors: the folder cannot be written. A data path whose answer is an error (a version folder
// gone from disk, no zone shapefile) is skipped and listed, not fatal.
StatusOr<ExportReport> ExportConsole(ConsoleData& data,
                                     const std::map<std::string, StaticAsset>& assets,
                                     const std::string& out_dir);

// "models/eta/versions/3" → "models~eta~versions~3" (the data file's name without ".js").
std::string ExportKey(std::string_view path);

}  // namespace bimride::console
