#include "tasks/pricing/market_study.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "common/civil_time.h"
#include "common/file.h"
#include "simulator/simulator.h"
#include "tasks/behaviour/behaviour_conversion.h"

namespace bimride::tasks::pricing {

StatusOr<features::DemandBaselines> LearnDemandForecast(const MarketConfig& config,
                                                        int64_t history_days) {
  if (history_days < 7) {
    return InvalidArgumentError(
        "demand forecast: want at least 7 history days (every weekday), "
        "got " +
        std::to_string(history_days));
  }
  ASSIGN_OR_RETURN(const int64_t start, ParseCivil(config.city.start_date));
  MarketConfig h = config;
  h.city.days = history_days;
  h.city.start_date = FormatCivil(start - history_days * kMicrosPerDay).substr(0, 10);
  h.seed = config.seed + 1'000'003;  // never an evaluation seed of the study
  h.pricing.policy = PricingPolicy::kStatic;
  h.forecast = nullptr;
  h.outage_start_us = -1;
  h.keep_requests = false;
  ASSIGN_OR_RETURN(MarketResult history, SimulateMarket(h));
  return DemandForecastFromRun(history);
}

StatusOr<ConversionCurve> LearnConversionCurve(const MarketConfig& config) {
  simulator::CityConfig city = config.city;
  city.days = 28;
  city.tariff = simulator::Tariff();
  city.price_test_fraction = 0.2;
  city.seed = config.city.seed + 2'000'003;
  ASSIGN_OR_RETURN(simulator::SimulatedCity sim, simulator::Simulate(city));
  behaviour::ConversionOptions o;
  o.learned = {};
  o.train_days = 21;
  ASSIGN_OR_RETURN(behaviour::ConversionResult r, behaviour::TrainConversionModels(sim, o));
  if (r.logistic_price_coef.size() != 2) {
    return InternalError("conversion curve: the behaviour task gave no logistic price model");
  }
  return ConversionCurve{r.logistic_price_coef[0], r.logistic_price_coef[1]};
}

double Quantile(std::vector<float> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(pos);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

PolicySummary Summarise(const MarketResult& r, double driver_share) {
  PolicySummary s;
  s.requests = static_cast<double>(r.requests);
  s.completed = static_cast<double>(r.completed);
  s.bookings = static_cast<double>(r.bookings);
  s.completion_rate = r.CompletionRate();
  s.trips_per_quote = r.TripsPerQuote();
  s.revenue = r.revenue;
  s.wait_p50 = Quantile(r.waits, 0.5);
  s.wait_p90 = Quantile(r.waits, 0.9);
  s.cancellations = static_cast<double>(r.cancelled);
  s.no_driver = static_cast<double>(r.no_driver);
  s.utilisation = r.Utilisation();
  s.earnings_per_hour =
      r.driver_online_hours > 0 ? driver_share * r.revenue / r.driver_online_hours : 0;
  s.rider_surplus = r.rider_surplus;
  s.spike_completion_rate = r.SpikeCompletionRate();
  return s;
}

std::string FormatSummaryHeader() {
  char line[512];
  std::snprintf(line, sizeof line, "%-10s %9s %9s %7s %11s %6s %6s %7s %7s %6s %8s %11s %7s",
                "policy", "requests", "completed", "compl", "revenue", "w_p50", "w_p90", "cancel",
                "nodrv", "util", "earn/h", "surplus", "spike");
  return line;
}

std::string FormatSummaryRow(const std::string& name, const PolicySummary& s) {
  char line[512];
  std::snprintf(line, sizeof line,
                "%-10s %9.0f %9.0f %7.4f %11.0f %6.2f %6.2f %7.0f %7.0f %6.3f %8.2f %11.0f %7.4f",
                name.c_str(), s.requests, s.completed, s.completion_rate, s.revenue, s.wait_p50,
                s.wait_p90, s.cancellations, s.no_driver, s.utilisation, s.earnings_per_hour,
                s.rider_surplus, s.spike_completion_rate);
  return line;
}

Status WriteIntervalsCsv(const MarketResult& r, const std::string& path) {
  std::string out =
      "interval_start,requests,bookings,completed,cancelled,no_driver,mean_wait,online,idle,"
      "mean_multiplier\n";
  char line[256];
  for (size_t i = 0; i < r.intervals.size(); ++i) {
    const IntervalStats& s = r.intervals[i];
    std::snprintf(
        line, sizeof line, "%s,%d,%d,%d,%d,%d,%.2f,%d,%d,%.3f\n",
        FormatCivil(r.start_us + static_cast<int64_t>(i) * kIntervalMinutes * kMicrosPerMinute)
            .c_str(),
        s.requests, s.bookings, s.completed, s.cancelled, s.no_driver,
        s.completed ? s.wait_sum / static_cast<float>(s.completed) : 0.0f, s.online, s.idle,
        s.mean_multiplier);
    out += line;
  }
  return WriteFileAtomic(path, out);
}

Status WriteZoneHourCsv(const MarketResult& r, const std::string& path) {
  if (r.requests_log.size() != static_cast<size_t>(r.requests)) {
    return FailedPreconditionError("zone-hour breakdown for " + path +
                                   ": the run kept no request log (keep_requests)");
  }
  struct Cell {
    int64_t quotes = 0, bookings = 0, completed = 0, cancelled = 0, no_driver = 0;
    double multiplier_sum = 0;
  };
  std::map<std::pair<int32_t, int>, Cell> cells;
  for (const RequestRecord& q : r.requests_log) {
    Cell& c = cells[{q.zone, HourOfDay(q.time_us)}];
    ++c.quotes;
    c.multiplier_sum += q.multiplier;
    c.bookings += q.outcome != RequestOutcome::kDeclined;
    c.completed += q.outcome == RequestOutcome::kCompleted;
    c.cancelled += q.outcome == RequestOutcome::kCancelled;
    c.no_driver += q.outcome == RequestOutcome::kNoDriver;
  }
  std::string out = "zone,hour,quotes,mean_multiplier,bookings,completed,cancelled,no_driver\n";
  char line[160];
  for (const auto& [key, c] : cells) {
    std::snprintf(line, sizeof line, "%d,%d,%lld,%.4f,%lld,%lld,%lld,%lld\n", key.first, key.second,
                  static_cast<long long>(c.quotes),
                  c.multiplier_sum / static_cast<double>(c.quotes),
                  static_cast<long long>(c.bookings), static_cast<long long>(c.completed),
                  static_cast<long long>(c.cancelled), static_cast<long long>(c.no_driver));
    out += line;
  }
  return WriteFileAtomic(path, out);
}

}  // namespace bimride::tasks::pricing
