#include "data/trip_layout_file.h"

#include <gtest/gtest.h>

#include <random>

#include "common/civil_time.h"
#include "common/file.h"
#include "data/trip_csv.h"
#include "data/trip_loader.h"

namespace bimride::data {
namespace {

int64_t T(const char* text) { return *ParseCivil(text); }

std::string WriteTemp(const std::string& name, const std::string& contents) {
  const std::string path = ::testing::TempDir() + "/" + name;
  EXPECT_TRUE(WriteFileAtomic(path, contents).ok());
  return path;
}

TEST(TimeFormatTest, ParsesStrftimeLikeFormatsWithOptionalSeconds) {
  EXPECT_EQ(*ParseTimeWithFormat("9/4/2014 9:51", "%m/%d/%Y %H:%M"), T("2014-09-04 09:51:00"));
  EXPECT_EQ(*ParseTimeWithFormat("9/4/2014 9:51:07", "%m/%d/%Y %H:%M"), T("2014-09-04 09:51:07"));
  EXPECT_EQ(*ParseTimeWithFormat("09/04/2014 21:51", "%m/%d/%Y %H:%M:%S"),
            T("2014-09-04 21:51:00"));
  EXPECT_EQ(*ParseTimeWithFormat("04-Sep-14 09:51:07.25 PM", "%d-%b-%y %I:%M:%S %p"),
            T("2014-09-04 21:51:07") + 250000);
  EXPECT_EQ(*ParseTimeWithFormat("2014%09%04", "%Y%%%m%%%d"), T("2014-09-04 00:00:00"));
  for (const char* bad : {"9/4/2014", "9/4/2014 9:51 x", "13/4/2014 9:51", "2/30/2014 9:51",
                          "9/4/14 9:51", "9/4/2014 9:51:", "", "9/4/2014 25:00"}) {
    StatusOr<int64_t> t = ParseTimeWithFormat(bad, "%m/%d/%Y %H:%M");
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.status().message(),
              "'" + std::string(bad) + "' does not match the time format '%m/%d/%Y %H:%M'");
  }
  EXPECT_FALSE(CheckTimeFormat("%H:%M").ok());           // no date
  EXPECT_FALSE(CheckTimeFormat("%Y-%m-%d %I:%M").ok());  // %I without %p
  EXPECT_EQ(CheckTimeFormat("%Y-%m-%d %Q").message(),
            "unknown directive %Q (want one of %Y %y %m %b %d %H %I %M %S %p %%)");
}

const char kPickupsLayout[] = R"({
  "name": "citypickups",
  "columns": {
    "pickup_time": {"column": "pickup_time", "format": "%m/%d/%Y %H:%M"},
    "pickup_zone": "zone",
    "pickup_lat": "lat",
    "pickup_lon": {"column": "lon", "unit": "degrees"},
    "distance": {"column": "km", "unit": "km"}
  }
})";

TEST(TripLayoutFileTest, ReadsAnotherProvidersPickupsThroughEveryReader) {
  const std::string layout = WriteTemp("pickups.json", kPickupsLayout);
  const std::string csv = WriteTemp("pickups.csv",
                                    "pickup_time,lat,lon,zone,km\n"
                                    "9/4/2014 9:51,40.769,-73.9549,140,1.609344\n"
                                    "9/4/2014 10:02:30,40.7,-74.0,,\n"
                                    "10/1/2014 0:00,40.7,-74.0,43,0\n");
  LoadTripsOptions options;
  options.layout_file = layout;
  StatusOr<LoadedTrips> loaded = LoadTripsWithReport({csv}, options);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->files[0].format, "citypickups (layout file)");
  // Pickups only: no dropoff is missing; the file states no month, so October stays.
  EXPECT_EQ(loaded->report.read, 3);
  EXPECT_EQ(loaded->report.kept, 2) << loaded->report.ToString();
  EXPECT_EQ(loaded->report.per_rule[static_cast<int>(TripRule::kUnknownZone)], 1);
  const TripTable& t = loaded->trips;
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t.pickup_time_us[0], T("2014-09-04 09:51:00"));
  EXPECT_EQ(t.pickup_zone[0], 140);
  EXPECT_DOUBLE_EQ(t.pickup_lat[0], 40.769);
  EXPECT_DOUBLE_EQ(t.pickup_lon[0], -73.9549);
  EXPECT_FLOAT_EQ(t.distance_miles[0], 1.0f);
  EXPECT_EQ(t.pickup_time_us[1], T("2014-10-01 00:00:00"));
  EXPECT_EQ(loaded->quarantine.trips.pickup_time_us[0], T("2014-09-04 10:02:30"));

  // The same trips in this project's Parquet, read back through a layout naming its columns.
  const std::string parquet = ::testing::TempDir() + "/pickups.parquet";
  ASSERT_TRUE(SaveTrips(loaded->trips, parquet).ok());
  const std::string pq_layout = WriteTemp(
      "pq.json", R"({"columns": {"pickup_time": "pickup_time", "pickup_zone": "pickup_zone",
                    "distance": {"column": "distance_miles", "unit": "m"}}})");
  options.layout_file = pq_layout;
  StatusOr<LoadedTrips> back = LoadTripsWithReport({parquet}, options);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->trips.size(), 2u);
  EXPECT_EQ(back->trips.pickup_zone[1], 43);
  EXPECT_FLOAT_EQ(back->trips.distance_miles[0], static_cast<float>(1 / 1609.344));
}

TEST(TripLayoutFileTest, FileWithoutAMappedColumnOrWithBadTimesNamesBoth) {
  const std::string layout = WriteTemp("pickups.json", kPickupsLayout);
  LoadTripsOptions options;
  options.layout_file = layout;
  const std::string missing =
      WriteTemp("layout_missing_column.csv", "pickup_time,lat,lon\n9/4/2014 9:51,1,2\n");
  StatusOr<LoadedTrips> r = LoadTripsWithReport({missing}, options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            missing + ": line 1: no column 'km' that layout file " + layout + " maps");
  const std::string bad = WriteTemp("bad.csv", "pickup_time,lat,lon,zone,km\n2014-09-04,1,2,3,4\n");
  options.validate = false;
  r = LoadTripsWithReport({bad}, options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), bad +
                                      ": line 2: column 'pickup_time': cannot parse "
                                      "'2014-09-04' as a time of format '%m/%d/%Y %H:%M'");
}

TEST(TripLayoutFileTest, BadLayoutFilesNameTheFileTheKeyAndTheExpectedForm) {
  const std::string roles =
      "pickup_time, dropoff_time, pickup_zone, dropoff_zone, pickup_lon, pickup_lat, dropoff_lon, "
      "dropoff_lat, distance, fare, total, surge, passengers, vendor, base, rider_id";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{", "l.json: not a JSON layout file (want an object with \"columns\")"},
      {"[1]", "l.json: (top level): want an object with \"columns\""},
      {R"({"columns": {"pickup_time": "t"}, "colums": 1})",
       "l.json: colums: unknown key (want name, source, columns)"},
      {R"({"name": 3, "columns": {"pickup_time": "t"}})", "l.json: name: want a non-empty string"},
      {R"({"source": "lyft", "columns": {"pickup_time": "t"}})",
       "l.json: source: want one of unknown, tlc_green, tlc_yellow, tlc_fhv, kaggle, uber, "
       "simulator"},
      {R"({"columns": {}})",
       "l.json: columns: want an object mapping roles (" + roles + ") to columns"},
      {R"({"columns": {"pickup_tme": "t"}})",
       "l.json: columns.pickup_tme: unknown role (want one of " + roles + ")"},
      {R"({"columns": {"pickup_time": 5}})",
       "l.json: columns.pickup_time: want a column name or {\"column\": …}"},
      {R"({"columns": {"pickup_time": {"format": "%Y-%m-%d"}}})",
       "l.json: columns.pickup_time.column: want a non-empty column name"},
      {R"({"columns": {"pickup_time": {"column": "t", "format": "%Y-%m-%d %Q"}}})",
       "l.json: columns.pickup_time.format: unknown directive %Q (want one of %Y %y %m %b %d %H "
       "%I %M %S %p %%)"},
      {R"({"columns": {"pickup_time": {"column": "t", "fromat": "%Y"}}})",
       "l.json: columns.pickup_time.fromat: unknown key (want column, format)"},
      {R"({"columns": {"pickup_time": "t", "fare": {"column": "f", "unit": "usd"}}})",
       "l.json: columns.fare.unit: unknown key (want column)"},
      {R"({"columns": {"pickup_time": "t", "distance": {"column": "d", "unit": "furlong"}}})",
       "l.json: columns.distance.unit: want miles, km or m"},
      {R"({"columns": {"pickup_time": "t", "pickup_lat": {"column": "y", "unit": "rad"}}})",
       "l.json: columns.pickup_lat.unit: want degrees or microdegrees"},
      {R"({"columns": {"pickup_time": "t", "pickup_lat": "y"}})",
       "l.json: columns.pickup_lon: required with pickup_lat (coordinates come in pairs)"},
      {R"({"columns": {"pickup_zone": "z"}})",
       "l.json: columns.pickup_time: required (want a column name)"},
  };
  for (const auto& [text, message] : cases) {
    StatusOr<std::unique_ptr<const TripLayoutFile>> l = ParseTripLayout(text, "l.json");
    ASSERT_FALSE(l.ok()) << text;
    EXPECT_EQ(l.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_EQ(l.status().message(), message) << text;
  }
  StatusOr<std::unique_ptr<const TripLayoutFile>> none = LoadTripLayoutFile("/no/such/l.json");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("/no/such/l.json"), std::string::npos);
}

TEST(TripLayoutFileTest, FuzzishLayoutsAndTimesNeverCrash) {
  std::mt19937 rng(7);
  const std::string base = kPickupsLayout;
  const std::string alphabet = "{}[]\":,%YmdHMSpIb0123456789 /-.abc\\\n";
  for (int round = 0; round < 3000; ++round) {
    std::string text = base;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      const size_t at = rng() % text.size();
      switch (rng() % 3) {
        case 0:
          text.erase(at, 1 + rng() % 8);
          break;
        case 1:
          text.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
        default:
          text[at] = alphabet[rng() % alphabet.size()];
      }
    }
    StatusOr<std::unique_ptr<const TripLayoutFile>> l = ParseTripLayout(text, "f.json");
    if (l.ok()) {
      EXPECT_FALSE((*l)->layout.bindings.empty());
    } else {
      EXPECT_EQ(l.status().message().rfind("f.json: ", 0), 0u) << l.status().message();
    }
  }
  for (int round = 0; round < 3000; ++round) {
    std::string format, value;
    for (int k = static_cast<int>(rng() % 12); k > 0; --k) {
      format += alphabet[rng() % alphabet.size()];
      value += alphabet[rng() % alphabet.size()];
    }
    if (CheckTimeFormat(format).ok()) (void)ParseTimeWithFormat(value, format);
    (void)ParseTimeWithFormat(value, "%m/%d/%Y %H:%M:%S");
  }
}

}  // namespace
}  // namespace bimride::data
