#include "console/zone_series.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/civil_time.h"
#include "common/file.h"
#include "serving/testing/test_models.h"

namespace bimride::console {
namespace {

std::string Write(const std::string& name, const std::string& text) {
  static const std::string dir = serving::testing::MakeTempDir("console_series");
  const std::string path = dir + "/" + name;
  EXPECT_TRUE(WriteFileAtomic(path, text).ok());
  return path;
}

TEST(ZoneSeriesTest, PickupsPerZoneAndHourCountEachTripOnce) {
  data::TripTable trips;
  auto add = [&](const char* t, int32_t zone) {
    data::TripRow row;
    row.pickup_time_us = *ParseCivil(t);
    row.pickup_zone = zone;
    trips.Append(row);
  };
  add("2021-01-04 08:10", 43);
  add("2021-01-04 08:50", 43);
  add("2021-01-04 09:05", 132);
  add("2021-01-04 23:59", 43);
  auto s = PickupsPerZoneHour(trips, "pickups");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->times.size(), 24u);
  EXPECT_EQ(s->times[8], "2021-01-04 08:00");
  EXPECT_EQ(s->zones, (std::vector<int32_t>{43, 132}));
  EXPECT_EQ(s->value(0, 8), 2);
  EXPECT_EQ(s->value(0, 23), 1);
  EXPECT_EQ(s->value(1, 9), 1);
  EXPECT_EQ(s->value(1, 8), 0);
  // Round trip through the file format.
  auto back = ZoneSeriesFromJson(ZoneSeriesToJson(*s), "x");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->values, s->values);
  EXPECT_EQ(back->times, s->times);
  EXPECT_FALSE(PickupsPerZoneHour(data::TripTable(), "p").ok());
  EXPECT_FALSE(PickupsPerZoneHour(trips, "bad/name").ok());
}

TEST(ZoneSeriesTest, ReadsLongAndWideCsvAsForecastPrintsIt) {
  auto lng = ReadZoneSeriesCsv(Write("long.csv", "zone,time,value\n43,2021-03-10 08:00,1.25\n"
                                                 "74,2021-03-10 09:00,2\n43,2021-03-10 09:00,\n"),
                               "surge", "surge multiplier", "x");
  ASSERT_TRUE(lng.ok()) << lng.status().ToString();
  EXPECT_EQ(lng->zones, (std::vector<int32_t>{43, 74}));
  EXPECT_EQ(lng->times, (std::vector<std::string>{"2021-03-10 08:00", "2021-03-10 09:00"}));
  EXPECT_EQ(lng->value(0, 0), 1.25);
  EXPECT_TRUE(std::isnan(lng->value(0, 1))) << "an empty cell is missing";
  EXPECT_TRUE(std::isnan(lng->value(1, 0))) << "an absent row is missing";
  EXPECT_EQ(lng->value(1, 1), 2);
  // `bimride forecast`'s table: a comment, zone, last_3_buckets, then one column per hour.
  auto wide = ReadZoneSeriesCsv(
      Write("forecast.csv",
            "# demand version 1 (xgboost), forecasts from 2021-03-10 08:00:00\n"
            "zone,last_3_buckets,2021-03-10 08:00,2021-03-10 09:00\n74,3 4 5,6.50,7.25\n"
            "43,1 0 2,0.50,1.00\n"),
      "forecast", "", "trips");
  ASSERT_TRUE(wide.ok()) << wide.status().ToString();
  EXPECT_EQ(wide->zones, (std::vector<int32_t>{43, 74}));
  EXPECT_EQ(wide->value(1, 1), 7.25);
  EXPECT_EQ(wide->title, "forecast");
  // `bimride eval eta --zone-errors`: one column of several chosen.
  auto mae = ReadZoneSeriesCsv(Write("zone_errors.csv", "zone,rows,mae,rmse,bias\n3,217,3.8,5.6,-1.9\n"),
                               "eta_mae", "", "minutes", "mae");
  ASSERT_TRUE(mae.ok()) << mae.status().ToString();
  EXPECT_EQ(mae->value(0, 0), 3.8);
  EXPECT_FALSE(ReadZoneSeriesCsv(Write("zone_errors2.csv", "zone,mae\n3,1\n"), "x", "", "", "p90").ok());
  // Per-zone values without a time (an evaluation's error per zone).
  auto flat = ReadZoneSeriesCsv(Write("err.csv", "zone,value\n7,3.5\n"), "eta_error", "", "min");
  ASSERT_TRUE(flat.ok()) << flat.status().ToString();
  EXPECT_EQ(flat->times, (std::vector<std::string>{""}));
}

TEST(ZoneSeriesTest, BadCsvAndJsonNameTheFileLineAndProblem) {
  auto expect_error = [](const StatusOr<ZoneSeries>& s, const std::string& want) {
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.status().message().find(want), std::string::npos) << s.status().message();
  };
  expect_error(ReadZoneSeriesCsv(Write("a.csv", "zone,time,value\nx,2021-01-01,1\n"), "a", "", ""),
               "a.csv: line 2: zone 'x' is not a positive integer");
  expect_error(ReadZoneSeriesCsv(Write("b.csv", "zone,value\n4,abc\n"), "b", "", ""),
               "b.csv: line 2: value 'abc' is not a finite number");
  expect_error(ReadZoneSeriesCsv(Write("c.csv", "zone,value\n4,1\n4,2\n"), "c", "", ""),
               "c.csv: line 3: zone 4 appears twice");
  expect_error(ReadZoneSeriesCsv(Write("d.csv", "zone,other\n4,1\n"), "d", "", ""),
               "want a 'value' column");
  expect_error(ReadZoneSeriesCsv(Write("e.csv", "id,value\n4,1\n"), "e", "", ""),
               "no 'zone' column");
  expect_error(ReadZoneSeriesCsv(Write("f.csv", "zone,value\n"), "f", "", ""), "no rows");
  expect_error(ReadZoneSeriesCsv(Write("g.csv", "zone,value\n4,1,2\n"), "g", "", ""),
               "line 2: 3 columns, the header has 2");
  expect_error(ReadZoneSeriesCsv(Write("h.csv", "zone,time,value\n4,yesterday,1\n"), "h", "", ""),
               "time 'yesterday' is not");
  expect_error(ReadZoneSeriesCsv("/nonexistent/x.csv", "x", "", ""), "/nonexistent/x.csv");
  expect_error(ZoneSeriesFromJson("[1]", "s.json"), "s.json: not a JSON object");
  expect_error(ZoneSeriesFromJson(R"({"name":"a","times":["t"],"zones":[1,2],"values":[1]})",
                                  "s.json"),
               "'values' must be an array of zones × times = 2 numbers");
  expect_error(ZoneSeriesFromJson(R"({"name":"a","times":["t"],"zones":[-1],"values":[1]})",
                                  "s.json"),
               "'zones' must hold positive integers");
  expect_error(ZoneSeriesFromJson(R"({"name":"../x","times":["t"],"zones":[1],"values":[1]})",
                                  "s.json"),
               "series name '../x'");
}

}  // namespace
}  // namespace bimride::console
