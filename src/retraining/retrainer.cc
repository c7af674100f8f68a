#include "retraining/retrainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>

#include <nlohmann/json.hpp>

namespace bimride::retraining {
namespace {

using json = nlohmann::json;

// The manifest metric the ratio check compares with (written by every task's training).
constexpr char kReferenceMetric[] = "valid_rmse";

StatusOr<int64_t> Int(const json& o, const char* key, const std::string& where) {
  auto it = o.find(key);
  if (it == o.end() || !it->is_number_integer()) {
    return InvalidArgumentError(where + ": '" + key + "' missing or not an integer");
  }
  return it->get<int64_t>();
}

std::string Range(int64_t a, int64_t b) {
  return a == b ? std::to_string(a) : std::to_string(a) + ".." + std::to_string(b);
}

std::string Fmt(double v) {
  std::ostringstream s;
  s.precision(4);
  s << v;
  return s.str();
}

}  // namespace

Status ValidateRetrainPolicy(const RetrainPolicy& p) {
  if (p.model.empty() || p.model.find('/') != std::string::npos) {
    return InvalidArgumentError("retrain: bad model name '" + p.model + "'");
  }
  if (p.hold_windows < 1) return InvalidArgumentError("retrain: hold_windows must be >= 1");
  if (p.hold_span != 0 && p.hold_span < p.hold_windows) {
    return InvalidArgumentError("retrain: hold_span must be 0 or >= hold_windows (" +
                                std::to_string(p.hold_windows) + "), not " +
                                std::to_string(p.hold_span));
  }
  if (p.max_rmse < 0 || p.max_rmse_ratio < 0 || !std::isfinite(p.max_rmse) ||
      !std::isfinite(p.max_rmse_ratio)) {
    return InvalidArgumentError("retrain: max_rmse and max_rmse_ratio must be >= 0 (0: off)");
  }
  if (!p.on_drift && p.max_rmse == 0 && p.max_rmse_ratio == 0) {
    return InvalidArgumentError(
        "retrain: nothing can alarm: turn on drift or set max_rmse or max_rmse_ratio");
  }
  if (p.min_window_labels < 1 || p.min_rows < 1 || p.max_train_windows < 1) {
    return InvalidArgumentError(
        "retrain: min_window_labels, min_rows and max_train_windows must be >= 1");
  }
  if (p.cooldown_ms < 0) return InvalidArgumentError("retrain: cooldown_ms must be >= 0");
  return OkStatus();
}

StatusOr<MonitorSnapshot> ParseMonitorSnapshot(std::string_view text, const std::string& model) {
  const std::string where = "/v1/monitor";
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return InvalidArgumentError(where + ": not a JSON object");
  }
  MonitorSnapshot out;
  ASSIGN_OR_RETURN(out.window_rows, Int(doc, "window_rows", where));
  auto ws = doc.find("windows");
  if (ws == doc.end() || !ws->is_array()) {
    return InvalidArgumentError(where + ": 'windows' missing or not a list");
  }
  for (size_t i = 0; i < ws->size(); ++i) {
    const json& w = (*ws)[i];
    const std::string at = where + ": windows[" + std::to_string(i) + "]";
    if (!w.is_object()) return InvalidArgumentError(at + ": not an object");
    if (!w.contains("model") || !w["model"].is_string()) {
      return InvalidArgumentError(at + ": 'model' missing or not a string");
    }
    if (w["model"].get<std::string>() != model) continue;
    MonitorWindow m;
    ASSIGN_OR_RETURN(m.version, Int(w, "version", at));
    ASSIGN_OR_RETURN(m.window, Int(w, "window", at));
    ASSIGN_OR_RETURN(m.predicted_rows, Int(w, "predicted_rows", at));
    ASSIGN_OR_RETURN(m.labelled_rows, Int(w, "labelled_rows", at));
    ASSIGN_OR_RETURN(m.first_time_us, Int(w, "first_time_us", at));
    ASSIGN_OR_RETURN(m.last_time_us, Int(w, "last_time_us", at));
    // true/false when present (json::value would throw on another type).
    for (auto [key, out] : {std::pair<const char*, bool*>{"closed", &m.closed},
                            {"drift_calibrated", &m.drift_calibrated},
                            {"drift_alarm", &m.drift_alarm}}) {
      auto b = w.find(key);
      if (b == w.end()) continue;
      if (!b->is_boolean()) {
        return InvalidArgumentError(at + ": '" + key + "' not true/false");
      }
      *out = b->get<bool>();
    }
    if (auto r = w.find("rmse"); r != w.end() && r->is_number()) m.rmse = r->get<double>();
    if (auto d = w.find("drift"); d != w.end() && d->is_object()) {
      for (auto f = d->begin(); f != d->end(); ++f) {
        if (f->is_object() && f->contains("above")) {
          m.drift_features += (m.drift_features.empty() ? "" : ",") + f.key();
        }
      }
    }
    out.windows.push_back(std::move(m));
  }
  std::sort(out.windows.begin(), out.windows.end(), [](const auto& a, const auto& b) {
    return a.version != b.version ? a.version < b.version : a.window < b.window;
  });
  return out;
}

AlarmDecision DecideRetrain(const MonitorSnapshot& snapshot, int64_t version,
                            double reference_rmse, const RetrainPolicy& policy) {
  AlarmDecision d;
  std::vector<const MonitorWindow*> closed;
  for (const MonitorWindow& w : snapshot.windows) {
    if (w.version == version && w.closed) closed.push_back(&w);
  }
  const int64_t span = policy.hold_span > 0 ? policy.hold_span : policy.hold_windows;
  const bool in_a_row = span == policy.hold_windows;
  if (static_cast<int64_t>(closed.size()) < span) {
    d.why = "version " + std::to_string(version) + " has " + std::to_string(closed.size()) +
            " closed window(s); the alarm must hold " +
            (in_a_row ? std::to_string(span)
                      : std::to_string(policy.hold_windows) + " of " + std::to_string(span));
    return d;
  }
  const double ratio_bound = policy.max_rmse_ratio > 0 && std::isfinite(reference_rmse)
                                 ? policy.max_rmse_ratio * reference_rmse
                                 : 0;
  std::string reasons, quiet;
  int64_t alarming = 0;
  for (size_t k = closed.size() - static_cast<size_t>(span); k < closed.size(); ++k) {
    const MonitorWindow& w = *closed[k];
    std::string why;
    if (policy.on_drift && w.drift_alarm) why = "drift (" + w.drift_features + ")";
    const bool judged = w.labelled_rows >= policy.min_window_labels && std::isfinite(w.rmse);
    if (judged && policy.max_rmse > 0 && w.rmse > policy.max_rmse) {
      why += (why.empty() ? "" : " and ") + std::string("rmse ") + Fmt(w.rmse) + " > " +
             Fmt(policy.max_rmse);
    } else if (judged && ratio_bound > 0 && w.rmse > ratio_bound) {
      why += (why.empty() ? "" : " and ") + std::string("rmse ") + Fmt(w.rmse) + " > " +
             Fmt(policy.max_rmse_ratio) + " x reference " + Fmt(reference_rmse);
    }
    if (why.empty()) {
      if (quiet.empty()) {
        quiet = "window " + std::to_string(w.window) + " of version " + std::to_string(version) +
                " does not alarm (rmse " + Fmt(w.rmse) + " over " +
                std::to_string(w.labelled_rows) + " labels, drift " +
                (w.drift_calibrated ? (w.drift_alarm ? "alarm" : "ok") : "uncalibrated") + ")";
      }
      continue;
    }
    ++alarming;
    reasons += (reasons.empty() ? "" : "; ") + std::string("window ") +
               std::to_string(w.window) + ": " + why;
  }
  if (alarming < policy.hold_windows) {
    d.why = in_a_row ? quiet
                     : std::to_string(alarming) + " of the last " + std::to_string(span) +
                           " closed windows of version " + std::to_string(version) +
                           " alarm, fewer than " + std::to_string(policy.hold_windows) +
                           " (first quiet: " + quiet + ")";
    return d;
  }
  d.alarm = true;
  d.first_alarm_window = closed[closed.size() - static_cast<size_t>(span)]->window;
  d.last_alarm_window = closed.back()->window;
  d.why = "version " + std::to_string(version) + ", windows " +
          Range(d.first_alarm_window, d.last_alarm_window) +
          (in_a_row ? std::string(" alarm: ")
                    : " (" + std::to_string(alarming) + " of " + std::to_string(span) +
                          " alarm): ") +
          reasons;
  // The training span: back from the newest closed window.
  d.t1_us = closed.back()->last_time_us;
  for (size_t k = closed.size(); k-- > 0;) {
    d.t0_us = closed[k]->first_time_us;
    ++d.span_windows;
    d.span_labelled_rows += closed[k]->labelled_rows;
    if (d.span_labelled_rows >= policy.min_rows || d.span_windows >= policy.max_train_windows) {
      break;
    }
  }
  return d;
}

std::string_view RetrainOutcomeName(RetrainOutcome outcome) {
  switch (outcome) {
    case RetrainOutcome::kNoAlarm: return "no_alarm";
    case RetrainOutcome::kRolloutInProgress: return "rollout_in_progress";
    case RetrainOutcome::kCoolingDown: return "cooling_down";
    case RetrainOutcome::kTooFewRows: return "too_few_rows";
    case RetrainOutcome::kRolledOut: return "rolled_out";
    case RetrainOutcome::kFailed: return "failed";
  }
  return "unknown";
}

StatusOr<std::unique_ptr<Retrainer>> Retrainer::Create(RetrainPolicy policy, RetrainHooks hooks,
                                                       registry::Registry* registry) {
  RETURN_IF_ERROR(ValidateRetrainPolicy(policy));
  if (!hooks.monitor || !hooks.rollout_state || !hooks.read_rows || !hooks.train_and_publish ||
      !hooks.start_rollout || registry == nullptr) {
    return InvalidArgumentError("retrain: every hook and the registry are needed");
  }
  return std::unique_ptr<Retrainer>(new Retrainer(std::move(policy), std::move(hooks), registry));
}

int64_t Retrainer::Now() const {
  if (hooks_.now_ms) return hooks_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

RetrainStep Retrainer::Step() {
  RetrainStep step;
  const auto fail = [&](const Status& st, const std::string& what) {
    step.outcome = RetrainOutcome::kFailed;
    step.message = what + ": " + st.message();
    return step;
  };
  StatusOr<int64_t> stable = registry_->ResolveLabel(policy_.model, "stable");
  if (!stable.ok()) return fail(stable.status(), "the stable version");
  step.stable_version = *stable;
  StatusOr<std::string> body = hooks_.monitor();
  if (!body.ok()) return fail(body.status(), "the monitor");
  StatusOr<MonitorSnapshot> snap = ParseMonitorSnapshot(*body, policy_.model);
  if (!snap.ok()) return fail(snap.status(), "the monitor");
  double reference = std::numeric_limits<double>::quiet_NaN();
  if (policy_.max_rmse_ratio > 0) {
    StatusOr<registry::Manifest> m = registry_->Show(policy_.model, *stable);
    if (!m.ok()) return fail(m.status(), "the stable manifest");
    if (auto it = m->metrics.find(kReferenceMetric); it != m->metrics.end()) reference = it->second;
  }
  const AlarmDecision alarm = DecideRetrain(*snap, *stable, reference, policy_);
  step.message = alarm.why;
  if (!alarm.alarm) return step;
  StatusOr<std::string> state = hooks_.rollout_state();
  if (!state.ok()) return fail(state.status(), "the rollout state");
  if (*state == "progressing") {
    step.outcome = RetrainOutcome::kRolloutInProgress;
    step.message = alarm.why + "; a rollout of " + policy_.model + " is in progress";
    return step;
  }
  if (last_rollout_ms_ != std::numeric_limits<int64_t>::min() &&
      Now() - last_rollout_ms_ < policy_.cooldown_ms) {
    step.outcome = RetrainOutcome::kCoolingDown;
    step.message = alarm.why + "; cooling down (" +
                   std::to_string(policy_.cooldown_ms - (Now() - last_rollout_ms_)) +
                   " ms left after the last rollout)";
    return step;
  }
  return Retrain(*stable, alarm, snap->window_rows);
}

RetrainStep Retrainer::Retrain(int64_t stable, const AlarmDecision& alarm, int64_t window_rows) {
  RetrainStep step;
  step.stable_version = stable;
  const auto fail = [&](const Status& st, const std::string& what,
                        registry::RunTracker* run) {
    step.outcome = RetrainOutcome::kFailed;
    step.message = what + ": " + st.message();
    if (run != nullptr) {
      (void)run->SetTags({{"error", step.message}});
      (void)run->EndRun(registry::RunStatus::kFailed);
    }
    return step;
  };
  // Step 1, tracked: the alarm and the rows read back for it.
  StatusOr<std::unique_ptr<registry::RunTracker>> alarm_run = registry_->StartRun(
      "retrain",
      {{"model", policy_.model},
       {"stable_version", std::to_string(stable)},
       {"hold_windows", std::to_string(policy_.hold_windows)},
       {"hold_span", std::to_string(policy_.hold_span > 0 ? policy_.hold_span
                                                          : policy_.hold_windows)},
       {"on_drift", policy_.on_drift ? "true" : "false"},
       {"max_rmse", Fmt(policy_.max_rmse)},
       {"max_rmse_ratio", Fmt(policy_.max_rmse_ratio)},
       {"min_rows", std::to_string(policy_.min_rows)},
       {"span_t0_us", std::to_string(alarm.t0_us)},
       {"span_t1_us", std::to_string(alarm.t1_us)}},
      {{"step", "alarm"}, {"why", alarm.why.substr(0, 1000)}});
  if (!alarm_run.ok()) return fail(alarm_run.status(), "tracking the alarm", nullptr);
  registry::RunTracker& run = **alarm_run;
  step.run_ids.push_back(run.run_id());
  StatusOr<monitoring::LabelledRows> rows = hooks_.read_rows(alarm.t0_us, alarm.t1_us);
  if (!rows.ok()) return fail(rows.status(), "reading the labelled rows", &run);
  step.training_rows = static_cast<int64_t>(rows->rows.size());
  (void)run.LogMetrics({{"alarm_windows", static_cast<double>(alarm.last_alarm_window -
                                                              alarm.first_alarm_window + 1)},
                        {"span_windows", static_cast<double>(alarm.span_windows)},
                        {"predicted_rows", static_cast<double>(rows->predicted_rows)},
                        {"labelled_rows", static_cast<double>(rows->rows.size())},
                        {"unlabelled_rows", static_cast<double>(rows->unlabelled_rows)}},
                       0);
  if (static_cast<int64_t>(rows->rows.size()) < policy_.min_rows) {
    step.outcome = RetrainOutcome::kTooFewRows;
    step.message = alarm.why + "; the log holds " + std::to_string(rows->rows.size()) +
                   " labelled rows in the span (want " + std::to_string(policy_.min_rows) +
                   "): waiting for more";
    (void)run.SetTags({{"outcome", "too_few_rows"}});
    (void)run.EndRun(registry::RunStatus::kFinished);
    return step;
  }
  // Step 2: the task's own tracked training run, published.
  StatusOr<int64_t> version = hooks_.train_and_publish(*rows, window_rows, run.run_id());
  if (!version.ok()) return fail(version.status(), "training", &run);
  step.candidate = *version;
  (void)run.SetTags({{"outcome", "trained"}, {"candidate", std::to_string(*version)}});
  (void)run.EndRun(registry::RunStatus::kFinished);
  // Step 3, tracked: the rollout.
  StatusOr<std::unique_ptr<registry::RunTracker>> rollout_run = registry_->StartRun(
      "retrain",
      {{"model", policy_.model},
       {"candidate", std::to_string(*version)},
       {"stable_version", std::to_string(stable)}},
      {{"step", "rollout"}, {"alarm_run", step.run_ids.front()}});
  if (!rollout_run.ok()) return fail(rollout_run.status(), "tracking the rollout", nullptr);
  step.run_ids.push_back((*rollout_run)->run_id());
  StatusOr<std::string> answer = hooks_.start_rollout(*version);
  if (!answer.ok()) {
    return fail(answer.status(), "starting the rollout of version " + std::to_string(*version),
                rollout_run->get());
  }
  last_rollout_ms_ = Now();
  (void)(*rollout_run)->SetTags({{"server_answer", answer->substr(0, 2000)}});
  (void)(*rollout_run)->EndRun(registry::RunStatus::kFinished);
  step.outcome = RetrainOutcome::kRolledOut;
  step.message = alarm.why + "; trained version " + std::to_string(*version) + " on " +
                 std::to_string(rows->rows.size()) + " labelled rows; rollout started";
  return step;
}

}  // namespace bimride::retraining
