#include "serving/http/model_server.h"

#include <cstdlib>

#include "common/logging.h"
#include "serving/http/access_log.h"
#include "serving/http/http_server.h"
#include "serving/http/rest_api.h"

namespace bimride::serving::http {

struct ModelServer::Parts {
  ServerConfig config;
  ServingMetrics metrics;
  std::unique_ptr<ServableManager> manager;
  std::unique_ptr<Service> service;
  std::unique_ptr<AccessLog> access_log;
  std::unique_ptr<RestApi> api;
  std::unique_ptr<HttpServer> http;
  bool shut_down = false;
};

StatusOr<std::unique_ptr<ModelServer>> ModelServer::Start(ServerConfig config) {
  if (config.model_repo.empty()) return InvalidArgumentError("no model repository given");
  if (config.admin_token.empty()) {
    if (const char* env = std::getenv("BIMRIDE_ADMIN_TOKEN")) config.admin_token = env;
  }
  auto parts = std::make_unique<Parts>();
  parts->config = config;
  ASSIGN_OR_RETURN(parts->access_log, AccessLog::Open(config.access_log));
  parts->manager = std::make_unique<ServableManager>(config, &parts->metrics);
  RETURN_IF_ERROR(parts->manager->Start());
  parts->service =
      std::make_unique<Service>(parts->manager.get(), &parts->metrics, config.max_batch_rows);
  parts->api = std::make_unique<RestApi>(parts->service.get(), config, parts->access_log.get());
  HttpServerOptions ho;
  ho.host = config.host;
  ho.port = static_cast<int>(config.port);
  ho.io_threads = static_cast<int>(config.io_threads);
  ho.max_body_bytes = config.max_body_bytes;
  auto http = HttpServer::Start(ho, parts->api.get());
  if (!http.ok()) {
    parts->manager->Stop();
    return http.status();
  }
  parts->http = std::move(http).value();
  BIMRIDE_LOG(INFO) << "model server listening on " << config.host << ":" << parts->http->port()
                    << " (repository " << config.model_repo << ")";
  return std::unique_ptr<ModelServer>(new ModelServer(std::move(parts)));
}

ModelServer::ModelServer(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

ModelServer::~ModelServer() { Shutdown(); }

int ModelServer::port() const { return parts_->http->port(); }
const ServerConfig& ModelServer::config() const { return parts_->config; }
Service& ModelServer::service() { return *parts_->service; }
ServableManager& ModelServer::manager() { return *parts_->manager; }

void ModelServer::Shutdown(int drain_ms) {
  if (parts_->shut_down) return;
  parts_->shut_down = true;
  parts_->http->Shutdown(drain_ms);   // no new requests; in-flight ones answered
  parts_->service->FlushShadows();
  parts_->manager->Stop();            // batchers drain, versions unload
  BIMRIDE_LOG(INFO) << "model server stopped";
}

StatusOr<std::unique_ptr<ModelServer>> StartLocalModelServer(const std::string& model_repo) {
  ServerConfig config;
  config.model_repo = model_repo;
  config.port = 0;
  return ModelServer::Start(std::move(config));
}

}  // namespace bimride::serving::http
