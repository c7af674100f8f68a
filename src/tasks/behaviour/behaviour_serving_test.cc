// A conversion model trained and published by the behaviour task, served by the model server:
// raw quote fields plus the rider id (looked up in the version's rider_features.csv) answer
// with exactly the probabilities computed offline for the same quotes, through TF Serving's
// :predict and :classify and KServe v2; bad raw fields are 400s naming the field and row.
// The same for a retention model: the rider id alone, looked up in the version's
// retention_features.csv (the riders' features at the snapshot).
#include "tasks/behaviour/behaviour_serving.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "common/civil_time.h"
#include "common/file.h"
#include "registry/registry.h"
#include "serving/http/http_client.h"
#include "serving/http/http_transport.h"
#include "tasks/behaviour/behaviour_conversion.h"
#include "tasks/behaviour/behaviour_publish.h"
#include "tasks/behaviour/behaviour_retention.h"
#include "tasks/behaviour/behaviour_test_util.h"
#include "tasks/task.h"
#include "train/trainer.h"

namespace bimride::tasks::behaviour {
namespace {

using nlohmann::json;

TEST(RiderFeaturesFileTest, RoundTripsAndRefusesBadLines) {
  std::vector<RiderHistory> h(4);
  h[1].Add(1000, 1.0, 1.0, true);
  h[1].Add(2000, 1.6, 1.6, false);
  h[3].Add(5000, 1.0, 1.2, false);
  const std::string csv = RiderFeaturesToCsv(h);
  auto back = RiderFeaturesFromCsv(csv, "r.csv");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), 2u);  // rider 2 never saw a quote
  const RiderHistory& one = back->at(1);
  EXPECT_EQ(one.quotes, 2);
  EXPECT_EQ(one.bookings, 1);
  EXPECT_EQ(one.dear_quotes, 1);
  EXPECT_EQ(one.dear_bookings, 0);
  EXPECT_EQ(one.recent_surge, h[1].recent_surge);
  EXPECT_EQ(one.last_booking_us, 1000);
  EXPECT_EQ(back->at(3).last_booking_us, -1);

  auto bad_header = RiderFeaturesFromCsv("id,quotes\n", "r.csv");
  ASSERT_FALSE(bad_header.ok());
  EXPECT_NE(bad_header.status().message().find("r.csv: line 1"), std::string::npos);
  const std::string header = csv.substr(0, csv.find('\n') + 1);
  auto bad_counts = RiderFeaturesFromCsv(header + "1,2,3,0,0,1.0,\n", "r.csv");
  ASSERT_FALSE(bad_counts.ok());
  EXPECT_NE(bad_counts.status().message().find("line 2"), std::string::npos);
  auto twice = RiderFeaturesFromCsv(header + "1,2,1,0,0,1.0,\n1,2,1,0,0,1.0,\n", "r.csv");
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.status().message().find("twice"), std::string::npos);
}

class BehaviourServingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(FindTask("behaviour"), nullptr);
    if (!train::HasTrainer("xgboost")) GTEST_SKIP() << "no xgboost trainer in this build";
    repo_ = ::testing::TempDir() + "/behaviour_serving_" + registry::NewRunId();
    city_ = SmallTestCity(10, 0.1);
    ConversionOptions o;
    o.learned = {"xgboost"};
    o.xgboost_params["rounds"] = "30";
    o.train_days = 7;
    o.valid_days = 2;
    o.threads = 1;
    o.work_dir = repo_ + "_work";
    auto result = TrainConversionModels(city_, o);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    histories_ = RiderHistoriesAt(city_, std::numeric_limits<int64_t>::max());
    auto folder = WriteConversionModelFolder(*result, "xgboost", histories_, "conversion", "");
    ASSERT_TRUE(folder.ok()) << folder.status().ToString();
    auto reg = registry::Registry::Open(repo_);
    ASSERT_TRUE(reg.ok());
    auto published = (*reg)->PublishFolder(*folder);
    ASSERT_TRUE(published.ok()) << published.status().ToString();
    model_ = std::move(result->learned[0].model);
    // Quotes of the last day as a client would send them, with the offline answer.
    for (size_t i = city_.quotes.size() - 40; i < city_.quotes.size(); ++i) {
      const simulator::QuoteRecord& q = city_.quotes[i];
      quotes_.push_back(q);
      QuoteFields f{q.request_time_us, q.pickup_zone,          q.dropoff_zone,
                    q.estimated_miles, q.estimated_minutes,    q.quoted_fare};
      std::vector<float> row(kConversionFeatures);
      ConversionFeatureRow(f, q.surge, histories_[static_cast<size_t>(q.rider_id)], row.data());
      std::vector<float> p(1);
      ASSERT_TRUE(model_->Predict(row.data(), 1, p.data()).ok());
      expected_.push_back(p[0]);
    }
  }

  json Instance(const simulator::QuoteRecord& q) const {
    return {{"rider_id", q.rider_id},
            {"request_datetime", FormatCivil(q.request_time_us)},
            {"pickup_zone", q.pickup_zone},
            {"dropoff_zone", q.dropoff_zone},
            {"estimated_distance", q.estimated_miles},
            {"estimated_minutes", q.estimated_minutes},
            {"quoted_fare", q.quoted_fare},
            {"surge_multiplier", q.surge}};
  }

  std::string repo_;
  simulator::SimulatedCity city_;
  std::vector<RiderHistory> histories_;
  std::unique_ptr<models::Model> model_;
  std::vector<simulator::QuoteRecord> quotes_;
  std::vector<float> expected_;
};

TEST_F(BehaviourServingTest, PredictClassifyAndKserveAnswerTheOfflineProbabilities) {
  serving::ServerConfig config;
  config.model_repo = repo_;
  config.port = 0;
  config.io_threads = 1;
  config.poll_interval_ms = 0;
  auto server = serving::http::StartHttpServer(config);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  serving::http::HttpClient client("127.0.0.1", serving::http::HttpPort(**server));

  json instances = json::array();
  for (const auto& q : quotes_) instances.push_back(Instance(q));
  auto r = client.Post("/v1/models/conversion:predict", json({{"instances", instances}}).dump());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->status, 200) << r->body;
  json j = json::parse(r->body);
  ASSERT_EQ(j["predictions"].size(), expected_.size());
  for (size_t i = 0; i < expected_.size(); ++i) {
    EXPECT_NEAR(j["predictions"][i].get<double>(), expected_[i], 1e-6) << "quote " << i;
  }

  r = client.Post("/v1/models/conversion:classify", json({{"examples", instances}}).dump());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200) << r->body;
  j = json::parse(r->body);
  ASSERT_EQ(j["results"].size(), expected_.size());
  for (size_t i = 0; i < expected_.size(); ++i) {
    EXPECT_EQ(j["results"][i][0][0], "booked");
    EXPECT_NEAR(j["results"][i][0][1].get<double>(), expected_[i], 1e-6) << "quote " << i;
  }

  // KServe v2: one tensor per raw field.
  json inputs = json::array();
  const int64_t n = static_cast<int64_t>(quotes_.size());
  auto column = [&](const char* name, const char* type, auto get) {
    json data = json::array();
    for (const auto& q : quotes_) data.push_back(get(q));
    inputs.push_back({{"name", name}, {"shape", {n}}, {"datatype", type}, {"data", data}});
  };
  using Q = simulator::QuoteRecord;
  column("rider_id", "INT64", [](const Q& q) { return json(q.rider_id); });
  column("request_datetime", "BYTES", [](const Q& q) { return json(FormatCivil(q.request_time_us)); });
  column("pickup_zone", "INT32", [](const Q& q) { return json(q.pickup_zone); });
  column("dropoff_zone", "INT32", [](const Q& q) { return json(q.dropoff_zone); });
  column("estimated_distance", "FP64", [](const Q& q) { return json(q.estimated_miles); });
  column("estimated_minutes", "FP64", [](const Q& q) { return json(q.estimated_minutes); });
  column("quoted_fare", "FP64", [](const Q& q) { return json(q.quoted_fare); });
  column("surge_multiplier", "FP64", [](const Q& q) { return json(q.surge); });
  r = client.Post("/v2/models/conversion/infer", json({{"inputs", inputs}}).dump());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200) << r->body;
  j = json::parse(r->body);
  ASSERT_EQ(j["outputs"][0]["name"], "booked");
  ASSERT_EQ(j["outputs"][0]["data"].size(), expected_.size());
  for (size_t i = 0; i < expected_.size(); ++i) {
    EXPECT_NEAR(j["outputs"][0]["data"][i].get<double>(), expected_[i], 1e-6) << "quote " << i;
  }

  // A rider the file does not know is a newcomer: the features of an empty history.
  json stranger = Instance(quotes_[0]);
  stranger["rider_id"] = 99999999;
  r = client.Post("/v1/models/conversion:predict",
                  json({{"instances", json::array({stranger})}}).dump());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200) << r->body;
  {
    const auto& q = quotes_[0];
    QuoteFields f{q.request_time_us, q.pickup_zone, q.dropoff_zone, q.estimated_miles,
                  q.estimated_minutes, q.quoted_fare};
    std::vector<float> row(kConversionFeatures), p(1);
    ConversionFeatureRow(f, q.surge, RiderHistory{}, row.data());
    ASSERT_TRUE(model_->Predict(row.data(), 1, p.data()).ok());
    EXPECT_NEAR(json::parse(r->body)["predictions"][0].get<double>(), p[0], 1e-6);
  }

  // Bad raw fields: 400 naming the field and the row.
  json bad = instances;
  bad[2]["quoted_fare"] = -3;
  r = client.Post("/v1/models/conversion:predict", json({{"instances", bad}}).dump());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("row 2: field 'quoted_fare'"), std::string::npos) << r->body;
  bad = instances;
  bad[1]["request_datetime"] = "yesterday";
  r = client.Post("/v1/models/conversion:predict", json({{"instances", bad}}).dump());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("row 1: field 'request_datetime'"), std::string::npos) << r->body;
  bad = instances;
  bad[0].erase("rider_id");
  r = client.Post("/v1/models/conversion:predict", json({{"instances", bad}}).dump());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400) << r->body;
  (*server)->Shutdown();
}

TEST(RetentionFeaturesFileTest, RoundTripsAndRefusesBadLines) {
  const std::vector<int64_t> ids = {3, 7};
  std::vector<float> f(2 * kRetentionFeatures);
  for (size_t i = 0; i < f.size(); ++i) f[i] = 0.37f * static_cast<float>(i);
  const int64_t when = *ParseCivil("2024-05-02 00:00:00");
  const std::string csv = RetentionFeaturesToCsv(when, ids, f);
  auto back = RetentionFeaturesFromCsv(csv, "r.csv");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->snapshot_us, when);
  ASSERT_EQ(back->rows.size(), 2u);
  for (int k = 0; k < kRetentionFeatures; ++k) {
    EXPECT_EQ(back->rows.at(7)[k], f[kRetentionFeatures + k]) << k;  // bit for bit (%.9g)
  }
  EXPECT_NE(RetentionFeaturesFromCsv("rider_id\n", "r.csv").status().message().find(
                "r.csv: line 1"),
            std::string::npos);
  const std::string head = csv.substr(0, csv.find('\n', csv.find('\n') + 1) + 1);
  auto negative = RetentionFeaturesFromCsv(head + "1,-1,0,0,0,0,0,0,0,0,0,1\n", "r.csv");
  ASSERT_FALSE(negative.ok());
  EXPECT_NE(negative.status().message().find("line 3: quotes"), std::string::npos)
      << negative.status().ToString();
  auto short_line = RetentionFeaturesFromCsv(head + "1,2,3\n", "r.csv");
  ASSERT_FALSE(short_line.ok());
  EXPECT_NE(short_line.status().message().find("want 12 fields"), std::string::npos);

  // A version-1 file (totals since the data began, its own header) is read as version 1 only.
  std::string v1 = "# snapshot 2024-05-02 00:00:00\nrider_id";
  for (const char* n : kRetentionFeatureNamesV1) v1 += std::string(",") + n;
  v1 += "\n5,10,8,0.8,2,6,1.5,3,1,0,200,1.2\n";
  auto old = RetentionFeaturesFromCsv(v1, "old.csv", 1);
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(old->rows.at(5)[0], 10.0f);
  auto as_v2 = RetentionFeaturesFromCsv(v1, "old.csv");
  ASSERT_FALSE(as_v2.ok());
  EXPECT_NE(
      as_v2.status().message().find("old.csv: line 2: header must be 'rider_id,quotes_last_56d"),
      std::string::npos)
      << as_v2.status().ToString();
  EXPECT_FALSE(RetentionFeaturesFromCsv(csv, "r.csv", 1).ok());
  auto unknown = RetentionFeaturesFromCsv(csv, "r.csv", 3);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("version 3 is not known"), std::string::npos);
}

// A retention model trained on a short city (cut-offs every 3 days, horizon 7), published with
// the riders' features at the end, served; `members` > 1: a seed ensemble of that many.
void ServeRetentionAndCheckTheOfflineProbabilities(int members) {
  ASSERT_NE(FindTask("behaviour"), nullptr);
  if (!train::HasTrainer("xgboost")) GTEST_SKIP() << "no xgboost trainer in this build";
  const std::string repo = ::testing::TempDir() + "/retention_serving_" + registry::NewRunId();
  const simulator::SimulatedCity city = SmallTestCity(28, 0.0);
  RetentionOptions o;
  o.horizon_days = 7;
  o.cutoff_step_days = 3;
  o.first_cutoff_day = 3;
  o.test_cutoffs = 1;
  o.learned = {"xgboost"};
  o.xgboost_params["rounds"] = "30";
  o.xgboost_params["subsample"] = "0.5";
  o.seed_ensemble = {{"xgboost", members}};
  o.work_dir = repo + "_work";
  auto result = TrainRetentionModels(city, o);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->learned[0].backend, members == 1 ? "xgboost" : "seed_ensemble");
  auto snapshot = RetentionFeaturesAt(city, 28);
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  ASSERT_GT(snapshot->rider_id.size(), 50u);
  auto folder = WriteRetentionModelFolder(*result, "xgboost", *snapshot, 7, "retention", "");
  ASSERT_TRUE(folder.ok()) << folder.status().ToString();
  auto reg = registry::Registry::Open(repo);
  ASSERT_TRUE(reg.ok());
  auto published = (*reg)->PublishFolder(*folder);
  ASSERT_TRUE(published.ok()) << published.status().ToString();
  models::Model& model = *result->learned[0].model;
  // 30 riders of the snapshot, with the offline answer on their snapshot rows.
  std::vector<int64_t> riders;
  std::vector<float> expected;
  for (size_t i = 0; i < snapshot->rider_id.size() && riders.size() < 30; i += 7) {
    riders.push_back(snapshot->rider_id[i]);
    float p = 0;
    ASSERT_TRUE(model.Predict(&snapshot->features[i * kRetentionFeatures], 1, &p).ok());
    expected.push_back(p);
  }
  // The snapshot row of a rider is what the training rows hold for a cut-off on that day.
  {
    RetentionOptions at = o;
    at.first_cutoff_day = 14;
    at.horizon_days = 13;  // 14 + 13 <= 27: one cut-off, day 14
    auto rows = BuildRetentionRows(city, at);
    auto snap14 = RetentionFeaturesAt(city, 14);
    ASSERT_TRUE(rows.ok() && snap14.ok());
    ASSERT_EQ(rows->data.rows, static_cast<int64_t>(snap14->rider_id.size()));
    EXPECT_EQ(rows->data.features, snap14->features);
  }

  serving::ServerConfig config;
  config.model_repo = repo;
  config.port = 0;
  config.io_threads = 1;
  config.poll_interval_ms = 0;
  auto server = serving::http::StartHttpServer(config);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  serving::http::HttpClient client("127.0.0.1", serving::http::HttpPort(**server));
  json instances = json::array();
  for (int64_t id : riders) instances.push_back({{"rider_id", id}});
  auto r = client.Post("/v1/models/retention:predict", json({{"instances", instances}}).dump());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->status, 200) << r->body;
  json j = json::parse(r->body);
  ASSERT_EQ(j["predictions"].size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NEAR(j["predictions"][i].get<double>(), expected[i], 1e-6) << "rider " << riders[i];
  }
  r = client.Post("/v1/models/retention:classify", json({{"examples", instances}}).dump());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200) << r->body;
  j = json::parse(r->body);
  ASSERT_EQ(j["results"].size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(j["results"][i][0][0], "retained");
    EXPECT_NEAR(j["results"][i][0][1].get<double>(), expected[i], 1e-6);
  }
  json ids = json::array();
  for (int64_t id : riders) ids.push_back(id);
  r = client.Post("/v2/models/retention/infer",
                  json({{"inputs", json::array({{{"name", "rider_id"},
                                                  {"shape", {static_cast<int64_t>(riders.size())}},
                                                  {"datatype", "INT64"},
                                                  {"data", ids}}})}})
                      .dump());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200) << r->body;
  j = json::parse(r->body);
  ASSERT_EQ(j["outputs"][0]["name"], "retained");
  ASSERT_EQ(j["outputs"][0]["data"].size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NEAR(j["outputs"][0]["data"][i].get<double>(), expected[i], 1e-6);
  }
  // A rider not active at the snapshot, and a rider id that is not one: 400 naming the row.
  json bad = instances;
  bad[3]["rider_id"] = 99999999;
  r = client.Post("/v1/models/retention:predict", json({{"instances", bad}}).dump());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("row 3: field 'rider_id': rider 99999999 was not active"),
            std::string::npos)
      << r->body;
  bad = instances;
  bad[1]["rider_id"] = 2.5;
  r = client.Post("/v1/models/retention:predict", json({{"instances", bad}}).dump());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("row 1: field 'rider_id'"), std::string::npos) << r->body;
  (*server)->Shutdown();
}

TEST(RetentionServingTest, PredictClassifyAndKserveAnswerTheSnapshotsOfflineProbabilities) {
  ServeRetentionAndCheckTheOfflineProbabilities(1);
}

// The published seed ensemble (all members' files) is served as what was evaluated: the mean.
TEST(RetentionServingTest, ASeedEnsembleIsServedAsTheMeanItWasScoredAs) {
  ServeRetentionAndCheckTheOfflineProbabilities(3);
}

}  // namespace
}  // namespace bimride::tasks::behaviour
