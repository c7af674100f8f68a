// LoadTrips: the one entry point other components (ETA/demand training, features) call to get
// trips from files. The reader is chosen by content: Parquet by its "PAR1" magic (or by a
// ".parquet" name, so that a damaged Parquet file gets a Parquet error), otherwise CSV (plain or
// gzip) whose layout is read from the header (see trip_csv.h).
//
// With validation on (the default) each file is validated on its own (so each gets its own file
// month), malformed CSV records are quarantined instead of failing the load, and the report says
// how many rows each rule took; kept + quarantined == read for every file and in total. With
// validation off every row is kept and the first malformed record is an error.
// What can fail: NotFound / DataLoss / InvalidArgument naming the file (and line, column);
// InvalidArgument when files of different sources are mixed in one call.
// Thread safety: free functions; the ZoneIndex passed in is only read.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "data/trip_table.h"
#include "data/trip_validation.h"
#include "data/zone_index.h"

namespace bimride::data {

enum class TripFileFormat { kCsv, kParquet };
StatusOr<TripFileFormat> DetectTripFileFormat(const std::string& path);

// The help of every command's --layout flag (LoadTripsOptions::layout_file).
inline constexpr char kLayoutFlagHelp[] =
    "JSON layout file for trip files of a layout the readers do not know: columns → roles, time "
    "formats, units (see README)";

struct LoadTripsOptions {
  // Zones for coordinates-only sources (Kaggle, Uber). When null and a file needs them, a
  // ZoneIndex is loaded from `zones_dir` (empty: $BIMRIDE_DATA_DIR/zones when that is set).
  const ZoneIndex* zones = nullptr;
  std::string zones_dir;
  bool validate = true;
  ValidationRules rules;
  // A layout file (data/trip_layout_file.h) for files of a layout the readers do not know; every
  // file is read with it. Empty: the layout is detected per file.
  std::string layout_file;
  // The TripTable columns wanted (member names: "pickup_time_us", "fare", …); empty: all.
  // Unvalidated Parquet files then decode only these (the others stay null); validation and CSV
  // need every column, so they read all. Unknown names are InvalidArgument.
  std::vector<std::string> columns;
};

struct FileLoadReport {
  std::string path;
  std::string format;  // "parquet" or the CSV layout name
  ValidationReport report;
};

struct LoadedTrips {
  TripTable trips;        // kept rows of all files, in file order
  Quarantine quarantine;  // empty when validation is off
  ValidationReport report;
  std::vector<FileLoadReport> files;
};

StatusOr<LoadedTrips> LoadTripsWithReport(const std::vector<std::string>& paths,
                                          const LoadTripsOptions& options = {});
// The kept rows only; logs a one-line summary at INFO when rows were quarantined.
StatusOr<TripTable> LoadTrips(const std::vector<std::string>& paths,
                              const LoadTripsOptions& options = {});

// Writes trips by the extension of `path`: .csv (this project's layout) or .parquet.
Status SaveTrips(const TripTable& trips, const std::string& path);
// Writes a quarantine by the extension of `path` (.csv or .parquet), with a `rule` column.
Status SaveQuarantine(const Quarantine& quarantine, const std::string& path);

// Human-readable description of a trip file: for Parquet its schema (types), rows, row groups,
// nulls and min/max per column; for CSV the detected layout and rows; for both the validation
// rule counts (unless `validate` is false).
StatusOr<std::string> DescribeTripFile(const std::string& path, const LoadTripsOptions& options);

}  // namespace bimride::data
