#include "serving/progressive_rollout.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/logging.h"
#include "common/thread_name.h"
#include "monitoring/live_monitor.h"
#include "registry/registry.h"
#include "serving/model_source.h"
#include "serving/service.h"

namespace bimride::serving {
namespace {

constexpr char kCanary[] = "canary";
constexpr char kStable[] = "stable";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool IsServerError(int code) {
  switch (static_cast<StatusCode>(code)) {
    case StatusCode::kDataLoss:
    case StatusCode::kResourceExhausted:
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kInternal:
      return true;
    default:
      return false;
  }
}

std::string Fmt(double v, int digits = 4) {
  if (v < 0 || std::isnan(v)) return "missing";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

std::string Label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

}  // namespace

std::string_view DriftCheckName(DriftCheck check) {
  switch (check) {
    case DriftCheck::kOff: return "off";
    case DriftCheck::kAbsolute: return "absolute";
    case DriftCheck::kRelative: break;
  }
  return "relative";
}

std::string_view RolloutStateName(RolloutState state) {
  switch (state) {
    case RolloutState::kPromoted: return "promoted";
    case RolloutState::kRolledBack: return "rolled_back";
    case RolloutState::kAborted: return "aborted";
    case RolloutState::kProgressing: break;
  }
  return "progressing";
}

StatusOr<int64_t> ParseDurationMs(std::string_view text) {
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || !(value >= 0) || std::isinf(value)) {
    return InvalidArgumentError("duration '" + std::string(text) +
                                "': want a number with ms, s, m or h (e.g. 30s)");
  }
  std::string_view unit(ptr, text.data() + text.size() - ptr);
  double scale = 0;
  if (unit.empty() || unit == "ms") {
    scale = 1;
  } else if (unit == "s") {
    scale = 1000;
  } else if (unit == "m") {
    scale = 60000;
  } else if (unit == "h") {
    scale = 3600000;
  } else {
    return InvalidArgumentError("duration '" + std::string(text) + "': unknown unit '" +
                                std::string(unit) + "' (ms, s, m, h)");
  }
  return static_cast<int64_t>(std::llround(value * scale));
}

Status ValidateRolloutSpec(const RolloutSpec& s) {
  auto bad = [](const std::string& field, const std::string& why) {
    return InvalidArgumentError("rollout: " + field + ": " + why);
  };
  if (!IsValidModelName(s.model)) return bad("model", "invalid model name '" + s.model + "'");
  if (s.candidate < 1) return bad("candidate", "must be a version number ≥ 1");
  if (s.step < 1 || s.step > 100) return bad("step", "must be in 1..100 (percent)");
  if (s.max_weight < s.step || s.max_weight > 100) {
    return bad("max_weight", "must be in step..100 (percent)");
  }
  if (s.interval_ms < 1) return bad("interval", "must be at least 1 ms");
  if (s.threshold < 1) return bad("threshold", "must be at least 1");
  if (!(s.min_success_rate >= 0 && s.min_success_rate <= 1)) {
    return bad("min_success_rate", "must be in [0, 1]");
  }
  if (!(s.max_p99_ratio > 0)) return bad("max_p99_ratio", "must be > 0");
  if (!(s.max_p50_ratio > 0)) return bad("max_p50_ratio", "must be > 0");
  if (!(s.p99_slack_ms >= 0)) return bad("p99_slack_ms", "must be ≥ 0");
  if (!(s.max_p99_ms >= 0)) return bad("max_p99_ms", "must be ≥ 0 (0: none)");
  if (!(s.max_error_ratio > 0)) return bad("max_error_ratio", "must be > 0");
  if (!(s.max_rmse >= 0)) return bad("max_rmse", "must be ≥ 0 (0: none)");
  if (s.min_requests < 1) return bad("min_requests", "must be at least 1");
  if (s.min_labels < 1) return bad("min_labels", "must be at least 1");
  return OkStatus();
}

StatusOr<RolloutSpec> ParseRolloutSpecJson(std::string_view text, const std::string& model) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return InvalidArgumentError("rollout: body is not valid JSON");
  if (!doc.is_object()) return InvalidArgumentError("rollout: body must be a JSON object");
  RolloutSpec s;
  s.model = model;
  bool has_candidate = false;
  for (const auto& item : doc.items()) {
    // Named copies, not structured bindings: clang 14 cannot capture those in lambdas.
    const std::string key = item.key();
    const nlohmann::json& v = item.value();
    auto want = [&](const char* what) {
      return InvalidArgumentError("rollout: '" + key + "': must be " + what);
    };
    auto integer = [&](int64_t* out) -> Status {
      if (!v.is_number_integer()) return want("an integer");
      *out = v.get<int64_t>();
      return OkStatus();
    };
    auto number = [&](double* out) -> Status {
      if (!v.is_number()) return want("a number");
      *out = v.get<double>();
      return OkStatus();
    };
    if (key == "candidate") {
      RETURN_IF_ERROR(integer(&s.candidate));
      has_candidate = true;
    } else if (key == "step") {
      RETURN_IF_ERROR(integer(&s.step));
    } else if (key == "max_weight") {
      RETURN_IF_ERROR(integer(&s.max_weight));
    } else if (key == "interval_ms") {
      RETURN_IF_ERROR(integer(&s.interval_ms));
    } else if (key == "interval") {
      if (!v.is_string()) return want("a duration string such as \"30s\"");
      StatusOr<int64_t> ms = ParseDurationMs(v.get<std::string>());
      if (!ms.ok()) return ms.status().WithContext("rollout: 'interval'");
      s.interval_ms = *ms;
    } else if (key == "threshold") {
      RETURN_IF_ERROR(integer(&s.threshold));
    } else if (key == "min_success_rate") {
      RETURN_IF_ERROR(number(&s.min_success_rate));
    } else if (key == "max_p99_ratio") {
      RETURN_IF_ERROR(number(&s.max_p99_ratio));
    } else if (key == "max_p50_ratio") {
      RETURN_IF_ERROR(number(&s.max_p50_ratio));
    } else if (key == "p99_slack_ms") {
      RETURN_IF_ERROR(number(&s.p99_slack_ms));
    } else if (key == "max_p99_ms") {
      RETURN_IF_ERROR(number(&s.max_p99_ms));
    } else if (key == "max_error_ratio") {
      RETURN_IF_ERROR(number(&s.max_error_ratio));
    } else if (key == "max_rmse") {
      RETURN_IF_ERROR(number(&s.max_rmse));
    } else if (key == "min_requests") {
      RETURN_IF_ERROR(integer(&s.min_requests));
    } else if (key == "min_labels") {
      RETURN_IF_ERROR(integer(&s.min_labels));
    } else if (key == "check_error") {
      if (!v.is_boolean()) return want("true or false");
      s.check_error = v.get<bool>();
    } else if (key == "drift") {
      std::string d = v.is_string() ? v.get<std::string>() : "";
      if (d == "off") {
        s.drift = DriftCheck::kOff;
      } else if (d == "relative") {
        s.drift = DriftCheck::kRelative;
      } else if (d == "absolute") {
        s.drift = DriftCheck::kAbsolute;
      } else {
        return want("\"off\", \"relative\" or \"absolute\"");
      }
    } else if (key == "who") {
      if (!v.is_string()) return want("a string");
      s.who = v.get<std::string>();
    } else {
      return InvalidArgumentError(
          "rollout: unknown key '" + key +
          "'; expected candidate, step, max_weight, interval (or interval_ms), threshold, "
          "min_success_rate, max_p99_ratio, max_p50_ratio, p99_slack_ms, max_p99_ms, max_error_ratio, max_rmse, "
          "min_requests, min_labels, check_error, drift, who");
    }
  }
  if (!has_candidate) return InvalidArgumentError("rollout: 'candidate' (a version) is required");
  RETURN_IF_ERROR(ValidateRolloutSpec(s));
  return s;
}

namespace {
nlohmann::json SpecJson(const RolloutSpec& s) {
  return {{"model", s.model},
          {"candidate", s.candidate},
          {"step", s.step},
          {"max_weight", s.max_weight},
          {"interval_ms", s.interval_ms},
          {"threshold", s.threshold},
          {"min_success_rate", s.min_success_rate},
          {"max_p99_ratio", s.max_p99_ratio},
          {"max_p50_ratio", s.max_p50_ratio},
          {"p99_slack_ms", s.p99_slack_ms},
          {"max_p99_ms", s.max_p99_ms},
          {"max_error_ratio", s.max_error_ratio},
          {"max_rmse", s.max_rmse},
          {"min_requests", s.min_requests},
          {"min_labels", s.min_labels},
          {"check_error", s.check_error},
          {"drift", std::string(DriftCheckName(s.drift))},
          {"who", s.who}};
}

nlohmann::json OrNull(double v) {
  return v < 0 || std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v);
}
}  // namespace

std::string RolloutSpecToJson(const RolloutSpec& spec) { return SpecJson(spec).dump(); }

std::string RolloutCheck::Summary() const {
  std::string s = "check " + std::to_string(index) + " at weight " + std::to_string(weight) +
                  "%: requests " + std::to_string(candidate_requests) + " (primary " +
                  std::to_string(primary_requests) + "), success " + Fmt(success_rate) +
                  ", p99 " + Fmt(candidate_p99_ms) + " ms vs " + Fmt(primary_p99_ms) +
                  " ms, p50 " + Fmt(candidate_p50_ms) + " ms vs " + Fmt(primary_p50_ms) +
                  " ms, rmse " + Fmt(candidate_rmse) + " vs " + Fmt(primary_rmse) + " (ratio " +
                  Fmt(error_ratio) + ", labels " + std::to_string(candidate_labels) + "/" +
                  std::to_string(primary_labels) + "), drift " + drift;
  if (failures.empty()) {
    s += "; passed";
  } else {
    s += "; FAILED:";
    for (size_t i = 0; i < failures.size(); ++i) s += (i ? "; " : " ") + failures[i];
  }
  return s + " -> " + decision;
}

std::string RolloutStatusToJson(const RolloutStatus& st) {
  nlohmann::json checks = nlohmann::json::array();
  for (const RolloutCheck& c : st.checks) {
    checks.push_back({{"index", c.index},
                      {"time_ms", c.time_ms},
                      {"weight", c.weight},
                      {"candidate_requests", c.candidate_requests},
                      {"primary_requests", c.primary_requests},
                      {"candidate_server_errors", c.candidate_server_errors},
                      {"success_rate", OrNull(c.success_rate)},
                      {"candidate_p99_ms", OrNull(c.candidate_p99_ms)},
                      {"primary_p99_ms", OrNull(c.primary_p99_ms)},
                      {"candidate_p50_ms", OrNull(c.candidate_p50_ms)},
                      {"primary_p50_ms", OrNull(c.primary_p50_ms)},
                      {"candidate_labels", c.candidate_labels},
                      {"primary_labels", c.primary_labels},
                      {"candidate_rmse", OrNull(c.candidate_rmse)},
                      {"primary_rmse", OrNull(c.primary_rmse)},
                      {"error_ratio", OrNull(c.error_ratio)},
                      {"drift", c.drift},
                      {"failures", c.failures},
                      {"passed", c.passed},
                      {"decision", c.decision}});
  }
  nlohmann::json j = {{"spec", SpecJson(st.spec)},
                      {"state", std::string(RolloutStateName(st.state))},
                      {"primary", st.primary},
                      {"weight", st.weight},
                      {"consecutive_failures", st.consecutive_failures},
                      {"started_ms", st.started_ms},
                      {"ended_ms", st.ended_ms},
                      {"reason", st.reason},
                      {"checks", std::move(checks)}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

RolloutController::RolloutController(Service* service, ServableManager* manager,
                                     ServingMetrics* metrics,
                                     const monitoring::LiveMonitor* monitor)
    : service_(service), manager_(manager), metrics_(metrics), monitor_(monitor) {
  thread_ = std::thread([this] {
    NameThisThread("rollout");
    Loop();
  });
}

RolloutController::~RolloutController() { Stop(); }

void RolloutController::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RolloutController::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    int64_t now = NowMs();
    int64_t next = now + 1000;
    for (auto& [model, r] : rollouts_) {
      if (r.status.state != RolloutState::kProgressing) continue;
      if (r.next_check_ms <= now) {
        Check(r);
        now = NowMs();
      }
      if (r.status.state == RolloutState::kProgressing) next = std::min(next, r.next_check_ms);
    }
    cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(1, next - now)));
  }
}

RolloutController::Baseline RolloutController::Snapshot(const std::string& model,
                                                        int64_t version) const {
  Baseline b;
  VersionMetrics* m = metrics_->For(model, version);
  b.requests.resize(kNumStatusCodes);
  for (int i = 0; i < kNumStatusCodes; ++i) {
    b.requests[i] = m->requests[i].load(std::memory_order_relaxed);
  }
  b.latency = m->total_seconds.BucketCounts();
  if (monitor_ != nullptr) {
    for (const monitoring::WindowAccuracy& w : monitor_->Windows(model)) {
      if (w.version != version || w.metrics.count == 0) continue;
      b.sse += w.metrics.rmse * w.metrics.rmse * static_cast<double>(w.metrics.count);
      b.labels += w.metrics.count;
    }
  }
  return b;
}

RolloutCheck RolloutController::Measure(Rollout& r) {
  const RolloutSpec& spec = r.status.spec;
  RolloutCheck c;
  c.time_ms = NowMs();
  c.weight = r.status.weight;
  Baseline cand = Snapshot(spec.model, spec.candidate);
  Baseline prim = Snapshot(spec.model, r.status.primary);
  const std::vector<double>& bounds = metrics_->For(spec.model, spec.candidate)->total_seconds.bounds();

  // Success rate and latency: the interval's deltas.
  int64_t ok = 0, client_errors = 0;
  for (int i = 0; i < kNumStatusCodes; ++i) {
    int64_t d = static_cast<int64_t>(cand.requests[i] - r.candidate.requests[i]);
    if (i == 0) {
      ok += d;
    } else if (IsServerError(i)) {
      c.candidate_server_errors += d;
    } else {
      client_errors += d;
    }
    c.primary_requests += static_cast<int64_t>(prim.requests[i] - r.primary.requests[i]);
  }
  c.candidate_requests = ok + c.candidate_server_errors + client_errors;
  const int64_t judged = ok + c.candidate_server_errors;
  if (judged >= spec.min_requests) {
    c.success_rate = static_cast<double>(ok) / static_cast<double>(judged);
    if (c.success_rate < spec.min_success_rate) {
      c.failures.push_back("success rate " + Fmt(c.success_rate) + " < " +
                           Fmt(spec.min_success_rate) + " (" +
                           std::to_string(c.candidate_server_errors) + " server errors)");
    }
  } else {
    c.failures.push_back("success rate: missing: " + std::to_string(judged) +
                         " candidate requests < " + std::to_string(spec.min_requests));
  }
  auto delta = [](const std::vector<uint64_t>& now, const std::vector<uint64_t>& then) {
    std::vector<uint64_t> d(now.size());
    for (size_t i = 0; i < now.size(); ++i) d[i] = now[i] - (i < then.size() ? then[i] : 0);
    return d;
  };
  std::vector<uint64_t> cl = delta(cand.latency, r.candidate.latency);
  std::vector<uint64_t> pl = delta(prim.latency, r.primary.latency);
  uint64_t cn = 0, pn = 0;
  for (uint64_t x : cl) cn += x;
  for (uint64_t x : pl) pn += x;
  if (cn >= static_cast<uint64_t>(spec.min_requests) &&
      pn >= static_cast<uint64_t>(spec.min_requests)) {
    c.candidate_p99_ms = 1000 * QuantileOfBuckets(bounds, cl, 0.99);
    c.primary_p99_ms = 1000 * QuantileOfBuckets(bounds, pl, 0.99);
    const double limit = std::max(spec.max_p99_ratio * c.primary_p99_ms,
                                  c.primary_p99_ms + spec.p99_slack_ms);
    if (c.candidate_p99_ms > limit) {
      c.failures.push_back("p99 " + Fmt(c.candidate_p99_ms) + " ms > " + Fmt(limit) +
                           " ms (primary " + Fmt(c.primary_p99_ms) + " ms × " +
                           Fmt(spec.max_p99_ratio) + ", or + " + Fmt(spec.p99_slack_ms) + " ms)");
    }
    c.candidate_p50_ms = 1000 * QuantileOfBuckets(bounds, cl, 0.5);
    c.primary_p50_ms = 1000 * QuantileOfBuckets(bounds, pl, 0.5);
    const double limit50 = std::max(spec.max_p50_ratio * c.primary_p50_ms,
                                    c.primary_p50_ms + spec.p99_slack_ms);
    if (c.candidate_p50_ms > limit50) {
      c.failures.push_back("p50 " + Fmt(c.candidate_p50_ms) + " ms > " + Fmt(limit50) +
                           " ms (primary " + Fmt(c.primary_p50_ms) + " ms × " +
                           Fmt(spec.max_p50_ratio) + ", or + " + Fmt(spec.p99_slack_ms) + " ms)");
    }
    if (spec.max_p99_ms > 0 && c.candidate_p99_ms > spec.max_p99_ms) {
      c.failures.push_back("p99 " + Fmt(c.candidate_p99_ms) + " ms > " + Fmt(spec.max_p99_ms) +
                           " ms");
    }
  } else {
    c.failures.push_back("p99 latency: missing: " + std::to_string(cn) + " candidate / " +
                         std::to_string(pn) + " primary timed requests (want " +
                         std::to_string(spec.min_requests) + " each)");
  }

  // Live error: the labels that joined each version's predictions during the interval.
  c.candidate_labels = cand.labels - r.candidate.labels;
  c.primary_labels = prim.labels - r.primary.labels;
  if (c.candidate_labels > 0) {
    c.candidate_rmse = std::sqrt(std::max(0.0, cand.sse - r.candidate.sse) /
                                 static_cast<double>(c.candidate_labels));
  }
  if (c.primary_labels > 0) {
    c.primary_rmse = std::sqrt(std::max(0.0, prim.sse - r.primary.sse) /
                               static_cast<double>(c.primary_labels));
  }
  if (spec.check_error) {
    if (monitor_ == nullptr) {
      c.failures.push_back("error: missing: no live monitor (serve with --prediction-log)");
    } else if (c.candidate_labels < spec.min_labels || c.primary_labels < spec.min_labels) {
      c.failures.push_back("error: missing: " + std::to_string(c.candidate_labels) +
                           " candidate / " + std::to_string(c.primary_labels) +
                           " primary labels (want " + std::to_string(spec.min_labels) + " each)");
    } else {
      c.error_ratio = c.primary_rmse > 0 ? c.candidate_rmse / c.primary_rmse
                                         : (c.candidate_rmse > 0 ? INFINITY : 1.0);
      if (c.error_ratio > spec.max_error_ratio) {
        c.failures.push_back("rmse " + Fmt(c.candidate_rmse) + " > " +
                             Fmt(spec.max_error_ratio) + " × primary " + Fmt(c.primary_rmse) +
                             " (ratio " + Fmt(c.error_ratio) + ")");
      }
      if (spec.max_rmse > 0 && c.candidate_rmse > spec.max_rmse) {
        c.failures.push_back("rmse " + Fmt(c.candidate_rmse) + " > " + Fmt(spec.max_rmse));
      }
    }
  }

  // Drift: each version's last closed window.
  if (spec.drift == DriftCheck::kOff) {
    c.drift = "off";
  } else if (monitor_ == nullptr) {
    c.drift = "missing: no live monitor";
  } else {
    const monitoring::WindowAccuracy* cw = nullptr;
    const monitoring::WindowAccuracy* pw = nullptr;
    std::vector<monitoring::WindowAccuracy> windows = monitor_->Windows(spec.model);
    for (const monitoring::WindowAccuracy& w : windows) {
      if (!w.closed) continue;
      if (w.version == spec.candidate) cw = &w;
      if (w.version == r.status.primary) pw = &w;
    }
    if (cw == nullptr) {
      c.drift = "missing: the candidate has no closed window";
    } else if (!cw->drift_calibrated) {
      c.drift = "missing: the candidate's window " + std::to_string(cw->window) +
                " has no calibrated drift alarm";
    } else if (!cw->drift_alarm) {
      c.drift = "ok";
    } else {
      std::string features;
      for (const monitoring::FeatureDrift& f : cw->drift) {
        if (!f.above.empty()) features += (features.empty() ? "" : ",") + f.feature;
      }
      const bool primary_alarms = pw != nullptr && pw->drift_calibrated && pw->drift_alarm;
      c.drift = "alarm (" + features + ")";
      if (spec.drift == DriftCheck::kRelative && primary_alarms) {
        c.drift += ", as the primary's";
      } else {
        c.failures.push_back("drift alarm on the candidate's window " +
                             std::to_string(cw->window) + ": " + features);
      }
    }
    if (c.drift.rfind("missing", 0) == 0) c.failures.push_back("drift: " + c.drift);
  }
  c.passed = c.failures.empty();
  r.candidate = std::move(cand);
  r.primary = std::move(prim);
  return c;
}

Status RolloutController::SetWeight(const std::string& model, int64_t weight) {
  manager_->SetTrafficSplit(model, std::vector<TrafficShare>{{kStable, 100 - weight},
                                                             {kCanary, weight}});
  return OkStatus();
}

void RolloutController::ClearSplit(const std::string& model) {
  manager_->SetTrafficSplit(model, std::nullopt);
}

StatusOr<registry::Registry*> RolloutController::OpenRegistry() {
  if (registry_ == nullptr) {
    ASSIGN_OR_RETURN(registry_, registry::Registry::Open(manager_->model_repo()));
  }
  return registry_.get();
}

void RolloutController::Note(const Rollout& r, const std::string& why) {
  const RolloutSpec& s = r.status.spec;
  StatusOr<registry::Registry*> reg = OpenRegistry();
  Status st = reg.ok() ? (*reg)->NoteLabel(s.model, kCanary, s.candidate, why,
                                           s.who.empty() ? "rollout" : s.who)
                             .status()
                       : reg.status();
  if (!st.ok()) {
    BIMRIDE_LOG(WARN) << "rollout of " << s.model << ":" << s.candidate
                      << ": audit note not written: " << st.ToString();
  }
}

void RolloutController::End(Rollout& r, RolloutState state, const std::string& reason) {
  const RolloutSpec& s = r.status.spec;
  r.status.state = state;
  r.status.ended_ms = NowMs();
  r.status.reason = reason;
  ClearSplit(s.model);
  r.status.weight = state == RolloutState::kPromoted ? 100 : 0;
  // The canary label goes: the candidate is stable now, or out of traffic.
  StatusOr<registry::Registry*> reg = OpenRegistry();
  Status st = reg.ok() ? (*reg)->RemoveLabel(s.model, kCanary, s.candidate,
                                             "rollout " + std::string(RolloutStateName(state)) +
                                                 ": " + reason,
                                             s.who.empty() ? "rollout" : s.who)
                             .status()
                       : reg.status();
  if (!st.ok()) {
    BIMRIDE_LOG(WARN) << "rollout of " << s.model << ":" << s.candidate
                      << ": canary label not removed: " << st.ToString();
  }
  (void)manager_->Refresh(s.model);
  r.decisions[std::string(RolloutStateName(state))]++;
  BIMRIDE_LOG(INFO) << "rollout of " << s.model << ":" << s.candidate << " "
                    << RolloutStateName(state) << ": " << reason;
}

void RolloutController::Check(Rollout& r) {
  RolloutSpec& spec = r.status.spec;
  RolloutCheck c = Measure(r);
  c.index = static_cast<int64_t>(r.status.checks.size()) + 1;
  int64_t next_weight = r.status.weight;
  bool promote = false, rollback = false;
  if (c.passed) {
    r.status.consecutive_failures = 0;
    if (r.status.weight >= spec.max_weight) {
      promote = true;
      c.decision = "promote";
    } else {
      next_weight = std::min(spec.max_weight, r.status.weight + spec.step);
      c.decision = "step " + std::to_string(r.status.weight) + " -> " + std::to_string(next_weight);
    }
  } else {
    r.status.consecutive_failures++;
    if (r.status.consecutive_failures >= spec.threshold) {
      rollback = true;
      c.decision = "rollback";
    } else {
      c.decision = "hold (" + std::to_string(r.status.consecutive_failures) + " of " +
                   std::to_string(spec.threshold) + " failed)";
    }
  }
  r.status.checks.push_back(c);
  r.decisions[c.passed ? "check_passed" : "check_failed"]++;
  const std::string summary = c.Summary();
  BIMRIDE_LOG(INFO) << "rollout of " << spec.model << ":" << spec.candidate << ": " << summary;
  if (promote) {
    LabelMoveCall call{spec.model, kStable, spec.candidate, "rollout promote: " + summary,
                       spec.who.empty() ? "rollout" : spec.who};
    StatusOr<LabelMoveOutcome> moved = service_->MoveLabel(call);
    if (moved.ok() && moved->serving.ok()) {
      End(r, RolloutState::kPromoted, summary);
    } else {
      const Status& why = moved.ok() ? moved->serving : moved.status();
      End(r, RolloutState::kRolledBack, "promotion failed: " + why.message());
    }
    return;
  }
  if (rollback) {
    End(r, RolloutState::kRolledBack, summary);
    return;
  }
  Note(r, "rollout " + summary);
  r.decisions[next_weight != r.status.weight ? "step" : "hold"]++;
  if (next_weight != r.status.weight) {
    r.status.weight = next_weight;
    (void)SetWeight(spec.model, next_weight);
  }
  // The next interval counts from here.
  r.candidate = Snapshot(spec.model, spec.candidate);
  r.primary = Snapshot(spec.model, r.status.primary);
  // On the start's schedule, so checks do not drift by their own duration.
  r.next_check_ms = std::max(r.next_check_ms + spec.interval_ms, NowMs() + 1);
}

StatusOr<RolloutStatus> RolloutController::Start(const RolloutSpec& spec) {
  RETURN_IF_ERROR(ValidateRolloutSpec(spec));
  std::lock_guard<std::mutex> lock(mu_);
  if (stop_) return FailedPreconditionError("the rollout controller is stopped");
  if (auto it = rollouts_.find(spec.model);
      it != rollouts_.end() && it->second.status.state == RolloutState::kProgressing) {
    return FailedPreconditionError("model '" + spec.model + "' has a rollout in progress (of " +
                                   "version " + std::to_string(it->second.status.spec.candidate) +
                                   "); abort it first");
  }
  ASSIGN_OR_RETURN(registry::Registry* reg, OpenRegistry());
  StatusOr<int64_t> primary = reg->ResolveLabel(spec.model, kStable);
  if (!primary.ok()) {
    return FailedPreconditionError("model '" + spec.model +
                                   "' has no 'stable' label: a rollout needs a primary to "
                                   "compare the candidate with (" +
                                   primary.status().message() + ")");
  }
  if (*primary == spec.candidate) {
    return FailedPreconditionError("model '" + spec.model + "': version " +
                                   std::to_string(spec.candidate) + " is already stable");
  }
  const std::string who = spec.who.empty() ? "rollout" : spec.who;
  const std::string why = "rollout start: candidate " + std::to_string(spec.candidate) +
                          " against stable " + std::to_string(*primary) + "; step " +
                          std::to_string(spec.step) + "%, max " +
                          std::to_string(spec.max_weight) + "%, interval " +
                          std::to_string(spec.interval_ms) + " ms, threshold " +
                          std::to_string(spec.threshold);
  StatusOr<LabelMoveOutcome> moved =
      service_->MoveLabel({spec.model, kCanary, spec.candidate, why, who});
  if (!moved.ok()) {
    if (moved.status().code() != StatusCode::kAlreadyExists) return moved.status();
    RETURN_IF_ERROR(reg->NoteLabel(spec.model, kCanary, spec.candidate, why, who).status());
    RETURN_IF_ERROR(manager_->Refresh(spec.model));
  }
  Rollout r;
  r.status.spec = spec;
  r.status.primary = *primary;
  r.status.weight = spec.step;
  r.status.started_ms = NowMs();
  r.decisions["start"] = 1;
  (void)SetWeight(spec.model, spec.step);
  r.candidate = Snapshot(spec.model, spec.candidate);
  r.primary = Snapshot(spec.model, *primary);
  r.next_check_ms = NowMs() + spec.interval_ms;
  BIMRIDE_LOG(INFO) << "model " << spec.model << ": " << why;
  RolloutStatus out = r.status;
  rollouts_[spec.model] = std::move(r);
  cv_.notify_all();
  return out;
}

StatusOr<RolloutStatus> RolloutController::Abort(const std::string& model,
                                                 const std::string& why) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = rollouts_.find(model);
  if (it == rollouts_.end()) return NotFoundError("model '" + model + "' has no rollout");
  Rollout& r = it->second;
  if (r.status.state != RolloutState::kProgressing) {
    return FailedPreconditionError("the rollout of '" + model + "' has ended (" +
                                   std::string(RolloutStateName(r.status.state)) + ")");
  }
  End(r, RolloutState::kAborted, why.empty() ? "aborted" : why);
  return r.status;
}

StatusOr<RolloutStatus> RolloutController::Get(const std::string& model) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = rollouts_.find(model);
  if (it == rollouts_.end()) return NotFoundError("model '" + model + "' has no rollout");
  return it->second.status;
}

std::vector<RolloutStatus> RolloutController::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<RolloutStatus> out;
  for (const auto& [model, r] : rollouts_) out.push_back(r.status);
  return out;
}

std::string RolloutController::MetricsText() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (rollouts_.empty()) return "";
  std::string t =
      "# HELP bimride_rollout_weight The candidate's share of traffic (percent).\n"
      "# TYPE bimride_rollout_weight gauge\n";
  auto labels = [](const Rollout& r) {
    return "model=\"" + Label(r.status.spec.model) + "\",candidate=\"" +
           std::to_string(r.status.spec.candidate) + "\"";
  };
  for (const auto& [m, r] : rollouts_) {
    t += "bimride_rollout_weight{" + labels(r) + "} " + std::to_string(r.status.weight) + "\n";
  }
  t += "# HELP bimride_rollout_state The rollout's state (1 for the current one).\n"
       "# TYPE bimride_rollout_state gauge\n";
  for (const auto& [m, r] : rollouts_) {
    t += "bimride_rollout_state{" + labels(r) + ",state=\"" +
         std::string(RolloutStateName(r.status.state)) + "\"} 1\n";
  }
  t += "# HELP bimride_rollout_consecutive_failures Failed checks in a row.\n"
       "# TYPE bimride_rollout_consecutive_failures gauge\n";
  for (const auto& [m, r] : rollouts_) {
    t += "bimride_rollout_consecutive_failures{" + labels(r) + "} " +
         std::to_string(r.status.consecutive_failures) + "\n";
  }
  t += "# HELP bimride_rollout_decisions_total Rollout decisions by kind.\n"
       "# TYPE bimride_rollout_decisions_total counter\n";
  for (const auto& [m, r] : rollouts_) {
    for (const auto& [kind, n] : r.decisions) {
      t += "bimride_rollout_decisions_total{" + labels(r) + ",decision=\"" + kind + "\"} " +
           std::to_string(n) + "\n";
    }
  }
  t += "# HELP bimride_rollout_check_value The last check's metric values (NaN: missing).\n"
       "# TYPE bimride_rollout_check_value gauge\n";
  for (const auto& [m, r] : rollouts_) {
    if (r.status.checks.empty()) continue;
    const RolloutCheck& c = r.status.checks.back();
    auto v = [](double x) { return x < 0 || std::isnan(x) ? std::string("NaN") : Fmt(x, 9); };
    for (const auto& [name, value] : std::vector<std::pair<const char*, std::string>>{
             {"success_rate", v(c.success_rate)},
             {"candidate_p99_ms", v(c.candidate_p99_ms)},
             {"primary_p99_ms", v(c.primary_p99_ms)},
             {"candidate_p50_ms", v(c.candidate_p50_ms)},
             {"primary_p50_ms", v(c.primary_p50_ms)},
             {"candidate_rmse", v(c.candidate_rmse)},
             {"primary_rmse", v(c.primary_rmse)},
             {"error_ratio", v(c.error_ratio)},
             {"drift_alarm", c.drift == "ok" ? "0"
                             : c.drift.rfind("alarm", 0) == 0 ? "1"
                                                              : "NaN"},
             {"passed", c.passed ? "1" : "0"}}) {
      t += "bimride_rollout_check_value{" + labels(r) + ",metric=\"" + name + "\"} " + value +
           "\n";
    }
  }
  return t;
}

}  // namespace bimride::serving
