#include "tasks/pricing/pricing_cli.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "cli/command.h"
#include "common/civil_time.h"
#include "common/data_dir.h"
#include "common/file.h"
#include "registry/registry.h"
#include "tasks/pricing/market_study.h"
#include "tasks/pricing/pricing_report.h"
#include "tasks/pricing/pricing_serving.h"

namespace bimride::tasks::pricing {
namespace {

using cli::ParseFlagsOrExit;
using cli::ReportError;

StatusOr<std::vector<uint64_t>> ParseSeeds(const std::string& text) {
  std::vector<uint64_t> seeds;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, comma - start);
    char* end = nullptr;
    const unsigned long long v = std::strtoull(item.c_str(), &end, 10);
    if (item.empty() || end == nullptr || *end != '\0') {
      return InvalidArgumentError("--seeds: '" + item + "' is not a number (want e.g. 1,2,3)");
    }
    seeds.push_back(v);
    start = comma + 1;
  }
  return seeds;
}

}  // namespace

int RunEvalPricing(const std::vector<std::string>& args) {
  FlagParser flags("bimride eval pricing",
                   "The pricing study: the tariff fitted to green fares, every policy over "
                   "simulated days × seeds with 95% intervals, the surge outage, the simulator "
                   "against real pickups and trip lengths, and the pictures.");
  PricingStudyOptions o;
  std::string seeds = "1,2,3,4,5", out = "results/pricing.md", data = DefaultDataDir();
  flags.AddString("seeds", &seeds, "one market per seed and policy, e.g. 1,2,3,4,5");
  flags.AddInt("days", &o.days, "simulated days per market");
  flags.AddInt("zones", &o.zones, "zones of the city");
  flags.AddInt("history-days", &o.history_days, "days the demand forecast is learned from");
  flags.AddString("data", &data, "the shared data folder (tlc_green/, uber/)");
  flags.SetDefaultText("data",
                       "$BIMRIDE_DATA_DIR, else the shared data folder found at build time");
  flags.AddString("out", &out, "Markdown report to write; pictures go to <its folder>/pricing/");
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  StatusOr<std::vector<uint64_t>> parsed = ParseSeeds(seeds);
  if (!parsed.ok()) return ReportError(parsed.status(), true);
  o.seeds = *parsed;
  for (const char* m : {"2021-01", "2021-02", "2021-03"}) {
    o.green_files.push_back(data + "/tlc_green/green_tripdata_" + m + ".parquet");
  }
  o.uber_file = data + "/uber/uber-raw-data-apr14.csv.gz";
  const size_t slash = out.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : out.substr(0, slash);
  o.svg_dir = dir + "/pricing";
  o.svg_link_prefix = "pricing/";
  o.command_line = "bimride eval pricing";
  for (const std::string& a : args) {
    o.command_line += " " + (a.rfind(data, 0) == 0 ? "../shared/data" + a.substr(data.size()) : a);
  }
  o.progress = [](const std::string& m) { std::fprintf(stderr, "%s\n", m.c_str()); };
  StatusOr<std::string> report = RunPricingStudy(o);
  if (!report.ok()) return ReportError(report.status());
  if (Status st = WriteFileAtomic(out, *report); !st.ok()) return ReportError(st);
  std::printf("wrote %s and %s/\n", out.c_str(), o.svg_dir.c_str());
  return cli::kExitOk;
}

int RunMarket(const std::vector<std::string>& args) {
  FlagParser flags("bimride market",
                   "Simulate the marketplace of a simulated city — riders quoted tariff × surge, "
                   "drivers logging on and off, dispatch to the nearest idle driver, "
                   "cancellations, repositioning — under one pricing policy.");
  MarketConfig c;
  int64_t days = 14, zones = 40, seed = 1, city_seed = 42, history_days = 14;
  double requests = c.city.requests_per_zone_day, supply = c.city.driver_supply_ratio;
  std::string policy = "ratio", outage_at, intervals_csv, zone_hour_csv;
  std::string objective(PricingObjectiveName(c.pricing.objective));
  flags.AddInt("days", &days, "simulated days");
  flags.AddInt("zones", &zones, "zones of the city");
  flags.AddInt("seed", &seed, "seed of the run (riders, drivers, weather, events)");
  flags.AddInt("city-seed", &city_seed, "seed of the city's layout");
  flags.AddDouble("requests-per-zone-day", &requests, "mean requests per zone and day");
  flags.AddDouble("supply-ratio", &supply, "driver capacity relative to mean demand");
  flags.AddString("policy", &policy, "pricing policy: static, ratio or forecast");
  flags.AddString("objective", &objective,
                  "forecast policy's objective: trips, revenue or trips-at-ratio-revenue");
  flags.AddDouble("cap", &c.pricing.cap, "highest multiplier");
  flags.AddDouble("max-step", &c.pricing.max_step, "largest change per 5 minutes");
  flags.AddDouble("smoothing", &c.pricing.smoothing, "weight of the new value (1: none)");
  flags.AddDouble("ratio-gain", &c.pricing.ratio_gain, "ratio policy: 1 + gain (ratio - 1)");
  flags.AddDouble("overflow-penalty", &c.pricing.overflow_penalty,
                  "forecast policy: trips lost per booking beyond supply");
  flags.AddDouble("arriving-weight", &c.pricing.arriving_weight,
                  "forecast policy: share of soon-free drivers counted as supply");
  flags.AddDouble("neighbour-weight", &c.pricing.neighbour_weight,
                  "forecast policy: share of nearby zones' idle drivers counted as supply");
  flags.AddDouble("revenue-tolerance", &c.pricing.revenue_tolerance,
                  "forecast policy: most revenue within this share of the best completed trips");
  flags.AddDouble("revenue-weight", &c.pricing.revenue_weight,
                  "forecast policy, trips-plus-revenue: weight of revenue (in tariffs)");
  flags.AddDouble("base-fare", &c.city.tariff.base_fare, "tariff: base fare (USD)");
  flags.AddDouble("per-km", &c.city.tariff.per_km, "tariff: per km (USD)");
  flags.AddDouble("per-minute", &c.city.tariff.per_minute, "tariff: per minute (USD)");
  flags.AddDouble("minimum-fare", &c.city.tariff.minimum_fare, "tariff: minimum fare (USD)");
  flags.AddInt("history-days", &history_days,
               "days of an earlier run (another seed) the demand forecast is learned from");
  flags.AddString("outage-at", &outage_at, "surge outage start 'YYYY-MM-DD HH:MM' (30 minutes)");
  flags.AddString("intervals-csv", &intervals_csv, "write the 5-minute series here");
  flags.AddString("zone-hour-csv", &zone_hour_csv,
                  "write quotes, mean multiplier and outcomes per zone and hour of day here");
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  StatusOr<PricingPolicy> p = ParsePricingPolicy(policy);
  if (!p.ok()) return ReportError(InvalidArgumentError("--policy: " + p.status().message()), true);
  StatusOr<PricingObjective> o = ParsePricingObjective(objective);
  if (!o.ok()) {
    return ReportError(InvalidArgumentError("--objective: " + o.status().message()), true);
  }
  c.pricing.policy = *p;
  c.pricing.objective = *o;
  c.city.days = days;
  c.city.zones = zones;
  c.city.seed = static_cast<uint64_t>(city_seed);
  c.city.requests_per_zone_day = requests;
  c.city.driver_supply_ratio = supply;
  c.seed = static_cast<uint64_t>(seed);
  if (!outage_at.empty()) {
    StatusOr<int64_t> t = ParseCivil(outage_at);
    if (!t.ok())
      return ReportError(InvalidArgumentError("--outage-at: " + t.status().message()), true);
    c.outage_start_us = *t;
  }
  features::DemandBaselines forecast;
  if (c.pricing.policy == PricingPolicy::kForecast) {
    StatusOr<features::DemandBaselines> f = LearnDemandForecast(c, history_days);
    if (!f.ok()) return ReportError(f.status());
    forecast = std::move(*f);
    c.forecast = &forecast;
    StatusOr<ConversionCurve> curve = LearnConversionCurve(c);
    if (!curve.ok()) return ReportError(curve.status());
    c.pricing.conversion = *curve;
  }
  c.keep_requests = !zone_hour_csv.empty();
  StatusOr<MarketResult> r = SimulateMarket(c);
  if (!r.ok()) return ReportError(r.status());
  PolicySummary s = Summarise(*r);
  std::printf("%s\n", FormatSummaryHeader().c_str());
  std::printf("%s\n", FormatSummaryRow(policy, s).c_str());
  std::printf(
      "spike: requests %lld bookings %lld completed %lld cancelled %lld mean wait %.2f; "
      "city in spike hours: requests %lld completed %lld\n",
      (long long)r->spike_requests, (long long)r->spike_bookings, (long long)r->spike_completed,
      (long long)r->spike_cancelled,
      r->spike_completed ? r->spike_wait_sum / r->spike_completed : 0.0,
      (long long)r->spike_hours_requests, (long long)r->spike_hours_completed);
  if (!intervals_csv.empty()) {
    Status w = WriteIntervalsCsv(*r, intervals_csv);
    if (!w.ok()) return ReportError(w);
  }
  if (!zone_hour_csv.empty()) {
    Status w = WriteZoneHourCsv(*r, zone_hour_csv);
    if (!w.ok()) return ReportError(w);
  }
  return cli::kExitOk;
}

}  // namespace bimride::tasks::pricing

namespace bimride::tasks::pricing {

int RunTrainPricing(const std::vector<std::string>& args) {
  FlagParser flags("bimride train pricing",
                   "Publish a pricing policy as a version of a model: the server answers "
                   "POST /v1/models/<name>:predict with (zone, time) → multiplier and quote, "
                   "reading the live state posted to POST /v1/online/market.");
  MarketConfig c;
  int64_t zones = 40, city_seed = 42, history_days = 14, seed = 1;
  std::string policy = "forecast", name = "pricing", label, work;
  std::string objective(PricingObjectiveName(c.pricing.objective));
  std::string repo = registry::DefaultRepositoryRoot();
  flags.AddString("policy", &policy, "static, ratio or forecast");
  flags.AddInt("zones", &zones, "zones of the city");
  flags.AddInt("city-seed", &city_seed, "seed of the city's layout");
  flags.AddInt("seed", &seed, "seed of the history run the forecast is learned from");
  flags.AddInt("history-days", &history_days, "days the demand forecast is learned from");
  flags.AddDouble("cap", &c.pricing.cap, "highest multiplier");
  flags.AddDouble("max-step", &c.pricing.max_step, "largest change per 5 minutes");
  flags.AddDouble("smoothing", &c.pricing.smoothing, "weight of the new value (1: none)");
  flags.AddString("objective", &objective,
                  "forecast policy's objective: trips, revenue, trips-at-ratio-revenue or "
                  "trips-plus-revenue");
  flags.AddDouble("revenue-weight", &c.pricing.revenue_weight,
                  "forecast policy, trips-plus-revenue: weight of revenue (in tariffs)");
  flags.AddDouble("base-fare", &c.city.tariff.base_fare, "tariff: base fare (USD)");
  flags.AddDouble("per-km", &c.city.tariff.per_km, "tariff: per km (USD)");
  flags.AddDouble("per-minute", &c.city.tariff.per_minute, "tariff: per minute (USD)");
  flags.AddDouble("minimum-fare", &c.city.tariff.minimum_fare, "tariff: minimum fare (USD)");
  flags.AddString("name", &name, "model name in the registry");
  flags.AddString("label", &label, "label to point at the new version (e.g. stable)");
  flags.AddString("work-dir", &work, "where the version folder is written before publishing");
  flags.AddString("repo", &repo, "model repository (default $BIMRIDE_MODEL_REPO or ./model_repo)");
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  StatusOr<PricingPolicy> p = ParsePricingPolicy(policy);
  if (!p.ok()) return ReportError(InvalidArgumentError("--policy: " + p.status().message()), true);
  StatusOr<PricingObjective> o = ParsePricingObjective(objective);
  if (!o.ok()) {
    return ReportError(InvalidArgumentError("--objective: " + o.status().message()), true);
  }
  c.pricing.policy = *p;
  c.pricing.objective = *o;
  c.city.zones = zones;
  c.city.seed = static_cast<uint64_t>(city_seed);
  c.seed = static_cast<uint64_t>(seed);
  if (Status v = ValidatePricingConfig(c.pricing); !v.ok()) return ReportError(v, true);
  PricingPolicyFile file;
  file.config = c.pricing;
  file.tariff = c.city.tariff;
  file.zones = static_cast<int32_t>(zones);
  file.neighbours = ZoneNeighbourIds(c.city);
  features::DemandBaselines forecast;
  if (c.pricing.policy == PricingPolicy::kForecast) {
    StatusOr<features::DemandBaselines> f = LearnDemandForecast(c, history_days);
    if (!f.ok()) return ReportError(f.status());
    forecast = std::move(*f);
    StatusOr<ConversionCurve> curve = LearnConversionCurve(c);
    if (!curve.ok()) return ReportError(curve.status());
    c.pricing.conversion = *curve;
    file.config.conversion = *curve;
  }
  if (work.empty()) {
    const char* base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/bimride-pricing.XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      return ReportError(InternalError("cannot create a temporary folder " + pattern));
    }
    work = pattern;
  }
  Status w = WritePricingVersionFolder(
      file, c.pricing.policy == PricingPolicy::kForecast ? &forecast : nullptr, name, work);
  if (!w.ok()) return ReportError(w);
  auto reg = registry::Registry::Open(repo);
  if (!reg.ok()) return ReportError(reg.status());
  auto published = (*reg)->PublishFolder(work);
  if (!published.ok()) return ReportError(published.status());
  std::printf("published %s version %lld (%s policy) to %s\n", published->name.c_str(),
              static_cast<long long>(published->version), policy.c_str(), repo.c_str());
  if (!label.empty()) {
    auto moved =
        (*reg)->Promote(name, published->version, label, "bimride train pricing", "bimride");
    if (!moved.ok()) return ReportError(moved.status());
    std::printf("%s:%s -> version %lld\n", name.c_str(), label.c_str(),
                static_cast<long long>(published->version));
  }
  return cli::kExitOk;
}

}  // namespace bimride::tasks::pricing
