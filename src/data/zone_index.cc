#include "data/zone_index.h"

#include <proj.h>
#include <shapefil.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "common/file.h"
#include "data/csv_reader.h"
#include "data/trip_table.h"

namespace bimride::data {
namespace {

std::string StripExtension(const std::string& path) {
  size_t slash = path.find_last_of('/');
  size_t dot = path.find_last_of('.');
  if (dot != std::string::npos && (slash == std::string::npos || dot > slash)) {
    return path.substr(0, dot);
  }
  return path;
}

struct ShpCloser {
  void operator()(SHPInfo* h) const { SHPClose(h); }
};
struct DbfCloser {
  void operator()(DBFInfo* h) const { DBFClose(h); }
};
struct ShpObjectDeleter {
  void operator()(SHPObject* o) const { SHPDestroyObject(o); }
};
struct ProjContextDeleter {
  void operator()(PJ_CONTEXT* c) const { proj_context_destroy(c); }
};
struct ProjDeleter {
  void operator()(PJ* p) const { proj_destroy(p); }
};

// Orientation of c relative to the directed line a→b (> 0: left).
inline double Orient(double ax, double ay, double bx, double by, double cx, double cy) {
  return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
}

// Does the edge a-b cross the segment q-c? Half-open on the q-c line so that a vertex lying
// exactly on it is counted once for the two edges that share it.
inline bool Crosses(double qx, double qy, double cx, double cy, double ax, double ay, double bx,
                    double by) {
  bool sa = Orient(qx, qy, cx, cy, ax, ay) > 0;
  bool sb = Orient(qx, qy, cx, cy, bx, by) > 0;
  if (sa == sb) return false;
  bool sq = Orient(ax, ay, bx, by, qx, qy) > 0;
  bool sc = Orient(ax, ay, bx, by, cx, cy) > 0;
  return sq != sc;
}

double PointSegmentDistance(double px, double py, double ax, double ay, double bx, double by) {
  double dx = bx - ax, dy = by - ay;
  double len2 = dx * dx + dy * dy;
  double t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0;
  t = std::clamp(t, 0.0, 1.0);
  double ex = ax + t * dx - px, ey = ay + t * dy - py;
  return std::sqrt(ex * ex + ey * ey);
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
  size_t k = 0;
  while (k < s.size() && (s[k] == ' ' || s[k] == '\t')) ++k;
  return s.substr(k);
}

}  // namespace

StatusOr<ZoneIndex> ZoneIndex::Load(const std::string& dir, const ZoneIndexOptions& options) {
  std::string lookup = dir + "/taxi_zone_lookup.csv";
  return LoadShapefile(dir + "/taxi_zones.shp", FileExists(lookup) ? lookup : "", options);
}

namespace {

// NotFound naming the first of the shapefile's four parts that is missing beside `base`.
Status CheckShapefileParts(const std::string& base) {
  for (const char* ext : {".shp", ".shx", ".dbf", ".prj"}) {
    if (!FileExists(base + ext)) {
      return NotFoundError(base + ext +
                           ": missing (a shapefile needs its .shp, .shx, .dbf and .prj parts)");
    }
  }
  return OkStatus();
}

}  // namespace

// PROJ's transform from a shapefile's CRS (its .prj, ESRI WKT) to WGS84 lon/lat, in that order
// (normalised for visualisation: x = lon, y = lat).
class ZoneIndex::LonLatTransform {
 public:
  // InvalidArgument naming `base`.prj when PROJ cannot use the CRS.
  static StatusOr<LonLatTransform> FromPrj(const std::string& prj, const std::string& base) {
    LonLatTransform t;
    t.ctx_.reset(proj_context_create());
    proj_log_level(t.ctx_.get(), PJ_LOG_NONE);  // failures come back as our Status instead
    std::unique_ptr<PJ, ProjDeleter> raw(
        proj_create_crs_to_crs(t.ctx_.get(), prj.c_str(), "EPSG:4326", nullptr));
    if (!raw) {
      return InvalidArgumentError(base + ".prj: PROJ cannot build a transform to EPSG:4326: " +
                                  proj_errno_string(proj_context_errno(t.ctx_.get())));
    }
    t.pj_.reset(proj_normalize_for_visualization(t.ctx_.get(), raw.get()));
    if (!t.pj_) return InternalError(base + ".prj: proj_normalize_for_visualization failed");
    return t;
  }

  // Transforms the points (x[i], y[i]) in place; points PROJ cannot map become non-finite.
  void Forward(std::vector<double>* x, std::vector<double>* y) const {
    proj_trans_generic(pj_.get(), PJ_FWD, x->data(), sizeof(double), x->size(), y->data(),
                       sizeof(double), y->size(), nullptr, 0, 0, nullptr, 0, 0);
  }

 private:
  std::unique_ptr<PJ_CONTEXT, ProjContextDeleter> ctx_;
  std::unique_ptr<PJ, ProjDeleter> pj_;
};

StatusOr<ZoneIndex> ZoneIndex::LoadShapefile(const std::string& shapefile,
                                             const std::string& lookup_csv,
                                             const ZoneIndexOptions& options) {
  if (!(options.cell_degrees > 0) || !(options.neighbour_tolerance_feet >= 0)) {
    return InvalidArgumentError("zone index: cell_degrees must be > 0 and tolerance >= 0");
  }
  const std::string base = StripExtension(shapefile);
  RETURN_IF_ERROR(CheckShapefileParts(base));
  ASSIGN_OR_RETURN(std::string prj, ReadFile(base + ".prj"));

  ZoneIndex index;
  std::vector<double> fx, fy;  // projected feet, kept for centroids and neighbours
  RETURN_IF_ERROR(index.ReadPolygons(base, &fx, &fy));
  // Names, boroughs and service zones from the lookup table (also for 264/265 without shapes).
  if (!lookup_csv.empty()) RETURN_IF_ERROR(index.ReadZoneLookup(lookup_csv));

  // Reproject to lon/lat. The .prj is the source CRS, so a shapefile in another projection
  // still works.
  ASSIGN_OR_RETURN(LonLatTransform to_lon_lat, LonLatTransform::FromPrj(prj, base));
  RETURN_IF_ERROR(index.SetLonLatVertices(base, to_lon_lat, fx, fy));
  index.SetCentroids(to_lon_lat, fx, fy);

  index.BuildGrid(options.cell_degrees);
  index.BuildNeighbours(fx, fy, options.neighbour_tolerance_feet);
  return index;
}

Status ZoneIndex::ReadPolygons(const std::string& base, std::vector<double>* fx,
                               std::vector<double>* fy) {
  std::unique_ptr<SHPInfo, ShpCloser> shp(SHPOpen(base.c_str(), "rb"));
  if (!shp) return DataLossError(base + ".shp: shapelib cannot open it (corrupt .shp or .shx)");
  std::unique_ptr<DBFInfo, DbfCloser> dbf(DBFOpen((base + ".dbf").c_str(), "rb"));
  if (!dbf) return DataLossError(base + ".dbf: shapelib cannot open it");
  int entities = 0, shape_type = 0;
  double min_bound[4], max_bound[4];
  SHPGetInfo(shp.get(), &entities, &shape_type, min_bound, max_bound);
  if (shape_type != SHPT_POLYGON && shape_type != SHPT_POLYGONZ && shape_type != SHPT_POLYGONM) {
    return InvalidArgumentError(base + ".shp: shape type " + std::to_string(shape_type) +
                                " is not a polygon type");
  }
  if (DBFGetRecordCount(dbf.get()) != entities) {
    return DataLossError(base + ".dbf: " + std::to_string(DBFGetRecordCount(dbf.get())) +
                         " records but the .shp has " + std::to_string(entities) + " shapes");
  }
  int f_id = DBFGetFieldIndex(dbf.get(), "LocationID");
  int f_zone = DBFGetFieldIndex(dbf.get(), "zone");
  int f_borough = DBFGetFieldIndex(dbf.get(), "borough");
  if (f_id < 0) return InvalidArgumentError(base + ".dbf: no 'LocationID' field");

  int32_t max_id = 265;
  for (int i = 0; i < entities; ++i) {
    std::unique_ptr<SHPObject, ShpObjectDeleter> obj(SHPReadObject(shp.get(), i));
    if (!obj) return DataLossError(base + ".shp: shape " + std::to_string(i) + ": unreadable");
    int32_t id = DBFReadIntegerAttribute(dbf.get(), i, f_id);
    if (id <= 0 || id > 100000) {
      return InvalidArgumentError(base + ".dbf: record " + std::to_string(i) +
                                  ": bad LocationID " + std::to_string(id));
    }
    max_id = std::max(max_id, id);
    if (obj->nVertices == 0) continue;  // a null shape has no area to look up
    Shape s{id, static_cast<uint32_t>(ring_starts_.size()), 0, 0, 0, 0, 0};
    for (int part = 0; part < std::max(1, obj->nParts); ++part) {
      int begin = obj->nParts > 0 ? obj->panPartStart[part] : 0;
      int end = (obj->nParts > 0 && part + 1 < obj->nParts) ? obj->panPartStart[part + 1]
                                                           : obj->nVertices;
      if (begin < 0 || end > obj->nVertices || end - begin < 3) {
        return DataLossError(base + ".shp: shape " + std::to_string(i) + " part " +
                             std::to_string(part) + ": bad ring bounds");
      }
      ring_starts_.push_back(static_cast<uint32_t>(fx->size()));
      for (int v = begin; v < end; ++v) {
        fx->push_back(obj->padfX[v]);
        fy->push_back(obj->padfY[v]);
      }
      // Close the ring when the file did not.
      if (obj->padfX[begin] != obj->padfX[end - 1] || obj->padfY[begin] != obj->padfY[end - 1]) {
        fx->push_back(obj->padfX[begin]);
        fy->push_back(obj->padfY[begin]);
      }
    }
    s.ring_end = static_cast<uint32_t>(ring_starts_.size());
    shapes_.push_back(s);
    if (static_cast<int32_t>(zones_.size()) <= id) zones_.resize(id + 1);
    ZoneInfo& z = zones_[id];
    z.id = id;
    z.has_shape = true;
    if (f_zone >= 0) z.name = Trim(DBFReadStringAttribute(dbf.get(), i, f_zone));
    if (f_borough >= 0) z.borough = Trim(DBFReadStringAttribute(dbf.get(), i, f_borough));
  }
  ring_starts_.push_back(static_cast<uint32_t>(fx->size()));
  if (shapes_.empty()) return InvalidArgumentError(base + ".shp: no polygons");
  if (static_cast<int32_t>(zones_.size()) <= max_id) zones_.resize(max_id + 1);
  return OkStatus();
}

Status ZoneIndex::ReadZoneLookup(const std::string& lookup_csv) {
  ASSIGN_OR_RETURN(std::string text, ReadMaybeGzipFile(lookup_csv));
  CsvTokenizer tok(text, lookup_csv);
  std::vector<std::string_view> f;
  ASSIGN_OR_RETURN(bool has_header, tok.Next(&f));
  CsvHeader header(f);
  int c_id = header.Find("LocationID"), c_b = header.Find("Borough"), c_z = header.Find("Zone"),
      c_s = header.Find("service_zone");
  if (!has_header || c_id < 0 || c_b < 0 || c_z < 0) {
    return InvalidArgumentError(lookup_csv +
                                ": header must name LocationID, Borough and Zone columns");
  }
  for (;;) {
    ASSIGN_OR_RETURN(bool more, tok.Next(&f));
    if (!more) break;
    if (f.size() != header.size()) {
      return InvalidArgumentError(lookup_csv + ": line " + std::to_string(tok.line()) +
                                  ": expected " + std::to_string(header.size()) +
                                  " fields, found " + std::to_string(f.size()));
    }
    int32_t id = std::atoi(std::string(f[c_id]).c_str());
    if (id <= 0 || id > 100000) {
      return InvalidArgumentError(lookup_csv + ": line " + std::to_string(tok.line()) +
                                  ": bad LocationID '" + std::string(f[c_id]) + "'");
    }
    if (static_cast<int32_t>(zones_.size()) <= id) zones_.resize(id + 1);
    ZoneInfo& z = zones_[id];
    z.id = id;
    z.name = std::string(f[c_z]);
    z.borough = std::string(f[c_b]);
    if (c_s >= 0) z.service_zone = std::string(f[c_s]);
  }
  return OkStatus();
}

Status ZoneIndex::SetLonLatVertices(const std::string& base, const LonLatTransform& to_lon_lat,
                                    const std::vector<double>& fx, const std::vector<double>& fy) {
  vx_ = fx;
  vy_ = fy;
  to_lon_lat.Forward(&vx_, &vy_);
  for (size_t i = 0; i < vx_.size(); ++i) {
    if (!std::isfinite(vx_[i]) || !std::isfinite(vy_[i])) {
      return InvalidArgumentError(base + ".shp: vertex " + std::to_string(i) +
                                  " does not reproject to lon/lat");
    }
  }
  for (Shape& s : shapes_) {
    uint32_t b = ring_starts_[s.ring_begin], e = ring_starts_[s.ring_end];
    s.min_x = *std::min_element(vx_.begin() + b, vx_.begin() + e);
    s.max_x = *std::max_element(vx_.begin() + b, vx_.begin() + e);
    s.min_y = *std::min_element(vy_.begin() + b, vy_.begin() + e);
    s.max_y = *std::max_element(vy_.begin() + b, vy_.begin() + e);
  }
  return OkStatus();
}

void ZoneIndex::SetCentroids(const LonLatTransform& to_lon_lat, const std::vector<double>& fx,
                             const std::vector<double>& fy) {
  // Area centroids per zone, in the planar projected CRS (signed ring areas: holes subtract).
  std::vector<double> sa(zones_.size(), 0), sx(zones_.size(), 0), sy(zones_.size(), 0);
  for (const Shape& s : shapes_) {
    for (uint32_t r = s.ring_begin; r < s.ring_end; ++r) {
      uint32_t b = ring_starts_[r], e = ring_starts_[r + 1];
      double ox = fx[b], oy = fy[b];  // local origin keeps the products well conditioned
      for (uint32_t k = b; k + 1 < e; ++k) {
        double x1 = fx[k] - ox, y1 = fy[k] - oy, x2 = fx[k + 1] - ox, y2 = fy[k + 1] - oy;
        double cross = x1 * y2 - x2 * y1;
        sa[s.zone] += cross / 2;
        // First moments in local coordinates plus the origin times the area.
        sx[s.zone] += (x1 + x2) * cross / 6 + ox * cross / 2;
        sy[s.zone] += (y1 + y2) * cross / 6 + oy * cross / 2;
      }
    }
  }
  std::vector<double> cx, cy;
  std::vector<int32_t> cid;
  for (ZoneInfo& z : zones_) {
    z.centroid_lon = z.centroid_lat = std::nan("");
    if (z.has_shape && sa[z.id] != 0) {
      cx.push_back(sx[z.id] / sa[z.id]);
      cy.push_back(sy[z.id] / sa[z.id]);
      cid.push_back(z.id);
    }
  }
  to_lon_lat.Forward(&cx, &cy);
  for (size_t i = 0; i < cid.size(); ++i) {
    zones_[cid[i]].centroid_lon = cx[i];
    zones_[cid[i]].centroid_lat = cy[i];
  }
}

void ZoneIndex::BuildGrid(double cell) {
  double min_x = std::numeric_limits<double>::infinity(), min_y = min_x;
  double max_x = -min_x, max_y = -min_x;
  for (const Shape& s : shapes_) {
    min_x = std::min(min_x, s.min_x);
    min_y = std::min(min_y, s.min_y);
    max_x = std::max(max_x, s.max_x);
    max_y = std::max(max_y, s.max_y);
  }
  cw_ = ch_ = cell;
  x0_ = min_x - cell / 2;
  y0_ = min_y - cell / 2;
  nx_ = static_cast<int32_t>(std::ceil((max_x - x0_) / cw_)) + 1;
  ny_ = static_cast<int32_t>(std::ceil((max_y - y0_) / ch_)) + 1;

  // 1. Which cells each edge touches (conservatively: its bounding box). Extra edges are
  //    harmless: an edge that misses the cell cannot cross a segment inside it.
  struct Touch {
    uint32_t cell, shape, vertex;  // edge = vertex .. vertex+1
  };
  std::vector<Touch> touches;
  touches.reserve(vx_.size() * 2);
  for (uint32_t si = 0; si < shapes_.size(); ++si) {
    const Shape& s = shapes_[si];
    for (uint32_t r = s.ring_begin; r < s.ring_end; ++r) {
      for (uint32_t k = ring_starts_[r]; k + 1 < ring_starts_[r + 1]; ++k) {
        int ix0 = static_cast<int>(std::floor((std::min(vx_[k], vx_[k + 1]) - x0_) / cw_));
        int ix1 = static_cast<int>(std::floor((std::max(vx_[k], vx_[k + 1]) - x0_) / cw_));
        int iy0 = static_cast<int>(std::floor((std::min(vy_[k], vy_[k + 1]) - y0_) / ch_));
        int iy1 = static_cast<int>(std::floor((std::max(vy_[k], vy_[k + 1]) - y0_) / ch_));
        for (int iy = iy0; iy <= iy1; ++iy) {
          for (int ix = ix0; ix <= ix1; ++ix) {
            touches.push_back({static_cast<uint32_t>(iy * nx_ + ix), si, k});
          }
        }
      }
    }
  }
  std::sort(touches.begin(), touches.end(), [](const Touch& a, const Touch& b) {
    return a.cell != b.cell ? a.cell < b.cell : a.shape < b.shape;
  });

  // 2. The polygon holding each cell centre, by scanlines (even-odd, half-open in y).
  std::vector<int32_t> center_shape(static_cast<size_t>(nx_) * ny_, -1);
  std::vector<std::vector<uint32_t>> row_edges(ny_);
  for (uint32_t r = 0; r + 1 < ring_starts_.size(); ++r) {
    for (uint32_t k = ring_starts_[r]; k + 1 < ring_starts_[r + 1]; ++k) {
      double lo = std::min(vy_[k], vy_[k + 1]), hi = std::max(vy_[k], vy_[k + 1]);
      int iy0 = std::max(0, static_cast<int>(std::ceil((lo - y0_) / ch_ - 0.5)));
      int iy1 = std::min(ny_ - 1, static_cast<int>(std::floor((hi - y0_) / ch_ - 0.5)));
      for (int iy = iy0; iy <= iy1; ++iy) row_edges[iy].push_back(k);
    }
  }
  std::vector<uint32_t> vertex_shape(vx_.size());
  for (uint32_t si = 0; si < shapes_.size(); ++si) {
    for (uint32_t k = ring_starts_[shapes_[si].ring_begin];
         k < ring_starts_[shapes_[si].ring_end]; ++k) {
      vertex_shape[k] = si;
    }
  }
  std::vector<std::pair<uint32_t, double>> xs;
  for (int iy = 0; iy < ny_; ++iy) {
    double y = y0_ + (iy + 0.5) * ch_;
    xs.clear();
    for (uint32_t k : row_edges[iy]) {
      double ay = vy_[k], by = vy_[k + 1];
      if ((ay > y) == (by > y)) continue;
      double x = vx_[k] + (y - ay) / (by - ay) * (vx_[k + 1] - vx_[k]);
      xs.push_back({vertex_shape[k], x});
    }
    std::sort(xs.begin(), xs.end());
    // Per shape (xs is sorted by shape, then x): inside between crossings 2k and 2k+1.
    for (size_t i = 0; i + 1 < xs.size(); i += 2) {
      if (xs[i].first != xs[i + 1].first) {
        // An odd count for one shape cannot happen with closed rings; skip to its successor.
        i -= 1;
        continue;
      }
      int ix0 = std::max(0, static_cast<int>(std::ceil((xs[i].second - x0_) / cw_ - 0.5)));
      int ix1 = std::min(nx_ - 1,
                         static_cast<int>(std::ceil((xs[i + 1].second - x0_) / cw_ - 0.5)) - 1);
      for (int ix = ix0; ix <= ix1; ++ix) {
        center_shape[static_cast<size_t>(iy) * nx_ + ix] = static_cast<int32_t>(xs[i].first);
      }
    }
  }

  // 3. Cells: a zone outright, or candidates with their edges.
  cells_.assign(static_cast<size_t>(nx_) * ny_, 0);
  for (size_t c = 0; c < cells_.size(); ++c) {
    cells_[c] = center_shape[c] >= 0 ? shapes_[center_shape[c]].zone : kUnknownZone;
  }
  boundary_offsets_.clear();
  candidates_.clear();
  cell_edges_.clear();
  boundary_offsets_.push_back(0);
  for (size_t i = 0; i < touches.size();) {
    uint32_t cell = touches[i].cell;
    int32_t center = center_shape[cell];
    bool center_listed = false;
    while (i < touches.size() && touches[i].cell == cell) {
      uint32_t shape = touches[i].shape;
      Candidate cand{shapes_[shape].zone, static_cast<uint32_t>(center == int32_t(shape)),
                     static_cast<uint32_t>(cell_edges_.size()), 0};
      center_listed |= center == static_cast<int32_t>(shape);
      for (; i < touches.size() && touches[i].cell == cell && touches[i].shape == shape; ++i) {
        uint32_t k = touches[i].vertex;
        cell_edges_.push_back({vx_[k], vy_[k], vx_[k + 1], vy_[k + 1]});
      }
      cand.edge_end = static_cast<uint32_t>(cell_edges_.size());
      candidates_.push_back(cand);
    }
    if (center >= 0 && !center_listed) {
      uint32_t e = static_cast<uint32_t>(cell_edges_.size());
      candidates_.push_back({shapes_[center].zone, 1, e, e});
    }
    cells_[cell] = -static_cast<int32_t>(boundary_offsets_.size());
    boundary_offsets_.push_back(static_cast<uint32_t>(candidates_.size()));
  }
}

void ZoneIndex::BuildNeighbours(const std::vector<double>& fx, const std::vector<double>& fy,
                                double tol) {
  neighbours_.assign(zones_.size(), {});
  // Edges bucketed on a coarse grid in feet, each widened by the tolerance.
  const double cell = 2000;
  double min_x = *std::min_element(fx.begin(), fx.end()) - tol - 1;
  double min_y = *std::min_element(fy.begin(), fy.end()) - tol - 1;
  double max_x = *std::max_element(fx.begin(), fx.end()) + tol + 1;
  double max_y = *std::max_element(fy.begin(), fy.end()) + tol + 1;
  int gx = static_cast<int>((max_x - min_x) / cell) + 1;
  int gy = static_cast<int>((max_y - min_y) / cell) + 1;
  std::vector<std::vector<std::pair<int32_t, uint32_t>>> buckets(static_cast<size_t>(gx) * gy);
  for (const Shape& s : shapes_) {
    for (uint32_t r = s.ring_begin; r < s.ring_end; ++r) {
      for (uint32_t k = ring_starts_[r]; k + 1 < ring_starts_[r + 1]; ++k) {
        int x0 = static_cast<int>((std::min(fx[k], fx[k + 1]) - tol - min_x) / cell);
        int x1 = static_cast<int>((std::max(fx[k], fx[k + 1]) + tol - min_x) / cell);
        int y0 = static_cast<int>((std::min(fy[k], fy[k + 1]) - tol - min_y) / cell);
        int y1 = static_cast<int>((std::max(fy[k], fy[k + 1]) + tol - min_y) / cell);
        for (int y = y0; y <= y1; ++y) {
          for (int x = x0; x <= x1; ++x) buckets[static_cast<size_t>(y) * gx + x].push_back({s.zone, k});
        }
      }
    }
  }
  std::vector<std::vector<char>> touching(zones_.size());
  for (const Shape& s : shapes_) {
    for (uint32_t k = ring_starts_[s.ring_begin]; k < ring_starts_[s.ring_end]; ++k) {
      int x = static_cast<int>((fx[k] - min_x) / cell), y = static_cast<int>((fy[k] - min_y) / cell);
      for (auto [zone, e] : buckets[static_cast<size_t>(y) * gx + x]) {
        if (zone == s.zone) continue;
        std::vector<char>& t = touching[s.zone];
        if (!t.empty() && t[zone]) continue;
        if (PointSegmentDistance(fx[k], fy[k], fx[e], fy[e], fx[e + 1], fy[e + 1]) <= tol) {
          if (t.empty()) t.assign(zones_.size(), 0);
          t[zone] = 1;
          // Touching is symmetric even when only one side has a vertex near the other's edge.
          if (touching[zone].empty()) touching[zone].assign(zones_.size(), 0);
          touching[zone][s.zone] = 1;
        }
      }
    }
  }
  for (size_t z = 0; z < zones_.size(); ++z) {
    if (touching[z].empty()) continue;
    for (size_t o = 0; o < zones_.size(); ++o) {
      if (touching[z][o]) neighbours_[z].push_back(static_cast<int32_t>(o));
    }
  }
}

int32_t ZoneIndex::Lookup(double lon, double lat) const {
  double fx = (lon - x0_) / cw_, fy = (lat - y0_) / ch_;
  // Also rejects NaN, since every comparison with NaN is false.
  if (!(fx >= 0 && fy >= 0 && fx < nx_ && fy < ny_)) return kUnknownZone;
  int ix = static_cast<int>(fx), iy = static_cast<int>(fy);
  int32_t c = cells_[static_cast<size_t>(iy) * nx_ + ix];
  if (c >= 0) return c;
  uint32_t b = static_cast<uint32_t>(-c - 1);
  double cx = x0_ + (ix + 0.5) * cw_, cy = y0_ + (iy + 0.5) * ch_;
  for (uint32_t i = boundary_offsets_[b]; i < boundary_offsets_[b + 1]; ++i) {
    const Candidate& cand = candidates_[i];
    bool inside = cand.center_inside != 0;
    for (uint32_t e = cand.edge_begin; e < cand.edge_end; ++e) {
      const Edge& edge = cell_edges_[e];
      inside ^= Crosses(lon, lat, cx, cy, edge.ax, edge.ay, edge.bx, edge.by);
    }
    if (inside) return cand.zone;
  }
  return kUnknownZone;
}

void ZoneIndex::LookupMany(const double* lon, const double* lat, size_t n, int32_t* out) const {
  for (size_t i = 0; i < n; ++i) out[i] = Lookup(lon[i], lat[i]);
}

bool ZoneIndex::InsideShapeBruteForce(const Shape& s, double x, double y) const {
  bool inside = false;
  for (uint32_t r = s.ring_begin; r < s.ring_end; ++r) {
    for (uint32_t k = ring_starts_[r]; k + 1 < ring_starts_[r + 1]; ++k) {
      double ax = vx_[k], ay = vy_[k], bx = vx_[k + 1], by = vy_[k + 1];
      if ((ay > y) != (by > y) && x < ax + (y - ay) / (by - ay) * (bx - ax)) inside = !inside;
    }
  }
  return inside;
}

int32_t ZoneIndex::LookupBruteForce(double lon, double lat) const {
  for (const Shape& s : shapes_) {
    if (lon < s.min_x || lon > s.max_x || lat < s.min_y || lat > s.max_y) continue;
    if (InsideShapeBruteForce(s, lon, lat)) return s.zone;
  }
  return kUnknownZone;
}

const ZoneInfo* ZoneIndex::Zone(int32_t id) const {
  if (id <= 0 || id >= static_cast<int32_t>(zones_.size()) || zones_[id].id != id) return nullptr;
  return &zones_[id];
}

std::vector<int32_t> ZoneIndex::ZoneIds() const {
  std::vector<int32_t> ids;
  for (const ZoneInfo& z : zones_) {
    if (z.id > 0) ids.push_back(z.id);
  }
  return ids;
}

std::vector<std::vector<std::array<double, 2>>> ZoneIndex::ZoneRings(int32_t id) const {
  std::vector<std::vector<std::array<double, 2>>> rings;
  for (const Shape& s : shapes_) {
    if (s.zone != id) continue;
    for (uint32_t r = s.ring_begin; r < s.ring_end; ++r) {
      std::vector<std::array<double, 2>>& ring = rings.emplace_back();
      for (uint32_t k = ring_starts_[r]; k < ring_starts_[r + 1]; ++k) ring.push_back({vx_[k], vy_[k]});
    }
  }
  return rings;
}

const std::vector<int32_t>& ZoneIndex::Neighbours(int32_t id) const {
  static const std::vector<int32_t> kNone;
  if (id <= 0 || id >= static_cast<int32_t>(neighbours_.size())) return kNone;
  return neighbours_[id];
}

}  // namespace bimride::data
