#include "data/trip_csv.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "common/civil_time.h"
#include "common/file.h"
#include "data/csv_reader.h"
#include "data/trip_layout_file.h"
#include "data/trip_layouts.h"

namespace bimride::data {
namespace {

using Target = layouts::TripColumn;
using Binding = layouts::ColumnBinding;
using Layout = layouts::SourceLayout;

// The CSV layout a table entry stands for (its name is CsvLayoutName's).
CsvLayout CsvLayoutOf(const Layout& layout) {
  for (int l = 0; l <= static_cast<int>(CsvLayout::kSimulator); ++l) {
    if (CsvLayoutName(static_cast<CsvLayout>(l)) == layout.name) return static_cast<CsvLayout>(l);
  }
  return CsvLayout::kUnknown;
}

const Layout* FindLayout(const CsvHeader& header) {
  return layouts::MatchLayout(layouts::kCsvReader,
                              [&](std::string_view column) { return header.Has(column); });
}

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Parses a whole field as a number; false when it is not one.
template <typename T>
bool ParseNumber(std::string_view s, T* out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

// Integer fields sometimes arrive as "1.0" (pandas exports): accept integral decimals.
template <typename T>
bool ParseInteger(std::string_view s, T* out) {
  int64_t v = 0;
  if (ParseNumber(s, &v)) {
    if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) return false;
    *out = static_cast<T>(v);
    return true;
  }
  // T's range as exact doubles: [-2^digits, 2^digits). (max() itself, 2^63 - 1 for int64,
  // rounds up to 2^63 as a double, which does not fit.)
  const double limit = std::ldexp(1.0, std::numeric_limits<T>::digits);
  double d = 0;
  if (!ParseNumber(s, &d) || d != std::floor(d) || d < -limit || d >= limit) return false;
  *out = static_cast<T>(d);
  return true;
}

StatusOr<int64_t> ParseTime(std::string_view s) {
  if (s.size() >= 5 && s[4] == '-') return ParseCivil(s);
  return ParseUsDateTime(s);
}

// Fills `row` from one record; returns the problem text, or "" when the record is good.
std::string FillRow(const std::vector<Binding>& bindings, const std::vector<int>& columns,
                    const std::vector<std::string_view>& fields, TripRow* row,
                    TripSource* row_source) {
  for (size_t b = 0; b < bindings.size(); ++b) {
    if (columns[b] < 0) continue;
    std::string_view text = TrimBlanks(fields[columns[b]]);
    if (text.empty()) continue;  // null
    const Binding& bind = bindings[b];
    auto bad = [&](std::string_view what) {
      return "column '" + std::string(bind.column) + "': cannot parse '" + std::string(text) +
             "' as " + std::string(what);
    };
    switch (bind.target) {
      case Target::kPickupTime:
      case Target::kDropoffTime: {
        StatusOr<int64_t> t =
            bind.time_format ? ParseTimeWithFormat(text, bind.time_format) : ParseTime(text);
        if (!t.ok()) {
          return bad(bind.time_format ? "a time of format '" + std::string(bind.time_format) + "'"
                                      : std::string("a time"));
        }
        (bind.target == Target::kPickupTime ? row->pickup_time_us : row->dropoff_time_us) = *t;
        break;
      }
      case Target::kPickupZone:
      case Target::kDropoffZone: {
        int32_t z = 0;
        if (!ParseInteger(text, &z)) return bad("a zone id");
        (bind.target == Target::kPickupZone ? row->pickup_zone : row->dropoff_zone) = z;
        break;
      }
      case Target::kPickupLon:
      case Target::kPickupLat:
      case Target::kDropoffLon:
      case Target::kDropoffLat: {
        double v = 0;
        if (!ParseNumber(text, &v)) return bad("a coordinate");
        v *= bind.scale;
        bool is_lat = bind.target == Target::kPickupLat || bind.target == Target::kDropoffLat;
        if (!(std::fabs(v) <= (is_lat ? 90.0 : 180.0))) {
          return "column '" + std::string(bind.column) + "': " + (is_lat ? "latitude " : "longitude ") +
                 std::string(text) + " is out of range";
        }
        switch (bind.target) {
          case Target::kPickupLon: row->pickup_lon = v; break;
          case Target::kPickupLat: row->pickup_lat = v; break;
          case Target::kDropoffLon: row->dropoff_lon = v; break;
          default: row->dropoff_lat = v; break;
        }
        break;
      }
      case Target::kDistance:
      case Target::kFare:
      case Target::kTotal:
      case Target::kSurge: {
        float v = 0;
        if (!ParseNumber(text, &v)) return bad("a number");
        if (bind.target == Target::kDistance)
          row->distance_miles = static_cast<float>(v * bind.scale);
        if (bind.target == Target::kFare) row->fare = v;
        if (bind.target == Target::kTotal) row->total = v;
        if (bind.target == Target::kSurge) row->surge = v;
        break;
      }
      case Target::kPassengers:
        if (!ParseInteger(text, &row->passengers)) return bad("a passenger count");
        break;
      case Target::kVendor:
        if (!ParseInteger(text, &row->vendor)) return bad("a vendor id");
        break;
      case Target::kBase: {
        std::string_view digits = text;
        while (!digits.empty() && !(digits.front() >= '0' && digits.front() <= '9')) {
          digits.remove_prefix(1);
        }
        if (digits.empty() || !ParseInteger(digits, &row->vendor)) return bad("a base number");
        break;
      }
      case Target::kRiderId:
        if (!ParseInteger(text, &row->rider_id)) return bad("a rider id");
        break;
      case Target::kSource: {
        StatusOr<TripSource> found = ParseTripSource(text);
        if (!found.ok()) return bad("a trip source");
        *row_source = *found;
        break;
      }
    }
  }
  return "";
}

}  // namespace

std::string_view CsvLayoutName(CsvLayout layout) {
  switch (layout) {
    case CsvLayout::kUnknown: return "unknown";
    case CsvLayout::kTlcYellow: return "tlc_yellow";
    case CsvLayout::kTlcGreen: return "tlc_green";
    case CsvLayout::kTlcFhv: return "tlc_fhv";
    case CsvLayout::kTlcFhvhv: return "tlc_fhvhv";
    case CsvLayout::kKaggle: return "kaggle_trip_duration";
    case CsvLayout::kUber: return "uber_2014";
    case CsvLayout::kBimride: return "bimride";
    case CsvLayout::kSimulator: return "simulator";
    case CsvLayout::kLayoutFile:
      return "layout file";
  }
  return "unknown";
}

CsvLayout DetectCsvLayout(const std::vector<std::string_view>& header) {
  const Layout* layout = FindLayout(CsvHeader(header));
  return layout ? CsvLayoutOf(*layout) : CsvLayout::kUnknown;
}

bool CsvLayoutNeedsZones(CsvLayout layout, const std::vector<std::string_view>& fields) {
  CsvHeader header(fields);
  if (layout == CsvLayout::kKaggle || layout == CsvLayout::kUber) return true;
  if (layout == CsvLayout::kTlcYellow || layout == CsvLayout::kTlcGreen) {
    return !header.Has("PULocationID") && header.Has("pickup_longitude");
  }
  return false;
}

StatusOr<int64_t> ParseUsDateTime(std::string_view text) {
  auto bad = [&]() {
    return InvalidArgumentError("'" + std::string(text) +
                                "' is not a time (want M/D/YYYY H:MM[:SS][ AM|PM])");
  };
  size_t i = 0;
  auto number = [&](int max_digits, int* out) {
    int v = 0, n = 0;
    while (i < text.size() && n < max_digits && text[i] >= '0' && text[i] <= '9') {
      v = v * 10 + (text[i++] - '0');
      ++n;
    }
    *out = v;
    return n > 0;
  };
  auto expect = [&](char c) {
    if (i < text.size() && text[i] == c) {
      ++i;
      return true;
    }
    return false;
  };
  CivilTime t;
  if (!number(2, &t.month) || !expect('/') || !number(2, &t.day) || !expect('/') ||
      !number(4, &t.year)) {
    return bad();
  }
  if (i < text.size()) {
    if (!expect(' ') || !number(2, &t.hour) || !expect(':') || !number(2, &t.minute)) {
      return bad();
    }
    if (expect(':') && !number(2, &t.second)) return bad();
    while (i < text.size() && text[i] == ' ') ++i;
    if (i < text.size()) {
      std::string_view ampm = text.substr(i);
      bool pm = ampm == "PM" || ampm == "pm";
      if (!pm && ampm != "AM" && ampm != "am") return bad();
      if (t.hour < 1 || t.hour > 12) return bad();
      t.hour = t.hour % 12 + (pm ? 12 : 0);
    }
  }
  if (!IsValidCivil(t)) return bad();
  return MicrosFromCivil(t);
}

StatusOr<CsvTrips> ParseTripsCsv(std::string_view text, const std::string& name,
                                 const CsvReadOptions& options) {
  CsvTokenizer tok(text, name);
  std::vector<std::string_view> fields;
  ASSIGN_OR_RETURN(bool has_header, tok.Next(&fields));
  if (!has_header) return InvalidArgumentError(name + ": empty file (no header line)");
  CsvHeader header(fields);
  const Layout* spec = options.layout ? &options.layout->layout : FindLayout(header);
  if (options.layout) {
    for (const Binding& b : spec->bindings) {
      if (!header.Has(b.column)) {
        return InvalidArgumentError(name + ": line 1: no column '" + b.column +
                                    "' that layout file " + options.layout->path + " maps");
      }
    }
  }
  if (spec == nullptr) {
    std::string cols;
    for (size_t i = 0; i < header.size() && i < 8; ++i) {
      cols += (i ? "," : "") + header.names()[i];
    }
    return InvalidArgumentError(name + ": line 1: unknown CSV layout (header '" + cols +
                                (header.size() > 8 ? ",…" : "") +
                                "' is none of TLC yellow/green/FHV/HVFHV, Kaggle trip duration, "
                                "Uber 2014, bimride; describe it in a layout file: --layout)");
  }
  const CsvLayout csv_layout = options.layout ? CsvLayout::kLayoutFile : CsvLayoutOf(*spec);
  const bool needs_zones =
      options.layout ? options.layout->needs_zones : CsvLayoutNeedsZones(csv_layout, fields);
  if (needs_zones && options.zones == nullptr) {
    return FailedPreconditionError(name + ": layout " + std::string(CsvLayoutName(csv_layout)) +
                                   " has coordinates only; mapping them to zones needs a "
                                   "ZoneIndex (taxi-zone shapefile)");
  }
  std::vector<int> columns;
  for (const Binding& b : spec->bindings) {
    columns.push_back(b.readers & layouts::kCsvReader ? header.Find(b.column) : -1);
  }

  CsvTrips out;
  out.layout = csv_layout;
  out.trips.source = spec->source;
  out.trips.Reserve(text.size() / 100);
  out.lines.reserve(text.size() / 100);
  bool source_set = csv_layout != CsvLayout::kBimride;
  auto reject = [&](int64_t line, std::string problem, std::string_view raw) -> Status {
    if (!options.keep_malformed) {
      return InvalidArgumentError(name + ": line " + std::to_string(line) + ": " + problem);
    }
    out.rejected.push_back({name, line, std::move(problem), std::string(raw)});
    return OkStatus();
  };
  for (;;) {
    StatusOr<bool> more = tok.Next(&fields);
    if (!more.ok()) {
      if (!options.keep_malformed) return more.status();
      // The tokenizer message is "<name>: line N: <problem>"; keep only the problem.
      std::string msg = more.status().message();
      size_t cut = msg.find(": ", name.size() + 2);
      out.rejected.push_back(
          {name, tok.line(), cut == std::string::npos ? msg : msg.substr(cut + 2),
           std::string(tok.raw())});
      continue;
    }
    if (!*more) break;
    if (fields.size() != header.size()) {
      RETURN_IF_ERROR(reject(tok.line(),
                             "expected " + std::to_string(header.size()) + " fields, found " +
                                 std::to_string(fields.size()),
                             tok.raw()));
      continue;
    }
    TripRow row;
    TripSource row_source = spec->source;
    std::string problem = FillRow(spec->bindings, columns, fields, &row, &row_source);
    if (problem.empty() && row_source != out.trips.source) {
      if (!source_set) {
        out.trips.source = row_source;
        source_set = true;
      } else {
        problem = "column 'source': " + std::string(TripSourceName(row_source)) +
                  " row in a " + std::string(TripSourceName(out.trips.source)) + " file";
      }
    }
    if (!problem.empty()) {
      RETURN_IF_ERROR(reject(tok.line(), std::move(problem), tok.raw()));
      continue;
    }
    if (needs_zones) {
      row.pickup_zone = options.zones->Lookup(row.pickup_lon, row.pickup_lat);
      row.dropoff_zone = options.zones->Lookup(row.dropoff_lon, row.dropoff_lat);
    }
    out.trips.Append(row);
    out.lines.push_back(tok.line());
  }
  return out;
}

StatusOr<CsvTrips> ReadTripsCsv(const std::string& path, const CsvReadOptions& options) {
  ASSIGN_OR_RETURN(std::string text, ReadMaybeGzipFile(path));
  return ParseTripsCsv(text, path, options);
}

StatusOr<CsvLayout> DetectCsvFileLayout(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadMaybeGzipFile(path));
  CsvTokenizer tok(text, path);
  std::vector<std::string_view> fields;
  ASSIGN_OR_RETURN(bool has_header, tok.Next(&fields));
  if (!has_header) return InvalidArgumentError(path + ": empty file (no header line)");
  return DetectCsvLayout(fields);
}

std::string TripsCsvHeader() { return layouts::WrittenHeader(layouts::BimrideLayout()); }

namespace {

template <typename T>
void AppendNumber(T v, std::string* out) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, end);
}

template <typename T>
void AppendFloatOrNull(T v, std::string* out) {
  out->push_back(',');
  if (!std::isnan(v)) AppendNumber(v, out);
}

}  // namespace

void AppendTripCsvRow(const TripTable& t, size_t i, std::string* out) {
  out->append(TripSourceName(t.source));
  out->push_back(',');
  if (t.pickup_time_us[i] != kNullTime) out->append(FormatCivil(t.pickup_time_us[i]));
  out->push_back(',');
  if (t.dropoff_time_us[i] != kNullTime) out->append(FormatCivil(t.dropoff_time_us[i]));
  out->push_back(',');
  if (t.pickup_zone[i] != kUnknownZone) AppendNumber(t.pickup_zone[i], out);
  out->push_back(',');
  if (t.dropoff_zone[i] != kUnknownZone) AppendNumber(t.dropoff_zone[i], out);
  AppendFloatOrNull(t.pickup_lon[i], out);
  AppendFloatOrNull(t.pickup_lat[i], out);
  AppendFloatOrNull(t.dropoff_lon[i], out);
  AppendFloatOrNull(t.dropoff_lat[i], out);
  AppendFloatOrNull(t.distance_miles[i], out);
  AppendFloatOrNull(t.fare[i], out);
  AppendFloatOrNull(t.total[i], out);
  AppendFloatOrNull(t.surge[i], out);
  out->push_back(',');
  if (t.passengers[i] >= 0) AppendNumber(t.passengers[i], out);
  out->push_back(',');
  if (t.vendor[i] >= 0) AppendNumber(t.vendor[i], out);
  out->push_back(',');
  if (t.rider_id[i] >= 0) AppendNumber(t.rider_id[i], out);
}

Status WriteTripsCsv(const TripTable& table, const std::string& path) {
  RETURN_IF_ERROR(table.CheckConsistent());
  std::string out = TripsCsvHeader() + "\n";
  out.reserve(table.size() * 120 + out.size());
  for (size_t i = 0; i < table.size(); ++i) {
    AppendTripCsvRow(table, i, &out);
    out.push_back('\n');
  }
  return WriteFileAtomic(path, out);
}

}  // namespace bimride::data
