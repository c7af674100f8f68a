// libFuzzer target: arbitrary bytes as an ONNX file (scripts/fuzz). A file that loads is run
// on zero, NaN, huge and negative rows. Anything but an error value is a bug.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "models/onnx/onnx_model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  auto model = bimride::models::onnx_backend::LoadOnnxModelFromBytes(bytes, "fuzz.onnx");
  if (!model.ok()) return 0;
  const int f = (*model)->num_features();
  for (float v : {0.0f, std::nanf(""), 1e30f, -3.0f, 263.0f}) {
    std::vector<float> rows(static_cast<size_t>(f) * 3, v);
    std::vector<float> out(static_cast<size_t>((*model)->num_outputs()) * 3);
    (void)(*model)->Predict(rows.data(), 3, out.data());
  }
  return 0;
}
