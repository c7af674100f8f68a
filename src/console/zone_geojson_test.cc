#include "console/zone_geojson.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace bimride::console {
namespace {

const data::ZoneIndex& Zones() {
  static const data::ZoneIndex* z = [] {
    auto loaded = data::ZoneIndex::Load(std::string(BIMRIDE_DATA_DIR) + "/zones");
    if (!loaded.ok()) {
      ADD_FAILURE() << "cannot load the TLC zones (BIMRIDE_DATA_DIR): " << loaded.status().ToString();
      std::abort();
    }
    return new data::ZoneIndex(std::move(loaded).value());
  }();
  return *z;
}

// Even-odd point in polygon over every ring of a GeoJSON MultiPolygon.
bool Inside(const nlohmann::json& multipolygon, double lon, double lat) {
  bool in = false;
  for (const auto& polygon : multipolygon) {
    for (const auto& ring : polygon) {
      for (size_t i = 0, j = ring.size() - 1; i < ring.size(); j = i++) {
        const double xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
        if ((yi > lat) != (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi) in = !in;
      }
    }
  }
  return in;
}

TEST(ZonesGeoJsonTest, OneFeaturePerZoneWithAShapeNamedByIdAndSmall) {
  const std::string text = ZonesGeoJson(Zones());
  EXPECT_LT(text.size(), 2'000'000u) << "simplified for a page to load at once";
  nlohmann::json doc = nlohmann::json::parse(text);
  ASSERT_EQ(doc["type"], "FeatureCollection");
  ASSERT_EQ(doc["features"].size(), 260u) << "263 polygons, some zones have several (ids 56, 103)";
  std::map<int, nlohmann::json> by_id;
  for (const auto& f : doc["features"]) {
    by_id[f["id"].get<int>()] = f;
    EXPECT_EQ(f["properties"]["name"], std::to_string(f["id"].get<int>()));
    EXPECT_EQ(f["geometry"]["type"], "MultiPolygon");
  }
  ASSERT_TRUE(by_id.count(43));
  EXPECT_EQ(by_id[43]["properties"]["zone"], "Central Park");
  EXPECT_EQ(by_id[43]["properties"]["borough"], "Manhattan");
  EXPECT_FALSE(by_id.count(264)) << "unknown zones have no shape";
  // Points the index puts in a zone lie inside that zone's simplified GeoJSON polygons.
  EXPECT_TRUE(Inside(by_id[43]["geometry"]["coordinates"], -73.9654, 40.7829));
  EXPECT_TRUE(Inside(by_id[132]["geometry"]["coordinates"], -73.7781, 40.6413));
  EXPECT_TRUE(Inside(by_id[230]["geometry"]["coordinates"], -73.9855, 40.7580));
  EXPECT_FALSE(Inside(by_id[43]["geometry"]["coordinates"], -73.9855, 40.7580));
}

TEST(ZonesGeoJsonTest, SimplificationKeepsEveryZoneAndNoToleranceKeepsEveryVertex) {
  GeoJsonOptions exact;
  exact.simplify_degrees = 0;
  exact.decimals = 9;
  nlohmann::json full = nlohmann::json::parse(ZonesGeoJson(Zones(), exact));
  nlohmann::json small = nlohmann::json::parse(ZonesGeoJson(Zones()));
  size_t full_vertices = 0, small_vertices = 0;
  for (const auto& f : full["features"])
    for (const auto& p : f["geometry"]["coordinates"])
      for (const auto& r : p) full_vertices += r.size();
  for (const auto& f : small["features"])
    for (const auto& p : f["geometry"]["coordinates"])
      for (const auto& r : p) {
        small_vertices += r.size();
        EXPECT_GE(r.size(), 4u);
        EXPECT_EQ(r.front(), r.back()) << "rings stay closed";
      }
  EXPECT_EQ(full_vertices, Zones().vertex_count());
  EXPECT_LT(small_vertices, full_vertices / 2);
  EXPECT_EQ(full["features"].size(), small["features"].size());
}

}  // namespace
}  // namespace bimride::console
