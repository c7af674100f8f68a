#include "serving/canary_router.h"

#include <gtest/gtest.h>

#include "serving/testing/test_models.h"

namespace bimride::serving {
namespace {

// A snapshot of model "eta" built by hand: versions 1..3 loaded (each answers its version number
// for a zero row), version 4 known but failed; labels stable → 1, canary → 2, broken → 4.
class CanaryRouterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    testing::RegisterTestBackendAndFeatures();
    const std::string repo = testing::MakeTempDir("canary_router_test");
    for (int v = 1; v <= 3; ++v) {
      testing::TestVersionOptions o;
      o.bias = {static_cast<float>(v)};
      ASSERT_TRUE(testing::WriteTestVersion(repo, "eta", v, o).ok());
      auto s = testing::LoadTestServable(repo, "eta", v);
      ASSERT_TRUE(s.ok()) << s.status().ToString();
      (*servables_)[v] = *s;
    }
  }
  static void TearDownTestSuite() { servables_->clear(); }
  void SetUp() override {
    snapshot_.name = "eta";
    snapshot_.available = *servables_;
    snapshot_.states = {{1, VersionState::kAvailable},
                        {2, VersionState::kAvailable},
                        {3, VersionState::kAvailable},
                        {4, VersionState::kEnd}};
    snapshot_.labels = {{"stable", 1}, {"canary", 2}, {"broken", 4}};
  }
  static int64_t VersionOf(const StatusOr<Route>& r) {
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->primary->spec().version : -1;
  }
  static VersionSelector Version(int64_t v) {
    VersionSelector s;
    s.version = v;
    return s;
  }
  static VersionSelector Label(std::string l) {
    VersionSelector s;
    s.label = std::move(l);
    return s;
  }

  static inline auto* servables_ = new std::map<int64_t, std::shared_ptr<const Servable>>();
  ModelSnapshot snapshot_;
};

TEST_F(CanaryRouterTest, DefaultRouteIsStableElseLatest) {
  EXPECT_EQ(VersionOf(RouteRequest(snapshot_, {}, "")), 1);
  snapshot_.labels.erase("stable");
  EXPECT_EQ(VersionOf(RouteRequest(snapshot_, {}, "")), 3);
  snapshot_.available.clear();
  auto none = RouteRequest(snapshot_, {}, "");
  EXPECT_EQ(none.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(none.status().message().find("no AVAILABLE version"), std::string::npos);
}

TEST_F(CanaryRouterTest, ExplicitVersionOrLabelWinsWithClearErrors) {
  EXPECT_EQ(VersionOf(RouteRequest(snapshot_, Version(3), "")), 3);
  EXPECT_EQ(VersionOf(RouteRequest(snapshot_, Label("canary"), "")), 2);
  auto unknown = RouteRequest(snapshot_, Version(9), "");
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_NE(unknown.status().message().find("has no version 9"), std::string::npos);
  auto failed = RouteRequest(snapshot_, Version(4), "");
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(failed.status().message().find("state END"), std::string::npos);
  auto no_label = RouteRequest(snapshot_, Label("blue"), "");
  EXPECT_EQ(no_label.status().code(), StatusCode::kNotFound);
  EXPECT_NE(no_label.status().message().find("no label 'blue'"), std::string::npos);
  auto broken = RouteRequest(snapshot_, Label("broken"), "");
  EXPECT_EQ(broken.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(broken.status().message().find("points to version 4"), std::string::npos);
}

TEST_F(CanaryRouterTest, SplitIsWeightedAndStickyByKey) {
  snapshot_.routing.split = {{"stable", 90}, {"canary", 10}};
  int canary = 0;
  for (int i = 0; i < 10000; ++i) {
    const std::string key = "rider-" + std::to_string(i);
    int64_t v = VersionOf(RouteRequest(snapshot_, {}, key));
    canary += v == 2;
    EXPECT_EQ(VersionOf(RouteRequest(snapshot_, {}, key)), v) << "same key, same side";
  }
  EXPECT_NEAR(canary, 1000, 150);
  int unkeyed = 0;
  for (int i = 0; i < 10000; ++i) unkeyed += VersionOf(RouteRequest(snapshot_, {}, "")) == 2;
  EXPECT_NEAR(unkeyed, 1000, 150) << "round-robin by weight without a key";
  EXPECT_EQ(VersionOf(RouteRequest(snapshot_, Version(3), "rider-1")), 3)
      << "an explicit version bypasses the split";
}

TEST_F(CanaryRouterTest, SharesWhoseTargetIsNotServingAreSkipped) {
  snapshot_.routing.split = {{"broken", 50}, {"3", 50}, {"nonsense", 50}};
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(VersionOf(RouteRequest(snapshot_, {}, "rider-" + std::to_string(i))), 3);
  }
  snapshot_.routing.split = {{"broken", 100}};
  EXPECT_EQ(VersionOf(RouteRequest(snapshot_, {}, "rider")), 1) << "falls back to stable";
}

TEST_F(CanaryRouterTest, ShadowsAreServingVersionsOtherThanThePrimary) {
  snapshot_.routing.shadow = {"canary", "3", "broken", "stable"};
  auto r = RouteRequest(snapshot_, {}, "");
  ASSERT_TRUE(r.ok());
  std::vector<int64_t> shadows;
  for (const auto& s : r->shadows) shadows.push_back(s->spec().version);
  EXPECT_EQ(shadows, (std::vector<int64_t>{2, 3})) << "not the primary, not a failed version";
  r = RouteRequest(snapshot_, Label("canary"), "");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->shadows.size(), 2u);
  EXPECT_EQ(r->shadows[0]->spec().version, 3);
  EXPECT_EQ(r->shadows[1]->spec().version, 1);
}

TEST_F(CanaryRouterTest, ResolveTargetTakesALabelOrAVersionNumber) {
  EXPECT_EQ(ResolveTarget(snapshot_, "canary")->spec().version, 2);
  EXPECT_EQ(ResolveTarget(snapshot_, "3")->spec().version, 3);
  EXPECT_EQ(ResolveTarget(snapshot_, "broken"), nullptr);
  EXPECT_EQ(ResolveTarget(snapshot_, "7"), nullptr);
  EXPECT_EQ(ResolveTarget(snapshot_, "3x"), nullptr);
  EXPECT_EQ(ResolveTarget(snapshot_, ""), nullptr);
}

// Pinned values: changing the hash would move every sticky caller to another side of a split.
// (Its offset basis, 1469598103934665603, is a digit short of FNV-1a's standard
// 14695981039346656037.)
TEST_F(CanaryRouterTest, StickyHashIsPinnedAcrossProcessesAndReleases) {
  EXPECT_EQ(StickyHash(""), 1469598103934665603ull);
  EXPECT_EQ(StickyHash("a"), 4953267810257967366ull);
  EXPECT_NE(StickyHash("rider-1"), StickyHash("rider-2"));
}

}  // namespace
}  // namespace bimride::serving
