// `bimride models …`: the model registry from the command line (list, show, publish, promote,
// rollback, history, verify). Thin: every verb is one call into registry/registry.h.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "cli/command.h"
#include "common/file.h"
#include "models/onnx/onnx_export.h"
#include "registry/registry.h"
#include "registry/text_table.h"

namespace bimride::cli {
namespace {

using registry::ArtifactFile;
using registry::LabelMove;
using registry::Manifest;
using registry::ModelRef;
using registry::Registry;
using registry::FormatNumber;
using registry::FormatTimeMs;
using registry::TextTable;

void AddRepoFlags(FlagParser& flags, std::string* repo, std::string* db) {
  flags.AddString("repo", repo, "model repository folder (default $BIMRIDE_MODEL_REPO or ./model_repo)");
  flags.AddString("db", db,
                  "metadata store: a path, sqlite:PATH or postgresql://user@host/db (default "
                  "$BIMRIDE_REGISTRY_URL, else <repo>/.bimride/registry.db)");
}

// Read-only verbs open an existing SQLite database read-only, so they work on a read-only
// mount. A PostgreSQL store is opened for writing (its schema is created on first use; the
// server, not the mount, decides what may be written).
StatusOr<std::unique_ptr<Registry>> OpenRegistry(const std::string& repo, const std::string& db,
                                                 bool read_only) {
  registry::RegistryOptions options;
  options.db_path = db.empty() ? registry::DefaultStoreLocation(repo) : db;
  options.read_only = read_only && !registry::IsPostgresUrl(options.db_path) &&
                      FileExists(registry::SqlitePathOf(options.db_path));
  return Registry::Open(repo, options);
}

std::string Join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

std::string MetricsText(const std::map<std::string, double>& metrics) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : metrics) parts.push_back(k + "=" + FormatNumber(v));
  return Join(parts, " ");
}

std::string VersionText(const std::optional<int64_t>& v) {
  return v ? std::to_string(*v) : std::string("(none)");
}

std::string MoveText(const LabelMove& m) {
  return m.model + ": " + std::string(registry::LabelActionName(m.action)) + " label '" + m.label +
         "' " + VersionText(m.from_version) + " -> " + std::to_string(m.to_version) + " by " +
         m.who + (m.why.empty() ? "" : " (" + m.why + ")");
}

int RunList(const std::vector<std::string>& args) {
  FlagParser flags("bimride models list", "List the models in a repository, one row each.");
  std::string repo = registry::DefaultRepositoryRoot(), db;
  AddRepoFlags(flags, &repo, &db);
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  auto reg = OpenRegistry(repo, db, true);
  if (!reg.ok()) return ReportError(reg.status());
  auto models = (*reg)->ListModels();
  if (!models.ok()) return ReportError(models.status());
  TextTable t({"MODEL", "VERSIONS", "LATEST", "LABELS", "TASK", "BACKEND", "PROBLEMS"});
  t.SetRightAligned(1);
  t.SetRightAligned(2);
  t.SetRightAligned(6);
  for (const auto& m : *models) {
    std::vector<std::string> labels;
    for (const auto& [label, version] : m.labels) labels.push_back(label + "=" + std::to_string(version));
    t.AddRow({m.name, std::to_string(m.num_versions),
              m.latest_version ? std::to_string(m.latest_version) : "", Join(labels, " "), m.task,
              m.backend, std::to_string(m.num_problems)});
  }
  if (t.num_rows() == 0) {
    std::printf("no models in %s\n", repo.c_str());
    return kExitOk;
  }
  std::cout << t.Render();
  return kExitOk;
}

void PrintManifest(const Manifest& m, const std::vector<std::string>& labels) {
  std::printf("model:        %s\n", m.name.c_str());
  std::printf("version:      %lld%s\n", static_cast<long long>(m.version),
              labels.empty() ? "" : ("  [" + Join(labels, ", ") + "]").c_str());
  std::printf("task:         %s\n", m.task.c_str());
  std::printf("backend:      %s\n", m.backend.c_str());
  std::printf("created:      %s\n", m.created_at.c_str());
  std::printf("run:          %s\n", m.run_id.empty() ? "-" : m.run_id.c_str());
  if (m.feature_spec) {
    std::printf("feature spec: %s  (request fields: %s)\n", m.feature_spec->ToString().c_str(),
                Join(m.feature_spec->request_fields, ", ").c_str());
  }
  for (const auto& [p, v] : m.properties) std::printf("%-13s %s\n", (p + ":").c_str(), v.c_str());
  std::printf("\nsignature:\n");
  TextTable sig({"KIND", "NAME", "DTYPE", "SHAPE"});
  auto add = [&](const char* kind, const std::vector<registry::TensorSpec>& tensors) {
    for (const auto& ts : tensors) {
      std::vector<std::string> dims;
      for (int64_t d : ts.shape) dims.push_back(std::to_string(d));
      sig.AddRow({kind, ts.name, std::string(registry::DTypeName(ts.dtype)),
                  "[" + Join(dims, ", ") + "]"});
    }
  };
  add("input", m.inputs);
  add("output", m.outputs);
  std::cout << sig.Render();
  if (!m.metrics.empty()) {
    std::printf("\nmetrics:\n");
    TextTable mt({"METRIC", "VALUE"});
    mt.SetRightAligned(1);
    for (const auto& [k, v] : m.metrics) mt.AddRow({k, FormatNumber(v)});
    std::cout << mt.Render();
  }
  if (!m.feature_stats.empty()) {
    std::printf("\ntraining statistics:\n");
    TextTable st({"FEATURE", "COUNT", "NULLS", "MEAN", "STD", "MIN", "P50", "MAX"});
    for (size_t i = 1; i < 8; ++i) st.SetRightAligned(i);
    for (const auto& [f, s] : m.feature_stats) {
      std::string p50;
      for (size_t i = 0; i < s.quantile_probs.size(); ++i) {
        if (s.quantile_probs[i] == 0.5) p50 = FormatNumber(s.quantiles[i]);
      }
      st.AddRow({f, std::to_string(s.count), std::to_string(s.null_count), FormatNumber(s.mean),
                 FormatNumber(s.std), FormatNumber(s.min), p50, FormatNumber(s.max)});
    }
    std::cout << st.Render();
  }
  std::printf("\nfiles:\n");
  TextTable ft({"FILE", "BYTES", "SHA256"});
  ft.SetRightAligned(1);
  for (const auto& f : m.files) ft.AddRow({f.name, std::to_string(f.size_bytes), f.sha256});
  std::cout << ft.Render();
}

int RunShow(const std::vector<std::string>& args) {
  FlagParser flags("bimride models show",
                   "Show a model's versions (MODEL), or one version in full (MODEL:VERSION or "
                   "MODEL:LABEL), checking every sha256.");
  std::string repo = registry::DefaultRepositoryRoot(), db;
  AddRepoFlags(flags, &repo, &db);
  std::vector<std::string> pos;
  flags.SetPositional("MODEL[:VERSION|:LABEL]", &pos, "what to show", 1, 1);
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  auto ref = registry::ParseModelRef(pos[0]);
  if (!ref.ok()) return ReportError(ref.status(), /*usage=*/true);
  auto reg = OpenRegistry(repo, db, true);
  if (!reg.ok()) return ReportError(reg.status());
  if (ref->version == 0 && ref->label.empty()) {
    auto versions = (*reg)->ListVersions(ref->model);
    if (!versions.ok()) return ReportError(versions.status());
    TextTable t({"VERSION", "LABELS", "CREATED", "TASK", "BACKEND", "RUN", "METRICS"});
    t.SetRightAligned(0);
    for (const auto& v : *versions) {
      t.AddRow({std::to_string(v.manifest.version), Join(v.labels, ","), v.manifest.created_at,
                v.manifest.task, v.manifest.backend, v.manifest.run_id.substr(0, 12),
                MetricsText(v.manifest.metrics)});
    }
    std::cout << t.Render();
    auto scan = (*reg)->repository().ScanModel(ref->model);
    if (scan.ok()) {
      for (const auto& p : scan->problems) {
        std::printf("! skipped %s: %s\n", p.path.c_str(), p.status.message().c_str());
      }
    }
    return kExitOk;
  }
  auto version = (*reg)->Resolve(*ref);
  if (!version.ok()) return ReportError(version.status());
  auto m = (*reg)->Show(ref->model, *version);
  if (!m.ok()) return ReportError(m.status());
  std::vector<std::string> labels;
  auto all_labels = (*reg)->store().GetLabels(ref->model);
  if (all_labels.ok()) {
    for (const auto& [label, v] : *all_labels) {
      if (v == *version) labels.push_back(label);
    }
  }
  PrintManifest(*m, labels);
  return kExitOk;
}

int RunPublish(const std::vector<std::string>& args) {
  FlagParser flags("bimride models publish",
                   "Publish files as the next version of MODEL (atomic; sha256 of every file), "
                   "or with --from the model folder a trainer wrote (its manifest.json and "
                   "artifacts), optionally as another backend that loads the same files.");
  std::string repo = registry::DefaultRepositoryRoot(), db, task, backend, extra, extra_file, run_id;
  std::string from, artifact;
  AddRepoFlags(flags, &repo, &db);
  flags.AddString("task", &task, "task (eta, demand, pricing, behaviour, …); required with FILEs");
  flags.AddString("backend", &backend,
                  "backend (torchscript, xgboost, native_mlp, …); required with FILEs, with "
                  "--from it replaces the folder's");
  flags.AddString("from", &from, "a model folder written by `bimride train` (manifest.json + files)");
  flags.AddString("artifact", &artifact, "with --from: the artifact the backend loads first");
  flags.AddString("manifest-extra", &extra,
                  "JSON merged into the manifest (inputs, outputs, metrics, feature_spec, …)");
  flags.AddString("manifest-extra-file", &extra_file, "file holding such JSON");
  flags.AddString("run-id", &run_id, "the training run that produced the files");
  std::vector<std::string> pos;
  flags.SetPositional("MODEL FILE…", &pos, "model name, then the files (the first is loaded)", 1);
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  const bool folder = !from.empty();
  if (folder && (pos.size() > 1 || !task.empty() || !extra.empty() || !extra_file.empty())) {
    return ReportError(InvalidArgumentError("--from takes the files and the manifest from the "
                                            "folder: give only MODEL (and --backend, --artifact)"),
                       true);
  }
  if (!folder && (pos.size() < 2 || task.empty() || backend.empty() || !artifact.empty())) {
    return ReportError(InvalidArgumentError("publish needs MODEL FILE… with --task and --backend, "
                                            "or MODEL --from DIR"),
                       true);
  }
  Manifest draft;
  std::vector<ArtifactFile> files;
  if (!folder) {
    draft.name = pos[0];
    draft.task = task;
    draft.backend = backend;
    draft.run_id = run_id;
    for (size_t i = 1; i < pos.size(); ++i) {
      files.push_back({pos[i], ""});
      draft.artifacts.push_back(std::filesystem::path(pos[i]).filename().string());
    }
    std::vector<std::pair<std::string, std::string>> patches;  // (JSON, where it came from)
    if (!extra_file.empty()) {
      auto text = ReadFile(extra_file);
      if (!text.ok()) return ReportError(text.status());
      patches.push_back({*text, extra_file});
    }
    if (!extra.empty()) patches.push_back({extra, "--manifest-extra"});
    for (const auto& [json, source] : patches) {
      auto merged = registry::MergeManifestJson(draft, json, source);
      if (!merged.ok()) return ReportError(merged.status());
      draft = *merged;
    }
  }
  auto reg = OpenRegistry(repo, db, false);
  if (!reg.ok()) return ReportError(reg.status());
  auto m = folder ? (*reg)->PublishFolder(from, {pos[0], backend, artifact})
                  : (*reg)->Publish(files, draft);
  if (!m.ok()) return ReportError(m.status());
  std::printf("published %s:%lld  %s\n", m->name.c_str(), static_cast<long long>(m->version),
              (*reg)->repository().VersionDir(m->name, m->version).c_str());
  return kExitOk;
}

int RunPromote(const std::vector<std::string>& args) {
  FlagParser flags("bimride models promote",
                   "Point a label (stable, canary, …) at a version, after checking its files.");
  std::string repo = registry::DefaultRepositoryRoot(), db, label, why, who;
  AddRepoFlags(flags, &repo, &db);
  flags.AddString("label", &label, "label to move", true);
  flags.AddString("why", &why, "reason, kept in the audit log", true);
  flags.AddString("who", &who, "who moves it (default $USER)");
  std::vector<std::string> pos;
  flags.SetPositional("MODEL VERSION", &pos, "model and version number", 2, 2);
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  auto version = registry::ParseVersionDirName(pos[1]);
  if (!version.ok()) return ReportError(version.status().WithContext("VERSION"), true);
  auto reg = OpenRegistry(repo, db, false);
  if (!reg.ok()) return ReportError(reg.status());
  auto move = (*reg)->Promote(pos[0], *version, label, why,
                              who.empty() ? registry::CurrentUser() : who);
  if (!move.ok()) return ReportError(move.status());
  std::printf("%s\n", MoveText(*move).c_str());
  return kExitOk;
}

int RunRollback(const std::vector<std::string>& args) {
  FlagParser flags("bimride models rollback",
                   "Move a label back to the version it pointed at before its last promotion.");
  std::string repo = registry::DefaultRepositoryRoot(), db, label, why, who;
  AddRepoFlags(flags, &repo, &db);
  flags.AddString("label", &label, "label to move back", true);
  flags.AddString("why", &why, "reason, kept in the audit log");
  flags.AddString("who", &who, "who moves it (default $USER)");
  std::vector<std::string> pos;
  flags.SetPositional("MODEL", &pos, "model name", 1, 1);
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  auto reg = OpenRegistry(repo, db, false);
  if (!reg.ok()) return ReportError(reg.status());
  auto move = (*reg)->Rollback(pos[0], label, why.empty() ? "rollback" : why,
                               who.empty() ? registry::CurrentUser() : who);
  if (!move.ok()) return ReportError(move.status());
  std::printf("%s\n", MoveText(*move).c_str());
  return kExitOk;
}

int RunHistory(const std::vector<std::string>& args) {
  FlagParser flags("bimride models history", "Every label move of a model, newest first.");
  std::string repo = registry::DefaultRepositoryRoot(), db, label;
  AddRepoFlags(flags, &repo, &db);
  flags.AddString("label", &label, "only this label");
  std::vector<std::string> pos;
  flags.SetPositional("MODEL", &pos, "model name", 1, 1);
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  auto reg = OpenRegistry(repo, db, true);
  if (!reg.ok()) return ReportError(reg.status());
  auto history = (*reg)->History(pos[0], label);
  if (!history.ok()) return ReportError(history.status());
  if (history->empty()) {
    std::printf("%s: no label moves\n", pos[0].c_str());
    return kExitOk;
  }
  TextTable t({"TIME (UTC)", "LABEL", "ACTION", "FROM", "TO", "WHO", "WHY"});
  t.SetRightAligned(3);
  t.SetRightAligned(4);
  for (const LabelMove& m : *history) {
    t.AddRow({FormatTimeMs(m.time_ms), m.label, std::string(registry::LabelActionName(m.action)),
              m.from_version ? std::to_string(*m.from_version) : "", std::to_string(m.to_version),
              m.who, m.why});
  }
  std::cout << t.Render();
  return kExitOk;
}

int RunVerify(const std::vector<std::string>& args) {
  FlagParser flags("bimride models verify",
                   "Check every version's files against its sha256s, index stray versions, and "
                   "report corrupt or partial versions, dangling labels and staging folders. "
                   "Exit 1 when anything is wrong.");
  std::string repo = registry::DefaultRepositoryRoot(), db;
  AddRepoFlags(flags, &repo, &db);
  bool repair = false;
  int64_t stale_minutes = 60;
  flags.AddBool("repair", &repair, "remove stale staging folders, rewrite labels.json");
  flags.AddInt("stale-minutes", &stale_minutes, "staging folders older than this are stale");
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  auto reg = OpenRegistry(repo, db, false);
  if (!reg.ok()) return ReportError(reg.status());
  auto report = (*reg)->VerifyAll(repair, stale_minutes);
  if (!report.ok()) return ReportError(report.status());
  for (const auto& issue : report->issues) {
    std::printf("BAD      %s\n", issue.status.message().c_str());
  }
  for (const std::string& dir : report->staging_dirs) std::printf("STAGING  %s\n", dir.c_str());
  for (const std::string& r : report->repaired) std::printf("REPAIRED %s\n", r.c_str());
  std::printf("%lld models, %lld good versions, %zu problems, %zu staging folders\n",
              static_cast<long long>(report->models),
              static_cast<long long>(report->good_versions), report->issues.size(),
              report->staging_dirs.size());
  return report->ok() ? kExitOk : kExitFailure;
}

int RunExport(const std::vector<std::string>& args) {
  FlagParser flags("bimride models export",
                   "Export a version to another format (ONNX: for ONNX Runtime, TensorRT, …). "
                   "The file is checked against the version's own backend on random rows "
                   "before the command succeeds.");
  std::string repo = registry::DefaultRepositoryRoot(), db, format = "onnx", out;
  AddRepoFlags(flags, &repo, &db);
  flags.AddString("format", &format, "export format: onnx");
  flags.AddString("out", &out, "file to write", true);
  std::vector<std::string> pos;
  flags.SetPositional("MODEL[:VERSION|:LABEL]", &pos, "the version (default: latest)", 1, 1);
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  if (format != "onnx") {
    return ReportError(InvalidArgumentError("--format: unknown format '" + format +
                                            "' (known: onnx)"),
                       true);
  }
  auto ref = registry::ParseModelRef(pos[0]);
  if (!ref.ok()) return ReportError(ref.status(), /*usage=*/true);
  auto reg = OpenRegistry(repo, db, true);
  if (!reg.ok()) return ReportError(reg.status());
  auto version = (*reg)->Resolve(*ref);
  if (!version.ok()) return ReportError(version.status());
  auto m = (*reg)->Show(ref->model, *version);
  if (!m.ok()) return ReportError(m.status());
  const std::string artifact =
      (*reg)->repository().VersionDir(m->name, m->version) + "/" + m->artifacts.front();
  auto check = models::onnx_backend::ExportArtifactToOnnx(m->backend, artifact, out);
  if (!check.ok()) return ReportError(check.status());
  std::printf("exported %s:%lld (%s) to %s: %d features -> %d outputs; on %lld random rows the "
              "ONNX file's outputs are within %.2g (relative) of the %s backend's\n",
              m->name.c_str(), static_cast<long long>(m->version), m->backend.c_str(),
              out.c_str(), check->num_features, check->num_outputs,
              static_cast<long long>(check->rows), check->max_relative_error, m->backend.c_str());
  return kExitOk;
}

int RunModels(const std::vector<std::string>& args) {
  static const std::vector<CommandInfo> kVerbs = {
      {"list", "models in the repository, with versions and labels", RunList},
      {"show", "a model's versions, or one version's manifest", RunShow},
      {"publish", "publish files as a new version", RunPublish},
      {"promote", "point a label at a version", RunPromote},
      {"rollback", "move a label back to its previous version", RunRollback},
      {"history", "audit log of label moves", RunHistory},
      {"verify", "check every version's checksums (--repair cleans up)", RunVerify},
      {"export", "export a version to ONNX (checked against its backend)", RunExport},
  };
  return DispatchVerbs("bimride models", "The model registry: versions, labels, audit log.", kVerbs,
                       args);
}

}  // namespace

BIMRIDE_COMMAND("models",
                "model registry: list, show, publish, promote, rollback, verify, export",
                RunModels);

}  // namespace bimride::cli
