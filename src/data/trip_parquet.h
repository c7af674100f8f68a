// TLC Parquet trip files → TripTable, on the general Parquet reader (src/parquet).
//
// The layout is chosen from the schema: green (lpep_*), yellow (tpep_*), high-volume FHV
// (hvfhs_license_num, …), FHV (pickup_datetime, dropOff_datetime, PUlocationID, …), the
// simulator's trips (`bimride simulate --format parquet`) or this project's own layout
// (WriteTripsParquet); column names match case-insensitively. Only the columns a TripTable needs are read, one row group at
// a time. Timestamps may be INT64 milli/micro/nanoseconds (unit from the schema) or INT96; they
// are TLC's naive local times and are kept as such. Nulls stay nulls (TripTable's null values);
// numeric columns may be stored as any integer or floating type.
// What can fail: errors of the Parquet reader (naming file, column, row group, page);
// InvalidArgument for an unknown layout or a column of an unusable type.
// Thread safety: free functions; each call opens its own reader.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "data/trip_table.h"
#include "data/trip_validation.h"

namespace bimride::data {

struct ParquetTrips {
  std::string layout;  // "tlc_green", "tlc_yellow", "tlc_fhv", "tlc_fhvhv", "bimride"
  TripTable trips;
  int row_groups = 0;
};

// Memory: the whole TripTable, plus one decode batch (the needed columns of the largest row group
// read so far) that each calling thread keeps for its next call, so reading many files does not
// fault in fresh pages for every one.
// With `layout` (a user's layout file) its columns are read instead of a detected layout's; each
// must be in the file, times must be timestamps, units are converted.
struct TripLayoutFile;
StatusOr<ParquetTrips> ReadTripsParquet(const std::string& path,
                                        const TripLayoutFile* layout = nullptr);

// The same read, appended to `into` in place (no copy of the rows read; reserve first to avoid
// regrowing). InvalidArgument when the file's source differs from a non-empty `into`'s. On any
// error `into` is left as it was. With `columns` (TripTable member names, e.g. "pickup_time_us";
// InvalidArgument for an unknown one) only those are decoded; the others stay null.
struct ParquetTripsRead {
  std::string layout;
  int row_groups = 0;
};
StatusOr<ParquetTripsRead> AppendTripsParquet(const std::string& path, TripTable* into,
                                              const TripLayoutFile* layout = nullptr,
                                              const std::vector<std::string>* columns = nullptr);

// Rows of a Parquet file, from its footer (for reserving before AppendTripsParquet).
StatusOr<size_t> CountParquetRows(const std::string& path);

// This project's Parquet layout: the columns of TripsCsvHeader() (source as a string, times as
// INT64 timestamp[us] of naive local time, zones/passengers/vendor INT32, coordinates DOUBLE,
// money and distance FLOAT, rider_id INT64), every column OPTIONAL with TripTable's nulls
// written as Parquet nulls; ZSTD. Reads back losslessly with ReadTripsParquet.
Status WriteTripsParquet(const TripTable& trips, const std::string& path);
// The quarantine: string columns rule, origin, problem, raw, then the trip columns (null for
// malformed records, which never became rows).
Status WriteQuarantineParquet(const Quarantine& quarantine, const std::string& path);

// For `bimride data inspect`: schema with types, rows, row groups, and per column the nulls and
// min/max over all values (times formatted as civil time).
StatusOr<std::string> DescribeParquetFile(const std::string& path);

// The words of ReadTripsParquet's InvalidArgument for a file whose columns match no known trip
// layout (and no layout file was given): such a file is still a Parquet file to describe.
inline constexpr char kUnknownParquetTripLayout[] = "unknown Parquet trip layout";

}  // namespace bimride::data
