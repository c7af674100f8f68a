#include "serving/http/replay.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/testing/free_port.h"
#include "serving/http/http_transport.h"
#include "serving/testing/test_models.h"

namespace bimride::serving::http {
namespace {

class ReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::RegisterTestBackendAndFeatures();
    repo_ = testing::MakeTempDir("replay_test");
    testing::TestVersionOptions o;
    o.weights = {{1, 2, 3}};
    ASSERT_TRUE(testing::WriteTestVersion(repo_, "eta", 1, o).ok());
    config_.model_repo = repo_;
    config_.port = 0;
    config_.io_threads = 1;
    config_.poll_interval_ms = 0;
    config_.prediction_log.dir = repo_ + "/log";
    config_.monitor.window_rows = 100;
    auto s = StartHttpServer(config_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
  }
  ReplayOptions Options() const {
    ReplayOptions o;
    o.port = HttpPort(*server_);
    o.target = "/v1/models/eta:predict";
    o.feedback_batch = 2;
    return o;
  }
  // x = (k, 0, 0): the model answers k.
  static ReplayEvent Event(int k, int64_t start_s, int64_t end_s, double actual) {
    return {start_s * 1000000, end_s * 1000000, "trip-" + std::to_string(k),
            R"({"instances": [[)" + std::to_string(k) + ", 0, 0]]}", actual, true};
  }
  std::string repo_;
  ServerConfig config_;
  std::unique_ptr<Server> server_;
};

TEST_F(ReplayTest, SendsInStartOrderAndPostsEachLabelWhenItsEventEnds) {
  std::vector<std::string> order;
  std::map<std::string, std::string> answers;
  ReplayOptions o = Options();
  o.speedup = 20;  // 4 simulated seconds: at least 0.2 s of wall time
  o.on_answer = [&](const ReplayEvent& e, int status, const std::string& body) {
    order.push_back(e.request_id);
    answers[e.request_id] = body;
  };
  auto stats = RunReplay({Event(3, 4, 9, 2), Event(1, 0, 2, 1.5), Event(2, 1, 1, 2.5),
                          Event(4, 4, 5, 4)},
                         o);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(order, (std::vector<std::string>{"trip-1", "trip-2", "trip-3", "trip-4"}));
  EXPECT_EQ(stats->sent, 4);
  EXPECT_EQ(stats->answered_ok, 4);
  EXPECT_EQ(stats->failed, 0);
  EXPECT_EQ(stats->labels_posted, 4);
  EXPECT_EQ(stats->feedback_failures, 0);
  EXPECT_GE(stats->wall_seconds, 0.19);
  EXPECT_EQ(nlohmann::json::parse(answers["trip-3"])["predictions"][0], 3.0);
  ASSERT_TRUE(server_->service().prediction_log()->Flush().ok());
  auto overall = server_->service().live_monitor()->Overall("eta", 1);
  ASSERT_TRUE(overall.ok()) << overall.status().ToString();
  EXPECT_EQ(overall->labelled_rows, 4) << "every label joined, some after waiting";
  // predicted 1,2,3,4 vs actual 1.5,2.5,2,4 in prediction order.
  EXPECT_DOUBLE_EQ(overall->metrics.bias, (-0.5 - 0.5 + 1 + 0) / 4.0);
}

TEST_F(ReplayTest, BadEventsAndOptionsAreRefusedAndFailuresCounted) {
  ReplayOptions o = Options();
  EXPECT_EQ(RunReplay({Event(1, 5, 4, 1)}, o).status().code(), StatusCode::kInvalidArgument);
  ReplayEvent no_id = Event(1, 0, 1, 1);
  no_id.request_id.clear();
  EXPECT_EQ(RunReplay({no_id}, o).status().code(), StatusCode::kInvalidArgument);
  ReplayOptions bad = o;
  bad.target = "eta";
  EXPECT_EQ(RunReplay({Event(1, 0, 1, 1)}, bad).status().code(), StatusCode::kInvalidArgument);
  bad = o;
  bad.speedup = -1;
  EXPECT_EQ(RunReplay({Event(1, 0, 1, 1)}, bad).status().code(), StatusCode::kInvalidArgument);
  // A request the server refuses is counted, its label not posted.
  ReplayEvent wrong = Event(2, 1, 2, 1);
  wrong.body = R"({"instances": [[1, 2]]})";
  auto stats = RunReplay({Event(1, 0, 1, 1), wrong}, o);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->answered_ok, 1);
  EXPECT_EQ(stats->failed, 1);
  EXPECT_EQ(stats->labels_posted, 1);
  EXPECT_NE(stats->first_error.find("trip-2: HTTP 400"), std::string::npos) << stats->first_error;
  // No server there: a port that was free a moment ago.
  o.port = bimride::testing::FreeLoopbackPort();
  ASSERT_GT(o.port, 0);
  EXPECT_EQ(RunReplay({Event(1, 0, 1, 1)}, o).status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace bimride::serving::http
