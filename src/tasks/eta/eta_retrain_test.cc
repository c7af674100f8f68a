#include "tasks/eta/eta_retrain.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>

#include "common/civil_time.h"
#include "monitoring/drift.h"
#include "tasks/eta/eta_serving.h"
#include "tasks/eta/eta_test_util.h"
#include "train/trainer.h"

namespace bimride::tasks::eta {
namespace {

monitoring::LabelledRow Row(const std::string& id, const std::string& raw, double actual) {
  monitoring::LabelledRow r;
  r.request_id = id;
  r.raw = raw;
  r.actual = actual;
  return r;
}

TEST(EtaRetrain, LabelledRowsBecomeTripsThroughTheServersRequestParser) {
  monitoring::LabelledRows rows;
  rows.rows = {
      Row("trip-1",
          R"({"pickup_zone": 74, "dropoff_zone": 75, "pickup_datetime": "2023-01-05 08:30:00",)"
          R"( "trip_distance": 1.25})",
          12.5),
      Row("trip-2", R"({"pickup_zone": "41", "dropoff_zone": 42, "pickup_datetime": )"
                    R"("2023-01-05 09:00:00"})",
          90),  // longer than the training filter's 60 minutes
      Row("trip-3", R"({"pickup_zone": 74, "dropoff_zone": 75})", 10),  // no pickup time
      Row("trip-4", "", 10),  // a feature-vector request: no raw fields
      Row("trip-5", R"({"pickup_zone": 7, "dropoff_zone": 7, "pickup_datetime": )"
                    R"("2023-01-05 10:00:00"})",
          3)};
  EtaDatasetOptions o;
  auto d = EtaDatasetFromLabelledRows(rows, features::EtaFeatureSet::kBooking, o);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->trips.size(), 2u);
  EXPECT_EQ(d->report.loader_quarantined, 2);  // trip-3 and trip-4, counted
  EXPECT_EQ(d->report.removed_too_long, 1);    // trip-2, by the training filter
  EXPECT_EQ(d->trips.pickup_zone[0], 74);
  EXPECT_EQ(d->trips.dropoff_zone[0], 75);
  EXPECT_EQ(d->trips.pickup_time_us[0], ParseCivil("2023-01-05 08:30:00").value());
  EXPECT_FLOAT_EQ(d->minutes[0], 12.5f);
  EXPECT_FLOAT_EQ(d->trips.distance_miles[0], 1.25f);
  EXPECT_TRUE(std::isnan(d->trips.distance_miles[1]));
  EXPECT_FLOAT_EQ(d->minutes[1], 3.0f);

  monitoring::LabelledRows bad;
  bad.rows = {Row("trip-9", "{\"pickup_zone\": 74", 5)};
  auto none = EtaDatasetFromLabelledRows(bad, features::EtaFeatureSet::kBooking, o);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("request trip-9"), std::string::npos)
      << none.status().message();
}

TEST(EtaRetrain, RefusesOptionsItCannotTrainWith) {
  auto r = registry::Registry::Open(::testing::TempDir() + "/eta_retrain_test_repo");
  ASSERT_TRUE(r.ok());
  monitoring::LabelledRows rows;
  EtaRetrainOptions o;
  o.config.model = "baseline";  // in every build (xgboost, the default, may not be)
  o.out_dir = ::testing::TempDir() + "/eta_retrain_test_out";
  o.valid_fraction = 1.5;
  EXPECT_EQ(RetrainEtaOnLabelledRows(**r, rows, o).status().code(), StatusCode::kInvalidArgument);
  o.valid_fraction = 0.2;
  auto st = RetrainEtaOnLabelledRows(**r, rows, o).status();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("none of 0 rows"), std::string::npos) << st.message();
}

// A synthetic trip as the log holds it: what `bimride replay` sends (EtaInstanceJson), plus the
// pickup and dropoff coordinates a rider's app sends (the synthetic city has no shapefile, so
// the features need them; the server's parser takes them).
std::string RawRequest(const data::TripTable& t, size_t i) {
  std::string raw = EtaInstanceJson(t, i);
  raw.pop_back();  // the closing brace
  char buf[200];
  std::snprintf(buf, sizeof buf,
                ", \"pickup_longitude\": %.17g, \"pickup_latitude\": %.17g, "
                "\"dropoff_longitude\": %.17g, \"dropoff_latitude\": %.17g}",
                t.pickup_lon[i], t.pickup_lat[i], t.dropoff_lon[i], t.dropoff_lat[i]);
  return raw + buf;
}

EtaTrainConfig SmallXgboostConfig() {
  EtaTrainConfig c = DefaultEtaTrainConfig(features::EtaFeatureSet::kBooking, "xgboost");
  c.params["rounds"] = "200";
  c.params["max_depth"] = "4";
  c.params["eta"] = "0.2";
  c.params["early_stopping_rounds"] = "10";
  c.threads = 1;
  c.encoding_folds = 3;
  c.drift_window_rows = 50;
  return c;
}

std::vector<float> PredictVersion(registry::Registry& reg, const std::string& repo, int64_t v,
                                  const data::TripTable& trips) {
  auto m = LoadEtaModel(repo + "/eta/" + std::to_string(v));
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  if (!m.ok()) return {};
  auto p = PredictEta(*m, trips);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? *p : std::vector<float>{};
}

// The rows a retraining reads back from the log are the rows an offline `train eta` reads from
// a file: the same trips in the same order, trained with the same split, make the same model
// (identical validation metrics and predictions) — through the served request's fields, not
// the file's columns. And the refit (the default) is the offline training on every row for
// the rounds the held-out rows chose.
TEST(EtaRetrain, SameRowsAsAnOfflineTrainingMakeTheSameModel) {
  if (!train::HasTrainer("xgboost")) GTEST_SKIP() << "built without XGBoost";
  auto file = MakeEtaDataset(
      testing::SyntheticTrips(2500, 7, DaysFromCivil(2023, 1, 1), 28, true), {});
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  std::vector<size_t> order(file->trips.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return file->trips.pickup_time_us[a] < file->trips.pickup_time_us[b];
  });
  EtaDataset sorted;  // the file's trips in pickup order: the order a replay logs them in
  sorted.trips = file->trips.Take(order);
  for (size_t i : order) sorted.minutes.push_back(file->minutes[i]);
  sorted.report = file->report;
  monitoring::LabelledRows rows;
  for (size_t i = 0; i < sorted.trips.size(); ++i) {
    rows.rows.push_back(Row("trip-" + std::to_string(i), RawRequest(sorted.trips, i),
                            sorted.minutes[i]));
  }
  const size_t n = sorted.trips.size(), n_train = n * 8 / 10;
  std::vector<size_t> first(n_train), rest(n - n_train);
  std::iota(first.begin(), first.end(), size_t{0});
  std::iota(rest.begin(), rest.end(), n_train);
  EtaDataset train, valid;
  train.trips = sorted.trips.Take(first);
  valid.trips = sorted.trips.Take(rest);
  train.minutes.assign(sorted.minutes.begin(), sorted.minutes.begin() + n_train);
  valid.minutes.assign(sorted.minutes.begin() + n_train, sorted.minutes.end());
  train.report = valid.report = sorted.report;

  const std::string dir = testing::TempDir("retrain_same_rows");
  auto reg = registry::Registry::Open(dir + "/repo");
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  EtaRetrainOptions o;
  o.config = SmallXgboostConfig();
  o.valid_fraction = 0.2;
  o.refit = false;
  o.out_dir = dir + "/selection_only";
  auto retrained = RetrainEtaOnLabelledRows(**reg, rows, o);
  ASSERT_TRUE(retrained.ok()) << retrained.status().ToString();
  ASSERT_EQ(retrained->train_rows, static_cast<int64_t>(n_train));
  auto offline = TrainEtaModel(train, valid, nullptr, nullptr, o.config, dir + "/offline", nullptr);
  ASSERT_TRUE(offline.ok()) << offline.status().ToString();
  for (const char* metric : {"valid_rmse", "valid_mae", "valid_bias", "valid_rows"}) {
    EXPECT_EQ(retrained->published.metrics.at(metric), offline->manifest.metrics.at(metric))
        << metric;
  }
  EXPECT_EQ(retrained->published.properties.at("best_iteration"),
            offline->manifest.properties.at("best_iteration"));
  const std::string repo = dir + "/repo";
  EXPECT_EQ(PredictVersion(**reg, repo, retrained->published.version, valid.trips),
            *PredictEta(*LoadEtaModel(dir + "/offline"), valid.trips));
  EXPECT_EQ(retrained->published.properties.count("refit"), 0u);

  // The refit: every row, the selected rounds; held-out metrics from the selection fit.
  o.refit = true;
  o.out_dir = dir + "/refit";
  auto refit = RetrainEtaOnLabelledRows(**reg, rows, o);
  ASSERT_TRUE(refit.ok()) << refit.status().ToString();
  const int rounds = std::stoi(offline->manifest.properties.at("best_iteration"));
  EXPECT_EQ(refit->refit_rows, static_cast<int64_t>(n));
  EXPECT_EQ(refit->refit_rounds, rounds);
  EXPECT_EQ(refit->published.metrics.at("valid_rmse"), offline->manifest.metrics.at("valid_rmse"));
  EXPECT_EQ(refit->published.metrics.at("train_rows"), static_cast<double>(n));
  EXPECT_NE(refit->published.properties.at("refit").find("all " + std::to_string(n) + " rows"),
            std::string::npos);
  EXPECT_EQ(refit->published.properties.count(monitoring::kLossEstimatorProperty), 1u);
  EXPECT_FALSE(std::filesystem::exists(o.out_dir + ".selection"));
  EtaTrainConfig all_rows = o.config;
  all_rows.params["rounds"] = std::to_string(rounds);
  all_rows.params["early_stopping_rounds"] = "0";
  auto offline_all = TrainEtaModel(sorted, valid, nullptr, nullptr, all_rows,
                                   dir + "/offline_all", nullptr);
  ASSERT_TRUE(offline_all.ok()) << offline_all.status().ToString();
  const std::vector<float> refit_predicted =
      PredictVersion(**reg, repo, refit->published.version, valid.trips);
  EXPECT_EQ(refit_predicted, *PredictEta(*LoadEtaModel(dir + "/offline_all"), valid.trips));
  // It has seen the validation rows: closer to them than the selection fit.
  EXPECT_NE(refit_predicted, PredictVersion(**reg, repo, retrained->published.version,
                                            valid.trips));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace bimride::tasks::eta
