// `bimride data inspect|convert`: thin shells over data/trip_loader.h.
#include <cstdio>

#include "cli/command.h"
#include "data/trip_loader.h"

namespace bimride::cli {
namespace {

int RunInspect(const std::vector<std::string>& args) {
  FlagParser flags("bimride data inspect",
                   "Describe trip files: for Parquet the schema with types, rows, row groups, "
                   "nulls and min/max per column; for CSV the detected layout and rows; for both "
                   "the validation rule counts.");
  std::vector<std::string> files;
  std::string zones, layout;
  bool no_validate = false;
  flags.SetPositional("FILE", &files, "trip files (Parquet, CSV, gzip CSV)", 1);
  flags.AddString("zones", &zones,
                  "taxi-zone folder for coordinate sources (default $BIMRIDE_DATA_DIR/zones, else the shared data folder)");
  flags.AddBool("no-validate", &no_validate, "skip validation (malformed records are errors)");
  flags.AddString("layout", &layout, data::kLayoutFlagHelp);
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  data::LoadTripsOptions options;
  options.zones_dir = zones;
  options.layout_file = layout;
  options.validate = !no_validate;
  for (const std::string& file : files) {
    StatusOr<std::string> text = data::DescribeTripFile(file, options);
    if (!text.ok()) return ReportError(text.status());
    std::fputs(text->c_str(), stdout);
  }
  return kExitOk;
}

std::string DefaultQuarantinePath(const std::string& out) {
  size_t slash = out.find_last_of('/');
  size_t dot = out.find_last_of('.');
  std::string stem = (dot != std::string::npos && (slash == std::string::npos || dot > slash))
                         ? out.substr(0, dot)
                         : out;
  return stem + ".quarantine.csv";
}

int RunConvert(const std::vector<std::string>& args) {
  FlagParser flags("bimride data convert",
                   "Convert trip files (TLC Parquet/CSV, Kaggle, Uber, bimride CSV) into one "
                   "file chosen by OUT's extension (.csv or .parquet), validated; prints the "
                   "validation report. Quarantined rows go to --quarantine (default "
                   "OUT-stem.quarantine.csv), never silently away.");
  std::vector<std::string> paths;
  std::string quarantine, zones, layout;
  bool no_validate = false;
  flags.SetPositional("IN... OUT", &paths, "input files, then the output file", 2);
  flags.AddString("quarantine", &quarantine, "where quarantined rows go (.csv or .parquet)");
  flags.AddString("zones", &zones,
                  "taxi-zone folder for coordinate sources (default $BIMRIDE_DATA_DIR/zones, else the shared data folder)");
  flags.AddBool("no-validate", &no_validate, "keep every row (malformed records are errors)");
  flags.AddString("layout", &layout, data::kLayoutFlagHelp);
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  const std::string out = paths.back();
  paths.pop_back();
  data::LoadTripsOptions options;
  options.zones_dir = zones;
  options.layout_file = layout;
  options.validate = !no_validate;
  StatusOr<data::LoadedTrips> loaded = data::LoadTripsWithReport(paths, options);
  if (!loaded.ok()) return ReportError(loaded.status());
  if (Status s = data::SaveTrips(loaded->trips, out); !s.ok()) return ReportError(s);
  for (const data::FileLoadReport& f : loaded->files) {
    std::printf("%s: %s, read %lld, kept %lld, quarantined %lld\n", f.path.c_str(),
                f.format.c_str(), static_cast<long long>(f.report.read),
                static_cast<long long>(f.report.kept),
                static_cast<long long>(f.report.quarantined));
  }
  if (!no_validate) std::fputs(loaded->report.ToString().c_str(), stdout);
  if (loaded->quarantine.size() > 0 || !quarantine.empty()) {
    if (quarantine.empty()) quarantine = DefaultQuarantinePath(out);
    if (Status s = data::SaveQuarantine(loaded->quarantine, quarantine); !s.ok()) {
      return ReportError(s);
    }
    std::printf("quarantine: %zu rows -> %s\n", loaded->quarantine.size(), quarantine.c_str());
  }
  std::printf("wrote %zu trips -> %s\n", loaded->trips.size(), out.c_str());
  return kExitOk;
}

int RunData(const std::vector<std::string>& args) {
  return DispatchVerbs("bimride data", "Read, inspect, validate and convert trip data.",
                       {{"inspect", "describe trip files (schema, layout, rows, rule counts)",
                         RunInspect},
                        {"convert", "convert trip files to .csv/.parquet, validated", RunConvert}},
                       args);
}

}  // namespace

BIMRIDE_COMMAND("data", "read, inspect, validate and convert trip data", RunData);

}  // namespace bimride::cli
