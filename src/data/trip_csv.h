// Trip CSV sources → TripTable, and TripTable → CSV.
//
// The layout is chosen from the header, never from the file name:
//   TLC yellow (tpep_pickup_datetime…), TLC green (lpep_pickup_datetime…), TLC FHV
//   (pickup_datetime, dropOff_datetime, PUlocationID, DOlocationID, dispatching_base_num…),
//   TLC high-volume FHV (hvfhs_license_num…), the Kaggle "NYC Taxi Trip Duration" CSV
//   (pickup_longitude…, trip_duration), Uber 2014 pickups ("Date/Time","Lat","Lon","Base") and
//   this project's own CSV (WriteTripsCsv). Files may be gzip-compressed (detected by content).
// Times: "YYYY-MM-DD HH:MM:SS[.f]" or US "M/D/YYYY H:MM[:SS][ AM|PM]", naive local time.
// Coordinates-only layouts (Kaggle, Uber, old yellow) get their zones from a ZoneIndex.
// FHV and Uber carry a base number instead of a TLC vendor: `vendor` holds its digits
// (B02512 → 2512).
//
// A malformed record (bad quoting, wrong field count, unparsable number/time, coordinates out of
// range) is an InvalidArgument error "<file>: line N: column 'x': <problem>" — or, with
// keep_malformed, a RejectedRecord kept aside; it is never skipped silently.
// Thread safety: free functions, thread-safe; the ZoneIndex is only read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "data/trip_table.h"
#include "data/zone_index.h"

namespace bimride::data {

enum class CsvLayout : uint8_t {
  kUnknown = 0,
  kTlcYellow,
  kTlcGreen,
  kTlcFhv,
  kTlcFhvhv,
  kKaggle,
  kUber,
  kBimride,
  kSimulator,   // `bimride simulate` trips files (simulator/city_files.h)
  kLayoutFile,  // a user's layout file (CsvReadOptions::layout)
};
std::string_view CsvLayoutName(CsvLayout layout);

// Layout named by a header row (kUnknown when none fits).
CsvLayout DetectCsvLayout(const std::vector<std::string_view>& header);
// True when the layout has coordinates but no zone ids (so reading needs a ZoneIndex).
bool CsvLayoutNeedsZones(CsvLayout layout, const std::vector<std::string_view>& header);

// A record that could not become a trip row.
struct RejectedRecord {
  std::string file;
  int64_t line = 0;     // 1-based physical line where the record starts
  std::string problem;  // "column 'fare_amount': cannot parse 'abc' as a number"
  std::string raw;      // the record's text
};

struct TripLayoutFile;  // data/trip_layout_file.h

struct CsvReadOptions {
  const ZoneIndex* zones = nullptr;  // required for coordinates-only layouts
  bool keep_malformed = false;       // false: the first malformed record is an error
  // Read with this layout instead of detecting one; its columns must all be in the header.
  const TripLayoutFile* layout = nullptr;
};

struct CsvTrips {
  CsvLayout layout = CsvLayout::kUnknown;
  TripTable trips;
  std::vector<int64_t> lines;            // source line of each trip row
  std::vector<RejectedRecord> rejected;  // only with keep_malformed
  int64_t records() const { return static_cast<int64_t>(trips.size() + rejected.size()); }
};

// Parses CSV `text` (already inflated); `name` is used in messages.
StatusOr<CsvTrips> ParseTripsCsv(std::string_view text, const std::string& name,
                                 const CsvReadOptions& options = {});
// Reads `path` (plain or gzip).
StatusOr<CsvTrips> ReadTripsCsv(const std::string& path, const CsvReadOptions& options = {});
// Only the header: the layout of a file, without reading its rows.
StatusOr<CsvLayout> DetectCsvFileLayout(const std::string& path);

// Parses "M/D/YYYY H:MM[:SS][ AM|PM]" (Uber 2014, TLC open-data exports).
StatusOr<int64_t> ParseUsDateTime(std::string_view text);

// This project's CSV layout: source,pickup_time,dropoff_time,pickup_zone,…,rider_id; nulls are
// empty fields; times "YYYY-MM-DD HH:MM:SS[.ffffff]". Reads back losslessly with ReadTripsCsv
// (floats in shortest round-trip form).
std::string TripsCsvHeader();
void AppendTripCsvRow(const TripTable& table, size_t row, std::string* out);
Status WriteTripsCsv(const TripTable& table, const std::string& path);

}  // namespace bimride::data
