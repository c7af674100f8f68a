#include "tasks/demand/demand_data.h"

#include "common/civil_time.h"
#include "data/trip_loader.h"

namespace bimride::tasks::demand {

StatusOr<DemandData> LoadDemandGrid(const DemandDataOptions& options) {
  if (options.trip_files.empty()) return InvalidArgumentError("demand data: no trip files");
  data::LoadTripsOptions load;
  load.zones_dir = options.zones_dir;
  load.layout_file = options.layout_file;
  ASSIGN_OR_RETURN(data::TripTable trips, data::LoadTrips(options.trip_files, load));
  return MakeDemandGrid(trips, options);
}

StatusOr<DemandData> MakeDemandGrid(const data::TripTable& trips,
                                    const DemandDataOptions& options) {
  features::DemandGridOptions go;
  go.bucket_minutes = options.bucket_minutes;
  go.start_us = options.begin_us;
  go.end_us = options.end_us;
  DemandData out;
  ASSIGN_OR_RETURN(features::DemandGrid all,
                   features::DemandGrid::FromTrips(trips, go, &out.report));
  const int64_t zb = all.BucketOf(options.zones_begin_us), ze = all.BucketOf(options.zones_end_us);
  const std::vector<int32_t> zones = all.ZonesWithPickups(zb, ze);
  if (zones.empty()) {
    return NotFoundError("demand data: no pickup in [" + FormatCivil(options.zones_begin_us) +
                         ", " + FormatCivil(options.zones_end_us) + ") in " +
                         (options.trip_files.empty() ? std::string("the trips")
                                                     : options.trip_files.front()) +
                         (options.trip_files.size() > 1 ? " and the other files" : ""));
  }
  ASSIGN_OR_RETURN(out.grid, all.WithZones(zones));
  out.dropped_zone_trips = static_cast<int64_t>(all.Total() - out.grid.Total());
  return out;
}

}  // namespace bimride::tasks::demand
