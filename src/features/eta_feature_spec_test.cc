#include "features/eta_feature_spec.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "features/eta_request.h"

namespace bimride::features {
namespace {

TEST(EtaFeatureSpecTest, NamesAndSpecsOfBothFeatureSets) {
  EXPECT_EQ(EtaFeatureSpecName(EtaFeatureSet::kBooking), "eta_booking");
  EXPECT_EQ(EtaFeatureSpecName(EtaFeatureSet::kWithDistance), "eta_with_distance");
  EXPECT_EQ(*ParseEtaFeatureSet("booking"), EtaFeatureSet::kBooking);
  EXPECT_EQ(*ParseEtaFeatureSet("with-distance"), EtaFeatureSet::kWithDistance);
  EXPECT_EQ(*ParseEtaFeatureSet("eta_with_distance"), EtaFeatureSet::kWithDistance);
  EXPECT_FALSE(ParseEtaFeatureSet("fast").ok());
  const auto booking = EtaFeatureNames(EtaFeatureSet::kBooking);
  const auto with = EtaFeatureNames(EtaFeatureSet::kWithDistance);
  EXPECT_EQ(static_cast<int>(booking.size()), EtaFeatureCount(EtaFeatureSet::kBooking));
  ASSERT_GT(with.size(), booking.size());
  EXPECT_TRUE(std::equal(booking.begin(), booking.end(), with.begin()));
  EXPECT_EQ(booking[kEtaColPickupZone], "pickup_zone");
  EXPECT_EQ(booking[kEtaColDropoffZone], "dropoff_zone");
  EXPECT_EQ(booking[kEtaColHour], "hour");
  EXPECT_EQ(booking[kEtaColWeekday], "weekday");
  EXPECT_EQ(EtaCategoricalFeatureNames(EtaFeatureSet::kBooking),
            (std::vector<std::string>{"pickup_zone", "dropoff_zone", "pickup_borough",
                                      "dropoff_borough"}));
  EXPECT_EQ(EtaCategoricalFeatureNames(EtaFeatureSet::kWithDistance),
            EtaCategoricalFeatureNames(EtaFeatureSet::kBooking));
  EXPECT_EQ(EtaRequestFields(EtaFeatureSet::kBooking).size(), 3u);
  EXPECT_EQ(EtaRequestFields(EtaFeatureSet::kWithDistance).back(), "trip_distance");
}

}  // namespace
}  // namespace bimride::features
