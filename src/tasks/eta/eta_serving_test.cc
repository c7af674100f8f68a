// A model trained and published by the ETA task, served by the model server (raw request
// fields through the task's feature spec, eta_serving.cc), answers with exactly the predictions offline
// evaluation computes for the same trips — for XGBoost and the TorchScript export.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/civil_time.h"
#include "registry/registry.h"
#include "serving/http/http_transport.h"
#include "serving/http/http_client.h"
#include "tasks/eta/eta_test_util.h"
#include "tasks/eta/eta_training.h"
#include "tasks/task.h"

namespace bimride::tasks::eta {
namespace {

using features::EtaFeatureSet;
using nlohmann::json;

class EtaServingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The feature specs come from the ETA task's own registration (eta_task.cc, linked whole).
    ASSERT_NE(FindTask("eta"), nullptr);
    repo_ = testing::TempDir("serving_repo");
    auto train =
        MakeEtaDataset(testing::SyntheticTrips(2500, 11, DaysFromCivil(2021, 1, 1), 28, true), {});
    auto valid =
        MakeEtaDataset(testing::SyntheticTrips(400, 12, DaysFromCivil(2021, 2, 1), 28, true), {});
    ASSERT_TRUE(train.ok() && valid.ok());
    train_ = *train;
    valid_ = *valid;
    // What riders send: zones, time and (for with-distance) the meter — no coordinates, so the
    // zone centroids learned in training answer.
    evaluated_ =
        *MakeEtaDataset(testing::SyntheticTrips(300, 13, DaysFromCivil(2021, 2, 1), 28, false), {});
  }
  void TearDown() override { std::filesystem::remove_all(repo_); }

  // Trains `kind` on `set`, publishes it as `name`; returns the offline predictions for
  // evaluated_ computed from the published version folder.
  std::vector<float> TrainAndPublish(EtaFeatureSet set, const std::string& kind,
                                     const std::string& name) {
    EtaTrainConfig c = DefaultEtaTrainConfig(set, kind);
    if (kind == "xgboost") c.params["rounds"] = "40";
    if (kind == "torch") {
      c.params["epochs"] = "2";
      c.params["hidden_sizes"] = "32,16";
    }
    c.zone_embedding_dim = 4;
    c.threads = 1;
    c.model_name = name;
    const std::string out = repo_ + "/out_" + name;
    auto result = TrainEtaModel(train_, valid_, nullptr, nullptr, c, out, nullptr);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    if (!result.ok()) return {};
    auto reg = registry::Registry::Open(repo_);
    EXPECT_TRUE(reg.ok());
    std::vector<registry::ArtifactFile> files;
    for (const std::string& a : result->manifest.artifacts) files.push_back({out + "/" + a, a});
    auto published = (*reg)->Publish(files, result->manifest);
    EXPECT_TRUE(published.ok()) << published.status().ToString();
    auto loaded = LoadEtaModel((*reg)->repository().VersionDir(name, published->version));
    EXPECT_TRUE(loaded.ok()) << loaded.status().ToString();
    auto p = PredictEta(*loaded, evaluated_.trips);
    EXPECT_TRUE(p.ok());
    return p.ok() ? *p : std::vector<float>{};
  }

  json Instances(bool with_distance) const {
    json instances = json::array();
    const data::TripTable& t = evaluated_.trips;
    for (size_t i = 0; i < t.size(); ++i) {
      json row = {{"pickup_zone", t.pickup_zone[i]},
                  {"dropoff_zone", t.dropoff_zone[i]},
                  {"pickup_datetime", FormatCivil(t.pickup_time_us[i])}};
      if (with_distance) row["trip_distance"] = t.distance_miles[i];
      instances.push_back(row);
    }
    return instances;
  }

  std::string repo_;
  EtaDataset train_, valid_, evaluated_;
};

TEST_F(EtaServingTest, ServedRawFieldRequestsGiveExactlyTheOfflinePredictions) {
  if (!train::HasTrainer("xgboost") || !train::HasTrainer("torch")) {
    GTEST_SKIP() << "needs both the XGBoost and the LibTorch trainers";
  }
  const std::vector<float> xgb =
      TrainAndPublish(EtaFeatureSet::kWithDistance, "xgboost", "eta_xgb");
  const std::vector<float> net =
      TrainAndPublish(EtaFeatureSet::kBooking, "torch", "eta_torch");
  ASSERT_EQ(xgb.size(), evaluated_.trips.size());
  ASSERT_EQ(net.size(), evaluated_.trips.size());
  serving::ServerConfig config;
  config.model_repo = repo_;
  config.port = 0;
  config.io_threads = 1;
  config.poll_interval_ms = 0;
  config.max_batch_rows = 1000;
  auto server = serving::http::StartHttpServer(config);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  serving::http::HttpClient client("127.0.0.1", serving::http::HttpPort(**server));
  struct Case {
    std::string model;
    bool with_distance;
    const std::vector<float>* offline;
  };
  for (const Case& c : {Case{"eta_xgb", true, &xgb}, Case{"eta_torch", false, &net}}) {
    SCOPED_TRACE(c.model);
    json body = {{"instances", Instances(c.with_distance)}};
    auto r = client.Post("/v1/models/" + c.model + ":predict", body.dump());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->status, 200) << r->body;
    json j = json::parse(r->body);
    ASSERT_EQ(j["predictions"].size(), c.offline->size());
    for (size_t i = 0; i < c.offline->size(); ++i) {
      ASSERT_EQ(j["predictions"][i].get<float>(), (*c.offline)[i]) << "trip " << i;
    }
    // One row at a time (batch 1) answers the same.
    json one = {{"instances", json::array({Instances(c.with_distance)[7]})}};
    r = client.Post("/v1/models/" + c.model + ":predict", one.dump());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(json::parse(r->body)["predictions"][0].get<float>(), (*c.offline)[7]);
  }
  // Bad raw fields: 400 naming the field and row.
  json bad = Instances(true);
  bad[2]["pickup_zone"] = 9999;
  auto r = client.Post("/v1/models/eta_xgb:predict", json({{"instances", bad}}).dump());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("row 2: field 'pickup_zone'"), std::string::npos) << r->body;
  bad = Instances(true);
  bad[1]["pickup_datetime"] = "yesterday";
  r = client.Post("/v1/models/eta_xgb:predict", json({{"instances", bad}}).dump());
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("row 1: field 'pickup_datetime'"), std::string::npos) << r->body;
  r = client.Post("/v1/models/eta_xgb:predict",
                  json({{"instances", Instances(false)}}).dump());  // no trip_distance
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("trip_distance"), std::string::npos) << r->body;
  (*server)->Shutdown();
}

TEST_F(EtaServingTest, VersionWithAMissingContextFileIsRefusedNamingTheFile) {
  if (!train::HasTrainer("xgboost")) GTEST_SKIP() << "built without XGBoost";
  TrainAndPublish(EtaFeatureSet::kWithDistance, "xgboost", "eta_xgb");
  auto reg = registry::Registry::Open(repo_);
  ASSERT_TRUE(reg.ok());
  const std::string dir = (*reg)->repository().VersionDir("eta_xgb", 1);
  serving::FeatureAdapterContext ctx{dir, "eta_with_distance", 1, {}};
  ASSERT_TRUE(serving::MakeFeatureAdapter(ctx).ok());
  std::filesystem::rename(dir + "/eta_zone_pairs.csv", dir + "/moved.csv");
  auto adapter = serving::MakeFeatureAdapter(ctx);
  ASSERT_FALSE(adapter.ok());
  EXPECT_NE(adapter.status().message().find("eta_zone_pairs.csv"), std::string::npos);
  ctx.feature_spec = "eta_booking";  // a context of the other spec
  std::filesystem::rename(dir + "/moved.csv", dir + "/eta_zone_pairs.csv");
  adapter = serving::MakeFeatureAdapter(ctx);
  ASSERT_FALSE(adapter.ok());
  EXPECT_NE(adapter.status().message().find("manifest says eta_booking"), std::string::npos);
}

}  // namespace
}  // namespace bimride::tasks::eta
