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
// The parts, one file each: the feature specs and names (eta_feature_spec.h), requests and their
// parsing (eta_request.h), the context and how it is built (eta_context.h), its files
// (eta_context_files.h), and the feature computation (here). Including this header includes
// them all.
//
// Thread safety: a built or loaded context is immutable; ComputeEtaFeatures may run from many
// threads on one context. What can fail: InvalidArgument naming the field and row for a bad
// request (zone outside 1..max_zone, missing time, negative or missing trip_distance for
// eta_with_distance, out-of-range coordinates); NotFound / InvalidArgument / DataLoss naming
// the file for a missing or bad context file.
#pragma once

#include <span>
#include <vector>

#include "common/status.h"
#include "features/eta_context.h"
#include "features/eta_context_files.h"
#include "features/eta_feature_spec.h"
#include "features/eta_request.h"

namespace bimride::features {

// The one feature path: rows.size() × EtaFeatureCount(context.set) floats into `out`.
// InvalidArgument "row R: field 'F': …" for a bad request row.
Status ComputeEtaFeatures(const EtaFeatureContext& context, std::span<const EtaRequest> rows,
                          float* out);
StatusOr<std::vector<float>> ComputeEtaFeatures(const EtaFeatureContext& context,
                                                std::span<const EtaRequest> rows);

// The features of one request that passed CheckEtaRequest, before defaults and clipping:
// EtaFeatureCount(context.set) floats into `out`, NaN where a value cannot be computed.
// ComputeEtaFeatures fills those with the context's defaults and clips into its ranges;
// BuildEtaFeatureContext learns the defaults and ranges from these raw values.
void ComputeRawEtaFeatures(const EtaFeatureContext& context, const EtaRequest& request, float* out);

}  // namespace bimride::features
