#include "common/thread_name.h"

#include <gtest/gtest.h>

#include <thread>

#include "common/file.h"

namespace bimride {
namespace {

TEST(ThreadName, NamesTheCallingThreadOnlyAndCutsLongNames) {
  const std::string main_name = ThisThreadName();
  std::string seen, long_seen, comm;
  std::thread t([&] {
    NameThisThread("log-writer");
    seen = ThisThreadName();
    auto c = ReadFile("/proc/thread-self/comm");  // what top -H and perf show
    if (c.ok()) comm = *c;
    NameThisThread("a-name-much-longer-than-fifteen");
    long_seen = ThisThreadName();
  });
  t.join();
  EXPECT_EQ(seen, "log-writer");
  EXPECT_EQ(comm, "log-writer\n");
  EXPECT_EQ(long_seen, "a-name-much-lon");
  EXPECT_EQ(ThisThreadName(), main_name);
}

}  // namespace
}  // namespace bimride
