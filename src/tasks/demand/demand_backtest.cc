#include "tasks/demand/demand_backtest.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "common/civil_time.h"

namespace bimride::tasks::demand {
namespace {

using features::DemandGrid;

std::string Fixed(double v, int digits) {
  if (!std::isfinite(v)) return "–";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

StatusOr<int64_t> BucketAt(const DemandGrid& grid, int64_t t, const char* what) {
  if ((t - grid.start_us()) % grid.bucket_us() != 0) {
    return InvalidArgumentError(std::string("demand backtest: ") + what + " " + FormatCivil(t) +
                                " is not on a bucket boundary");
  }
  const int64_t b = grid.BucketOf(t);
  if (b < 0 || b > grid.num_buckets()) {
    return InvalidArgumentError(std::string("demand backtest: ") + what + " " + FormatCivil(t) +
                                " is outside the grid [" + FormatCivil(grid.start_us()) + ", " +
                                FormatCivil(grid.end_us()) + ")");
  }
  return b;
}

std::string Period(int64_t begin, int64_t end) {
  return "[" + FormatCivil(begin) + ", " + FormatCivil(end) + ")";
}

// Zones ranked and flagged for scoring, from the training period [tb, te).
struct ZoneSets {
  std::vector<int32_t> busiest;
  std::vector<char> is_busiest, has_volume;
  std::map<int32_t, double> training_mean;
  int64_t volume_zones = 0;
};

ZoneSets RankZones(const DemandGrid& grid, int64_t tb, int64_t te, int busiest_zones,
                   double smape_min_mean) {
  ZoneSets zs;
  zs.is_busiest.assign(grid.num_zones(), 0);
  zs.has_volume.assign(grid.num_zones(), 0);
  std::vector<std::pair<double, int>> by_volume;
  for (size_t z = 0; z < grid.num_zones(); ++z) {
    const double mean = grid.ZoneTotal(z, tb, te) / static_cast<double>(te - tb);
    zs.training_mean[grid.zones()[z]] = mean;
    by_volume.push_back({-mean, static_cast<int>(z)});
    if (mean >= smape_min_mean) zs.has_volume[z] = 1, ++zs.volume_zones;
  }
  std::sort(by_volume.begin(), by_volume.end());
  for (int i = 0; i < std::min<int>(busiest_zones, static_cast<int>(by_volume.size())); ++i) {
    zs.is_busiest[by_volume[i].second] = 1;
    zs.busiest.push_back(grid.zones()[by_volume[i].second]);
  }
  return zs;
}

DemandModelScores Score(const TrainedDemandModel& model, const DemandGrid& grid,
                        const DemandRows& rows, const std::vector<float>& pred, int64_t sb,
                        int64_t se, const ZoneSets& zs) {
  const int horizons = model.config.horizons;
  DemandModelScores scores;
  scores.kind = model.kind;
  scores.name = std::string(DemandModelName(model.kind));
  scores.train_info = model.train_info;
  for (int h = 1; h <= horizons; ++h) {
    std::vector<float> p_all, y_all, p_busy, y_busy, p_vol, y_vol;
    std::vector<int64_t> zone_of_busy;
    for (int64_t r = 0; r < rows.data.rows; ++r) {
      const int64_t s = rows.origin[r] + h;
      if (s < sb || s >= se) continue;
      const int z = rows.zone_pos[r];
      const float p = pred[r * horizons + h - 1], y = grid.count(z, s);
      p_all.push_back(p);
      y_all.push_back(y);
      if (zs.is_busiest[z]) {
        p_busy.push_back(p);
        y_busy.push_back(y);
        zone_of_busy.push_back(grid.zones()[z]);
      }
      if (zs.has_volume[z]) {
        p_vol.push_back(p);
        y_vol.push_back(y);
      }
    }
    DemandHorizonScores hs;
    hs.horizon = h;
    hs.all = train::ComputeMetrics(p_all, y_all);
    hs.busiest = train::ComputeMetrics(p_busy, y_busy);
    hs.volume = train::ComputeMetrics(p_vol, y_vol);
    scores.horizons.push_back(hs);
    if (h == 1) {
      for (const auto& [zone, m] : train::ComputeGroupedMetrics(p_busy, y_busy, zone_of_busy)) {
        scores.busiest_zone_h1[static_cast<int32_t>(zone)] = m;
      }
    }
  }
  return scores;
}

// Test buckets and forecast rows reaching them (origins a = s − h for every test bucket s).
struct TestSetup {
  int64_t tb, te, sb, se;
  DemandRows rows;
};

StatusOr<TestSetup> SetUpTest(const DemandGrid& grid, const features::WeatherTable* weather,
                              const features::DemandFeatureConfig& config, int64_t train_begin_us,
                              int64_t train_end_us, int64_t test_begin_us, int64_t test_end_us) {
  TestSetup t;
  ASSIGN_OR_RETURN(t.tb, BucketAt(grid, train_begin_us, "training start"));
  ASSIGN_OR_RETURN(t.te, BucketAt(grid, train_end_us, "training end"));
  ASSIGN_OR_RETURN(t.sb, BucketAt(grid, test_begin_us, "test start"));
  ASSIGN_OR_RETURN(t.se, BucketAt(grid, test_end_us, "test end"));
  if (t.te <= t.tb || t.se <= t.sb) return InvalidArgumentError("demand backtest: an empty period");
  if (t.sb < t.te) {
    return InvalidArgumentError("demand backtest: the test period " +
                                Period(test_begin_us, test_end_us) +
                                " starts before the training period ends");
  }
  ASSIGN_OR_RETURN(features::DemandFeatures feats,
                   features::DemandFeatures::Create(config, weather));
  if (t.sb - config.horizons - feats.history_buckets() + 1 < 0) {
    return InvalidArgumentError(
        "demand backtest: the grid has less than a week of counts before "
        "the first test forecast");
  }
  ASSIGN_OR_RETURN(features::DemandBaselines full_baselines,
                   features::ComputeDemandBaselines(grid, t.tb, t.te, 0, 0, weather));
  ASSIGN_OR_RETURN(
      t.rows, BuildForecastRows(grid, feats, full_baselines, t.sb - config.horizons, t.se - 1));
  return t;
}

}  // namespace

const DemandModelScores* DemandBacktest::Find(DemandModelKind kind) const {
  for (const DemandModelScores& m : models) {
    if (m.kind == kind) return &m;
  }
  return nullptr;
}

StatusOr<DemandModelScores> ScoreDemandModel(const TrainedDemandModel& model,
                                             const DemandGrid& grid,
                                             const features::WeatherTable* weather,
                                             int64_t test_begin_us, int64_t test_end_us,
                                             int busiest_zones, double smape_min_mean) {
  ASSIGN_OR_RETURN(TestSetup t,
                   SetUpTest(grid, weather, model.config, model.baselines.train_begin_us,
                             model.baselines.train_end_us, test_begin_us, test_end_us));
  const ZoneSets zs = RankZones(grid, t.tb, t.te, busiest_zones, smape_min_mean);
  ASSIGN_OR_RETURN(std::vector<float> pred, model.Predict(grid, t.rows));
  return Score(model, grid, t.rows, pred, t.sb, t.se, zs);
}

StatusOr<DemandBacktest> RunDemandBacktest(const DemandGrid& grid,
                                           const features::WeatherTable* weather,
                                           const DemandBacktestOptions& options,
                                           const DemandProgress& progress,
                                           const DemandBacktestLog& log) {
  if (options.models.empty()) return InvalidArgumentError("demand backtest: no model to run");
  ASSIGN_OR_RETURN(TestSetup t,
                   SetUpTest(grid, weather, options.train.features, options.train_begin_us,
                             options.train_end_us, options.test_begin_us, options.test_end_us));
  const ZoneSets zs = RankZones(grid, t.tb, t.te, options.busiest_zones, options.smape_min_mean);
  DemandBacktest bt;
  bt.zones = static_cast<int64_t>(grid.num_zones());
  bt.test_buckets = t.se - t.sb;
  bt.bucket_minutes = grid.bucket_minutes();
  bt.horizons = options.train.features.horizons;
  bt.train_period = Period(options.train_begin_us, options.train_end_us);
  bt.test_period = Period(options.test_begin_us, options.test_end_us);
  bt.busiest = zs.busiest;
  bt.training_mean = zs.training_mean;
  bt.volume_zones = zs.volume_zones;
  double test_sum = 0;
  for (size_t z = 0; z < grid.num_zones(); ++z) test_sum += grid.ZoneTotal(z, t.sb, t.se);
  bt.test_mean = test_sum / static_cast<double>(bt.zones * bt.test_buckets);

  for (DemandModelKind kind : options.models) {
    const auto start = std::chrono::steady_clock::now();
    if (log) log("training " + std::string(DemandModelName(kind)) + " on " + bt.train_period);
    ASSIGN_OR_RETURN(TrainedDemandModel model,
                     TrainDemandModel(kind, grid, weather, t.tb, t.te, options.train, progress));
    ASSIGN_OR_RETURN(std::vector<float> pred, model.Predict(grid, t.rows));
    if (!model.artifact_dir.empty()) {  // scratch model files: the backtest keeps none
      std::error_code ignored;
      std::filesystem::remove_all(model.artifact_dir, ignored);
    }
    DemandModelScores scores = Score(model, grid, t.rows, pred, t.sb, t.se, zs);
    scores.train_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (log) {
      log(scores.name + ": h=1 WAPE " + Fixed(scores.horizons[0].all.wape, 3) + " RMSE " +
          Fixed(scores.horizons[0].all.rmse, 3) + "; h=" + std::to_string(bt.horizons) + " WAPE " +
          Fixed(scores.horizons.back().all.wape, 3) + " RMSE " +
          Fixed(scores.horizons.back().all.rmse, 3) + " (" + Fixed(scores.train_seconds, 1) +
          " s)");
    }
    bt.models.push_back(std::move(scores));
  }
  return bt;
}

std::string DemandBacktest::ToMarkdown(const std::map<int32_t, std::string>& zone_names) const {
  std::string md;
  md += "Training " + train_period + ", test " + test_period + "; " +
        std::to_string(bucket_minutes) + "-minute buckets; " + std::to_string(zones) +
        " zones (those with a training pickup), " + std::to_string(test_buckets) +
        " test buckets, mean " + Fixed(test_mean, 3) +
        " pickups per test cell. Rolling origin, models trained once (no refit as the origin "
        "rolls): the forecast for bucket s at horizon h uses counts up to s − h.\n\n";
  const auto table = [&](const std::string& title, auto metric, int digits) {
    md += "**" + title + "**\n\n| model |";
    for (int h = 1; h <= horizons; ++h) md += " h=" + std::to_string(h) + " |";
    md += "\n|---|";
    for (int h = 1; h <= horizons; ++h) md += "---:|";
    md += "\n";
    for (const DemandModelScores& m : models) {
      md += "| " + m.name + " |";
      for (const DemandHorizonScores& hs : m.horizons) md += " " + Fixed(metric(hs), digits) + " |";
      md += "\n";
    }
    md += "\n";
  };
  table(
      "WAPE, all zones", [](const DemandHorizonScores& h) { return h.all.wape; }, 3);
  table(
      "RMSE, all zones", [](const DemandHorizonScores& h) { return h.all.rmse; }, 3);
  table(
      "MAE, all zones", [](const DemandHorizonScores& h) { return h.all.mae; }, 3);
  table(
      "Bias (mean forecast − actual), all zones",
      [](const DemandHorizonScores& h) { return h.all.bias; }, 3);
  table(
      "WAPE, " + std::to_string(busiest.size()) + " busiest zones",
      [](const DemandHorizonScores& h) { return h.busiest.wape; }, 3);
  table(
      "sMAPE, " + std::to_string(volume_zones) + " zones averaging ≥ 1 pickup per bucket",
      [](const DemandHorizonScores& h) { return h.volume.smape; }, 3);

  md += "**Training** (per model: seconds, and what training reported)\n\n";
  for (const DemandModelScores& m : models) {
    md += "- " + m.name + ": " + Fixed(m.train_seconds, 1) + " s";
    for (const auto& [k, v] : m.train_info) {
      if (k.rfind("valid_", 0) == 0 && k != "valid_loss") continue;  // per-horizon detail
      md += "; " + k + " " + Fixed(v, std::fabs(v) >= 100 ? 0 : 3);
    }
    md += "\n";
  }
  md += "\n";
  md += "**Per zone at h=1 (busiest zones): WAPE / MAE**\n\n| zone | mean/bucket |";
  for (const DemandModelScores& m : models) md += " " + m.name + " |";
  md += "\n|---|---:|";
  for (size_t i = 0; i < models.size(); ++i) md += "---:|";
  md += "\n";
  for (int32_t zone : busiest) {
    auto name = zone_names.find(zone);
    md += "| " + std::to_string(zone) + (name != zone_names.end() ? " " + name->second : "") +
          " | " + Fixed(training_mean.at(zone), 2) + " |";
    for (const DemandModelScores& m : models) {
      auto it = m.busiest_zone_h1.find(zone);
      md += it == m.busiest_zone_h1.end()
                ? " – |"
                : " " + Fixed(it->second.wape, 3) + " / " + Fixed(it->second.mae, 2) + " |";
    }
    md += "\n";
  }
  md += "\n";
  return md;
}

std::map<std::string, double> DemandBacktest::ToMetricMap() const {
  std::map<std::string, double> out;
  for (const DemandModelScores& m : models) {
    for (const DemandHorizonScores& hs : m.horizons) {
      const std::string p = m.name + "_h" + std::to_string(hs.horizon) + "_";
      out[p + "wape"] = hs.all.wape;
      out[p + "rmse"] = hs.all.rmse;
      out[p + "mae"] = hs.all.mae;
      out[p + "bias"] = hs.all.bias;
      out[p + "busiest_wape"] = hs.busiest.wape;
      out[p + "volume_smape"] = hs.volume.smape;
    }
  }
  return out;
}

}  // namespace bimride::tasks::demand
