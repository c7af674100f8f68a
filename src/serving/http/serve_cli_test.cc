// `bimride serve` end to end: start the CLI on a free port, talk to it, stop it with SIGTERM.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "serving/http/http_client.h"
#include "serving/testing/test_models.h"

namespace bimride::serving::http {
namespace {

// Starts `bimride serve` with stdout on a pipe; returns the port it printed.
struct ServeProcess {
  pid_t pid = -1;
  int port = 0;
  std::string first_line;
};

ServeProcess StartServe(const std::string& cli, const std::string& repo) {
  ServeProcess p;
  int fds[2];
  if (pipe(fds) != 0) return p;
  p.pid = fork();
  if (p.pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execl(cli.c_str(), cli.c_str(), "serve", "--model-repo", repo.c_str(), "--port", "0",
          "--poll-interval-ms", "100", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  FILE* out = fdopen(fds[0], "r");
  char line[256] = {0};
  if (out && std::fgets(line, sizeof(line), out)) {
    p.first_line = line;
    auto colon = p.first_line.rfind(':');
    if (colon != std::string::npos) p.port = std::atoi(p.first_line.c_str() + colon + 1);
  }
  if (out) std::fclose(out);
  return p;
}

TEST(ServeCliTest, ServesOnAFreePortAnswersAndStopsOnSigterm) {
  const char* cli = std::getenv("BIMRIDE_CLI");
  ASSERT_NE(cli, nullptr) << "BIMRIDE_CLI must point at the bimride binary";
  const std::string repo = testing::MakeTempDir("serve_cli_test");
  // The CLI links the real backends only: a "baseline" version loads only when models/ provides
  // that backend; otherwise the version must be reported as failed, not crash the server.
  ASSERT_TRUE(testing::WriteTestVersion(repo, "eta", 1).ok());

  ServeProcess p = StartServe(cli, repo);
  ASSERT_GT(p.pid, 0);
  ASSERT_GT(p.port, 0) << "first stdout line: " << p.first_line;
  EXPECT_NE(p.first_line.find("listening on 127.0.0.1:"), std::string::npos) << p.first_line;

  http::HttpClient client("127.0.0.1", p.port);
  auto live = client.Get("/v2/health/live");
  ASSERT_TRUE(live.ok()) << live.status().ToString();
  EXPECT_EQ(live->status, 200);
  auto meta = client.Get("/v2");
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(nlohmann::json::parse(meta->body)["name"], "bimride");
  auto status = client.Get("/v1/models/eta");
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(status->status, 200) << status->body;
  auto s = nlohmann::json::parse(status->body)["model_version_status"][0];
  const bool available = s["state"] == "AVAILABLE";
  if (!available) {
    EXPECT_EQ(s["state"], "END");
    EXPECT_NE(s["status"]["error_message"].get<std::string>().find("baseline"),
              std::string::npos)
        << status->body;
  }
  auto predict = client.Post("/v1/models/eta:predict", R"({"instances": [[1, 2, 3]]})");
  ASSERT_TRUE(predict.ok());
  EXPECT_EQ(predict->status, available ? 200 : 503) << predict->body;
  EXPECT_EQ(client.Post("/v1/models/eta:predict", "{oops")->status, 400);
  EXPECT_EQ(client.Get("/v1/models/nope")->status, 404);
  auto ready = client.Get("/v2/health/ready");
  EXPECT_EQ(ready->status, available ? 200 : 503);
  auto metrics = client.Get("/metrics");
  EXPECT_NE(metrics->body.find("bimride_model_load_failures_total"), std::string::npos);

  ASSERT_EQ(kill(p.pid, SIGTERM), 0);
  int wstatus = 0;
  pid_t done = 0;
  for (int i = 0; i < 500 && done == 0; ++i) {
    done = waitpid(p.pid, &wstatus, WNOHANG);
    if (done == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (done == 0) kill(p.pid, SIGKILL);
  ASSERT_EQ(done, p.pid) << "did not exit within 5 s of SIGTERM";
  EXPECT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0);
}

TEST(ServeCliTest, MissingRepositoryFailsWithOneLineError) {
  const char* cli = std::getenv("BIMRIDE_CLI");
  ASSERT_NE(cli, nullptr);
  std::string cmd = std::string(cli) + " serve --model-repo /nonexistent/repo --port 0 2>&1";
  FILE* f = popen(cmd.c_str(), "r");
  ASSERT_NE(f, nullptr);
  char buf[512] = {0};
  std::string out;
  while (std::fgets(buf, sizeof(buf), f)) out += buf;
  int rc = pclose(f);
  EXPECT_EQ(WEXITSTATUS(rc), 1);
  EXPECT_NE(out.find("/nonexistent/repo"), std::string::npos) << out;
}

}  // namespace
}  // namespace bimride::serving::http
