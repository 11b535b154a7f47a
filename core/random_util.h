#pragma once
// Portable draws from std::mt19937. The standard distributions (uniform_int_distribution etc.) are
// implementation-defined, so the same seed would give different augmentations and demo datasets
// with libstdc++ and libc++; these are defined by their formulas alone.

#include <cstdint>
#include <random>

namespace capfilt::core {

// Uniform in [0, 1) with 53 random bits (MT's genrand_res53).
inline double uniform01(std::mt19937& rng) {
  std::uint32_t a = rng() >> 5, b = rng() >> 6;
  return (a * 67108864.0 + b) / 9007199254740992.0;
}

inline double uniform(std::mt19937& rng, double lo, double hi) { return lo + (hi - lo) * uniform01(rng); }

// Uniform integer in [lo, hi] (inclusive). The modulo bias is below 2^-32 for small ranges.
inline int uniform_int(std::mt19937& rng, int lo, int hi) {
  if (hi <= lo) return lo;
  std::uint64_t span = static_cast<std::uint64_t>(hi - lo) + 1;
  std::uint64_t r = (static_cast<std::uint64_t>(rng()) << 32) | rng();
  return lo + static_cast<int>(r % span);
}

inline bool bernoulli(std::mt19937& rng, double p) { return uniform01(rng) < p; }

// Fisher–Yates with uniform_int, so a shuffle is the same on every standard library.
template <typename Vec>
void portable_shuffle(Vec& v, std::mt19937& rng) {
  for (std::size_t i = v.size(); i > 1; --i) {
    std::size_t j = static_cast<std::size_t>(uniform_int(rng, 0, static_cast<int>(i - 1)));
    std::swap(v[i - 1], v[j]);
  }
}

// Mixes a seed with a stream number (epoch, item index) into an independent 32-bit seed.
inline std::uint32_t derive_seed(std::uint64_t seed, std::uint64_t stream) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ull * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return static_cast<std::uint32_t>((z ^ (z >> 31)) & 0xFFFFFFFFu);
}

}  // namespace capfilt::core
