#include "console/console_handler.h"

#include <algorithm>
#include <filesystem>

#include "common/file.h"
#include "serving/http/json_text.h"
#include "serving/http/rest_api.h"

namespace bimride::console {
namespace {

using serving::http::ErrorBody;
using serving::http::HttpResponse;

std::string ContentType(const std::string& path) {
  const std::string ext = std::filesystem::path(path).extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  return "application/octet-stream";
}

HttpResponse Error(const Status& s) {
  return HttpResponse{serving::http::HttpStatusFor(s.code()), ErrorBody(s.message())};
}

}  // namespace

StatusOr<std::map<std::string, StaticAsset>> LoadAssets(const std::string& dir) {
  if (!FileExists(dir + "/index.html")) {
    return NotFoundError(dir + ": no index.html (the console's pages are built by ui/build.sh, "
                               "which scripts/setup and the build run)");
  }
  std::map<std::string, StaticAsset> assets;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const std::string rel = std::filesystem::relative(it->path(), dir).generic_string();
    ASSIGN_OR_RETURN(std::string body, ReadFile(it->path().string()));
    assets[rel] = StaticAsset{ContentType(rel), std::move(body)};
  }
  if (ec) return DataLossError(dir + ": " + ec.message());
  return assets;
}

ConsoleHandler::ConsoleHandler(std::unique_ptr<ConsoleData> data,
                               std::map<std::string, StaticAsset> assets,
                               std::chrono::milliseconds tick)
    : data_(std::move(data)),
      assets_(std::move(assets)),
      worker_(1, kQueue),
      tick_(tick),
      ticker_([this] { Tick(); }) {}

ConsoleHandler::~ConsoleHandler() {
  {
    std::lock_guard<std::mutex> lock(streams_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  ticker_.join();
  for (const auto& stream : streams_) stream->Close();
  worker_.Stop();
}

size_t ConsoleHandler::open_streams() {
  std::lock_guard<std::mutex> lock(streams_mu_);
  return streams_.size();
}

void ConsoleHandler::Tick() {
  std::unique_lock<std::mutex> lock(streams_mu_);
  while (!stop_cv_.wait_for(lock, tick_, [this] { return stopping_; })) {
    std::vector<std::shared_ptr<serving::http::HttpStream>> streams = streams_;
    lock.unlock();
    data_->SampleTraffic();
    std::vector<const serving::http::HttpStream*> gone;
    if (!streams.empty()) {
      // One rendering for every viewer; an error (no server) is sent as such.
      StatusOr<std::string> t = data_->Get("traffic", "");
      const std::string event = t.ok() ? "event: traffic\ndata: " + *t + "\n\n"
                                       : "event: error\ndata: " + ErrorBody(t.status().message()) +
                                             "\n\n";
      for (const auto& stream : streams) {
        if (!stream->Send(event)) gone.push_back(stream.get());
      }
    }
    lock.lock();
    if (!gone.empty()) {
      std::erase_if(streams_, [&](const auto& s) {
        return std::find(gone.begin(), gone.end(), s.get()) != gone.end();
      });
    }
  }
}

void ConsoleHandler::Handle(const serving::http::HttpRequest& req,
                            serving::http::HttpRespond respond) {
  if (req.method() != "GET" && req.method() != "HEAD") {
    return respond(HttpResponse{405, ErrorBody("the console is read-only: use GET")});
  }
  const std::string_view target = req.target();
  const size_t q = target.find('?');
  // Copies: the request is valid only until answered, and the answer comes from the worker.
  std::string path(target.substr(0, q));
  std::string query(q == std::string_view::npos ? "" : target.substr(q + 1));
  auto shared = std::make_shared<serving::http::HttpRespond>(std::move(respond));
  if (!worker_.Post([this, path = std::move(path), query = std::move(query), shared] {
        (*shared)(Answer(path, query));
      })) {
    (*shared)(HttpResponse{429, ErrorBody("console busy; retry shortly")});
  }
}

HttpResponse ConsoleHandler::Answer(std::string_view path, std::string_view query) {
  if (path == "/ui") {
    // Relative links need the trailing slash.
    return HttpResponse{200, "<!doctype html><meta http-equiv=\"refresh\" content=\"0; url=/ui/\">",
                        "text/html; charset=utf-8"};
  }
  if (path.substr(0, 4) != "/ui/") {
    return HttpResponse{404, ErrorBody("unknown path '" + std::string(path) + "'")};
  }
  path.remove_prefix(4);
  if (path == "api/traffic/stream") {
    StatusOr<std::string> t = data_->Get("traffic", "");
    if (!t.ok()) return Error(t.status());
    // Held open: the ticker sends the next ones. `retry`: if it drops, ask again in 1 s.
    HttpResponse r{200, "retry: 1000\nevent: traffic\ndata: " + *t + "\n\n",
                   "text/event-stream"};
    r.stream = [this](std::shared_ptr<serving::http::HttpStream> stream) {
      std::lock_guard<std::mutex> lock(streams_mu_);
      if (stopping_) return stream->Close();
      streams_.push_back(std::move(stream));
    };
    return r;
  }
  if (path.substr(0, 4) == "api/") {
    StatusOr<std::string> body = data_->Get(path.substr(4), query);
    if (!body.ok()) return Error(body.status());
    return HttpResponse{200, std::move(body).value()};
  }
  const std::string file = path.empty() ? "index.html" : std::string(path);
  auto it = assets_.find(file);
  if (it == assets_.end()) {
    return HttpResponse{404, ErrorBody("no console file '" + file + "'")};
  }
  return HttpResponse{200, it->second.body, it->second.content_type};
}

}  // namespace bimride::console
