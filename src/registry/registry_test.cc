#include "registry/registry.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/file.h"
#include "registry/test_util.h"

namespace bimride::registry {
namespace {

namespace fs = std::filesystem;
using testing::DraftManifest;
using testing::ScopedTempDir;
using testing::WriteTestFile;

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = Registry::Open(repo_path_);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    registry_ = std::move(*r);
  }
  int64_t PublishVersion(const std::string& model, const std::string& contents) {
    std::string file = WriteTestFile(tmp_.path(), "model.json", contents);
    auto m = registry_->Publish({{file, ""}}, DraftManifest(model));
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? m->version : -1;
  }
  ScopedTempDir tmp_;
  std::string repo_path_ = tmp_.path() + "/repo";
  std::unique_ptr<Registry> registry_;
};

TEST_F(RegistryTest, PromoteResolveAndLabelsFile) {
  int64_t v1 = PublishVersion("eta", "one");
  int64_t v2 = PublishVersion("eta", "two");
  ASSERT_TRUE(registry_->Promote("eta", v1, "stable", "baseline", "ana").ok());
  ASSERT_TRUE(registry_->Promote("eta", v2, "canary", "try it", "ana").ok());
  EXPECT_EQ(*registry_->ResolveLabel("eta", "stable"), 1);
  EXPECT_EQ(*registry_->ResolveLabel("eta", "canary"), 2);
  auto missing = registry_->ResolveLabel("eta", "prod");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  auto labels = nlohmann::json::parse(*ReadFile(repo_path_ + "/eta/labels.json"));
  EXPECT_EQ(labels["stable"], 1);
  EXPECT_EQ(labels["canary"], 2);
  auto versions = registry_->ListVersions("eta");
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[0].manifest.version, 2);  // newest first
  EXPECT_EQ((*versions)[0].labels, std::vector<std::string>{"canary"});
  EXPECT_EQ((*versions)[1].labels, std::vector<std::string>{"stable"});
  auto ref = ParseModelRef("eta:canary");
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(*registry_->Resolve(*ref), 2);
  EXPECT_EQ(*registry_->Resolve(*ParseModelRef("eta")), 2);
  EXPECT_EQ(*registry_->Resolve(*ParseModelRef("eta:1")), 1);
}

TEST_F(RegistryTest, RemoveLabelLeavesTheLabelsFileAndNotesLeaveItAlone) {
  int64_t v1 = PublishVersion("eta", "one");
  int64_t v2 = PublishVersion("eta", "two");
  ASSERT_TRUE(registry_->Promote("eta", v1, "stable", "baseline", "ana").ok());
  ASSERT_TRUE(registry_->Promote("eta", v2, "canary", "rollout start", "rollout").ok());
  auto note = registry_->NoteLabel("eta", "canary", v2, "check 1: rmse ratio 1.01", "rollout");
  ASSERT_TRUE(note.ok()) << note.status().ToString();
  EXPECT_EQ(registry_->NoteLabel("eta", "canary", v1, "x", "r").status().code(),
            StatusCode::kFailedPrecondition);
  auto labels = nlohmann::json::parse(*ReadFile(repo_path_ + "/eta/labels.json"));
  EXPECT_EQ(labels["canary"], 2);
  auto removed = registry_->RemoveLabel("eta", "canary", v2, "rolled back: p99 3.1x", "rollout");
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  labels = nlohmann::json::parse(*ReadFile(repo_path_ + "/eta/labels.json"));
  EXPECT_FALSE(labels.contains("canary"));
  EXPECT_EQ(labels["stable"], 1);
  EXPECT_EQ(registry_->ResolveLabel("eta", "canary").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->Rollback("eta", "canary", "x", "r").status().code(),
            StatusCode::kFailedPrecondition);
  auto history = registry_->History("eta", "canary");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[0].why, "rolled back: p99 3.1x");
}

// Servers follow labels.json: a move that cannot be written there must not happen at all (the
// store and its audit log would otherwise say one thing and every server another).
TEST_F(RegistryTest, AMoveWhoseLabelsFileCannotBeWrittenChangesNothing) {
  int64_t v1 = PublishVersion("eta", "one");
  int64_t v2 = PublishVersion("eta", "two");
  ASSERT_TRUE(registry_->Promote("eta", v1, "stable", "first", "ana").ok());
  ASSERT_TRUE(registry_->Promote("eta", v2, "stable", "second", "ana").ok());
  // labels.json replaced by a folder: the atomic rename onto it fails.
  const std::string labels = repo_path_ + "/eta/labels.json";
  std::filesystem::remove(labels);
  std::filesystem::create_directories(labels + "/in_the_way");
  auto promoted = registry_->Promote("eta", v1, "canary", "try", "ana");
  ASSERT_FALSE(promoted.ok());
  EXPECT_NE(promoted.status().message().find("label 'canary' not moved"), std::string::npos)
      << promoted.status().message();
  EXPECT_NE(promoted.status().message().find("labels.json"), std::string::npos)
      << promoted.status().message();
  EXPECT_EQ(registry_->ResolveLabel("eta", "canary").status().code(), StatusCode::kNotFound);
  auto rolled = registry_->Rollback("eta", "stable", "undo", "ana");
  ASSERT_FALSE(rolled.ok());
  EXPECT_EQ(*registry_->ResolveLabel("eta", "stable"), v2) << "the store did not move either";
  auto history = registry_->store().LabelHistory("eta", "stable");
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->size(), 2u) << "no audit entry for a move that did not happen";
  // Once the file can be written again, moves work and the file says what the store says.
  std::filesystem::remove_all(labels);
  ASSERT_TRUE(registry_->Rollback("eta", "stable", "undo", "ana").ok());
  EXPECT_EQ(nlohmann::json::parse(*ReadFile(labels))["stable"], v1);
}

TEST_F(RegistryTest, PublishFolderTakesTheTrainersManifestAndArtifacts) {
  const std::string dir = tmp_.path() + "/trained";
  fs::create_directories(dir);
  WriteTestFile(dir, "model.json", "{\"trees\": []}");
  WriteTestFile(dir, "context.json", "{\"zones\": 3}");
  Manifest draft = DraftManifest("eta");
  draft.artifacts = {"model.json", "context.json"};
  ASSERT_TRUE(WriteFileAtomic(dir + "/manifest.json", ManifestToJson(draft)).ok());
  auto m = registry_->PublishFolder(dir, {.name = "eta_booking"});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->name, "eta_booking");
  EXPECT_EQ(m->version, 1);
  EXPECT_EQ(m->files.size(), 2u);
  EXPECT_EQ(*ReadFile(repo_path_ + "/eta_booking/1/context.json"), "{\"zones\": 3}");
  EXPECT_TRUE(registry_->Show("eta_booking", 1).ok());

  // The same files as another backend, loading another artifact first.
  auto other = registry_->PublishFolder(
      dir, {.name = "eta_trees", .backend = "native_trees", .first_artifact = "context.json"});
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_EQ(other->backend, "native_trees");
  EXPECT_EQ(other->artifacts, (std::vector<std::string>{"context.json", "model.json"}));
  auto unlisted = registry_->PublishFolder(dir, {.first_artifact = "weights.bin"});
  EXPECT_EQ(unlisted.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unlisted.status().message().find("'weights.bin' is not one of"), std::string::npos);
  auto bad_backend = registry_->PublishFolder(dir, {.backend = "tensorflow"});
  EXPECT_FALSE(bad_backend.ok());

  fs::remove(dir + "/context.json");
  auto missing = registry_->PublishFolder(dir);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("context.json"), std::string::npos)
      << missing.status().message();
  auto no_manifest = registry_->PublishFolder(tmp_.path() + "/nothing");
  EXPECT_EQ(no_manifest.status().code(), StatusCode::kNotFound);
  EXPECT_NE(no_manifest.status().message().find("nothing/manifest.json"), std::string::npos);
}

TEST_F(RegistryTest, SameRepositoryByAnotherPathIsTheSameRegistry) {
  ASSERT_EQ(PublishVersion("eta", "one"), 1);
  // The same folder through a relative path (as `cd` + `--repo model_repo` gives) and through
  // a symlink (another mount point of a shared repository).
  const fs::path cwd = fs::current_path();
  fs::current_path(tmp_.path());
  auto relative = Registry::Open("repo");
  ASSERT_TRUE(relative.ok()) << relative.status().ToString();
  auto p2 = (*relative)->Publish({{WriteTestFile(tmp_.path(), "m2.json", "two"), "model.json"}},
                                 DraftManifest("eta"));
  ASSERT_TRUE(p2.ok()) << p2.status().ToString();
  EXPECT_TRUE((*relative)->Promote("eta", 1, "stable", "first", "ana").ok());
  fs::current_path(cwd);
  fs::create_directory_symlink(repo_path_, tmp_.path() + "/mounted");
  auto mounted = Registry::Open(tmp_.path() + "/mounted");
  ASSERT_TRUE(mounted.ok());
  auto move = (*mounted)->Promote("eta", 2, "stable", "second", "bo");
  ASSERT_TRUE(move.ok()) << move.status().ToString();
  auto report = (*mounted)->VerifyAll(/*repair=*/false);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << report->issues.front().status.ToString();
  EXPECT_EQ(report->good_versions, 2);
  EXPECT_EQ(*registry_->ResolveLabel("eta", "stable"), 2);
}

TEST_F(RegistryTest, RollbackWalksBackThroughPromotions) {
  for (int i = 1; i <= 3; ++i) {
    ASSERT_EQ(PublishVersion("eta", "v" + std::to_string(i)), i);
    ASSERT_TRUE(registry_->Promote("eta", i, "stable", "release " + std::to_string(i), "ana").ok());
  }
  auto r1 = registry_->Rollback("eta", "stable", "v3 regressed", "bo");
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_EQ(r1->from_version, 3);
  EXPECT_EQ(r1->to_version, 2);
  EXPECT_EQ(r1->action, LabelAction::kRollback);
  auto r2 = registry_->Rollback("eta", "stable", "v2 too", "bo");
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->to_version, 1);
  auto r3 = registry_->Rollback("eta", "stable", "", "bo");
  ASSERT_FALSE(r3.ok());
  EXPECT_EQ(r3.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r3.status().message().find("nothing to roll back to"), std::string::npos);
  EXPECT_EQ(*registry_->ResolveLabel("eta", "stable"), 1);
  // A new promotion after rollbacks is undone by the next rollback.
  ASSERT_TRUE(registry_->Promote("eta", 3, "stable", "fixed", "ana").ok());
  auto r4 = registry_->Rollback("eta", "stable", "not fixed", "bo");
  ASSERT_TRUE(r4.ok());
  EXPECT_EQ(r4->to_version, 1);
  // The audit trail holds every move, newest first, with why and who.
  auto history = registry_->History("eta", "stable");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 7u);
  EXPECT_EQ((*history)[0].why, "not fixed");
  EXPECT_EQ((*history)[0].who, "bo");
  EXPECT_EQ((*history)[6].why, "release 1");
  EXPECT_FALSE((*history)[6].from_version.has_value());
}

TEST_F(RegistryTest, RollbackWithoutHistoryIsAClearError) {
  PublishVersion("eta", "one");
  auto r = registry_->Rollback("eta", "stable", "", "ana");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("label 'stable' has never been set"), std::string::npos);
}

TEST_F(RegistryTest, PromoteRefusesCorruptVersionAndBadLabel) {
  PublishVersion("eta", "one");
  ASSERT_TRUE(WriteFileAtomic(repo_path_ + "/eta/1/model.json", "oNe").ok());
  auto p = registry_->Promote("eta", 1, "stable", "", "ana");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(p.status().message().find("cannot promote eta:1"), std::string::npos);
  EXPECT_NE(p.status().message().find("sha256 mismatch"), std::string::npos);
  EXPECT_EQ(registry_->Promote("eta", 9, "stable", "", "ana").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(registry_->Promote("eta", 1, "12", "", "ana").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_->Promote("eta", 1, "bad label", "", "ana").status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(RegistryTest, RollbackRefusesACorruptTarget) {
  PublishVersion("eta", "one");
  PublishVersion("eta", "two");
  ASSERT_TRUE(registry_->Promote("eta", 1, "stable", "", "ana").ok());
  ASSERT_TRUE(registry_->Promote("eta", 2, "stable", "", "ana").ok());
  fs::remove(repo_path_ + "/eta/1/model.json");
  auto r = registry_->Rollback("eta", "stable", "", "ana");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("cannot roll eta:stable back to version 1"),
            std::string::npos);
  EXPECT_EQ(*registry_->ResolveLabel("eta", "stable"), 2);
}

TEST_F(RegistryTest, VerifyAllFindsProblemsIndexesStrayVersionsAndRepairs) {
  PublishVersion("eta", "one");
  PublishVersion("eta", "two");
  ASSERT_TRUE(registry_->Promote("eta", 2, "stable", "", "ana").ok());
  // A version published by a process that died before indexing it: copy v1's folder as v3.
  fs::copy(repo_path_ + "/eta/1", tmp_.path() + "/v3");
  auto m = ReadManifest(tmp_.path() + "/v3/manifest.json");
  ASSERT_TRUE(m.ok());
  m->version = 3;
  ASSERT_TRUE(WriteFileAtomic(tmp_.path() + "/v3/manifest.json", ManifestToJson(*m)).ok());
  fs::rename(tmp_.path() + "/v3", repo_path_ + "/eta/3");
  // Corrupt the labelled version; leave an old staging folder.
  ASSERT_TRUE(WriteFileAtomic(repo_path_ + "/eta/2/model.json", "TWO").ok());
  fs::create_directories(repo_path_ + "/eta/.staging-99-dead");
  fs::last_write_time(repo_path_ + "/eta/.staging-99-dead",
                      fs::file_time_type::clock::now() - std::chrono::hours(2));

  auto report = registry_->VerifyAll(/*repair=*/false);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(report->ok());
  EXPECT_EQ(report->good_versions, 2);
  std::string all;
  for (const auto& i : report->issues) all += i.status.message() + "\n";
  EXPECT_NE(all.find("sha256 mismatch"), std::string::npos) << all;
  EXPECT_NE(all.find("label 'stable' points at version 2, which is missing or corrupt"),
            std::string::npos)
      << all;
  EXPECT_EQ(report->staging_dirs.size(), 1u);
  auto indexed = registry_->store().ListVersions("eta");
  ASSERT_TRUE(indexed.ok());
  EXPECT_EQ(indexed->size(), 3u);  // v3 now indexed

  auto repaired = registry_->VerifyAll(/*repair=*/true);
  ASSERT_TRUE(repaired.ok());
  EXPECT_FALSE(fs::exists(repo_path_ + "/eta/.staging-99-dead"));
  EXPECT_FALSE(repaired->repaired.empty());
}

TEST_F(RegistryTest, ListModelsSummarisesEachModel) {
  PublishVersion("eta", "a");
  PublishVersion("eta", "b");
  PublishVersion("demand", "c");
  ASSERT_TRUE(registry_->Promote("eta", 1, "stable", "", "ana").ok());
  auto models = registry_->ListModels();
  ASSERT_TRUE(models.ok());
  ASSERT_EQ(models->size(), 2u);
  EXPECT_EQ((*models)[0].name, "demand");
  EXPECT_EQ((*models)[1].num_versions, 2);
  EXPECT_EQ((*models)[1].latest_version, 2);
  EXPECT_EQ((*models)[1].labels.at("stable"), 1);
}

TEST(ParseModelRefTest, ParsesNameVersionAndLabel) {
  EXPECT_EQ(ParseModelRef("eta")->version, 0);
  EXPECT_EQ(ParseModelRef("eta:4")->version, 4);
  EXPECT_EQ(ParseModelRef("eta:stable")->label, "stable");
  EXPECT_FALSE(ParseModelRef("eta:").ok());
  EXPECT_FALSE(ParseModelRef("eta:0").ok());
  EXPECT_FALSE(ParseModelRef("../x").ok());
}

TEST(RollbackTargetTest, SkipsPromotionsAlreadyUndone) {
  auto move = [](int64_t id, std::optional<int64_t> from, int64_t to, LabelAction a) {
    LabelMove m;
    m.id = id;
    m.label = "stable";
    m.from_version = from;
    m.to_version = to;
    m.action = a;
    return m;
  };
  using A = LabelAction;
  std::vector<LabelMove> h = {move(3, 2, 3, A::kPromote), move(2, 1, 2, A::kPromote),
                              move(1, std::nullopt, 1, A::kPromote)};
  EXPECT_EQ(*RollbackTarget(h), 2);
  h.insert(h.begin(), move(4, 3, 2, A::kRollback));
  EXPECT_EQ(*RollbackTarget(h), 1);
  h.insert(h.begin(), move(5, 2, 1, A::kRollback));
  EXPECT_FALSE(RollbackTarget(h).ok());
  EXPECT_FALSE(RollbackTarget({}).ok());
}

TEST(RollbackTargetTest, NotesAreSkippedAndARemovedLabelHasNothingToRollBack) {
  auto move = [](int64_t id, std::optional<int64_t> from, int64_t to, LabelAction a) {
    LabelMove m;
    m.id = id;
    m.label = "canary";
    m.from_version = from;
    m.to_version = to;
    m.action = a;
    return m;
  };
  using A = LabelAction;
  std::vector<LabelMove> h = {move(3, 2, 2, A::kNote), move(2, 1, 2, A::kPromote),
                              move(1, std::nullopt, 1, A::kPromote)};
  EXPECT_EQ(*RollbackTarget(h), 1);
  h.insert(h.begin(), move(4, 2, 2, A::kRemove));
  EXPECT_EQ(RollbackTarget(h).status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace bimride::registry
