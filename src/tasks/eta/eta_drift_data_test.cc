// Drift alarms at the monitor's default window (1000 rows) on real green trips, with the day's
// weather among the features (#13 item 5 and the loop's natural alarm, item 8): an XGBoost
// booking model trained on the odd days of 2021-01, its alarm calibrated on those rows at a 5%
// target, then windows of 1000 trips in pickup order — the even days of 2021-01 (exchangeable:
// the false-alarm rate) and 2022-01, 2023-01 (later years) — scored as the server's monitor
// scores them (the features as served, the output, ScoreDrift against the manifest's
// baseline, above a calibrated threshold = alarm). Labelled data;slow. Prints the rates and the
// features that alarm.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <numeric>

#include "common/civil_time.h"
#include "monitoring/drift.h"
#include "tasks/eta/eta_real_data_test_util.h"
#include "tasks/eta/eta_test_util.h"
#include "tasks/eta/eta_training.h"

namespace bimride::tasks::eta {
namespace {

using testing::DataDir;
using testing::Subset;

std::vector<size_t> PickupOrder(const EtaDataset& d, int parity /* -1: all */) {
  std::vector<size_t> rows;
  for (size_t i = 0; i < d.trips.size(); ++i) {
    const int day = CivilFromMicros(d.trips.pickup_time_us[i]).day;
    if (parity < 0 || day % 2 == parity) rows.push_back(i);
  }
  std::stable_sort(rows.begin(), rows.end(), [&](size_t a, size_t b) {
    return d.trips.pickup_time_us[a] < d.trips.pickup_time_us[b];
  });
  return rows;
}

struct WindowRates {
  int windows = 0, alarms = 0;
  std::map<std::string, int> by_feature;
};

WindowRates Score(const LoadedEtaModel& m, const monitoring::DriftCalibration& cal,
                  const EtaDataset& trips, size_t window) {
  const auto x = features::ComputeEtaFeatures(m.context, features::EtaRequestsFromTrips(trips.trips));
  EXPECT_TRUE(x.ok()) << x.status().ToString();
  const auto y = PredictEta(m, trips.trips);
  EXPECT_TRUE(y.ok());
  const std::vector<std::string> names = features::EtaFeatureNames(m.context.set);
  const size_t width = names.size(), n = trips.trips.size();
  WindowRates r;
  for (size_t w0 = 0; w0 + window <= n; w0 += window) {
    bool alarm = false;
    for (size_t k = 0; k <= width; ++k) {
      const std::string name = k < width ? names[k] : m.manifest.outputs.at(0).name;
      auto t = cal.thresholds.find(name);
      if (t == cal.thresholds.end()) continue;
      std::vector<float> v(window);
      for (size_t i = 0; i < window; ++i) v[i] = k < width ? (*x)[(w0 + i) * width + k] : (*y)[w0 + i];
      const registry::FeatureStats& base = m.manifest.feature_stats.at(name);
      const monitoring::DriftScores s = monitoring::ScoreDrift(base, monitoring::BinCounts(base.histogram, v));
      bool above = false;
      for (int q = 0; q < monitoring::kDriftScores; ++q) above |= s.value[q] > t->second[q];
      if (above) ++r.by_feature[name];
      alarm |= above;
    }
    ++r.windows;
    r.alarms += alarm;
  }
  return r;
}

TEST(EtaDriftOnGreenTrips, ThousandRowWindowsWithWeather) {
  auto zones = data::ZoneIndex::Load(DataDir() + "/zones");
  ASSERT_TRUE(zones.ok()) << zones.status().ToString();
  auto weather = features::WeatherTable::Load(DataDir() + "/weather/central_park_weather.csv");
  ASSERT_TRUE(weather.ok()) << weather.status().ToString();
  const std::string g = DataDir() + "/tlc_green/green_tripdata_";
  auto jan21 = LoadEtaDataset({g + "2021-01.parquet"}, &*zones, {});
  ASSERT_TRUE(jan21.ok()) << jan21.status().ToString();
  const EtaDataset odd = Subset(*jan21, PickupOrder(*jan21, 1));
  const EtaDataset even = Subset(*jan21, PickupOrder(*jan21, 0));
  // Early stopping on a tenth of the odd-day rows (every tenth), the rest trains.
  std::vector<size_t> fit, stop;
  for (size_t i = 0; i < odd.trips.size(); ++i) (i % 10 == 9 ? stop : fit).push_back(i);
  EtaTrainConfig c = DefaultEtaTrainConfig(features::EtaFeatureSet::kBooking, "xgboost");
  c.params["rounds"] = "80";
  c.params["eta"] = "0.15";
  c.threads = 2;
  c.loss_estimator = false;
  c.drift_window_rows = 1000;
  const std::string dir = testing::TempDir("drift_data");
  using DayLevel = EtaTrainConfig::DayLevelDrift;
  const std::map<DayLevel, const char*> kName = {{DayLevel::kAlarm, "with"},
                                                 {DayLevel::kScoreOnly, "without"},
                                                 {DayLevel::kAuto, "auto:"}};
  std::map<DayLevel, std::map<std::string, WindowRates>> runs;
  std::map<DayLevel, double> held_out;
  for (DayLevel variant : {DayLevel::kAlarm, DayLevel::kScoreOnly, DayLevel::kAuto}) {
    c.drift_day_level = variant;
    const std::string out = dir + "/" + std::to_string(static_cast<int>(variant));
    auto trained = TrainEtaModel(Subset(odd, fit), Subset(odd, stop), &*zones, &*weather, c, out,
                                 nullptr);
    ASSERT_TRUE(trained.ok()) << trained.status().ToString();
    auto m = LoadEtaModel(out, 2);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    auto cal = monitoring::DriftCalibrationFromJson(
        m->manifest.properties.at(monitoring::kDriftCalibrationProperty), out);
    ASSERT_TRUE(cal.ok()) << cal.status().ToString();
    // pickup_zone is a category (chi2, JS distance): its JS distance threshold.
    ASSERT_TRUE(cal->category_thresholds.count("pickup_zone")) << "pickup_zone is not calibrated";
    const bool day_level_calibrated = cal->thresholds.count("wind_mph") > 0;
    std::printf("\n%s day-level features%s: z cut-off %.3f, fit rate %.4f, held-out %.4f, %lld "
                "training windows; JS distance threshold of pickup_zone %.4g\n",
                kName.at(variant),
                variant == DayLevel::kAuto ? (day_level_calibrated ? " with" : " without") : "",
                cal->z_threshold, cal->fit_rate, cal->held_out_rate,
                static_cast<long long>(cal->windows), cal->category_thresholds.at("pickup_zone")[1]);
    held_out[variant] = cal->held_out_rate;
    std::map<std::string, WindowRates>& rates = runs[variant];
    rates["2021-01 even days"] = Score(*m, *cal, even, 1000);
    for (const char* month : {"2022-01", "2023-01"}) {
      auto d = LoadEtaDataset({g + month + ".parquet"}, &*zones, {});
      ASSERT_TRUE(d.ok()) << d.status().ToString();
      rates[month] = Score(*m, *cal, Subset(*d, PickupOrder(*d, -1)), 1000);
    }
    for (const auto& [what, r] : rates) {
      std::printf("  %-18s %2d of %2d windows alarm (%.1f%%):", what.c_str(), r.alarms, r.windows,
                  100.0 * r.alarms / std::max(1, r.windows));
      for (const auto& [f, k] : r.by_feature) std::printf(" %s %d", f.c_str(), k);
      std::printf("\n");
    }
    if (variant == DayLevel::kScoreOnly) {
      for (const auto& [what, r] : rates) {
        for (const auto& [f, k] : r.by_feature) EXPECT_FALSE(IsDayLevelEtaFeature(f)) << f;
      }
    }
  }
  const WindowRates& with = runs[DayLevel::kAlarm]["2021-01 even days"];
  const WindowRates& without = runs[DayLevel::kScoreOnly]["2021-01 even days"];
  // The day-level features alarm on exchangeable days when calibrated (the day's weather is
  // what differs between odd and even days), and leaving them out removes those alarms.
  int day_level_alarms = 0;
  for (const auto& [f, k] : with.by_feature) {
    if (IsDayLevelEtaFeature(f)) day_level_alarms += k;
  }
  EXPECT_GT(day_level_alarms, 0);
  EXPECT_LT(without.alarms, with.alarms);
  // The training data says so too: the held-out rate is lower without them, and auto takes it.
  EXPECT_LT(held_out[DayLevel::kScoreOnly], held_out[DayLevel::kAlarm]);
  EXPECT_EQ(held_out[DayLevel::kAuto], held_out[DayLevel::kScoreOnly]);
  EXPECT_EQ(runs[DayLevel::kAuto]["2021-01 even days"].alarms, without.alarms);
  // The served view counts a row's pair on the other training days: pair_log_count alarmed on
  // 20 of 35 even-day windows when it counted the row's own day too (a random-row fold).
  const auto pair_alarms = without.by_feature.find("pair_log_count");
  EXPECT_LE(pair_alarms == without.by_feature.end() ? 0 : pair_alarms->second, 2);
  EXPECT_LE(without.alarms, 4) << "of " << without.windows << " exchangeable windows";
  // The later years still alarm in (nearly) every window.
  for (const char* month : {"2022-01", "2023-01"}) {
    const WindowRates& r = runs[DayLevel::kAuto][month];
    EXPECT_GE(r.alarms, r.windows * 9 / 10) << month;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace bimride::tasks::eta
