// The MetadataStore test suite, typed over the store implementations: the same tests run on
// SQLite (registry_store_test, label unit) and on PostgreSQL (registry_store_postgres_test,
// labels slow;postgres — built from this file with BIMRIDE_STORE_BACKEND_POSTGRES, against a
// throwaway server started by the test in a temp folder; see postgres_test_util.h).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "common/file.h"
#include "registry/metadata_store.h"
#include "registry/postgres_test_util.h"
#include "registry/registry.h"
#include "registry/store_url.h"
#include "registry/test_util.h"

namespace bimride::registry {
namespace {

using testing::DraftManifest;
using testing::PostgresTestServer;
using testing::ScopedTempDir;
using testing::WriteTestFile;

// --- backends: where a fresh store lives and how to poke at it behind the store's back ---

struct SqliteBackend {
  static Status Prepare() { return OkStatus(); }
  StatusOr<std::string> NewLocation() {
    return dir.path() + "/s" + std::to_string(++n) + "/registry.db";
  }
  std::string MissingLocation() { return dir.path() + "/none.db"; }
  std::string ForeignTableSql() { return "CREATE TABLE t(x)"; }
  std::string SetSchemaVersionSql(int v) { return "PRAGMA user_version = " + std::to_string(v); }
  Status RawExec(const std::string& location, const std::string& sql) {
    sqlite3* db = nullptr;
    int rc = sqlite3_open(SqlitePathOf(location).c_str(), &db);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
    sqlite3_close(db);
    return rc == SQLITE_OK ? OkStatus() : InternalError(location + ": " + sql);
  }
  ScopedTempDir dir;
  int n = 0;
};

struct PostgresBackend {
  static Status Prepare() { return testing::SuiteServerStartStatus(); }
  StatusOr<std::string> NewLocation() { return testing::SuiteServer()->CreateDatabase(); }
  std::string MissingLocation() { return testing::SuiteServer()->Url("never_created"); }
  // A table of ours without bimride_schema: someone else's database.
  std::string ForeignTableSql() { return "CREATE TABLE runs (x integer)"; }
  std::string SetSchemaVersionSql(int v) {
    return "UPDATE bimride_schema SET version = " + std::to_string(v);
  }
  Status RawExec(const std::string& location, const std::string& sql) {
    return PostgresTestServer::Exec(location, sql);
  }
};

#ifdef BIMRIDE_STORE_BACKEND_POSTGRES
using Backends = ::testing::Types<PostgresBackend>;
#else
using Backends = ::testing::Types<SqliteBackend>;
#endif

template <typename Backend>
class MetadataStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status ready = Backend::Prepare();
    ASSERT_TRUE(ready.ok()) << ready.ToString();
    auto location = backend_.NewLocation();
    ASSERT_TRUE(location.ok()) << location.status().ToString();
    location_ = *location;
    auto s = OpenMetadataStore(location_, {});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  void Register(const std::string& model, int64_t version) {
    ASSERT_TRUE(store_->RecordVersion({model, version, "/repo/" + model + "/" +
                                       std::to_string(version), "", "eta", "xgboost", 0})
                    .ok());
  }
  Backend backend_;
  std::string location_;
  std::unique_ptr<MetadataStore> store_;
};

TYPED_TEST_SUITE(MetadataStoreTest, Backends);

TYPED_TEST(MetadataStoreTest, RunRoundTripWithMetricsByStep) {
  auto& store = this->store_;
  RunRecord run;
  run.run_id = "r1";
  run.task = "eta";
  run.start_time_ms = 1000;
  run.user = "ana";
  run.params = {{"lr", "0.1"}, {"depth", "6"}};
  run.tags = {{"team", "marketplace"}};
  run.code = {"abc123", true, ""};
  ASSERT_TRUE(store->CreateRun(run).ok());
  EXPECT_EQ(store->CreateRun(run).code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(store->LogMetrics("r1", {{"loss", 3.0, 0, 1}, {"loss", 2.0, 1, 2}}).ok());
  // Values come back bit for bit (0.1 + 0.2 is not 0.3; 1e-310 is subnormal).
  ASSERT_TRUE(store->LogMetrics("r1", {{"loss", 1.5, 2, 3}, {"mae", 0.1 + 0.2, 2, 3},
                                       {"tiny", 1e-310, 0, 3}})
                  .ok());
  ASSERT_TRUE(store->SetDataFingerprint("r1", {{{"a.parquet", 10, std::string(64, 'a')}},
                                               "year = 2023", std::string(64, 'f')})
                  .ok());
  ASSERT_TRUE(store->AddRunArtifact("r1", {"/runs/r1/model.json", 5, std::string(64, 'b')}).ok());
  ASSERT_TRUE(store->EndRun("r1", RunStatus::kFinished, 5000).ok());

  auto got = store->GetRun("r1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->status, RunStatus::kFinished);
  EXPECT_EQ(got->user, "ana");
  EXPECT_EQ(got->params, run.params);
  EXPECT_EQ(got->tags, run.tags);
  EXPECT_EQ(got->code.git_commit, "abc123");
  EXPECT_TRUE(got->code.dirty);
  ASSERT_EQ(got->metrics.size(), 5u);
  EXPECT_EQ(got->metrics[0].key, "loss");  // by key, then step
  EXPECT_EQ(got->metrics[0].step, 0);
  EXPECT_EQ(got->metrics[2].step, 2);
  EXPECT_DOUBLE_EQ(got->wall_time_s(), 4.0);
  EXPECT_EQ(got->LatestMetrics().at("loss"), 1.5);
  EXPECT_EQ(got->LatestMetrics().at("mae"), 0.1 + 0.2);
  EXPECT_EQ(got->LatestMetrics().at("tiny"), 1e-310);
  ASSERT_EQ(got->data.files.size(), 1u);
  EXPECT_EQ(got->data.files[0].size_bytes, 10);
  EXPECT_EQ(got->data.filter, "year = 2023");
  ASSERT_EQ(got->artifacts.size(), 1u);
  EXPECT_EQ(got->artifacts[0].path, "/runs/r1/model.json");

  // Ended runs take no more metrics; tags still may be set.
  Status late = store->LogMetrics("r1", {{"loss", 1.0, 3, 4}});
  EXPECT_EQ(late.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->EndRun("r1", RunStatus::kFailed, 6000).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(store->SetTags("r1", {{"reviewed", "yes"}}).ok());
  EXPECT_EQ(store->GetRun("r1")->tags.at("reviewed"), "yes");
  EXPECT_EQ(store->LogMetrics("nope", {{"loss", 1.0, 3, 4}}).code(), StatusCode::kNotFound);
  EXPECT_EQ(store->GetRun("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->SetTags("nope", {{"a", "b"}}).code(), StatusCode::kNotFound);
  EXPECT_EQ(store->LogMetrics("r1", {{"", 1.0, 3, 4}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->EndRun("r1", RunStatus::kRunning, 0).code(), StatusCode::kInvalidArgument);
}

TYPED_TEST(MetadataStoreTest, ListRunsNewestFirstWithLatestMetricsAndTaskFilter) {
  auto& store = this->store_;
  for (int i = 0; i < 3; ++i) {
    RunRecord r;
    r.run_id = "r" + std::to_string(i);
    r.task = i == 1 ? "demand" : "eta";
    r.start_time_ms = 1000 * (i + 1);
    ASSERT_TRUE(store->CreateRun(r).ok());
    ASSERT_TRUE(store->LogMetrics(r.run_id, {{"mae", 10.0 + i, 0, 1}, {"mae", 5.0 + i, 1, 2}}).ok());
  }
  auto all = store->ListRuns({});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].run_id, "r2");
  EXPECT_EQ((*all)[2].run_id, "r0");
  ASSERT_EQ((*all)[0].metrics.size(), 1u);
  EXPECT_EQ((*all)[0].metrics[0].value, 7.0);
  ASSERT_EQ((*all)[2].metrics.size(), 1u);
  EXPECT_EQ((*all)[2].metrics[0].value, 5.0);
  auto eta = store->ListRuns({"eta", 0});
  ASSERT_TRUE(eta.ok());
  EXPECT_EQ(eta->size(), 2u);
  auto newest = store->ListRuns({"", 1});
  ASSERT_TRUE(newest.ok());
  ASSERT_EQ(newest->size(), 1u);
  EXPECT_EQ((*newest)[0].run_id, "r2");
}

TYPED_TEST(MetadataStoreTest, LabelsMoveAtomicallyWithAuditRows) {
  auto& store = this->store_;
  this->Register("eta", 1);
  this->Register("eta", 2);
  auto m1 = store->MoveLabel({"eta", "stable", 1, LabelAction::kPromote, "first", "ana", {}});
  ASSERT_TRUE(m1.ok()) << m1.status().ToString();
  EXPECT_FALSE(m1->from_version.has_value());
  auto m2 = store->MoveLabel({"eta", "stable", 2, LabelAction::kPromote, "better", "bo", {}});
  ASSERT_TRUE(m2.ok());
  EXPECT_EQ(m2->from_version, 1);
  EXPECT_GT(m2->id, m1->id);
  // Unregistered version, same version, stale compare-and-set, empty label.
  EXPECT_EQ(store->MoveLabel({"eta", "stable", 9, LabelAction::kPromote, "", "", {}})
                .status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->MoveLabel({"eta", "stable", 2, LabelAction::kPromote, "", "", {}})
                .status().code(), StatusCode::kAlreadyExists);
  auto stale = store->MoveLabel({"eta", "stable", 1, LabelAction::kRollback, "", "",
                                 std::optional<int64_t>(1)});
  EXPECT_EQ(stale.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store->MoveLabel({"eta", "", 1, LabelAction::kPromote, "", "", {}}).status().code(),
            StatusCode::kInvalidArgument);
  // Compare-and-set on a label that must not exist yet.
  auto fresh = store->MoveLabel({"eta", "canary", 1, LabelAction::kPromote, "", "",
                                 std::optional<std::optional<int64_t>>(std::in_place, std::nullopt)});
  EXPECT_TRUE(fresh.ok()) << fresh.status().ToString();
  auto taken = store->MoveLabel({"eta", "canary", 2, LabelAction::kPromote, "", "",
                                 std::optional<std::optional<int64_t>>(std::in_place, std::nullopt)});
  EXPECT_EQ(taken.status().code(), StatusCode::kUnavailable);
  auto labels = store->GetLabels("eta");
  ASSERT_TRUE(labels.ok());
  EXPECT_EQ(*labels, (std::map<std::string, int64_t>{{"canary", 1}, {"stable", 2}}));
  auto history = store->LabelHistory("eta", "stable");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].why, "better");
  EXPECT_EQ((*history)[0].who, "bo");
  EXPECT_EQ((*history)[0].action, LabelAction::kPromote);
  EXPECT_EQ((*history)[1].why, "first");
  EXPECT_EQ(store->LabelHistory("eta", "")->size(), 3u);
  auto rollback = store->MoveLabel({"eta", "stable", 1, LabelAction::kRollback, "bad", "cy",
                                    std::optional<int64_t>(2)});
  ASSERT_TRUE(rollback.ok()) << rollback.status().ToString();
  EXPECT_EQ(store->LabelHistory("eta", "stable")->front().action, LabelAction::kRollback);
}

TYPED_TEST(MetadataStoreTest, NotesRecordDecisionsAndRemoveDeletesTheLabel) {
  auto& store = this->store_;
  this->Register("eta", 1);
  this->Register("eta", 2);
  ASSERT_TRUE(store->MoveLabel({"eta", "canary", 2, LabelAction::kPromote, "start", "r", {}}).ok());
  // A note moves nothing; it needs the label at that version.
  auto note = store->MoveLabel({"eta", "canary", 2, LabelAction::kNote, "check 1: ok", "r", {}});
  ASSERT_TRUE(note.ok()) << note.status().ToString();
  EXPECT_EQ(note->from_version, 2);
  EXPECT_EQ(store->MoveLabel({"eta", "canary", 1, LabelAction::kNote, "x", "r", {}})
                .status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->GetLabels("eta")->at("canary"), 2);
  // Remove: the label is gone, the audit row says from which version.
  EXPECT_EQ(store->MoveLabel({"eta", "canary", 1, LabelAction::kRemove, "x", "r", {}})
                .status().code(), StatusCode::kFailedPrecondition);
  auto removed = store->MoveLabel({"eta", "canary", 2, LabelAction::kRemove, "p99 3x", "r", {}});
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(store->GetLabels("eta")->count("canary"), 0u);
  EXPECT_EQ(store->MoveLabel({"eta", "canary", 2, LabelAction::kRemove, "x", "r", {}})
                .status().code(), StatusCode::kFailedPrecondition);
  auto history = store->LabelHistory("eta", "canary");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[0].action, LabelAction::kRemove);
  EXPECT_EQ((*history)[0].why, "p99 3x");
  EXPECT_EQ((*history)[1].action, LabelAction::kNote);
  EXPECT_EQ((*history)[1].why, "check 1: ok");
  // The label can be set again afterwards, as new.
  auto again = store->MoveLabel({"eta", "canary", 1, LabelAction::kPromote, "next", "r", {}});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->from_version.has_value());
}

TYPED_TEST(MetadataStoreTest, RecordVersionIsIdempotentButRefusesAnotherPath) {
  auto& store = this->store_;
  this->Register("eta", 1);
  this->Register("eta", 1);
  this->Register("demand", 3);
  this->Register("Zeta", 1);
  Status other = store->RecordVersion({"eta", 1, "/elsewhere", "", "", "", 0});
  EXPECT_EQ(other.code(), StatusCode::kAlreadyExists);
  auto versions = store->ListVersions("eta");
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 1u);
  EXPECT_EQ((*versions)[0].path, "/repo/eta/1");
  EXPECT_EQ((*versions)[0].backend, "xgboost");
  EXPECT_GT((*versions)[0].created_time_ms, 0);
  EXPECT_TRUE(store->ListVersions("unknown")->empty());
  auto models = store->ListModels();
  ASSERT_TRUE(models.ok());
  // Byte order, as SQLite sorts: upper case first.
  EXPECT_EQ(*models, (std::vector<std::string>{"Zeta", "demand", "eta"}));
}

TYPED_TEST(MetadataStoreTest, ReopeningKeepsDataAndSchema) {
  this->Register("eta", 1);
  this->store_.reset();
  auto again = OpenMetadataStore(this->location_, {});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)->ListVersions("eta")->size(), 1u);
  auto ro = OpenMetadataStore(this->location_, {.read_only = true});
  ASSERT_TRUE(ro.ok()) << ro.status().ToString();
  EXPECT_EQ((*ro)->ListVersions("eta")->size(), 1u);
  Status write = (*ro)->RecordVersion({"eta", 2, "/p", "", "", "", 0});
  EXPECT_EQ(write.code(), StatusCode::kPermissionDenied) << write.ToString();
  EXPECT_EQ((*again)->ListVersions("eta")->size(), 1u);
}

TYPED_TEST(MetadataStoreTest, ForeignDatabaseIsRefused) {
  auto location = this->backend_.NewLocation();
  ASSERT_TRUE(location.ok());
  if (!IsPostgresUrl(*location)) {
    ASSERT_TRUE(MakeDirs(std::filesystem::path(*location).parent_path().string()).ok());
  }
  ASSERT_TRUE(this->backend_.RawExec(*location, this->backend_.ForeignTableSql()).ok());
  auto s = OpenMetadataStore(*location, {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("not a bimride registry"), std::string::npos)
      << s.status().message();
}

TYPED_TEST(MetadataStoreTest, NewerSchemaIsRefused) {
  this->store_.reset();
  ASSERT_TRUE(this->backend_.RawExec(this->location_, this->backend_.SetSchemaVersionSql(99)).ok());
  auto s = OpenMetadataStore(this->location_, {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("schema version 99 is newer"), std::string::npos)
      << s.status().message();
  auto ro = OpenMetadataStore(this->location_, {.read_only = true});
  ASSERT_FALSE(ro.ok());
  EXPECT_EQ(ro.status().code(), StatusCode::kFailedPrecondition);
}

TYPED_TEST(MetadataStoreTest, ReadOnlyOpenOfMissingStoreIsNotFound) {
  auto s = OpenMetadataStore(this->backend_.MissingLocation(), {.read_only = true});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound) << s.status().ToString();
}

// The Registry facade on this store, chosen by location: publish, promote, roll back.
TYPED_TEST(MetadataStoreTest, RegistryOpenedByLocationPublishesPromotesAndRollsBack) {
  ScopedTempDir tmp;
  auto reg = Registry::Open(tmp.path() + "/repo", {.db_path = this->location_});
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  for (const char* contents : {"one", "two"}) {
    std::string file = WriteTestFile(tmp.path(), "model.json", contents);
    auto m = (*reg)->Publish({{file, ""}}, DraftManifest("eta"));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
  }
  ASSERT_TRUE((*reg)->Promote("eta", 1, "stable", "first", "ana").ok());
  ASSERT_TRUE((*reg)->Promote("eta", 2, "stable", "better", "bo").ok());
  EXPECT_EQ(*(*reg)->ResolveLabel("eta", "stable"), 2);
  auto back = (*reg)->Rollback("eta", "stable", "regression", "cy");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->to_version, 1);
  // The store (not only labels.json) holds it.
  EXPECT_EQ(this->store_->GetLabels("eta")->at("stable"), 1);
  EXPECT_EQ(this->store_->LabelHistory("eta", "stable")->size(), 3u);
}

// Several processes move one label with compare-and-set (read the label, move it only if it
// still points there, retry when it changed). No move may be lost: the audit log must be one
// chain (each row starts where the previous one ended) with exactly one row per successful
// move, and the label ends where the last row ends.
TYPED_TEST(MetadataStoreTest, ConcurrentProcessesMovingOneLabelLoseNoUpdate) {
  constexpr int kProcesses = 6;
  constexpr int kMovesEach = 25;
  constexpr int kVersions = 5;
  for (int v = 1; v <= kVersions; ++v) this->Register("eta", v);
  this->store_.reset();  // nothing of the parent's connection crosses fork()
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto opened = OpenMetadataStore(this->location_, {});
      if (!opened.ok()) {
        std::fprintf(stderr, "child %d: %s\n", p, opened.status().ToString().c_str());
        ::_exit(2);
      }
      MetadataStore& store = **opened;
      int done = 0;
      int conflicts = 0;
      while (done < kMovesEach) {
        auto labels = store.GetLabels("eta");
        if (!labels.ok()) {
          std::fprintf(stderr, "child %d: %s\n", p, labels.status().ToString().c_str());
          ::_exit(3);
        }
        std::optional<int64_t> cur;
        if (labels->count("stable")) cur = labels->at("stable");
        int64_t to = 1 + (cur.value_or(0) + p) % kVersions;
        if (cur && to == *cur) to = 1 + to % kVersions;
        auto moved = store.MoveLabel({"eta", "stable", to, LabelAction::kPromote,
                                      "p" + std::to_string(p), "proc" + std::to_string(p),
                                      std::optional<std::optional<int64_t>>(cur)});
        if (moved.ok()) {
          ++done;
        } else if (moved.status().code() == StatusCode::kUnavailable) {
          ++conflicts;  // someone moved it first: read again
        } else {
          std::fprintf(stderr, "child %d: %s\n", p, moved.status().ToString().c_str());
          ::_exit(4);
        }
      }
      std::fprintf(stderr, "child %d: %d moves, %d compare-and-set conflicts\n", p, done,
                   conflicts);
      ::_exit(0);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child exit " << status;
  }
  auto reopened = OpenMetadataStore(this->location_, {});
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  auto history = (*reopened)->LabelHistory("eta", "stable");
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  ASSERT_EQ(history->size(), static_cast<size_t>(kProcesses * kMovesEach));
  std::map<std::string, int> per_process;
  std::optional<int64_t> previous_to;
  int64_t previous_id = 0;
  for (auto it = history->rbegin(); it != history->rend(); ++it) {  // oldest first
    EXPECT_GT(it->id, previous_id);
    EXPECT_EQ(it->from_version, previous_to) << "audit row " << it->id << " lost an update";
    EXPECT_NE(it->from_version, std::optional<int64_t>(it->to_version));
    previous_to = it->to_version;
    previous_id = it->id;
    ++per_process[it->who];
  }
  for (int p = 0; p < kProcesses; ++p) {
    EXPECT_EQ(per_process["proc" + std::to_string(p)], kMovesEach) << "proc" << p;
  }
  EXPECT_EQ((*reopened)->GetLabels("eta")->at("stable"), previous_to);
}

}  // namespace
}  // namespace bimride::registry
