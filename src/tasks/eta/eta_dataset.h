// ETA dataset: trips → (request, label) rows. Label = dropoff − pickup in minutes. The training
// filter keeps min_minutes ≤ duration ≤ max_minutes (default 1..60, the public baseline's);
// every row it removes is counted by reason in the report — nothing is dropped silently.
// Thread safety: pure functions over values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "data/trip_loader.h"
#include "data/trip_table.h"

namespace bimride::tasks::eta {

struct EtaDatasetOptions {
  double min_minutes = 1;
  double max_minutes = 60;
  // Rows outside [min_minutes, max_minutes] are removed when true (training and the issue's
  // evaluation protocol); false keeps every row with a duration (evaluating on all trips).
  bool apply_duration_filter = true;
  // Loader validation (data/trip_validation.h: unknown zones 264/265, implausible speeds, rows
  // outside the file's month, bad fares → quarantined). Off: every row the reader parses is
  // kept, as the public baseline's pandas code reads the files.
  bool validate = true;
  std::string layout_file;  // data::LoadTripsOptions::layout_file
};

struct EtaDatasetReport {
  int64_t loaded = 0;                // rows the loader kept (after its own validation)
  int64_t loader_quarantined = 0;    // rows the loader's validation set aside
  int64_t removed_no_duration = 0;   // missing pickup or dropoff time
  int64_t removed_too_short = 0;     // duration < min_minutes
  int64_t removed_too_long = 0;      // duration > max_minutes
  int64_t removed_unknown_zone = 0;  // pickup or dropoff zone unknown (0)
  int64_t kept = 0;
  std::string filter;  // "1 <= duration_min <= 60"
  // One line: "76518 loaded, 2011 quarantined by validation, 1540 < 1 min, 430 > 60 min, … kept".
  std::string ToString() const;
};

struct EtaDataset {
  data::TripTable trips;       // kept rows
  std::vector<float> minutes;  // label per kept row
  EtaDatasetReport report;
};

// Filters and labels `trips`. InvalidArgument when the options are inconsistent.
StatusOr<EtaDataset> MakeEtaDataset(const data::TripTable& trips, const EtaDatasetOptions& options);

// Loads files (data::LoadTripsWithReport, validation on) and makes the dataset; the loader's
// quarantine count goes into the report. Errors name the file.
StatusOr<EtaDataset> LoadEtaDataset(const std::vector<std::string>& paths,
                                    const data::ZoneIndex* zones, const EtaDatasetOptions& options);

// Trip-length band of a metered distance in miles (NaN → the straight-line distance decides
// upstream): 0 "<1 mi", 1 "1-2 mi", 2 "2-5 mi", 3 "5-10 mi", 4 ">=10 mi".
int TripLengthBand(double miles);
std::string TripLengthBandName(int band);
inline constexpr int kTripLengthBands = 5;

}  // namespace bimride::tasks::eta
