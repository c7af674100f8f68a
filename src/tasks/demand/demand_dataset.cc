#include "tasks/demand/demand_dataset.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "common/civil_time.h"

namespace bimride::tasks::demand {
namespace {

using features::DemandBaselines;
using features::DemandFeatures;
using features::DemandGrid;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Appends rows for every zone and the origins [begin, end) with the given baselines.
Status AppendRows(const DemandGrid& grid, const DemandFeatures& features,
                  const DemandBaselines& baselines, int64_t begin, int64_t end, DemandRows* rows) {
  const int f = features.num_features();
  const int horizons = features.config().horizons;
  models::TabularData& d = rows->data;
  for (size_t z = 0; z < grid.num_zones(); ++z) {
    for (int64_t a = begin; a < end; ++a) {
      const size_t at = d.features.size();
      d.features.resize(at + f);
      RETURN_IF_ERROR(
          features.ComputeFromGrid(baselines, grid, z, grid.BucketStart(a + 1), &d.features[at]));
      for (int h = 1; h <= horizons; ++h) {
        d.targets.push_back(a + h < grid.num_buckets() ? grid.count(z, a + h) : kNaN);
      }
      rows->zone_pos.push_back(static_cast<int32_t>(z));
      rows->origin.push_back(a);
      ++d.rows;
    }
  }
  return OkStatus();
}

DemandRows EmptyRows(const DemandFeatures& features) {
  DemandRows rows;
  rows.data.num_features = features.num_features();
  rows.data.num_outputs = features.config().horizons;
  return rows;
}

}  // namespace

StatusOr<DemandRows> BuildForecastRows(const DemandGrid& grid, const DemandFeatures& features,
                                       const DemandBaselines& baselines, int64_t origin_begin,
                                       int64_t origin_end) {
  if (origin_end <= origin_begin) {
    return InvalidArgumentError("demand rows: no forecast origin in the period");
  }
  DemandRows rows = EmptyRows(features);
  const size_t per_row = static_cast<size_t>(origin_end - origin_begin) * grid.num_zones();
  rows.data.features.reserve(per_row * features.num_features());
  RETURN_IF_ERROR(AppendRows(grid, features, baselines, origin_begin, origin_end, &rows));
  return rows;
}

StatusOr<DemandRows> BuildTrainingRows(const DemandGrid& grid, const DemandFeatures& features,
                                       int64_t begin, int64_t end,
                                       const features::WeatherTable* weather,
                                       TrainingBaselines mode, const DemandGrid* rows_grid) {
  if (rows_grid != nullptr &&
      (rows_grid->zones() != grid.zones() || rows_grid->num_buckets() != grid.num_buckets() ||
       rows_grid->start_us() != grid.start_us())) {
    return InvalidArgumentError("demand training rows: rows grid differs from the grid");
  }
  const DemandGrid& source = rows_grid != nullptr ? *rows_grid : grid;
  const int64_t week = features.history_buckets();
  const int horizons = features.config().horizons;
  begin = std::max<int64_t>(begin, 0);
  end = std::min(end, grid.num_buckets());
  const int64_t first = std::max(begin - 1, week - 1);  // origins: history in the grid
  const int64_t last = end - 1 - horizons;              // origins: targets before `end`
  if (last < first) {
    return InvalidArgumentError("demand training rows: the period [" +
                                FormatCivil(grid.BucketStart(begin)) + ", " +
                                FormatCivil(grid.BucketStart(end)) +
                                ") has no origin with a week of history before it and " +
                                std::to_string(horizons) + " buckets after it");
  }
  DemandRows rows = EmptyRows(features);
  rows.data.features.reserve(static_cast<size_t>(last - first + 1) * grid.num_zones() *
                             features.num_features());
  // Folds of 7 days from `begin`, by the bucket after the origin (the first target).
  for (int64_t fold_begin = begin; fold_begin < end; fold_begin += week) {
    const int64_t fold_end = std::min(fold_begin + week, end);
    const int64_t o_begin = std::max(first, fold_begin - 1);
    const int64_t o_end = std::min(last + 1, fold_end - 1);
    if (o_end <= o_begin) continue;
    ASSIGN_OR_RETURN(
        DemandBaselines fold_baselines,
        mode == TrainingBaselines::kOutOfFold
            ? features::ComputeDemandBaselines(grid, begin, end, fold_begin, fold_end + horizons,
                                               weather)
            : features::ComputeDemandBaselines(grid, begin, fold_begin, 0, 0, weather));
    RETURN_IF_ERROR(AppendRows(source, features, fold_baselines, o_begin, o_end, &rows));
  }
  return rows;
}

DemandGrid LevelAugmentedGrid(const DemandGrid& grid, double sigma, double rho, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0, 1);
  std::vector<float> counts = grid.counts();
  const int64_t per_day = grid.buckets_per_day();
  const int64_t days = (grid.num_buckets() + per_day - 1) / per_day;
  for (size_t z = 0; z < grid.num_zones(); ++z) {
    double e = normal(rng);
    for (int64_t d = 0; d < days; ++d) {
      if (d > 0) e = rho * e + std::sqrt(1 - rho * rho) * normal(rng);
      const float k = static_cast<float>(std::exp(sigma * e));
      for (int64_t b = d * per_day; b < std::min((d + 1) * per_day, grid.num_buckets()); ++b) {
        counts[z * grid.num_buckets() + b] *= k;
      }
    }
  }
  return *DemandGrid::FromCounts(grid.bucket_minutes(), grid.start_us(), grid.zones(),
                                 grid.num_buckets(), std::move(counts));
}

DemandRows TakeRows(const DemandRows& rows, const std::vector<int64_t>& indices) {
  DemandRows out;
  const int f = rows.data.num_features, o = rows.data.num_outputs;
  out.data.num_features = f;
  out.data.num_outputs = o;
  out.data.rows = static_cast<int64_t>(indices.size());
  out.data.features.reserve(indices.size() * f);
  out.data.targets.reserve(indices.size() * o);
  for (int64_t i : indices) {
    out.data.features.insert(out.data.features.end(), rows.data.features.begin() + i * f,
                             rows.data.features.begin() + (i + 1) * f);
    out.data.targets.insert(out.data.targets.end(), rows.data.targets.begin() + i * o,
                            rows.data.targets.begin() + (i + 1) * o);
    out.zone_pos.push_back(rows.zone_pos[i]);
    out.origin.push_back(rows.origin[i]);
  }
  return out;
}

}  // namespace bimride::tasks::demand
