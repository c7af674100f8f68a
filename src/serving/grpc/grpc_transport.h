// GrpcTransport: the model server over gRPC — KServe v2's inference.GRPCInferenceService
// (ServerLive, ServerReady, ModelReady, ServerMetadata, ModelMetadata, ModelInfer) and TF
// Serving's tensorflow.serving.PredictionService (Predict, GetModelMetadata) on one port, wire-
// compatible with the published .proto files (serving/grpc/protos/). Each RPC translates its
// message with the codecs (kserve_grpc_codec.h, tfs_grpc_codec.h) and calls the same Service
// methods the HTTP handlers call; errors become gRPC codes in one place (grpc_status.h).
//
//   ASSIGN_OR_RETURN(auto grpc, GrpcTransport::Create(&server->service(), server->config()));
//   RETURN_IF_ERROR(server->AddTransport(std::move(grpc)));   // listens on config.grpc_port
//
// Client metadata is what the REST API's headers are: `x-request-id` names the request (echoed
// in the initial metadata of the answer), a model's sticky_header keeps a caller on one side of
// a canary split. RPCs run on gRPC's callback API: no thread waits for a batched prediction.
// Errors: Start fails (Unavailable) when the address cannot be bound — in use included (port
// sharing with SO_REUSEPORT is turned off). Thread safety: as Transport (serving/transport.h).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "serving/server.h"
#include "serving/server_config.h"
#include "serving/service.h"
#include "serving/transport.h"

namespace grpc {
class Server;
}

namespace bimride::serving::grpc {

class KserveGrpcService;
class TfsGrpcService;

class GrpcTransport : public Transport {
 public:
  static constexpr std::string_view kName = "grpc";

  // Serves `service` (which must outlive the transport) on config.host:config.grpc_port (0: a
  // free port) with config's grpc_max_message_bytes and max_batch_rows. InvalidArgument when
  // grpc_port is not 0..65535.
  static StatusOr<std::unique_ptr<GrpcTransport>> Create(Service* service,
                                                         const ServerConfig& config);
  ~GrpcTransport() override;  // Stop(0)

  std::string_view name() const override { return kName; }
  Status Start() override;
  int port() const override { return port_; }  // -1 before Start
  void Stop(int drain_ms) override;

 private:
  GrpcTransport(Service* service, const ServerConfig& config);

  std::string host_;
  int requested_port_;
  int max_message_bytes_;
  int port_ = -1;
  std::unique_ptr<KserveGrpcService> kserve_;
  std::unique_ptr<TfsGrpcService> tfs_;
  std::unique_ptr<::grpc::Server> server_;
};

// The port `server`'s gRPC transport listens on; -1 when it has none.
int GrpcPort(const Server& server);

}  // namespace bimride::serving::grpc
