#include "monitoring/drift.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>

#include <boost/math/special_functions/gamma.hpp>
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

CategoryCells::CategoryCells(const registry::CategoryStats& baseline) {
  slots_.reserve(baseline.categories.size());
  for (size_t i = 0; i < baseline.categories.size(); ++i) {
    slots_.push_back({baseline.categories[i], static_cast<int>(i)});
  }
  std::sort(slots_.begin(), slots_.end());
}

int CategoryCells::Cell(float value) const {
  if (std::isnan(value)) return -1;
  const int other = static_cast<int>(slots_.size());
  if (!(std::fabs(value) < 9.0e15f) || std::trunc(value) != value) return other;
  const int64_t code = static_cast<int64_t>(value);
  auto it = std::lower_bound(slots_.begin(), slots_.end(), std::pair<int64_t, int>{code, -1});
  return it != slots_.end() && it->first == code ? it->second : other;
}

void CategoryCells::Add(float value, std::vector<int64_t>* counts) const {
  const int c = Cell(value);
  if (c >= 0) (*counts)[static_cast<size_t>(c)] += 1;
}

std::vector<int64_t> CategoryCells::Counts(std::span<const float> values) const {
  std::vector<int64_t> counts(cells(), 0);
  for (float v : values) Add(v, &counts);
  return counts;
}

double ChiSquareUpperTail(double x, int64_t df) {
  if (df < 1) return 1.0;
  if (!(x > 0)) return 1.0;
  if (std::isinf(x)) return 0.0;
  using namespace boost::math::policies;
  using NoThrow = policy<domain_error<errno_on_error>, overflow_error<errno_on_error>,
                         underflow_error<ignore_error>, evaluation_error<errno_on_error>>;
  const double q = boost::math::gamma_q(0.5 * static_cast<double>(df), 0.5 * x, NoThrow());
  return std::isfinite(q) ? std::clamp(q, 0.0, 1.0) : 0.0;
}

StatusOr<CategoryDriftScores> ScoreCategoryDrift(const registry::CategoryStats& baseline,
                                                 std::span<const int64_t> counts) {
  const size_t k = baseline.categories.size() + 1;
  if (counts.size() != k) {
    return InvalidArgumentError("categorical drift: the window has " +
                                std::to_string(counts.size()) + " cells, the baseline " +
                                std::to_string(k) + " (its categories and other)");
  }
  int64_t n = 0, N = baseline.other_count;
  for (int64_t c : counts) n += c;
  for (int64_t c : baseline.counts) N += c;
  if (n <= 0) return InvalidArgumentError("categorical drift: empty window (no values to score)");
  if (N <= 0) return InvalidArgumentError("categorical drift: the baseline has no values");
  CategoryDriftScores s;
  s.rows = n;
  auto base_count = [&](size_t i) {
    return i + 1 < k ? baseline.counts[i] : baseline.other_count;
  };
  // Jensen–Shannon distance on the raw shares.
  double js = 0;
  for (size_t i = 0; i < k; ++i) {
    const double p = static_cast<double>(counts[i]) / static_cast<double>(n);
    const double q = static_cast<double>(base_count(i)) / static_cast<double>(N);
    const double m = 0.5 * (p + q);
    if (p > 0) js += 0.5 * p * std::log2(p / m);
    if (q > 0) js += 0.5 * q * std::log2(q / m);
  }
  s.js_distance = std::sqrt(std::clamp(js, 0.0, 1.0));
  // Chi-square on the add-½ smoothed shares, cells expecting < 5 pooled.
  const double denom = static_cast<double>(N) + kCategorySmoothing * static_cast<double>(k);
  std::vector<std::pair<double, double>> cells;  // (observed, expected)
  double pool_o = 0, pool_e = 0;
  for (size_t i = 0; i < k; ++i) {
    const double e = static_cast<double>(n) *
                     (static_cast<double>(base_count(i)) + kCategorySmoothing) / denom;
    const double o = static_cast<double>(counts[i]);
    if (e < kChiSquareMinExpected) {
      pool_o += o;
      pool_e += e;
    } else {
      cells.push_back({o, e});
    }
  }
  if (pool_e > 0) {
    if (pool_e >= kChiSquareMinExpected || cells.empty()) {
      cells.push_back({pool_o, pool_e});
    } else {
      auto smallest = std::min_element(cells.begin(), cells.end(), [](const auto& a, const auto& b) {
        return a.second < b.second;
      });
      smallest->first += pool_o;
      smallest->second += pool_e;
    }
  }
  if (cells.size() < 2) return s;  // one cell: nothing to compare (chi2 0, p 1)
  double chi2 = 0;
  for (const auto& [o, e] : cells) chi2 += (o - e) * (o - e) / e;
  s.chi2 = chi2;
  s.df = static_cast<int64_t>(cells.size()) - 1;
  s.p_value = ChiSquareUpperTail(chi2, s.df);
  s.cramers_v = std::sqrt(chi2 / (static_cast<double>(n) * static_cast<double>(s.df)));
  return s;
}

namespace {

// The q-quantile (0..1) of `v` (sorted ascending), linear between order statistics.
double SortedQuantile(const std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  const double pos = q * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(pos);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

}  // namespace

StatusOr<DriftCalibration> CalibrateDrift(
    const std::map<std::string, registry::FeatureStats>& baseline,
    const std::map<std::string, std::vector<float>>& columns, int64_t window_rows,
    double target_rate, int64_t stride_rows) {
  return CalibrateDrift(baseline, {}, columns, window_rows, target_rate, stride_rows);
}

StatusOr<DriftCalibration> CalibrateDrift(
    const std::map<std::string, registry::FeatureStats>& baseline,
    const std::map<std::string, registry::CategoryStats>& category_baseline,
    const std::map<std::string, std::vector<float>>& columns, int64_t window_rows,
    double target_rate, int64_t stride_rows) {
  if (window_rows < 1) return InvalidArgumentError("drift calibration: window_rows must be >= 1");
  if (!(target_rate > 0 && target_rate < 1)) {
    return InvalidArgumentError("drift calibration: target_rate must be in (0, 1)");
  }
  if (stride_rows < 0) return InvalidArgumentError("drift calibration: stride_rows must be >= 0");
  if (columns.empty()) return InvalidArgumentError("drift calibration: no feature columns");
  const size_t rows = columns.begin()->second.size();
  // One feature: numeric (stats) or categorical (categories).
  struct Feature {
    std::string name;
    const registry::FeatureStats* stats = nullptr;
    const registry::CategoryStats* categories = nullptr;
    int scores = 0;
  };
  std::vector<Feature> features;
  for (const auto& [name, values] : columns) {
    Feature f{name};
    if (auto c = category_baseline.find(name); c != category_baseline.end()) {
      f.categories = &c->second;
      f.scores = kCategoryDriftScores;
    } else if (auto it = baseline.find(name); it != baseline.end()) {
      f.stats = &it->second;
      f.scores = kDriftScores;
    } else {
      return InvalidArgumentError("drift calibration: feature '" + name + "' has no baseline");
    }
    if (values.size() != rows) {
      return InvalidArgumentError("drift calibration: feature '" + name + "' has " +
                                  std::to_string(values.size()) + " values, expected " +
                                  std::to_string(rows));
    }
    features.push_back(std::move(f));
  }
  const size_t disjoint = rows / static_cast<size_t>(window_rows);
  if (disjoint < static_cast<size_t>(kDriftMinWindows)) {
    return InvalidArgumentError("drift calibration: " + std::to_string(rows) +
                                " training rows make " + std::to_string(disjoint) +
                                " windows of " + std::to_string(window_rows) + "; at least " +
                                std::to_string(kDriftMinWindows) + " are needed");
  }
  // Few rows (a version retrained on a short span of the log): windows start 4× as often, so
  // the quantile and the held-out blocks have enough windows to work with. They are overlapping
  // windows of the training rows in time order — never resampled rows, which would mix the
  // hours of a day that one live window does not mix.
  if (stride_rows == 0) {
    stride_rows = std::max<int64_t>(
        1, disjoint >= static_cast<size_t>(kDriftFewWindows) ? window_rows / 4 : window_rows / 16);
  }
  // Overlapping windows (every stride_rows rows): more of them, a smoother quantile.
  const size_t W = static_cast<size_t>(window_rows), S = static_cast<size_t>(stride_rows);
  const bool few = disjoint < static_cast<size_t>(kDriftFewWindows);
  const size_t windows = (rows - W) / S + 1;
  const size_t nf = features.size();
  // Tracks: one per (feature, score); scores[t][w].
  std::vector<std::pair<size_t, int>> tracks;
  for (size_t f = 0; f < nf; ++f) {
    for (int m = 0; m < features[f].scores; ++m) tracks.push_back({f, m});
  }
  const size_t nt = tracks.size();
  std::vector<std::vector<double>> scores(nt, std::vector<double>(windows));
  for (size_t t = 0, f = 0; f < nf; t += static_cast<size_t>(features[f].scores), ++f) {
    const std::vector<float>& col = columns.at(features[f].name);
    if (features[f].categories != nullptr) {
      const CategoryCells cells(*features[f].categories);
      for (size_t w = 0; w < windows; ++w) {
        std::span<const float> slice(col.data() + w * S, W);
        StatusOr<CategoryDriftScores> s =
            ScoreCategoryDrift(*features[f].categories, cells.Counts(slice));
        // A window without values of the feature (all null) scores 0, as a numeric one does.
        const std::array<double, kCategoryDriftScores> v =
            s.ok() ? s->calibrated() : std::array<double, kCategoryDriftScores>{};
        for (int m = 0; m < kCategoryDriftScores; ++m) scores[t + m][w] = v[m];
      }
    } else {
      for (size_t w = 0; w < windows; ++w) {
        std::span<const float> slice(col.data() + w * S, W);
        DriftScores s = ScoreDrift(*features[f].stats, BinCounts(features[f].stats->histogram, slice));
        for (int m = 0; m < kDriftScores; ++m) scores[t + m][w] = s.value[m];
      }
    }
  }
  // Fits thresholds (one per track) on the windows `fit` so that a share `rate` of them alarms.
  auto fit_thresholds = [&](const std::vector<size_t>& fit, double rate, double* z_out) {
    // Each (feature, score) standardised on a log scale: z = (log(s + d) − median) / spread,
    // the spread putting the score's own 95th percentile at z = 1.645 (so every score's tail,
    // heavy or light, gets the same share of the budget). A score that barely varies over the
    // training windows (a constant feature, a calendar flag that is one value on most days)
    // cannot be standardised: its threshold is its largest training value.
    struct Standard {
      bool degenerate = true;
      double offset = 0, center = 0, scale = 1, max = 0;
    };
    std::vector<Standard> standard(nt);
    std::vector<double> fit_z(fit.size(), -std::numeric_limits<double>::infinity());
    std::vector<double> v(fit.size());
    for (size_t t = 0; t < nt; ++t) {
      for (size_t i = 0; i < fit.size(); ++i) v[i] = scores[t][fit[i]];
      std::sort(v.begin(), v.end());
      Standard& st = standard[t];
      st.max = v.back();
      const double median = SortedQuantile(v, 0.5);
      if (!(median > 0) || !std::isfinite(median)) continue;
      st.offset = 0.01 * median;
      for (double& x : v) x = std::log(x + st.offset);
      st.center = SortedQuantile(v, 0.5);
      st.scale = (SortedQuantile(v, 0.95) - st.center) / 1.6448536269514722;
      if (!(st.scale > 1e-6)) continue;
      st.degenerate = false;
      for (size_t i = 0; i < fit.size(); ++i) {
        fit_z[i] = std::max(fit_z[i],
                            (std::log(scores[t][fit[i]] + st.offset) - st.center) / st.scale);
      }
    }
    // One statistic per window — its largest standardised score over every feature and score
    // — and one cut-off on it: the k-th largest of the fitted windows' values, k such that a
    // fresh window of the same distribution exceeds it with probability (k + 1) / (n + 1) <=
    // rate (the conformal rank bound).
    std::sort(fit_z.begin(), fit_z.end(), std::greater<>());
    const double k_real = std::floor(rate * static_cast<double>(fit.size() + 1)) - 1;
    const size_t k = k_real < 0 ? 0 : std::min(static_cast<size_t>(k_real), fit.size() - 1);
    double z_cut = fit_z[k];
    if (few) {
      // Few disjoint windows cannot place a 1-in-20 cut-off by rank (the largest of 12 windows
      // is exceeded 1 time in 13): the window statistic, a maximum, is fit a Gumbel
      // distribution by its mean and standard deviation, whose (1 − rate) quantile can lie
      // beyond the largest training window.
      double sum = 0, sum2 = 0, m = 0;
      for (double z : fit_z) {
        if (!std::isfinite(z)) continue;
        sum += z;
        sum2 += z * z;
        ++m;
      }
      if (m >= 2) {
        const double mean = sum / m;
        const double sd = std::sqrt(std::max(0.0, (sum2 - m * mean * mean) / (m - 1)));
        const double beta = sd * std::sqrt(6.0) / 3.14159265358979;
        z_cut = mean - 0.5772156649 * beta - beta * std::log(-std::log(1 - rate));
      }
    }
    *z_out = z_cut;
    std::vector<double> th(nt);
    for (size_t t = 0; t < nt; ++t) {
      const Standard& st = standard[t];
      th[t] = st.degenerate || !std::isfinite(z_cut)
                  ? st.max
                  : std::max(0.0, std::exp(st.center + st.scale * z_cut) - st.offset);
    }
    return th;
  };
  auto alarms_on = [&](const std::vector<double>& th, const std::vector<size_t>& on) {
    size_t alarms = 0;
    for (size_t w : on) {
      bool alarm = false;
      for (size_t t = 0; t < nt && !alarm; ++t) alarm = scores[t][w] > th[t];
      alarms += alarm ? 1 : 0;
    }
    return static_cast<double>(alarms) / static_cast<double>(std::max<size_t>(1, on.size()));
  };
  // Thresholds fit at the target on some windows alarm more often on others (the fitted tails
  // are optimistic; days differ). How much more is measured on the training data itself: its
  // windows in eight consecutive blocks (days apart: day-to-day variation is what fresh data
  // brings), alternating between two sets, thresholds fit on one set at a rate r
  // and counted on the other (both ways); the largest r whose held-out rate is <= the target is
  // the rate the final fit on every window uses.
  std::vector<size_t> all(windows), half[2], clean[2];
  std::iota(all.begin(), all.end(), size_t{0});
  // With few rows: four blocks (eight would hold a window or two each), and a held-out window
  // counts only when it shares no row with a window of the other half (overlapping windows
  // would leak the fitted rows into the held-out ones).
  const size_t block = std::max<size_t>(1, windows / (few ? 4 : 8));
  for (size_t w = 0; w < windows; ++w) half[(w / block) % 2].push_back(w);
  const size_t reach = few ? (W + S - 1) / S : 0;  // window starts that share rows
  for (int h = 0; h < 2; ++h) {
    for (size_t w : half[h]) {
      bool shares = false;
      for (size_t v = w >= reach ? w - reach + 1 : 0; v < std::min(windows, w + reach) && !shares;
           ++v) {
        shares = (v / block) % 2 != static_cast<size_t>(h);
      }
      if (!shares) clean[h].push_back(w);
    }
  }
  double rate = target_rate, held_out = 0;
  if (!clean[0].empty() && !clean[1].empty()) {
    for (int step = 0; step < (few ? 40 : 20); ++step, rate *= 0.9) {
      double z = 0;
      held_out = 0.5 * (alarms_on(fit_thresholds(half[0], rate, &z), clean[1]) +
                        alarms_on(fit_thresholds(half[1], rate, &z), clean[0]));
      if (held_out <= target_rate) break;
    }
  }
  double z_cut = 0;
  const std::vector<double> th = fit_thresholds(all, rate, &z_cut);
  DriftCalibration c;
  c.window_rows = window_rows;
  c.stride_rows = stride_rows;
  c.windows = static_cast<int64_t>(windows);
  c.target_rate = target_rate;
  c.fit_rate = rate;
  c.held_out_rate = held_out;
  c.z_threshold = z_cut;
  for (size_t t = 0; t < nt; ++t) {
    const auto [f, m] = tracks[t];
    if (features[f].categories != nullptr) {
      c.category_thresholds[features[f].name][static_cast<size_t>(m)] = th[t];
    } else {
      c.thresholds[features[f].name][static_cast<size_t>(m)] = th[t];
    }
  }
  c.training_rate = alarms_on(th, all);
  return c;
}

Status CheckDriftCalibration(const DriftCalibration& c,
                             const std::map<std::string, registry::FeatureStats>& baseline,
                             const std::map<std::string, registry::CategoryStats>& categories,
                             std::string_view source) {
  const std::string src(source);
  for (const auto& [name, t] : c.category_thresholds) {
    if (!categories.count(name)) {
      return InvalidArgumentError(src + ": drift calibration: category_thresholds." + name +
                                  ": the manifest has no category_stats for '" + name + "'");
    }
  }
  for (const auto& [name, t] : c.thresholds) {
    if (!baseline.count(name) && !categories.count(name)) {
      return InvalidArgumentError(src + ": drift calibration: thresholds." + name +
                                  ": the manifest has no feature_stats for '" + name + "'");
    }
  }
  return OkStatus();
}

std::string DriftCalibrationToJson(const DriftCalibration& c) {
  nlohmann::ordered_json j;
  j["window_rows"] = c.window_rows;
  j["stride_rows"] = c.stride_rows;
  j["windows"] = c.windows;
  j["z_threshold"] = std::isfinite(c.z_threshold) ? c.z_threshold : 0.0;
  j["fit_rate"] = c.fit_rate;
  j["held_out_rate"] = c.held_out_rate;
  j["target_rate"] = c.target_rate;
  j["training_rate"] = c.training_rate;
  j["thresholds"] = nlohmann::ordered_json::object();
  for (const auto& [name, t] : c.thresholds) {
    nlohmann::ordered_json o;
    for (int m = 0; m < kDriftScores; ++m) o[std::string(kDriftScoreNames[m])] = t[m];
    j["thresholds"][name] = o;
  }
  if (!c.category_thresholds.empty()) {
    j["category_thresholds"] = nlohmann::ordered_json::object();
    for (const auto& [name, t] : c.category_thresholds) {
      nlohmann::ordered_json o;
      for (int m = 0; m < kCategoryDriftScores; ++m) {
        o[std::string(kCategoryDriftScoreNames[m])] = t[m];
      }
      j["category_thresholds"][name] = o;
    }
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
  if (j.contains("stride_rows") && j["stride_rows"].is_number()) {
    c.stride_rows = j["stride_rows"].get<int64_t>();
  }
  for (auto [key, out] : {std::pair{"z_threshold", &c.z_threshold},
                          std::pair{"fit_rate", &c.fit_rate},
                          std::pair{"held_out_rate", &c.held_out_rate}}) {
    if (j.contains(key) && j[key].is_number()) *out = j[key].get<double>();
  }
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
  if (j.contains("category_thresholds")) {  // calibrations before categorical drift have none
    if (!j["category_thresholds"].is_object()) {
      return InvalidArgumentError(src + ": drift calibration: category_thresholds must be an object");
    }
    for (auto it = j["category_thresholds"].begin(); it != j["category_thresholds"].end(); ++it) {
      std::array<double, kCategoryDriftScores> t{};
      for (int m = 0; m < kCategoryDriftScores; ++m) {
        const std::string key(kCategoryDriftScoreNames[m]);
        if (!it->is_object() || !it->contains(key) || !(*it)[key].is_number()) {
          return InvalidArgumentError(src + ": drift calibration: category_thresholds." +
                                      it.key() + "." + key + " must be a number");
        }
        t[m] = (*it)[key].get<double>();
      }
      c.category_thresholds[it.key()] = t;
    }
  }
  return c;
}

StatusOr<LossEstimatorRef> LossEstimatorRefFromJson(std::string_view text,
                                                    std::string_view source) {
  const std::string src(source);
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgumentError(src + ": loss_estimator is not a JSON object");
  }
  LossEstimatorRef r;
  for (auto [key, out] : {std::pair{"artifact", &r.artifact}, std::pair{"backend", &r.backend}}) {
    if (!j.contains(key) || !j[key].is_string() || j[key].get<std::string>().empty()) {
      return InvalidArgumentError(src + ": loss_estimator." + key + " must be a non-empty string");
    }
    *out = j[key].get<std::string>();
  }
  if (r.artifact.find('/') != std::string::npos || r.artifact == "..") {
    return InvalidArgumentError(src + ": loss_estimator.artifact must be a file name in the "
                                "version folder, got '" + r.artifact + "'");
  }
  return r;
}

}  // namespace bimride::monitoring
