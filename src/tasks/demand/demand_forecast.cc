#include "tasks/demand/demand_forecast.h"

#include <algorithm>

#include "common/civil_time.h"
#include "common/file.h"

namespace bimride::tasks::demand {

StatusOr<std::unique_ptr<DemandForecaster>> DemandForecaster::Open(const std::string& dir) {
  auto f = std::unique_ptr<DemandForecaster>(new DemandForecaster());
  ASSIGN_OR_RETURN(f->manifest_, registry::ReadManifest(dir + "/" + registry::kManifestFileName));
  if (f->manifest_.task != "demand" || !f->manifest_.feature_spec.has_value() ||
      f->manifest_.feature_spec->name != features::kDemandFeatureSpecName) {
    return InvalidArgumentError(
        dir + ": not a demand model (task '" + f->manifest_.task + "', feature spec '" +
        (f->manifest_.feature_spec ? f->manifest_.feature_spec->name : "") + "')");
  }
  const std::string context_path = dir + "/" + features::kDemandBaselinesFile;
  ASSIGN_OR_RETURN(std::string text, ReadFile(context_path));
  ASSIGN_OR_RETURN(f->context_, features::DemandContextFromJson(text, context_path));
  const std::string weather_path = dir + "/" + features::kDemandWeatherFile;
  if (FileExists(weather_path)) {
    ASSIGN_OR_RETURN(features::WeatherTable w, features::WeatherTable::Load(weather_path));
    f->weather_ = std::make_unique<features::WeatherTable>(std::move(w));
  }
  ASSIGN_OR_RETURN(f->features_,
                   features::DemandFeatures::Create(f->context_.config, f->weather_.get()));
  ASSIGN_OR_RETURN(
      f->model_, models::LoadModel(f->manifest_.backend, dir + "/" + f->manifest_.artifacts.at(0)));
  if (f->model_->num_features() != f->features_.num_features() ||
      f->model_->num_outputs() != f->horizons()) {
    return InvalidArgumentError(
        dir + ": the model takes " + std::to_string(f->model_->num_features()) +
        " features and gives " + std::to_string(f->model_->num_outputs()) +
        " outputs; its feature spec makes " + std::to_string(f->features_.num_features()) +
        " features for " + std::to_string(f->horizons()) + " horizons");
  }
  return f;
}

int64_t DemandForecaster::FloorToBucket(int64_t t) const {
  const int64_t w = static_cast<int64_t>(bucket_minutes()) * kMicrosPerMinute;
  return (t >= 0 ? t / w : (t - w + 1) / w) * w;
}

StatusOr<std::vector<float>> DemandForecaster::Forecast(int32_t zone, int64_t t,
                                                        const std::vector<float>& history) const {
  std::vector<float> row(features_.num_features());
  RETURN_IF_ERROR(features_.ComputeForZone(context_.baselines, zone, t, history, row.data()));
  return model_->Predict(row);
}

StatusOr<std::vector<ZoneForecast>> DemandForecaster::ForecastFromTrips(
    const data::TripTable& trips, int64_t t, const std::vector<int32_t>& zones,
    features::DemandGridReport* report) const {
  t = FloorToBucket(t);
  const int64_t w = static_cast<int64_t>(bucket_minutes()) * kMicrosPerMinute;
  features::DemandGridOptions o;
  o.bucket_minutes = bucket_minutes();
  o.start_us = t - history_buckets() * w;
  o.end_us = t;
  o.zones = this->zones();
  features::DemandGridReport r;
  ASSIGN_OR_RETURN(features::DemandGrid grid, features::DemandGrid::FromTrips(trips, o, &r));
  if (report != nullptr) *report = r;
  // A history that starts after the week began (or ends before t) would read as zeros.
  int64_t first = std::numeric_limits<int64_t>::max(), last = std::numeric_limits<int64_t>::min();
  for (int64_t p : trips.pickup_time_us) {
    if (p == data::kNullTime) continue;
    first = std::min(first, p);
    last = std::max(last, p);
  }
  if (first > o.start_us + kMicrosPerDay || last < t - kMicrosPerDay) {
    return InvalidArgumentError("the history's pickups span [" +
                                (first > last ? std::string("none") : FormatCivil(first)) + ", " +
                                (first > last ? std::string("none") : FormatCivil(last)) +
                                "], which does not cover the week before " + FormatCivil(t) + " (" +
                                FormatCivil(o.start_us) + " … " + FormatCivil(t) + ")");
  }
  std::vector<int32_t> wanted = zones.empty() ? this->zones() : zones;
  std::vector<ZoneForecast> out;
  for (int32_t zone : wanted) {
    const int pos = grid.ZonePosition(zone);
    if (pos < 0) {
      return InvalidArgumentError("zone " + std::to_string(zone) +
                                  " is not one the model was trained for");
    }
    const auto span = grid.ZoneCounts(pos);
    std::vector<float> history(span.begin(), span.end());
    ZoneForecast zf;
    zf.zone = zone;
    ASSIGN_OR_RETURN(zf.forecast, Forecast(zone, t, history));
    const size_t shown = std::min<size_t>(history.size(), 3);
    zf.recent.assign(history.end() - shown, history.end());
    out.push_back(std::move(zf));
  }
  return out;
}

}  // namespace bimride::tasks::demand
