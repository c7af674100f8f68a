#include "console/zone_geojson.h"

#include <array>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <vector>

namespace bimride::console {
namespace {

using Point = std::array<double, 2>;
using Ring = std::vector<Point>;

double SegmentDistance(const Point& p, const Point& a, const Point& b) {
  const double dx = b[0] - a[0], dy = b[1] - a[1];
  const double len2 = dx * dx + dy * dy;
  double t = len2 > 0 ? ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2 : 0;
  t = std::max(0.0, std::min(1.0, t));
  const double ex = a[0] + t * dx - p[0], ey = a[1] + t * dy - p[1];
  return std::sqrt(ex * ex + ey * ey);
}

// Douglas–Peucker over [first, last] (an explicit stack: rings have thousands of vertices).
Ring Simplify(const Ring& ring, double tolerance) {
  if (tolerance <= 0 || ring.size() < 5) return ring;
  std::vector<bool> keep(ring.size(), false);
  keep.front() = keep.back() = true;
  std::vector<std::pair<size_t, size_t>> stack = {{0, ring.size() - 1}};
  // A closed ring's first and last points coincide: split it at the farthest point first.
  size_t far = 0;
  double far_d = -1;
  for (size_t i = 1; i + 1 < ring.size(); ++i) {
    const double d = std::hypot(ring[i][0] - ring[0][0], ring[i][1] - ring[0][1]);
    if (d > far_d) far_d = d, far = i;
  }
  if (far > 0) {
    keep[far] = true;
    stack = {{0, far}, {far, ring.size() - 1}};
  }
  while (!stack.empty()) {
    auto [a, b] = stack.back();
    stack.pop_back();
    double best = -1;
    size_t at = a;
    for (size_t i = a + 1; i < b; ++i) {
      const double d = SegmentDistance(ring[i], ring[a], ring[b]);
      if (d > best) best = d, at = i;
    }
    if (best > tolerance) {
      keep[at] = true;
      stack.push_back({a, at});
      stack.push_back({at, b});
    }
  }
  Ring out;
  for (size_t i = 0; i < ring.size(); ++i) {
    if (keep[i]) out.push_back(ring[i]);
  }
  return out.size() >= 4 ? out : ring;
}

// Twice the signed area in lon/lat: > 0 counter-clockwise.
double SignedArea2(const Ring& ring) {
  double a = 0;
  for (size_t i = 0; i + 1 < ring.size(); ++i) {
    a += ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1];
  }
  return a;
}

double Round(double v, double scale) { return std::round(v * scale) / scale; }

}  // namespace

std::string ZonesGeoJson(const data::ZoneIndex& zones, const GeoJsonOptions& options) {
  const double scale = std::pow(10.0, options.decimals);
  nlohmann::json features = nlohmann::json::array();
  for (int32_t id : zones.ZoneIds()) {
    const data::ZoneInfo* info = zones.Zone(id);
    if (info == nullptr || !info->has_shape) continue;
    // The shapefile's convention: an outer ring is clockwise; the counter-clockwise rings after
    // it are its holes.
    nlohmann::json polygons = nlohmann::json::array();
    for (const Ring& raw : zones.ZoneRings(id)) {
      if (raw.size() < 4) continue;
      Ring ring = Simplify(raw, options.simplify_degrees);
      const bool outer = SignedArea2(raw) < 0 || polygons.empty();
      // RFC 7946: outer counter-clockwise, holes clockwise — the reverse of the shapefile's.
      std::reverse(ring.begin(), ring.end());
      nlohmann::json coords = nlohmann::json::array();
      for (const Point& p : ring) coords.push_back({Round(p[0], scale), Round(p[1], scale)});
      if (outer) {
        polygons.push_back(nlohmann::json::array({std::move(coords)}));
      } else {
        polygons.back().push_back(std::move(coords));
      }
    }
    if (polygons.empty()) continue;
    features.push_back({{"type", "Feature"},
                        {"id", id},
                        {"properties",
                         {{"name", std::to_string(id)},
                          {"id", id},
                          {"zone", info->name},
                          {"borough", info->borough}}},
                        {"geometry", {{"type", "MultiPolygon"}, {"coordinates", polygons}}}});
  }
  nlohmann::json doc = {{"type", "FeatureCollection"}, {"features", std::move(features)}};
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace bimride::console
