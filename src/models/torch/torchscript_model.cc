#include "models/torch/torchscript_model.h"

#include <ATen/Parallel.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/script.h>

#include <cstring>

#include "common/file.h"
#include "common/logging.h"

namespace bimride::models::torch_backend {
namespace {

class TorchScriptModel final : public Model {
 public:
  TorchScriptModel(::torch::jit::Module module, std::string path, int num_features,
                   int num_outputs)
      : module_(std::move(module)),
        path_(std::move(path)),
        num_features_(num_features),
        num_outputs_(num_outputs) {}

  std::string_view backend() const override { return "torchscript"; }
  int num_features() const override { return num_features_; }
  int num_outputs() const override { return num_outputs_; }

  Status Predict(const float* features, int64_t rows, float* out) const override {
    if (rows < 0) return InvalidArgumentError(path_ + ": negative row count");
    if (rows == 0) return OkStatus();
    try {
      c10::InferenceMode guard;
      at::Tensor x = ::torch::from_blob(const_cast<float*>(features), {rows, num_features_},
                                        ::torch::kFloat);
      // forward() is const-safe to run concurrently; the jit API is just not const-qualified.
      auto& module = const_cast<::torch::jit::Module&>(module_);
      c10::IValue result = module.forward({x});
      if (!result.isTensor()) {
        return InternalError(path_ + ": forward returned " + result.tagKind() + ", not a tensor");
      }
      at::Tensor y = result.toTensor();
      const bool shape_ok = (y.dim() == 2 && y.size(0) == rows && y.size(1) == num_outputs_) ||
                            (y.dim() == 1 && y.size(0) == rows && num_outputs_ == 1);
      if (!shape_ok) {
        return InternalError(path_ + ": forward returned shape " + ShapeString(y) +
                             "; expected [" + std::to_string(rows) + ", " +
                             std::to_string(num_outputs_) + "]");
      }
      y = y.to(::torch::kFloat).contiguous();
      std::memcpy(out, y.data_ptr<float>(), sizeof(float) * rows * num_outputs_);
      return OkStatus();
    } catch (const std::exception& e) {
      return InternalError(path_ + ": forward: " + FirstLine(e.what()));
    }
  }

 private:
  static std::string ShapeString(const at::Tensor& t) {
    std::string s = "[";
    for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
    return s + "]";
  }
  // c10::Error messages carry a long C++ backtrace after the first lines.
  static std::string FirstLine(const std::string& what) {
    size_t end = what.find('\n');
    return end == std::string::npos ? what : what.substr(0, end);
  }

  ::torch::jit::Module module_;
  std::string path_;
  int num_features_;
  int num_outputs_;
};

StatusOr<int> IntAttribute(const ::torch::jit::Module& module, const char* name, int from_options,
                           const std::string& path) {
  if (module.hasattr(name)) {
    c10::IValue v = module.attr(name);
    if (v.isInt() && v.toInt() > 0) {
      if (from_options > 0 && from_options != v.toInt()) {
        return InvalidArgumentError(path + ": module has " + name + " = " +
                                    std::to_string(v.toInt()) + "; expected " +
                                    std::to_string(from_options));
      }
      return static_cast<int>(v.toInt());
    }
  }
  if (from_options > 0) return from_options;
  return InvalidArgumentError(path + ": the module has no positive int attribute '" +
                              std::string(name) + "'; pass LoadOptions::" + name);
}

}  // namespace

StatusOr<std::unique_ptr<Model>> LoadTorchScriptModel(const std::string& artifact_path,
                                                      const LoadOptions& options) {
  // Read the bytes ourselves: a missing file is NotFound with errno's message.
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(artifact_path));
  ::torch::jit::Module module;
  try {
    std::istringstream in(bytes);
    module = ::torch::jit::load(in);
  } catch (const std::exception& e) {
    std::string what = e.what();
    return DataLossError(artifact_path + ": not a loadable TorchScript file: " +
                         what.substr(0, what.find('\n')));
  }
  ASSIGN_OR_RETURN(int num_features,
                   IntAttribute(module, "num_features", options.num_features, artifact_path));
  ASSIGN_OR_RETURN(int num_outputs,
                   IntAttribute(module, "num_outputs", options.num_outputs, artifact_path));
  if (options.num_threads > 0) at::set_num_threads(options.num_threads);
  try {
    module.eval();
    if (options.optimize) {
      try {
        ::torch::jit::Module frozen = ::torch::jit::freeze(module);
        module = ::torch::jit::optimize_for_inference(frozen);
      } catch (const std::exception& e) {
        std::string what = e.what();
        BIMRIDE_LOG(WARN) << artifact_path << ": serving unfrozen; freeze failed: "
                             << what.substr(0, what.find('\n'));
      }
    }
  } catch (const std::exception& e) {
    std::string what = e.what();
    return InternalError(artifact_path + ": preparing for inference: " +
                         what.substr(0, what.find('\n')));
  }
  return std::unique_ptr<Model>(
      new TorchScriptModel(std::move(module), artifact_path, num_features, num_outputs));
}

}  // namespace bimride::models::torch_backend
