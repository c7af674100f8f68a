#include "data/trip_layouts.h"

namespace bimride::data::layouts {
namespace {

// The columns of `bindings`, in their order.
std::vector<const char*> ColumnsOf(const std::vector<ColumnBinding>& bindings) {
  std::vector<const char*> columns;
  for (const ColumnBinding& b : bindings) columns.push_back(b.column);
  return columns;
}

SourceLayout MakeBimrideLayout() {
  using T = TripColumn;
  SourceLayout l = {"bimride",
                    TripSource::kUnknown,
                    kBothReaders,
                    {"source", "pickup_time", "dropoff_time", "pickup_zone", "dropoff_zone"},
                    {{"source", T::kSource},
                     {"pickup_time", T::kPickupTime},
                     {"dropoff_time", T::kDropoffTime},
                     {"pickup_zone", T::kPickupZone},
                     {"dropoff_zone", T::kDropoffZone},
                     {"pickup_lon", T::kPickupLon},
                     {"pickup_lat", T::kPickupLat},
                     {"dropoff_lon", T::kDropoffLon},
                     {"dropoff_lat", T::kDropoffLat},
                     {"distance_miles", T::kDistance},
                     {"fare", T::kFare},
                     {"total", T::kTotal},
                     {"surge", T::kSurge},
                     {"passengers", T::kPassengers},
                     {"vendor", T::kVendor},
                     {"rider_id", T::kRiderId}},
                    {}};
  l.written_columns = ColumnsOf(l.bindings);  // written in the order it is read
  return l;
}

SourceLayout MakeSimulatorLayout() {
  using T = TripColumn;
  return {"simulator",
          TripSource::kSimulator,
          kBothReaders,
          {"trip_id", "rider_id", "pickup_datetime", "dropoff_datetime", "pickup_zone",
           "dropoff_zone", "surge_multiplier"},
          {{"pickup_datetime", T::kPickupTime},
           {"dropoff_datetime", T::kDropoffTime},
           {"pickup_zone", T::kPickupZone},
           {"dropoff_zone", T::kDropoffZone},
           {"pickup_lon", T::kPickupLon},
           {"pickup_lat", T::kPickupLat},
           {"dropoff_lon", T::kDropoffLon},
           {"dropoff_lat", T::kDropoffLat},
           {"trip_distance", T::kDistance},
           {"fare_amount", T::kFare},
           {"total_amount", T::kTotal},
           {"surge_multiplier", T::kSurge},
           {"passenger_count", T::kPassengers},
           {"rider_id", T::kRiderId}},
          // trip_id is the 1-based row number; the readers check it, TripTable does not keep it.
          {"trip_id", "rider_id", "pickup_datetime", "dropoff_datetime", "pickup_zone",
           "dropoff_zone", "pickup_lon", "pickup_lat", "dropoff_lon", "dropoff_lat",
           "trip_distance", "fare_amount", "surge_multiplier", "total_amount", "passenger_count"}};
}

// TLC yellow and green: the same columns after the time columns' prefix ("tpep_" / "lpep_").
// Coordinates are only in old CSV files; TLC's Parquet files never had them.
SourceLayout MakeTlcTaxiLayout(const char* name, TripSource source, const char* pickup_time,
                               const char* dropoff_time) {
  using T = TripColumn;
  return {name,
          source,
          kBothReaders,
          {pickup_time, dropoff_time},
          {{pickup_time, T::kPickupTime},
           {dropoff_time, T::kDropoffTime},
           {"PULocationID", T::kPickupZone},
           {"DOLocationID", T::kDropoffZone},
           {"pickup_longitude", T::kPickupLon, kCsvReader},
           {"pickup_latitude", T::kPickupLat, kCsvReader},
           {"dropoff_longitude", T::kDropoffLon, kCsvReader},
           {"dropoff_latitude", T::kDropoffLat, kCsvReader},
           {"trip_distance", T::kDistance},
           {"fare_amount", T::kFare},
           {"total_amount", T::kTotal},
           {"passenger_count", T::kPassengers},
           {"VendorID", T::kVendor}},
          {}};
}

// TLC FHV and high-volume FHV: recognised by `kind_column` and the times (CSV files must also
// have the zone columns, which the two spell differently); the dispatching base after `extra`.
// TLC's FHV files spell the dropoff time "dropOff_datetime" (names match case-insensitively).
SourceLayout MakeTlcFhvLayout(const char* name, const char* kind_column, const char* pickup_zone,
                              const char* dropoff_zone, std::vector<ColumnBinding> extra) {
  using T = TripColumn;
  SourceLayout l = {name,
                    TripSource::kTlcFhv,
                    kBothReaders,
                    {kind_column,
                     "pickup_datetime",
                     "dropoff_datetime",
                     {pickup_zone, kCsvReader},
                     {dropoff_zone, kCsvReader}},
                    {{"pickup_datetime", T::kPickupTime},
                     {"dropoff_datetime", T::kDropoffTime},
                     {pickup_zone, T::kPickupZone},
                     {dropoff_zone, T::kDropoffZone}},
                    {}};
  l.bindings.insert(l.bindings.end(), extra.begin(), extra.end());
  l.bindings.push_back({"dispatching_base_num", T::kBase});
  return l;
}

std::vector<SourceLayout> MakeSourceLayouts() {
  using T = TripColumn;
  std::vector<SourceLayout> all;
  all.push_back(MakeBimrideLayout());
  all.push_back(MakeSimulatorLayout());
  all.push_back(MakeTlcTaxiLayout("tlc_yellow", TripSource::kTlcYellow, "tpep_pickup_datetime",
                                  "tpep_dropoff_datetime"));
  all.push_back(MakeTlcTaxiLayout("tlc_green", TripSource::kTlcGreen, "lpep_pickup_datetime",
                                  "lpep_dropoff_datetime"));
  all.push_back(
      MakeTlcFhvLayout("tlc_fhvhv", "hvfhs_license_num", "PULocationID", "DOLocationID",
                       {{"trip_miles", T::kDistance}, {"base_passenger_fare", T::kFare}}));
  all.push_back(
      MakeTlcFhvLayout("tlc_fhv", "dispatching_base_num", "PUlocationID", "DOlocationID", {}));
  all.push_back({"kaggle_trip_duration",
                 TripSource::kKaggle,
                 kCsvReader,
                 {"pickup_datetime", "pickup_longitude", "pickup_latitude", "dropoff_longitude",
                  "dropoff_latitude"},
                 {{"pickup_datetime", T::kPickupTime},
                  {"dropoff_datetime", T::kDropoffTime},
                  {"pickup_longitude", T::kPickupLon},
                  {"pickup_latitude", T::kPickupLat},
                  {"dropoff_longitude", T::kDropoffLon},
                  {"dropoff_latitude", T::kDropoffLat},
                  {"passenger_count", T::kPassengers},
                  {"vendor_id", T::kVendor}},
                 {}});
  all.push_back({"uber_2014",
                 TripSource::kUber,
                 kCsvReader,
                 {"Date/Time", "Lat", "Lon"},
                 {{"Date/Time", T::kPickupTime},
                  {"Lat", T::kPickupLat},
                  {"Lon", T::kPickupLon},
                  {"Base", T::kBase}},
                 {}});
  return all;
}

}  // namespace

const std::vector<SourceLayout>& SourceLayouts() {
  static const std::vector<SourceLayout> kLayouts = MakeSourceLayouts();
  return kLayouts;
}

const SourceLayout& BimrideLayout() { return SourceLayouts()[0]; }

const SourceLayout& SimulatorLayout() { return SourceLayouts()[1]; }

std::string WrittenHeader(const SourceLayout& layout) {
  std::string header;
  for (const char* column : layout.written_columns) {
    if (!header.empty()) header += ',';
    header += column;
  }
  return header;
}

const SourceLayout* MatchLayout(Readers reader,
                                const std::function<bool(std::string_view)>& has_column) {
  for (const SourceLayout& layout : SourceLayouts()) {
    if (!(layout.readers & reader)) continue;
    bool all = true;
    for (const SignatureColumn& s : layout.signature) {
      all = all && (!(s.readers & reader) || has_column(s.column));
    }
    if (all) return &layout;
  }
  return nullptr;
}

}  // namespace bimride::data::layouts
