// The simulated city on disk: a trips file plus sidecar files next to it, and readers for them.
//
// For trips file out/city.csv the sidecars are out/city.zones.csv, .supply.csv, .requests.csv,
// .riders.csv and .days.csv. Columns (first line of each file):
//   trips:    trip_id,rider_id,pickup_datetime,dropoff_datetime,pickup_zone,dropoff_zone,
//             pickup_lon,pickup_lat,dropoff_lon,dropoff_lat,trip_distance,fare_amount,
//             surge_multiplier,total_amount,passenger_count
//             (times local "YYYY-MM-DD HH:MM:SS"; distance in miles as TLC; USD; trip_id is
//             the 1-based row number, rows in pickup-time order)
//   zones:    zone_id,name,lon,lat,type,weight          (type: residential|business|nightlife|
//                                                         airport)
//   supply:   hour_start,zone_id,drivers,requests,trips,surge_multiplier   (one per zone-hour)
//   requests: request_datetime,rider_id,pickup_zone,dropoff_zone,estimated_distance,
//             estimated_minutes,quoted_fare,surge_multiplier,accepted,served,trip_id,
//             surge_raw,price_multiplier
//             (every quote shown; trip_id -1 when no trip followed; surge_raw the surge before
//             rounding to 0.1; price_multiplier the price test's, 1 outside the test. Files
//             without the last two columns are read with surge_raw = surge, multiplier 1)
//   riders:   rider_id,home_zone,profile,trips_per_week,price_sensitivity,signup_day,churn_day
//             (days since the first simulated day; churn_day empty while still riding)
//   days:     date,weekday,rain,event_zone,event_end_hour,event_attendance
// Values are written at the precision the simulator keeps, so reading the files back gives the
// city that was simulated. Thread safety: functions are reentrant.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "data/trip_table.h"
#include "simulator/simulator.h"

namespace bimride::simulator {

struct CityFilePaths {
  std::string trips, zones, supply, requests, riders, days;
};
// Sidecar paths for a trips path: strips a ".csv" or ".parquet" extension for the stem.
CityFilePaths CityFilePathsFor(const std::string& trips_path);

enum class TripFileFormat { kCsv, kParquet };
// `format` "csv", "parquet" or "" (by the extension: .parquet, else CSV). InvalidArgument for
// an unknown format or one that contradicts a .csv/.parquet extension.
StatusOr<TripFileFormat> ResolveTripFileFormat(std::string_view format, const std::string& path);

// Writes the trips file (CSV, or Parquet with the same columns: ids INT64, times TIMESTAMP(µs,
// not UTC-adjusted: naive local time), zones and passenger_count INT32, coordinates, distance
// and money DOUBLE; ZSTD) and all sidecars as CSV, creating the parent folder. Each file
// is written to a temporary name and renamed into place. Fails naming the file.
StatusOr<CityFilePaths> WriteSimulatedCity(const SimulatedCity& city, const std::string& trips_path,
                                           TripFileFormat format = TripFileFormat::kCsv);

// Reads a trips file written by WriteSimulatedCity (CSV or Parquet, told apart by the Parquet
// magic bytes) into a TripTable (source kSimulator). InvalidArgument "<path>: line N: …" (CSV) or
// "<path>: row N: …" (Parquet) for a wrong header/schema, a wrong field count, a bad value or a
// row that breaks the contract (trip_id not the row number, dropoff before pickup, …).
StatusOr<data::TripTable> ReadSimulatedTrips(const std::string& path);

// Reads the trips and every sidecar present (absent ones stay empty). The config is rebuilt
// as far as the files tell: days, zones and the start date.
StatusOr<SimulatedCity> ReadSimulatedCity(const std::string& trips_path);

// DataLoss naming the first difference (file kind, row, column) between a city and the same
// city read back from its files; OK when every trip and every sidecar row is equal.
Status CompareCities(const SimulatedCity& expected, const SimulatedCity& actual);

}  // namespace bimride::simulator
