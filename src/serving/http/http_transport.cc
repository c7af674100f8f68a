#include "serving/http/http_transport.h"

namespace bimride::serving::http {

StatusOr<std::unique_ptr<HttpTransport>> HttpTransport::Create(
    Service* service, const ServerConfig& config, std::unique_ptr<HttpHandler> console) {
  ASSIGN_OR_RETURN(std::unique_ptr<AccessLog> access_log, AccessLog::Open(config.access_log));
  return std::unique_ptr<HttpTransport>(
      new HttpTransport(config, std::move(access_log), service, std::move(console)));
}

HttpTransport::HttpTransport(const ServerConfig& config, std::unique_ptr<AccessLog> access_log,
                             Service* service, std::unique_ptr<HttpHandler> console)
    : access_log_(std::move(access_log)),
      console_(std::move(console)),
      api_(service, config, access_log_.get(), console_.get()) {
  options_.host = config.host;
  options_.port = static_cast<int>(config.port);
  options_.io_threads = static_cast<int>(config.io_threads);
  options_.max_body_bytes = config.max_body_bytes;
  options_.max_connections = config.max_connections;
  options_.max_header_bytes = config.max_header_bytes;
  options_.header_timeout_ms = config.header_timeout_ms;
}

HttpTransport::~HttpTransport() { Stop(0); }

Status HttpTransport::Start() {
  if (http_ != nullptr) return FailedPreconditionError("the HTTP transport is already started");
  ASSIGN_OR_RETURN(http_, HttpServer::Start(options_, &api_));
  return OkStatus();
}

int HttpTransport::port() const { return http_ != nullptr ? http_->port() : -1; }

void HttpTransport::Stop(int drain_ms) {
  if (http_ != nullptr) http_->Shutdown(drain_ms);
  // No request comes in any more; the large ones still with a worker answer (into closed
  // connections, if the drain timed out) before the Server unloads the models.
  api_.Stop();
  console_.reset();  // answers what it has queued, then joins its thread
}

StatusOr<std::unique_ptr<Server>> StartHttpServer(ServerConfig config) {
  ASSIGN_OR_RETURN(std::unique_ptr<Server> server, Server::Create(std::move(config)));
  ASSIGN_OR_RETURN(std::unique_ptr<HttpTransport> http,
                   HttpTransport::Create(&server->service(), server->config()));
  RETURN_IF_ERROR(server->AddTransport(std::move(http)));
  return server;
}

StatusOr<std::unique_ptr<Server>> StartLocalModelServer(const std::string& model_repo) {
  ServerConfig config;
  config.model_repo = model_repo;
  config.port = 0;
  return StartHttpServer(std::move(config));
}

int HttpPort(const Server& server) {
  const Transport* http = server.FindTransport(HttpTransport::kName);
  return http != nullptr ? http->port() : -1;
}

}  // namespace bimride::serving::http
