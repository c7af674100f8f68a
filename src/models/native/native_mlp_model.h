// native_mlp: evaluates an MlpNet (see mlp_net.h) in plain C++ — no framework, so a batch-1
// request costs only its arithmetic. Weights are stored transposed (in × out) so each layer is a
// run of contiguous fused multiply-adds over its nonzero inputs, 128 outputs at a time in
// registers (AVX-512; AVX2 and portable kernels give the same floats); scratch space is per
// thread and reused, so Predict does not allocate after a thread's first call.
// Thread safety: Predict may be called from many threads at once.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "models/model.h"
#include "models/native/mlp_net.h"

namespace bimride::models::native {

// InvalidArgument when the net is inconsistent (ValidateMlpNet).
StatusOr<std::unique_ptr<Model>> MakeNativeMlpModel(const MlpNet& net);

// The dense-layer kernels this CPU can run, widest first ("avx512", "avx2", "portable"); the
// first is used unless UseDenseKernel picks another (for tests and benchmarks: they all give
// the same floats). UseDenseKernel affects every model in the process.
std::vector<std::string> DenseKernelNames();
Status UseDenseKernel(std::string_view name);

// The "native_mlp" backend loader: `artifact_path` is a folder with net.json + weights.bin (or
// the path of net.json). Ignores LoadOptions (single-threaded per call).
StatusOr<std::unique_ptr<Model>> LoadNativeMlpModel(const std::string& artifact_path,
                                                    const LoadOptions& options);

}  // namespace bimride::models::native
