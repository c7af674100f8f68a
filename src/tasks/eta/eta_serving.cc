#include "tasks/eta/eta_serving.h"

#include <cmath>
#include <cstdio>
#include <memory>

#include "common/civil_time.h"
#include "features/eta_features.h"

namespace bimride::tasks::eta {

using serving::FeatureAdapter;
using serving::FeatureAdapterContext;
using serving::RawBatch;
using serving::RawColumn;

serving::FeatureAdapterFactory EtaFeatureAdapterFactory(features::EtaFeatureSet set) {
  return [set](const FeatureAdapterContext& ctx) -> StatusOr<FeatureAdapter> {
    ASSIGN_OR_RETURN(features::EtaFeatureContext loaded,
                     features::LoadEtaFeatureContext(ctx.version_dir));
    if (loaded.set != set) {
      return InvalidArgumentError(ctx.version_dir + ": context is for " +
                                  std::string(features::EtaFeatureSpecName(loaded.set)) +
                                  ", manifest says " + ctx.feature_spec);
    }
    auto context = std::make_shared<const features::EtaFeatureContext>(std::move(loaded));
    return FeatureAdapter([context](const RawBatch& batch,
                                    int num_features) -> StatusOr<std::vector<float>> {
      const int width = features::EtaFeatureCount(context->set);
      if (num_features != width) {
        return InvalidArgumentError(std::string(features::EtaFeatureSpecName(context->set)) +
                                    " makes " + std::to_string(width) +
                                    " features, the model takes " + std::to_string(num_features));
      }
      auto column = [&](const char* name) {
        const RawColumn* c = batch.Find(name);
        return c != nullptr ? &c->values : nullptr;
      };
      features::EtaRawColumns raw;
      raw.rows = batch.rows;
      raw.pickup_zone = column("pickup_zone");
      raw.dropoff_zone = column("dropoff_zone");
      raw.pickup_datetime = column("pickup_datetime");
      raw.trip_distance = column("trip_distance");
      raw.pickup_longitude = column("pickup_longitude");
      raw.pickup_latitude = column("pickup_latitude");
      raw.dropoff_longitude = column("dropoff_longitude");
      raw.dropoff_latitude = column("dropoff_latitude");
      ASSIGN_OR_RETURN(std::vector<features::EtaRequest> requests,
                       features::ParseEtaRequests(context->set, raw));
      return features::ComputeEtaFeatures(*context, requests);
    });
  };
}

std::vector<std::pair<std::string, serving::FeatureAdapterFactory>> EtaFeatureSpecs() {
  std::vector<std::pair<std::string, serving::FeatureAdapterFactory>> specs;
  for (features::EtaFeatureSet set :
       {features::EtaFeatureSet::kBooking, features::EtaFeatureSet::kWithDistance}) {
    specs.emplace_back(std::string(features::EtaFeatureSpecName(set)),
                       EtaFeatureAdapterFactory(set));
  }
  return specs;
}

std::string EtaInstanceJson(const data::TripTable& trips, size_t row) {
  std::string out = "{\"pickup_zone\": " + std::to_string(trips.pickup_zone[row]) +
                    ", \"dropoff_zone\": " + std::to_string(trips.dropoff_zone[row]) +
                    ", \"pickup_datetime\": \"" + FormatCivil(trips.pickup_time_us[row]) + "\"";
  const float miles = trips.distance_miles[row];
  if (std::isfinite(miles)) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", static_cast<double>(miles));
    out += ", \"trip_distance\": ";
    out += buf;
  }
  out += "}";
  return out;
}

}  // namespace bimride::tasks::eta
