// DemandForecaster: a published demand model version used offline exactly as the server uses
// it — the version folder's manifest, model artifact, demand_baselines.json and weather.csv —
// for `bimride forecast`. Inputs are what the server knows online: zone, forecast time t,
// and the zone's counts of the week of buckets ending at t (here counted from trip files).
// What can fail: NotFound / InvalidArgument naming the file for a bad version folder;
// InvalidArgument for a zone the model does not know or a history that does not cover the week
// before t. Thread safety: immutable after Open; Forecast is thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "data/trip_table.h"
#include "features/demand_features.h"
#include "features/demand_grid.h"
#include "models/model.h"
#include "registry/manifest.h"

namespace bimride::tasks::demand {

struct ZoneForecast {
  int32_t zone = 0;
  std::vector<float> recent;    // the last few known counts (for display), oldest first
  std::vector<float> forecast;  // H values: buckets t, t+1 bucket, …
};

class DemandForecaster {
 public:
  static StatusOr<std::unique_ptr<DemandForecaster>> Open(const std::string& version_dir);

  const registry::Manifest& manifest() const { return manifest_; }
  const features::DemandContext& context() const { return context_; }
  int horizons() const { return context_.config.horizons; }
  int bucket_minutes() const { return context_.config.bucket_minutes; }
  int history_buckets() const { return features_.history_buckets(); }
  const std::vector<int32_t>& zones() const { return context_.baselines.zones; }
  // t floored to the model's bucket.
  int64_t FloorToBucket(int64_t t) const;

  // H forecasts for one zone from its week of counts ending at t (t on a bucket boundary).
  StatusOr<std::vector<float>> Forecast(int32_t zone, int64_t t,
                                        const std::vector<float>& history) const;
  // Forecasts at t (floored) for `zones` (empty: every zone of the model), the histories counted
  // from `trips` (which must cover the week before t; pickups outside it are ignored).
  StatusOr<std::vector<ZoneForecast>> ForecastFromTrips(const data::TripTable& trips, int64_t t,
                                                        const std::vector<int32_t>& zones,
                                                        features::DemandGridReport* report) const;

 private:
  registry::Manifest manifest_;
  features::DemandContext context_;
  std::unique_ptr<features::WeatherTable> weather_;
  features::DemandFeatures features_;
  std::unique_ptr<models::Model> model_;
};

}  // namespace bimride::tasks::demand
