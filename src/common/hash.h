// MixBits64: splitmix64's finalizer, a bijection of 64-bit values in which every input bit moves
// every output bit (so the low bits, or the high half, of a mixed value index a power-of-two
// table well). The simulator's SplitMix64 steps are it applied to a counter; the Parquet
// writer's dictionaries and the live monitor's pending rows hash keys with it.
#pragma once

#include <cstdint>

namespace bimride {

constexpr uint64_t MixBits64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace bimride
