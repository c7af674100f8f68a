// The ETA dataset: the duration filter and its report, trip-length bands. Label: unit.
#include "tasks/eta/eta_dataset.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "common/civil_time.h"
#include "common/file.h"
#include "tasks/eta/eta_test_util.h"

namespace bimride::tasks::eta {
namespace {

const int64_t kJan1 = DaysFromCivil(2021, 1, 1);

TEST(EtaDatasetTest, FilterCountsEveryRemovedRowByReason) {
  data::TripTable t;
  const int64_t t0 = kJan1 * kMicrosPerDay;
  auto add = [&](double minutes, int32_t pu) {
    data::TripRow r;
    r.pickup_zone = pu;
    r.dropoff_zone = 2;
    r.pickup_time_us = t0;
    r.dropoff_time_us = std::isnan(minutes) ? data::kNullTime
                                            : t0 + static_cast<int64_t>(minutes * kMicrosPerMinute);
    t.Append(r);
  };
  add(0.5, 1);  // too short
  add(1.0, 1);  // kept (bounds are inclusive)
  add(30, 1);   // kept
  add(60, 1);   // kept
  add(61, 1);   // too long
  add(NAN, 1);  // no duration
  add(10, 0);   // unknown zone
  auto d = MakeEtaDataset(t, {});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->report.loaded, 7);
  EXPECT_EQ(d->report.kept, 3);
  EXPECT_EQ(d->report.removed_too_short, 1);
  EXPECT_EQ(d->report.removed_too_long, 1);
  EXPECT_EQ(d->report.removed_no_duration, 1);
  EXPECT_EQ(d->report.removed_unknown_zone, 1);
  EXPECT_EQ(d->minutes, (std::vector<float>{1, 30, 60}));
  EXPECT_EQ(d->report.filter, "1 <= duration_min <= 60");
  EtaDatasetOptions wide;
  wide.max_minutes = 120;
  EXPECT_EQ(MakeEtaDataset(t, wide)->report.kept, 4);
  EtaDatasetOptions off;
  off.apply_duration_filter = false;
  EXPECT_EQ(MakeEtaDataset(t, off)->report.kept, 5);
  EtaDatasetOptions bad;
  bad.min_minutes = 10;
  bad.max_minutes = 5;
  EXPECT_EQ(MakeEtaDataset(t, bad).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TripLengthBand(0.3), 0);
  EXPECT_EQ(TripLengthBand(1.0), 1);
  EXPECT_EQ(TripLengthBand(7), 3);
  EXPECT_EQ(TripLengthBand(25), 4);
  EXPECT_EQ(TripLengthBand(NAN), 0);
}

}  // namespace
}  // namespace bimride::tasks::eta
