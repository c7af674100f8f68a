#include "features/eta_context_files.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "common/civil_time.h"
#include "common/file.h"
#include "features/eta_features.h"
#include "features/eta_test_util.h"

namespace bimride::features {
namespace {

using eta_test::MakeTrips;
using eta_test::MakeWeather;
using eta_test::TempDir;

TEST(EtaContextFilesTest, SavedAndLoadedContextComputesBitIdenticalFeatures) {
  const data::TripTable trips = MakeTrips(1500, 4);
  const WeatherTable weather = MakeWeather();
  for (EtaFeatureSet set : {EtaFeatureSet::kBooking, EtaFeatureSet::kWithDistance}) {
    auto ctx = BuildEtaFeatureContext(set, trips, nullptr, &weather);
    ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
    const std::string dir = TempDir("roundtrip");
    ASSERT_TRUE(SaveEtaFeatureContext(*ctx, dir).ok());
    for (const std::string& f : EtaContextFileNames()) EXPECT_TRUE(FileExists(dir + "/" + f)) << f;
    auto loaded = LoadEtaFeatureContext(dir);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ(loaded->set, set);
    EXPECT_EQ(loaded->pairs.size(), ctx->pairs.size());
    const data::TripTable other = MakeTrips(400, 5);  // new trips, coordinates included
    auto a = ComputeEtaFeatures(*ctx, EtaRequestsFromTrips(other));
    auto b = ComputeEtaFeatures(*loaded, EtaRequestsFromTrips(other));
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(std::memcmp(a->data(), b->data(), a->size() * sizeof(float)), 0);
    std::filesystem::remove_all(dir);
  }
}

TEST(EtaContextFilesTest, LoadRejectsMissingAndCorruptContextFiles) {
  const data::TripTable trips = MakeTrips(200, 8);
  auto ctx = BuildEtaFeatureContext(EtaFeatureSet::kBooking, trips, nullptr, nullptr);
  ASSERT_TRUE(ctx.ok());
  const std::string dir = TempDir("corrupt");
  EXPECT_EQ(LoadEtaFeatureContext(dir).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(SaveEtaFeatureContext(*ctx, dir).ok());
  ASSERT_TRUE(LoadEtaFeatureContext(dir).ok());
  const std::string pairs = *ReadFile(dir + "/eta_zone_pairs.csv");
  ASSERT_TRUE(WriteFileAtomic(dir + "/eta_zone_pairs.csv", pairs + "1,2,x,1,1,1\n").ok());
  auto bad = LoadEtaFeatureContext(dir);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("eta_zone_pairs.csv: line"), std::string::npos)
      << bad.status().message();
  ASSERT_TRUE(WriteFileAtomic(dir + "/eta_zone_pairs.csv", pairs).ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/eta_context.json", "{\"format\": 1").ok());
  bad = LoadEtaFeatureContext(dir);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("eta_context.json: not a JSON object"), std::string::npos);
  std::filesystem::remove(dir + "/eta_weather.csv");
  ASSERT_TRUE(SaveEtaFeatureContext(*ctx, dir).ok());
  std::filesystem::remove(dir + "/eta_weather.csv");
  EXPECT_EQ(LoadEtaFeatureContext(dir).status().code(), StatusCode::kNotFound);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace bimride::features
