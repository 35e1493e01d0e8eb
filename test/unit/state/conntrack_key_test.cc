// ConntrackKey: the reverse key and hashing.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <unordered_set>

#include "state/in_memory_state.h"

namespace loom::state {
namespace {

const Uuid kZoneA(0xb1, 1);
const Uuid kZoneB(0xb1, 2);

IpAddr ip(const char* text) { return IpAddr::parse(text).value(); }

ConntrackKey sample() {
  return ConntrackKey{kZoneA, ip("10.0.0.11"), ip("10.0.1.11"), 40000, 22, 6};
}

TEST(ConntrackKey, ReversedSwapsAddressesAndPortsAndTakesTheNewZone) {
  ConntrackKey r = sample().reversed(kZoneB);
  EXPECT_EQ(r.zone, kZoneB);
  EXPECT_EQ(r.src, ip("10.0.1.11"));
  EXPECT_EQ(r.dst, ip("10.0.0.11"));
  EXPECT_EQ(r.src_port, 22);
  EXPECT_EQ(r.dst_port, 40000);
  EXPECT_EQ(r.proto, 6);
}

TEST(ConntrackKey, ReversedTwiceInTheOriginalZoneIsTheOriginal) {
  EXPECT_EQ(sample().reversed(kZoneB).reversed(kZoneA), sample());
}

TEST(ConntrackKey, ReversedIsNotTheOriginal) { EXPECT_NE(sample().reversed(kZoneA), sample()); }

TEST(ConntrackKey, EqualKeysHashEqually) {
  ConntrackKey a = sample();
  ConntrackKey b = sample();
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.hash(), b.hash());
  EXPECT_EQ(ConntrackKeyHash()(a), ConntrackKeyHash()(b));
  EXPECT_EQ(ConntrackKeyHash()(a), static_cast<size_t>(a.hash()));
}

TEST(ConntrackKey, EveryFieldTakesPartInEqualityAndHash) {
  struct Case {
    const char* field;
    std::function<void(ConntrackKey&)> change;
  };
  const Case cases[] = {
      {"zone", [](ConntrackKey& k) { k.zone = kZoneB; }},
      {"src", [](ConntrackKey& k) { k.src = ip("10.0.0.12"); }},
      {"dst", [](ConntrackKey& k) { k.dst = ip("10.0.1.12"); }},
      {"src family", [](ConntrackKey& k) { k.src = ip("::ffff:10.0.0.11"); }},
      {"src_port", [](ConntrackKey& k) { k.src_port = 40001; }},
      {"dst_port", [](ConntrackKey& k) { k.dst_port = 23; }},
      {"proto", [](ConntrackKey& k) { k.proto = 17; }},
  };
  const ConntrackKey base = sample();
  for (const Case& c : cases) {
    ConntrackKey k = base;
    c.change(k);
    EXPECT_NE(k, base) << c.field;
    EXPECT_NE(k.hash(), base.hash()) << c.field;
  }
}

TEST(ConntrackKey, SwappingOnlyThePortsChangesTheHash) {
  ConntrackKey a = sample();
  ConntrackKey b = a;
  std::swap(b.src_port, b.dst_port);
  EXPECT_NE(a, b);
  EXPECT_NE(a.hash(), b.hash());
}

TEST(ConntrackKey, SwappingOnlyTheAddressesChangesTheHash) {
  ConntrackKey a = sample();
  ConntrackKey b = a;
  std::swap(b.src, b.dst);
  EXPECT_NE(a, b);
  EXPECT_NE(a.hash(), b.hash());
}

TEST(ConntrackKey, PortAndProtocolBitsDoNotOverlapInTheHash) {
  // (src_port, dst_port, proto) are packed into one word: neighbouring values must not meet.
  std::unordered_set<uint64_t> hashes;
  int n = 0;
  for (uint16_t sp : {0, 1, 255, 256, 65535}) {
    for (uint16_t dp : {0, 1, 255, 256, 65535}) {
      for (uint8_t proto : {0, 1, 6, 17, 255}) {
        ConntrackKey k = sample();
        k.src_port = sp;
        k.dst_port = dp;
        k.proto = proto;
        hashes.insert(k.hash());
        ++n;
      }
    }
  }
  EXPECT_EQ(hashes.size(), static_cast<size_t>(n));
}

TEST(ConntrackKey, WorksAsAnUnorderedSetKey) {
  std::unordered_set<ConntrackKey, ConntrackKeyHash> set;
  set.insert(sample());
  set.insert(sample());
  set.insert(sample().reversed(kZoneA));
  EXPECT_EQ(set.size(), 2u);
  EXPECT_EQ(set.count(sample().reversed(kZoneB)), 0u);
}

}  // namespace
}  // namespace loom::state
