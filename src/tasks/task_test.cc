// The task registry, proven with a fixture task (testing/fare_task.cc) that follows
// docs/architecture.md's recipe literally and is registered only in this test program: one
// BIMRIDE_TASK line makes its verb dispatchable, its feature spec served by a real model server,
// and its quickstart step found — with no list anywhere naming it.
#include "tasks/task.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "registry/registry.h"
#include "serving/http/http_client.h"
#include "serving/http/http_transport.h"
#include "serving/testing/test_models.h"
#include "train/trainer.h"

namespace bimride::tasks {
namespace {

class TaskRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    serving::testing::RegisterTestBackendAndFeatures();  // the "baseline" backend fare uses
    dir_ = serving::testing::MakeTempDir("task_registry");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(TaskRegistryTest, OneRegistrationLineBringsVerbsSpecsAndQuickstart) {
  const Task* fare = FindTask("fare");
  ASSERT_NE(fare, nullptr);
  EXPECT_EQ(FindTask("no_such_task"), nullptr);
  EXPECT_TRUE(train::HasTrainer("fixture_linear"));
  bool has_verb = false;
  for (const cli::CommandInfo& v : cli::RegisteredVerbs("train")) has_verb |= v.name == "fare";
  EXPECT_TRUE(has_verb);

  // The verb, as `bimride train fare` runs it.
  const int rc = cli::DispatchVerbs("bimride train", "", cli::RegisteredVerbs("train"),
                                    {"fare", "--repo", dir_ + "/repo", "--work", dir_});
  ASSERT_EQ(rc, cli::kExitOk);
  auto reg = registry::Registry::Open(dir_ + "/repo");
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  auto versions = (*reg)->store().ListVersions("fare");
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->size(), 1u);
  // Bad usage is the verb's own clear error.
  EXPECT_EQ(cli::DispatchVerbs("bimride train", "", cli::RegisteredVerbs("train"),
                               {"fare", "--rows", "x", "--repo", dir_}),
            cli::kExitUsage);

  // The quickstart step, found through the registry as `bimride quickstart` finds it.
  data::TripTable trips;
  trips.distance_miles = {1, 2, 4, 8};
  QuickstartInput input;
  input.trips = &trips;
  input.repo = dir_ + "/repo";
  input.work_dir = dir_;
  int steps = 0;
  QuickstartModel model;
  for (const Task& t : RegisteredTasks()) {
    if (!t.quickstart) continue;
    auto m = t.quickstart(input);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    model = *m;
    ++steps;
  }
  ASSERT_EQ(steps, 1);
  EXPECT_EQ(*(*reg)->ResolveLabel("fare", "stable"), 2);

  // The feature spec, served: raw fields in, the fitted fare out.
  serving::ServerConfig config;
  config.model_repo = dir_ + "/repo";
  config.port = 0;
  config.poll_interval_ms = 0;
  auto server = serving::http::StartHttpServer(config);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  serving::http::HttpClient client("127.0.0.1", serving::http::HttpPort(**server));
  auto answer = client.Post("/v1/models/fare/labels/stable:predict", model.request_body);
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  ASSERT_EQ(answer->status, 200) << answer->body;
  const nlohmann::json body = nlohmann::json::parse(answer->body);
  EXPECT_NEAR(body["predictions"][0].get<double>(), 8.5, 1e-4) << answer->body;
  auto bad = client.Post("/v1/models/fare:predict", R"({"instances": [{"trip_distance": "far"}]})");
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("trip_distance"), std::string::npos) << bad->body;
  (*server)->Shutdown();
}

TEST_F(TaskRegistryTest, ReRegisteringATaskReplacesIt) {
  const size_t before = RegisteredTasks().size();
  Task t;
  t.name = "fixture_twice";
  t.summary = "first";
  RegisterTask(t);
  t.summary = "second";
  RegisterTask(t);
  EXPECT_EQ(RegisteredTasks().size(), before + 1);
  EXPECT_EQ(FindTask("fixture_twice")->summary, "second");
}

}  // namespace
}  // namespace bimride::tasks
