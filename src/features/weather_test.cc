#include "features/weather.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/civil_time.h"

namespace bimride::features {
namespace {

constexpr char kHeader[] = "\"STATION\",\"NAME\",\"DATE\",\"AWND\",\"PRCP\",\"SNOW\",\"SNWD\",\"TMAX\",\"TMIN\"\n";

TEST(WeatherTableTest, ParsesValuesAndTreatsEmptyCellsAndGapsAsMissing) {
  const std::string text = std::string(kHeader) +
                           "\"S\",\"N\",\"2021-01-01\",\"5.59\",\"0.62\",\"0.0\",\"0.0\",\"40\",\"33\"\n"
                           "\"S\",\"N\",\"2021-01-03\",\"\",\"0.22\",\"1.5\",\"2.0\",\"38\",\"34\"\r\n";
  StatusOr<WeatherTable> table = WeatherTable::Parse(text, "w.csv");
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  const int64_t jan1 = DaysFromCivil(2021, 1, 1);
  EXPECT_EQ(table->day_count(), 2);
  EXPECT_EQ(table->first_day(), jan1);
  EXPECT_EQ(table->last_day(), jan1 + 2);
  const DailyWeather w = table->Get(jan1);
  EXPECT_FLOAT_EQ(w.precipitation_in, 0.62f);
  EXPECT_FLOAT_EQ(w.max_temp_f, 40.0f);
  EXPECT_FLOAT_EQ(w.wind_mph, 5.59f);
  EXPECT_TRUE(std::isnan(table->Get(jan1 + 2).wind_mph));
  EXPECT_FLOAT_EQ(table->Get(jan1 + 2).snowfall_in, 1.5f);
  EXPECT_FALSE(table->Has(jan1 + 1));
  EXPECT_TRUE(std::isnan(table->Get(jan1 + 1).precipitation_in));
  EXPECT_TRUE(std::isnan(table->Get(jan1 - 100).max_temp_f));
}

TEST(WeatherTableTest, ToCsvRoundTrips) {
  const std::string text = std::string(kHeader) +
                           "\"S\",\"N\",\"2021-01-01\",\"5.59\",\"0.62\",\"0.0\",\"0.0\",\"40\",\"33\"\n"
                           "\"S\",\"N\",\"2021-01-02\",\"\",\"0.05\",\"\",\"0.0\",\"51\",\"36\"\n";
  StatusOr<WeatherTable> table = WeatherTable::Parse(text, "w.csv");
  ASSERT_TRUE(table.ok());
  const std::string csv = table->ToCsv(table->first_day(), table->last_day());
  StatusOr<WeatherTable> again = WeatherTable::Parse(csv, "again.csv");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  for (int64_t d = table->first_day(); d <= table->last_day(); ++d) {
    const DailyWeather a = table->Get(d), b = again->Get(d);
    EXPECT_FLOAT_EQ(a.precipitation_in, b.precipitation_in);
    EXPECT_EQ(std::isnan(a.snowfall_in), std::isnan(b.snowfall_in));
    EXPECT_EQ(std::isnan(a.wind_mph), std::isnan(b.wind_mph));
  }
}

TEST(WeatherTableTest, BadInputNamesFileLineAndColumn) {
  auto err = [](const std::string& text) {
    StatusOr<WeatherTable> t = WeatherTable::Parse(text, "w.csv");
    return t.ok() ? std::string("ok") : t.status().message();
  };
  EXPECT_EQ(err(""), "w.csv: empty file, expected a DATE header");
  EXPECT_EQ(err("\"STATION\",\"PRCP\"\n\"S\",\"1\"\n"), "w.csv: line 1: no DATE column");
  EXPECT_EQ(err(std::string(kHeader) + "\"S\",\"N\",\"2021-01-01\",\"x\",\"0\",\"0\",\"0\",\"1\",\"1\"\n"),
            "w.csv: line 2: column 'AWND': 'x' is not a number");
  EXPECT_NE(err(std::string(kHeader) + "\"S\",\"N\",\"2021-13-01\",\"1\",\"0\",\"0\",\"0\",\"1\",\"1\"\n")
                .find("w.csv: line 2: column 'DATE'"),
            std::string::npos);
  EXPECT_EQ(err(std::string(kHeader) + "\"S\",\"N\",\"2021-01-01\",\"1\"\n"),
            "w.csv: line 2: 4 fields, header has 9");
  const std::string row = "\"S\",\"N\",\"2021-01-01\",\"1\",\"0\",\"0\",\"0\",\"1\",\"1\"\n";
  EXPECT_EQ(err(std::string(kHeader) + row + row), "w.csv: line 3: date 2021-01-01 appears twice");
  EXPECT_EQ(err(std::string(kHeader) + "\"S\",\"N\",\"2021-01-01\",\"1\n"),
            err(std::string(kHeader) + "\"S\",\"N\",\"2021-01-01\",\"1\n"));  // deterministic
}

}  // namespace
}  // namespace bimride::features
