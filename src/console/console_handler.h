// ConsoleHandler: the web console at /ui/ of `bimride serve` — the pages and libraries
// (ui/build.sh's output, read into memory once at start) and their JSON under /ui/api/
// (ConsoleData), plus /ui/api/traffic/stream, the live traffic as server-sent events.
//
// The stream is one event per response with `retry: 1000`: EventSource reconnects a second
// after each answer, so a page updates every second without reload and no connection is held
// open (the HTTP server answers each request once). So each update is a new request (the
// browser reconnects after every event, over the same keep-alive connection): polling through
// EventSource, until the HTTP server can write a response in pieces (docs/console.md).
//
// Read-only: only GET (405 otherwise). Console requests run on the handler's own thread, never
// on the I/O thread that read them, so a registry query cannot delay a prediction sharing that
// thread; beyond a short queue a request is answered 429.
// Thread safety: Handle may be called from many I/O threads at once.
#pragma once

#include <map>
#include <memory>
#include <string>

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
  ConsoleHandler(std::unique_ptr<ConsoleData> data, std::map<std::string, StaticAsset> assets);
  ~ConsoleHandler() override;
  // Paths starting with /ui; others are answered 404.
  void Handle(const serving::http::HttpRequest& request, serving::http::HttpRespond respond) override;

 private:
  serving::http::HttpResponse Answer(std::string_view path, std::string_view query);

  std::unique_ptr<ConsoleData> data_;
  const std::map<std::string, StaticAsset> assets_;
  serving::http::WorkerPool worker_;
};

}  // namespace bimride::console
