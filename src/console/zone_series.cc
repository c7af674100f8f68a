#include "console/zone_series.h"

#include <charconv>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/civil_time.h"
#include "common/file.h"
#include "features/demand_grid.h"

namespace bimride::console {
namespace {

std::string BucketText(int64_t micros) { return FormatCivil(micros).substr(0, 16); }

std::vector<std::string> SplitCsvLine(std::string_view line) {
  std::vector<std::string> out;
  std::string cell;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      out.push_back(cell);
      cell.clear();
    } else if (c != '\r') {
      cell += c;
    }
  }
  out.push_back(cell);
  for (std::string& s : out) {
    while (!s.empty() && s.back() == ' ') s.pop_back();
    while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  }
  return out;
}

bool ParseZone(std::string_view text, int32_t* zone) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), *zone);
  return ec == std::errc() && p == text.data() + text.size() && *zone > 0;
}

bool ParseValue(const std::string& text, double* v) {
  if (text.empty()) {
    *v = NAN;  // a missing cell
    return true;
  }
  char* end = nullptr;
  *v = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && std::isfinite(*v);
}

// The normalised bucket text of a header cell or time cell, or "" when it is not a time.
std::string TimeText(std::string_view text) {
  StatusOr<int64_t> t = ParseCivil(text);
  return t.ok() ? BucketText(*t) : "";
}

}  // namespace

Status CheckSeriesName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 128 && name[0] != '.';
  for (char c : name) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-');
  }
  if (!ok) {
    return InvalidArgumentError("series name '" + std::string(name) +
                                "': want 1..128 of A-Z a-z 0-9 _ . -, not starting with '.'");
  }
  return OkStatus();
}

StatusOr<ZoneSeries> PickupsPerZoneHour(const data::TripTable& trips, const std::string& name) {
  RETURN_IF_ERROR(CheckSeriesName(name));
  features::DemandGridReport report;
  ASSIGN_OR_RETURN(features::DemandGrid grid,
                   features::DemandGrid::FromTrips(trips, features::DemandGridOptions{}, &report));
  if (report.counted == 0 || grid.num_zones() == 0) {
    return InvalidArgumentError("no pickup with a time and a zone among " +
                                std::to_string(trips.size()) + " trips");
  }
  ZoneSeries s;
  s.name = name;
  s.title = "pickups per zone and hour";
  s.unit = "trips";
  for (int64_t b = 0; b < grid.num_buckets(); ++b) s.times.push_back(BucketText(grid.BucketStart(b)));
  s.zones = grid.zones();
  s.values.assign(grid.counts().begin(), grid.counts().end());
  return s;
}

StatusOr<ZoneSeries> ReadZoneSeriesCsv(const std::string& path, const std::string& name,
                                       const std::string& title, const std::string& unit,
                                       const std::string& value_column) {
  RETURN_IF_ERROR(CheckSeriesName(name));
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  std::istringstream in(text);
  std::string line;
  int64_t line_no = 0;
  std::vector<std::string> header;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    header = SplitCsvLine(line);
    break;
  }
  if (header.empty()) return InvalidArgumentError(path + ": no header line");
  auto column = [&](std::string_view want) -> int {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == want) return static_cast<int>(i);
    }
    return -1;
  };
  const int zone_col = column("zone");
  if (zone_col < 0) {
    return InvalidArgumentError(path + ": line " + std::to_string(line_no) +
                                ": the header has no 'zone' column");
  }
  const int value_col = column(value_column), time_col = column("time");
  if (value_col < 0 && value_column != "value") {
    return InvalidArgumentError(path + ": line " + std::to_string(line_no) +
                                ": the header has no '" + value_column + "' column");
  }
  // Wide form: every header cell that is a time is one bucket.
  std::vector<std::pair<int, std::string>> wide;
  if (value_col < 0) {
    for (size_t i = 0; i < header.size(); ++i) {
      if (static_cast<int>(i) == zone_col) continue;
      std::string t = TimeText(header[i]);
      if (!t.empty()) wide.push_back({static_cast<int>(i), t});
    }
    if (wide.empty()) {
      return InvalidArgumentError(path + ": line " + std::to_string(line_no) +
                                  ": want a 'value' column (long form; --column names another) or "
                                  "columns headed by times 'YYYY-MM-DD HH:MM' (wide form)");
    }
  }
  std::map<std::pair<int32_t, std::string>, double> cells;
  std::set<std::string> times;
  std::set<int32_t> zones;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#' || line == "\r") continue;
    const std::vector<std::string> cols = SplitCsvLine(line);
    const std::string where = path + ": line " + std::to_string(line_no) + ": ";
    if (cols.size() != header.size()) {
      return InvalidArgumentError(where + std::to_string(cols.size()) + " columns, the header has " +
                                  std::to_string(header.size()));
    }
    int32_t zone = 0;
    if (!ParseZone(cols[zone_col], &zone)) {
      return InvalidArgumentError(where + "zone '" + cols[zone_col] +
                                  "' is not a positive integer");
    }
    zones.insert(zone);
    auto put = [&](const std::string& t, const std::string& cell) -> Status {
      double v = 0;
      if (!ParseValue(cell, &v)) {
        return InvalidArgumentError(where + "value '" + cell + "' is not a finite number");
      }
      if (!cells.emplace(std::make_pair(zone, t), v).second) {
        return InvalidArgumentError(where + "zone " + std::to_string(zone) +
                                    (t.empty() ? "" : " at " + t) + " appears twice");
      }
      times.insert(t);
      return OkStatus();
    };
    if (value_col >= 0) {
      std::string t;
      if (time_col >= 0) {
        t = TimeText(cols[time_col]);
        if (t.empty()) {
          return InvalidArgumentError(where + "time '" + cols[time_col] +
                                      "' is not 'YYYY-MM-DD HH:MM'");
        }
      }
      RETURN_IF_ERROR(put(t, cols[value_col]));
    } else {
      for (const auto& [col, t] : wide) RETURN_IF_ERROR(put(t, cols[col]));
    }
  }
  if (cells.empty()) return InvalidArgumentError(path + ": no rows");
  ZoneSeries s;
  s.name = name;
  s.title = title.empty() ? name : title;
  s.unit = unit;
  s.times.assign(times.begin(), times.end());
  s.zones.assign(zones.begin(), zones.end());
  s.values.assign(s.zones.size() * s.times.size(), NAN);
  for (size_t z = 0; z < s.zones.size(); ++z) {
    for (size_t t = 0; t < s.times.size(); ++t) {
      auto it = cells.find({s.zones[z], s.times[t]});
      if (it != cells.end()) s.values[z * s.times.size() + t] = it->second;
    }
  }
  return s;
}

std::string ZoneSeriesToJson(const ZoneSeries& s) {
  nlohmann::json values = nlohmann::json::array();
  for (double v : s.values) values.push_back(std::isfinite(v) ? nlohmann::json(v) : nlohmann::json());
  nlohmann::json j = {{"name", s.name},   {"title", s.title}, {"unit", s.unit},
                      {"times", s.times}, {"zones", s.zones}, {"values", std::move(values)}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

StatusOr<ZoneSeries> ZoneSeriesFromJson(std::string_view json, std::string_view source) {
  const std::string where(source);
  nlohmann::json j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgumentError(where + ": not a JSON object");
  }
  ZoneSeries s;
  auto text = [&](const char* key, std::string* out, bool required) -> Status {
    auto it = j.find(key);
    if (it == j.end() && !required) return OkStatus();
    if (it == j.end() || !it->is_string()) {
      return InvalidArgumentError(where + ": '" + key + "' must be a string");
    }
    *out = it->get<std::string>();
    return OkStatus();
  };
  RETURN_IF_ERROR(text("name", &s.name, true));
  RETURN_IF_ERROR(CheckSeriesName(s.name));
  RETURN_IF_ERROR(text("title", &s.title, false));
  RETURN_IF_ERROR(text("unit", &s.unit, false));
  auto times = j.find("times"), zones = j.find("zones"), values = j.find("values");
  if (times == j.end() || !times->is_array() || times->empty()) {
    return InvalidArgumentError(where + ": 'times' must be a non-empty array of strings");
  }
  for (const auto& t : *times) {
    if (!t.is_string()) return InvalidArgumentError(where + ": 'times' must hold strings");
    s.times.push_back(t.get<std::string>());
  }
  if (zones == j.end() || !zones->is_array()) {
    return InvalidArgumentError(where + ": 'zones' must be an array of zone ids");
  }
  for (const auto& z : *zones) {
    if (!z.is_number_integer() || z.get<int64_t>() <= 0) {
      return InvalidArgumentError(where + ": 'zones' must hold positive integers");
    }
    s.zones.push_back(z.get<int32_t>());
  }
  if (values == j.end() || !values->is_array() ||
      values->size() != s.zones.size() * s.times.size()) {
    return InvalidArgumentError(where + ": 'values' must be an array of zones × times = " +
                                std::to_string(s.zones.size() * s.times.size()) + " numbers");
  }
  for (const auto& v : *values) {
    if (v.is_null()) {
      s.values.push_back(NAN);
    } else if (v.is_number()) {
      s.values.push_back(v.get<double>());
    } else {
      return InvalidArgumentError(where + ": 'values' must hold numbers or null");
    }
  }
  return s;
}

}  // namespace bimride::console
