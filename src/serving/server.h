// Server: the model server's composition root (TF Serving's ServerCore). It owns, for the life
// of the process, the metrics, the servable manager (repository polling, loads, version swaps,
// each version's dynamic batcher), the shadow queue and the Service; transports (HTTP, next
// gRPC) plug in with AddTransport and call the Service.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<Server> server, Server::Create(config));
//   ASSIGN_OR_RETURN(auto http, http::HttpTransport::Create(&server->service(), server->config()));
//   RETURN_IF_ERROR(server->AddTransport(std::move(http)));
//   …
//   server->Shutdown();   // transports drain, shadows finish, versions unload
//
// (serving/http/http_transport.h has StartHttpServer for exactly that.)
//
// Create loads the repository synchronously (failed versions are reported, not fatal) and fails
// on: no repository given (InvalidArgument), missing repository folder (NotFound). The admin
// token comes from the config, else the BIMRIDE_ADMIN_TOKEN environment variable.
// Thread safety: Create, AddTransport and Shutdown from one controlling thread; the accessors
// may be used from any thread while the server lives.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "serving/progressive_rollout.h"
#include "serving/servable_manager.h"
#include "serving/server_config.h"
#include "serving/service.h"
#include "serving/serving_metrics.h"
#include "serving/shadow_queue.h"
#include "serving/transport.h"

namespace bimride::serving {

class Server {
 public:
  static StatusOr<std::unique_ptr<Server>> Create(ServerConfig config);
  ~Server();  // Shutdown()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Starts `transport` and keeps it until Shutdown. Its Start error is returned and the
  // transport dropped; the server and its other transports keep running. FailedPrecondition
  // after Shutdown or when a transport of the same name is attached.
  Status AddTransport(std::unique_ptr<Transport> transport);
  // The attached transport called `name`, or nullptr.
  Transport* FindTransport(std::string_view name) const;

  const ServerConfig& config() const { return config_; }
  Service& service() { return *service_; }
  ServableManager& manager() { return *manager_; }
  ShadowQueue& shadow_queue() { return shadows_; }
  ServingMetrics& metrics() { return metrics_; }
  online::FeatureStore& online_store() { return *online_store_; }
  RolloutController& rollouts() { return *rollouts_; }

  // Stops every transport (in-flight requests drained, up to drain_ms each), runs the queued
  // shadow mirrors, then stops the manager (batchers drain, versions unload). Idempotent.
  void Shutdown(int drain_ms = 10000);

 private:
  Server(ServerConfig config, std::unique_ptr<online::FeatureStore> online_store,
         std::unique_ptr<monitoring::LiveMonitor> monitor,
         std::unique_ptr<monitoring::PredictionLog> prediction_log);

  const ServerConfig config_;
  // Declared in dependency order: destroyed transports first, metrics last.
  ServingMetrics metrics_;
  std::unique_ptr<online::FeatureStore> online_store_;          // never null
  std::unique_ptr<monitoring::LiveMonitor> monitor_;            // null when the log is off
  std::unique_ptr<monitoring::PredictionLog> prediction_log_;  // null when off
  std::unique_ptr<ServableManager> manager_;
  ShadowQueue shadows_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<RolloutController> rollouts_;  // progressive rollouts (checks on its thread)
  std::vector<std::unique_ptr<Transport>> transports_;
  bool shut_down_ = false;
};

}  // namespace bimride::serving
