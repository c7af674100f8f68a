#include "tasks/eta/eta_evaluation.h"

#include <cmath>
#include <cstdio>

#include "common/civil_time.h"
#include "features/geo.h"
#include "registry/text_table.h"
#include "tasks/eta/eta_dataset.h"

namespace bimride::tasks::eta {
namespace {

std::string Fixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string Breakdown(const std::vector<NamedEvaluation>& models, const char* key_header,
                      std::map<int64_t, train::Metrics> EtaEvaluation::*part,
                      std::string (*key_name)(int64_t)) {
  std::vector<std::string> headers = {key_header, "ROWS"};
  for (const auto& [name, unused] : models) headers.push_back(name);
  registry::TextTable t(headers);
  for (size_t c = 1; c < headers.size(); ++c) t.SetRightAligned(c);
  if (models.empty()) return t.Render();
  for (const auto& [key, m] : models[0].second.*part) {
    std::vector<std::string> row = {key_name(key), std::to_string(m.count)};
    for (const auto& [name, eval] : models) {
      auto it = (eval.*part).find(key);
      row.push_back(it == (eval.*part).end() ? "" : Fixed(it->second.rmse, 3));
    }
    t.AddRow(row);
  }
  return t.Render();
}

std::string HourName(int64_t h) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02lld", static_cast<long long>(h));
  return buf;
}
std::string BandName(int64_t b) { return TripLengthBandName(static_cast<int>(b)); }

}  // namespace

EtaEvaluation EvaluateEta(std::span<const float> predicted, std::span<const float> actual,
                          const data::TripTable& trips) {
  EtaEvaluation e;
  e.overall = train::ComputeMetrics(predicted, actual);
  std::vector<int64_t> hour(trips.size()), band(trips.size());
  for (size_t i = 0; i < trips.size(); ++i) {
    hour[i] = HourOfDay(trips.pickup_time_us[i]);
    double miles = trips.distance_miles[i];
    if (!std::isfinite(miles)) {
      miles = features::HaversineKm(trips.pickup_lon[i], trips.pickup_lat[i], trips.dropoff_lon[i],
                                    trips.dropoff_lat[i]) /
              1.609344;
    }
    band[i] = TripLengthBand(miles);
  }
  e.by_hour = train::ComputeGroupedMetrics(predicted, actual, hour);
  e.by_length = train::ComputeGroupedMetrics(predicted, actual, band);
  std::vector<int64_t> zone(trips.pickup_zone.begin(), trips.pickup_zone.end());
  e.by_pickup_zone = train::ComputeGroupedMetrics(predicted, actual, zone);
  return e;
}

std::string FormatZoneErrorsCsv(const EtaEvaluation& evaluation) {
  std::string out = "zone,rows,mae,rmse,bias\n";
  char line[128];
  for (const auto& [zone, m] : evaluation.by_pickup_zone) {
    if (zone <= 0 || m.count == 0) continue;
    std::snprintf(line, sizeof line, "%lld,%lld,%.4f,%.4f,%.4f\n", static_cast<long long>(zone),
                  static_cast<long long>(m.count), m.mae, m.rmse, m.bias);
    out += line;
  }
  return out;
}

std::string FormatComparisonTable(const std::vector<NamedEvaluation>& models) {
  registry::TextTable t({"MODEL", "ROWS", "RMSE", "MAE", "RMSLE", "MAPE", "BIAS"});
  for (size_t c = 1; c < 7; ++c) t.SetRightAligned(c);
  for (const auto& [name, e] : models) {
    const train::Metrics& m = e.overall;
    t.AddRow({name, std::to_string(m.count), Fixed(m.rmse, 3), Fixed(m.mae, 3), Fixed(m.rmsle, 4),
              Fixed(m.mape, 4), Fixed(m.bias, 3)});
  }
  return t.Render();
}

std::string FormatHourBreakdown(const std::vector<NamedEvaluation>& models) {
  return Breakdown(models, "HOUR", &EtaEvaluation::by_hour, HourName);
}

std::string FormatLengthBreakdown(const std::vector<NamedEvaluation>& models) {
  return Breakdown(models, "LENGTH", &EtaEvaluation::by_length, BandName);
}

}  // namespace bimride::tasks::eta
