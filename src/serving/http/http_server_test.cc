// HttpServer on its own, over raw sockets: keep-alive, the idle timeout (and that it spares a
// request still being answered), answers from another thread, several I/O threads.
#include "serving/http/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace bimride::serving::http {
namespace {

// Answers "/slow" 1.5 s later from a thread of its own; anything else at once with the path.
class EchoHandler : public HttpHandler {
 public:
  ~EchoHandler() override {
    for (std::thread& t : late_) t.join();
  }
  void Handle(const HttpRequest& request, HttpRespond respond) override {
    std::string target(request.target());
    if (target == "/slow") {
      late_.emplace_back([respond = std::move(respond)] {
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        respond(HttpResponse{200, "{\"late\": true}"});
      });
      return;
    }
    respond(HttpResponse{200, "{\"path\": \"" + target + "\"}"});
  }

 private:
  std::vector<std::thread> late_;
};

int Connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  return fd;
}

void Send(int fd, const std::string& text) {
  ASSERT_EQ(send(fd, text.data(), text.size(), 0), static_cast<ssize_t>(text.size()));
}

// Reads until `until` appears in what was read, the peer closes, or `timeout_ms` passes.
// Returns what was read; *closed says whether the peer closed.
std::string ReadUntil(int fd, const std::string& until, int timeout_ms, bool* closed) {
  std::string got;
  *closed = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (got.find(until) == std::string::npos || until.empty()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      *closed = true;
      break;
    }
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

std::string Get(const std::string& path) {
  return "GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n";
}

TEST(HttpServerTest, KeepAliveServesRequestsInOrderOnEveryIoThread) {
  EchoHandler handler;
  HttpServerOptions options;
  options.io_threads = 3;
  auto server = HttpServer::Start(options, &handler);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  // More connections than I/O threads: each thread gets some.
  std::vector<int> fds;
  for (int c = 0; c < 7; ++c) fds.push_back(Connect((*server)->port()));
  for (int round = 0; round < 3; ++round) {
    for (size_t c = 0; c < fds.size(); ++c) {
      // Two pipelined requests: answered in order.
      const std::string a = "/c" + std::to_string(c) + "/r" + std::to_string(round) + "a";
      const std::string b = "/c" + std::to_string(c) + "/r" + std::to_string(round) + "b";
      Send(fds[c], Get(a) + Get(b));
      bool closed = false;
      std::string got = ReadUntil(fds[c], b + "\"}", 5000, &closed);
      ASSERT_FALSE(closed);
      const size_t pa = got.find(a + "\"}"), pb = got.find(b + "\"}");
      ASSERT_NE(pa, std::string::npos) << got;
      ASSERT_NE(pb, std::string::npos) << got;
      EXPECT_LT(pa, pb);
      EXPECT_NE(got.find("HTTP/1.1 200 OK\r\n"), std::string::npos);
      EXPECT_NE(got.find("Content-Length: " + std::to_string(a.size() + 12) + "\r\n"),
                std::string::npos)
          << got;
    }
  }
  for (int fd : fds) close(fd);
}

TEST(HttpServerTest, IdleConnectionIsClosedButARequestBeingAnsweredIsNot) {
  EchoHandler handler;
  HttpServerOptions options;
  options.io_threads = 1;
  options.idle_timeout_seconds = 1;
  auto server = HttpServer::Start(options, &handler);
  ASSERT_TRUE(server.ok()) << server.status().ToString();

  // Idle from the start: closed after about a second.
  int idle = Connect((*server)->port());
  const auto t0 = std::chrono::steady_clock::now();
  bool closed = false;
  ReadUntil(idle, "", 4000, &closed);
  EXPECT_TRUE(closed) << "an idle connection stayed open past its timeout";
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(900));
  close(idle);

  // Busy past the timeout: the late answer still arrives, then the connection serves again.
  int busy = Connect((*server)->port());
  Send(busy, Get("/slow"));
  std::string got = ReadUntil(busy, "{\"late\": true}", 5000, &closed);
  EXPECT_FALSE(closed);
  EXPECT_NE(got.find("{\"late\": true}"), std::string::npos) << got;
  Send(busy, Get("/again"));
  got = ReadUntil(busy, "/again\"}", 2000, &closed);
  EXPECT_NE(got.find("/again\"}"), std::string::npos) << got;
  // Then idle again: closed.
  ReadUntil(busy, "", 4000, &closed);
  EXPECT_TRUE(closed);
  close(busy);
}

TEST(HttpServerTest, MalformedRequestGets400AndTheConnectionCloses) {
  EchoHandler handler;
  auto server = HttpServer::Start(HttpServerOptions{}, &handler);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  int fd = Connect((*server)->port());
  Send(fd, "GET /x HTTP/1.1\r\nHost test-without-colon\r\n\r\n");
  bool closed = false;
  std::string got = ReadUntil(fd, "", 3000, &closed);
  EXPECT_NE(got.find("HTTP/1.1 400 "), std::string::npos) << got;
  EXPECT_NE(got.find("malformed HTTP request"), std::string::npos) << got;
  EXPECT_TRUE(closed);
  close(fd);
}

TEST(HttpServerTest, TransferEncodingOtherThanChunkedIsRefusedAndItsBytesNeverRunAsARequest) {
  EchoHandler handler;
  auto server = HttpServer::Start(HttpServerOptions{}, &handler);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  for (const char* encoding : {"identity", "gzip", "chunked, identity",
                               "identity\r\n"
                               "Content-Length: 0"}) {
    int fd = Connect((*server)->port());
    // Without the fix the body is taken as empty and the smuggled GET runs as a second request.
    Send(fd, std::string("POST /first HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: ") + encoding +
                 "\r\n\r\n" + Get("/smuggled"));
    bool closed = false;
    std::string got = ReadUntil(fd, "", 3000, &closed);
    EXPECT_NE(got.find("HTTP/1.1 400 "), std::string::npos) << encoding << ": " << got;
    EXPECT_NE(got.find("Transfer-Encoding"), std::string::npos) << encoding << ": " << got;
    EXPECT_EQ(got.find("/smuggled"), std::string::npos) << encoding << ": " << got;
    EXPECT_EQ(got.find("/first"), std::string::npos) << encoding << ": " << got;
    EXPECT_TRUE(closed) << encoding;
    close(fd);
  }
}

}  // namespace
}  // namespace bimride::serving::http
