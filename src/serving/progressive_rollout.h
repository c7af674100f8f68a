// RolloutController: progressive rollout of a candidate model version with automatic promotion
// and rollback (what Flagger and Argo Rollouts do for services, here aware of models: it also
// judges the candidate's live error and drift) (#13 item 7). It runs inside the model server.
//
// A rollout of model M to candidate version C, with primary P = M's "stable" label:
//   start     the registry moves label "canary" to C (audited; the server loads C) and the
//             server's traffic split for M becomes {stable: 100 − w, canary: w}, w = step;
//   each interval, one check of the interval's traffic and labels, candidate against primary:
//     success  C's answered / (answered + server errors) ≥ min_success_rate (client errors,
//              e.g. a bad request, are not the version's fault and do not count);
//     latency  C's p99 ≤ max(max_p99_ratio × P's p99, P's p99 + p99_slack_ms) (and
//              ≤ max_p99_ms when set), and its median likewise (max_p50_ratio), all from the
//              interval's server-side latency histogram;
//     error    C's RMSE over the labels that joined C's predictions in the interval ≤
//              max_error_ratio × P's over the labels that joined P's in the same interval (and
//              ≤ max_rmse when set) — the live monitor's windows (LiveMonitor), so it needs the
//              prediction log; labels are of the same trips' time, the fair comparison;
//     drift    (relative, the default) C's last closed window alarms while P's does not;
//              (absolute) C's alarms; (off) not checked;
//     A metric that cannot be computed — fewer than min_requests requests or min_labels labels
//     in the interval, no live monitor, no calibrated closed window — FAILS its check (fail
//     closed), and says so ("error: missing: 3 labels < 20").
//   passed    the weight steps up by `step`, to at most max_weight; a passed check at
//             max_weight promotes: the registry moves "stable" to C, the split is lifted and
//             the canary label removed;
//   failed    `threshold` consecutive failed checks roll back: weight 0 (the split lifted), the
//             canary label removed; stable never moved. A candidate that fails from its first
//             check is rolled back interval × threshold after the start.
// Every decision — start, each check with its metric values, promote, rollback, abort — is a
// row in the registry's audit log for label "canary" (a note, or the move it made) and in
// /metrics (bimride_rollout_*). Requests never fail because of a rollout: label moves are
// availability-preserving (ServableManager) and the split skips a canary that is not AVAILABLE.
//
// Rollouts live in this process: a restart ends them (the split returns to the config's; the
// canary label stays in the registry, pointing at the candidate, until moved or removed).
// Thread safety: every public method may be called from any thread; checks run on the
// controller's own thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.h"

namespace bimride::monitoring {
class LiveMonitor;
}
namespace bimride::registry {
class Registry;
}

namespace bimride::serving {

class Service;
class ServableManager;
class ServingMetrics;

enum class DriftCheck { kOff, kRelative, kAbsolute };
std::string_view DriftCheckName(DriftCheck check);  // "off", "relative", "absolute"

struct RolloutSpec {
  std::string model;
  int64_t candidate = 0;
  int64_t step = 10;        // percent of traffic added after each passed check
  int64_t max_weight = 50;  // a passed check at this weight promotes
  int64_t interval_ms = 30000;
  int64_t threshold = 2;    // consecutive failed checks that roll back
  double min_success_rate = 0.99;
  double max_p99_ratio = 1.5;
  double max_p50_ratio = 1.5;  // the median too: a tail of few samples is noisy on a busy host
  double p99_slack_ms = 1.0;   // latency allowed above the primary's (p50 and p99)
  double max_p99_ms = 0;      // 0: no absolute bound
  double max_error_ratio = 1.1;
  double max_rmse = 0;        // 0: no absolute bound
  int64_t min_requests = 20;  // per interval, each version
  int64_t min_labels = 20;    // per interval, each version
  bool check_error = true;
  DriftCheck drift = DriftCheck::kRelative;
  std::string who;  // for the audit log; empty: "rollout"
};

// Parses the JSON object `POST /v1/rollouts/{model}` takes: {"candidate": 3, "step": 10,
// "max_weight": 50, "interval": "30s" (or "interval_ms": 30000), "threshold": 2,
// "min_success_rate", "max_p99_ratio", "max_p50_ratio", "p99_slack_ms", "max_p99_ms", "max_error_ratio",
// "max_rmse", "min_requests", "min_labels", "check_error", "drift": "off|relative|absolute",
// "who"}. InvalidArgument naming the key for an unknown key, a wrong type or a bad value.
StatusOr<RolloutSpec> ParseRolloutSpecJson(std::string_view text, const std::string& model);
// The spec as that JSON.
std::string RolloutSpecToJson(const RolloutSpec& spec);
// InvalidArgument naming the field: step in 1..100, max_weight in step..100, interval ≥ 1 ms,
// threshold ≥ 1, rates in [0, 1], ratios > 0, counts ≥ 1, candidate ≥ 1, a model name.
Status ValidateRolloutSpec(const RolloutSpec& spec);
// "30s", "500ms", "2m", "1h" or a number of milliseconds → milliseconds.
StatusOr<int64_t> ParseDurationMs(std::string_view text);

// One check, its values (NaN / -1 when missing) and what it decided.
struct RolloutCheck {
  int64_t index = 0;  // 1, 2, …
  int64_t time_ms = 0;
  int64_t weight = 0;  // the candidate's share during the interval checked
  int64_t candidate_requests = 0, primary_requests = 0;
  int64_t candidate_server_errors = 0;
  double success_rate = -1;
  double candidate_p99_ms = -1, primary_p99_ms = -1;
  double candidate_p50_ms = -1, primary_p50_ms = -1;
  int64_t candidate_labels = 0, primary_labels = 0;
  double candidate_rmse = -1, primary_rmse = -1, error_ratio = -1;
  std::string drift;  // "ok", "alarm", "missing: …", "off"
  std::vector<std::string> failures;  // one line per failed check, with the values
  bool passed = false;
  std::string decision;  // "step 10 -> 20", "hold (1 of 2 failed)", "promote", "rollback"
  std::string Summary() const;  // one line: values, failures, decision
};

enum class RolloutState { kProgressing, kPromoted, kRolledBack, kAborted };
std::string_view RolloutStateName(RolloutState state);  // "progressing", "promoted", …

struct RolloutStatus {
  RolloutSpec spec;
  RolloutState state = RolloutState::kProgressing;
  int64_t primary = 0;  // the stable version at the start
  int64_t weight = 0;   // the candidate's share now
  int64_t consecutive_failures = 0;
  int64_t started_ms = 0, ended_ms = 0;
  std::string reason;  // why it ended
  std::vector<RolloutCheck> checks;  // every check, oldest first
};
std::string RolloutStatusToJson(const RolloutStatus& status);

class RolloutController {
 public:
  // `service` (label moves through the registry), `manager` (the split), `metrics` and
  // `monitor` (may be null: the error check then always misses) must outlive the controller.
  RolloutController(Service* service, ServableManager* manager, ServingMetrics* metrics,
                    const monitoring::LiveMonitor* monitor);
  ~RolloutController();  // Stop()
  RolloutController(const RolloutController&) = delete;
  RolloutController& operator=(const RolloutController&) = delete;

  // Starts a rollout. InvalidArgument (the spec), FailedPrecondition (a rollout of the model is
  // in progress; no "stable" label; the candidate is the stable version), NotFound / DataLoss
  // (the registry's: unknown model or version, a corrupt version).
  StatusOr<RolloutStatus> Start(const RolloutSpec& spec);
  // Ends a rollout in progress as a rollback would (weight 0, canary label removed), audited
  // with `why`. NotFound when the model has no rollout; FailedPrecondition when it has ended.
  StatusOr<RolloutStatus> Abort(const std::string& model, const std::string& why);
  // The model's latest rollout (NotFound when none); every model's.
  StatusOr<RolloutStatus> Get(const std::string& model) const;
  std::vector<RolloutStatus> List() const;
  // bimride_rollout_* gauges and counters (Prometheus text).
  std::string MetricsText() const;
  // Stops checking (rollouts in progress stay as they are). Idempotent.
  void Stop();

 private:
  // Counters of one version at the start of an interval, for deltas.
  struct Baseline {
    std::vector<uint64_t> requests;   // by status code
    std::vector<uint64_t> latency;    // total_seconds buckets
    double sse = 0;                   // Σ (pred − actual)² over joined labels
    int64_t labels = 0;
  };
  struct Rollout {
    RolloutStatus status;
    int64_t next_check_ms = 0;
    Baseline candidate, primary;
    std::map<std::string, int64_t> decisions;  // counts by kind, for /metrics
  };

  void Loop();
  // Runs one check of `r` (mu_ held by the caller is released around registry calls).
  void Check(Rollout& r);
  RolloutCheck Measure(Rollout& r);
  Baseline Snapshot(const std::string& model, int64_t version) const;
  Status SetWeight(const std::string& model, int64_t weight);
  void ClearSplit(const std::string& model);
  void Note(const Rollout& r, const std::string& why);
  // The registry, opened once (caller holds mu_).
  StatusOr<registry::Registry*> OpenRegistry();
  void End(Rollout& r, RolloutState state, const std::string& reason);

  Service* const service_;
  ServableManager* const manager_;
  ServingMetrics* const metrics_;
  const monitoring::LiveMonitor* const monitor_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Rollout> rollouts_;  // by model: the latest rollout of each
  std::unique_ptr<registry::Registry> registry_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace bimride::serving
