// ETA evaluation: overall metrics (RMSE, MAE, RMSLE, MAPE, …, train/metrics.h conventions), a
// breakdown by pickup hour and by trip-length band, and plain-text tables for comparing
// models on the same rows. Thread safety: pure functions.
#pragma once

#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "data/trip_table.h"
#include "train/metrics.h"

namespace bimride::tasks::eta {

struct EtaEvaluation {
  train::Metrics overall;
  std::map<int64_t, train::Metrics> by_hour;    // pickup hour 0..23
  std::map<int64_t, train::Metrics> by_length;  // TripLengthBand
  std::map<int64_t, train::Metrics> by_pickup_zone;  // TLC zone id (0: unknown)
};

// `trips` are the evaluated rows (predicted.size() == actual.size() == trips.size()). The length
// band uses the metered distance, or the straight line when the source has no meter.
EtaEvaluation EvaluateEta(std::span<const float> predicted, std::span<const float> actual,
                          const data::TripTable& trips);

using NamedEvaluation = std::pair<std::string, EtaEvaluation>;
// MODEL  ROWS  RMSE  MAE  RMSLE  MAPE  BIAS — one row per model.
std::string FormatComparisonTable(const std::vector<NamedEvaluation>& models);
// RMSE per hour (rows) and model (columns), with the row count of each hour.
std::string FormatHourBreakdown(const std::vector<NamedEvaluation>& models);
// RMSE per trip-length band and model.
std::string FormatLengthBreakdown(const std::vector<NamedEvaluation>& models);
// `zone,rows,mae,rmse,bias` per pickup zone (known zones), minutes: the table the console's city
// map reads as a per-zone series (`bimride console series --csv … `, docs/console.md).
std::string FormatZoneErrorsCsv(const EtaEvaluation& evaluation);

}  // namespace bimride::tasks::eta
