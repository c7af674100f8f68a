// ZoneIndex: NYC TLC taxi zones — lon/lat → zone id, zone names, boroughs, centroids and
// neighbours — built from the TLC taxi-zone shapefile (taxi_zones.{shp,shx,dbf,prj}, NAD83 /
// New York Long Island ftUS, reprojected to WGS84 lon/lat with PROJ) and taxi_zone_lookup.csv.
//
// Point-in-zone uses a uniform lon/lat grid. A grid cell that no zone boundary crosses stores its
// zone outright (most lookups end there); a boundary cell stores, per candidate polygon, the
// polygon edges that touch the cell and whether the cell centre lies inside. A query point is
// inside a polygon iff the centre is, flipped once per edge the segment point→centre crosses
// (even-odd rule, so holes and multipart polygons need nothing special).
//
// Ownership/thread safety: an immutable value once built; concurrent lookups are safe.
// What can fail: Load() returns NotFound naming a missing shapefile part, DataLoss for an
// unreadable part, InvalidArgument for bad records or a CRS PROJ cannot use.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace bimride::data {

struct ZoneInfo {
  int32_t id = 0;             // TLC LocationID, 1..265
  std::string name;           // "Central Park"
  std::string borough;        // "Manhattan"
  std::string service_zone;   // "Yellow Zone", "Boro Zone", "Airports", "EWR" (lookup CSV)
  bool has_shape = false;     // 264/265 (unknown / outside NYC) have no polygon
  double centroid_lon = 0;    // area centroid of all its polygons (NaN without a shape)
  double centroid_lat = 0;
};

struct ZoneIndexOptions {
  double cell_degrees = 0.001;           // grid cell edge (~85 m × 110 m in NYC)
  double neighbour_tolerance_feet = 10;  // polygons closer than this count as touching
};

class ZoneIndex {
 public:
  // Reads <dir>/taxi_zones.{shp,shx,dbf,prj} and, when present, <dir>/taxi_zone_lookup.csv.
  static StatusOr<ZoneIndex> Load(const std::string& dir, const ZoneIndexOptions& options = {});
  // `shapefile` is the path of the .shp (its .shx, .dbf, .prj must sit beside it);
  // `lookup_csv` may be empty.
  static StatusOr<ZoneIndex> LoadShapefile(const std::string& shapefile,
                                           const std::string& lookup_csv,
                                           const ZoneIndexOptions& options = {});

  // Zone containing (lon, lat) in WGS84 degrees; kUnknownZone (0) outside every zone or for
  // NaN coordinates.
  int32_t Lookup(double lon, double lat) const;
  void LookupMany(const double* lon, const double* lat, size_t n, int32_t* out) const;
  // The same answer by testing every polygon (no index); the reference for tests and benchmarks.
  int32_t LookupBruteForce(double lon, double lat) const;

  // nullptr for an id that is neither in the shapefile nor in the lookup table.
  const ZoneInfo* Zone(int32_t id) const;
  // Ids of all known zones, ascending.
  std::vector<int32_t> ZoneIds() const;
  // Zones whose polygons touch or share a boundary with zone `id` (within the tolerance),
  // ascending; empty for unknown ids.
  const std::vector<int32_t>& Neighbours(int32_t id) const;
  // The boundary rings of zone `id`'s polygons in WGS84 lon/lat, as the shapefile stores them
  // (closed: the last vertex repeats the first; outer rings clockwise, holes counter-clockwise);
  // empty for a zone without a shape. For drawing (the console's GeoJSON).
  std::vector<std::vector<std::array<double, 2>>> ZoneRings(int32_t id) const;

  size_t polygon_count() const { return shapes_.size(); }
  size_t vertex_count() const { return vx_.size(); }
  size_t grid_cells() const { return cells_.size(); }
  size_t boundary_cells() const { return boundary_offsets_.empty() ? 0 : boundary_offsets_.size() - 1; }

 private:
  struct Shape {
    int32_t zone;
    uint32_t ring_begin, ring_end;  // into ring_starts_ (ring r spans [ring_starts_[r], ring_starts_[r+1]))
    double min_x, min_y, max_x, max_y;
  };
  struct Edge {
    double ax, ay, bx, by;
  };
  struct Candidate {
    int32_t zone;
    uint32_t center_inside;
    uint32_t edge_begin, edge_end;  // into cell_edges_
  };

  class LonLatTransform;  // PROJ: the shapefile's CRS → WGS84 lon/lat (zone_index.cc)

  // The steps of LoadShapefile, in order; errors name the file (`base` is the shapefile path
  // without its extension). ReadPolygons fills shapes_, ring_starts_ and zones_ (ids, names and
  // boroughs from the .dbf) and the ring vertices in the file's CRS into *fx, *fy.
  Status ReadPolygons(const std::string& base, std::vector<double>* fx, std::vector<double>* fy);
  // Names, boroughs and service zones from taxi_zone_lookup.csv (also for zones without shapes).
  Status ReadZoneLookup(const std::string& lookup_csv);
  // vx_, vy_ and the shapes' bounding boxes from the projected vertices; InvalidArgument when a
  // vertex does not reproject.
  Status SetLonLatVertices(const std::string& base, const LonLatTransform& to_lon_lat,
                           const std::vector<double>& fx, const std::vector<double>& fy);
  // Area centroids of the zones with shapes (NaN for the others), computed in the planar CRS.
  void SetCentroids(const LonLatTransform& to_lon_lat, const std::vector<double>& fx,
                    const std::vector<double>& fy);
  void BuildGrid(double cell_degrees);
  void BuildNeighbours(const std::vector<double>& fx, const std::vector<double>& fy, double tol);
  bool InsideShapeBruteForce(const Shape& s, double x, double y) const;

  std::vector<double> vx_, vy_;          // all ring vertices, lon / lat
  std::vector<uint32_t> ring_starts_;    // vertex index where each ring starts (+ end sentinel)
  std::vector<Shape> shapes_;
  std::vector<ZoneInfo> zones_;          // indexed by id (0..max id); id 0 unused
  std::vector<std::vector<int32_t>> neighbours_;

  // Grid.
  double x0_ = 0, y0_ = 0, cw_ = 1, ch_ = 1;
  int32_t nx_ = 0, ny_ = 0;
  std::vector<int32_t> cells_;  // >= 0: zone id (0 none); < 0: -(boundary index + 1)
  std::vector<uint32_t> boundary_offsets_;  // into candidates_
  std::vector<Candidate> candidates_;
  std::vector<Edge> cell_edges_;
};

}  // namespace bimride::data
