// The console's live traffic over a real server: the stream stays one response (events on it, no
// reconnect), a viewer leaving frees it, a shutdown ends it; the traffic's latency quantiles are
// over the last window, not since start.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "console/console_data.h"
#include "console/console_handler.h"
#include "common/testing/loopback_client.h"
#include "serving/http/http_client.h"
#include "serving/http/http_transport.h"
#include "serving/servable_manager.h"
#include "serving/service.h"
#include "serving/shadow_queue.h"
#include "serving/testing/test_models.h"

namespace bimride::console {
namespace {

using nlohmann::json;

using bimride::testing::ConnectLoopback;
using bimride::testing::CountOf;
using bimride::testing::ReadUntil;
using bimride::testing::SendAll;

class ConsoleStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    serving::testing::RegisterTestBackendAndFeatures();
    repo_ = serving::testing::MakeTempDir("console_stream_repo");
    ASSERT_TRUE(serving::testing::WriteTestVersion(repo_, "eta", 1).ok());
    config_.model_repo = repo_;
    config_.poll_interval_ms = 0;
    config_.port = 0;
    config_.io_threads = 1;
    manager_ = std::make_unique<serving::ServableManager>(config_, &metrics_, nullptr);
    ASSERT_TRUE(manager_->Start().ok());
    shadows_.Start();
    service_ = std::make_unique<serving::Service>(manager_.get(), &metrics_, &shadows_,
                                                  config_.max_batch_rows);
  }
  void TearDown() override {
    if (http_) http_->Stop(0);
    http_.reset();
    service_.reset();
    shadows_.Stop();
    manager_->Stop();
  }
  // The transport with the console, its traffic sent every `tick`.
  int StartHttp(std::chrono::milliseconds tick, int latency_window_s = 10) {
    ConsoleOptions o;
    o.zones_dir = "/nonexistent/zones";
    o.latency_window_s = latency_window_s;
    auto data = ConsoleData::Open(o, service_.get());
    EXPECT_TRUE(data.ok()) << data.status().ToString();
    std::map<std::string, StaticAsset> assets;
    assets["index.html"] = StaticAsset{"text/html", "<p>console</p>"};
    auto console = std::make_unique<ConsoleHandler>(std::move(data).value(), std::move(assets), tick);
    console_ = console.get();
    auto http = serving::http::HttpTransport::Create(service_.get(), config_, std::move(console));
    EXPECT_TRUE(http.ok()) << http.status().ToString();
    http_ = std::move(http).value();
    EXPECT_TRUE(http_->Start().ok());
    return http_->port();
  }
  bool WaitForConsoleStreams(size_t n) {
    for (int i = 0; i < 300 && console_->open_streams() != n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return console_->open_streams() == n;
  }

  std::string repo_;
  serving::ServerConfig config_;
  serving::ServingMetrics metrics_;
  std::unique_ptr<serving::ServableManager> manager_;
  serving::ShadowQueue shadows_{serving::ShadowQueueOptions{}};
  std::unique_ptr<serving::Service> service_;
  std::unique_ptr<serving::http::HttpTransport> http_;
  ConsoleHandler* console_ = nullptr;
};

const char kStreamRequest[] = "GET /ui/api/traffic/stream HTTP/1.1\r\nHost: t\r\n\r\n";

TEST_F(ConsoleStreamTest, TrafficEventsArriveOnOneResponseAndAViewerLeavingFreesIt) {
  metrics_.For("eta", 1)->CountRequest(StatusCode::kOk);
  const int port = StartHttp(std::chrono::milliseconds(100));
  int fd = ConnectLoopback(port);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, kStreamRequest));
  bool closed = false;
  const std::string got = ReadUntil(fd, "event: traffic\n", 5000, &closed, 4);
  EXPECT_FALSE(closed) << got;
  EXPECT_EQ(CountOf(got, "event: traffic\n"), 4) << got;
  EXPECT_EQ(CountOf(got, "HTTP/1.1 "), 1) << "one response for every event: " << got;
  EXPECT_NE(got.find("Content-Type: text/event-stream"), std::string::npos);
  EXPECT_NE(got.find("retry: 1000\n"), std::string::npos);
  // Each event's data is the traffic JSON, with the version the server counted.
  const size_t last = got.rfind("data: ");
  ASSERT_NE(last, std::string::npos);
  json t = json::parse(got.substr(last + 6, got.find('\n', last) - last - 6));
  ASSERT_FALSE(t["versions"].empty()) << t.dump();
  EXPECT_EQ(t["versions"][0]["model"], "eta");
  EXPECT_EQ(console_->open_streams(), 1u);
  close(fd);
  EXPECT_TRUE(WaitForConsoleStreams(0)) << console_->open_streams() << " still sent to";
}

TEST_F(ConsoleStreamTest, ShutdownEndsTheStreamAtOnce) {
  const int port = StartHttp(std::chrono::milliseconds(100));
  int fd = ConnectLoopback(port);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, kStreamRequest));
  bool closed = false;
  ReadUntil(fd, "event: traffic\n", 5000, &closed, 2);
  ASSERT_TRUE(WaitForConsoleStreams(1));
  const auto t0 = std::chrono::steady_clock::now();
  http_->Stop(10000);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2))
      << "a stream is not a request in flight: the drain does not wait for it";
  const std::string tail = ReadUntil(fd, "", 3000, &closed);
  EXPECT_TRUE(closed);
  EXPECT_NE(tail.find("0\r\n\r\n"), std::string::npos) << "the response's last chunk: " << tail;
  close(fd);
  http_.reset();
}

TEST_F(ConsoleStreamTest, TrafficLatencyIsOverTheWindowWhileTheTotalKeepsHistory) {
  serving::VersionMetrics* m = metrics_.For("eta", 1);
  for (int i = 0; i < 2000; ++i) {
    m->CountRequest(StatusCode::kOk);
    m->total_seconds.Observe(0.001);
  }
  // No ticker sampling in this test (an hour's tick): each GET samples, so the baseline is the
  // first GET's, taken before the slow phase, whatever the machine's load.
  StartHttp(std::chrono::hours(1), /*latency_window_s=*/1);
  serving::http::HttpClient client("127.0.0.1", http_->port());
  auto before = client.Get("/ui/api/traffic");
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  const json first = json::parse(before->body)["versions"][0];
  EXPECT_EQ(first["window_s"], 0) << "no baseline yet: since start";
  EXPECT_LT(first["p99_ms"].get<double>(), 5) << first.dump();
  for (int i = 0; i < 10; ++i) {
    m->CountRequest(StatusCode::kOk);
    m->total_seconds.Observe(0.2);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto r = client.Get("/ui/api/traffic");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  json t = json::parse(r->body);
  ASSERT_EQ(t["versions"].size(), 1u) << t.dump();
  const json& v = t["versions"][0];
  EXPECT_EQ(v["window_requests"], 10) << v.dump();
  EXPECT_GE(v["window_s"].get<double>(), 1.0);
  EXPECT_GT(v["p50_ms"].get<double>(), 100) << "the last second was all slow: " << v.dump();
  EXPECT_GT(v["p99_ms"].get<double>(), 100);
  EXPECT_LT(v["total_p99_ms"].get<double>(), 5) << "since start, 10 in 2010 are below the p99";
  EXPECT_EQ(v["requests"], 2010);
}

}  // namespace
}  // namespace bimride::console
