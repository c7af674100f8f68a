// ModelServer: the whole model server in-process — metrics, servable manager, service, REST API
// and HTTP server — started from a ServerConfig. `bimride serve` is a thin shell around it;
// tests and `bimride quickstart` start one on port 0 and read port().
//
//   ServerConfig cfg;  cfg.model_repo = "models/";  cfg.port = 0;
//   ASSIGN_OR_RETURN(auto server, ModelServer::Start(cfg));
//   … POST http://127.0.0.1:<server->port()>/v1/models/eta:predict …
//   server->Shutdown();   // drains in-flight requests, unloads models
//
// Start loads the repository synchronously (failed versions are reported, not fatal) and
// fails on: missing repository, bad access-log path, address in use.
// The admin token comes from the config, else the BIMRIDE_ADMIN_TOKEN environment variable.
// Thread safety: Start/Shutdown from one thread; service() may be used from any thread.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "serving/server_config.h"
#include "serving/service.h"

namespace bimride::serving::http {

class ModelServer {
 public:
  static StatusOr<std::unique_ptr<ModelServer>> Start(ServerConfig config);
  ~ModelServer();

  int port() const;
  const ServerConfig& config() const;
  Service& service();
  ServableManager& manager();
  // Stops accepting, drains in-flight requests (up to drain_ms), stops the batchers and
  // unloads every version. Idempotent.
  void Shutdown(int drain_ms = 10000);

  struct Parts;

 private:
  explicit ModelServer(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

// Convenience for other components (quickstart): starts a server on 127.0.0.1 with a free port
// over `model_repo` with default settings.
StatusOr<std::unique_ptr<ModelServer>> StartLocalModelServer(const std::string& model_repo);

}  // namespace bimride::serving::http
