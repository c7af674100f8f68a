#include "registry/sqlite_metadata_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "common/file.h"
#include "registry/test_util.h"

namespace bimride::registry {
namespace {

using testing::ScopedTempDir;

class SqliteMetadataStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = SqliteMetadataStore::Open(dir_.path() + "/meta/registry.db");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  void Register(const std::string& model, int64_t version) {
    ASSERT_TRUE(store_->RecordVersion({model, version, "/repo/" + model + "/" +
                                       std::to_string(version), "", "eta", "xgboost", 0})
                    .ok());
  }
  ScopedTempDir dir_;
  std::unique_ptr<SqliteMetadataStore> store_;
};

TEST_F(SqliteMetadataStoreTest, RunRoundTripWithMetricsByStep) {
  RunRecord run;
  run.run_id = "r1";
  run.task = "eta";
  run.start_time_ms = 1000;
  run.user = "ana";
  run.params = {{"lr", "0.1"}, {"depth", "6"}};
  run.tags = {{"team", "marketplace"}};
  run.code = {"abc123", true, ""};
  ASSERT_TRUE(store_->CreateRun(run).ok());
  EXPECT_EQ(store_->CreateRun(run).code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(store_->LogMetrics("r1", {{"loss", 3.0, 0, 1}, {"loss", 2.0, 1, 2}}).ok());
  ASSERT_TRUE(store_->LogMetrics("r1", {{"loss", 1.5, 2, 3}, {"mae", 9.0, 2, 3}}).ok());
  ASSERT_TRUE(store_->SetDataFingerprint("r1", {{{"a.parquet", 10, std::string(64, 'a')}},
                                                "year = 2023", std::string(64, 'f')})
                  .ok());
  ASSERT_TRUE(store_->AddRunArtifact("r1", {"/runs/r1/model.json", 5, std::string(64, 'b')}).ok());
  ASSERT_TRUE(store_->EndRun("r1", RunStatus::kFinished, 5000).ok());

  auto got = store_->GetRun("r1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->status, RunStatus::kFinished);
  EXPECT_EQ(got->params, run.params);
  EXPECT_EQ(got->tags, run.tags);
  EXPECT_EQ(got->code.git_commit, "abc123");
  EXPECT_TRUE(got->code.dirty);
  EXPECT_EQ(got->metrics.size(), 4u);
  EXPECT_DOUBLE_EQ(got->wall_time_s(), 4.0);
  EXPECT_EQ(got->LatestMetrics().at("loss"), 1.5);
  ASSERT_EQ(got->data.files.size(), 1u);
  EXPECT_EQ(got->data.filter, "year = 2023");
  ASSERT_EQ(got->artifacts.size(), 1u);

  // Ended runs take no more metrics.
  Status late = store_->LogMetrics("r1", {{"loss", 1.0, 3, 4}});
  EXPECT_EQ(late.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->LogMetrics("nope", {{"loss", 1.0, 3, 4}}).code(), StatusCode::kNotFound);
}

TEST_F(SqliteMetadataStoreTest, ListRunsNewestFirstWithLatestMetricsAndTaskFilter) {
  for (int i = 0; i < 3; ++i) {
    RunRecord r;
    r.run_id = "r" + std::to_string(i);
    r.task = i == 1 ? "demand" : "eta";
    r.start_time_ms = 1000 * (i + 1);
    ASSERT_TRUE(store_->CreateRun(r).ok());
    ASSERT_TRUE(store_->LogMetrics(r.run_id, {{"mae", 10.0 + i, 0, 1}, {"mae", 5.0 + i, 1, 2}}).ok());
  }
  auto all = store_->ListRuns({});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].run_id, "r2");
  EXPECT_EQ((*all)[2].run_id, "r0");
  ASSERT_EQ((*all)[0].metrics.size(), 1u);
  EXPECT_EQ((*all)[0].metrics[0].value, 7.0);
  auto eta = store_->ListRuns({"eta", 0});
  ASSERT_TRUE(eta.ok());
  EXPECT_EQ(eta->size(), 2u);
}

TEST_F(SqliteMetadataStoreTest, LabelsMoveAtomicallyWithAuditRows) {
  Register("eta", 1);
  Register("eta", 2);
  auto m1 = store_->MoveLabel({"eta", "stable", 1, LabelAction::kPromote, "first", "ana", {}});
  ASSERT_TRUE(m1.ok()) << m1.status().ToString();
  EXPECT_FALSE(m1->from_version.has_value());
  auto m2 = store_->MoveLabel({"eta", "stable", 2, LabelAction::kPromote, "better", "bo", {}});
  ASSERT_TRUE(m2.ok());
  EXPECT_EQ(m2->from_version, 1);
  EXPECT_GT(m2->id, m1->id);
  // Unregistered version, same version, stale compare-and-set.
  EXPECT_EQ(store_->MoveLabel({"eta", "stable", 9, LabelAction::kPromote, "", "", {}})
                .status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->MoveLabel({"eta", "stable", 2, LabelAction::kPromote, "", "", {}})
                .status().code(), StatusCode::kAlreadyExists);
  auto stale = store_->MoveLabel({"eta", "stable", 1, LabelAction::kRollback, "", "",
                                  std::optional<int64_t>(1)});
  EXPECT_EQ(stale.status().code(), StatusCode::kUnavailable);
  auto labels = store_->GetLabels("eta");
  ASSERT_TRUE(labels.ok());
  EXPECT_EQ(labels->at("stable"), 2);
  auto history = store_->LabelHistory("eta", "stable");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].why, "better");
  EXPECT_EQ((*history)[0].who, "bo");
  EXPECT_EQ((*history)[1].why, "first");
}

TEST_F(SqliteMetadataStoreTest, RecordVersionIsIdempotentButRefusesAnotherPath) {
  Register("eta", 1);
  Register("eta", 1);
  Status other = store_->RecordVersion({"eta", 1, "/elsewhere", "", "", "", 0});
  EXPECT_EQ(other.code(), StatusCode::kAlreadyExists);
  auto versions = store_->ListVersions("eta");
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->size(), 1u);
  auto models = store_->ListModels();
  ASSERT_TRUE(models.ok());
  EXPECT_EQ(*models, std::vector<std::string>{"eta"});
}

TEST_F(SqliteMetadataStoreTest, ReopeningKeepsDataAndSchema) {
  Register("eta", 1);
  store_.reset();
  auto again = SqliteMetadataStore::Open(dir_.path() + "/meta/registry.db");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)->ListVersions("eta")->size(), 1u);
  auto ro = SqliteMetadataStore::Open(dir_.path() + "/meta/registry.db", {.read_only = true});
  ASSERT_TRUE(ro.ok()) << ro.status().ToString();
  EXPECT_EQ((*ro)->ListVersions("eta")->size(), 1u);
  Status write = (*ro)->RecordVersion({"eta", 2, "/p", "", "", "", 0});
  EXPECT_EQ(write.code(), StatusCode::kPermissionDenied) << write.ToString();
}

TEST(SqliteMetadataStoreOpenTest, FileThatIsNotSqliteIsDataLossNamingThePath) {
  ScopedTempDir dir;
  std::string path = dir.path() + "/registry.db";
  ASSERT_TRUE(WriteFileAtomic(path, std::string(4096, 'x')).ok());
  auto s = SqliteMetadataStore::Open(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(s.status().message().find(path + ": "), std::string::npos) << s.status().message();
  EXPECT_NE(s.status().message().find("not an SQLite database"), std::string::npos)
      << s.status().message();
}

TEST(SqliteMetadataStoreOpenTest, ForeignSqliteDatabaseIsRefused) {
  ScopedTempDir dir;
  std::string path = dir.path() + "/other.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t(x)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto s = SqliteMetadataStore::Open(path);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("not a bimride registry"), std::string::npos);
}

TEST(SqliteMetadataStoreOpenTest, NewerSchemaIsRefused) {
  ScopedTempDir dir;
  std::string path = dir.path() + "/registry.db";
  ASSERT_TRUE(SqliteMetadataStore::Open(path).ok());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto s = SqliteMetadataStore::Open(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("schema version 99 is newer"), std::string::npos);
}

TEST(SqliteMetadataStoreOpenTest, ReadOnlyOpenOfMissingDbIsNotFound) {
  ScopedTempDir dir;
  auto s = SqliteMetadataStore::Open(dir.path() + "/none.db", {.read_only = true});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace bimride::registry
