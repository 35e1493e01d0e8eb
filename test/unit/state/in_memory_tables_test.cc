// The in-memory MAC, IP->MAC, ARP and conntrack tables.
#include <gtest/gtest.h>

#include "state/in_memory_state.h"

namespace loom::state {
namespace {

using std::chrono::seconds;

const Uuid kBridge1(0xb1, 1);
const Uuid kBridge2(0xb1, 2);
const Uuid kRouter1(0xa1, 1);
const Uuid kRouter2(0xa1, 2);
const Uuid kPort1(0xc1, 1);
const Uuid kPort2(0xc1, 2);

MacAddr mac(const char* text) { return MacAddr::parse(text).value(); }
IpAddr ip(const char* text) { return IpAddr::parse(text).value(); }

// --- MAC table ---

TEST(InMemoryMacTable, UnknownMacIsNotFound) {
  InMemoryMacTable t;
  EXPECT_FALSE(t.lookup(kBridge1, 0, mac("02:00:00:00:00:01")).has_value());
  EXPECT_EQ(t.size(), 0u);
}

TEST(InMemoryMacTable, SetThenLookupFindsThePort) {
  InMemoryMacTable t;
  t.set(kBridge1, 0, mac("02:00:00:00:00:01"), kPort1);
  EXPECT_EQ(t.lookup(kBridge1, 0, mac("02:00:00:00:00:01")), kPort1);
  EXPECT_FALSE(t.lookup(kBridge1, 0, mac("02:00:00:00:00:02")).has_value());
  EXPECT_EQ(t.size(), 1u);
}

TEST(InMemoryMacTable, SetOverwritesThePort) {
  InMemoryMacTable t;
  t.set(kBridge1, 0, mac("02:00:00:00:00:01"), kPort1);
  t.set(kBridge1, 0, mac("02:00:00:00:00:01"), kPort2);
  EXPECT_EQ(t.lookup(kBridge1, 0, mac("02:00:00:00:00:01")), kPort2);
  EXPECT_EQ(t.size(), 1u);
}

TEST(InMemoryMacTable, EraseRemovesOnlyThatEntry) {
  InMemoryMacTable t;
  t.set(kBridge1, 0, mac("02:00:00:00:00:01"), kPort1);
  t.set(kBridge1, 0, mac("02:00:00:00:00:02"), kPort2);
  t.erase(kBridge1, 0, mac("02:00:00:00:00:01"));
  EXPECT_FALSE(t.lookup(kBridge1, 0, mac("02:00:00:00:00:01")).has_value());
  EXPECT_EQ(t.lookup(kBridge1, 0, mac("02:00:00:00:00:02")), kPort2);
  EXPECT_EQ(t.size(), 1u);
}

TEST(InMemoryMacTable, EraseOfAnUnknownEntryChangesNothing) {
  InMemoryMacTable t;
  t.set(kBridge1, 0, mac("02:00:00:00:00:01"), kPort1);
  t.erase(kBridge2, 0, mac("02:00:00:00:00:01"));
  t.erase(kBridge1, 7, mac("02:00:00:00:00:01"));
  EXPECT_EQ(t.lookup(kBridge1, 0, mac("02:00:00:00:00:01")), kPort1);
  EXPECT_EQ(t.size(), 1u);
}

TEST(InMemoryMacTable, BridgesAreSeparate) {
  InMemoryMacTable t;
  t.set(kBridge1, 0, mac("02:00:00:00:00:01"), kPort1);
  EXPECT_FALSE(t.lookup(kBridge2, 0, mac("02:00:00:00:00:01")).has_value());
  t.set(kBridge2, 0, mac("02:00:00:00:00:01"), kPort2);
  EXPECT_EQ(t.lookup(kBridge1, 0, mac("02:00:00:00:00:01")), kPort1);
  EXPECT_EQ(t.lookup(kBridge2, 0, mac("02:00:00:00:00:01")), kPort2);
}

TEST(InMemoryMacTable, VlansAreSeparate) {
  InMemoryMacTable t;
  const MacAddr m = mac("02:00:00:00:00:01");
  const uint16_t vlans[] = {0, 1, 100, 4094, 4095};
  for (uint16_t v : vlans) t.set(kBridge1, v, m, Uuid(0xc2, v));
  EXPECT_EQ(t.size(), std::size(vlans));
  for (uint16_t v : vlans) EXPECT_EQ(t.lookup(kBridge1, v, m), Uuid(0xc2, v)) << v;
  EXPECT_FALSE(t.lookup(kBridge1, 2, m).has_value());
}

TEST(InMemoryMacTable, VlanDoesNotCollideWithTheMacsHighBits) {
  // A key folding vlan and MAC into one word must not confuse (vlan 1, 00:..) with a MAC whose
  // top bits are set.
  InMemoryMacTable t;
  t.set(kBridge1, 1, mac("00:00:00:00:00:01"), kPort1);
  t.set(kBridge1, 0, mac("ff:ff:ff:ff:ff:ff"), kPort2);
  EXPECT_FALSE(t.lookup(kBridge1, 0, mac("00:00:00:00:00:01")).has_value());
  EXPECT_FALSE(t.lookup(kBridge1, 1, mac("ff:ff:ff:ff:ff:ff")).has_value());
  EXPECT_EQ(t.lookup(kBridge1, 1, mac("00:00:00:00:00:01")), kPort1);
}

TEST(InMemoryMacTable, IsReadThroughItsView) {
  InMemoryMacTable t;
  t.set(kBridge1, 5, mac("02:00:00:00:00:09"), kPort1);
  const MacTableView& view = t;
  EXPECT_EQ(view.lookup(kBridge1, 5, mac("02:00:00:00:00:09")), kPort1);
}

// --- IP->MAC table ---

TEST(InMemoryIpMacTable, SetLookupAndOverwrite) {
  InMemoryIpMacTable t;
  EXPECT_FALSE(t.lookup(kBridge1, ip("10.0.0.1")).has_value());
  t.set(kBridge1, ip("10.0.0.1"), mac("02:00:00:00:00:01"));
  EXPECT_EQ(t.lookup(kBridge1, ip("10.0.0.1")), mac("02:00:00:00:00:01"));
  t.set(kBridge1, ip("10.0.0.1"), mac("02:00:00:00:00:02"));
  EXPECT_EQ(t.lookup(kBridge1, ip("10.0.0.1")), mac("02:00:00:00:00:02"));
  EXPECT_EQ(t.size(), 1u);
}

TEST(InMemoryIpMacTable, BridgesAreSeparate) {
  InMemoryIpMacTable t;
  t.set(kBridge1, ip("10.0.0.1"), mac("02:00:00:00:00:01"));
  EXPECT_FALSE(t.lookup(kBridge2, ip("10.0.0.1")).has_value());
  t.set(kBridge2, ip("10.0.0.1"), mac("02:00:00:00:00:02"));
  EXPECT_EQ(t.lookup(kBridge1, ip("10.0.0.1")), mac("02:00:00:00:00:01"));
  EXPECT_EQ(t.lookup(kBridge2, ip("10.0.0.1")), mac("02:00:00:00:00:02"));
  EXPECT_EQ(t.size(), 2u);
}

TEST(InMemoryIpMacTable, AddressesAreSeparateIncludingFamilies) {
  InMemoryIpMacTable t;
  t.set(kBridge1, ip("10.0.0.1"), mac("02:00:00:00:00:01"));
  t.set(kBridge1, ip("fd00::1"), mac("02:00:00:00:00:06"));
  EXPECT_FALSE(t.lookup(kBridge1, ip("10.0.0.2")).has_value());
  EXPECT_EQ(t.lookup(kBridge1, ip("fd00::1")), mac("02:00:00:00:00:06"));
  // The v4-mapped IPv6 address is another address than the IPv4 one.
  EXPECT_FALSE(t.lookup(kBridge1, ip("::ffff:10.0.0.1")).has_value());
}

// --- ARP table ---

TEST(InMemoryArpTable, SetLookupAndOverwriteKeepTheWholeEntry) {
  InMemoryArpTable t;
  EXPECT_FALSE(t.lookup(kRouter1, ip("192.0.2.1")).has_value());
  const MonoTime t0 = MonoTime{} + seconds(10);
  t.set(kRouter1, ip("192.0.2.1"), ArpEntry{mac("02:00:00:00:99:01"), t0, t0 + seconds(5)});
  std::optional<ArpEntry> e = t.lookup(kRouter1, ip("192.0.2.1"));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->mac, mac("02:00:00:00:99:01"));
  EXPECT_EQ(e->stale, t0);
  EXPECT_EQ(e->expiry, t0 + seconds(5));

  t.set(kRouter1, ip("192.0.2.1"), ArpEntry{mac("02:00:00:00:99:02"), t0 + seconds(1), t0});
  e = t.lookup(kRouter1, ip("192.0.2.1"));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->mac, mac("02:00:00:00:99:02"));
  EXPECT_EQ(e->stale, t0 + seconds(1));
  EXPECT_EQ(e->expiry, t0);
  EXPECT_EQ(t.size(), 1u);
}

TEST(InMemoryArpTable, RoutersAndAddressesAreSeparate) {
  InMemoryArpTable t;
  t.set(kRouter1, ip("192.0.2.1"), ArpEntry{mac("02:00:00:00:99:01"), {}, {}});
  t.set(kRouter2, ip("192.0.2.2"), ArpEntry{mac("02:00:00:00:99:02"), {}, {}});
  EXPECT_FALSE(t.lookup(kRouter2, ip("192.0.2.1")).has_value());
  EXPECT_FALSE(t.lookup(kRouter1, ip("192.0.2.2")).has_value());
  EXPECT_EQ(t.lookup(kRouter1, ip("192.0.2.1"))->mac, mac("02:00:00:00:99:01"));
  EXPECT_EQ(t.lookup(kRouter2, ip("192.0.2.2"))->mac, mac("02:00:00:00:99:02"));
  EXPECT_EQ(t.size(), 2u);
}

// --- Conntrack table ---

ConntrackKey tcpKey(const Uuid& zone) {
  return ConntrackKey{zone, ip("10.0.0.11"), ip("10.0.1.11"), 40000, 22, 6};
}

TEST(InMemoryConntrack, SetLookupAndOverwrite) {
  InMemoryConntrack t;
  EXPECT_FALSE(t.lookup(tcpKey(kBridge1)).has_value());
  t.set(tcpKey(kBridge1), CtDirection::Forward);
  EXPECT_EQ(t.lookup(tcpKey(kBridge1)), CtDirection::Forward);
  t.set(tcpKey(kBridge1), CtDirection::Return);
  EXPECT_EQ(t.lookup(tcpKey(kBridge1)), CtDirection::Return);
  EXPECT_EQ(t.size(), 1u);
}

TEST(InMemoryConntrack, ZonesAreSeparate) {
  InMemoryConntrack t;
  t.set(tcpKey(kBridge1), CtDirection::Forward);
  EXPECT_FALSE(t.lookup(tcpKey(kBridge2)).has_value());
  t.set(tcpKey(kBridge2), CtDirection::Return);
  EXPECT_EQ(t.lookup(tcpKey(kBridge1)), CtDirection::Forward);
  EXPECT_EQ(t.lookup(tcpKey(kBridge2)), CtDirection::Return);
}

TEST(InMemoryConntrack, TheReverseKeyIsAnotherEntry) {
  InMemoryConntrack t;
  t.set(tcpKey(kBridge1), CtDirection::Forward);
  EXPECT_FALSE(t.lookup(tcpKey(kBridge1).reversed(kBridge1)).has_value());
}

}  // namespace
}  // namespace loom::state
