// Small file helpers shared by every component. All return errors naming the path.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace bimride {

StatusOr<std::string> ReadFile(const std::string& path);
// Writes `contents` to `path` atomically: a temporary file in the same folder, fsync, rename,
// fsync of the folder. Readers see the old file or the new one, never a half-written one.
Status WriteFileAtomic(const std::string& path, std::string_view contents);
bool FileExists(const std::string& path);
// Creates the folder and its parents (like mkdir -p).
Status MakeDirs(const std::string& path);

}  // namespace bimride
