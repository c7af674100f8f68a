// `bimride rollout start|status|abort`: progressive rollouts run by a model server
// (serving/progressive_rollout.h, docs/rollout.md). Thin: HTTP calls to its /v1/rollouts; the
// admin token, when the server has one, comes from $BIMRIDE_ADMIN_TOKEN.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/command.h"
#include "registry/text_table.h"
#include "cli/server_call.h"
#include "serving/progressive_rollout.h"

namespace bimride::cli {
namespace {

using nlohmann::json;

// Calls the server; the answer's JSON, or its error as a Status naming the server and path.
StatusOr<json> Call(const std::string& server, const std::string& method,
                    const std::string& path, const std::string& body = "") {
  ASSIGN_OR_RETURN(const std::string answer, CallServer(server, method, path, body));
  json j = json::parse(answer, nullptr, false);
  if (j.is_discarded()) return InternalError(server + path + ": the answer is not JSON");
  return j;
}

std::string Num(const json& v, const char* fmt = "%.3g") {
  if (!v.is_number()) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, fmt, v.get<double>());
  return buf;
}

void PrintStatus(const json& st) {
  const json& spec = st["spec"];
  std::printf("%s: candidate %lld against stable %lld — %s, weight %lld%% (step %lld, max %lld, "
              "interval %lld ms, threshold %lld)\n",
              spec["model"].get<std::string>().c_str(),
              static_cast<long long>(spec["candidate"].get<int64_t>()),
              static_cast<long long>(st["primary"].get<int64_t>()),
              st["state"].get<std::string>().c_str(),
              static_cast<long long>(st["weight"].get<int64_t>()),
              static_cast<long long>(spec["step"].get<int64_t>()),
              static_cast<long long>(spec["max_weight"].get<int64_t>()),
              static_cast<long long>(spec["interval_ms"].get<int64_t>()),
              static_cast<long long>(spec["threshold"].get<int64_t>()));
  registry::TextTable t({"CHECK", "WEIGHT", "REQUESTS", "SUCCESS", "P99 MS", "PRIMARY P99",
                         "RMSE", "PRIMARY RMSE", "RATIO", "DRIFT", "DECISION"});
  for (const json& c : st["checks"]) {
    t.AddRow({std::to_string(c["index"].get<int64_t>()),
              std::to_string(c["weight"].get<int64_t>()) + "%",
              std::to_string(c["candidate_requests"].get<int64_t>()), Num(c["success_rate"], "%.4f"),
              Num(c["candidate_p99_ms"]), Num(c["primary_p99_ms"]), Num(c["candidate_rmse"], "%.3f"),
              Num(c["primary_rmse"], "%.3f"), Num(c["error_ratio"], "%.3f"),
              c["drift"].get<std::string>(), c["decision"].get<std::string>()});
  }
  std::cout << t.Render();
  for (const json& c : st["checks"]) {
    for (const json& f : c["failures"]) {
      std::printf("  check %lld failed: %s\n", static_cast<long long>(c["index"].get<int64_t>()),
                  f.get<std::string>().c_str());
    }
  }
  if (!st["reason"].get<std::string>().empty() && st["state"] != "progressing") {
    std::printf("ended: %s\n", st["reason"].get<std::string>().c_str());
  }
}

int RunStart(const std::vector<std::string>& args) {
  FlagParser flags("bimride rollout start",
                   "Start a progressive rollout of a candidate version on a running server: the "
                   "canary label moves to it and its share of traffic grows by --step after each "
                   "passed check, up to --max, then it is promoted to stable; --threshold failed "
                   "checks in a row roll it back. Unset check options take the server's "
                   "defaults (docs/rollout.md).");
  std::string server = "127.0.0.1:8501", interval, drift, who;
  int64_t candidate = 0, step = 0, max_weight = 0, threshold = 0, min_requests = 0,
          min_labels = 0;
  double min_success = -1, p99_ratio = -1, p99_slack = -1, max_p99 = -1, error_ratio = -1,
         max_rmse = -1;
  bool no_error_check = false, wait = false;
  std::vector<std::string> model;
  flags.SetPositional("MODEL", &model, "the model", 1, 1);
  flags.AddString("server", &server, "the model server, HOST:PORT");
  flags.AddInt("candidate", &candidate, "the version to roll out", true);
  flags.AddInt("step", &step, "percent of traffic added per passed check (default 10)");
  flags.AddInt("max", &max_weight, "the largest share before promotion, percent (default 50)");
  flags.AddString("interval", &interval, "time between checks: 30s, 500ms, 2m (default 30s)");
  flags.AddInt("threshold", &threshold, "failed checks in a row that roll back (default 2)");
  flags.AddDouble("min-success-rate", &min_success, "(default 0.99)");
  flags.AddDouble("max-p99-ratio", &p99_ratio, "candidate p99 / primary p99 (default 1.5)");
  flags.AddDouble("p99-slack-ms", &p99_slack, "p99 allowed above the primary's (default 1)");
  flags.AddDouble("max-p99-ms", &max_p99, "absolute p99 bound (default none)");
  flags.AddDouble("max-error-ratio", &error_ratio,
                  "candidate RMSE / primary RMSE on the interval's labels (default 1.1)");
  flags.AddDouble("max-rmse", &max_rmse, "absolute RMSE bound (default none)");
  flags.AddInt("min-requests", &min_requests, "fewer per interval: a missing metric (default 20)");
  flags.AddInt("min-labels", &min_labels, "fewer per interval: a missing metric (default 20)");
  flags.AddBool("no-error-check", &no_error_check, "do not judge live error (no labels)");
  flags.AddString("drift", &drift, "off, relative or absolute (default relative)");
  flags.AddString("who", &who, "recorded in the audit log");
  flags.AddBool("wait", &wait, "wait for the end; exit 0 only when promoted");
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  json body = {{"candidate", candidate}};
  if (flags.WasSet("step")) body["step"] = step;
  if (flags.WasSet("max")) body["max_weight"] = max_weight;
  if (flags.WasSet("interval")) body["interval"] = interval;
  if (flags.WasSet("threshold")) body["threshold"] = threshold;
  if (flags.WasSet("min-success-rate")) body["min_success_rate"] = min_success;
  if (flags.WasSet("max-p99-ratio")) body["max_p99_ratio"] = p99_ratio;
  if (flags.WasSet("p99-slack-ms")) body["p99_slack_ms"] = p99_slack;
  if (flags.WasSet("max-p99-ms")) body["max_p99_ms"] = max_p99;
  if (flags.WasSet("max-error-ratio")) body["max_error_ratio"] = error_ratio;
  if (flags.WasSet("max-rmse")) body["max_rmse"] = max_rmse;
  if (flags.WasSet("min-requests")) body["min_requests"] = min_requests;
  if (flags.WasSet("min-labels")) body["min_labels"] = min_labels;
  if (no_error_check) body["check_error"] = false;
  if (flags.WasSet("drift")) body["drift"] = drift;
  body["who"] = who.empty() ? "bimride rollout" : who;
  StatusOr<json> st = Call(server, "POST", "/v1/rollouts/" + model[0], body.dump());
  if (!st.ok()) return ReportError(st.status());
  if (!wait) {
    PrintStatus(*st);
    return kExitOk;
  }
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    st = Call(server, "GET", "/v1/rollouts/" + model[0]);
    if (!st.ok()) return ReportError(st.status());
    if ((*st)["state"] != "progressing") break;
  }
  PrintStatus(*st);
  return (*st)["state"] == "promoted" ? kExitOk : 1;
}

int RunStatus(const std::vector<std::string>& args) {
  FlagParser flags("bimride rollout status",
                   "The rollouts of a running server (one model's, or every model's latest): "
                   "state, weight and every check with its metric values and decision.");
  std::string server = "127.0.0.1:8501";
  bool as_json = false;
  std::vector<std::string> model;
  flags.SetPositional("MODEL", &model, "the model (default: every model)", 0, 1);
  flags.AddString("server", &server, "the model server, HOST:PORT");
  flags.AddBool("json", &as_json, "print the server's JSON");
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  StatusOr<json> st =
      Call(server, "GET", model.empty() ? "/v1/rollouts" : "/v1/rollouts/" + model[0]);
  if (!st.ok()) return ReportError(st.status());
  if (as_json) {
    std::cout << st->dump(1) << "\n";
    return kExitOk;
  }
  if (!model.empty()) {
    PrintStatus(*st);
  } else {
    if ((*st)["rollouts"].empty()) std::printf("no rollouts\n");
    for (const json& r : (*st)["rollouts"]) PrintStatus(r);
  }
  return kExitOk;
}

int RunAbort(const std::vector<std::string>& args) {
  FlagParser flags("bimride rollout abort",
                   "End a rollout in progress as a rollback would: the candidate's weight goes "
                   "to 0 and the canary label is removed (audited with --why).");
  std::string server = "127.0.0.1:8501", why;
  std::vector<std::string> model;
  flags.SetPositional("MODEL", &model, "the model", 1, 1);
  flags.AddString("server", &server, "the model server, HOST:PORT");
  flags.AddString("why", &why, "kept in the audit log", true);
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  StatusOr<json> st =
      Call(server, "POST", "/v1/rollouts/" + model[0] + ":abort", json({{"why", why}}).dump());
  if (!st.ok()) return ReportError(st.status());
  PrintStatus(*st);
  return kExitOk;
}

int RunRollout(const std::vector<std::string>& args) {
  static const std::vector<CommandInfo> kVerbs = {
      {"start", "roll a candidate version out in steps, promote or roll back by its checks",
       RunStart},
      {"status", "a server's rollouts and their checks", RunStatus},
      {"abort", "end a rollout in progress (weight 0, canary label removed)", RunAbort},
  };
  return DispatchVerbs("bimride rollout",
                       "Progressive rollouts with automatic promotion and rollback, run by a "
                       "model server (docs/rollout.md).",
                       kVerbs, args);
}

}  // namespace

BIMRIDE_COMMAND("rollout", "progressive rollout of a candidate version (start, status, abort)",
                RunRollout);

}  // namespace bimride::cli
