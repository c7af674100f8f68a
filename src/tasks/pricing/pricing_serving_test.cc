// Served pricing: a ratio-surge policy published to a registry and served by the model server;
// market events posted to POST /v1/online/market land in the server's online store, and
// POST /v1/models/pricing:predict answers the zone's multiplier (one per zone and 5 minutes,
// with the guard rails) and the quote; bad events and bad raw fields are 400s naming them.
#include "tasks/pricing/pricing_serving.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/civil_time.h"
#include "registry/registry.h"
#include "serving/http/http_client.h"
#include "serving/http/http_transport.h"
#include "serving/http/online_codec.h"
#include "tasks/pricing/market.h"
#include "tasks/task.h"

namespace bimride::tasks::pricing {
namespace {

using nlohmann::json;

// A market post as the server hands it to the recorder.
StatusOr<int64_t> Record(std::string_view body, online::FeatureStore& store) {
  ASSIGN_OR_RETURN(serving::RawBatch events, serving::http::ParseOnlineEventsRequest(body, 1000));
  return RecordMarketEvents(events, store);
}

TEST(MarketEventsTest, WritesCountersAndGaugesAndRefusesBadEvents) {
  auto store = online::NewMemoryFeatureStore();
  StatusOr<int64_t> n = Record(
      R"({"events": [{"zone": 3, "time": "2024-03-14 21:03:10", "requests": 2, "idle_drivers": 5},
                     {"zone": 3, "time": "2024-03-14 21:04:59", "requests": 1, "idle_drivers": 4}]})",
      *store);
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, 2);
  const int64_t b = PricingBucket(*ParseCivil("2024-03-14 21:03:10"));
  EXPECT_EQ(PricingBucket(*ParseCivil("2024-03-14 21:00:00")), b);
  EXPECT_EQ(*(*store->Range(PricingRequestsKey(3), b, 1))[0], 3.0);
  EXPECT_EQ(*(*store->Range(PricingIdleKey(3), b, 1))[0], 4.0) << "idle drivers: the last one";
  // Requests alone or idle drivers alone are fine.
  ASSERT_TRUE(
      Record(R"({"events": [{"zone": 3, "time": "2024-03-14 21:03", "requests": 1}]})", *store)
          .ok());
  EXPECT_EQ(*(*store->Range(PricingRequestsKey(3), b, 1))[0], 4.0);
  ASSERT_TRUE(
      Record(R"({"events": [{"zone": 3, "time": "2024-03-14 21:03", "idle_drivers": 0}]})", *store)
          .ok());
  EXPECT_EQ(*(*store->Range(PricingIdleKey(3), b, 1))[0], 0.0);

  for (auto [body, want] : std::vector<std::pair<const char*, const char*>>{
           {R"({"events": [{"zone": 0, "time": "2024-03-14 21:03", "requests": 1}]})",
            "events[0].zone"},
           {R"({"events": [{"zone": 2.5, "time": "2024-03-14 21:03", "requests": 1}]})",
            "events[0].zone"},
           {R"({"events": [{"zone": 2, "time": "yesterday", "requests": 1}]})", "events[0].time"},
           {R"({"events": [{"zone": 2, "time": 7, "requests": 1}]})", "events[0].time"},
           {R"({"events": [{"zone": 2, "time": "2024-03-14 21:03", "requests": -1}]})",
            "events[0].requests"},
           {R"({"events": [{"zone": 2, "time": "2024-03-14 21:03", "requests": "1"}]})",
            "events[0].requests"},
           {R"({"events": [{"zone": 2, "time": "2024-03-14 21:03", "requests": 1},
                           {"zone": 2, "time": "2024-03-14 21:03", "requests": 1e7}]})",
            "events[1].requests"},
           {R"({"events": [{"zone": 2, "time": "2024-03-14 21:03"}]})", "neither"},
           {R"({"events": [{"zone": 2, "requests": 1}]})", "needs 'time'"},
           {R"({"events": [{"zone": 2, "time": "2024-03-14 21:03", "idle": 1}]})",
            "unknown field 'idle'"},
       }) {
    StatusOr<int64_t> bad = Record(body, *store);
    ASSERT_FALSE(bad.ok()) << body;
    EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument) << body;
    EXPECT_NE(bad.status().message().find(want), std::string::npos) << bad.status().message();
  }
  // Nothing of a bad post was written (zone 2 stays empty).
  EXPECT_FALSE((*store->Range(PricingRequestsKey(2), b, 1))[0].has_value());
}

TEST(PricingPolicyFileTest, RoundTripsAndNamesBadFields) {
  PricingPolicyFile p;
  p.config.policy = PricingPolicy::kForecast;
  p.config.cap = 2.5;
  p.zones = 3;
  p.neighbours = {{2, 3}, {1}, {1, 2}};
  StatusOr<PricingPolicyFile> back = PricingPolicyFromJson(PricingPolicyToJson(p), "p.json");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->config.policy, PricingPolicy::kForecast);
  EXPECT_EQ(back->config.cap, 2.5);
  EXPECT_EQ(back->neighbours, p.neighbours);
  json j = json::parse(PricingPolicyToJson(p));
  j["cap"] = 0.5;
  EXPECT_NE(PricingPolicyFromJson(j.dump(), "p.json")
                .status()
                .message()
                .find("p.json: pricing config: cap"),
            std::string::npos);
  j = json::parse(PricingPolicyToJson(p));
  j["neighbours"][0][0] = 9;
  EXPECT_NE(PricingPolicyFromJson(j.dump(), "p.json").status().message().find("neighbours"),
            std::string::npos);
}

TEST(PricingPolicyFileTest, KeepsTheObjectiveAndRefusesAnUnknownOne) {
  PricingPolicyFile p;
  p.config.policy = PricingPolicy::kForecast;
  p.config.objective = PricingObjective::kTripsPlusRevenue;
  p.config.revenue_weight = 0.4;
  p.zones = 1;
  p.neighbours = {{}};
  StatusOr<PricingPolicyFile> back = PricingPolicyFromJson(PricingPolicyToJson(p), "p.json");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->config.objective, PricingObjective::kTripsPlusRevenue);
  EXPECT_EQ(back->config.revenue_weight, 0.4);
  p.config.objective = PricingObjective::kTripsAtRatioRevenue;
  back = PricingPolicyFromJson(PricingPolicyToJson(p), "p.json");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->config.objective, PricingObjective::kTripsAtRatioRevenue);
  // An unknown objective is refused (it once fell back to trips silently).
  json j = json::parse(PricingPolicyToJson(p));
  j["objective"] = "profit";
  EXPECT_NE(PricingPolicyFromJson(j.dump(), "p.json").status().message().find("p.json: objective"),
            std::string::npos);
  // A policy file written before the revenue weight existed still loads, with weight 0.
  j = json::parse(PricingPolicyToJson(p));
  j.erase("revenue_weight");
  back = PricingPolicyFromJson(j.dump(), "p.json");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->config.revenue_weight, 0.0);
}

class PricingServingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(FindTask("pricing"), nullptr);
    repo_ = ::testing::TempDir() + "/pricing_serving_" + registry::NewRunId();
    PricingPolicyFile p;
    p.config.policy = PricingPolicy::kRatio;
    p.config.smoothing = 1.0;
    p.config.max_step = 0.5;
    simulator::CityConfig city;
    city.zones = 12;
    p.zones = 12;
    p.neighbours = ZoneNeighbourIds(city);
    p.tariff = city.tariff;
    tariff_ = p.tariff;
    ASSERT_TRUE(WritePricingVersionFolder(p, nullptr, "pricing", repo_ + "_work").ok());
    auto reg = registry::Registry::Open(repo_);
    ASSERT_TRUE(reg.ok());
    auto published = (*reg)->PublishFolder(repo_ + "_work");
    ASSERT_TRUE(published.ok()) << published.status().ToString();
    // The zones it prices, for the web console's surge map (console/console_data.h).
    EXPECT_EQ(published->properties["zones"], "12");
  }
  std::string repo_;
  simulator::Tariff tariff_;
};

TEST_F(PricingServingTest, EventsInMultiplierAndQuoteOut) {
  serving::ServerConfig config;
  config.model_repo = repo_;
  config.port = 0;
  config.io_threads = 1;
  config.poll_interval_ms = 0;
  auto server = serving::http::StartHttpServer(config);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  serving::http::HttpClient client("127.0.0.1", serving::http::HttpPort(**server));

  // 21:00–21:05: zone 5 saw 6 requests with 2 idle drivers; zone 6 quiet with 4 idle.
  auto r = client.Post(
      "/v1/online/market",
      json({{"events",
             {{{"zone", 5}, {"time", "2024-03-14 21:01:00"}, {"requests", 6}, {"idle_drivers", 2}},
              {{"zone", 6},
               {"time", "2024-03-14 21:02:00"},
               {"requests", 1},
               {"idle_drivers", 4}}}}})
          .dump());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body)["recorded"], 2);

  // 21:07: ratio surge 6 / 2 = 3, but the max step from the floor is 0.5 → 1.5.
  r = client.Post("/v1/models/pricing:predict", json({{"instances",
                                                       {{{"zone", 5},
                                                         {"time", "2024-03-14 21:07:00"},
                                                         {"estimated_distance", 3.0},
                                                         {"estimated_minutes", 14.0}},
                                                        {{"zone", 6},
                                                         {"time", "2024-03-14 21:07:00"},
                                                         {"estimated_distance", 3.0},
                                                         {"estimated_minutes", 14.0}}}}})
                                                    .dump());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200) << r->body;
  json j = json::parse(r->body);
  EXPECT_NEAR(j["predictions"][0]["multiplier"].get<double>(), 1.5, 1e-6) << r->body;
  const double fare = simulator::Fare(tariff_, 3.0 / simulator::kMilesPerKm, 14.0, 1.0);
  EXPECT_NEAR(j["predictions"][0]["quote"].get<double>(), std::round(fare * 150) / 100, 0.01);
  EXPECT_NEAR(j["predictions"][1]["multiplier"].get<double>(), 1.0, 1e-6);
  EXPECT_NEAR(j["predictions"][1]["quote"].get<double>(), std::round(fare * 100) / 100, 0.01);

  // A preview (an operator's look) answers what a quote would get without fixing the bucket.
  const int64_t b2110 = PricingBucket(*ParseCivil("2024-03-14 21:10:00"));
  online::FeatureStore& store = (*server)->online_store();
  r = client.Post(
      "/v1/models/pricing:predict",
      json({{"instances", {{{"zone", 6}, {"time", "2024-03-14 21:11:00"}, {"preview", 1}}}}})
          .dump());
  ASSERT_EQ(r->status, 200) << r->body;
  const double previewed = json::parse(r->body)["predictions"][0]["multiplier"].get<double>();
  EXPECT_FALSE((*store.Range(PricingMultiplierKey(6), b2110, 1))[0].has_value())
      << "a preview fixed the multiplier";
  r = client.Post(
      "/v1/models/pricing:predict",
      json({{"instances", {{{"zone", 6}, {"time", "2024-03-14 21:11:00"}, {"preview", 0}}}}})
          .dump());
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body)["predictions"][0]["multiplier"].get<double>(), previewed);
  ASSERT_TRUE((*store.Range(PricingMultiplierKey(6), b2110, 1))[0].has_value());
  EXPECT_NEAR(*(*store.Range(PricingMultiplierKey(6), b2110, 1))[0], previewed, 1e-6);
  r = client.Post(
      "/v1/models/pricing:predict",
      json({{"instances", {{{"zone", 6}, {"time", "2024-03-14 21:11:00"}, {"preview", 2}}}}})
          .dump());
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("preview"), std::string::npos) << r->body;

  // Later events in the same 5 minutes do not move a multiplier already quoted; the next
  // interval steps again (1.5 → 2.0).
  r = client.Post("/v1/online/market", json({{"events",
                                              {{{"zone", 5},
                                                {"time", "2024-03-14 21:08:00"},
                                                {"requests", 8},
                                                {"idle_drivers", 1}}}}})
                                           .dump());
  ASSERT_EQ(r->status, 200);
  r = client.Post("/v1/models/pricing:predict",
                  json({{"instances", {{{"zone", 5}, {"time", "2024-03-14 21:09:00"}}}}}).dump());
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_NEAR(json::parse(r->body)["predictions"][0]["multiplier"].get<double>(), 1.5, 1e-6);
  r = client.Post("/v1/models/pricing:predict",
                  json({{"instances", {{{"zone", 5}, {"time", "2024-03-14 21:11:00"}}}}}).dump());
  ASSERT_EQ(r->status, 200) << r->body;
  j = json::parse(r->body);
  EXPECT_NEAR(j["predictions"][0]["multiplier"].get<double>(), 2.0, 1e-6);
  // Without a trip, the quote is the minimum fare × multiplier.
  EXPECT_NEAR(j["predictions"][0]["quote"].get<double>(), tariff_.minimum_fare * 2.0, 0.01);

  // Bad input: named.
  for (auto [body, want] : std::vector<std::pair<json, const char*>>{
           {{{"instances", {{{"zone", 13}, {"time", "2024-03-14 21:11:00"}}}}}, "field 'zone'"},
           {{{"instances", {{{"zone", 5}, {"time", "soon"}}}}}, "field 'time'"},
           {{{"instances", {{{"zone", 5}}}}}, "missing raw field 'time'"},
           {{{"instances",
              {{{"zone", 5}, {"time", "2024-03-14 21:11:00"}, {"estimated_distance", 2.0}}}}},
            "together"}}) {
    r = client.Post("/v1/models/pricing:predict", body.dump());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 400) << body.dump();
    EXPECT_NE(r->body.find(want), std::string::npos) << r->body;
  }
  r = client.Post("/v1/online/market", R"({"events": [{"zone": 5, "time": "x", "requests": 1}]})");
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("events[0].time"), std::string::npos) << r->body;
  r = client.Post("/v1/online/nosuch", R"({"events": [{"zone": 5}]})");
  EXPECT_EQ(r->status, 404);
  EXPECT_NE(r->body.find("market"), std::string::npos) << r->body;
  r = client.Get("/v1/online/market");
  EXPECT_EQ(r->status, 405);
}

}  // namespace
}  // namespace bimride::tasks::pricing
