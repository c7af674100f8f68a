#include "tasks/behaviour/behaviour_dataset.h"

#include <algorithm>
#include <cmath>

#include "common/civil_time.h"
#include "simulator/city_model.h"

namespace bimride::tasks::behaviour {

void RiderHistory::Add(int64_t time_us, double price_ratio, double surge, bool booked) {
  ++quotes;
  if (booked) {
    ++bookings;
    last_booking_us = time_us;
  }
  if (price_ratio >= kDearPriceRatio) {
    ++dear_quotes;
    if (booked) ++dear_bookings;
  }
  recent_surge = 0.7 * recent_surge + 0.3 * surge;
}

double ReferenceFare(double estimated_miles, double estimated_minutes) {
  const simulator::Tariff reference;
  return simulator::Fare(reference, estimated_miles / simulator::kMilesPerKm, estimated_minutes,
                         1.0);
}

void ConversionFeatureRow(const QuoteFields& q, double surge, const RiderHistory& h, float* out) {
  const double reference = ReferenceFare(q.estimated_miles, q.estimated_minutes);
  const double days_since =
      h.last_booking_us < 0
          ? 60.0
          : std::min(60.0, static_cast<double>(q.time_us - h.last_booking_us) /
                               static_cast<double>(kMicrosPerDay));
  out[0] = static_cast<float>(reference > 0 ? q.quoted_fare / reference : 1.0);
  out[1] = static_cast<float>(std::log(std::max(q.quoted_fare, 0.01)));
  out[2] = static_cast<float>(surge);
  out[3] = static_cast<float>(q.estimated_minutes);
  out[4] = static_cast<float>(q.estimated_miles);
  out[5] = static_cast<float>(HourOfDay(q.time_us));
  out[6] = static_cast<float>(DayOfWeek(q.time_us));
  out[7] = static_cast<float>(q.pickup_zone);
  out[8] = static_cast<float>(q.dropoff_zone);
  out[9] = static_cast<float>(h.quotes);
  out[10] = static_cast<float>(h.bookings);
  out[11] = static_cast<float>((h.bookings + 1.7) / (h.quotes + 2.0));
  out[12] = static_cast<float>((h.dear_bookings + 1.4) / (h.dear_quotes + 2.0));
  out[13] = static_cast<float>(h.recent_surge);
  out[14] = static_cast<float>(days_since);
}

namespace {

QuoteFields FieldsOf(const simulator::QuoteRecord& q) {
  QuoteFields f;
  f.time_us = q.request_time_us;
  f.pickup_zone = q.pickup_zone;
  f.dropoff_zone = q.dropoff_zone;
  f.estimated_miles = q.estimated_miles;
  f.estimated_minutes = q.estimated_minutes;
  f.quoted_fare = q.quoted_fare;
  return f;
}

double PriceRatio(const simulator::QuoteRecord& q) {
  const double reference = ReferenceFare(q.estimated_miles, q.estimated_minutes);
  return reference > 0 ? q.quoted_fare / reference : 1.0;
}

}  // namespace

StatusOr<ConversionRows> BuildConversionRows(const simulator::SimulatedCity& city) {
  if (city.quotes.empty()) return InvalidArgumentError("conversion rows: the city has no quotes");
  if (city.days.empty()) return InvalidArgumentError("conversion rows: the city has no days");
  const int64_t first_day = city.days.front().day_start_us;
  std::vector<RiderHistory> history(city.riders.size() + 1);
  ConversionRows rows;
  const size_t n = city.quotes.size();
  rows.data.rows = static_cast<int64_t>(n);
  rows.data.num_features = kConversionFeatures;
  rows.data.features.resize(n * kConversionFeatures);
  rows.data.targets.resize(n);
  rows.day.resize(n);
  rows.quote.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const simulator::QuoteRecord& q = city.quotes[i];
    if (q.rider_id < 1 || q.rider_id > static_cast<int64_t>(city.riders.size())) {
      return InvalidArgumentError("conversion rows: quote " + std::to_string(i + 1) +
                                  " names rider " + std::to_string(q.rider_id) +
                                  ", the city has riders 1.." +
                                  std::to_string(city.riders.size()));
    }
    RiderHistory& h = history[static_cast<size_t>(q.rider_id)];
    ConversionFeatureRow(FieldsOf(q), q.surge, h, rows.data.features.data() + i * kConversionFeatures);
    rows.data.targets[i] = q.accepted ? 1.0f : 0.0f;
    rows.day[i] = static_cast<int32_t>((q.request_time_us - first_day) / kMicrosPerDay);
    rows.quote[i] = i;
    h.Add(q.request_time_us, PriceRatio(q), q.surge, q.accepted);
  }
  return rows;
}

std::vector<RiderHistory> RiderHistoriesAt(const simulator::SimulatedCity& city, int64_t end_us) {
  std::vector<RiderHistory> history(city.riders.size() + 1);
  for (const simulator::QuoteRecord& q : city.quotes) {
    if (q.request_time_us >= end_us) break;
    if (q.rider_id < 1 || q.rider_id > static_cast<int64_t>(city.riders.size())) continue;
    history[static_cast<size_t>(q.rider_id)].Add(q.request_time_us, PriceRatio(q), q.surge,
                                                 q.accepted);
  }
  return history;
}

models::TabularData SliceByDay(const ConversionRows& rows, int32_t begin_day, int32_t end_day) {
  models::TabularData out;
  out.num_features = rows.data.num_features;
  out.num_outputs = 1;
  for (int64_t r = 0; r < rows.data.rows; ++r) {
    if (rows.day[r] < begin_day || rows.day[r] >= end_day) continue;
    out.features.insert(out.features.end(), rows.data.features.begin() + r * out.num_features,
                        rows.data.features.begin() + (r + 1) * out.num_features);
    out.targets.push_back(rows.data.targets[r]);
    ++out.rows;
  }
  return out;
}

}  // namespace bimride::tasks::behaviour
