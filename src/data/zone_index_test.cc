#include "data/zone_index.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <random>

#include "common/file.h"
#include "data/trip_table.h"

namespace bimride::data {
namespace {

const std::string kZonesDir = std::string(BIMRIDE_DATA_DIR) + "/zones";

const ZoneIndex& Zones() {
  static const ZoneIndex* index = [] {
    StatusOr<ZoneIndex> z = ZoneIndex::Load(kZonesDir);
    if (!z.ok()) {
      ADD_FAILURE() << "cannot load the TLC zones from " << kZonesDir << " (BIMRIDE_DATA_DIR): "
                    << z.status().ToString();
      std::abort();
    }
    return new ZoneIndex(std::move(z).value());
  }();
  return *index;
}

TEST(ZoneIndexTest, LoadsAll263PolygonsAndTheLookupNames) {
  const ZoneIndex& z = Zones();
  EXPECT_EQ(z.polygon_count(), 263u);
  ASSERT_NE(z.Zone(43), nullptr);
  EXPECT_EQ(z.Zone(43)->name, "Central Park");
  EXPECT_EQ(z.Zone(43)->borough, "Manhattan");
  EXPECT_EQ(z.Zone(132)->name, "JFK Airport");
  EXPECT_EQ(z.Zone(132)->service_zone, "Airports");
  ASSERT_NE(z.Zone(265), nullptr);  // no polygon, but named by the lookup table
  EXPECT_FALSE(z.Zone(265)->has_shape);
  EXPECT_EQ(z.Zone(266), nullptr);
  EXPECT_EQ(z.ZoneIds().size(), 265u);
}

TEST(ZoneIndexTest, KnownPointsFallInTheirZones) {
  const ZoneIndex& z = Zones();
  EXPECT_EQ(z.Lookup(-73.9654, 40.7829), 43);   // Central Park, the Great Lawn
  EXPECT_EQ(z.Lookup(-73.7781, 40.6413), 132);  // JFK airport terminals
  EXPECT_EQ(z.Lookup(-73.8740, 40.7769), 138);  // LaGuardia airport
  EXPECT_EQ(z.Lookup(-74.1745, 40.6895), 1);    // Newark airport
  EXPECT_EQ(z.Lookup(-73.9855, 40.7580), 230);  // Times Square/Theatre District
  EXPECT_EQ(z.Lookup(-74.0200, 40.7500), kUnknownZone);  // the Hudson river
  EXPECT_EQ(z.Lookup(-73.5, 40.0), kUnknownZone);        // the Atlantic
  EXPECT_EQ(z.Lookup(std::nan(""), 40.7), kUnknownZone);
}

TEST(ZoneIndexTest, EveryPolygonContainsItsOwnInteriorPointsAndCentroidsAreNearby) {
  const ZoneIndex& z = Zones();
  int with_shape = 0;
  for (int32_t id : z.ZoneIds()) {
    const ZoneInfo* info = z.Zone(id);
    if (!info->has_shape) continue;
    ++with_shape;
    ASSERT_TRUE(std::isfinite(info->centroid_lon)) << id;
    EXPECT_GT(info->centroid_lat, 40.45) << id;
    EXPECT_LT(info->centroid_lat, 40.95) << id;
    EXPECT_GT(info->centroid_lon, -74.3) << id;
    EXPECT_LT(info->centroid_lon, -73.65) << id;
    // The grid agrees with testing every polygon at the centroid, whatever the answer.
    EXPECT_EQ(z.Lookup(info->centroid_lon, info->centroid_lat),
              z.LookupBruteForce(info->centroid_lon, info->centroid_lat))
        << id;
  }
  EXPECT_EQ(with_shape, 260);  // 263 polygons; 56 and 103 come in several records
}

TEST(ZoneIndexTest, EveryZonePolygonIsFoundByTheGrid) {
  // For each zone: the first point of a spiral around its centroid that the brute-force
  // polygon test places in the zone must be placed there by the grid too.
  const ZoneIndex& z = Zones();
  int found = 0;
  for (int32_t id : z.ZoneIds()) {
    const ZoneInfo* info = z.Zone(id);
    if (!info->has_shape) continue;
    bool ok = false;
    for (int step = 0; step < 4000 && !ok; ++step) {
      double r = 0.00005 * step, a = step * 0.7;
      double x = info->centroid_lon + r * std::cos(a), y = info->centroid_lat + r * std::sin(a);
      if (z.LookupBruteForce(x, y) != id) continue;
      ok = true;
      EXPECT_EQ(z.Lookup(x, y), id) << "at " << x << "," << y;
    }
    EXPECT_TRUE(ok) << "no point found inside zone " << id;
    found += ok;
  }
  EXPECT_EQ(found, 260);
}

TEST(ZoneIndexTest, GridAgreesWithBruteForceOnRandomPoints) {
  const ZoneIndex& z = Zones();
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> lon(-74.28, -73.68), lat(40.48, 40.93);
  int disagree = 0, inside = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    double x = lon(rng), y = lat(rng);
    int32_t a = z.Lookup(x, y);
    int32_t b = z.LookupBruteForce(x, y);
    inside += a != kUnknownZone;
    if (a != b) {
      ++disagree;
      if (disagree < 5) ADD_FAILURE() << "at " << x << "," << y << ": grid " << a << " brute " << b;
    }
  }
  EXPECT_EQ(disagree, 0);
  EXPECT_GT(inside, n / 4);  // the grid covers the city, not only water
}

TEST(ZoneIndexTest, NeighboursAreSymmetricAndMatchTheMap) {
  const ZoneIndex& z = Zones();
  auto has = [&](int32_t a, int32_t b) {
    const auto& n = z.Neighbours(a);
    return std::find(n.begin(), n.end(), b) != n.end();
  };
  EXPECT_TRUE(has(43, 142));   // Central Park / Lincoln Square East
  EXPECT_TRUE(has(43, 236));   // Central Park / Upper East Side North
  EXPECT_TRUE(has(43, 41));    // Central Park / Central Harlem
  EXPECT_FALSE(has(43, 132));  // Central Park / JFK
  EXPECT_FALSE(has(43, 43));
  for (int32_t a : z.ZoneIds()) {
    for (int32_t b : z.Neighbours(a)) EXPECT_TRUE(has(b, a)) << a << " " << b;
  }
  EXPECT_TRUE(z.Neighbours(265).empty());
}

TEST(ZoneIndexTest, MissingShapefilePartIsNotFoundNamingThePart) {
  std::string dir = ::testing::TempDir() + "/zones_missing_shx";
  ASSERT_TRUE(MakeDirs(dir).ok());
  for (const char* ext : {".shp", ".dbf", ".prj"}) {
    std::filesystem::copy_file(kZonesDir + "/taxi_zones" + ext, dir + "/taxi_zones" + ext,
                               std::filesystem::copy_options::overwrite_existing);
  }
  StatusOr<ZoneIndex> z = ZoneIndex::Load(dir);
  ASSERT_FALSE(z.ok());
  EXPECT_EQ(z.status().code(), StatusCode::kNotFound);
  EXPECT_NE(z.status().message().find("taxi_zones.shx: missing"), std::string::npos);
}

TEST(ZoneIndexTest, CorruptShapefileIsAnErrorNotACrash) {
  std::string dir = ::testing::TempDir() + "/zones_corrupt";
  ASSERT_TRUE(MakeDirs(dir).ok());
  for (const char* ext : {".shx", ".dbf", ".prj"}) {
    std::filesystem::copy_file(kZonesDir + "/taxi_zones" + ext, dir + "/taxi_zones" + ext,
                               std::filesystem::copy_options::overwrite_existing);
  }
  ASSERT_TRUE(WriteFileAtomic(dir + "/taxi_zones.shp", "not a shapefile at all").ok());
  StatusOr<ZoneIndex> z = ZoneIndex::Load(dir);
  ASSERT_FALSE(z.ok());
  EXPECT_NE(z.status().message().find("taxi_zones.shp"), std::string::npos);
  // A .prj PROJ cannot read.
  std::filesystem::copy_file(kZonesDir + "/taxi_zones.shp", dir + "/taxi_zones.shp",
                             std::filesystem::copy_options::overwrite_existing);
  ASSERT_TRUE(WriteFileAtomic(dir + "/taxi_zones.prj", "GARBAGE[").ok());
  z = ZoneIndex::Load(dir);
  ASSERT_FALSE(z.ok());
  EXPECT_NE(z.status().message().find("taxi_zones.prj"), std::string::npos);
}

}  // namespace
}  // namespace bimride::data
