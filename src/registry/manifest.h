// Manifest: what a model version is, stored as `manifest.json` beside its artifacts in
// `<repo>/<model>/<version>/` (TF Serving's layout). Everything a server, a monitor or a person
// needs to use and trust the version: signature, feature spec, lineage (run id), metrics,
// training statistics per feature (the baseline drift monitoring compares live traffic with),
// and the sha256 of every artifact file.
//
//   {"format_version": 1, "name": "eta", "version": 3, "task": "eta", "backend": "xgboost",
//    "artifacts": ["model.json"],
//    "inputs":  [{"name": "features", "dtype": "float32", "shape": [-1, 12]}],
//    "outputs": [{"name": "eta_seconds", "dtype": "float32", "shape": [-1, 1]}],
//    "feature_spec": {"name": "eta_booking", "version": 1,
//                     "request_fields": ["pickup_zone", "dropoff_zone", "pickup_time"]},
//    "run_id": "…", "metrics": {"val_mae": 181.2},
//    "feature_stats": {"trip_distance": {"count": …, "null_count": …, "mean": …, "std": …,
//                      "min": …, "max": …, "quantile_probs": [0.01, …], "quantiles": […],
//                      "histogram": {"bin_edges": […], "counts": […]}}},
//    "category_stats": {"pickup_zone": {"count": …, "null_count": …, "categories": [74, 75, …],
//                       "counts": [6120, 5400, …], "other_count": 310}},
//    "created_at": "2026-11-25T10:40:00Z",
//    "files": [{"name": "model.json", "size_bytes": 1234, "sha256": "…"}],
//    "properties": {"description": "…"}}
//
// Parsing is strict: unknown keys, missing required keys, wrong types, unknown backend or
// dtype, version < 1, bad sha256 text, inconsistent histograms are all InvalidArgument errors
// naming the source (file path) and the field (`eta/3/manifest.json: inputs[0].dtype: unknown
// dtype 'float'`). Thread safety: plain values and free functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace bimride::registry {

constexpr int kManifestFormatVersion = 1;
constexpr char kManifestFileName[] = "manifest.json";

// Backends a manifest may name; must match the names models/ registers with
// BIMRIDE_MODEL_BACKEND. Adding a backend = one entry here.
inline constexpr std::string_view kKnownBackends[] = {
    "torchscript", "xgboost", "native_mlp", "native_trees", "baseline", "onnx", "seed_ensemble",
};
bool IsKnownBackend(std::string_view backend);

enum class DType { kFloat32, kFloat64, kInt32, kInt64, kBool, kString };
std::string_view DTypeName(DType dtype);  // "float32", "float64", "int32", "int64", "bool", "string"
StatusOr<DType> ParseDType(std::string_view name);

// One named tensor of a signature. shape uses -1 for a free dimension (the batch).
struct TensorSpec {
  std::string name;
  DType dtype = DType::kFloat32;
  std::vector<int64_t> shape;
  bool operator==(const TensorSpec&) const = default;
};

// The feature spec the model was trained with ("eta_booking@1") and the raw request fields
// the online feature code needs to build its input.
struct FeatureSpecRef {
  std::string name;
  int64_t version = 1;
  std::vector<std::string> request_fields;
  std::string ToString() const { return name + "@" + std::to_string(version); }
  bool operator==(const FeatureSpecRef&) const = default;
};

// Quantile probabilities FeatureStats always reports, in this order.
inline constexpr double kStatsQuantileProbs[] = {0.01, 0.05, 0.1, 0.25, 0.5,
                                                 0.75, 0.9,  0.95, 0.99};
constexpr int kDefaultHistogramBins = 20;

struct Histogram {
  std::vector<double> bin_edges;  // ascending; bin_edges.size() == counts.size() + 1
  std::vector<int64_t> counts;    // bin i = [edge i, edge i+1); the last bin includes its right edge
  bool operator==(const Histogram&) const = default;
};

// Training-set statistics of one feature: the baseline for drift monitoring.
// count excludes nulls (NaN). When count == 0, mean/std/min/max/quantiles are NaN and the
// histogram is empty; NaN is written to JSON as null.
struct FeatureStats {
  int64_t count = 0;
  int64_t null_count = 0;
  double mean = 0;
  double std = 0;  // population standard deviation
  double min = 0;
  double max = 0;
  std::vector<double> quantile_probs;  // kStatsQuantileProbs
  std::vector<double> quantiles;       // same length as quantile_probs
  Histogram histogram;
};

// Computes FeatureStats of a column; NaN values are nulls. Quantiles by linear interpolation
// between order statistics (numpy's default); histogram of `num_bins` equal-width bins over
// [min, max] (one bin when min == max). O(n log n); copies the column once.
FeatureStats ComputeFeatureStats(std::span<const float> values,
                                 int num_bins = kDefaultHistogramBins);

// Training-set frequencies of one categorical feature (integer codes a task declares as
// categories: zones, boroughs): the baseline its drift (chi-square, Jensen–Shannon) is scored
// against, instead of a histogram over the codes as if they were numbers. Bounded: at most
// `max_categories` categories are kept, the most frequent first, each with at least
// `min_share` of the non-null values; the rest are counted in `other_count`, the bucket that
// also takes every value unseen in training (and every non-integer value) at serve time.
// Old manifests have no category_stats: their features are scored as numbers, as before.
struct CategoryStats {
  int64_t count = 0;       // non-null values (NaN is null)
  int64_t null_count = 0;
  std::vector<int64_t> categories;  // the kept codes, by decreasing count (ties: ascending code)
  std::vector<int64_t> counts;      // their counts (same length), each >= 1
  int64_t other_count = 0;          // values of every other code
  bool operator==(const CategoryStats&) const = default;
};
inline constexpr int kDefaultMaxCategories = 256;
inline constexpr double kDefaultMinCategoryShare = 5e-4;
inline constexpr int kMaxCategoriesLimit = 4096;  // what a manifest may hold per feature

// Computes CategoryStats of a column of integer codes. InvalidArgument naming `feature` when a
// value is not an integer (a declared category must be one) or max_categories is not in
// [1, kMaxCategoriesLimit].
StatusOr<CategoryStats> ComputeCategoryStats(std::span<const float> values,
                                             std::string_view feature,
                                             int max_categories = kDefaultMaxCategories,
                                             double min_share = kDefaultMinCategoryShare);

struct FileDigest {
  std::string name;  // relative to the version folder, no "..", no leading "/"
  int64_t size_bytes = 0;
  std::string sha256;
  bool operator==(const FileDigest&) const = default;
};

struct Manifest {
  int format_version = kManifestFormatVersion;
  std::string name;          // model name: [A-Za-z0-9_.-], not starting with '.'
  int64_t version = 0;       // >= 1 once published; Publish() assigns it
  std::string task;          // "eta", "demand", "pricing", "behaviour", …
  std::string backend;       // one of kKnownBackends
  std::vector<std::string> artifacts;  // file names in the version folder; the first is loaded
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
  std::optional<FeatureSpecRef> feature_spec;
  std::string run_id;                          // empty when registered without a tracked run
  std::map<std::string, double> metrics;       // final training/validation metrics
  std::map<std::string, FeatureStats> feature_stats;
  std::map<std::string, CategoryStats> category_stats;  // the task's categorical features
  std::string created_at;                      // RFC 3339 UTC, e.g. "2026-11-25T10:40:00Z"
  std::vector<FileDigest> files;               // every file of the version except manifest.json
  std::map<std::string, std::string> properties;  // free-form (description, owner, …)

  // The digest entry for `file`, or nullptr.
  const FileDigest* FindFile(std::string_view file) const;
};

// True when `name` is a valid model name (also used for labels): 1..128 chars of
// [A-Za-z0-9_.-], not starting with '.' or '-'.
bool IsValidModelName(std::string_view name);

// Checks a manifest's invariants (as parsing does). `require_version`: version must be >= 1
// (false for a manifest about to be published, whose version is assigned then).
Status ValidateManifest(const Manifest& manifest, bool require_version = true);

// Pretty-printed JSON (2-space indent, keys in a fixed order), ending in '\n'.
std::string ManifestToJson(const Manifest& manifest);

// Parses and validates. `source` (usually the file path) prefixes every error message.
StatusOr<Manifest> ManifestFromJson(std::string_view json, std::string_view source,
                                    bool require_version = true);

// Applies `patch_json` (an RFC 7386 JSON merge patch, e.g. {"metrics": {"mae": 3.2},
// "inputs": [...]}) to `base` and parses the result as an unpublished manifest (version, files
// and created_at are dropped: Publish sets them). Errors name `source` and the field.
StatusOr<Manifest> MergeManifestJson(const Manifest& base, std::string_view patch_json,
                                     std::string_view source);

// Reads and parses `path` (errors name the path).
StatusOr<Manifest> ReadManifest(const std::string& path);

// The ordered names of the model's input feature columns, kept as the comma-separated
// property "feature_names" (written at publish by each task; the prediction log and drift
// monitoring name columns with them). Empty when the manifest has none.
inline constexpr char kFeatureNamesProperty[] = "feature_names";
std::vector<std::string> FeatureNames(const Manifest& manifest);
void SetFeatureNames(Manifest* manifest, const std::vector<std::string>& names);

// "2026-11-25T10:40:00Z" for the current time.
std::string NowRfc3339();

}  // namespace bimride::registry
