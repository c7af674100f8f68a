// `bimride monitor …`: what watches a running model server (#13): its live accuracy per model,
// version and window (status, report) and labels posted from a file (feedback). Thin: HTTP
// calls to the server's /v1/monitor and /v1/feedback (monitoring/live_monitor.h).
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "monitoring/live_monitor.h"
#include "registry/text_table.h"
#include "serving/http/http_client.h"

namespace bimride::cli {
namespace {

using nlohmann::json;

StatusOr<json> GetMonitor(const std::string& server) {
  ASSIGN_OR_RETURN(auto hp, ParseServerFlag(server));
  serving::http::HttpClient client(hp.first, hp.second);
  ASSIGN_OR_RETURN(serving::http::ClientResponse r, client.Get("/v1/monitor"));
  json j = json::parse(r.body, nullptr, false);
  if (r.status != 200) {
    return UnavailableError(server + "/v1/monitor: HTTP " + std::to_string(r.status) + ": " +
                            (j.is_object() && j.contains("error") ? j["error"].dump() : r.body));
  }
  if (!j.is_object() || !j.contains("windows")) {
    return InternalError(server + "/v1/monitor: unexpected answer");
  }
  return j;
}

std::string Num(const json& v, const char* fmt = "%.3f") {
  if (!v.is_number()) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, fmt, v.get<double>());
  return buf;
}

// "-" without a baseline; "ok"; "(open)" for a window still filling (no alarms yet); or
// "ALARM: f1 f2 f3…" (the features above a threshold: declared categories first, by Cramér's V,
// then the numeric ones by PSI).
std::string DriftCell(const json& w) {
  if (!w.contains("drift")) return "-";
  std::vector<std::pair<double, std::string>> above;
  for (auto it = w["drift"].begin(); it != w["drift"].end(); ++it) {
    if (!it->contains("above")) continue;
    if (it->value("kind", "") == "categorical") {
      above.push_back({-1e9 - it->value("cramers_v", 0.0), it.key()});
    } else {
      above.push_back({-it->value("psi", 0.0), it.key()});
    }
  }
  if (above.empty()) {
    if (!w.value("drift_calibrated", false)) return "(uncalibrated)";
    return w.value("closed", false) ? "ok" : "(open)";  // open windows do not alarm
  }
  std::sort(above.begin(), above.end());
  std::string cell = "ALARM:";
  for (size_t i = 0; i < above.size() && i < 3; ++i) cell += " " + above[i].second;
  if (above.size() > 3) cell += " +" + std::to_string(above.size() - 3);
  return cell;
}

// The declared categories' drift (zones, boroughs) in each version's last closed window: one
// row per feature — chi-square (df, p-value), Cramér's V, Jensen–Shannon distance, and whether
// it is above its calibrated threshold.
const std::vector<std::string> kCategoryHeaders = {"MODEL", "VERSION", "WINDOW", "FEATURE",
                                                   "CHI2", "DF", "P", "CRAMER V", "JS DIST",
                                                   "ALARM"};
std::vector<std::vector<std::string>> CategoryRows(const json& j) {
  std::map<std::pair<std::string, int64_t>, const json*> last;  // per version: last closed
  for (const json& w : j["windows"]) {
    if (!w.value("closed", false) || !w.contains("drift")) continue;
    last[{w["model"].get<std::string>(), w["version"].get<int64_t>()}] = &w;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& [key, w] : last) {
    for (auto it = (*w)["drift"].begin(); it != (*w)["drift"].end(); ++it) {
      if (it->value("kind", "") != "categorical") continue;
      const json& f = *it;
      std::vector<std::string> row = {key.first, std::to_string(key.second),
                                      std::to_string((*w)["window"].get<int64_t>()), it.key()};
      if (f.contains("error")) {
        row.insert(row.end(), {"-", "-", "-", "-", "-", f["error"].get<std::string>()});
      } else {
        row.insert(row.end(), {Num(f["chi2"], "%.1f"), f["df"].dump(), Num(f["p_value"], "%.2g"),
                               Num(f["cramers_v"]), Num(f["js_distance"]),
                               f.contains("above") ? "ALARM: " + f["above"].get<std::string>()
                               : (*w).value("drift_calibrated", false) ? "ok" : "(uncalibrated)"});
      }
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

std::vector<std::vector<std::string>> WindowRows(const json& j) {
  std::vector<std::vector<std::string>> rows;
  for (const json& w : j["windows"]) {
    const bool labelled = w["labelled_rows"].get<int64_t>() > 0;
    rows.push_back({w["model"].get<std::string>(), std::to_string(w["version"].get<int64_t>()),
                    std::to_string(w["window"].get<int64_t>()) + (w["closed"].get<bool>() ? "" : "*"),
                    std::to_string(w["predicted_rows"].get<int64_t>()),
                    std::to_string(w["labelled_rows"].get<int64_t>()),
                    std::to_string(w["late_labels"].get<int64_t>()),
                    w.contains("estimated_rmse") ? Num(w["estimated_rmse"]) : "-",
                    w.contains("estimated_rmse_unanchored") ? Num(w["estimated_rmse_unanchored"])
                                                            : "-",
                    w.contains("estimate_anchor_rows")
                        ? std::to_string(w["estimate_anchor_rows"].get<int64_t>())
                        : "-",
                    labelled ? Num(w["rmse"]) : "-", labelled ? Num(w["mae"]) : "-",
                    labelled ? Num(w["bias"], "%+.3f") : "-", DriftCell(w)});
  }
  return rows;
}

// EST RMSE: estimated before any of the window's labels — the version's loss estimator on its
// inputs (EST RAW), anchored on ANCHOR labelled rows of the windows before it — beside the
// realised RMSE of the labelled rows.
const std::vector<std::string> kHeaders = {
    "MODEL", "VERSION",  "WINDOW", "PREDICTED", "LABELLED", "LATE", "EST RMSE",
    "EST RAW", "ANCHOR", "RMSE",   "MAE",       "BIAS",     "DRIFT"};
const char kEstimateLegend[] =
    "EST RMSE: estimated before the window's labels (the loss estimator on its inputs, EST RAW, "
    "corrected by the realised/estimated error of ANCHOR labelled rows of the windows before it)";

std::string CountersLine(const json& c) {
  return "labels " + c["labels"].dump() + ", joined " + c["joined"].dump() + ", late " +
         c["late"].dump() + ", duplicate " + c["duplicate"].dump() + ", missing " +
         c["missing"].dump() + ", unmatched " + c["unmatched"].dump() + ", waiting " +
         c["waiting_labels"].dump();
}

int RunStatus(const std::vector<std::string>& args) {
  FlagParser flags("bimride monitor status",
                   "Live accuracy of a running server: one row per model, version and window of "
                   "logged predictions (* = window still open) with its drift (the features above "
                   "their calibrated thresholds), from its /v1/monitor.");
  std::string server = "127.0.0.1:8501";
  flags.AddString("server", &server, "the model server, HOST:PORT");
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  auto j = GetMonitor(server);
  if (!j.ok()) return ReportError(j.status());
  registry::TextTable table(kHeaders);
  for (size_t c = 1; c + 1 < kHeaders.size(); ++c) table.SetRightAligned(c);
  for (auto& row : WindowRows(*j)) table.AddRow(std::move(row));
  std::cout << table.Render() << "window = " << (*j)["window_rows"].dump()
            << " predicted rows; " << CountersLine((*j)["counters"]) << "\n"
            << kEstimateLegend << "\n";
  if (auto cats = CategoryRows(*j); !cats.empty()) {
    registry::TextTable ct(kCategoryHeaders);
    for (size_t c = 1; c + 1 < kCategoryHeaders.size(); ++c) {
      if (c != 3) ct.SetRightAligned(c);
    }
    for (auto& row : cats) ct.AddRow(std::move(row));
    std::cout << "\ncategorical drift (last closed window per version; chi-square against the "
                 "training frequencies, its p-value assumes independent rows: alarms are the "
                 "calibrated thresholds):\n"
              << ct.Render();
  }
  return kExitOk;
}

int RunReport(const std::vector<std::string>& args) {
  FlagParser flags("bimride monitor report",
                   "The live accuracy of a running server as a Markdown report (stdout or --out).");
  std::string server = "127.0.0.1:8501", out;
  flags.AddString("server", &server, "the model server, HOST:PORT");
  flags.AddString("out", &out, "write the report to this file instead of stdout");
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  auto j = GetMonitor(server);
  if (!j.ok()) return ReportError(j.status());
  std::string md = "# Live accuracy (" + server + ")\n\nWindows of " +
                   (*j)["window_rows"].dump() +
                   " predicted rows per model version; * = still open. Metrics over the "
                   "window's labelled rows (the code `bimride eval` uses). " +
                   kEstimateLegend + ".\n\n|";
  for (const std::string& h : kHeaders) md += " " + h + " |";
  md += "\n|";
  for (size_t c = 0; c < kHeaders.size(); ++c) md += c < 3 || c + 1 == kHeaders.size() ? "---|" : "---:|";
  md += "\n";
  for (const auto& row : WindowRows(*j)) {
    md += "|";
    for (const std::string& cell : row) md += " " + cell + " |";
    md += "\n";
  }
  md += "\nLabels: " + CountersLine((*j)["counters"]) + ".\n";
  if (auto cats = CategoryRows(*j); !cats.empty()) {
    md += "\n## Categorical drift\n\nDeclared categories (zones, boroughs) in each version's last "
          "closed window: chi-square against the training frequencies (its p-value assumes "
          "independent rows; the alarm is the calibrated threshold), Cramér's V, "
          "Jensen–Shannon distance.\n\n|";
    for (const std::string& h : kCategoryHeaders) md += " " + h + " |";
    md += "\n|";
    for (size_t c = 0; c < kCategoryHeaders.size(); ++c) {
      md += c < 4 || c + 1 == kCategoryHeaders.size() ? "---|" : "---:|";
    }
    md += "\n";
    for (const auto& row : cats) {
      md += "|";
      for (const std::string& cell : row) md += " " + cell + " |";
      md += "\n";
    }
  }
  if (out.empty()) {
    std::cout << md;
  } else {
    FILE* f = std::fopen(out.c_str(), "w");
    if (f == nullptr) return ReportError(InternalError(out + ": cannot write"));
    std::fputs(md.c_str(), f);
    std::fclose(f);
  }
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
      {"report", "the same as a Markdown report", RunReport},
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
