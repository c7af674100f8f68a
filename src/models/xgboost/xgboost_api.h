// Internal to models/xgboost/: owning handles and error conversion for XGBoost's C API.
#pragma once

#include <xgboost/c_api.h>

#include <string>

#include "common/status.h"

namespace bimride::models::xgboost_backend {

// Internal("<what>: <XGBGetLastError()>") when `rc` is not 0 (XGBoost returns -1 on failure).
Status XgbStatus(int rc, const std::string& what);

class DMatrix {
 public:
  DMatrix() = default;
  DMatrix(const DMatrix&) = delete;
  DMatrix& operator=(const DMatrix&) = delete;
  ~DMatrix() {
    if (handle_ != nullptr) XGDMatrixFree(handle_);
  }
  DMatrixHandle* out() { return &handle_; }
  DMatrixHandle get() const { return handle_; }

 private:
  DMatrixHandle handle_ = nullptr;
};

class Booster {
 public:
  Booster() = default;
  Booster(const Booster&) = delete;
  Booster& operator=(const Booster&) = delete;
  ~Booster() {
    if (handle_ != nullptr) XGBoosterFree(handle_);
  }
  BoosterHandle* out() { return &handle_; }
  BoosterHandle get() const { return handle_; }
  BoosterHandle release() {
    BoosterHandle h = handle_;
    handle_ = nullptr;
    return h;
  }
  void reset(BoosterHandle h) {
    if (handle_ != nullptr) XGBoosterFree(handle_);
    handle_ = h;
  }

 private:
  BoosterHandle handle_ = nullptr;
};

// JSON __array_interface__ for a C-contiguous float32 matrix (how XGBoost takes dense data).
std::string FloatArrayInterface(const float* data, int64_t rows, int64_t cols);

}  // namespace bimride::models::xgboost_backend
