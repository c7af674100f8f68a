#include "features/eta_feature_spec.h"

namespace bimride::features {
namespace {

const std::vector<std::string>& BookingNames() {
  static const std::vector<std::string> names = {"pickup_zone",
                                                 "dropoff_zone",
                                                 "pickup_borough",
                                                 "dropoff_borough",
                                                 "hour",
                                                 "weekday",
                                                 "same_zone",
                                                 "distance_km",
                                                 "manhattan_km",
                                                 "bearing_sin",
                                                 "bearing_cos",
                                                 "minute_of_day",
                                                 "holiday",
                                                 "precipitation_in",
                                                 "snowfall_in",
                                                 "snow_depth_in",
                                                 "max_temp_f",
                                                 "wind_mph",
                                                 "weather_missing",
                                                 "pair_log_count",
                                                 "pair_median_minutes",
                                                 "pickup_zone_median_minutes",
                                                 "dropoff_zone_median_minutes",
                                                 "pair_median_distance_miles",
                                                 "pair_median_speed_mph",
                                                 "hour_of_week_speed_mph",
                                                 "expected_minutes_booking"};
  return names;
}
const std::vector<std::string>& DistanceNames() {
  static const std::vector<std::string> names = {"trip_distance_miles", "detour_ratio",
                                                 "distance_vs_pair", "expected_minutes_pair_speed",
                                                 "expected_minutes_hour_speed"};
  return names;
}

}  // namespace

std::string_view EtaFeatureSpecName(EtaFeatureSet set) {
  return set == EtaFeatureSet::kBooking ? kEtaBookingSpec : kEtaWithDistanceSpec;
}

StatusOr<EtaFeatureSet> ParseEtaFeatureSet(std::string_view text) {
  if (text == "booking" || text == kEtaBookingSpec) return EtaFeatureSet::kBooking;
  if (text == "with-distance" || text == kEtaWithDistanceSpec) return EtaFeatureSet::kWithDistance;
  return InvalidArgumentError("unknown ETA feature set '" + std::string(text) +
                              "' (booking | with-distance)");
}

std::vector<std::string> EtaFeatureNames(EtaFeatureSet set) {
  std::vector<std::string> names = BookingNames();
  if (set == EtaFeatureSet::kWithDistance) {
    names.insert(names.end(), DistanceNames().begin(), DistanceNames().end());
  }
  return names;
}

int EtaFeatureCount(EtaFeatureSet set) {
  return static_cast<int>(BookingNames().size() +
                          (set == EtaFeatureSet::kWithDistance ? DistanceNames().size() : 0));
}

std::vector<std::string> EtaCategoricalFeatureNames(EtaFeatureSet set) {
  const std::vector<std::string> names = EtaFeatureNames(set);
  return {names[kEtaColPickupZone], names[kEtaColDropoffZone], names[kEtaColPickupBorough],
          names[kEtaColDropoffBorough]};
}

int EtaBoroughId(std::string_view b) {
  if (b.empty() || b == "Unknown" || b == "N/A") return 0;
  if (b == "Manhattan") return 1;
  if (b == "Brooklyn") return 2;
  if (b == "Queens") return 3;
  if (b == "Bronx") return 4;
  if (b == "Staten Island") return 5;
  if (b == "EWR") return 6;
  return 7;
}

}  // namespace bimride::features
