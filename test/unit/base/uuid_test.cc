// Uuid: parsing, printing, derived ids, ordering and hashing.
#include "base/uuid.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <unordered_set>
#include <vector>

namespace loom {
namespace {

constexpr const char* kSample = "123e4567-e89b-42d3-a456-426614174000";

TEST(Uuid, ParsesTheCanonicalForm) {
  std::optional<Uuid> u = Uuid::parse(kSample);
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->msb(), 0x123e4567e89b42d3ULL);
  EXPECT_EQ(u->lsb(), 0xa456426614174000ULL);
  EXPECT_FALSE(u->isNil());
}

TEST(Uuid, ParsesUpperCaseHexAsTheSameId) {
  std::optional<Uuid> upper = Uuid::parse("ABCDEF01-2345-4789-ABCD-EF0123456789");
  std::optional<Uuid> lower = Uuid::parse("abcdef01-2345-4789-abcd-ef0123456789");
  std::optional<Uuid> mixed = Uuid::parse("AbCdEf01-2345-4789-aBcD-Ef0123456789");
  ASSERT_TRUE(upper && lower && mixed);
  EXPECT_EQ(*upper, *lower);
  EXPECT_EQ(*mixed, *lower);
  EXPECT_EQ(upper->msb(), 0xabcdef0123454789ULL);
  EXPECT_EQ(upper->lsb(), 0xabcdef0123456789ULL);
}

TEST(Uuid, ParsesTheNilAndTheAllOnesIds) {
  std::optional<Uuid> nil = Uuid::parse("00000000-0000-0000-0000-000000000000");
  ASSERT_TRUE(nil.has_value());
  EXPECT_TRUE(nil->isNil());
  EXPECT_EQ(*nil, Uuid());
  std::optional<Uuid> ones = Uuid::parse("ffffffff-ffff-ffff-ffff-ffffffffffff");
  ASSERT_TRUE(ones.has_value());
  EXPECT_EQ(ones->msb(), ~0ULL);
  EXPECT_EQ(ones->lsb(), ~0ULL);
}

TEST(Uuid, RejectsAnythingButTheCanonicalForm) {
  const char* const bad[] = {
      "",
      "123e4567-e89b-42d3-a456-42661417400",    // 35 characters.
      "123e4567-e89b-42d3-a456-4266141740000",  // 37 characters.
      "123e4567e89b42d3a456426614174000",       // No dashes.
      "123e4567-e89b-42d3-a456-42661417400g",   // Bad hex digit at the end.
      "g23e4567-e89b-42d3-a456-426614174000",   // Bad hex digit at the start.
      "123e4567-e89b-42d3-a4 6-426614174000",   // A space.
      "123e456-7e89b-42d3-a456-426614174000",   // First dash one early.
      "123e4567e-89b-42d3-a456-426614174000",   // First dash one late.
      "123e4567-e89b-42d3-a4564-26614174000",   // Last dash one late.
      "123e4567+e89b-42d3-a456-426614174000",   // Not a dash.
      "123e4567-e89b-42d3-a456-4266141740-0",   // Extra dash among the digits.
      "{123e4567-e89b-42d3-a456-42661417400}",  // Braces.
      "urn:uuid:123e4567-e89b-42d3-a456-426614174000",
      " 123e4567-e89b-42d3-a456-42661417400",   // Leading space.
      "123e4567-e89b-42d3-a456-42661417400\n",  // Trailing newline.
      "0x3e4567-e89b-42d3-a456-426614174000",   // Hex prefix.
  };
  for (const char* text : bad) {
    EXPECT_FALSE(Uuid::parse(text).has_value()) << "'" << text << "'";
  }
}

TEST(Uuid, RejectsADashInPlaceOfEveryDigit) {
  const std::string good = kSample;
  ASSERT_TRUE(Uuid::parse(good).has_value());
  for (size_t i = 0; i < good.size(); ++i) {
    if (good[i] == '-') continue;
    std::string text = good;
    text[i] = '-';
    EXPECT_FALSE(Uuid::parse(text).has_value()) << text;
  }
}

TEST(Uuid, RejectsADigitInPlaceOfEveryDash) {
  const std::string good = kSample;
  for (size_t i : {8u, 13u, 18u, 23u}) {
    std::string text = good;
    text[i] = '0';
    EXPECT_FALSE(Uuid::parse(text).has_value()) << text;
  }
}

TEST(Uuid, ToStringIsLowerCaseCanonical) {
  EXPECT_EQ(Uuid(0x123e4567e89b42d3ULL, 0xa456426614174000ULL).toString(), kSample);
  EXPECT_EQ(Uuid().toString(), "00000000-0000-0000-0000-000000000000");
  EXPECT_EQ(Uuid(~0ULL, ~0ULL).toString(), "ffffffff-ffff-ffff-ffff-ffffffffffff");
  EXPECT_EQ(Uuid(1, 2).toString(), "00000000-0000-0001-0000-000000000002");
  EXPECT_EQ(Uuid(0xABCDEF0123454789ULL, 0).toString(), "abcdef01-2345-4789-0000-000000000000");
}

TEST(Uuid, ToStringRoundTripsThroughParse) {
  const Uuid ids[] = {Uuid(), Uuid(1, 2), Uuid(~0ULL, ~0ULL), Uuid(0x8000000000000000ULL, 1),
                      Uuid(0x0123456789abcdefULL, 0xfedcba9876543210ULL)};
  for (const Uuid& u : ids) {
    std::optional<Uuid> back = Uuid::parse(u.toString());
    ASSERT_TRUE(back.has_value()) << u.toString();
    EXPECT_EQ(*back, u) << u.toString();
  }
}

TEST(Uuid, ParsedUpperCasePrintsLowerCase) {
  EXPECT_EQ(Uuid::parse("ABCDEF01-2345-4789-ABCD-EF0123456789")->toString(),
            "abcdef01-2345-4789-abcd-ef0123456789");
}

TEST(Uuid, ShortStringIsTheFirstEightHexDigits) {
  EXPECT_EQ(Uuid::parse(kSample)->shortString(), "123e4567");
  EXPECT_EQ(Uuid(0x00000abc00000000ULL, 0).shortString(), "00000abc");
  EXPECT_EQ(Uuid().shortString(), "00000000");
}

TEST(Uuid, DeriveIsDeterministic) {
  const Uuid base = *Uuid::parse(kSample);
  EXPECT_EQ(Uuid::derive(base, "route:10.0.0.0/24"), Uuid::derive(base, "route:10.0.0.0/24"));
  EXPECT_EQ(Uuid::derive(base, ""), Uuid::derive(base, ""));
}

TEST(Uuid, DeriveDiffersByName) {
  const Uuid base = *Uuid::parse(kSample);
  const char* const names[] = {"", "a", "b", "ab", "ba", "local", "connected", "route:0"};
  std::set<Uuid> seen;
  for (const char* n : names) seen.insert(Uuid::derive(base, n));
  EXPECT_EQ(seen.size(), std::size(names));
}

TEST(Uuid, DeriveDiffersByBase) {
  const Uuid bases[] = {Uuid(), Uuid(0, 1), Uuid(1, 0), Uuid(1, 1), *Uuid::parse(kSample)};
  std::set<Uuid> seen;
  for (const Uuid& b : bases) seen.insert(Uuid::derive(b, "local"));
  EXPECT_EQ(seen.size(), std::size(bases));
}

TEST(Uuid, DeriveDoesNotReturnItsBase) {
  const Uuid base = *Uuid::parse(kSample);
  EXPECT_NE(Uuid::derive(base, "x"), base);
  EXPECT_FALSE(Uuid::derive(Uuid(), "").isNil());
}

TEST(Uuid, DeriveSetsVersion5AndTheRfc4122Variant) {
  const Uuid bases[] = {Uuid(), Uuid(~0ULL, ~0ULL), *Uuid::parse(kSample)};
  const char* const names[] = {"", "x", "route:10.0.0.0/24", "a much longer name than the others"};
  for (const Uuid& b : bases) {
    for (const char* n : names) {
      Uuid d = Uuid::derive(b, n);
      EXPECT_EQ((d.msb() >> 12) & 0xf, 5u) << d.toString();
      EXPECT_EQ(d.lsb() >> 62, 0b10u) << d.toString();
      std::string text = d.toString();
      EXPECT_EQ(text[14], '5') << text;
      EXPECT_NE(std::string("89ab").find(text[19]), std::string::npos) << text;
    }
  }
}

TEST(Uuid, OrdersByHighWordThenLowWord) {
  EXPECT_LT(Uuid(0, 1), Uuid(0, 2));
  EXPECT_LT(Uuid(0, ~0ULL), Uuid(1, 0));
  EXPECT_LT(Uuid(), Uuid(0, 1));
  EXPECT_GT(Uuid(2, 0), Uuid(1, ~0ULL));
  EXPECT_EQ(Uuid(3, 4) <=> Uuid(3, 4), std::strong_ordering::equal);
  // Unsigned: the top bit does not make an id sort first.
  EXPECT_LT(Uuid(1, 0), Uuid(0x8000000000000000ULL, 0));
}

TEST(Uuid, OrderMatchesTheTextOrder) {
  std::vector<std::string> texts = {
      "ffffffff-0000-0000-0000-000000000000", "00000000-0000-0000-0000-000000000001",
      "00000000-0000-0001-0000-000000000000", "80000000-0000-0000-0000-000000000000",
      "00000000-0000-0000-8000-000000000000"};
  std::set<Uuid> ids;
  for (const std::string& t : texts) ids.insert(*Uuid::parse(t));
  std::set<std::string> sorted_texts(texts.begin(), texts.end());
  ASSERT_EQ(ids.size(), sorted_texts.size());
  auto t = sorted_texts.begin();
  for (const Uuid& u : ids) EXPECT_EQ(u.toString(), *t++);
}

TEST(Uuid, EqualIdsHashEqually) {
  Uuid a = *Uuid::parse(kSample);
  Uuid b = *Uuid::parse("123E4567-E89B-42D3-A456-426614174000");
  EXPECT_EQ(a.hash(), b.hash());
  EXPECT_EQ(UuidHash()(a), UuidHash()(b));
  EXPECT_EQ(std::hash<Uuid>()(a), static_cast<size_t>(a.hash()));
  EXPECT_EQ(UuidHash()(a), static_cast<size_t>(a.hash()));
}

TEST(Uuid, DifferentIdsHashDifferently) {
  const Uuid ids[] = {Uuid(),     Uuid(0, 1), Uuid(1, 0), Uuid(1, 1),
                      Uuid(1, 2), Uuid(2, 1), Uuid(0, 2), *Uuid::parse(kSample)};
  std::unordered_set<uint64_t> hashes;
  for (const Uuid& u : ids) hashes.insert(u.hash());
  EXPECT_EQ(hashes.size(), std::size(ids));
}

TEST(Uuid, WorksAsAnUnorderedSetKey) {
  std::unordered_set<Uuid> set;
  for (uint64_t i = 0; i < 100; ++i) set.insert(Uuid(i / 10, i % 10));
  EXPECT_EQ(set.size(), 100u);
  EXPECT_EQ(set.count(Uuid(9, 9)), 1u);
  EXPECT_EQ(set.count(Uuid(10, 0)), 0u);
}

}  // namespace
}  // namespace loom
