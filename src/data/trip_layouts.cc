#include "data/trip_layouts.h"

namespace bimride::data::layouts {

const OwnLayout& BimrideLayout() {
  using T = TripColumn;
  static const OwnLayout kLayout = {
      {"source", "pickup_time", "dropoff_time", "pickup_zone", "dropoff_zone"},
      {{"source", T::kSource},
       {"pickup_time", T::kPickupTime},
       {"dropoff_time", T::kDropoffTime},
       {"pickup_zone", T::kPickupZone},
       {"dropoff_zone", T::kDropoffZone},
       {"pickup_lon", T::kPickupLon},
       {"pickup_lat", T::kPickupLat},
       {"dropoff_lon", T::kDropoffLon},
       {"dropoff_lat", T::kDropoffLat},
       {"distance_miles", T::kDistance},
       {"fare", T::kFare},
       {"total", T::kTotal},
       {"surge", T::kSurge},
       {"passengers", T::kPassengers},
       {"vendor", T::kVendor},
       {"rider_id", T::kRiderId}}};
  return kLayout;
}

const OwnLayout& SimulatorLayout() {
  using T = TripColumn;
  static const OwnLayout kLayout = {
      {"trip_id", "rider_id", "pickup_datetime", "dropoff_datetime", "pickup_zone", "dropoff_zone",
       "surge_multiplier"},
      {{"pickup_datetime", T::kPickupTime},
       {"dropoff_datetime", T::kDropoffTime},
       {"pickup_zone", T::kPickupZone},
       {"dropoff_zone", T::kDropoffZone},
       {"pickup_lon", T::kPickupLon},
       {"pickup_lat", T::kPickupLat},
       {"dropoff_lon", T::kDropoffLon},
       {"dropoff_lat", T::kDropoffLat},
       {"trip_distance", T::kDistance},
       {"fare_amount", T::kFare},
       {"total_amount", T::kTotal},
       {"surge_multiplier", T::kSurge},
       {"passenger_count", T::kPassengers},
       {"rider_id", T::kRiderId}}};
  return kLayout;
}

}  // namespace bimride::data::layouts
