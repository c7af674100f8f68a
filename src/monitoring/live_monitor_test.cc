#include "monitoring/live_monitor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "train/metrics.h"

namespace bimride::monitoring {
namespace {

PredictionBatch Batch(const std::string& id, int64_t version, std::vector<float> outputs,
                      const std::string& route = "stable") {
  PredictionBatch b;
  b.request_id = id;
  b.time_us = 1612949400000000;
  b.model = "eta";
  b.version = version;
  b.route = route;
  b.feature_names = {"x"};
  b.output_names = {"eta_minutes"};
  b.rows = static_cast<int64_t>(outputs.size());
  b.features.assign(outputs.size(), 1.0f);
  b.outputs = std::move(outputs);
  return b;
}

std::unique_ptr<LiveMonitor> Monitor(LiveMonitorOptions o) {
  auto m = LiveMonitor::Create(o);
  EXPECT_TRUE(m.ok()) << m.status().message();
  return std::move(m).value();
}

TEST(ParseFeedbackJson, OneManyAndWrapped) {
  auto one = ParseFeedbackJson(R"({"request_id": "r1", "actual": 12.5})", "body");
  ASSERT_TRUE(one.ok()) << one.status().message();
  EXPECT_EQ(*one, (std::vector<Feedback>{{"r1", 0, 12.5}}));
  auto many = ParseFeedbackJson(R"([{"key": "trip-9", "row": 2, "actual": 3}, {"request_id": "b", "actual": -1}])", "body");
  ASSERT_TRUE(many.ok()) << many.status().message();
  EXPECT_EQ(*many, (std::vector<Feedback>{{"trip-9", 2, 3}, {"b", 0, -1}}));
  auto wrapped = ParseFeedbackJson(R"({"feedback": [{"request_id": "c", "actual": 1e2}]})", "b");
  ASSERT_TRUE(wrapped.ok()) << wrapped.status().message();
  EXPECT_EQ((*wrapped)[0].actual, 100.0);
}

TEST(ParseFeedbackJson, BadInputNamesTheItemAndTheProblem) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{", "body: not valid JSON"},
      {"42", "expected a feedback object"},
      {"[]", "no feedback items"},
      {R"({"actual": 1})", "missing request_id"},
      {R"({"request_id": "a"})", "missing actual"},
      {R"({"request_id": "", "actual": 1})", "request_id: must be a non-empty string"},
      {R"({"request_id": 7, "actual": 1})", "request_id: must be a non-empty string"},
      {R"({"request_id": "a", "actual": "12"})", "actual: must be a number"},
      {R"({"request_id": "a", "actual": 1, "row": -1})", "row: must be an integer >= 0"},
      {R"({"request_id": "a", "actual": 1, "row": 1.5})", "row: must be an integer >= 0"},
      {R"({"request_id": "a", "key": "b", "actual": 1})", "give one of request_id and key"},
      {R"({"request_id": "a", "actul": 1})", "unknown key 'actul'"},
      {R"([{"request_id": "a", "actual": 1}, 3])", "feedback[1]: must be a JSON object"},
      {R"({"feedback": {"request_id": "a"}})", "feedback: must be a list"},
      {R"({"feedback": [], "x": 1})", "must have no other key"},
  };
  for (const auto& [body, want] : cases) {
    auto r = ParseFeedbackJson(body, "body");
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << body;
    EXPECT_NE(r.status().message().find(want), std::string::npos)
        << body << " → " << r.status().message();
  }
  auto big = ParseFeedbackJson(R"([{"request_id": "a", "actual": 1}, {"request_id": "b", "actual": 2}])",
                               "body", 1);
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("at most 1"), std::string::npos);
}

TEST(ReadFeedbackFile, CsvAndJsonAndBadLines) {
  const std::string dir = ::testing::TempDir();
  const std::string csv = dir + "/feedback_" + std::to_string(::getpid()) + ".csv";
  std::ofstream(csv) << "actual,request_id\n12.5,r1\n\n7,r2\r\n";
  auto r = ReadFeedbackFile(csv);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, (std::vector<Feedback>{{"r1", 0, 12.5}, {"r2", 0, 7}}));
  std::ofstream(csv) << "request_id,actual\nr1,twelve\n";
  r = ReadFeedbackFile(csv);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(csv + ":2: actual 'twelve' is not a finite number"),
            std::string::npos)
      << r.status().message();
  std::ofstream(csv) << "id,value\n";
  r = ReadFeedbackFile(csv);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("must name request_id"), std::string::npos);
  std::ofstream(csv) << R"({"feedback": [{"request_id": "x", "actual": 2}]})";
  r = ReadFeedbackFile(csv);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)[0].request_id, "x");
  EXPECT_FALSE(ReadFeedbackFile(dir + "/no-such-feedback.csv").ok());
  std::remove(csv.c_str());
}

// The log's writer shows the monitor everything it took at once (ObserveAll): the same windows,
// estimates and joins as batch by batch, with one loss-estimator call per run of one version.
TEST(LiveMonitor, ObserveAllEqualsObserveBatchByBatchWithOneEstimatorCallPerRun) {
  int calls = 0;
  DriftBaselineLoader baselines = [&calls](const std::string&, int64_t) {
    DriftBaseline b;
    b.loss_features = {"x"};
    b.loss_estimator = [&calls](const std::vector<float>& x, int64_t rows) {
      ++calls;
      std::vector<float> e;
      for (int64_t r = 0; r < rows; ++r) e.push_back(x[2 * r] + x[2 * r + 1]);  // x + prediction
      return StatusOr<std::vector<float>>(e);
    };
    return StatusOr<DriftBaseline>(b);
  };
  std::vector<PredictionBatch> batches;
  for (int i = 0; i < 10; ++i) {
    PredictionBatch b = Batch("r" + std::to_string(i), i < 6 ? 1 : 2, {float(i), float(i) + 0.5f});
    b.features = {float(i) / 4, float(i) / 8};
    batches.push_back(b);
  }
  auto one_by_one = LiveMonitor::Create({.window_rows = 3}, baselines);
  ASSERT_TRUE(one_by_one.ok());
  for (const PredictionBatch& b : batches) (*one_by_one)->Observe(b);
  EXPECT_EQ(calls, 10);
  calls = 0;
  auto all = LiveMonitor::Create({.window_rows = 3}, baselines);
  ASSERT_TRUE(all.ok());
  (*all)->ObserveAll(batches);
  EXPECT_EQ(calls, 2) << "one call per version's run";
  for (auto* m : {one_by_one->get(), all->get()}) {
    m->AddFeedback({{"r1", 1, 4}, {"r7", 0, 2}, {"r9", 1, 1}});
  }
  const std::vector<WindowAccuracy> a = (*one_by_one)->Windows(), b = (*all)->Windows();
  ASSERT_EQ(a.size(), b.size());
  ASSERT_EQ(a.size(), 4u + 3u);  // 12 rows of version 1, 8 of version 2, windows of 3
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].version, b[i].version);
    EXPECT_EQ(a[i].predicted_rows, b[i].predicted_rows) << i;
    EXPECT_EQ(a[i].labelled_rows, b[i].labelled_rows) << i;
    EXPECT_DOUBLE_EQ(a[i].estimated_rmse, b[i].estimated_rmse) << i;
  }
  EXPECT_EQ((*one_by_one)->counters().joined, 3);
  EXPECT_EQ((*all)->counters().joined, 3);
}

// A loss estimator that expects every row's squared error to be 4 (an RMSE of 2).
DriftBaselineLoader ConstantLossOf4() {
  return [](const std::string&, int64_t) {
    DriftBaseline b;
    b.loss_features = {"x"};
    b.loss_estimator = [](const std::vector<float>&, int64_t rows) {
      return StatusOr<std::vector<float>>(std::vector<float>(static_cast<size_t>(rows), 4.0f));
    };
    return StatusOr<DriftBaseline>(b);
  };
}

// Predicts `n` one-row requests "<prefix><i>" of 10 minutes each.
void PredictRows(LiveMonitor& m, const std::string& prefix, int n) {
  for (int i = 0; i < n; ++i) m.Observe(Batch(prefix + std::to_string(i), 1, {10}));
}
// Labels them `error` minutes away from the prediction.
void LabelRows(LiveMonitor& m, const std::string& prefix, int n, float error) {
  std::vector<Feedback> f;
  for (int i = 0; i < n; ++i) f.push_back({prefix + std::to_string(i), 0, 10 + error});
  m.AddFeedback(f);
}

// Item 4, label-anchored: a window's estimate is corrected by the realised / estimated squared
// error of the labelled rows of the windows before it, fixed when the window opens — none of its
// own labels (nor labels of earlier windows arriving after it opened) move it.
TEST(LiveMonitor, AnchoredEstimateIsFixedWhenItsWindowOpens) {
  auto created = LiveMonitor::Create(
      {.window_rows = 4, .anchor_windows = 2, .anchor_prior_rows = 0}, ConstantLossOf4());
  ASSERT_TRUE(created.ok()) << created.status().message();
  LiveMonitor& m = **created;
  PredictRows(m, "a", 4);  // window 0: nothing labelled before it, so no correction
  std::vector<WindowAccuracy> w = m.Windows();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_DOUBLE_EQ(w[0].estimated_rmse, 2.0);
  EXPECT_DOUBLE_EQ(w[0].estimated_rmse_unanchored, 2.0);
  EXPECT_EQ(w[0].estimate_correction, 1.0);
  EXPECT_EQ(w[0].anchor_rows, 0);
  LabelRows(m, "a", 3, 4.0f);  // 3 of its rows realise 16 (RMSE 4): twice the estimate
  w = m.Windows();
  EXPECT_DOUBLE_EQ(w[0].estimated_rmse, 2.0) << "its own labels do not enter its estimate";

  PredictRows(m, "b", 4);  // window 1 opens: anchored on window 0's 3 labelled rows
  w = m.Windows();
  ASSERT_EQ(w.size(), 2u);
  EXPECT_DOUBLE_EQ(w[1].estimated_rmse_unanchored, 2.0);
  EXPECT_DOUBLE_EQ(w[1].estimate_correction, 2.0);
  EXPECT_DOUBLE_EQ(w[1].estimated_rmse, 4.0);
  EXPECT_EQ(w[1].anchor_rows, 3);
  EXPECT_EQ(w[1].anchor_windows, 1);
  // Its own labels, and window 0's last (late) label, arrive: window 1's estimate stays.
  LabelRows(m, "b", 4, 0.0f);
  LabelRows(m, "a", 4, 4.0f);  // a0..a2 are duplicates; a3 joins late
  w = m.Windows();
  EXPECT_DOUBLE_EQ(w[1].estimated_rmse, 4.0);
  EXPECT_EQ(w[1].anchor_rows, 3);
  EXPECT_DOUBLE_EQ(w[1].metrics.rmse, 0.0) << "the realised RMSE moved, the estimate did not";

  PredictRows(m, "c", 1);  // window 2: windows 0 (4 rows of 16) and 1 (4 rows of 0)
  w = m.Windows();
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[2].anchor_rows, 8);
  EXPECT_EQ(w[2].anchor_windows, 2);
  EXPECT_DOUBLE_EQ(w[2].estimated_rmse, std::sqrt(4.0 * (64.0 / 32.0)));
  PredictRows(m, "d", 4);  // window 3 (opened at d3): windows 1 and 2 only (anchor_windows 2)
  LabelRows(m, "c", 1, 2.0f);  // window 2's only label, after window 3 opened
  w = m.Windows();
  ASSERT_EQ(w.size(), 4u);
  EXPECT_EQ(w[3].anchor_rows, 4) << "window 0 is too old; window 2 had no label yet";
  EXPECT_EQ(w[3].anchor_windows, 1);
  EXPECT_DOUBLE_EQ(w[3].estimated_rmse, 0.0) << "window 1's rows realised 0";
}

// With few labelled rows the correction is shrunk toward 1: c = (n·r + n0) / (n + n0).
TEST(LiveMonitor, AnchorIsShrunkTowardNoCorrectionWithFewLabels) {
  auto created = LiveMonitor::Create(
      {.window_rows = 4, .anchor_windows = 1, .anchor_prior_rows = 12}, ConstantLossOf4());
  ASSERT_TRUE(created.ok());
  LiveMonitor& m = **created;
  PredictRows(m, "a", 4);
  LabelRows(m, "a", 4, 4.0f);  // r = 16 / 4 = 4 over n = 4 rows
  PredictRows(m, "b", 1);
  const std::vector<WindowAccuracy> w = m.Windows();
  ASSERT_EQ(w.size(), 2u);
  const double c = (4.0 * 4 + 12) / (4 + 12);  // 1.75
  EXPECT_DOUBLE_EQ(w[1].estimate_correction, std::sqrt(c));
  EXPECT_DOUBLE_EQ(w[1].estimated_rmse, std::sqrt(4.0 * c));
  EXPECT_DOUBLE_EQ(w[1].estimated_rmse_unanchored, 2.0);
}

// anchor_windows = 0 turns the anchoring off; negative options are refused.
TEST(LiveMonitor, AnchoringOffAndBadAnchorOptions) {
  auto created = LiveMonitor::Create({.window_rows = 2, .anchor_windows = 0}, ConstantLossOf4());
  ASSERT_TRUE(created.ok());
  PredictRows(**created, "a", 2);
  LabelRows(**created, "a", 2, 6.0f);
  PredictRows(**created, "b", 2);
  const std::vector<WindowAccuracy> w = (*created)->Windows();
  ASSERT_EQ(w.size(), 2u);
  EXPECT_DOUBLE_EQ(w[1].estimated_rmse, 2.0);
  EXPECT_EQ(w[1].anchor_rows, 0);
  for (LiveMonitorOptions o : {LiveMonitorOptions{.anchor_windows = -1},
                               LiveMonitorOptions{.anchor_prior_rows = -5}}) {
    auto bad = LiveMonitor::Create(o);
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.status().message().find("anchor_windows and anchor_prior_rows must be >= 0"),
              std::string::npos);
  }
}

TEST(LiveMonitor, RefusesBadOptions) {
  LiveMonitorOptions o;
  o.window_rows = 0;
  EXPECT_EQ(LiveMonitor::Create(o).status().code(), StatusCode::kInvalidArgument);
}

TEST(LiveMonitor, WindowsMetricsEqualComputeMetricsInPredictionOrder) {
  LiveMonitorOptions o;
  o.window_rows = 3;
  auto m = Monitor(o);
  // Rows 0..5 of version 1 (two windows); request "b" has two rows.
  m->Observe(Batch("a", 1, {10}));
  m->Observe(Batch("b", 1, {20, 30}));
  m->Observe(Batch("c", 1, {40}));
  m->Observe(Batch("d", 1, {50}));
  // Labels in another order than the predictions.
  FeedbackOutcome f = m->AddFeedback({{"c", 0, 44}, {"b", 1, 33}, {"a", 0, 9}, {"b", 0, 25}});
  EXPECT_EQ(f.joined, 4);
  EXPECT_EQ(f.late, 3);  // window 0 (a, b0, b1) closed when c was predicted
  EXPECT_EQ(f.waiting, 0);
  std::vector<WindowAccuracy> w = m->Windows();
  ASSERT_EQ(w.size(), 2u);
  EXPECT_TRUE(w[0].closed);
  EXPECT_FALSE(w[1].closed);
  EXPECT_EQ(w[0].predicted_rows, 3);
  EXPECT_EQ(w[0].labelled_rows, 3);
  EXPECT_EQ(w[0].late_labels, 3);
  EXPECT_EQ(w[1].predicted_rows, 2);
  EXPECT_EQ(w[1].labelled_rows, 1);
  const std::vector<float> p0 = {10, 20, 30}, y0 = {9, 25, 33};
  train::Metrics want = train::ComputeMetrics(p0, y0);
  EXPECT_EQ(w[0].metrics.rmse, want.rmse);
  EXPECT_EQ(w[0].metrics.mae, want.mae);
  EXPECT_EQ(w[0].metrics.bias, want.bias);
  EXPECT_NEAR(w[0].metrics.bias, (1.0 - 5 - 3) / 3, 1e-9);
  auto all = m->Overall("eta", 1);
  ASSERT_TRUE(all.ok());
  const std::vector<float> p = {10, 20, 30, 40}, y = {9, 25, 33, 44};
  EXPECT_EQ(all->metrics.rmse, train::ComputeMetrics(p, y).rmse);
  EXPECT_EQ(all->labelled_rows, 4);
  EXPECT_EQ(all->predicted_rows, 5);
  EXPECT_EQ(m->Overall("eta", 9).status().code(), StatusCode::kNotFound);
}

TEST(LiveMonitor, EarlyDuplicateUnmatchedAndMissingLabelsAreCounted) {
  LiveMonitorOptions o;
  o.window_rows = 100;
  o.max_pending_rows = 2;
  o.max_waiting_labels = 1;
  auto m = Monitor(o);
  // A label before its prediction waits, then joins.
  FeedbackOutcome f = m->AddFeedback({{"early", 0, 5}});
  EXPECT_EQ(f.waiting, 1);
  m->Observe(Batch("early", 1, {4}));
  EXPECT_EQ(m->Windows()[0].labelled_rows, 1);
  // A second label for the same row is a duplicate; the first stays.
  f = m->AddFeedback({{"early", 0, 99}});
  EXPECT_EQ(f.duplicate, 1);
  EXPECT_EQ(m->Windows()[0].metrics.bias, -1.0);
  // Two labels for unknown ids with room for one: the first is unmatched.
  m->AddFeedback({{"ghost1", 0, 1}, {"ghost2", 0, 1}});
  // Predictions beyond max_pending_rows push out the oldest; unlabelled ones are missing.
  m->Observe(Batch("p1", 1, {1}));
  m->Observe(Batch("p2", 1, {1}));  // pushes out "early" (labelled: not missing)
  m->Observe(Batch("p3", 1, {1}));  // pushes out p1 (unlabelled: missing)
  MonitorCounters c = m->counters();
  EXPECT_EQ(c.labels, 4);
  EXPECT_EQ(c.joined, 1);
  EXPECT_EQ(c.duplicate, 1);
  EXPECT_EQ(c.unmatched, 1);
  EXPECT_EQ(c.waiting_labels, 1);
  EXPECT_EQ(c.missing, 1);
  EXPECT_EQ(c.pending_rows, 2);
  EXPECT_EQ(c.predicted_rows, 4);
  // A label for a pushed-out prediction waits (it may still come) rather than joining.
  f = m->AddFeedback({{"p1", 0, 1}});
  EXPECT_EQ(f.joined, 0);
}

TEST(LiveMonitor, AKeyThatWaitsAgainIsNotPushedOutByItsEarlierTurn) {
  LiveMonitorOptions o;
  o.window_rows = 100;
  o.max_pending_rows = 1;
  o.max_waiting_labels = 2;
  auto m = Monitor(o);
  m->AddFeedback({{"x", 0, 5}});     // waits
  m->Observe(Batch("x", 1, {4}));    // joins
  m->Observe(Batch("p1", 1, {1}));   // pushes x's prediction out (labelled: not missing)
  FeedbackOutcome f = m->AddFeedback({{"x", 0, 7}});  // x's prediction is gone: waits again
  EXPECT_EQ(f.waiting, 1);
  // A third label arrives with room for two: the oldest turn in the order is x's first one,
  // joined already; x's second label keeps waiting.
  m->AddFeedback({{"a", 0, 1}});
  MonitorCounters c = m->counters();
  EXPECT_EQ(c.unmatched, 0);
  EXPECT_EQ(c.waiting_labels, 2);
  m->Observe(Batch("x", 1, {6}));  // a retried request under the same id: its label joins
  EXPECT_EQ(m->counters().joined, 2);
  // Two more labels: x's second turn has joined, so the one pushed out is "a", the oldest waiting.
  m->AddFeedback({{"b", 0, 1}, {"c", 0, 1}});
  c = m->counters();
  EXPECT_EQ(c.unmatched, 1);
  EXPECT_EQ(c.waiting_labels, 2);
}

TEST(LiveMonitor, ALabelJoinsThePrimaryAndItsShadow) {
  auto m = Monitor({});
  m->Observe(Batch("r", 1, {10}));
  m->AddFeedback({{"r", 0, 12}});
  m->Observe(Batch("r", 2, {11}, "shadow"));  // the shadow's answer reaches the log later
  std::vector<WindowAccuracy> w = m->Windows("eta");
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].version, 1);
  EXPECT_EQ(w[0].metrics.bias, -2.0);
  EXPECT_EQ(w[1].version, 2);
  EXPECT_EQ(w[1].metrics.bias, -1.0);
  EXPECT_TRUE(m->Windows("other").empty());
}

}  // namespace
}  // namespace bimride::monitoring
