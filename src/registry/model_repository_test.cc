#include "registry/model_repository.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/file.h"
#include "registry/sha256.h"
#include "registry/test_util.h"

namespace bimride::registry {
namespace {

namespace fs = std::filesystem;
using testing::DraftManifest;
using testing::ScopedTempDir;
using testing::WriteTestFile;

class ModelRepositoryTest : public ::testing::Test {
 protected:
  std::string Artifact(const std::string& contents = "model-bytes") {
    return WriteTestFile(src_.path(), "model.json", contents);
  }
  StatusOr<Manifest> PublishOne(const std::string& model = "eta",
                                const std::string& contents = "model-bytes") {
    return repo_.Publish({{Artifact(contents), ""}}, DraftManifest(model));
  }
  ScopedTempDir src_;
  ScopedTempDir root_;
  ModelRepository repo_{root_.path() + "/repo"};
};

TEST_F(ModelRepositoryTest, PublishWritesTfServingLayoutWithDigests) {
  auto m = PublishOne("eta", "hello");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->version, 1);
  EXPECT_EQ(m->artifacts, std::vector<std::string>{"model.json"});
  ASSERT_EQ(m->files.size(), 1u);
  EXPECT_EQ(m->files[0].sha256, Sha256Hex("hello"));
  EXPECT_EQ(m->files[0].size_bytes, 5);
  EXPECT_FALSE(m->created_at.empty());
  std::string dir = root_.path() + "/repo/eta/1";
  EXPECT_EQ(*ReadFile(dir + "/model.json"), "hello");
  auto on_disk = ReadManifest(dir + "/manifest.json");
  ASSERT_TRUE(on_disk.ok()) << on_disk.status().ToString();
  EXPECT_EQ(on_disk->version, 1);
  EXPECT_EQ(on_disk->files, m->files);
  // No staging folder remains.
  for (const auto& e : fs::directory_iterator(root_.path() + "/repo/eta")) {
    EXPECT_NE(e.path().filename().string().rfind(kStagingPrefix, 0), 0u) << e.path();
  }
}

TEST_F(ModelRepositoryTest, VersionsIncreaseAndLoadVerifies) {
  ASSERT_TRUE(PublishOne("eta", "a").ok());
  ASSERT_TRUE(PublishOne("eta", "b").ok());
  auto third = PublishOne("eta", "c");
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->version, 3);
  auto loaded = repo_.LoadVersion("eta", 2);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->files[0].sha256, Sha256Hex("b"));
  auto models = repo_.ListModels();
  ASSERT_TRUE(models.ok());
  EXPECT_EQ(*models, std::vector<std::string>{"eta"});
}

TEST_F(ModelRepositoryTest, MultipleFilesAndExplicitArtifactNames) {
  std::string a = WriteTestFile(src_.path(), "weights.bin", "w");
  std::string b = WriteTestFile(src_.path(), "vocab.txt", "v");
  Manifest draft = DraftManifest("demand", "torchscript");
  draft.artifacts = {"model.pt"};
  auto m = repo_.Publish({{a, "model.pt"}, {b, "extra/vocab.txt"}}, draft);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->files.size(), 2u);
  EXPECT_TRUE(repo_.LoadVersion("demand", 1).ok());
  EXPECT_TRUE(FileExists(root_.path() + "/repo/demand/1/extra/vocab.txt"));
}

TEST_F(ModelRepositoryTest, PublishRejectsBadInputWithoutLeavingAVersion) {
  Manifest bad = DraftManifest("eta", "tensorflow");
  auto m = repo_.Publish({{Artifact(), ""}}, bad);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("unknown backend 'tensorflow'"), std::string::npos);
  auto missing = repo_.Publish({{src_.path() + "/nope.bin", ""}}, DraftManifest("eta"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("nope.bin"), std::string::npos);
  Manifest wrong_artifact = DraftManifest("eta");
  wrong_artifact.artifacts = {"other.json"};
  auto w = repo_.Publish({{Artifact(), ""}}, wrong_artifact);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("'other.json' is not among the files"), std::string::npos);
  EXPECT_FALSE(FileExists(root_.path() + "/repo/eta/1"));
}

TEST_F(ModelRepositoryTest, ChecksumMismatchIsDataLossNamingTheFile) {
  ASSERT_TRUE(PublishOne("eta", "good-bytes").ok());
  std::string file = root_.path() + "/repo/eta/1/model.json";
  ASSERT_TRUE(WriteFileAtomic(file, "evil-bytes").ok());  // same size, other contents
  auto m = repo_.LoadVersion("eta", 1);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(m.status().message().find(file + ": sha256 mismatch"), std::string::npos)
      << m.status().message();
  // The cheap check (sizes only) does not notice; the full one does.
  EXPECT_TRUE(repo_.LoadVersion("eta", 1, VerifyMode::kManifestOnly).ok());
}

TEST_F(ModelRepositoryTest, TruncatedMissingAndUnlistedFilesAreRefused) {
  ASSERT_TRUE(PublishOne("eta", "0123456789").ok());
  std::string dir = root_.path() + "/repo/eta/1";
  ASSERT_TRUE(WriteFileAtomic(dir + "/model.json", "01234").ok());
  auto t = repo_.LoadVersion("eta", 1, VerifyMode::kManifestOnly);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("size 5 bytes, manifest says 10"), std::string::npos);

  fs::remove(dir + "/model.json");
  auto gone = repo_.LoadVersion("eta", 1);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(gone.status().message().find(dir + "/model.json: missing"), std::string::npos);

  ASSERT_TRUE(PublishOne("eta", "x").ok());
  WriteTestFile(root_.path() + "/repo/eta/2", "stray.txt", "?");
  auto stray = repo_.LoadVersion("eta", 2);
  ASSERT_FALSE(stray.ok());
  EXPECT_NE(stray.status().message().find("stray.txt: file not listed in manifest"),
            std::string::npos);
}

TEST_F(ModelRepositoryTest, MalformedManifestAndWrongFolderAreNamed) {
  ASSERT_TRUE(PublishOne().ok());
  ASSERT_TRUE(PublishOne().ok());
  std::string m1 = root_.path() + "/repo/eta/1/manifest.json";
  ASSERT_TRUE(WriteFileAtomic(m1, "{not json").ok());
  auto bad = repo_.LoadVersion("eta", 1);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(m1 + ": malformed JSON"), std::string::npos);
  // A version folder copied under another number.
  fs::copy(root_.path() + "/repo/eta/2", root_.path() + "/repo/eta/7");
  auto moved = repo_.LoadVersion("eta", 7);
  ASSERT_FALSE(moved.ok());
  EXPECT_NE(moved.status().message().find("manifest is for eta/2 but sits in eta/7"),
            std::string::npos);
}

TEST_F(ModelRepositoryTest, ScanSkipsAndReportsBadFoldersKeepingGoodOnes) {
  ASSERT_TRUE(PublishOne("eta", "v1").ok());
  ASSERT_TRUE(PublishOne("eta", "v2").ok());
  std::string model_dir = root_.path() + "/repo/eta";
  fs::create_directories(model_dir + "/v3");          // not a number
  fs::create_directories(model_dir + "/007");         // not canonical
  fs::create_directories(model_dir + "/4");           // partial: no manifest
  WriteTestFile(model_dir + "/4", "model.json", "half");
  fs::create_directories(model_dir + "/.staging-1-ab");  // publish in progress
  ASSERT_TRUE(WriteFileAtomic(model_dir + "/2/model.json", "XX").ok());  // corrupt v2
  auto scan = repo_.ScanModel("eta", VerifyMode::kFull);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  ASSERT_EQ(scan->versions.size(), 1u);
  EXPECT_EQ(scan->versions[0].version, 1);
  ASSERT_EQ(scan->problems.size(), 4u);
  std::string all;
  for (const auto& p : scan->problems) all += p.status.message() + "\n";
  EXPECT_NE(all.find("version folder name 'v3' is not a version number"), std::string::npos)
      << all;
  EXPECT_NE(all.find("'007' is not a version number"), std::string::npos) << all;
  EXPECT_NE(all.find(model_dir + "/4: no manifest.json"), std::string::npos) << all;
  EXPECT_NE(all.find(model_dir + "/2/model.json: sha256 mismatch"), std::string::npos) << all;
  EXPECT_EQ(scan->staging_dirs.size(), 1u);
  // The next publish skips every taken number, good or bad.
  auto next = PublishOne("eta", "v5");
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->version, 5);
}

TEST_F(ModelRepositoryTest, EmptyFolderAtNextNumberIsNotOverwritten) {
  ASSERT_TRUE(PublishOne().ok());
  fs::create_directories(root_.path() + "/repo/eta/2");  // squatter
  auto m = PublishOne();
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->version, 3);
  EXPECT_TRUE(fs::is_empty(root_.path() + "/repo/eta/2"));
}

TEST_F(ModelRepositoryTest, StaleStagingIsCleanedByAgeOnly) {
  ASSERT_TRUE(PublishOne().ok());
  std::string model_dir = root_.path() + "/repo/eta";
  fs::create_directories(model_dir + "/.staging-old");
  fs::create_directories(model_dir + "/.staging-new");
  auto old_time = fs::file_time_type::clock::now() - std::chrono::hours(3);
  fs::last_write_time(model_dir + "/.staging-old", old_time);
  StagingCleanup c = repo_.CleanStaging("eta", 60);
  ASSERT_EQ(c.removed.size(), 1u);
  EXPECT_FALSE(fs::exists(model_dir + "/.staging-old"));
  EXPECT_TRUE(fs::exists(model_dir + "/.staging-new"));
  // Publishing also cleans stale ones.
  fs::last_write_time(model_dir + "/.staging-new", old_time);
  ASSERT_TRUE(PublishOne().ok());
  EXPECT_FALSE(fs::exists(model_dir + "/.staging-new"));
}

TEST_F(ModelRepositoryTest, UnknownModelAndVersionAreNotFound) {
  EXPECT_EQ(repo_.ScanModel("nope").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(PublishOne().ok());
  auto v = repo_.LoadVersion("eta", 9);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kNotFound);
  EXPECT_NE(v.status().message().find("eta/9: no such model version"), std::string::npos);
}

TEST(ParseVersionDirNameTest, AcceptsOnlyCanonicalPositiveIntegers) {
  EXPECT_EQ(*ParseVersionDirName("1"), 1);
  EXPECT_EQ(*ParseVersionDirName("42"), 42);
  for (const char* bad : {"0", "07", "-1", "v2", "", "1.0", "99999999999999999999"}) {
    EXPECT_FALSE(ParseVersionDirName(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace bimride::registry
