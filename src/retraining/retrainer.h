// Retraining on alarm (#13 item 8), the loop closed: beside a model server, poll its live monitor
// for an accuracy or drift alarm held for N closed windows of the model's stable version; then
// read the most recent labelled windows back from the prediction log (monitoring/
// labelled_rows.h), train on them with the task's own training code, publish the result, and
// start a progressive rollout of it on the server (serving/progressive_rollout.h), which
// promotes or rolls it back. Off unless run: `bimride retrain eta` is its own command.
//
// Task-neutral: the task's training and the server calls come in as hooks (RetrainHooks), so
// this folder knows neither a task nor HTTP. Every step is a tracked run in the registry's store
// (task "retrain", tag step = alarm | rollout; the training is the task's own tracked run).
//
// What alarms (RetrainPolicy): a closed window of the stable version whose drift alarm is up
// (calibrated at publish, monitoring/drift.h), or whose live RMSE — over at least
// min_window_labels labels — is above max_rmse, or above max_rmse_ratio × the version's
// reference RMSE (its manifest's validation RMSE). At least hold_windows of the last hold_span
// closed windows must alarm (hold_span 0: the last hold_windows, all of them, in a row). A share
// over a span tolerates the odd quiet window of a real drift, which small windows have, where a
// run in a row would have to start over. Then nothing happens while a rollout of the model is in progress, or within cooldown_ms
// of the last rollout this retrainer started.
//
// Thread safety: a Retrainer is driven by one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "monitoring/labelled_rows.h"
#include "registry/registry.h"

namespace bimride::retraining {

struct RetrainPolicy {
  std::string model = "eta";
  int64_t hold_windows = 2;         // closed windows that must alarm …
  int64_t hold_span = 0;            // … of the last this many (0: hold_windows, in a row)
  bool on_drift = true;             // a drift alarm counts
  double max_rmse = 0;              // accuracy alarm above this live RMSE (0: off)
  double max_rmse_ratio = 0;        // … or above this × the reference RMSE (0: off)
  int64_t min_window_labels = 100;  // fewer labels: the window's accuracy is not judged
  int64_t min_rows = 2000;          // labelled rows to train on, at least
  int64_t max_train_windows = 50;   // the training span: at most this many recent windows
  int64_t cooldown_ms = 10 * 60 * 1000;  // after a rollout started
};
// InvalidArgument naming the field.
Status ValidateRetrainPolicy(const RetrainPolicy& policy);

// One window of GET /v1/monitor (serving/http/rest_api.cc renders it).
struct MonitorWindow {
  int64_t version = 0;
  int64_t window = 0;
  bool closed = false;
  int64_t predicted_rows = 0, labelled_rows = 0;
  int64_t first_time_us = 0, last_time_us = 0;
  double rmse = std::numeric_limits<double>::quiet_NaN();
  bool drift_calibrated = false, drift_alarm = false;
  std::string drift_features;  // the features above a threshold, "a,b"
};
struct MonitorSnapshot {
  int64_t window_rows = 0;
  std::vector<MonitorWindow> windows;  // of one model, by version then window
};
// Parses a /v1/monitor answer, keeping `model`'s windows. InvalidArgument naming what is wrong.
StatusOr<MonitorSnapshot> ParseMonitorSnapshot(std::string_view json, const std::string& model);

struct AlarmDecision {
  bool alarm = false;
  std::string why;  // what alarmed, or why not
  int64_t first_alarm_window = -1, last_alarm_window = -1;  // the span judged
  // The training span: the most recent closed windows of the version, back until they hold
  // min_rows labels (or max_train_windows), by log time.
  int64_t t0_us = 0, t1_us = 0;
  int64_t span_windows = 0, span_labelled_rows = 0;
};
// Whether version `version`'s windows hold an alarm (see the header comment). `reference_rmse`
// NaN: the ratio check is off.
AlarmDecision DecideRetrain(const MonitorSnapshot& snapshot, int64_t version,
                            double reference_rmse, const RetrainPolicy& policy);

// What the retrainer needs from the server, the registry and the task.
struct RetrainHooks {
  std::function<StatusOr<std::string>()> monitor;        // GET /v1/monitor's body
  // The model's rollout state on the server ("progressing", "promoted", …); "" when none.
  std::function<StatusOr<std::string>()> rollout_state;
  // Reads the labelled rows logged in [t0, t1] (monitoring::ReadLabelledRows on the log dir).
  std::function<StatusOr<monitoring::LabelledRows>(int64_t t0_us, int64_t t1_us)> read_rows;
  // The task's training on those rows: publishes and returns the new version. `window_rows` is
  // the monitor's (for the new version's drift calibration); `parent_run` the retrain run id.
  std::function<StatusOr<int64_t>(const monitoring::LabelledRows& rows, int64_t window_rows,
                                  const std::string& parent_run)>
      train_and_publish;
  // POST /v1/rollouts/{model} for the candidate; the server's answer.
  std::function<StatusOr<std::string>(int64_t candidate)> start_rollout;
  std::function<int64_t()> now_ms;  // steady clock; null: std::chrono::steady_clock
};

enum class RetrainOutcome {
  kNoAlarm,
  kRolloutInProgress,
  kCoolingDown,
  kTooFewRows,  // the alarm holds but the log has too few labelled rows (yet)
  kRolledOut,   // trained, published and a rollout started
  kFailed,      // a step failed (message says which); tried again at the next poll
};
std::string_view RetrainOutcomeName(RetrainOutcome outcome);

struct RetrainStep {
  RetrainOutcome outcome = RetrainOutcome::kNoAlarm;
  std::string message;
  int64_t stable_version = 0;
  int64_t candidate = 0;
  int64_t training_rows = 0;
  std::vector<std::string> run_ids;  // the runs this step tracked
};

class Retrainer {
 public:
  // InvalidArgument for a bad policy or a missing hook. `registry` (not owned) must outlive it.
  static StatusOr<std::unique_ptr<Retrainer>> Create(RetrainPolicy policy, RetrainHooks hooks,
                                                     registry::Registry* registry);
  // One poll: reads the monitor and, when the alarm holds, retrains and rolls out.
  RetrainStep Step();

 private:
  Retrainer(RetrainPolicy policy, RetrainHooks hooks, registry::Registry* registry)
      : policy_(std::move(policy)), hooks_(std::move(hooks)), registry_(registry) {}
  int64_t Now() const;
  RetrainStep Retrain(int64_t stable, const AlarmDecision& alarm, int64_t window_rows);

  RetrainPolicy policy_;
  RetrainHooks hooks_;
  registry::Registry* registry_;
  int64_t last_rollout_ms_ = std::numeric_limits<int64_t>::min();
};

}  // namespace bimride::retraining
