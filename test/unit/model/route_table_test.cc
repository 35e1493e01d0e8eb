// RouteTable: longest prefix match, source routes, weights, ECMP order, both families.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <random>

#include "unit/model/model_test_util.h"

namespace loom::model {
namespace {

using testing::ip;
using testing::prefix;
using testing::uuid;

// Owns the routes a table points to.
class TableFixture {
 public:
  Route& add(int n, const char* dst, uint32_t weight = 0, const char* src = nullptr) {
    Route& r = routes_.emplace_back();
    r.id = uuid(n);
    r.dst = prefix(dst);
    r.dst.addr = r.dst.network();
    r.weight = weight;
    r.src = src != nullptr ? prefix(src) : IpPrefix{r.dst.addr.masked(0), 0};
    return r;
  }
  RouteTable& build() {
    table_ = RouteTable();
    for (const Route& r : routes_) table_.add(&r);
    table_.finalize();
    return table_;
  }
  // Ids (as their test numbers' uuids) of the lookup result; empty when nothing matches.
  std::vector<Uuid> lookup(const char* dst, const char* src = "192.0.2.1") const {
    std::vector<const Route*> out;
    bool found = table_.lookup(ip(dst), ip(src), out);
    EXPECT_EQ(found, !out.empty());
    std::vector<Uuid> ids;
    for (const Route* r : out) ids.push_back(r->id);
    return ids;
  }

 private:
  std::deque<Route> routes_;  // Stable addresses.
  RouteTable table_;
};

TEST(RouteTable, EmptyTableMatchesNothing) {
  TableFixture f;
  RouteTable& t = f.build();
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.size(), 0u);
  EXPECT_FALSE(t.hasSourceRoutes());
  EXPECT_TRUE(f.lookup("10.0.0.1").empty());
  EXPECT_TRUE(f.lookup("fd00::1", "fd00::2").empty());
}

TEST(RouteTable, LongestPrefixWins) {
  TableFixture f;
  f.add(1, "10.0.0.0/8");
  f.add(2, "10.1.0.0/16");
  f.add(3, "10.1.2.0/24");
  EXPECT_EQ(f.build().size(), 3u);
  EXPECT_EQ(f.lookup("10.1.2.3"), std::vector<Uuid>({uuid(3)}));
  EXPECT_EQ(f.lookup("10.1.3.3"), std::vector<Uuid>({uuid(2)}));
  EXPECT_EQ(f.lookup("10.2.0.1"), std::vector<Uuid>({uuid(1)}));
  EXPECT_TRUE(f.lookup("11.0.0.1").empty());
}

TEST(RouteTable, DefaultRouteMatchesEveryAddressOfItsFamily) {
  TableFixture f;
  f.add(1, "0.0.0.0/0");
  f.add(2, "10.0.0.0/8");
  f.build();
  EXPECT_EQ(f.lookup("8.8.8.8"), std::vector<Uuid>({uuid(1)}));
  EXPECT_EQ(f.lookup("255.255.255.255"), std::vector<Uuid>({uuid(1)}));
  EXPECT_EQ(f.lookup("10.0.0.1"), std::vector<Uuid>({uuid(2)}));
  EXPECT_TRUE(f.lookup("fd00::1", "fd00::2").empty());
}

TEST(RouteTable, HostRouteMatchesOnlyItsAddress) {
  TableFixture f;
  f.add(1, "10.0.0.0/24");
  f.add(2, "10.0.0.1/32");
  f.build();
  EXPECT_EQ(f.lookup("10.0.0.1"), std::vector<Uuid>({uuid(2)}));
  EXPECT_EQ(f.lookup("10.0.0.2"), std::vector<Uuid>({uuid(1)}));
}

TEST(RouteTable, LowestWeightWinsAmongEqualPrefixes) {
  TableFixture f;
  f.add(1, "10.0.0.0/8", 20);
  f.add(2, "10.0.0.0/8", 5);
  f.add(3, "10.0.0.0/8", 10);
  f.build();
  EXPECT_EQ(f.lookup("10.9.9.9"), std::vector<Uuid>({uuid(2)}));
}

TEST(RouteTable, LongerPrefixBeatsLowerWeight) {
  TableFixture f;
  f.add(1, "10.0.0.0/8", 0);
  f.add(2, "10.1.0.0/16", 100);
  f.build();
  EXPECT_EQ(f.lookup("10.1.0.1"), std::vector<Uuid>({uuid(2)}));
}

TEST(RouteTable, EqualWeightsFormAnEcmpSetOrderedById) {
  TableFixture f;
  f.add(9, "0.0.0.0/0", 1);
  f.add(3, "0.0.0.0/0", 1);
  f.add(5, "0.0.0.0/0", 2);
  f.add(7, "0.0.0.0/0", 1);
  f.build();
  EXPECT_EQ(f.lookup("1.2.3.4"), std::vector<Uuid>({uuid(3), uuid(7), uuid(9)}));
}

TEST(RouteTable, SourceRouteMatchesOnlyItsSources) {
  TableFixture f;
  f.add(1, "10.0.0.0/8", 0, "192.168.1.0/24");
  f.add(2, "10.0.0.0/8", 0, "192.168.2.0/24");
  f.build();
  EXPECT_EQ(f.lookup("10.0.0.1", "192.168.1.7"), std::vector<Uuid>({uuid(1)}));
  EXPECT_EQ(f.lookup("10.0.0.1", "192.168.2.7"), std::vector<Uuid>({uuid(2)}));
  EXPECT_TRUE(f.lookup("10.0.0.1", "192.168.3.7").empty());
}

TEST(RouteTable, SourceMismatchFallsBackToAShorterPrefix) {
  TableFixture f;
  f.add(1, "0.0.0.0/0");
  f.add(2, "10.1.0.0/16", 0, "172.16.0.0/12");
  f.build();
  EXPECT_EQ(f.lookup("10.1.0.1", "172.16.5.5"), std::vector<Uuid>({uuid(2)}));
  EXPECT_EQ(f.lookup("10.1.0.1", "192.0.2.1"), std::vector<Uuid>({uuid(1)}));
}

TEST(RouteTable, MinimumWeightIsTakenAmongSourceMatchingRoutesOnly) {
  TableFixture f;
  f.add(1, "10.0.0.0/8", 0, "172.16.0.0/12");  // Better weight, wrong source.
  f.add(2, "10.0.0.0/8", 5);
  f.add(3, "10.0.0.0/8", 5, "192.0.2.0/24");
  f.add(4, "10.0.0.0/8", 6);
  f.build();
  EXPECT_EQ(f.lookup("10.0.0.1", "192.0.2.1"), std::vector<Uuid>({uuid(2), uuid(3)}));
  EXPECT_EQ(f.lookup("10.0.0.1", "198.51.100.1"), std::vector<Uuid>({uuid(2)}));
  EXPECT_EQ(f.lookup("10.0.0.1", "172.16.0.1"), std::vector<Uuid>({uuid(1)}));
}

TEST(RouteTable, HasSourceRoutesOnlyWhenARouteHasASourcePrefix) {
  TableFixture plain;
  plain.add(1, "10.0.0.0/8");
  EXPECT_FALSE(plain.build().hasSourceRoutes());
  TableFixture sourced;
  sourced.add(1, "10.0.0.0/8");
  sourced.add(2, "10.0.0.0/8", 0, "192.0.2.0/24");
  EXPECT_TRUE(sourced.build().hasSourceRoutes());
}

TEST(RouteTable, SourceIsIgnoredWithoutSourceRoutes) {
  TableFixture f;
  f.add(1, "10.0.0.0/8");
  std::vector<const Route*> out;
  RouteTable& t = f.build();
  EXPECT_TRUE(t.lookup(ip("10.0.0.1"), IpAddr(), out));
  EXPECT_TRUE(t.lookup(ip("10.0.0.1"), ip("fd00::1"), out));
}

TEST(RouteTable, V6LongestPrefixMatch) {
  TableFixture f;
  f.add(1, "::/0");
  f.add(2, "fd00::/8");
  f.add(3, "fd00:1:2:3::/64");
  f.add(4, "fd00:1:2:3:4::/80");
  f.add(5, "fd00:1:2:3:4:5:6:7/128");
  f.build();
  EXPECT_EQ(f.lookup("fd00:1:2:3:4:5:6:7", "fd00::9"), std::vector<Uuid>({uuid(5)}));
  EXPECT_EQ(f.lookup("fd00:1:2:3:4:5:6:8", "fd00::9"), std::vector<Uuid>({uuid(4)}));
  EXPECT_EQ(f.lookup("fd00:1:2:3:5::1", "fd00::9"), std::vector<Uuid>({uuid(3)}));
  EXPECT_EQ(f.lookup("fd12::1", "fd00::9"), std::vector<Uuid>({uuid(2)}));
  EXPECT_EQ(f.lookup("2001:db8::1", "fd00::9"), std::vector<Uuid>({uuid(1)}));
}

TEST(RouteTable, FamiliesDoNotMatchEachOther) {
  TableFixture f;
  f.add(1, "::/0");
  f.add(2, "0.0.0.0/0");
  f.build();
  EXPECT_EQ(f.lookup("10.0.0.1"), std::vector<Uuid>({uuid(2)}));
  EXPECT_EQ(f.lookup("::ffff:10.0.0.1", "fd00::1"), std::vector<Uuid>({uuid(1)}));
  std::vector<const Route*> out;
  EXPECT_FALSE(f.build().lookup(IpAddr(), IpAddr(), out));
}

TEST(RouteTable, MovedFromTableIsEmptyAndSafe) {
  TableFixture f;
  f.add(1, "10.0.0.0/8");
  RouteTable& t = f.build();
  RouteTable moved = std::move(t);
  std::vector<const Route*> out;
  EXPECT_TRUE(moved.lookup(ip("10.0.0.1"), ip("1.1.1.1"), out));
  EXPECT_TRUE(t.empty());  // NOLINT(bugprone-use-after-move): the contract under test.
  EXPECT_FALSE(t.lookup(ip("10.0.0.1"), ip("1.1.1.1"), out));
  EXPECT_TRUE(out.empty());
}

// ------------------------------------------------------------------------------------------------
// Against a brute-force reference on random tables.

// Bit-by-byte prefix test, independent of the table's word masks (and faster than
// IpPrefix::contains for v6, which keeps the reference quick under sanitizers).
bool refContains(const IpPrefix& p, const IpAddr& a) {
  if (p.addr.family() != a.family()) return false;
  const size_t first = a.isV4() ? 12 : 0;
  int bits = p.len;
  for (size_t k = first; bits > 0; ++k, bits -= 8) {
    const uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff00 >> bits);
    if ((p.addr.bytes()[k] & mask) != (a.bytes()[k] & mask)) return false;
  }
  return true;
}

std::vector<Uuid> bruteForce(const std::deque<Route>& routes, const IpAddr& dst,
                             const IpAddr& src) {
  int best_len = -1;
  uint32_t best_weight = 0;
  std::vector<Uuid> ids;
  for (const Route& r : routes) {
    if (!refContains(r.dst, dst)) continue;
    if (r.src.len != 0 && !refContains(r.src, src)) continue;
    if (r.dst.len > best_len || (r.dst.len == best_len && r.weight < best_weight)) {
      best_len = r.dst.len;
      best_weight = r.weight;
      ids.clear();
    }
    if (r.dst.len == best_len && r.weight == best_weight) ids.push_back(r.id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

IpAddr randomV6(std::mt19937_64& rng) {
  uint8_t b[16];
  uint64_t hi = rng();
  uint64_t lo = rng();
  for (int i = 0; i < 8; ++i) {
    b[i] = static_cast<uint8_t>(hi >> (56 - 8 * i));
    b[i + 8] = static_cast<uint8_t>(lo >> (56 - 8 * i));
  }
  b[0] = 0xfd;  // Keep addresses in a small space so prefixes overlap.
  b[1] = static_cast<uint8_t>(b[1] & 0x3);
  return IpAddr::v6Bytes(b);
}

void checkRandomTable(bool v6, bool with_sources, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::deque<Route> routes;
  RouteTable table;
  // Addresses come from a few /8s (v4) so that lookups hit nested prefixes often.
  auto random_addr = [&]() {
    if (v6) return randomV6(rng);
    uint32_t a = static_cast<uint32_t>(rng());
    a = (a & 0x03ffffffU) | (10U << 24);
    return IpAddr::v4(a);
  };
  const int full = v6 ? 128 : 32;
  for (int i = 0; i < 3000; ++i) {
    Route& r = routes.emplace_back();
    r.id = Uuid(rng(), rng());
    int len = static_cast<int>(rng() % static_cast<uint64_t>(full + 1));
    if (!v6 && len < 6 && rng() % 4 != 0) len += 6;
    r.dst = IpPrefix{random_addr().masked(len), static_cast<uint8_t>(len)};
    r.weight = static_cast<uint32_t>(rng() % 3);
    r.src = IpPrefix{r.dst.addr.masked(0), 0};
    if (with_sources && rng() % 3 == 0) {
      int slen = static_cast<int>(rng() % 4) + 1;
      r.src = IpPrefix{random_addr().masked(slen + (v6 ? 14 : 6)),
                       static_cast<uint8_t>(slen + (v6 ? 14 : 6))};
    }
    table.add(&r);
  }
  table.finalize();
  ASSERT_EQ(table.hasSourceRoutes(), with_sources);
  std::vector<const Route*> out;
  int matched = 0;
  int ecmp = 0;
  for (int i = 0; i < 4000; ++i) {
    IpAddr dst = random_addr();
    // Half the probes aim inside a known route's prefix, to exercise long matches.
    if (i % 2 == 0) {
      const Route& target = routes[rng() % routes.size()];
      IpAddr noise = random_addr();
      uint8_t b[16];
      for (size_t k = 0; k < 16; ++k) {
        int bit0 = static_cast<int>(k) * 8 - (v6 ? 0 : 96);
        uint8_t keep = 0;
        for (int bit = 0; bit < 8; ++bit) {
          if (bit0 + bit < target.dst.len) keep = static_cast<uint8_t>(keep | (0x80 >> bit));
        }
        b[k] =
            static_cast<uint8_t>((target.dst.addr.bytes()[k] & keep) | (noise.bytes()[k] & ~keep));
      }
      dst = v6 ? IpAddr::v6Bytes(b) : IpAddr::v4Bytes(b + 12);
    }
    IpAddr src = random_addr();
    std::vector<Uuid> expected = bruteForce(routes, dst, src);
    bool found = table.lookup(dst, src, out);
    std::vector<Uuid> got;
    for (const Route* r : out) got.push_back(r->id);
    ASSERT_EQ(found, !expected.empty()) << dst.toString() << " from " << src.toString();
    ASSERT_EQ(got, expected) << dst.toString() << " from " << src.toString();
    matched += found ? 1 : 0;
    ecmp += expected.size() > 1 ? 1 : 0;
  }
  // The random tables must exercise the interesting cases, not just misses.
  EXPECT_GT(matched, 1000);
  EXPECT_GT(ecmp, 20);
}

TEST(RouteTable, MatchesBruteForceOnRandomV4Tables) { checkRandomTable(false, false, 1); }
TEST(RouteTable, MatchesBruteForceOnRandomV4TablesWithSourceRoutes) {
  checkRandomTable(false, true, 2);
}
TEST(RouteTable, MatchesBruteForceOnRandomV6Tables) { checkRandomTable(true, false, 3); }
TEST(RouteTable, MatchesBruteForceOnRandomV6TablesWithSourceRoutes) {
  checkRandomTable(true, true, 4);
}

}  // namespace
}  // namespace loom::model
