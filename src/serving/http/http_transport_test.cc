#include "serving/http/http_transport.h"

#include <gtest/gtest.h>

#include <atomic>

#include "serving/http/http_client.h"
#include "serving/testing/test_models.h"

namespace bimride::serving::http {
namespace {

class HttpTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::RegisterTestBackendAndFeatures();
    repo_ = testing::MakeTempDir("http_transport_test");
    ASSERT_TRUE(testing::WriteTestVersion(repo_, "eta", 1).ok());
    config_.model_repo = repo_;
    config_.port = 0;
    config_.io_threads = 1;
    config_.poll_interval_ms = 0;
  }
  std::string repo_;
  ServerConfig config_;
};

TEST_F(HttpTransportTest, StartLocalModelServerAnswersOnAFreeLoopbackPort) {
  auto server = StartLocalModelServer(repo_);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const int port = HttpPort(**server);
  ASSERT_GT(port, 0);
  HttpClient client("127.0.0.1", port);
  auto r = client.Post("/v1/models/eta:predict", R"({"instances": [[1, 2, 3]]})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"predictions": [6]})");
  server->reset();  // shuts down and closes the listening socket
  EXPECT_FALSE(HttpClient("127.0.0.1", port).Get("/v2/health/live").ok()) << "closed";
}

TEST_F(HttpTransportTest, PlugsIntoAServerByHand) {
  auto server = Server::Create(config_);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  EXPECT_EQ(HttpPort(**server), -1) << "no HTTP transport yet";
  auto http = HttpTransport::Create(&(*server)->service(), (*server)->config());
  ASSERT_TRUE(http.ok()) << http.status().ToString();
  EXPECT_EQ((*http)->name(), "http");
  EXPECT_EQ((*http)->port(), -1) << "not started";
  ASSERT_TRUE((*server)->AddTransport(std::move(http).value()).ok());
  HttpClient client("127.0.0.1", HttpPort(**server));
  auto r = client.Get("/v2/health/ready");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
}

// The /ui paths go to the console handler the transport was given (and only them); without one
// they are 404, and predictions are answered the same either way.
TEST_F(HttpTransportTest, HandsUiPathsToTheConsoleAndOwnsIt) {
  struct Console : HttpHandler {
    std::atomic<int>* calls;
    std::atomic<bool>* destroyed;
    ~Console() override { destroyed->store(true); }
    void Handle(const HttpRequest& req, HttpRespond respond) override {
      ++*calls;
      respond(HttpResponse{200, "console " + std::string(req.target()), "text/plain"});
    }
  };
  std::atomic<int> calls{0};
  std::atomic<bool> destroyed{false};
  auto console = std::make_unique<Console>();
  console->calls = &calls;
  console->destroyed = &destroyed;
  auto server = Server::Create(config_);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto http = HttpTransport::Create(&(*server)->service(), (*server)->config(), std::move(console));
  ASSERT_TRUE(http.ok()) << http.status().ToString();
  ASSERT_TRUE((*server)->AddTransport(std::move(http).value()).ok());
  HttpClient client("127.0.0.1", HttpPort(**server));
  for (const char* target : {"/ui", "/ui/", "/ui/api/models?x=1"}) {
    auto r = client.Get(target);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->body, std::string("console ") + target);
  }
  for (const char* target : {"/uix", "/u", "/v1/ui"}) {
    auto r = client.Get(target);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 404) << target;
  }
  auto p = client.Post("/v1/models/eta:predict", R"({"instances": [[1, 2, 3]]})");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->body, R"({"predictions": [6]})");
  EXPECT_EQ(calls.load(), 3);
  EXPECT_FALSE(destroyed.load());
  (*server)->Shutdown();
  EXPECT_TRUE(destroyed.load()) << "the transport destroys its console when it stops";

  auto plain = StartHttpServer(config_);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  auto r = HttpClient("127.0.0.1", HttpPort(**plain)).Get("/ui/");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 404);
}

TEST_F(HttpTransportTest, BadAccessLogPathFailsCreate) {
  auto server = Server::Create(config_);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  ServerConfig bad = (*server)->config();
  bad.access_log = repo_ + "/no/such/dir/access.log";
  auto http = HttpTransport::Create(&(*server)->service(), bad);
  ASSERT_FALSE(http.ok());
  EXPECT_NE(http.status().message().find("access.log"), std::string::npos)
      << http.status().ToString();
}

TEST_F(HttpTransportTest, AddressInUseFailsStartAndLeavesNothingRunning) {
  auto first = StartHttpServer(config_);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  config_.port = HttpPort(**first);
  auto second = StartHttpServer(config_);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().ToString().find(std::to_string(config_.port)), std::string::npos)
      << second.status().ToString();
  HttpClient client("127.0.0.1", HttpPort(**first));
  auto r = client.Get("/v2/health/live");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200) << "the first server is unaffected";
}

}  // namespace
}  // namespace bimride::serving::http
