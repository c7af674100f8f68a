#include "features/demand_features.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "common/civil_time.h"

namespace bimride::features {
namespace {

int64_t T(const char* text) { return *ParseCivil(text); }

// Three weeks of hourly Poisson-ish counts for zones 3 and 8, from Monday 2021-03-01.
DemandGrid RandomGrid(int bucket_minutes = 60, uint32_t seed = 1) {
  const int64_t buckets = 21 * 24 * 60 / bucket_minutes;
  std::mt19937 rng(seed);
  std::poisson_distribution<int> pickups(2.5);
  std::vector<float> counts(2 * buckets);
  for (float& c : counts) c = static_cast<float>(pickups(rng));
  return *DemandGrid::FromCounts(bucket_minutes, T("2021-03-01"), {3, 8}, buckets,
                                 std::move(counts));
}

class DemandFeaturesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grid_ = RandomGrid();
    auto b = ComputeDemandBaselines(grid_, 0, 14 * 24, 0, 0, nullptr);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    baselines_ = *b;
    auto f = DemandFeatures::Create(config_, nullptr);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    features_ = *f;
  }
  std::vector<float> FromGrid(const DemandGrid& grid, size_t zone, int64_t t) {
    std::vector<float> out(features_.num_features(), -99);
    Status s = features_.ComputeFromGrid(baselines_, grid, zone, t, out.data());
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }
  float Feature(const std::vector<float>& row, const std::string& name) {
    const auto& n = features_.names();
    const auto it = std::find(n.begin(), n.end(), name);
    EXPECT_NE(it, n.end()) << name;
    return row[it - n.begin()];
  }
  DemandGrid grid_;
  DemandBaselines baselines_;
  DemandFeatureConfig config_;
  DemandFeatures features_;
};

TEST_F(DemandFeaturesTest, NoFeatureUsesCountsAfterForecastTime) {
  // For many forecast times, scramble every count at or after t (in all zones) and check that
  // no feature moves; then change the last known count and check that features do move (so
  // the test would catch a feature reading the wrong side of t).
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> noise(0, 50);
  for (int64_t a = 7 * 24 - 1; a < grid_.num_buckets() - 1; a += 5) {
    const int64_t t = grid_.BucketStart(a + 1);
    std::vector<float> perturbed = grid_.counts();
    for (size_t z = 0; z < grid_.num_zones(); ++z) {
      for (int64_t b = a + 1; b < grid_.num_buckets(); ++b) {
        perturbed[z * grid_.num_buckets() + b] = std::round(noise(rng));
      }
    }
    const DemandGrid future_changed = *DemandGrid::FromCounts(60, grid_.start_us(), grid_.zones(),
                                                              grid_.num_buckets(), perturbed);
    for (size_t z = 0; z < grid_.num_zones(); ++z) {
      ASSERT_EQ(FromGrid(grid_, z, t), FromGrid(future_changed, z, t))
          << "a feature at " << FormatCivil(t) << " used a count after it";
    }
    perturbed[a] += 3;  // zone 0, the last bucket known at t
    const DemandGrid past_changed = *DemandGrid::FromCounts(60, grid_.start_us(), grid_.zones(),
                                                            grid_.num_buckets(), perturbed);
    EXPECT_NE(FromGrid(grid_, 0, t), FromGrid(past_changed, 0, t));
  }
}

TEST_F(DemandFeaturesTest, LagsYesterdayLastWeekAndAveragesReadTheRightBuckets) {
  const int64_t a = 10 * 24 + 7;  // 2021-03-11 07:00, the last known bucket
  const int64_t t = grid_.BucketStart(a + 1);
  const auto row = FromGrid(grid_, 1, t);
  EXPECT_EQ(Feature(row, "zone"), 1);
  EXPECT_FLOAT_EQ(Feature(row, "lag_1"), std::log1p(grid_.count(1, a)));
  EXPECT_FLOAT_EQ(Feature(row, "lag_6"), std::log1p(grid_.count(1, a - 5)));
  for (int h = 1; h <= 6; ++h) {
    const std::string s = "_h" + std::to_string(h);
    EXPECT_FLOAT_EQ(Feature(row, "yesterday" + s), std::log1p(grid_.count(1, a + h - 24)));
    EXPECT_FLOAT_EQ(Feature(row, "last_week" + s), std::log1p(grid_.count(1, a + h - 168)));
    const BucketCalendar c = grid_.Calendar(a + h);
    EXPECT_EQ(Feature(row, "target_slot" + s), c.slot_of_day);
    EXPECT_EQ(Feature(row, "target_holiday" + s), c.holiday ? 1 : 0);
    EXPECT_FLOAT_EQ(Feature(row, "ha_weekday_slot" + s),
                    std::log1p(baselines_.WeekdaySlotMean(1, c.weekday, c.slot_of_day)));
  }
  EXPECT_EQ(Feature(row, "target_slot_h1"), 8);
  EXPECT_EQ(Feature(row, "origin_slot"), 8);
  // The level: the last day's pickups over what the averages expected for those buckets.
  double day_ha = 0;
  for (int64_t b = a - 23; b <= a; ++b) {
    const BucketCalendar c = grid_.Calendar(b);
    day_ha += baselines_.WeekdaySlotMean(1, c.weekday, c.slot_of_day);
  }
  const double ratio_day = (grid_.ZoneTotal(1, a - 23, a + 1) + 1) / (day_ha + 1);
  EXPECT_NEAR(Feature(row, "level_day"), std::log(ratio_day), 1e-5);
  const BucketCalendar c1 = grid_.Calendar(a + 1);
  EXPECT_NEAR(Feature(row, "expected_day_h1"),
              std::log1p(baselines_.WeekdaySlotMean(1, c1.weekday, c1.slot_of_day) * ratio_day),
              1e-5);
  EXPECT_FLOAT_EQ(Feature(row, "mean_day"), std::log1p(grid_.ZoneTotal(1, a - 23, a + 1) / 24));
  EXPECT_FLOAT_EQ(Feature(row, "mean_week"), std::log1p(grid_.ZoneTotal(1, a - 167, a + 1) / 168));
  for (float v : row) EXPECT_TRUE(std::isfinite(v));
}

TEST_F(DemandFeaturesTest, BaselinesAverageTheTrainingBucketsOnly) {
  // Zone 0, Monday 09:00: the mean of weeks 1 and 2 (week 3 is outside [0, 14 days)).
  const double expected = (grid_.count(0, 9) + grid_.count(0, 7 * 24 + 9)) / 2.0;
  EXPECT_FLOAT_EQ(baselines_.WeekdaySlotMean(0, 0, 9), expected);
  double slot9 = 0;
  for (int d = 0; d < 14; ++d) slot9 += grid_.count(0, d * 24 + 9);
  EXPECT_FLOAT_EQ(baselines_.SlotMean(0, 9), slot9 / 14);
  EXPECT_FLOAT_EQ(baselines_.zone_mean[0], grid_.ZoneTotal(0, 0, 14 * 24) / (14 * 24));
  // Leaving week 2 out keeps only week 1.
  auto out_of_fold = ComputeDemandBaselines(grid_, 0, 14 * 24, 7 * 24, 14 * 24, nullptr);
  ASSERT_TRUE(out_of_fold.ok());
  EXPECT_FLOAT_EQ(out_of_fold->WeekdaySlotMean(0, 0, 9), grid_.count(0, 9));
  EXPECT_FALSE(ComputeDemandBaselines(grid_, 0, 24, 0, 24, nullptr).ok()) << "nothing left";
}

TEST_F(DemandFeaturesTest, OnlineHistoryGivesTheSameFeaturesAsTheGrid) {
  const int64_t t = T("2021-03-12 18:00");
  const int64_t end = grid_.BucketOf(t);
  const auto span = grid_.ZoneCounts(1).subspan(end - 168, 168);
  const std::string text = FormatRecentCounts(span);
  auto history = ParseRecentCounts(text, 168, "recent_counts");
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  std::vector<float> online(features_.num_features());
  ASSERT_TRUE(features_.ComputeForZone(baselines_, 8, t, *history, online.data()).ok());
  EXPECT_EQ(online, FromGrid(grid_, 1, t));
}

TEST_F(DemandFeaturesTest, RejectsBadInputsNamingThem) {
  std::vector<float> out(features_.num_features());
  std::vector<float> history(168, 1.0f);
  const int64_t t = T("2021-03-12 18:00");
  EXPECT_TRUE(features_.Compute(baselines_, 0, t, history, out.data()).ok());
  EXPECT_NE(
      features_.Compute(baselines_, 0, t, std::span<const float>(history).first(167), out.data())
          .message()
          .find("167 counts, expected 168"),
      std::string::npos);
  history[5] = -1;
  EXPECT_NE(features_.Compute(baselines_, 0, t, history, out.data()).message().find("history[5]"),
            std::string::npos);
  history[5] = 1;
  EXPECT_NE(features_.Compute(baselines_, 0, T("2021-03-12 18:30"), history, out.data())
                .message()
                .find("boundary"),
            std::string::npos);
  EXPECT_NE(
      features_.ComputeForZone(baselines_, 99, t, history, out.data()).message().find("zone 99"),
      std::string::npos);
  EXPECT_EQ(features_.ComputeFromGrid(baselines_, grid_, 0, T("2021-03-05"), out.data()).code(),
            StatusCode::kOutOfRange)
      << "the grid has no full week before 2021-03-05";
}

TEST(DemandFeatureConfigTest, HorizonsMustStayWithinADay) {
  DemandFeatureConfig c;
  c.horizons = 25;
  EXPECT_FALSE(DemandFeatures::Create(c, nullptr).ok());
  c.bucket_minutes = 15;
  c.horizons = 96;
  EXPECT_TRUE(DemandFeatures::Create(c, nullptr).ok());
  c.recent_lags = 0;
  EXPECT_FALSE(DemandFeatures::Create(c, nullptr).ok());
  c.recent_lags = 4;
  c.bucket_minutes = 45;
  EXPECT_FALSE(DemandFeatures::Create(c, nullptr).ok());
}

TEST(DemandFeatureConfigTest, FifteenMinuteBucketsNeedAWeekOf672Counts) {
  DemandFeatureConfig c;
  c.bucket_minutes = 15;
  auto f = DemandFeatures::Create(c, nullptr);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->history_buckets(), 672);
  const DemandGrid grid = RandomGrid(15);
  auto b = ComputeDemandBaselines(grid, 0, grid.num_buckets(), 0, 0, nullptr);
  ASSERT_TRUE(b.ok());
  std::vector<float> out(f->num_features());
  ASSERT_TRUE(f->ComputeFromGrid(*b, grid, 0, T("2021-03-10 10:15"), out.data()).ok());
  EXPECT_EQ(out[1], std::log1p(grid.count(0, grid.BucketOf(T("2021-03-10 10:00")))));
}

TEST(DemandWeatherFeatureTest, UsesThePreviousDayAndFillsMissingDays) {
  auto weather = WeatherTable::Parse(
      "DATE,PRCP,SNOW,SNWD,TMAX,TMIN,AWND\n"
      "2021-03-10,0.5,0,0,50,40,7\n"
      "2021-03-11,2.0,1,3,30,20,9\n",
      "weather.csv");
  ASSERT_TRUE(weather.ok()) << weather.status().ToString();
  const DemandGrid grid = RandomGrid();
  auto b = ComputeDemandBaselines(grid, 0, grid.num_buckets(), 0, 0, &*weather);
  ASSERT_TRUE(b.ok());
  EXPECT_FLOAT_EQ(b->weather_fill.precipitation_in, 1.25f);
  auto f = DemandFeatures::Create(DemandFeatureConfig{}, &*weather);
  ASSERT_TRUE(f.ok());
  const auto& n = f->names();
  const int prcp = static_cast<int>(std::find(n.begin(), n.end(), "weather_prcp") - n.begin());
  std::vector<float> out(f->num_features());
  ASSERT_TRUE(f->ComputeFromGrid(*b, grid, 0, T("2021-03-11 23:00"), out.data()).ok());
  EXPECT_FLOAT_EQ(out[prcp], 0.5f) << "2021-03-11's own rain is not known before it ends";
  ASSERT_TRUE(f->ComputeFromGrid(*b, grid, 0, T("2021-03-12 01:00"), out.data()).ok());
  EXPECT_FLOAT_EQ(out[prcp], 2.0f);
  ASSERT_TRUE(f->ComputeFromGrid(*b, grid, 0, T("2021-03-15 01:00"), out.data()).ok());
  EXPECT_FLOAT_EQ(out[prcp], 1.25f) << "a missing day takes the fill value";
}

TEST(DemandBaselinesTest, JsonRoundTripAndBadFiles) {
  const DemandGrid grid = RandomGrid();
  auto b = ComputeDemandBaselines(grid, 0, grid.num_buckets(), 0, 0, nullptr);
  ASSERT_TRUE(b.ok());
  auto back = DemandBaselines::FromJson(b->ToJson(), "demand_baselines.json");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->zones, b->zones);
  EXPECT_EQ(back->weekday_slot_mean, b->weekday_slot_mean);
  EXPECT_EQ(back->slot_mean, b->slot_mean);
  EXPECT_EQ(back->zone_mean, b->zone_mean);
  EXPECT_EQ(back->train_begin_us, b->train_begin_us);
  EXPECT_EQ(back->train_end_us, b->train_end_us);
  EXPECT_FLOAT_EQ(back->weather_fill.snow_depth_in, b->weather_fill.snow_depth_in);

  const auto error = [](std::string_view text) {
    return DemandBaselines::FromJson(text, "demand_baselines.json").status().message();
  };
  EXPECT_NE(error("{").find("demand_baselines.json: not a JSON object"), std::string::npos);
  EXPECT_NE(error(R"({"format": "x"})").find("not a bimride_demand_baselines"), std::string::npos);
  std::string text = b->ToJson();
  text.replace(text.find("\"zone_mean\":["), 13, "\"zone_mean\":[-5,");
  EXPECT_NE(error(text).find("'zone_mean'"), std::string::npos) << error(text);
  text = b->ToJson();
  text.replace(text.find("\"bucket_minutes\":60"), 19, "\"bucket_minutes\":7");
  EXPECT_NE(error(text).find("15, 30 or 60"), std::string::npos);
}

TEST(RecentCountsTest, ParsesAndRejectsBadText) {
  auto ok = ParseRecentCounts("1, 0,2.5", 3, "recent_counts");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, (std::vector<float>{1, 0, 2.5}));
  const auto error = [](std::string_view text) {
    return ParseRecentCounts(text, 3, "recent_counts").status().message();
  };
  EXPECT_NE(error("1,2").find("2 counts, expected 3"), std::string::npos);
  EXPECT_NE(error("1,x,2").find("value 2 'x'"), std::string::npos);
  EXPECT_NE(error("1,-2,2").find("value 2"), std::string::npos);
  EXPECT_NE(error("1,,2").find("value 2"), std::string::npos);
  EXPECT_NE(error("").find("value 1"), std::string::npos);
  EXPECT_NE(error("1,2,nan").find("value 3"), std::string::npos);
  EXPECT_EQ(FormatRecentCounts(std::vector<float>{1, 0, 2.5}), "1,0,2.5");
}

}  // namespace
}  // namespace bimride::features
