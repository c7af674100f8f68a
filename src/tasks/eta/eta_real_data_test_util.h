// Test-only, for the tests on the real trip files (../shared/data; targets that define
// BIMRIDE_DATA_DIR): where the data is, and a dataset's subset of rows.
#pragma once

#include <cstdlib>
#include <string>
#include <vector>

#include "tasks/eta/eta_dataset.h"

namespace bimride::tasks::eta::testing {

// $BIMRIDE_DATA_DIR, or the build's default.
inline std::string DataDir() {
  const char* env = std::getenv("BIMRIDE_DATA_DIR");
  return env != nullptr ? env : BIMRIDE_DATA_DIR;
}

// The trips (and their minutes) at `rows`, in that order; the load report kept.
inline EtaDataset Subset(const EtaDataset& d, const std::vector<size_t>& rows) {
  EtaDataset out;
  out.trips = d.trips.Take(rows);
  for (size_t r : rows) out.minutes.push_back(d.minutes[r]);
  out.report = d.report;
  return out;
}

}  // namespace bimride::tasks::eta::testing
