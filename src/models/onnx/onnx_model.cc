#include "models/onnx/onnx_model.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "common/file.h"
#include "models/onnx/onnx_kernels.h"

namespace bimride::models::onnx_backend {
namespace {

// ---------------------------------------------------------------------------------------------
// Tensors: float or int64 (ONNX int32/bool/double are converted at the edges).

enum class ElemType { kFloat, kInt64 };

struct Tensor {
  ElemType type = ElemType::kFloat;
  std::vector<int64_t> shape;
  std::vector<float> f;
  std::vector<int64_t> i;

  int64_t size() const {
    return type == ElemType::kFloat ? static_cast<int64_t>(f.size())
                                    : static_cast<int64_t>(i.size());
  }
  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
};

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t k = 0; k < shape.size(); ++k) s += (k ? ", " : "") + std::to_string(shape[k]);
  return s + "]";
}

const char* TypeName(ElemType t) { return t == ElemType::kFloat ? "float" : "int64"; }

// Element count of a shape, refusing negative dims and totals beyond the limit.
StatusOr<int64_t> CheckedCount(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return InvalidArgumentError("negative dimension in shape " + ShapeText(shape));
    if (d != 0 && n > kMaxTensorElements / d) {
      return ResourceExhaustedError("shape " + ShapeText(shape) + " holds more than " +
                                    std::to_string(kMaxTensorElements) + " values");
    }
    n *= d;
  }
  return n;
}

StatusOr<Tensor> MakeTensor(ElemType type, std::vector<int64_t> shape) {
  ASSIGN_OR_RETURN(int64_t n, CheckedCount(shape));
  Tensor t;
  t.type = type;
  t.shape = std::move(shape);
  if (type == ElemType::kFloat) {
    t.f.assign(n, 0.0f);
  } else {
    t.i.assign(n, 0);
  }
  return t;
}

// Normalises an axis in [-rank, rank) (or [-rank-1, rank] with `plus_one`).
StatusOr<int64_t> Axis(int64_t axis, int64_t rank, const std::string& what, bool plus_one = false) {
  const int64_t r = rank + (plus_one ? 1 : 0);
  if (axis < -r || axis >= r) {
    return InvalidArgumentError(what + ": axis " + std::to_string(axis) + " out of range for rank " +
                                std::to_string(rank));
  }
  return axis < 0 ? axis + r : axis;
}

// ---------------------------------------------------------------------------------------------
// Reading the protobuf: tensors and attributes.

StatusOr<Tensor> FromProto(const onnx::TensorProto& p, const std::string& what) {
  if (p.data_location() == onnx::TensorProto::EXTERNAL || p.external_data_size() > 0) {
    return UnimplementedError(what + ": external tensor data is not supported");
  }
  std::vector<int64_t> shape(p.dims().begin(), p.dims().end());
  ASSIGN_OR_RETURN(int64_t n, CheckedCount(shape));
  const std::string& raw = p.raw_data();
  const bool has_raw = p.has_raw_data();
  auto raw_size_ok = [&](size_t elem) -> Status {
    if (raw.size() != static_cast<size_t>(n) * elem) {
      return InvalidArgumentError(what + ": raw_data holds " + std::to_string(raw.size()) +
                                  " bytes, shape " + ShapeText(shape) + " needs " +
                                  std::to_string(n * static_cast<int64_t>(elem)));
    }
    return OkStatus();
  };
  auto count_ok = [&](int64_t got) -> Status {
    if (got != n) {
      return InvalidArgumentError(what + ": holds " + std::to_string(got) + " values, shape " +
                                  ShapeText(shape) + " needs " + std::to_string(n));
    }
    return OkStatus();
  };
  Tensor t;
  t.shape = shape;
  switch (p.data_type()) {
    case onnx::TensorProto::FLOAT:
      t.type = ElemType::kFloat;
      if (has_raw) {
        RETURN_IF_ERROR(raw_size_ok(4));
        t.f.resize(n);
        if (n > 0) std::memcpy(t.f.data(), raw.data(), raw.size());
      } else {
        RETURN_IF_ERROR(count_ok(p.float_data_size()));
        t.f.assign(p.float_data().begin(), p.float_data().end());
      }
      return t;
    case onnx::TensorProto::DOUBLE:
      t.type = ElemType::kFloat;
      if (has_raw) {
        RETURN_IF_ERROR(raw_size_ok(8));
        t.f.resize(n);
        for (int64_t k = 0; k < n; ++k) {
          double d;
          std::memcpy(&d, raw.data() + 8 * k, 8);
          t.f[k] = static_cast<float>(d);
        }
      } else {
        RETURN_IF_ERROR(count_ok(p.double_data_size()));
        for (double d : p.double_data()) t.f.push_back(static_cast<float>(d));
      }
      return t;
    case onnx::TensorProto::INT64:
      t.type = ElemType::kInt64;
      if (has_raw) {
        RETURN_IF_ERROR(raw_size_ok(8));
        t.i.resize(n);
        if (n > 0) std::memcpy(t.i.data(), raw.data(), raw.size());
      } else {
        RETURN_IF_ERROR(count_ok(p.int64_data_size()));
        t.i.assign(p.int64_data().begin(), p.int64_data().end());
      }
      return t;
    case onnx::TensorProto::INT32:
    case onnx::TensorProto::BOOL:
    case onnx::TensorProto::INT8:
    case onnx::TensorProto::UINT8:
    case onnx::TensorProto::INT16:
    case onnx::TensorProto::UINT16: {
      t.type = ElemType::kInt64;
      const int32_t dt = p.data_type();
      const size_t elem = dt == onnx::TensorProto::INT32 ? 4
                          : (dt == onnx::TensorProto::INT16 || dt == onnx::TensorProto::UINT16)
                              ? 2
                              : 1;
      if (has_raw) {
        RETURN_IF_ERROR(raw_size_ok(elem));
        t.i.resize(n);
        for (int64_t k = 0; k < n; ++k) {
          const char* b = raw.data() + elem * k;
          if (elem == 4) {
            int32_t v;
            std::memcpy(&v, b, 4);
            t.i[k] = v;
          } else if (elem == 2) {
            uint16_t v;
            std::memcpy(&v, b, 2);
            t.i[k] = dt == onnx::TensorProto::INT16 ? static_cast<int16_t>(v) : v;
          } else {
            t.i[k] = dt == onnx::TensorProto::INT8 ? static_cast<int8_t>(*b)
                                                   : static_cast<uint8_t>(*b);
          }
        }
      } else {
        RETURN_IF_ERROR(count_ok(p.int32_data_size()));  // all of these live in int32_data
        t.i.assign(p.int32_data().begin(), p.int32_data().end());
      }
      return t;
    }
    default:
      return UnimplementedError(what + ": tensor element type " + std::to_string(p.data_type()) +
                                " (" + onnx::TensorProto::DataType_Name(
                                           static_cast<onnx::TensorProto::DataType>(
                                               p.data_type())) +
                                ") is not supported (float, double, int8..int64, bool are)");
  }
}

// A node's attributes by name, with checked getters; unknown names are refused.
class Attributes {
 public:
  Attributes(const onnx::NodeProto& node, std::string what) : what_(std::move(what)) {
    for (const onnx::AttributeProto& a : node.attribute()) attrs_[a.name()] = &a;
  }
  const std::string& what() const { return what_; }

  Status AllowOnly(std::initializer_list<const char*> names) const {
    for (const auto& [name, a] : attrs_) {
      bool known = false;
      for (const char* n : names) known |= name == n;
      if (!known) {
        std::string list;
        for (const char* n : names) list += (list.empty() ? "" : ", ") + std::string(n);
        return UnimplementedError(what_ + ": attribute '" + name + "' is not supported" +
                                  (list.empty() ? std::string(" (none are)")
                                                : " (supported: " + list + ")"));
      }
    }
    return OkStatus();
  }
  bool Has(const char* name) const { return attrs_.count(name) > 0; }

  StatusOr<int64_t> Int(const char* name, int64_t fallback) const {
    const onnx::AttributeProto* a = Find(name);
    if (a == nullptr) return fallback;
    if (a->type() != onnx::AttributeProto::INT) return TypeError(name, "an int");
    return a->i();
  }
  StatusOr<float> Float(const char* name, float fallback) const {
    const onnx::AttributeProto* a = Find(name);
    if (a == nullptr) return fallback;
    if (a->type() != onnx::AttributeProto::FLOAT) return TypeError(name, "a float");
    return a->f();
  }
  StatusOr<std::string> String(const char* name, const std::string& fallback) const {
    const onnx::AttributeProto* a = Find(name);
    if (a == nullptr) return fallback;
    if (a->type() != onnx::AttributeProto::STRING) return TypeError(name, "a string");
    return a->s();
  }
  StatusOr<std::vector<int64_t>> Ints(const char* name) const {
    const onnx::AttributeProto* a = Find(name);
    if (a == nullptr) return std::vector<int64_t>{};
    if (a->type() != onnx::AttributeProto::INTS) return TypeError(name, "a list of ints");
    return std::vector<int64_t>(a->ints().begin(), a->ints().end());
  }
  StatusOr<std::vector<float>> Floats(const char* name) const {
    const onnx::AttributeProto* a = Find(name);
    if (a == nullptr) return std::vector<float>{};
    if (a->type() != onnx::AttributeProto::FLOATS) return TypeError(name, "a list of floats");
    return std::vector<float>(a->floats().begin(), a->floats().end());
  }
  StatusOr<std::vector<std::string>> Strings(const char* name) const {
    const onnx::AttributeProto* a = Find(name);
    if (a == nullptr) return std::vector<std::string>{};
    if (a->type() != onnx::AttributeProto::STRINGS) return TypeError(name, "a list of strings");
    return std::vector<std::string>(a->strings().begin(), a->strings().end());
  }
  StatusOr<Tensor> TensorAttr(const char* name) const {
    const onnx::AttributeProto* a = Find(name);
    if (a == nullptr || a->type() != onnx::AttributeProto::TENSOR) return TypeError(name, "a tensor");
    return FromProto(a->t(), what_ + ": attribute '" + name + "'");
  }

 private:
  const onnx::AttributeProto* Find(const char* name) const {
    auto it = attrs_.find(name);
    return it == attrs_.end() ? nullptr : it->second;
  }
  Status TypeError(const char* name, const char* expected) const {
    return InvalidArgumentError(what_ + ": attribute '" + name + "' must be " + expected);
  }
  std::string what_;
  std::map<std::string, const onnx::AttributeProto*> attrs_;
};

// ---------------------------------------------------------------------------------------------
// Operators. Each is built (and its attributes checked) once at load; Run is const.

using Inputs = std::vector<const Tensor*>;  // nullptr for an omitted optional input

class Op {
 public:
  virtual ~Op() = default;
  virtual Status Run(const Inputs& in, std::vector<Tensor>* out) const = 0;
  void set_what(std::string what) { what_ = std::move(what); }
  const std::string& what() const { return what_; }

 protected:
  Status Need(const Inputs& in, size_t min_count, size_t max_count) const {
    if (in.size() < min_count || in.size() > max_count) {
      return InvalidArgumentError(what_ + ": takes " + std::to_string(min_count) +
                                  (max_count != min_count ? "–" + std::to_string(max_count) : "") +
                                  " inputs, has " + std::to_string(in.size()));
    }
    for (size_t k = 0; k < min_count; ++k) {
      if (in[k] == nullptr) return InvalidArgumentError(what_ + ": input " + std::to_string(k) + " is required");
    }
    return OkStatus();
  }
  Status NeedType(const Tensor& t, ElemType type, const char* which) const {
    if (t.type != type) {
      return InvalidArgumentError(what_ + ": " + which + " must be " + TypeName(type) + ", is " +
                                  TypeName(t.type));
    }
    return OkStatus();
  }
  std::string what_;
};

// Numpy broadcasting of two shapes.
StatusOr<std::vector<int64_t>> BroadcastShape(const std::vector<int64_t>& a,
                                              const std::vector<int64_t>& b,
                                              const std::string& what) {
  const size_t r = std::max(a.size(), b.size());
  std::vector<int64_t> out(r);
  for (size_t k = 0; k < r; ++k) {
    int64_t da = k < r - a.size() ? 1 : a[k - (r - a.size())];
    int64_t db = k < r - b.size() ? 1 : b[k - (r - b.size())];
    if (da != db && da != 1 && db != 1) {
      return InvalidArgumentError(what + ": shapes " + ShapeText(a) + " and " + ShapeText(b) +
                                  " do not broadcast");
    }
    out[k] = da == 1 ? db : da;
  }
  return out;
}

// Strides of `shape` seen through the broadcast to `out` (0 on broadcast dims).
std::vector<int64_t> BroadcastStrides(const std::vector<int64_t>& shape,
                                      const std::vector<int64_t>& out) {
  std::vector<int64_t> strides(out.size(), 0);
  int64_t s = 1;
  for (size_t k = 0; k < shape.size(); ++k) {
    size_t dim = shape.size() - 1 - k;
    size_t odim = out.size() - 1 - k;
    strides[odim] = shape[dim] == 1 ? 0 : s;
    s *= shape[dim];
  }
  return strides;
}

enum class BinaryKind { kAdd, kSub, kMul, kDiv };

template <typename T>
T Apply(BinaryKind k, T a, T b) {
  switch (k) {
    case BinaryKind::kAdd:
      return a + b;
    case BinaryKind::kSub:
      return a - b;
    case BinaryKind::kMul:
      return a * b;
    case BinaryKind::kDiv:
      if constexpr (std::is_integral_v<T>) return b == 0 ? 0 : a / b;  // checked by caller
      return a / b;
  }
  return a;
}

class BinaryOp : public Op {
 public:
  explicit BinaryOp(BinaryKind kind) : kind_(kind) {}
  Status Run(const Inputs& in, std::vector<Tensor>* out) const override {
    RETURN_IF_ERROR(Need(in, 2, 2));
    const Tensor& a = *in[0];
    const Tensor& b = *in[1];
    if (a.type != b.type) {
      return InvalidArgumentError(what_ + ": inputs are " + TypeName(a.type) + " and " +
                                  TypeName(b.type));
    }
    if (kind_ == BinaryKind::kDiv && b.type == ElemType::kInt64 &&
        std::count(b.i.begin(), b.i.end(), 0) > 0) {
      return InvalidArgumentError(what_ + ": integer division by zero");
    }
    ASSIGN_OR_RETURN(std::vector<int64_t> shape, BroadcastShape(a.shape, b.shape, what_));
    ASSIGN_OR_RETURN(Tensor t, MakeTensor(a.type, shape));
    if (a.type == ElemType::kFloat) {
      Compute(a.f, a.shape, b.f, b.shape, &t.f, shape);
    } else {
      Compute(a.i, a.shape, b.i, b.shape, &t.i, shape);
    }
    out->push_back(std::move(t));
    return OkStatus();
  }

 private:
  template <typename T>
  void Compute(const std::vector<T>& a, const std::vector<int64_t>& ash, const std::vector<T>& b,
               const std::vector<int64_t>& bsh, std::vector<T>* o,
               const std::vector<int64_t>& osh) const {
    const size_t n = o->size();
    if (a.size() == n && b.size() == n) {
      for (size_t k = 0; k < n; ++k) (*o)[k] = Apply(kind_, a[k], b[k]);
      return;
    }
    if (a.size() == n && b.size() == 1) {
      for (size_t k = 0; k < n; ++k) (*o)[k] = Apply(kind_, a[k], b[0]);
      return;
    }
    // A row vector over the last dimension (a bias): the common case.
    if (a.size() == n && !osh.empty() && b.size() == static_cast<size_t>(osh.back()) &&
        bsh.back() == osh.back()) {
      const size_t w = b.size();
      for (size_t k = 0; k < n; ++k) (*o)[k] = Apply(kind_, a[k], b[k % w]);
      return;
    }
    const std::vector<int64_t> sa = BroadcastStrides(ash, osh), sb = BroadcastStrides(bsh, osh);
    std::vector<int64_t> idx(osh.size(), 0);
    int64_t ia = 0, ib = 0;
    for (size_t k = 0; k < n; ++k) {
      (*o)[k] = Apply(kind_, a[ia], b[ib]);
      for (int64_t d = static_cast<int64_t>(osh.size()) - 1; d >= 0; --d) {
        ia += sa[d];
        ib += sb[d];
        if (++idx[d] < osh[d]) break;
        ia -= sa[d] * osh[d];
        ib -= sb[d] * osh[d];
        idx[d] = 0;
      }
    }
  }
  BinaryKind kind_;
};

enum class UnaryKind { kRelu, kSigmoid, kTanh, kExp };

class UnaryOp : public Op {
 public:
  explicit UnaryOp(UnaryKind kind) : kind_(kind) {}
  Status Run(const Inputs& in, std::vector<Tensor>* out) const override {
    RETURN_IF_ERROR(Need(in, 1, 1));
    RETURN_IF_ERROR(NeedType(*in[0], ElemType::kFloat, "the input"));
    Tensor t = *in[0];
    const int64_t n = static_cast<int64_t>(t.f.size());
    switch (kind_) {
      case UnaryKind::kRelu:
        for (float& v : t.f) v = v > 0.0f ? v : 0.0f;
        break;
      case UnaryKind::kSigmoid:
        SigmoidInPlace(t.f.data(), n);
        break;
      case UnaryKind::kTanh:
        TanhInPlace(t.f.data(), n);
        break;
      case UnaryKind::kExp:
        ExpInPlace(t.f.data(), n);
        break;
    }
    out->push_back(std::move(t));
    return OkStatus();
  }

 private:
  UnaryKind kind_;
};

// C[m, n] = alpha * A'[m, k] B'[k, n] (+ beta * bias broadcast), A' = A or Aᵀ, B' = B or Bᵀ.
// At most this many multiply-adds in one MatMul or Gemm (a hostile file cannot pin a core).
constexpr int64_t kMaxMatMulWork = int64_t{1} << 31;

Status CheckMatMulWork(int64_t m, int64_t k, int64_t n, const std::string& what) {
  if (m > 0 && k > 0 && n > 0 && (m > kMaxMatMulWork / k || m * k > kMaxMatMulWork / n)) {
    return ResourceExhaustedError(what + ": " + std::to_string(m) + "x" + std::to_string(k) +
                                  " by " + std::to_string(k) + "x" + std::to_string(n) +
                                  " is more work than one call may do");
  }
  return OkStatus();
}

void MatMul2D(const float* a, bool ta, const float* b, bool tb, int64_t m, int64_t k, int64_t n,
              float alpha, float* c) {
  if (!ta && !tb) {  // every Linear layer once its B is pre-transposed (GemmOp), and MatMul
    MatMulRowMajor(a, b, m, k, n, alpha, c);
    return;
  }
  for (int64_t r = 0; r < m; ++r) {
    float* crow = c + r * n;
    std::fill(crow, crow + n, 0.0f);
    for (int64_t p = 0; p < k; ++p) {
      const float av = alpha * (ta ? a[p * m + r] : a[r * k + p]);
      if (!tb) {
        const float* brow = b + p * n;
        for (int64_t j = 0; j < n; ++j) crow[j] += av * brow[j];
      } else {
        for (int64_t j = 0; j < n; ++j) crow[j] += av * b[j * k + p];
      }
    }
  }
}

class GemmOp : public Op {
 public:
  static StatusOr<std::unique_ptr<Op>> Make(const Attributes& at) {
    RETURN_IF_ERROR(at.AllowOnly({"alpha", "beta", "transA", "transB", "broadcast"}));
    auto op = std::make_unique<GemmOp>();
    ASSIGN_OR_RETURN(op->alpha_, at.Float("alpha", 1.0f));
    ASSIGN_OR_RETURN(op->beta_, at.Float("beta", 1.0f));
    ASSIGN_OR_RETURN(int64_t ta, at.Int("transA", 0));
    ASSIGN_OR_RETURN(int64_t tb, at.Int("transB", 0));
    op->ta_ = ta != 0;
    op->tb_ = tb != 0;
    return std::unique_ptr<Op>(std::move(op));
  }
  Status Run(const Inputs& in, std::vector<Tensor>* out) const override {
    RETURN_IF_ERROR(Need(in, 2, 3));
    const Tensor& a = *in[0];
    const Tensor& b = *in[1];
    RETURN_IF_ERROR(NeedType(a, ElemType::kFloat, "A"));
    RETURN_IF_ERROR(NeedType(b, ElemType::kFloat, "B"));
    if (a.rank() != 2 || b.rank() != 2) {
      return InvalidArgumentError(what_ + ": A and B must be 2-D, are " + ShapeText(a.shape) +
                                  " and " + ShapeText(b.shape));
    }
    const int64_t m = ta_ ? a.shape[1] : a.shape[0];
    const int64_t k = ta_ ? a.shape[0] : a.shape[1];
    const int64_t kb = tb_ ? b.shape[1] : b.shape[0];
    const int64_t n = tb_ ? b.shape[0] : b.shape[1];
    if (k != kb) {
      return InvalidArgumentError(what_ + ": inner dimensions differ: " + ShapeText(a.shape) +
                                  " and " + ShapeText(b.shape));
    }
    RETURN_IF_ERROR(CheckMatMulWork(m, k, n, what_));
    ASSIGN_OR_RETURN(Tensor c, MakeTensor(ElemType::kFloat, {m, n}));
    MatMul2D(a.f.data(), ta_, b.f.data(), tb_, m, k, n, alpha_, c.f.data());
    if (in.size() == 3 && in[2] != nullptr && beta_ != 0.0f) {
      const Tensor& bias = *in[2];
      RETURN_IF_ERROR(NeedType(bias, ElemType::kFloat, "C"));
      ASSIGN_OR_RETURN(std::vector<int64_t> shape, BroadcastShape(c.shape, bias.shape, what_));
      if (shape != c.shape) {
        return InvalidArgumentError(what_ + ": C " + ShapeText(bias.shape) +
                                    " does not broadcast to " + ShapeText(c.shape));
      }
      const std::vector<int64_t> s = BroadcastStrides(bias.shape, c.shape);
      for (int64_t r = 0; r < m; ++r) {
        for (int64_t j = 0; j < n; ++j) c.f[r * n + j] += beta_ * bias.f[r * s[0] + j * s[1]];
      }
    }
    out->push_back(std::move(c));
    return OkStatus();
  }

  // Gemm with transB on a constant B (what every Linear layer exports): B is transposed once
  // at load, so the inner loop runs along rows of B that are contiguous (and vectorises).
  bool transposes_b() const { return tb_; }
  void set_b_pretransposed() { tb_ = false; }

 private:
  float alpha_ = 1, beta_ = 1;
  bool ta_ = false, tb_ = false;
};

class MatMulOp : public Op {
 public:
  Status Run(const Inputs& in, std::vector<Tensor>* out) const override {
    RETURN_IF_ERROR(Need(in, 2, 2));
    const Tensor& a = *in[0];
    const Tensor& b = *in[1];
    RETURN_IF_ERROR(NeedType(a, ElemType::kFloat, "A"));
    RETURN_IF_ERROR(NeedType(b, ElemType::kFloat, "B"));
    // A [..., m, k] (or [k]) times a 2-D B [k, n] (or [k]): what tabular nets export.
    if (a.rank() < 1 || b.rank() < 1 || b.rank() > 2) {
      return InvalidArgumentError(what_ + ": shapes " + ShapeText(a.shape) + " x " +
                                  ShapeText(b.shape) + " are not supported (B must be 1-D or 2-D)");
    }
    const int64_t k = a.shape.back();
    const int64_t n = b.rank() == 2 ? b.shape[1] : 1;
    if (b.shape[0] != k) {
      return InvalidArgumentError(what_ + ": inner dimensions differ: " + ShapeText(a.shape) +
                                  " x " + ShapeText(b.shape));
    }
    const int64_t m = k == 0 ? 0 : a.size() / k;
    RETURN_IF_ERROR(CheckMatMulWork(m, k, n, what_));
    std::vector<int64_t> shape(a.shape.begin(), a.shape.end() - 1);
    if (b.rank() == 2) shape.push_back(n);
    ASSIGN_OR_RETURN(Tensor c, MakeTensor(ElemType::kFloat, shape));
    if (k == 0) {
      out->push_back(std::move(c));
      return OkStatus();
    }
    MatMul2D(a.f.data(), false, b.f.data(), false, m, k, n, 1.0f, c.f.data());
    out->push_back(std::move(c));
    return OkStatus();
  }
};

class GatherOp : public Op {
 public:
  explicit GatherOp(int64_t axis) : axis_(axis) {}
  Status Run(const Inputs& in, std::vector<Tensor>* out) const override {
    RETURN_IF_ERROR(Need(in, 2, 2));
    const Tensor& data = *in[0];
    const Tensor& idx = *in[1];
    RETURN_IF_ERROR(NeedType(idx, ElemType::kInt64, "indices"));
    if (data.rank() < 1) return InvalidArgumentError(what_ + ": data must have rank >= 1");
    ASSIGN_OR_RETURN(int64_t axis, Axis(axis_, data.rank(), what_));
    const int64_t dim = data.shape[axis];
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= data.shape[d];
    for (int64_t d = axis + 1; d < data.rank(); ++d) inner *= data.shape[d];
    std::vector<int64_t> shape(data.shape.begin(), data.shape.begin() + axis);
    shape.insert(shape.end(), idx.shape.begin(), idx.shape.end());
    shape.insert(shape.end(), data.shape.begin() + axis + 1, data.shape.end());
    ASSIGN_OR_RETURN(Tensor t, MakeTensor(data.type, shape));
    const int64_t n = idx.size();
    for (int64_t j = 0; j < n; ++j) {
      int64_t ix = idx.i[j];
      if (ix < -dim || ix >= dim) {
        return InvalidArgumentError(what_ + ": index " + std::to_string(ix) +
                                    " out of range for a dimension of " + std::to_string(dim));
      }
    }
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t j = 0; j < n; ++j) {
        int64_t ix = idx.i[j] < 0 ? idx.i[j] + dim : idx.i[j];
        const int64_t src = (o * dim + ix) * inner;
        const int64_t dst = (o * n + j) * inner;
        if (data.type == ElemType::kFloat) {
          std::copy_n(data.f.begin() + src, inner, t.f.begin() + dst);
        } else {
          std::copy_n(data.i.begin() + src, inner, t.i.begin() + dst);
        }
      }
    }
    out->push_back(std::move(t));
    return OkStatus();
  }

 private:
  int64_t axis_;
};

class ConcatOp : public Op {
 public:
  explicit ConcatOp(int64_t axis) : axis_(axis) {}
  Status Run(const Inputs& in, std::vector<Tensor>* out) const override {
    RETURN_IF_ERROR(Need(in, 1, in.size()));
    const Tensor& first = *in[0];
    ASSIGN_OR_RETURN(int64_t axis, Axis(axis_, first.rank(), what_));
    std::vector<int64_t> shape = first.shape;
    shape[axis] = 0;
    for (const Tensor* t : in) {
      if (t->type != first.type || t->rank() != first.rank()) {
        return InvalidArgumentError(what_ + ": inputs differ in type or rank");
      }
      for (int64_t d = 0; d < first.rank(); ++d) {
        if (d != axis && t->shape[d] != first.shape[d]) {
          return InvalidArgumentError(what_ + ": shapes " + ShapeText(first.shape) + " and " +
                                      ShapeText(t->shape) + " differ off the axis");
        }
      }
      shape[axis] += t->shape[axis];
    }
    ASSIGN_OR_RETURN(Tensor o, MakeTensor(first.type, shape));
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= shape[d];
    for (int64_t d = axis + 1; d < first.rank(); ++d) inner *= shape[d];
    int64_t offset = 0;
    for (const Tensor* t : in) {
      const int64_t chunk = t->shape[axis] * inner;
      for (int64_t r = 0; r < outer; ++r) {
        const int64_t dst = r * shape[axis] * inner + offset;
        if (first.type == ElemType::kFloat) {
          std::copy_n(t->f.begin() + r * chunk, chunk, o.f.begin() + dst);
        } else {
          std::copy_n(t->i.begin() + r * chunk, chunk, o.i.begin() + dst);
        }
      }
      offset += chunk;
    }
    out->push_back(std::move(o));
    return OkStatus();
  }

 private:
  int64_t axis_;
};

Tensor Reshaped(const Tensor& t, std::vector<int64_t> shape) {
  Tensor o = t;
  o.shape = std::move(shape);
  return o;
}

class ReshapeOp : public Op {
 public:
  explicit ReshapeOp(bool allow_zero) : allow_zero_(allow_zero) {}
  Status Run(const Inputs& in, std::vector<Tensor>* out) const override {
    RETURN_IF_ERROR(Need(in, 2, 2));
    const Tensor& data = *in[0];
    RETURN_IF_ERROR(NeedType(*in[1], ElemType::kInt64, "shape"));
    std::vector<int64_t> shape = in[1]->i;
    int64_t infer = -1, known = 1;
    for (size_t d = 0; d < shape.size(); ++d) {
      if (shape[d] == 0 && !allow_zero_) {
        if (d >= data.shape.size()) return InvalidArgumentError(what_ + ": 0 beyond the input's rank");
        shape[d] = data.shape[d];
      }
      if (shape[d] == -1) {
        if (infer >= 0) return InvalidArgumentError(what_ + ": more than one -1 in the shape");
        infer = static_cast<int64_t>(d);
      } else if (shape[d] < 0) {
        return InvalidArgumentError(what_ + ": negative dimension " + std::to_string(shape[d]));
      } else {
        if (shape[d] != 0 && known > kMaxTensorElements / shape[d]) {
          return ResourceExhaustedError(what_ + ": shape " + ShapeText(in[1]->i) +
                                        " holds more than " + std::to_string(kMaxTensorElements) +
                                        " values");
        }
        known *= shape[d];
      }
    }
    if (infer >= 0) {
      if (known == 0 || data.size() % known != 0) {
        return InvalidArgumentError(what_ + ": cannot reshape " + ShapeText(data.shape) + " to " +
                                    ShapeText(in[1]->i));
      }
      shape[infer] = data.size() / known;
    }
    ASSIGN_OR_RETURN(int64_t n, CheckedCount(shape));
    if (n != data.size()) {
      return InvalidArgumentError(what_ + ": cannot reshape " + ShapeText(data.shape) + " to " +
                                  ShapeText(shape));
    }
    out->push_back(Reshaped(data, shape));
    return OkStatus();
  }

 private:
  bool allow_zero_;
};

class FlattenOp : public Op {
 public:
  explicit FlattenOp(int64_t axis) : axis_(axis) {}
  Status Run(const Inputs& in, std::vector<Tensor>* out) const override {
    RETURN_IF_ERROR(Need(in, 1, 1));
    const Tensor& t = *in[0];
    ASSIGN_OR_RETURN(int64_t axis, Axis(axis_, t.rank(), what_, /*plus_one=*/true));
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < t.rank(); ++d) (d < axis ? outer : inner) *= t.shape[d];
    out->push_back(Reshaped(t, {outer, inner}));
    return OkStatus();
  }

 private:
  int64_t axis_;
};

// Unsqueeze and Squeeze: axes from the attribute (opset < 13) or the second input.
class SqueezeOp : public Op {
 public:
  SqueezeOp(bool unsqueeze, std::vector<int64_t> axes, bool axes_from_input)
      : unsqueeze_(unsqueeze), axes_(std::move(axes)), axes_from_input_(axes_from_input) {}
  Status Run(const Inputs& in, std::vector<Tensor>* out) const override {
    RETURN_IF_ERROR(Need(in, 1, 2));
    const Tensor& t = *in[0];
    std::vector<int64_t> axes = axes_;
    if (axes_from_input_ && in.size() == 2 && in[1] != nullptr) {
      RETURN_IF_ERROR(NeedType(*in[1], ElemType::kInt64, "axes"));
      axes = in[1]->i;
    }
    std::vector<int64_t> shape;
    if (unsqueeze_) {
      const int64_t rank = t.rank() + static_cast<int64_t>(axes.size());
      std::set<int64_t> at;
      for (int64_t a : axes) {
        ASSIGN_OR_RETURN(int64_t ax, Axis(a, rank, what_));
        if (!at.insert(ax).second) return InvalidArgumentError(what_ + ": repeated axis");
      }
      size_t src = 0;
      for (int64_t d = 0; d < rank; ++d) shape.push_back(at.count(d) ? 1 : t.shape[src++]);
    } else {
      std::set<int64_t> at;
      for (int64_t a : axes) {
        ASSIGN_OR_RETURN(int64_t ax, Axis(a, t.rank(), what_));
        if (t.shape[ax] != 1) {
          return InvalidArgumentError(what_ + ": cannot squeeze axis " + std::to_string(ax) +
                                      " of " + ShapeText(t.shape));
        }
        at.insert(ax);
      }
      for (int64_t d = 0; d < t.rank(); ++d) {
        if (axes.empty() ? t.shape[d] != 1 : !at.count(d)) shape.push_back(t.shape[d]);
      }
    }
    out->push_back(Reshaped(t, shape));
    return OkStatus();
  }

 private:
  bool unsqueeze_;
  std::vector<int64_t> axes_;
  bool axes_from_input_;
};

class SliceOp : public Op {
 public:
  // opset < 10 passes starts/ends/axes as attributes.
  SliceOp(std::vector<int64_t> starts, std::vector<int64_t> ends, std::vector<int64_t> axes,
          bool from_inputs)
      : starts_(std::move(starts)), ends_(std::move(ends)), axes_(std::move(axes)),
        from_inputs_(from_inputs) {}
  Status Run(const Inputs& in, std::vector<Tensor>* out) const override {
    // Need() first: it checks the data input is there before anything reads it.
    RETURN_IF_ERROR(from_inputs_ ? Need(in, 3, 5) : Need(in, 1, 1));
    const Tensor& t = *in[0];
    std::vector<int64_t> starts = starts_, ends = ends_, axes = axes_, steps;
    if (from_inputs_) {
      for (size_t k = 1; k < in.size(); ++k) {
        if (in[k] != nullptr) RETURN_IF_ERROR(NeedType(*in[k], ElemType::kInt64, "starts/ends/axes/steps"));
      }
      starts = in[1]->i;
      ends = in[2]->i;
      if (in.size() > 3 && in[3] != nullptr) axes = in[3]->i;
      if (in.size() > 4 && in[4] != nullptr) steps = in[4]->i;
    }
    if (axes.empty()) {
      for (size_t k = 0; k < starts.size(); ++k) axes.push_back(static_cast<int64_t>(k));
    }
    if (steps.empty()) steps.assign(starts.size(), 1);
    if (ends.size() != starts.size() || axes.size() != starts.size() ||
        steps.size() != starts.size()) {
      return InvalidArgumentError(what_ + ": starts, ends, axes and steps differ in length");
    }
    std::vector<int64_t> begin(t.rank(), 0), step(t.rank(), 1), shape = t.shape;
    for (size_t k = 0; k < starts.size(); ++k) {
      ASSIGN_OR_RETURN(int64_t ax, Axis(axes[k], t.rank(), what_));
      const int64_t dim = t.shape[ax];
      if (steps[k] == 0) return InvalidArgumentError(what_ + ": step 0");
      if (dim == 0) {
        shape[ax] = 0;
        continue;
      }
      // ONNX's clamping; huge values (INT64_MAX/MIN, what exporters write for "to the end")
      // are first brought into [-dim-1, dim+1] so nothing overflows.
      int64_t s = std::clamp<int64_t>(starts[k], -dim - 1, dim + 1);
      int64_t e = std::clamp<int64_t>(ends[k], -dim - 1, dim + 1);
      if (s < 0) s += dim;
      if (e < 0) e += dim;
      if (steps[k] > 0) {
        s = std::clamp<int64_t>(s, 0, dim);
        e = std::clamp<int64_t>(e, 0, dim);
      } else {
        s = std::clamp<int64_t>(s, 0, dim - 1);
        e = std::clamp<int64_t>(e, -1, dim - 1);
      }
      // A step longer than the dimension takes one element, as dim + 1 does (no overflow).
      const int64_t st = std::clamp<int64_t>(steps[k], -dim - 1, dim + 1);
      begin[ax] = s;
      step[ax] = st;
      shape[ax] = st > 0 ? (e > s ? (e - s - 1) / st + 1 : 0) : (s > e ? (s - e - 1) / -st + 1 : 0);
    }
    ASSIGN_OR_RETURN(Tensor o, MakeTensor(t.type, shape));
    std::vector<int64_t> src_stride(t.rank(), 1);
    for (int64_t d = t.rank() - 2; d >= 0; --d) src_stride[d] = src_stride[d + 1] * t.shape[d + 1];
    std::vector<int64_t> idx(t.rank(), 0);
    const int64_t n = o.size();
    for (int64_t k = 0; k < n; ++k) {
      int64_t src = 0;
      for (int64_t d = 0; d < t.rank(); ++d) src += (begin[d] + idx[d] * step[d]) * src_stride[d];
      if (t.type == ElemType::kFloat) {
        o.f[k] = t.f[src];
      } else {
        o.i[k] = t.i[src];
      }
      for (int64_t d = t.rank() - 1; d >= 0; --d) {
        if (++idx[d] < shape[d]) break;
        idx[d] = 0;
      }
    }
    out->push_back(std::move(o));
    return OkStatus();
  }

 private:
  std::vector<int64_t> starts_, ends_, axes_;
  bool from_inputs_;
};

// Clip: bounds from attributes (opset < 11) or optional scalar inputs; float or int64.
class ClipOp : public Op {
 public:
  ClipOp(std::optional<float> lo, std::optional<float> hi, bool from_inputs)
      : lo_(lo), hi_(hi), from_inputs_(from_inputs) {}
  Status Run(const Inputs& in, std::vector<Tensor>* out) const override {
    RETURN_IF_ERROR(Need(in, 1, from_inputs_ ? 3 : 1));
    Tensor t = *in[0];
    auto bound = [&](size_t k, std::optional<float> fallback) -> StatusOr<std::optional<double>> {
      if (!from_inputs_) return fallback ? std::optional<double>(*fallback) : std::nullopt;
      if (in.size() <= k || in[k] == nullptr) return std::optional<double>();
      const Tensor& b = *in[k];
      if (b.type != t.type || b.size() != 1) {
        return InvalidArgumentError(what_ + ": min and max must be scalars of the input's type");
      }
      return std::optional<double>(b.type == ElemType::kFloat ? b.f[0]
                                                              : static_cast<double>(b.i[0]));
    };
    ASSIGN_OR_RETURN(std::optional<double> lo, bound(1, lo_));
    ASSIGN_OR_RETURN(std::optional<double> hi, bound(2, hi_));
    if (t.type == ElemType::kFloat) {
      for (float& v : t.f) {
        if (lo && v < *lo) v = static_cast<float>(*lo);
        if (hi && v > *hi) v = static_cast<float>(*hi);
      }
    } else {
      for (int64_t& v : t.i) {
        if (lo && v < *lo) v = static_cast<int64_t>(*lo);
        if (hi && v > *hi) v = static_cast<int64_t>(*hi);
      }
    }
    out->push_back(std::move(t));
    return OkStatus();
  }

 private:
  std::optional<float> lo_, hi_;
  bool from_inputs_;
};

class CastOp : public Op {
 public:
  explicit CastOp(ElemType to) : to_(to) {}
  Status Run(const Inputs& in, std::vector<Tensor>* out) const override {
    RETURN_IF_ERROR(Need(in, 1, 1));
    const Tensor& t = *in[0];
    Tensor o;
    o.type = to_;
    o.shape = t.shape;
    if (t.type == to_) {
      o = t;
    } else if (to_ == ElemType::kInt64) {
      o.i.resize(t.f.size());
      for (size_t k = 0; k < t.f.size(); ++k) {
        const float v = t.f[k];
        if (!std::isfinite(v) || std::fabs(v) >= 9.2e18f) {
          return InvalidArgumentError(what_ + ": " + std::to_string(v) + " does not fit int64");
        }
        o.i[k] = static_cast<int64_t>(v);  // toward zero, as ONNX Runtime does
      }
    } else {
      o.f.resize(t.i.size());
      for (size_t k = 0; k < t.i.size(); ++k) o.f[k] = static_cast<float>(t.i[k]);
    }
    out->push_back(std::move(o));
    return OkStatus();
  }

 private:
  ElemType to_;
};

class ShapeOp : public Op {
 public:
  ShapeOp(int64_t start, std::optional<int64_t> end) : start_(start), end_(end) {}
  Status Run(const Inputs& in, std::vector<Tensor>* out) const override {
    RETURN_IF_ERROR(Need(in, 1, 1));
    const int64_t r = in[0]->rank();
    auto norm = [r](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + r : v, 0, r); };
    const int64_t s = norm(start_), e = norm(end_.value_or(r));
    Tensor o;
    o.type = ElemType::kInt64;
    for (int64_t d = s; d < e; ++d) o.i.push_back(in[0]->shape[d]);
    o.shape = {static_cast<int64_t>(o.i.size())};
    out->push_back(std::move(o));
    return OkStatus();
  }

 private:
  int64_t start_;
  std::optional<int64_t> end_;
};

class ConstantOp : public Op {
 public:
  explicit ConstantOp(Tensor value) : value_(std::move(value)) {}
  Status Run(const Inputs& in, std::vector<Tensor>* out) const override {
    RETURN_IF_ERROR(Need(in, 0, 0));
    out->push_back(value_);
    return OkStatus();
  }

 private:
  Tensor value_;
};

class IdentityOp : public Op {
 public:
  Status Run(const Inputs& in, std::vector<Tensor>* out) const override {
    RETURN_IF_ERROR(Need(in, 1, 1));
    out->push_back(*in[0]);
    return OkStatus();
  }
};

class SoftmaxOp : public Op {
 public:
  SoftmaxOp(int64_t axis, bool coerce_2d) : axis_(axis), coerce_2d_(coerce_2d) {}
  Status Run(const Inputs& in, std::vector<Tensor>* out) const override {
    RETURN_IF_ERROR(Need(in, 1, 1));
    RETURN_IF_ERROR(NeedType(*in[0], ElemType::kFloat, "the input"));
    Tensor t = *in[0];
    ASSIGN_OR_RETURN(int64_t axis, Axis(axis_, t.rank(), what_));
    int64_t outer = 1, dim = 1, inner = 1;
    for (int64_t d = 0; d < t.rank(); ++d) {
      if (coerce_2d_) {
        (d < axis ? outer : dim) *= t.shape[d];
      } else {
        (d < axis ? outer : d == axis ? dim : inner) *= t.shape[d];
      }
    }
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t j = 0; j < inner; ++j) {
        float* base = t.f.data() + o * dim * inner + j;
        float mx = -std::numeric_limits<float>::infinity();
        for (int64_t k = 0; k < dim; ++k) mx = std::max(mx, base[k * inner]);
        float sum = 0;
        for (int64_t k = 0; k < dim; ++k) sum += base[k * inner] = std::exp(base[k * inner] - mx);
        for (int64_t k = 0; k < dim; ++k) base[k * inner] /= sum;
      }
    }
    out->push_back(std::move(t));
    return OkStatus();
  }

 private:
  int64_t axis_;
  bool coerce_2d_;
};

// ai.onnx.ml TreeEnsembleRegressor / TreeEnsembleClassifier, with ONNX Runtime's semantics:
// at a node, take the true branch when the comparison holds or when x is NaN and the node's
// missing value tracks true; per target, aggregate the leaf weights of every tree, add the base
// value, then the post transform.
class TreeEnsembleOp : public Op {
 public:
  static StatusOr<std::unique_ptr<Op>> Make(const Attributes& at, bool classifier) {
    if (classifier) {
      RETURN_IF_ERROR(at.AllowOnly(
          {"base_values", "class_ids", "class_nodeids", "class_treeids", "class_weights",
           "classlabels_int64s", "classlabels_strings", "nodes_falsenodeids", "nodes_featureids",
           "nodes_hitrates", "nodes_missing_value_tracks_true", "nodes_modes", "nodes_nodeids",
           "nodes_treeids", "nodes_truenodeids", "nodes_values", "post_transform"}));
    } else {
      RETURN_IF_ERROR(at.AllowOnly(
          {"aggregate_function", "base_values", "n_targets", "nodes_falsenodeids",
           "nodes_featureids", "nodes_hitrates", "nodes_missing_value_tracks_true", "nodes_modes",
           "nodes_nodeids", "nodes_treeids", "nodes_truenodeids", "nodes_values",
           "post_transform", "target_ids", "target_nodeids", "target_treeids",
           "target_weights"}));
    }
    auto op = std::make_unique<TreeEnsembleOp>();
    op->classifier_ = classifier;
    const std::string& w = at.what();
    ASSIGN_OR_RETURN(std::string agg, at.String("aggregate_function", "SUM"));
    if (agg == "SUM") {
      op->aggregate_ = Aggregate::kSum;
    } else if (agg == "AVERAGE") {
      op->aggregate_ = Aggregate::kAverage;
    } else if (agg == "MIN") {
      op->aggregate_ = Aggregate::kMin;
    } else if (agg == "MAX") {
      op->aggregate_ = Aggregate::kMax;
    } else {
      return UnimplementedError(w + ": aggregate_function '" + agg + "' is not supported");
    }
    ASSIGN_OR_RETURN(std::string post, at.String("post_transform", "NONE"));
    if (post == "NONE") {
      op->post_ = Post::kNone;
    } else if (post == "LOGISTIC") {
      op->post_ = Post::kLogistic;
    } else if (post == "SOFTMAX") {
      op->post_ = Post::kSoftmax;
    } else if (post == "SOFTMAX_ZERO") {
      op->post_ = Post::kSoftmaxZero;
    } else {
      return UnimplementedError(w + ": post_transform '" + post + "' is not supported");
    }
    ASSIGN_OR_RETURN(auto treeids, at.Ints("nodes_treeids"));
    ASSIGN_OR_RETURN(auto nodeids, at.Ints("nodes_nodeids"));
    ASSIGN_OR_RETURN(auto featureids, at.Ints("nodes_featureids"));
    ASSIGN_OR_RETURN(auto values, at.Floats("nodes_values"));
    ASSIGN_OR_RETURN(auto modes, at.Strings("nodes_modes"));
    ASSIGN_OR_RETURN(auto trues, at.Ints("nodes_truenodeids"));
    ASSIGN_OR_RETURN(auto falses, at.Ints("nodes_falsenodeids"));
    ASSIGN_OR_RETURN(auto missing, at.Ints("nodes_missing_value_tracks_true"));
    const size_t n = treeids.size();
    if (n == 0) return InvalidArgumentError(w + ": no nodes");
    for (size_t len : {nodeids.size(), featureids.size(), values.size(), modes.size(),
                       trues.size(), falses.size()}) {
      if (len != n) return InvalidArgumentError(w + ": the nodes_* attributes differ in length");
    }
    if (!missing.empty() && missing.size() != n) {
      return InvalidArgumentError(w + ": nodes_missing_value_tracks_true differs in length");
    }
    const char* prefix = classifier ? "class" : "target";
    ASSIGN_OR_RETURN(auto t_ids, at.Ints(classifier ? "class_ids" : "target_ids"));
    ASSIGN_OR_RETURN(auto t_nodes, at.Ints(classifier ? "class_nodeids" : "target_nodeids"));
    ASSIGN_OR_RETURN(auto t_trees, at.Ints(classifier ? "class_treeids" : "target_treeids"));
    ASSIGN_OR_RETURN(auto t_weights, at.Floats(classifier ? "class_weights" : "target_weights"));
    if (t_nodes.size() != t_ids.size() || t_trees.size() != t_ids.size() ||
        t_weights.size() != t_ids.size()) {
      return InvalidArgumentError(w + ": the " + prefix + "_* attributes differ in length");
    }
    if (classifier) {
      ASSIGN_OR_RETURN(op->class_labels_, at.Ints("classlabels_int64s"));
      ASSIGN_OR_RETURN(auto names, at.Strings("classlabels_strings"));
      if (op->class_labels_.empty()) {
        for (size_t k = 0; k < names.size(); ++k) op->class_labels_.push_back(static_cast<int64_t>(k));
      }
      if (op->class_labels_.empty()) return InvalidArgumentError(w + ": no class labels");
      op->num_targets_ = static_cast<int64_t>(op->class_labels_.size());
    } else {
      ASSIGN_OR_RETURN(op->num_targets_, at.Int("n_targets", 1));
    }
    if (op->num_targets_ < 1 || op->num_targets_ > 4096) {
      return InvalidArgumentError(w + ": " + std::to_string(op->num_targets_) + " targets");
    }
    ASSIGN_OR_RETURN(op->base_, at.Floats("base_values"));

    // Nodes, indexed by (tree, node id).
    std::map<std::pair<int64_t, int64_t>, int32_t> index;
    for (size_t k = 0; k < n; ++k) {
      if (!index.emplace(std::make_pair(treeids[k], nodeids[k]), static_cast<int32_t>(k)).second) {
        return InvalidArgumentError(w + ": node " + std::to_string(nodeids[k]) + " of tree " +
                                    std::to_string(treeids[k]) + " appears twice");
      }
    }
    op->nodes_.resize(n);
    std::map<int64_t, std::set<int64_t>> children;  // per tree
    for (size_t k = 0; k < n; ++k) {
      Node& node = op->nodes_[k];
      const std::string& m = modes[k];
      node.mode = m == "BRANCH_LEQ"   ? Mode::kLeq
                  : m == "BRANCH_LT"  ? Mode::kLt
                  : m == "BRANCH_GTE" ? Mode::kGte
                  : m == "BRANCH_GT"  ? Mode::kGt
                  : m == "BRANCH_EQ"  ? Mode::kEq
                  : m == "BRANCH_NEQ" ? Mode::kNeq
                  : m == "LEAF"       ? Mode::kLeaf
                                      : Mode::kUnknown;
      if (node.mode == Mode::kUnknown) {
        return UnimplementedError(w + ": node mode '" + m + "' is not supported");
      }
      node.value = values[k];
      node.missing_true = !missing.empty() && missing[k] != 0;
      if (node.mode == Mode::kLeaf) continue;
      if (featureids[k] < 0 || featureids[k] > std::numeric_limits<int32_t>::max()) {
        return InvalidArgumentError(w + ": bad feature id " + std::to_string(featureids[k]));
      }
      node.feature = featureids[k];
      op->max_feature_ = std::max<int64_t>(op->max_feature_, featureids[k]);
      for (auto [child, slot] : {std::make_pair(trues[k], &node.on_true),
                                 std::make_pair(falses[k], &node.on_false)}) {
        auto it = index.find({treeids[k], child});
        if (it == index.end()) {
          return InvalidArgumentError(w + ": node " + std::to_string(nodeids[k]) + " of tree " +
                                      std::to_string(treeids[k]) + " points to missing node " +
                                      std::to_string(child));
        }
        *slot = it->second;
        children[treeids[k]].insert(child);
      }
    }
    // Roots: one node per tree that is nobody's child. Trees in increasing id order.
    std::map<int64_t, int32_t> roots;
    for (size_t k = 0; k < n; ++k) {
      if (children[treeids[k]].count(nodeids[k])) continue;
      if (!roots.emplace(treeids[k], static_cast<int32_t>(k)).second) {
        return InvalidArgumentError(w + ": tree " + std::to_string(treeids[k]) +
                                    " has more than one root");
      }
    }
    for (const auto& [tree, root] : roots) op->roots_.push_back(root);
    for (size_t k = 0; k < t_ids.size(); ++k) {
      auto it = index.find({t_trees[k], t_nodes[k]});
      if (it == index.end() || op->nodes_[it->second].mode != Mode::kLeaf) {
        return InvalidArgumentError(w + ": " + prefix + " weight " + std::to_string(k) +
                                    " names a node that is not a leaf");
      }
      if (t_ids[k] < 0 || t_ids[k] >= op->num_targets_) {
        return InvalidArgumentError(w + ": " + prefix + " id " + std::to_string(t_ids[k]) +
                                    " out of range");
      }
      op->nodes_[it->second].weights.push_back({t_ids[k], t_weights[k]});
      op->weighted_targets_.insert(t_ids[k]);
    }
    // One base value per target; a binary classifier weighting one class may give just one.
    const bool binary = classifier && op->num_targets_ == 2 && op->weighted_targets_.size() == 1;
    if (binary && op->base_.size() == 1) {
      const float b = op->base_[0];
      op->base_.assign(2, 0.0f);
      op->base_[*op->weighted_targets_.begin()] = b;
    }
    if (!op->base_.empty() && static_cast<int64_t>(op->base_.size()) != op->num_targets_) {
      return InvalidArgumentError(w + ": base_values has " + std::to_string(op->base_.size()) +
                                  " values for " + std::to_string(op->num_targets_) + " targets");
    }
    // Cycles would loop forever: every walk must end within n steps (checked from each root).
    for (int32_t root : op->roots_) {
      std::vector<std::pair<int32_t, int64_t>> stack = {{root, 0}};
      while (!stack.empty()) {
        auto [k, depth] = stack.back();
        stack.pop_back();
        if (depth > static_cast<int64_t>(n)) return InvalidArgumentError(w + ": a tree has a cycle");
        const Node& node = op->nodes_[k];
        if (node.mode == Mode::kLeaf) continue;
        stack.push_back({node.on_true, depth + 1});
        stack.push_back({node.on_false, depth + 1});
      }
    }
    return std::unique_ptr<Op>(std::move(op));
  }

  Status Run(const Inputs& in, std::vector<Tensor>* out) const override {
    RETURN_IF_ERROR(Need(in, 1, 1));
    const Tensor& x = *in[0];
    RETURN_IF_ERROR(NeedType(x, ElemType::kFloat, "X"));
    if (x.rank() != 2) return InvalidArgumentError(what_ + ": X must be 2-D, is " + ShapeText(x.shape));
    const int64_t rows = x.shape[0], cols = x.shape[1];
    if (max_feature_ >= cols) {
      return InvalidArgumentError(what_ + ": uses feature " + std::to_string(max_feature_) +
                                  ", X has " + std::to_string(cols));
    }
    const int64_t t = num_targets_;
    // The binary case of a classifier with weights for one class only (what XGBoost's and
    // LightGBM's converters write): one score, expanded to the two class probabilities.
    const bool binary = classifier_ && t == 2 && weighted_targets_.size() == 1;
    ASSIGN_OR_RETURN(Tensor scores, MakeTensor(ElemType::kFloat, {rows, t}));
    Tensor labels;
    labels.type = ElemType::kInt64;
    labels.shape = {rows};
    std::vector<float> acc(t);
    std::vector<char> hit(t);
    for (int64_t r = 0; r < rows; ++r) {
      const float* row = x.f.data() + r * cols;
      std::fill(acc.begin(), acc.end(), 0.0f);
      std::fill(hit.begin(), hit.end(), 0);
      for (int32_t root : roots_) {
        const Node* node = &nodes_[root];
        while (node->mode != Mode::kLeaf) {
          const float v = row[node->feature];
          bool cond = false;
          switch (node->mode) {
            case Mode::kLeq: cond = v <= node->value; break;
            case Mode::kLt: cond = v < node->value; break;
            case Mode::kGte: cond = v >= node->value; break;
            case Mode::kGt: cond = v > node->value; break;
            case Mode::kEq: cond = v == node->value; break;
            case Mode::kNeq: cond = v != node->value; break;
            default: break;
          }
          if (node->missing_true && std::isnan(v)) cond = true;
          node = &nodes_[cond ? node->on_true : node->on_false];
        }
        for (const auto& [target, weight] : node->weights) {
          float& a = acc[target];
          switch (aggregate_) {
            case Aggregate::kSum:
            case Aggregate::kAverage: a += weight; break;
            case Aggregate::kMin: a = hit[target] ? std::min(a, weight) : weight; break;
            case Aggregate::kMax: a = hit[target] ? std::max(a, weight) : weight; break;
          }
          hit[target] = 1;
        }
      }
      float* o = scores.f.data() + r * t;
      for (int64_t k = 0; k < t; ++k) {
        float v = acc[k];
        if (aggregate_ == Aggregate::kAverage) v /= static_cast<float>(roots_.size());
        o[k] = v + (base_.empty() ? 0.0f : base_[k]);
      }
      if (binary) {
        const int64_t only = *weighted_targets_.begin();
        float s = o[only];
        if (post_ == Post::kLogistic) s = 1.0f / (1.0f + std::exp(-s));
        o[1] = s;
        o[0] = post_ == Post::kLogistic ? 1.0f - s : -s;
      } else {
        PostTransform(o, t);
      }
      if (classifier_) {
        int64_t best = 0;
        for (int64_t k = 1; k < t; ++k) best = o[k] > o[best] ? k : best;
        labels.i.push_back(class_labels_[best]);
      }
    }
    if (classifier_) out->push_back(std::move(labels));
    out->push_back(std::move(scores));
    return OkStatus();
  }

 private:
  enum class Mode { kLeq, kLt, kGte, kGt, kEq, kNeq, kLeaf, kUnknown };
  enum class Aggregate { kSum, kAverage, kMin, kMax };
  enum class Post { kNone, kLogistic, kSoftmax, kSoftmaxZero };
  struct Node {
    Mode mode = Mode::kLeaf;
    float value = 0;
    int64_t feature = 0;
    int32_t on_true = 0, on_false = 0;
    bool missing_true = false;
    std::vector<std::pair<int64_t, float>> weights;  // (target, weight) of a leaf
  };

  void PostTransform(float* o, int64_t t) const {
    switch (post_) {
      case Post::kNone:
        return;
      case Post::kLogistic:
        for (int64_t k = 0; k < t; ++k) o[k] = 1.0f / (1.0f + std::exp(-o[k]));
        return;
      case Post::kSoftmax:
      case Post::kSoftmaxZero: {
        const bool skip_zero = post_ == Post::kSoftmaxZero;
        float mx = -std::numeric_limits<float>::infinity();
        for (int64_t k = 0; k < t; ++k) {
          if (!(skip_zero && o[k] == 0.0f)) mx = std::max(mx, o[k]);
        }
        float sum = 0;
        for (int64_t k = 0; k < t; ++k) {
          if (skip_zero && o[k] == 0.0f) continue;
          sum += o[k] = std::exp(o[k] - mx);
        }
        for (int64_t k = 0; k < t; ++k) {
          if (!(skip_zero && o[k] == 0.0f)) o[k] /= sum;
        }
        return;
      }
    }
  }

  bool classifier_ = false;
  Aggregate aggregate_ = Aggregate::kSum;
  Post post_ = Post::kNone;
  int64_t num_targets_ = 1;
  int64_t max_feature_ = -1;
  std::vector<float> base_;
  std::vector<int64_t> class_labels_;
  std::vector<Node> nodes_;
  std::vector<int32_t> roots_;
  std::set<int64_t> weighted_targets_;
};

// ---------------------------------------------------------------------------------------------
// Building operators from nodes.

StatusOr<std::unique_ptr<Op>> MakeOp(const onnx::NodeProto& node, int64_t opset, int64_t ml_opset,
                                     const std::string& what) {
  const std::string& type = node.op_type();
  const std::string& domain = node.domain();
  Attributes at(node, what);
  std::unique_ptr<Op> op;
  if (domain == "ai.onnx.ml") {
    if (ml_opset < 1) return InvalidArgumentError(what + ": the model does not import ai.onnx.ml");
    if (type == "TreeEnsembleRegressor" || type == "TreeEnsembleClassifier") {
      ASSIGN_OR_RETURN(op, TreeEnsembleOp::Make(at, type == "TreeEnsembleClassifier"));
    } else {
      return UnimplementedError(what + ": operator ai.onnx.ml." + type +
                                " is not supported (TreeEnsembleRegressor and "
                                "TreeEnsembleClassifier are)");
    }
  } else if (!domain.empty() && domain != "ai.onnx") {
    return UnimplementedError(what + ": operator domain '" + domain + "' is not supported");
  } else if (type == "Add" || type == "Sub" || type == "Mul" || type == "Div") {
    RETURN_IF_ERROR(at.AllowOnly({}));
    op = std::make_unique<BinaryOp>(type == "Add"   ? BinaryKind::kAdd
                                    : type == "Sub" ? BinaryKind::kSub
                                    : type == "Mul" ? BinaryKind::kMul
                                                    : BinaryKind::kDiv);
  } else if (type == "Relu" || type == "Sigmoid" || type == "Tanh" || type == "Exp") {
    RETURN_IF_ERROR(at.AllowOnly({}));
    op = std::make_unique<UnaryOp>(type == "Relu"      ? UnaryKind::kRelu
                                   : type == "Sigmoid" ? UnaryKind::kSigmoid
                                   : type == "Tanh"    ? UnaryKind::kTanh
                                                       : UnaryKind::kExp);
  } else if (type == "Gemm") {
    ASSIGN_OR_RETURN(op, GemmOp::Make(at));
  } else if (type == "MatMul") {
    RETURN_IF_ERROR(at.AllowOnly({}));
    op = std::make_unique<MatMulOp>();
  } else if (type == "Gather") {
    RETURN_IF_ERROR(at.AllowOnly({"axis"}));
    ASSIGN_OR_RETURN(int64_t axis, at.Int("axis", 0));
    op = std::make_unique<GatherOp>(axis);
  } else if (type == "Concat") {
    RETURN_IF_ERROR(at.AllowOnly({"axis"}));
    if (!at.Has("axis")) return InvalidArgumentError(what + ": Concat needs 'axis'");
    ASSIGN_OR_RETURN(int64_t axis, at.Int("axis", 0));
    op = std::make_unique<ConcatOp>(axis);
  } else if (type == "Reshape") {
    if (opset < 5) return UnimplementedError(what + ": Reshape before opset 5 is not supported");
    RETURN_IF_ERROR(at.AllowOnly({"allowzero"}));
    ASSIGN_OR_RETURN(int64_t allow_zero, at.Int("allowzero", 0));
    op = std::make_unique<ReshapeOp>(allow_zero != 0);
  } else if (type == "Flatten") {
    RETURN_IF_ERROR(at.AllowOnly({"axis"}));
    ASSIGN_OR_RETURN(int64_t axis, at.Int("axis", 1));
    op = std::make_unique<FlattenOp>(axis);
  } else if (type == "Unsqueeze" || type == "Squeeze") {
    RETURN_IF_ERROR(at.AllowOnly({"axes"}));
    ASSIGN_OR_RETURN(std::vector<int64_t> axes, at.Ints("axes"));
    if (type == "Unsqueeze" && opset < 13 && axes.empty()) {
      return InvalidArgumentError(what + ": Unsqueeze needs 'axes'");
    }
    op = std::make_unique<SqueezeOp>(type == "Unsqueeze", axes, opset >= 13);
  } else if (type == "Slice") {
    RETURN_IF_ERROR(at.AllowOnly({"starts", "ends", "axes"}));
    ASSIGN_OR_RETURN(auto starts, at.Ints("starts"));
    ASSIGN_OR_RETURN(auto ends, at.Ints("ends"));
    ASSIGN_OR_RETURN(auto axes, at.Ints("axes"));
    op = std::make_unique<SliceOp>(starts, ends, axes, opset >= 10);
  } else if (type == "Clip") {
    RETURN_IF_ERROR(at.AllowOnly({"min", "max"}));
    std::optional<float> lo, hi;
    if (at.Has("min")) {
      ASSIGN_OR_RETURN(float v, at.Float("min", 0));
      lo = v;
    }
    if (at.Has("max")) {
      ASSIGN_OR_RETURN(float v, at.Float("max", 0));
      hi = v;
    }
    op = std::make_unique<ClipOp>(lo, hi, opset >= 11);
  } else if (type == "Cast") {
    RETURN_IF_ERROR(at.AllowOnly({"to", "saturate"}));
    ASSIGN_OR_RETURN(int64_t to, at.Int("to", 0));
    ElemType t;
    if (to == onnx::TensorProto::FLOAT || to == onnx::TensorProto::DOUBLE) {
      t = ElemType::kFloat;
    } else if (to == onnx::TensorProto::INT64 || to == onnx::TensorProto::INT32) {
      t = ElemType::kInt64;
    } else {
      return UnimplementedError(what + ": Cast to type " + std::to_string(to) +
                                " is not supported (float, double, int32, int64 are)");
    }
    op = std::make_unique<CastOp>(t);
  } else if (type == "Shape") {
    RETURN_IF_ERROR(at.AllowOnly({"start", "end"}));
    ASSIGN_OR_RETURN(int64_t start, at.Int("start", 0));
    std::optional<int64_t> end;
    if (at.Has("end")) {
      ASSIGN_OR_RETURN(int64_t e, at.Int("end", 0));
      end = e;
    }
    op = std::make_unique<ShapeOp>(start, end);
  } else if (type == "Constant") {
    RETURN_IF_ERROR(at.AllowOnly({"value", "value_float", "value_floats", "value_int",
                                  "value_ints"}));
    Tensor value;
    if (at.Has("value")) {
      ASSIGN_OR_RETURN(value, at.TensorAttr("value"));
    } else if (at.Has("value_float")) {
      ASSIGN_OR_RETURN(float f, at.Float("value_float", 0));
      value.f = {f};
    } else if (at.Has("value_floats")) {
      ASSIGN_OR_RETURN(value.f, at.Floats("value_floats"));
      value.shape = {static_cast<int64_t>(value.f.size())};
    } else if (at.Has("value_int")) {
      ASSIGN_OR_RETURN(int64_t i, at.Int("value_int", 0));
      value.type = ElemType::kInt64;
      value.i = {i};
    } else if (at.Has("value_ints")) {
      value.type = ElemType::kInt64;
      ASSIGN_OR_RETURN(value.i, at.Ints("value_ints"));
      value.shape = {static_cast<int64_t>(value.i.size())};
    } else {
      return InvalidArgumentError(what + ": Constant without a value");
    }
    op = std::make_unique<ConstantOp>(std::move(value));
  } else if (type == "Identity") {
    RETURN_IF_ERROR(at.AllowOnly({}));
    op = std::make_unique<IdentityOp>();
  } else if (type == "Softmax") {
    RETURN_IF_ERROR(at.AllowOnly({"axis"}));
    ASSIGN_OR_RETURN(int64_t axis, at.Int("axis", opset >= 13 ? -1 : 1));
    op = std::make_unique<SoftmaxOp>(axis, opset < 13);
  } else {
    return UnimplementedError(
        what + ": operator '" + type +
        "' is not supported (supported: Add, Cast, Clip, Concat, Constant, Div, Exp, Flatten, Gather, "
        "Gemm, Identity, MatMul, Mul, Relu, Reshape, Shape, Sigmoid, Slice, Softmax, Squeeze, "
        "Sub, Tanh, Unsqueeze; ai.onnx.ml TreeEnsembleRegressor, TreeEnsembleClassifier)");
  }
  op->set_what(what);
  return op;
}

// ---------------------------------------------------------------------------------------------
// The graph and the Model.

struct Step {
  std::unique_ptr<Op> op;
  std::vector<int> inputs;   // value slots; -1 for an omitted optional input
  std::vector<int> outputs;  // value slots; -1 for an unused optional output
};

class OnnxModel final : public Model {
 public:
  std::string_view backend() const override { return "onnx"; }
  int num_features() const override { return num_features_; }
  int num_outputs() const override { return num_outputs_; }

  Status Predict(const float* features, int64_t rows, float* out) const override {
    if (rows < 0) return InvalidArgumentError("onnx: rows must be >= 0");
    if (rows == 0) return OkStatus();
    Tensor x{ElemType::kFloat, {rows, num_features_},
             std::vector<float>(features, features + rows * num_features_), {}};
    StatusOr<std::vector<Tensor>> outputs = RunGraph(std::move(x));
    if (!outputs.ok()) return InternalError(outputs.status().message());
    // Float outputs side by side: row r of each.
    int64_t col = 0;
    for (const Tensor& t : *outputs) {
      if (t.type != ElemType::kFloat) continue;
      const int64_t width = t.rank() == 1 ? 1 : t.rank() == 2 ? t.shape[1] : -1;
      if (width < 0 || t.shape[0] != rows || col + width > num_outputs_) {
        return InternalError(name_ + ": output of shape " + ShapeText(t.shape) + " for " +
                             std::to_string(rows) + " rows; expected [N] or [N, k] as at load");
      }
      for (int64_t r = 0; r < rows; ++r) {
        std::copy_n(t.f.data() + r * width, width, out + r * num_outputs_ + col);
      }
      col += width;
    }
    return OkStatus();
  }

  // Learns the output widths by running one zero row.
  Status Probe() {
    Tensor zero{ElemType::kFloat, {1, num_features_}, std::vector<float>(num_features_, 0.0f), {}};
    ASSIGN_OR_RETURN(std::vector<Tensor> outputs, RunGraph(std::move(zero)));
    int64_t width = 0;
    for (const Tensor& t : outputs) {
      if (t.type != ElemType::kFloat) continue;
      if (t.rank() < 1 || t.rank() > 2 || t.shape[0] != 1) {
        return InvalidArgumentError(name_ + ": graph output of shape " + ShapeText(t.shape) +
                                    " for one row; outputs must be [N] or [N, k]");
      }
      width += t.rank() == 1 ? 1 : t.shape[1];
    }
    if (width == 0) return InvalidArgumentError(name_ + ": the graph has no float output");
    if (width > (1 << 20)) return InvalidArgumentError(name_ + ": the graph's outputs are too wide");
    num_outputs_ = static_cast<int>(width);
    return OkStatus();
  }

  // Runs every step on `input`; the graph outputs, in order. All intermediate values of one run
  // together may hold at most kMaxTensorElements × 4 values.
  StatusOr<std::vector<Tensor>> RunGraph(Tensor input) const {
    std::vector<Tensor> owned(num_slots_);
    std::vector<const Tensor*> value(num_slots_, nullptr);
    for (const auto& [slot, tensor] : constants_) value[slot] = &tensor;
    owned[input_slot_] = std::move(input);
    value[input_slot_] = &owned[input_slot_];
    int64_t held = owned[input_slot_].size();
    Inputs in;
    std::vector<Tensor> results;
    for (const Step& step : steps_) {
      in.clear();
      for (int s : step.inputs) {
        if (s >= 0 && value[s] == nullptr) {
          return InvalidArgumentError(step.op->what() + ": an input was never computed");
        }
        in.push_back(s < 0 ? nullptr : value[s]);
      }
      results.clear();
      RETURN_IF_ERROR(step.op->Run(in, &results));
      if (results.size() < step.outputs.size()) {
        return InvalidArgumentError(step.op->what() + ": makes " + std::to_string(results.size()) +
                                    " outputs, the graph uses " +
                                    std::to_string(step.outputs.size()));
      }
      for (size_t k = 0; k < step.outputs.size(); ++k) {
        const int s = step.outputs[k];
        if (s < 0) continue;
        held += results[k].size();
        owned[s] = std::move(results[k]);
        value[s] = &owned[s];
      }
      if (held > 4 * kMaxTensorElements) {
        return ResourceExhaustedError(step.op->what() + ": the graph's values exceed " +
                                      std::to_string(4 * kMaxTensorElements) + " in one run");
      }
    }
    std::vector<Tensor> outputs;
    for (const int s : output_slots_) {
      if (value[s] == nullptr) return InvalidArgumentError(name_ + ": a graph output was never computed");
      outputs.push_back(*value[s]);  // a copy: one value may be listed as two outputs
    }
    return outputs;
  }

  std::string name_;
  int num_features_ = 0;
  int num_outputs_ = 0;
  int num_slots_ = 0;
  int input_slot_ = 0;
  std::vector<std::pair<int, Tensor>> constants_;  // initializers
  std::vector<Step> steps_;
  std::vector<int> output_slots_;
};

StatusOr<std::unique_ptr<Model>> Build(const onnx::ModelProto& proto, const std::string& name,
                                       const LoadOptions& options) {
  int64_t opset = 0, ml_opset = 0;
  for (const onnx::OperatorSetIdProto& o : proto.opset_import()) {
    if (o.domain().empty() || o.domain() == "ai.onnx") {
      opset = o.version();
    } else if (o.domain() == "ai.onnx.ml") {
      ml_opset = o.version();
    } else {
      return UnimplementedError(name + ": operator set '" + o.domain() + "' is not supported");
    }
  }
  if (opset != 0 && (opset < 7 || opset > 21)) {
    return UnimplementedError(name + ": opset " + std::to_string(opset) +
                              " is not supported (7 to 21 are)");
  }
  if (!proto.has_graph()) return InvalidArgumentError(name + ": no graph");
  const onnx::GraphProto& g = proto.graph();

  auto model = std::make_unique<OnnxModel>();
  model->name_ = name;
  std::map<std::string, int> slots;
  auto new_slot = [&](const std::string& value_name) { return slots[value_name] = model->num_slots_++; };

  std::set<std::string> initializer_names;
  for (const onnx::TensorProto& t : g.initializer()) {
    if (!initializer_names.insert(t.name()).second) {
      return InvalidArgumentError(name + ": initializer '" + t.name() + "' appears twice");
    }
    ASSIGN_OR_RETURN(Tensor tensor, FromProto(t, name + ": initializer '" + t.name() + "'"));
    model->constants_.emplace_back(new_slot(t.name()), std::move(tensor));
  }
  // The one real input: graph inputs that are not initializers (older exporters list both).
  const onnx::ValueInfoProto* input = nullptr;
  for (const onnx::ValueInfoProto& v : g.input()) {
    if (initializer_names.count(v.name())) continue;
    if (input != nullptr) {
      return InvalidArgumentError(name + ": the graph has more than one input ('" +
                                  input->name() + "', '" + v.name() +
                                  "'); the onnx backend takes one float input [N, F]");
    }
    input = &v;
  }
  if (input == nullptr) return InvalidArgumentError(name + ": the graph has no input");
  const auto& type = input->type();
  if (!type.has_tensor_type() || type.tensor_type().elem_type() != onnx::TensorProto::FLOAT) {
    return InvalidArgumentError(name + ": input '" + input->name() + "' must be a float tensor");
  }
  const auto& shape = type.tensor_type().shape();
  if (shape.dim_size() != 2 || !shape.dim(1).has_dim_value() || shape.dim(1).dim_value() < 1 ||
      shape.dim(1).dim_value() > (1 << 20)) {
    return InvalidArgumentError(name + ": input '" + input->name() +
                                "' must have shape [N, F] with F stated");
  }
  model->num_features_ = static_cast<int>(shape.dim(1).dim_value());
  if (options.num_features > 0 && options.num_features != model->num_features_) {
    return InvalidArgumentError(name + ": takes " + std::to_string(model->num_features_) +
                                " features, " + std::to_string(options.num_features) +
                                " expected");
  }
  model->input_slot_ = new_slot(input->name());

  for (int k = 0; k < g.node_size(); ++k) {
    const onnx::NodeProto& node = g.node(k);
    const std::string what = name + ": node " + std::to_string(k) +
                             (node.name().empty() ? "" : " '" + node.name() + "'") + " (" +
                             node.op_type() + ")";
    Step step;
    for (const std::string& in : node.input()) {
      if (in.empty()) {
        step.inputs.push_back(-1);
        continue;
      }
      auto it = slots.find(in);
      if (it == slots.end()) {
        return InvalidArgumentError(what + ": input '" + in +
                                    "' is not defined before it (nodes must be in topological "
                                    "order)");
      }
      step.inputs.push_back(it->second);
    }
    for (const std::string& o : node.output()) {
      if (o.empty()) {
        step.outputs.push_back(-1);
        continue;
      }
      if (slots.count(o)) return InvalidArgumentError(what + ": output '" + o + "' defined twice");
      step.outputs.push_back(new_slot(o));
    }
    ASSIGN_OR_RETURN(step.op, MakeOp(node, opset == 0 ? 13 : opset, ml_opset, what));
    model->steps_.push_back(std::move(step));
  }
  // Transpose the constant B of each transB Gemm once, here (see GemmOp).
  for (Step& step : model->steps_) {
    auto* gemm = dynamic_cast<GemmOp*>(step.op.get());
    if (gemm == nullptr || !gemm->transposes_b() || step.inputs.size() < 2) continue;
    const Tensor* b = nullptr;
    for (const auto& [slot, tensor] : model->constants_) {
      if (slot == step.inputs[1]) b = &tensor;
    }
    if (b == nullptr || b->type != ElemType::kFloat || b->rank() != 2) continue;
    Tensor t = *b;
    const int64_t rows = b->shape[0], cols = b->shape[1];
    t.shape = {cols, rows};
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) t.f[c * rows + r] = b->f[r * cols + c];
    }
    const int slot = model->num_slots_++;
    model->constants_.emplace_back(slot, std::move(t));
    step.inputs[1] = slot;
    gemm->set_b_pretransposed();
  }
  for (const onnx::ValueInfoProto& o : g.output()) {
    auto it = slots.find(o.name());
    if (it == slots.end()) {
      return InvalidArgumentError(name + ": graph output '" + o.name() + "' is never computed");
    }
    model->output_slots_.push_back(it->second);
  }
  if (model->output_slots_.empty()) return InvalidArgumentError(name + ": the graph has no output");
  if (Status probed = model->Probe(); !probed.ok()) {
    return Status(probed.code(), probed.message() + " (running one zero row at load)");
  }
  if (options.num_outputs > 0 && options.num_outputs != model->num_outputs_) {
    return InvalidArgumentError(name + ": makes " + std::to_string(model->num_outputs_) +
                                " outputs, " + std::to_string(options.num_outputs) + " expected");
  }
  return std::unique_ptr<Model>(std::move(model));
}

}  // namespace

StatusOr<std::unique_ptr<Model>> LoadOnnxModelFromBytes(const std::string& bytes,
                                                        const std::string& name,
                                                        const LoadOptions& options) {
  onnx::ModelProto proto;
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      !proto.ParseFromString(bytes)) {
    return InvalidArgumentError(name + ": not an ONNX model (the protobuf does not parse)");
  }
  return Build(proto, name, options);
}

StatusOr<std::unique_ptr<Model>> LoadOnnxModel(const std::string& artifact_path,
                                               const LoadOptions& options) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(artifact_path));
  return LoadOnnxModelFromBytes(bytes, artifact_path, options);
}

}  // namespace bimride::models::onnx_backend
