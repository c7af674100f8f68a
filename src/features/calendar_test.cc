#include "features/calendar.h"

#include <gtest/gtest.h>

#include "common/civil_time.h"

namespace bimride::features {
namespace {

int64_t Day(int y, int m, int d) { return DaysFromCivil(y, m, d); }

TEST(CalendarTest, WeekdayOfKnownDays) {
  EXPECT_EQ(WeekdayOfDay(Day(1970, 1, 1)), 3);   // Thursday
  EXPECT_EQ(WeekdayOfDay(Day(2021, 1, 4)), 0);   // Monday
  EXPECT_EQ(WeekdayOfDay(Day(2014, 4, 27)), 6);  // Sunday
  EXPECT_EQ(WeekdayOfDay(Day(1969, 12, 31)), 2); // Wednesday, before the epoch
}

TEST(CalendarTest, FindsThe2021FederalHolidays) {
  // OPM's 2021 list, observed dates.
  const int64_t days[] = {Day(2021, 1, 1),  Day(2021, 1, 18), Day(2021, 2, 15), Day(2021, 5, 31),
                          Day(2021, 6, 18), Day(2021, 7, 5),  Day(2021, 9, 6),  Day(2021, 10, 11),
                          Day(2021, 11, 11), Day(2021, 11, 25), Day(2021, 12, 24),
                          Day(2021, 12, 31)};  // New Year's Day 2022 fell on a Saturday
  int count = 0;
  for (int64_t d = Day(2021, 1, 1); d <= Day(2021, 12, 31); ++d) count += IsUsFederalHoliday(d);
  EXPECT_EQ(count, static_cast<int>(std::size(days)));
  for (int64_t d : days) EXPECT_TRUE(IsUsFederalHoliday(d)) << FormatCivil(d * kMicrosPerDay);
  EXPECT_EQ(UsFederalHolidayName(Day(2021, 11, 25)), "Thanksgiving Day");
  EXPECT_EQ(UsFederalHolidayName(Day(2021, 7, 4)), "");  // a Sunday; observed on Monday the 5th
}

TEST(CalendarTest, JuneteenthOnlyFrom2021AndMemorialDayIsTheLastMonday) {
  EXPECT_FALSE(IsUsFederalHoliday(Day(2019, 6, 19)));
  EXPECT_TRUE(IsUsFederalHoliday(Day(2023, 6, 19)));
  EXPECT_TRUE(IsUsFederalHoliday(Day(2014, 5, 26)));
  EXPECT_FALSE(IsUsFederalHoliday(Day(2014, 5, 19)));
  EXPECT_FALSE(IsUsFederalHoliday(Day(2014, 4, 15)));  // an ordinary Tuesday
}

}  // namespace
}  // namespace bimride::features
