#include "common/data_dir.h"

#include <cstdlib>
#include <filesystem>

namespace bimride {

std::string DefaultDataDir() {
  const char* env = std::getenv("BIMRIDE_DATA_DIR");
  if (env != nullptr && *env != '\0') return env;
  std::error_code ec;
  if (std::filesystem::is_directory(BIMRIDE_CONFIGURED_DATA_DIR, ec)) {
    return BIMRIDE_CONFIGURED_DATA_DIR;
  }
  return "";
}

std::string DefaultDataPath(const std::string& relative) {
  const std::string dir = DefaultDataDir();
  return dir.empty() ? "" : dir + "/" + relative;
}

}  // namespace bimride
