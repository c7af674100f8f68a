// Loading a demand grid from trip files: data::LoadTrips (any source; coordinate-only sources
// get zones from the ZoneIndex in `zones_dir`) → DemandGrid over [begin, end) restricted to
// the zones with at least one pickup in the training window (the protocol's zone set; the grid
// keeps explicit zeros for them everywhere else).
// What can fail: the loader's errors (naming the file), InvalidArgument for bad windows, or
// NotFound when no zone has a training pickup. Thread safety: free function.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "data/trip_table.h"
#include "features/demand_grid.h"

namespace bimride::tasks::demand {

struct DemandDataOptions {
  std::vector<std::string> trip_files;
  int bucket_minutes = 60;
  int64_t begin_us = 0, end_us = 0;              // the grid's window
  int64_t zones_begin_us = 0, zones_end_us = 0;  // zones with a pickup here are kept
  std::string zones_dir;                         // for Uber/Kaggle coordinates; empty: default
  std::string layout_file;                       // data::LoadTripsOptions::layout_file
};

struct DemandData {
  features::DemandGrid grid;
  features::DemandGridReport report;  // of the grid over all zones seen in the window
  int64_t dropped_zone_trips = 0;     // pickups in zones without a training pickup
};

StatusOr<DemandData> LoadDemandGrid(const DemandDataOptions& options);

// The same from trips already loaded (options.trip_files only name them in errors): what
// LoadDemandGrid does after reading, and what the Python module calls on its trip columns.
StatusOr<DemandData> MakeDemandGrid(const data::TripTable& trips,
                                    const DemandDataOptions& options);

}  // namespace bimride::tasks::demand
