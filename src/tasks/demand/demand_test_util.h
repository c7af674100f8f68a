// Shared fixtures of the demand task's tests: a synthetic city of Poisson counts and fast
// training options. Label: unit (no outside data).
#pragma once

#include <cmath>
#include <filesystem>
#include <random>
#include <vector>

#include "common/civil_time.h"
#include "features/demand_grid.h"
#include "tasks/demand/demand_models.h"
#include "train/trainer.h"

namespace bimride::tasks::demand::testing {

using features::DemandGrid;

inline int64_t T(const char* text) { return *ParseCivil(text); }

// Five weeks of hourly Poisson counts for 4 zones from Monday 2021-03-01: a daily profile,
// busier weekdays, zone sizes 0.3 … 6 pickups an hour.
inline DemandGrid SyntheticGrid(uint32_t seed = 5) {
  const int64_t buckets = 35 * 24;
  std::mt19937 rng(seed);
  const double size[] = {0.3, 1.0, 2.5, 6.0};
  std::vector<float> counts;
  for (int z = 0; z < 4; ++z) {
    for (int64_t b = 0; b < buckets; ++b) {
      const int hour = static_cast<int>(b % 24), weekday = static_cast<int>(b / 24 % 7);
      const double rate =
          size[z] * (1 + 0.8 * std::sin((hour - 6) * M_PI / 12)) * (weekday < 5 ? 1.2 : 0.7);
      counts.push_back(static_cast<float>(std::poisson_distribution<int>(rate)(rng)));
    }
  }
  return *DemandGrid::FromCounts(60, T("2021-03-01"), {4, 7, 9, 12}, buckets, counts);
}

inline DemandTrainOptions FastOptions() {
  DemandTrainOptions o;
  o.valid_days = 4;
  o.threads = 1;
  // The synthetic city is stationary: no level shifts to augment, forecast the mean.
  o.level_augment_sigma = 0;
  o.target_shrink = 0;
  o.xgboost.rounds = 40;
  o.xgboost.max_depth = 4;
  o.torch.epochs = 40;
  o.torch.batch_size = 64;
  o.torch.learning_rate = 3e-3;
  o.torch.hidden_sizes = {16};
  o.torch.ensemble = 2;
  o.work_dir = (std::filesystem::temp_directory_path() / "demand_task_test").string();
  return o;
}

// The learned kinds whose trainer this build has (a build without LibTorch or XGBoost tests
// the rest).
inline std::vector<DemandModelKind> LearnedKindsInThisBuild() {
  std::vector<DemandModelKind> kinds;
  for (DemandModelKind k : {DemandModelKind::kXgboost, DemandModelKind::kTorch}) {
    if (train::HasTrainer(DemandTrainerKind(k))) kinds.push_back(k);
  }
  return kinds;
}

}  // namespace bimride::tasks::demand::testing
