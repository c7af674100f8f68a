// Calendar features shared by every task: US federal holidays (the days NYC's traffic and
// demand behave like Sundays), by rule rather than a table, so any year works.
// All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

namespace bimride::features {

// 0 = Monday … 6 = Sunday for a day index (days since 1970-01-01).
int WeekdayOfDay(int64_t day_index);

// The federal holiday observed on `day_index`, or "" when none. A holiday that falls on a
// Saturday is observed the Friday before, on a Sunday the Monday after (5 U.S.C. 6103).
// Juneteenth counts from 2021, the year it became one.
std::string_view UsFederalHolidayName(int64_t day_index);
inline bool IsUsFederalHoliday(int64_t day_index) {
  return !UsFederalHolidayName(day_index).empty();
}

}  // namespace bimride::features
