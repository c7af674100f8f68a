// ETA evaluation: overall metrics, the breakdowns by hour and trip length, and the tables.
// Label: unit.
#include "tasks/eta/eta_evaluation.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/civil_time.h"
#include "tasks/eta/eta_dataset.h"

namespace bimride::tasks::eta {
namespace {

// Three trips: 08:00 (0.5 mi), 08:30 (3 mi), 17:00 (no meter, 1.2 km straight line).
data::TripTable Trips() {
  data::TripTable t;
  const int64_t day = DaysFromCivil(2021, 2, 3) * kMicrosPerDay;
  for (auto [minutes, miles] :
       {std::pair{8 * 60, 0.5f}, std::pair{8 * 60 + 30, 3.0f}, std::pair{17 * 60, NAN}}) {
    data::TripRow r;
    r.pickup_zone = 1;
    r.dropoff_zone = 2;
    r.pickup_time_us = day + minutes * kMicrosPerMinute;
    r.dropoff_time_us = r.pickup_time_us + 10 * kMicrosPerMinute;
    r.distance_miles = miles;
    r.pickup_lon = -73.99;
    r.pickup_lat = 40.75;
    r.dropoff_lon = -73.99;
    r.dropoff_lat = 40.7608;  // ~1.2 km north
    t.Append(r);
  }
  return t;
}

TEST(EtaEvaluationTest, OverallAndBreakdownsUseTheSameRows) {
  const data::TripTable trips = Trips();
  const std::vector<float> actual = {10, 20, 30}, predicted = {12, 20, 27};
  const EtaEvaluation e = EvaluateEta(predicted, actual, trips);
  EXPECT_EQ(e.overall.count, 3);
  EXPECT_NEAR(e.overall.rmse, std::sqrt((4.0 + 0 + 9) / 3), 1e-9);
  EXPECT_NEAR(e.overall.mae, 5.0 / 3, 1e-9);
  EXPECT_NEAR(e.overall.bias, (2.0 + 0 - 3) / 3, 1e-9);
  ASSERT_EQ(e.by_hour.size(), 2u);
  EXPECT_EQ(e.by_hour.at(8).count, 2);
  EXPECT_NEAR(e.by_hour.at(17).rmse, 3, 1e-9);
  // Length bands: the meter where there is one, else the straight line (~0.75 mi).
  int64_t banded = 0;
  for (const auto& [band, m] : e.by_length) banded += m.count;
  EXPECT_EQ(banded, 3);
  EXPECT_EQ(e.by_length.at(TripLengthBand(3.0)).count, 1);
  EXPECT_EQ(e.by_length.at(TripLengthBand(0.5)).count, 2) << "0.5 mi metered and ~0.75 mi straight";
}

TEST(EtaEvaluationTest, ErrorsPerPickupZoneAndTheirCsvForTheConsoleMap) {
  data::TripTable trips = Trips();
  trips.pickup_zone[1] = 43;
  trips.pickup_zone[2] = 0;  // unknown: grouped, but not a row of the CSV
  const std::vector<float> actual = {10, 20, 30}, predicted = {12, 17, 27};
  const EtaEvaluation e = EvaluateEta(predicted, actual, trips);
  ASSERT_EQ(e.by_pickup_zone.size(), 3u);
  EXPECT_EQ(e.by_pickup_zone.at(43).count, 1);
  EXPECT_NEAR(e.by_pickup_zone.at(43).bias, -3.0, 1e-9);
  EXPECT_EQ(FormatZoneErrorsCsv(e),
            "zone,rows,mae,rmse,bias\n"
            "1,1,2.0000,2.0000,2.0000\n"
            "43,1,3.0000,3.0000,-3.0000\n");
}

TEST(EtaEvaluationTest, TablesHaveOneRowPerModelAndOneColumnPerModel) {
  const data::TripTable trips = Trips();
  const std::vector<float> actual = {10, 20, 30};
  const std::vector<NamedEvaluation> models = {
      {"model_a", EvaluateEta(std::vector<float>{10, 20, 30}, actual, trips)},
      {"model_b", EvaluateEta(std::vector<float>{11, 21, 31}, actual, trips)}};
  const std::string table = FormatComparisonTable(models);
  EXPECT_NE(table.find("model_a"), std::string::npos) << table;
  EXPECT_NE(table.find("model_b"), std::string::npos) << table;
  const std::string hours = FormatHourBreakdown(models);
  EXPECT_NE(hours.find("model_b"), std::string::npos) << hours;
  EXPECT_NE(FormatLengthBreakdown(models).find(TripLengthBandName(TripLengthBand(3.0))),
            std::string::npos);
}

}  // namespace
}  // namespace bimride::tasks::eta
