#include "console/console_data.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>
#include <set>

#include "common/civil_time.h"
#include "common/data_dir.h"
#include "common/file.h"
#include "console/zone_geojson.h"
#include "data/zone_index.h"
#include "monitoring/drift.h"

namespace bimride::console {
namespace {

using nlohmann::json;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// A double for JSON: null when not finite (JSON has no NaN or Infinity).
json Num(double v) { return std::isfinite(v) ? json(v) : json(); }

std::string UtcText(int64_t time_ms) { return FormatCivil(time_ms * 1000).substr(0, 19) + "Z"; }

json MoveJson(const registry::LabelMove& m) {
  return {{"id", m.id},
          {"model", m.model},
          {"label", m.label},
          {"from_version", m.from_version ? json(*m.from_version) : json()},
          {"to_version", m.to_version},
          {"action", std::string(registry::LabelActionName(m.action))},
          {"time", UtcText(m.time_ms)},
          {"why", m.why},
          {"who", m.who}};
}

json RunSummaryJson(const registry::RunRecord& r) {
  json metrics = json::object();
  for (const auto& [k, v] : r.LatestMetrics()) metrics[k] = Num(v);
  return {{"run_id", r.run_id},
          {"task", r.task},
          {"status", std::string(registry::RunStatusName(r.status))},
          {"start", UtcText(r.start_time_ms)},
          {"wall_time_s", r.wall_time_s()},
          {"user", r.user},
          {"params", r.params},
          {"metrics", metrics}};
}

json RunJson(const registry::RunRecord& r) {
  json j = RunSummaryJson(r);
  j["tags"] = r.tags;
  j["code"] = {{"git_commit", r.code.git_commit}, {"dirty", r.code.dirty}, {"note", r.code.note}};
  json files = json::array();
  for (const registry::InputFile& f : r.data.files) {
    files.push_back({{"path", f.path}, {"size_bytes", f.size_bytes}, {"sha256", f.sha256}});
  }
  j["data"] = {{"files", files}, {"filter", r.data.filter}, {"fingerprint", r.data.fingerprint}};
  // Curves: per metric key, steps and values in step order.
  json curves = json::object();
  for (const registry::MetricPoint& p : r.metrics) {
    json& c = curves[p.key];
    if (c.is_null()) c = {{"step", json::array()}, {"value", json::array()}};
    c["step"].push_back(p.step);
    c["value"].push_back(Num(p.value));
  }
  j["curves"] = curves;
  return j;
}

bool ParseVersion(std::string_view text, int64_t* v) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), *v);
  return ec == std::errc() && p == text.data() + text.size() && *v > 0;
}

// The value of `key` in a query string "a=1&b=2" (no percent-decoding: ids and names are plain).
std::string QueryValue(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == key)
      return std::string(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return "";
}

// A query value with %XX and '+' decoded (times carry a space: "2024-03-14%2021:07").
std::string DecodeQueryValue(std::string_view v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '+') {
      out += ' ';
    } else if (v[i] == '%' && i + 2 < v.size() &&
               std::isxdigit(static_cast<unsigned char>(v[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(v[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(v.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += v[i];
    }
  }
  return out;
}

Status CheckName(std::string_view what, std::string_view name) {
  if (!registry::IsValidModelName(name)) {
    return InvalidArgumentError(std::string(what) + " '" + std::string(name) +
                                "': want 1..128 of A-Z a-z 0-9 _ . -, not starting with . or -");
  }
  return OkStatus();
}

}  // namespace

StatusOr<std::unique_ptr<ConsoleData>> ConsoleData::Open(const ConsoleOptions& options,
                                                         serving::Service* service) {
  if (options.latency_window_s < 1) {
    return InvalidArgumentError("console latency window: " +
                                std::to_string(options.latency_window_s) +
                                " s; it must be at least 1 s");
  }
  std::unique_ptr<ConsoleData> d(new ConsoleData(options, service));
  if (!options.model_repo.empty()) {
    // Read-only: the console never changes the registry. A registry that cannot be opened
    // (no metadata store yet) leaves the registry pages saying why; the rest works.
    registry::RegistryOptions ro;
    ro.db_path = options.registry_db;
    ro.read_only = true;
    auto reg = registry::Registry::Open(options.model_repo, ro);
    if (reg.ok()) {
      d->registry_ = std::move(reg).value();
    } else {
      d->registry_error_ =
          options.model_repo + ": the console cannot open the registry: " + reg.status().message();
    }
  }
  // The zones now, not on the first map view: reading the shapefile and building the index takes
  // ~0.5 s. Its error, if any, is kept for the zones endpoint.
  (void)d->Zones();
  if (!options.data_dir.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_directory(options.data_dir, ec)) {
      return NotFoundError(options.data_dir + ": the console's data folder does not exist");
    }
    std::vector<std::string> files;
    for (const auto& e : std::filesystem::directory_iterator(options.data_dir, ec)) {
      const std::string name = e.path().filename().string();
      if (name.size() > 12 && name.substr(name.size() - 12) == ".series.json") {
        files.push_back(e.path().string());
      }
    }
    std::sort(files.begin(), files.end());
    for (const std::string& f : files) {
      ASSIGN_OR_RETURN(std::string text, ReadFile(f));
      ASSIGN_OR_RETURN(ZoneSeries s, ZoneSeriesFromJson(text, f));
      const std::string name = s.name;
      if (!d->series_.emplace(name, std::move(s)).second) {
        return InvalidArgumentError(f + ": series '" + name + "' is in another file too");
      }
    }
  }
  return d;
}

StatusOr<registry::Registry*> ConsoleData::NeedRegistry() {
  std::lock_guard<std::mutex> lock(registry_mu_);
  if (!registry_ && !options_.model_repo.empty()) {
    // The store may have been created since (a first publish while the server runs).
    registry::RegistryOptions ro;
    ro.db_path = options_.registry_db;
    ro.read_only = true;
    auto reg = registry::Registry::Open(options_.model_repo, ro);
    if (reg.ok()) registry_ = std::move(reg).value();
  }
  if (!registry_) {
    return FailedPreconditionError(registry_error_.empty()
                                       ? "the console has no model registry (--model-repo)"
                                       : registry_error_);
  }
  return registry_.get();
}

StatusOr<std::string> ConsoleData::Get(std::string_view path, std::string_view query) {
  if (path == "models") return Models();
  if (path == "runs") return Runs();
  if (path == "runs/compare") return Compare(query);
  if (path == "traffic") return Traffic();
  if (path == "monitor") return Monitor();
  if (path == "zones") return Zones();
  if (path == "series") return SeriesList();
  if (path == "surge") return Surge(query);
  auto rest_of = [&](std::string_view prefix, std::string_view* rest) {
    if (path.substr(0, prefix.size()) != prefix) return false;
    *rest = path.substr(prefix.size());
    return true;
  };
  std::string_view rest;
  if (rest_of("models/", &rest)) {
    const size_t slash = rest.find('/');
    const std::string model(rest.substr(0, slash));
    RETURN_IF_ERROR(CheckName("model", model));
    if (slash == std::string_view::npos) return Model(model);
    std::string_view tail = rest.substr(slash);
    if (tail.substr(0, 10) == "/versions/") return Version(model, tail.substr(10));
  } else if (rest_of("runs/", &rest)) {
    const std::string id(rest);
    RETURN_IF_ERROR(CheckName("run id", id));
    return Run(id);
  } else if (rest_of("series/", &rest)) {
    return Series(std::string(rest));
  }
  return NotFoundError("unknown console API path '" + std::string(path) + "'");
}

StatusOr<std::string> ConsoleData::Models() {
  ASSIGN_OR_RETURN(registry::Registry * reg, NeedRegistry());
  registry::MetadataStore& store = reg->store();
  // The store's index answers fast at any size; a model folder it has not indexed yet (written
  // around the registry, indexed by the next publish or `bimride models verify`) is read from
  // its manifests instead, so nothing on disk is left out.
  ASSIGN_OR_RETURN(std::vector<std::string> indexed, store.ListModels());
  ASSIGN_OR_RETURN(std::vector<std::string> on_disk, reg->repository().ListModels());
  std::set<std::string> names(indexed.begin(), indexed.end());
  names.insert(on_disk.begin(), on_disk.end());
  const std::set<std::string> in_store(indexed.begin(), indexed.end());
  json models = json::array();
  int64_t total = 0;
  for (const std::string& name : names) {
    std::vector<registry::VersionRecord> versions;
    if (in_store.count(name)) {
      ASSIGN_OR_RETURN(versions, store.ListVersions(name));
    } else {
      ASSIGN_OR_RETURN(registry::ModelScan scan, reg->repository().ScanModel(name));
      for (const registry::Manifest& m : scan.versions) {
        versions.push_back({m.name, m.version, "", m.run_id, m.task, m.backend, 0});
      }
    }
    ASSIGN_OR_RETURN(auto labels, store.GetLabels(name));
    json m = {{"name", name},
              {"versions", versions.size()},
              {"labels", labels},
              {"indexed", in_store.count(name) > 0}};
    total += static_cast<int64_t>(versions.size());
    if (!versions.empty()) {
      const registry::VersionRecord& latest = versions.back();
      m["latest_version"] = latest.version;
      m["task"] = latest.task;
      m["backend"] = latest.backend;
      m["updated"] = latest.created_time_ms > 0 ? json(UtcText(latest.created_time_ms)) : json();
    }
    models.push_back(std::move(m));
  }
  return Dump({{"models", models}, {"total_versions", total}});
}

StatusOr<std::string> ConsoleData::Model(const std::string& model) {
  ASSIGN_OR_RETURN(registry::Registry * reg, NeedRegistry());
  registry::MetadataStore& store = reg->store();
  ASSIGN_OR_RETURN(std::vector<registry::VersionRecord> versions, store.ListVersions(model));
  if (versions.empty()) {
    // Not indexed (see Models): its folder's manifests, NotFound naming it when there is none.
    ASSIGN_OR_RETURN(registry::ModelScan scan, reg->repository().ScanModel(model));
    for (const registry::Manifest& m : scan.versions) {
      versions.push_back({m.name, m.version, "", m.run_id, m.task, m.backend, 0});
    }
    if (versions.empty()) return NotFoundError("model '" + model + "' has no version");
  }
  ASSIGN_OR_RETURN(auto labels, store.GetLabels(model));
  ASSIGN_OR_RETURN(std::vector<registry::LabelMove> history, store.LabelHistory(model, ""));
  std::map<int64_t, std::vector<std::string>> labels_of;
  for (const auto& [label, v] : labels) labels_of[v].push_back(label);
  json vs = json::array();
  for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
    vs.push_back(
        {{"version", it->version},
         {"task", it->task},
         {"backend", it->backend},
         {"run_id", it->run_id},
         {"created", it->created_time_ms > 0 ? json(UtcText(it->created_time_ms)) : json()},
         {"labels", labels_of[it->version]}});
  }
  json audit = json::array();
  for (const registry::LabelMove& m : history) audit.push_back(MoveJson(m));
  return Dump({{"name", model}, {"labels", labels}, {"versions", vs}, {"history", audit}});
}

StatusOr<std::string> ConsoleData::Version(const std::string& model, std::string_view text) {
  ASSIGN_OR_RETURN(registry::Registry * reg, NeedRegistry());
  int64_t version = 0;
  if (!ParseVersion(text, &version)) {
    return InvalidArgumentError("version '" + std::string(text) + "' is not a positive integer");
  }
  ASSIGN_OR_RETURN(registry::Manifest m, reg->repository().LoadVersion(
                                             model, version, registry::VerifyMode::kManifestOnly));
  json j = json::parse(registry::ManifestToJson(m), nullptr, false);
  if (j.is_discarded()) return InternalError(model + " " + std::string(text) + ": manifest JSON");
  ASSIGN_OR_RETURN(auto labels, reg->store().GetLabels(model));
  json on = json::array();
  for (const auto& [label, v] : labels) {
    if (v == version) on.push_back(label);
  }
  return Dump({{"model", model}, {"version", version}, {"labels", on}, {"manifest", j}});
}

StatusOr<std::string> ConsoleData::Runs() {
  ASSIGN_OR_RETURN(registry::Registry * reg, NeedRegistry());
  ASSIGN_OR_RETURN(std::vector<registry::RunRecord> runs, reg->store().ListRuns({}));
  json out = json::array();
  for (const registry::RunRecord& r : runs) out.push_back(RunSummaryJson(r));
  return Dump({{"runs", out}});
}

StatusOr<std::string> ConsoleData::Run(const std::string& id) {
  ASSIGN_OR_RETURN(registry::Registry * reg, NeedRegistry());
  ASSIGN_OR_RETURN(registry::RunRecord r, reg->store().GetRun(id));
  return Dump(RunJson(r));
}

StatusOr<std::string> ConsoleData::Compare(std::string_view query) {
  ASSIGN_OR_RETURN(registry::Registry * reg, NeedRegistry());
  const std::string a = QueryValue(query, "a"), b = QueryValue(query, "b");
  if (a.empty() || b.empty()) {
    return InvalidArgumentError("runs/compare needs two runs: ?a=<run id>&b=<run id>");
  }
  RETURN_IF_ERROR(CheckName("run id", a));
  RETURN_IF_ERROR(CheckName("run id", b));
  ASSIGN_OR_RETURN(registry::RunRecord ra, reg->store().GetRun(a));
  ASSIGN_OR_RETURN(registry::RunRecord rb, reg->store().GetRun(b));
  std::set<std::string> keys;
  for (const auto& [k, v] : ra.params) keys.insert(k);
  for (const auto& [k, v] : rb.params) keys.insert(k);
  json differ = json::array();
  for (const std::string& k : keys) {
    auto ia = ra.params.find(k), ib = rb.params.find(k);
    const json va = ia == ra.params.end() ? json() : json(ia->second);
    const json vb = ib == rb.params.end() ? json() : json(ib->second);
    if (va != vb) differ.push_back({{"param", k}, {"a", va}, {"b", vb}});
  }
  return Dump({{"a", RunJson(ra)}, {"b", RunJson(rb)}, {"params_differ", differ}});
}

void ConsoleData::SampleTraffic() {
  if (service_ == nullptr) return;
  std::vector<serving::VersionTrafficSnapshot> now = service_->metrics().Snapshot();
  std::lock_guard<std::mutex> lock(traffic_mu_);
  latency_window_.Add(std::chrono::steady_clock::now(), now);
}

StatusOr<std::string> ConsoleData::Traffic() {
  if (service_ == nullptr) {
    return FailedPreconditionError("no live traffic: the console is not running in a server");
  }
  std::vector<serving::VersionTrafficSnapshot> now = service_->metrics().Snapshot();
  const auto t = std::chrono::steady_clock::now();
  double interval_s = 0;
  {
    std::lock_guard<std::mutex> lock(traffic_mu_);
    latency_window_.Add(t, now);
    // Rates against the previous sample once it is a second old, so that several pages open at
    // once do not shrink the interval to nothing.
    if (!last_sample_) {
      last_sample_ = std::make_unique<TrafficSample>(TrafficSample{t, now});
    } else if (t - last_sample_->at >= std::chrono::seconds(1)) {
      const double dt = std::chrono::duration<double>(t - last_sample_->at).count();
      std::map<std::pair<std::string, int64_t>, const serving::VersionTrafficSnapshot*> before;
      for (const auto& v : last_sample_->versions) before[{v.model, v.version}] = &v;
      rates_.clear();
      for (const auto& v : now) {
        auto it = before.find({v.model, v.version});
        const double ok0 = it == before.end() ? 0 : static_cast<double>(it->second->ok);
        const double err0 = it == before.end() ? 0 : static_cast<double>(it->second->errors);
        rates_[{v.model, v.version}] = {(static_cast<double>(v.ok) - ok0) / dt,
                                        (static_cast<double>(v.errors) - err0) / dt};
      }
      last_sample_ = std::make_unique<TrafficSample>(TrafficSample{t, now});
      interval_s = dt;
    }
  }
  std::map<std::string, double> model_rate;
  json versions = json::array();
  {
    std::lock_guard<std::mutex> lock(traffic_mu_);
    for (const auto& v : now) {
      auto it = rates_.find({v.model, v.version});
      const double ok_s = it == rates_.end() ? 0 : it->second.first;
      const double err_s = it == rates_.end() ? 0 : it->second.second;
      if (v.version > 0) model_rate[v.model] += ok_s + err_s;
      double window_s = 0;
      const LatencyWindow::Quantiles w = latency_window_.Of(t, v, &window_s);
      const auto ms = [](double seconds) { return seconds < 0 ? json() : Num(seconds * 1e3); };
      versions.push_back({{"model", v.model},
                          {"version", v.version},
                          {"requests", v.ok + v.errors},
                          {"errors", v.errors},
                          {"shadow", v.shadow},
                          {"requests_per_s", ok_s + err_s},
                          {"errors_per_s", err_s},
                          {"p50_ms", ms(w.p50)},
                          {"p90_ms", ms(w.p90)},
                          {"p99_ms", ms(w.p99)},
                          {"window_requests", w.requests},
                          {"window_s", Num(window_s)},
                          {"total_p50_ms", ms(serving::QuantileOfBuckets(v.latency_bounds, v.latency_buckets, 0.5))},
                          {"total_p90_ms", ms(serving::QuantileOfBuckets(v.latency_bounds, v.latency_buckets, 0.9))},
                          {"total_p99_ms", ms(serving::QuantileOfBuckets(v.latency_bounds, v.latency_buckets, 0.99))}});
    }
  }
  for (json& v : versions) {
    const double total = model_rate[v["model"].get<std::string>()];
    v["share"] = v["version"].get<int64_t>() > 0 && total > 0
                     ? json(v["requests_per_s"].get<double>() / total)
                     : json();
  }
  // Rollout steps: the latest label moves of the models being served.
  json moves = json::array();
  if (StatusOr<registry::Registry*> reg = NeedRegistry(); reg.ok()) {
    std::set<std::string> models;
    for (const auto& v : now) {
      if (v.version > 0) models.insert(v.model);
    }
    std::vector<registry::LabelMove> all;
    for (const std::string& m : models) {
      StatusOr<std::vector<registry::LabelMove>> h = (*reg)->store().LabelHistory(m, "");
      if (!h.ok()) continue;  // a model of the server that the registry does not know
      for (size_t i = 0; i < h->size() && i < 10; ++i) all.push_back((*h)[i]);
    }
    std::sort(all.begin(), all.end(), [](const auto& x, const auto& y) { return x.id > y.id; });
    for (size_t i = 0; i < all.size() && i < 10; ++i) moves.push_back(MoveJson(all[i]));
  }
  return Dump({{"time", UtcText(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count())},
               {"interval_s", interval_s},
               {"versions", versions},
               {"label_moves", moves}});
}

StatusOr<std::string> ConsoleData::Monitor() {
  if (service_ == nullptr || service_->live_monitor() == nullptr) {
    return FailedPreconditionError(
        "no live monitor: start the server with --prediction-log DIR (docs/monitoring.md)");
  }
  const monitoring::LiveMonitor& monitor = *service_->live_monitor();
  // Columnar per version: what the charts draw, without repeating keys per window.
  std::map<std::pair<std::string, int64_t>, json> by_version;
  json alerts = json::array();
  for (const monitoring::WindowAccuracy& w : monitor.Windows()) {
    json& v = by_version[{w.model, w.version}];
    if (v.is_null()) {
      v = {{"model", w.model},
           {"version", w.version},
           {"time", json::array()},
           {"window", json::array()},
           {"closed", json::array()},
           {"predicted", json::array()},
           {"labelled", json::array()},
           {"rmse", json::array()},
           {"mae", json::array()},
           {"bias", json::array()},
           {"estimated_rmse", json::array()},
           {"estimated_rows", json::array()},
           {"alarm", json::array()},
           {"drift", json::object()}};
      if (auto cal = monitor.Calibration(w.model, w.version)) {
        json th = json::object();
        for (const auto& [feature, t] : cal->thresholds) {
          for (int s = 0; s < monitoring::kDriftScores; ++s) {
            th[feature][std::string(monitoring::kDriftScoreNames[s])] = Num(t[s]);
          }
        }
        v["thresholds"] = th;
        v["calibration_window_rows"] = cal->window_rows;
      }
    }
    const int64_t n = static_cast<int64_t>(v["time"].size());
    v["time"].push_back(FormatCivil(w.first_time_us).substr(0, 19));
    v["window"].push_back(w.window);
    v["closed"].push_back(w.closed);
    v["predicted"].push_back(w.predicted_rows);
    v["labelled"].push_back(w.labelled_rows);
    const bool has = w.labelled_rows > 0;
    v["rmse"].push_back(has ? Num(w.metrics.rmse) : json());
    v["mae"].push_back(has ? Num(w.metrics.mae) : json());
    v["bias"].push_back(has ? Num(w.metrics.bias) : json());
    // Before labels, from the version's loss estimator (null for a version without one).
    v["estimated_rmse"].push_back(w.estimated_rows > 0 ? Num(w.estimated_rmse) : json());
    v["estimated_rows"].push_back(w.estimated_rows);
    v["alarm"].push_back(w.drift_alarm);
    for (const monitoring::FeatureDrift& d : w.drift) {
      // The charts plot the numeric scores (psi, js, ks, wasserstein); a declared category's
      // chi-square and JS distance are in /v1/monitor and /metrics, its alarms in the alerts.
      if (d.categorical) continue;
      json& f = v["drift"][d.feature];
      if (f.is_null()) {
        f = json::object();
        for (std::string_view s : monitoring::kDriftScoreNames) {
          // Windows before this feature appeared: null.
          f[std::string(s)] = json::array();
          for (int64_t k = 0; k < n; ++k) f[std::string(s)].push_back(nullptr);
        }
      }
      for (int s = 0; s < monitoring::kDriftScores; ++s) {
        f[std::string(monitoring::kDriftScoreNames[s])].push_back(Num(d.scores.value[s]));
      }
    }
    if (w.drift_alarm) {
      json above = json::array();
      for (const monitoring::FeatureDrift& d : w.drift) {
        if (!d.above.empty()) above.push_back({{"feature", d.feature}, {"scores", d.above}});
      }
      alerts.push_back({{"model", w.model},
                        {"version", w.version},
                        {"window", w.window},
                        {"time", FormatCivil(w.first_time_us).substr(0, 19)},
                        {"kind", "drift"},
                        {"above", above}});
    }
  }
  const monitoring::MonitorCounters c = monitor.counters();
  json versions = json::array();
  for (auto& [key, v] : by_version) versions.push_back(std::move(v));
  // Newest alerts first.
  std::reverse(alerts.begin(), alerts.end());
  std::stable_sort(alerts.begin(), alerts.end(), [](const json& x, const json& y) {
    return x["time"].get<std::string>() > y["time"].get<std::string>();
  });
  return Dump({{"window_rows", monitor.options().window_rows},
               {"counters",
                {{"predicted_rows", c.predicted_rows},
                 {"labels", c.labels},
                 {"joined", c.joined},
                 {"late", c.late},
                 {"missing", c.missing}}},
               {"versions", versions},
               {"alerts", alerts}});
}

std::vector<std::string> ConsoleData::SurgeModels() const {
  std::vector<std::string> out;
  if (service_ == nullptr) return out;
  std::set<std::string> models;
  for (const serving::RepositoryEntry& e : service_->RepositoryIndex()) models.insert(e.model);
  for (const std::string& m : models) {
    StatusOr<serving::ModelDescription> d = service_->DescribeModel(m, {});
    if (d.ok() && AnswersSurge(d->spec)) out.push_back(m);
  }
  return out;
}

bool ConsoleData::AnswersSurge(const serving::ServableSpec& spec) {
  auto has = [](const std::vector<std::string>& v, const char* x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  return has(spec.output_names, "multiplier") && has(spec.raw_fields, "zone") &&
         has(spec.raw_fields, "time");
}

StatusOr<std::string> ConsoleData::Surge(std::string_view query) {
  if (service_ == nullptr) {
    return FailedPreconditionError("no live surge: the console is not running in a server");
  }
  const std::string model = QueryValue(query, "model");
  std::string time = DecodeQueryValue(QueryValue(query, "time"));
  const std::string label = QueryValue(query, "label");
  if (model.empty() || time.empty()) {
    return InvalidArgumentError(
        "surge needs a served model and a time: ?model=<name>&time=YYYY-MM-DD HH:MM[&label=L]");
  }
  RETURN_IF_ERROR(CheckName("model", model));
  if (!label.empty()) RETURN_IF_ERROR(CheckName("label", label));
  std::replace(time.begin(), time.end(), 'T', ' ');
  StatusOr<int64_t> at = ParseCivil(time);
  if (!at.ok()) {
    return InvalidArgumentError("surge: time '" + time + "': " + at.status().message());
  }
  serving::VersionSelector selector;
  selector.label = label;
  ASSIGN_OR_RETURN(serving::ModelDescription d, service_->DescribeModel(model, selector));
  const serving::ServableSpec& spec = d.spec;
  if (!AnswersSurge(spec)) {
    return FailedPreconditionError("model '" + model + "' version " + std::to_string(spec.version) +
                                   " does not answer a multiplier per zone and time (raw fields "
                                   "zone and time, an output named multiplier)");
  }
  // The zones it prices: its manifest's property "zones" (ids 1..N).
  const std::string manifest_path = spec.dir + "/manifest.json";
  ASSIGN_OR_RETURN(std::string manifest_text, ReadFile(manifest_path));
  ASSIGN_OR_RETURN(registry::Manifest manifest,
                   registry::ManifestFromJson(manifest_text, manifest_path));
  auto zp = manifest.properties.find("zones");
  int64_t zones = 0;
  if (zp == manifest.properties.end() || !ParseVersion(zp->second, &zones) || zones > 100000) {
    return FailedPreconditionError(manifest_path +
                                   ": no property 'zones' (the zone ids 1..N it prices)");
  }
  // One quote per zone through the same Service::Predict the HTTP endpoint calls, pinned to the
  // version described (so every zone is priced by one version).
  serving::PredictRequest request;
  request.model = model;
  request.selector.version = spec.version;
  request.request_id = "console-surge-" + service_->NewRequestId();
  const std::string when = FormatCivil(*at).substr(0, 16);
  // preview = 1: the console looks; it does not fix any bucket's multiplier (docs/pricing.md).
  serving::RawColumn zone_col{"zone", {}}, time_col{"time", {}}, preview_col{"preview", {}};
  std::vector<int32_t> ids;
  for (int64_t z = 1; z <= zones; ++z) {
    ids.push_back(static_cast<int32_t>(z));
    zone_col.values.emplace_back(static_cast<double>(z));
    time_col.values.emplace_back(when);
    preview_col.values.emplace_back(1.0);
  }
  request.input.rows = zones;
  request.input.raw.rows = zones;
  request.input.raw.columns = {std::move(zone_col), std::move(time_col), std::move(preview_col)};
  std::promise<StatusOr<serving::PredictResult>> answered;
  std::future<StatusOr<serving::PredictResult>> answer = answered.get_future();
  service_->Predict(std::move(request), [&answered](StatusOr<serving::PredictResult> r) {
    answered.set_value(std::move(r));
  });
  StatusOr<serving::PredictResult> result = answer.get();
  if (!result.ok()) {
    return Status(result.status().code(),
                  "surge: model '" + model + "': " + std::string(result.status().message()));
  }
  const std::vector<std::string>& outputs = result->servable->spec().output_names;
  const size_t width = outputs.size();
  const size_t col = static_cast<size_t>(std::find(outputs.begin(), outputs.end(), "multiplier") -
                                         outputs.begin());
  if (col >= width || result->values.size() != width * static_cast<size_t>(zones)) {
    return InternalError("surge: model '" + model + "' answered no multiplier per zone");
  }
  ZoneSeries s;
  s.name = "surge";
  s.title = "surge multiplier per zone (live: " + model + " version " +
            std::to_string(result->version()) + ")";
  s.unit = "x";
  s.times = {when};
  s.zones = std::move(ids);
  for (int64_t z = 0; z < zones; ++z) {
    s.values.push_back(result->values[static_cast<size_t>(z) * width + col]);
  }
  json j = json::parse(ZoneSeriesToJson(s));
  j["model"] = model;
  j["version"] = result->version();
  j["request_id"] = result->request_id;
  return Dump(j);
}

StatusOr<std::string> ConsoleData::Zones() {
  std::lock_guard<std::mutex> lock(zones_mu_);
  if (!zones_tried_) {
    zones_tried_ = true;
    const std::string dir =
        options_.zones_dir.empty() ? DefaultDataPath("zones") : options_.zones_dir;
    if (dir.empty()) {
      zones_json_ = FailedPreconditionError(
          "no taxi-zone shapefile: no data folder ($BIMRIDE_DATA_DIR) and no --zones DIR");
    } else {
      StatusOr<data::ZoneIndex> zones = data::ZoneIndex::Load(dir);
      zones_json_ = zones.ok() ? StatusOr<std::string>(ZonesGeoJson(*zones))
                               : StatusOr<std::string>(zones.status());
    }
  }
  return zones_json_;
}

StatusOr<std::string> ConsoleData::SeriesList() {
  json out = json::array();
  json live = json::array();
  for (const std::string& m : SurgeModels()) live.push_back(m);
  for (const auto& [name, s] : series_) {
    out.push_back({{"name", name},
                   {"title", s.title},
                   {"unit", s.unit},
                   {"zones", s.zones.size()},
                   {"times", s.times.size()},
                   {"first", s.times.front()},
                   {"last", s.times.back()}});
  }
  return Dump({{"series", out}, {"surge_models", live}});
}

StatusOr<std::string> ConsoleData::Series(const std::string& name) {
  RETURN_IF_ERROR(CheckSeriesName(name));
  auto it = series_.find(name);
  if (it == series_.end()) return NotFoundError("no zone series named '" + name + "'");
  return ZoneSeriesToJson(it->second);
}

StatusOr<std::vector<std::string>> ConsoleData::ExportPaths(int versions_per_model) {
  std::vector<std::string> paths = {"zones", "series"};
  for (const auto& [name, s] : series_) paths.push_back("series/" + name);
  if (service_ != nullptr) paths.push_back("traffic");
  if (service_ != nullptr && service_->live_monitor() != nullptr) paths.push_back("monitor");
  if (StatusOr<registry::Registry*> reg = NeedRegistry(); reg.ok()) {
    paths.push_back("models");
    paths.push_back("runs");
    // What the pages list, so every link of an exported page has its data.
    ASSIGN_OR_RETURN(std::string models_text, Models());
    const json models = json::parse(models_text);
    for (const json& m : models["models"]) {
      const std::string name = m["name"].get<std::string>();
      paths.push_back("models/" + name);
      ASSIGN_OR_RETURN(std::string model_text, Model(name));
      const json model = json::parse(model_text);
      int n = 0;
      for (const json& v : model["versions"]) {  // newest first
        if (n++ < versions_per_model || !v["labels"].empty()) {
          paths.push_back("models/" + name + "/versions/" +
                          std::to_string(v["version"].get<int64_t>()));
        }
      }
    }
    ASSIGN_OR_RETURN(std::vector<registry::RunRecord> runs, (*reg)->store().ListRuns({}));
    for (const registry::RunRecord& r : runs) paths.push_back("runs/" + r.run_id);
  }
  return paths;
}

}  // namespace bimride::console
