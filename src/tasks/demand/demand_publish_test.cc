// Publishing a learned demand model: the published version forecasts what the trained
// model does (through DemandForecaster, the serving code path). Label: unit.
#include "tasks/demand/demand_publish.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "common/civil_time.h"
#include "registry/registry.h"
#include "tasks/demand/demand_dataset.h"
#include "tasks/demand/demand_forecast.h"
#include "tasks/demand/demand_test_util.h"

namespace bimride::tasks::demand {
namespace {

using features::DemandGrid;
using testing::FastOptions;
using testing::LearnedKindsInThisBuild;
using testing::SyntheticGrid;
using testing::T;

TEST(DemandPublishTest, PublishedModelForecastsWhatTheTrainedModelDoes) {
  const DemandGrid grid = SyntheticGrid();
  const std::string repo =
      (std::filesystem::temp_directory_path() / ("demand_publish_" + registry::NewRunId()))
          .string();
  auto reg = registry::Registry::Open(repo);
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  for (DemandModelKind kind : LearnedKindsInThisBuild()) {
    auto model = TrainDemandModel(kind, grid, nullptr, 0, 28 * 24, FastOptions());
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    DemandPublishOptions po;
    po.metrics = {{"test_h1_wape", 0.5}};
    auto manifest = PublishDemandModel(**reg, *model, grid, nullptr, po);
    ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
    EXPECT_EQ(manifest->task, "demand");
    ASSERT_TRUE(manifest->feature_spec.has_value());
    EXPECT_EQ(manifest->feature_spec->request_fields,
              (std::vector<std::string>{"zone", "time", "recent_counts"}));
    EXPECT_EQ(manifest->outputs.size(), 6u);
    EXPECT_EQ(manifest->feature_stats.size(), manifest->inputs[0].shape[1]);
    EXPECT_EQ(manifest->inputs[1].name, "zone");
    // The zone id column is declared a category: its frequencies, every grid zone kept.
    const std::string zone_feature = manifest->inputs.empty() ? "" : registry::FeatureNames(*manifest).at(0);
    ASSERT_EQ(manifest->category_stats.count(zone_feature), 1u) << zone_feature;
    EXPECT_EQ(manifest->category_stats.at(zone_feature).categories.size(), grid.zones().size());
    EXPECT_EQ(manifest->category_stats.at(zone_feature).other_count, 0);

    auto forecaster =
        DemandForecaster::Open((*reg)->repository().VersionDir(manifest->name, manifest->version));
    ASSERT_TRUE(forecaster.ok()) << forecaster.status().ToString();
    auto rows = BuildForecastRows(grid, *features::DemandFeatures::Create({}, nullptr),
                                  model->baselines, 30 * 24 + 7, 30 * 24 + 8);
    ASSERT_TRUE(rows.ok());
    auto offline = model->Predict(grid, *rows);
    ASSERT_TRUE(offline.ok());
    for (int64_t r = 0; r < rows->data.rows; ++r) {
      const int64_t t = grid.BucketStart(rows->origin[r] + 1);
      const auto span = grid.ZoneCounts(rows->zone_pos[r]).subspan(grid.BucketOf(t) - 168, 168);
      auto online = (*forecaster)
                        ->Forecast(grid.zones()[rows->zone_pos[r]], t,
                                   std::vector<float>(span.begin(), span.end()));
      ASSERT_TRUE(online.ok()) << online.status().ToString();
      for (int h = 0; h < 6; ++h) {
        EXPECT_NEAR((*online)[h], (*offline)[r * 6 + h], 1e-4 * (1 + (*offline)[r * 6 + h]));
      }
    }
    EXPECT_FALSE((*forecaster)->Forecast(5, T("2021-03-31 08:00"), std::vector<float>(168)).ok())
        << "zone 5 is not a zone of the model";
  }
  auto baseline = TrainDemandModel(DemandModelKind::kHistoricalAverage, grid, nullptr, 0, 28 * 24,
                                   FastOptions());
  EXPECT_FALSE(PublishDemandModel(**reg, *baseline, grid, nullptr, {}).ok());
  EXPECT_FALSE(DemandForecaster::Open(repo + "/nothing").ok());
}

}  // namespace
}  // namespace bimride::tasks::demand
