#include "monitoring/drift.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include <nlohmann/json.hpp>

namespace bimride::monitoring {

void AddToBins(const registry::Histogram& baseline, float value, std::vector<int64_t>* counts) {
  const std::vector<double>& e = baseline.bin_edges;
  if (e.size() < 2 || std::isnan(value)) return;
  const size_t n = e.size() - 1;
  const double v = value;
  size_t slot;
  if (v < e.front()) {
    slot = 0;
  } else if (v > e.back()) {
    slot = n + 1;
  } else {
    // bin i = [e_i, e_{i+1}); the last bin includes its right edge.
    const size_t i = static_cast<size_t>(std::upper_bound(e.begin(), e.end(), v) - e.begin());
    slot = std::min(std::max<size_t>(i, 1), n);  // i − 1 + 1 (after the underflow slot)
  }
  (*counts)[slot] += 1;
}

std::vector<int64_t> BinCounts(const registry::Histogram& baseline, std::span<const float> values) {
  std::vector<int64_t> counts(baseline.counts.size() + 2, 0);
  if (baseline.bin_edges.size() < 2) return counts;
  for (float v : values) AddToBins(baseline, v, &counts);
  return counts;
}

DriftScores ScoreDrift(const registry::FeatureStats& baseline, std::span<const int64_t> counts) {
  DriftScores s;
  const registry::Histogram& h = baseline.histogram;
  const size_t k = h.counts.size() + 2;
  if (h.counts.empty() || counts.size() != k) return s;
  int64_t live_total = 0, base_total = 0;
  for (int64_t c : counts) live_total += c;
  for (int64_t c : h.counts) base_total += c;
  if (live_total == 0 || base_total == 0) return s;
  std::vector<double> p(k), q(k, 0.0);
  for (size_t i = 0; i < k; ++i) p[i] = static_cast<double>(counts[i]) / live_total;
  for (size_t i = 0; i < h.counts.size(); ++i) {
    q[i + 1] = static_cast<double>(h.counts[i]) / base_total;
  }
  double psi = 0, js = 0, ks = 0, w1 = 0, cp = 0, cq = 0;
  const double width = h.bin_edges.size() >= 2
                           ? (h.bin_edges.back() - h.bin_edges.front()) /
                                 static_cast<double>(h.counts.size())
                           : 0.0;
  for (size_t i = 0; i < k; ++i) {
    const double pf = std::max(p[i], kDriftFloor), qf = std::max(q[i], kDriftFloor);
    psi += (pf - qf) * std::log(pf / qf);
    const double m = 0.5 * (p[i] + q[i]);
    if (p[i] > 0) js += 0.5 * p[i] * std::log2(p[i] / m);
    if (q[i] > 0) js += 0.5 * q[i] * std::log2(q[i] / m);
    cp += p[i];
    cq += q[i];
    ks = std::max(ks, std::fabs(cp - cq));
    // Bins as point masses one bin width apart (the outer bins one width beyond the range).
    if (i + 1 < k) w1 += std::fabs(cp - cq) * width;
  }
  const double scale = baseline.std > 0 && std::isfinite(baseline.std) ? baseline.std : 1.0;
  s.value = {psi, std::max(0.0, js), ks, w1 / scale};
  return s;
}

StatusOr<DriftCalibration> CalibrateDrift(
    const std::map<std::string, registry::FeatureStats>& baseline,
    const std::map<std::string, std::vector<float>>& columns, int64_t window_rows,
    double target_rate) {
  if (window_rows < 1) return InvalidArgumentError("drift calibration: window_rows must be >= 1");
  if (!(target_rate > 0 && target_rate < 1)) {
    return InvalidArgumentError("drift calibration: target_rate must be in (0, 1)");
  }
  if (columns.empty()) return InvalidArgumentError("drift calibration: no feature columns");
  const size_t rows = columns.begin()->second.size();
  std::vector<std::string> names;
  std::vector<const registry::FeatureStats*> stats;
  for (const auto& [name, values] : columns) {
    auto it = baseline.find(name);
    if (it == baseline.end()) {
      return InvalidArgumentError("drift calibration: feature '" + name + "' has no baseline");
    }
    if (values.size() != rows) {
      return InvalidArgumentError("drift calibration: feature '" + name + "' has " +
                                  std::to_string(values.size()) + " values, expected " +
                                  std::to_string(rows));
    }
    names.push_back(name);
    stats.push_back(&it->second);
  }
  const size_t windows = rows / static_cast<size_t>(window_rows);
  if (windows < 20) {
    return InvalidArgumentError("drift calibration: " + std::to_string(rows) +
                                " training rows make " + std::to_string(windows) +
                                " windows of " + std::to_string(window_rows) +
                                "; at least 20 are needed");
  }
  const size_t nf = names.size();
  // scores[(w · nf + f) · kDriftScores + m]
  std::vector<double> scores(windows * nf * kDriftScores);
  for (size_t f = 0; f < nf; ++f) {
    const std::vector<float>& col = columns.at(names[f]);
    for (size_t w = 0; w < windows; ++w) {
      std::span<const float> slice(col.data() + w * window_rows, static_cast<size_t>(window_rows));
      DriftScores s = ScoreDrift(*stats[f], BinCounts(stats[f]->histogram, slice));
      for (int m = 0; m < kDriftScores; ++m) scores[(w * nf + f) * kDriftScores + m] = s.value[m];
    }
  }
  // Each (feature, score)'s values, largest first: threshold r lets r training windows above.
  std::vector<std::vector<double>> sorted(nf * kDriftScores);
  for (size_t fm = 0; fm < sorted.size(); ++fm) {
    for (size_t w = 0; w < windows; ++w) sorted[fm].push_back(scores[w * nf * kDriftScores + fm]);
    std::sort(sorted[fm].begin(), sorted[fm].end(), std::greater<>());
  }
  auto alarm_rate = [&](size_t r) {
    size_t alarms = 0;
    for (size_t w = 0; w < windows; ++w) {
      for (size_t fm = 0; fm < sorted.size(); ++fm) {
        if (scores[w * nf * kDriftScores + fm] > sorted[fm][r]) {
          ++alarms;
          break;
        }
      }
    }
    return static_cast<double>(alarms) / static_cast<double>(windows);
  };
  size_t best = 0;  // r = 0: the largest training window's score (no training window alarms)
  double best_rate = alarm_rate(0);
  for (size_t r = 1; r < windows; ++r) {
    const double rate = alarm_rate(r);
    if (rate > target_rate) break;
    best = r;
    best_rate = rate;
  }
  DriftCalibration c;
  c.window_rows = window_rows;
  c.windows = static_cast<int64_t>(windows);
  c.target_rate = target_rate;
  c.training_rate = best_rate;
  for (size_t f = 0; f < nf; ++f) {
    std::array<double, kDriftScores> t{};
    for (int m = 0; m < kDriftScores; ++m) t[m] = sorted[f * kDriftScores + m][best];
    c.thresholds[names[f]] = t;
  }
  return c;
}

std::string DriftCalibrationToJson(const DriftCalibration& c) {
  nlohmann::ordered_json j;
  j["window_rows"] = c.window_rows;
  j["windows"] = c.windows;
  j["target_rate"] = c.target_rate;
  j["training_rate"] = c.training_rate;
  j["thresholds"] = nlohmann::ordered_json::object();
  for (const auto& [name, t] : c.thresholds) {
    nlohmann::ordered_json o;
    for (int m = 0; m < kDriftScores; ++m) o[std::string(kDriftScoreNames[m])] = t[m];
    j["thresholds"][name] = o;
  }
  return j.dump();
}

StatusOr<DriftCalibration> DriftCalibrationFromJson(std::string_view text,
                                                    std::string_view source) {
  const std::string src(source);
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgumentError(src + ": drift calibration is not a JSON object");
  }
  DriftCalibration c;
  auto need_number = [&](const char* key, double* out) -> Status {
    if (!j.contains(key) || !j[key].is_number()) {
      return InvalidArgumentError(src + ": drift calibration: " + key + " must be a number");
    }
    *out = j[key].get<double>();
    return OkStatus();
  };
  double window_rows = 0, windows = 0;
  RETURN_IF_ERROR(need_number("window_rows", &window_rows));
  RETURN_IF_ERROR(need_number("windows", &windows));
  RETURN_IF_ERROR(need_number("target_rate", &c.target_rate));
  RETURN_IF_ERROR(need_number("training_rate", &c.training_rate));
  c.window_rows = static_cast<int64_t>(window_rows);
  c.windows = static_cast<int64_t>(windows);
  if (c.window_rows < 1) {
    return InvalidArgumentError(src + ": drift calibration: window_rows must be >= 1");
  }
  if (!j.contains("thresholds") || !j["thresholds"].is_object()) {
    return InvalidArgumentError(src + ": drift calibration: thresholds must be an object");
  }
  for (auto it = j["thresholds"].begin(); it != j["thresholds"].end(); ++it) {
    std::array<double, kDriftScores> t{};
    for (int m = 0; m < kDriftScores; ++m) {
      const std::string key(kDriftScoreNames[m]);
      if (!it->is_object() || !it->contains(key) || !(*it)[key].is_number()) {
        return InvalidArgumentError(src + ": drift calibration: thresholds." + it.key() + "." +
                                    key + " must be a number");
      }
      t[m] = (*it)[key].get<double>();
    }
    c.thresholds[it.key()] = t;
  }
  return c;
}

}  // namespace bimride::monitoring
