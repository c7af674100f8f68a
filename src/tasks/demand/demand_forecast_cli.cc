#include "tasks/demand/demand_cli.h"

#include <cstdio>
#include <filesystem>

#include "cli/command.h"
#include "common/civil_time.h"
#include "common/file.h"
#include "data/trip_loader.h"
#include "registry/registry.h"
#include "tasks/demand/demand_forecast.h"

namespace bimride::tasks::demand {
namespace {

using cli::kExitOk;
using cli::kExitUsage;
using cli::ParseFlagsOrExit;
using cli::ReportError;

// A folder holding manifest.json, or a registry reference resolved in `repo`.
StatusOr<std::string> ResolveModelDir(const std::string& model, const std::string& repo) {
  if (FileExists(model + "/" + registry::kManifestFileName)) return model;
  if (std::filesystem::is_directory(model)) {
    return NotFoundError(model + ": folder has no " + registry::kManifestFileName);
  }
  ASSIGN_OR_RETURN(registry::ModelRef ref, registry::ParseModelRef(model));
  if (!std::filesystem::is_directory(repo)) {
    return NotFoundError("--model " + model + ": no folder of that name, and no registry at '" +
                         repo + "'");
  }
  registry::RegistryOptions options;
  options.read_only = FileExists(registry::DefaultDatabasePath(repo));
  ASSIGN_OR_RETURN(auto reg, registry::Registry::Open(repo, options));
  ASSIGN_OR_RETURN(int64_t version, reg->Resolve(ref));
  return reg->repository().VersionDir(ref.model, version);
}

StatusOr<std::vector<int32_t>> ParseZones(const std::vector<std::string>& items) {
  std::vector<int32_t> zones;
  for (const std::string& item : items) {
    size_t pos = 0;
    while (pos <= item.size()) {
      size_t comma = item.find(',', pos);
      if (comma == std::string::npos) comma = item.size();
      const std::string z = item.substr(pos, comma - pos);
      char* end = nullptr;
      const long v = std::strtol(z.c_str(), &end, 10);
      if (z.empty() || *end != '\0' || v <= 0 || v > 1000000) {
        return InvalidArgumentError("--zones: '" + z + "' is not a zone id");
      }
      zones.push_back(static_cast<int32_t>(v));
      pos = comma + 1;
    }
  }
  return zones;
}

}  // namespace

int RunForecast(const std::vector<std::string>& args) {
  FlagParser flags("bimride forecast",
                   "Demand forecasts per zone for the next H buckets from TIME, with a published "
                   "demand model and the trips of the week before TIME.");
  std::string model, at, repo = registry::DefaultRepositoryRoot(), zones_dir, layout;
  std::vector<std::string> zone_items, history;
  flags.AddString("model", &model, "model version folder, or registry ref: demand[:N|:label]",
                  true);
  flags.AddString("at", &at, "forecast time 'YYYY-MM-DD HH:MM' (floored to the model's bucket)",
                  true);
  flags.AddStringList("history", &history, "trip files covering the week before --at", true);
  flags.AddStringList("zones", &zone_items, "zone ids (default: every zone of the model)");
  flags.AddString("repo", &repo, "model repository for registry refs");
  flags.AddString("zones-dir", &zones_dir, "taxi zone shapefile folder for coordinate sources");
  flags.AddString("layout", &layout, data::kLayoutFlagHelp);
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  auto t = ParseCivil(at);
  if (!t.ok()) return ReportError(InvalidArgumentError("--at: " + t.status().message()), true);
  auto zones = ParseZones(zone_items);
  if (!zones.ok()) return ReportError(zones.status(), true);

  auto dir = ResolveModelDir(model, repo);
  if (!dir.ok()) return ReportError(dir.status());
  auto forecaster = DemandForecaster::Open(*dir);
  if (!forecaster.ok()) return ReportError(forecaster.status());
  data::LoadTripsOptions load;
  load.zones_dir = zones_dir;
  load.layout_file = layout;
  auto trips = data::LoadTrips(history, load);
  if (!trips.ok()) return ReportError(trips.status());
  features::DemandGridReport report;
  auto forecasts = (*forecaster)->ForecastFromTrips(*trips, *t, *zones, &report);
  if (!forecasts.ok()) return ReportError(forecasts.status());

  const int64_t start = (*forecaster)->FloorToBucket(*t);
  const int64_t width = static_cast<int64_t>((*forecaster)->bucket_minutes()) * kMicrosPerMinute;
  const registry::Manifest& m = (*forecaster)->manifest();
  std::printf(
      "# %s version %lld (%s), forecasts from %s, %d-minute buckets; history: %lld "
      "pickups counted\n",
      m.name.c_str(), static_cast<long long>(m.version), m.backend.c_str(),
      FormatCivil(start).c_str(), (*forecaster)->bucket_minutes(),
      static_cast<long long>(report.counted));
  std::printf("zone,last_3_buckets");
  for (int h = 0; h < (*forecaster)->horizons(); ++h) {
    std::printf(",%s", FormatCivil(start + h * width).substr(0, 16).c_str());
  }
  std::printf("\n");
  for (const ZoneForecast& f : *forecasts) {
    std::string recent;
    for (float c : f.recent)
      recent += (recent.empty() ? "" : " ") + std::to_string(static_cast<int>(c));
    std::printf("%d,%s", f.zone, recent.c_str());
    for (float v : f.forecast) std::printf(",%.2f", v);
    std::printf("\n");
  }
  return kExitOk;
}

}  // namespace bimride::tasks::demand
