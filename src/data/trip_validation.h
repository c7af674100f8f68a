// Validation that loses nothing: every row read ends up either kept or quarantined with the
// rule it failed, and `kept + quarantined == read` always holds (records that never became
// rows — malformed CSV lines — count as read and quarantined under kMalformedRecord).
//
// Rules are checked in the order of TripRule; a row failing several rules is quarantined once,
// under the FIRST rule it fails, and counted only there.
// Thread safety: pure functions over values.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "data/trip_csv.h"
#include "data/trip_table.h"

namespace bimride::data {

enum class TripRule : uint8_t {
  kMalformedRecord = 0,   // the reader could not parse the record (CSV only)
  kMissingRequired,       // pickup time null, or dropoff time null where the source has one
  kDropoffBeforePickup,   // dropoff strictly before pickup
  kImplausibleDuration,   // longer than max_duration_hours
  kImplausibleSpeed,      // faster than max_speed_mph (distance > 0 in zero time counts)
  kOutsideFileMonth,      // pickup far outside the file's month
  kUnknownZone,           // pickup (or dropoff, where the source has one) zone 0, 264 or 265
  kBadFare,               // fare < 0 or > max_fare
};
inline constexpr int kTripRuleCount = 8;
std::string_view TripRuleName(TripRule rule);

struct ValidationRules {
  bool missing_required = true;
  bool dropoff_before_pickup = true;
  bool implausible_duration = true;
  bool implausible_speed = true;
  bool outside_file_month = true;
  bool unknown_zone = true;
  bool bad_fare = true;
  double max_duration_hours = 6;
  double max_speed_mph = 100;
  double max_fare = 1000;
  double month_slack_days = 1;  // pickups this far into the neighbouring months still pass
  // The file's month; 0 = where the file states one: its name ("…2021-01…", "…apr14…"). A file
  // that states no month keeps the pickups of every month (the report gives their span): a trip
  // file may cover several months.
  int file_year = 0;
  int file_month = 0;
};

struct Quarantine {
  TripTable trips;                      // rows that parsed but failed a rule
  std::vector<TripRule> rules;          // per row of `trips`
  std::vector<std::string> origins;     // per row: "<file> line N" (CSV) or "<file> row N"
  std::vector<RejectedRecord> malformed;  // records that never became rows
  size_t size() const { return trips.size() + malformed.size(); }
  // Appends `other` (trip sources must match unless one side is empty).
  Status Append(Quarantine other);
};

struct ValidationReport {
  int64_t read = 0;
  int64_t kept = 0;
  int64_t quarantined = 0;
  std::array<int64_t, kTripRuleCount> per_rule{};
  int month_year = 0;      // the month the month rule used (0 when none)
  int month = 0;
  std::string month_from;  // "file name", "rules", or why none
  // Earliest and latest pickup of the rows read (kNullTime when none has a pickup time).
  int64_t first_pickup_us = kNullTime;
  int64_t last_pickup_us = kNullTime;
  void Add(const ValidationReport& other);
  // Multi-line human report, rule by rule, ending with the invariant line.
  std::string ToString() const;
};

struct ValidationResult {
  TripTable kept;
  Quarantine quarantine;
  ValidationReport report;
};

struct ValidationInput {
  std::string file;                              // for origins and month detection
  const std::vector<int64_t>* lines = nullptr;   // CSV line per row, when known
  const std::vector<RejectedRecord>* malformed = nullptr;  // reader's rejected records
  bool has_dropoff = true;  // false: the file has no dropoff times (a pickups-only layout file)
};

ValidationResult Validate(const TripTable& table, const ValidationRules& rules,
                          const ValidationInput& input = {});

// Year and month from a file name: "green_tripdata_2021-01.parquet" → 2021, 1;
// "uber-raw-data-apr14.csv.gz" → 2014, 4. False when the name carries none.
bool MonthFromFileName(std::string_view path, int* year, int* month);

// CSV with columns rule,origin,problem,raw followed by the TripsCsvHeader() columns.
std::string FormatQuarantineCsv(const Quarantine& quarantine);
Status WriteQuarantineCsv(const Quarantine& quarantine, const std::string& path);

}  // namespace bimride::data
