// ConsoleHandler: the web console at /ui/ of `bimride serve` — the pages and libraries
// (ui/build.sh's output, read into memory once at start) and their JSON under /ui/api/
// (ConsoleData), plus /ui/api/traffic/stream, the live traffic as server-sent events.
//
// The stream is one response held open (HttpServer's streamed responses): the traffic at once,
// then one `traffic` event a second. One ticker thread renders the traffic once a second and
// sends it to every open stream (so N viewers cost one rendering, not N); a stream whose client
// left answers false to Send and is dropped. The ticker also samples the latency counters each
// second, so the traffic's latency window (console/latency_window.h) always has a baseline.
// How many streams may be open at once is the HTTP server's cap (503 beyond it).
//
// Read-only: only GET (405 otherwise). Console requests run on the handler's own thread, never
// on the I/O thread that read them, so a registry query cannot delay a prediction sharing that
// thread; beyond a short queue a request is answered 429.
// Thread safety: Handle may be called from many I/O threads at once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "console/console_data.h"
#include "serving/http/http_server.h"
#include "serving/http/worker_pool.h"

namespace bimride::console {

struct StaticAsset {
  std::string content_type;
  std::string body;
};

// Every file under `dir` (relative paths with '/'), with its content type by extension.
// NotFound when `dir` has no index.html (the console was not built: ui/build.sh).
StatusOr<std::map<std::string, StaticAsset>> LoadAssets(const std::string& dir);

class ConsoleHandler : public serving::http::HttpHandler {
 public:
  static constexpr size_t kQueue = 64;
  // `tick`: how often the stream sends the traffic (and the latency counters are sampled).
  ConsoleHandler(std::unique_ptr<ConsoleData> data, std::map<std::string, StaticAsset> assets,
                 std::chrono::milliseconds tick = std::chrono::seconds(1));
  ~ConsoleHandler() override;
  // Paths starting with /ui; others are answered 404.
  void Handle(const serving::http::HttpRequest& request, serving::http::HttpRespond respond) override;
  // Traffic streams the ticker still sends to (for tests).
  size_t open_streams();

 private:
  serving::http::HttpResponse Answer(std::string_view path, std::string_view query);
  void Tick();  // the ticker thread

  std::unique_ptr<ConsoleData> data_;
  const std::map<std::string, StaticAsset> assets_;
  serving::http::WorkerPool worker_;
  const std::chrono::milliseconds tick_;
  std::mutex streams_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::vector<std::shared_ptr<serving::http::HttpStream>> streams_;
  std::thread ticker_;
};

}  // namespace bimride::console
