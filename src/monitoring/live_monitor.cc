#include "monitoring/live_monitor.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/file.h"
#include "common/logging.h"

namespace bimride::monitoring {
namespace {

using json = nlohmann::json;

StatusOr<Feedback> ParseItem(const json& item, const std::string& where) {
  if (!item.is_object()) return InvalidArgumentError(where + ": must be a JSON object");
  Feedback f;
  bool have_id = false, have_actual = false;
  for (auto it = item.begin(); it != item.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    if (k == "request_id" || k == "key") {
      if (have_id) return InvalidArgumentError(where + ": give one of request_id and key");
      if (!v.is_string() || v.get_ref<const std::string&>().empty()) {
        return InvalidArgumentError(where + "." + k + ": must be a non-empty string");
      }
      f.request_id = v.get<std::string>();
      have_id = true;
    } else if (k == "actual") {
      if (!v.is_number()) return InvalidArgumentError(where + ".actual: must be a number");
      f.actual = v.get<double>();
      if (!std::isfinite(f.actual)) {
        return InvalidArgumentError(where + ".actual: must be finite");
      }
      have_actual = true;
    } else if (k == "row") {
      if (!v.is_number_integer() || v.get<int64_t>() < 0) {
        return InvalidArgumentError(where + ".row: must be an integer >= 0");
      }
      f.row = v.get<int64_t>();
    } else {
      return InvalidArgumentError(where + ": unknown key '" + k +
                                  "'; expected request_id (or key), actual, row");
    }
  }
  if (!have_id) return InvalidArgumentError(where + ": missing request_id (or key)");
  if (!have_actual) return InvalidArgumentError(where + ": missing actual");
  return f;
}

std::vector<std::string> SplitComma(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t c = line.find(',', start);
    std::string cell = line.substr(start, c == std::string::npos ? std::string::npos : c - start);
    while (!cell.empty() && (cell.back() == '\r' || cell.back() == ' ')) cell.pop_back();
    while (!cell.empty() && cell.front() == ' ') cell.erase(cell.begin());
    out.push_back(std::move(cell));
    if (c == std::string::npos) return out;
    start = c + 1;
  }
}

}  // namespace

StatusOr<std::vector<Feedback>> ParseFeedbackJson(std::string_view text, std::string_view source,
                                                  size_t max_items) {
  const std::string src(source);
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return InvalidArgumentError(src + ": not valid JSON");
  const json* items = &doc;
  if (doc.is_object() && doc.contains("feedback")) {
    if (doc.size() != 1) {
      return InvalidArgumentError(src + ": an object with 'feedback' must have no other key");
    }
    items = &doc["feedback"];
    if (!items->is_array()) return InvalidArgumentError(src + ": feedback: must be a list");
  }
  std::vector<Feedback> out;
  if (items->is_object()) {
    ASSIGN_OR_RETURN(Feedback f, ParseItem(*items, src));
    out.push_back(std::move(f));
    return out;
  }
  if (!items->is_array()) {
    return InvalidArgumentError(src + ": expected a feedback object, a list of them, or "
                                      "{\"feedback\": [...]}");
  }
  if (items->empty()) return InvalidArgumentError(src + ": no feedback items");
  if (items->size() > max_items) {
    return InvalidArgumentError(src + ": " + std::to_string(items->size()) +
                                " feedback items; at most " + std::to_string(max_items) +
                                " per request");
  }
  out.reserve(items->size());
  for (size_t i = 0; i < items->size(); ++i) {
    ASSIGN_OR_RETURN(Feedback f,
                     ParseItem((*items)[i], src + ": feedback[" + std::to_string(i) + "]"));
    out.push_back(std::move(f));
  }
  return out;
}

StatusOr<std::vector<Feedback>> ReadFeedbackFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return InvalidArgumentError(path + ": empty");
  if (text[first] == '{' || text[first] == '[') {
    return ParseFeedbackJson(text, path, std::numeric_limits<size_t>::max());
  }
  std::vector<Feedback> out;
  int id_col = -1, actual_col = -1, row_col = -1;
  size_t pos = 0;
  int64_t line_no = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.empty() || line == "\r") continue;
    std::vector<std::string> cells = SplitComma(line);
    const std::string where = path + ":" + std::to_string(line_no);
    if (id_col < 0 && actual_col < 0) {
      for (size_t i = 0; i < cells.size(); ++i) {
        if (cells[i] == "request_id" || cells[i] == "key") id_col = static_cast<int>(i);
        else if (cells[i] == "actual") actual_col = static_cast<int>(i);
        else if (cells[i] == "row") row_col = static_cast<int>(i);
      }
      if (id_col < 0 || actual_col < 0) {
        return InvalidArgumentError(where + ": the CSV header must name request_id (or key) "
                                            "and actual (and may name row)");
      }
      continue;
    }
    const size_t need = static_cast<size_t>(std::max({id_col, actual_col, row_col})) + 1;
    if (cells.size() < need) {
      return InvalidArgumentError(where + ": " + std::to_string(cells.size()) +
                                  " fields; the header has " + std::to_string(need));
    }
    Feedback f;
    f.request_id = cells[id_col];
    if (f.request_id.empty()) return InvalidArgumentError(where + ": empty request_id");
    char* stop = nullptr;
    f.actual = std::strtod(cells[actual_col].c_str(), &stop);
    if (cells[actual_col].empty() || *stop != '\0' || !std::isfinite(f.actual)) {
      return InvalidArgumentError(where + ": actual '" + cells[actual_col] +
                                  "' is not a finite number");
    }
    if (row_col >= 0) {
      const long long r = std::strtoll(cells[row_col].c_str(), &stop, 10);
      if (cells[row_col].empty() || *stop != '\0' || r < 0) {
        return InvalidArgumentError(where + ": row '" + cells[row_col] +
                                    "' is not an integer >= 0");
      }
      f.row = r;
    }
    out.push_back(std::move(f));
  }
  if (out.empty()) return InvalidArgumentError(path + ": no feedback rows");
  return out;
}

StatusOr<std::unique_ptr<LiveMonitor>> LiveMonitor::Create(LiveMonitorOptions options,
                                                           DriftBaselineLoader baselines) {
  if (options.window_rows < 1 || options.max_pending_rows < 1 || options.max_waiting_labels < 1 ||
      options.max_windows < 1) {
    return InvalidArgumentError(
        "monitor: window_rows, max_pending_rows, max_waiting_labels and max_windows must be "
        "positive");
  }
  if (options.anchor_windows < 0 || options.anchor_prior_rows < 0) {
    return InvalidArgumentError("monitor: anchor_windows and anchor_prior_rows must be >= 0");
  }
  return std::unique_ptr<LiveMonitor>(new LiveMonitor(options, std::move(baselines)));
}

std::string LiveMonitor::RowKey(std::string_view id, int64_t row) {
  std::string key(id);
  key += '\x1f';
  key += std::to_string(row);
  return key;
}

void LiveMonitor::PrepareDrift(VersionState& vs, const PredictionBatch& batch) {
  if (!vs.baseline_tried) {
    vs.baseline_tried = true;
    if (baselines_) {
      StatusOr<DriftBaseline> b = baselines_(batch.model, batch.version);
      if (b.ok()) {
        vs.baseline = std::move(b).value();
      } else {
        BIMRIDE_LOG(WARN) << "monitor: model " << batch.model << " version " << batch.version
                          << ": no drift baseline: " << b.status().message();
      }
    }
  }
  if (!vs.baseline || vs.column_names == batch.feature_names) return;
  // Map the batch's feature columns onto the baseline's features (once per naming).
  vs.column_names = batch.feature_names;
  vs.drift_features.clear();
  vs.drift_stats.clear();
  vs.drift_categories.clear();
  vs.drift_cells.clear();
  vs.drift_columns.clear();
  for (size_t k = 0; k < batch.feature_names.size(); ++k) {
    // A declared category (the manifest's category_stats) is counted in its categories.
    if (auto c = vs.baseline->categories.find(batch.feature_names[k]);
        c != vs.baseline->categories.end()) {
      vs.drift_features.push_back(c->first);
      vs.drift_stats.push_back(nullptr);
      vs.drift_categories.push_back(&c->second);
      vs.drift_cells.push_back(std::make_shared<const CategoryCells>(c->second));
      vs.drift_columns.push_back(static_cast<int>(k));
      continue;
    }
    auto it = vs.baseline->stats.find(batch.feature_names[k]);
    if (it == vs.baseline->stats.end() || it->second.histogram.counts.empty()) continue;
    vs.drift_features.push_back(it->first);
    vs.drift_stats.push_back(&it->second);
    vs.drift_categories.push_back(nullptr);
    vs.drift_cells.push_back(nullptr);
    vs.drift_columns.push_back(static_cast<int>(k));
  }
  // The outputs too, when the baseline has their stats (drift of the output): column −(k + 1).
  for (size_t k = 0; k < batch.output_names.size(); ++k) {
    auto it = vs.baseline->stats.find(batch.output_names[k]);
    if (it == vs.baseline->stats.end() || it->second.histogram.counts.empty()) continue;
    vs.drift_features.push_back(it->first);
    vs.drift_stats.push_back(&it->second);
    vs.drift_categories.push_back(nullptr);
    vs.drift_cells.push_back(nullptr);
    vs.drift_columns.push_back(-static_cast<int>(k) - 1);
  }
  vs.loss_columns.clear();
  vs.loss_ready = false;
  if (vs.baseline->loss_estimator) {
    for (const std::string& name : vs.baseline->loss_features) {
      auto it = std::find(batch.feature_names.begin(), batch.feature_names.end(), name);
      if (it == batch.feature_names.end()) {
        BIMRIDE_LOG(WARN) << "monitor: model " << batch.model << " version " << batch.version
                          << ": no estimated accuracy: the log has no feature '" << name << "'";
        vs.loss_columns.clear();
        return;
      }
      vs.loss_columns.push_back(static_cast<int>(it - batch.feature_names.begin()));
    }
    vs.loss_ready = true;
  }
}

static int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void LiveMonitor::SetLabelSink(LabelSink sink) {
  std::lock_guard<std::mutex> lock(sink_mu_);
  sink_ = std::move(sink);
}

void LiveMonitor::DeliverLabels() {
  std::lock_guard<std::mutex> sink_lock(sink_mu_);
  std::vector<LabelRecord> out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    out.swap(labels_out_);
  }
  if (sink_ && !out.empty()) sink_(std::move(out));
}

void LiveMonitor::Observe(const PredictionBatch& batch) {
  ObserveRun(&batch, 1);
  DeliverLabels();
}

void LiveMonitor::ObserveAll(const std::vector<PredictionBatch>& batches) {
  size_t i = 0;
  while (i < batches.size()) {
    const PredictionBatch& first = batches[i];
    size_t j = i + 1;
    while (j < batches.size() && batches[j].version == first.version &&
           batches[j].model == first.model && batches[j].feature_names == first.feature_names &&
           batches[j].output_names == first.output_names) {
      ++j;
    }
    ObserveRun(&batches[i], j - i);
    i = j;
  }
  DeliverLabels();
}

void LiveMonitor::ObserveRun(const PredictionBatch* batches, size_t n) {
  const PredictionBatch& first = batches[0];
  if (first.output_names.empty()) return;
  const size_t ny = first.output_names.size();
  const size_t nf = first.feature_names.size();
  int64_t run_rows = 0;
  for (size_t i = 0; i < n; ++i) run_rows += std::max<int64_t>(batches[i].rows, 0);
  if (run_rows < 1) return;
  std::lock_guard<std::mutex> lock(mu_);
  VersionState& vs = versions_[{first.model, first.version}];
  PrepareDrift(vs, first);
  // Each row's expected squared error (the version's loss estimator), before any label: one
  // call for the whole run.
  std::vector<float> estimated;
  if (vs.loss_ready && nf > 0) {
    const size_t width = vs.loss_columns.size() + 1;
    std::vector<float> x(static_cast<size_t>(run_rows) * width);
    float* row = x.data();
    for (size_t i = 0; i < n; ++i) {
      const PredictionBatch& batch = batches[i];
      for (int64_t r = 0; r < batch.rows; ++r, row += width) {
        for (size_t c = 0; c < vs.loss_columns.size(); ++c) {
          row[c] = batch.features[static_cast<size_t>(r) * nf + vs.loss_columns[c]];
        }
        row[width - 1] = batch.outputs[static_cast<size_t>(r) * ny];
      }
    }
    StatusOr<std::vector<float>> e = vs.baseline->loss_estimator(x, run_rows);
    if (e.ok() && static_cast<int64_t>(e->size()) == run_rows) {
      estimated = std::move(e).value();
    } else {
      BIMRIDE_LOG(WARN) << "monitor: model " << first.model << " version " << first.version
                        << ": loss estimator failed, estimates stop: "
                        << (e.ok() ? std::string("wrong row count") : e.status().message());
      vs.loss_ready = false;
    }
  }
  size_t estimate_at = 0;
  for (size_t i = 0; i < n; ++i) {
    const PredictionBatch& batch = batches[i];
    if (batch.rows < 1) continue;
    ObserveRows(vs, batch, estimated.empty() ? nullptr : estimated.data() + estimate_at);
    estimate_at += static_cast<size_t>(batch.rows);
  }
}

void LiveMonitor::ObserveRows(VersionState& vs, const PredictionBatch& batch,
                              const float* estimated) {
  const size_t ny = batch.output_names.size();
  const size_t nf = batch.feature_names.size();
  counters_.predicted_rows += batch.rows;
  for (int64_t r = 0; r < batch.rows; ++r) {
    const int64_t seq = vs.next_seq++;
    const int64_t index = seq / options_.window_rows;
    Window& w = vs.windows[index];
    if (w.predicted_rows++ == 0) {
      w.first_time_us = batch.time_us;
      AnchorWindow(vs, index, w);
    }
    w.last_time_us = batch.time_us;
    float estimated_sq = std::numeric_limits<float>::quiet_NaN();
    if (estimated != nullptr) {
      const float e = estimated[static_cast<size_t>(r)];
      estimated_sq = std::isfinite(e) ? std::max(0.0f, e) : 0.0f;
      w.estimated_sq_sum += estimated_sq;
      ++w.estimated_rows;
    }
    if (!vs.drift_columns.empty()) {
      if (w.bins.empty()) {
        for (size_t d = 0; d < vs.drift_columns.size(); ++d) {
          w.bins.emplace_back(vs.drift_cells[d] ? vs.drift_cells[d]->cells()
                                                : vs.drift_stats[d]->histogram.counts.size() + 2,
                              0);
        }
      }
      for (size_t d = 0; d < vs.drift_columns.size(); ++d) {
        const int c = vs.drift_columns[d];
        const float v = c >= 0 ? batch.features[static_cast<size_t>(r) * nf + c]
                               : batch.outputs[static_cast<size_t>(r) * ny + (-c - 1)];
        if (vs.drift_cells[d]) {
          vs.drift_cells[d]->Add(v, &w.bins[d]);
        } else {
          AddToBins(vs.drift_stats[d]->histogram, v, &w.bins[d]);
        }
      }
    }
    while (static_cast<int64_t>(vs.windows.size()) > options_.max_windows) {
      vs.windows.erase(vs.windows.begin());
    }
    Pending p{batch.model,   batch.version,
              seq,           batch.outputs[static_cast<size_t>(r) * ny],
              false,         0,
              batch.time_us, batch.route,
              estimated_sq};
    bool added = false;
    PendingEntries& entries = pending_.FindOrAdd(batch.request_id, r, &added).value;
    // A label already here: one that waited for this request, or one joined to the request's
    // other logged version (the primary, when this is a shadow).
    std::optional<float> label;
    auto w8 = waiting_.empty() ? waiting_.end() : waiting_.find(RowKey(batch.request_id, r));
    if (w8 != waiting_.end()) {
      label = w8->second.actual;
      waiting_.erase(w8);  // its key leaves waiting_order_ when it reaches the front
    } else {
      for (size_t e = 0; e < entries.size(); ++e) {
        if (entries[e].labelled) label = entries[e].actual;
      }
    }
    entries.push_back(std::move(p));
    if (label) Join(entries.back(), *label, batch.request_id, r);
  }
  while (static_cast<int64_t>(pending_.size()) > options_.max_pending_rows) {
    PendingEntries& oldest = pending_.front().value;
    for (size_t e = 0; e < oldest.size(); ++e) counters_.missing += oldest[e].labelled ? 0 : 1;
    pending_.pop_front();
  }
}

void LiveMonitor::AnchorWindow(const VersionState& vs, int64_t index, Window& w) const {
  double real = 0, est = 0;
  int64_t rows = 0, windows = 0;
  for (auto it = vs.windows.lower_bound(index - options_.anchor_windows);
       it != vs.windows.end() && it->first < index; ++it) {
    if (it->second.anchor_rows == 0) continue;
    real += it->second.anchor_real_sq_sum;
    est += it->second.anchor_est_sq_sum;
    rows += it->second.anchor_rows;
    ++windows;
  }
  if (rows == 0 || !(est > 0) || !std::isfinite(real)) return;  // no correction
  const double n = static_cast<double>(rows), n0 = static_cast<double>(options_.anchor_prior_rows);
  w.correction = (real / est * n + n0) / (n + n0);
  w.anchored_on_rows = rows;
  w.anchored_on_windows = windows;
}

void LiveMonitor::Join(Pending& p, float actual, std::string_view request_id, int64_t row) {
  p.labelled = true;
  p.actual = actual;
  ++counters_.joined;
  VersionState& vs = versions_[{p.model, p.version}];
  const int64_t index = p.seq / options_.window_rows;
  const bool late = vs.next_seq >= (index + 1) * options_.window_rows;
  labels_out_.push_back(LabelRecord{p.model, p.version, p.route, std::string(request_id), row,
                                    actual, p.time_us, NowUs(), late});
  auto w = vs.windows.find(index);
  if (w == vs.windows.end()) return;  // dropped (max_windows)
  if (late) {
    ++w->second.late_labels;
    ++counters_.late;
  }
  w->second.labelled.push_back({p.seq, {p.predicted, actual}});
  if (std::isfinite(p.estimated_sq)) {
    const double d = static_cast<double>(p.predicted) - static_cast<double>(actual);
    w->second.anchor_real_sq_sum += d * d;
    w->second.anchor_est_sq_sum += p.estimated_sq;
    ++w->second.anchor_rows;
  }
}

FeedbackOutcome LiveMonitor::AddFeedback(const std::vector<Feedback>& feedback) {
  FeedbackOutcome out = AddFeedbackLocked(feedback);
  DeliverLabels();
  return out;
}

FeedbackOutcome LiveMonitor::AddFeedbackLocked(const std::vector<Feedback>& feedback) {
  FeedbackOutcome out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const Feedback& f : feedback) {
    ++counters_.labels;
    const float actual = static_cast<float>(f.actual);
    PendingRows<PendingEntries>::Row* pending = pending_.Find(f.request_id, f.row);
    if (pending == nullptr) {
      std::string key = RowKey(f.request_id, f.row);
      auto [w, inserted] = waiting_.try_emplace(key, WaitingLabel{actual, ++waiting_seq_});
      if (!inserted) {
        ++out.duplicate;
        ++counters_.duplicate;
        continue;
      }
      waiting_order_.emplace_back(std::move(key), waiting_seq_);
      ++out.waiting;
      while (static_cast<int64_t>(waiting_order_.size()) > options_.max_waiting_labels) {
        const auto& [old, seq] = waiting_order_.front();
        // Only the entry this one pushed: one joined since may wait again under the same key.
        if (auto gone = waiting_.find(old); gone != waiting_.end() && gone->second.seq == seq) {
          ++counters_.unmatched;
          // Persisted too (model empty: "_unmatched"): every label that arrived is on disk.
          const size_t sep = old.rfind('\x1f');
          labels_out_.push_back(LabelRecord{"", 0, "", old.substr(0, sep),
                                            std::strtoll(old.c_str() + sep + 1, nullptr, 10),
                                            gone->second.actual, 0, NowUs(), false});
          waiting_.erase(gone);
        }
        waiting_order_.pop_front();
      }
      continue;
    }
    bool any = false, dup = false;
    for (size_t e = 0; e < pending->value.size(); ++e) {
      Pending& p = pending->value[e];
      if (p.labelled) {
        dup = true;
        continue;
      }
      const int64_t late_before = counters_.late;
      Join(p, actual, f.request_id, f.row);
      any = true;
      out.late += counters_.late - late_before;
    }
    if (any) {
      ++out.joined;
    } else if (dup) {
      ++out.duplicate;
      ++counters_.duplicate;
    }
  }
  return out;
}

WindowAccuracy LiveMonitor::Describe(const VersionKey& key, int64_t index, const Window& w,
                                     const VersionState& vs) const {
  const int64_t next_seq = vs.next_seq;
  WindowAccuracy a;
  a.model = key.first;
  a.version = key.second;
  a.window = index;
  a.closed = next_seq >= (index + 1) * options_.window_rows;
  a.predicted_rows = w.predicted_rows;
  a.labelled_rows = static_cast<int64_t>(w.labelled.size());
  a.late_labels = w.late_labels;
  a.first_time_us = w.first_time_us;
  a.last_time_us = w.last_time_us;
  a.estimated_rows = w.estimated_rows;
  if (w.estimated_rows > 0) {
    const double mse = w.estimated_sq_sum / static_cast<double>(w.estimated_rows);
    a.estimated_rmse_unanchored = std::sqrt(mse);
    a.estimated_rmse = std::sqrt(mse * w.correction);
    a.estimate_correction = std::sqrt(w.correction);
    a.anchor_rows = w.anchored_on_rows;
    a.anchor_windows = w.anchored_on_windows;
  }
  if (vs.baseline && !w.bins.empty() && w.bins.size() == vs.drift_stats.size()) {
    const std::optional<DriftCalibration>& cal = vs.baseline->calibration;
    a.drift_calibrated = cal.has_value() && cal->window_rows == options_.window_rows;
    // A categorical feature without its thresholds (a calibration made before categorical
    // drift, beside category_stats) could never alarm: the window is not calibrated, and a
    // rollout's drift check fails closed on it.
    for (size_t d = 0; d < w.bins.size() && a.drift_calibrated; ++d) {
      if (vs.drift_categories[d] != nullptr && !cal->category_thresholds.count(vs.drift_features[d])) {
        a.drift_calibrated = false;
      }
    }
    for (size_t d = 0; d < w.bins.size(); ++d) {
      FeatureDrift fd;
      fd.feature = vs.drift_features[d];
      if (vs.drift_categories[d] != nullptr) {
        fd.categorical = true;
        StatusOr<CategoryDriftScores> cs = ScoreCategoryDrift(*vs.drift_categories[d], w.bins[d]);
        if (cs.ok()) {
          fd.category = *cs;
          if (a.drift_calibrated && a.closed) {
            if (auto t = cal->category_thresholds.find(fd.feature);
                t != cal->category_thresholds.end()) {
              const std::array<double, kCategoryDriftScores> v = fd.category.calibrated();
              for (int m = 0; m < kCategoryDriftScores; ++m) {
                if (v[m] > t->second[m]) {
                  fd.above += (fd.above.empty() ? "" : ",") +
                              std::string(kCategoryDriftScoreNames[m]);
                }
              }
            }
          }
        } else {
          fd.error = cs.status().message();
        }
        a.drift_alarm = a.drift_alarm || !fd.above.empty();
        a.drift.push_back(std::move(fd));
        continue;
      }
      fd.scores = ScoreDrift(*vs.drift_stats[d], w.bins[d]);
      if (a.drift_calibrated && a.closed) {
        if (auto t = cal->thresholds.find(fd.feature); t != cal->thresholds.end()) {
          for (int m = 0; m < kDriftScores; ++m) {
            if (fd.scores.value[m] > t->second[m]) {
              fd.above += (fd.above.empty() ? "" : ",") + std::string(kDriftScoreNames[m]);
            }
          }
        }
      }
      a.drift_alarm = a.drift_alarm || !fd.above.empty();
      a.drift.push_back(std::move(fd));
    }
  }
  return a;
}

namespace {

train::Metrics MetricsInOrder(std::vector<std::pair<int64_t, std::pair<float, float>>> rows) {
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<float> predicted, actual;
  predicted.reserve(rows.size());
  actual.reserve(rows.size());
  for (const auto& [seq, pa] : rows) {
    predicted.push_back(pa.first);
    actual.push_back(pa.second);
  }
  return train::ComputeMetrics(predicted, actual);
}

}  // namespace

std::optional<DriftCalibration> LiveMonitor::Calibration(const std::string& model,
                                                         int64_t version) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = versions_.find(VersionKey(model, version));
  if (it == versions_.end() || !it->second.baseline) return std::nullopt;
  return it->second.baseline->calibration;
}

std::vector<WindowAccuracy> LiveMonitor::Windows(const std::string& model) const {
  std::vector<WindowAccuracy> out;
  std::vector<std::vector<std::pair<int64_t, std::pair<float, float>>>> rows;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, vs] : versions_) {
      if (!model.empty() && key.first != model) continue;
      for (const auto& [index, w] : vs.windows) {
        out.push_back(Describe(key, index, w, vs));
        rows.push_back(w.labelled);
      }
    }
  }
  for (size_t i = 0; i < out.size(); ++i) out[i].metrics = MetricsInOrder(std::move(rows[i]));
  return out;
}

std::vector<WindowAccuracy> LiveMonitor::LatestWindows() const {
  std::vector<WindowAccuracy> out;
  std::vector<std::vector<std::pair<int64_t, std::pair<float, float>>>> rows;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, vs] : versions_) {
      if (vs.windows.empty()) continue;
      auto last = vs.windows.begin();
      for (auto it = vs.windows.begin(); it != vs.windows.end(); ++it) {
        if (vs.next_seq >= (it->first + 1) * options_.window_rows) last = it;
      }
      out.push_back(Describe(key, last->first, last->second, vs));
      rows.push_back(last->second.labelled);
    }
  }
  for (size_t i = 0; i < out.size(); ++i) out[i].metrics = MetricsInOrder(std::move(rows[i]));
  return out;
}

StatusOr<WindowAccuracy> LiveMonitor::Overall(const std::string& model, int64_t version) const {
  WindowAccuracy a;
  std::vector<std::pair<int64_t, std::pair<float, float>>> rows;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = versions_.find({model, version});
    if (it == versions_.end()) {
      return NotFoundError("no logged predictions of model '" + model + "' version " +
                           std::to_string(version));
    }
    a.model = model;
    a.version = version;
    a.window = -1;
    a.closed = false;
    bool first = true;
    for (const auto& [index, w] : it->second.windows) {
      a.predicted_rows += w.predicted_rows;
      a.late_labels += w.late_labels;
      if (first) a.first_time_us = w.first_time_us;
      first = false;
      a.last_time_us = w.last_time_us;
      rows.insert(rows.end(), w.labelled.begin(), w.labelled.end());
    }
  }
  a.labelled_rows = static_cast<int64_t>(rows.size());
  a.metrics = MetricsInOrder(std::move(rows));
  return a;
}

MonitorCounters LiveMonitor::counters() const {
  std::lock_guard<std::mutex> lock(mu_);
  MonitorCounters c = counters_;
  c.pending_rows = static_cast<int64_t>(pending_.size());
  c.waiting_labels = static_cast<int64_t>(waiting_.size());
  return c;
}

}  // namespace bimride::monitoring
