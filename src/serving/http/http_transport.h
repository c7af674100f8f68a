// HttpTransport: the model server's HTTP transport — TF Serving REST (/v1), KServe v2 (/v2) and
// Prometheus /metrics (RestApi) over the Boost.Beast HttpServer, with the access log. It plugs
// into a serving::Server (serving/server.h) and calls only its Service.
//
// Also the convenience every caller of "a model server over HTTP" wants (`bimride serve`,
// quickstart, tests):
//
//   ServerConfig cfg;  cfg.model_repo = "models/";  cfg.port = 0;
//   ASSIGN_OR_RETURN(std::unique_ptr<Server> server, StartHttpServer(cfg));
//   … POST http://127.0.0.1:<HttpPort(*server)>/v1/models/eta:predict …
//   server->Shutdown();   // drains in-flight requests, unloads models
//
// Errors: Create fails on a bad access-log path; Start on an address in use or a bad host.
// Thread safety: as Transport (serving/transport.h).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "serving/http/access_log.h"
#include "serving/http/http_server.h"
#include "serving/http/rest_api.h"
#include "serving/server.h"
#include "serving/server_config.h"
#include "serving/service.h"
#include "serving/transport.h"

namespace bimride::serving::http {

class HttpTransport : public Transport {
 public:
  static constexpr std::string_view kName = "http";

  // Serves `service` (which must outlive the transport) on config.host:config.port with
  // config's io_threads, max_body_bytes, max_batch_rows, max_connections, max_header_bytes,
  // header_timeout_ms, access_log and admin_token. `console`, when given, answers every path
  // under /ui (the web console, console/console_handler.h); the transport owns it and destroys
  // it in Stop, after the last request was read and before the connections go.
  static StatusOr<std::unique_ptr<HttpTransport>> Create(
      Service* service, const ServerConfig& config,
      std::unique_ptr<HttpHandler> console = nullptr);
  ~HttpTransport() override;  // Stop(0)

  std::string_view name() const override { return kName; }
  Status Start() override;
  int port() const override;  // -1 before Start
  void Stop(int drain_ms) override;

 private:
  HttpTransport(const ServerConfig& config, std::unique_ptr<AccessLog> access_log,
                Service* service, std::unique_ptr<HttpHandler> console);

  HttpServerOptions options_;
  std::unique_ptr<AccessLog> access_log_;
  std::unique_ptr<HttpHandler> console_;
  RestApi api_;
  std::unique_ptr<HttpServer> http_;
};

// Server::Create, then an HttpTransport on config.host:config.port. Errors of either; nothing
// keeps running after an error.
StatusOr<std::unique_ptr<Server>> StartHttpServer(ServerConfig config);

// StartHttpServer on 127.0.0.1 with a free port over `model_repo`, default settings otherwise.
StatusOr<std::unique_ptr<Server>> StartLocalModelServer(const std::string& model_repo);

// The port `server`'s HTTP transport listens on; -1 when it has none.
int HttpPort(const Server& server);

}  // namespace bimride::serving::http
