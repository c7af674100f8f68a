#include "features/geo.h"

#include <cmath>
#include <numbers>

namespace bimride::features {
namespace {
constexpr double kRad = std::numbers::pi / 180.0;
}

double HaversineKm(double lon1, double lat1, double lon2, double lat2) {
  const double dlat = (lat2 - lat1) * kRad, dlon = (lon2 - lon1) * kRad;
  const double a = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(lat1 * kRad) * std::cos(lat2 * kRad) * std::sin(dlon / 2) *
                       std::sin(dlon / 2);
  // Rounding can push a past 1; NaN must stay NaN (std::fmin would turn it into 1).
  return 2 * kEarthRadiusKm * std::asin(std::sqrt(a > 1.0 ? 1.0 : a));
}

double ManhattanKm(double lon1, double lat1, double lon2, double lat2) {
  const double mean_lat = (lat1 + lat2) / 2 * kRad;
  const double north = std::fabs(lat2 - lat1) * kRad * kEarthRadiusKm;
  const double east = std::fabs(lon2 - lon1) * kRad * kEarthRadiusKm * std::cos(mean_lat);
  return north + east;
}

double BearingDegrees(double lon1, double lat1, double lon2, double lat2) {
  const double p1 = lat1 * kRad, p2 = lat2 * kRad, dl = (lon2 - lon1) * kRad;
  const double y = std::sin(dl) * std::cos(p2);
  const double x = std::cos(p1) * std::sin(p2) - std::sin(p1) * std::cos(p2) * std::cos(dl);
  const double deg = std::atan2(y, x) / kRad;
  if (std::isnan(deg)) return deg;
  return deg < 0 ? deg + 360.0 : deg;
}

}  // namespace bimride::features
