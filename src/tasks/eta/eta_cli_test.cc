// End-to-end: `bimride train eta` and `bimride eval eta` as a user runs them, on small green
// taxi samples (tests/data) with the real zone shapefile and weather, and on a simulated city
// (no shapefile) — including bad input (exit 1, one line naming the input) and bad usage
// (exit 2).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tasks/eta/eta_test_util.h"

namespace bimride::tasks::eta {
namespace {

struct RunResult {
  int exit_code = -1;
  std::string out, err;
};

std::string ReadAll(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

class EtaCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* cli = std::getenv("BIMRIDE_CLI");
    ASSERT_NE(cli, nullptr) << "BIMRIDE_CLI must point at the bimride binary";
    cli_ = cli;
    const char* data = std::getenv("BIMRIDE_DATA_DIR");
    data_ = data != nullptr ? data : BIMRIDE_DATA_DIR;
    ASSERT_TRUE(std::filesystem::exists(data_ + "/zones/taxi_zones.shp"))
        << "need the zone shapefile under " << data_;
    dir_ = testing::TempDir("cli");
    jan_ = std::string(BIMRIDE_SOURCE_DIR) + "/tests/data/green_2021-01_eta_sample.csv";
    feb_ = std::string(BIMRIDE_SOURCE_DIR) + "/tests/data/green_2021-02_eta_sample.csv";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  RunResult Run(const std::string& args) {
    const std::string cmd = "BIMRIDE_DATA_DIR='" + data_ + "' '" + cli_ + "' " + args + " >'" +
                            dir_ + "/out' 2>'" + dir_ + "/err'";
    const int rc = std::system(cmd.c_str());
    RunResult r;
    r.exit_code = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    r.out = ReadAll(dir_ + "/out");
    r.err = ReadAll(dir_ + "/err");
    return r;
  }
  std::string Common() const {
    return "--train " + jan_ + " --valid " + feb_ + " --repo " + dir_ + "/repo --threads 1";
  }

  std::string cli_, data_, dir_, jan_, feb_;
};

TEST_F(EtaCliTest, TrainsEvaluatesAndPublishesXgboostAndTorchOnGreenSamples) {
  RunResult x = Run("train eta " + Common() +
                    " --model xgboost --features with-distance --rounds 60 "
                    "--loss-estimator-max-rounds 9 --out " + dir_ + "/xgb");
  ASSERT_EQ(x.exit_code, 0) << x.out << x.err;
  EXPECT_NE(x.out.find("validation_half: "), std::string::npos) << x.out;
  EXPECT_NE(ReadAll(dir_ + "/xgb/manifest.json").find(R"(\"max_rounds\":9)"), std::string::npos);
  EXPECT_NE(x.out.find("train: 1255 rows loaded"), std::string::npos) << x.out;
  EXPECT_NE(x.out.find("round     1  train_rmse"), std::string::npos) << x.out;
  EXPECT_NE(x.out.find("baseline pair-median"), std::string::npos);
  EXPECT_NE(x.out.find("RMSE by hour:"), std::string::npos);
  EXPECT_NE(x.out.find(">=10 mi"), std::string::npos);
  EXPECT_NE(x.out.find("published eta version 1"), std::string::npos) << x.out;

  RunResult t =
      Run("train eta " + Common() +
          " --model torch --features booking --epochs 2 --hidden 16 --name eta_net --out " + dir_ +
          "/net");
  ASSERT_EQ(t.exit_code, 0) << t.out << t.err;
  EXPECT_NE(t.out.find("epoch   1  train_loss"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("rows/s"), std::string::npos);
  EXPECT_NE(t.out.find("published eta_net version 1"), std::string::npos) << t.out;
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/net/model.pt"));
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/repo/eta_net/1/eta_context.json"));

  RunResult b =
      Run("train eta " + Common() + " --model baseline --baseline speed --out " + dir_ + "/speed");
  ASSERT_EQ(b.exit_code, 0) << b.out << b.err;

  // One comparison table over the folders and a registry version.
  RunResult e = Run("eval eta --threads 1 --data " + feb_ + " --model " + dir_ + "/xgb " + dir_ +
                    "/net " + dir_ + "/speed " + dir_ + "/repo/eta/1");
  ASSERT_EQ(e.exit_code, 0) << e.out << e.err;
  for (const char* m : {"/xgb ", "/net ", "/speed ", "/repo/eta/1 "}) {
    EXPECT_NE(e.out.find(dir_ + m), std::string::npos) << m << "\n" << e.out;
  }
  EXPECT_NE(e.out.find("RMSE by trip length:"), std::string::npos);
  // The eval of the training folder reproduces the validation RMSE train printed.
  const auto rmse_of = [](const std::string& text, const std::string& row) {
    const size_t at = text.find(row);
    std::istringstream s(text.substr(at + row.size()));
    std::string rows, rmse;
    s >> rows >> rmse;
    return rmse;
  };
  EXPECT_EQ(rmse_of(x.out, "\nxgboost "), rmse_of(e.out, dir_ + "/xgb "));

  // Same model through the native tree backend.
  RunResult n = Run("eval eta --threads 1 --backend native_trees --data " + feb_ + " --model " +
                    dir_ + "/xgb");
  ASSERT_EQ(n.exit_code, 0) << n.err;
}

TEST_F(EtaCliTest, BadInputFailsWithOneLineNamingItAndBadUsageExitsTwo) {
  RunResult r = Run("train eta --train " + dir_ + "/missing.parquet --valid " + feb_ + " --repo " +
                    dir_ + "/repo");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("missing.parquet"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;

  const std::string unknown = std::string(BIMRIDE_SOURCE_DIR) + "/tests/data/unknown_layout.csv";
  r = Run("train eta --train " + unknown + " --valid " + feb_ + " --repo " + dir_ + "/repo");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unknown_layout.csv"), std::string::npos) << r.err;

  r = Run("train eta " + Common() + " --model lightgbm");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("lightgbm"), std::string::npos) << r.err;
  r = Run("train eta " + Common() + " --features fast");
  EXPECT_EQ(r.exit_code, 2);
  r = Run("train eta --valid " + feb_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--train"), std::string::npos) << r.err;
  r = Run("train eta " + Common() + " --hidden 12,x");
  EXPECT_EQ(r.exit_code, 2);
  r = Run("train eta " + Common() + " --loss-estimator-max-rounds 0");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--loss-estimator-max-rounds must be in [1, 100000], not 0"),
            std::string::npos)
      << r.err;
  r = Run("train eta " + Common() + " --zones " + dir_ + "/no_zones");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no_zones"), std::string::npos) << r.err;
  r = Run("train eta " + Common() + " --min-minutes 1000 --max-minutes 2000");  // leaves none
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no trips left after the filter"), std::string::npos) << r.err;

  r = Run("eval eta --data " + feb_ + " --model " + dir_ + "/nope");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(dir_ + "/nope/manifest.json"), std::string::npos) << r.err;
  r = Run("eval eta --model " + dir_);
  EXPECT_EQ(r.exit_code, 2);
  r = Run("eval frobnicate");
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(EtaCliTest, TrainsOnKaggleCoordinatesAtBookingTimeOnly) {
  const std::string k = data_ + "/kaggle_trip_duration_sample/";
  RunResult r =
      Run("train eta --threads 1 --repo " + dir_ + "/repo --train " + k + "train.csv --valid " + k +
          "val.csv --model xgboost --rounds 40 --out " + dir_ + "/kaggle");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("published eta version 1"), std::string::npos) << r.out;
  r = Run("train eta --threads 1 --repo " + dir_ + "/repo --train " + k + "train.csv --valid " + k +
          "val.csv --features with-distance --out " + dir_ + "/kaggle2");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no metered trip_distance"), std::string::npos) << r.err;
}

TEST_F(EtaCliTest, TrainsOnASimulatedCityWithoutTheShapefile) {
  ASSERT_EQ(
      Run("simulate --days 14 --zones 12 --seed 3 --start 2025-03-03 --out " + dir_ + "/jan.csv")
          .exit_code,
      0);
  ASSERT_EQ(
      Run("simulate --days 7 --zones 12 --seed 4 --start 2025-03-17 --out " + dir_ + "/feb.csv")
          .exit_code,
      0);
  RunResult r = Run("train eta --zones none --weather none --threads 1 --repo " + dir_ +
                    "/repo --train " + dir_ + "/jan.csv --valid " + dir_ +
                    "/feb.csv --model xgboost --rounds 40 --out " + dir_ + "/sim");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("published eta version 1"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace bimride::tasks::eta
