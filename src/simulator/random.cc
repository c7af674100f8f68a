#include "simulator/random.h"

#include <cmath>

#include "common/hash.h"

namespace bimride::simulator {
namespace {

inline uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

uint64_t SplitMix64(uint64_t& state) {
  return MixBits64(state += 0x9E3779B97F4A7C15ULL);
}

Rng::Rng(uint64_t seed) {
  uint64_t state = seed;
  for (uint64_t& s : s_) s = SplitMix64(state);
}

uint64_t Rng::Next() {
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

uint64_t Rng::Below(uint64_t n) {
  const unsigned __int128 m = static_cast<unsigned __int128>(Next()) * n;
  return static_cast<uint64_t>(m >> 64);
}

double Rng::Normal() {
  if (has_spare_normal_) {
    has_spare_normal_ = false;
    return spare_normal_;
  }
  const double r = std::sqrt(-2.0 * std::log(UniformPositive()));
  const double theta = 2.0 * M_PI * Uniform();
  spare_normal_ = r * std::sin(theta);
  has_spare_normal_ = true;
  return r * std::cos(theta);
}

double Rng::LogNormal(double mu, double sigma) { return std::exp(mu + sigma * Normal()); }

double Rng::Exponential(double rate) { return -std::log(UniformPositive()) / rate; }

int64_t Rng::Poisson(double lambda) {
  if (!(lambda > 0)) return 0;
  if (lambda < 10) {
    const double limit = std::exp(-lambda);
    double product = Uniform();
    int64_t k = 0;
    while (product > limit) {
      product *= Uniform();
      ++k;
    }
    return k;
  }
  // Hörmann (1993), "The transformed rejection method for generating Poisson random variables".
  const double slam = std::sqrt(lambda);
  const double loglam = std::log(lambda);
  const double b = 0.931 + 2.53 * slam;
  const double a = -0.059 + 0.02483 * b;
  const double inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
  const double vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const double u = Uniform() - 0.5;
    const double v = Uniform();
    const double us = 0.5 - std::fabs(u);
    const double k = std::floor((2 * a / us + b) * u + lambda + 0.43);
    if (us >= 0.07 && v <= vr) return static_cast<int64_t>(k);
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (std::log(v) + std::log(inv_alpha) - std::log(a / (us * us) + b) <=
        -lambda + k * loglam - std::lgamma(k + 1)) {
      return static_cast<int64_t>(k);
    }
  }
}

Rng Rng::Fork(uint64_t stream) const {
  uint64_t state = s_[0] ^ Rotl(s_[2], 13) ^ (stream * 0xD1B54A32D192ED03ULL);
  return Rng(SplitMix64(state));
}

AliasTable::AliasTable(const std::vector<double>& weights) {
  const size_t n = weights.size();
  double sum = 0;
  for (double w : weights) {
    if (!std::isfinite(w) || w < 0) return;
    sum += w;
  }
  if (n == 0 || !(sum > 0)) return;
  prob_.assign(n, 0.0);
  alias_.assign(n, 0);
  std::vector<double> scaled(n);
  std::vector<uint32_t> small, large;
  for (size_t i = 0; i < n; ++i) {
    scaled[i] = weights[i] * static_cast<double>(n) / sum;
    (scaled[i] < 1.0 ? small : large).push_back(static_cast<uint32_t>(i));
  }
  while (!small.empty() && !large.empty()) {
    const uint32_t s = small.back();
    small.pop_back();
    const uint32_t l = large.back();
    prob_[s] = scaled[s];
    alias_[s] = l;
    scaled[l] = (scaled[l] + scaled[s]) - 1.0;
    if (scaled[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
  for (uint32_t i : large) prob_[i] = 1.0;
  for (uint32_t i : small) prob_[i] = 1.0;  // rounding leftovers
}

uint32_t AliasTable::Sample(Rng& rng) const {
  const uint32_t i = static_cast<uint32_t>(rng.Below(prob_.size()));
  return rng.Uniform() < prob_[i] ? i : alias_[i];
}

}  // namespace bimride::simulator
