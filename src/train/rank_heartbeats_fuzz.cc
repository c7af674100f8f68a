// libFuzzer target over the heartbeat datagrams of distributed XGBoost (rank_heartbeats.h):
// what a hub reads from the network and what a sender reads back. Built only with
// -DBIMRIDE_FUZZ=ON under clang; scripts/fuzz runs it. The first byte picks the world size.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "train/rank_heartbeats.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int world = 1 + data[0] % 64;
  const std::string_view datagram(reinterpret_cast<const char*>(data + 1), size - 1);
  int rank = -1;
  int64_t step = -1;
  if (bimride::train::ParseHeartbeat(datagram, world, &rank, &step)) {
    if (rank < 1 || rank >= world || step < 0) __builtin_trap();
  }
  std::vector<int64_t> beats, steps;
  if (bimride::train::ParseHeartbeatTable(datagram, world, &beats, &steps)) {
    if (static_cast<int>(beats.size()) != world || static_cast<int>(steps.size()) != world) {
      __builtin_trap();
    }
  }
  return 0;
}
