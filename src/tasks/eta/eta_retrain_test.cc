#include "tasks/eta/eta_retrain.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/civil_time.h"

namespace bimride::tasks::eta {
namespace {

monitoring::LabelledRow Row(const std::string& id, const std::string& raw, double actual) {
  monitoring::LabelledRow r;
  r.request_id = id;
  r.raw = raw;
  r.actual = actual;
  return r;
}

TEST(EtaRetrain, LabelledRowsBecomeTripsThroughTheServersRequestParser) {
  monitoring::LabelledRows rows;
  rows.rows = {
      Row("trip-1",
          R"({"pickup_zone": 74, "dropoff_zone": 75, "pickup_datetime": "2023-01-05 08:30:00",)"
          R"( "trip_distance": 1.25})",
          12.5),
      Row("trip-2", R"({"pickup_zone": "41", "dropoff_zone": 42, "pickup_datetime": )"
                    R"("2023-01-05 09:00:00"})",
          90),  // longer than the training filter's 60 minutes
      Row("trip-3", R"({"pickup_zone": 74, "dropoff_zone": 75})", 10),  // no pickup time
      Row("trip-4", "", 10),  // a feature-vector request: no raw fields
      Row("trip-5", R"({"pickup_zone": 7, "dropoff_zone": 7, "pickup_datetime": )"
                    R"("2023-01-05 10:00:00"})",
          3)};
  EtaDatasetOptions o;
  auto d = EtaDatasetFromLabelledRows(rows, features::EtaFeatureSet::kBooking, o);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->trips.size(), 2u);
  EXPECT_EQ(d->report.loader_quarantined, 2);  // trip-3 and trip-4, counted
  EXPECT_EQ(d->report.removed_too_long, 1);    // trip-2, by the training filter
  EXPECT_EQ(d->trips.pickup_zone[0], 74);
  EXPECT_EQ(d->trips.dropoff_zone[0], 75);
  EXPECT_EQ(d->trips.pickup_time_us[0], ParseCivil("2023-01-05 08:30:00").value());
  EXPECT_FLOAT_EQ(d->minutes[0], 12.5f);
  EXPECT_FLOAT_EQ(d->trips.distance_miles[0], 1.25f);
  EXPECT_TRUE(std::isnan(d->trips.distance_miles[1]));
  EXPECT_FLOAT_EQ(d->minutes[1], 3.0f);

  monitoring::LabelledRows bad;
  bad.rows = {Row("trip-9", "{\"pickup_zone\": 74", 5)};
  auto none = EtaDatasetFromLabelledRows(bad, features::EtaFeatureSet::kBooking, o);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("request trip-9"), std::string::npos)
      << none.status().message();
}

TEST(EtaRetrain, RefusesOptionsItCannotTrainWith) {
  auto r = registry::Registry::Open(::testing::TempDir() + "/eta_retrain_test_repo");
  ASSERT_TRUE(r.ok());
  monitoring::LabelledRows rows;
  EtaRetrainOptions o;
  o.config.model = "baseline";  // in every build (xgboost, the default, may not be)
  o.out_dir = ::testing::TempDir() + "/eta_retrain_test_out";
  o.valid_fraction = 1.5;
  EXPECT_EQ(RetrainEtaOnLabelledRows(**r, rows, o).status().code(), StatusCode::kInvalidArgument);
  o.valid_fraction = 0.2;
  auto st = RetrainEtaOnLabelledRows(**r, rows, o).status();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("none of 0 rows"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace bimride::tasks::eta
