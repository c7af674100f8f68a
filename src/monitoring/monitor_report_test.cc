#include "monitoring/monitor_report.h"

#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

namespace bimride::monitoring {
namespace {

using json = nlohmann::json;

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A /v1/monitor answer as the server renders it: version 1 with `n` windows (the last open), its
// windows in `alarmed` alarming on `feature`; version 2 with one open window, no labels.
json Monitor(int n, std::vector<int> alarmed, const std::string& feature = "pair_log_count") {
  json j = {{"window_rows", 100},
            {"counters",
             {{"labels", 5}, {"joined", 4}, {"late", 1}, {"duplicate", 0}, {"missing", 2},
              {"unmatched", 0}, {"waiting_labels", 1}, {"predicted_rows", 7}}},
            {"windows", json::array()}};
  for (int k = 0; k < n; ++k) {
    const bool alarm = std::find(alarmed.begin(), alarmed.end(), k) != alarmed.end();
    json w = {{"model", "eta"},        {"version", 1},          {"window", k},
              {"closed", k + 1 < n},   {"predicted_rows", 100}, {"labelled_rows", k == 2 ? 0 : 90},
              {"late_labels", 0},      {"first_time_us", k},    {"last_time_us", k},
              {"rmse", 4.0 + k},       {"mae", 3.0},            {"bias", -0.5},
              {"estimated_rmse", 4.5}, {"estimated_rmse_unanchored", 4.2},
              {"estimate_anchor_rows", 180},
              {"drift_calibrated", true}, {"drift_alarm", alarm}};
    w["drift"][feature] = {{"psi", alarm ? 0.9 : 0.1}, {"js", 0.1}, {"ks", 0.1},
                           {"wasserstein", 0.1}};
    if (alarm) w["drift"][feature]["above"] = "psi";
    w["drift"]["distance_km"] = {{"psi", 0.2}, {"js", 0.1}, {"ks", 0.1}, {"wasserstein", 0.1}};
    w["drift"]["pickup_zone"] = {{"kind", "categorical"}, {"chi2", 12.5}, {"df", 3},
                                 {"p_value", 0.006}, {"cramers_v", 0.2}, {"js_distance", 0.3},
                                 {"rows", 100}};
    j["windows"].push_back(w);
  }
  j["windows"].push_back({{"model", "eta"},        {"version", 2},        {"window", 0},
                          {"closed", false},       {"predicted_rows", 3}, {"labelled_rows", 0},
                          {"late_labels", 0},      {"first_time_us", 0},  {"last_time_us", 0},
                          {"rmse", nullptr}});
  return j;
}

TEST(MonitorTables, OneRowPerWindowWithItsDriftAndTheCategoriesOfTheLastClosedWindow) {
  auto t = MonitorTablesFromJson(Monitor(5, {1, 3}).dump(), "host:1");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->window_rows, 100);
  ASSERT_EQ(t->windows.size(), 6u);
  EXPECT_EQ(t->windows[1][12], "ALARM: pair_log_count");
  EXPECT_EQ(t->windows[0][12], "ok");
  EXPECT_EQ(t->windows[4][2], "4*");            // open
  EXPECT_EQ(t->windows[4][12], "(open)");
  EXPECT_EQ(t->windows[2][9], "-");             // no labels: no RMSE
  EXPECT_EQ(t->windows[0][9], "4.000");
  EXPECT_EQ(t->windows[0][11], "-0.500");
  EXPECT_EQ(t->windows[5][6], "-");             // no estimate
  EXPECT_EQ(t->windows[5][12], "-");            // no drift
  ASSERT_EQ(t->categories.size(), 1u);          // version 1's last closed window (3)
  EXPECT_EQ(t->categories[0][2], "3");
  EXPECT_EQ(t->categories[0][3], "pickup_zone");
  EXPECT_EQ(t->categories[0][5], "3");
  EXPECT_EQ(t->categories[0][9], "ok");
  EXPECT_EQ(t->counters, "labels 5, joined 4, late 1, duplicate 0, missing 2, unmatched 0, "
                         "waiting 1");
}

TEST(MonitorReport, HtmlHoldsAChartPerVersionWithTheRealisedAndEstimatedRmseAndAlarms) {
  auto r = RenderMonitorReport(Monitor(6, {1, 3, 4}).dump(), "host:1", ReportFormat::kHtml);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->charts.empty());  // inline
  const std::string& h = r->text;
  EXPECT_EQ(h.rfind("<!doctype html>", 0), 0u);
  EXPECT_NE(h.find("</html>"), std::string::npos);
  // Version 1: accuracy and drift; version 2 (no drift scores): accuracy only.
  EXPECT_EQ(Count(h, "<svg "), 3);
  EXPECT_NE(h.find("eta version 1: realised and estimated RMSE by window"), std::string::npos);
  EXPECT_NE(h.find("eta version 2: realised and estimated RMSE by window"), std::string::npos);
  EXPECT_NE(h.find("eta version 1: drift (PSI)"), std::string::npos);
  // Three alarmed windows, ticked on both of version 1's charts.
  EXPECT_EQ(Count(h, "class='alarm'"), 6);
  // The unlabelled window 2 splits the realised line in two: windows 0–1 and 3–5.
  const size_t acc = h.find("eta version 1: realised");
  const std::string chart = h.substr(acc, h.find("</svg>", acc) - acc);
  EXPECT_EQ(Count(chart, "<title>realised RMSE</title>"), 2);
  EXPECT_EQ(Count(chart, "<title>estimated (anchored)</title>"), 1);
  // The y axis ends at the first round tick above the largest value (RMSE 9): 0, 2, …, 10.
  EXPECT_NE(chart.find("text-anchor='end'>10</text>"), std::string::npos);
  EXPECT_EQ(chart.find("text-anchor='end'>12</text>"), std::string::npos);
  EXPECT_EQ(chart.find("text-anchor='end'>20</text>"), std::string::npos);
  // The feature alarming most comes first in the drift chart's legend.
  const size_t dr = h.find("eta version 1: drift");
  EXPECT_LT(h.find(">pair_log_count</text>", dr), h.find(">distance_km</text>", dr));
  // Tables follow the charts.
  EXPECT_LT(h.find("<svg "), h.find("<h2>Windows</h2>"));
  EXPECT_NE(h.find("<td class='t'>ALARM: pair_log_count</td>"), std::string::npos);
}

TEST(MonitorReport, TextFromTheServerIsEscapedInHtml) {
  auto r = RenderMonitorReport(Monitor(3, {0}, "<b>x</b>").dump(), "host:1", ReportFormat::kHtml);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->text.find("<b>x</b>"), std::string::npos);
  EXPECT_NE(r->text.find("&lt;b&gt;x&lt;/b&gt;"), std::string::npos);
}

TEST(MonitorReport, MarkdownLinksEachChartFileAndLeavesThemOutOnStandardOutput) {
  auto r = RenderMonitorReport(Monitor(4, {1}).dump(), "host:1", ReportFormat::kMarkdown, true,
                               "report_charts/");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->charts.size(), 3u);
  EXPECT_EQ(r->charts[0].first, "eta_v1_accuracy.svg");
  EXPECT_EQ(r->charts[1].first, "eta_v1_drift.svg");
  EXPECT_EQ(r->charts[2].first, "eta_v2_accuracy.svg");
  for (const auto& [name, svg] : r->charts) {
    EXPECT_NE(r->text.find("](report_charts/" + name + ")"), std::string::npos) << name;
    EXPECT_EQ(svg.rfind("<svg ", 0), 0u);
  }
  EXPECT_NE(r->text.find("| eta | 1 | 1 | 100 | 90 |"), std::string::npos) << r->text;
  EXPECT_NE(r->text.find("## Categorical drift"), std::string::npos);
  auto plain = RenderMonitorReport(Monitor(4, {1}).dump(), "host:1", ReportFormat::kMarkdown,
                                   false);
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->charts.empty());
  EXPECT_NE(plain->text.find("(Not drawn"), std::string::npos);
  // No windows yet: tables without rows, no charts.
  json empty = Monitor(0, {});
  empty["windows"] = json::array();
  auto none = RenderMonitorReport(empty.dump(), "host:1", ReportFormat::kMarkdown, true, "c/");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->charts.empty());
  EXPECT_NE(none->text.find("No windows yet."), std::string::npos);
}

TEST(MonitorReport, BadAnswersAreRefusedNamingTheServerAndWhatIsWrong) {
  auto expect_error = [](const std::string& body, const std::string& what) {
    auto r = RenderMonitorReport(body, "host:9", ReportFormat::kHtml);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("host:9/v1/monitor"), std::string::npos);
    EXPECT_NE(r.status().message().find(what), std::string::npos) << r.status().message();
    EXPECT_FALSE(MonitorTablesFromJson(body, "host:9").ok());
  };
  expect_error("{", "not JSON");
  expect_error("[]", "not a JSON object");
  json j = Monitor(2, {});
  j.erase("windows");
  expect_error(j.dump(), "'windows' missing");
  j = Monitor(2, {});
  j["windows"][1]["version"] = "one";
  expect_error(j.dump(), "windows[1]: 'version' missing or not an integer");
  j = Monitor(2, {});
  j["windows"][0]["closed"] = 1;
  expect_error(j.dump(), "windows[0]: 'closed'");
  j = Monitor(2, {});
  j["windows"][0]["drift"]["distance_km"] = 3;
  expect_error(j.dump(), "drift 'distance_km' not an object");
  j = Monitor(2, {});
  j["windows"][0]["drift"]["distance_km"]["above"] = 1;
  expect_error(j.dump(), "'above' not a string");
  j = Monitor(2, {});
  j["counters"].erase("joined");
  expect_error(j.dump(), "counters 'joined'");
  j = Monitor(2, {});
  j["windows"][0]["model"] = nullptr;
  expect_error(j.dump(), "windows[0]: 'model'");
}

}  // namespace
}  // namespace bimride::monitoring
