// Distances and bearings between lon/lat points (WGS84 degrees), for trip features.
// Pure functions; NaN in → NaN out.
#pragma once

namespace bimride::features {

inline constexpr double kEarthRadiusKm = 6371.0088;  // mean radius (IUGG)
inline constexpr double kKmPerMile = 1.609344;

// Great-circle distance.
double HaversineKm(double lon1, double lat1, double lon2, double lat2);
// |north-south| + |east-west| legs on a local flat approximation at the mean latitude: the
// distance a street grid makes you drive.
double ManhattanKm(double lon1, double lat1, double lon2, double lat2);
// Initial bearing from point 1 to point 2, degrees clockwise from north in [0, 360).
double BearingDegrees(double lon1, double lat1, double lon2, double lat2);

}  // namespace bimride::features
