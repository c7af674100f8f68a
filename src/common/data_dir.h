// Where the public data sets live (taxi-zone shapefile, weather, trip files), so commands find
// them without flags on a machine set up by scripts/setup.
// Thread safety: pure (reads the environment).
#pragma once

#include <string>

namespace bimride {

// $BIMRIDE_DATA_DIR when set and non-empty; else the data folder this build was configured with
// (CMake's BIMRIDE_DATA_DIR, by default the checkout's ../shared/data) when it exists; else "".
std::string DefaultDataDir();

// DefaultDataDir() + "/" + relative, or "" when there is no data folder.
std::string DefaultDataPath(const std::string& relative);

}  // namespace bimride
