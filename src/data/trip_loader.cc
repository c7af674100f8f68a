#include "data/trip_loader.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>

#include "common/data_dir.h"
#include "common/file.h"
#include "common/logging.h"
#include "data/csv_reader.h"
#include "data/trip_csv.h"
#include "data/trip_layout_file.h"
#include "data/trip_parquet.h"

namespace bimride::data {
namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Loads the zone index on first need.
class LazyZones {
 public:
  explicit LazyZones(const LoadTripsOptions& options) : options_(options) {}
  StatusOr<const ZoneIndex*> Get() {
    if (options_.zones) return options_.zones;
    if (!owned_) {
      std::string dir = options_.zones_dir;
      if (dir.empty()) dir = DefaultDataPath("zones");
      if (dir.empty()) {
        return FailedPreconditionError(
            "coordinates need a taxi-zone shapefile: give a zones folder (--zones) or set "
            "BIMRIDE_DATA_DIR");
      }
      StatusOr<ZoneIndex> z = ZoneIndex::Load(dir);
      if (!z.ok()) return z.status();
      owned_ = std::make_unique<ZoneIndex>(std::move(z).value());
    }
    return owned_.get();
  }

 private:
  const LoadTripsOptions& options_;
  std::unique_ptr<ZoneIndex> owned_;
};

struct OneFile {
  std::string format;
  TripTable trips;
  std::vector<int64_t> lines;
  std::vector<RejectedRecord> rejected;
};

StatusOr<OneFile> ReadOneCsv(const std::string& path, bool keep_malformed, LazyZones* zones,
                             const TripLayoutFile* layout) {
  ASSIGN_OR_RETURN(std::string text, ReadMaybeGzipFile(path));
  CsvTokenizer tok(text, path);
  std::vector<std::string_view> header;
  ASSIGN_OR_RETURN(bool has_header, tok.Next(&header));
  if (!has_header) return InvalidArgumentError(path + ": empty file (no header line)");
  CsvReadOptions csv;
  csv.keep_malformed = keep_malformed;
  csv.layout = layout;
  if (layout ? layout->needs_zones : CsvLayoutNeedsZones(DetectCsvLayout(header), header)) {
    ASSIGN_OR_RETURN(csv.zones, zones->Get());
  }
  ASSIGN_OR_RETURN(CsvTrips read, ParseTripsCsv(text, path, csv));
  OneFile out;
  out.format = layout ? std::string(layout->layout.name) : std::string(CsvLayoutName(read.layout));
  out.trips = std::move(read.trips);
  out.lines = std::move(read.lines);
  out.rejected = std::move(read.rejected);
  return out;
}

StatusOr<OneFile> ReadOne(const std::string& path, TripFileFormat format, bool keep_malformed,
                          LazyZones* zones, const TripLayoutFile* layout) {
  if (format == TripFileFormat::kParquet) {
    ASSIGN_OR_RETURN(ParquetTrips read, ReadTripsParquet(path, layout));
    OneFile out;
    out.format = "parquet " + read.layout;
    out.trips = std::move(read.trips);
    return out;
  }
  return ReadOneCsv(path, keep_malformed, zones, layout);
}

}  // namespace

StatusOr<TripFileFormat> DetectTripFileFormat(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return FileExists(path) ? PermissionDeniedError(path + ": cannot open")
                            : NotFoundError(path + ": no such file");
  }
  char magic[4] = {0, 0, 0, 0};
  in.read(magic, 4);
  if (in.gcount() == 4 && std::string_view(magic, 4) == "PAR1") return TripFileFormat::kParquet;
  // A file named .parquet without the marker is a broken Parquet file: let the Parquet reader
  // say so rather than the CSV reader's guesses about its first line.
  std::string lower = path;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (EndsWith(lower, ".parquet")) return TripFileFormat::kParquet;
  return TripFileFormat::kCsv;
}

StatusOr<LoadedTrips> LoadTripsWithReport(const std::vector<std::string>& paths,
                                          const LoadTripsOptions& options) {
  if (paths.empty()) return InvalidArgumentError("no trip files given");
  RETURN_IF_ERROR(CheckTripColumnNames(options.columns));
  LazyZones zones(options);
  std::unique_ptr<const TripLayoutFile> layout;
  if (!options.layout_file.empty()) {
    ASSIGN_OR_RETURN(layout, LoadTripLayoutFile(options.layout_file));
  }
  LoadedTrips out;
  // Room for every Parquet file's rows up front (footers only), so that appending file after
  // file never regrows the columns. A damaged Parquet footer fails in the read below.
  std::vector<TripFileFormat> formats;
  size_t parquet_rows = 0;
  for (const std::string& path : paths) {
    ASSIGN_OR_RETURN(TripFileFormat format, DetectTripFileFormat(path));
    formats.push_back(format);
    if (format != TripFileFormat::kParquet) continue;
    StatusOr<size_t> rows = CountParquetRows(path);
    if (rows.ok()) parquet_rows += *rows;
  }
  out.trips.Reserve(parquet_rows);
  for (size_t i = 0; i < paths.size(); ++i) {
    const std::string& path = paths[i];
    const TripFileFormat format = formats[i];
    FileLoadReport fr;
    fr.path = path;
    if (!options.validate && format == TripFileFormat::kParquet) {
      // Unvalidated Parquet is read straight into the result: no copy of its rows.
      const size_t before = out.trips.size();
      ASSIGN_OR_RETURN(ParquetTripsRead read,
                       AppendTripsParquet(path, &out.trips, layout.get(),
                                          options.columns.empty() ? nullptr : &options.columns));
      fr.format = "parquet " + read.layout;
      fr.report.read = fr.report.kept = static_cast<int64_t>(out.trips.size() - before);
      fr.report.month_from = "validation off";
      out.report.Add(fr.report);
      out.files.push_back(std::move(fr));
      continue;
    }
    ASSIGN_OR_RETURN(OneFile file, ReadOne(path, format, options.validate, &zones, layout.get()));
    fr.format = file.format;
    if (options.validate) {
      ValidationInput input{path, file.lines.empty() ? nullptr : &file.lines, &file.rejected,
                            !layout || layout->has_dropoff};
      ValidationResult v = Validate(file.trips, options.rules, input);
      Status s = OkStatus();
      if (out.trips.empty() && &path == &paths.back()) {
        out.trips = std::move(v.kept);  // one file (or the rest were empty): nothing to copy
      } else {
        s = out.trips.AppendTable(v.kept);
      }
      if (s.ok()) s = out.quarantine.Append(std::move(v.quarantine));
      if (!s.ok()) return s.WithContext(path);
      fr.report = v.report;
    } else {
      fr.report.read = fr.report.kept = static_cast<int64_t>(file.trips.size());
      fr.report.month_from = "validation off";
      Status s = out.trips.AppendTable(file.trips);
      if (!s.ok()) return s.WithContext(path);
    }
    out.report.Add(fr.report);
    out.files.push_back(std::move(fr));
  }
  return out;
}

StatusOr<TripTable> LoadTrips(const std::vector<std::string>& paths,
                              const LoadTripsOptions& options) {
  ASSIGN_OR_RETURN(LoadedTrips loaded, LoadTripsWithReport(paths, options));
  if (loaded.report.quarantined > 0) {
    std::string rules;
    for (int r = 0; r < kTripRuleCount; ++r) {
      if (loaded.report.per_rule[r] == 0) continue;
      rules += " " + std::string(TripRuleName(static_cast<TripRule>(r))) + "=" +
               std::to_string(loaded.report.per_rule[r]);
    }
    BIMRIDE_LOG(INFO) << "trips: read " << loaded.report.read << ", kept " << loaded.report.kept
                      << ", quarantined " << loaded.report.quarantined << ":" << rules;
  }
  return std::move(loaded.trips);
}

Status SaveTrips(const TripTable& trips, const std::string& path) {
  if (EndsWith(path, ".csv")) return WriteTripsCsv(trips, path);
  if (EndsWith(path, ".parquet")) return WriteTripsParquet(trips, path);
  return InvalidArgumentError(path + ": unknown output format (want .csv or .parquet)");
}

Status SaveQuarantine(const Quarantine& quarantine, const std::string& path) {
  if (EndsWith(path, ".csv")) return WriteQuarantineCsv(quarantine, path);
  if (EndsWith(path, ".parquet")) return WriteQuarantineParquet(quarantine, path);
  return InvalidArgumentError(path + ": unknown quarantine format (want .csv or .parquet)");
}

StatusOr<std::string> DescribeTripFile(const std::string& path, const LoadTripsOptions& options) {
  std::string out = path + "\n";
  ASSIGN_OR_RETURN(TripFileFormat format, DetectTripFileFormat(path));
  if (format == TripFileFormat::kParquet) {
    ASSIGN_OR_RETURN(std::string schema, DescribeParquetFile(path));
    out += schema;
  }
  bool gz = false;
  {
    std::ifstream in(path, std::ios::binary);
    char m[2] = {0, 0};
    in.read(m, 2);
    gz = IsGzip(std::string_view(m, 2));
  }
  LoadTripsOptions one = options;
  StatusOr<LoadedTrips> read = LoadTripsWithReport({path}, one);
  // Parquet that is not trips (a prediction log, a feature table) is described as plain Parquet.
  if (!read.ok() && format == TripFileFormat::kParquet &&
      read.status().message().find(kUnknownParquetTripLayout) != std::string::npos) {
    return out + "  layout: none of the trip layouts (described as plain Parquet; a layout file, "
                 "--layout, reads it as trips)\n";
  }
  ASSIGN_OR_RETURN(LoadedTrips loaded, std::move(read));
  if (format == TripFileFormat::kCsv) {
    out += "  format: CSV" + std::string(gz ? " (gzip)" : "") + ", layout " +
           loaded.files[0].format + "\n";
  } else {
    out += "  layout: " + loaded.files[0].format + "\n";
  }
  out += "  source: " + std::string(TripSourceName(loaded.trips.source)) + ", records: " +
         std::to_string(loaded.report.read) + "\n";
  if (options.validate) {
    std::string report = loaded.report.ToString();
    for (size_t pos = 0; pos < report.size();) {
      size_t nl = report.find('\n', pos);
      out += "  " + report.substr(pos, nl - pos + 1);
      pos = nl + 1;
    }
  }
  return out;
}

}  // namespace bimride::data
