#include "serving/serving_metrics.h"

#include <gtest/gtest.h>

#include <cmath>

namespace bimride::serving {
namespace {

bool Has(const std::string& text, const std::string& line) {
  return text.find(line) != std::string::npos;
}

TEST(HistogramTest, CountsIntoTheFirstBucketAtOrAboveTheValue) {
  Histogram h({1, 10, 100});
  EXPECT_EQ(h.Quantile(0.5), 0) << "empty";
  for (double v : {0.5, 1.0, 5.0, 50.0, 500.0}) h.Observe(v);
  h.Observe(NAN);  // ignored
  EXPECT_EQ(h.count(), 5u);
  EXPECT_EQ(h.Quantile(0.4), 1);  // 0.5 and 1.0 are <= 1
  EXPECT_EQ(h.Quantile(0.6), 10);
  EXPECT_EQ(h.Quantile(0.8), 100);
  EXPECT_TRUE(std::isinf(h.Quantile(1.0))) << "500 is beyond the last bound";
  std::string out;
  h.AppendPrometheus(&out, "x", "m=\"a\"");
  EXPECT_EQ(out,
            "x_bucket{m=\"a\",le=\"1\"} 2\n"
            "x_bucket{m=\"a\",le=\"10\"} 3\n"
            "x_bucket{m=\"a\",le=\"100\"} 4\n"
            "x_bucket{m=\"a\",le=\"+Inf\"} 5\n"
            "x_sum{m=\"a\"} 556.5\n"
            "x_count{m=\"a\"} 5\n");
}

TEST(ServingMetricsTest, ForReturnsOneStableRecordPerModelVersion) {
  ServingMetrics metrics;
  VersionMetrics* a = metrics.For("eta", 1);
  EXPECT_EQ(metrics.For("eta", 1), a);
  EXPECT_NE(metrics.For("eta", 2), a);
  EXPECT_NE(metrics.For("demand", 1), a);
}

TEST(ServingMetricsTest, SnapshotCountsOkErrorsAndShadowsPerVersionWithLatencyQuantiles) {
  ServingMetrics metrics;
  EXPECT_TRUE(metrics.Snapshot().empty());
  VersionMetrics* v1 = metrics.For("eta", 1);
  for (int i = 0; i < 9; ++i) v1->CountRequest(StatusCode::kOk);
  v1->CountRequest(StatusCode::kInvalidArgument);
  v1->CountShadowRequest(StatusCode::kOk);
  for (int i = 0; i < 98; ++i) v1->total_seconds.Observe(0.0008);
  v1->total_seconds.Observe(0.3);
  v1->total_seconds.Observe(0.3);
  metrics.For("demand", 2)->CountRequest(StatusCode::kUnavailable);
  std::vector<VersionTrafficSnapshot> s = metrics.Snapshot();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].model, "demand");  // by model, then version
  EXPECT_EQ(s[0].ok, 0u);
  EXPECT_EQ(s[0].errors, 1u);
  EXPECT_EQ(s[1].model, "eta");
  EXPECT_EQ(s[1].version, 1);
  EXPECT_EQ(s[1].ok, 9u);
  EXPECT_EQ(s[1].errors, 1u);
  EXPECT_EQ(s[1].shadow, 1u);
  EXPECT_EQ(s[1].p50, v1->total_seconds.Quantile(0.5));
  EXPECT_LE(s[1].p50, 0.001);
  EXPECT_GE(s[1].p99, 0.3);
}

TEST(ServingMetricsTest, RendersPrometheusTextForEveryFamily) {
  ServingMetrics metrics;
  metrics.CountHttp("tfs", 200);
  metrics.CountHttp("tfs", 200);
  metrics.CountHttp("kserve", 400);
  VersionMetrics* v1 = metrics.For("eta", 1);
  v1->CountRequest(StatusCode::kOk);
  v1->CountRequest(StatusCode::kInvalidArgument);
  v1->loads = 1;
  v1->total_seconds.Observe(0.001);
  v1->shadow_dropped = 3;
  metrics.For("", 0)->CountRequest(StatusCode::kNotFound);
  const std::string text = metrics.RenderPrometheus({{"eta", 1}});
  EXPECT_TRUE(Has(text, "# TYPE bimride_http_requests_total counter\n"));
  EXPECT_TRUE(Has(text, "bimride_http_requests_total{api=\"tfs\",code=\"200\"} 2\n"));
  EXPECT_TRUE(Has(text, "bimride_http_requests_total{api=\"kserve\",code=\"400\"} 1\n"));
  EXPECT_TRUE(Has(text, "bimride_model_version_loaded{model=\"eta\",version=\"1\"} 1\n"));
  EXPECT_TRUE(
      Has(text, "bimride_predict_requests_total{model=\"eta\",version=\"1\",code=\"OK\"} 1"));
  EXPECT_TRUE(Has(text,
                  "bimride_predict_requests_total{model=\"eta\",version=\"1\","
                  "code=\"INVALID_ARGUMENT\"} 1"));
  EXPECT_TRUE(Has(text,
                  "bimride_predict_requests_total{model=\"\",version=\"0\","
                  "code=\"NOT_FOUND\"} 1"))
      << "requests that never reached a version";
  EXPECT_TRUE(Has(text, "bimride_model_loads_total{model=\"eta\",version=\"1\"} 1\n"));
  EXPECT_TRUE(Has(text, "bimride_model_load_failures_total{model=\"eta\",version=\"1\"} 0\n"));
  EXPECT_FALSE(Has(text, "bimride_model_loads_total{model=\"\",version=\"0\"}"));
  EXPECT_TRUE(Has(text, "bimride_predict_total_seconds_count{model=\"eta\",version=\"1\"} 1\n"));
  EXPECT_FALSE(Has(text, "bimride_predict_compute_seconds_count{model=\"eta\""))
      << "empty histograms are left out";
  EXPECT_TRUE(Has(text, "bimride_shadow_dropped_total{model=\"eta\",version=\"1\"} 3\n"));
}

TEST(ServingMetricsTest, EscapesLabelValues) {
  ServingMetrics metrics;
  metrics.For("a\"b\\c\nd", 1)->CountRequest(StatusCode::kOk);
  EXPECT_TRUE(Has(metrics.RenderPrometheus({}), "model=\"a\\\"b\\\\c\\nd\""));
}

}  // namespace
}  // namespace bimride::serving
