// SHA-256 digests (lower-case hex) of buffers and files, via OpenSSL's libcrypto.
// Thread safety: free functions with no shared state; safe from any thread.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace bimride::registry {

// 64 lower-case hex characters.
std::string Sha256Hex(std::string_view data);

// Streams the file (does not load it whole). Errors name the path (NotFound, PermissionDenied…).
StatusOr<std::string> Sha256File(const std::string& path);

// True when `text` looks like a SHA-256 hex digest (64 lower-case hex characters).
bool IsSha256Hex(std::string_view text);

}  // namespace bimride::registry
