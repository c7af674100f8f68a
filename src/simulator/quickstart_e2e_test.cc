// End to end: runs the built `bimride` binary (env BIMRIDE_CLI) the way a new user would.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "common/file.h"
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
  EXPECT_NE(r.out.find("step 1/4: simulate a city"), std::string::npos) << r.out;
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
}

TEST(QuickstartE2eTest, BadFlagsFailWithOneLineError) {
  const std::string dir = MakeTempDir();
  RunResult r = RunCli("quickstart --days 0 --out " + dir + "/qs", dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("days must be in 1.."), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  r = RunCli("quickstart --zones lots", dir);
  EXPECT_EQ(r.exit_code, 2);
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
}

}  // namespace
}  // namespace bimride::simulator
