#include "common/civil_time.h"

#include <gtest/gtest.h>

namespace bimride {
namespace {

TEST(CivilTimeTest, RoundTripsKnownDates) {
  auto t = ParseCivil("2021-01-01 00:15:56");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, (DaysFromCivil(2021, 1, 1) * 86400 + 15 * 60 + 56) * kMicrosPerSecond);
  EXPECT_EQ(FormatCivil(*t), "2021-01-01 00:15:56");
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(FormatCivil(*ParseCivil("2024-02-29T23:59:59.5")), "2024-02-29 23:59:59.500000");
  EXPECT_EQ(FormatCivil(*ParseCivil("1969-12-31 23:00:00")), "1969-12-31 23:00:00");
}

TEST(CivilTimeTest, WeekdayAndHour) {
  int64_t t = *ParseCivil("2021-01-04 07:30:00");  // a Monday
  EXPECT_EQ(DayOfWeek(t), 0);
  EXPECT_EQ(HourOfDay(t), 7);
  EXPECT_EQ(DayOfWeek(*ParseCivil("2021-01-10")), 6);  // Sunday
  EXPECT_EQ(DayOfWeek(*ParseCivil("1969-12-31")), 2);  // Wednesday, before the epoch
  EXPECT_EQ(HourOfDay(*ParseCivil("1969-12-31 22:10")), 22);
}

TEST(CivilTimeTest, RejectsMalformedAndImpossibleTimes) {
  for (const char* bad : {"", "2021-13-01", "2021-02-29", "2021-01-01 24:00", "2021-1-1",
                          "2021-01-01 10:00:00x", "2021-01-01 10:00:00.", "yesterday"}) {
    auto r = ParseCivil(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace bimride
