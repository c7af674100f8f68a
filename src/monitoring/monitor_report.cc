#include "monitoring/monitor_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>

#include <nlohmann/json.hpp>

namespace bimride::monitoring {
namespace {

using json = nlohmann::json;

std::string Num(const json& v, const char* fmt = "%.3f") {
  if (!v.is_number()) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, fmt, v.get<double>());
  return buf;
}

std::string Fmt(const char* fmt, double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

double Number(const json& w, const char* key) {
  auto it = w.find(key);
  return it != w.end() && it->is_number() ? it->get<double>()
                                          : std::numeric_limits<double>::quiet_NaN();
}

// Checks what the tables read of each window, so that nothing below can throw.
Status CheckMonitorJson(const json& j, std::string_view source) {
  const std::string where = std::string(source) + "/v1/monitor";
  if (!j.is_object()) return InvalidArgumentError(where + ": not a JSON object");
  if (!j.contains("window_rows") || !j["window_rows"].is_number_integer()) {
    return InvalidArgumentError(where + ": 'window_rows' missing or not an integer");
  }
  if (!j.contains("counters") || !j["counters"].is_object()) {
    return InvalidArgumentError(where + ": 'counters' missing or not an object");
  }
  if (!j.contains("windows") || !j["windows"].is_array()) {
    return InvalidArgumentError(where + ": 'windows' missing or not a list");
  }
  for (size_t i = 0; i < j["windows"].size(); ++i) {
    const json& w = j["windows"][i];
    const std::string at = where + ": windows[" + std::to_string(i) + "]";
    if (!w.is_object()) return InvalidArgumentError(at + ": not an object");
    if (!w.contains("model") || !w["model"].is_string()) {
      return InvalidArgumentError(at + ": 'model' missing or not a string");
    }
    for (const char* key : {"version", "window", "predicted_rows", "labelled_rows",
                            "late_labels"}) {
      if (!w.contains(key) || !w[key].is_number_integer()) {
        return InvalidArgumentError(at + ": '" + key + "' missing or not an integer");
      }
    }
    if (!w.contains("closed") || !w["closed"].is_boolean()) {
      return InvalidArgumentError(at + ": 'closed' missing or not true/false");
    }
    if (w.contains("drift")) {
      if (!w["drift"].is_object()) return InvalidArgumentError(at + ": 'drift' not an object");
      for (auto f = w["drift"].begin(); f != w["drift"].end(); ++f) {
        if (!f->is_object()) {
          return InvalidArgumentError(at + ": drift '" + f.key() + "' not an object");
        }
        if (f->contains("above") && !(*f)["above"].is_string()) {
          return InvalidArgumentError(at + ": drift '" + f.key() + "': 'above' not a string");
        }
        if (f->contains("error") && !(*f)["error"].is_string()) {
          return InvalidArgumentError(at + ": drift '" + f.key() + "': 'error' not a string");
        }
      }
    }
    for (const char* key : {"drift_calibrated", "drift_alarm"}) {
      if (w.contains(key) && !w[key].is_boolean()) {
        return InvalidArgumentError(at + ": '" + key + "' not true/false");
      }
    }
  }
  for (const char* key : {"labels", "joined", "late", "duplicate", "missing", "unmatched",
                          "waiting_labels"}) {
    if (!j["counters"].contains(key) || !j["counters"][key].is_number_integer()) {
      return InvalidArgumentError(where + ": counters '" + key + "' missing or not an integer");
    }
  }
  return OkStatus();
}

StatusOr<json> ParseMonitorJson(std::string_view text, std::string_view source) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return InvalidArgumentError(std::string(source) + "/v1/monitor: not JSON");
  }
  RETURN_IF_ERROR(CheckMonitorJson(j, source));
  return j;
}

bool IsCategorical(const json& f) { return f.value("kind", "") == "categorical"; }

// "-" without a baseline; "ok"; "(open)" for a window still filling (no alarms yet); or
// "ALARM: f1 f2 f3…" (the features above a threshold: declared categories first, by Cramér's V,
// then the numeric ones by PSI).
std::string DriftCell(const json& w) {
  if (!w.contains("drift")) return "-";
  std::vector<std::pair<double, std::string>> above;
  for (auto it = w["drift"].begin(); it != w["drift"].end(); ++it) {
    if (!it->contains("above")) continue;
    const double v = IsCategorical(*it) ? 1e9 + Number(*it, "cramers_v") : Number(*it, "psi");
    above.push_back({std::isfinite(v) ? -v : 0, it.key()});
  }
  if (above.empty()) {
    if (!w.value("drift_calibrated", false)) return "(uncalibrated)";
    return w["closed"].get<bool>() ? "ok" : "(open)";  // open windows do not alarm
  }
  std::sort(above.begin(), above.end());
  std::string cell = "ALARM:";
  for (size_t i = 0; i < above.size() && i < 3; ++i) cell += " " + above[i].second;
  if (above.size() > 3) cell += " +" + std::to_string(above.size() - 3);
  return cell;
}

std::vector<std::vector<std::string>> CategoryRows(const json& j) {
  std::map<std::pair<std::string, int64_t>, const json*> last;  // per version: last closed
  for (const json& w : j["windows"]) {
    if (!w["closed"].get<bool>() || !w.contains("drift")) continue;
    last[{w["model"].get<std::string>(), w["version"].get<int64_t>()}] = &w;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& [key, w] : last) {
    for (auto it = (*w)["drift"].begin(); it != (*w)["drift"].end(); ++it) {
      if (!IsCategorical(*it)) continue;
      const json& f = *it;
      std::vector<std::string> row = {key.first, std::to_string(key.second),
                                      std::to_string((*w)["window"].get<int64_t>()), it.key()};
      if (f.contains("error")) {
        row.insert(row.end(), {"-", "-", "-", "-", "-", f["error"].get<std::string>()});
      } else {
        row.insert(row.end(),
                   {Num(f.value("chi2", json()), "%.1f"), Num(f.value("df", json()), "%.0f"),
                    Num(f.value("p_value", json()), "%.2g"), Num(f.value("cramers_v", json())),
                    Num(f.value("js_distance", json())),
                    f.contains("above") ? "ALARM: " + f["above"].get<std::string>()
                    : w->value("drift_calibrated", false) ? "ok"
                                                          : "(uncalibrated)"});
      }
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

std::vector<std::string> WindowRow(const json& w) {
  const bool labelled = w["labelled_rows"].get<int64_t>() > 0;
  const json none;
  return {w["model"].get<std::string>(),
          std::to_string(w["version"].get<int64_t>()),
          std::to_string(w["window"].get<int64_t>()) + (w["closed"].get<bool>() ? "" : "*"),
          std::to_string(w["predicted_rows"].get<int64_t>()),
          std::to_string(w["labelled_rows"].get<int64_t>()),
          std::to_string(w["late_labels"].get<int64_t>()),
          Num(w.value("estimated_rmse", none)),
          Num(w.value("estimated_rmse_unanchored", none)),
          Num(w.value("estimate_anchor_rows", none), "%.0f"),
          labelled ? Num(w.value("rmse", none)) : "-",
          labelled ? Num(w.value("mae", none)) : "-",
          labelled ? Num(w.value("bias", none), "%+.3f") : "-",
          DriftCell(w)};
}

std::string CountersLine(const json& c) {
  return "labels " + c["labels"].dump() + ", joined " + c["joined"].dump() + ", late " +
         c["late"].dump() + ", duplicate " + c["duplicate"].dump() + ", missing " +
         c["missing"].dump() + ", unmatched " + c["unmatched"].dump() + ", waiting " +
         c["waiting_labels"].dump();
}

MonitorTables TablesOf(const json& j) {
  MonitorTables t;
  t.window_rows = j["window_rows"].get<int64_t>();
  t.window_headers = {"MODEL",   "VERSION", "WINDOW", "PREDICTED", "LABELLED", "LATE", "EST RMSE",
                      "EST RAW", "ANCHOR",  "RMSE",   "MAE",       "BIAS",     "DRIFT"};
  for (const json& w : j["windows"]) t.windows.push_back(WindowRow(w));
  t.category_headers = {"MODEL", "VERSION", "WINDOW",   "FEATURE", "CHI2",
                        "DF",    "P",       "CRAMER V", "JS DIST", "ALARM"};
  t.categories = CategoryRows(j);
  t.counters = CountersLine(j["counters"]);
  return t;
}

std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// --- charts --------------------------------------------------------------------------------

struct Series {
  std::string name, color;
  std::vector<std::pair<double, double>> points;  // (window, value); NaN values are gaps
};

// A line chart over windows: one polyline per run of finite points of each series, a red tick
// under each alarmed window, axes with a few labelled ticks.
std::string LineChart(const std::string& title, const std::string& y_label,
                      const std::vector<Series>& series, const std::vector<double>& alarms) {
  constexpr double kW = 860, kH = 280, kLeft = 60, kRight = 250, kTop = 30, kBottom = 40;
  constexpr int kYTicks = 5;
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y1 = 0;
  for (const Series& s : series) {
    for (auto [x, y] : s.points) {
      x0 = std::min(x0, x);
      x1 = std::max(x1, x);
      if (std::isfinite(y)) y1 = std::max(y1, y);
    }
  }
  for (double x : alarms) x0 = std::min(x0, x), x1 = std::max(x1, x);
  if (!std::isfinite(x0)) x0 = 0, x1 = 1;
  if (x1 <= x0) x1 = x0 + 1;
  // A round tick step (1, 2, 2.5 or 5 × 10^k) whose kYTicks steps reach the largest value.
  double step = std::pow(10.0, std::floor(std::log10(y1 > 0 ? y1 / kYTicks : 0.2)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (m * step * kYTicks >= y1) {
      step *= m;
      break;
    }
  }
  const double top = std::max(step * kYTicks, 1e-12);
  const double pw = kW - kLeft - kRight, ph = kH - kTop - kBottom;
  auto px = [&](double x) { return kLeft + (x - x0) / (x1 - x0) * pw; };
  auto py = [&](double y) { return kTop + ph - y / top * ph; };
  std::string s = "<svg xmlns='http://www.w3.org/2000/svg' width='" + Fmt("%.0f", kW) +
                  "' height='" + Fmt("%.0f", kH) + "' font-family='sans-serif' font-size='11'>\n";
  s += "<text x='" + Fmt("%.0f", kLeft) + "' y='16' font-size='13'>" + Escape(title) +
       "</text>\n";
  for (int k = 0; k <= kYTicks; ++k) {
    const double y = py(step * k);
    s += "<line x1='" + Fmt("%.1f", kLeft) + "' x2='" + Fmt("%.1f", kLeft + pw) + "' y1='" +
         Fmt("%.1f", y) + "' y2='" + Fmt("%.1f", y) + "' stroke='#ddd'/>";
    s += "<text x='" + Fmt("%.1f", kLeft - 6) + "' y='" + Fmt("%.1f", y + 4) +
         "' text-anchor='end'>" + Fmt("%g", step * k) + "</text>\n";
  }
  const int xticks = static_cast<int>(std::min(6.0, x1 - x0));
  for (int k = 0; k <= xticks; ++k) {
    const double x = std::round(x0 + (x1 - x0) * k / std::max(1, xticks));
    s += "<text x='" + Fmt("%.1f", px(x)) + "' y='" + Fmt("%.1f", kTop + ph + 16) +
         "' text-anchor='middle'>" + Fmt("%.0f", x) + "</text>";
  }
  s += "\n<text x='" + Fmt("%.1f", kLeft + pw / 2) + "' y='" + Fmt("%.1f", kH - 6) +
       "' text-anchor='middle'>window</text>";
  s += "<text x='14' y='" + Fmt("%.1f", kTop + ph / 2) + "' transform='rotate(-90 14 " +
       Fmt("%.1f", kTop + ph / 2) + ")' text-anchor='middle'>" + Escape(y_label) + "</text>\n";
  for (double x : alarms) {
    s += "<line class='alarm' x1='" + Fmt("%.1f", px(x)) + "' x2='" + Fmt("%.1f", px(x)) +
         "' y1='" + Fmt("%.1f", kTop + ph) + "' y2='" + Fmt("%.1f", kTop + ph - 8) +
         "' stroke='#d62728' stroke-width='2'/>";
  }
  if (!alarms.empty()) s += "\n";
  for (size_t i = 0; i < series.size(); ++i) {
    const Series& ser = series[i];
    std::string run;
    auto flush = [&] {
      if (run.empty()) return;
      s += "<polyline fill='none' stroke='" + ser.color + "' stroke-width='1.5' points='" + run +
           "'><title>" + Escape(ser.name) + "</title></polyline>\n";
      run.clear();
    };
    for (auto [x, y] : ser.points) {
      if (!std::isfinite(y)) {
        flush();
        continue;
      }
      run += (run.empty() ? "" : " ") + Fmt("%.1f", px(x)) + "," + Fmt("%.1f", py(y));
    }
    flush();
    const double ly = kTop + 10 + 16 * static_cast<double>(i);
    s += "<line x1='" + Fmt("%.1f", kW - kRight + 12) + "' x2='" + Fmt("%.1f", kW - kRight + 30) +
         "' y1='" + Fmt("%.1f", ly) + "' y2='" + Fmt("%.1f", ly) + "' stroke='" + ser.color +
         "' stroke-width='2'/><text x='" + Fmt("%.1f", kW - kRight + 34) + "' y='" +
         Fmt("%.1f", ly + 4) + "'>" + Escape(ser.name) + "</text>\n";
  }
  if (!alarms.empty()) {
    const double ly = kTop + 10 + 16 * static_cast<double>(series.size());
    s += "<line x1='" + Fmt("%.1f", kW - kRight + 21) + "' x2='" + Fmt("%.1f", kW - kRight + 21) +
         "' y1='" + Fmt("%.1f", ly + 4) + "' y2='" + Fmt("%.1f", ly - 4) +
         "' stroke='#d62728' stroke-width='2'/><text x='" + Fmt("%.1f", kW - kRight + 34) +
         "' y='" + Fmt("%.1f", ly + 4) + "'>drift alarm</text>\n";
  }
  return s + "</svg>\n";
}

const char* const kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b",
                                "#e377c2", "#7f7f7f", "#bcbd22"};

struct VersionCharts {
  std::string model;
  int64_t version = 0;
  std::string accuracy, drift;  // SVG; drift empty without numeric drift scores
};

// Per model version with windows: realised against estimated RMSE; and the PSI of the numeric
// features that were above their threshold in the most windows (then by largest PSI), at most 5.
std::vector<VersionCharts> Charts(const json& j) {
  std::map<std::pair<std::string, int64_t>, std::vector<const json*>> by_version;
  for (const json& w : j["windows"]) {
    by_version[{w["model"].get<std::string>(), w["version"].get<int64_t>()}].push_back(&w);
  }
  std::vector<VersionCharts> out;
  for (const auto& [key, windows] : by_version) {
    VersionCharts c{key.first, key.second, "", ""};
    Series real{"realised RMSE", "#000000", {}}, est{"estimated (anchored)", kPalette[0], {}},
        raw{"estimated (inputs only)", kPalette[1], {}};
    std::vector<double> alarms;
    std::map<std::string, std::pair<int, double>> rank;  // feature → (windows above, max PSI)
    for (const json* w : windows) {
      const double x = static_cast<double>((*w)["window"].get<int64_t>());
      const bool labelled = (*w)["labelled_rows"].get<int64_t>() > 0;
      real.points.push_back({x, labelled ? Number(*w, "rmse")
                                         : std::numeric_limits<double>::quiet_NaN()});
      est.points.push_back({x, Number(*w, "estimated_rmse")});
      raw.points.push_back({x, Number(*w, "estimated_rmse_unanchored")});
      if (w->value("drift_alarm", false)) alarms.push_back(x);
      if (!w->contains("drift")) continue;
      for (auto f = (*w)["drift"].begin(); f != (*w)["drift"].end(); ++f) {
        if (IsCategorical(*f)) continue;
        auto& [above, max_psi] = rank[f.key()];
        above += f->contains("above") ? 1 : 0;
        const double psi = Number(*f, "psi");
        if (std::isfinite(psi)) max_psi = std::max(max_psi, psi);
      }
    }
    const std::string name = key.first + " version " + std::to_string(key.second);
    c.accuracy = LineChart(name + ": realised and estimated RMSE by window", "RMSE",
                           {real, est, raw}, alarms);
    std::vector<std::pair<std::pair<int, double>, std::string>> order;
    for (const auto& [feature, r] : rank) order.push_back({r, feature});
    std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    std::vector<Series> drift;
    for (size_t i = 0; i < order.size() && i < 5; ++i) {
      Series s{order[i].second, kPalette[i % 8], {}};
      for (const json* w : windows) {
        const double x = static_cast<double>((*w)["window"].get<int64_t>());
        double psi = std::numeric_limits<double>::quiet_NaN();
        if (w->contains("drift") && (*w)["drift"].contains(order[i].second)) {
          psi = Number((*w)["drift"][order[i].second], "psi");
        }
        s.points.push_back({x, psi});
      }
      drift.push_back(std::move(s));
    }
    if (!drift.empty()) {
      c.drift = LineChart(name + ": drift (PSI) of the features alarming most", "PSI", drift,
                          alarms);
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::string FileName(const std::string& model, int64_t version, const char* what) {
  std::string safe;
  for (char ch : model) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.';
    safe += ok ? ch : '_';
  }
  return safe + "_v" + std::to_string(version) + "_" + what + ".svg";
}

std::string MarkdownTable(const std::vector<std::string>& headers,
                          const std::vector<std::vector<std::string>>& rows, size_t left) {
  std::string md = "|";
  for (const std::string& h : headers) md += " " + h + " |";
  md += "\n|";
  for (size_t c = 0; c < headers.size(); ++c) {
    md += c < left || c + 1 == headers.size() ? "---|" : "---:|";
  }
  md += "\n";
  for (const auto& row : rows) {
    md += "|";
    for (const std::string& cell : row) md += " " + cell + " |";
    md += "\n";
  }
  return md;
}

std::string HtmlTable(const std::vector<std::string>& headers,
                      const std::vector<std::vector<std::string>>& rows, size_t left) {
  std::string h = "<table>\n<tr>";
  for (const std::string& c : headers) h += "<th>" + Escape(c) + "</th>";
  h += "</tr>\n";
  for (const auto& row : rows) {
    h += "<tr>";
    for (size_t c = 0; c < row.size(); ++c) {
      const bool text = c < left || c + 1 == row.size();
      h += std::string(text ? "<td class='t'>" : "<td>") + Escape(row[c]) + "</td>";
    }
    h += "</tr>\n";
  }
  return h + "</table>\n";
}

const char kIntro[] =
    " predicted rows per model version; * = still open. Metrics over the window's labelled rows "
    "(the code `bimride eval` uses). ";
const char kCategoryIntro[] =
    "Declared categories (zones, boroughs) in each version's last closed window: chi-square "
    "against the training frequencies (its p-value assumes independent rows; the alarm is the "
    "calibrated threshold), Cramér's V, Jensen–Shannon distance.";
const char kChartIntro[] =
    "Per model version: the realised RMSE of each window's labelled rows beside its estimate "
    "before labels (anchored, and the loss estimator on the inputs alone); then the PSI of the "
    "numeric features above their calibrated thresholds in the most windows. Red ticks: windows "
    "whose drift alarm fired.";

}  // namespace

const char kEstimateLegend[] =
    "EST RMSE: estimated before the window's labels (the loss estimator on its inputs, EST RAW, "
    "corrected by the realised/estimated error of ANCHOR labelled rows of the windows before it)";

StatusOr<MonitorTables> MonitorTablesFromJson(std::string_view monitor_json,
                                              std::string_view source) {
  ASSIGN_OR_RETURN(json j, ParseMonitorJson(monitor_json, source));
  return TablesOf(j);
}

StatusOr<MonitorReport> RenderMonitorReport(std::string_view monitor_json, std::string_view source,
                                            ReportFormat format, bool with_charts,
                                            std::string_view chart_link_prefix) {
  ASSIGN_OR_RETURN(json j, ParseMonitorJson(monitor_json, source));
  const MonitorTables t = TablesOf(j);
  const std::vector<VersionCharts> charts = with_charts ? Charts(j) : std::vector<VersionCharts>{};
  const std::string title = "Live accuracy (" + std::string(source) + ")";
  const std::string intro =
      "Windows of " + std::to_string(t.window_rows) + kIntro + kEstimateLegend + ".";
  MonitorReport r;
  if (format == ReportFormat::kMarkdown) {
    std::string& md = r.text;
    md = "# " + title + "\n\n" + intro + "\n\n";
    md += MarkdownTable(t.window_headers, t.windows, 3);
    md += "\nLabels: " + t.counters + ".\n";
    if (!t.categories.empty()) {
      md += "\n## Categorical drift\n\n" + std::string(kCategoryIntro) + "\n\n" +
            MarkdownTable(t.category_headers, t.categories, 4);
    }
    md += "\n## Charts\n\n";
    if (!with_charts) {
      md += "(Not drawn: the report went to standard output; `--out FILE` writes the charts "
            "beside it.)\n";
    } else if (charts.empty()) {
      md += "No windows yet.\n";
    } else {
      md += std::string(kChartIntro) + "\n\n";
      for (const VersionCharts& c : charts) {
        const std::string acc = FileName(c.model, c.version, "accuracy");
        md += "![" + c.model + " version " + std::to_string(c.version) + ": accuracy](" +
              std::string(chart_link_prefix) + acc + ")\n\n";
        r.charts.push_back({acc, c.accuracy});
        if (!c.drift.empty()) {
          const std::string dr = FileName(c.model, c.version, "drift");
          md += "![" + c.model + " version " + std::to_string(c.version) + ": drift](" +
                std::string(chart_link_prefix) + dr + ")\n\n";
          r.charts.push_back({dr, c.drift});
        }
      }
    }
    return r;
  }
  std::string& h = r.text;
  h = "<!doctype html>\n<html><head><meta charset='utf-8'><title>" + Escape(title) +
      "</title>\n<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;"
      "font-size:13px}th,td{border:1px solid #ccc;padding:2px 6px;text-align:right}"
      "td.t{text-align:left}th{background:#f4f4f4}</style></head><body>\n<h1>" +
      Escape(title) + "</h1>\n<p>" + Escape(intro) + "</p>\n";
  if (with_charts) {
    h += "<h2>Charts</h2>\n<p>" + Escape(kChartIntro) + "</p>\n";
    if (charts.empty()) h += "<p>No windows yet.</p>\n";
    for (const VersionCharts& c : charts) h += "<div>\n" + c.accuracy + c.drift + "</div>\n";
  }
  h += "<h2>Windows</h2>\n" + HtmlTable(t.window_headers, t.windows, 3);
  h += "<p>Labels: " + Escape(t.counters) + ".</p>\n";
  if (!t.categories.empty()) {
    h += "<h2>Categorical drift</h2>\n<p>" + Escape(kCategoryIntro) + "</p>\n" +
         HtmlTable(t.category_headers, t.categories, 4);
  }
  h += "</body></html>\n";
  return r;
}

}  // namespace bimride::monitoring
