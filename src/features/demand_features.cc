#include "features/demand_features.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "common/civil_time.h"
#include "features/calendar.h"

namespace bimride::features {
namespace {

using json = nlohmann::json;

// Precipitation, snowfall and snow depth: events within the range of any training period.
// Temperatures (and wind) are left out on purpose: they drift with the season, so a model
// trained on January and February would meet March temperatures it never saw (trees flatten
// them out, nets extrapolate them linearly — badly).
constexpr int kWeatherValues = 3;

std::array<float, kWeatherValues> WeatherValues(const DailyWeather& w) {
  return {w.precipitation_in, w.snowfall_in, w.snow_depth_in};
}
constexpr const char* kWeatherNames[kWeatherValues] = {"weather_prcp", "weather_snow",
                                                       "weather_snwd"};

float Log1p(double v) { return static_cast<float>(std::log1p(v)); }

json FloatsToJson(const std::vector<float>& v) {
  json a = json::array();
  for (float x : v) a.push_back(x);
  return a;
}

StatusOr<std::vector<float>> FloatsFromJson(const json& j, const std::string& field,
                                            size_t expected, const std::string& source) {
  if (!j.contains(field) || !j[field].is_array()) {
    return InvalidArgumentError(source + ": '" + field + "' is missing or not an array");
  }
  const json& a = j[field];
  if (a.size() != expected) {
    return InvalidArgumentError(source + ": '" + field + "' has " + std::to_string(a.size()) +
                                " values, expected " + std::to_string(expected));
  }
  std::vector<float> out;
  out.reserve(expected);
  for (size_t i = 0; i < a.size(); ++i) {
    if (!a[i].is_number() || !std::isfinite(a[i].get<double>()) || a[i].get<double>() < 0) {
      return InvalidArgumentError(source + ": '" + field + "'[" + std::to_string(i) +
                                  "] is not a finite non-negative number");
    }
    out.push_back(a[i].get<float>());
  }
  return out;
}

}  // namespace

Status ValidateDemandFeatureConfig(const DemandFeatureConfig& c) {
  RETURN_IF_ERROR(CheckBucketMinutes(c.bucket_minutes));
  const int per_day = 24 * 60 / c.bucket_minutes;
  if (c.horizons < 1 || c.horizons > per_day) {
    return InvalidArgumentError("demand features: horizons " + std::to_string(c.horizons) +
                                " must be 1 … " + std::to_string(per_day) +
                                " (a day of buckets, so that yesterday's count is known)");
  }
  if (c.recent_lags < 1 || c.recent_lags > 7 * per_day) {
    return InvalidArgumentError("demand features: recent_lags " + std::to_string(c.recent_lags) +
                                " must be 1 … " + std::to_string(7 * per_day));
  }
  return OkStatus();
}

int DemandBaselines::ZonePosition(int32_t zone) const {
  auto it = std::lower_bound(zones.begin(), zones.end(), zone);
  if (it == zones.end() || *it != zone) return -1;
  return static_cast<int>(it - zones.begin());
}

std::string DemandBaselines::ToJson() const {
  json j;
  j["format"] = "bimride_demand_baselines";
  j["version"] = 1;
  j["bucket_minutes"] = bucket_minutes;
  j["train_begin"] = FormatCivil(train_begin_us);
  j["train_end"] = FormatCivil(train_end_us);
  j["zones"] = zones;
  json fill;
  const auto values = WeatherValues(weather_fill);
  for (int k = 0; k < kWeatherValues; ++k) fill[kWeatherNames[k]] = values[k];
  j["weather_fill"] = fill;
  j["zone_mean"] = FloatsToJson(zone_mean);
  j["slot_mean"] = FloatsToJson(slot_mean);
  j["weekday_slot_mean"] = FloatsToJson(weekday_slot_mean);
  return j.dump() + "\n";
}

StatusOr<DemandBaselines> DemandBaselines::FromJson(std::string_view text,
                                                    const std::string& source) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgumentError(source + ": not a JSON object");
  }
  if (j.value("format", "") != "bimride_demand_baselines" || j.value("version", 0) != 1) {
    return InvalidArgumentError(source + ": not a bimride_demand_baselines file of version 1");
  }
  DemandBaselines b;
  if (!j.contains("bucket_minutes") || !j["bucket_minutes"].is_number_integer()) {
    return InvalidArgumentError(source + ": 'bucket_minutes' is missing or not an integer");
  }
  b.bucket_minutes = j["bucket_minutes"].get<int>();
  if (Status s = CheckBucketMinutes(b.bucket_minutes); !s.ok()) {
    return InvalidArgumentError(source + ": " + s.message());
  }
  for (const char* field : {"train_begin", "train_end"}) {
    if (!j.contains(field) || !j[field].is_string()) {
      return InvalidArgumentError(source + ": '" + field + "' is missing or not a string");
    }
    StatusOr<int64_t> t = ParseCivil(j[field].get<std::string>());
    if (!t.ok()) return InvalidArgumentError(source + ": '" + field + "': " + t.status().message());
    (std::string(field) == "train_begin" ? b.train_begin_us : b.train_end_us) = *t;
  }
  if (!j.contains("zones") || !j["zones"].is_array()) {
    return InvalidArgumentError(source + ": 'zones' is missing or not an array");
  }
  for (const json& z : j["zones"]) {
    if (!z.is_number_integer() || z.get<int64_t>() <= 0 || z.get<int64_t>() > 1'000'000) {
      return InvalidArgumentError(source + ": 'zones' holds a value that is not a zone id");
    }
    b.zones.push_back(z.get<int32_t>());
  }
  if (b.zones.empty() || !std::is_sorted(b.zones.begin(), b.zones.end()) ||
      std::adjacent_find(b.zones.begin(), b.zones.end()) != b.zones.end()) {
    return InvalidArgumentError(source + ": 'zones' must be non-empty, ascending, distinct");
  }
  const size_t nz = b.zones.size(), per_day = b.buckets_per_day();
  ASSIGN_OR_RETURN(b.zone_mean, FloatsFromJson(j, "zone_mean", nz, source));
  ASSIGN_OR_RETURN(b.slot_mean, FloatsFromJson(j, "slot_mean", nz * per_day, source));
  ASSIGN_OR_RETURN(b.weekday_slot_mean,
                   FloatsFromJson(j, "weekday_slot_mean", nz * 7 * per_day, source));
  if (!j.contains("weather_fill") || !j["weather_fill"].is_object()) {
    return InvalidArgumentError(source + ": 'weather_fill' is missing or not an object");
  }
  float* fill[kWeatherValues] = {&b.weather_fill.precipitation_in, &b.weather_fill.snowfall_in,
                                 &b.weather_fill.snow_depth_in};
  for (int k = 0; k < kWeatherValues; ++k) {
    const json& f = j["weather_fill"];
    if (!f.contains(kWeatherNames[k]) || !f[kWeatherNames[k]].is_number() ||
        !std::isfinite(f[kWeatherNames[k]].get<double>())) {
      return InvalidArgumentError(source + ": 'weather_fill." + kWeatherNames[k] +
                                  "' is missing or not a finite number");
    }
    *fill[k] = f[kWeatherNames[k]].get<float>();
  }
  return b;
}

std::string DemandContextToJson(const DemandContext& context) {
  json j = json::parse(context.baselines.ToJson());
  j["feature_config"] = {{"bucket_minutes", context.config.bucket_minutes},
                         {"horizons", context.config.horizons},
                         {"recent_lags", context.config.recent_lags},
                         {"spec", std::string(kDemandFeatureSpecName) + "@" +
                                      std::to_string(kDemandFeatureSpecVersion)}};
  return j.dump() + "\n";
}

StatusOr<DemandContext> DemandContextFromJson(std::string_view text, const std::string& source) {
  DemandContext c;
  ASSIGN_OR_RETURN(c.baselines, DemandBaselines::FromJson(text, source));
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.contains("feature_config") || !j["feature_config"].is_object()) {
    return InvalidArgumentError(source + ": 'feature_config' is missing or not an object");
  }
  const json& f = j["feature_config"];
  for (auto [name, out] : {std::pair{"bucket_minutes", &c.config.bucket_minutes},
                           std::pair{"horizons", &c.config.horizons},
                           std::pair{"recent_lags", &c.config.recent_lags}}) {
    if (!f.contains(name) || !f[name].is_number_integer()) {
      return InvalidArgumentError(source + ": 'feature_config." + name +
                                  "' is missing or not an integer");
    }
    *out = f[name].get<int>();
  }
  if (Status s = ValidateDemandFeatureConfig(c.config); !s.ok()) {
    return InvalidArgumentError(source + ": " + s.message());
  }
  if (c.config.bucket_minutes != c.baselines.bucket_minutes) {
    return InvalidArgumentError(source +
                                ": feature_config.bucket_minutes differs from "
                                "bucket_minutes");
  }
  return c;
}

StatusOr<DemandBaselines> ComputeDemandBaselines(const DemandGrid& grid, int64_t begin, int64_t end,
                                                 int64_t exclude_begin, int64_t exclude_end,
                                                 const WeatherTable* weather) {
  begin = std::max<int64_t>(begin, 0);
  end = std::min(end, grid.num_buckets());
  DemandBaselines b;
  b.bucket_minutes = grid.bucket_minutes();
  b.zones = grid.zones();
  b.train_begin_us = grid.BucketStart(begin);
  b.train_end_us = grid.BucketStart(end);
  const int per_day = grid.buckets_per_day();
  const size_t nz = grid.num_zones();
  std::vector<int64_t> n_ws(7 * per_day, 0), n_slot(per_day, 0);
  int64_t n_all = 0;
  std::vector<BucketCalendar> cal;
  std::vector<int64_t> used;
  for (int64_t k = begin; k < end; ++k) {
    if (k >= exclude_begin && k < exclude_end) continue;
    const BucketCalendar c = grid.Calendar(k);
    cal.push_back(c);
    used.push_back(k);
    ++n_ws[c.weekday * per_day + c.slot_of_day];
    ++n_slot[c.slot_of_day];
    ++n_all;
  }
  if (n_all == 0) {
    return InvalidArgumentError("demand baselines: no bucket in [" +
                                FormatCivil(grid.BucketStart(begin)) + ", " +
                                FormatCivil(grid.BucketStart(end)) + ") after exclusions");
  }
  b.weekday_slot_mean.assign(nz * 7 * per_day, 0.0f);
  b.slot_mean.assign(nz * per_day, 0.0f);
  b.zone_mean.assign(nz, 0.0f);
  std::vector<double> ws(7 * per_day), slot(per_day);
  for (size_t z = 0; z < nz; ++z) {
    std::fill(ws.begin(), ws.end(), 0.0);
    std::fill(slot.begin(), slot.end(), 0.0);
    double all = 0;
    for (size_t i = 0; i < used.size(); ++i) {
      const float c = grid.count(z, used[i]);
      ws[cal[i].weekday * per_day + cal[i].slot_of_day] += c;
      slot[cal[i].slot_of_day] += c;
      all += c;
    }
    for (int s = 0; s < per_day; ++s) {
      b.slot_mean[z * per_day + s] = n_slot[s] ? static_cast<float>(slot[s] / n_slot[s]) : 0.0f;
    }
    for (int k = 0; k < 7 * per_day; ++k) {
      // A (weekday, slot) the period never saw falls back to the slot's mean over all days.
      b.weekday_slot_mean[z * 7 * per_day + k] =
          n_ws[k] ? static_cast<float>(ws[k] / n_ws[k]) : b.slot_mean[z * per_day + k % per_day];
    }
    b.zone_mean[z] = static_cast<float>(all / n_all);
  }
  // Weather fill: means over the days of the period (NaN-free defaults when none is known).
  DailyWeather fill{0, 0, 0, 60, 45, 5};
  if (weather != nullptr) {
    double sum[kWeatherValues] = {}, n[kWeatherValues] = {};
    for (int64_t d = DayIndex(b.train_begin_us); d < DayIndex(b.train_end_us - 1) + 1; ++d) {
      const auto v = WeatherValues(weather->Get(d));
      for (int k = 0; k < kWeatherValues; ++k) {
        if (std::isfinite(v[k])) sum[k] += v[k], n[k] += 1;
      }
    }
    float* f[kWeatherValues] = {&fill.precipitation_in, &fill.snowfall_in, &fill.snow_depth_in};
    for (int k = 0; k < kWeatherValues; ++k) {
      if (n[k] > 0) *f[k] = static_cast<float>(sum[k] / n[k]);
    }
  }
  b.weather_fill = fill;
  return b;
}

StatusOr<DemandFeatures> DemandFeatures::Create(const DemandFeatureConfig& config,
                                                const WeatherTable* weather) {
  RETURN_IF_ERROR(ValidateDemandFeatureConfig(config));
  DemandFeatures f;
  f.config_ = config;
  f.weather_ = weather;
  auto& n = f.names_;
  n.push_back("zone");
  for (int k = 1; k <= config.recent_lags; ++k) n.push_back("lag_" + std::to_string(k));
  for (const char* name : {"mean_day", "mean_week", "level_recent", "level_day", "level_week",
                           "zone_mean", "origin_slot", "origin_holiday"}) {
    n.push_back(name);
  }
  for (const char* name : kWeatherNames) n.push_back(name);
  for (int h = 1; h <= config.horizons; ++h) {
    const std::string s = "_h" + std::to_string(h);
    for (const char* name : {"target_slot", "target_holiday", "yesterday", "last_week",
                             "ha_weekday_slot", "ha_slot", "expected_day", "expected_week"}) {
      n.push_back(name + s);
    }
  }
  return f;
}

std::vector<int> DemandFeatures::TargetSlotColumns() const {
  std::vector<int> cols;
  for (int h = 1; h <= config_.horizons; ++h) {
    const auto it = std::find(names_.begin(), names_.end(), "target_slot_h" + std::to_string(h));
    cols.push_back(static_cast<int>(it - names_.begin()));
  }
  return cols;
}

Status DemandFeatures::Compute(const DemandBaselines& baselines, size_t zone_pos, int64_t t,
                               std::span<const float> history, float* out) const {
  const int per_day = buckets_per_day();
  const int64_t width = static_cast<int64_t>(config_.bucket_minutes) * kMicrosPerMinute;
  const int week = history_buckets();
  if (baselines.bucket_minutes != config_.bucket_minutes) {
    return InvalidArgumentError(
        "demand features: baselines have " + std::to_string(baselines.bucket_minutes) +
        "-minute buckets, features " + std::to_string(config_.bucket_minutes));
  }
  if (zone_pos >= baselines.zones.size()) {
    return InvalidArgumentError("demand features: zone position " + std::to_string(zone_pos) +
                                " out of range");
  }
  if (t % width != 0) {
    return InvalidArgumentError("demand features: time " + FormatCivil(t) + " is not on a " +
                                std::to_string(config_.bucket_minutes) + "-minute boundary");
  }
  if (history.size() != static_cast<size_t>(week)) {
    return InvalidArgumentError("demand features: history has " + std::to_string(history.size()) +
                                " counts, expected " + std::to_string(week) +
                                " (one week of buckets)");
  }
  for (size_t i = 0; i < history.size(); ++i) {
    if (!(history[i] >= 0) || !std::isfinite(history[i])) {
      return InvalidArgumentError("demand features: history[" + std::to_string(i) +
                                  "] is not a finite non-negative count");
    }
  }
  // Bucket a (the last known) starts at t - width; history[week - 1 - i] is bucket a - i.
  const auto count_back = [&](int i) { return history[week - 1 - i]; };
  const auto cal_of = [&](int64_t offset_buckets) {  // bucket a + offset
    return CalendarOfBucket(t - width + offset_buckets * width, config_.bucket_minutes);
  };
  int col = 0;
  out[col++] = static_cast<float>(zone_pos);
  for (int k = 0; k < config_.recent_lags; ++k) out[col++] = Log1p(count_back(k));
  double day_sum = 0, week_sum = 0, recent_sum = 0, recent_ha = 0, day_ha = 0, week_ha = 0;
  for (int i = 0; i < week; ++i) {
    // Weekday and slot only (no holiday rules): this loop runs for every past bucket.
    const int64_t start = t - width * (i + 1);
    const int64_t day = DayIndex(start);
    const int slot = static_cast<int>((start - day * kMicrosPerDay) / width);
    const float ha = baselines.WeekdaySlotMean(zone_pos, WeekdayOfDay(day), slot);
    week_sum += count_back(i);
    week_ha += ha;
    if (i < per_day) {
      day_sum += count_back(i);
      day_ha += ha;
    }
    if (i < config_.recent_lags) {
      recent_sum += count_back(i);
      recent_ha += ha;
    }
  }
  // What happened over what the averages expected (smoothed): the zone's level right now.
  const double ratio_recent = (recent_sum + 1.0) / (recent_ha + 1.0);
  const double ratio_day = (day_sum + 1.0) / (day_ha + 1.0);
  const double ratio_week = (week_sum + 1.0) / (week_ha + 1.0);
  out[col++] = Log1p(day_sum / per_day);
  out[col++] = Log1p(week_sum / week);
  out[col++] = static_cast<float>(std::log(ratio_recent));
  out[col++] = static_cast<float>(std::log(ratio_day));
  out[col++] = static_cast<float>(std::log(ratio_week));
  out[col++] = Log1p(baselines.zone_mean[zone_pos]);
  const BucketCalendar next = cal_of(1);
  out[col++] = static_cast<float>(next.slot_of_day);
  out[col++] = next.holiday ? 1.0f : 0.0f;
  const DailyWeather w = weather_ != nullptr ? weather_->Get(DayIndex(t) - 1) : DailyWeather{};
  const auto wv = WeatherValues(w);
  const auto fv = WeatherValues(baselines.weather_fill);
  for (int k = 0; k < kWeatherValues; ++k) out[col++] = std::isfinite(wv[k]) ? wv[k] : fv[k];
  for (int h = 1; h <= config_.horizons; ++h) {
    const BucketCalendar c = cal_of(h);
    const float ha = baselines.WeekdaySlotMean(zone_pos, c.weekday, c.slot_of_day);
    out[col++] = static_cast<float>(c.slot_of_day);
    out[col++] = c.holiday ? 1.0f : 0.0f;
    out[col++] = Log1p(count_back(per_day - h));  // bucket a + h - B
    out[col++] = Log1p(count_back(week - h));     // bucket a + h - W
    out[col++] = Log1p(ha);
    out[col++] = Log1p(baselines.SlotMean(zone_pos, c.slot_of_day));
    // The target's average scaled by the zone's current level: a zone-free "expected count"
    // that one global model can map to counts for every zone, also past the training levels.
    out[col++] = Log1p(ha * ratio_day);
    out[col++] = Log1p(ha * ratio_week);
  }
  return OkStatus();
}

Status DemandFeatures::ComputeForZone(const DemandBaselines& baselines, int32_t zone, int64_t t,
                                      std::span<const float> history, float* out) const {
  const int pos = baselines.ZonePosition(zone);
  if (pos < 0) {
    return InvalidArgumentError("zone " + std::to_string(zone) +
                                " is not one the model was trained for");
  }
  return Compute(baselines, static_cast<size_t>(pos), t, history, out);
}

Status DemandFeatures::ComputeFromGrid(const DemandBaselines& baselines, const DemandGrid& grid,
                                       size_t grid_zone_pos, int64_t t, float* out) const {
  if (grid.bucket_minutes() != config_.bucket_minutes) {
    return InvalidArgumentError("demand features: grid has " +
                                std::to_string(grid.bucket_minutes()) + "-minute buckets");
  }
  if (grid_zone_pos >= grid.num_zones()) {
    return InvalidArgumentError("demand features: grid zone position out of range");
  }
  const int64_t end = grid.BucketOf(t);  // first bucket not known at t
  const int64_t begin = end - history_buckets();
  if (begin < 0 || end > grid.num_buckets()) {
    return OutOfRangeError("demand features: the grid [" + FormatCivil(grid.start_us()) + ", " +
                           FormatCivil(grid.end_us()) + ") does not hold the week before " +
                           FormatCivil(t));
  }
  const auto history = grid.ZoneCounts(grid_zone_pos).subspan(begin, history_buckets());
  const int32_t zone = grid.zones()[grid_zone_pos];
  if (grid_zone_pos < baselines.zones.size() && baselines.zones[grid_zone_pos] == zone) {
    return Compute(baselines, grid_zone_pos, t, history, out);
  }
  return ComputeForZone(baselines, zone, t, history, out);
}

StatusOr<std::vector<float>> ParseRecentCounts(std::string_view text, size_t expected,
                                               const std::string& what) {
  std::vector<float> out;
  out.reserve(expected);
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(pos, comma - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    double v = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size() ||
        !std::isfinite(v) || v < 0) {
      return InvalidArgumentError(what + ": value " + std::to_string(out.size() + 1) + " '" +
                                  std::string(item.substr(0, 20)) +
                                  "' is not a non-negative count");
    }
    out.push_back(static_cast<float>(v));
    pos = comma + 1;
  }
  if (out.size() != expected) {
    return InvalidArgumentError(what + ": " + std::to_string(out.size()) + " counts, expected " +
                                std::to_string(expected) + " (one week of buckets, oldest first)");
  }
  return out;
}

std::string FormatRecentCounts(std::span<const float> counts) {
  std::string out;
  char buf[32];
  for (size_t i = 0; i < counts.size(); ++i) {
    if (i) out += ',';
    const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), counts[i]);
    out.append(buf, end);
  }
  return out;
}

}  // namespace bimride::features
