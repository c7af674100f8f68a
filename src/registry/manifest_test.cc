#include "registry/manifest.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "registry/sha256.h"

namespace bimride::registry {
namespace {

using nlohmann::json;

Manifest SampleManifest() {
  Manifest m;
  m.name = "eta";
  m.version = 3;
  m.task = "eta";
  m.backend = "xgboost";
  m.artifacts = {"model.json"};
  m.inputs = {{"features", DType::kFloat32, {-1, 12}}};
  m.outputs = {{"eta_seconds", DType::kFloat32, {-1, 1}}};
  m.feature_spec = FeatureSpecRef{"eta_booking", 1, {"pickup_zone", "dropoff_zone"}};
  m.run_id = "run-123";
  m.metrics = {{"val_mae", 181.25}, {"val_rmse", 240.5}};
  std::vector<float> col = {1, 2, 3, 4, 5, NAN};
  m.feature_stats["trip_distance"] = ComputeFeatureStats(col, 4);
  m.created_at = "2026-11-25T10:40:00Z";
  m.files = {{"model.json", 17, Sha256Hex("model")}};
  m.properties = {{"description", "test"}};
  return m;
}

std::string SampleJson() { return ManifestToJson(SampleManifest()); }

// Parses SampleJson() with `edit` applied to its JSON; returns the error message ("" if OK).
std::string ErrorAfterEdit(const std::function<void(json&)>& edit) {
  json j = json::parse(SampleJson());
  edit(j);
  auto m = ManifestFromJson(j.dump(), "models/eta/3/manifest.json");
  if (m.ok()) return "";
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
  return m.status().message();
}

TEST(ManifestTest, JsonRoundTripKeepsEveryField) {
  Manifest m = SampleManifest();
  auto parsed = ManifestFromJson(ManifestToJson(m), "x");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->name, m.name);
  EXPECT_EQ(parsed->version, 3);
  EXPECT_EQ(parsed->backend, "xgboost");
  EXPECT_EQ(parsed->inputs, m.inputs);
  EXPECT_EQ(parsed->outputs, m.outputs);
  ASSERT_TRUE(parsed->feature_spec.has_value());
  EXPECT_EQ(*parsed->feature_spec, *m.feature_spec);
  EXPECT_EQ(parsed->feature_spec->ToString(), "eta_booking@1");
  EXPECT_EQ(parsed->metrics, m.metrics);
  EXPECT_EQ(parsed->files, m.files);
  EXPECT_EQ(parsed->properties, m.properties);
  const FeatureStats& a = parsed->feature_stats.at("trip_distance");
  const FeatureStats& b = m.feature_stats.at("trip_distance");
  EXPECT_EQ(a.count, b.count);
  EXPECT_EQ(a.null_count, 1);
  EXPECT_DOUBLE_EQ(a.mean, b.mean);
  EXPECT_EQ(a.quantiles, b.quantiles);
  EXPECT_EQ(a.histogram, b.histogram);
  // And serialising again gives the same bytes.
  EXPECT_EQ(ManifestToJson(*parsed), ManifestToJson(m));
}

TEST(ManifestTest, MalformedJsonNamesTheSource) {
  auto m = ManifestFromJson("{\"name\": \"eta\",", "models/eta/3/manifest.json");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(m.status().message().find("models/eta/3/manifest.json: malformed JSON"),
            std::string::npos)
      << m.status().message();
}

TEST(ManifestTest, TopLevelMustBeAnObject) {
  auto m = ManifestFromJson("[1,2]", "m.json");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("expected an object"), std::string::npos);
}

TEST(ManifestTest, MissingFieldsAreNamed) {
  for (const char* field : {"name", "task", "backend", "artifacts", "inputs", "outputs",
                            "version", "files", "created_at", "format_version"}) {
    std::string err = ErrorAfterEdit([&](json& j) { j.erase(field); });
    EXPECT_NE(err.find(std::string(field) + ": missing required field"), std::string::npos)
        << field << " -> " << err;
    EXPECT_NE(err.find("models/eta/3/manifest.json"), std::string::npos) << err;
  }
}

TEST(ManifestTest, WrongTypesAreNamed) {
  EXPECT_NE(ErrorAfterEdit([](json& j) { j["version"] = "3"; })
                .find("version: expected an integer, got string"),
            std::string::npos);
  EXPECT_NE(ErrorAfterEdit([](json& j) { j["version"] = 3.5; })
                .find("version: expected an integer, got a fractional number"),
            std::string::npos);
  EXPECT_NE(ErrorAfterEdit([](json& j) { j["name"] = 7; }).find("name: expected a string"),
            std::string::npos);
  EXPECT_NE(ErrorAfterEdit([](json& j) { j["inputs"][0]["shape"][1] = "12"; })
                .find("inputs[0].shape[1]: expected an integer"),
            std::string::npos);
  EXPECT_NE(ErrorAfterEdit([](json& j) { j["metrics"]["val_mae"] = "low"; })
                .find("metrics.val_mae: expected a number"),
            std::string::npos);
  EXPECT_NE(ErrorAfterEdit([](json& j) { j["artifacts"] = {1}; })
                .find("artifacts[0]: expected a string"),
            std::string::npos);
  EXPECT_NE(ErrorAfterEdit([](json& j) {
              j["feature_stats"]["trip_distance"]["histogram"]["counts"][0] = -1;
            }).find("feature_stats.trip_distance.histogram.counts[0]: must be >= 0"),
            std::string::npos);
}

TEST(ManifestTest, UnknownBackendAndDtypeAreRejected) {
  std::string err = ErrorAfterEdit([](json& j) { j["backend"] = "tensorflow"; });
  EXPECT_NE(err.find("backend: unknown backend 'tensorflow' (known: torchscript, xgboost"),
            std::string::npos)
      << err;
  err = ErrorAfterEdit([](json& j) { j["outputs"][0]["dtype"] = "float"; });
  EXPECT_NE(err.find("outputs[0].dtype: unknown dtype 'float'"), std::string::npos) << err;
}

TEST(ManifestTest, UnknownFieldsAreRejected) {
  EXPECT_NE(ErrorAfterEdit([](json& j) { j["verison"] = 3; }).find("verison: unknown field"),
            std::string::npos);
  EXPECT_NE(ErrorAfterEdit([](json& j) { j["inputs"][0]["dims"] = {1}; })
                .find("inputs[0].dims: unknown field"),
            std::string::npos);
}

TEST(ManifestTest, InvalidValuesAreRejected) {
  EXPECT_NE(ErrorAfterEdit([](json& j) { j["version"] = 0; }).find("version: must be >= 1"),
            std::string::npos);
  EXPECT_NE(ErrorAfterEdit([](json& j) { j["name"] = "../etc"; }).find("not a valid model name"),
            std::string::npos);
  EXPECT_NE(ErrorAfterEdit([](json& j) { j["artifacts"] = {"../../passwd"}; })
                .find("is not a plain relative file name"),
            std::string::npos);
  EXPECT_NE(ErrorAfterEdit([](json& j) { j["files"][0]["sha256"] = "xyz"; })
                .find("files[0].sha256: 'xyz' is not 64 lower-case hex"),
            std::string::npos);
  EXPECT_NE(ErrorAfterEdit([](json& j) { j["files"] = json::array(); })
                .find("files: no sha256 for artifact 'model.json'"),
            std::string::npos);
  EXPECT_NE(ErrorAfterEdit([](json& j) { j["inputs"][0]["shape"][0] = 0; })
                .find("inputs[0].shape[0]: must be -1 (free) or >= 1"),
            std::string::npos);
  EXPECT_NE(ErrorAfterEdit([](json& j) {
              j["feature_stats"]["trip_distance"]["histogram"]["bin_edges"] = {1.0};
            }).find("1 bin_edges for 4 counts"),
            std::string::npos);
  EXPECT_NE(ErrorAfterEdit([](json& j) { j["format_version"] = 2; })
                .find("format_version: unsupported version 2"),
            std::string::npos);
}

TEST(ManifestTest, UnpublishedManifestNeedsNoVersionOrDigests) {
  json j = json::parse(SampleJson());
  j.erase("version");
  j.erase("files");
  j.erase("created_at");
  auto m = ManifestFromJson(j.dump(), "draft", /*require_version=*/false);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->version, 0);
}

TEST(FeatureStatsTest, ComputesMomentsQuantilesAndHistogram) {
  std::vector<float> col;
  for (int i = 0; i <= 100; ++i) col.push_back(static_cast<float>(i));
  col.push_back(NAN);
  col.push_back(NAN);
  FeatureStats s = ComputeFeatureStats(col, 10);
  EXPECT_EQ(s.count, 101);
  EXPECT_EQ(s.null_count, 2);
  EXPECT_DOUBLE_EQ(s.mean, 50.0);
  EXPECT_NEAR(s.std, std::sqrt(850.0), 1e-9);  // population variance of 0..100
  EXPECT_EQ(s.min, 0);
  EXPECT_EQ(s.max, 100);
  ASSERT_EQ(s.quantiles.size(), std::size(kStatsQuantileProbs));
  EXPECT_DOUBLE_EQ(s.quantiles[0], 1.0);   // p01 of 0..100
  EXPECT_DOUBLE_EQ(s.quantiles[4], 50.0);  // median
  EXPECT_DOUBLE_EQ(s.quantiles[8], 99.0);  // p99
  ASSERT_EQ(s.histogram.counts.size(), 10u);
  ASSERT_EQ(s.histogram.bin_edges.size(), 11u);
  EXPECT_EQ(s.histogram.bin_edges.front(), 0);
  EXPECT_EQ(s.histogram.bin_edges.back(), 100);
  EXPECT_EQ(s.histogram.counts[0], 10);  // 0..9
  EXPECT_EQ(s.histogram.counts[9], 11);  // 90..100, right edge included
  int64_t total = 0;
  for (int64_t c : s.histogram.counts) total += c;
  EXPECT_EQ(total, 101);
}

TEST(FeatureStatsTest, QuantilesInterpolateBetweenOrderStatistics) {
  std::vector<float> col = {4, 1, 3, 2};  // unsorted on purpose
  FeatureStats s = ComputeFeatureStats(col, 2);
  EXPECT_DOUBLE_EQ(s.quantiles[4], 2.5);            // numpy.quantile([1,2,3,4], 0.5)
  EXPECT_NEAR(s.quantiles[3], 1.75, 1e-12);         // 0.25
  EXPECT_EQ(s.histogram.counts, (std::vector<int64_t>{2, 2}));
}

TEST(FeatureStatsTest, ConstantAndEmptyColumns) {
  std::vector<float> same(5, 7.0f);
  FeatureStats s = ComputeFeatureStats(same);
  EXPECT_EQ(s.std, 0);
  EXPECT_EQ(s.histogram.counts, (std::vector<int64_t>{5}));
  std::vector<float> nulls = {NAN, NAN};
  FeatureStats e = ComputeFeatureStats(nulls);
  EXPECT_EQ(e.count, 0);
  EXPECT_EQ(e.null_count, 2);
  EXPECT_TRUE(std::isnan(e.mean));
  EXPECT_TRUE(e.histogram.counts.empty());
  // An all-null column still round-trips through JSON (NaN <-> null).
  Manifest m = SampleManifest();
  m.feature_stats["all_null"] = e;
  auto parsed = ManifestFromJson(ManifestToJson(m), "x");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_TRUE(std::isnan(parsed->feature_stats.at("all_null").mean));
}

// Categorical baselines: the most frequent codes (share >= min_share, at most max_categories),
// the rest in "other"; integer codes only.
TEST(CategoryStatsTest, KeepsTheFrequentCodesAndCountsTheRestAsOther) {
  // 7: 5 times, 3: 3 times, 9: 3 times, 1: once, 2: once, and a null.
  std::vector<float> col = {7, 3, 9, 7, 1, 7, 3, 9, 7, 2, 9, 3, 7, NAN};
  auto s = ComputeCategoryStats(col, "zone", 3, 0.0);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->count, 13);
  EXPECT_EQ(s->null_count, 1);
  EXPECT_EQ(s->categories, (std::vector<int64_t>{7, 3, 9})) << "ties by ascending code";
  EXPECT_EQ(s->counts, (std::vector<int64_t>{5, 3, 3}));
  EXPECT_EQ(s->other_count, 2);
  // A share floor: codes in fewer than 30% of the rows (1, 2, and 3 and 9 at 23%) are other.
  auto rare = ComputeCategoryStats(col, "zone", 256, 0.3);
  ASSERT_TRUE(rare.ok());
  EXPECT_EQ(rare->categories, (std::vector<int64_t>{7}));
  EXPECT_EQ(rare->other_count, 8);

  auto bad = ComputeCategoryStats(std::vector<float>{1, 2.5f}, "pickup_zone");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("pickup_zone"), std::string::npos);
  EXPECT_NE(bad.status().message().find("row 1"), std::string::npos);
  EXPECT_FALSE(ComputeCategoryStats(col, "zone", 0).ok());

  Manifest m = SampleManifest();
  m.category_stats["pickup_zone"] = *s;
  auto parsed = ManifestFromJson(ManifestToJson(m), "x");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->category_stats, m.category_stats);
  EXPECT_EQ(ManifestToJson(*parsed), ManifestToJson(m));
  // A manifest without categorical baselines (every one written before them) has no key.
  EXPECT_EQ(SampleJson().find("category_stats"), std::string::npos);
  EXPECT_TRUE(ManifestFromJson(SampleJson(), "old")->category_stats.empty());
}

TEST(CategoryStatsTest, InconsistentBaselinesAreRejectedNamingTheField) {
  auto with = [](const std::function<void(json&)>& edit) {
    return ErrorAfterEdit([&](json& j) {
      j["category_stats"]["pickup_zone"] = {{"count", 10},
                                            {"null_count", 0},
                                            {"categories", {74, 75}},
                                            {"counts", {6, 3}},
                                            {"other_count", 1}};
      edit(j);
    });
  };
  EXPECT_EQ(with([](json&) {}), "");
  EXPECT_NE(with([](json& j) { j["category_stats"]["pickup_zone"]["categories"] = {74, 74}; })
                .find("category_stats.pickup_zone.categories[1]: category 74 is listed twice"),
            std::string::npos);
  EXPECT_NE(with([](json& j) { j["category_stats"]["pickup_zone"]["counts"] = {6}; })
                .find("2 categories but 1 counts"),
            std::string::npos);
  EXPECT_NE(with([](json& j) { j["category_stats"]["pickup_zone"]["count"] = 11; })
                .find("counts + other_count = 10, but count = 11"),
            std::string::npos);
  EXPECT_NE(with([](json& j) { j["category_stats"]["pickup_zone"]["counts"] = {9, 0}; })
                .find("category_stats.pickup_zone.counts[1]: must be >= 1"),
            std::string::npos);
  EXPECT_NE(with([](json& j) { j["category_stats"]["pickup_zone"]["categories"][0] = 7.5; })
                .find("category_stats.pickup_zone.categories[0]"),
            std::string::npos);
  EXPECT_NE(with([](json& j) { j["category_stats"]["pickup_zone"]["bins"] = 3; }).find("bins"),
            std::string::npos);
}

}  // namespace
}  // namespace bimride::registry

namespace bimride::registry {
namespace {

TEST(MergeManifestJsonTest, PatchAddsSignatureAndMetrics) {
  Manifest base;
  base.name = "eta";
  base.task = "eta";
  base.backend = "xgboost";
  base.artifacts = {"model.json"};
  auto m = MergeManifestJson(
      base,
      R"({"inputs": [{"name": "x", "dtype": "float32", "shape": [-1, 4]}],
          "metrics": {"val_mae": 2.5}, "feature_spec": {"name": "eta_booking", "version": 2,
          "request_fields": ["pickup_zone"]}})",
      "--manifest-extra");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->inputs.size(), 1u);
  EXPECT_EQ(m->metrics.at("val_mae"), 2.5);
  EXPECT_EQ(m->feature_spec->ToString(), "eta_booking@2");
  EXPECT_EQ(m->version, 0);
}

TEST(MergeManifestJsonTest, BadPatchNamesTheSourceAndField) {
  Manifest base;
  base.name = "eta";
  base.task = "eta";
  base.backend = "xgboost";
  base.artifacts = {"model.json"};
  auto bad = MergeManifestJson(base, R"({"backend": "caffe"})", "--manifest-extra");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--manifest-extra: backend: unknown backend 'caffe'"),
            std::string::npos)
      << bad.status().message();
  auto broken = MergeManifestJson(base, "{", "--manifest-extra");
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("--manifest-extra: malformed JSON"), std::string::npos);
}

}  // namespace
}  // namespace bimride::registry
