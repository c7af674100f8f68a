#include "serving/http/rest_api.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/logging.h"
#include "serving/http/json_text.h"
#include "serving/http/kserve_codec.h"
#include "serving/http/online_codec.h"
#include "serving/http/request_json.h"
#include "serving/http/tfs_codec.h"
#include "serving/model_source.h"
#include "serving/progressive_rollout.h"

namespace bimride::serving::http {
namespace {

// Constant time in the content of both (only their lengths show): a timing side channel must not
// reveal how much of a guessed token is right.
bool TokensEqual(std::string_view given, std::string_view expected) {
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < given.size(); ++i) {
    diff |= static_cast<unsigned char>(given[i]) ^
            static_cast<unsigned char>(expected[i % std::max<size_t>(1, expected.size())]);
  }
  return diff == 0 && !expected.empty();
}

// GET /v1/monitor: the live monitor's counters and every kept window's accuracy.
std::string RenderMonitorReport(const monitoring::LiveMonitor& monitor) {
  const monitoring::MonitorCounters c = monitor.counters();
  nlohmann::json j;
  j["window_rows"] = monitor.options().window_rows;
  j["anchor_windows"] = monitor.options().anchor_windows;
  j["anchor_prior_rows"] = monitor.options().anchor_prior_rows;
  j["counters"] = {{"predicted_rows", c.predicted_rows}, {"labels", c.labels},
                   {"joined", c.joined},                 {"late", c.late},
                   {"duplicate", c.duplicate},           {"missing", c.missing},
                   {"unmatched", c.unmatched},           {"pending_rows", c.pending_rows},
                   {"waiting_labels", c.waiting_labels}};
  j["windows"] = nlohmann::json::array();
  for (const monitoring::WindowAccuracy& w : monitor.Windows()) {
    const train::Metrics& m = w.metrics;
    j["windows"].push_back({{"model", w.model},
                            {"version", w.version},
                            {"window", w.window},
                            {"closed", w.closed},
                            {"predicted_rows", w.predicted_rows},
                            {"labelled_rows", w.labelled_rows},
                            {"late_labels", w.late_labels},
                            {"first_time_us", w.first_time_us},
                            {"last_time_us", w.last_time_us},
                            {"rmse", m.rmse},
                            {"mae", m.mae},
                            {"bias", m.bias},
                            {"rmsle", m.rmsle},
                            {"mape", m.mape},
                            {"mean_actual", m.mean_actual}});
    nlohmann::json& out = j["windows"].back();
    if (w.estimated_rows > 0) {
      // Label-anchored (monitoring/live_monitor.h), the loss estimator's own beside it, and what
      // anchors it: the labelled rows and windows before this one (0: not anchored yet).
      out["estimated_rmse"] = w.estimated_rmse;
      out["estimated_rmse_unanchored"] = w.estimated_rmse_unanchored;
      out["estimated_rows"] = w.estimated_rows;
      out["estimate_correction"] = w.estimate_correction;
      out["estimate_anchor_rows"] = w.anchor_rows;
      out["estimate_anchor_windows"] = w.anchor_windows;
    }
    if (!w.drift.empty()) {
      out["drift_calibrated"] = w.drift_calibrated;
      out["drift_alarm"] = w.drift_alarm;
      nlohmann::json drift = nlohmann::json::object();
      for (const monitoring::FeatureDrift& d : w.drift) {
        nlohmann::json f;
        if (d.categorical) {  // a declared category: chi-square and Jensen–Shannon distance
          f["kind"] = "categorical";
          if (d.error.empty()) {
            f["chi2"] = d.category.chi2;
            f["df"] = d.category.df;
            f["p_value"] = d.category.p_value;
            f["cramers_v"] = d.category.cramers_v;
            f["js_distance"] = d.category.js_distance;
            f["rows"] = d.category.rows;
          } else {
            f["error"] = d.error;
          }
        } else {
          for (int s = 0; s < monitoring::kDriftScores; ++s) {
            f[std::string(monitoring::kDriftScoreNames[s])] = d.scores.value[s];
          }
        }
        if (!d.above.empty()) f["above"] = d.above;
        drift[d.feature] = f;
      }
      out["drift"] = drift;
    }
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

HttpResponse ErrorResponse(const Status& status) {
  return HttpResponse{HttpStatusFor(status.code()), ErrorBody(status.message())};
}

HttpResponse Json(std::string body) { return HttpResponse{200, std::move(body)}; }

bool ConsumePrefix(std::string_view* s, std::string_view prefix) {
  if (s->substr(0, prefix.size()) != prefix) return false;
  s->remove_prefix(prefix.size());
  return true;
}

// Next path segment (up to '/' or end), consumed with its leading '/' already removed.
std::string_view NextSegment(std::string_view* s) {
  size_t slash = s->find('/');
  std::string_view seg = s->substr(0, slash);
  s->remove_prefix(slash == std::string_view::npos ? s->size() : slash);
  return seg;
}

bool ParseVersion(std::string_view text, int64_t* v) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *v);
  return ec == std::errc() && ptr == text.data() + text.size() && *v > 0;
}

// Parses "{m}[/versions/{v}|/labels/{l}]" from the front of `rest`, leaving the remainder.
Status ParseModelPath(std::string_view* rest, std::string* model, VersionSelector* selector,
                      bool allow_labels) {
  std::string_view name = NextSegment(rest);
  if (name.empty()) return InvalidArgumentError("missing model name in the path");
  *model = std::string(name);
  if (ConsumePrefix(rest, "/versions/")) {
    std::string_view v = NextSegment(rest);
    int64_t version = 0;
    if (!ParseVersion(v, &version)) {
      return InvalidArgumentError("version '" + std::string(v) + "' is not a positive integer");
    }
    selector->version = version;
  } else if (allow_labels && ConsumePrefix(rest, "/labels/")) {
    std::string_view l = NextSegment(rest);
    if (l.empty()) return InvalidArgumentError("missing label in the path");
    selector->label = std::string(l);
  }
  return OkStatus();
}

class TimedRespond {
 public:
  TimedRespond(HttpRespond respond, ServingMetrics* metrics, AccessLog* log,
               const HttpRequest& req, const char* api, int64_t start_ns)
      : respond_(std::move(respond)), metrics_(metrics), log_(log), api_(api), start_(start_ns) {
    if (log_->enabled()) {
      method_ = std::string(req.method());
      target_ = std::string(req.target());
      remote_ = std::string(req.remote_address());
    }
  }
  void operator()(HttpResponse r) {
    metrics_->CountHttp(api_, r.status);
    if (log_->enabled()) {
      log_->Write(remote_, method_, target_, r.status, r.body.size(),
                  (MonotonicNanos() - start_) / 1000);
    }
    respond_(std::move(r));
  }

 private:
  HttpRespond respond_;
  ServingMetrics* metrics_;
  AccessLog* log_;
  const char* api_;
  int64_t start_;
  std::string method_, target_, remote_;
};

HttpResponse WithRequestId(HttpResponse response, const PredictResult& r) {
  response.request_id = r.request_id;
  return response;
}

void RecordLatency(const PredictResult& r, int64_t start_ns) {
  if (r.preview) return;  // not traffic (IsPreview)
  VersionMetrics* vm = r.servable->metrics();
  double total = (MonotonicNanos() - start_ns) * 1e-9;
  vm->total_seconds.Observe(total);
  vm->overhead_seconds.Observe(total - r.timing.compute_ns * 1e-9);
}

}  // namespace

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
    case StatusCode::kFailedPrecondition:
      return 400;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
      return 409;
    case StatusCode::kOutOfRange:
      return 413;
    case StatusCode::kResourceExhausted:
      return 429;
    case StatusCode::kUnimplemented:
      return 501;
    case StatusCode::kUnavailable:
    case StatusCode::kCancelled:
      return 503;
    case StatusCode::kDeadlineExceeded:
      return 504;
    case StatusCode::kDataLoss:
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

RestApi::RestApi(Service* service, const ServerConfig& config, AccessLog* access_log,
                 HttpHandler* console)
    : service_(service),
      max_batch_rows_(config.max_batch_rows),
      admin_token_(config.admin_token),
      loopback_only_(IsLoopbackHost(config.host)),
      access_log_(access_log),
      console_(console),
      workers_(std::make_unique<WorkerPool>(
          config.io_threads > 0 ? static_cast<int>(config.io_threads)
                                : static_cast<int>(std::thread::hardware_concurrency()),
          kWorkerQueue)) {}

RestApi::~RestApi() { Stop(); }

void RestApi::Stop() { workers_->Stop(); }

void RestApi::Handle(const HttpRequest& req, HttpRespond raw_respond) {
  const int64_t start = MonotonicNanos();
  std::string_view target = req.target();
  std::string_view path = target.substr(0, target.find('?'));
  const char* api = path.substr(0, 4) == "/v1/" ? "tfs" : path.substr(0, 3) == "/v2" ? "kserve"
                                                                                      : "other";
  TimedRespond timed(std::move(raw_respond), &service_->metrics(), access_log_, req, api, start);
  HttpRespond respond = std::move(timed);
  if (req.body().size() > kWorkerBodyBytes) {
    // Parsing a big body (and predicting its rows) takes CPU time every other connection of this
    // I/O thread would wait for: a worker does it. The request stays valid until answered.
    auto shared = std::make_shared<HttpRespond>(std::move(respond));
    if (!workers_->Post([this, &req, path, shared, start] { Route(req, path, *shared, start); })) {
      (*shared)(HttpResponse{429, ErrorBody("too many large requests queued; retry shortly")});
    }
    return;
  }
  Route(req, path, std::move(respond), start);
}

void RestApi::Route(const HttpRequest& req, std::string_view path, HttpRespond respond,
                    int64_t start) {
  if (path == "/metrics") {
    if (req.method() != "GET") return respond(ErrorResponse(UnimplementedError("use GET")));
    return respond(HttpResponse{200, service_->MetricsText(), "text/plain; version=0.0.4"});
  }
  if (ConsumePrefix(&path, "/v1/models/")) return HandleTfs(req, path, std::move(respond), start);
  if (path == "/v1/feedback") {
    if (req.method() != "POST") return respond(HttpResponse{405, ErrorBody("use POST")});
    StatusOr<std::vector<monitoring::Feedback>> fb =
        monitoring::ParseFeedbackJson(req.body(), "feedback");
    if (!fb.ok()) return respond(ErrorResponse(fb.status()));
    StatusOr<monitoring::FeedbackOutcome> out = service_->PostFeedback(*fb);
    if (!out.ok()) return respond(ErrorResponse(out.status()));
    nlohmann::json j = {{"received", fb->size()},    {"joined", out->joined},
                        {"late", out->late},         {"waiting", out->waiting},
                        {"duplicate", out->duplicate}};
    return respond(Json(j.dump()));
  }
  if (ConsumePrefix(&path, "/v1/online/")) {
    if (req.method() != "POST") return respond(HttpResponse{405, ErrorBody("use POST")});
    StatusOr<RawBatch> events = ParseOnlineEventsRequest(req.body(), max_batch_rows_);
    if (!events.ok()) return respond(ErrorResponse(events.status()));
    StatusOr<int64_t> recorded = service_->RecordOnlineEvents(std::string(path), *events);
    if (!recorded.ok()) return respond(ErrorResponse(recorded.status()));
    return respond(Json(nlohmann::json({{"recorded", *recorded}}).dump()));
  }
  if (path == "/v1/monitor") {
    if (req.method() != "GET") return respond(HttpResponse{405, ErrorBody("use GET")});
    const monitoring::LiveMonitor* monitor = service_->live_monitor();
    if (monitor == nullptr) {
      return respond(ErrorResponse(FailedPreconditionError(
          "no live monitor: start the server with --prediction-log DIR")));
    }
    return respond(Json(RenderMonitorReport(*monitor)));
  }
  if (path == "/v1/rollouts" || ConsumePrefix(&path, "/v1/rollouts/")) {
    return HandleRollouts(req, path == "/v1/rollouts" ? std::string_view() : path, respond);
  }
  if (path == "/v2" || path.substr(0, 4) == "/v2/") {
    path.remove_prefix(3);
    return HandleKserve(req, path, std::move(respond), start);
  }
  if (console_ != nullptr && (path == "/ui" || path.substr(0, 4) == "/ui/")) {
    return console_->Handle(req, std::move(respond));
  }
  respond(HttpResponse{404, ErrorBody("unknown path '" + std::string(path) + "'")});
}

void RestApi::HandleTfs(const HttpRequest& req, std::string_view path, HttpRespond respond,
                        int64_t start) {
  // A trailing ":verb" (":predict") belongs to the last segment.
  std::string_view verb;
  if (size_t colon = path.rfind(':'); colon != std::string_view::npos &&
                                      path.find('/', colon) == std::string_view::npos) {
    verb = path.substr(colon + 1);
    path = path.substr(0, colon);
  }
  std::string model;
  VersionSelector selector;
  Status st = ParseModelPath(&path, &model, &selector, /*allow_labels=*/true);
  if (!st.ok()) return respond(ErrorResponse(st));
  bool metadata = false;
  if (path == "/metadata" && verb.empty()) {
    metadata = true;
  } else if (!path.empty()) {
    return respond(HttpResponse{404, ErrorBody("unknown path '/v1/models/" + model +
                                               std::string(path) + "'")});
  }
  if (!verb.empty()) {
    if (verb != "predict" && verb != "regress" && verb != "classify") {
      return respond(HttpResponse{404, ErrorBody("unknown method ':" + std::string(verb) + "'")});
    }
    if (req.method() != "POST") {
      return respond(HttpResponse{405, ErrorBody("':" + std::string(verb) + "' needs POST")});
    }
    if (verb != "predict") {
      return HandleTfsExamples(req, verb == "regress" ? Method::kRegress : Method::kClassify,
                               std::move(model), std::move(selector), std::move(respond), start);
    }
    StatusOr<TfsPredictRequest> parsed = ParseTfsPredictRequest(req.body(), max_batch_rows_);
    if (!parsed.ok()) return respond(ErrorResponse(parsed.status()));
    const bool columnar = parsed->columnar;
    PredictRequest pr{std::move(model), std::move(selector), std::move(parsed->input), &req};
    service_->Predict(std::move(pr), [respond = std::move(respond), columnar,
                                      start](StatusOr<PredictResult> r) {
      if (!r.ok()) return respond(ErrorResponse(r.status()));
      std::string body = RenderTfsPredictResponse(*r, columnar);
      RecordLatency(*r, start);
      respond(WithRequestId(Json(std::move(body)), *r));
    });
    return;
  }
  if (req.method() != "GET") return respond(HttpResponse{405, ErrorBody("use GET")});
  if (metadata) {
    auto d = service_->DescribeModel(model, selector);
    if (!d.ok()) return respond(ErrorResponse(d.status()));
    return respond(Json(RenderTfsModelMetadata(*d)));
  }
  auto status = service_->GetModelStatus(model, selector);
  if (!status.ok()) return respond(ErrorResponse(status.status()));
  respond(Json(RenderTfsModelStatus(*status)));
}

void RestApi::HandleTfsExamples(const HttpRequest& req, Method method, std::string model,
                                VersionSelector selector, HttpRespond respond, int64_t start) {
  StatusOr<TfsExamplesRequest> parsed = ParseTfsExamplesRequest(req.body(), max_batch_rows_);
  if (!parsed.ok()) return respond(ErrorResponse(parsed.status()));
  PredictRequest pr{std::move(model), std::move(selector), std::move(parsed->input), &req};
  pr.method = method;
  pr.signature_name = parsed->signature_name;
  service_->Predict(std::move(pr), [respond = std::move(respond), method,
                                    signature = std::move(parsed->signature_name),
                                    start](StatusOr<PredictResult> r) {
    if (!r.ok()) return respond(ErrorResponse(r.status()));
    StatusOr<std::string> body = method == Method::kRegress
                                     ? RenderTfsRegressResponse(*r, signature)
                                     : StatusOr<std::string>(RenderTfsClassifyResponse(*r));
    if (!body.ok()) return respond(ErrorResponse(body.status()));
    RecordLatency(*r, start);
    respond(WithRequestId(Json(std::move(body).value()), *r));
  });
}

void RestApi::HandleKserve(const HttpRequest& req, std::string_view path, HttpRespond respond,
                           int64_t start) {
  const bool get = req.method() == "GET";
  if (path.empty() || path == "/") {
    if (!get) return respond(HttpResponse{405, ErrorBody("use GET")});
    return respond(Json(RenderKserveServerMetadata()));
  }
  if (path == "/health/live" || path == "/health/ready") {
    // Probes (a balancer's, Kubernetes') read with GET or HEAD; a write here is a client's bug.
    if (!get && req.method() != "HEAD") return respond(HttpResponse{405, ErrorBody("use GET")});
    const bool up = path == "/health/live" ? service_->Live() : service_->Ready();
    return respond(HttpResponse{up ? 200 : 503, ""});
  }
  if (path.substr(0, 12) == "/repository/") return HandleRepository(req, path, respond);
  if (!ConsumePrefix(&path, "/models/")) {
    return respond(HttpResponse{404, ErrorBody("unknown path '/v2" + std::string(path) + "'")});
  }
  std::string model;
  VersionSelector selector;
  Status st = ParseModelPath(&path, &model, &selector, /*allow_labels=*/true);
  if (!st.ok()) return respond(ErrorResponse(st));
  if (path == "/infer") {
    if (req.method() != "POST") return respond(HttpResponse{405, ErrorBody("/infer needs POST")});
    auto parsed = std::make_shared<StatusOr<KserveInferRequest>>(
        ParseKserveInferRequest(req.body(), max_batch_rows_));
    if (!parsed->ok()) return respond(ErrorResponse(parsed->status()));
    PredictRequest pr{std::move(model), std::move(selector), std::move((*parsed)->input), &req};
    service_->Predict(std::move(pr), [respond = std::move(respond), parsed,
                                      start](StatusOr<PredictResult> r) {
      if (!r.ok()) return respond(ErrorResponse(r.status()));
      StatusOr<std::string> body = RenderKserveInferResponse(*r, **parsed);
      if (!body.ok()) return respond(ErrorResponse(body.status()));
      RecordLatency(*r, start);
      respond(WithRequestId(Json(std::move(body).value()), *r));
    });
    return;
  }
  if (!get) return respond(HttpResponse{405, ErrorBody("use GET")});
  if (path == "/ready") {
    Status ready = service_->ModelReady(model, selector);
    if (ready.code() == StatusCode::kNotFound) return respond(ErrorResponse(ready));
    return respond(HttpResponse{ready.ok() ? 200 : 503, ""});
  }
  if (!path.empty()) {
    return respond(HttpResponse{404, ErrorBody("unknown path '/v2/models/" + model +
                                               std::string(path) + "'")});
  }
  auto d = service_->DescribeModel(model, selector);
  if (!d.ok()) return respond(ErrorResponse(d.status()));
  respond(Json(RenderKserveModelMetadata(*d)));
}

Status RestApi::Authorize(const HttpRequest& req) const {
  if (admin_token_.empty()) {
    if (loopback_only_) return OkStatus();
    return PermissionDeniedError(
        "repository control is disabled: the server listens beyond loopback and no admin token "
        "is configured (set BIMRIDE_ADMIN_TOKEN or server.admin_token)");
  }
  // The scheme is case-insensitive (RFC 9110 11.1); the token is compared in constant time.
  std::string_view auth = req.Get("authorization");
  constexpr std::string_view kScheme = "bearer ";
  bool scheme_ok = auth.size() >= kScheme.size();
  for (size_t i = 0; scheme_ok && i < kScheme.size(); ++i) {
    scheme_ok = std::tolower(static_cast<unsigned char>(auth[i])) == kScheme[i];
  }
  if (!scheme_ok || !TokensEqual(auth.substr(kScheme.size()), admin_token_)) {
    return PermissionDeniedError("repository control needs 'Authorization: Bearer <token>'");
  }
  return OkStatus();
}

void RestApi::HandleRepository(const HttpRequest& req, std::string_view path,
                               HttpRespond& respond) {
  if (req.method() != "POST") return respond(HttpResponse{405, ErrorBody("use POST")});
  Status auth = Authorize(req);
  if (!auth.ok()) {
    bool missing = !admin_token_.empty();
    return respond(HttpResponse{missing ? 401 : 403, ErrorBody(auth.message())});
  }
  if (path == "/repository/index") {
    bool ready_only = false;
    if (!req.body().empty()) {
      auto doc = ParseJsonBody(req.body());
      if (!doc.ok()) return respond(ErrorResponse(doc.status()));
      if (!doc->is_object()) return respond(HttpResponse{400, ErrorBody("body must be an object")});
      if (auto r = doc->find("ready"); r != doc->end()) {
        if (!r->is_boolean()) return respond(HttpResponse{400, ErrorBody("'ready' is a boolean")});
        ready_only = r->get<bool>();
      }
    }
    nlohmann::json out = nlohmann::json::array();
    for (const RepositoryEntry& e : service_->RepositoryIndex()) {
      const VersionStatus& v = e.status;
      const char* state = v.state == VersionState::kAvailable   ? "READY"
                          : v.state == VersionState::kLoading   ? "LOADING"
                          : v.state == VersionState::kUnloading ? "UNLOADING"
                                                                : "UNAVAILABLE";
      if (ready_only && v.state != VersionState::kAvailable) continue;
      out.push_back({{"name", e.model},
                     {"version", std::to_string(v.version)},
                     {"state", state},
                     {"reason", v.status.message()}});
    }
    return respond(Json(out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
  }
  std::string_view rest = path;
  if (!ConsumePrefix(&rest, "/repository/models/")) {
    return respond(HttpResponse{404, ErrorBody("unknown repository path")});
  }
  std::string model(NextSegment(&rest));
  if (!IsValidModelName(model)) {
    return respond(HttpResponse{400, ErrorBody("invalid model name '" + model + "'")});
  }
  if (rest == "/load") {
    Status st = service_->LoadModel(model);
    return respond(st.ok() ? HttpResponse{200, ""} : ErrorResponse(st));
  }
  if (rest == "/unload") {
    Status st = service_->UnloadModel(model);
    return respond(st.ok() ? HttpResponse{200, ""} : ErrorResponse(st));
  }
  if (ConsumePrefix(&rest, "/labels/") && !rest.empty() && rest.find('/') == std::string::npos) {
    // Labels follow the model-name rule (registry/manifest.h): a label of any bytes would be
    // echoed into every metadata answer and log line.
    if (!IsValidModelName(std::string(rest))) {
      return respond(HttpResponse{
          400, ErrorBody("invalid label name '" + std::string(rest) +
                         "' (1..128 of A-Z a-z 0-9 _ . -, not starting with . or -)")});
    }
    return HandleLabelMove(req, model, std::string(rest), respond);
  }
  respond(HttpResponse{404, ErrorBody("unknown repository path")});
}

// POST /v2/repository/models/{m}/labels/{l} with {"version": N, "why": "...", "who": "..."}
// or {"rollback": true, "why": ..., "who": ...}: moved through the registry (audited), then
// applied here. 200 with the move; "warning" when this server cannot serve the new target yet.
void RestApi::HandleLabelMove(const HttpRequest& req, const std::string& model,
                              const std::string& label, HttpRespond& respond) {
  constexpr char kForm[] =
      "body must be {\"version\": <number>, \"why\": \"<reason>\"} or {\"rollback\": true, "
      "\"why\": \"<reason>\"} (\"who\" optional)";
  auto doc = ParseJsonBody(req.body());
  if (!doc.ok()) return respond(ErrorResponse(doc.status()));
  if (!doc->is_object()) return respond(HttpResponse{400, ErrorBody(kForm)});
  LabelMoveCall call{model, label, std::nullopt, "", ""};
  bool rollback = false;
  for (const auto& [key, value] : doc->items()) {
    if (key == "version" && value.is_number_integer()) {
      call.version = value.get<int64_t>();
    } else if (key == "rollback" && value.is_boolean()) {
      rollback = value.get<bool>();
    } else if ((key == "why" || key == "who") && value.is_string()) {
      (key == "why" ? call.why : call.who) = value.get<std::string>();
    } else {
      return respond(HttpResponse{400, ErrorBody("'" + key + "': " + kForm)});
    }
  }
  if (call.version.has_value() == rollback) return respond(HttpResponse{400, ErrorBody(kForm)});
  if (call.who.empty()) call.who = "http " + std::string(req.remote_address());
  StatusOr<LabelMoveOutcome> out = service_->MoveLabel(call);
  if (!out.ok()) return respond(ErrorResponse(out.status()));
  const registry::LabelMove& m = out->move;
  nlohmann::json body = {{"model", m.model},
                         {"label", m.label},
                         {"action", std::string(registry::LabelActionName(m.action))},
                         {"from_version", m.from_version ? nlohmann::json(*m.from_version)
                                                         : nlohmann::json(nullptr)},
                         {"to_version", m.to_version},
                         {"why", m.why},
                         {"who", m.who},
                         {"serving_version", out->serving_version}};
  if (!out->serving.ok()) body["warning"] = out->serving.message();
  respond(Json(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
}

// GET /v1/rollouts, GET /v1/rollouts/{m}: status; POST /v1/rollouts/{m} with a rollout spec
// (serving/progressive_rollout.h) starts one, POST /v1/rollouts/{m}:abort {"why": "…"} ends it.
// Starting and aborting are repository control (the admin token, as label moves).
void RestApi::HandleRollouts(const HttpRequest& req, std::string_view path, HttpRespond& respond) {
  RolloutController* rollouts = service_->rollouts();
  if (rollouts == nullptr) {
    return respond(ErrorResponse(FailedPreconditionError("this server runs no rollouts")));
  }
  if (path.empty()) {
    if (req.method() != "GET") return respond(HttpResponse{405, ErrorBody("use GET")});
    std::string body = "{\"rollouts\": [";
    bool first = true;
    for (const RolloutStatus& st : rollouts->List()) {
      body += (first ? "" : ", ") + RolloutStatusToJson(st);
      first = false;
    }
    return respond(Json(body + "]}"));
  }
  std::string_view verb;
  if (size_t colon = path.rfind(':'); colon != std::string_view::npos) {
    verb = path.substr(colon + 1);
    path = path.substr(0, colon);
  }
  const std::string model(path);
  if (!IsValidModelName(model) || (!verb.empty() && verb != "abort")) {
    return respond(HttpResponse{404, ErrorBody("unknown rollout path '/v1/rollouts/" +
                                               std::string(req.target()).substr(13) + "'")});
  }
  if (req.method() == "GET" && verb.empty()) {
    StatusOr<RolloutStatus> st = rollouts->Get(model);
    if (!st.ok()) return respond(ErrorResponse(st.status()));
    return respond(Json(RolloutStatusToJson(*st)));
  }
  if (req.method() != "POST") return respond(HttpResponse{405, ErrorBody("use GET or POST")});
  if (Status auth = Authorize(req); !auth.ok()) {
    return respond(HttpResponse{admin_token_.empty() ? 403 : 401, ErrorBody(auth.message())});
  }
  if (verb == "abort") {
    std::string why = "aborted by http " + std::string(req.remote_address());
    if (!req.body().empty()) {
      constexpr char kForm[] = "abort: body must be {\"why\": \"<reason>\"}";
      auto doc = ParseJsonBody(req.body());
      if (!doc.ok()) return respond(ErrorResponse(doc.status()));
      if (!doc->is_object()) return respond(HttpResponse{400, ErrorBody(kForm)});
      for (const auto& [key, value] : doc->items()) {
        if (key != "why" || !value.is_string()) return respond(HttpResponse{400, ErrorBody(kForm)});
        why = value.get<std::string>();
      }
    }
    StatusOr<RolloutStatus> st = rollouts->Abort(model, why);
    if (!st.ok()) return respond(ErrorResponse(st.status()));
    return respond(Json(RolloutStatusToJson(*st)));
  }
  StatusOr<RolloutSpec> spec = ParseRolloutSpecJson(req.body(), model);
  if (!spec.ok()) return respond(ErrorResponse(spec.status()));
  if (spec->who.empty()) spec->who = "http " + std::string(req.remote_address());
  StatusOr<RolloutStatus> st = rollouts->Start(*spec);
  if (!st.ok()) return respond(ErrorResponse(st.status()));
  respond(Json(RolloutStatusToJson(*st)));
}

}  // namespace bimride::serving::http
