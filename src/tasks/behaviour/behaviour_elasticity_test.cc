#include "tasks/behaviour/behaviour_elasticity.h"

#include <gtest/gtest.h>

#include "tasks/behaviour/behaviour_test_util.h"

namespace bimride::tasks::behaviour {
namespace {

TEST(BehaviourElasticityTest, CausalEstimatesLandNearTheTruth) {
  const simulator::SimulatedCity city = SmallTestCity(21, 0.3);
  StatusOr<std::vector<ElasticityCell>> cells = EstimateElasticities(city);
  ASSERT_TRUE(cells.ok()) << cells.status().ToString();
  ASSERT_FALSE(cells->empty());
  int checked = 0, covered = 0;
  for (const ElasticityCell& c : *cells) {
    EXPECT_LT(c.truth, 0) << "conversion falls with price";
    if (c.profile != kAllProfiles) continue;
    ASSERT_TRUE(c.price_test.ok) << kSurgeBandNames[c.band] << ": " << c.price_test.note;
    ++checked;
    covered += c.price_test.Covers(c.truth) ? 1 : 0;
    // Intervals are honest: neither degenerate nor useless.
    EXPECT_GT(c.price_test.se, 0);
    EXPECT_LT(c.price_test.upper - c.price_test.lower, 2.0);
  }
  EXPECT_EQ(checked, kSurgeBands);
  EXPECT_GE(covered, kSurgeBands - 1);
}

TEST(BehaviourElasticityTest, WithoutAPriceTestOnlyNaiveAndRdEstimate) {
  const simulator::SimulatedCity city = SmallTestCity(7, 0.0);
  StatusOr<std::vector<ElasticityCell>> cells = EstimateElasticities(city);
  ASSERT_TRUE(cells.ok()) << cells.status().ToString();
  for (const ElasticityCell& c : *cells) {
    EXPECT_FALSE(c.price_test.ok);
    EXPECT_NE(c.price_test.note.find("price test"), std::string::npos);
  }
}

TEST(BehaviourElasticityTest, BadInputIsAnError) {
  EXPECT_FALSE(EstimateElasticities(simulator::SimulatedCity{}).ok());
  simulator::SimulatedCity city = SmallTestCity(2);
  ElasticityOptions o;
  o.rd_bandwidth = 0.2;
  EXPECT_FALSE(EstimateElasticities(city, o).ok());
  city.quotes[0].rider_id = 0;
  StatusOr<std::vector<ElasticityCell>> cells = EstimateElasticities(city);
  ASSERT_FALSE(cells.ok());
  EXPECT_NE(cells.status().message().find("quote 1"), std::string::npos);
}

TEST(BehaviourElasticityTest, SurgeBands) {
  EXPECT_EQ(SurgeBand(1.0), 0);
  EXPECT_EQ(SurgeBand(1.1), 1);
  EXPECT_EQ(SurgeBand(1.4), 1);
  EXPECT_EQ(SurgeBand(1.5), 2);
  EXPECT_EQ(SurgeBand(2.4), 3);
  EXPECT_EQ(SurgeBand(3.0), 4);
}

}  // namespace
}  // namespace bimride::tasks::behaviour
