#include "serving/servable_manager.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>
#include <map>
#include <atomic>

#include "common/file.h"
#include "serving/canary_router.h"
#include "serving/testing/test_models.h"

namespace bimride::serving {
namespace {

class ServableManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::RegisterTestBackendAndFeatures();
    config_.model_repo = testing::MakeTempDir("servable_manager_test");
    config_.poll_interval_ms = 0;  // tests reconcile explicitly
  }
  // A version whose output is `bias` for all-zero input: tells versions apart in answers.
  void Write(const std::string& model, int64_t version, testing::TestVersionOptions o = {}) {
    if (o.bias == std::vector<float>{0}) o.bias = {static_cast<float>(version)};
    ASSERT_TRUE(testing::WriteTestVersion(config_.model_repo, model, version, o).ok());
  }
  std::vector<int64_t> Available(ServableManager& m, const std::string& model) {
    std::vector<int64_t> out;
    for (const auto& [v, s] : m.Snapshot(model)->available) out.push_back(v);
    return out;
  }
  ServerConfig config_;
  ServingMetrics metrics_;
};

TEST_F(ServableManagerTest, LatestPolicyServesNewestAndSwapsOnNewVersion) {
  Write("eta", 1);
  Write("eta", 2);
  ServableManager m(config_, &metrics_);
  ASSERT_TRUE(m.Start().ok());
  EXPECT_TRUE(m.Ready());
  EXPECT_EQ(Available(m, "eta"), (std::vector<int64_t>{2}));
  auto old = m.Snapshot("eta")->available.at(2);  // an in-flight request's reference
  Write("eta", 3);
  ASSERT_TRUE(m.ReconcileAll().ok());
  EXPECT_EQ(Available(m, "eta"), (std::vector<int64_t>{3}));
  auto status = m.GetStatus("eta");
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(status->size(), 2u) << "version 1 was never aspired, so never tracked";
  EXPECT_EQ(status->at(0).version, 2);
  EXPECT_EQ(status->at(0).state, VersionState::kUnloading) << "held by a request";
  EXPECT_EQ(old->spec().version, 2) << "the in-flight request keeps a working servable";
  old.reset();
  ASSERT_TRUE(m.ReconcileAll().ok());
  EXPECT_EQ(m.GetStatus("eta")->at(0).state, VersionState::kEnd);
}

TEST_F(ServableManagerTest, SpecificAndAllPolicies) {
  for (int v = 1; v <= 3; ++v) Write("eta", v);
  config_.models["eta"].policy.kind = VersionPolicy::Kind::kSpecific;
  config_.models["eta"].policy.specific = {1, 3};
  {
    ServableManager m(config_, &metrics_);
    ASSERT_TRUE(m.Start().ok());
    EXPECT_EQ(Available(m, "eta"), (std::vector<int64_t>{1, 3}));
  }
  config_.models["eta"].policy.kind = VersionPolicy::Kind::kAll;
  ServableManager m(config_, &metrics_);
  ASSERT_TRUE(m.Start().ok());
  EXPECT_EQ(Available(m, "eta"), (std::vector<int64_t>{1, 2, 3}));
}

TEST_F(ServableManagerTest, FailedLoadKeepsPreviousVersionServingAndReportsError) {
  Write("eta", 1);
  ServableManager m(config_, &metrics_);
  ASSERT_TRUE(m.Start().ok());
  testing::TestVersionOptions bad;
  bad.corrupt_digest = true;
  Write("eta", 2, bad);
  testing::TestVersionOptions failing;
  failing.fail_predict = true;
  Write("eta", 3, failing);
  ASSERT_TRUE(m.ReconcileAll().ok());
  EXPECT_EQ(Available(m, "eta"), (std::vector<int64_t>{1}));
  auto status = *m.GetStatus("eta");
  ASSERT_EQ(status.size(), 3u);
  EXPECT_EQ(status[1].state, VersionState::kEnd);
  EXPECT_EQ(status[1].status.code(), StatusCode::kDataLoss);
  EXPECT_EQ(status[2].state, VersionState::kEnd);
  EXPECT_NE(status[2].status.message().find("warm-up"), std::string::npos)
      << status[2].status.message();
  EXPECT_EQ(metrics_.For("eta", 2)->load_failures.load(), 1u);
  // Unchanged manifests are not retried on every poll.
  ASSERT_TRUE(m.ReconcileAll().ok());
  EXPECT_EQ(metrics_.For("eta", 2)->load_failures.load(), 1u);
  EXPECT_TRUE(m.Ready());
  // A fixed version 4 replaces 1.
  Write("eta", 4);
  ASSERT_TRUE(m.ReconcileAll().ok());
  EXPECT_EQ(Available(m, "eta"), (std::vector<int64_t>{4}));
}

TEST_F(ServableManagerTest, VersionWhoseFeatureAdapterCannotBeBuiltIsRefused) {
  RegisterFeatureAdapterFactory("needs_context_v1", [](const FeatureAdapterContext& c)
                                    -> StatusOr<FeatureAdapter> {
    return NotFoundError(c.version_dir + "/context.json: no such file");
  });
  testing::TestVersionOptions raw;
  raw.feature_spec = "test_trip_v1";
  Write("trip", 1, raw);
  ServableManager m(config_, &metrics_);
  ASSERT_TRUE(m.Start().ok());
  testing::TestVersionOptions unknown;
  unknown.feature_spec = "no_such_spec";
  Write("trip", 2, unknown);
  testing::TestVersionOptions failing;
  failing.feature_spec = "needs_context_v1";
  Write("trip", 3, failing);
  ASSERT_TRUE(m.ReconcileAll().ok());
  EXPECT_EQ(Available(m, "trip"), (std::vector<int64_t>{1}));
  auto status = *m.GetStatus("trip");
  ASSERT_EQ(status.size(), 3u);
  EXPECT_EQ(status[1].status.code(), StatusCode::kNotFound);
  EXPECT_NE(status[1].status.message().find("no feature adapter registered for feature spec "
                                            "'no_such_spec'"),
            std::string::npos)
      << status[1].status.message();
  EXPECT_NE(status[2].status.message().find("/3/context.json: no such file"), std::string::npos)
      << status[2].status.message();
  EXPECT_NE(m.Snapshot("trip")->available.at(1)->feature_adapter(), nullptr);
}

TEST_F(ServableManagerTest, LabelsLoadTheirVersionsAndMoveInstantly) {
  for (int v = 1; v <= 3; ++v) Write("eta", v);
  config_.models["eta"].labels = {{"stable", 1}, {"canary", 2}};
  ServableManager m(config_, &metrics_);
  ASSERT_TRUE(m.Start().ok());
  EXPECT_EQ(Available(m, "eta"), (std::vector<int64_t>{1, 2, 3}))
      << "latest (3) plus the labelled versions";
  auto route = RouteRequest(*m.Snapshot("eta"), {}, "");
  ASSERT_TRUE(route.ok());
  EXPECT_EQ(route->primary->spec().version, 1) << "default route is the stable label";
  ASSERT_TRUE(WriteFileAtomic(config_.model_repo + "/eta/labels.json", R"({"stable": 3})").ok());
  ASSERT_TRUE(m.Refresh("eta").ok());
  EXPECT_EQ(RouteRequest(*m.Snapshot("eta"), {}, "")->primary->spec().version, 3);
  EXPECT_EQ(m.Refresh("nope").code(), StatusCode::kNotFound);
  EXPECT_EQ(m.Refresh("../eta").code(), StatusCode::kInvalidArgument);
}

TEST_F(ServableManagerTest, LabelFileInRepositoryIsFollowedOnPoll) {
  Write("eta", 1);
  Write("eta", 2);
  ServableManager m(config_, &metrics_);
  ASSERT_TRUE(m.Start().ok());
  ASSERT_TRUE(WriteFileAtomic(config_.model_repo + "/eta/labels.json", R"({"stable": 1})").ok());
  ASSERT_TRUE(m.ReconcileAll().ok());
  EXPECT_EQ(Available(m, "eta"), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(RouteRequest(*m.Snapshot("eta"), {}, "")->primary->spec().version, 1);
}

TEST_F(ServableManagerTest, LabelMoveBetweenLoadedVersionsIsFollowedOnPoll) {
  // Both versions stay loaded whatever the label says, so moving it loads and unloads nothing;
  // the next poll must still route by it (a rollback is exactly this).
  config_.model_defaults.policy.latest = 2;
  Write("eta", 1);
  Write("eta", 2);
  ASSERT_TRUE(WriteFileAtomic(config_.model_repo + "/eta/labels.json", R"({"stable": 1})").ok());
  ServableManager m(config_, &metrics_);
  ASSERT_TRUE(m.Start().ok());
  EXPECT_EQ(Available(m, "eta"), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(RouteRequest(*m.Snapshot("eta"), {}, "")->primary->spec().version, 1);
  ASSERT_TRUE(WriteFileAtomic(config_.model_repo + "/eta/labels.json", R"({"stable": 2})").ok());
  ASSERT_TRUE(m.ReconcileAll().ok());
  EXPECT_EQ(RouteRequest(*m.Snapshot("eta"), {}, "")->primary->spec().version, 2);
  ASSERT_TRUE(WriteFileAtomic(config_.model_repo + "/eta/labels.json", R"({"stable": 1})").ok());
  ASSERT_TRUE(m.ReconcileAll().ok());
  EXPECT_EQ(RouteRequest(*m.Snapshot("eta"), {}, "")->primary->spec().version, 1);
}

// A rollback under the default policy (latest 1) moves `stable` to a version that is not
// loaded. The move takes effect only once that version is AVAILABLE; until then the old target
// keeps serving, so no request sees a 503. Afterwards the label keeps its version loaded.
TEST_F(ServableManagerTest, LabelMovedToUnloadedVersionTakesEffectOnceItIsAvailable) {
  testing::TestVersionOptions slow;
  slow.load_delay_ms = 300;
  Write("eta", 1, slow);
  Write("eta", 2, slow);
  ASSERT_TRUE(WriteFileAtomic(config_.model_repo + "/eta/labels.json", R"({"stable": 2})").ok());
  ServableManager m(config_, &metrics_);
  ASSERT_TRUE(m.Start().ok());
  ASSERT_EQ(Available(m, "eta"), (std::vector<int64_t>{2}));

  ASSERT_TRUE(WriteFileAtomic(config_.model_repo + "/eta/labels.json", R"({"stable": 1})").ok());
  std::atomic<bool> done{false};
  std::thread poll([&] {
    EXPECT_TRUE(m.ReconcileAll().ok());
    done = true;
  });
  const VersionSelector stable{std::nullopt, "stable"};
  std::map<int64_t, int> answered;
  std::string first_failure;
  bool saw_loading = false;
  while (!done) {
    auto snap = m.Snapshot("eta");
    auto state = snap->states.find(1);
    saw_loading |= state != snap->states.end() && state->second == VersionState::kLoading;
    for (const VersionSelector& s : {stable, VersionSelector{}}) {
      auto route = RouteRequest(*snap, s, "");
      if (route.ok()) {
        answered[route->primary->spec().version]++;
      } else if (first_failure.empty()) {
        first_failure = route.status().ToString();
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  poll.join();
  EXPECT_TRUE(saw_loading);
  EXPECT_EQ(first_failure, "") << "a request failed while the label's target was loading";
  EXPECT_GT(answered[2], 0) << "the old target serves while the new one loads";
  EXPECT_EQ(RouteRequest(*m.Snapshot("eta"), stable, "")->primary->spec().version, 1);
  EXPECT_EQ(Available(m, "eta"), (std::vector<int64_t>{1, 2})) << "latest plus the label's";
  ASSERT_TRUE(m.ReconcileAll().ok());
  EXPECT_EQ(Available(m, "eta"), (std::vector<int64_t>{1, 2})) << "kept loaded on later polls";
}

// A label moved to a version that cannot load stays where it was, in this server.
TEST_F(ServableManagerTest, LabelMovedToVersionThatFailsToLoadKeepsItsOldTarget) {
  config_.model_defaults.policy.latest = 2;
  Write("eta", 1);
  testing::TestVersionOptions broken;
  broken.fail_predict = true;  // warm-up fails, so the load fails
  Write("eta", 2, broken);
  ASSERT_TRUE(WriteFileAtomic(config_.model_repo + "/eta/labels.json", R"({"stable": 1})").ok());
  ServableManager m(config_, &metrics_);
  ASSERT_TRUE(m.Start().ok());
  ASSERT_TRUE(WriteFileAtomic(config_.model_repo + "/eta/labels.json", R"({"stable": 2})").ok());
  ASSERT_TRUE(m.ReconcileAll().ok());
  auto route = RouteRequest(*m.Snapshot("eta"), {std::nullopt, "stable"}, "");
  ASSERT_TRUE(route.ok()) << route.status().ToString();
  EXPECT_EQ(route->primary->spec().version, 1);
}

TEST_F(ServableManagerTest, UnloadAndLoadThroughRepositoryApi) {
  Write("eta", 1);
  ServableManager m(config_, &metrics_);
  ASSERT_TRUE(m.Start().ok());
  ASSERT_TRUE(m.UnloadModel("eta").ok());
  EXPECT_TRUE(m.Snapshot("eta")->available.empty());
  EXPECT_TRUE(m.Ready()) << "an unloaded model does not make the server unready";
  ASSERT_TRUE(m.ReconcileAll().ok());
  EXPECT_TRUE(m.Snapshot("eta")->available.empty()) << "stays unloaded across polls";
  ASSERT_TRUE(m.LoadModel("eta").ok());
  EXPECT_EQ(Available(m, "eta"), (std::vector<int64_t>{1}));
  EXPECT_EQ(m.LoadModel("nope").code(), StatusCode::kNotFound);
  EXPECT_EQ(m.UnloadModel("nope").code(), StatusCode::kNotFound);
}

TEST_F(ServableManagerTest, VersionRemovedFromDiskIsUnloaded) {
  Write("eta", 1);
  Write("eta", 2);
  ServableManager m(config_, &metrics_);
  ASSERT_TRUE(m.Start().ok());
  std::filesystem::remove_all(config_.model_repo + "/eta/2");
  ASSERT_TRUE(m.ReconcileAll().ok());
  EXPECT_EQ(Available(m, "eta"), (std::vector<int64_t>{1}));
}

TEST_F(ServableManagerTest, PollingPicksUpNewVersions) {
  Write("eta", 1);
  config_.poll_interval_ms = 20;
  ServableManager m(config_, &metrics_);
  ASSERT_TRUE(m.Start().ok());
  Write("eta", 2);
  for (int i = 0; i < 200 && Available(m, "eta") != std::vector<int64_t>{2}; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(Available(m, "eta"), (std::vector<int64_t>{2}));
}

// (How a split routes is canary_router_test's; here only that the snapshot carries it.)
TEST_F(ServableManagerTest, SnapshotCarriesTheModelsRoutingAndLabels) {
  Write("eta", 1);
  Write("eta", 2);
  ModelConfig& mc = config_.models["eta"];
  mc.labels = {{"stable", 1}, {"canary", 2}};
  mc.routing.split = {{"stable", 90}, {"canary", 10}};
  mc.routing.sticky_header = "x-rider-id";
  mc.routing.shadow = {"canary"};
  ServableManager m(config_, &metrics_);
  ASSERT_TRUE(m.Start().ok());
  auto snap = m.Snapshot("eta");
  ASSERT_NE(snap, nullptr);
  ASSERT_EQ(snap->routing.split.size(), 2u);
  EXPECT_EQ(snap->routing.split[1].label, "canary");
  EXPECT_EQ(snap->routing.split[1].weight, 10);
  EXPECT_EQ(snap->routing.sticky_header, "x-rider-id");
  EXPECT_EQ(snap->routing.shadow, (std::vector<std::string>{"canary"}));
  EXPECT_EQ(snap->labels, (std::map<std::string, int64_t>{{"stable", 1}, {"canary", 2}}));
}

}  // namespace
}  // namespace bimride::serving
