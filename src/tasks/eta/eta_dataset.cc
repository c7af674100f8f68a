#include "tasks/eta/eta_dataset.h"

#include <cmath>
#include <sstream>

namespace bimride::tasks::eta {

std::string EtaDatasetReport::ToString() const {
  std::ostringstream s;
  s << loaded << " rows loaded (" << loader_quarantined << " quarantined by validation), "
    << removed_no_duration << " without a duration, " << removed_unknown_zone
    << " with an unknown zone, " << removed_too_short << " shorter and " << removed_too_long
    << " longer than the filter '" << filter << "', " << kept << " kept";
  return s.str();
}

StatusOr<EtaDataset> MakeEtaDataset(const data::TripTable& trips,
                                    const EtaDatasetOptions& options) {
  if (!(options.min_minutes >= 0) || !(options.max_minutes > options.min_minutes)) {
    return InvalidArgumentError("ETA filter: need 0 <= min_minutes < max_minutes");
  }
  RETURN_IF_ERROR(trips.CheckConsistent());
  EtaDataset d;
  EtaDatasetReport& r = d.report;
  r.loaded = static_cast<int64_t>(trips.size());
  std::ostringstream filter;
  if (options.apply_duration_filter) {
    filter << options.min_minutes << " <= duration_min <= " << options.max_minutes;
  } else {
    filter << "duration_min > 0";
  }
  r.filter = filter.str();
  std::vector<size_t> keep;
  keep.reserve(trips.size());
  for (size_t i = 0; i < trips.size(); ++i) {
    const double m = trips.DurationMinutes(i);
    if (!std::isfinite(m)) {
      ++r.removed_no_duration;
    } else if (trips.pickup_zone[i] <= 0 || trips.dropoff_zone[i] <= 0) {
      ++r.removed_unknown_zone;
    } else if (options.apply_duration_filter ? m < options.min_minutes : m <= 0) {
      ++r.removed_too_short;
    } else if (options.apply_duration_filter && m > options.max_minutes) {
      ++r.removed_too_long;
    } else {
      keep.push_back(i);
      d.minutes.push_back(static_cast<float>(m));
    }
  }
  r.kept = static_cast<int64_t>(keep.size());
  d.trips = trips.Take(keep);
  return d;
}

StatusOr<EtaDataset> LoadEtaDataset(const std::vector<std::string>& paths,
                                    const data::ZoneIndex* zones,
                                    const EtaDatasetOptions& options) {
  data::LoadTripsOptions lo;
  lo.zones = zones;
  lo.validate = options.validate;
  lo.layout_file = options.layout_file;
  ASSIGN_OR_RETURN(data::LoadedTrips loaded, data::LoadTripsWithReport(paths, lo));
  ASSIGN_OR_RETURN(EtaDataset d, MakeEtaDataset(loaded.trips, options));
  d.report.loader_quarantined = loaded.report.quarantined;
  return d;
}

int TripLengthBand(double miles) {
  if (!(miles >= 1)) return 0;
  if (miles < 2) return 1;
  if (miles < 5) return 2;
  if (miles < 10) return 3;
  return 4;
}

std::string TripLengthBandName(int band) {
  static const char* names[] = {"<1 mi", "1-2 mi", "2-5 mi", "5-10 mi", ">=10 mi"};
  return band >= 0 && band < kTripLengthBands ? names[band] : "?";
}

}  // namespace bimride::tasks::eta
