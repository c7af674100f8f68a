// The conversion feature spec for the model server: "behaviour_conversion". A conversion
// version folder carries rider_features.csv — every rider's history (RiderHistory) as of the
// end of the data the model was published with — and the adapter turns raw quote fields plus
// the rider id into the model's features with the same code training used
// (ConversionFeatureRow):
//
//   {"instances": [{"rider_id": 412, "request_datetime": "2024-05-02 08:15:00",
//                   "pickup_zone": 6, "dropoff_zone": 14, "estimated_distance": 3.1,
//                   "estimated_minutes": 12.5, "quoted_fare": 18.4,
//                   "surge_multiplier": 1.3}]}         → booked = P(rider books) per row
//
// A rider id missing from the file is a rider with no history yet (a newcomer), as in
// training, where a rider's first quote has an empty history.
// rider_features.csv: rider_id,quotes,bookings,dear_quotes,dear_bookings,recent_surge,
//                     last_booking ("YYYY-MM-DD HH:MM:SS", empty: never booked)
// Errors name the field and the row ("behaviour_conversion: row 2: field 'quoted_fare': …"); a
// missing or bad rider file fails the version's load, naming the file and line.
// Thread safety: the adapter is immutable and safe from many threads.
#pragma once

#include <array>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/status.h"
#include "serving/feature_adapter.h"
#include "tasks/behaviour/behaviour_dataset.h"

namespace bimride::tasks::behaviour {

inline constexpr char kConversionFeatureSpecName[] = "behaviour_conversion";
inline constexpr int kConversionFeatureSpecVersion = 1;
inline constexpr char kRiderFeaturesFile[] = "rider_features.csv";
// The raw fields a request sends, in the manifest's order.
std::vector<std::string> ConversionRawFields();

// rider_features.csv text for the histories (index = rider id; index 0 unused; riders without
// any quote are left out).
std::string RiderFeaturesToCsv(const std::vector<RiderHistory>& histories);
// Parses it. InvalidArgument naming `source` and the line on a bad header or value.
StatusOr<std::unordered_map<int64_t, RiderHistory>> RiderFeaturesFromCsv(const std::string& text,
                                                                          const std::string& source);

StatusOr<serving::FeatureAdapter> MakeConversionFeatureAdapter(
    const serving::FeatureAdapterContext& context);

// The retention feature spec: "behaviour_retention". A retention version folder carries
// retention_features.csv — the retention features (kRetentionFeatureNames) of every rider active
// at the snapshot (the end of the data the model was published with) — and a request names the
// rider:
//
//   {"instances": [{"rider_id": 412}]}   → retained = P(rider still active 28 days later)
//
// A rider not in the file was not active at the snapshot (churned, or not yet signed up): no
// features, a 400 naming the row and the rider. The features are a snapshot, as the conversion
// spec's rider histories are.
// retention_features.csv: rider_id,<kRetentionFeatureNames…>; a first line
// "# snapshot YYYY-MM-DD HH:MM:SS" says when.
// Version 2: the counts and the booking rate are over the last kRetentionWindowDays days
// (kRetentionFeatureNames). Version 1 (totals since the data began) files are still read, with
// their own header (kRetentionFeatureNamesV1), so a version published before keeps serving.
inline constexpr char kRetentionFeatureSpecName[] = "behaviour_retention";
inline constexpr int kRetentionFeatureSpecVersion = 2;
inline constexpr std::array<const char*, kRetentionFeatures> kRetentionFeatureNamesV1 = {
    "quotes",          "bookings",         "booking_rate",       "quotes_last_7d",
    "quotes_last_28d", "days_since_quote", "days_since_booking", "dear_declines",
    "no_driver",       "tenure_days",      "recent_surge"};
inline constexpr char kRetentionFeaturesFile[] = "retention_features.csv";
std::vector<std::string> RetentionRawFields();  // {"rider_id"}

struct RetentionFeatureTable {
  int64_t snapshot_us = 0;
  std::unordered_map<int64_t, std::vector<float>> rows;  // rider id → kRetentionFeatures values
};
// `features` holds rider_id.size() rows of kRetentionFeatures values.
std::string RetentionFeaturesToCsv(int64_t snapshot_us, const std::vector<int64_t>& rider_id,
                                   const std::vector<float>& features);
// InvalidArgument naming `source` and the line on a bad snapshot line, header (that of
// `spec_version`) or value; naming the version when it is neither 1 nor 2.
StatusOr<RetentionFeatureTable> RetentionFeaturesFromCsv(
    const std::string& text, const std::string& source,
    int64_t spec_version = kRetentionFeatureSpecVersion);

StatusOr<serving::FeatureAdapter> MakeRetentionFeatureAdapter(
    const serving::FeatureAdapterContext& context);

std::vector<std::pair<std::string, serving::FeatureAdapterFactory>> BehaviourFeatureSpecs();

}  // namespace bimride::tasks::behaviour
