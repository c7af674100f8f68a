#include "registry/run_tracker.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "common/file.h"
#include "registry/sha256.h"
#include "registry/sqlite_metadata_store.h"
#include "registry/test_util.h"

namespace bimride::registry {
namespace {

using testing::ScopedTempDir;
using testing::WriteTestFile;

class RunTrackerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = SqliteMetadataStore::Open(dir_.path() + "/registry.db");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  ScopedTempDir dir_;
  std::unique_ptr<SqliteMetadataStore> store_;
};

TEST_F(RunTrackerTest, RecordsAFullRun) {
  std::string data = WriteTestFile(dir_.path(), "trips.csv", "a,b\n1,2\n");
  std::string model = WriteTestFile(dir_.path(), "model.json", "{}");
  RunOptions opts;
  opts.code_dir = BIMRIDE_SOURCE_DIR;
  opts.artifact_dir = dir_.path() + "/artifacts";
  opts.user = "ana";
  auto run = RunTracker::Start(store_.get(), "eta", {{"lr", "0.1"}}, {{"kind", "test"}}, opts);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  std::string id = (*run)->run_id();
  EXPECT_EQ(id.size(), 32u);
  ASSERT_TRUE((*run)->LogMetric("loss", 2.0, 0).ok());
  ASSERT_TRUE((*run)->LogMetrics({{"loss", 1.0}, {"mae", 50.0}}, 1).ok());
  ASSERT_TRUE((*run)->SetDataFingerprint({data}, "year = 2023").ok());
  auto art = (*run)->LogArtifact(model);
  ASSERT_TRUE(art.ok()) << art.status().ToString();
  EXPECT_EQ(art->path, dir_.path() + "/artifacts/" + id + "/model.json");
  EXPECT_TRUE(FileExists(art->path));
  ASSERT_TRUE((*run)->EndRun(RunStatus::kFinished).ok());
  EXPECT_EQ((*run)->EndRun(RunStatus::kFinished).code(), StatusCode::kFailedPrecondition);

  auto rec = store_->GetRun(id);
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->status, RunStatus::kFinished);
  EXPECT_EQ(rec->user, "ana");
  EXPECT_EQ(rec->LatestMetrics().at("loss"), 1.0);
  EXPECT_EQ(rec->data.files.at(0).sha256, Sha256Hex("a,b\n1,2\n"));
  EXPECT_EQ(rec->data.fingerprint.size(), 64u);
  EXPECT_EQ(rec->artifacts.size(), 1u);
  EXPECT_GE(rec->end_time_ms, rec->start_time_ms);
  // The source tree is a git checkout (worktree): the commit is recorded.
  EXPECT_EQ(rec->code.git_commit.size(), 40u) << rec->code.note;
}

TEST_F(RunTrackerTest, TrackerDestroyedWhileRunningMarksTheRunFailed) {
  std::string id;
  {
    auto run = RunTracker::Start(store_.get(), "eta", {}, {});
    ASSERT_TRUE(run.ok());
    id = (*run)->run_id();
  }
  EXPECT_EQ(store_->GetRun(id)->status, RunStatus::kFailed);
}

TEST(CodeVersionTest, OutsideACheckoutTheNoteSaysSo) {
  ScopedTempDir dir;
  CodeVersion v = ReadCodeVersion(dir.path());
  EXPECT_TRUE(v.git_commit.empty());
  EXPECT_NE(v.note.find("not a git checkout"), std::string::npos) << v.note;
}

TEST(DataFingerprintTest, DependsOnContentsAndFilterNotOrder) {
  ScopedTempDir dir;
  std::string a = WriteTestFile(dir.path(), "a", "1");
  std::string b = WriteTestFile(dir.path(), "b", "2");
  auto ab = ComputeDataFingerprint({a, b}, "f");
  auto ba = ComputeDataFingerprint({b, a}, "f");
  auto other_filter = ComputeDataFingerprint({a, b}, "g");
  ASSERT_TRUE(ab.ok() && ba.ok() && other_filter.ok());
  EXPECT_EQ(ab->fingerprint, ba->fingerprint);
  EXPECT_NE(ab->fingerprint, other_filter->fingerprint);
  ASSERT_TRUE(WriteFileAtomic(b, "3").ok());
  EXPECT_NE(ComputeDataFingerprint({a, b}, "f")->fingerprint, ab->fingerprint);
  auto missing = ComputeDataFingerprint({dir.path() + "/none"}, "");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/none"), std::string::npos);
}

}  // namespace
}  // namespace bimride::registry
