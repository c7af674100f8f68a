// Rng: the simulator's own seeded pseudo-random generator (xoshiro256** seeded through
// splitmix64) and the few distributions it needs. Every draw is computed here from integer
// arithmetic and basic libm functions (log, exp, sqrt, cos, lgamma), never from <random>'s
// distributions, whose output differs between standard library versions; so a seed gives the
// same stream on every build. Not thread-safe: one Rng per thread or per stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace bimride::simulator {

// splitmix64 step: advances `state` and returns a well-mixed 64-bit value. Also used to derive
// independent seeds for sub-streams (Rng::Fork).
uint64_t SplitMix64(uint64_t& state);

class Rng {
 public:
  explicit Rng(uint64_t seed);

  uint64_t Next();  // 64 random bits
  // Uniform in [0, 1) with 53 random bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Uniform in (0, 1]: safe to take the log of.
  double UniformPositive() { return 1.0 - Uniform(); }
  // Uniform integer in [0, n); n > 0. Lemire's multiply-shift (bias below 2^-32 for our n).
  uint64_t Below(uint64_t n);
  bool Bernoulli(double p) { return Uniform() < p; }
  double Normal();                            // mean 0, sd 1 (Box–Muller)
  double LogNormal(double mu, double sigma);  // exp(N(mu, sigma²))
  double Exponential(double rate);            // mean 1/rate
  // Poisson(lambda) for lambda >= 0: inversion by multiplication below 10, Hörmann's PTRS
  // transformed rejection above (exact, O(1) expected time).
  int64_t Poisson(double lambda);

  // An independent generator for a named sub-stream, so adding draws to one part of the
  // simulation does not shift the random numbers every other part sees.
  Rng Fork(uint64_t stream) const;

 private:
  uint64_t s_[4];
  double spare_normal_ = 0;
  bool has_spare_normal_ = false;
};

// Walker/Vose alias table: O(1) draws from a fixed discrete distribution over 0..n-1.
class AliasTable {
 public:
  AliasTable() = default;
  // Weights must be finite and >= 0 with a positive sum; otherwise the table is left empty
  // (empty() is true) and Sample must not be called.
  explicit AliasTable(const std::vector<double>& weights);
  bool empty() const { return prob_.empty(); }
  size_t size() const { return prob_.size(); }
  uint32_t Sample(Rng& rng) const;

 private:
  std::vector<double> prob_;
  std::vector<uint32_t> alias_;
};

}  // namespace bimride::simulator
