// mix64 and hashCombine.
#include "base/hash.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <unordered_set>

namespace loom {
namespace {

TEST(Mix64, IsTheSplitMix64Finalizer) {
  // SplitMix64 seeded with 0 returns mix64(0x9e3779b97f4a7c15) first: 0xe220a8397b1dcdaf.
  EXPECT_EQ(mix64(0x9e3779b97f4a7c15ULL), 0xe220a8397b1dcdafULL);
}

TEST(Mix64, IsNotTheIdentity) {
  for (uint64_t x : {1ULL, 2ULL, 3ULL, 42ULL, 0xffULL, 0x8000000000000000ULL, ~0ULL}) {
    EXPECT_NE(mix64(x), x) << x;
  }
}

TEST(Mix64, MapsDistinctInputsToDistinctOutputs) {
  std::unordered_set<uint64_t> out;
  for (uint64_t x = 0; x < 10000; ++x) out.insert(mix64(x));
  EXPECT_EQ(out.size(), 10000u);
}

TEST(Mix64, OneInputBitChangesAboutHalfTheOutputBits) {
  int total = 0;
  int flips = 0;
  for (uint64_t x : {1ULL, 0x1234ULL, 0xdeadbeefULL, 0x0123456789abcdefULL}) {
    for (int bit = 0; bit < 64; ++bit) {
      uint64_t changed = mix64(x) ^ mix64(x ^ (uint64_t{1} << bit));
      total += std::popcount(changed);
      ++flips;
    }
  }
  double average = static_cast<double>(total) / flips;
  EXPECT_GT(average, 28.0);
  EXPECT_LT(average, 36.0);
}

TEST(HashCombine, IsOrderSensitive) {
  const uint64_t seed = 17;
  EXPECT_NE(hashCombine(hashCombine(seed, 1), 2), hashCombine(hashCombine(seed, 2), 1));
  EXPECT_NE(hashCombine(hashCombine(0, 0xaa), 0xbb), hashCombine(hashCombine(0, 0xbb), 0xaa));
}

TEST(HashCombine, DependsOnTheSeed) {
  EXPECT_NE(hashCombine(1, 5), hashCombine(2, 5));
  EXPECT_NE(hashCombine(0, 5), hashCombine(5, 0));
}

TEST(HashCombine, DependsOnTheValue) {
  std::unordered_set<uint64_t> out;
  for (uint64_t v = 0; v < 1000; ++v) out.insert(hashCombine(99, v));
  EXPECT_EQ(out.size(), 1000u);
}

}  // namespace
}  // namespace loom
