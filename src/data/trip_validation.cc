#include "data/trip_validation.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "common/civil_time.h"
#include "common/file.h"

namespace bimride::data {
namespace {

std::string Basename(std::string_view path) {
  size_t slash = path.find_last_of('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

bool SourceHasDropoff(TripSource s) { return s != TripSource::kUber; }

std::string CsvEscape(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace

std::string_view TripRuleName(TripRule rule) {
  switch (rule) {
    case TripRule::kMalformedRecord: return "malformed_record";
    case TripRule::kMissingRequired: return "missing_required";
    case TripRule::kDropoffBeforePickup: return "dropoff_before_pickup";
    case TripRule::kImplausibleDuration: return "implausible_duration";
    case TripRule::kImplausibleSpeed: return "implausible_speed";
    case TripRule::kOutsideFileMonth: return "outside_file_month";
    case TripRule::kUnknownZone: return "unknown_zone";
    case TripRule::kBadFare: return "bad_fare";
  }
  return "unknown_rule";
}

bool MonthFromFileName(std::string_view path, int* year, int* month) {
  std::string name = Basename(path);
  auto digit = [&](size_t i) { return i < name.size() && std::isdigit(static_cast<unsigned char>(name[i])); };
  for (size_t i = 0; i + 7 <= name.size(); ++i) {
    if (digit(i) && digit(i + 1) && digit(i + 2) && digit(i + 3) && name[i + 4] == '-' &&
        digit(i + 5) && digit(i + 6) && !digit(i + 7) && (i == 0 || !digit(i - 1))) {
      int y = std::stoi(name.substr(i, 4)), m = std::stoi(name.substr(i + 5, 2));
      if (m >= 1 && m <= 12 && y >= 1900 && y <= 2200) {
        *year = y;
        *month = m;
        return true;
      }
    }
  }
  static const char* kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                  "jul", "aug", "sep", "oct", "nov", "dec"};
  std::string lower = name;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (int m = 0; m < 12; ++m) {
    for (size_t pos = lower.find(kMonths[m]); pos != std::string::npos;
         pos = lower.find(kMonths[m], pos + 1)) {
      if ((pos > 0 && std::isalpha(static_cast<unsigned char>(lower[pos - 1]))) ||
          !digit(pos + 3) || !digit(pos + 4) || digit(pos + 5)) {
        continue;
      }
      *year = 2000 + std::stoi(lower.substr(pos + 3, 2));
      *month = m + 1;
      return true;
    }
  }
  return false;
}

Status Quarantine::Append(Quarantine other) {
  RETURN_IF_ERROR(trips.AppendTable(other.trips));
  rules.insert(rules.end(), other.rules.begin(), other.rules.end());
  for (std::string& o : other.origins) origins.push_back(std::move(o));
  for (RejectedRecord& r : other.malformed) malformed.push_back(std::move(r));
  return OkStatus();
}

void ValidationReport::Add(const ValidationReport& other) {
  read += other.read;
  kept += other.kept;
  quarantined += other.quarantined;
  for (int r = 0; r < kTripRuleCount; ++r) per_rule[r] += other.per_rule[r];
  if (other.first_pickup_us != kNullTime &&
      (first_pickup_us == kNullTime || other.first_pickup_us < first_pickup_us)) {
    first_pickup_us = other.first_pickup_us;
  }
  if (other.last_pickup_us != kNullTime &&
      (last_pickup_us == kNullTime || other.last_pickup_us > last_pickup_us)) {
    last_pickup_us = other.last_pickup_us;
  }
  if (month_from.empty()) {
    month_year = other.month_year;
    month = other.month;
    month_from = other.month_from;
  } else if (month_year != other.month_year || month != other.month) {
    month_year = month = 0;
    month_from = "several files";
  }
}

std::string ValidationReport::ToString() const {
  std::string out;
  char line[160];
  std::snprintf(line, sizeof(line), "read %lld, kept %lld, quarantined %lld\n",
                static_cast<long long>(read), static_cast<long long>(kept),
                static_cast<long long>(quarantined));
  out += line;
  out += "quarantined rows by rule (a row failing several rules counts once, under the first):\n";
  for (int r = 0; r < kTripRuleCount; ++r) {
    std::snprintf(line, sizeof(line), "  %-22s %lld\n",
                  std::string(TripRuleName(static_cast<TripRule>(r))).c_str(),
                  static_cast<long long>(per_rule[r]));
    out += line;
  }
  if (month_year > 0) {
    std::snprintf(line, sizeof(line), "file month %04d-%02d (from %s)\n", month_year, month,
                  month_from.c_str());
  } else {
    std::snprintf(line, sizeof(line), "file month: none (%s)\n", month_from.c_str());
  }
  out += line;
  if (first_pickup_us != kNullTime) {
    out +=
        "pickups span " + FormatCivil(first_pickup_us) + " … " + FormatCivil(last_pickup_us) + "\n";
  }
  out += (kept + quarantined == read) ? "kept + quarantined == read: yes\n"
                                      : "kept + quarantined == read: NO (bug)\n";
  return out;
}

ValidationResult Validate(const TripTable& table, const ValidationRules& rules,
                          const ValidationInput& input) {
  ValidationResult result;
  ValidationReport& report = result.report;
  const size_t n = table.size();
  const std::string name = Basename(input.file);

  // The file's month window.
  int year = rules.file_year, month = rules.file_month;
  if (year > 0 && month > 0) {
    report.month_from = "rules";
  } else if (MonthFromFileName(input.file, &year, &month)) {
    report.month_from = "file name";
  } else {
    year = month = 0;
    report.month_from = "the file states no month; every month kept";
  }
  for (int64_t t : table.pickup_time_us) {
    if (t == kNullTime) continue;
    if (report.first_pickup_us == kNullTime || t < report.first_pickup_us) {
      report.first_pickup_us = t;
    }
    if (report.last_pickup_us == kNullTime || t > report.last_pickup_us) report.last_pickup_us = t;
  }
  report.month_year = year;
  report.month = month;
  const bool month_rule = rules.outside_file_month && year > 0;
  int64_t month_lo = 0, month_hi = 0;
  if (month_rule) {
    const int64_t slack = static_cast<int64_t>(rules.month_slack_days * kMicrosPerDay);
    month_lo = DaysFromCivil(year, month, 1) * kMicrosPerDay - slack;
    month_hi = DaysFromCivil(year + (month == 12), month % 12 + 1, 1) * kMicrosPerDay + slack;
  }

  const bool has_dropoff = input.has_dropoff && SourceHasDropoff(table.source);
  const int64_t max_duration_us = static_cast<int64_t>(rules.max_duration_hours * kMicrosPerHour);
  auto unknown = [](int32_t z) { return z == kUnknownZone || z == 264 || z == 265; };
  std::vector<size_t> keep;
  keep.reserve(n);
  std::vector<size_t> bad_rows;
  for (size_t i = 0; i < n; ++i) {
    const int64_t pu = table.pickup_time_us[i], dof = table.dropoff_time_us[i];
    const bool both_times = pu != kNullTime && dof != kNullTime;
    int failed = -1;
    if (rules.missing_required && (pu == kNullTime || (has_dropoff && dof == kNullTime))) {
      failed = static_cast<int>(TripRule::kMissingRequired);
    } else if (rules.dropoff_before_pickup && both_times && dof < pu) {
      failed = static_cast<int>(TripRule::kDropoffBeforePickup);
    } else if (rules.implausible_duration && both_times && dof - pu > max_duration_us) {
      failed = static_cast<int>(TripRule::kImplausibleDuration);
    } else if (rules.implausible_speed && both_times && dof >= pu &&
               table.distance_miles[i] > 0 &&
               (dof == pu || table.distance_miles[i] / (static_cast<double>(dof - pu) /
                                                        kMicrosPerHour) > rules.max_speed_mph)) {
      failed = static_cast<int>(TripRule::kImplausibleSpeed);
    } else if (month_rule && pu != kNullTime && (pu < month_lo || pu >= month_hi)) {
      failed = static_cast<int>(TripRule::kOutsideFileMonth);
    } else if (rules.unknown_zone &&
               (unknown(table.pickup_zone[i]) || (has_dropoff && unknown(table.dropoff_zone[i])))) {
      failed = static_cast<int>(TripRule::kUnknownZone);
    } else if (rules.bad_fare && !std::isnan(table.fare[i]) &&
               (table.fare[i] < 0 || table.fare[i] > rules.max_fare)) {
      failed = static_cast<int>(TripRule::kBadFare);
    }
    if (failed < 0) {
      keep.push_back(i);
    } else {
      bad_rows.push_back(i);
      result.quarantine.rules.push_back(static_cast<TripRule>(failed));
      ++report.per_rule[failed];
      result.quarantine.origins.push_back(
          input.lines && i < input.lines->size()
              ? name + " line " + std::to_string((*input.lines)[i])
              : name + " row " + std::to_string(i + 1));
    }
  }
  result.kept = table.Take(keep);
  result.quarantine.trips = table.Take(bad_rows);
  if (input.malformed) {
    result.quarantine.malformed = *input.malformed;
    report.per_rule[static_cast<int>(TripRule::kMalformedRecord)] +=
        static_cast<int64_t>(input.malformed->size());
  }
  report.read = static_cast<int64_t>(n + result.quarantine.malformed.size());
  report.kept = static_cast<int64_t>(result.kept.size());
  report.quarantined = static_cast<int64_t>(result.quarantine.size());
  return result;
}

std::string FormatQuarantineCsv(const Quarantine& q) {
  std::string out = "rule,origin,problem,raw," + TripsCsvHeader() + "\n";
  const std::string empty_trip = std::string(15, ',');  // 16 empty trip columns
  for (const RejectedRecord& r : q.malformed) {
    out += std::string(TripRuleName(TripRule::kMalformedRecord)) + "," +
           CsvEscape(Basename(r.file) + " line " + std::to_string(r.line)) + "," +
           CsvEscape(r.problem) + "," + CsvEscape(r.raw) + "," + empty_trip + "\n";
  }
  for (size_t i = 0; i < q.trips.size(); ++i) {
    out += TripRuleName(q.rules[i]);
    out += ",";
    out += CsvEscape(q.origins[i]);
    out += ",,,";
    AppendTripCsvRow(q.trips, i, &out);
    out += "\n";
  }
  return out;
}

Status WriteQuarantineCsv(const Quarantine& quarantine, const std::string& path) {
  return WriteFileAtomic(path, FormatQuarantineCsv(quarantine));
}

}  // namespace bimride::data
