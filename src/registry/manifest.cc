#include "registry/manifest.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "common/file.h"
#include "registry/sha256.h"

namespace bimride::registry {
namespace {

using nlohmann::json;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

using ojson = nlohmann::ordered_json;

ojson DoubleOrNull(double v) { return std::isfinite(v) ? ojson(v) : ojson(nullptr); }

std::string JsonTypeName(const json& j) { return j.type_name(); }

// Strict reader of one JSON object: every key must be read or it is reported as unknown.
class ObjectReader {
 public:
  ObjectReader(const json& obj, std::string path) : obj_(obj), path_(std::move(path)) {}

  std::string Field(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }

  // Returns the value of `key` or nullptr when absent (error when required).
  StatusOr<const json*> Get(std::string_view key, bool required) {
    seen_.insert(std::string(key));
    auto it = obj_.find(std::string(key));
    if (it == obj_.end()) {
      if (required) return InvalidArgumentError(Field(key) + ": missing required field");
      return static_cast<const json*>(nullptr);
    }
    return &*it;
  }

  Status String(std::string_view key, std::string* out, bool required) {
    ASSIGN_OR_RETURN(const json* v, Get(key, required));
    if (v == nullptr) return OkStatus();
    if (!v->is_string()) {
      return InvalidArgumentError(Field(key) + ": expected a string, got " + JsonTypeName(*v));
    }
    *out = v->get<std::string>();
    return OkStatus();
  }

  Status Int(std::string_view key, int64_t* out, bool required) {
    ASSIGN_OR_RETURN(const json* v, Get(key, required));
    if (v == nullptr) return OkStatus();
    return ReadInt(*v, Field(key), out);
  }

  Status Double(std::string_view key, double* out, bool required, bool allow_null) {
    ASSIGN_OR_RETURN(const json* v, Get(key, required));
    if (v == nullptr) return OkStatus();
    return ReadDouble(*v, Field(key), out, allow_null);
  }

  Status StringList(std::string_view key, std::vector<std::string>* out, bool required) {
    ASSIGN_OR_RETURN(const json* v, Get(key, required));
    if (v == nullptr) return OkStatus();
    if (!v->is_array()) {
      return InvalidArgumentError(Field(key) + ": expected an array, got " + JsonTypeName(*v));
    }
    out->clear();
    for (size_t i = 0; i < v->size(); ++i) {
      const json& e = (*v)[i];
      if (!e.is_string()) {
        return InvalidArgumentError(Field(key) + "[" + std::to_string(i) +
                                    "]: expected a string, got " + JsonTypeName(e));
      }
      out->push_back(e.get<std::string>());
    }
    return OkStatus();
  }

  // InvalidArgument naming the first key that was never asked for.
  Status CheckNoUnknownKeys() const {
    for (auto it = obj_.begin(); it != obj_.end(); ++it) {
      if (!seen_.count(it.key())) return InvalidArgumentError(Field(it.key()) + ": unknown field");
    }
    return OkStatus();
  }

  static Status ReadInt(const json& v, const std::string& field, int64_t* out) {
    if (!v.is_number_integer()) {
      return InvalidArgumentError(field + ": expected an integer, got " +
                                  (v.is_number() ? std::string("a fractional number")
                                                 : JsonTypeName(v)));
    }
    if (v.is_number_unsigned() &&
        v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return InvalidArgumentError(field + ": integer out of range");
    }
    *out = v.get<int64_t>();
    return OkStatus();
  }

  static Status ReadDouble(const json& v, const std::string& field, double* out, bool allow_null) {
    if (v.is_null() && allow_null) {
      *out = kNaN;
      return OkStatus();
    }
    if (!v.is_number()) {
      return InvalidArgumentError(field + ": expected a number, got " + JsonTypeName(v));
    }
    *out = v.get<double>();
    return OkStatus();
  }

 private:
  const json& obj_;
  std::string path_;
  std::set<std::string> seen_;
};

Status ExpectObject(const json& v, const std::string& field) {
  if (!v.is_object()) {
    return InvalidArgumentError(field + ": expected an object, got " + JsonTypeName(v));
  }
  return OkStatus();
}

Status ExpectArray(const json& v, const std::string& field) {
  if (!v.is_array()) {
    return InvalidArgumentError(field + ": expected an array, got " + JsonTypeName(v));
  }
  return OkStatus();
}

StatusOr<TensorSpec> ParseTensorSpec(const json& v, const std::string& field) {
  RETURN_IF_ERROR(ExpectObject(v, field));
  ObjectReader r(v, field);
  TensorSpec t;
  RETURN_IF_ERROR(r.String("name", &t.name, true));
  std::string dtype;
  RETURN_IF_ERROR(r.String("dtype", &dtype, true));
  auto parsed = ParseDType(dtype);
  if (!parsed.ok()) return parsed.status().WithContext(r.Field("dtype"));
  t.dtype = *parsed;
  ASSIGN_OR_RETURN(const json* shape, r.Get("shape", true));
  RETURN_IF_ERROR(ExpectArray(*shape, r.Field("shape")));
  for (size_t i = 0; i < shape->size(); ++i) {
    int64_t d = 0;
    RETURN_IF_ERROR(
        ObjectReader::ReadInt((*shape)[i], r.Field("shape") + "[" + std::to_string(i) + "]", &d));
    t.shape.push_back(d);
  }
  RETURN_IF_ERROR(r.CheckNoUnknownKeys());
  return t;
}

StatusOr<std::vector<TensorSpec>> ParseTensorList(ObjectReader& r, std::string_view key) {
  ASSIGN_OR_RETURN(const json* v, r.Get(key, true));
  RETURN_IF_ERROR(ExpectArray(*v, r.Field(key)));
  std::vector<TensorSpec> out;
  for (size_t i = 0; i < v->size(); ++i) {
    ASSIGN_OR_RETURN(TensorSpec t,
                     ParseTensorSpec((*v)[i], r.Field(key) + "[" + std::to_string(i) + "]"));
    out.push_back(std::move(t));
  }
  return out;
}

Status ParseDoubleArray(const json& v, const std::string& field, std::vector<double>* out,
                        bool allow_null) {
  RETURN_IF_ERROR(ExpectArray(v, field));
  out->clear();
  for (size_t i = 0; i < v.size(); ++i) {
    double d = 0;
    RETURN_IF_ERROR(
        ObjectReader::ReadDouble(v[i], field + "[" + std::to_string(i) + "]", &d, allow_null));
    out->push_back(d);
  }
  return OkStatus();
}

StatusOr<FeatureStats> ParseFeatureStats(const json& v, const std::string& field) {
  RETURN_IF_ERROR(ExpectObject(v, field));
  ObjectReader r(v, field);
  FeatureStats s;
  RETURN_IF_ERROR(r.Int("count", &s.count, true));
  RETURN_IF_ERROR(r.Int("null_count", &s.null_count, true));
  RETURN_IF_ERROR(r.Double("mean", &s.mean, true, true));
  RETURN_IF_ERROR(r.Double("std", &s.std, true, true));
  RETURN_IF_ERROR(r.Double("min", &s.min, true, true));
  RETURN_IF_ERROR(r.Double("max", &s.max, true, true));
  ASSIGN_OR_RETURN(const json* probs, r.Get("quantile_probs", true));
  RETURN_IF_ERROR(ParseDoubleArray(*probs, r.Field("quantile_probs"), &s.quantile_probs, false));
  ASSIGN_OR_RETURN(const json* qs, r.Get("quantiles", true));
  RETURN_IF_ERROR(ParseDoubleArray(*qs, r.Field("quantiles"), &s.quantiles, true));
  ASSIGN_OR_RETURN(const json* hist, r.Get("histogram", true));
  std::string hfield = r.Field("histogram");
  RETURN_IF_ERROR(ExpectObject(*hist, hfield));
  ObjectReader hr(*hist, hfield);
  ASSIGN_OR_RETURN(const json* edges, hr.Get("bin_edges", true));
  RETURN_IF_ERROR(ParseDoubleArray(*edges, hr.Field("bin_edges"), &s.histogram.bin_edges, false));
  ASSIGN_OR_RETURN(const json* counts, hr.Get("counts", true));
  RETURN_IF_ERROR(ExpectArray(*counts, hr.Field("counts")));
  for (size_t i = 0; i < counts->size(); ++i) {
    int64_t c = 0;
    RETURN_IF_ERROR(ObjectReader::ReadInt((*counts)[i],
                                          hr.Field("counts") + "[" + std::to_string(i) + "]", &c));
    s.histogram.counts.push_back(c);
  }
  RETURN_IF_ERROR(hr.CheckNoUnknownKeys());
  RETURN_IF_ERROR(r.CheckNoUnknownKeys());
  return s;
}

StatusOr<CategoryStats> ParseCategoryStats(const json& v, const std::string& field) {
  RETURN_IF_ERROR(ExpectObject(v, field));
  ObjectReader r(v, field);
  CategoryStats s;
  RETURN_IF_ERROR(r.Int("count", &s.count, true));
  RETURN_IF_ERROR(r.Int("null_count", &s.null_count, true));
  RETURN_IF_ERROR(r.Int("other_count", &s.other_count, true));
  for (auto [key, out] : {std::pair{"categories", &s.categories}, std::pair{"counts", &s.counts}}) {
    ASSIGN_OR_RETURN(const json* list, r.Get(key, true));
    RETURN_IF_ERROR(ExpectArray(*list, r.Field(key)));
    for (size_t i = 0; i < list->size(); ++i) {
      int64_t x = 0;
      RETURN_IF_ERROR(
          ObjectReader::ReadInt((*list)[i], r.Field(key) + "[" + std::to_string(i) + "]", &x));
      out->push_back(x);
    }
  }
  RETURN_IF_ERROR(r.CheckNoUnknownKeys());
  return s;
}

Status ValidateCategoryStats(const CategoryStats& s, const std::string& field) {
  if (s.count < 0 || s.null_count < 0 || s.other_count < 0) {
    return InvalidArgumentError(field + ": count, null_count and other_count must be >= 0");
  }
  if (s.categories.size() != s.counts.size()) {
    return InvalidArgumentError(field + ": " + std::to_string(s.categories.size()) +
                                " categories but " + std::to_string(s.counts.size()) + " counts");
  }
  if (s.categories.size() > static_cast<size_t>(kMaxCategoriesLimit)) {
    return InvalidArgumentError(field + ": " + std::to_string(s.categories.size()) +
                                " categories; at most " + std::to_string(kMaxCategoriesLimit));
  }
  std::set<int64_t> seen;
  int64_t total = s.other_count;
  for (size_t i = 0; i < s.categories.size(); ++i) {
    if (!seen.insert(s.categories[i]).second) {
      return InvalidArgumentError(field + ".categories[" + std::to_string(i) + "]: category " +
                                  std::to_string(s.categories[i]) + " is listed twice");
    }
    if (s.counts[i] < 1) {
      return InvalidArgumentError(field + ".counts[" + std::to_string(i) + "]: must be >= 1");
    }
    total += s.counts[i];
  }
  if (total != s.count) {
    return InvalidArgumentError(field + ": counts + other_count = " + std::to_string(total) +
                                ", but count = " + std::to_string(s.count));
  }
  return OkStatus();
}

Status ValidateFeatureStats(const FeatureStats& s, const std::string& field) {
  if (s.count < 0 || s.null_count < 0) {
    return InvalidArgumentError(field + ": count and null_count must be >= 0");
  }
  if (s.quantile_probs.size() != s.quantiles.size()) {
    return InvalidArgumentError(field + ": quantile_probs has " +
                                std::to_string(s.quantile_probs.size()) + " entries but quantiles " +
                                std::to_string(s.quantiles.size()));
  }
  for (size_t i = 0; i < s.quantile_probs.size(); ++i) {
    double p = s.quantile_probs[i];
    if (!(p >= 0 && p <= 1) || (i > 0 && !(p > s.quantile_probs[i - 1]))) {
      return InvalidArgumentError(field + ".quantile_probs[" + std::to_string(i) +
                                  "]: must be in [0, 1] and increasing");
    }
  }
  const Histogram& h = s.histogram;
  if (h.counts.empty() ? !h.bin_edges.empty() : h.bin_edges.size() != h.counts.size() + 1) {
    return InvalidArgumentError(field + ".histogram: " + std::to_string(h.bin_edges.size()) +
                                " bin_edges for " + std::to_string(h.counts.size()) +
                                " counts (need counts + 1)");
  }
  for (size_t i = 1; i < h.bin_edges.size(); ++i) {
    if (!(h.bin_edges[i] >= h.bin_edges[i - 1])) {
      return InvalidArgumentError(field + ".histogram.bin_edges[" + std::to_string(i) +
                                  "]: edges must be ascending");
    }
  }
  int64_t total = 0;
  for (size_t i = 0; i < h.counts.size(); ++i) {
    if (h.counts[i] < 0) {
      return InvalidArgumentError(field + ".histogram.counts[" + std::to_string(i) +
                                  "]: must be >= 0");
    }
    total += h.counts[i];
  }
  if (!h.counts.empty() && total != s.count) {
    return InvalidArgumentError(field + ".histogram: counts sum to " + std::to_string(total) +
                                " but count is " + std::to_string(s.count));
  }
  return OkStatus();
}

bool IsSafeRelativeFileName(std::string_view name) {
  if (name.empty() || name.front() == '/' || name == kManifestFileName) return false;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view part = name.substr(start, end - start);
    if (part.empty() || part == "." || part == ".." || part.front() == '.') return false;
    start = end + 1;
  }
  return name.find('\0') == std::string_view::npos;
}

Status ValidateTensors(const std::vector<TensorSpec>& tensors, const std::string& field) {
  std::set<std::string> names;
  for (size_t i = 0; i < tensors.size(); ++i) {
    std::string f = field + "[" + std::to_string(i) + "]";
    const TensorSpec& t = tensors[i];
    if (t.name.empty()) return InvalidArgumentError(f + ".name: must not be empty");
    if (!names.insert(t.name).second) {
      return InvalidArgumentError(f + ".name: duplicate tensor name '" + t.name + "'");
    }
    for (size_t d = 0; d < t.shape.size(); ++d) {
      if (t.shape[d] < -1 || t.shape[d] == 0) {
        return InvalidArgumentError(f + ".shape[" + std::to_string(d) +
                                    "]: must be -1 (free) or >= 1, got " +
                                    std::to_string(t.shape[d]));
      }
    }
  }
  return OkStatus();
}

ojson TensorsToJson(const std::vector<TensorSpec>& tensors) {
  ojson arr = ojson::array();
  for (const TensorSpec& t : tensors) {
    ojson o = ojson::object();
    o["name"] = t.name;
    o["dtype"] = std::string(DTypeName(t.dtype));
    o["shape"] = t.shape;
    arr.push_back(std::move(o));
  }
  return arr;
}

}  // namespace

bool IsKnownBackend(std::string_view backend) {
  return std::find(std::begin(kKnownBackends), std::end(kKnownBackends), backend) !=
         std::end(kKnownBackends);
}

std::string_view DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return "float32";
    case DType::kFloat64: return "float64";
    case DType::kInt32: return "int32";
    case DType::kInt64: return "int64";
    case DType::kBool: return "bool";
    case DType::kString: return "string";
  }
  return "unknown";
}

StatusOr<DType> ParseDType(std::string_view name) {
  for (DType d : {DType::kFloat32, DType::kFloat64, DType::kInt32, DType::kInt64, DType::kBool,
                  DType::kString}) {
    if (DTypeName(d) == name) return d;
  }
  return InvalidArgumentError("unknown dtype '" + std::string(name) +
                              "' (known: float32, float64, int32, int64, bool, string)");
}

FeatureStats ComputeFeatureStats(std::span<const float> values, int num_bins) {
  FeatureStats s;
  std::vector<double> v;
  v.reserve(values.size());
  for (float x : values) {
    if (std::isnan(x)) {
      ++s.null_count;
    } else {
      v.push_back(static_cast<double>(x));
    }
  }
  s.count = static_cast<int64_t>(v.size());
  s.quantile_probs.assign(std::begin(kStatsQuantileProbs), std::end(kStatsQuantileProbs));
  if (v.empty()) {
    s.mean = s.std = s.min = s.max = kNaN;
    s.quantiles.assign(s.quantile_probs.size(), kNaN);
    return s;
  }
  std::sort(v.begin(), v.end());
  s.min = v.front();
  s.max = v.back();
  // Welford for a numerically stable mean and variance.
  double mean = 0, m2 = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    double delta = v[i] - mean;
    mean += delta / static_cast<double>(i + 1);
    m2 += delta * (v[i] - mean);
  }
  s.mean = mean;
  s.std = std::sqrt(m2 / static_cast<double>(v.size()));
  for (double p : s.quantile_probs) {
    double pos = p * static_cast<double>(v.size() - 1);
    size_t lo = static_cast<size_t>(std::floor(pos));
    size_t hi = std::min(lo + 1, v.size() - 1);
    double frac = pos - static_cast<double>(lo);
    s.quantiles.push_back(v[lo] + (v[hi] - v[lo]) * frac);
  }
  if (num_bins < 1) num_bins = 1;
  if (s.min == s.max || std::isinf(s.min) || std::isinf(s.max)) num_bins = 1;
  s.histogram.counts.assign(static_cast<size_t>(num_bins), 0);
  double width = (s.max - s.min) / num_bins;
  for (int i = 0; i <= num_bins; ++i) {
    s.histogram.bin_edges.push_back(i == num_bins ? s.max : s.min + width * i);
  }
  for (double x : v) {
    int bin = num_bins == 1 ? 0 : static_cast<int>((x - s.min) / width);
    bin = std::clamp(bin, 0, num_bins - 1);
    ++s.histogram.counts[static_cast<size_t>(bin)];
  }
  return s;
}

StatusOr<CategoryStats> ComputeCategoryStats(std::span<const float> values,
                                             std::string_view feature, int max_categories,
                                             double min_share) {
  const std::string name(feature);
  if (max_categories < 1 || max_categories > kMaxCategoriesLimit) {
    return InvalidArgumentError("category stats of '" + name + "': max_categories must be in [1, " +
                                std::to_string(kMaxCategoriesLimit) + "], got " +
                                std::to_string(max_categories));
  }
  CategoryStats s;
  std::map<int64_t, int64_t> counts;
  for (size_t i = 0; i < values.size(); ++i) {
    const float x = values[i];
    if (std::isnan(x)) {
      ++s.null_count;
      continue;
    }
    if (!(std::fabs(x) < 9.0e15f) || std::trunc(x) != x) {
      return InvalidArgumentError("category stats of '" + name + "': row " + std::to_string(i) +
                                  ": value " + std::to_string(x) +
                                  " is not an integer category code");
    }
    ++counts[static_cast<int64_t>(x)];
    ++s.count;
  }
  std::vector<std::pair<int64_t, int64_t>> by_count(counts.begin(), counts.end());
  std::stable_sort(by_count.begin(), by_count.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  const double min_count = min_share * static_cast<double>(s.count);
  for (const auto& [code, n] : by_count) {
    if (static_cast<int>(s.categories.size()) < max_categories &&
        static_cast<double>(n) >= min_count) {
      s.categories.push_back(code);
      s.counts.push_back(n);
    } else {
      s.other_count += n;
    }
  }
  return s;
}

const FileDigest* Manifest::FindFile(std::string_view file) const {
  for (const FileDigest& f : files) {
    if (f.name == file) return &f;
  }
  return nullptr;
}

bool IsValidModelName(std::string_view name) {
  if (name.empty() || name.size() > 128 || name.front() == '.' || name.front() == '-') {
    return false;
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Status ValidateManifest(const Manifest& m, bool require_version) {
  if (m.format_version != kManifestFormatVersion) {
    return InvalidArgumentError("format_version: unsupported version " +
                                std::to_string(m.format_version) + " (this build reads " +
                                std::to_string(kManifestFormatVersion) + ")");
  }
  if (!IsValidModelName(m.name)) {
    return InvalidArgumentError("name: '" + m.name +
                                "' is not a valid model name (1-128 of [A-Za-z0-9_.-], not "
                                "starting with '.' or '-')");
  }
  if (require_version ? m.version < 1 : m.version < 0) {
    return InvalidArgumentError("version: must be >= 1, got " + std::to_string(m.version));
  }
  if (m.task.empty()) return InvalidArgumentError("task: must not be empty");
  if (!IsKnownBackend(m.backend)) {
    std::string known;
    for (std::string_view b : kKnownBackends) known += (known.empty() ? "" : ", ") + std::string(b);
    return InvalidArgumentError("backend: unknown backend '" + m.backend + "' (known: " + known +
                                ")");
  }
  if (m.artifacts.empty()) return InvalidArgumentError("artifacts: must name at least one file");
  std::set<std::string> artifact_names;
  for (size_t i = 0; i < m.artifacts.size(); ++i) {
    if (!IsSafeRelativeFileName(m.artifacts[i])) {
      return InvalidArgumentError("artifacts[" + std::to_string(i) + "]: '" + m.artifacts[i] +
                                  "' is not a plain relative file name");
    }
    if (!artifact_names.insert(m.artifacts[i]).second) {
      return InvalidArgumentError("artifacts[" + std::to_string(i) + "]: duplicate '" +
                                  m.artifacts[i] + "'");
    }
  }
  RETURN_IF_ERROR(ValidateTensors(m.inputs, "inputs"));
  RETURN_IF_ERROR(ValidateTensors(m.outputs, "outputs"));
  if (m.feature_spec) {
    if (m.feature_spec->name.empty()) {
      return InvalidArgumentError("feature_spec.name: must not be empty");
    }
    if (m.feature_spec->version < 1) {
      return InvalidArgumentError("feature_spec.version: must be >= 1, got " +
                                  std::to_string(m.feature_spec->version));
    }
  }
  for (const auto& [key, value] : m.metrics) {
    if (key.empty()) return InvalidArgumentError("metrics: empty metric name");
    if (!std::isfinite(value)) {
      return InvalidArgumentError("metrics." + key + ": must be a finite number");
    }
  }
  for (const auto& [feature, stats] : m.feature_stats) {
    RETURN_IF_ERROR(ValidateFeatureStats(stats, "feature_stats." + feature));
  }
  for (const auto& [feature, stats] : m.category_stats) {
    RETURN_IF_ERROR(ValidateCategoryStats(stats, "category_stats." + feature));
  }
  std::set<std::string> file_names;
  for (size_t i = 0; i < m.files.size(); ++i) {
    const FileDigest& f = m.files[i];
    std::string field = "files[" + std::to_string(i) + "]";
    if (!IsSafeRelativeFileName(f.name)) {
      return InvalidArgumentError(field + ".name: '" + f.name +
                                  "' is not a plain relative file name");
    }
    if (!file_names.insert(f.name).second) {
      return InvalidArgumentError(field + ".name: duplicate '" + f.name + "'");
    }
    if (!IsSha256Hex(f.sha256)) {
      return InvalidArgumentError(field + ".sha256: '" + f.sha256 +
                                  "' is not 64 lower-case hex characters");
    }
    if (f.size_bytes < 0) return InvalidArgumentError(field + ".size_bytes: must be >= 0");
  }
  if (require_version) {
    for (const std::string& a : m.artifacts) {
      if (!file_names.count(a)) {
        return InvalidArgumentError("files: no sha256 for artifact '" + a + "'");
      }
    }
  }
  return OkStatus();
}

std::string ManifestToJson(const Manifest& m) {
  // ordered_json keeps keys in the order written, so the file reads top-down.
  nlohmann::ordered_json o;
  o["format_version"] = m.format_version;
  o["name"] = m.name;
  o["version"] = m.version;
  o["task"] = m.task;
  o["backend"] = m.backend;
  o["artifacts"] = m.artifacts;
  o["inputs"] = TensorsToJson(m.inputs);
  o["outputs"] = TensorsToJson(m.outputs);
  if (m.feature_spec) {
    nlohmann::ordered_json fs;
    fs["name"] = m.feature_spec->name;
    fs["version"] = m.feature_spec->version;
    fs["request_fields"] = m.feature_spec->request_fields;
    o["feature_spec"] = fs;
  }
  o["run_id"] = m.run_id;
  o["metrics"] = nlohmann::ordered_json::object();
  for (const auto& [k, v] : m.metrics) o["metrics"][k] = DoubleOrNull(v);
  o["feature_stats"] = nlohmann::ordered_json::object();
  for (const auto& [k, s] : m.feature_stats) {
    nlohmann::ordered_json fs;
    fs["count"] = s.count;
    fs["null_count"] = s.null_count;
    fs["mean"] = DoubleOrNull(s.mean);
    fs["std"] = DoubleOrNull(s.std);
    fs["min"] = DoubleOrNull(s.min);
    fs["max"] = DoubleOrNull(s.max);
    fs["quantile_probs"] = s.quantile_probs;
    ojson qs = ojson::array();
    for (double q : s.quantiles) qs.push_back(DoubleOrNull(q));
    fs["quantiles"] = qs;
    nlohmann::ordered_json h;
    h["bin_edges"] = s.histogram.bin_edges;
    h["counts"] = s.histogram.counts;
    fs["histogram"] = h;
    o["feature_stats"][k] = fs;
  }
  if (!m.category_stats.empty()) {  // absent rather than empty: older readers are strict
    o["category_stats"] = nlohmann::ordered_json::object();
    for (const auto& [k, s] : m.category_stats) {
      nlohmann::ordered_json cs;
      cs["count"] = s.count;
      cs["null_count"] = s.null_count;
      cs["categories"] = s.categories;
      cs["counts"] = s.counts;
      cs["other_count"] = s.other_count;
      o["category_stats"][k] = cs;
    }
  }
  o["created_at"] = m.created_at;
  nlohmann::ordered_json files = nlohmann::ordered_json::array();
  for (const FileDigest& f : m.files) {
    nlohmann::ordered_json fo;
    fo["name"] = f.name;
    fo["size_bytes"] = f.size_bytes;
    fo["sha256"] = f.sha256;
    files.push_back(fo);
  }
  o["files"] = files;
  o["properties"] = nlohmann::ordered_json::object();
  for (const auto& [k, v] : m.properties) o["properties"][k] = v;
  return o.dump(2) + "\n";
}

StatusOr<Manifest> ManifestFromJson(std::string_view text, std::string_view source,
                                    bool require_version) {
  std::string src(source);
  json j;
  try {
    j = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    return InvalidArgumentError(src + ": malformed JSON at byte " + std::to_string(e.byte) +
                                ": " + e.what());
  }
  auto parse = [&]() -> StatusOr<Manifest> {
    RETURN_IF_ERROR(ExpectObject(j, "manifest"));
    ObjectReader r(j, "");
    Manifest m;
    int64_t format_version = 0;
    RETURN_IF_ERROR(r.Int("format_version", &format_version, true));
    if (format_version != kManifestFormatVersion) {
      return InvalidArgumentError("format_version: unsupported version " +
                                  std::to_string(format_version) + " (this build reads " +
                                  std::to_string(kManifestFormatVersion) + ")");
    }
    RETURN_IF_ERROR(r.String("name", &m.name, true));
    RETURN_IF_ERROR(r.Int("version", &m.version, require_version));
    RETURN_IF_ERROR(r.String("task", &m.task, true));
    RETURN_IF_ERROR(r.String("backend", &m.backend, true));
    RETURN_IF_ERROR(r.StringList("artifacts", &m.artifacts, true));
    ASSIGN_OR_RETURN(m.inputs, ParseTensorList(r, "inputs"));
    ASSIGN_OR_RETURN(m.outputs, ParseTensorList(r, "outputs"));
    ASSIGN_OR_RETURN(const json* fs, r.Get("feature_spec", false));
    if (fs != nullptr && !fs->is_null()) {
      RETURN_IF_ERROR(ExpectObject(*fs, "feature_spec"));
      ObjectReader fr(*fs, "feature_spec");
      FeatureSpecRef ref;
      RETURN_IF_ERROR(fr.String("name", &ref.name, true));
      RETURN_IF_ERROR(fr.Int("version", &ref.version, true));
      RETURN_IF_ERROR(fr.StringList("request_fields", &ref.request_fields, true));
      RETURN_IF_ERROR(fr.CheckNoUnknownKeys());
      m.feature_spec = std::move(ref);
    }
    RETURN_IF_ERROR(r.String("run_id", &m.run_id, false));
    ASSIGN_OR_RETURN(const json* metrics, r.Get("metrics", false));
    if (metrics != nullptr) {
      RETURN_IF_ERROR(ExpectObject(*metrics, "metrics"));
      for (auto it = metrics->begin(); it != metrics->end(); ++it) {
        double v = 0;
        RETURN_IF_ERROR(ObjectReader::ReadDouble(*it, "metrics." + it.key(), &v, false));
        m.metrics[it.key()] = v;
      }
    }
    ASSIGN_OR_RETURN(const json* stats, r.Get("feature_stats", false));
    if (stats != nullptr) {
      RETURN_IF_ERROR(ExpectObject(*stats, "feature_stats"));
      for (auto it = stats->begin(); it != stats->end(); ++it) {
        ASSIGN_OR_RETURN(FeatureStats s, ParseFeatureStats(*it, "feature_stats." + it.key()));
        m.feature_stats[it.key()] = std::move(s);
      }
    }
    ASSIGN_OR_RETURN(const json* cats, r.Get("category_stats", false));
    if (cats != nullptr) {
      RETURN_IF_ERROR(ExpectObject(*cats, "category_stats"));
      for (auto it = cats->begin(); it != cats->end(); ++it) {
        ASSIGN_OR_RETURN(CategoryStats s, ParseCategoryStats(*it, "category_stats." + it.key()));
        m.category_stats[it.key()] = std::move(s);
      }
    }
    RETURN_IF_ERROR(r.String("created_at", &m.created_at, require_version));
    ASSIGN_OR_RETURN(const json* files, r.Get("files", require_version));
    if (files != nullptr) {
      RETURN_IF_ERROR(ExpectArray(*files, "files"));
      for (size_t i = 0; i < files->size(); ++i) {
        std::string field = "files[" + std::to_string(i) + "]";
        RETURN_IF_ERROR(ExpectObject((*files)[i], field));
        ObjectReader fr((*files)[i], field);
        FileDigest d;
        RETURN_IF_ERROR(fr.String("name", &d.name, true));
        RETURN_IF_ERROR(fr.Int("size_bytes", &d.size_bytes, true));
        RETURN_IF_ERROR(fr.String("sha256", &d.sha256, true));
        RETURN_IF_ERROR(fr.CheckNoUnknownKeys());
        m.files.push_back(std::move(d));
      }
    }
    ASSIGN_OR_RETURN(const json* props, r.Get("properties", false));
    if (props != nullptr) {
      RETURN_IF_ERROR(ExpectObject(*props, "properties"));
      for (auto it = props->begin(); it != props->end(); ++it) {
        if (!it->is_string()) {
          return InvalidArgumentError("properties." + it.key() + ": expected a string, got " +
                                      JsonTypeName(*it));
        }
        m.properties[it.key()] = it->get<std::string>();
      }
    }
    RETURN_IF_ERROR(r.CheckNoUnknownKeys());
    RETURN_IF_ERROR(ValidateManifest(m, require_version));
    return m;
  };
  StatusOr<Manifest> m = parse();
  if (!m.ok()) return m.status().WithContext(src);
  return m;
}

StatusOr<Manifest> MergeManifestJson(const Manifest& base, std::string_view patch_json,
                                     std::string_view source) {
  json patch;
  try {
    patch = json::parse(patch_json.begin(), patch_json.end());
  } catch (const json::parse_error& e) {
    return InvalidArgumentError(std::string(source) + ": malformed JSON at byte " +
                                std::to_string(e.byte) + ": " + e.what());
  }
  if (!patch.is_object()) {
    return InvalidArgumentError(std::string(source) + ": expected a JSON object, got " +
                                JsonTypeName(patch));
  }
  json doc = json::parse(ManifestToJson(base));
  doc.merge_patch(patch);
  for (const char* key : {"version", "files", "created_at"}) doc.erase(key);
  return ManifestFromJson(doc.dump(), source, /*require_version=*/false);
}

StatusOr<Manifest> ReadManifest(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ManifestFromJson(text, path);
}

std::vector<std::string> FeatureNames(const Manifest& manifest) {
  std::vector<std::string> names;
  auto it = manifest.properties.find(kFeatureNamesProperty);
  if (it == manifest.properties.end() || it->second.empty()) return names;
  size_t start = 0;
  while (true) {
    size_t comma = it->second.find(',', start);
    names.push_back(it->second.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return names;
}

void SetFeatureNames(Manifest* manifest, const std::vector<std::string>& names) {
  std::string joined;
  for (size_t i = 0; i < names.size(); ++i) joined += (i ? "," : "") + names[i];
  manifest->properties[kFeatureNamesProperty] = joined;
}

std::string NowRfc3339() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace bimride::registry
