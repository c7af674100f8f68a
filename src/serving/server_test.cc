#include "serving/server.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <future>

#include "serving/testing/test_models.h"

namespace bimride::serving {
namespace {

// What a transport does, minus the wire: it keeps the Service, and on Stop checks that the core
// still answers (the Server must stop transports before it unloads anything).
class FakeTransport : public Transport {
 public:
  struct Log {
    int starts = 0;
    int stops = 0;
    int drain_ms = -1;
    bool core_answered_during_stop = false;
  };
  FakeTransport(std::string name, Service* service, Log* log, Status start = OkStatus())
      : name_(std::move(name)), service_(service), log_(log), start_(std::move(start)) {}
  std::string_view name() const override { return name_; }
  Status Start() override {
    ++log_->starts;
    return start_;
  }
  int port() const override { return 1234; }
  void Stop(int drain_ms) override {
    ++log_->stops;
    log_->drain_ms = drain_ms;
    log_->core_answered_during_stop = Predict(*service_).ok();
  }
  // One request, as a transport would translate it.
  static StatusOr<PredictResult> Predict(Service& service) {
    PredictRequest request;
    request.model = "eta";
    request.input.rows = 1;
    request.input.width = 3;
    request.input.values = {0, 0, 0};
    std::promise<StatusOr<PredictResult>> answer;
    service.Predict(std::move(request),
                    [&answer](StatusOr<PredictResult> r) { answer.set_value(std::move(r)); });
    return answer.get_future().get();
  }

 private:
  std::string name_;
  Service* service_;
  Log* log_;
  Status start_;
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::RegisterTestBackendAndFeatures();
    config_.model_repo = testing::MakeTempDir("server_test");
    config_.poll_interval_ms = 0;
    for (int v = 1; v <= 2; ++v) {
      testing::TestVersionOptions o;
      o.bias = {static_cast<float>(v)};
      ASSERT_TRUE(testing::WriteTestVersion(config_.model_repo, "eta", v, o).ok());
    }
    config_.models["eta"].policy.latest = 2;
    config_.models["eta"].labels = {{"stable", 1}, {"canary", 2}};
  }
  ServerConfig config_;
};

TEST_F(ServerTest, CreateLoadsTheRepositoryAndServesThroughItsService) {
  auto server = Server::Create(config_);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  EXPECT_TRUE((*server)->service().Ready());
  EXPECT_EQ((*server)->manager().LoadedVersions().size(), 2u);
  auto r = FakeTransport::Predict((*server)->service());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->version(), 1);
  EXPECT_EQ((*server)->FindTransport("http"), nullptr) << "no transport until one is added";
  EXPECT_NE((*server)->service().MetricsText().find("bimride_model_version_loaded"),
            std::string::npos);
}

TEST_F(ServerTest, CreateFailsWithoutARepository) {
  config_.model_repo = "";
  EXPECT_EQ(Server::Create(config_).status().code(), StatusCode::kInvalidArgument);
  config_.model_repo = testing::MakeTempDir("server_test") + "/missing";
  auto missing = Server::Create(config_);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("missing"), std::string::npos)
      << missing.status().ToString();
}

TEST_F(ServerTest, AdminTokenFallsBackToTheEnvironment) {
  ::setenv("BIMRIDE_ADMIN_TOKEN", "from-env", 1);
  auto from_env = Server::Create(config_);
  config_.admin_token = "from-config";
  auto from_config = Server::Create(config_);
  ::unsetenv("BIMRIDE_ADMIN_TOKEN");
  ASSERT_TRUE(from_env.ok() && from_config.ok());
  EXPECT_EQ((*from_env)->config().admin_token, "from-env");
  EXPECT_EQ((*from_config)->config().admin_token, "from-config");
}

TEST_F(ServerTest, BeyondLoopbackWithoutATokenStartsWithAWarning) {
  ::unsetenv("BIMRIDE_ADMIN_TOKEN");
  config_.host = "0.0.0.0";  // only configured: no transport binds in this test
  ::testing::internal::CaptureStderr();
  auto exposed = Server::Create(config_);
  std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(exposed.ok()) << exposed.status().ToString();
  EXPECT_NE(log.find("W "), std::string::npos) << log;
  EXPECT_NE(log.find("0.0.0.0 with no admin token"), std::string::npos) << log;
  exposed->reset();
  config_.admin_token = "t";
  ::testing::internal::CaptureStderr();
  auto with_token = Server::Create(config_);
  log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(log.find("no admin token"), std::string::npos) << log;
  with_token->reset();
  config_.admin_token.clear();
  config_.host = "127.0.0.1";
  ::testing::internal::CaptureStderr();
  auto loopback = Server::Create(config_);
  log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(log.find("no admin token"), std::string::npos) << log;
}

TEST_F(ServerTest, AddTransportStartsItOnceAndRefusesDuplicatesAndFailures) {
  auto server = Server::Create(config_);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  Service* service = &(*server)->service();
  FakeTransport::Log http, again, broken;
  ASSERT_TRUE(
      (*server)->AddTransport(std::make_unique<FakeTransport>("http", service, &http)).ok());
  EXPECT_EQ(http.starts, 1);
  ASSERT_NE((*server)->FindTransport("http"), nullptr);
  EXPECT_EQ((*server)->FindTransport("http")->port(), 1234);

  Status duplicate =
      (*server)->AddTransport(std::make_unique<FakeTransport>("http", service, &again));
  EXPECT_EQ(duplicate.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(again.starts, 0) << "a duplicate is never started";

  Status failed = (*server)->AddTransport(std::make_unique<FakeTransport>(
      "grpc", service, &broken, UnavailableError("port 8500: address in use")));
  EXPECT_EQ(failed.code(), StatusCode::kUnavailable);
  EXPECT_EQ((*server)->FindTransport("grpc"), nullptr);
  EXPECT_EQ(broken.stops, 0);
  EXPECT_TRUE(FakeTransport::Predict(*service).ok()) << "the server keeps running";
}

TEST_F(ServerTest, ShutdownStopsTransportsBeforeTheCoreThenUnloads) {
  config_.models["eta"].routing.shadow = {"canary"};
  auto server = Server::Create(config_);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  FakeTransport::Log http, grpc;
  Service* service = &(*server)->service();
  ASSERT_TRUE(
      (*server)->AddTransport(std::make_unique<FakeTransport>("http", service, &http)).ok());
  ASSERT_TRUE(
      (*server)->AddTransport(std::make_unique<FakeTransport>("grpc", service, &grpc)).ok());
  ASSERT_TRUE(FakeTransport::Predict(*service).ok());  // mirrored to the canary
  (*server)->Shutdown(/*drain_ms=*/250);
  for (const FakeTransport::Log* log : {&http, &grpc}) {
    EXPECT_EQ(log->stops, 1);
    EXPECT_EQ(log->drain_ms, 250);
    EXPECT_TRUE(log->core_answered_during_stop) << "models stay loaded while transports drain";
  }
  ShadowQueue& shadows = (*server)->shadow_queue();
  EXPECT_EQ(shadows.queued(), 0);
  EXPECT_GE(shadows.completed(), 1u) << "queued mirrors ran before the versions unloaded";
  EXPECT_TRUE((*server)->manager().LoadedVersions().empty());
  EXPECT_EQ(FakeTransport::Predict(*service).status().code(), StatusCode::kUnavailable);

  (*server)->Shutdown();  // idempotent
  EXPECT_EQ(http.stops, 1);
  FakeTransport::Log late;
  EXPECT_EQ((*server)->AddTransport(std::make_unique<FakeTransport>("late", service, &late)).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(late.starts, 0);
}

TEST_F(ServerTest, DestructorShutsDown) {
  FakeTransport::Log http;
  {
    auto server = Server::Create(config_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    ASSERT_TRUE(
        (*server)
            ->AddTransport(std::make_unique<FakeTransport>("http", &(*server)->service(), &http))
            .ok());
  }
  EXPECT_EQ(http.stops, 1);
  EXPECT_TRUE(http.core_answered_during_stop);
}

}  // namespace
}  // namespace bimride::serving
