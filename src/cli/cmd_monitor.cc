// `bimride monitor …`: what watches a running model server (#13): its live accuracy per model,
// version and window (status, report) and labels posted from a file (feedback). Thin: HTTP
// calls to the server's /v1/monitor and /v1/feedback (monitoring/live_monitor.h).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "common/file.h"
#include "monitoring/live_monitor.h"
#include "monitoring/monitor_report.h"
#include "registry/text_table.h"
#include "serving/http/http_client.h"

namespace bimride::cli {
namespace {

using nlohmann::json;

// GET /v1/monitor's body (checked by the monitoring/monitor_report.h readers).
StatusOr<std::string> GetMonitor(const std::string& server) {
  ASSIGN_OR_RETURN(auto hp, ParseServerFlag(server));
  serving::http::HttpClient client(hp.first, hp.second);
  ASSIGN_OR_RETURN(serving::http::ClientResponse r, client.Get("/v1/monitor"));
  if (r.status != 200) {
    json j = json::parse(r.body, nullptr, false);
    return UnavailableError(server + "/v1/monitor: HTTP " + std::to_string(r.status) + ": " +
                            (j.is_object() && j.contains("error") ? j["error"].dump() : r.body));
  }
  return std::move(r.body);
}

int RunStatus(const std::vector<std::string>& args) {
  FlagParser flags("bimride monitor status",
                   "Live accuracy of a running server: one row per model, version and window of "
                   "logged predictions (* = window still open) with its drift (the features above "
                   "their calibrated thresholds), from its /v1/monitor.");
  std::string server = "127.0.0.1:8501";
  flags.AddString("server", &server, "the model server, HOST:PORT");
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  auto body = GetMonitor(server);
  if (!body.ok()) return ReportError(body.status());
  auto t = monitoring::MonitorTablesFromJson(*body, server);
  if (!t.ok()) return ReportError(t.status());
  registry::TextTable table(t->window_headers);
  for (size_t c = 1; c + 1 < t->window_headers.size(); ++c) table.SetRightAligned(c);
  for (auto& row : t->windows) table.AddRow(std::move(row));
  std::cout << table.Render() << "window = " << t->window_rows << " predicted rows; "
            << t->counters << "\n"
            << monitoring::kEstimateLegend << "\n";
  if (!t->categories.empty()) {
    registry::TextTable ct(t->category_headers);
    for (size_t c = 1; c + 1 < t->category_headers.size(); ++c) {
      if (c != 3) ct.SetRightAligned(c);
    }
    for (auto& row : t->categories) ct.AddRow(std::move(row));
    std::cout << "\ncategorical drift (last closed window per version; chi-square against the "
                 "training frequencies, its p-value assumes independent rows: alarms are the "
                 "calibrated thresholds):\n"
              << ct.Render();
  }
  return kExitOk;
}

int RunReport(const std::vector<std::string>& args) {
  FlagParser flags("bimride monitor report",
                   "The live accuracy and drift of a running server as a report with charts: "
                   "Markdown (charts as SVG files in FILE's stem + '_charts/') or one "
                   "self-contained HTML file (charts inline).");
  std::string server = "127.0.0.1:8501", out, format;
  flags.AddString("server", &server, "the model server, HOST:PORT");
  flags.AddString("out", &out,
                  "write the report to this file (standard output: Markdown without charts)");
  flags.AddString("format", &format, "md or html (default: html when --out ends in .html)");
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  const bool html_name = out.size() >= 5 && (out.substr(out.size() - 5) == ".html" ||
                                             out.substr(out.size() - 4) == ".htm");
  if (format.empty()) format = html_name ? "html" : "md";
  if (format != "md" && format != "html") {
    return ReportError(InvalidArgumentError("--format must be md or html, not '" + format + "'"),
                       true);
  }
  const auto kind = format == "html" ? monitoring::ReportFormat::kHtml
                                     : monitoring::ReportFormat::kMarkdown;
  auto body = GetMonitor(server);
  if (!body.ok()) return ReportError(body.status());
  // Markdown's charts go to "<stem>_charts/" beside the report, linked relatively.
  std::string charts_dir, link_prefix;
  if (!out.empty() && kind == monitoring::ReportFormat::kMarkdown) {
    const std::filesystem::path p(out);
    charts_dir = (p.parent_path() / (p.stem().string() + "_charts")).string();
    link_prefix = p.stem().string() + "_charts/";
  }
  const bool with_charts = kind == monitoring::ReportFormat::kHtml || !out.empty();
  auto report = monitoring::RenderMonitorReport(*body, server, kind, with_charts, link_prefix);
  if (!report.ok()) return ReportError(report.status());
  if (out.empty()) {
    std::cout << report->text;
    return kExitOk;
  }
  if (!report->charts.empty()) {
    if (Status st = MakeDirs(charts_dir); !st.ok()) return ReportError(st);
    for (const auto& [name, svg] : report->charts) {
      if (Status st = WriteFileAtomic(charts_dir + "/" + name, svg); !st.ok()) {
        return ReportError(st);
      }
    }
  }
  if (Status st = WriteFileAtomic(out, report->text); !st.ok()) return ReportError(st);
  std::printf("wrote %s (%s)%s\n", out.c_str(), format.c_str(),
              report->charts.empty()
                  ? ""
                  : (", " + std::to_string(report->charts.size()) + " charts in " + charts_dir)
                        .c_str());
  return kExitOk;
}

int RunFeedback(const std::vector<std::string>& args) {
  FlagParser flags("bimride monitor feedback",
                   "Post labels from a file to a running server's /v1/feedback: JSON (as the "
                   "endpoint takes) or CSV with a header naming request_id (or key), actual and "
                   "optionally row.");
  std::string server = "127.0.0.1:8501";
  int64_t batch = 5000;
  std::vector<std::string> files;
  flags.AddString("server", &server, "the model server, HOST:PORT");
  flags.AddInt("batch", &batch, "labels per POST");
  flags.SetPositional("FILE", &files, "feedback files", 1);
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  if (batch < 1) return ReportError(InvalidArgumentError("--batch must be >= 1"), true);
  auto hp = ParseServerFlag(server);
  if (!hp.ok()) return ReportError(hp.status(), true);
  serving::http::HttpClient client(hp->first, hp->second);
  int64_t posted = 0, joined = 0, waiting = 0, late = 0, duplicate = 0;
  for (const std::string& file : files) {
    auto fb = monitoring::ReadFeedbackFile(file);
    if (!fb.ok()) return ReportError(fb.status());
    for (size_t b = 0; b < fb->size(); b += static_cast<size_t>(batch)) {
      json items = json::array();
      for (size_t i = b; i < std::min(fb->size(), b + static_cast<size_t>(batch)); ++i) {
        const monitoring::Feedback& f = (*fb)[i];
        items.push_back({{"request_id", f.request_id}, {"row", f.row}, {"actual", f.actual}});
      }
      auto r = client.Post("/v1/feedback", json({{"feedback", items}}).dump());
      if (!r.ok()) return ReportError(r.status().WithContext(server));
      json j = json::parse(r->body, nullptr, false);
      if (r->status != 200) {
        return ReportError(UnavailableError(server + "/v1/feedback: HTTP " +
                                            std::to_string(r->status) + ": " + r->body));
      }
      posted += static_cast<int64_t>(items.size());
      joined += j.value("joined", int64_t{0});
      waiting += j.value("waiting", int64_t{0});
      late += j.value("late", int64_t{0});
      duplicate += j.value("duplicate", int64_t{0});
    }
  }
  std::printf("posted %lld labels: %lld joined (%lld late), %lld waiting for their prediction, "
              "%lld duplicates\n",
              static_cast<long long>(posted), static_cast<long long>(joined),
              static_cast<long long>(late), static_cast<long long>(waiting),
              static_cast<long long>(duplicate));
  return kExitOk;
}

int RunMonitor(const std::vector<std::string>& args) {
  static const std::vector<CommandInfo> kVerbs = {
      {"status", "live accuracy per model, version and window (a table)", RunStatus},
      {"report", "the same as a report with charts (Markdown or HTML)", RunReport},
      {"feedback", "post labels from a JSON or CSV file", RunFeedback},
  };
  return DispatchVerbs("bimride monitor",
                       "Watch a running model server: live accuracy from posted labels.", kVerbs,
                       args);
}

}  // namespace

BIMRIDE_COMMAND("monitor", "watch a running server: live accuracy (status, report), labels",
                RunMonitor);

}  // namespace bimride::cli
