#include "models/xgboost/xgboost_api.h"

#include <cstdio>

namespace bimride::models::xgboost_backend {

Status XgbStatus(int rc, const std::string& what) {
  if (rc == 0) return OkStatus();
  std::string message = XGBGetLastError() != nullptr ? XGBGetLastError() : "unknown XGBoost error";
  // XGBoost appends a multi-line stack trace; keep the one line that says what went wrong.
  return InternalError(what + ": " + message.substr(0, message.find('\n')));
}

std::string FloatArrayInterface(const float* data, int64_t rows, int64_t cols) {
  char buf[160];
  std::snprintf(buf, sizeof(buf),
                "{\"data\": [%llu, true], \"shape\": [%lld, %lld], \"typestr\": \"<f4\", "
                "\"version\": 3}",
                static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(data)),
                static_cast<long long>(rows), static_cast<long long>(cols));
  return buf;
}

}  // namespace bimride::models::xgboost_backend
