#pragma once
// Small, fast, non-cryptographic hashing helpers used by tables and ECMP.

#include <cstdint>
#include <cstring>

namespace loom {

// A strong 64-bit mixer (the finalizer of SplitMix64 / MurmurHash3 fmix64).
constexpr uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// Combines a running hash with one more 64-bit word; order-sensitive.
constexpr uint64_t hashCombine(uint64_t seed, uint64_t v) {
  return mix64(seed ^ (v + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2)));
}

}  // namespace loom
