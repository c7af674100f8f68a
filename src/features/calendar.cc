#include "features/calendar.h"

#include "common/civil_time.h"

namespace bimride::features {
namespace {

// The day index of the n-th (1-based) `weekday` of a month; n = -1 is the last one.
int64_t NthWeekday(int year, int month, int weekday, int n) {
  if (n > 0) {
    const int64_t first = DaysFromCivil(year, month, 1);
    const int offset = (weekday - WeekdayOfDay(first) + 7) % 7;
    return first + offset + 7 * (n - 1);
  }
  const int64_t next_first =
      month == 12 ? DaysFromCivil(year + 1, 1, 1) : DaysFromCivil(year, month + 1, 1);
  const int64_t last = next_first - 1;
  return last - (WeekdayOfDay(last) - weekday + 7) % 7;
}

// A fixed-date holiday moved to the nearest weekday.
int64_t Observed(int64_t day) {
  const int wd = WeekdayOfDay(day);
  if (wd == 5) return day - 1;
  if (wd == 6) return day + 1;
  return day;
}

constexpr int kMonday = 0, kThursday = 3;

}  // namespace

int WeekdayOfDay(int64_t day_index) {
  // 1970-01-01 was a Thursday.
  const int64_t wd = (day_index + 3) % 7;
  return static_cast<int>(wd < 0 ? wd + 7 : wd);
}

std::string_view UsFederalHolidayName(int64_t day_index) {
  const CivilTime c = CivilFromMicros(day_index * kMicrosPerDay);
  // A holiday of next year can be observed on Dec 31 (New Year's Day on a Saturday).
  for (int year : {c.year, c.year + 1}) {
    if (Observed(DaysFromCivil(year, 1, 1)) == day_index) return "New Year's Day";
  }
  const int y = c.year;
  if (NthWeekday(y, 1, kMonday, 3) == day_index) return "Martin Luther King Jr. Day";
  if (NthWeekday(y, 2, kMonday, 3) == day_index) return "Washington's Birthday";
  if (NthWeekday(y, 5, kMonday, -1) == day_index) return "Memorial Day";
  if (y >= 2021 && Observed(DaysFromCivil(y, 6, 19)) == day_index) return "Juneteenth";
  if (Observed(DaysFromCivil(y, 7, 4)) == day_index) return "Independence Day";
  if (NthWeekday(y, 9, kMonday, 1) == day_index) return "Labor Day";
  if (NthWeekday(y, 10, kMonday, 2) == day_index) return "Columbus Day";
  if (Observed(DaysFromCivil(y, 11, 11)) == day_index) return "Veterans Day";
  if (NthWeekday(y, 11, kThursday, 4) == day_index) return "Thanksgiving Day";
  if (Observed(DaysFromCivil(y, 12, 25)) == day_index) return "Christmas Day";
  return "";
}

}  // namespace bimride::features
