// The ETA baselines read their one feature, save and load. Label: unit.
#include "tasks/eta/eta_baselines.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "common/civil_time.h"
#include "common/file.h"
#include "tasks/eta/eta_test_util.h"

namespace bimride::tasks::eta {
namespace {

using features::EtaFeatureSet;

TEST(EtaBaselineTest, BaselinesReadTheirFeatureAndRoundTrip) {
  auto mean = EtaBaselineModel::Make(EtaBaselineKind::kMean, EtaFeatureSet::kBooking, 12.5f);
  auto pair = EtaBaselineModel::Make(EtaBaselineKind::kPairMedian, EtaFeatureSet::kWithDistance, 0);
  const int f = features::EtaFeatureCount(EtaFeatureSet::kWithDistance);
  std::vector<float> x(2 * f);
  const auto names = features::EtaFeatureNames(EtaFeatureSet::kWithDistance);
  for (int k = 0; k < f; ++k) {
    x[k] = names[k] == "pair_median_minutes" ? 7.0f : 1.0f;
    x[f + k] = names[k] == "pair_median_minutes" ? 9.0f : 1.0f;
  }
  auto p = pair->Predict(x);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, (std::vector<float>{7, 9}));
  std::vector<float> xb(features::EtaFeatureCount(EtaFeatureSet::kBooking), 3.0f);
  EXPECT_EQ(*mean->Predict(xb), (std::vector<float>{12.5f}));
  const std::string dir = testing::TempDir("baseline");
  ASSERT_TRUE(pair->Save(dir + "/b.json").ok());
  auto loaded = EtaBaselineModel::Load(dir + "/b.json");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(*(*loaded)->Predict(x), (std::vector<float>{7, 9}));
  ASSERT_TRUE(WriteFileAtomic(dir + "/bad.json", "{\"format\": \"other\"}").ok());
  EXPECT_NE(EtaBaselineModel::Load(dir + "/bad.json").status().message().find("bad.json"),
            std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace bimride::tasks::eta
