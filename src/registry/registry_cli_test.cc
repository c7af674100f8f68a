// End-to-end: the built `bimride` CLI (env BIMRIDE_CLI) registering real model files made by
// Python's xgboost and torch, promoting, rolling back, being killed mid-publish, running in
// parallel, and reading runs — checked through the CLI output and the library.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "common/file.h"
#include "registry/registry.h"
#include "registry/sha256.h"
#include "registry/test_util.h"

namespace bimride::registry {
namespace {

namespace fs = std::filesystem;
using testing::ScopedTempDir;
using testing::WriteTestFile;

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string CliPath() {
  const char* cli = std::getenv("BIMRIDE_CLI");
  return cli != nullptr ? cli : "";
}

// Starts the CLI with `args`, stdout/stderr to files under `dir`; returns the pid.
pid_t SpawnCli(const std::vector<std::string>& args, const std::string& out_prefix) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int out = ::open((out_prefix + ".out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open((out_prefix + ".err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    std::string cli = CliPath();
    std::vector<char*> argv = {cli.data()};
    std::vector<std::string> copy = args;
    for (std::string& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(cli.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

int Wait(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

CliResult Collect(pid_t pid, const std::string& out_prefix) {
  CliResult r;
  r.exit_code = Wait(pid);
  r.out = ReadFile(out_prefix + ".out").value();
  r.err = ReadFile(out_prefix + ".err").value();
  return r;
}

class RegistryCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (CliPath().empty() || !FileExists(CliPath())) {
      FAIL() << "BIMRIDE_CLI must point at the built bimride binary (got '" << CliPath() << "')";
    }
  }
  CliResult Run(std::vector<std::string> args) {
    args.push_back("--repo");
    args.push_back(repo_);
    std::string prefix = tmp_.path() + "/cli" + std::to_string(counter_++);
    return Collect(SpawnCli(args, prefix), prefix);
  }
  pid_t Spawn(std::vector<std::string> args, std::string* prefix) {
    args.push_back("--repo");
    args.push_back(repo_);
    *prefix = tmp_.path() + "/cli" + std::to_string(counter_++);
    return SpawnCli(args, *prefix);
  }
  ScopedTempDir tmp_;
  std::string repo_ = tmp_.path() + "/model_repo";
  int counter_ = 0;
};

// Lines of `text`.
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

constexpr char kMakeModels[] = R"py(
import sys
import numpy as np
import torch
import xgboost as xgb
out = sys.argv[1]
rng = np.random.default_rng(7)
X = rng.random((200, 3)).astype(np.float32)
y = X @ np.array([600.0, 300.0, 120.0]) + 60.0
for seed in (1, 2):
    booster = xgb.train({"max_depth": 3, "seed": seed, "eta": 0.3 * seed},
                        xgb.DMatrix(X, label=y), 5)
    booster.save_model(f"{out}/eta_v{seed}.json")
class Demand(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3, 1)
    def forward(self, x):
        return torch.relu(self.lin(x))
torch.manual_seed(0)
torch.jit.trace(Demand().eval(), torch.zeros(1, 3)).save(f"{out}/demand.pt")
print("made models")
)py";

TEST_F(RegistryCliTest, RealArtifactsPromoteRollbackKillAndAudit) {
  // 1. Real model files, made by Python's xgboost and torch.
  std::string script = WriteTestFile(tmp_.path(), "make_models.py", kMakeModels);
  std::string cmd = "/usr/bin/python3 " + script + " " + tmp_.path() + " > " + tmp_.path() +
                    "/py.log 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0)
      << "python3 with xgboost and torch is needed to make the test models: "
      << *ReadFile(tmp_.path() + "/py.log");
  const std::string eta1 = tmp_.path() + "/eta_v1.json";
  const std::string eta2 = tmp_.path() + "/eta_v2.json";
  const std::string demand = tmp_.path() + "/demand.pt";
  // XGBoost saves under the file name we give; the registry keeps the basename.
  fs::create_directories(tmp_.path() + "/v1");
  fs::create_directories(tmp_.path() + "/v2");
  fs::copy_file(eta1, tmp_.path() + "/v1/model.json");
  fs::copy_file(eta2, tmp_.path() + "/v2/model.json");

  const std::string extra =
      R"({"inputs": [{"name": "features", "dtype": "float32", "shape": [-1, 3]}],
          "outputs": [{"name": "eta_seconds", "dtype": "float32", "shape": [-1, 1]}],
          "feature_spec": {"name": "eta_booking", "version": 1,
                           "request_fields": ["pickup_zone", "dropoff_zone", "pickup_time"]},
          "metrics": {"val_mae": 41.5}})";
  auto p1 = Run({"models", "publish", "eta", "--task", "eta", "--backend", "xgboost",
                 "--manifest-extra", extra, tmp_.path() + "/v1/model.json"});
  ASSERT_EQ(p1.exit_code, 0) << p1.err;
  EXPECT_NE(p1.out.find("published eta:1"), std::string::npos) << p1.out;
  auto p2 = Run({"models", "publish", "eta", "--task", "eta", "--backend", "xgboost",
                 "--manifest-extra", extra, tmp_.path() + "/v2/model.json"});
  ASSERT_EQ(p2.exit_code, 0) << p2.err;
  auto p3 = Run({"models", "publish", "demand", "--task", "demand", "--backend", "torchscript",
                 demand});
  ASSERT_EQ(p3.exit_code, 0) << p3.err;

  // 2. Promote, canary, promote canary, roll back.
  ASSERT_EQ(Run({"models", "promote", "eta", "1", "--label", "stable", "--why", "first release",
                 "--who", "ana"}).exit_code, 0);
  ASSERT_EQ(Run({"models", "promote", "eta", "2", "--label", "canary", "--why", "retrained",
                 "--who", "ana"}).exit_code, 0);
  ASSERT_EQ(Run({"models", "promote", "eta", "2", "--label", "stable", "--why", "canary ok",
                 "--who", "bo"}).exit_code, 0);
  auto rb = Run({"models", "rollback", "eta", "--label", "stable", "--why", "p99 latency up",
                 "--who", "oncall"});
  ASSERT_EQ(rb.exit_code, 0) << rb.err;
  EXPECT_NE(rb.out.find("rollback label 'stable' 2 -> 1 by oncall (p99 latency up)"),
            std::string::npos)
      << rb.out;

  // 3. Kill a publisher in the middle of copying a large artifact.
  std::string big = tmp_.path() + "/big.json";
  {
    int fd = ::open(big.c_str(), O_WRONLY | O_CREAT, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, int64_t{2} << 30), 0);
    ::close(fd);
  }
  std::string prefix;
  pid_t publisher = Spawn({"models", "publish", "eta", "--task", "eta", "--backend", "xgboost",
                           big}, &prefix);
  bool caught = false;
  for (int i = 0; i < 40000 && !caught; ++i) {
    std::error_code ec;
    for (fs::directory_iterator it(repo_ + "/eta", ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code size_ec;
      auto size = fs::file_size(it->path() / "big.json", size_ec);
      if (!size_ec && size > 0 && size < (uint64_t{2} << 30)) caught = true;
    }
    if (!caught) ::usleep(500);
  }
  ::kill(publisher, SIGKILL);
  int killed = Wait(publisher);
  ASSERT_TRUE(caught) << "publisher finished before it could be killed (exit " << killed << ")";

  // 4. The table shows two good versions and the labels; no half version anywhere.
  auto list = Run({"models", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  std::vector<std::string> lines = Lines(list.out);
  ASSERT_EQ(lines.size(), 3u) << list.out;
  EXPECT_EQ(lines[0].find("MODEL"), 0u);
  size_t labels_col = lines[0].find("LABELS");
  size_t backend_col = lines[0].find("BACKEND");
  ASSERT_NE(labels_col, std::string::npos);
  EXPECT_EQ(lines[1].find("demand"), 0u);
  EXPECT_EQ(lines[2].find("eta"), 0u);
  EXPECT_EQ(lines[2].find("canary=2 stable=1"), labels_col) << list.out;
  EXPECT_EQ(lines[2].find("xgboost"), backend_col) << list.out;
  EXPECT_EQ(lines[1].find("torchscript"), backend_col) << list.out;
  EXPECT_NE(lines[2].find("  2  "), std::string::npos) << list.out;  // 2 versions

  auto show = Run({"models", "show", "eta"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  std::vector<std::string> vlines = Lines(show.out);
  ASSERT_GE(vlines.size(), 3u) << show.out;
  EXPECT_NE(vlines[1].find("      2  canary"), std::string::npos) << show.out;  // newest first
  EXPECT_NE(vlines[2].find("      1  stable"), std::string::npos) << show.out;
  EXPECT_NE(vlines[2].find("val_mae=41.5"), std::string::npos) << show.out;

  auto detail = Run({"models", "show", "eta:stable"});
  ASSERT_EQ(detail.exit_code, 0) << detail.err;
  EXPECT_NE(detail.out.find("version:      1  [stable]"), std::string::npos) << detail.out;
  EXPECT_NE(detail.out.find("feature spec: eta_booking@1"), std::string::npos) << detail.out;
  EXPECT_NE(detail.out.find(Sha256File(eta1).value()), std::string::npos) << detail.out;

  // 5. The audit trail: every move, newest first, with who and why.
  auto history = Run({"models", "history", "eta"});
  ASSERT_EQ(history.exit_code, 0) << history.err;
  std::vector<std::string> hlines = Lines(history.out);
  ASSERT_EQ(hlines.size(), 5u) << history.out;
  EXPECT_NE(hlines[1].find("rollback"), std::string::npos);
  EXPECT_NE(hlines[1].find("oncall  p99 latency up"), std::string::npos) << history.out;
  EXPECT_NE(hlines[4].find("first release"), std::string::npos) << history.out;

  // 6. verify sees the dead publisher's staging folder (not a bad version); repair removes it.
  auto verify = Run({"models", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_NE(verify.out.find("STAGING  " + repo_ + "/eta/.staging-"), std::string::npos)
      << verify.out;
  EXPECT_NE(verify.out.find("2 models, 3 good versions, 0 problems, 1 staging folders"),
            std::string::npos)
      << verify.out;
  auto repair = Run({"models", "verify", "--repair", "--stale-minutes", "0"});
  EXPECT_EQ(repair.exit_code, 0) << repair.out;
  EXPECT_NE(repair.out.find("REPAIRED removed " + repo_ + "/eta/.staging-"), std::string::npos)
      << repair.out;

  // 7. The next publish works and takes the next number; the library agrees with the CLI.
  auto p4 = Run({"models", "publish", "eta", "--task", "eta", "--backend", "xgboost",
                 tmp_.path() + "/v2/model.json"});
  ASSERT_EQ(p4.exit_code, 0) << p4.err;
  EXPECT_NE(p4.out.find("published eta:3"), std::string::npos);
  auto reg = Registry::Open(repo_);
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  EXPECT_EQ(*(*reg)->ResolveLabel("eta", "stable"), 1);
  auto m = (*reg)->Show("eta", 1);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->files.at(0).sha256, Sha256File(eta1).value());
  EXPECT_EQ(m->inputs.at(0).shape, (std::vector<int64_t>{-1, 3}));

  // 8. Corrupt the stable version on disk: verify fails naming the file; promote refuses it.
  ASSERT_TRUE(WriteFileAtomic(repo_ + "/eta/1/model.json", "{}").ok());
  auto bad = Run({"models", "verify"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find(repo_ + "/eta/1/model.json: size 2 bytes"), std::string::npos) << bad.out;
  auto refuse = Run({"models", "promote", "eta", "1", "--label", "canary", "--why", "x"});
  EXPECT_EQ(refuse.exit_code, 1);
  EXPECT_NE(refuse.err.find("cannot promote eta:1"), std::string::npos) << refuse.err;
}

TEST_F(RegistryCliTest, ParallelCliPublishersAndPromotersStayConsistent) {
  constexpr int kProcs = 6;
  std::vector<std::pair<pid_t, std::string>> running;
  for (int i = 0; i < kProcs; ++i) {
    std::string file = WriteTestFile(tmp_.path(), "m" + std::to_string(i) + ".bin",
                                     "model " + std::to_string(i));
    std::string prefix;
    pid_t pid = Spawn({"models", "publish", "eta", "--task", "eta", "--backend", "baseline", file},
                      &prefix);
    running.emplace_back(pid, prefix);
  }
  for (auto& [pid, prefix] : running) {
    CliResult r = Collect(pid, prefix);
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  running.clear();
  for (int v = 1; v <= kProcs; ++v) {
    std::string prefix;
    pid_t pid = Spawn({"models", "promote", "eta", std::to_string(v), "--label", "stable",
                       "--why", "race " + std::to_string(v), "--who", "p" + std::to_string(v)},
                      &prefix);
    running.emplace_back(pid, prefix);
  }
  for (auto& [pid, prefix] : running) {
    CliResult r = Collect(pid, prefix);
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  auto reg = Registry::Open(repo_);
  ASSERT_TRUE(reg.ok());
  auto scan = (*reg)->repository().ScanModel("eta", VerifyMode::kFull);
  ASSERT_TRUE(scan.ok());
  ASSERT_EQ(scan->versions.size(), static_cast<size_t>(kProcs));
  EXPECT_TRUE(scan->problems.empty());
  EXPECT_TRUE(scan->staging_dirs.empty());
  std::set<std::string> digests;
  for (size_t i = 0; i < scan->versions.size(); ++i) {
    EXPECT_EQ(scan->versions[i].version, static_cast<int64_t>(i) + 1);
    digests.insert(scan->versions[i].files.at(0).sha256);
  }
  EXPECT_EQ(digests.size(), static_cast<size_t>(kProcs));  // every publisher's file, once
  auto history = (*reg)->History("eta", "stable");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), static_cast<size_t>(kProcs));
  std::optional<int64_t> previous;
  for (auto it = history->rbegin(); it != history->rend(); ++it) {
    EXPECT_EQ(it->from_version, previous);
    previous = it->to_version;
  }
  EXPECT_EQ(*(*reg)->ResolveLabel("eta", "stable"), history->front().to_version);
  auto verify = Run({"models", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
}

TEST_F(RegistryCliTest, RunsListShowAndCompareSideBySide) {
  std::string a, b;
  {
    auto reg = Registry::Open(repo_);
    ASSERT_TRUE(reg.ok());
    std::string data = WriteTestFile(tmp_.path(), "trips.csv", "x\n1\n");
    auto r1 = (*reg)->StartRun("eta", {{"lr", "0.1"}, {"depth", "6"}}, {}, {.code_dir = tmp_.path()});
    ASSERT_TRUE(r1.ok());
    ASSERT_TRUE((*r1)->SetDataFingerprint({data}, "year = 2023").ok());
    ASSERT_TRUE((*r1)->LogMetric("val_mae", 50.0, 0).ok());
    ASSERT_TRUE((*r1)->LogMetric("val_mae", 42.5, 1).ok());
    ASSERT_TRUE((*r1)->EndRun(RunStatus::kFinished).ok());
    auto r2 = (*reg)->StartRun("eta", {{"lr", "0.3"}, {"depth", "6"}}, {}, {.code_dir = tmp_.path()});
    ASSERT_TRUE(r2.ok());
    ASSERT_TRUE((*r2)->LogMetric("val_mae", 39.25, 0).ok());
    ASSERT_TRUE((*r2)->EndRun(RunStatus::kFinished).ok());
    a = (*r1)->run_id();
    b = (*r2)->run_id();
  }
  auto list = Run({"runs", "list", "--task", "eta"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  std::vector<std::string> lines = Lines(list.out);
  ASSERT_EQ(lines.size(), 3u) << list.out;
  EXPECT_EQ(lines[1].find(b.substr(0, 12)), 0u) << list.out;  // newest first
  EXPECT_NE(lines[2].find("val_mae=42.5"), std::string::npos) << list.out;

  auto compare = Run({"runs", "compare", a.substr(0, 8), b});
  ASSERT_EQ(compare.exit_code, 0) << compare.err;
  std::string metric_line, lr_line;
  for (const std::string& l : Lines(compare.out)) {
    if (l.rfind("metric val_mae", 0) == 0) metric_line = l;
    if (l.rfind("param lr", 0) == 0) lr_line = l;
    EXPECT_EQ(l.find("param depth"), std::string::npos) << "equal params are hidden";
  }
  EXPECT_NE(metric_line.find("42.5"), std::string::npos) << compare.out;
  EXPECT_LT(metric_line.find("42.5"), metric_line.find("39.25")) << compare.out;
  EXPECT_NE(lr_line.find("0.1"), std::string::npos) << compare.out;

  auto show = Run({"runs", "show", a});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("filter:   year = 2023"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("not a git checkout"), std::string::npos) << show.out;
  auto missing = Run({"runs", "show", "ffff"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("no run 'ffff'"), std::string::npos) << missing.err;
}

TEST_F(RegistryCliTest, PublishFromATrainersFolderAsAnotherBackend) {
  const std::string dir = tmp_.path() + "/trained";
  ASSERT_TRUE(MakeDirs(dir).ok());
  WriteTestFile(dir, "model.pt", "torchscript bytes");
  WriteTestFile(dir, "net.json", "{\"layers\": []}");
  Manifest draft = testing::DraftManifest("eta", "torchscript");
  draft.artifacts = {"model.pt", "net.json"};
  ASSERT_TRUE(WriteFileAtomic(dir + "/manifest.json", ManifestToJson(draft)).ok());
  auto torch = Run({"models", "publish", "eta", "--from", dir});
  ASSERT_EQ(torch.exit_code, 0) << torch.err;
  EXPECT_NE(torch.out.find("published eta:1"), std::string::npos) << torch.out;
  auto native = Run({"models", "publish", "eta_native", "--from", dir, "--backend", "native_mlp",
                     "--artifact", "net.json"});
  ASSERT_EQ(native.exit_code, 0) << native.err;
  auto show = Run({"models", "show", "eta_native:1"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("native_mlp"), std::string::npos) << show.out;
  auto reg = Registry::Open(repo_);
  ASSERT_TRUE(reg.ok());
  auto m = (*reg)->Show("eta_native", 1);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->artifacts.front(), "net.json");
  EXPECT_EQ(*ReadFile(repo_ + "/eta_native/1/model.pt"), "torchscript bytes");
  auto unlisted = Run({"models", "publish", "eta", "--from", dir, "--artifact", "weights.bin"});
  EXPECT_EQ(unlisted.exit_code, 1);
  EXPECT_NE(unlisted.err.find("'weights.bin' is not one of the manifest's artifacts"),
            std::string::npos)
      << unlisted.err;
}

TEST_F(RegistryCliTest, BadInputGivesClearErrors) {
  std::string file = WriteTestFile(tmp_.path(), "model.json", "{}");
  auto malformed = Run({"models", "publish", "eta", "--task", "eta", "--backend", "xgboost",
                        "--manifest-extra", "{\"inputs\": [", file});
  EXPECT_EQ(malformed.exit_code, 1);
  EXPECT_NE(malformed.err.find("--manifest-extra: malformed JSON"), std::string::npos)
      << malformed.err;
  auto wrong_type = Run({"models", "publish", "eta", "--task", "eta", "--backend", "xgboost",
                         "--manifest-extra", R"({"metrics": {"mae": "low"}})", file});
  EXPECT_EQ(wrong_type.exit_code, 1);
  EXPECT_NE(wrong_type.err.find("metrics.mae: expected a number, got string"), std::string::npos)
      << wrong_type.err;
  auto backend = Run({"models", "publish", "eta", "--task", "eta", "--backend", "caffe", file});
  EXPECT_EQ(backend.exit_code, 1);
  EXPECT_NE(backend.err.find("unknown backend 'caffe'"), std::string::npos) << backend.err;
  auto missing = Run({"models", "publish", "eta", "--task", "eta", "--backend", "xgboost",
                      tmp_.path() + "/nope.json"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("nope.json: no such file"), std::string::npos) << missing.err;
  auto no_task = Run({"models", "publish", "eta", "--backend", "xgboost", file});
  EXPECT_EQ(no_task.exit_code, 2);
  EXPECT_NE(no_task.err.find("--task and --backend, or MODEL --from DIR"), std::string::npos)
      << no_task.err;
  auto from_and_files =
      Run({"models", "publish", "eta", "--from", tmp_.path(), "--backend", "xgboost", file});
  EXPECT_EQ(from_and_files.exit_code, 2);
  auto from_nothing = Run({"models", "publish", "eta", "--from", tmp_.path() + "/no_folder"});
  EXPECT_EQ(from_nothing.exit_code, 1);
  EXPECT_NE(from_nothing.err.find("no_folder/manifest.json"), std::string::npos)
      << from_nothing.err;
  auto usage = Run({"models", "promote", "eta", "v1", "--label", "stable", "--why", "x"});
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_NE(usage.err.find("'v1' is not a version number"), std::string::npos) << usage.err;
  EXPECT_EQ(Run({"models", "show", "eta:0"}).exit_code, 2);

  // A database file that is not SQLite.
  ASSERT_TRUE(MakeDirs(repo_ + "/.bimride").ok());
  ASSERT_TRUE(WriteFileAtomic(repo_ + "/.bimride/registry.db", std::string(2048, 'z')).ok());
  auto notdb = Run({"models", "list"});
  EXPECT_EQ(notdb.exit_code, 1);
  EXPECT_NE(notdb.err.find(repo_ + "/.bimride/registry.db"), std::string::npos) << notdb.err;
  EXPECT_NE(notdb.err.find("not an SQLite database"), std::string::npos) << notdb.err;
}

}  // namespace
}  // namespace bimride::registry
