#include "tasks/demand/demand_serving.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>

#include "common/civil_time.h"
#include "common/file.h"
#include "features/demand_features.h"
#include "features/weather.h"
#include "tasks/demand/demand_online.h"

namespace bimride::tasks::demand {
namespace {

using serving::FeatureAdapter;
using serving::FeatureAdapterContext;
using serving::RawBatch;
using serving::RawColumn;
using serving::RawValue;

struct DemandSpecState {
  features::DemandContext context;
  std::unique_ptr<features::WeatherTable> weather;  // null without weather.csv
  features::DemandFeatures features;
  std::unique_ptr<RecentCountsReader> recent;  // null without an online store
};

std::string RowError(int64_t row, const std::string& field, const std::string& what) {
  return std::string(features::kDemandFeatureSpecName) + ": row " + std::to_string(row) +
         ": field '" + field + "': " + what;
}

}  // namespace

StatusOr<FeatureAdapter> MakeDemandFeatureAdapter(const FeatureAdapterContext& context) {
  auto state = std::make_shared<DemandSpecState>();
  const std::string context_path = context.version_dir + "/" + features::kDemandBaselinesFile;
  ASSIGN_OR_RETURN(std::string text, ReadFile(context_path));
  ASSIGN_OR_RETURN(state->context, features::DemandContextFromJson(text, context_path));
  const std::string weather_path = context.version_dir + "/" + features::kDemandWeatherFile;
  if (FileExists(weather_path)) {
    ASSIGN_OR_RETURN(features::WeatherTable w, features::WeatherTable::Load(weather_path));
    state->weather = std::make_unique<features::WeatherTable>(std::move(w));
  }
  ASSIGN_OR_RETURN(state->features,
                   features::DemandFeatures::Create(state->context.config, state->weather.get()));
  if (context.online_store != nullptr) {
    state->recent = std::make_unique<RecentCountsReader>(context.online_store, &state->features,
                                                         &state->context.baselines);
  }
  return FeatureAdapter([state](const RawBatch& batch,
                                int num_features) -> StatusOr<std::vector<float>> {
    const features::DemandFeatures& f = state->features;
    if (num_features != f.num_features()) {
      return InvalidArgumentError(std::string(features::kDemandFeatureSpecName) + ": model takes " +
                                  std::to_string(num_features) + " features, the spec makes " +
                                  std::to_string(f.num_features()));
    }
    const RawColumn* zone = batch.Find("zone");
    const RawColumn* time = batch.Find("time");
    const RawColumn* counts = batch.Find("recent_counts");
    for (auto [c, name] : {std::pair{zone, "zone"}, std::pair{time, "time"}}) {
      if (c == nullptr) {
        return InvalidArgumentError(std::string(features::kDemandFeatureSpecName) +
                                    ": missing raw field '" + name + "'");
      }
    }
    if (counts == nullptr && state->recent == nullptr) {
      return InvalidArgumentError(std::string(features::kDemandFeatureSpecName) +
                                  ": missing raw field 'recent_counts' (and no online store to "
                                  "read the zone's recent pickups from)");
    }
    const int64_t bucket_us =
        static_cast<int64_t>(state->context.config.bucket_minutes) * kMicrosPerMinute;
    std::vector<int32_t> zones(static_cast<size_t>(batch.rows));
    std::vector<int64_t> ts(static_cast<size_t>(batch.rows));
    for (int64_t r = 0; r < batch.rows; ++r) {
      const double* z = std::get_if<double>(&zone->values[r]);
      if (z == nullptr || *z != std::floor(*z)) {
        return InvalidArgumentError(RowError(r, "zone", "must be a whole number (a zone id)"));
      }
      if (*z < 1 || *z > std::numeric_limits<int32_t>::max()) {
        char text[32];
        std::snprintf(text, sizeof text, "%.0f", *z);
        return InvalidArgumentError(
            RowError(r, "zone", std::string("zone ") + text + " is out of range (zone ids are 1 and up)"));
      }
      const std::string* t_text = std::get_if<std::string>(&time->values[r]);
      if (t_text == nullptr) {
        return InvalidArgumentError(RowError(r, "time", "must be a string 'YYYY-MM-DD HH:MM'"));
      }
      StatusOr<int64_t> t = ParseCivil(*t_text);
      if (!t.ok()) return InvalidArgumentError(RowError(r, "time", t.status().message()));
      zones[static_cast<size_t>(r)] = static_cast<int32_t>(*z);
      ts[static_cast<size_t>(r)] =
          (*t >= 0 ? *t / bucket_us : (*t - bucket_us + 1) / bucket_us) * bucket_us;
    }
    std::vector<std::vector<float>> histories;
    if (counts == nullptr) {
      histories = state->recent->Read(zones, ts);  // the store, else the stated fallbacks
    } else {
      histories.resize(static_cast<size_t>(batch.rows));
      for (int64_t r = 0; r < batch.rows; ++r) {
        const std::string* c_text = std::get_if<std::string>(&counts->values[r]);
        if (c_text == nullptr) {
          return InvalidArgumentError(
              RowError(r, "recent_counts", "must be a string of comma-separated counts"));
        }
        StatusOr<std::vector<float>> history =
            features::ParseRecentCounts(*c_text, f.history_buckets(), "recent_counts");
        if (!history.ok()) {
          return InvalidArgumentError(RowError(r, "recent_counts", history.status().message()));
        }
        histories[static_cast<size_t>(r)] = std::move(history).value();
      }
    }
    std::vector<float> out(static_cast<size_t>(batch.rows) * num_features);
    for (int64_t r = 0; r < batch.rows; ++r) {
      const size_t i = static_cast<size_t>(r);
      Status s = f.ComputeForZone(state->context.baselines, zones[i], ts[i], histories[i],
                                  &out[i * num_features]);
      if (!s.ok()) return InvalidArgumentError(RowError(r, "zone", s.message()));
    }
    return out;
  });
}

std::vector<std::pair<std::string, serving::FeatureAdapterFactory>> DemandFeatureSpecs() {
  return {{features::kDemandFeatureSpecName, MakeDemandFeatureAdapter}};
}

}  // namespace bimride::tasks::demand
