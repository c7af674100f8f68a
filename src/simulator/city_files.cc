#include "simulator/city_files.h"

#include <cmath>
#include <type_traits>

#include "common/civil_time.h"
#include "common/file.h"
#include "simulator/csv_text.h"

namespace bimride::simulator {
namespace {

constexpr std::string_view kTripsHeader =
    "trip_id,rider_id,pickup_datetime,dropoff_datetime,pickup_zone,dropoff_zone,pickup_lon,"
    "pickup_lat,dropoff_lon,dropoff_lat,trip_distance,fare_amount,surge_multiplier,total_amount,"
    "passenger_count";
constexpr std::string_view kZonesHeader = "zone_id,name,lon,lat,type,weight";
constexpr std::string_view kSupplyHeader =
    "hour_start,zone_id,drivers,requests,trips,surge_multiplier";
constexpr std::string_view kRequestsHeader =
    "request_datetime,rider_id,pickup_zone,dropoff_zone,estimated_distance,estimated_minutes,"
    "quoted_fare,surge_multiplier,accepted,served,trip_id";
constexpr std::string_view kRidersHeader =
    "rider_id,home_zone,profile,trips_per_week,price_sensitivity";
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

Status WriteTrips(const data::TripTable& t, const std::string& path) {
  return WriteCsv(path, kTripsHeader, [&](CsvFileWriter& w) {
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
  ASSIGN_OR_RETURN(CsvCursor c, CsvCursor::Open(path, text, kRequestsHeader));
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

StatusOr<CityFilePaths> WriteSimulatedCity(const SimulatedCity& city,
                                           const std::string& trips_path) {
  if (trips_path.empty()) return InvalidArgumentError("no output path given for the trips");
  if (EndsWith(trips_path, ".parquet")) {
    return UnimplementedError(trips_path + ": Parquet output needs the Parquet writer; use .csv");
  }
  RETURN_IF_ERROR(city.trips.CheckConsistent());
  const CityFilePaths paths = CityFilePathsFor(trips_path);
  if (const std::string dir = ParentDir(trips_path); !dir.empty()) RETURN_IF_ERROR(MakeDirs(dir));
  RETURN_IF_ERROR(WriteTrips(city.trips, paths.trips));
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

StatusOr<data::TripTable> ReadSimulatedTrips(const std::string& path) {
  std::string text;
  RETURN_IF_ERROR(ReadFileText(path, &text));
  ASSIGN_OR_RETURN(CsvCursor c, CsvCursor::Open(path, text, kTripsHeader));
  data::TripTable t;
  t.source = data::TripSource::kSimulator;
  // A trips line is ~130 bytes; reserving avoids regrowing the columns.
  t.Reserve(text.size() / 120 + 1);
  for (;;) {
    ASSIGN_OR_RETURN(bool more, c.Next());
    if (!more) break;
    data::TripRow r;
    int64_t trip_id, pu, dz, passengers;
    RETURN_IF_ERROR(c.Int(0, &trip_id));
    if (trip_id != static_cast<int64_t>(t.size()) + 1) {
      return c.Error(0, "trip_id must be the row number " + std::to_string(t.size() + 1) + ", got");
    }
    RETURN_IF_ERROR(c.Int(1, &r.rider_id));
    RETURN_IF_ERROR(c.DateTime(2, &r.pickup_time_us));
    RETURN_IF_ERROR(c.DateTime(3, &r.dropoff_time_us));
    RETURN_IF_ERROR(c.Int(4, &pu));
    RETURN_IF_ERROR(c.Int(5, &dz));
    RETURN_IF_ERROR(c.Double(6, &r.pickup_lon));
    RETURN_IF_ERROR(c.Double(7, &r.pickup_lat));
    RETURN_IF_ERROR(c.Double(8, &r.dropoff_lon));
    RETURN_IF_ERROR(c.Double(9, &r.dropoff_lat));
    RETURN_IF_ERROR(c.Float(10, &r.distance_miles));
    RETURN_IF_ERROR(c.Float(11, &r.fare));
    RETURN_IF_ERROR(c.Float(12, &r.surge));
    RETURN_IF_ERROR(c.Float(13, &r.total));
    RETURN_IF_ERROR(c.Int(14, &passengers));
    if (pu < 1 || pu > kMaxZones) return c.Error(4, "zone out of range:");
    if (dz < 1 || dz > kMaxZones) return c.Error(5, "zone out of range:");
    if (r.dropoff_time_us < r.pickup_time_us) return c.Error(3, "dropoff before pickup:");
    if (std::fabs(r.pickup_lon) > 180 || std::fabs(r.pickup_lat) > 90) {
      return c.LineError("pickup coordinates out of range");
    }
    if (std::fabs(r.dropoff_lon) > 180 || std::fabs(r.dropoff_lat) > 90) {
      return c.LineError("dropoff coordinates out of range");
    }
    if (!(r.distance_miles >= 0)) return c.Error(10, "distance must be >= 0, got");
    if (!(r.surge >= 1)) return c.Error(12, "surge multiplier must be >= 1, got");
    if (passengers < 0 || passengers > 9) return c.Error(14, "passenger count out of 0..9:");
    r.pickup_zone = static_cast<int32_t>(pu);
    r.dropoff_zone = static_cast<int32_t>(dz);
    r.passengers = static_cast<int16_t>(passengers);
    t.Append(r);
  }
  return t;
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
        x.served != y.served || x.trip_id != y.trip_id) {
      return Differs("requests", i, "*");
    }
  }
  if (e.riders.size() != a.riders.size()) return count("riders", e.riders.size(), a.riders.size());
  for (size_t i = 0; i < e.riders.size(); ++i) {
    const Rider &x = e.riders[i], &y = a.riders[i];
    if (x.id != y.id || x.home_zone != y.home_zone || x.profile != y.profile ||
        x.trips_per_week != y.trips_per_week || x.price_sensitivity != y.price_sensitivity) {
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
