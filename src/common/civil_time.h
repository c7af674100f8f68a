// Naive (zone-less) local wall-clock time, as trip records carry it: microseconds since
// 1970-01-01T00:00:00 of the local clock. All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace bimride {

inline constexpr int64_t kMicrosPerSecond = 1'000'000;
inline constexpr int64_t kMicrosPerMinute = 60 * kMicrosPerSecond;
inline constexpr int64_t kMicrosPerHour = 60 * kMicrosPerMinute;
inline constexpr int64_t kMicrosPerDay = 24 * kMicrosPerHour;

struct CivilTime {
  int year = 1970;
  int month = 1;   // 1..12
  int day = 1;     // 1..31
  int hour = 0;
  int minute = 0;
  int second = 0;
  int micros = 0;  // 0..999999
};

// Days since 1970-01-01 for a proleptic Gregorian date (valid for any year in ±1e6).
int64_t DaysFromCivil(int year, int month, int day);
CivilTime CivilFromMicros(int64_t micros);
// False when the fields are out of range (month 13, Feb 30, hour 24, …).
bool IsValidCivil(const CivilTime& t);
int64_t MicrosFromCivil(const CivilTime& t);

int HourOfDay(int64_t micros);    // 0..23
int DayOfWeek(int64_t micros);    // 0 = Monday … 6 = Sunday (ISO order)
int64_t DayIndex(int64_t micros); // days since 1970-01-01 (floor, also for negative times)

// "2021-01-31 23:59:59" (and ".123456" when micros are non-zero).
std::string FormatCivil(int64_t micros);
// "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS[.f…]]" or with 'T'; InvalidArgument naming the text.
StatusOr<int64_t> ParseCivil(std::string_view text);

}  // namespace bimride
