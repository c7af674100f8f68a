// The ETA feature context on disk, in a model folder: eta_context.json (spec, options, learned
// global/zone/hour-of-week statistics, defaults and ranges, per-zone centroids and boroughs),
// eta_zone_pairs.csv (the learned pairs) and eta_weather.csv (the weather table). Floats are
// written as text that reads back to the same bits, so a loaded context computes bit-identical
// features to the one that was saved.
//
// Thread safety: free functions; thread-safe for different folders. What can fail: the errors
// of writing files (naming them); NotFound for a missing file, InvalidArgument naming the file
// (and line or field) for one that is not what SaveEtaFeatureContext writes.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "features/eta_context.h"

namespace bimride::features {

// Writes eta_context.json, eta_zone_pairs.csv and eta_weather.csv into `dir` (atomically each).
Status SaveEtaFeatureContext(const EtaFeatureContext& context, const std::string& dir);
// The files SaveEtaFeatureContext writes (names only).
std::vector<std::string> EtaContextFileNames();
StatusOr<EtaFeatureContext> LoadEtaFeatureContext(const std::string& dir);

}  // namespace bimride::features
