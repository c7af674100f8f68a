// `bimride replay eta …`: streams real trip files through a running model server as riders'
// apps would (#13 item 6): each trip's raw fields are a request at its pickup time, its real
// duration a label posted to /v1/feedback when it ends (its dropoff time), on a clock `--speedup`
// times faster than real time. The load generator and the demonstration of the monitoring loop.
// Thin: the trips come from the ETA task (the same loader and filter as `train/eval eta`), the
// driving from serving/http/replay.h.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "cli/command.h"
#include "common/data_dir.h"
#include "data/zone_index.h"
#include "serving/http/replay.h"
#include "tasks/eta/eta_dataset.h"
#include "tasks/eta/eta_serving.h"

namespace bimride::cli {
namespace {

int RunReplayEta(const std::vector<std::string>& args) {
  FlagParser flags("bimride replay eta",
                   "Replay trip files through a running server in pickup-time order: a predict "
                   "request per trip (x-request-id trip-<n>) and its real duration in minutes "
                   "posted to /v1/feedback when the trip ends.");
  std::string host = "127.0.0.1", model = "eta", label, zones_dir = DefaultDataPath("zones");
  std::string id_prefix = "trip-";
  std::vector<std::string> data_files;
  int64_t port = 8501, limit = 0, skip = 0, feedback_batch = 500;
  double speedup = 0, min_minutes = 1, max_minutes = 60;
  bool no_validate = false, no_feedback = false;
  flags.AddStringList("data", &data_files, "trip files (Parquet or CSV)", true);
  flags.AddString("host", &host, "server address");
  flags.AddInt("port", &port, "server port");
  flags.AddString("model", &model, "model name");
  flags.AddString("label", &label, "send to this label (/labels/<label>) instead of the default");
  flags.AddDouble("speedup", &speedup,
                  "simulated seconds per wall second (3600: an hour a second); 0: as fast as the "
                  "server answers");
  flags.AddInt("limit", &limit, "replay at most this many trips (0: all)");
  flags.AddInt("skip", &skip, "skip this many trips (in pickup order) first");
  flags.AddInt("feedback-batch", &feedback_batch, "labels per /v1/feedback POST");
  flags.AddString("id-prefix", &id_prefix,
                  "request ids are <prefix><n> (n: the trip's place in pickup order); give each "
                  "replay into one server its own, or a label joins an earlier replay's request");
  flags.AddBool("no-feedback", &no_feedback, "send requests only, no labels");
  flags.AddString("zones", &zones_dir,
                  "taxi zone shapefile folder, or 'none' (default $BIMRIDE_DATA_DIR/zones, else "
                  "the shared data folder)");
  flags.AddDouble("min-minutes", &min_minutes, "duration filter: shortest trip kept (minutes)");
  flags.AddDouble("max-minutes", &max_minutes, "duration filter: longest trip kept (minutes)");
  flags.AddBool("no-validate", &no_validate, "keep every row the reader parses");
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  if (port <= 0 || port > 65535) {
    return ReportError(InvalidArgumentError("--port must be 1..65535"), true);
  }
  if (limit < 0 || skip < 0) {
    return ReportError(InvalidArgumentError("--limit and --skip must be >= 0"), true);
  }
  std::optional<data::ZoneIndex> zones;
  if (!zones_dir.empty() && zones_dir != "none") {
    auto z = data::ZoneIndex::Load(zones_dir);
    if (!z.ok()) return ReportError(z.status());
    zones = std::move(z).value();
  }
  tasks::eta::EtaDatasetOptions o;
  o.min_minutes = min_minutes;
  o.max_minutes = max_minutes;
  o.validate = !no_validate;
  auto d = tasks::eta::LoadEtaDataset(data_files, zones ? &*zones : nullptr, o);
  if (!d.ok()) return ReportError(d.status());
  std::printf("trips: %s\n", d->report.ToString().c_str());
  std::vector<size_t> order(d->trips.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return d->trips.pickup_time_us[a] < d->trips.pickup_time_us[b];
  });
  const size_t first = std::min(order.size(), static_cast<size_t>(skip));
  const size_t last =
      limit > 0 ? std::min(order.size(), first + static_cast<size_t>(limit)) : order.size();
  std::vector<serving::http::ReplayEvent> events;
  events.reserve(last - first);
  for (size_t k = first; k < last; ++k) {
    const size_t i = order[k];
    events.push_back({d->trips.pickup_time_us[i], d->trips.dropoff_time_us[i],
                      id_prefix + std::to_string(k),
                      "{\"instances\": [" + tasks::eta::EtaInstanceJson(d->trips, i) + "]}",
                      d->minutes[i], !no_feedback});
  }
  serving::http::ReplayOptions ro;
  ro.host = host;
  ro.port = static_cast<int>(port);
  ro.target = "/v1/models/" + model + (label.empty() ? "" : "/labels/" + label) + ":predict";
  ro.speedup = speedup;
  ro.feedback_batch = feedback_batch;
  std::printf("replaying %zu trips to %s:%lld%s (speed-up %s)\n", events.size(), host.c_str(),
              static_cast<long long>(port), ro.target.c_str(),
              speedup > 0 ? std::to_string(speedup).c_str() : "none");
  std::fflush(stdout);
  auto stats = serving::http::RunReplay(std::move(events), ro);
  if (!stats.ok()) return ReportError(stats.status());
  std::printf("sent %lld requests in %.1f s (%.0f/s): %lld answered, %lld failed; %lld labels "
              "posted (%lld joined at once, %lld waited for their prediction)\n",
              static_cast<long long>(stats->sent), stats->wall_seconds,
              stats->sent / std::max(1e-9, stats->wall_seconds),
              static_cast<long long>(stats->answered_ok), static_cast<long long>(stats->failed),
              static_cast<long long>(stats->labels_posted),
              static_cast<long long>(stats->labels_joined),
              static_cast<long long>(stats->labels_waiting));
  if (!stats->first_error.empty()) std::printf("first failure: %s\n", stats->first_error.c_str());
  return stats->failed == 0 && stats->feedback_failures == 0 ? kExitOk : kExitFailure;
}

int RunReplay(const std::vector<std::string>& args) {
  return DispatchVerbs("bimride replay",
                       "Replay real data through a running model server (requests and labels).",
                       RegisteredVerbs("replay"), args);
}

}  // namespace

BIMRIDE_VERB("replay", "eta", "replay trip files as ETA requests and duration labels",
             RunReplayEta);
BIMRIDE_COMMAND("replay", "replay real data through a running server (eta)", RunReplay);

}  // namespace bimride::cli
