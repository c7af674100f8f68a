#include "tasks/pricing/pricing_engine.h"

#include <algorithm>
#include <cmath>

namespace bimride::tasks::pricing {

std::string_view PricingPolicyName(PricingPolicy policy) {
  switch (policy) {
    case PricingPolicy::kStatic:
      return "static";
    case PricingPolicy::kRatio:
      return "ratio";
    case PricingPolicy::kForecast:
      return "forecast";
  }
  return "static";
}

std::string_view PricingObjectiveName(PricingObjective objective) {
  switch (objective) {
    case PricingObjective::kCompletedTrips:
      return "trips";
    case PricingObjective::kRevenue:
      return "revenue";
    case PricingObjective::kTripsAtRatioRevenue:
      return "trips-at-ratio-revenue";
    case PricingObjective::kTripsPlusRevenue:
      return "trips-plus-revenue";
  }
  return "trips";
}

StatusOr<PricingObjective> ParsePricingObjective(std::string_view name) {
  for (PricingObjective o :
       {PricingObjective::kCompletedTrips, PricingObjective::kRevenue,
        PricingObjective::kTripsAtRatioRevenue, PricingObjective::kTripsPlusRevenue}) {
    if (PricingObjectiveName(o) == name) return o;
  }
  return InvalidArgumentError(
      "unknown pricing objective '" + std::string(name) +
      "' (want trips, revenue, trips-at-ratio-revenue or trips-plus-revenue)");
}

StatusOr<PricingPolicy> ParsePricingPolicy(std::string_view name) {
  for (PricingPolicy p :
       {PricingPolicy::kStatic, PricingPolicy::kRatio, PricingPolicy::kForecast}) {
    if (PricingPolicyName(p) == name) return p;
  }
  return InvalidArgumentError("unknown pricing policy '" + std::string(name) +
                              "' (want static, ratio or forecast)");
}

double ConversionCurve::Probability(double price_ratio) const {
  const double x = intercept + slope * std::log(std::max(price_ratio, 1e-6));
  return 1.0 / (1.0 + std::exp(-x));
}

Status ValidatePricingConfig(const PricingConfig& c) {
  auto bad = [](const std::string& what) {
    return InvalidArgumentError("pricing config: " + what);
  };
  if (!(c.floor >= 1.0 && c.floor <= 10.0)) return bad("floor must be in 1..10");
  if (!(c.cap >= c.floor && c.cap <= 10.0)) return bad("cap must be in floor..10");
  if (!(c.max_step > 0 && c.max_step <= 10)) return bad("max step must be in (0, 10]");
  if (!(c.smoothing > 0 && c.smoothing <= 1)) return bad("smoothing must be in (0, 1]");
  if (!(c.ratio_gain >= 0 && c.ratio_gain <= 10)) return bad("ratio gain must be in 0..10");
  if (!(c.overflow_penalty >= 0 && c.overflow_penalty <= 10)) {
    return bad("overflow penalty must be in 0..10");
  }
  if (!(c.arriving_weight >= 0 && c.arriving_weight <= 1)) {
    return bad("arriving weight must be in 0..1");
  }
  if (!(c.revenue_tolerance >= 0 && c.revenue_tolerance <= 1)) {
    return bad("revenue tolerance must be in 0..1");
  }
  if (!(c.revenue_weight >= 0 && c.revenue_weight <= 100)) {
    return bad("revenue weight must be in 0..100");
  }
  if (!(c.neighbour_weight >= 0 && c.neighbour_weight <= 1)) {
    return bad("neighbour weight must be in 0..1");
  }
  if (!std::isfinite(c.conversion.intercept) || !(c.conversion.slope <= 0)) {
    return bad("conversion curve must be finite with a slope <= 0 (dearer never converts more)");
  }
  return OkStatus();
}

double ExpectedCompletedTrips(const PricingConfig& c, const ZoneSignal& s, double m) {
  const double supply = s.idle_drivers + c.arriving_weight * s.arriving_drivers +
                        c.neighbour_weight * s.neighbour_idle;
  const double bookings = std::max(s.forecast_requests, 0.0) * c.conversion.Probability(m);
  return std::min(bookings, supply) - c.overflow_penalty * std::max(0.0, bookings - supply);
}

double RatioMultiplierWithin(const PricingConfig& c, const ZoneSignal& s) {
  PricingConfig ratio = c;
  ratio.policy = PricingPolicy::kRatio;
  // On the forecast policy's 0.05 grid, so the ratio multiplier is always one it may choose.
  const double m = std::clamp(RawMultiplier(ratio, s), c.floor, c.cap);
  return std::min(c.cap, c.floor + 0.05 * std::ceil((m - c.floor) / 0.05 - 1e-9));
}

double RawMultiplier(const PricingConfig& c, const ZoneSignal& s) {
  switch (c.policy) {
    case PricingPolicy::kStatic:
      return c.floor;
    case PricingPolicy::kRatio: {
      if (s.open_requests <= 0) return c.floor;
      const double ratio = s.open_requests / std::max(s.idle_drivers, 1.0);
      return 1.0 + c.ratio_gain * (ratio - 1.0);
    }
    case PricingPolicy::kForecast: {
      const int steps = static_cast<int>(std::floor((c.cap - c.floor) / 0.05 + 1e-9));
      double best_trips = -1e300;
      for (int k = 0; k <= steps; ++k)
        best_trips = std::max(best_trips, ExpectedCompletedTrips(c, s, c.floor + 0.05 * k));
      double threshold = -1e300;      // the least expected trips a multiplier may give
      double revenue_floor = -1e300;  // the least expected revenue (trips × multiplier)
      switch (c.objective) {
        case PricingObjective::kCompletedTrips:
          // Revenue among the multipliers that give up at most revenue_tolerance of the best
          // completed trips.
          threshold = best_trips - c.revenue_tolerance * std::fabs(best_trips) - 1e-9;
          break;
        case PricingObjective::kRevenue:
          break;
        case PricingObjective::kTripsAtRatioRevenue: {
          const double m_ratio = RatioMultiplierWithin(c, s);
          revenue_floor = m_ratio * ExpectedCompletedTrips(c, s, m_ratio) - 1e-9;
          break;
        }
        case PricingObjective::kTripsPlusRevenue:
          break;
      }
      const bool by_revenue =
          c.objective == PricingObjective::kRevenue ||
          (c.objective == PricingObjective::kCompletedTrips && c.revenue_tolerance > 0);
      // Ties: the lower multiplier.
      double best_m = c.floor, best_value = -1e300;
      for (int k = 0; k <= steps; ++k) {
        const double m = c.floor + 0.05 * k;
        const double trips = ExpectedCompletedTrips(c, s, m);
        if (trips < threshold || m * trips < revenue_floor) continue;
        const double value = c.objective == PricingObjective::kTripsPlusRevenue
                                 ? trips * (1.0 + c.revenue_weight * m)
                             : by_revenue ? m * trips
                                          : trips;
        if (value > best_value + 1e-9) best_value = value, best_m = m;
      }
      return best_m;
    }
  }
  return c.floor;
}

double GuardedMultiplier(const PricingConfig& c, double previous, double raw) {
  double m = c.smoothing * raw + (1.0 - c.smoothing) * previous;
  m = std::clamp(m, previous - c.max_step, previous + c.max_step);
  m = std::clamp(m, c.floor, c.cap);
  return std::round(m * 100.0) / 100.0;
}

const std::vector<double>& PricingEngine::Step(const std::vector<ZoneSignal>& signals,
                                               bool enabled) {
  multipliers_.resize(signals.size(), config_.floor);
  for (size_t z = 0; z < signals.size(); ++z) {
    multipliers_[z] =
        enabled ? GuardedMultiplier(config_, multipliers_[z], RawMultiplier(config_, signals[z]))
                : config_.floor;
  }
  return multipliers_;
}

}  // namespace bimride::tasks::pricing
