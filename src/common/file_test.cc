#include "common/file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace bimride {
namespace {

TEST(FileTest, AtomicWriteThenReadBack) {
  std::string dir = testing::TempDir() + "/file_test_" + std::to_string(::getpid());
  ASSERT_TRUE(MakeDirs(dir + "/a/b").ok());
  std::string path = dir + "/a/b/x.txt";
  ASSERT_TRUE(WriteFileAtomic(path, "first").ok());
  ASSERT_TRUE(WriteFileAtomic(path, "second").ok());
  EXPECT_EQ(*ReadFile(path), "second");
  int entries = 0;
  for (auto& e : std::filesystem::directory_iterator(dir + "/a/b")) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1) << "no temporary files left behind";
  std::filesystem::remove_all(dir);
}

TEST(FileTest, ErrorsNameThePath) {
  auto r = ReadFile("/nonexistent/trips.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("/nonexistent/trips.csv"), std::string::npos);
  EXPECT_FALSE(ReadFile("/").ok());
  EXPECT_FALSE(WriteFileAtomic("/nonexistent/dir/x", "y").ok());
}

}  // namespace
}  // namespace bimride
