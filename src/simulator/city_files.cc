#include "simulator/city_files.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <type_traits>

#include "common/civil_time.h"
#include "common/file.h"
#include "data/trip_layouts.h"
#include "parquet/file_reader.h"
#include "parquet/file_writer.h"
#include "simulator/csv_text.h"

namespace bimride::simulator {
namespace {

constexpr std::string_view kZonesHeader = "zone_id,name,lon,lat,type,weight";
constexpr std::string_view kSupplyHeader =
    "hour_start,zone_id,drivers,requests,trips,surge_multiplier";
constexpr std::string_view kRequestsHeader =
    "request_datetime,rider_id,pickup_zone,dropoff_zone,estimated_distance,estimated_minutes,"
    "quoted_fare,surge_multiplier,accepted,served,trip_id,surge_raw,price_multiplier";
// Files written before the price test and the raw surge (read with surge_raw = surge_multiplier
// and price_multiplier = 1).
constexpr std::string_view kRequestsHeaderV1 =
    "request_datetime,rider_id,pickup_zone,dropoff_zone,estimated_distance,estimated_minutes,"
    "quoted_fare,surge_multiplier,accepted,served,trip_id";
constexpr std::string_view kRidersHeader =
    "rider_id,home_zone,profile,trips_per_week,price_sensitivity,signup_day,churn_day";
constexpr std::string_view kDaysHeader =
    "date,weekday,rain,event_zone,event_end_hour,event_attendance";

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix.data(), suffix.size()) == 0;
}

std::string ParentDir(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

// Writes one file: header line then `rows(writer)`.
template <typename RowsFn>
Status WriteCsv(const std::string& path, std::string_view header, RowsFn rows) {
  CsvFileWriter w;
  RETURN_IF_ERROR(w.Open(path));
  w.Text(header);
  w.EndLine();
  rows(w);
  return w.Close();
}

// The trips file's columns, in order, as the data readers read them back.
const std::vector<const char*>& TripColumnNames() {
  return data::layouts::SimulatorLayout().written_columns;
}

// The trips CSV header: TripColumnNames() joined by commas.
const std::string& TripsHeader() {
  static const std::string kHeader = data::layouts::WrittenHeader(data::layouts::SimulatorLayout());
  return kHeader;
}

Status WriteTrips(const data::TripTable& t, const std::string& path) {
  return WriteCsv(path, TripsHeader(), [&](CsvFileWriter& w) {
    for (size_t i = 0; i < t.size(); ++i) {
      w.Int(static_cast<int64_t>(i + 1));
      w.Comma();
      w.Int(t.rider_id[i]);
      w.Comma();
      w.DateTime(t.pickup_time_us[i]);
      w.Comma();
      w.DateTime(t.dropoff_time_us[i]);
      w.Comma();
      w.Int(t.pickup_zone[i]);
      w.Comma();
      w.Int(t.dropoff_zone[i]);
      w.Comma();
      w.Fixed(t.pickup_lon[i], 6);
      w.Comma();
      w.Fixed(t.pickup_lat[i], 6);
      w.Comma();
      w.Fixed(t.dropoff_lon[i], 6);
      w.Comma();
      w.Fixed(t.dropoff_lat[i], 6);
      w.Comma();
      w.Fixed(t.distance_miles[i], 2);
      w.Comma();
      w.Fixed(t.fare[i], 2);
      w.Comma();
      w.Fixed(t.surge[i], 1);
      w.Comma();
      w.Fixed(t.total[i], 2);
      w.Comma();
      w.Int(t.passengers[i]);
      w.EndLine();
    }
  });
}

Status WriteTripsParquet(const data::TripTable& t, const std::string& path);  // below

Status ReadFileText(const std::string& path, std::string* text) {
  ASSIGN_OR_RETURN(*text, ReadFile(path));
  return OkStatus();
}

StatusOr<std::vector<Zone>> ReadZones(const std::string& path) {
  std::string text;
  RETURN_IF_ERROR(ReadFileText(path, &text));
  ASSIGN_OR_RETURN(CsvCursor c, CsvCursor::Open(path, text, kZonesHeader));
  std::vector<Zone> zones;
  for (;;) {
    ASSIGN_OR_RETURN(bool more, c.Next());
    if (!more) break;
    Zone z;
    int64_t id;
    RETURN_IF_ERROR(c.Int(0, &id));
    if (id != static_cast<int64_t>(zones.size()) + 1)
      return c.Error(0, "expected zone ids 1, 2, …, got");
    z.id = static_cast<int32_t>(id);
    z.name = std::string(c.Field(1));
    RETURN_IF_ERROR(c.Double(2, &z.lon));
    RETURN_IF_ERROR(c.Double(3, &z.lat));
    StatusOr<ZoneType> type = ParseZoneType(c.Field(4));
    if (!type.ok()) return c.Error(4, "unknown zone type");
    z.type = *type;
    RETURN_IF_ERROR(c.Double(5, &z.weight));
    if (z.weight < 0) return c.Error(5, "negative weight");
    zones.push_back(std::move(z));
  }
  return zones;
}

StatusOr<std::vector<SupplyRecord>> ReadSupply(const std::string& path) {
  std::string text;
  RETURN_IF_ERROR(ReadFileText(path, &text));
  ASSIGN_OR_RETURN(CsvCursor c, CsvCursor::Open(path, text, kSupplyHeader));
  std::vector<SupplyRecord> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool more, c.Next());
    if (!more) break;
    SupplyRecord s;
    int64_t zone, drivers, requests, trips;
    RETURN_IF_ERROR(c.DateTime(0, &s.hour_start_us));
    RETURN_IF_ERROR(c.Int(1, &zone));
    RETURN_IF_ERROR(c.Int(2, &drivers));
    RETURN_IF_ERROR(c.Int(3, &requests));
    RETURN_IF_ERROR(c.Int(4, &trips));
    RETURN_IF_ERROR(c.Float(5, &s.surge));
    if (zone < 1 || zone > kMaxZones) return c.Error(1, "zone out of range:");
    if (drivers < 0 || requests < 0 || trips < 0 || trips > requests) {
      return c.LineError("drivers, requests and trips must be >= 0 with trips <= requests");
    }
    s.zone = static_cast<int32_t>(zone);
    s.drivers = static_cast<int32_t>(drivers);
    s.requests = static_cast<int32_t>(requests);
    s.trips = static_cast<int32_t>(trips);
    out.push_back(s);
  }
  return out;
}

StatusOr<std::vector<QuoteRecord>> ReadRequests(const std::string& path) {
  std::string text;
  RETURN_IF_ERROR(ReadFileText(path, &text));
  StatusOr<CsvCursor> opened = CsvCursor::Open(path, text, kRequestsHeader);
  const bool v1 = !opened.ok() && CsvCursor::Open(path, text, kRequestsHeaderV1).ok();
  if (v1) opened = CsvCursor::Open(path, text, kRequestsHeaderV1);
  if (!opened.ok()) return opened.status();
  CsvCursor c = std::move(*opened);
  std::vector<QuoteRecord> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool more, c.Next());
    if (!more) break;
    QuoteRecord q;
    int64_t pu, dz;
    RETURN_IF_ERROR(c.DateTime(0, &q.request_time_us));
    RETURN_IF_ERROR(c.Int(1, &q.rider_id));
    RETURN_IF_ERROR(c.Int(2, &pu));
    RETURN_IF_ERROR(c.Int(3, &dz));
    RETURN_IF_ERROR(c.Float(4, &q.estimated_miles));
    RETURN_IF_ERROR(c.Float(5, &q.estimated_minutes));
    RETURN_IF_ERROR(c.Float(6, &q.quoted_fare));
    RETURN_IF_ERROR(c.Float(7, &q.surge));
    RETURN_IF_ERROR(c.Bool01(8, &q.accepted));
    RETURN_IF_ERROR(c.Bool01(9, &q.served));
    RETURN_IF_ERROR(c.Int(10, &q.trip_id));
    if (v1) {
      q.surge_raw = q.surge;
    } else {
      RETURN_IF_ERROR(c.Float(11, &q.surge_raw));
      RETURN_IF_ERROR(c.Float(12, &q.price_multiplier));
      if (!(q.surge_raw >= 1)) return c.Error(11, "raw surge must be >= 1:");
      if (!(q.price_multiplier > 0)) return c.Error(12, "price multiplier must be > 0:");
    }
    if (pu < 1 || pu > kMaxZones) return c.Error(2, "zone out of range:");
    if (dz < 1 || dz > kMaxZones) return c.Error(3, "zone out of range:");
    if (q.served != (q.trip_id > 0) || (q.served && !q.accepted)) {
      return c.LineError("served requests need accepted=1 and a trip_id, others trip_id -1");
    }
    q.pickup_zone = static_cast<int32_t>(pu);
    q.dropoff_zone = static_cast<int32_t>(dz);
    out.push_back(q);
  }
  return out;
}

StatusOr<std::vector<Rider>> ReadRiders(const std::string& path) {
  std::string text;
  RETURN_IF_ERROR(ReadFileText(path, &text));
  ASSIGN_OR_RETURN(CsvCursor c, CsvCursor::Open(path, text, kRidersHeader));
  std::vector<Rider> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool more, c.Next());
    if (!more) break;
    Rider r;
    int64_t home;
    RETURN_IF_ERROR(c.Int(0, &r.id));
    if (r.id != static_cast<int64_t>(out.size()) + 1)
      return c.Error(0, "expected rider ids 1, 2, …, got");
    RETURN_IF_ERROR(c.Int(1, &home));
    if (home < 1 || home > kMaxZones) return c.Error(1, "zone out of range:");
    r.home_zone = static_cast<int32_t>(home);
    StatusOr<RiderProfile> profile = ParseRiderProfile(c.Field(2));
    if (!profile.ok()) return c.Error(2, "unknown rider profile");
    r.profile = *profile;
    RETURN_IF_ERROR(c.Float(3, &r.trips_per_week));
    RETURN_IF_ERROR(c.Float(4, &r.price_sensitivity));
    int64_t signup, churn = -1;
    RETURN_IF_ERROR(c.Int(5, &signup));
    if (!c.Field(6).empty()) {
      RETURN_IF_ERROR(c.Int(6, &churn));
      if (churn <= signup) return c.Error(6, "churn day must come after the signup day, got");
    }
    if (signup < -100000 || signup > kMaxDays) return c.Error(5, "day out of range:");
    r.signup_day = static_cast<int32_t>(signup);
    r.churn_day = static_cast<int32_t>(std::min<int64_t>(churn, kMaxDays + 1));
    out.push_back(r);
  }
  return out;
}

StatusOr<std::vector<DayConditions>> ReadDays(const std::string& path) {
  std::string text;
  RETURN_IF_ERROR(ReadFileText(path, &text));
  ASSIGN_OR_RETURN(CsvCursor c, CsvCursor::Open(path, text, kDaysHeader));
  std::vector<DayConditions> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool more, c.Next());
    if (!more) break;
    DayConditions d;
    int64_t weekday, zone, end_hour, attendance;
    RETURN_IF_ERROR(c.DateTime(0, &d.day_start_us));
    RETURN_IF_ERROR(c.Int(1, &weekday));
    RETURN_IF_ERROR(c.Bool01(2, &d.rain));
    RETURN_IF_ERROR(c.Int(3, &zone));
    RETURN_IF_ERROR(c.Int(4, &end_hour));
    RETURN_IF_ERROR(c.Int(5, &attendance));
    if (weekday != DayOfWeek(d.day_start_us)) return c.Error(1, "weekday does not match the date:");
    if (zone < 0 || zone > kMaxZones) return c.Error(3, "zone out of range:");
    if (end_hour < -1 || end_hour > 23) return c.Error(4, "hour out of range:");
    d.event_zone = static_cast<int32_t>(zone);
    d.event_end_hour = static_cast<int32_t>(end_hour);
    d.event_attendance = static_cast<int32_t>(attendance);
    out.push_back(d);
  }
  return out;
}

}  // namespace

CityFilePaths CityFilePathsFor(const std::string& trips_path) {
  std::string stem = trips_path;
  for (std::string_view ext : {".csv", ".parquet"}) {
    if (EndsWith(stem, ext)) {
      stem.resize(stem.size() - ext.size());
      break;
    }
  }
  return {trips_path,           stem + ".zones.csv", stem + ".supply.csv", stem + ".requests.csv",
          stem + ".riders.csv", stem + ".days.csv"};
}

StatusOr<CityFilePaths> WriteSimulatedCity(const SimulatedCity& city, const std::string& trips_path,
                                           TripFileFormat format) {
  if (trips_path.empty()) return InvalidArgumentError("no output path given for the trips");
  RETURN_IF_ERROR(city.trips.CheckConsistent());
  const CityFilePaths paths = CityFilePathsFor(trips_path);
  if (const std::string dir = ParentDir(trips_path); !dir.empty()) RETURN_IF_ERROR(MakeDirs(dir));
  if (format == TripFileFormat::kParquet) {
    RETURN_IF_ERROR(WriteTripsParquet(city.trips, paths.trips));
  } else {
    RETURN_IF_ERROR(WriteTrips(city.trips, paths.trips));
  }
  RETURN_IF_ERROR(WriteCsv(paths.zones, kZonesHeader, [&](CsvFileWriter& w) {
    for (const Zone& z : city.zones) {
      w.Int(z.id);
      w.Comma();
      w.Text(z.name);
      w.Comma();
      w.Fixed(z.lon, 6);
      w.Comma();
      w.Fixed(z.lat, 6);
      w.Comma();
      w.Text(ZoneTypeName(z.type));
      w.Comma();
      w.Fixed(z.weight, 4);
      w.EndLine();
    }
  }));
  RETURN_IF_ERROR(WriteCsv(paths.supply, kSupplyHeader, [&](CsvFileWriter& w) {
    for (const SupplyRecord& s : city.supply) {
      w.DateTime(s.hour_start_us);
      w.Comma();
      w.Int(s.zone);
      w.Comma();
      w.Int(s.drivers);
      w.Comma();
      w.Int(s.requests);
      w.Comma();
      w.Int(s.trips);
      w.Comma();
      w.Fixed(s.surge, 1);
      w.EndLine();
    }
  }));
  RETURN_IF_ERROR(WriteCsv(paths.requests, kRequestsHeader, [&](CsvFileWriter& w) {
    for (const QuoteRecord& q : city.quotes) {
      w.DateTime(q.request_time_us);
      w.Comma();
      w.Int(q.rider_id);
      w.Comma();
      w.Int(q.pickup_zone);
      w.Comma();
      w.Int(q.dropoff_zone);
      w.Comma();
      w.Fixed(q.estimated_miles, 2);
      w.Comma();
      w.Fixed(q.estimated_minutes, 2);
      w.Comma();
      w.Fixed(q.quoted_fare, 2);
      w.Comma();
      w.Fixed(q.surge, 1);
      w.Comma();
      w.Int(q.accepted ? 1 : 0);
      w.Comma();
      w.Int(q.served ? 1 : 0);
      w.Comma();
      w.Int(q.trip_id);
      w.Comma();
      w.Fixed(q.surge_raw, 4);
      w.Comma();
      w.Fixed(q.price_multiplier, 3);
      w.EndLine();
    }
  }));
  RETURN_IF_ERROR(WriteCsv(paths.riders, kRidersHeader, [&](CsvFileWriter& w) {
    for (const Rider& r : city.riders) {
      w.Int(r.id);
      w.Comma();
      w.Int(r.home_zone);
      w.Comma();
      w.Text(RiderProfileName(r.profile));
      w.Comma();
      w.Fixed(r.trips_per_week, 3);
      w.Comma();
      w.Fixed(r.price_sensitivity, 3);
      w.Comma();
      w.Int(r.signup_day);
      w.Comma();
      if (r.churn_day >= 0) w.Int(r.churn_day);
      w.EndLine();
    }
  }));
  RETURN_IF_ERROR(WriteCsv(paths.days, kDaysHeader, [&](CsvFileWriter& w) {
    for (const DayConditions& d : city.days) {
      w.Date(d.day_start_us);
      w.Comma();
      w.Int(DayOfWeek(d.day_start_us));
      w.Comma();
      w.Int(d.rain ? 1 : 0);
      w.Comma();
      w.Int(d.event_zone);
      w.Comma();
      w.Int(d.event_end_hour);
      w.Comma();
      w.Int(d.event_attendance);
      w.EndLine();
    }
  }));
  return paths;
}

namespace {

// Columns of the trips file, in the order of TripColumnNames(), for both formats.
enum TripColumn : int {
  kTripId = 0,
  kRiderId,
  kPickup,
  kDropoff,
  kPickupZone,
  kDropoffZone,
  kPickupLon,
  kPickupLat,
  kDropoffLon,
  kDropoffLat,
  kDistance,
  kFare,
  kSurge,
  kTotal,
  kPassengers,
  kNumTripColumns
};

struct RowProblem {
  int column = -1;   // -1: the row as a whole
  std::string what;  // empty: no problem
};

// The contract every trips row keeps, whatever the format. `row_number` is 1-based.
RowProblem CheckTripRow(const data::TripRow& r, int64_t trip_id, int64_t row_number, int64_t pu,
                        int64_t dz, int64_t passengers) {
  if (trip_id != row_number) {
    return {kTripId, "trip_id must be the row number " + std::to_string(row_number) + ", got"};
  }
  if (pu < 1 || pu > kMaxZones) return {kPickupZone, "zone out of range:"};
  if (dz < 1 || dz > kMaxZones) return {kDropoffZone, "zone out of range:"};
  if (r.dropoff_time_us < r.pickup_time_us) return {kDropoff, "dropoff before pickup:"};
  if (!(std::fabs(r.pickup_lon) <= 180 && std::fabs(r.pickup_lat) <= 90)) {
    return {-1, "pickup coordinates out of range"};
  }
  if (!(std::fabs(r.dropoff_lon) <= 180 && std::fabs(r.dropoff_lat) <= 90)) {
    return {-1, "dropoff coordinates out of range"};
  }
  if (!(r.distance_miles >= 0)) return {kDistance, "distance must be >= 0, got"};
  if (!(r.surge >= 1)) return {kSurge, "surge multiplier must be >= 1, got"};
  if (passengers < 0 || passengers > 9) return {kPassengers, "passenger count out of 0..9:"};
  return {};
}

StatusOr<data::TripTable> ReadTripsCsv(const std::string& path) {
  std::string text;
  RETURN_IF_ERROR(ReadFileText(path, &text));
  ASSIGN_OR_RETURN(CsvCursor c, CsvCursor::Open(path, text, TripsHeader()));
  data::TripTable t;
  t.source = data::TripSource::kSimulator;
  // A trips line is ~130 bytes; reserving avoids regrowing the columns.
  t.Reserve(text.size() / 120 + 1);
  for (;;) {
    ASSIGN_OR_RETURN(bool more, c.Next());
    if (!more) break;
    data::TripRow r;
    int64_t trip_id, pu, dz, passengers;
    RETURN_IF_ERROR(c.Int(kTripId, &trip_id));
    RETURN_IF_ERROR(c.Int(kRiderId, &r.rider_id));
    RETURN_IF_ERROR(c.DateTime(kPickup, &r.pickup_time_us));
    RETURN_IF_ERROR(c.DateTime(kDropoff, &r.dropoff_time_us));
    RETURN_IF_ERROR(c.Int(kPickupZone, &pu));
    RETURN_IF_ERROR(c.Int(kDropoffZone, &dz));
    RETURN_IF_ERROR(c.Double(kPickupLon, &r.pickup_lon));
    RETURN_IF_ERROR(c.Double(kPickupLat, &r.pickup_lat));
    RETURN_IF_ERROR(c.Double(kDropoffLon, &r.dropoff_lon));
    RETURN_IF_ERROR(c.Double(kDropoffLat, &r.dropoff_lat));
    RETURN_IF_ERROR(c.Float(kDistance, &r.distance_miles));
    RETURN_IF_ERROR(c.Float(kFare, &r.fare));
    RETURN_IF_ERROR(c.Float(kSurge, &r.surge));
    RETURN_IF_ERROR(c.Float(kTotal, &r.total));
    RETURN_IF_ERROR(c.Int(kPassengers, &passengers));
    const RowProblem problem =
        CheckTripRow(r, trip_id, static_cast<int64_t>(t.size()) + 1, pu, dz, passengers);
    if (!problem.what.empty()) {
      return problem.column >= 0 ? c.Error(problem.column, problem.what)
                                 : c.LineError(problem.what);
    }
    r.pickup_zone = static_cast<int32_t>(pu);
    r.dropoff_zone = static_cast<int32_t>(dz);
    r.passengers = static_cast<int16_t>(passengers);
    t.Append(r);
  }
  return t;
}

std::vector<parquet::ColumnSchema> TripsParquetSchema() {
  using parquet::PhysicalType;
  std::vector<parquet::ColumnSchema> schema(kNumTripColumns);
  for (int i = 0; i < kNumTripColumns; ++i) schema[i].name = TripColumnNames()[i];
  for (int i : {kTripId, kRiderId}) schema[i].physical = PhysicalType::kInt64;
  for (int i : {kPickup, kDropoff}) {
    schema[i].physical = PhysicalType::kInt64;
    schema[i].logical = parquet::LogicalKind::kTimestamp;
    schema[i].time_unit = parquet::TimeUnit::kMicros;
    schema[i].utc_adjusted = false;  // naive local time, as TLC publishes it
  }
  for (int i : {kPickupZone, kDropoffZone, kPassengers}) schema[i].physical = PhysicalType::kInt32;
  for (int i : {kPickupLon, kPickupLat, kDropoffLon, kDropoffLat}) {
    schema[i].physical = PhysicalType::kDouble;
  }
  // DOUBLE like TLC, holding the decimal value the CSV shows (6.2, not 6.199999809…).
  for (int i : {kDistance, kFare, kSurge, kTotal}) schema[i].physical = PhysicalType::kDouble;
  return schema;
}

// The decimal a float column holds at the precision the simulator keeps (CSV shows the same).
double Decimal(float v, double scale) {
  return std::isfinite(v) ? std::round(static_cast<double>(v) * scale) / scale : v;
}

Status WriteTripsParquet(const data::TripTable& t, const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<parquet::FileWriter> w,
                   parquet::FileWriter::Open(path, TripsParquetSchema()));
  constexpr size_t kChunkRows = 1 << 18;
  std::vector<parquet::Column> cols(kNumTripColumns);
  const std::vector<parquet::ColumnSchema> schema = TripsParquetSchema();
  for (size_t begin = 0; begin < t.size(); begin += kChunkRows) {
    const size_t end = std::min(t.size(), begin + kChunkRows);
    for (int c = 0; c < kNumTripColumns; ++c) {
      cols[c].Clear();
      cols[c].physical = schema[c].physical;
      cols[c].num_rows = static_cast<int64_t>(end - begin);
    }
    for (size_t i = begin; i < end; ++i) {
      cols[kTripId].i64.push_back(static_cast<int64_t>(i + 1));
      cols[kRiderId].i64.push_back(t.rider_id[i]);
      cols[kPickup].i64.push_back(t.pickup_time_us[i]);
      cols[kDropoff].i64.push_back(t.dropoff_time_us[i]);
      cols[kPickupZone].i32.push_back(t.pickup_zone[i]);
      cols[kDropoffZone].i32.push_back(t.dropoff_zone[i]);
      cols[kPickupLon].f64.push_back(t.pickup_lon[i]);
      cols[kPickupLat].f64.push_back(t.pickup_lat[i]);
      cols[kDropoffLon].f64.push_back(t.dropoff_lon[i]);
      cols[kDropoffLat].f64.push_back(t.dropoff_lat[i]);
      cols[kDistance].f64.push_back(Decimal(t.distance_miles[i], 100));
      cols[kFare].f64.push_back(Decimal(t.fare[i], 100));
      cols[kSurge].f64.push_back(Decimal(t.surge[i], 10));
      cols[kTotal].f64.push_back(Decimal(t.total[i], 100));
      cols[kPassengers].i32.push_back(t.passengers[i]);
    }
    RETURN_IF_ERROR(w->Write(cols));
  }
  return w->Close();
}

StatusOr<data::TripTable> ReadTripsParquet(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<parquet::FileReader> r, parquet::FileReader::Open(path));
  const std::vector<parquet::ColumnSchema> want = TripsParquetSchema();
  std::vector<int> indices(kNumTripColumns);
  for (int c = 0; c < kNumTripColumns; ++c) {
    ASSIGN_OR_RETURN(indices[c], r->ColumnIndex(want[c].name));
    const parquet::ColumnSchema& got = r->schema()[indices[c]];
    if (got.physical != want[c].physical) {
      return InvalidArgumentError(path + ": column '" + want[c].name + "': type " +
                                  std::string(parquet::PhysicalTypeName(got.physical)) +
                                  ", expected " +
                                  std::string(parquet::PhysicalTypeName(want[c].physical)));
    }
  }
  data::TripTable t;
  t.source = data::TripSource::kSimulator;
  t.Reserve(static_cast<size_t>(r->num_rows()));
  parquet::RowGroupBatch batch;
  for (int rg = 0; rg < r->num_row_groups(); ++rg) {
    RETURN_IF_ERROR(r->ReadRowGroup(rg, indices, &batch));
    const std::vector<parquet::Column>& c = batch.columns;
    for (int k = 0; k < kNumTripColumns; ++k) {
      if (c[k].null_count > 0) {
        return InvalidArgumentError(path + ": row group " + std::to_string(rg) + ": column '" +
                                    want[k].name + "' has nulls");
      }
    }
    for (int64_t i = 0; i < batch.num_rows; ++i) {
      data::TripRow row;
      const int64_t trip_id = c[kTripId].i64[i];
      row.rider_id = c[kRiderId].i64[i];
      row.pickup_time_us = c[kPickup].i64[i];
      row.dropoff_time_us = c[kDropoff].i64[i];
      const int64_t pu = c[kPickupZone].i32[i], dz = c[kDropoffZone].i32[i];
      row.pickup_lon = c[kPickupLon].f64[i];
      row.pickup_lat = c[kPickupLat].f64[i];
      row.dropoff_lon = c[kDropoffLon].f64[i];
      row.dropoff_lat = c[kDropoffLat].f64[i];
      row.distance_miles = static_cast<float>(c[kDistance].f64[i]);
      row.fare = static_cast<float>(c[kFare].f64[i]);
      row.surge = static_cast<float>(c[kSurge].f64[i]);
      row.total = static_cast<float>(c[kTotal].f64[i]);
      const int64_t passengers = c[kPassengers].i32[i];
      const int64_t row_number = static_cast<int64_t>(t.size()) + 1;
      const RowProblem problem = CheckTripRow(row, trip_id, row_number, pu, dz, passengers);
      if (!problem.what.empty()) {
        return InvalidArgumentError(
            path + ": row " + std::to_string(row_number) +
            (problem.column >= 0
                 ? std::string(": column '") + TripColumnNames()[problem.column] + "'"
                 : std::string()) +
            ": " + problem.what);
      }
      row.pickup_zone = static_cast<int32_t>(pu);
      row.dropoff_zone = static_cast<int32_t>(dz);
      row.passengers = static_cast<int16_t>(passengers);
      t.Append(row);
    }
  }
  return t;
}

// True when the file starts with Parquet's magic "PAR1".
StatusOr<bool> IsParquetFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return ErrnoError("open", path, errno);
  char magic[4] = {};
  const size_t n = std::fread(magic, 1, 4, f);
  std::fclose(f);
  return n == 4 && std::memcmp(magic, "PAR1", 4) == 0;
}

}  // namespace

StatusOr<TripFileFormat> ResolveTripFileFormat(std::string_view format, const std::string& path) {
  const bool parquet_ext = EndsWith(path, ".parquet");
  const bool csv_ext = EndsWith(path, ".csv");
  if (format.empty()) return parquet_ext ? TripFileFormat::kParquet : TripFileFormat::kCsv;
  if (format == "csv") {
    if (parquet_ext) return InvalidArgumentError(path + ": format csv, but the name ends .parquet");
    return TripFileFormat::kCsv;
  }
  if (format == "parquet") {
    if (csv_ext) return InvalidArgumentError(path + ": format parquet, but the name ends .csv");
    return TripFileFormat::kParquet;
  }
  return InvalidArgumentError("unknown trips file format '" + std::string(format) +
                              "' (want csv or parquet)");
}

StatusOr<data::TripTable> ReadSimulatedTrips(const std::string& path) {
  ASSIGN_OR_RETURN(const bool is_parquet, IsParquetFile(path));
  return is_parquet ? ReadTripsParquet(path) : ReadTripsCsv(path);
}

StatusOr<SimulatedCity> ReadSimulatedCity(const std::string& trips_path) {
  SimulatedCity city;
  ASSIGN_OR_RETURN(city.trips, ReadSimulatedTrips(trips_path));
  const CityFilePaths paths = CityFilePathsFor(trips_path);
  if (FileExists(paths.zones)) {
    ASSIGN_OR_RETURN(city.zones, ReadZones(paths.zones));
    city.config.zones = static_cast<int64_t>(city.zones.size());
  }
  if (FileExists(paths.supply)) {
    ASSIGN_OR_RETURN(city.supply, ReadSupply(paths.supply));
  }
  if (FileExists(paths.requests)) {
    ASSIGN_OR_RETURN(city.quotes, ReadRequests(paths.requests));
  }
  if (FileExists(paths.riders)) {
    ASSIGN_OR_RETURN(city.riders, ReadRiders(paths.riders));
  }
  if (FileExists(paths.days)) {
    ASSIGN_OR_RETURN(city.days, ReadDays(paths.days));
    city.config.days = static_cast<int64_t>(city.days.size());
    if (!city.days.empty())
      city.config.start_date = FormatCivil(city.days[0].day_start_us).substr(0, 10);
  }
  return city;
}

namespace {

// Equal values, treating two NaNs as equal.
template <typename T>
bool Same(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(a) && std::isnan(b)) return true;
  }
  return a == b;
}

Status Differs(std::string_view what, size_t row, std::string_view column) {
  return DataLossError(std::string(what) + " row " + std::to_string(row + 1) + ": column '" +
                       std::string(column) + "' differs");
}

}  // namespace

Status CompareCities(const SimulatedCity& e, const SimulatedCity& a) {
  auto count = [](std::string_view what, size_t want, size_t got) {
    return DataLossError(std::string(what) + ": " + std::to_string(got) + " rows, expected " +
                         std::to_string(want));
  };
  if (e.trips.size() != a.trips.size()) return count("trips", e.trips.size(), a.trips.size());
#define BIMRIDE_CHECK_COLUMN(col)                                                \
  for (size_t i = 0; i < e.trips.size(); ++i) {                                  \
    if (!Same(e.trips.col[i], a.trips.col[i])) return Differs("trips", i, #col); \
  }
  BIMRIDE_CHECK_COLUMN(pickup_time_us)
  BIMRIDE_CHECK_COLUMN(dropoff_time_us)
  BIMRIDE_CHECK_COLUMN(pickup_zone)
  BIMRIDE_CHECK_COLUMN(dropoff_zone)
  BIMRIDE_CHECK_COLUMN(pickup_lon)
  BIMRIDE_CHECK_COLUMN(pickup_lat)
  BIMRIDE_CHECK_COLUMN(dropoff_lon)
  BIMRIDE_CHECK_COLUMN(dropoff_lat)
  BIMRIDE_CHECK_COLUMN(distance_miles)
  BIMRIDE_CHECK_COLUMN(fare)
  BIMRIDE_CHECK_COLUMN(total)
  BIMRIDE_CHECK_COLUMN(surge)
  BIMRIDE_CHECK_COLUMN(passengers)
  BIMRIDE_CHECK_COLUMN(rider_id)
#undef BIMRIDE_CHECK_COLUMN
  if (e.zones.size() != a.zones.size()) return count("zones", e.zones.size(), a.zones.size());
  for (size_t i = 0; i < e.zones.size(); ++i) {
    const Zone &x = e.zones[i], &y = a.zones[i];
    if (x.id != y.id || x.name != y.name || x.lon != y.lon || x.lat != y.lat || x.type != y.type ||
        x.weight != y.weight) {
      return Differs("zones", i, "*");
    }
  }
  if (e.supply.size() != a.supply.size()) return count("supply", e.supply.size(), a.supply.size());
  for (size_t i = 0; i < e.supply.size(); ++i) {
    const SupplyRecord &x = e.supply[i], &y = a.supply[i];
    if (x.hour_start_us != y.hour_start_us || x.zone != y.zone || x.drivers != y.drivers ||
        x.requests != y.requests || x.trips != y.trips || x.surge != y.surge) {
      return Differs("supply", i, "*");
    }
  }
  if (e.quotes.size() != a.quotes.size())
    return count("requests", e.quotes.size(), a.quotes.size());
  for (size_t i = 0; i < e.quotes.size(); ++i) {
    const QuoteRecord &x = e.quotes[i], &y = a.quotes[i];
    if (x.request_time_us != y.request_time_us || x.rider_id != y.rider_id ||
        x.pickup_zone != y.pickup_zone || x.dropoff_zone != y.dropoff_zone ||
        x.estimated_miles != y.estimated_miles || x.estimated_minutes != y.estimated_minutes ||
        x.quoted_fare != y.quoted_fare || x.surge != y.surge || x.accepted != y.accepted ||
        x.served != y.served || x.trip_id != y.trip_id || x.surge_raw != y.surge_raw ||
        x.price_multiplier != y.price_multiplier) {
      return Differs("requests", i, "*");
    }
  }
  if (e.riders.size() != a.riders.size()) return count("riders", e.riders.size(), a.riders.size());
  for (size_t i = 0; i < e.riders.size(); ++i) {
    const Rider &x = e.riders[i], &y = a.riders[i];
    if (x.id != y.id || x.home_zone != y.home_zone || x.profile != y.profile ||
        x.trips_per_week != y.trips_per_week || x.price_sensitivity != y.price_sensitivity ||
        x.signup_day != y.signup_day || x.churn_day != y.churn_day) {
      return Differs("riders", i, "*");
    }
  }
  if (e.days.size() != a.days.size()) return count("days", e.days.size(), a.days.size());
  for (size_t i = 0; i < e.days.size(); ++i) {
    const DayConditions &x = e.days[i], &y = a.days[i];
    if (x.day_start_us != y.day_start_us || x.rain != y.rain || x.event_zone != y.event_zone ||
        x.event_end_hour != y.event_end_hour || x.event_attendance != y.event_attendance) {
      return Differs("days", i, "*");
    }
  }
  return OkStatus();
}

}  // namespace bimride::simulator
