// What `bimride monitor status|report` show of a running server's live monitor (#13 item 9),
// built from its GET /v1/monitor answer (serving/http/rest_api.cc renders it from
// live_monitor.h's windows): the per-window table (predicted and labelled rows, the estimate
// before labels, realised RMSE/MAE/bias, the drift alarm), the declared categories' drift, and a
// report in Markdown or HTML with charts per model version — realised against estimated RMSE
// by window, and the numeric features' drift (PSI) by window, alarmed windows marked.
//
// The charts are SVG, drawn here (no plotting library): inline in HTML (one self-contained
// file), separate files linked from Markdown.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace bimride::monitoring {

struct MonitorTables {
  int64_t window_rows = 0;
  std::vector<std::string> window_headers;
  std::vector<std::vector<std::string>> windows;  // one row per model, version and window
  std::vector<std::string> category_headers;
  std::vector<std::vector<std::string>> categories;  // last closed window per version
  std::string counters;                              // "labels 10, joined 9, …"
};
extern const char kEstimateLegend[];

// The tables of a /v1/monitor answer. InvalidArgument naming `source` and what is wrong.
StatusOr<MonitorTables> MonitorTablesFromJson(std::string_view monitor_json,
                                              std::string_view source);

enum class ReportFormat { kMarkdown, kHtml };

struct MonitorReport {
  std::string text;
  // Markdown only: the charts as (file name, SVG) to write where the links point; HTML holds
  // them inline and leaves this empty.
  std::vector<std::pair<std::string, std::string>> charts;
};

// The report of a /v1/monitor answer from `source` (the server, for the title). Markdown links
// each chart as chart_link_prefix + file name; an empty prefix with `with_charts` false leaves
// them out (a note says so). InvalidArgument as MonitorTablesFromJson.
StatusOr<MonitorReport> RenderMonitorReport(std::string_view monitor_json, std::string_view source,
                                            ReportFormat format, bool with_charts = true,
                                            std::string_view chart_link_prefix = "");

}  // namespace bimride::monitoring
