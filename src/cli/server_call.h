// The commands that talk to a running `bimride serve` (monitor, rollout, retrain): one HTTP call
// with the admin token, and one way of turning a refusal into a Status.
#pragma once

#include <string>

#include "common/status.h"

namespace bimride::cli {

// `method path` on the server at `server` (HOST:PORT, as ParseServerFlag reads it), with
// $BIMRIDE_ADMIN_TOKEN as a bearer token when set. The body of a 200 answer; otherwise
// NotFound (404), InvalidArgument (400) or Unavailable, naming the server, path and status and
// saying the answer's "error" field (its body when it has none).
StatusOr<std::string> CallServer(const std::string& server, const std::string& method,
                                 const std::string& path, const std::string& body = "");

}  // namespace bimride::cli
