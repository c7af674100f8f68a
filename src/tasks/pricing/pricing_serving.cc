#include "tasks/pricing/pricing_serving.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <variant>

#include "common/civil_time.h"
#include "common/file.h"
#include "models/native/mlp_net.h"
#include "registry/manifest.h"

namespace bimride::tasks::pricing {
namespace {

using nlohmann::json;
using serving::FeatureAdapter;
using serving::FeatureAdapterContext;
using serving::RawBatch;
using serving::RawColumn;

constexpr int64_t kBucketUs = 5 * kMicrosPerMinute;
constexpr char kForecastFile[] = "demand_baselines.json";

std::string RowError(int64_t row, const std::string& field, const std::string& what) {
  return std::string(kPricingFeatureSpecName) + ": row " + std::to_string(row) + ": field '" +
         field + "': " + what;
}

struct PricingSpecState {
  PricingPolicyFile policy;
  std::unique_ptr<features::DemandBaselines> forecast;  // forecast policy only
  online::FeatureStore* store = nullptr;
};

// The latest value among `values` (newest last), or `fallback`.
double Latest(const std::vector<std::optional<double>>& values, double fallback) {
  for (auto it = values.rbegin(); it != values.rend(); ++it) {
    if (it->has_value()) return **it;
  }
  return fallback;
}

// The zone's multiplier for bucket b: read when this bucket already has one, else computed
// from the live state and stored (unless `preview`: computed, not stored). Fails closed (the
// floor) when the store cannot answer.
double ZoneMultiplier(const PricingSpecState& s, int32_t zone, int64_t b, int64_t t, bool preview) {
  const PricingConfig& c = s.policy.config;
  if (s.store == nullptr) return c.floor;
  online::FeatureStore& store = *s.store;
  StatusOr<std::vector<std::optional<double>>> mult =
      store.Range(PricingMultiplierKey(zone), b - 1, 2);
  if (!mult.ok()) return c.floor;
  if ((*mult)[1].has_value()) return *(*mult)[1];
  const double previous = (*mult)[0].value_or(c.floor);
  StatusOr<std::vector<std::optional<double>>> requests =
      store.Range(PricingRequestsKey(zone), b - 3, 3);
  StatusOr<std::vector<std::optional<double>>> idle = store.Range(PricingIdleKey(zone), b - 1, 2);
  if (!requests.ok() || !idle.ok()) return c.floor;
  ZoneSignal sig;
  sig.open_requests = (*requests)[2].value_or(0);
  sig.idle_drivers = Latest(*idle, 0);
  sig.forecast_requests = sig.open_requests;
  for (int32_t n : s.policy.neighbours[static_cast<size_t>(zone - 1)]) {
    StatusOr<std::vector<std::optional<double>>> ni = store.Range(PricingIdleKey(n), b - 1, 2);
    if (ni.ok()) sig.neighbour_idle += Latest(*ni, 0);
  }
  if (s.forecast != nullptr) {
    const features::DemandBaselines& f = *s.forecast;
    const int pos = f.ZonePosition(zone);
    if (pos >= 0) {
      const int minute = HourOfDay(t) * 60 + static_cast<int>((t / kMicrosPerMinute) % 60);
      const int slot = minute / f.bucket_minutes;
      const int prev = (slot + f.buckets_per_day() - 1) % f.buckets_per_day();
      const int wd = DayOfWeek(t);
      const double ha_next = f.WeekdaySlotMean(static_cast<size_t>(pos), wd, slot) / 3.0;
      const double ha_prev = f.WeekdaySlotMean(static_cast<size_t>(pos), wd, prev);
      double recent = 0;
      for (const auto& v : *requests) recent += v.value_or(0);
      sig.forecast_requests = ha_next * (recent + 2.0) / (ha_prev + 2.0);
    }
  }
  const double m = GuardedMultiplier(c, previous, RawMultiplier(c, sig));
  // Another replica may have set it meanwhile; both computed it from the same state.
  if (!preview) (void)store.Set(PricingMultiplierKey(zone), b, m);
  return m;
}

}  // namespace

std::string PricingRequestsKey(int32_t zone) {
  return "pricing:requests:zone=" + std::to_string(zone);
}
std::string PricingIdleKey(int32_t zone) { return "pricing:idle:zone=" + std::to_string(zone); }
std::string PricingMultiplierKey(int32_t zone) {
  return "pricing:multiplier:zone=" + std::to_string(zone);
}
int64_t PricingBucket(int64_t t) {
  return t >= 0 ? t / kBucketUs : (t - kBucketUs + 1) / kBucketUs;
}

std::vector<std::string> PricingRawFields() {
  return {"zone", "time"};  // estimated_distance and estimated_minutes are optional
}

std::string PricingPolicyToJson(const PricingPolicyFile& p) {
  const PricingConfig& c = p.config;
  json j = {{"policy", std::string(PricingPolicyName(c.policy))},
            {"objective", std::string(PricingObjectiveName(c.objective))},
            {"cap", c.cap},
            {"floor", c.floor},
            {"max_step", c.max_step},
            {"smoothing", c.smoothing},
            {"ratio_gain", c.ratio_gain},
            {"overflow_penalty", c.overflow_penalty},
            {"arriving_weight", c.arriving_weight},
            {"neighbour_weight", c.neighbour_weight},
            {"revenue_tolerance", c.revenue_tolerance},
            {"revenue_weight", c.revenue_weight},
            {"conversion", {{"intercept", c.conversion.intercept}, {"slope", c.conversion.slope}}},
            {"tariff",
             {{"base_fare", p.tariff.base_fare},
              {"per_km", p.tariff.per_km},
              {"per_minute", p.tariff.per_minute},
              {"minimum_fare", p.tariff.minimum_fare}}},
            {"zones", p.zones},
            {"neighbours", p.neighbours}};
  return j.dump(1);
}

StatusOr<PricingPolicyFile> PricingPolicyFromJson(std::string_view text,
                                                  const std::string& source) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return InvalidArgumentError(source + ": not a JSON object");
  PricingPolicyFile p;
  auto num = [&](const json& o, const char* key, double* out) -> Status {
    auto it = o.find(key);
    if (it == o.end() || !it->is_number()) {
      return InvalidArgumentError(source + ": " + key + ": missing or not a number");
    }
    *out = it->get<double>();
    return OkStatus();
  };
  auto policy = j.find("policy");
  if (policy == j.end() || !policy->is_string()) {
    return InvalidArgumentError(source + ": policy: missing or not a string");
  }
  StatusOr<PricingPolicy> pp = ParsePricingPolicy(policy->get<std::string>());
  if (!pp.ok()) return InvalidArgumentError(source + ": policy: " + pp.status().message());
  PricingConfig& c = p.config;
  c.policy = *pp;
  auto objective = j.find("objective");
  if (objective == j.end() || !objective->is_string()) {
    return InvalidArgumentError(source + ": objective: missing or not a string");
  }
  StatusOr<PricingObjective> po = ParsePricingObjective(objective->get<std::string>());
  if (!po.ok()) return InvalidArgumentError(source + ": objective: " + po.status().message());
  c.objective = *po;
  for (auto [key, out] :
       {std::pair{"cap", &c.cap}, std::pair{"floor", &c.floor}, std::pair{"max_step", &c.max_step},
        std::pair{"smoothing", &c.smoothing}, std::pair{"ratio_gain", &c.ratio_gain},
        std::pair{"overflow_penalty", &c.overflow_penalty},
        std::pair{"arriving_weight", &c.arriving_weight},
        std::pair{"neighbour_weight", &c.neighbour_weight},
        std::pair{"revenue_tolerance", &c.revenue_tolerance}}) {
    RETURN_IF_ERROR(num(j, key, out));
  }
  // Policy files written before the trips-plus-revenue objective have no revenue weight.
  if (j.contains("revenue_weight")) RETURN_IF_ERROR(num(j, "revenue_weight", &c.revenue_weight));
  auto conv = j.find("conversion");
  auto tariff = j.find("tariff");
  if (conv == j.end() || !conv->is_object() || tariff == j.end() || !tariff->is_object()) {
    return InvalidArgumentError(source + ": conversion and tariff must be objects");
  }
  RETURN_IF_ERROR(num(*conv, "intercept", &c.conversion.intercept));
  RETURN_IF_ERROR(num(*conv, "slope", &c.conversion.slope));
  RETURN_IF_ERROR(num(*tariff, "base_fare", &p.tariff.base_fare));
  RETURN_IF_ERROR(num(*tariff, "per_km", &p.tariff.per_km));
  RETURN_IF_ERROR(num(*tariff, "per_minute", &p.tariff.per_minute));
  RETURN_IF_ERROR(num(*tariff, "minimum_fare", &p.tariff.minimum_fare));
  Status valid = ValidatePricingConfig(c);
  if (!valid.ok()) return InvalidArgumentError(source + ": " + valid.message());
  double zones = 0;
  RETURN_IF_ERROR(num(j, "zones", &zones));
  if (zones < 1 || zones > simulator::kMaxZones || zones != std::floor(zones)) {
    return InvalidArgumentError(source + ": zones: must be a whole number in 1..1000");
  }
  p.zones = static_cast<int32_t>(zones);
  auto nb = j.find("neighbours");
  if (nb == j.end() || !nb->is_array() || nb->size() != static_cast<size_t>(p.zones)) {
    return InvalidArgumentError(source + ": neighbours: want one list per zone");
  }
  for (const json& list : *nb) {
    std::vector<int32_t> ids;
    if (!list.is_array()) return InvalidArgumentError(source + ": neighbours: want lists");
    for (const json& id : list) {
      if (!id.is_number_integer() || id.get<int64_t>() < 1 || id.get<int64_t>() > p.zones) {
        return InvalidArgumentError(source + ": neighbours: zone ids must be in 1..zones");
      }
      ids.push_back(id.get<int32_t>());
    }
    p.neighbours.push_back(std::move(ids));
  }
  return p;
}

StatusOr<int64_t> RecordMarketEvents(const serving::RawBatch& events, online::FeatureStore& store) {
  const serving::RawColumn* zone = events.Find("zone");
  const serving::RawColumn* time = events.Find("time");
  const serving::RawColumn* requests = events.Find("requests");
  const serving::RawColumn* idle = events.Find("idle_drivers");
  for (const serving::RawColumn& c : events.columns) {
    if (c.name != "zone" && c.name != "time" && c.name != "requests" && c.name != "idle_drivers") {
      return InvalidArgumentError("market events: unknown field '" + c.name +
                                  "' (want zone, time, requests, idle_drivers)");
    }
  }
  if (zone == nullptr || time == nullptr) {
    return InvalidArgumentError(std::string("market events: every event needs '") +
                                (zone == nullptr ? "zone" : "time") + "'");
  }
  if (requests == nullptr && idle == nullptr) {
    return InvalidArgumentError("market events: events give neither requests nor idle_drivers");
  }
  struct Write {
    int32_t zone;
    int64_t bucket;
    double requests;
    double idle;  // < 0: not given
  };
  std::vector<Write> writes;
  writes.reserve(static_cast<size_t>(events.rows));
  for (int64_t r = 0; r < events.rows; ++r) {
    const std::string where = "market events: events[" + std::to_string(r) + "]";
    const double* z = std::get_if<double>(&zone->values[r]);
    if (z == nullptr || *z < 1 || *z > simulator::kMaxZones || *z != std::floor(*z)) {
      return InvalidArgumentError(where + ".zone: must be a whole number in 1..1000");
    }
    const std::string* t_text = std::get_if<std::string>(&time->values[r]);
    if (t_text == nullptr) {
      return InvalidArgumentError(where + ".time: must be a string 'YYYY-MM-DD HH:MM:SS'");
    }
    StatusOr<int64_t> t = ParseCivil(*t_text);
    if (!t.ok()) return InvalidArgumentError(where + ".time: " + t.status().message());
    // count: the column's value at row r, checked to lie in 0..1e6.
    auto count = [&](const serving::RawColumn* c, double absent) -> StatusOr<double> {
      if (c == nullptr) return absent;
      const double* v = std::get_if<double>(&c->values[r]);
      if (v == nullptr || !std::isfinite(*v) || *v < 0 || *v > 1e6) {
        return InvalidArgumentError(where + "." + c->name + ": must be a number in 0..1e6");
      }
      return *v;
    };
    ASSIGN_OR_RETURN(double n_requests, count(requests, 0));
    ASSIGN_OR_RETURN(double n_idle, count(idle, -1));
    writes.push_back({static_cast<int32_t>(*z), PricingBucket(*t), n_requests, n_idle});
  }
  for (const Write& w : writes) {
    if (w.requests > 0)
      RETURN_IF_ERROR(store.Add(PricingRequestsKey(w.zone), w.bucket, w.requests));
    if (w.idle >= 0) RETURN_IF_ERROR(store.Set(PricingIdleKey(w.zone), w.bucket, w.idle));
  }
  return static_cast<int64_t>(writes.size());
}

StatusOr<FeatureAdapter> MakePricingFeatureAdapter(const FeatureAdapterContext& context) {
  auto state = std::make_shared<PricingSpecState>();
  const std::string path = context.version_dir + "/" + kPricingPolicyFile;
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  ASSIGN_OR_RETURN(state->policy, PricingPolicyFromJson(text, path));
  if (state->policy.config.policy == PricingPolicy::kForecast) {
    const std::string fpath = context.version_dir + "/" + kForecastFile;
    ASSIGN_OR_RETURN(std::string ftext, ReadFile(fpath));
    ASSIGN_OR_RETURN(features::DemandBaselines f,
                     features::DemandBaselines::FromJson(ftext, fpath));
    state->forecast = std::make_unique<features::DemandBaselines>(std::move(f));
  }
  state->store = context.online_store;
  return FeatureAdapter([state](const RawBatch& batch,
                                int num_features) -> StatusOr<std::vector<float>> {
    if (num_features != 2) {
      return InvalidArgumentError(std::string(kPricingFeatureSpecName) + ": model takes " +
                                  std::to_string(num_features) +
                                  " features, the spec makes 2 (multiplier, quote)");
    }
    const RawColumn* zone = batch.Find("zone");
    const RawColumn* time = batch.Find("time");
    if (zone == nullptr || time == nullptr) {
      return InvalidArgumentError(std::string(kPricingFeatureSpecName) + ": missing raw field '" +
                                  (zone == nullptr ? "zone" : "time") + "'");
    }
    const RawColumn* miles = batch.Find("estimated_distance");
    const RawColumn* minutes = batch.Find("estimated_minutes");
    if ((miles == nullptr) != (minutes == nullptr)) {
      return InvalidArgumentError(std::string(kPricingFeatureSpecName) +
                                  ": send estimated_distance and estimated_minutes together");
    }
    const RawColumn* preview = batch.Find("preview");
    std::vector<float> out(static_cast<size_t>(batch.rows) * 2);
    for (int64_t r = 0; r < batch.rows; ++r) {
      bool preview_row = false;
      if (preview != nullptr) {
        const double* p = std::get_if<double>(&preview->values[r]);
        if (p == nullptr || (*p != 0 && *p != 1)) {
          return InvalidArgumentError(RowError(r, "preview", "must be 0 or 1"));
        }
        preview_row = *p == 1;
      }
      const double* z = std::get_if<double>(&zone->values[r]);
      if (z == nullptr || *z != std::floor(*z) || *z < 1 || *z > state->policy.zones) {
        return InvalidArgumentError(
            RowError(r, "zone", "must be a zone id in 1.." + std::to_string(state->policy.zones)));
      }
      const std::string* tt = std::get_if<std::string>(&time->values[r]);
      if (tt == nullptr)
        return InvalidArgumentError(RowError(r, "time", "must be a string 'YYYY-MM-DD HH:MM'"));
      StatusOr<int64_t> t = ParseCivil(*tt);
      if (!t.ok()) return InvalidArgumentError(RowError(r, "time", t.status().message()));
      const double m =
          ZoneMultiplier(*state, static_cast<int32_t>(*z), PricingBucket(*t), *t, preview_row);
      double quote = state->policy.tariff.minimum_fare * m;
      if (miles != nullptr) {
        const double* mi = std::get_if<double>(&miles->values[r]);
        const double* mn = std::get_if<double>(&minutes->values[r]);
        if (mi == nullptr || !(*mi >= 0 && *mi <= 500)) {
          return InvalidArgumentError(RowError(r, "estimated_distance", "must be miles in 0..500"));
        }
        if (mn == nullptr || !(*mn >= 0 && *mn <= 1440)) {
          return InvalidArgumentError(
              RowError(r, "estimated_minutes", "must be minutes in 0..1440"));
        }
        quote =
            std::round(simulator::Fare(state->policy.tariff, *mi / simulator::kMilesPerKm, *mn, m) *
                       100.0) /
            100.0;
      }
      out[static_cast<size_t>(r) * 2] = static_cast<float>(m);
      out[static_cast<size_t>(r) * 2 + 1] = static_cast<float>(quote);
    }
    return out;
  });
}

std::vector<std::pair<std::string, serving::FeatureAdapterFactory>> PricingFeatureSpecs() {
  return {{kPricingFeatureSpecName, MakePricingFeatureAdapter}};
}

Status WritePricingVersionFolder(const PricingPolicyFile& policy,
                                 const features::DemandBaselines* forecast,
                                 const std::string& model_name, const std::string& dir) {
  RETURN_IF_ERROR(MakeDirs(dir));
  // The pass-through net: [multiplier, quote] → [multiplier, quote].
  models::native::MlpNet net;
  net.num_features = 2;
  net.numeric_columns = {0, 1};
  net.numeric_mean = {0, 0};
  net.numeric_std = {1, 1};
  net.layers.push_back({2, 2, {1, 0, 0, 1}, {0, 0}});
  RETURN_IF_ERROR(models::native::WriteMlpNet(net, dir));
  RETURN_IF_ERROR(WriteFileAtomic(dir + "/" + kPricingPolicyFile, PricingPolicyToJson(policy)));
  registry::Manifest m;
  m.name = model_name;
  m.task = "pricing";
  m.backend = "native_mlp";
  m.artifacts = {"net.json", "weights.bin", kPricingPolicyFile};
  if (forecast != nullptr) {
    RETURN_IF_ERROR(WriteFileAtomic(dir + "/" + kForecastFile, forecast->ToJson()));
    m.artifacts.push_back(kForecastFile);
  }
  m.inputs = {{"features", registry::DType::kFloat32, {-1, 2}},
              {"zone", registry::DType::kInt32, {-1}},
              {"time", registry::DType::kString, {-1}},
              {"estimated_distance", registry::DType::kFloat32, {-1}},
              {"estimated_minutes", registry::DType::kFloat32, {-1}}};
  m.outputs = {{"multiplier", registry::DType::kFloat32, {-1, 1}},
               {"quote", registry::DType::kFloat32, {-1, 1}}};
  m.feature_spec = registry::FeatureSpecRef{kPricingFeatureSpecName, kPricingFeatureSpecVersion,
                                            PricingRawFields()};
  m.properties = {{"description", "surge multiplier per zone and 5 minutes (" +
                                      std::string(PricingPolicyName(policy.config.policy)) +
                                      " policy) and the quote; live state from the online store"},
                  {"policy", std::string(PricingPolicyName(policy.config.policy))},
                  // The zone ids 1..N it prices (the web console's surge map asks for each).
                  {"zones", std::to_string(policy.zones)}};
  return WriteFileAtomic(dir + "/manifest.json", registry::ManifestToJson(m));
}

}  // namespace bimride::tasks::pricing
