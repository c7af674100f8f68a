// ETA features: the ONE code path that turns a trip request into the feature row of an ETA
// model, used offline (from a data::TripTable) and online (from raw request fields) alike.
//
// Two feature specs (the manifest's feature_spec.name):
//   "eta_booking"        what is known when the rider books: pickup/dropoff zone, zone-centroid
//                        (or, for coordinate sources, point-to-point) distance and bearing,
//                        hour / minute of day, weekday, holiday, daily weather, and encodings
//                        learned from the TRAINING trips (per zone pair / zone median duration,
//                        distance and speed; typical speed by hour of week);
//   "eta_with_distance"  the same plus the metered trip_distance and ratios built on it.
//
// Everything the features need beyond the request lives in an EtaFeatureContext: zone
// centroids and boroughs, the weather table and the learned encodings. It is built from the
// training trips only (BuildEtaFeatureContext), saved into the model folder as files
// (SaveEtaFeatureContext: eta_context.json, eta_zone_pairs.csv, eta_weather.csv) and loaded
// back by the server (LoadEtaFeatureContext), so training, evaluation and serving compute
// bit-identical features for the same request.
//
// Numeric features are clipped into the range the training rows had (see lower/upper).
// Every feature is finite: a value that cannot be computed (a zone without a centroid, a day
// the weather table lacks) takes the context's default for that feature (its median over the
// training rows), so models that cannot take NaN (the LibTorch net) see the same rows as
// XGBoost. Missing weather also sets the `weather_missing` flag.
//
// Thread safety: a built or loaded context is immutable; ComputeEtaFeatures may run from many
// threads on one context. What can fail: InvalidArgument naming the field and row for a bad
// request (zone outside 1..max_zone, missing time, negative or missing trip_distance for
// eta_with_distance, out-of-range coordinates); NotFound / InvalidArgument / DataLoss naming
// the file for a missing or bad context file.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"
#include "data/trip_table.h"
#include "data/zone_index.h"
#include "features/weather.h"

namespace bimride::features {

enum class EtaFeatureSet { kBooking, kWithDistance };

inline constexpr int64_t kEtaFeatureSpecVersion = 1;
inline constexpr char kEtaBookingSpec[] = "eta_booking";
inline constexpr char kEtaWithDistanceSpec[] = "eta_with_distance";

// "eta_booking" / "eta_with_distance".
std::string_view EtaFeatureSpecName(EtaFeatureSet set);
// Accepts the CLI names ("booking", "with-distance") and the spec names.
StatusOr<EtaFeatureSet> ParseEtaFeatureSet(std::string_view text);
// The raw request fields a server must receive (the manifest's request_fields); optional
// fields (coordinates) are not listed.
std::vector<std::string> EtaRequestFields(EtaFeatureSet set);

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

// 0 unknown, 1 Manhattan, 2 Brooklyn, 3 Queens, 4 Bronx, 5 Staten Island, 6 EWR, 7 other.
int EtaBoroughId(std::string_view borough);

// One trip request: what the rider's app sends (or what a training trip had at booking).
struct EtaRequest {
  static constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
  int32_t pickup_zone = 0;
  int32_t dropoff_zone = 0;
  int64_t pickup_time_us = data::kNullTime;  // naive local time (common/civil_time.h)
  double trip_distance_miles = kNone;        // metered; needed by eta_with_distance only
  double pickup_lon = kNone, pickup_lat = kNone, dropoff_lon = kNone, dropoff_lat = kNone;
};

// Learned per zone pair (and per zone, by using the other side 0) from the training trips.
struct EtaPairStats {
  int64_t count = 0;
  float median_minutes = 0;
  float median_distance_miles = 0;  // NaN when the training source has no metered distance
  float median_speed_mph = 0;       // median of distance / duration
};

struct EtaContextOptions {
  // Pair/zone medians are shrunk towards their fallback: (n·m + k·fallback) / (n + k).
  double shrinkage = 5;
  // Pairs seen fewer times are not kept (the fallback answers for them).
  int64_t min_pair_count = 1;
  // Zone ids up to at least this are valid (0: from the zone index and the trips). Out-of-fold
  // contexts use the full context's range so their pair keys and zone tables line up.
  int32_t min_max_zone = 0;
};

// What the features need beyond the request. Build with BuildEtaFeatureContext, persist with
// Save/LoadEtaFeatureContext.
struct EtaFeatureContext {
  EtaFeatureSet set = EtaFeatureSet::kBooking;
  int32_t max_zone = 265;                  // valid request zones are 1..max_zone
  std::vector<double> zone_lon, zone_lat;  // per zone id 0..max_zone; NaN when unknown
  std::vector<int32_t> zone_borough;       // EtaBoroughId per zone id
  WeatherTable weather;                    // may be empty (then weather features are defaults)
  EtaContextOptions options;
  // Learned from the training trips. global.median_distance_miles holds the typical detour
  // factor instead (metered ÷ straight-line distance; 1 without a meter).
  EtaPairStats global;
  std::vector<EtaPairStats> pickup_zone_stats;          // per zone id
  std::vector<EtaPairStats> dropoff_zone_stats;         // per zone id
  std::vector<std::pair<int64_t, EtaPairStats>> pairs;  // key pu * (max_zone + 1) + do, sorted
  std::vector<float> hour_of_week_speed_mph;            // 168: weekday * 24 + hour
  std::vector<float> defaults;                          // per feature: training median
  // Per feature: the range seen in training, its lower end lowered to 0 at least (an unseen
  // pair's count stays 0); ids ±inf. Numeric features are clipped into it (models
  // cannot extrapolate — a snowstorm after a snowless training month must not send a net's
  // standardised input to 50σ; trees answer the same either way).
  std::vector<float> lower, upper;
  int64_t training_rows = 0;

  // Stats of one pair; nullptr when the pair was not seen in training.
  const EtaPairStats* FindPair(int32_t pickup_zone, int32_t dropoff_zone) const;
};

// Builds the context from training trips (rows with a duration, see data::TripTable). `zones`
// gives centroids/boroughs (may be null: then zone centroids are the mean pickup coordinates of
// the training trips — the simulator's case); `weather` may be null. InvalidArgument when
// `train` has no row with a positive duration.
StatusOr<EtaFeatureContext> BuildEtaFeatureContext(EtaFeatureSet set, const data::TripTable& train,
                                                   const data::ZoneIndex* zones,
                                                   const WeatherTable* weather,
                                                   const EtaContextOptions& options = {});

// Writes eta_context.json, eta_zone_pairs.csv and eta_weather.csv into `dir` (atomically each).
Status SaveEtaFeatureContext(const EtaFeatureContext& context, const std::string& dir);
// The files SaveEtaFeatureContext writes (names only).
std::vector<std::string> EtaContextFileNames();
StatusOr<EtaFeatureContext> LoadEtaFeatureContext(const std::string& dir);

// The one feature path: rows.size() × EtaFeatureCount(context.set) floats into `out`.
// InvalidArgument "row R: field 'F': …" for a bad request row.
Status ComputeEtaFeatures(const EtaFeatureContext& context, std::span<const EtaRequest> rows,
                          float* out);
StatusOr<std::vector<float>> ComputeEtaFeatures(const EtaFeatureContext& context,
                                                std::span<const EtaRequest> rows);

// Offline: the requests a trip table makes (coordinates only for coordinate sources).
std::vector<EtaRequest> EtaRequestsFromTrips(const data::TripTable& trips);

// Online: raw request fields, column-wise (a number or a string per row, as the server parses
// JSON). pickup_zone / dropoff_zone: integers (numbers or digit strings); pickup_datetime:
// "YYYY-MM-DD HH:MM:SS"; trip_distance (miles): number; optional pickup_longitude,
// pickup_latitude, dropoff_longitude, dropoff_latitude. A column not sent is null.
// InvalidArgument "row R: field 'F': …" naming the first bad value or missing field.
using RawFieldValue = std::variant<double, std::string>;
struct EtaRawColumns {
  int64_t rows = 0;
  const std::vector<RawFieldValue>* pickup_zone = nullptr;
  const std::vector<RawFieldValue>* dropoff_zone = nullptr;
  const std::vector<RawFieldValue>* pickup_datetime = nullptr;
  const std::vector<RawFieldValue>* trip_distance = nullptr;
  const std::vector<RawFieldValue>* pickup_longitude = nullptr;
  const std::vector<RawFieldValue>* pickup_latitude = nullptr;
  const std::vector<RawFieldValue>* dropoff_longitude = nullptr;
  const std::vector<RawFieldValue>* dropoff_latitude = nullptr;
};
StatusOr<std::vector<EtaRequest>> ParseEtaRequests(EtaFeatureSet set, const EtaRawColumns& raw);

}  // namespace bimride::features
