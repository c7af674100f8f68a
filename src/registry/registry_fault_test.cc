// Concurrency and fault tests of the registry: several processes publishing and promoting at
// once, a publisher killed mid-way, and a repository on a full or read-only disk.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "common/file.h"
#include "registry/registry.h"
#include "registry/test_util.h"

namespace bimride::registry {
namespace {

namespace fs = std::filesystem;
using testing::DraftManifest;
using testing::ScopedTempDir;
using testing::WriteTestFile;

// Checks every invariant a registry must keep whatever happened to it: versions complete and
// contiguous from 1, each indexed once; labels point at good versions; each label's audit rows
// chain (every move starts where the previous one ended) and end at the label's value;
// labels.json agrees with the store; no staging folder left when `expect_no_staging`.
void ExpectConsistent(Registry& reg, const std::string& model, int64_t expected_versions,
                      bool expect_no_staging = true) {
  auto scan = reg.repository().ScanModel(model, VerifyMode::kFull);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_TRUE(scan->problems.empty()) << scan->problems[0].status.ToString();
  if (expect_no_staging) {
    EXPECT_TRUE(scan->staging_dirs.empty());
  }
  ASSERT_EQ(static_cast<int64_t>(scan->versions.size()), expected_versions);
  for (size_t i = 0; i < scan->versions.size(); ++i) {
    EXPECT_EQ(scan->versions[i].version, static_cast<int64_t>(i) + 1);
  }
  auto indexed = reg.store().ListVersions(model);
  ASSERT_TRUE(indexed.ok());
  EXPECT_EQ(static_cast<int64_t>(indexed->size()), expected_versions);
  auto labels = reg.store().GetLabels(model);
  ASSERT_TRUE(labels.ok());
  for (const auto& [label, version] : *labels) {
    EXPECT_GE(version, 1);
    EXPECT_LE(version, expected_versions);
    auto history = reg.History(model, label);
    ASSERT_TRUE(history.ok());
    ASSERT_FALSE(history->empty());
    EXPECT_EQ(history->front().to_version, version) << label;
    std::optional<int64_t> previous;
    for (auto it = history->rbegin(); it != history->rend(); ++it) {
      EXPECT_EQ(it->from_version, previous) << label << " audit row " << it->id;
      previous = it->to_version;
    }
  }
  if (!labels->empty()) {
    auto file = ReadFile(reg.repository().ModelDir(model) + "/" + kLabelsFileName);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    auto j = nlohmann::json::parse(*file);
    EXPECT_EQ(j.size(), labels->size());
    for (const auto& [label, version] : *labels) EXPECT_EQ(j[label], version) << label;
  }
}

int WaitExitCode(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(RegistryConcurrencyTest, ParallelProcessesPublishAndPromoteConsistently) {
  ScopedTempDir tmp;
  const std::string repo = tmp.path() + "/repo";
  constexpr int kProcs = 4;
  constexpr int kPerProc = 5;
  // Create the store once up front so the children only race on data, not on the schema.
  ASSERT_TRUE(Registry::Open(repo).ok());
  std::vector<pid_t> children;
  for (int p = 0; p < kProcs; ++p) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // Child: no gtest assertions; report through the exit code.
      auto reg = Registry::Open(repo);
      if (!reg.ok()) ::_exit(10);
      std::string dir = tmp.path() + "/src" + std::to_string(p);
      if (!MakeDirs(dir).ok()) ::_exit(11);
      for (int i = 0; i < kPerProc; ++i) {
        std::string contents = "proc " + std::to_string(p) + " model " + std::to_string(i);
        if (!WriteFileAtomic(dir + "/model.json", contents).ok()) ::_exit(12);
        auto m = (*reg)->Publish({{dir + "/model.json", ""}}, DraftManifest("eta"));
        if (!m.ok()) ::_exit(13);
        std::string why = "proc " + std::to_string(p) + " iter " + std::to_string(i);
        if (!(*reg)->Promote("eta", m->version, "canary", why, "p" + std::to_string(p)).ok()) {
          ::_exit(14);
        }
        if (!(*reg)->Promote("eta", m->version, "stable", why, "p" + std::to_string(p)).ok()) {
          ::_exit(15);
        }
        if (i % 2 == 1) {
          auto r = (*reg)->Rollback("eta", "stable", why, "p" + std::to_string(p));
          // Another process may have rolled everything back already; nothing else may fail.
          if (!r.ok() && r.status().code() != StatusCode::kFailedPrecondition) ::_exit(16);
        }
      }
      ::_exit(0);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) EXPECT_EQ(WaitExitCode(pid), 0) << "child " << pid;

  auto reg = Registry::Open(repo);
  ASSERT_TRUE(reg.ok());
  ExpectConsistent(**reg, "eta", kProcs * kPerProc);
  // Every promotion is in the audit log with its reason and author.
  auto canary = (*reg)->History("eta", "canary");
  ASSERT_TRUE(canary.ok());
  EXPECT_EQ(static_cast<int>(canary->size()), kProcs * kPerProc);
  std::set<std::string> whys;
  for (const auto& m : *canary) whys.insert(m.who + "/" + m.why);
  EXPECT_EQ(static_cast<int>(whys.size()), kProcs * kPerProc);
  auto stable = (*reg)->History("eta", "stable");
  ASSERT_TRUE(stable.ok());
  int promotes = 0;
  for (const auto& m : *stable) promotes += m.action == LabelAction::kPromote;
  EXPECT_EQ(promotes, kProcs * kPerProc);
}

TEST(RegistryFaultTest, PublisherKilledBeforeCommitLeavesNoVersion) {
  ScopedTempDir tmp;
  const std::string repo = tmp.path() + "/repo";
  std::string artifact = WriteTestFile(tmp.path(), "model.json", std::string(1 << 20, 'm'));
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(pipefd[0]);
    auto reg = Registry::Open(repo);
    if (!reg.ok()) ::_exit(10);
    PublishOptions options;
    options.before_commit = [&](const std::string&) {
      char c = 'x';
      if (::write(pipefd[1], &c, 1) != 1) ::_exit(11);
      ::pause();  // killed here: everything written, nothing renamed
    };
    (void)(*reg)->Publish({{artifact, ""}}, DraftManifest("eta"), options);
    ::_exit(12);
  }
  ::close(pipefd[1]);
  char c = 0;
  ASSERT_EQ(::read(pipefd[0], &c, 1), 1);
  ::close(pipefd[0]);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  EXPECT_EQ(WaitExitCode(pid), 128 + SIGKILL);

  auto reg = Registry::Open(repo);
  ASSERT_TRUE(reg.ok());
  auto scan = (*reg)->repository().ScanModel("eta");
  ASSERT_TRUE(scan.ok());
  EXPECT_TRUE(scan->versions.empty());
  EXPECT_TRUE(scan->problems.empty());
  ASSERT_EQ(scan->staging_dirs.size(), 1u);
  EXPECT_FALSE(fs::exists(repo + "/eta/1"));
  // The next publish works and takes version 1; repair removes the dead staging folder.
  auto m = (*reg)->Publish({{artifact, ""}}, DraftManifest("eta"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->version, 1);
  auto report = (*reg)->VerifyAll(/*repair=*/true, /*stale_staging_minutes=*/0);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok());
  EXPECT_EQ(report->repaired.size(), 1u);
  ExpectConsistent(**reg, "eta", 1);
}

TEST(RegistryFaultTest, PublisherKilledWhileCopyingALargeArtifactLeavesNoVersion) {
  ScopedTempDir tmp;
  const std::string repo = tmp.path() + "/repo";
  ASSERT_TRUE(MakeDirs(repo).ok());
  // A 2 GiB sparse file: reading it is fast, but writing the copy takes long enough to be
  // caught in the middle.
  std::string big = tmp.path() + "/big.bin";
  int fd = ::open(big.c_str(), O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, int64_t{2} << 30), 0);
  ::close(fd);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto reg = Registry::Open(repo);
    if (!reg.ok()) ::_exit(10);
    (void)(*reg)->Publish({{big, ""}}, DraftManifest("eta"));
    ::_exit(0);
  }
  // Wait until a partial copy is visible in a staging folder, then kill the publisher.
  bool caught = false;
  for (int i = 0; i < 20000 && !caught; ++i) {
    std::error_code ec;
    for (fs::directory_iterator it(repo + "/eta", ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code size_ec;
      auto size = fs::file_size(it->path() / "big.bin", size_ec);
      if (!size_ec && size > 0 && size < (uint64_t{2} << 30)) caught = true;
    }
    if (!caught) ::usleep(500);
  }
  ::kill(pid, SIGKILL);
  int code = WaitExitCode(pid);
  ASSERT_TRUE(caught) << "publisher finished before it could be killed (exit " << code << ")";
  EXPECT_EQ(code, 128 + SIGKILL);

  auto reg = Registry::Open(repo);
  ASSERT_TRUE(reg.ok());
  auto scan = (*reg)->repository().ScanModel("eta");
  ASSERT_TRUE(scan.ok());
  EXPECT_TRUE(scan->versions.empty());
  EXPECT_TRUE(scan->problems.empty());
  EXPECT_EQ(scan->staging_dirs.size(), 1u);
  auto listed = (*reg)->ListVersions("eta");
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
  std::string small = WriteTestFile(tmp.path(), "model.json", "small");
  auto m = (*reg)->Publish({{small, ""}}, DraftManifest("eta"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->version, 1);
  (*reg)->repository().CleanStaging("eta", 0);
  ExpectConsistent(**reg, "eta", 1);
}

// A tmpfs mounted for one test (needs root / CAP_SYS_ADMIN; skipped otherwise).
class ScopedTmpfs {
 public:
  ScopedTmpfs(const std::string& path, const std::string& size) : path_(path) {
    fs::create_directories(path_);
    std::string opts = "size=" + size;
    if (::mount("tmpfs", path_.c_str(), "tmpfs", 0, opts.c_str()) == 0) {
      mounted_ = true;
    } else {
      error_ = std::string("cannot mount a tmpfs at ") + path_ + ": " + std::strerror(errno);
    }
  }
  ~ScopedTmpfs() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  bool RemountReadOnly() {
    return ::mount("tmpfs", path_.c_str(), "tmpfs", MS_REMOUNT | MS_RDONLY, nullptr) == 0;
  }

 private:
  std::string path_;
  bool mounted_ = false;
  std::string error_;
};

TEST(RegistryFaultTest, FullDiskGivesAClearErrorAndNoVersion) {
  ScopedTempDir tmp;
  ScopedTmpfs disk(tmp.path() + "/disk", "2m");
  if (!disk.mounted()) GTEST_SKIP() << disk.error();
  const std::string repo = tmp.path() + "/disk/repo";
  auto reg = Registry::Open(repo);
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  std::string small = WriteTestFile(tmp.path(), "small.json", "small");
  ASSERT_TRUE((*reg)->Publish({{small, ""}}, DraftManifest("eta")).ok());

  std::string big = WriteTestFile(tmp.path(), "big.json", std::string(4 << 20, 'b'));
  auto m = (*reg)->Publish({{big, ""}}, DraftManifest("eta"));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kResourceExhausted) << m.status().ToString();
  EXPECT_NE(m.status().message().find(repo + "/eta/.staging-"), std::string::npos)
      << m.status().message();
  EXPECT_NE(m.status().message().find("No space left on device"), std::string::npos);
  ExpectConsistent(**reg, "eta", 1);  // the failed publish cleaned its staging folder

  // Fill the disk to the last byte: the store's writes fail clearly too.
  std::string filler = tmp.path() + "/disk/filler";
  int fd = ::open(filler.c_str(), O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  std::string chunk(4096, 'f');
  while (::write(fd, chunk.data(), chunk.size()) > 0) {
  }
  while (::write(fd, chunk.data(), 1) > 0) {
  }
  ::close(fd);
  auto promoted = (*reg)->Promote("eta", 1, "stable", "disk is full", "ana");
  if (promoted.ok()) {
    // SQLite may fit one small transaction into pages it already owns; the next ones fail.
    GTEST_LOG_(INFO) << "first promotion fitted in existing pages";
  } else {
    EXPECT_EQ(promoted.status().code(), StatusCode::kResourceExhausted)
        << promoted.status().ToString();
  }
  auto second = (*reg)->Publish({{small, ""}}, DraftManifest("eta"));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kResourceExhausted) << second.status().ToString();
  fs::remove(filler);
  auto after = (*reg)->Publish({{small, ""}}, DraftManifest("eta"));
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->version, 2);
}

TEST(RegistryFaultTest, ReadOnlyDiskRefusesWritesClearlyAndStillServesReads) {
  ScopedTempDir tmp;
  ScopedTmpfs disk(tmp.path() + "/disk", "8m");
  if (!disk.mounted()) GTEST_SKIP() << disk.error();
  const std::string repo = tmp.path() + "/disk/repo";
  std::string small = WriteTestFile(tmp.path(), "small.json", "small");
  {
    auto reg = Registry::Open(repo);
    ASSERT_TRUE(reg.ok());
    ASSERT_TRUE((*reg)->Publish({{small, ""}}, DraftManifest("eta")).ok());
    ASSERT_TRUE((*reg)->Promote("eta", 1, "stable", "first", "ana").ok());
  }  // closed: WAL checkpointed and removed
  ASSERT_TRUE(disk.RemountReadOnly()) << std::strerror(errno);

  auto rw = Registry::Open(repo);
  ASSERT_FALSE(rw.ok());
  EXPECT_EQ(rw.status().code(), StatusCode::kPermissionDenied) << rw.status().ToString();
  EXPECT_NE(rw.status().message().find(repo + "/.bimride/registry.db"), std::string::npos)
      << rw.status().message();

  auto ro = Registry::Open(repo, {.db_path = "", .read_only = true});
  ASSERT_TRUE(ro.ok()) << ro.status().ToString();
  EXPECT_EQ(*(*ro)->ResolveLabel("eta", "stable"), 1);
  EXPECT_TRUE((*ro)->Show("eta", 1).ok());
  auto m = (*ro)->Publish({{small, ""}}, DraftManifest("eta"));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kPermissionDenied) << m.status().ToString();
  EXPECT_NE(m.status().message().find("Read-only file system"), std::string::npos);
  EXPECT_NE(m.status().message().find(repo + "/eta"), std::string::npos) << m.status().message();
  auto p = (*ro)->Promote("eta", 1, "canary", "", "ana");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kPermissionDenied) << p.status().ToString();
}

}  // namespace
}  // namespace bimride::registry
