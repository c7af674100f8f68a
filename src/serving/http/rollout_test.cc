// Zero failed requests while labels move (rollback) and versions hot-swap under load.
// (Steps use EXPECT so the client threads are always stopped and joined.)
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "serving/http/http_client.h"
#include "serving/http/http_transport.h"
#include "registry/registry.h"
#include "serving/testing/test_models.h"

namespace bimride::serving::http {
namespace {

class RolloutTest : public ::testing::TestWithParam<bool> {};

Status Publish(const std::string& repo, int64_t version, bool broken = false) {
  testing::TestVersionOptions o;
  o.bias = {static_cast<float>(version)};  // the answer for a zero row names the version
  // A version that fails to load: its warm-up fails. (Not a corrupted digest: the polling
  // server could load the version between its publication and the corruption.)
  o.fail_predict = broken;
  o.load_delay_ms = 40;  // loads take a while, as real ones do: requests must not see them
  return testing::WriteTestVersion(repo, "eta", version, o);
}

// Promotions and rollbacks made as `bimride models promote|rollback` makes them (through the
// registry: labels.json + audit), followed by a polling server with the default version policy
// (latest 1), so a rollback often moves `stable` to a version that is not loaded any more.
TEST_P(RolloutTest, NoFailedRequestsWhileLabelsMoveAndVersionsSwap) {
  const bool batching = GetParam();
  testing::RegisterTestBackendAndFeatures();
  const std::string repo = testing::MakeTempDir("rollout_test");
  ASSERT_TRUE(Publish(repo, 1).ok());
  ASSERT_TRUE(Publish(repo, 2).ok());
  auto reg = registry::Registry::Open(repo);
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  auto promote = [&](const char* label, int64_t version) {
    auto m = (*reg)->Promote("eta", version, label, "rollout test", "test");
    EXPECT_TRUE(m.ok()) << m.status().ToString();
  };
  promote("stable", 1);
  promote("canary", 2);
  ServerConfig config;
  config.model_repo = repo;
  config.port = 0;
  config.io_threads = 2;
  config.poll_interval_ms = 10;
  ASSERT_EQ(config.ForModel("eta").policy.latest, 1) << "the default policy is under test";
  ModelConfig& mc = config.models["eta"];
  mc.routing.split = {{"stable", 90}, {"canary", 10}};
  mc.routing.shadow = {"canary"};
  if (batching) mc.batching = {.max_batch_size = 8, .max_queue_delay_us = 300,
                               .max_queue_size = 4096};
  auto server = StartHttpServer(config);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const int port = HttpPort(**server);
  ServableManager& manager = (*server)->manager();

  std::atomic<bool> stop{false};
  std::atomic<int64_t> ok{0}, failed{0};
  std::mutex mu;
  std::map<int, int64_t> answers_by_version;
  std::string first_failure;
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      http::HttpClient client("127.0.0.1", port);
      std::map<int, int64_t> mine;
      const std::string targets[] = {"/v1/models/eta:predict",
                                     "/v1/models/eta/labels/stable:predict"};
      for (int i = 0; !stop.load(); ++i) {
        auto r = client.Post(targets[(i + c) % 2], R"({"instances": [[0, 0, 0]]})");
        if (r.ok() && r->status == 200) {
          ok++;
          auto j = nlohmann::json::parse(r->body);
          mine[static_cast<int>(j["predictions"][0].get<float>())]++;
        } else {
          failed++;
          std::lock_guard<std::mutex> lock(mu);
          if (first_failure.empty()) {
            first_failure = r.ok() ? std::to_string(r->status) + " " + r->body
                                   : r.status().ToString();
          }
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      for (auto [v, n] : mine) answers_by_version[v] += n;
    });
  }
  auto pause = [] { std::this_thread::sleep_for(std::chrono::milliseconds(60)); };
  // Promote the canary, roll back, again and again: each rollback finds version 1 unloaded
  // (neither latest nor labelled) and the label keeps serving 2 until 1 is loaded again.
  for (int i = 0; i < 6; ++i) {
    promote("stable", 2);
    pause();
    auto back = (*reg)->Rollback("eta", "stable", "rollout test", "test");
    EXPECT_TRUE(back.ok()) << back.status().ToString();
    if (back.ok()) {
      EXPECT_EQ(back->to_version, 1);
    }
    pause();
  }
  // Hot swap: version 3 arrives; labels move onto it; version 1 loses its label and unloads.
  EXPECT_TRUE(Publish(repo, 3).ok());
  pause();
  promote("canary", 3);
  promote("stable", 2);
  pause();
  // Stable moves to 3; the previous stable stays loaded as canary, ready for a rollback.
  promote("stable", 3);
  promote("canary", 2);
  // A broken version 4 fails to load and changes nothing.
  EXPECT_TRUE(Publish(repo, 4, /*broken=*/true).ok());
  pause();
  // Rollback.
  auto back = (*reg)->Rollback("eta", "stable", "rollout test", "test");
  EXPECT_TRUE(back.ok()) << back.status().ToString();
  pause();
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_TRUE(manager.ReconcileAll().ok());

  EXPECT_EQ(failed.load(), 0) << "first failure: " << first_failure;
  EXPECT_GT(ok.load(), 200);
  EXPECT_GT(answers_by_version[1], 0);
  EXPECT_GT(answers_by_version[2], 0);
  EXPECT_GT(answers_by_version[3], 0);
  EXPECT_EQ(answers_by_version.count(4), 0u);
  auto status = manager.GetStatus("eta");
  ASSERT_TRUE(status.ok());
  std::map<int64_t, VersionState> states;
  for (const auto& v : *status) states[v.version] = v.state;
  EXPECT_EQ(states[1], VersionState::kEnd);
  EXPECT_EQ(states[2], VersionState::kAvailable);
  EXPECT_EQ(states[3], VersionState::kAvailable);
  EXPECT_EQ(states[4], VersionState::kEnd);
  (*server)->Shutdown();
}

INSTANTIATE_TEST_SUITE_P(BatchingOffAndOn, RolloutTest, ::testing::Bool());

}  // namespace
}  // namespace bimride::serving::http
