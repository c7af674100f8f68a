// `bimride retrain eta …`: retraining on alarm beside a running model server (#13 item 8). Thin:
// the loop is retraining/retrainer.h; the rows come back from the prediction log through
// monitoring/labelled_rows.h; the training is the ETA task's (tasks/eta/eta_retrain.h, which
// trains with TrainEtaModel as `bimride train eta` does); the server is asked over HTTP
// (/v1/monitor, /v1/rollouts/{model}); the admin token, when the server has one, comes from
// $BIMRIDE_ADMIN_TOKEN. Off unless run.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <optional>
#include <thread>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "common/data_dir.h"
#include "features/weather.h"
#include "monitoring/labelled_rows.h"
#include "registry/registry.h"
#include "retraining/retrainer.h"
#include "cli/server_call.h"
#include "serving/progressive_rollout.h"
#include "tasks/eta/eta_retrain.h"

namespace bimride::cli {
namespace {

using nlohmann::json;

std::string Stamp() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

int RunRetrainEta(const std::vector<std::string>& args) {
  FlagParser flags(
      "bimride retrain eta",
      "Retrain on alarm beside a running server: poll its monitor for a drift or accuracy alarm "
      "held --hold-windows closed windows (of the last --hold-span) of the stable version; then "
      "train on the most recent labelled windows read back from the prediction log (the `train "
      "eta` code), publish, and start a progressive rollout of the new version. Every step is a "
      "tracked run. Runs until stopped (--once: one poll).");
  std::string server = "127.0.0.1:8501", log_dir, repo = registry::DefaultRepositoryRoot();
  std::string name = "eta", model_kind = "xgboost", features, out;
  std::string zones_dir = DefaultDataPath("zones"), weather = DefaultDataPath(
      "weather/central_park_weather.csv");
  std::string poll = "30s", cooldown = "10m";
  int64_t hold = 2, hold_span = 0, min_window_labels = 100, min_rows = 2000, max_train_windows = 50;
  int64_t threads = 2, max_rollouts = 0;
  double max_rmse = 0, max_rmse_ratio = 0, valid_fraction = 0.2;
  double min_minutes = 1, max_minutes = 60;
  bool no_drift = false, once = false, no_refit = false;
  // The rollout's spec (serving/progressive_rollout.h); unset: the server's defaults.
  int64_t step = 0, max_weight = 0, threshold = 0, min_labels = 0, min_requests = 0;
  std::string interval, drift_check;
  double max_error_ratio = -1, p99_slack_ms = -1;
  flags.AddString("server", &server, "the model server, HOST:PORT");
  flags.AddString("log-dir", &log_dir, "the server's prediction log folder (--prediction-log)",
                  true);
  flags.AddString("repo", &repo, "model registry (default $BIMRIDE_MODEL_REPO or ./model_repo)");
  flags.AddString("name", &name, "the model's name");
  flags.AddInt("hold-windows", &hold,
               "closed windows that must alarm: in a row, or of the last --hold-span");
  flags.AddInt("hold-span", &hold_span,
               "the last closed windows looked at, of which --hold-windows must alarm (0: "
               "--hold-windows, in a row)");
  flags.AddBool("no-drift", &no_drift, "drift alarms do not count (only --max-rmse*)");
  flags.AddDouble("max-rmse", &max_rmse, "accuracy alarm: a window's live RMSE above this (0: off)");
  flags.AddDouble("max-rmse-ratio", &max_rmse_ratio,
                  "accuracy alarm: live RMSE above this × the stable version's validation RMSE "
                  "(0: off)");
  flags.AddInt("min-window-labels", &min_window_labels,
               "a window's accuracy is judged from this many labels");
  flags.AddInt("min-rows", &min_rows, "labelled rows to train on, at least");
  flags.AddInt("max-train-windows", &max_train_windows, "recent windows trained on, at most");
  flags.AddString("cooldown", &cooldown, "after a rollout started, no retraining for this long");
  flags.AddString("poll", &poll, "time between polls of the monitor");
  flags.AddBool("once", &once, "poll once and exit (1 when the step failed)");
  flags.AddInt("max-rollouts", &max_rollouts, "exit after starting this many rollouts (0: never)");
  flags.AddString("model", &model_kind, "trainer kind of the new versions (xgboost, torch)");
  flags.AddString("features", &features,
                  "booking | with-distance (default: the stable version's feature spec)");
  flags.AddString("out", &out, "folder for the new model folders (default: a temporary one)");
  flags.AddDouble("valid-fraction", &valid_fraction,
                  "the latest share of the rows that validates (early stopping)");
  flags.AddBool("no-refit", &no_refit,
                "publish the fit on the rows before the validation share (default: refit on "
                "every row for the rounds the validation chose)");
  flags.AddInt("threads", &threads, "threads for training");
  flags.AddString("zones", &zones_dir,
                  "taxi zone shapefile folder, or 'none' (default $BIMRIDE_DATA_DIR/zones, else "
                  "the shared data folder)");
  flags.AddString(
      "weather", &weather,
      "NOAA daily weather CSV, or 'none' (default "
      "$BIMRIDE_DATA_DIR/weather/central_park_weather.csv, else the shared data folder's)");
  flags.AddDouble("min-minutes", &min_minutes, "duration filter: shortest trip kept (minutes)");
  flags.AddDouble("max-minutes", &max_minutes, "duration filter: longest trip kept (minutes)");
  flags.AddInt("step", &step,
               "rollout: percent of traffic added per passed check (default the rollout's: 10)");
  flags.AddInt("max", &max_weight,
               "rollout: the largest share before promotion, percent (default the rollout's: 50)");
  flags.AddString("interval", &interval,
                  "rollout: time between checks, e.g. 500ms (default the rollout's: 30s)");
  flags.AddInt("threshold", &threshold,
               "rollout: failed checks in a row that roll back (default the rollout's: 2)");
  flags.AddInt("min-labels", &min_labels,
               "rollout: labels per interval and version (default the rollout's: 20)");
  flags.AddInt("min-requests", &min_requests,
               "rollout: requests per interval and version (default the rollout's: 20)");
  flags.AddDouble("max-error-ratio", &max_error_ratio,
                  "rollout: candidate / primary RMSE (default the rollout's: 1.1)");
  flags.AddString(
      "drift", &drift_check,
      "rollout: drift check off, relative or absolute (default the rollout's: relative)");
  flags.AddDouble("p99-slack-ms", &p99_slack_ms,
                  "rollout: latency allowed above the primary's, ms (default the rollout's: 1)");
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;

  retraining::RetrainPolicy policy;
  policy.model = name;
  policy.hold_windows = hold;
  policy.hold_span = hold_span;
  policy.on_drift = !no_drift;
  policy.max_rmse = max_rmse;
  policy.max_rmse_ratio = max_rmse_ratio;
  policy.min_window_labels = min_window_labels;
  policy.min_rows = min_rows;
  policy.max_train_windows = max_train_windows;
  auto cooldown_ms = serving::ParseDurationMs(cooldown);
  if (!cooldown_ms.ok()) return ReportError(cooldown_ms.status().WithContext("--cooldown"), true);
  policy.cooldown_ms = *cooldown_ms;
  auto poll_ms = serving::ParseDurationMs(poll);
  if (!poll_ms.ok()) return ReportError(poll_ms.status().WithContext("--poll"), true);
  if (Status st = retraining::ValidateRetrainPolicy(policy); !st.ok()) return ReportError(st, true);
  if (threads < 1 || !(valid_fraction > 0 && valid_fraction < 1)) {
    return ReportError(
        InvalidArgumentError("--threads must be >= 1 and --valid-fraction in (0, 1)"), true);
  }
  if (Status st = ParseServerFlag(server).status(); !st.ok()) return ReportError(st, true);
  if (Status st = tasks::eta::CheckEtaModelKind(model_kind); !st.ok()) return ReportError(st, true);
  if (model_kind == tasks::eta::kEtaBaselineModel) {
    return ReportError(InvalidArgumentError("--model baseline: baselines are not published"), true);
  }
  json rollout = json::object();
  if (flags.WasSet("step")) rollout["step"] = step;
  if (flags.WasSet("max")) rollout["max_weight"] = max_weight;
  if (flags.WasSet("interval")) rollout["interval"] = interval;
  if (flags.WasSet("threshold")) rollout["threshold"] = threshold;
  if (flags.WasSet("min-labels")) rollout["min_labels"] = min_labels;
  if (flags.WasSet("min-requests")) rollout["min_requests"] = min_requests;
  if (flags.WasSet("max-error-ratio")) rollout["max_error_ratio"] = max_error_ratio;
  if (flags.WasSet("drift")) rollout["drift"] = drift_check;
  if (flags.WasSet("p99-slack-ms")) rollout["p99_slack_ms"] = p99_slack_ms;
  rollout["who"] = "bimride retrain";
  {  // A bad rollout spec is refused before anything runs.
    json probe = rollout;
    probe["candidate"] = 1;
    auto spec = serving::ParseRolloutSpecJson(probe.dump(), name);
    if (!spec.ok()) return ReportError(spec.status(), true);
    if (Status st = serving::ValidateRolloutSpec(*spec); !st.ok()) return ReportError(st, true);
  }

  auto reg = registry::Registry::Open(repo);
  if (!reg.ok()) return ReportError(reg.status());
  std::optional<data::ZoneIndex> zones;
  if (!zones_dir.empty() && zones_dir != "none") {
    auto z = data::ZoneIndex::Load(zones_dir);
    if (!z.ok()) return ReportError(z.status());
    zones = std::move(z).value();
  }
  std::optional<features::WeatherTable> weather_table;
  if (!weather.empty() && weather != "none") {
    auto w = features::WeatherTable::Load(weather);
    if (!w.ok()) return ReportError(w.status());
    weather_table = std::move(w).value();
  }
  if (out.empty()) {
    out = (std::filesystem::temp_directory_path() / ("bimride_retrain_" + name + "_" +
                                                     std::to_string(::getpid())))
              .string();
  }

  retraining::RetrainHooks hooks;
  hooks.monitor = [&]() { return CallServer(server, "GET", "/v1/monitor"); };
  hooks.rollout_state = [&]() -> StatusOr<std::string> {
    StatusOr<std::string> body = CallServer(server, "GET", "/v1/rollouts/" + name);
    if (!body.ok() && body.status().code() == StatusCode::kNotFound) return std::string();
    if (!body.ok()) return body.status();
    json j = json::parse(*body, nullptr, false);
    if (!j.is_object() || !j.contains("state") || !j["state"].is_string()) {
      return InternalError(server + "/v1/rollouts/" + name + ": no 'state' in the answer");
    }
    return j["state"].get<std::string>();
  };
  hooks.read_rows = [&](int64_t t0, int64_t t1) {
    return monitoring::ReadLabelledRows(log_dir, name, t0, t1);
  };
  int64_t trained = 0;
  hooks.train_and_publish = [&](const monitoring::LabelledRows& rows, int64_t window_rows,
                                const std::string& parent) -> StatusOr<int64_t> {
    features::EtaFeatureSet set = features::EtaFeatureSet::kBooking;
    if (!features.empty()) {
      ASSIGN_OR_RETURN(set, features::ParseEtaFeatureSet(features));
    } else {
      ASSIGN_OR_RETURN(int64_t stable, (*reg)->ResolveLabel(name, "stable"));
      ASSIGN_OR_RETURN(registry::Manifest m, (*reg)->Show(name, stable));
      if (m.feature_spec &&
          m.feature_spec->name ==
              features::EtaFeatureSpecName(features::EtaFeatureSet::kWithDistance)) {
        set = features::EtaFeatureSet::kWithDistance;
      }
    }
    tasks::eta::EtaRetrainOptions o;
    o.config = tasks::eta::DefaultEtaTrainConfig(set, model_kind);
    o.config.model_name = name;
    o.config.threads = static_cast<int>(threads);
    o.config.drift_window_rows = window_rows;  // the server's monitor windows
    o.dataset.min_minutes = min_minutes;
    o.dataset.max_minutes = max_minutes;
    o.valid_fraction = valid_fraction;
    o.refit = !no_refit;
    o.out_dir = out + "/" + std::to_string(++trained);
    o.zones = zones ? &*zones : nullptr;
    o.weather = weather_table ? &*weather_table : nullptr;
    o.tags = {{"retrain_run", parent}};
    o.data_description = "prediction log " + log_dir + ", model " + name + ": " +
                         std::to_string(rows.rows.size()) + " labelled of " +
                         std::to_string(rows.predicted_rows) + " logged rows";
    std::printf("%s training %s on %zu labelled rows from the log\n", Stamp().c_str(),
                model_kind.c_str(), rows.rows.size());
    std::fflush(stdout);
    ASSIGN_OR_RETURN(tasks::eta::EtaRetrainResult r,
                     tasks::eta::RetrainEtaOnLabelledRows(**reg, rows, o));
    std::printf("%s\npublished %s version %lld (run %s)\n", r.summary.c_str(),
                r.published.name.c_str(), static_cast<long long>(r.published.version),
                r.run_id.c_str());
    return r.published.version;
  };
  hooks.start_rollout = [&](int64_t candidate) {
    json body = rollout;
    body["candidate"] = candidate;
    return CallServer(server, "POST", "/v1/rollouts/" + name, body.dump());
  };
  auto retrainer = retraining::Retrainer::Create(policy, std::move(hooks), reg->get());
  if (!retrainer.ok()) return ReportError(retrainer.status());

  int64_t rollouts = 0;
  for (;;) {
    retraining::RetrainStep s = (*retrainer)->Step();
    std::printf("%s %s: %s", Stamp().c_str(),
                std::string(retraining::RetrainOutcomeName(s.outcome)).c_str(), s.message.c_str());
    if (s.outcome == retraining::RetrainOutcome::kRolledOut) {
      std::printf(" (candidate %lld against stable %lld; runs", static_cast<long long>(s.candidate),
                  static_cast<long long>(s.stable_version));
      for (const std::string& id : s.run_ids) std::printf(" %s", id.c_str());
      std::printf(")");
      ++rollouts;
    }
    std::printf("\n");
    std::fflush(stdout);
    if (once) return s.outcome == retraining::RetrainOutcome::kFailed ? 1 : kExitOk;
    if (max_rollouts > 0 && rollouts >= max_rollouts) return kExitOk;
    std::this_thread::sleep_for(std::chrono::milliseconds(*poll_ms));
  }
}

int RunRetrain(const std::vector<std::string>& args) {
  static const std::vector<CommandInfo> kVerbs = {
      {"eta", "retrain an ETA model on alarm, beside a running server", RunRetrainEta}};
  return DispatchVerbs("bimride retrain",
                       "Retraining on alarm: the loop closed (docs/monitoring.md, 'Retraining').",
                       kVerbs, args);
}

}  // namespace

BIMRIDE_COMMAND("retrain", "retrain a served model on alarm and roll the result out", RunRetrain);

}  // namespace bimride::cli
