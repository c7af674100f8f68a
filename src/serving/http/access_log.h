// AccessLog: one line per HTTP request, to stderr or a file:
//   2026-11-25T10:50:00.123Z 127.0.0.1 "POST /v1/models/eta:predict" 200 57B 85us
// Thread safety: Write may be called from any thread; each line is one write(2).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace bimride::serving::http {

class AccessLog {
 public:
  // "off" or "" → disabled; "stderr" → standard error; anything else is a file path (appended).
  static StatusOr<std::unique_ptr<AccessLog>> Open(const std::string& where);
  ~AccessLog();
  bool enabled() const { return fd_ >= 0; }
  void Write(std::string_view remote, std::string_view method, std::string_view target,
             int status, size_t bytes, int64_t micros);

 private:
  AccessLog() = default;
  int fd_ = -1;
  bool owned_ = false;
};

}  // namespace bimride::serving::http
