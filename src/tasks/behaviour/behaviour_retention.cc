#include "tasks/behaviour/behaviour_retention.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/civil_time.h"
#include "common/file.h"
#include "models/seed_ensemble.h"
#include "tasks/behaviour/behaviour_dataset.h"
#include "tasks/behaviour/behaviour_stats.h"

namespace bimride::tasks::behaviour {
namespace {

bool ActiveOn(const simulator::Rider& r, int32_t day) {
  return r.signup_day < day && (r.churn_day < 0 || r.churn_day > day);
}

struct RetentionState {
  int64_t last_quote_us = -1, last_booking_us = -1;
  double recent_surge = 1.0;
};

models::TabularData Select(const RetentionRows& rows, const std::vector<int32_t>& cutoffs) {
  models::TabularData out;
  out.num_features = rows.data.num_features;
  for (int64_t r = 0; r < rows.data.rows; ++r) {
    if (std::find(cutoffs.begin(), cutoffs.end(), rows.cutoff[r]) == cutoffs.end()) continue;
    out.features.insert(out.features.end(), rows.data.features.begin() + r * out.num_features,
                        rows.data.features.begin() + (r + 1) * out.num_features);
    out.targets.push_back(rows.data.targets[r]);
    ++out.rows;
  }
  return out;
}

}  // namespace

namespace {

// Walks the quote log once over the increasing `cutoffs` and calls
// row(cutoff day, rider index, feature row) for every rider active on each cut-off day.
template <typename RowFn>
Status ForEachActiveRider(const simulator::SimulatedCity& city,
                          const std::vector<int32_t>& cutoffs, const RowFn& row_fn) {
  const int64_t first_day_us = city.days.front().day_start_us;
  std::vector<RetentionState> state(city.riders.size() + 1);
  size_t next_quote = 0;
  for (int32_t c : cutoffs) {
    const int64_t cutoff_us = first_day_us + c * kMicrosPerDay;
    for (; next_quote < city.quotes.size() &&
           city.quotes[next_quote].request_time_us < cutoff_us;
         ++next_quote) {
      const simulator::QuoteRecord& q = city.quotes[next_quote];
      if (q.rider_id < 1 || q.rider_id > static_cast<int64_t>(city.riders.size())) {
        return InvalidArgumentError("retention: quote " + std::to_string(next_quote + 1) +
                                    " names rider " + std::to_string(q.rider_id) +
                                    ", the city has riders 1.." +
                                    std::to_string(city.riders.size()));
      }
      RetentionState& s = state[static_cast<size_t>(q.rider_id)];
      s.last_quote_us = q.request_time_us;
      if (q.accepted) s.last_booking_us = q.request_time_us;
      s.recent_surge = 0.7 * s.recent_surge + 0.3 * q.surge;
    }
    // Per rider over the last 7, 28 and kRetentionWindowDays days before the cut-off: quotes,
    // and over the long window bookings, dear quotes declined and bookings no driver served.
    // Windows, not totals since the data began: a total grows with the days of data behind the
    // cut-off, so a later cut-off's riders would look busier than the same riders earlier.
    const size_t n = city.riders.size() + 1;
    std::vector<int32_t> last7(n, 0), last28(n, 0), quotes_w(n, 0), bookings_w(n, 0), dear_w(n, 0),
        no_driver_w(n, 0);
    const int64_t from_w = cutoff_us - kRetentionWindowDays * kMicrosPerDay;
    const int64_t from28 = cutoff_us - 28 * kMicrosPerDay, from7 = cutoff_us - 7 * kMicrosPerDay;
    for (size_t i = next_quote; i > 0; --i) {
      const simulator::QuoteRecord& q = city.quotes[i - 1];
      if (q.request_time_us < from_w) break;
      const size_t k = static_cast<size_t>(q.rider_id);
      ++quotes_w[k];
      if (q.accepted) {
        ++bookings_w[k];
        if (!q.served) ++no_driver_w[k];
      }
      const double reference = ReferenceFare(q.estimated_miles, q.estimated_minutes);
      if (!q.accepted && reference > 0 && q.quoted_fare >= kDearPriceRatio * reference) {
        ++dear_w[k];
      }
      if (q.request_time_us >= from28) ++last28[k];
      if (q.request_time_us >= from7) ++last7[k];
    }
    for (size_t idx = 0; idx < city.riders.size(); ++idx) {
      const simulator::Rider& rider = city.riders[idx];
      if (!ActiveOn(rider, c)) continue;
      const RetentionState& s = state[idx + 1];
      const size_t k = idx + 1;
      auto days_since = [&](int64_t t) {
        return t < 0 ? 60.0
                     : std::min(60.0, static_cast<double>(cutoff_us - t) /
                                          static_cast<double>(kMicrosPerDay));
      };
      const float row[kRetentionFeatures] = {
          static_cast<float>(quotes_w[k]),
          static_cast<float>(bookings_w[k]),
          static_cast<float>((bookings_w[k] + 1.7) / (quotes_w[k] + 2.0)),
          static_cast<float>(last7[k]),
          static_cast<float>(last28[k]),
          static_cast<float>(days_since(s.last_quote_us)),
          static_cast<float>(days_since(s.last_booking_us)),
          static_cast<float>(dear_w[k]),
          static_cast<float>(no_driver_w[k]),
          static_cast<float>(std::min(365, c - rider.signup_day)),
          static_cast<float>(s.recent_surge)};
      row_fn(c, idx, row);
    }
  }
  return OkStatus();
}

}  // namespace

namespace {

// Every cut-off day of a city of `days` days: from the first one, every step, while the label
// day (cut-off + horizon) is a simulated day.
StatusOr<std::vector<int32_t>> CutoffDays(int32_t days, const RetentionOptions& o) {
  if (o.horizon_days < 1 || o.cutoff_step_days < 1 || o.first_cutoff_day < 1) {
    return InvalidArgumentError("retention: horizon, cut-off step and first cut-off must be >= 1");
  }
  if (o.first_cutoff_day + o.horizon_days > days - 1) {
    return InvalidArgumentError("retention: a city of " + std::to_string(days) +
                                " days has no cut-off day with " + std::to_string(o.horizon_days) +
                                " days after it (first cut-off day " +
                                std::to_string(o.first_cutoff_day) + ")");
  }
  std::vector<int32_t> cutoffs;
  for (int32_t c = o.first_cutoff_day; c + o.horizon_days <= days - 1; c += o.cutoff_step_days) {
    cutoffs.push_back(c);
  }
  return cutoffs;
}

}  // namespace

StatusOr<RetentionSplit> PlanRetentionSplit(int32_t days, const RetentionOptions& o) {
  ASSIGN_OR_RETURN(std::vector<int32_t> cutoffs, CutoffDays(days, o));
  if (o.test_cutoffs < 1 || static_cast<int32_t>(cutoffs.size()) < o.test_cutoffs + 1) {
    return InvalidArgumentError("retention: " + std::to_string(cutoffs.size()) +
                                " cut-off days (a city of " + std::to_string(days) +
                                " days, first cut-off day " + std::to_string(o.first_cutoff_day) +
                                ") are too few for " + std::to_string(o.test_cutoffs) +
                                " test cut-offs and training before them");
  }
  RetentionSplit split;
  split.test_cutoffs.assign(cutoffs.end() - o.test_cutoffs, cutoffs.end());
  for (int32_t c : cutoffs) {
    if (c + o.horizon_days <= split.test_cutoffs.front()) split.train_cutoffs.push_back(c);
  }
  if (split.train_cutoffs.size() < 2) {
    return InvalidArgumentError(
        "retention: fewer than two training cut-offs whose label day comes before the first "
        "test cut-off (day " +
        std::to_string(split.test_cutoffs.front()) + "); simulate more days");
  }
  return split;
}

StatusOr<RetentionRows> BuildRetentionRows(const simulator::SimulatedCity& city,
                                           const RetentionOptions& o) {
  const int32_t days = static_cast<int32_t>(city.days.size());
  if (city.riders.empty()) return InvalidArgumentError("retention: the city has no riders");
  ASSIGN_OR_RETURN(const std::vector<int32_t> cutoffs, CutoffDays(days, o));
  RetentionRows rows;
  rows.data.num_features = kRetentionFeatures;
  RETURN_IF_ERROR(ForEachActiveRider(
      city, cutoffs, [&](int32_t c, size_t idx, const float* row) {
        rows.data.features.insert(rows.data.features.end(), row, row + kRetentionFeatures);
        rows.data.targets.push_back(ActiveOn(city.riders[idx], c + o.horizon_days) ? 1.0f : 0.0f);
        rows.cutoff.push_back(c);
        ++rows.data.rows;
      }));
  return rows;
}

StatusOr<RetentionSnapshot> RetentionFeaturesAt(const simulator::SimulatedCity& city,
                                                int32_t cutoff_day) {
  const int32_t days = static_cast<int32_t>(city.days.size());
  if (city.riders.empty() || days == 0) {
    return InvalidArgumentError("retention: the city has no riders or days");
  }
  if (cutoff_day < 1 || cutoff_day > days) {
    return InvalidArgumentError("retention: snapshot day " + std::to_string(cutoff_day) +
                                " is outside the city's days 1.." + std::to_string(days));
  }
  RetentionSnapshot snap;
  snap.cutoff_day = cutoff_day;
  snap.cutoff_us = city.days.front().day_start_us + cutoff_day * kMicrosPerDay;
  RETURN_IF_ERROR(ForEachActiveRider(city, {cutoff_day}, [&](int32_t, size_t idx, const float* row) {
    snap.rider_id.push_back(city.riders[idx].id);
    snap.features.insert(snap.features.end(), row, row + kRetentionFeatures);
  }));
  return snap;
}

namespace {

// K = 1: TrainAndScoreClassifier as it always was. K > 1: K members in dir/member_<i> with
// seeds seed + i, the ensemble's averaged probabilities scored, one TrainedModel of backend
// seed_ensemble whose first artifact is seed_ensemble.json.
StatusOr<ScoredClassifier> TrainSeedEnsemble(const std::string& kind, const train::Params& params,
                                             int members, int threads, uint64_t seed,
                                             const models::TabularData& fit,
                                             const models::TabularData& valid,
                                             const models::TabularData& test,
                                             const std::string& dir) {
  if (members < 1 || members > 32) {
    return InvalidArgumentError("retention: seed ensemble of " + kind + " has " +
                                std::to_string(members) + " members; want 1..32");
  }
  if (members == 1) {
    return TrainAndScoreClassifier(kind, params, threads, seed, fit, valid, test, dir);
  }
  std::vector<std::unique_ptr<models::Model>> nets;
  std::vector<models::SeedEnsembleMember> refs;
  train::TrainedModel out;
  out.kind = kind;
  out.backend = models::kSeedEnsembleBackend;
  out.artifact_dir = dir;
  out.artifacts = {models::kSeedEnsembleFile};
  double rows_per_second = 0;
  std::vector<std::vector<float>> member_p;
  for (int i = 0; i < members; ++i) {
    const std::string sub = "member_" + std::to_string(i);
    ASSIGN_OR_RETURN(ScoredClassifier m,
                     TrainAndScoreClassifier(kind, params, threads, seed + static_cast<uint64_t>(i),
                                             fit, valid, test, dir + "/" + sub));
    std::string load = m.model.load_path;
    if (load.rfind(m.model.artifact_dir, 0) != 0) {
      return InternalError("retention: member " + sub + " loads from " + load +
                           ", outside its folder " + m.model.artifact_dir);
    }
    load = load.substr(m.model.artifact_dir.size());
    while (!load.empty() && load.front() == '/') load.erase(0, 1);
    refs.push_back({m.model.backend, sub + (load.empty() ? "" : "/" + load)});
    for (const std::string& a : m.model.artifacts) out.artifacts.push_back(sub + "/" + a);
    out.best_iterations.insert(out.best_iterations.end(), m.model.best_iterations.begin(),
                               m.model.best_iterations.end());
    out.best_valid_metric.insert(out.best_valid_metric.end(), m.model.best_valid_metric.begin(),
                                 m.model.best_valid_metric.end());
    out.metric_name = m.model.metric_name;
    out.resolved_params = m.model.resolved_params;
    out.threads_used = m.model.threads_used;
    out.train_seconds += m.model.train_seconds;
    rows_per_second += m.model.rows_per_second / members;
    nets.push_back(std::move(m.model.model));
    member_p.push_back(std::move(m.test_probability));
  }
  // The test ECE of the first k members' average, k = 1..K (k = 1: the one-model result): what
  // K was decided on (on tuning seeds only).
  std::string by_k;
  std::vector<double> sum(static_cast<size_t>(test.rows), 0.0);
  std::vector<float> mean(sum.size());
  for (size_t k = 0; k < member_p.size(); ++k) {
    for (size_t r = 0; r < sum.size(); ++r) {
      sum[r] += member_p[k][r];
      mean[r] = static_cast<float>(sum[r] / static_cast<double>(k + 1));
    }
    ASSIGN_OR_RETURN(const ClassifierMetrics km, ComputeClassifierMetrics(mean, test.targets));
    char buf[64];
    std::snprintf(buf, sizeof buf, " %.4f", km.ece);
    by_k += buf;
  }
  out.rows_per_second = rows_per_second;
  RETURN_IF_ERROR(
      WriteFileAtomic(dir + "/" + models::kSeedEnsembleFile, models::SeedEnsembleToJson(refs)));
  out.load_path = dir + "/" + models::kSeedEnsembleFile;
  ASSIGN_OR_RETURN(std::unique_ptr<models::SeedEnsembleModel> ensemble,
                   models::SeedEnsembleModel::Create(std::move(nets)));
  out.model = std::move(ensemble);
  out.summary = kind + " seed ensemble of " + std::to_string(members) + " (seeds " +
                std::to_string(seed) + ".." + std::to_string(seed + members - 1) +
                "); test ECE of the first k members' mean, k = 1.." + std::to_string(members) +
                ":" + by_k;
  ScoredClassifier c;
  std::vector<float> p(static_cast<size_t>(test.rows));
  RETURN_IF_ERROR(out.model->Predict(test.features.data(), test.rows, p.data()));
  for (float& v : p) v = std::clamp(v, 0.0f, 1.0f);
  c.score.model = kind;
  c.score.train_seconds = out.train_seconds;
  c.score.train_rows_per_second = out.rows_per_second;
  c.score.iterations = out.best_iterations.empty() ? 0 : out.best_iterations[0];
  ASSIGN_OR_RETURN(c.score.test, ComputeClassifierMetrics(p, test.targets));
  c.test_probability = std::move(p);
  c.model = std::move(out);
  return c;
}

}  // namespace

StatusOr<RetentionResult> TrainRetentionModels(const simulator::SimulatedCity& city,
                                               const RetentionOptions& o) {
  ASSIGN_OR_RETURN(const RetentionSplit split,
                   PlanRetentionSplit(static_cast<int32_t>(city.days.size()), o));
  ASSIGN_OR_RETURN(RetentionRows rows, BuildRetentionRows(city, o));
  RetentionResult r;
  r.train_cutoffs = split.train_cutoffs;
  r.test_cutoffs = split.test_cutoffs;
  const std::vector<int32_t> fit_cutoffs(r.train_cutoffs.begin(), r.train_cutoffs.end() - 1);
  const models::TabularData train_all = Select(rows, r.train_cutoffs);
  const models::TabularData fit = Select(rows, fit_cutoffs);
  const models::TabularData valid = Select(rows, {r.train_cutoffs.back()});
  const models::TabularData test = Select(rows, r.test_cutoffs);
  r.train_rows = fit.rows;
  r.valid_rows = valid.rows;
  r.test_rows = test.rows;
  if (fit.rows == 0 || valid.rows == 0 || test.rows == 0) {
    return InvalidArgumentError("retention: a part of the split has no riders");
  }
  std::vector<float> p(static_cast<size_t>(test.rows)), base_rate_p, recency_p;
  {
    double mean = 0;
    for (float y : train_all.targets) mean += y;
    mean /= static_cast<double>(train_all.rows);
    std::fill(p.begin(), p.end(), static_cast<float>(mean));
    ConversionScore s;
    s.model = "base_rate";
    ASSIGN_OR_RETURN(s.test, ComputeClassifierMetrics(p, test.targets));
    r.scores.push_back(std::move(s));
    base_rate_p = p;
  }
  {
    constexpr int kRecency = 5;  // days_since_quote
    std::vector<double> x(static_cast<size_t>(train_all.rows) * 2), y(train_all.rows);
    for (int64_t i = 0; i < train_all.rows; ++i) {
      x[2 * i] = 1.0;
      x[2 * i + 1] = train_all.feature(i, kRecency);
      y[i] = train_all.targets[i];
    }
    ASSIGN_OR_RETURN(LinearFit lf, FitLogistic(x, 2, y));
    for (int64_t i = 0; i < test.rows; ++i) {
      p[i] = static_cast<float>(
          1.0 / (1.0 + std::exp(-(lf.coef[0] + lf.coef[1] * test.feature(i, kRecency)))));
    }
    ConversionScore s;
    s.model = "logistic_recency";
    ASSIGN_OR_RETURN(s.test, ComputeClassifierMetrics(p, test.targets));
    r.scores.push_back(std::move(s));
    recency_p = p;
  }
  std::vector<std::vector<float>> scored = {base_rate_p, recency_p};
  for (const std::string& kind : o.learned) {
    const std::string dir =
        (o.work_dir.empty() ? std::string("behaviour_models") : o.work_dir) + "/retention_" + kind;
    const auto k = o.seed_ensemble.find(kind);
    const int members = k == o.seed_ensemble.end() ? 1 : k->second;
    ASSIGN_OR_RETURN(ScoredClassifier c,
                     TrainSeedEnsemble(kind,
                                       kind == "xgboost" ? o.xgboost_params
                                       : kind == "torch" ? o.torch_params
                                                         : train::Params{},
                                       members, o.threads, o.seed, fit, valid, test, dir));
    // Isotonic calibration fitted on the validation cut-off (out of sample for the fit, before
    // every test cut-off), as decided in docs/behaviour.md before it ran on the report's seeds.
    std::vector<float> pv(static_cast<size_t>(valid.rows));
    RETURN_IF_ERROR(c.model.model->Predict(valid.features.data(), valid.rows, pv.data()));
    for (float& v : pv) v = std::clamp(v, 0.0f, 1.0f);
    ASSIGN_OR_RETURN(IsotonicCalibration iso, IsotonicCalibration::Fit(pv, valid.targets));
    std::vector<float> calibrated(c.test_probability.size());
    for (size_t i = 0; i < calibrated.size(); ++i) {
      calibrated[i] = iso.Apply(c.test_probability[i]);
    }
    ConversionScore cs = c.score;
    cs.model = kind + "+isotonic";
    ASSIGN_OR_RETURN(cs.test, ComputeClassifierMetrics(calibrated, test.targets));
    r.scores.push_back(std::move(c.score));
    scored.push_back(std::move(c.test_probability));
    r.learned.push_back(std::move(c.model));
    r.scores.push_back(std::move(cs));
    scored.push_back(std::move(calibrated));
  }
  for (size_t k = 0; k < r.scores.size(); ++k) {
    ASSIGN_OR_RETURN(r.scores[k].ece_uncertainty,
                     ComputeEceUncertainty(scored[k], test.targets, 10, 200, o.seed + k));
  }
  return r;
}

}  // namespace bimride::tasks::behaviour
