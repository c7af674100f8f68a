// #13 on real data (green taxi), through the model server over HTTP with bimride replay's driver:
// a model trained on the odd days of 2021-01 (drift alarms calibrated on its training rows in
// windows of 100, target false-alarm rate 5%) serves
//   - 4000 trips of 2022-01, each trip's real duration posted as feedback when it ends: the
//     server's live accuracy equals `bimride eval eta` on the same trips exactly (items 3, 6);
//   - the even days of 2021-01 (exchangeable with its training data): the drift alarm rate over
//     the closed windows stays at or under the target (item 5);
//   - 2022-01 and 2023-01: drift is flagged, on the features (and the output) that moved;
//   - the even days and five later months in windows of 1000: each window's RMSE estimated
//     before labels by the version's loss estimator, beside the realised one (item 4); the
//     estimator's and the anchoring's choices made on 2021-02/03 replays only.
// Labelled data; prints the tables results/monitoring.md quotes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <numeric>

#include "common/civil_time.h"
#include "registry/registry.h"
#include <nlohmann/json.hpp>

#include "serving/http/http_client.h"
#include "serving/http/http_transport.h"
#include "serving/http/replay.h"
#include "tasks/eta/eta_real_data_test_util.h"
#include "tasks/eta/eta_evaluation.h"
#include "tasks/eta/eta_serving.h"
#include "tasks/eta/eta_test_util.h"
#include "tasks/eta/eta_training.h"
#include "tasks/task.h"
#include "models/model.h"

namespace bimride::tasks::eta {
namespace {

using testing::DataDir;
using testing::Subset;

constexpr int64_t kWindow = 100;
constexpr double kTargetRate = 0.05;

// Rows with a meter reading (the with-distance model needs it), in pickup order.
std::vector<size_t> MeteredInPickupOrder(const EtaDataset& d) {
  std::vector<size_t> order;
  for (size_t i = 0; i < d.trips.size(); ++i) {
    if (std::isfinite(d.trips.distance_miles[i])) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return d.trips.pickup_time_us[a] < d.trips.pickup_time_us[b];
  });
  return order;
}

class EtaLiveMonitoringTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!train::HasTrainer("xgboost")) return;
    ASSERT_NE(FindTask("eta"), nullptr);
    auto zones = data::ZoneIndex::Load(DataDir() + "/zones");
    ASSERT_TRUE(zones.ok()) << zones.status().ToString();
    zones_ = new data::ZoneIndex(std::move(zones).value());
    auto january = LoadEtaDataset({Green("2021-01")}, zones_, {});
    ASSERT_TRUE(january.ok()) << january.status().ToString();
    std::vector<size_t> train_rows, valid_rows, even_rows;
    for (size_t i = 0; i < january->trips.size(); ++i) {
      const bool odd = CivilFromMicros(january->trips.pickup_time_us[i]).day % 2 == 1;
      if (!odd) {
        even_rows.push_back(i);
      } else {
        (i % 10 == 0 ? valid_rows : train_rows).push_back(i);
      }
    }
    even_days_ = new EtaDataset(Subset(*january, even_rows));
    train_ = new EtaDataset(Subset(*january, train_rows));
    valid_ = new EtaDataset(Subset(*january, valid_rows));
    config_ = new EtaTrainConfig(TestConfig());
    repo_ = new std::string(testing::TempDir("live_monitoring"));
    auto trained = TrainEtaModel(*train_, *valid_, zones_, nullptr, *config_, *repo_ + "/out",
                                 nullptr);
    ASSERT_TRUE(trained.ok()) << trained.status().ToString();
    std::printf("%s", trained->summary.c_str());
    std::filesystem::create_directories(*repo_ + "/models");
    auto reg = registry::Registry::Open(*repo_ + "/models");
    ASSERT_TRUE(reg.ok());
    std::vector<registry::ArtifactFile> files;
    for (const std::string& a : trained->manifest.artifacts) {
      files.push_back({*repo_ + "/out/" + a, a});
    }
    auto published = (*reg)->Publish(files, trained->manifest);
    ASSERT_TRUE(published.ok()) << published.status().ToString();
    version_ = published->version;
    version_dir_ = new std::string((*reg)->repository().VersionDir("eta", version_));
  }
  static void TearDownTestSuite() {
    if (repo_ != nullptr) std::filesystem::remove_all(*repo_);
  }
  void SetUp() override {
    if (!train::HasTrainer("xgboost")) GTEST_SKIP() << "built without XGBoost";
    ASSERT_NE(version_dir_, nullptr);
  }
  // The model every test serves: XGBoost with trip distance, 60 rounds, drift calibrated at
  // 100-row windows; the loss estimator as `bimride train eta` publishes it.
  static EtaTrainConfig TestConfig() {
    EtaTrainConfig c = DefaultEtaTrainConfig(features::EtaFeatureSet::kWithDistance, "xgboost");
    c.params["rounds"] = "60";
    c.threads = 2;
    c.model_name = "eta";
    c.drift_window_rows = kWindow;
    c.drift_target_rate = kTargetRate;
    return c;
  }
  static std::string Green(const std::string& month) {
    return DataDir() + "/tlc_green/green_tripdata_" + month + ".parquet";
  }

  struct Replayed {
    std::vector<monitoring::WindowAccuracy> windows;
    monitoring::WindowAccuracy overall;
  };
  // Starts a server with a fresh prediction log, replays `trips` (in their order) with their
  // durations as feedback, and returns its monitor's windows.
  static Replayed Replay(const data::TripTable& trips, const std::vector<float>& minutes,
                         const std::string& name, int64_t window_rows = kWindow) {
    serving::ServerConfig config;
    config.model_repo = *repo_ + "/models";
    config.port = 0;
    config.io_threads = 1;
    config.poll_interval_ms = 0;
    config.prediction_log.dir = *repo_ + "/log_" + name;
    config.monitor.window_rows = window_rows;
    auto server = serving::http::StartHttpServer(config);
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    if (!server.ok()) return {};
    std::vector<serving::http::ReplayEvent> events;
    for (size_t i = 0; i < trips.size(); ++i) {
      events.push_back({trips.pickup_time_us[i], trips.dropoff_time_us[i],
                        name + "-" + std::to_string(i),
                        "{\"instances\": [" + EtaInstanceJson(trips, i) + "]}", minutes[i], true});
    }
    serving::http::ReplayOptions options;
    options.port = serving::http::HttpPort(**server);
    options.target = "/v1/models/eta:predict";
    auto stats = serving::http::RunReplay(events, options);
    EXPECT_TRUE(stats.ok()) << stats.status().ToString();
    Replayed out;
    if (!stats.ok()) return out;
    EXPECT_EQ(stats->answered_ok, static_cast<int64_t>(trips.size())) << stats->first_error;
    EXPECT_EQ(stats->labels_posted, static_cast<int64_t>(trips.size()));
    EXPECT_TRUE((*server)->service().prediction_log()->Flush().ok());
    const monitoring::LiveMonitor* monitor = (*server)->service().live_monitor();
    out.windows = monitor->Windows("eta");
    // What a user reads: /v1/monitor has each window's anchored estimate, the raw one beside it
    // and its anchor; /metrics the gauges of both.
    serving::http::HttpClient client("127.0.0.1", serving::http::HttpPort(**server));
    auto report = client.Get("/v1/monitor");
    EXPECT_TRUE(report.ok() && report->status == 200);
    if (report.ok()) {
      const nlohmann::json j = nlohmann::json::parse(report->body);
      EXPECT_EQ(j["windows"].size(), out.windows.size());
      for (size_t i = 0; i < j["windows"].size() && i < out.windows.size(); ++i) {
        const nlohmann::json& w = j["windows"][i];
        const monitoring::WindowAccuracy& a = out.windows[i];
        if (a.estimated_rows == 0) continue;
        EXPECT_EQ(w["estimated_rmse"].get<double>(), a.estimated_rmse);
        EXPECT_EQ(w["estimated_rmse_unanchored"].get<double>(), a.estimated_rmse_unanchored);
        EXPECT_EQ(w["estimate_anchor_rows"].get<int64_t>(), a.anchor_rows);
        EXPECT_EQ(w["estimate_anchor_windows"].get<int64_t>(), a.anchor_windows);
      }
    }
    auto metrics = client.Get("/metrics");
    EXPECT_TRUE(metrics.ok() && metrics->body.find("bimride_estimated_rmse_unanchored{model=\"eta\"") !=
                                    std::string::npos);
    auto overall = monitor->Overall("eta", version_);
    EXPECT_TRUE(overall.ok()) << overall.status().ToString();
    if (overall.ok()) out.overall = *overall;
    (*server)->Shutdown();
    return out;
  }

  static data::ZoneIndex* zones_;
  static EtaDataset* even_days_;
  static EtaDataset* train_;
  static EtaDataset* valid_;
  static EtaTrainConfig* config_;
  static std::string* repo_;
  static std::string* version_dir_;
  static int64_t version_;
};
data::ZoneIndex* EtaLiveMonitoringTest::zones_ = nullptr;
EtaDataset* EtaLiveMonitoringTest::even_days_ = nullptr;
EtaDataset* EtaLiveMonitoringTest::train_ = nullptr;
EtaDataset* EtaLiveMonitoringTest::valid_ = nullptr;
EtaTrainConfig* EtaLiveMonitoringTest::config_ = nullptr;
std::string* EtaLiveMonitoringTest::repo_ = nullptr;
std::string* EtaLiveMonitoringTest::version_dir_ = nullptr;
int64_t EtaLiveMonitoringTest::version_ = 0;

TEST_F(EtaLiveMonitoringTest, LiveAccuracyOfAReplayEqualsOfflineEvalOnTheSameTrips) {
  auto later = LoadEtaDataset({Green("2022-01")}, zones_, {});
  ASSERT_TRUE(later.ok()) << later.status().ToString();
  std::vector<size_t> order = MeteredInPickupOrder(*later);
  order.resize(std::min<size_t>(order.size(), 4000));
  const EtaDataset replayed = Subset(*later, order);

  // Offline: what `bimride eval eta --model <version dir> --data …` computes.
  auto loaded = LoadEtaModel(*version_dir_);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  auto offline = PredictEta(*loaded, replayed.trips);
  ASSERT_TRUE(offline.ok()) << offline.status().ToString();
  const EtaEvaluation eval = EvaluateEta(*offline, replayed.minutes, replayed.trips);

  Replayed live = Replay(replayed.trips, replayed.minutes, "accuracy");
  EXPECT_EQ(live.overall.labelled_rows, static_cast<int64_t>(order.size()));
  EXPECT_EQ(live.overall.metrics.count, eval.overall.count);
  EXPECT_EQ(live.overall.metrics.rmse, eval.overall.rmse);
  EXPECT_EQ(live.overall.metrics.mae, eval.overall.mae);
  EXPECT_EQ(live.overall.metrics.bias, eval.overall.bias);
  EXPECT_EQ(live.overall.metrics.rmsle, eval.overall.rmsle);
  EXPECT_EQ(live.overall.metrics.mape, eval.overall.mape);
  EXPECT_EQ(live.overall.metrics.smape, eval.overall.smape);
  // Each window equals the metrics of its slice of trips.
  ASSERT_EQ(live.windows.size(), order.size() / kWindow);
  for (const monitoring::WindowAccuracy& w : live.windows) {
    const size_t b = static_cast<size_t>(w.window * kWindow);
    const std::span<const float> p(offline->data() + b, kWindow);
    const std::span<const float> y(replayed.minutes.data() + b, kWindow);
    ASSERT_EQ(w.metrics.rmse, train::ComputeMetrics(p, y).rmse) << "window " << w.window;
  }
  std::printf("odd-days 2021-01 model on %zu trips of 2022-01: live RMSE %.4f MAE %.4f bias "
              "%+.4f min; eval RMSE %.4f MAE %.4f bias %+.4f\n",
              order.size(), live.overall.metrics.rmse, live.overall.metrics.mae,
              live.overall.metrics.bias, eval.overall.rmse, eval.overall.mae, eval.overall.bias);
}

// Alarm rate over closed windows, and per feature: share of windows above a threshold, mean PSI;
// per declared category (zones, boroughs): share above, mean chi2, Cramér's V, JS distance, and
// the share of windows whose textbook chi-square p-value is < 0.05.
struct CategorySummary {
  double above = 0, chi2 = 0, cramers_v = 0, js_distance = 0, p_below_05 = 0;
};
struct DriftSummary {
  int64_t windows = 0;
  double alarm_rate = 0;
  std::map<std::string, std::pair<double, double>> features;  // → (share above, mean psi)
  std::map<std::string, CategorySummary> categories;
  std::vector<bool> alarms;  // per closed window, in order
};

// The retrainer's rule (retraining/retrainer.h): at least `hold` of the last `span` closed
// windows alarm. How many windows it holds at, and the first (-1: none).
std::pair<int64_t, int64_t> HeldAlarms(const std::vector<bool>& alarms, int hold, int span) {
  int64_t held = 0, first = -1;
  for (size_t k = static_cast<size_t>(span) - 1; k < alarms.size(); ++k) {
    if (std::count(alarms.begin() + static_cast<long>(k + 1 - span),
                   alarms.begin() + static_cast<long>(k + 1), true) >= hold) {
      ++held;
      if (first < 0) first = static_cast<int64_t>(k);
    }
  }
  return {held, first};
}

DriftSummary Summarize(const std::vector<monitoring::WindowAccuracy>& windows) {
  DriftSummary s;
  int64_t alarms = 0;
  for (const monitoring::WindowAccuracy& w : windows) {
    if (!w.closed) continue;
    EXPECT_TRUE(w.drift_calibrated);
    ++s.windows;
    alarms += w.drift_alarm ? 1 : 0;
    s.alarms.push_back(w.drift_alarm);
    for (const monitoring::FeatureDrift& d : w.drift) {
      if (d.categorical) {
        EXPECT_TRUE(d.error.empty()) << d.feature << ": " << d.error;
        CategorySummary& c = s.categories[d.feature];
        c.above += d.above.empty() ? 0 : 1;
        c.chi2 += d.category.chi2;
        c.cramers_v += d.category.cramers_v;
        c.js_distance += d.category.js_distance;
        c.p_below_05 += d.category.p_value < 0.05 ? 1 : 0;
        continue;
      }
      auto& [above, psi] = s.features[d.feature];
      above += d.above.empty() ? 0 : 1;
      psi += d.scores.psi();
    }
  }
  const double n = static_cast<double>(std::max<int64_t>(1, s.windows));
  for (auto& [name, v] : s.features) {
    v.first /= n;
    v.second /= n;
  }
  for (auto& [name, c] : s.categories) {
    for (double* x : {&c.above, &c.chi2, &c.cramers_v, &c.js_distance, &c.p_below_05}) *x /= n;
  }
  s.alarm_rate = static_cast<double>(alarms) / n;
  return s;
}

// Which zones moved: each zone's share of the replayed trips against its share of the training
// rows (the manifest's category_stats), the largest changes first.
void PrintZoneShares(const std::string& feature, const registry::CategoryStats& base,
                     const std::vector<int32_t>& zones, const data::ZoneIndex& index,
                     const std::string& month) {
  std::map<int64_t, double> live;
  for (int32_t z : zones) live[z] += 1.0 / static_cast<double>(zones.size());
  std::map<int64_t, double> train;
  for (size_t i = 0; i < base.categories.size(); ++i) {
    train[base.categories[i]] = static_cast<double>(base.counts[i]) / static_cast<double>(base.count);
  }
  double live_other = 0;
  std::vector<std::pair<double, int64_t>> moved;
  for (const auto& [z, share] : live) {
    if (!train.count(z)) live_other += share;
  }
  for (const auto& [z, share] : train) {
    moved.push_back({(live.count(z) ? live[z] : 0.0) - share, z});
  }
  std::sort(moved.begin(), moved.end(),
            [](const auto& a, const auto& b) { return std::fabs(a.first) > std::fabs(b.first); });
  std::printf("%s %s: other (rare/unseen in training) %.1f%% of trips vs %.1f%% in training; "
              "largest changes in share (points):",
              month.c_str(), feature.c_str(), 100 * live_other,
              100.0 * static_cast<double>(base.other_count) / static_cast<double>(base.count));
  for (size_t i = 0; i < moved.size() && i < 6; ++i) {
    const data::ZoneInfo* info = index.Zone(static_cast<int32_t>(moved[i].second));
    std::printf(" %s %lld %s %.1f%% -> %.1f%% (%+.1f);", info ? info->name.c_str() : "?",
                static_cast<long long>(moved[i].second), info ? info->borough.c_str() : "",
                100 * train[moved[i].second], 100 * (train[moved[i].second] + moved[i].first),
                100 * moved[i].first);
  }
  std::printf("\n");
}

TEST_F(EtaLiveMonitoringTest, NoFalseAlarmsOnEvenDaysAndDriftFlaggedOnLaterYears) {
  auto manifest = registry::ReadManifest(*version_dir_ + "/" + registry::kManifestFileName);
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  ASSERT_EQ(manifest->category_stats.count("pickup_zone"), 1u) << "zones declared as categories";
  std::vector<std::pair<std::string, DriftSummary>> runs;
  {
    std::vector<size_t> order = MeteredInPickupOrder(*even_days_);
    const EtaDataset even = Subset(*even_days_, order);
    runs.push_back({"2021-01 even days", Summarize(Replay(even.trips, even.minutes, "even").windows)});
    PrintZoneShares("pickup_zone", manifest->category_stats.at("pickup_zone"),
                    even.trips.pickup_zone, *zones_, "2021-01 even days");
  }
  for (const std::string month : {"2022-01", "2023-01"}) {
    auto later = LoadEtaDataset({Green(month)}, zones_, {});
    ASSERT_TRUE(later.ok()) << later.status().ToString();
    std::vector<size_t> order = MeteredInPickupOrder(*later);
    order.resize(std::min<size_t>(order.size(), 20000));
    const EtaDataset d = Subset(*later, order);
    runs.push_back({month, Summarize(Replay(d.trips, d.minutes, month).windows)});
    for (const char* f : {"pickup_zone", "dropoff_zone"}) {
      PrintZoneShares(f, manifest->category_stats.at(f),
                      std::string(f) == "pickup_zone" ? d.trips.pickup_zone : d.trips.dropoff_zone,
                      *zones_, month);
    }
  }
  std::printf("\n| feature |");
  for (const auto& [name, s] : runs) std::printf(" %s: windows above / mean PSI |", name.c_str());
  std::printf("\n|---|");
  for (size_t i = 0; i < runs.size(); ++i) std::printf("---:|");
  std::printf("\n");
  for (const auto& [feature, unused] : runs[0].second.features) {
    std::printf("| %s |", feature.c_str());
    for (const auto& [name, s] : runs) {
      auto it = s.features.find(feature);
      std::printf(" %.1f%% / %.3f |", 100 * it->second.first, it->second.second);
    }
    std::printf("\n");
  }
  std::printf("| **window alarm rate** |");
  for (const auto& [name, s] : runs) {
    std::printf(" **%.1f%%** of %lld |", 100 * s.alarm_rate, static_cast<long long>(s.windows));
  }
  std::printf("\n\nThe retrainer's held alarm (at least H of the last N closed windows alarm): "
              "windows it holds at (the first one)\n\n| H of N |");
  for (const auto& [name, s] : runs) std::printf(" %s |", name.c_str());
  std::printf("\n|---|");
  for (size_t i = 0; i < runs.size(); ++i) std::printf("---:|");
  std::printf("\n");
  for (auto [hold, span] : std::vector<std::pair<int, int>>{
           {1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 5}, {2, 4}, {3, 5}, {4, 8}, {5, 10}, {10, 20}}) {
    std::printf("| %d of %d |", hold, span);
    for (const auto& [name, s] : runs) {
      auto [held, first] = HeldAlarms(s.alarms, hold, span);
      std::printf(" %lld (%lld) |", static_cast<long long>(held), static_cast<long long>(first));
    }
    std::printf("\n");
  }
  std::printf("\n\n| category | replay | windows above | mean chi2 | mean Cramér's V | mean JS "
              "distance | windows with p < 0.05 |\n|---|---|---:|---:|---:|---:|---:|\n");
  for (const auto& [feature, unused] : runs[0].second.categories) {
    for (const auto& [name, s] : runs) {
      const CategorySummary& c = s.categories.at(feature);
      std::printf("| %s | %s | %.1f%% | %.1f | %.3f | %.3f | %.1f%% |\n", feature.c_str(),
                  name.c_str(), 100 * c.above, c.chi2, c.cramers_v, c.js_distance,
                  100 * c.p_below_05);
    }
  }
  std::printf("\n");
  // The declared categories are scored as categories, not binned as numbers.
  for (const auto& [name, s] : runs) {
    for (const char* f : {"pickup_zone", "dropoff_zone", "pickup_borough", "dropoff_borough"}) {
      EXPECT_EQ(s.categories.count(f), 1u) << name << " " << f;
      EXPECT_EQ(s.features.count(f), 0u) << name << " " << f;
    }
  }
  // Exchangeable data, >= 200 windows: at or under the target (thresholds fit on the training
  // rows' served-view features, the rate they are fit at chosen on held-out training blocks).
  EXPECT_GE(runs[0].second.windows, 200);
  EXPECT_LE(runs[0].second.alarm_rate, kTargetRate);
  // The later years alarm far more often, 2023 (further from 2021) more than 2022.
  EXPECT_GE(runs[1].second.alarm_rate, 0.4);
  EXPECT_GE(runs[2].second.alarm_rate, 0.8);
  EXPECT_GT(runs[2].second.alarm_rate, runs[1].second.alarm_rate);
  EXPECT_GT(runs[2].second.categories["pickup_zone"].js_distance,
            runs[1].second.categories["pickup_zone"].js_distance)
      << "2023 has moved further from 2021 than 2022";
  EXPECT_GT(runs[1].second.categories["pickup_zone"].js_distance,
            runs[0].second.categories["pickup_zone"].js_distance);
}

// Item 4: accuracy before labels. The version's loss estimator (squared error learned from its
// validation rows at publish) gives each window an estimated RMSE from the served rows alone,
// anchored on the labels of the windows before it (monitoring/live_monitor.h); beside it, once
// labels come, the realised RMSE. Windows of 1000 trips (the monitor's default: the realised
// RMSE of 100 heavy-tailed trip errors is itself too noisy to estimate).
constexpr int64_t kEstimateWindow = 1000;

struct EstimateRow {
  std::string month;
  int windows = 0, within = 0, within_raw = 0, oracle_within = 0;
  double est = 0, est_raw = 0, real = 0, rel = 0, rel_raw = 0;
};

bool Within15(double estimate, double realised) {
  return std::fabs(estimate - realised) <= 0.15 * realised;
}

// The anchoring a (windows, prior rows, prior windows) choice would give, recomputed from a
// replay's closed, fully labelled windows (each window anchored on every label of the `windows`
// before it, shrunk toward the ratio over the `prior_windows` before it — 1 when 0 or without
// labels; kAllWindows: every earlier window): how many windows it puts within 15% of their
// realised RMSE, and the sum of its relative errors (`rel_sum`). The live monitor anchors on the
// labels that have arrived when a window opens, so it differs from this by the last trips still
// driving.
constexpr int64_t kAllWindows = std::numeric_limits<int64_t>::max();
int WithinWhenAnchored(const std::vector<monitoring::WindowAccuracy>& ws, int64_t windows,
                       double prior_rows, double* rel_sum, int64_t prior_windows = 0) {
  int within = 0;
  auto ratio_over = [&](size_t k, int64_t back, double* real, double* est, double* n) {
    *real = *est = *n = 0;
    const size_t from = static_cast<size_t>(back) >= k ? 0 : k - static_cast<size_t>(back);
    for (size_t j = from; j < k; ++j) {
      *real += ws[j].metrics.rmse * ws[j].metrics.rmse * ws[j].labelled_rows;
      *est += ws[j].estimated_rmse_unanchored * ws[j].estimated_rmse_unanchored *
              ws[j].estimated_rows;
      *n += ws[j].labelled_rows;
    }
  };
  for (size_t k = 0; k < ws.size(); ++k) {
    double real = 0, est = 0, n = 0;
    ratio_over(k, windows, &real, &est, &n);
    double prior = 1.0;
    if (prior_windows > 0) {
      double preal = 0, pest = 0, pn = 0;
      ratio_over(k, prior_windows, &preal, &pest, &pn);
      if (pn > 0 && pest > 0) prior = preal / pest;
    }
    const double c = n > 0 && est > 0 ? (real / est * n + prior * prior_rows) / (n + prior_rows)
                                      : prior;
    const double estimate = ws[k].estimated_rmse_unanchored * std::sqrt(c);
    within += Within15(estimate, ws[k].metrics.rmse);
    *rel_sum += std::fabs(estimate - ws[k].metrics.rmse) / ws[k].metrics.rmse;
  }
  return within;
}

class EtaEstimatedAccuracyTest : public EtaLiveMonitoringTest {
 protected:
  // Replays `d` in windows of 1000 and summarises its closed windows.
  static EstimateRow Measure(const std::string& month, const EtaDataset& d,
                             std::vector<monitoring::WindowAccuracy>* closed_out = nullptr) {
    Replayed live = Replay(d.trips, d.minutes, "estimate-" + month, kEstimateWindow);
    EstimateRow row{month};
    std::vector<monitoring::WindowAccuracy> closed;
    for (const monitoring::WindowAccuracy& w : live.windows) {
      if (!w.closed) continue;
      EXPECT_EQ(w.estimated_rows, kEstimateWindow) << "every served row is estimated";
      EXPECT_EQ(w.labelled_rows, kEstimateWindow);
      // The first window has no labels before it; every later one is anchored on some.
      if (w.window == 0) {
        EXPECT_EQ(w.anchor_rows, 0);
        EXPECT_EQ(w.estimated_rmse, w.estimated_rmse_unanchored);
      } else {
        EXPECT_GT(w.anchor_rows, 0) << month << " window " << w.window;
      }
      ++row.windows;
      row.within += Within15(w.estimated_rmse, w.metrics.rmse);
      row.within_raw += Within15(w.estimated_rmse_unanchored, w.metrics.rmse);
      row.est += w.estimated_rmse;
      row.est_raw += w.estimated_rmse_unanchored;
      row.real += w.metrics.rmse;
      row.rel += std::fabs(w.estimated_rmse - w.metrics.rmse) / w.metrics.rmse;
      row.rel_raw += std::fabs(w.estimated_rmse_unanchored - w.metrics.rmse) / w.metrics.rmse;
      closed.push_back(w);
    }
    // The ceiling of any estimate that cannot see labels: one number per month — the month's
    // own realised RMSE — within 15% of how many of its windows.
    for (const monitoring::WindowAccuracy& w : closed) {
      row.oracle_within += Within15(live.overall.metrics.rmse, w.metrics.rmse);
    }
    if (closed_out != nullptr) *closed_out = std::move(closed);
    return row;
  }
  static EtaDataset Month(const std::string& month) {
    auto later = LoadEtaDataset({Green(month)}, zones_, {});
    EXPECT_TRUE(later.ok()) << later.status().ToString();
    if (!later.ok()) return {};
    std::vector<size_t> order = MeteredInPickupOrder(*later);
    order.resize(std::min<size_t>(order.size(), 40000));
    return Subset(*later, order);
  }
  static void PrintTable(const std::vector<EstimateRow>& rows, size_t pooled_from) {
    std::printf(
        "\n| replay | windows of 1000 | anchored estimate within 15%% of realised | unanchored "
        "(DLE) within 15%% | mean anchored / unanchored / realised RMSE | mean abs(est − real) "
        "/ real, anchored / unanchored | ceiling: the month's own RMSE within 15%% |\n"
        "|---|---:|---:|---:|---:|---:|---:|\n");
    int windows = 0, within = 0, within_raw = 0, oracle = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      const EstimateRow& r = rows[i];
      std::printf("| %s | %d | %d (%.0f%%) | %d (%.0f%%) | %.3f / %.3f / %.3f | %.1f%% / %.1f%% "
                  "| %d (%.0f%%) |\n",
                  r.month.c_str(), r.windows, r.within, 100.0 * r.within / r.windows,
                  r.within_raw, 100.0 * r.within_raw / r.windows, r.est / r.windows,
                  r.est_raw / r.windows, r.real / r.windows, 100 * r.rel / r.windows,
                  100 * r.rel_raw / r.windows, r.oracle_within,
                  100.0 * r.oracle_within / r.windows);
      if (i >= pooled_from) {
        windows += r.windows;
        within += r.within;
        within_raw += r.within_raw;
        oracle += r.oracle_within;
      }
    }
    std::printf("| pooled (from %s) | %d | %d (%.0f%%) | %d (%.0f%%) | | | %d (%.0f%%) |\n\n",
                rows[pooled_from].month.c_str(), windows, within, 100.0 * within / windows,
                within_raw, 100.0 * within_raw / windows, oracle, 100.0 * oracle / windows);
  }
};

// The anchoring's two choices (how many windows back, how many prior rows it is shrunk with)
// were made on 2021-02 and 2021-03 replays only, never on the 2022/2023 months reported below:
// this prints, for a grid of choices, how many windows each puts within 15% (recomputed from the
// replays' windows), and the live monitor's result with the defaults.
TEST_F(EtaEstimatedAccuracyTest, AnchoringChoicesAreMadeOn2021Replays) {
  std::vector<EstimateRow> rows;
  std::vector<std::vector<monitoring::WindowAccuracy>> windows;
  for (const std::string month : {"2021-02", "2021-03"}) {
    windows.emplace_back();
    rows.push_back(Measure(month, Month(month), &windows.back()));
  }
  PrintTable(rows, 0);
  const int total = rows[0].windows + rows[1].windows;
  std::printf("| anchor windows \\ prior rows: within 15%%, mean abs(est − real) / real | 0 | 250 "
              "| 1000 | 4000 | 16000 |\n"
              "|---|---:|---:|---:|---:|---:|\n");
  for (int64_t m : {1, 2, 4, 8, 16}) {
    std::printf("| %lld |", static_cast<long long>(m));
    for (double n0 : {0.0, 250.0, 1000.0, 4000.0, 16000.0}) {
      double rel = 0;
      const int within = WithinWhenAnchored(windows[0], m, n0, &rel) +
                         WithinWhenAnchored(windows[1], m, n0, &rel);
      std::printf(" %d (%.0f%%), %.1f%% |", within, 100.0 * within / total, 100 * rel / total);
    }
    std::printf("\n");
  }
  std::printf("(windows within 15%% of %d on 2021-02 + 2021-03; unanchored: %d)\n\n", total,
              rows[0].within_raw + rows[1].within_raw);
  // The prior's target (results/monitoring.md, "The anchor's prior"): 1 (L = 0), or the ratio
  // over the L windows before; the rule picks the smallest mean relative error over the grid.
  double best_rel = 1e18, current_rel = 0;
  std::string best;
  for (int64_t l : {int64_t{0}, int64_t{8}, int64_t{16}, kAllWindows}) {
    const std::string name = l == kAllWindows ? "all" : std::to_string(l);
    std::printf("| L = %s: anchor windows \\ prior rows | 0 | 250 | 1000 | 4000 | 16000 |\n"
                "|---|---:|---:|---:|---:|---:|\n",
                name.c_str());
    for (int64_t m : {1, 2, 4, 8, 16}) {
      std::printf("| %lld |", static_cast<long long>(m));
      for (double n0 : {0.0, 250.0, 1000.0, 4000.0, 16000.0}) {
        double rel = 0;
        const int within = WithinWhenAnchored(windows[0], m, n0, &rel, l) +
                           WithinWhenAnchored(windows[1], m, n0, &rel, l);
        std::printf(" %d (%.0f%%), %.2f%% |", within, 100.0 * within / total, 100 * rel / total);
        if (l == 0 && m == 2 && n0 == 1000.0) current_rel = rel;
        if (rel < best_rel) {
          best_rel = rel;
          best = "L = " + name + ", m = " + std::to_string(m) + ", n0 = " +
                 std::to_string(static_cast<int>(n0));
        }
      }
      std::printf("\n");
    }
    std::printf("\n");
  }
  std::printf("smallest mean relative error: %s (%.2f%%); today's (L = 0, 2, 1000): %.2f%%\n\n",
              best.c_str(), 100 * best_rel / total, 100 * current_rel / total);
  // The trips of 2021-02/03 are slower than January's for the same inputs (bias about −1.2 min):
  // the anchored estimate is within 15% on more of their windows than the estimator alone.
  EXPECT_GT(rows[0].within + rows[1].within, rows[0].within_raw + rows[1].within_raw);
}

// The loss estimator's choices (which rows it learns the squared error from, its objective) are
// made on 2021-02 and 2021-03 only, as the anchoring's were: each candidate is published with the
// same model (the same data, config and seed), and its windows of 1000 trips are computed offline
// from the version folder — the model's predictions and the estimator's on the served features,
// as the monitor computes them — then anchored as WithinWhenAnchored does. The rule (written down
// in results/monitoring.md before this ran): the smallest mean relative error of the anchored
// estimate at the anchoring defaults over the 80 windows.
TEST_F(EtaEstimatedAccuracyTest, LossEstimatorChoicesAreMadeOn2021Replays) {
  struct Candidate {
    EtaLossRows rows;
    std::string objective;
  };
  const std::vector<Candidate> candidates = {
      {EtaLossRows::kValidationHalf, "reg:squarederror"},
      {EtaLossRows::kValidationCrossFit, "reg:squarederror"},
      {EtaLossRows::kTrainingOutOfFold, "reg:squarederror"},
      {EtaLossRows::kValidationHalf, "reg:gamma"},
      {EtaLossRows::kValidationCrossFit, "reg:gamma"},
      {EtaLossRows::kTrainingOutOfFold, "reg:gamma"}};
  const std::vector<EtaDataset> months = {Month("2021-02"), Month("2021-03")};
  std::printf("\n| loss estimator rows | objective | fit rows | trees | unanchored within 15%%, "
              "mean rel. error | anchored (2 windows, 1000 prior rows) within 15%%, mean rel. "
              "error | anchored, best of the grid |\n|---|---|---:|---:|---:|---:|---:|\n");
  for (const Candidate& cand : candidates) {
    EtaTrainConfig c = *config_;
    c.drift_window_rows = 0;  // not what is compared
    c.loss_estimator_rows = cand.rows;
    c.loss_estimator_objective = cand.objective;
    c.loss_estimator_max_rounds = 500;  // the cap these candidates were chosen under
    const std::string dir = *repo_ + "/candidate";
    std::filesystem::remove_all(dir);
    auto trained = TrainEtaModel(*train_, *valid_, zones_, nullptr, c, dir, nullptr);
    ASSERT_TRUE(trained.ok()) << trained.status().ToString();
    const nlohmann::json loss =
        nlohmann::json::parse(trained->manifest.properties.at("loss_estimator"));
    auto loaded = LoadEtaModel(dir);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    auto estimator = models::LoadModel("native_trees", dir + "/" + kEtaLossModelFile);
    ASSERT_TRUE(estimator.ok()) << estimator.status().ToString();
    std::vector<std::vector<monitoring::WindowAccuracy>> windows;
    int total = 0, within_raw = 0;
    double rel_raw = 0;
    for (const EtaDataset& d : months) {
      auto predicted = PredictEta(*loaded, d.trips);
      ASSERT_TRUE(predicted.ok());
      auto x = MakeEtaTabularData(loaded->context, d);
      ASSERT_TRUE(x.ok());
      auto e = (*estimator)->Predict(EtaLossEstimatorInputs(*x, *predicted));
      ASSERT_TRUE(e.ok());
      windows.emplace_back();
      for (int64_t b = 0; b + kEstimateWindow <= x->rows; b += kEstimateWindow) {
        monitoring::WindowAccuracy w;
        w.window = b / kEstimateWindow;
        w.metrics = train::ComputeMetrics(
            std::span<const float>(predicted->data() + b, kEstimateWindow),
            std::span<const float>(d.minutes.data() + b, kEstimateWindow));
        double sq = 0;
        for (int64_t r = b; r < b + kEstimateWindow; ++r) {
          const float v = (*e)[static_cast<size_t>(r)];
          sq += std::isfinite(v) ? std::max(0.0f, v) : 0.0f;
        }
        w.labelled_rows = w.estimated_rows = kEstimateWindow;
        w.estimated_rmse_unanchored = std::sqrt(sq / kEstimateWindow);
        ++total;
        within_raw += Within15(w.estimated_rmse_unanchored, w.metrics.rmse);
        rel_raw += std::fabs(w.estimated_rmse_unanchored - w.metrics.rmse) / w.metrics.rmse;
        windows.back().push_back(w);
      }
    }
    double rel = 0;
    const int within = WithinWhenAnchored(windows[0], 2, 1000, &rel) +
                       WithinWhenAnchored(windows[1], 2, 1000, &rel);
    double best_rel = 1e9;
    std::string best;
    for (int64_t m : {1, 2, 4, 8, 16}) {
      for (double n0 : {0.0, 250.0, 1000.0, 4000.0, 16000.0}) {
        double r = 0;
        const int k = WithinWhenAnchored(windows[0], m, n0, &r) +
                      WithinWhenAnchored(windows[1], m, n0, &r);
        if (r < best_rel) {
          best_rel = r;
          char buf[128];
          std::snprintf(buf, sizeof buf, "%d (%.0f%%), %.2f%% at (%lld, %.0f)", k,
                        100.0 * k / total, 100 * r / total, static_cast<long long>(m), n0);
          best = buf;
        }
      }
    }
    std::printf("| %s | %s | %lld | %d | %d (%.0f%%), %.2f%% | %d (%.0f%%), %.2f%% | %s |\n",
                std::string(EtaLossRowsName(cand.rows)).c_str(), cand.objective.c_str(),
                static_cast<long long>(loss.at("fit_rows").get<int64_t>()),
                loss.at("rounds").get<int>(), within_raw, 100.0 * within_raw / total,
                100 * rel_raw / total, within, 100.0 * within / total, 100 * rel / total,
                best.c_str());
    std::fflush(stdout);
    EXPECT_EQ(loss.at("rows").get<std::string>(), EtaLossRowsName(cand.rows));
    EXPECT_EQ(total, 80);
  }
}

// The must-show: replays of later green months (2022, 2023) through the model trained
// on the odd days of 2021-01, and its even days (exchangeable) for reference.
TEST_F(EtaEstimatedAccuracyTest, EstimatedRmseBeforeLabelsIsCloseToTheRealisedOne) {
  std::vector<EstimateRow> rows;
  {
    std::vector<size_t> order = MeteredInPickupOrder(*even_days_);
    rows.push_back(Measure("2021-01 even days", Subset(*even_days_, order)));
  }
  for (const std::string month : {"2022-01", "2022-02", "2023-01", "2023-02", "2023-03"}) {
    rows.push_back(Measure(month, Month(month)));
  }
  PrintTable(rows, 1);
  int later = 0, within = 0, within_raw = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    later += rows[i].windows;
    within += rows[i].within;
    within_raw += rows[i].within_raw;
  }
  // On exchangeable data the estimate is within 10% of the realised RMSE on average, and within
  // 15% on at least 70% of the windows (where even the month's own RMSE as the estimate gets
  // about 89%).
  ASSERT_GE(rows[0].windows, 30);
  EXPECT_LE(rows[0].rel / rows[0].windows, 0.10) << "exchangeable data";
  EXPECT_GE(rows[0].within, 0.7 * rows[0].windows) << "exchangeable data";
  // On the later years the anchored estimate follows the concept drift the estimator alone
  // cannot see (results/monitoring.md has the table and whether the 80% bar is met).
  ASSERT_GE(later, 150);
  EXPECT_GT(within, within_raw) << "anchored vs unanchored on 2022 + 2023";
}

}  // namespace
}  // namespace bimride::tasks::eta
