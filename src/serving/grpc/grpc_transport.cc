#include "serving/grpc/grpc_transport.h"

#include <grpcpp/grpcpp.h>

#include <cctype>
#include <chrono>
#include <map>
#include <utility>

#include "grpc_predict_v2.grpc.pb.h"
#include "serving/dynamic_batcher.h"
#include "serving/grpc/grpc_status.h"
#include "serving/grpc/kserve_grpc_codec.h"
#include "serving/grpc/tfs_grpc_codec.h"
#include "tensorflow_serving/apis/prediction_service.grpc.pb.h"

namespace bimride::serving::grpc {
namespace {

const char* CodeName(::grpc::StatusCode code) {
  switch (code) {
    case ::grpc::StatusCode::OK: return "OK";
    case ::grpc::StatusCode::CANCELLED: return "CANCELLED";
    case ::grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case ::grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case ::grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case ::grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case ::grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case ::grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case ::grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case ::grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case ::grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case ::grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case ::grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    default: return "INTERNAL";
  }
}

// Client metadata as the Service's request headers (gRPC keys are lower-case).
class MetadataHeaders : public RequestHeaders {
 public:
  explicit MetadataHeaders(const ::grpc::CallbackServerContext& ctx)
      : metadata_(ctx.client_metadata()) {}
  std::string_view Get(std::string_view name) const override {
    std::string key(name);
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto it = metadata_.find(::grpc::string_ref(key));
    if (it == metadata_.end()) return {};
    return std::string_view(it->second.data(), it->second.size());
  }

 private:
  const std::multimap<::grpc::string_ref, ::grpc::string_ref>& metadata_;
};

void RecordLatency(const PredictResult& r, int64_t start_ns) {
  if (r.preview) return;  // not traffic (IsPreview)
  VersionMetrics* vm = r.servable->metrics();
  double total = (MonotonicNanos() - start_ns) * 1e-9;
  vm->total_seconds.Observe(total);
  vm->overhead_seconds.Observe(total - r.timing.compute_ns * 1e-9);
}

// Counts the call and finishes it with `status` (mapped in grpc_status.cc).
::grpc::ServerUnaryReactor* Finish(::grpc::ServerUnaryReactor* reactor, ServingMetrics* metrics,
                                   const char* method, const Status& status) {
  ::grpc::Status s = GrpcStatusFor(status);
  metrics->CountGrpc(method, CodeName(s.error_code()));
  reactor->Finish(std::move(s));
  return reactor;
}

}  // namespace

// The generated service classes have a member type called Service too.
using CoreService = ::bimride::serving::Service;

class KserveGrpcService final : public inference::GRPCInferenceService::CallbackService {
 public:
  KserveGrpcService(CoreService* service, int64_t max_rows) : service_(service), max_rows_(max_rows) {}

  ::grpc::ServerUnaryReactor* ServerLive(::grpc::CallbackServerContext* ctx,
                                         const inference::ServerLiveRequest*,
                                         inference::ServerLiveResponse* resp) override {
    resp->set_live(service_->Live());
    return Done(ctx, "ServerLive", OkStatus());
  }
  ::grpc::ServerUnaryReactor* ServerReady(::grpc::CallbackServerContext* ctx,
                                          const inference::ServerReadyRequest*,
                                          inference::ServerReadyResponse* resp) override {
    resp->set_ready(service_->Ready());
    return Done(ctx, "ServerReady", OkStatus());
  }
  ::grpc::ServerUnaryReactor* ModelReady(::grpc::CallbackServerContext* ctx,
                                         const inference::ModelReadyRequest* req,
                                         inference::ModelReadyResponse* resp) override {
    if (req->name().empty()) {
      return Done(ctx, "ModelReady", InvalidArgumentError("'name' is required"));
    }
    StatusOr<VersionSelector> selector = ParseVersionField(req->version(), "version");
    if (!selector.ok()) return Done(ctx, "ModelReady", selector.status());
    Status ready = service_->ModelReady(req->name(), *selector);
    if (ready.code() == StatusCode::kNotFound) return Done(ctx, "ModelReady", ready);
    resp->set_ready(ready.ok());
    return Done(ctx, "ModelReady", OkStatus());
  }
  ::grpc::ServerUnaryReactor* ServerMetadata(::grpc::CallbackServerContext* ctx,
                                             const inference::ServerMetadataRequest*,
                                             inference::ServerMetadataResponse* resp) override {
    RenderServerMetadata(resp);
    return Done(ctx, "ServerMetadata", OkStatus());
  }
  ::grpc::ServerUnaryReactor* ModelMetadata(::grpc::CallbackServerContext* ctx,
                                            const inference::ModelMetadataRequest* req,
                                            inference::ModelMetadataResponse* resp) override {
    if (req->name().empty()) {
      return Done(ctx, "ModelMetadata", InvalidArgumentError("'name' is required"));
    }
    StatusOr<VersionSelector> selector = ParseVersionField(req->version(), "version");
    if (!selector.ok()) return Done(ctx, "ModelMetadata", selector.status());
    StatusOr<ModelDescription> d = service_->DescribeModel(req->name(), *selector);
    if (!d.ok()) return Done(ctx, "ModelMetadata", d.status());
    RenderModelMetadata(*d, resp);
    return Done(ctx, "ModelMetadata", OkStatus());
  }
  ::grpc::ServerUnaryReactor* ModelInfer(::grpc::CallbackServerContext* ctx,
                                         const inference::ModelInferRequest* req,
                                         inference::ModelInferResponse* resp) override {
    const int64_t start = MonotonicNanos();
    StatusOr<KserveGrpcRequest> parsed = ParseModelInferRequest(*req, max_rows_);
    if (!parsed.ok()) return Done(ctx, "ModelInfer", parsed.status());
    auto call = std::make_shared<KserveGrpcRequest>(std::move(parsed).value());
    MetadataHeaders headers(*ctx);
    PredictRequest pr{call->model, call->selector, std::move(call->input), &headers};
    ::grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    ServingMetrics* metrics = &service_->metrics();
    service_->Predict(std::move(pr), [ctx, reactor, resp, call, metrics,
                                      start](StatusOr<PredictResult> r) {
      if (!r.ok()) return (void)Finish(reactor, metrics, "ModelInfer", r.status());
      Status st = RenderModelInferResponse(*r, *call, resp);
      if (st.ok()) {
        ctx->AddInitialMetadata("x-request-id", r->request_id);
        RecordLatency(*r, start);
      }
      Finish(reactor, metrics, "ModelInfer", st);
    });
    return reactor;
  }

 private:
  ::grpc::ServerUnaryReactor* Done(::grpc::CallbackServerContext* ctx, const char* method,
                                   const Status& status) {
    return Finish(ctx->DefaultReactor(), &service_->metrics(), method, status);
  }

  CoreService* const service_;
  const int64_t max_rows_;
};

class TfsGrpcService final : public tensorflow::serving::PredictionService::CallbackService {
 public:
  TfsGrpcService(CoreService* service, int64_t max_rows) : service_(service), max_rows_(max_rows) {}

  ::grpc::ServerUnaryReactor* Predict(::grpc::CallbackServerContext* ctx,
                                      const tensorflow::serving::PredictRequest* req,
                                      tensorflow::serving::PredictResponse* resp) override {
    const int64_t start = MonotonicNanos();
    ServingMetrics* metrics = &service_->metrics();
    StatusOr<TfsGrpcRequest> parsed = ParsePredictRequest(*req, max_rows_);
    if (!parsed.ok()) return Finish(ctx->DefaultReactor(), metrics, "Predict", parsed.status());
    auto call = std::make_shared<TfsGrpcRequest>(std::move(parsed).value());
    MetadataHeaders headers(*ctx);
    PredictRequest pr{call->model, call->selector, std::move(call->input), &headers};
    ::grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    service_->Predict(std::move(pr), [ctx, reactor, resp, call, metrics,
                                      start](StatusOr<PredictResult> r) {
      if (!r.ok()) return (void)Finish(reactor, metrics, "Predict", r.status());
      Status st = RenderPredictResponse(*r, *call, resp);
      if (st.ok()) {
        ctx->AddInitialMetadata("x-request-id", r->request_id);
        RecordLatency(*r, start);
      }
      Finish(reactor, metrics, "Predict", st);
    });
    return reactor;
  }
  ::grpc::ServerUnaryReactor* GetModelMetadata(
      ::grpc::CallbackServerContext* ctx, const tensorflow::serving::GetModelMetadataRequest* req,
      tensorflow::serving::GetModelMetadataResponse* resp) override {
    ServingMetrics* metrics = &service_->metrics();
    std::string model;
    VersionSelector selector;
    Status st = ParseModelSpec(req->model_spec(), &model, &selector);
    if (!st.ok()) return Finish(ctx->DefaultReactor(), metrics, "GetModelMetadata", st);
    StatusOr<ModelDescription> d = service_->DescribeModel(model, selector);
    if (!d.ok()) return Finish(ctx->DefaultReactor(), metrics, "GetModelMetadata", d.status());
    return Finish(ctx->DefaultReactor(), metrics, "GetModelMetadata",
                  RenderModelMetadata(*d, *req, resp));
  }

 private:
  CoreService* const service_;
  const int64_t max_rows_;
};

StatusOr<std::unique_ptr<GrpcTransport>> GrpcTransport::Create(Service* service,
                                                               const ServerConfig& config) {
  if (config.grpc_port < 0 || config.grpc_port > 65535) {
    return InvalidArgumentError("gRPC port " + std::to_string(config.grpc_port) +
                                " is not in 0..65535");
  }
  if (config.grpc_max_message_bytes < 1024 || config.grpc_max_message_bytes > INT32_MAX) {
    return InvalidArgumentError("grpc_max_message_bytes must be in 1024..2147483647");
  }
  return std::unique_ptr<GrpcTransport>(new GrpcTransport(service, config));
}

GrpcTransport::GrpcTransport(Service* service, const ServerConfig& config)
    : host_(config.host),
      requested_port_(static_cast<int>(config.grpc_port)),
      max_message_bytes_(static_cast<int>(config.grpc_max_message_bytes)),
      kserve_(std::make_unique<KserveGrpcService>(service, config.max_batch_rows)),
      tfs_(std::make_unique<TfsGrpcService>(service, config.max_batch_rows)) {}

GrpcTransport::~GrpcTransport() { Stop(0); }

Status GrpcTransport::Start() {
  if (server_ != nullptr) return FailedPreconditionError("the gRPC transport is already started");
  const bool v6 = host_.find(':') != std::string::npos;
  const std::string address =
      (v6 ? "[" + host_ + "]" : host_) + ":" + std::to_string(requested_port_);
  ::grpc::ServerBuilder builder;
  int selected = 0;
  builder.AddListeningPort(address, ::grpc::InsecureServerCredentials(), &selected);
  builder.SetMaxReceiveMessageSize(max_message_bytes_);
  builder.SetMaxSendMessageSize(max_message_bytes_);
  // gRPC sets SO_REUSEPORT by default: a second server would share the port silently.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(kserve_.get());
  builder.RegisterService(tfs_.get());
  std::unique_ptr<::grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || selected == 0) {
    if (server != nullptr) server->Shutdown();
    return UnavailableError("gRPC: cannot listen on " + address +
                            " (address in use, or not an address of this machine)");
  }
  server_ = std::move(server);
  port_ = selected;
  return OkStatus();
}

void GrpcTransport::Stop(int drain_ms) {
  if (server_ == nullptr) return;
  // New calls are refused at once; calls in flight have drain_ms to finish, then are cancelled.
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(drain_ms));
  server_->Wait();
  server_.reset();
}

int GrpcPort(const Server& server) {
  const Transport* t = server.FindTransport(GrpcTransport::kName);
  return t != nullptr ? t->port() : -1;
}

}  // namespace bimride::serving::grpc
