// console_fixture_server: the model server stack with the web console over a registry and a
// monitor the size the console must handle — what the browser test (ui/test/console_test.mjs)
// loads its pages from.
//
//   registry (--models × --versions): model "eta" published through the Registry (folders,
//     manifests with metrics, sha256, its index) with label moves through Promote; the other
//     models' versions, labels and audit rows written to the registry's metadata store only (the
//     index the console's list pages read; 10,000 published folders would take minutes here);
//     --runs tracked runs with per-epoch curves.
//   serving: a test model "eta" (versions 1 and 2, labels stable and canary, routed 80/20 by the
//     server's canary router) served over HTTP by the real Service and HttpTransport, and a load
//     thread sending predictions (and a bad request in 50), so the traffic page has live rates,
//     errors, latencies and a split.
//   monitoring: a real LiveMonitor with calibrated drift baselines, fed --days days of
//     predictions (one window of --window-rows rows per hour) and their labels through the
//     observer interface the prediction log calls — a live server stamps the wall clock, so a
//     month of history cannot come through a test's HTTP requests; in the last week the distance
//     feature drifts and errors grow, so there are alarms. Version 1 has a loss model (estimated
//     RMSE 2.00 in every window), version 2 none.
//
// Prints "port N" once serving; runs until stdin closes. Usage:
//   console_fixture_server --dir DIR --ui-dir UI [--ui-data D] [--models 50] [--versions 200]
//                          [--days 30] [--runs 20]
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <random>
#include <thread>

#include "common/civil_time.h"
#include "common/file.h"
#include "common/flags.h"
#include "console/console_handler.h"
#include "monitoring/drift.h"
#include "monitoring/live_monitor.h"
#include "registry/registry.h"
#include "serving/http/http_client.h"
#include "serving/http/http_transport.h"
#include "serving/servable_manager.h"
#include "serving/service.h"
#include "serving/shadow_queue.h"
#include "serving/testing/test_models.h"

namespace bimride {
namespace {

constexpr int64_t kDayUs = 86'400'000'000;

int Fail(const Status& s) {
  std::fprintf(stderr, "console_fixture_server: %s\n", s.ToString().c_str());
  return 1;
}

Status BuildRegistry(const std::string& repo, int models, int versions, int runs) {
  ASSIGN_OR_RETURN(std::unique_ptr<registry::Registry> reg, registry::Registry::Open(repo));
  const std::string scratch = serving::testing::MakeTempDir("console_fixture_artifact");
  RETURN_IF_ERROR(WriteFileAtomic(scratch + "/model.json", "{\"weights\": [[1, 1, 1]]}"));
  std::vector<std::string> run_ids;
  std::mt19937 rng(7);
  for (int i = 0; i < runs; ++i) {
    const double lr = i % 2 ? 0.003 : 0.01;
    ASSIGN_OR_RETURN(auto run, reg->StartRun(i % 3 ? "eta" : "demand",
                                             {{"lr", std::to_string(lr)},
                                              {"epochs", "50"},
                                              {"hidden", std::to_string(64 << (i % 3))}},
                                             {{"fixture", "console"}}));
    for (int epoch = 1; epoch <= 50; ++epoch) {
      const double base = 5.0 + 3.0 * std::exp(-epoch * lr * 10) + 0.02 * (i % 5);
      RETURN_IF_ERROR(run->LogMetrics({{"train_rmse", base - 0.2}, {"val_rmse", base}}, epoch));
    }
    RETURN_IF_ERROR(run->EndRun(registry::RunStatus::kFinished));
    run_ids.push_back(run->run_id());
  }
  registry::MetadataStore& store = reg->store();
  const int64_t t0 = 1'764'547'200'000;  // 2025-12-01 UTC, ms
  for (int mi = 0; mi < models; ++mi) {
    const std::string name = mi == 0 ? "eta" : (mi % 2 ? "demand_" : "eta_") + std::to_string(mi);
    for (int v = 1; v <= versions; ++v) {
      const std::string run = run_ids.empty() ? "" : run_ids[(mi + v) % run_ids.size()];
      if (mi == 0) {
        registry::Manifest m;
        m.name = name;
        m.task = "eta";
        m.backend = "baseline";
        m.inputs = {{"features", registry::DType::kFloat32, {-1, 3}}};
        m.outputs = {{"y", registry::DType::kFloat32, {-1, 1}}};
        m.metrics["val_rmse"] = 6.0 - v * 0.004;
        m.run_id = run;
        ASSIGN_OR_RETURN(registry::Manifest published,
                         reg->Publish({{scratch + "/model.json", ""}}, m));
        (void)published;
      } else {
        RETURN_IF_ERROR(store.RecordVersion({name, v, name + "/" + std::to_string(v), run,
                                             mi % 2 ? "demand" : "eta",
                                             mi % 3 ? "xgboost" : "torch",
                                             t0 + (int64_t{v} * 3600 + mi) * 1000}));
      }
    }
    // A rollout history: stable walks up every 20 versions, a canary ahead of it.
    for (int v = 20; v <= versions; v += 20) {
      for (const char* label : {"canary", "stable"}) {
        const int64_t to = std::string(label) == "canary" ? v : v - 10;
        const std::string why = std::string(label) + " step to " + std::to_string(to);
        if (mi == 0) {
          RETURN_IF_ERROR(reg->Promote(name, to, label, why, "fixture").status());
        } else {
          registry::LabelMoveRequest r{name, label, to, registry::LabelAction::kPromote, why,
                                       "fixture", std::nullopt};
          RETURN_IF_ERROR(store.MoveLabel(r).status());
        }
      }
    }
  }
  return OkStatus();
}

// Training values of the test model's features: zone 1..263, distance (miles), hour.
std::vector<float> Draw(std::mt19937& rng, int feature, bool drifted) {
  std::vector<float> v(1);
  if (feature == 0) v[0] = static_cast<float>(std::uniform_int_distribution<int>(1, 263)(rng));
  if (feature == 1) {
    std::lognormal_distribution<float> d(drifted ? 1.3f : 0.8f, 0.6f);
    v[0] = d(rng);
  }
  if (feature == 2) v[0] = static_cast<float>(std::uniform_int_distribution<int>(0, 23)(rng));
  return v;
}

const std::vector<std::string> kFeatures = {"pickup_zone", "trip_distance", "hour"};

StatusOr<monitoring::DriftBaseline> MakeBaseline(int64_t window_rows) {
  std::mt19937 rng(1);
  std::map<std::string, std::vector<float>> columns;
  for (int i = 0; i < 400 * window_rows; ++i) {
    for (int f = 0; f < 3; ++f) columns[kFeatures[f]].push_back(Draw(rng, f, false)[0]);
  }
  monitoring::DriftBaseline b;
  for (const auto& [name, values] : columns) b.stats[name] = registry::ComputeFeatureStats(values);
  ASSIGN_OR_RETURN(b.calibration, monitoring::CalibrateDrift(b.stats, columns, window_rows, 0.05));
  return b;
}

Status FeedMonitor(monitoring::LiveMonitor* monitor, int days, int64_t window_rows) {
  std::mt19937 rng(3);
  const int64_t start = *ParseCivil("2026-11-01 00:00");
  int64_t id = 0;
  for (int64_t version : {1, 2}) {
    for (int64_t hour = 0; hour < days * 24; ++hour) {
      const bool drifted = hour >= (days - 7) * 24;  // the last week
      monitoring::PredictionBatch b;
      b.request_id = "fixture-" + std::to_string(version) + "-" + std::to_string(hour);
      b.time_us = start + hour * 3'600'000'000 + version;
      b.model = "eta";
      b.version = version;
      b.route = "primary";
      b.feature_names = kFeatures;
      b.output_names = {"y"};
      b.rows = window_rows;
      std::vector<monitoring::Feedback> labels;
      for (int64_t r = 0; r < window_rows; ++r) {
        for (int f = 0; f < 3; ++f) b.features.push_back(Draw(rng, f, drifted)[0]);
        const float predicted = 8 + 2 * b.features[b.features.size() - 2];
        b.outputs.push_back(predicted);
        const double noise = std::normal_distribution<double>(0, drifted ? 4.0 : 2.0)(rng) +
                             (version == 2 ? -0.2 : 0.0);
        labels.push_back({b.request_id, r, predicted + noise});
      }
      monitor->Observe(b);
      // Labels for 90% of the rows (as riders' trips end); the rest never come.
      labels.resize(labels.size() * 9 / 10);
      monitor->AddFeedback(labels);
      ++id;
    }
  }
  return OkStatus();
}

int Run(int argc, char** argv) {
  std::string dir, ui_dir, ui_data;
  int64_t models = 50, versions = 200, days = 30, runs = 20, window_rows = 100;
  FlagParser flags("console_fixture_server", "the browser test's server");
  flags.AddString("dir", &dir, "scratch folder", true);
  flags.AddString("ui-dir", &ui_dir, "the console's built pages", true);
  flags.AddString("ui-data", &ui_data, "zone series folder");
  flags.AddInt("models", &models, "models in the registry");
  flags.AddInt("versions", &versions, "versions per model");
  flags.AddInt("days", &days, "days of monitoring data");
  flags.AddInt("runs", &runs, "tracked runs");
  flags.AddInt("window-rows", &window_rows, "monitor window (one per hour)");
  std::vector<std::string> args(argv + 1, argv + argc);
  if (Status st = flags.Parse(args); !st.ok()) return Fail(st);

  const std::string registry_repo = dir + "/registry";
  const std::string serving_repo = dir + "/serving";
  if (Status st = BuildRegistry(registry_repo, static_cast<int>(models),
                                static_cast<int>(versions), static_cast<int>(runs));
      !st.ok()) {
    return Fail(st);
  }
  serving::testing::RegisterTestBackendAndFeatures();
  for (int v = 1; v <= 2; ++v) {
    if (Status st = serving::testing::WriteTestVersion(serving_repo, "eta", v); !st.ok()) {
      return Fail(st);
    }
  }
  serving::ServerConfig config;
  config.model_repo = serving_repo;
  config.port = 0;
  config.io_threads = 1;
  config.poll_interval_ms = 0;
  // Both versions, stable and canary, 80/20 by the router (the console's "canary split").
  serving::ModelConfig& eta = config.models["eta"];
  eta.policy.kind = serving::VersionPolicy::Kind::kAll;
  eta.labels = {{"stable", 1}, {"canary", 2}};
  eta.routing.split = {{"stable", 80}, {"canary", 20}};
  auto baseline = MakeBaseline(window_rows);
  if (!baseline.ok()) return Fail(baseline.status());
  monitoring::LiveMonitorOptions mo;
  mo.window_rows = window_rows;
  mo.anchor_windows = 0;  // the loss model's own estimate, unanchored: 2.00 (the console test)
  // Version 1 has a loss model (its expected squared error per row: 4, the noise of its
  // undrifted weeks, so an estimated RMSE of 2.00 in every window); version 2 has none.
  auto monitor = monitoring::LiveMonitor::Create(
      mo,
      [b = *baseline](const std::string&, int64_t version) -> StatusOr<monitoring::DriftBaseline> {
        monitoring::DriftBaseline with = b;
        if (version == 1) {
          with.loss_features = {"trip_distance"};
          with.loss_estimator = [](const std::vector<float>&,
                                   int64_t rows) -> StatusOr<std::vector<float>> {
            return std::vector<float>(static_cast<size_t>(rows), 4.0f);
          };
        }
        return with;
      });
  if (!monitor.ok()) return Fail(monitor.status());
  if (Status st = FeedMonitor(monitor->get(), static_cast<int>(days), window_rows); !st.ok()) {
    return Fail(st);
  }
  serving::ServingMetrics metrics;
  serving::ServableManager manager(config, &metrics, nullptr);
  if (Status st = manager.Start(); !st.ok()) return Fail(st);
  serving::ShadowQueue shadows(serving::ShadowQueueOptions{});
  shadows.Start();
  serving::Service service(&manager, &metrics, &shadows, config.max_batch_rows, nullptr,
                           monitor->get());

  console::ConsoleOptions co;
  co.model_repo = registry_repo;
  co.data_dir = ui_data;
  auto data = console::ConsoleData::Open(co, &service);
  if (!data.ok()) return Fail(data.status());
  auto assets = console::LoadAssets(ui_dir);
  if (!assets.ok()) return Fail(assets.status());
  auto http = serving::http::HttpTransport::Create(
      &service, config,
      std::make_unique<console::ConsoleHandler>(std::move(data).value(), std::move(assets).value()));
  if (!http.ok()) return Fail(http.status());
  if (Status st = (*http)->Start(); !st.ok()) return Fail(st);
  const int port = (*http)->port();

  std::atomic<bool> stop{false};
  std::thread load([&] {
    serving::http::HttpClient client("127.0.0.1", port);
    for (int64_t i = 0; !stop.load(); ++i) {
      const std::string body = i % 50 == 49 ? "{\"instances\": [[1, 2]]}"  // a bad request
                                             : "{\"instances\": [[1, 2, 3]]}";
      (void)client.Post("/v1/models/eta:predict", body);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  std::printf("port %d\n", port);
  std::fflush(stdout);
  std::string line;
  while (std::getline(std::cin, line)) {
  }
  stop.store(true);
  load.join();
  (*http)->Stop(1000);
  shadows.Stop();
  manager.Stop();
  return 0;
}

}  // namespace
}  // namespace bimride

int main(int argc, char** argv) { return bimride::Run(argc, argv); }
