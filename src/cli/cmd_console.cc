// `bimride console`: the web console's offline side — a static export of its pages and data, and
// the per-zone series its maps draw. (The live console is served by `bimride serve` at /ui/.)
#include <cstdio>
#include <filesystem>

#include "cli/command.h"
#include "common/file.h"
#include "console/console_export.h"
#include "console/zone_series.h"
#include "data/trip_loader.h"
#include "registry/registry.h"

namespace bimride::cli {
namespace {

std::string DefaultUiDir() {
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("ui") : (exe.parent_path() / "ui").string();
}

int RunExport(const std::vector<std::string>& args) {
  FlagParser flags("bimride console export",
                   "Write the web console as static files to DIR: the pages, and the registry's "
                   "models, versions, labels, audit log and runs, the zone map and its series "
                   "as of now (open DIR/index.html, or serve DIR with any web server).");
  std::vector<std::string> out;
  std::string repo = registry::DefaultRepositoryRoot(), db, ui_dir = DefaultUiDir(), ui_data,
              zones;
  flags.SetPositional("DIR", &out, "output folder", 1, 1);
  flags.AddString("model-repo", &repo, "model repository");
  flags.AddString("db", &db, "registry metadata store (path or postgresql:// URL)");
  flags.AddString("ui-dir", &ui_dir, "the console's built pages");
  flags.SetDefaultText("ui-dir", "ui/ beside the bimride binary");
  flags.AddString("ui-data", &ui_data, "folder of <name>.series.json zone series");
  flags.AddString("zones", &zones, "folder of the taxi-zone shapefile");
  flags.SetDefaultText("zones", "zones/ of the data folder ($BIMRIDE_DATA_DIR)");
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  auto assets = console::LoadAssets(ui_dir);
  if (!assets.ok()) return ReportError(assets.status());
  console::ConsoleOptions co;
  co.model_repo = repo;
  co.registry_db = db;
  co.zones_dir = zones;
  co.data_dir = ui_data;
  auto data = console::ConsoleData::Open(co, nullptr);
  if (!data.ok()) return ReportError(data.status());
  auto report = console::ExportConsole(**data, *assets, out[0]);
  if (!report.ok()) return ReportError(report.status());
  // Every skipped path is in the count; the first few say why.
  for (size_t i = 0; i < report->skipped.size() && i < 5; ++i) {
    std::fprintf(stderr, "skipped %s\n", report->skipped[i].c_str());
  }
  if (report->skipped.size() > 5) {
    std::fprintf(stderr, "… and %zu more skipped\n", report->skipped.size() - 5);
  }
  std::printf("exported the console to %s: %zu data files (%zu skipped), open %s/index.html\n",
              out[0].c_str(), report->written.size(), report->skipped.size(), out[0].c_str());
  return kExitOk;
}

int RunSeries(const std::vector<std::string>& args) {
  FlagParser flags("bimride console series",
                   "Write a per-zone series for the console's maps as OUT_DIR/<name>.series.json: "
                   "pickups per zone and hour of trip files (--trips), or a CSV table (--csv: "
                   "zone,time,value or zone then one column per time, as `bimride forecast` "
                   "prints; surge multipliers, `eval eta --zone-errors` with --column mae, …).");
  std::string name, csv, title, unit, out_dir, layout, column = "value";
  std::vector<std::string> trips;
  flags.AddString("name", &name, "series name ([A-Za-z0-9_.-])");
  flags.AddStringList("trips", &trips, "trip files: count pickups per zone and hour");
  flags.AddString("csv", &csv, "a zone table to import");
  flags.AddString("column", &column, "--csv: the column holding the values (long form)");
  flags.AddString("title", &title, "title shown on the map");
  flags.AddString("unit", &unit, "unit of the values");
  flags.AddString("out", &out_dir, "the console's data folder (bimride serve --ui-data)");
  flags.AddString("layout", &layout, "layout file for trip files of another provider");
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  if (name.empty() || out_dir.empty() || trips.empty() == csv.empty()) {
    std::fprintf(stderr, "bimride console series: need --name, --out and one of --trips, --csv\n");
    return kExitUsage;
  }
  StatusOr<console::ZoneSeries> series = InvalidArgumentError("unset");
  if (!trips.empty()) {
    data::LoadTripsOptions load;
    load.layout_file = layout;
    auto table = data::LoadTrips(trips, load);
    if (!table.ok()) return ReportError(table.status());
    series = console::PickupsPerZoneHour(*table, name);
    if (series.ok() && !title.empty()) series->title = title;
  } else {
    series = console::ReadZoneSeriesCsv(csv, name, title, unit, column);
  }
  if (!series.ok()) return ReportError(series.status());
  if (Status st = MakeDirs(out_dir); !st.ok()) return ReportError(st);
  const std::string path = out_dir + "/" + name + ".series.json";
  if (Status st = WriteFileAtomic(path, console::ZoneSeriesToJson(*series)); !st.ok()) {
    return ReportError(st);
  }
  if (series->times.size() == 1 && series->times[0].empty()) {
    std::printf("wrote %s: %zu zones, one value each (no time)\n", path.c_str(),
                series->zones.size());
  } else {
    std::printf("wrote %s: %zu zones x %zu times (%s to %s)\n", path.c_str(),
                series->zones.size(), series->times.size(), series->times.front().c_str(),
                series->times.back().c_str());
  }
  return kExitOk;
}

int RunConsole(const std::vector<std::string>& args) {
  static const std::vector<CommandInfo> kVerbs = {
      {"export", "the console as static files (pages and data as of now)", RunExport},
      {"series", "a per-zone series for the maps (pickups from trips, or a CSV table)",
       RunSeries},
  };
  return DispatchVerbs("bimride console",
                       "The web console (live at /ui/ of `bimride serve`): static export and "
                       "map series.",
                       kVerbs, args);
}

}  // namespace

BIMRIDE_COMMAND("console", "web console: static export, map series (live at serve's /ui/)",
                RunConsole);

}  // namespace bimride::cli
