// ConsoleData: the JSON the web console's pages read (served under /ui/api/ by ConsoleHandler,
// written to files by ExportConsole). Each answer is a thin rendering of library calls:
//
//   models                       registry::MetadataStore: every model, its version count,
//                                latest version, task, backend and labels
//   models/{m}                   its versions (newest first, with labels) and label audit log
//   models/{m}/versions/{v}      the version's manifest (registry::ModelRepository, manifest
//                                check only — no sha256 of the files on a page view)
//   runs                         tracked runs, newest first, with params and latest metrics
//   runs/{id}                    one run: params, tags, data, code, every metric point
//   runs/compare?a={id}&b={id}   two runs side by side and the params that differ
//   traffic                      per model and version: requests and errors (totals and per
//                                second since the previous sample ≥ 1 s ago), latency p50/p90/
//                                p99 over the last `latency_window_s` (console/latency_window.h;
//                                `window_s` says how long it really was, null with no request
//                                in it) and since start (`total_p50_ms`…), canary split (each
//                                version's share of its model's requests in that interval), and
//                                the latest label moves
//   monitor                      live monitor: per version, windows over time (accuracy, drift
//                                scores per feature) with the calibrated thresholds; alerts
//   zones                        the TLC zones as GeoJSON (console/zone_geojson.h)
//   series, series/{name}        the per-zone series of the data folder (console/zone_series.h);
//                                `series` also lists `surge_models`: the served models that
//                                answer a multiplier per zone and time (below)
//   surge?model=M&time=T[&label=L]  each zone's current multiplier, asked of the server: one
//                                Service::Predict (what POST /v1/models/M:predict calls) with
//                                rows {zone, time} for zones 1..N, N from the version's manifest
//                                property "zones"; for a model with raw fields zone and time and
//                                an output "multiplier" (pricing). Answered as a one-time zone
//                                series plus model and version. Asked with preview = 1, so it fixes
//                                no bucket's multiplier; like any prediction it is logged and
//                                counted (docs/pricing.md).
//
// Errors: NotFound for an unknown path, model, version, run or series; InvalidArgument for a
// malformed name, version or query; FailedPrecondition for a part the console was not given
// (no registry, no server, no live monitor, no zone shapefile) — each naming what is missing.
// Thread safety: Get may be called from many threads at once.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "console/latency_window.h"
#include "console/zone_series.h"
#include "registry/registry.h"
#include "serving/service.h"

namespace bimride::console {

struct ConsoleOptions {
  std::string model_repo;  // the registry; empty: no registry pages
  std::string registry_db;  // its metadata store (registry::RegistryOptions::db_path)
  std::string zones_dir;   // taxi_zones.shp …; empty: the default data folder's zones/
  std::string data_dir;    // <name>.series.json files for the maps; empty: none
  int latency_window_s = 10;  // the traffic page's latency quantiles are over this many seconds
};

class ConsoleData {
 public:
  // `service` may be null (a static export of the registry): traffic and monitor then answer
  // FailedPrecondition. Errors: a data folder whose series files do not parse (naming the file).
  // The zones are read here (a missing shapefile is an error of `zones` only).
  static StatusOr<std::unique_ptr<ConsoleData>> Open(const ConsoleOptions& options,
                                                     serving::Service* service);

  // `path` below /ui/api/ ("models/eta"), `query` the text after '?' (may be empty).
  StatusOr<std::string> Get(std::string_view path, std::string_view query);

  // Records the serving metrics' latency counts now (at most once a second), so the traffic's
  // latency window has its baseline even when no page asked for a while. Reads counters only.
  void SampleTraffic();

  // The paths a static export writes: every page's data, except manifests of versions that are
  // neither labelled nor among a model's `versions_per_model` newest.
  StatusOr<std::vector<std::string>> ExportPaths(int versions_per_model = 5);

 private:
  ConsoleData(ConsoleOptions options, serving::Service* service)
      : options_(std::move(options)),
        service_(service),
        latency_window_(std::chrono::seconds(options_.latency_window_s)) {}
  StatusOr<std::string> Models();
  StatusOr<std::string> Model(const std::string& model);
  StatusOr<std::string> Version(const std::string& model, std::string_view version);
  StatusOr<std::string> Runs();
  StatusOr<std::string> Run(const std::string& id);
  StatusOr<std::string> Compare(std::string_view query);
  StatusOr<std::string> Traffic();
  StatusOr<std::string> Monitor();
  StatusOr<std::string> Zones();
  StatusOr<std::string> SeriesList();
  StatusOr<std::string> Series(const std::string& name);
  StatusOr<std::string> Surge(std::string_view query);
  std::vector<std::string> SurgeModels() const;
  static bool AnswersSurge(const serving::ServableSpec& spec);
  StatusOr<registry::Registry*> NeedRegistry();

  const ConsoleOptions options_;
  serving::Service* const service_;
  std::mutex registry_mu_;  // guards registry_ being set (once); the Registry is thread-safe
  std::unique_ptr<registry::Registry> registry_;
  std::string registry_error_;  // why there is no registry_, when one was asked for
  std::map<std::string, ZoneSeries> series_;  // by name

  std::mutex zones_mu_;
  bool zones_tried_ = false;
  StatusOr<std::string> zones_json_ = FailedPreconditionError("zones not loaded");

  // Traffic rates: the previous sample and the rates measured against it.
  struct TrafficSample {
    std::chrono::steady_clock::time_point at;
    std::vector<serving::VersionTrafficSnapshot> versions;
  };
  std::mutex traffic_mu_;
  std::unique_ptr<TrafficSample> last_sample_;
  std::map<std::pair<std::string, int64_t>, std::pair<double, double>> rates_;  // ok/s, errors/s
  LatencyWindow latency_window_;  // guarded by traffic_mu_
};

}  // namespace bimride::console
