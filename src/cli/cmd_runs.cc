// `bimride runs …`: tracked training runs (list, show, compare), read from the registry's
// metadata store. Thin: each verb is one call into registry/metadata_store.h.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <set>

#include "cli/command.h"
#include "common/file.h"
#include "registry/registry.h"
#include "registry/store_url.h"
#include "registry/text_table.h"

namespace bimride::cli {
namespace {

using registry::RunRecord;
using registry::FormatNumber;
using registry::FormatTimeMs;
using registry::TextTable;

StatusOr<std::unique_ptr<registry::MetadataStore>> OpenStore(const std::string& repo,
                                                             const std::string& db) {
  std::string location = db.empty() ? registry::DefaultStoreLocation(repo) : db;
  if (!registry::IsPostgresUrl(location) && !FileExists(registry::SqlitePathOf(location))) {
    return NotFoundError(registry::SqlitePathOf(location) +
                         ": no registry database (nothing tracked yet, or wrong --repo)");
  }
  return registry::OpenMetadataStore(location, {.read_only = true});
}

void AddStoreFlags(FlagParser& flags, std::string* repo, std::string* db) {
  flags.AddString("repo", repo,
                  "model repository folder (default $BIMRIDE_MODEL_REPO or ./model_repo)");
  flags.AddString("db", db,
                  "metadata store: a path, sqlite:PATH or postgresql://user@host/db (default "
                  "$BIMRIDE_REGISTRY_URL, else <repo>/.bimride/registry.db)");
}

std::string Wall(const RunRecord& r) {
  if (r.end_time_ms == 0) return "";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1fs", r.wall_time_s());
  return buf;
}

std::string Commit(const RunRecord& r) {
  if (r.code.git_commit.empty()) return "";
  return r.code.git_commit.substr(0, 10) + (r.code.dirty ? "+dirty" : "");
}

// Finds a run by full id or unique prefix.
StatusOr<RunRecord> FindRun(registry::MetadataStore& store, const std::string& id) {
  auto exact = store.GetRun(id);
  if (exact.ok() || exact.status().code() != StatusCode::kNotFound) return exact;
  ASSIGN_OR_RETURN(auto runs, store.ListRuns({}));
  std::vector<std::string> matches;
  for (const RunRecord& r : runs) {
    if (r.run_id.rfind(id, 0) == 0) matches.push_back(r.run_id);
  }
  if (matches.empty()) return NotFoundError("no run '" + id + "'");
  if (matches.size() > 1) {
    return InvalidArgumentError("run prefix '" + id + "' matches " +
                                std::to_string(matches.size()) + " runs; give more characters");
  }
  return store.GetRun(matches[0]);
}

int RunList(const std::vector<std::string>& args) {
  FlagParser flags("bimride runs list", "Tracked training runs, newest first.");
  std::string repo = registry::DefaultRepositoryRoot(), db, task;
  int64_t limit = 50;
  AddStoreFlags(flags, &repo, &db);
  flags.AddString("task", &task, "only runs of this task");
  flags.AddInt("limit", &limit, "at most this many runs (0: all)");
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  auto store = OpenStore(repo, db);
  if (!store.ok()) return ReportError(store.status());
  auto runs = (*store)->ListRuns({task, limit});
  if (!runs.ok()) return ReportError(runs.status());
  if (runs->empty()) {
    std::printf("no runs%s\n", task.empty() ? "" : (" for task " + task).c_str());
    return kExitOk;
  }
  TextTable t({"RUN", "TASK", "STATUS", "STARTED (UTC)", "WALL", "USER", "COMMIT", "METRICS"});
  t.SetRightAligned(4);
  for (const RunRecord& r : *runs) {
    std::string metrics;
    for (const auto& p : r.metrics) metrics += (metrics.empty() ? "" : " ") + p.key + "=" + FormatNumber(p.value);
    t.AddRow({r.run_id.substr(0, 12), r.task, std::string(registry::RunStatusName(r.status)),
              FormatTimeMs(r.start_time_ms), Wall(r), r.user, Commit(r), metrics});
  }
  std::cout << t.Render();
  return kExitOk;
}

int RunShow(const std::vector<std::string>& args) {
  FlagParser flags("bimride runs show", "Everything recorded about one run.");
  std::string repo = registry::DefaultRepositoryRoot(), db;
  AddStoreFlags(flags, &repo, &db);
  std::vector<std::string> pos;
  flags.SetPositional("RUN", &pos, "run id (or a unique prefix)", 1, 1);
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  auto store = OpenStore(repo, db);
  if (!store.ok()) return ReportError(store.status());
  auto run = FindRun(**store, pos[0]);
  if (!run.ok()) return ReportError(run.status());
  const RunRecord& r = *run;
  std::printf("run:      %s\n", r.run_id.c_str());
  std::printf("task:     %s\n", r.task.c_str());
  std::printf("status:   %s\n", std::string(registry::RunStatusName(r.status)).c_str());
  std::printf("user:     %s\n", r.user.c_str());
  std::printf("started:  %s UTC\n", FormatTimeMs(r.start_time_ms).c_str());
  std::printf("ended:    %s\n", r.end_time_ms ? (FormatTimeMs(r.end_time_ms) + " UTC (" + Wall(r) + ")").c_str() : "-");
  std::printf("code:     %s\n", r.code.git_commit.empty()
                                    ? ("- (" + r.code.note + ")").c_str()
                                    : (r.code.git_commit + (r.code.dirty ? " (dirty)" : "")).c_str());
  std::printf("data:     %s\n", r.data.fingerprint.empty() ? "-" : r.data.fingerprint.c_str());
  if (!r.data.filter.empty()) std::printf("filter:   %s\n", r.data.filter.c_str());
  if (!r.params.empty() || !r.tags.empty()) {
    std::printf("\n");
    TextTable t({"KIND", "KEY", "VALUE"});
    for (const auto& [k, v] : r.params) t.AddRow({"param", k, v});
    for (const auto& [k, v] : r.tags) t.AddRow({"tag", k, v});
    std::cout << t.Render();
  }
  if (!r.metrics.empty()) {
    std::printf("\n");
    TextTable t({"METRIC", "STEP", "VALUE", "TIME (UTC)"});
    t.SetRightAligned(1);
    t.SetRightAligned(2);
    for (const auto& p : r.metrics) {
      t.AddRow({p.key, std::to_string(p.step), FormatNumber(p.value), FormatTimeMs(p.time_ms)});
    }
    std::cout << t.Render();
  }
  if (!r.data.files.empty()) {
    std::printf("\n");
    TextTable t({"INPUT", "BYTES", "SHA256"});
    t.SetRightAligned(1);
    for (const auto& f : r.data.files) t.AddRow({f.path, std::to_string(f.size_bytes), f.sha256});
    std::cout << t.Render();
  }
  if (!r.artifacts.empty()) {
    std::printf("\n");
    TextTable t({"ARTIFACT", "BYTES", "SHA256"});
    t.SetRightAligned(1);
    for (const auto& a : r.artifacts) t.AddRow({a.path, std::to_string(a.size_bytes), a.sha256});
    std::cout << t.Render();
  }
  return kExitOk;
}

int RunCompare(const std::vector<std::string>& args) {
  FlagParser flags("bimride runs compare",
                   "Runs side by side: final metrics, then params that differ.");
  std::string repo = registry::DefaultRepositoryRoot(), db;
  bool all_params = false;
  AddStoreFlags(flags, &repo, &db);
  flags.AddBool("all-params", &all_params, "show every param, not only those that differ");
  std::vector<std::string> pos;
  flags.SetPositional("RUN…", &pos, "two or more run ids (or unique prefixes)", 2);
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  auto store = OpenStore(repo, db);
  if (!store.ok()) return ReportError(store.status());
  std::vector<RunRecord> runs;
  for (const std::string& id : pos) {
    auto run = FindRun(**store, id);
    if (!run.ok()) return ReportError(run.status());
    runs.push_back(std::move(*run));
  }
  std::vector<std::string> header = {""};
  for (const RunRecord& r : runs) header.push_back(r.run_id.substr(0, 12));
  TextTable t(header);
  for (size_t i = 1; i < header.size(); ++i) t.SetRightAligned(i);
  auto row = [&](const std::string& name, auto value_of) {
    std::vector<std::string> cells = {name};
    for (const RunRecord& r : runs) cells.push_back(value_of(r));
    t.AddRow(cells);
  };
  row("task", [](const RunRecord& r) { return r.task; });
  row("status", [](const RunRecord& r) { return std::string(registry::RunStatusName(r.status)); });
  row("wall", [](const RunRecord& r) { return Wall(r); });
  row("commit", [](const RunRecord& r) { return Commit(r); });
  row("data", [](const RunRecord& r) { return r.data.fingerprint.substr(0, 12); });
  std::vector<std::map<std::string, double>> latest;
  std::set<std::string> metric_keys, param_keys;
  for (const RunRecord& r : runs) {
    latest.push_back(r.LatestMetrics());
    for (const auto& [k, v] : latest.back()) metric_keys.insert(k);
    for (const auto& [k, v] : r.params) param_keys.insert(k);
  }
  for (const std::string& key : metric_keys) {
    std::vector<std::string> cells = {"metric " + key};
    for (const auto& m : latest) {
      auto it = m.find(key);
      cells.push_back(it == m.end() ? "" : FormatNumber(it->second));
    }
    t.AddRow(cells);
  }
  for (const std::string& key : param_keys) {
    std::vector<std::string> cells = {"param " + key};
    std::set<std::string> distinct;
    for (const RunRecord& r : runs) {
      auto it = r.params.find(key);
      cells.push_back(it == r.params.end() ? "" : it->second);
      distinct.insert(cells.back());
    }
    if (all_params || distinct.size() > 1) t.AddRow(cells);
  }
  std::cout << t.Render();
  return kExitOk;
}

int RunRuns(const std::vector<std::string>& args) {
  static const std::vector<CommandInfo> kVerbs = {
      {"list", "tracked runs, newest first", RunList},
      {"show", "everything recorded about one run", RunShow},
      {"compare", "runs side by side (metrics, params)", RunCompare},
  };
  return DispatchVerbs("bimride runs", "Tracked training runs (params, metrics, data, code).",
                       kVerbs, args);
}

}  // namespace

BIMRIDE_COMMAND("runs", "tracked training runs: list, show, compare", RunRuns);

}  // namespace bimride::cli
