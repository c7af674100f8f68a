#include "tasks/behaviour/behaviour_conversion.h"

#include <chrono>
#include <cmath>

#include "tasks/behaviour/behaviour_stats.h"

namespace bimride::tasks::behaviour {

double LogisticPriceProbability(const std::vector<double>& coef, double price_ratio) {
  const double eta = coef[0] + coef[1] * std::log(std::max(price_ratio, 1e-3));
  return 1.0 / (1.0 + std::exp(-eta));
}

StatusOr<ConversionResult> TrainConversionModels(const simulator::SimulatedCity& city,
                                                 const ConversionOptions& o) {
  const int32_t days = static_cast<int32_t>(city.days.size());
  ConversionResult r;
  r.train_days = o.train_days > 0 ? o.train_days : static_cast<int32_t>(std::floor(0.75 * days));
  r.valid_days = o.valid_days;
  r.test_days = days - r.train_days;
  if (r.train_days <= r.valid_days || r.valid_days < 1 || r.test_days < 1) {
    return InvalidArgumentError("conversion: a city of " + std::to_string(days) +
                                " days cannot split into " + std::to_string(r.train_days) +
                                " training days (" + std::to_string(r.valid_days) +
                                " of them validation) and at least one test day");
  }
  ASSIGN_OR_RETURN(ConversionRows rows, BuildConversionRows(city));
  const models::TabularData train_all = SliceByDay(rows, 0, r.train_days);
  const models::TabularData fit = SliceByDay(rows, 0, r.train_days - r.valid_days);
  const models::TabularData valid = SliceByDay(rows, r.train_days - r.valid_days, r.train_days);
  const models::TabularData test = SliceByDay(rows, r.train_days, days);
  r.train_rows = fit.rows;
  r.valid_rows = valid.rows;
  r.test_rows = test.rows;
  if (fit.rows == 0 || valid.rows == 0 || test.rows == 0) {
    return InvalidArgumentError("conversion: a part of the split has no quotes");
  }

  std::vector<float> p(static_cast<size_t>(test.rows));
  // Baseline 1: the base rate of the training days.
  {
    const auto start = std::chrono::steady_clock::now();
    double mean = 0;
    for (float y : train_all.targets) mean += y;
    mean /= static_cast<double>(train_all.rows);
    std::fill(p.begin(), p.end(), static_cast<float>(mean));
    ConversionScore s;
    s.model = "base_rate";
    s.train_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ASSIGN_OR_RETURN(s.test, ComputeClassifierMetrics(p, test.targets));
    r.scores.push_back(std::move(s));
  }
  // Baseline 2: logistic regression on ln(price ratio) (column 0).
  {
    const auto start = std::chrono::steady_clock::now();
    std::vector<double> x(static_cast<size_t>(train_all.rows) * 2), y(train_all.rows);
    for (int64_t i = 0; i < train_all.rows; ++i) {
      x[2 * i] = 1.0;
      x[2 * i + 1] = std::log(std::max(train_all.feature(i, 0), 1e-3f));
      y[i] = train_all.targets[i];
    }
    ASSIGN_OR_RETURN(LinearFit lf, FitLogistic(x, 2, y));
    r.logistic_price_coef = lf.coef;
    for (int64_t i = 0; i < test.rows; ++i) {
      p[i] = static_cast<float>(LogisticPriceProbability(lf.coef, test.feature(i, 0)));
    }
    ConversionScore s;
    s.model = "logistic_price";
    s.train_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    s.train_rows_per_second = static_cast<double>(train_all.rows) / std::max(s.train_seconds, 1e-9);
    ASSIGN_OR_RETURN(s.test, ComputeClassifierMetrics(p, test.targets));
    r.scores.push_back(std::move(s));
  }
  for (const std::string& kind : o.learned) {
    const std::string dir = (o.work_dir.empty() ? std::string("behaviour_models") : o.work_dir) +
                            "/" + kind;
    ASSIGN_OR_RETURN(ScoredClassifier c,
                     TrainAndScoreClassifier(kind,
                                             kind == "xgboost" ? o.xgboost_params
                                             : kind == "torch" ? o.torch_params
                                                               : train::Params{},
                                             o.threads, o.seed, fit, valid, test, dir, o.progress));
    r.scores.push_back(std::move(c.score));
    r.learned.push_back(std::move(c.model));
  }
  return r;
}

StatusOr<ScoredClassifier> TrainAndScoreClassifier(
    const std::string& kind, const train::Params& params, int threads, uint64_t seed,
    const models::TabularData& fit, const models::TabularData& valid,
    const models::TabularData& test, const std::string& dir,
    const train::ProgressCallback& progress) {
  train::TrainerOptions to;
  to.loss = train::Loss::kLogistic;
  to.threads = threads;
  to.seed = seed;
  to.params = params;
  ScoredClassifier out;
  ASSIGN_OR_RETURN(out.model, train::Train(kind, fit, &valid, to, dir, progress));
  std::vector<float> p(static_cast<size_t>(test.rows));
  RETURN_IF_ERROR(out.model.model->Predict(test.features.data(), test.rows, p.data()));
  for (float& v : p) v = std::clamp(v, 0.0f, 1.0f);
  out.score.model = kind;
  out.score.train_seconds = out.model.train_seconds;
  out.score.train_rows_per_second = out.model.rows_per_second;
  out.score.iterations =
      out.model.best_iterations.empty() ? 0 : out.model.best_iterations[0];
  ASSIGN_OR_RETURN(out.score.test, ComputeClassifierMetrics(p, test.targets));
  out.test_probability = std::move(p);
  return out;
}

}  // namespace bimride::tasks::behaviour
