#include "tasks/behaviour/behaviour_dataset.h"

#include <gtest/gtest.h>

#include "tasks/behaviour/behaviour_test_util.h"

namespace bimride::tasks::behaviour {
namespace {

TEST(BehaviourDatasetTest, HistoryCountsOnlyEarlierQuotes) {
  const simulator::SimulatedCity city = SmallTestCity(7);
  ASSERT_FALSE(city.quotes.empty());
  StatusOr<ConversionRows> rows = BuildConversionRows(city);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->data.rows, static_cast<int64_t>(city.quotes.size()));
  // Replay: the i-th quote of a rider sees i-1 earlier quotes and the bookings among them.
  std::map<int64_t, std::pair<int, int>> seen;
  for (size_t i = 0; i < city.quotes.size(); ++i) {
    const simulator::QuoteRecord& q = city.quotes[i];
    auto& [quotes, bookings] = seen[q.rider_id];
    ASSERT_EQ(rows->data.feature(i, 9), quotes) << i;
    ASSERT_EQ(rows->data.feature(i, 10), bookings) << i;
    ASSERT_EQ(rows->data.targets[i], q.accepted ? 1.0f : 0.0f);
    ++quotes;
    bookings += q.accepted ? 1 : 0;
  }
  // The price ratio of an untested quote is its surge (the default tariff is the reference).
  for (size_t i = 0; i < city.quotes.size(); ++i) {
    const simulator::QuoteRecord& q = city.quotes[i];
    if (q.price_multiplier != 1.0f || q.quoted_fare < 8) continue;
    EXPECT_NEAR(rows->data.feature(i, 0), q.surge, 0.01) << i;
  }
  EXPECT_EQ(rows->day.front(), 0);
  EXPECT_EQ(rows->day.back(), 6);
}

TEST(BehaviourDatasetTest, SliceByDayKeepsItsDays) {
  const simulator::SimulatedCity city = SmallTestCity(7);
  StatusOr<ConversionRows> rows = BuildConversionRows(city);
  ASSERT_TRUE(rows.ok());
  const models::TabularData a = SliceByDay(*rows, 0, 3), b = SliceByDay(*rows, 3, 7);
  EXPECT_GT(a.rows, 0);
  EXPECT_GT(b.rows, 0);
  EXPECT_EQ(a.rows + b.rows, rows->data.rows);
  EXPECT_EQ(a.features.size(), static_cast<size_t>(a.rows) * kConversionFeatures);
}

TEST(BehaviourDatasetTest, UnknownRiderIsAnError) {
  simulator::SimulatedCity city = SmallTestCity(2);
  city.quotes[3].rider_id = 999999;
  StatusOr<ConversionRows> rows = BuildConversionRows(city);
  ASSERT_FALSE(rows.ok());
  EXPECT_NE(rows.status().message().find("quote 4"), std::string::npos) << rows.status().ToString();
  EXPECT_FALSE(BuildConversionRows(simulator::SimulatedCity{}).ok());
}

}  // namespace
}  // namespace bimride::tasks::behaviour
