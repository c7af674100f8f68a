#include "bench/frameworks/frameworks_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <sstream>

namespace bimride::bench {
namespace {

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string Ratio(double a, double b) {
  if (!(a > 0) || !(b > 0)) return "–";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f×", a / b);
  return buf;
}

// A table: header cells and rows of cells (already formatted).
struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

double FirstMeasured(const std::vector<EngineFigures>& rows, double EngineFigures::*field) {
  for (const EngineFigures& e : rows) {
    if (e.unavailable.empty() && e.*field > 0) return e.*field;
  }
  return kNotMeasured;
}

std::string Unavailable(const EngineFigures& e) { return "not available: " + e.unavailable; }

Table TrainingTable(const std::vector<EngineFigures>& rows, const std::string& target) {
  Table t;
  t.header = {"engine", "version", "samples/s", "vs first row", "valid MAE (" + target + ")",
              "train s", "peak MB"};
  const double base = FirstMeasured(rows, &EngineFigures::train_samples_per_s);
  for (const EngineFigures& e : rows) {
    if (!e.unavailable.empty()) {
      t.rows.push_back({e.engine, Unavailable(e), "–", "–", "–", "–", "–"});
      continue;
    }
    t.rows.push_back({e.engine, e.version, FormatFigure(e.train_samples_per_s),
                      Ratio(e.train_samples_per_s, base), FormatFigure(e.valid_mae, 3),
                      FormatFigure(e.train_seconds, 1), FormatFigure(e.peak_rss_mb)});
  }
  return t;
}

Table InferenceTable(const std::vector<EngineFigures>& rows) {
  Table t;
  t.header = {"engine",          "model it runs", "batch 1 rows/s", "batch 1 µs/row",
              "batch 256 rows/s", "cold start ms", "peak MB",       "model KB"};
  for (const EngineFigures& e : rows) {
    if (!e.unavailable.empty()) {
      t.rows.push_back({e.engine, Unavailable(e), "–", "–", "–", "–", "–", "–"});
      continue;
    }
    t.rows.push_back({e.engine, e.model, FormatFigure(e.b1_rows_per_s),
                      FormatFigure(e.b1_rows_per_s > 0 ? 1e6 / e.b1_rows_per_s : kNotMeasured, 1),
                      FormatFigure(e.b256_rows_per_s), FormatFigure(e.cold_start_ms),
                      FormatFigure(e.peak_rss_mb), FormatFigure(e.model_bytes / 1024.0, 1)});
  }
  return t;
}

std::string MarkdownTable(const Table& t) {
  std::ostringstream s;
  s << "|";
  for (const auto& h : t.header) s << " " << h << " |";
  s << "\n|";
  for (size_t i = 0; i < t.header.size(); ++i) s << (i < 2 ? "---|" : "---:|");
  s << "\n";
  for (const auto& r : t.rows) {
    s << "|";
    for (const auto& c : r) s << " " << c << " |";
    s << "\n";
  }
  return s.str();
}

std::string HtmlTable(const Table& t) {
  std::ostringstream s;
  s << "<table><tr>";
  for (const auto& h : t.header) s << "<th>" << Escape(h) << "</th>";
  s << "</tr>\n";
  for (const auto& r : t.rows) {
    s << "<tr>";
    for (size_t i = 0; i < r.size(); ++i) {
      s << (i < 2 ? "<td>" : "<td class=n>") << Escape(r[i]) << "</td>";
    }
    s << "</tr>\n";
  }
  s << "</table>\n";
  return s.str();
}

const char* FamilyColour(const std::string& family) {
  if (family == "PyTorch") return "#ee4c2c";
  if (family == "TensorFlow") return "#ff8f00";
  if (family == "XGBoost") return "#2c7fb8";
  if (family == "ONNX Runtime") return "#6a51a3";
  return "#31a354";  // ours
}

// A horizontal bar chart of one figure per engine (engines without it are left out), log scale
// when the values span more than 20×, so small and large engines both stay readable.
std::string SvgBars(const std::string& title, const std::vector<EngineFigures>& rows,
                    double EngineFigures::*field, const std::string& unit) {
  std::vector<const EngineFigures*> shown;
  for (const EngineFigures& e : rows) {
    if (e.unavailable.empty() && e.*field > 0) shown.push_back(&e);
  }
  if (shown.empty()) return "";
  double lo = shown[0]->*field, hi = lo;
  for (const EngineFigures* e : shown) {
    lo = std::min(lo, e->*field);
    hi = std::max(hi, e->*field);
  }
  const bool log = hi / lo > 20;
  const double floor = log ? lo / 2 : 0;
  auto width = [&](double v) {
    const double frac = log ? std::log(v / floor) / std::log(hi / floor) : v / hi;
    return 6 + frac * 424;
  };
  const int row_h = 22, left = 230, h = 30 + row_h * static_cast<int>(shown.size());
  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"760\" height=\"" << h
    << "\" role=\"img\" aria-label=\"" << Escape(title) << "\">\n<text x=\"4\" y=\"16\" "
    << "font-weight=\"bold\">" << Escape(title) << (log ? " (log scale)" : "") << "</text>\n";
  for (size_t i = 0; i < shown.size(); ++i) {
    const EngineFigures& e = *shown[i];
    const int y = 26 + row_h * static_cast<int>(i);
    const double v = e.*field;
    s << "<text x=\"" << left - 6 << "\" y=\"" << y + 14 << "\" text-anchor=\"end\">"
      << Escape(e.engine) << "</text><rect x=\"" << left << "\" y=\"" << y + 3 << "\" width=\""
      << width(v) << "\" height=\"" << row_h - 6 << "\" fill=\"" << FamilyColour(e.family)
      << "\"/><text x=\"" << left + width(v) + 4 << "\" y=\"" << y + 14 << "\">"
      << Escape(FormatFigure(v, v < 10 ? 2 : 0)) << " " << Escape(unit) << "</text>\n";
  }
  s << "</svg>\n";
  return s.str();
}

}  // namespace

std::string FormatFigure(double value, int decimals) {
  if (std::isnan(value)) return "–";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  const std::string s = buf;
  const size_t begin = s[0] == '-' ? 1 : 0;
  size_t end = s.find('.');
  if (end == std::string::npos) end = s.size();
  std::string out = s.substr(0, begin);
  for (size_t i = begin; i < end; ++i) {
    out += s[i];
    const size_t left = end - i - 1;
    if (left > 0 && left % 3 == 0) out += ',';
  }
  return out + s.substr(end);
}

std::string RenderFrameworksMarkdown(const FrameworksReport& r) {
  std::ostringstream s;
  s << "# " << r.title << "\n\n";
  s << "Generated by `" << r.command << "` (" << r.mode << ") at " << r.generated_at
    << ". Do not edit: rerun the command.\n\n";
  s << "**Machine:** " << r.machine << "\n\n";
  s << "## The answer\n\n";
  for (const auto& a : r.answer) s << "- " << a << "\n";
  s << "\n## How it was measured\n\n";
  for (const auto& m : r.method) s << "- " << m << "\n";
  for (const WorkloadFigures& w : r.workloads) {
    s << "\n## Workload: " << w.name << "\n\n" << w.description << ".\n\n";
    s << "### Training the same MLP (" << w.net << ")\n\n"
      << MarkdownTable(TrainingTable(w.mlp_training, w.target));
    s << "\n### Training boosted trees (" << w.trees << ")\n\n"
      << MarkdownTable(TrainingTable(w.tree_training, w.target));
    s << "\n### Inference (one thread, varied validation rows)\n\n"
      << MarkdownTable(InferenceTable(w.inference));
    if (!w.parity.empty()) {
      s << "\n### Same outputs (validation rows)\n\n";
      for (const auto& p : w.parity) s << "- " << p << "\n";
    }
  }
  return s.str();
}

std::string RenderFrameworksHtml(const FrameworksReport& r) {
  std::ostringstream s;
  s << "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" << Escape(r.title)
    << "</title>\n<style>body{font-family:sans-serif;max-width:70em;margin:1em auto;padding:0 1em}"
       "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;"
       "font-size:90%}td.n{text-align:right}svg{display:block;margin:.8em 0;font-size:12px}"
       "</style></head><body>\n";
  s << "<h1>" << Escape(r.title) << "</h1>\n<p>Generated by <code>" << Escape(r.command)
    << "</code> (" << Escape(r.mode) << ") at " << Escape(r.generated_at) << ".</p>\n<p><b>Machine:</b> "
    << Escape(r.machine) << "</p>\n<h2>The answer</h2>\n<ul>";
  for (const auto& a : r.answer) s << "<li>" << Escape(a) << "</li>";
  s << "</ul>\n<h2>How it was measured</h2>\n<ul>";
  for (const auto& m : r.method) s << "<li>" << Escape(m) << "</li>";
  s << "</ul>\n";
  for (const WorkloadFigures& w : r.workloads) {
    s << "<h2>Workload: " << Escape(w.name) << "</h2>\n<p>" << Escape(w.description) << ".</p>\n";
    s << "<h3>Training the same MLP (" << Escape(w.net) << ")</h3>\n"
      << HtmlTable(TrainingTable(w.mlp_training, w.target))
      << SvgBars(w.name + ": MLP training samples/s", w.mlp_training,
                 &EngineFigures::train_samples_per_s, "/s");
    s << "<h3>Training boosted trees (" << Escape(w.trees) << ")</h3>\n"
      << HtmlTable(TrainingTable(w.tree_training, w.target))
      << SvgBars(w.name + ": tree training samples/s", w.tree_training,
                 &EngineFigures::train_samples_per_s, "/s");
    s << "<h3>Inference (one thread, varied validation rows)</h3>\n"
      << HtmlTable(InferenceTable(w.inference))
      << SvgBars(w.name + ": batch 1 rows/s", w.inference, &EngineFigures::b1_rows_per_s, "/s")
      << SvgBars(w.name + ": batch 256 rows/s", w.inference, &EngineFigures::b256_rows_per_s, "/s")
      << SvgBars(w.name + ": cold start to first prediction", w.inference,
                 &EngineFigures::cold_start_ms, "ms")
      << SvgBars(w.name + ": peak memory of the inference process", w.inference,
                 &EngineFigures::peak_rss_mb, "MB");
    if (!w.parity.empty()) {
      s << "<h3>Same outputs (validation rows)</h3>\n<ul>";
      for (const auto& p : w.parity) s << "<li>" << Escape(p) << "</li>";
      s << "</ul>\n";
    }
  }
  s << "</body></html>\n";
  return s.str();
}

}  // namespace bimride::bench
