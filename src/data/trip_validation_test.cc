#include "data/trip_validation.h"

#include <gtest/gtest.h>

#include "common/civil_time.h"
#include "data/trip_csv.h"

namespace bimride::data {
namespace {

int64_t T(const char* text) { return *ParseCivil(text); }

TripRow Good() {
  TripRow r;
  r.pickup_time_us = T("2021-01-10 10:00:00");
  r.dropoff_time_us = T("2021-01-10 10:20:00");
  r.pickup_zone = 43;
  r.dropoff_zone = 151;
  r.distance_miles = 3;
  r.fare = 14;
  return r;
}

TripTable Table(const std::vector<TripRow>& rows) {
  TripTable t;
  t.source = TripSource::kTlcGreen;
  for (const TripRow& r : rows) t.Append(r);
  return t;
}

TEST(TripValidationTest, EachRuleQuarantinesItsRow) {
  std::vector<TripRow> rows(9, Good());
  rows[1].dropoff_time_us = kNullTime;                              // missing_required
  rows[2].dropoff_time_us = rows[2].pickup_time_us - 60'000'000;    // dropoff_before_pickup
  rows[3].dropoff_time_us = rows[3].pickup_time_us + 7 * kMicrosPerHour;  // duration
  rows[4].distance_miles = 50;                                      // 150 mph in 20 min
  rows[5].pickup_time_us = T("2009-01-01 00:00:00");                // outside the month
  rows[5].dropoff_time_us = rows[5].pickup_time_us + 20 * kMicrosPerMinute;
  rows[6].dropoff_zone = 264;                                       // unknown zone
  rows[7].fare = -5;                                                // bad fare
  rows[8].fare = 5000;                                              // absurd fare
  ValidationResult v = Validate(Table(rows), {}, {"green_tripdata_2021-01.parquet"});
  EXPECT_EQ(v.report.read, 9);
  EXPECT_EQ(v.report.kept, 1);
  EXPECT_EQ(v.report.quarantined, 8);
  EXPECT_EQ(v.report.month_year, 2021);
  EXPECT_EQ(v.report.month, 1);
  EXPECT_EQ(v.report.month_from, "file name");
  for (TripRule rule : {TripRule::kMissingRequired, TripRule::kDropoffBeforePickup,
                        TripRule::kImplausibleDuration, TripRule::kImplausibleSpeed,
                        TripRule::kOutsideFileMonth, TripRule::kUnknownZone}) {
    EXPECT_EQ(v.report.per_rule[static_cast<int>(rule)], 1) << TripRuleName(rule);
  }
  EXPECT_EQ(v.report.per_rule[static_cast<int>(TripRule::kBadFare)], 2);
  ASSERT_EQ(v.quarantine.trips.size(), 8u);
  EXPECT_EQ(v.quarantine.rules[0], TripRule::kMissingRequired);
  EXPECT_EQ(v.quarantine.origins[0], "green_tripdata_2021-01.parquet row 2");
  EXPECT_EQ(v.quarantine.rules[7], TripRule::kBadFare);
  EXPECT_FLOAT_EQ(v.quarantine.trips.fare[7], 5000);
  EXPECT_EQ(v.kept.pickup_zone[0], 43);
}

TEST(TripValidationTest, RowFailingSeveralRulesIsQuarantinedOnceUnderTheFirst) {
  TripRow r = Good();
  r.dropoff_time_us = r.pickup_time_us - 1;  // dropoff before pickup …
  r.pickup_zone = 0;                         // … and unknown zone …
  r.fare = -1;                               // … and bad fare
  ValidationResult v = Validate(Table({r}), {}, {});
  EXPECT_EQ(v.report.quarantined, 1);
  EXPECT_EQ(v.report.per_rule[static_cast<int>(TripRule::kDropoffBeforePickup)], 1);
  EXPECT_EQ(v.report.per_rule[static_cast<int>(TripRule::kUnknownZone)], 0);
  EXPECT_EQ(v.report.per_rule[static_cast<int>(TripRule::kBadFare)], 0);
  // With that rule off the next failed rule takes it.
  ValidationRules rules;
  rules.dropoff_before_pickup = false;
  v = Validate(Table({r}), rules, {});
  EXPECT_EQ(v.report.per_rule[static_cast<int>(TripRule::kUnknownZone)], 1);
}

TEST(TripValidationTest, FileThatStatesNoMonthKeepsEveryMonthAndReportsTheSpan) {
  std::vector<TripRow> rows(5, Good());
  rows[4].pickup_time_us = T("2021-03-20 10:00:00");
  rows[4].dropoff_time_us = rows[4].pickup_time_us + 20 * kMicrosPerMinute;
  ValidationResult v = Validate(Table(rows), {}, {"trips.csv"});
  EXPECT_EQ(v.report.month, 0);
  EXPECT_EQ(v.report.per_rule[static_cast<int>(TripRule::kOutsideFileMonth)], 0);
  EXPECT_EQ(v.report.kept, 5);
  const std::string text = v.report.ToString();
  EXPECT_NE(text.find("file month: none (the file states no month; every month kept)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("pickups span 2021-01-10 10:00:00 … 2021-03-20 10:00:00"), std::string::npos)
      << text;
  // The same rows in a file whose name states January: March is outside it.
  v = Validate(Table(rows), {}, {"green_tripdata_2021-01.csv"});
  EXPECT_EQ(v.report.per_rule[static_cast<int>(TripRule::kOutsideFileMonth)], 1);
}

TEST(TripValidationTest, MonthFromFileNames) {
  int y = 0, m = 0;
  EXPECT_TRUE(MonthFromFileName("/x/green_tripdata_2023-03.parquet", &y, &m));
  EXPECT_EQ(y, 2023);
  EXPECT_EQ(m, 3);
  EXPECT_TRUE(MonthFromFileName("uber-raw-data-apr14.csv.gz", &y, &m));
  EXPECT_EQ(y, 2014);
  EXPECT_EQ(m, 4);
  EXPECT_FALSE(MonthFromFileName("/data/2021-01/train.csv", &y, &m));  // folder, not file
  EXPECT_FALSE(MonthFromFileName("trips.csv", &y, &m));
}

TEST(TripValidationTest, MalformedRecordsCountAsReadAndQuarantined) {
  std::vector<RejectedRecord> bad = {{"a.csv", 7, "expected 20 fields, found 3", "1,2,3"}};
  ValidationResult v = Validate(Table({Good()}), {}, {"a.csv", nullptr, &bad});
  EXPECT_EQ(v.report.read, 2);
  EXPECT_EQ(v.report.kept, 1);
  EXPECT_EQ(v.report.quarantined, 1);
  EXPECT_EQ(v.report.per_rule[static_cast<int>(TripRule::kMalformedRecord)], 1);
  std::string csv = FormatQuarantineCsv(v.quarantine);
  // Fields holding commas are quoted.
  EXPECT_NE(csv.find("malformed_record,a.csv line 7,\"expected 20 fields, found 3\",\"1,2,3\""), std::string::npos) << csv;
}

TEST(TripValidationTest, QuarantineCsvHasARuleColumnAndTheRow) {
  TripRow r = Good();
  r.fare = -3;
  ValidationResult v = Validate(Table({Good(), r}), {}, {"g.csv"});
  std::string csv = FormatQuarantineCsv(v.quarantine);
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "rule,origin,problem,raw," + TripsCsvHeader());
  EXPECT_NE(csv.find("\nbad_fare,g.csv row 2,,,tlc_green,2021-01-10 10:00:00,"),
            std::string::npos)
      << csv;
  EXPECT_NE(v.report.ToString().find("kept + quarantined == read: yes"), std::string::npos);
}

}  // namespace
}  // namespace bimride::data
