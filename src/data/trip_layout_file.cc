#include "data/trip_layout_file.h"

#include <cctype>
#include <nlohmann/json.hpp>

#include "common/civil_time.h"
#include "common/file.h"

namespace bimride::data {
namespace {

using Target = layouts::TripColumn;
using json = nlohmann::json;

struct Role {
  const char* name;
  Target target;
};
constexpr Role kRoles[] = {
    {"pickup_time", Target::kPickupTime},
    {"dropoff_time", Target::kDropoffTime},
    {"pickup_zone", Target::kPickupZone},
    {"dropoff_zone", Target::kDropoffZone},
    {"pickup_lon", Target::kPickupLon},
    {"pickup_lat", Target::kPickupLat},
    {"dropoff_lon", Target::kDropoffLon},
    {"dropoff_lat", Target::kDropoffLat},
    {"distance", Target::kDistance},
    {"fare", Target::kFare},
    {"total", Target::kTotal},
    {"surge", Target::kSurge},
    {"passengers", Target::kPassengers},
    {"vendor", Target::kVendor},
    {"base", Target::kBase},
    {"rider_id", Target::kRiderId},
};

bool IsTime(Target t) { return t == Target::kPickupTime || t == Target::kDropoffTime; }
bool IsCoordinate(Target t) {
  return t == Target::kPickupLon || t == Target::kPickupLat || t == Target::kDropoffLon ||
         t == Target::kDropoffLat;
}

std::string RoleNames() {
  std::string names;
  for (const Role& r : kRoles) names += std::string(names.empty() ? "" : ", ") + r.name;
  return names;
}

std::string Stem(const std::string& path) {
  std::string name = path.substr(path.find_last_of('/') + 1);
  return name.substr(0, name.find('.'));
}

constexpr const char* kDirectives = "%Y %y %m %b %d %H %I %M %S %p %%";
constexpr const char* kMonthNames[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec"};

}  // namespace

Status CheckTimeFormat(std::string_view format) {
  bool year = false, month = false, day = false, hour12 = false, ampm = false;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') continue;
    if (++i >= format.size()) {
      return InvalidArgumentError(
          "ends in a lone % (want a directive: " + std::string(kDirectives) + ")");
    }
    switch (format[i]) {
      case 'Y':
      case 'y':
        year = true;
        break;
      case 'm':
      case 'b':
        month = true;
        break;
      case 'd':
        day = true;
        break;
      case 'I':
        hour12 = true;
        break;
      case 'p':
        ampm = true;
        break;
      case 'H':
      case 'M':
      case 'S':
      case '%':
        break;
      default:
        return InvalidArgumentError("unknown directive %" + std::string(1, format[i]) +
                                    " (want one of " + kDirectives + ")");
    }
  }
  if (!year || !month || !day) {
    return InvalidArgumentError("needs a year (%Y or %y), a month (%m or %b) and a day (%d)");
  }
  if (hour12 != ampm) return InvalidArgumentError("%I and %p go together");
  return OkStatus();
}

StatusOr<int64_t> ParseTimeWithFormat(std::string_view text, std::string_view format) {
  auto bad = [&]() {
    return InvalidArgumentError("'" + std::string(text) + "' does not match the time format '" +
                                std::string(format) + "'");
  };
  CivilTime t;
  int64_t fraction_us = 0;
  bool pm = false, has_ampm = false;
  size_t i = 0;
  auto number = [&](int min_digits, int max_digits, int* out) {
    int v = 0, n = 0;
    while (i < text.size() && n < max_digits && text[i] >= '0' && text[i] <= '9') {
      v = v * 10 + (text[i++] - '0');
      ++n;
    }
    *out = v;
    return n >= min_digits;
  };
  auto seconds = [&]() {
    if (!number(1, 2, &t.second)) return false;
    if (i < text.size() && text[i] == '.') {
      ++i;
      int64_t scale = 100000;
      size_t digits = 0;
      while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        fraction_us += (text[i++] - '0') * scale;
        scale /= 10;
        ++digits;
      }
      if (digits == 0) return false;
    }
    return true;
  };
  for (size_t f = 0; f < format.size(); ++f) {
    // Seconds are optional: text that ends where the format still wants ":%S".
    if (i == text.size() && format.substr(f) == ":%S") break;
    if (format[f] != '%' || (f + 1 < format.size() && format[f + 1] == '%')) {
      if (format[f] == '%') ++f;
      if (i >= text.size() || text[i] != format[f]) return bad();
      ++i;
      continue;
    }
    bool ok = true;
    int y2 = 0;
    switch (format[++f]) {
      case 'Y':
        ok = number(4, 4, &t.year);
        break;
      case 'y':
        ok = number(2, 2, &y2);
        t.year = 2000 + y2;
        break;
      case 'm':
        ok = number(1, 2, &t.month);
        break;
      case 'd':
        ok = number(1, 2, &t.day);
        break;
      case 'H':
      case 'I':
        ok = number(1, 2, &t.hour);
        break;
      case 'M':
        ok = number(1, 2, &t.minute);
        break;
      case 'S':
        ok = seconds();
        break;
      case 'p': {
        std::string_view rest = text.substr(i, 2);
        has_ampm = true;
        pm = rest == "PM" || rest == "pm";
        ok = pm || rest == "AM" || rest == "am";
        i += 2;
        break;
      }
      case 'b': {
        ok = false;
        for (int m = 0; m < 12 && !ok && i + 3 <= text.size(); ++m) {
          bool same = true;
          for (int k = 0; k < 3; ++k) {
            same =
                same && std::tolower(static_cast<unsigned char>(text[i + k])) == kMonthNames[m][k];
          }
          if (same) {
            t.month = m + 1;
            i += 3;
            ok = true;
          }
        }
        break;
      }
      default:
        ok = false;
    }
    if (!ok) return bad();
  }
  // Seconds are optional: a format without %S also reads a trailing ":SS".
  if (i < text.size() && text[i] == ':' && format.find("%S") == std::string_view::npos) {
    ++i;
    if (!seconds()) return bad();
  }
  if (i != text.size()) return bad();
  if (has_ampm) {
    if (t.hour < 1 || t.hour > 12) return bad();
    t.hour = t.hour % 12 + (pm ? 12 : 0);
  }
  if (!IsValidCivil(t)) return bad();
  return MicrosFromCivil(t) + fraction_us;
}

StatusOr<std::unique_ptr<const TripLayoutFile>> ParseTripLayout(std::string_view json_text,
                                                                const std::string& path) {
  json doc = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return InvalidArgumentError(path +
                                ": not a JSON layout file (want an object with \"columns\")");
  }
  auto error = [&](const std::string& key, const std::string& problem) {
    return InvalidArgumentError(path + ": " + key + ": " + problem);
  };
  if (!doc.is_object()) return error("(top level)", "want an object with \"columns\"");
  auto out = std::make_unique<TripLayoutFile>();
  out->path = path;
  std::string name = Stem(path);
  TripSource source = TripSource::kUnknown;
  for (auto& [key, value] : doc.items()) {
    if (key == "name") {
      if (!value.is_string() || value.get<std::string>().empty()) {
        return error("name", "want a non-empty string");
      }
      name = value.get<std::string>();
    } else if (key == "source") {
      bool found = false;
      std::string names;
      for (int s = 0; s <= static_cast<int>(TripSource::kSimulator); ++s) {
        std::string_view n = TripSourceName(static_cast<TripSource>(s));
        names += std::string(names.empty() ? "" : ", ") + std::string(n);
        if (value.is_string() && value.get<std::string>() == n) {
          source = static_cast<TripSource>(s);
          found = true;
        }
      }
      if (!found) return error("source", "want one of " + names);
    } else if (key != "columns") {
      return error(key, "unknown key (want name, source, columns)");
    }
  }
  const auto columns = doc.find("columns");
  if (columns == doc.end() || !columns->is_object() || columns->empty()) {
    return error("columns", "want an object mapping roles (" + RoleNames() + ") to columns");
  }
  out->strings.push_back(name + " (layout file)");
  out->layout.name = out->strings.back().c_str();
  out->layout.source = source;
  out->layout.readers = layouts::kBothReaders;
  bool has[std::size(kRoles)] = {};
  for (auto& [role_name, value] : columns->items()) {
    const std::string key = "columns." + role_name;
    size_t r = 0;
    while (r < std::size(kRoles) && role_name != kRoles[r].name) ++r;
    if (r == std::size(kRoles)) return error(key, "unknown role (want one of " + RoleNames() + ")");
    has[r] = true;
    const Target target = kRoles[r].target;
    layouts::ColumnBinding binding{nullptr, target};
    std::string column;
    if (value.is_string()) {
      column = value.get<std::string>();
    } else if (value.is_object()) {
      for (auto& [field, v] : value.items()) {
        const std::string at = key + "." + field;
        if (!v.is_string()) return error(at, "want a string");
        const std::string text = v.get<std::string>();
        if (field == "column") {
          column = text;
        } else if (field == "format" && IsTime(target)) {
          if (Status s = CheckTimeFormat(text); !s.ok()) return error(at, s.message());
          out->strings.push_back(text);
          binding.time_format = out->strings.back().c_str();
        } else if (field == "unit" && target == Target::kDistance) {
          if (text == "miles")
            binding.scale = 1;
          else if (text == "km")
            binding.scale = 1 / 1.609344;
          else if (text == "m")
            binding.scale = 1 / 1609.344;
          else
            return error(at, "want miles, km or m");
        } else if (field == "unit" && IsCoordinate(target)) {
          if (text == "degrees")
            binding.scale = 1;
          else if (text == "microdegrees")
            binding.scale = 1e-6;
          else
            return error(at, "want degrees or microdegrees");
        } else {
          return error(
              at, std::string("unknown key (want column") + (IsTime(target) ? ", format" : "") +
                      (target == Target::kDistance || IsCoordinate(target) ? ", unit" : "") + ")");
        }
      }
    } else {
      return error(key, "want a column name or {\"column\": …}");
    }
    if (column.empty()) return error(key + ".column", "want a non-empty column name");
    out->strings.push_back(column);
    binding.column = out->strings.back().c_str();
    out->layout.bindings.push_back(binding);
    out->layout.signature.push_back({binding.column});
  }
  auto role = [&](const char* n) {
    for (size_t r = 0; r < std::size(kRoles); ++r) {
      if (std::string_view(kRoles[r].name) == n) return has[r];
    }
    return false;
  };
  if (!role("pickup_time")) return error("columns.pickup_time", "required (want a column name)");
  for (const char* end : {"pickup", "dropoff"}) {
    const std::string lon = std::string(end) + "_lon", lat = std::string(end) + "_lat";
    if (role(lon.c_str()) != role(lat.c_str())) {
      return error(
          "columns." + (role(lon.c_str()) ? lat : lon),
          "required with " + (role(lon.c_str()) ? lon : lat) + " (coordinates come in pairs)");
    }
  }
  out->has_dropoff = role("dropoff_time");
  out->needs_zones = !role("pickup_zone") && role("pickup_lon");
  return std::unique_ptr<const TripLayoutFile>(std::move(out));
}

StatusOr<std::unique_ptr<const TripLayoutFile>> LoadTripLayoutFile(const std::string& path) {
  StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status().WithContext("layout file");
  return ParseTripLayout(*text, path);
}

}  // namespace bimride::data
