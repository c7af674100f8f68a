// Transport: one way clients reach the model server — HTTP (serving/http/, TF Serving REST +
// KServe v2) today, gRPC next. A transport translates its wire format into Service calls
// (serving/service.h) and the answers back; it owns no model, policy or metric of its own
// beyond its wire (HTTP status counts, access log). TF Serving's shape: the transport gets a
// pointer to the one core (here the Service) and calls the same methods as every other.
//
// Life cycle, driven by Server (serving/server.h): construct the transport over
// `&server->service()`, hand it to Server::AddTransport, which calls Start once; Server::Shutdown
// calls Stop before the core stops, so in-flight requests are answered by loaded models.
//
//   class GrpcTransport : public Transport { … Predict(ctx, req, resp) {
//       service_->Predict(Translate(req), [&](StatusOr<PredictResult> r) { … }); } … };
//
// Thread safety: Start and Stop are called from one controlling thread; name() and port() from
// any thread after Start.
#pragma once

#include <string_view>

#include "common/status.h"

namespace bimride::serving {

class Transport {
 public:
  virtual ~Transport() = default;

  // Short and unique within one server ("http", "grpc"): logs and Server::FindTransport.
  virtual std::string_view name() const = 0;
  // Binds and begins taking requests. Fails (address in use, bad address, …) without serving.
  virtual Status Start() = 0;
  // The port it listens on after Start (the one picked when configured with port 0).
  virtual int port() const = 0;
  // Stops taking requests, waits up to `drain_ms` for in-flight ones to be answered, then
  // closes its connections. Idempotent.
  virtual void Stop(int drain_ms) = 0;
};

}  // namespace bimride::serving
