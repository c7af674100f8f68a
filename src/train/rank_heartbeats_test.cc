// The heartbeats of a distributed XGBoost job, three ranks in one process on loopback: each
// rank learns every other's step through rank 0's hub; a rank that goes away is named by the
// ones left (rank 0's hub names a sender; a sender names rank 0 when the hub stops answering).
#include "train/rank_heartbeats.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "train/distributed.h"

namespace bimride::train {
namespace {

DistributedOptions Rank(int rank, int world, int port) {
  DistributedOptions d;
  d.rank = rank;
  d.world_size = world;
  d.master_addr = "127.0.0.1";
  d.master_port = port;
  d.timeout_seconds = 4;
  return d;
}

void SendTo(int port, const std::string& text) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  ::sendto(fd, text.data(), text.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::close(fd);
}

TEST(RankHeartbeatsTest, EveryRankSeesTheOthersAndTheSurvivorsNameTheOneThatStopped) {
  auto port = FreeLocalPort();
  ASSERT_TRUE(port.ok());
  auto r0 = RankHeartbeats::Start(Rank(0, 3, *port));
  ASSERT_TRUE(r0.ok()) << r0.status().ToString();
  auto r1 = RankHeartbeats::Start(Rank(1, 3, *port));
  auto r2 = RankHeartbeats::Start(Rank(2, 3, *port));
  ASSERT_TRUE(r1.ok() && r2.ok());
  (*r0)->set_step(7);
  (*r1)->set_step(6);
  (*r2)->set_step(5);
  // Stray datagrams (not "HB <rank> <step>", a rank out of range) are ignored by the hub.
  for (const char* junk : {"", "HB", "HB 9 1", "HB 0 3", "HB 1 -2", "HB 1 2x", "hello"}) {
    SendTo(*port, junk);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  std::vector<int64_t> beats, steps;
  (*r1)->Snapshot(&beats, &steps);
  EXPECT_EQ(steps, (std::vector<int64_t>{7, 6, 5}));
  for (int64_t b : beats) EXPECT_GT(b, 0);

  r2->reset();  // rank 2 goes away
  const Status s = (*r0)->Failure("Allreduce failed");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "rank 2 (last heartbeat at step 5) stopped: no heartbeat for 1 s "
                         "(rank 0 of 3: Allreduce failed)");

  r0->reset();  // rank 0 (the hub) goes away
  const Status t = (*r1)->Failure("Poll timeout");
  EXPECT_EQ(t.code(), StatusCode::kUnavailable);
  EXPECT_NE(t.message().find("rank 0 (last heartbeat at step 7) stopped: its heartbeat hub at "
                             "127.0.0.1:" + std::to_string(*port) + " has not answered for "),
            std::string::npos)
      << t.message();
  EXPECT_NE(t.message().find("(rank 1 of 3: Poll timeout)"), std::string::npos) << t.message();
}

TEST(RankHeartbeatsTest, AHungRankIsNamedByTheRankWaitingForIt) {
  auto port = FreeLocalPort();
  ASSERT_TRUE(port.ok());
  auto r0 = RankHeartbeats::Start(Rank(0, 2, *port));
  auto r1 = RankHeartbeats::Start(Rank(1, 2, *port));
  ASSERT_TRUE(r0.ok() && r1.ok());
  (*r0)->set_step(10);
  (*r1)->set_step(9);  // and then stuck, its heartbeat still going
  const Status s = (*r0)->Failure("Poll timeout");
  EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(s.message(), "rank 1 is hung: alive, but has started only 9 steps while rank 0 "
                         "waited 4 s in step 10 (rank 0 of 2: Poll timeout)");
}

TEST(RankHeartbeatsTest, AHubThatCannotListenOrAMasterThatCannotBeResolvedIsAClearError) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const int taken = ntohs(a.sin_port);
  auto hub = RankHeartbeats::Start(Rank(0, 2, taken));
  ASSERT_FALSE(hub.ok());
  EXPECT_NE(hub.status().message().find("rank 0 cannot listen on UDP 127.0.0.1:" +
                                        std::to_string(taken)),
            std::string::npos)
      << hub.status().message();
  ::close(fd);

  DistributedOptions d = Rank(1, 2, 29999);
  d.master_addr = "no-such-host.invalid";
  auto sender = RankHeartbeats::Start(d);
  ASSERT_FALSE(sender.ok());
  EXPECT_NE(sender.status().message().find("cannot resolve MASTER_ADDR no-such-host.invalid"),
            std::string::npos)
      << sender.status().message();
  EXPECT_FALSE(RankHeartbeats::Start(Rank(2, 2, 29999)).ok()) << "rank out of range";
}

}  // namespace
}  // namespace bimride::train
