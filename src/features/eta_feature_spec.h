// The ETA feature specs: which feature set a model uses, the names and order of its feature
// columns, and the borough ids. Constant data; thread-safe. See features/eta_features.h for the
// feature path as a whole.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace bimride::features {

enum class EtaFeatureSet { kBooking, kWithDistance };

inline constexpr int64_t kEtaFeatureSpecVersion = 1;
inline constexpr char kEtaBookingSpec[] = "eta_booking";
inline constexpr char kEtaWithDistanceSpec[] = "eta_with_distance";

// "eta_booking" / "eta_with_distance".
std::string_view EtaFeatureSpecName(EtaFeatureSet set);
// Accepts the CLI names ("booking", "with-distance") and the spec names.
StatusOr<EtaFeatureSet> ParseEtaFeatureSet(std::string_view text);

// Feature columns, in row order. The ids (zones, boroughs, hour, weekday) come first; their
// positions are fixed (see the kEtaCol* constants) so models can treat them as categorical.
std::vector<std::string> EtaFeatureNames(EtaFeatureSet set);
int EtaFeatureCount(EtaFeatureSet set);
inline constexpr int kEtaColPickupZone = 0;
inline constexpr int kEtaColDropoffZone = 1;
inline constexpr int kEtaColPickupBorough = 2;
inline constexpr int kEtaColDropoffBorough = 3;
inline constexpr int kEtaColHour = 4;
inline constexpr int kEtaColWeekday = 5;
inline constexpr int kEtaBoroughCount = 8;  // see EtaBoroughId

// The features that are categories, not quantities: integer codes whose order and distance mean
// nothing (zone 74 is not "near" zone 75). Drift monitoring scores them as categories
// (chi-square, Jensen–Shannon on their frequencies; monitoring/drift.h) instead of binning the
// codes as numbers. Hour and weekday stay numeric there: ordered (and cyclic), so KS and
// Wasserstein on them mean something.
std::vector<std::string> EtaCategoricalFeatureNames(EtaFeatureSet set);

// 0 unknown, 1 Manhattan, 2 Brooklyn, 3 Queens, 4 Bronx, 5 Staten Island, 6 EWR, 7 other.
int EtaBoroughId(std::string_view borough);

}  // namespace bimride::features
