#include <gtest/gtest.h>

#include "common/civil_time.h"
#include "features/weather.h"

namespace bimride::features {
namespace {

TEST(WeatherTableTest, LoadsCentralParkFromSharedData) {
  StatusOr<WeatherTable> t =
      WeatherTable::Load(std::string(BIMRIDE_DATA_DIR) + "/weather/central_park_weather.csv");
  ASSERT_TRUE(t.ok()) << t.status().ToString() << " (needs ../shared/data, see DATA.md)";
  EXPECT_EQ(t->day_count(), 5538);
  EXPECT_EQ(t->first_day(), DaysFromCivil(2009, 1, 1));
  EXPECT_EQ(t->last_day(), DaysFromCivil(2024, 2, 29));
  EXPECT_FLOAT_EQ(t->Get(DaysFromCivil(2021, 1, 1)).precipitation_in, 0.62f);
  EXPECT_FLOAT_EQ(t->Get(DaysFromCivil(2021, 1, 3)).max_temp_f, 38.0f);
}

}  // namespace
}  // namespace bimride::features
