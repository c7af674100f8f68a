#include "registry/sha256.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "common/file.h"

namespace bimride::registry {
namespace {

TEST(Sha256Test, MatchesKnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, FileDigestEqualsBufferDigestForMultiChunkFile) {
  std::string dir = ::testing::TempDir() + "/sha256_test_" + std::to_string(::getpid());
  ASSERT_TRUE(MakeDirs(dir).ok());
  std::string data;
  for (int i = 0; i < 200000; ++i) data += static_cast<char>('a' + i % 26);  // > one 64 KiB read
  ASSERT_TRUE(WriteFileAtomic(dir + "/f.bin", data).ok());
  auto digest = Sha256File(dir + "/f.bin");
  ASSERT_TRUE(digest.ok()) << digest.status().ToString();
  EXPECT_EQ(*digest, Sha256Hex(data));
  std::filesystem::remove_all(dir);
}

TEST(Sha256Test, MissingFileIsNotFoundNamingThePath) {
  auto digest = Sha256File("/nonexistent/model.bin");
  ASSERT_FALSE(digest.ok());
  EXPECT_EQ(digest.status().code(), StatusCode::kNotFound);
  EXPECT_NE(digest.status().message().find("/nonexistent/model.bin"), std::string::npos);
}

TEST(Sha256Test, RecognisesHexDigests) {
  EXPECT_TRUE(IsSha256Hex(Sha256Hex("x")));
  EXPECT_FALSE(IsSha256Hex("abc"));
  EXPECT_FALSE(IsSha256Hex(std::string(64, 'G')));
  EXPECT_FALSE(IsSha256Hex(std::string(64, 'A')));  // upper case is not our canonical form
}

}  // namespace
}  // namespace bimride::registry
