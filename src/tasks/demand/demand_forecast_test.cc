// DemandForecaster: forecasts from trip files equal forecasts from the counts they make, and a
// zone, time or history the model cannot use is a clear error. Label: unit.
#include "tasks/demand/demand_forecast.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "registry/registry.h"
#include "tasks/demand/demand_publish.h"
#include "tasks/demand/demand_test_util.h"

namespace bimride::tasks::demand {
namespace {

using testing::FastOptions;
using testing::LearnedKindsInThisBuild;
using testing::SyntheticGrid;
using testing::T;

TEST(DemandForecastTest, TripFilesAndCountsGiveTheSameForecastAndBadInputsAreNamed) {
  if (LearnedKindsInThisBuild().empty()) GTEST_SKIP() << "no trainer in this build";
  const features::DemandGrid grid = SyntheticGrid();
  const std::string repo =
      (std::filesystem::temp_directory_path() / ("demand_forecast_" + registry::NewRunId()))
          .string();
  auto reg = registry::Registry::Open(repo);
  ASSERT_TRUE(reg.ok());
  auto model =
      TrainDemandModel(LearnedKindsInThisBuild()[0], grid, nullptr, 0, 28 * 24, FastOptions());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto manifest = PublishDemandModel(**reg, *model, grid, nullptr, {});
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  auto f = DemandForecaster::Open((*reg)->repository().VersionDir("demand", manifest->version));
  ASSERT_TRUE(f.ok()) << f.status().ToString();

  // The grid's counts as trips: one pickup per count, 10 minutes into its bucket.
  data::TripTable trips;
  for (size_t z = 0; z < grid.num_zones(); ++z) {
    for (int64_t b = 0; b < grid.num_buckets(); ++b) {
      for (int k = 0; k < static_cast<int>(grid.count(z, b)); ++k) {
        data::TripRow r;
        r.pickup_zone = grid.zones()[z];
        r.dropoff_zone = grid.zones()[z];
        r.pickup_time_us = grid.BucketStart(b) + 10 * kMicrosPerMinute;
        r.dropoff_time_us = r.pickup_time_us + 5 * kMicrosPerMinute;
        trips.Append(r);
      }
    }
  }
  const int64_t t = T("2021-03-31 08:00");
  features::DemandGridReport report;
  auto from_trips = (*f)->ForecastFromTrips(trips, t + 17 * kMicrosPerMinute, {9}, &report);
  ASSERT_TRUE(from_trips.ok()) << from_trips.status().ToString();
  ASSERT_EQ(from_trips->size(), 1u);
  const auto week = grid.ZoneCounts(2).subspan(grid.BucketOf(t) - 168, 168);
  auto from_counts = (*f)->Forecast(9, t, std::vector<float>(week.begin(), week.end()));
  ASSERT_TRUE(from_counts.ok()) << from_counts.status().ToString();
  EXPECT_EQ((*from_trips)[0].forecast, *from_counts) << "time is floored to the bucket";

  EXPECT_EQ((*f)->Forecast(5, t, std::vector<float>(168)).status().code(),
            StatusCode::kInvalidArgument)
      << "zone 5 is not the model's";
  EXPECT_FALSE((*f)->Forecast(9, t, std::vector<float>(10)).ok()) << "history is not a week";
  EXPECT_FALSE((*f)->ForecastFromTrips(trips, T("2021-03-02 08:00"), {9}, &report).ok())
      << "the trips do not cover the week before t";
  auto bad = DemandForecaster::Open(repo + "/demand/99");
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("demand/99"), std::string::npos) << bad.status().message();
  std::filesystem::remove_all(repo);
}

}  // namespace
}  // namespace bimride::tasks::demand
