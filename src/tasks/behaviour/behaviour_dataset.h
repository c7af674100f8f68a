// Conversion rows from a simulated city's quote log: one row per quote shown, with the quote's
// own fields and the rider's history as known at quote time (only earlier quotes count), and
// the label "booked" (the rider accepted the quote).
//
// Features (kConversionFeatureNames, in this order):
//   price_ratio        quoted fare / the fare of the same trip at the reference tariff, no surge
//   log_fare           ln(quoted fare)
//   surge              surge multiplier shown
//   est_minutes, est_miles
//   hour, weekday      local time of the request (weekday 0 = Monday)
//   pickup_zone, dropoff_zone   (numbers: trees split on them)
//   rider_quotes       quotes the rider saw before this one
//   rider_bookings     quotes the rider accepted before this one
//   rider_accept_rate  (bookings + 1.7) / (quotes + 2): shrunk towards the city's usual ~0.85
//   rider_dear_accept  the same rate over the rider's earlier quotes at ≥ 1.3× the usual price
//   rider_recent_surge exponentially weighted mean of the surges the rider was shown (α 0.3)
//   days_since_booking days since the rider's last booking (capped at 60; 60 if none)
// Rider history is the same struct a served model's feature file carries (RiderHistory), so
// training and serving build a row with the same function.
// Thread safety: pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "models/tabular_data.h"
#include "simulator/simulator.h"

namespace bimride::tasks::behaviour {

inline constexpr int kConversionFeatures = 15;
inline constexpr std::array<const char*, kConversionFeatures> kConversionFeatureNames = {
    "price_ratio",       "log_fare",          "surge",
    "est_minutes",       "est_miles",         "hour",
    "weekday",           "pickup_zone",       "dropoff_zone",
    "rider_quotes",      "rider_bookings",    "rider_accept_rate",
    "rider_dear_accept", "rider_recent_surge", "days_since_booking"};

// What a rider's history says at a point in time.
struct RiderHistory {
  int32_t quotes = 0;
  int32_t bookings = 0;
  int32_t dear_quotes = 0;    // quotes at ≥ kDearPriceRatio × the usual price
  int32_t dear_bookings = 0;
  double recent_surge = 1.0;  // EWMA of surges shown
  int64_t last_booking_us = -1;

  // Adds one quote the rider answered.
  void Add(int64_t time_us, double price_ratio, double surge, bool booked);
};
// Retention features (behaviour_retention.h builds them; the serving spec reads them back).
inline constexpr int kRetentionFeatures = 11;
// The counts (quotes, bookings, dear declines, no driver) and the booking rate are over the last
// kRetentionWindowDays days before the cut-off.
inline constexpr int kRetentionWindowDays = 56;
inline constexpr std::array<const char*, kRetentionFeatures> kRetentionFeatureNames = {
    "quotes_last_56d", "bookings_last_56d", "booking_rate_56d",   "quotes_last_7d",
    "quotes_last_28d", "days_since_quote",  "days_since_booking", "dear_declines_56d",
    "no_driver_56d",   "tenure_days",       "recent_surge"};

inline constexpr double kDearPriceRatio = 1.3;

// The fields of a quote a model sees (what a client sends to the server).
struct QuoteFields {
  int64_t time_us = 0;
  int32_t pickup_zone = 0;
  int32_t dropoff_zone = 0;
  double estimated_miles = 0;
  double estimated_minutes = 0;
  double quoted_fare = 0;
};

// The fare of the trip at the reference tariff without surge (what riders consider usual).
double ReferenceFare(double estimated_miles, double estimated_minutes);

// One feature row (kConversionFeatures values) for a quote and the rider's history before it.
// `surge` is the quote's surge multiplier.
void ConversionFeatureRow(const QuoteFields& quote, double surge, const RiderHistory& history,
                          float* out);

struct ConversionRows {
  models::TabularData data;       // kConversionFeatures columns, target booked (0/1)
  std::vector<int32_t> day;       // days since the city's first day, per row
  std::vector<size_t> quote;      // index into city.quotes
};

// Every quote of the city in time order. InvalidArgument when the city has no quotes, or a
// quote names a rider the city does not have.
StatusOr<ConversionRows> BuildConversionRows(const simulator::SimulatedCity& city);

// The rider histories after every quote of the city before `end_us` (exclusive), by rider id
// (index = rider id; index 0 unused).
std::vector<RiderHistory> RiderHistoriesAt(const simulator::SimulatedCity& city, int64_t end_us);

// Rows whose day is in [begin_day, end_day).
models::TabularData SliceByDay(const ConversionRows& rows, int32_t begin_day, int32_t end_day);

}  // namespace bimride::tasks::behaviour
