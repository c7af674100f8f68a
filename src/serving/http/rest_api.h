// RestApi: the HTTP endpoints of the model server, each one handler method over the Service.
//
// TF Serving REST:  GET  /v1/models/{m}[/versions/{v}|/labels/{l}]            model status
//                   GET  /v1/models/{m}[/versions/{v}|/labels/{l}]/metadata   signature_def
//                   POST /v1/models/{m}[/versions/{v}|/labels/{l}]:predict    instances|inputs
//                   POST /v1/models/{m}[/versions/{v}|/labels/{l}]:regress    examples, context
//                   POST /v1/models/{m}[/versions/{v}|/labels/{l}]:classify   examples, context
// KServe v2:        GET  /v2, /v2/health/live, /v2/health/ready
//                   GET  /v2/models/{m}[/versions/{v}], …/ready; POST …/infer
//   repository:     POST /v2/repository/index, /v2/repository/models/{m}/load|unload
//   (bimride)       POST /v2/repository/models/{m}/labels/{l}  {"version": N}   label move
// Monitoring:       POST /v1/feedback  labels for logged predictions (monitoring/live_monitor.h)
//                   GET  /v1/monitor   live accuracy per model, version and window
// Prometheus:       GET  /metrics
// Console:          GET  /ui, /ui/…  handed to the console handler when one is given
//
// Errors are {"error": "…"} with the HTTP status mapped from the Status code in one place
// (HttpStatusFor). Repository calls need `Authorization: Bearer <admin_token>` when a token is
// configured, and are refused when the server listens beyond loopback without one.
// Thread safety: Handle may be called from many I/O threads at once.
#pragma once

#include <memory>
#include <string>

#include "serving/http/access_log.h"
#include "serving/http/http_server.h"
#include "serving/http/worker_pool.h"
#include "serving/server_config.h"
#include "serving/service.h"

namespace bimride::serving::http {

int HttpStatusFor(StatusCode code);

class RestApi : public HttpHandler {
 public:
  // Requests with a body larger than this are handled on the RestApi's worker threads (as many
  // as config.io_threads), not on the I/O thread that read them; beyond kWorkerQueue of them
  // waiting, one is answered 429.
  static constexpr size_t kWorkerBodyBytes = 64 << 10;
  static constexpr size_t kWorkerQueue = 256;

  // `service`, `access_log` and `console` (may be null: /ui is then 404) must outlive the
  // RestApi's requests.
  RestApi(Service* service, const ServerConfig& config, AccessLog* access_log,
          HttpHandler* console = nullptr);
  ~RestApi() override;  // Stop()
  void Handle(const HttpRequest& request, HttpRespond respond) override;
  // Runs the queued large requests and joins the workers; later large requests get 429. Call
  // once the HTTP server has stopped reading requests (HttpTransport::Stop does). Idempotent.
  void Stop();

 private:
  void Route(const HttpRequest& req, std::string_view path, HttpRespond respond,
             int64_t start_ns);
  void HandleTfs(const HttpRequest& req, std::string_view path, HttpRespond respond,
                 int64_t start_ns);
  // :regress and :classify (TF Serving's Example format), routed as :predict.
  void HandleTfsExamples(const HttpRequest& req, Method method, std::string model,
                         VersionSelector selector, HttpRespond respond, int64_t start_ns);
  void HandleKserve(const HttpRequest& req, std::string_view path, HttpRespond respond,
                    int64_t start_ns);
  void HandleRepository(const HttpRequest& req, std::string_view path, HttpRespond& respond);
  Status Authorize(const HttpRequest& req) const;
  void HandleRollouts(const HttpRequest& req, std::string_view path, HttpRespond& respond);
  void HandleLabelMove(const HttpRequest& req, const std::string& model, const std::string& label,
                       HttpRespond& respond);

  Service* const service_;
  const int64_t max_batch_rows_;
  const std::string admin_token_;
  const bool loopback_only_;
  AccessLog* const access_log_;
  HttpHandler* const console_;
  std::unique_ptr<WorkerPool> workers_;
};

}  // namespace bimride::serving::http
