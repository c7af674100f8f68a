// End to end: runs the built `bimride` binary (env BIMRIDE_CLI) the way a new user would.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/file.h"
#include "registry/registry.h"
#include "simulator/city_files.h"

namespace bimride::simulator {
namespace {

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string MakeTempDir() {
  std::string pattern = ::testing::TempDir() + "quickstart_e2e.XXXXXX";
  EXPECT_NE(::mkdtemp(pattern.data()), nullptr);
  return pattern;
}

// Runs `$BIMRIDE_CLI <args>` through the shell, capturing stdout and stderr.
RunResult RunCli(const std::string& args, const std::string& dir) {
  const char* cli = std::getenv("BIMRIDE_CLI");
  EXPECT_NE(cli, nullptr) << "BIMRIDE_CLI is not set (run through ctest)";
  RunResult r;
  if (cli == nullptr) return r;
  const std::string err_path = dir + "/stderr.txt";
  const std::string cmd = std::string(cli) + " " + args + " 2>" + err_path;
  std::FILE* pipe = ::popen(cmd.c_str(), "r");
  EXPECT_NE(pipe, nullptr);
  if (pipe == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) r.out.append(buf, n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  StatusOr<std::string> err = ReadFile(err_path);
  if (err.ok()) r.err = *err;
  return r;
}

TEST(QuickstartE2eTest, RunsEndToEndWithNoArgumentsButTheOutputFolder) {
  const std::string dir = MakeTempDir();
  const std::string out = dir + "/qs";
  const RunResult r = RunCli("quickstart --out " + out, dir);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("step 1/7: simulate a city"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("files match the simulated city"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("trips by hour of day:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("busiest pickup zones:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("quotes:"), std::string::npos) << r.out;
  for (const char* f : {"/trips.csv", "/trips.zones.csv", "/trips.supply.csv",
                        "/trips.requests.csv", "/trips.riders.csv", "/trips.days.csv"}) {
    EXPECT_TRUE(FileExists(out + f)) << f;
  }
  StatusOr<data::TripTable> trips = ReadSimulatedTrips(out + "/trips.csv");
  ASSERT_TRUE(trips.ok()) << trips.status().ToString();
  // The report counts exactly the trips in the file.
  EXPECT_NE(r.out.find("trips:            " + std::to_string(trips->size()) + " "),
            std::string::npos)
      << r.out;
  EXPECT_GT(trips->size(), 10000u);

  // simulate → train → register → serve → one prediction over HTTP.
  EXPECT_NE(r.out.find("baseline pair-median"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("published eta:1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("-> HTTP 200 {\"predictions\": ["), std::string::npos) << r.out;
  // The ETA task's quickstart step was found through the task registry, nothing else.
  EXPECT_NE(r.out.find("task eta: "), std::string::npos) << r.out;
  const size_t eta = r.out.find("  eta: ");
  ASSERT_NE(eta, std::string::npos) << r.out;
  const double minutes = std::strtod(r.out.c_str() + eta + 7, nullptr);
  EXPECT_GT(minutes, 0.5) << r.out.substr(eta, 80);
  EXPECT_LT(minutes, 120) << r.out.substr(eta, 80);
  auto registry = registry::Registry::Open(out + "/model_repo");
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  auto stable = (*registry)->ResolveLabel("eta", "stable");
  ASSERT_TRUE(stable.ok()) << stable.status().ToString();
  EXPECT_EQ(*stable, 1);
  auto manifest = (*registry)->Show("eta", 1);
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  EXPECT_EQ(manifest->backend, "xgboost");
  ASSERT_TRUE(manifest->feature_spec.has_value());
  EXPECT_EQ(manifest->feature_spec->name, "eta_booking");
  EXPECT_FALSE(manifest->run_id.empty());
  EXPECT_TRUE(manifest->metrics.count("valid_rmse")) << "validation metrics are recorded";

  // ONNX out: the published model exported, checked against its backend, published back as an
  // onnx version of its own.
  const std::string repo_flag = " --repo " + out + "/model_repo";
  const RunResult exported =
      RunCli("models export eta:stable --format onnx --out " + dir + "/eta.onnx" + repo_flag, dir);
  ASSERT_EQ(exported.exit_code, 0) << exported.out << exported.err;
  EXPECT_NE(exported.out.find("exported eta:1 (xgboost) to " + dir + "/eta.onnx"),
            std::string::npos)
      << exported.out;
  EXPECT_NE(exported.out.find("(relative) of the xgboost backend's"), std::string::npos);
  const RunResult onnx_published =
      RunCli("models publish eta_onnx " + dir + "/eta.onnx --task eta --backend onnx" + repo_flag,
             dir);
  EXPECT_EQ(onnx_published.exit_code, 0) << onnx_published.out << onnx_published.err;
  const RunResult bad_format =
      RunCli("models export eta:stable --format tflite --out " + dir + "/x" + repo_flag, dir);
  EXPECT_EQ(bad_format.exit_code, 2) << bad_format.out << bad_format.err;
  EXPECT_NE(bad_format.err.find("unknown format 'tflite' (known: onnx)"), std::string::npos)
      << bad_format.err;

  // A second run publishes the next version and moves the label to it.
  const RunResult again = RunCli("quickstart --days 2 --zones 8 --rounds 20 --out " + out, dir);
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_EQ(*(*registry)->ResolveLabel("eta", "stable"), 2);
}

TEST(QuickstartE2eTest, WritesParquetTripsWhenAsked) {
  const std::string dir = MakeTempDir();
  const RunResult r = RunCli(
      "quickstart --days 2 --zones 12 --rounds 50 --format parquet --out " + dir + "/qs", dir);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("files match the simulated city"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("-> HTTP 200"), std::string::npos) << r.out;
  StatusOr<data::TripTable> trips = ReadSimulatedTrips(dir + "/qs/trips.parquet");
  ASSERT_TRUE(trips.ok()) << trips.status().ToString();
  EXPECT_GT(trips->size(), 1000u);
}

TEST(QuickstartE2eTest, BadFlagsFailWithOneLineError) {
  const std::string dir = MakeTempDir();
  RunResult r = RunCli("quickstart --days 0 --out " + dir + "/qs", dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("days must be in 1.."), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  r = RunCli("quickstart --zones lots", dir);
  EXPECT_EQ(r.exit_code, 2);
  r = RunCli("quickstart --rounds 0 --out " + dir + "/qs", dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--rounds"), std::string::npos) << r.err;
  // One day leaves nothing to train on: a clear error naming the step, not a crash.
  r = RunCli("quickstart --days 1 --zones 5 --out " + dir + "/one", dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("quickstart step"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("task eta: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--days 2+"), std::string::npos) << r.err;
}

TEST(SimulateE2eTest, SameSeedSameFilesAndUnwritableOutputFails) {
  const std::string dir = MakeTempDir();
  const std::string common = "simulate --days 2 --zones 15 --seed 9 --out ";
  ASSERT_EQ(RunCli(common + dir + "/a/city.csv", dir).exit_code, 0);
  ASSERT_EQ(RunCli(common + dir + "/b/city.csv", dir).exit_code, 0);
  EXPECT_EQ(*ReadFile(dir + "/a/city.csv"), *ReadFile(dir + "/b/city.csv"));
  EXPECT_EQ(*ReadFile(dir + "/a/city.requests.csv"), *ReadFile(dir + "/b/city.requests.csv"));
  const RunResult bad = RunCli(common + "/proc/no_such_dir/city.csv", dir);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("/proc/no_such_dir"), std::string::npos) << bad.err;
  EXPECT_EQ(RunCli("simulate --days 2", dir).exit_code, 2);  // --out is required
  EXPECT_EQ(RunCli(common + dir + "/c.csv --format parquet", dir).exit_code, 2);
  ASSERT_EQ(RunCli(common + dir + "/p/city.parquet", dir).exit_code, 0);
  StatusOr<data::TripTable> parquet = ReadSimulatedTrips(dir + "/p/city.parquet");
  StatusOr<data::TripTable> csv = ReadSimulatedTrips(dir + "/a/city.csv");
  ASSERT_TRUE(parquet.ok()) << parquet.status().ToString();
  ASSERT_TRUE(csv.ok());
  EXPECT_EQ(parquet->fare, csv->fare);
  EXPECT_EQ(parquet->pickup_time_us, csv->pickup_time_us);
}

std::vector<std::string> Split(const std::string& line, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t end = line.find(sep, start);
    out.push_back(line.substr(start, end - start));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

// An independent Parquet reader (hyparquet under node, tests/peers) sees the same trips in our
// Parquet file as our CSV file holds.
TEST(SimulateE2eTest, ParquetTripsReadTheSameInHyparquet) {
  const std::string peers = std::string(BIMRIDE_SOURCE_DIR) + "/tests/peers";
  ASSERT_TRUE(FileExists(peers + "/node_modules/hyparquet/package.json"))
      << "hyparquet is not installed: run `npm ci` in " << peers << " (scripts/setup does)";
  const std::string dir = MakeTempDir();
  const std::string common = "simulate --days 1 --zones 10 --seed 3 --out ";
  ASSERT_EQ(RunCli(common + dir + "/c.csv", dir).exit_code, 0);
  ASSERT_EQ(RunCli(common + dir + "/c.parquet", dir).exit_code, 0);
  std::FILE* pipe =
      ::popen(("node '" + peers + "/parquet_dump.mjs' '" + dir + "/c.parquet'").c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string dump;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) dump.append(buf, n);
  ASSERT_EQ(::pclose(pipe), 0);
  const std::vector<std::string> peer_lines = Split(dump, '\n');
  const std::vector<std::string> csv_lines = Split(*ReadFile(dir + "/c.csv"), '\n');
  ASSERT_GT(csv_lines.size(), 1000u);
  ASSERT_EQ(peer_lines.size(), csv_lines.size());  // header + rows + final empty line
  EXPECT_EQ(Split(peer_lines[0], '\t'), Split(csv_lines[0], ','));
  StatusOr<data::TripTable> trips = ReadSimulatedTrips(dir + "/c.csv");
  ASSERT_TRUE(trips.ok());
  for (size_t i = 1; i + 1 < csv_lines.size(); ++i) {
    const std::vector<std::string> p = Split(peer_lines[i], '\t');
    const std::vector<std::string> c = Split(csv_lines[i], ',');
    ASSERT_EQ(p.size(), 15u) << peer_lines[i];
    for (int k : {0, 1, 4, 5, 14}) ASSERT_EQ(p[k], c[k]) << "row " << i << " column " << k;
    ASSERT_EQ(std::stoll(p[2]), trips->pickup_time_us[i - 1]) << "row " << i;
    ASSERT_EQ(std::stoll(p[3]), trips->dropoff_time_us[i - 1]) << "row " << i;
    for (int k = 6; k <= 13; ++k) {
      ASSERT_EQ(std::stod(p[k]), std::stod(c[k])) << "row " << i << " column " << k;
    }
  }
}

}  // namespace
}  // namespace bimride::simulator
