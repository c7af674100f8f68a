// The registry and run tracking (registry/): the same store and model repository `bimride runs`,
// `bimride models` and the server use. Manifests cross as JSON text (ManifestToJson), runs and
// label moves as dicts.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "common/file.h"
#include "registry/manifest.h"
#include "registry/registry.h"
#include "registry/run_tracker.h"
#include "py_module.h"
#include "py_status.h"

namespace bimride::python {
namespace {

using registry::Registry;
using registry::RunTracker;

py::dict MoveToDict(const registry::LabelMove& m) {
  py::dict d;
  d["model"] = m.model;
  d["label"] = m.label;
  d["from_version"] = m.from_version ? py::object(py::int_(*m.from_version)) : py::none();
  d["to_version"] = m.to_version;
  d["action"] = std::string(registry::LabelActionName(m.action));
  d["time_ms"] = m.time_ms;
  d["why"] = m.why;
  d["who"] = m.who;
  return d;
}

py::dict RunToDict(const registry::RunRecord& r) {
  py::dict d;
  d["run_id"] = r.run_id;
  d["task"] = r.task;
  d["status"] = std::string(registry::RunStatusName(r.status));
  d["start_time_ms"] = r.start_time_ms;
  d["end_time_ms"] = r.end_time_ms;
  d["user"] = r.user;
  d["params"] = r.params;
  d["tags"] = r.tags;
  d["git_commit"] = r.code.git_commit;
  d["git_dirty"] = r.code.dirty;
  py::list files;
  for (const registry::InputFile& f : r.data.files) {
    files.append(py::dict(py::arg("path") = f.path, py::arg("size_bytes") = f.size_bytes,
                          py::arg("sha256") = f.sha256));
  }
  d["data"] = py::dict(py::arg("files") = files, py::arg("filter") = r.data.filter,
                       py::arg("fingerprint") = r.data.fingerprint);
  py::list metrics;
  for (const registry::MetricPoint& p : r.metrics) {
    metrics.append(py::make_tuple(p.key, p.value, p.step));
  }
  d["metrics"] = metrics;
  py::list artifacts;
  for (const registry::RunArtifact& a : r.artifacts) {
    artifacts.append(py::dict(py::arg("path") = a.path, py::arg("size_bytes") = a.size_bytes,
                              py::arg("sha256") = a.sha256));
  }
  d["artifacts"] = artifacts;
  return d;
}

// A manifest for a folder about to be published: parsed and checked as PublishFolder will,
// written to <dir>/manifest.json in the canonical form.
std::string WriteFolderManifest(const std::string& dir, const std::string& json) {
  const std::string path = dir + "/" + registry::kManifestFileName;
  registry::Manifest m = Unwrap(registry::ManifestFromJson(json, path, /*require_version=*/false));
  const std::string text = registry::ManifestToJson(m);
  Check(WriteFileAtomic(path, text));
  return text;
}

}  // namespace

void BindRegistry(py::module_& m) {
  py::class_<RunTracker>(m, "_Run")
      .def_property_readonly("run_id", &RunTracker::run_id)
      .def("log_metric",
           [](RunTracker& r, const std::string& key, double value, int64_t step) {
             Check(r.LogMetric(key, value, step));
           },
           py::arg("key"), py::arg("value"), py::arg("step"))
      .def("log_metrics",
           [](RunTracker& r, const std::map<std::string, double>& values, int64_t step) {
             Check(r.LogMetrics(values, step));
           },
           py::arg("metrics"), py::arg("step"))
      .def("log_params",
           [](RunTracker& r, const std::map<std::string, std::string>& params) {
             Check(r.LogParams(params));
           },
           py::arg("params"))
      .def("set_tags",
           [](RunTracker& r, const std::map<std::string, std::string>& tags) {
             Check(r.SetTags(tags));
           },
           py::arg("tags"))
      .def("set_data_fingerprint",
           [](RunTracker& r, const std::vector<std::string>& files, const std::string& filter) {
             py::gil_scoped_release release;
             Check(r.SetDataFingerprint(files, filter));
           },
           py::arg("files"), py::arg("filter"))
      .def("log_artifact",
           [](RunTracker& r, const std::string& path) {
             registry::RunArtifact a = Unwrap(r.LogArtifact(path));
             return py::dict(py::arg("path") = a.path, py::arg("size_bytes") = a.size_bytes,
                             py::arg("sha256") = a.sha256);
           },
           py::arg("path"))
      .def("end",
           [](RunTracker& r, const std::string& status) {
             Check(r.EndRun(Unwrap(registry::ParseRunStatus(status))));
           },
           py::arg("status"));

  py::class_<Registry>(m, "_Registry")
      .def_static("open",
                  [](const std::string& root) { return Unwrap(Registry::Open(root)); },
                  py::arg("root"))
      .def("root", [](const Registry& r) { return r.repository().root(); })
      .def("start_run",
           [](Registry& r, const std::string& task, const std::map<std::string, std::string>& params,
              const std::map<std::string, std::string>& tags, const std::string& code_dir) {
             registry::RunOptions options;
             options.code_dir = code_dir;
             return Unwrap(r.StartRun(task, params, tags, options));
           },
           py::arg("task"), py::arg("params"), py::arg("tags"), py::arg("code_dir"),
           py::keep_alive<0, 1>())
      .def("get_run",
           [](Registry& r, const std::string& run_id) {
             return RunToDict(Unwrap(r.store().GetRun(run_id)));
           },
           py::arg("run_id"))
      .def("list_runs",
           [](Registry& r, const std::string& task, int64_t limit) {
             py::list out;
             for (const registry::RunRecord& run : Unwrap(r.store().ListRuns({task, limit}))) {
               out.append(RunToDict(run));
             }
             return out;
           },
           py::arg("task"), py::arg("limit"))
      .def("publish_folder",
           [](Registry& r, const std::string& dir, const std::string& name,
              const std::string& backend, const std::string& first_artifact) {
             registry::FolderOverrides o{name, backend, first_artifact};
             py::gil_scoped_release release;
             return registry::ManifestToJson(Unwrap(r.PublishFolder(dir, o)));
           },
           py::arg("dir"), py::arg("name"), py::arg("backend"), py::arg("first_artifact"))
      .def("promote",
           [](Registry& r, const std::string& model, int64_t version, const std::string& label,
              const std::string& why, const std::string& who) {
             return MoveToDict(Unwrap(r.Promote(model, version, label, why, who)));
           },
           py::arg("model"), py::arg("version"), py::arg("label"), py::arg("why"), py::arg("who"))
      .def("rollback",
           [](Registry& r, const std::string& model, const std::string& label,
              const std::string& why, const std::string& who) {
             return MoveToDict(Unwrap(r.Rollback(model, label, why, who)));
           },
           py::arg("model"), py::arg("label"), py::arg("why"), py::arg("who"))
      .def("resolve",
           [](Registry& r, const std::string& ref) {
             return Unwrap(r.Resolve(Unwrap(registry::ParseModelRef(ref))));
           },
           py::arg("ref"))
      .def("version_dir",
           [](const Registry& r, const std::string& model, int64_t version) {
             return r.repository().VersionDir(model, version);
           },
           py::arg("model"), py::arg("version"))
      .def("show",
           [](Registry& r, const std::string& model, int64_t version) {
             return registry::ManifestToJson(Unwrap(r.Show(model, version)));
           },
           py::arg("model"), py::arg("version"))
      .def("list_models",
           [](Registry& r) {
             py::list out;
             for (const registry::ModelSummary& s : Unwrap(r.ListModels())) {
               out.append(py::dict(py::arg("name") = s.name,
                                   py::arg("num_versions") = s.num_versions,
                                   py::arg("latest_version") = s.latest_version,
                                   py::arg("task") = s.task, py::arg("backend") = s.backend,
                                   py::arg("labels") = s.labels));
             }
             return out;
           })
      .def("history",
           [](Registry& r, const std::string& model, const std::string& label) {
             py::list out;
             for (const registry::LabelMove& m : Unwrap(r.History(model, label))) {
               out.append(MoveToDict(m));
             }
             return out;
           },
           py::arg("model"), py::arg("label"));

  m.def("_write_folder_manifest", &WriteFolderManifest, py::arg("dir"), py::arg("json"));
  m.def("default_repository", &registry::DefaultRepositoryRoot,
        "$BIMRIDE_MODEL_REPO when set, else ./model_repo (as the `bimride` command).");
  m.def("current_user", &registry::CurrentUser);
}

}  // namespace bimride::python
