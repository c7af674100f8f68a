#include "retraining/retrainer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "registry/test_util.h"

namespace bimride::retraining {
namespace {

using nlohmann::json;

// A /v1/monitor answer with `n` closed windows of `version` (1000 labels each), the ones in
// `drifting` alarming on drift, each with RMSE `rmse`, and one open window after them.
std::string MonitorJson(int64_t version, int n, std::vector<int> drifting, double rmse = 5) {
  json j = {{"window_rows", 1000}, {"counters", json::object()}, {"windows", json::array()}};
  for (int k = 0; k <= n; ++k) {
    const bool alarm = std::find(drifting.begin(), drifting.end(), k) != drifting.end();
    json w = {{"model", "eta"},          {"version", version},
              {"window", k},             {"closed", k < n},
              {"predicted_rows", 1000},  {"labelled_rows", k < n ? 1000 : 10},
              {"first_time_us", k * 100}, {"last_time_us", k * 100 + 99},
              {"rmse", rmse},            {"drift_calibrated", true},
              {"drift_alarm", alarm},    {"drift", json::object()}};
    if (alarm) w["drift"]["pair_log_count"] = {{"psi", 0.5}, {"above", "psi"}};
    j["windows"].push_back(w);
  }
  // Another model's windows are ignored.
  j["windows"].push_back({{"model", "demand"}, {"version", version}, {"window", 0},
                          {"closed", true}, {"predicted_rows", 1}, {"labelled_rows", 1},
                          {"first_time_us", 0}, {"last_time_us", 0}, {"drift_alarm", true}});
  return j.dump();
}

TEST(RetrainPolicy, RefusesPoliciesThatCannotWorkNamingTheField) {
  RetrainPolicy p;
  EXPECT_TRUE(ValidateRetrainPolicy(p).ok());
  p.hold_windows = 0;
  EXPECT_NE(ValidateRetrainPolicy(p).message().find("hold_windows"), std::string::npos);
  p = {};
  p.on_drift = false;
  EXPECT_NE(ValidateRetrainPolicy(p).message().find("nothing can alarm"), std::string::npos);
  p.max_rmse = -1;
  EXPECT_FALSE(ValidateRetrainPolicy(p).ok());
  p = {};
  p.model = "a/b";
  EXPECT_FALSE(ValidateRetrainPolicy(p).ok());
}

TEST(MonitorSnapshot, KeepsOneModelsWindowsAndNamesWhatIsWrong) {
  auto s = ParseMonitorSnapshot(MonitorJson(2, 3, {1}), "eta");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->window_rows, 1000);
  ASSERT_EQ(s->windows.size(), 4u);
  EXPECT_TRUE(s->windows[1].drift_alarm);
  EXPECT_EQ(s->windows[1].drift_features, "pair_log_count");
  EXPECT_FALSE(s->windows[3].closed);
  EXPECT_EQ(ParseMonitorSnapshot("nope", "eta").status().code(), StatusCode::kInvalidArgument);
  auto bad = ParseMonitorSnapshot(R"({"window_rows": 10, "windows": [{"model": "eta"}]})", "eta");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("windows[0]: 'version'"), std::string::npos)
      << bad.status().message();
  // A flag of another type is refused, not thrown (found by monitor_snapshot_fuzzer).
  for (const char* key : {"closed", "drift_calibrated", "drift_alarm"}) {
    json j = json::parse(MonitorJson(2, 1, {}));
    j["windows"][0][key] = 1;
    auto wrong = ParseMonitorSnapshot(j.dump(), "eta");
    ASSERT_FALSE(wrong.ok()) << key;
    EXPECT_NE(wrong.status().message().find(std::string("windows[0]: '") + key + "' not true/false"),
              std::string::npos)
        << wrong.status().message();
  }
}

TEST(DecideRetrain, TheAlarmMustHoldTheLastNClosedWindows) {
  RetrainPolicy p;
  p.hold_windows = 2;
  p.min_rows = 1500;
  // The open window's drift does not count; one alarming window is not enough.
  auto s = ParseMonitorSnapshot(MonitorJson(2, 4, {3, 4}), "eta").value();
  EXPECT_FALSE(DecideRetrain(s, 2, NAN, p).alarm);
  s = ParseMonitorSnapshot(MonitorJson(2, 4, {1, 3}), "eta").value();
  AlarmDecision d = DecideRetrain(s, 2, NAN, p);
  EXPECT_FALSE(d.alarm);
  EXPECT_NE(d.why.find("window 2 of version 2 does not alarm"), std::string::npos) << d.why;
  s = ParseMonitorSnapshot(MonitorJson(2, 4, {2, 3}), "eta").value();
  d = DecideRetrain(s, 2, NAN, p);
  ASSERT_TRUE(d.alarm) << d.why;
  EXPECT_EQ(d.first_alarm_window, 2);
  EXPECT_EQ(d.last_alarm_window, 3);
  // The span: back from window 3 until 1500 labels: windows 2 and 3.
  EXPECT_EQ(d.span_windows, 2);
  EXPECT_EQ(d.t0_us, 200);
  EXPECT_EQ(d.t1_us, 399);
  // Another version's windows are not this version's.
  EXPECT_FALSE(DecideRetrain(s, 3, NAN, p).alarm);
  // Drift off: the same windows do not alarm; an accuracy bound does.
  p.on_drift = false;
  p.max_rmse = 4.9;
  d = DecideRetrain(s, 2, NAN, p);
  EXPECT_TRUE(d.alarm) << d.why;
  EXPECT_NE(d.why.find("rmse 5 > 4.9"), std::string::npos) << d.why;
  p.max_rmse = 0;
  p.max_rmse_ratio = 1.2;
  EXPECT_FALSE(DecideRetrain(s, 2, 4.5, p).alarm);  // 5 < 1.2 × 4.5
  EXPECT_TRUE(DecideRetrain(s, 2, 4.0, p).alarm);   // 5 > 1.2 × 4
  EXPECT_FALSE(DecideRetrain(s, 2, NAN, p).alarm);  // no reference: the ratio is off
  // Too few labels: a window's accuracy is not judged.
  p.min_window_labels = 1001;
  EXPECT_FALSE(DecideRetrain(s, 2, 4.0, p).alarm);
}

TEST(DecideRetrain, AShareOfASpanHoldsThroughAQuietWindowThatARunInARowDoesNot) {
  RetrainPolicy p;
  p.hold_windows = 3;
  p.hold_span = 5;
  p.min_rows = 1;
  // Closed windows 0..5 (6 is open): 3 of the last 5 (1..5) alarm, one quiet between them.
  auto s = ParseMonitorSnapshot(MonitorJson(2, 6, {2, 4, 5}), "eta").value();
  AlarmDecision d = DecideRetrain(s, 2, NAN, p);
  ASSERT_TRUE(d.alarm) << d.why;
  EXPECT_EQ(d.first_alarm_window, 1);
  EXPECT_EQ(d.last_alarm_window, 5);
  EXPECT_NE(d.why.find("(3 of 5 alarm)"), std::string::npos) << d.why;
  EXPECT_NE(d.why.find("window 2: drift (pair_log_count)"), std::string::npos) << d.why;
  // The same windows in a row (span 0): window 3 is quiet, no alarm.
  p.hold_span = 0;
  d = DecideRetrain(s, 2, NAN, p);
  EXPECT_FALSE(d.alarm);
  EXPECT_NE(d.why.find("window 3 of version 2 does not alarm"), std::string::npos) << d.why;
  // Two of the last five: fewer than three, and the answer says how many.
  p.hold_span = 5;
  s = ParseMonitorSnapshot(MonitorJson(2, 6, {0, 4, 5}), "eta").value();
  d = DecideRetrain(s, 2, NAN, p);
  EXPECT_FALSE(d.alarm);
  EXPECT_NE(d.why.find("2 of the last 5 closed windows of version 2 alarm, fewer than 3"),
            std::string::npos)
      << d.why;
  // Fewer closed windows than the span: not judged yet.
  s = ParseMonitorSnapshot(MonitorJson(2, 4, {1, 2, 3}), "eta").value();
  d = DecideRetrain(s, 2, NAN, p);
  EXPECT_FALSE(d.alarm);
  EXPECT_NE(d.why.find("has 4 closed window(s); the alarm must hold 3 of 5"), std::string::npos)
      << d.why;
  // A span shorter than the windows that must alarm cannot be met: refused.
  p.hold_span = 2;
  EXPECT_NE(ValidateRetrainPolicy(p).message().find("hold_span must be 0 or >= hold_windows"),
            std::string::npos);
}

class RetrainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = registry::Registry::Open(tmp_.path() + "/repo");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    registry_ = std::move(r).value();
    auto m = registry_->Publish(
        {{registry::testing::WriteTestFile(tmp_.path(), "m.json", "one"), "model.json"}},
        registry::testing::DraftManifest("eta"));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    ASSERT_TRUE(registry_->Promote("eta", m->version, "stable", "first", "test").ok());
    stable_ = m->version;
    hooks_.monitor = [this]() -> StatusOr<std::string> { return monitor_; };
    hooks_.rollout_state = [this]() -> StatusOr<std::string> { return rollout_state_; };
    hooks_.read_rows = [this](int64_t t0, int64_t t1) -> StatusOr<monitoring::LabelledRows> {
      read_spans_.push_back({t0, t1});
      monitoring::LabelledRows rows;
      rows.rows.resize(static_cast<size_t>(rows_in_log_));
      rows.predicted_rows = rows_in_log_;
      return rows;
    };
    hooks_.train_and_publish = [this](const monitoring::LabelledRows& rows, int64_t window_rows,
                                      const std::string& parent) -> StatusOr<int64_t> {
      trained_rows_.push_back(static_cast<int64_t>(rows.rows.size()));
      EXPECT_EQ(window_rows, 1000);
      EXPECT_FALSE(parent.empty());
      return int64_t{7};
    };
    hooks_.start_rollout = [this](int64_t candidate) -> StatusOr<std::string> {
      rollouts_.push_back(candidate);
      return std::string("{\"state\": \"progressing\"}");
    };
    hooks_.now_ms = [this] { return now_ms_; };
  }
  std::unique_ptr<Retrainer> Make(RetrainPolicy p) {
    auto r = Retrainer::Create(p, hooks_, registry_.get());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return std::move(r).value();
  }

  registry::testing::ScopedTempDir tmp_;
  std::unique_ptr<registry::Registry> registry_;
  int64_t stable_ = 0;
  RetrainHooks hooks_;
  std::string monitor_, rollout_state_;
  int64_t rows_in_log_ = 3000, now_ms_ = 1000;
  std::vector<std::pair<int64_t, int64_t>> read_spans_;
  std::vector<int64_t> trained_rows_, rollouts_;
};

TEST_F(RetrainerTest, AnAlarmLeadsToATrainedVersionRolledOutAndEveryStepTracked) {
  RetrainPolicy p;
  p.min_rows = 2000;
  p.cooldown_ms = 60000;
  auto r = Make(p);
  // No alarm: nothing is read, trained or rolled out.
  monitor_ = MonitorJson(stable_, 3, {});
  RetrainStep s = r->Step();
  EXPECT_EQ(s.outcome, RetrainOutcome::kNoAlarm) << s.message;
  EXPECT_TRUE(read_spans_.empty());
  EXPECT_TRUE(trained_rows_.empty());
  EXPECT_TRUE(rollouts_.empty());
  // The alarm holds: read back, trained, published, rolled out.
  monitor_ = MonitorJson(stable_, 3, {1, 2});
  s = r->Step();
  ASSERT_EQ(s.outcome, RetrainOutcome::kRolledOut) << s.message;
  EXPECT_EQ(s.candidate, 7);
  EXPECT_EQ(s.training_rows, 3000);
  ASSERT_EQ(read_spans_.size(), 1u);
  EXPECT_EQ(read_spans_[0], (std::pair<int64_t, int64_t>{100, 299}));
  EXPECT_EQ(trained_rows_, std::vector<int64_t>{3000});
  EXPECT_EQ(rollouts_, std::vector<int64_t>{7});
  ASSERT_EQ(s.run_ids.size(), 2u);
  auto alarm_run = registry_->store().GetRun(s.run_ids[0]);
  ASSERT_TRUE(alarm_run.ok());
  EXPECT_EQ(alarm_run->task, "retrain");
  EXPECT_EQ(alarm_run->tags["step"], "alarm");
  EXPECT_EQ(alarm_run->tags["candidate"], "7");
  EXPECT_EQ(alarm_run->status, registry::RunStatus::kFinished);
  EXPECT_EQ(alarm_run->LatestMetrics()["labelled_rows"], 3000);
  auto rollout_run = registry_->store().GetRun(s.run_ids[1]);
  ASSERT_TRUE(rollout_run.ok());
  EXPECT_EQ(rollout_run->tags["step"], "rollout");
  EXPECT_EQ(rollout_run->params["candidate"], "7");
  // While the rollout progresses, and then within the cool-down, the alarm does nothing.
  rollout_state_ = "progressing";
  EXPECT_EQ(r->Step().outcome, RetrainOutcome::kRolloutInProgress);
  rollout_state_ = "rolled_back";
  now_ms_ += 59000;
  EXPECT_EQ(r->Step().outcome, RetrainOutcome::kCoolingDown);
  EXPECT_EQ(rollouts_.size(), 1u);
  now_ms_ += 2000;
  EXPECT_EQ(r->Step().outcome, RetrainOutcome::kRolledOut);
  EXPECT_EQ(rollouts_.size(), 2u);
}

TEST_F(RetrainerTest, TooFewLabelledRowsInTheLogWaitsAndFailuresAreReported) {
  RetrainPolicy p;
  p.min_rows = 2000;
  auto r = Make(p);
  monitor_ = MonitorJson(stable_, 3, {1, 2});
  rows_in_log_ = 1500;  // the labels have not all reached the log yet
  RetrainStep s = r->Step();
  EXPECT_EQ(s.outcome, RetrainOutcome::kTooFewRows) << s.message;
  EXPECT_TRUE(trained_rows_.empty());
  EXPECT_NE(s.message.find("1500 labelled rows"), std::string::npos) << s.message;
  rows_in_log_ = 3000;
  hooks_.start_rollout = [](int64_t) -> StatusOr<std::string> {
    return InvalidArgumentError("rollout: a rollout of eta is in progress");
  };
  r = Make(p);
  s = r->Step();
  EXPECT_EQ(s.outcome, RetrainOutcome::kFailed);
  EXPECT_NE(s.message.find("starting the rollout of version 7"), std::string::npos) << s.message;
  auto run = registry_->store().GetRun(s.run_ids.back());
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->status, registry::RunStatus::kFailed);
  // A bad monitor answer is a failed step naming it, not a crash.
  monitor_ = "{}";
  s = r->Step();
  EXPECT_EQ(s.outcome, RetrainOutcome::kFailed);
  EXPECT_NE(s.message.find("the monitor"), std::string::npos) << s.message;
}

}  // namespace
}  // namespace bimride::retraining
