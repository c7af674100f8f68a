// ZonesGeoJson: the TLC taxi zones as GeoJSON for the console's maps, made from the shapefile by
// data::ZoneIndex (shapelib + PROJ, WGS84 lon/lat) — no third-party conversion.
//
// One Feature per zone with a shape: properties {"name": "<id>", "id": <id>, "zone": "<name>",
// "borough": "<borough>"} ("name" is the id as text because the map library matches series data
// by it, and zone names repeat: 103–105 share one), geometry a MultiPolygon (RFC 7946 winding:
// outer rings counter-clockwise, holes clockwise). Rings are simplified (Douglas–Peucker) within
// `simplify_degrees` and rounded to `decimals`, which keeps the file small enough for a page to
// load at once; a ring that would fall below 4 points keeps its own vertices.
#pragma once

#include <string>

#include "data/zone_index.h"

namespace bimride::console {

struct GeoJsonOptions {
  double simplify_degrees = 0.0001;  // ~10 m in NYC; 0 keeps every vertex
  int decimals = 5;                   // ~1 m
};

std::string ZonesGeoJson(const data::ZoneIndex& zones, const GeoJsonOptions& options = {});

}  // namespace bimride::console
