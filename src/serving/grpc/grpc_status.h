// Our Status → a gRPC status: the one place the gRPC transport maps error codes (as
// serving/http/rest_api.h's HttpStatusFor does for HTTP). Codes map one to one (both follow
// absl's list); the message is kept.
#pragma once

#include <grpcpp/support/status.h>

#include "common/status.h"

namespace bimride::serving::grpc {

::grpc::StatusCode GrpcCodeFor(StatusCode code);
::grpc::Status GrpcStatusFor(const Status& status);

}  // namespace bimride::serving::grpc
