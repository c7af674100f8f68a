#include "serving/grpc/grpc_status.h"

namespace bimride::serving::grpc {

::grpc::StatusCode GrpcCodeFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return ::grpc::StatusCode::OK;
    case StatusCode::kInvalidArgument: return ::grpc::StatusCode::INVALID_ARGUMENT;
    case StatusCode::kNotFound: return ::grpc::StatusCode::NOT_FOUND;
    case StatusCode::kAlreadyExists: return ::grpc::StatusCode::ALREADY_EXISTS;
    case StatusCode::kFailedPrecondition: return ::grpc::StatusCode::FAILED_PRECONDITION;
    case StatusCode::kOutOfRange: return ::grpc::StatusCode::OUT_OF_RANGE;
    case StatusCode::kDataLoss: return ::grpc::StatusCode::DATA_LOSS;
    case StatusCode::kUnimplemented: return ::grpc::StatusCode::UNIMPLEMENTED;
    case StatusCode::kResourceExhausted: return ::grpc::StatusCode::RESOURCE_EXHAUSTED;
    case StatusCode::kUnavailable: return ::grpc::StatusCode::UNAVAILABLE;
    case StatusCode::kPermissionDenied: return ::grpc::StatusCode::PERMISSION_DENIED;
    case StatusCode::kDeadlineExceeded: return ::grpc::StatusCode::DEADLINE_EXCEEDED;
    case StatusCode::kCancelled: return ::grpc::StatusCode::CANCELLED;
    case StatusCode::kInternal: return ::grpc::StatusCode::INTERNAL;
  }
  return ::grpc::StatusCode::INTERNAL;
}

::grpc::Status GrpcStatusFor(const Status& status) {
  if (status.ok()) return ::grpc::Status::OK;
  return ::grpc::Status(GrpcCodeFor(status.code()), std::string(status.message()));
}

}  // namespace bimride::serving::grpc
