// InMemoryState: applying each kind of state write, ARP entry lifetimes, and the StateView.
#include <gtest/gtest.h>

#include <vector>

#include "state/in_memory_state.h"

namespace loom::state {
namespace {

using std::chrono::seconds;

const Uuid kBridge(0xb1, 1);
const Uuid kRouter(0xa1, 1);
const Uuid kPort1(0xc1, 1);
const Uuid kPort2(0xc1, 2);
const MonoTime kNow = MonoTime{} + seconds(1000);

MacAddr mac(const char* text) { return MacAddr::parse(text).value(); }
IpAddr ip(const char* text) { return IpAddr::parse(text).value(); }

TEST(InMemoryState, StartsEmpty) {
  InMemoryState st;
  EXPECT_EQ(st.macs.size(), 0u);
  EXPECT_EQ(st.ip_macs.size(), 0u);
  EXPECT_EQ(st.arp.size(), 0u);
  EXPECT_EQ(st.conntrack.size(), 0u);
}

TEST(InMemoryState, ApplyMacLearnSetsTheMacTable) {
  InMemoryState st;
  std::vector<StateWrite> w = {MacLearn{kBridge, 10, mac("02:00:00:00:00:01"), kPort1, Uuid()}};
  st.apply(w, kNow);
  EXPECT_EQ(st.macs.lookup(kBridge, 10, mac("02:00:00:00:00:01")), kPort1);
  EXPECT_FALSE(st.macs.lookup(kBridge, 0, mac("02:00:00:00:00:01")).has_value());
  EXPECT_EQ(st.macs.size(), 1u);
  EXPECT_EQ(st.ip_macs.size() + st.arp.size() + st.conntrack.size(), 0u);
}

TEST(InMemoryState, ApplyMacMoveReplacesThePort) {
  InMemoryState st;
  std::vector<StateWrite> w = {
      MacLearn{kBridge, 0, mac("02:00:00:00:00:01"), kPort1, Uuid()},
      MacLearn{kBridge, 0, mac("02:00:00:00:00:01"), kPort2, kPort1},
  };
  st.apply(w, kNow);
  EXPECT_EQ(st.macs.lookup(kBridge, 0, mac("02:00:00:00:00:01")), kPort2);
  EXPECT_EQ(st.macs.size(), 1u);
}

TEST(InMemoryState, ApplyIpMacLearnSetsTheIpMacTable) {
  InMemoryState st;
  std::vector<StateWrite> w = {IpMacLearn{kBridge, ip("10.0.0.5"), mac("02:00:00:00:00:05")}};
  st.apply(w, kNow);
  EXPECT_EQ(st.ip_macs.lookup(kBridge, ip("10.0.0.5")), mac("02:00:00:00:00:05"));
  EXPECT_EQ(st.ip_macs.size(), 1u);
  EXPECT_EQ(st.macs.size() + st.arp.size() + st.conntrack.size(), 0u);
}

TEST(InMemoryState, ApplyArpLearnDatesTheEntryWithTheDefaultTimers) {
  InMemoryState st;
  std::vector<StateWrite> w = {ArpLearn{kRouter, ip("192.0.2.1"), mac("02:00:00:00:99:01")}};
  st.apply(w, kNow);
  std::optional<ArpEntry> e = st.arp.lookup(kRouter, ip("192.0.2.1"));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->mac, mac("02:00:00:00:99:01"));
  EXPECT_EQ(e->stale, kNow + seconds(60));
  EXPECT_EQ(e->expiry, kNow + seconds(90));
  EXPECT_EQ(st.macs.size() + st.ip_macs.size() + st.conntrack.size(), 0u);
}

TEST(InMemoryState, ApplyArpLearnUsesTheConfiguredTimers) {
  InMemoryState st(ArpTimers{seconds(5), seconds(7)});
  std::vector<StateWrite> w = {ArpLearn{kRouter, ip("192.0.2.1"), mac("02:00:00:00:99:01")}};
  st.apply(w, kNow);
  std::optional<ArpEntry> e = st.arp.lookup(kRouter, ip("192.0.2.1"));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->stale, kNow + seconds(5));
  EXPECT_EQ(e->expiry, kNow + seconds(7));
}

TEST(InMemoryState, ApplyArpLearnAgainRefreshesTheEntry) {
  InMemoryState st;
  std::vector<StateWrite> w = {ArpLearn{kRouter, ip("192.0.2.1"), mac("02:00:00:00:99:01")}};
  st.apply(w, kNow);
  std::vector<StateWrite> again = {ArpLearn{kRouter, ip("192.0.2.1"), mac("02:00:00:00:99:02")}};
  st.apply(again, kNow + seconds(30));
  std::optional<ArpEntry> e = st.arp.lookup(kRouter, ip("192.0.2.1"));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->mac, mac("02:00:00:00:99:02"));
  EXPECT_EQ(e->stale, kNow + seconds(90));
  EXPECT_EQ(e->expiry, kNow + seconds(120));
  EXPECT_EQ(st.arp.size(), 1u);
}

TEST(InMemoryState, ApplyConntrackInstallSetsTheDirection) {
  InMemoryState st;
  ConntrackKey k{kBridge, ip("10.0.0.11"), ip("10.0.1.11"), 40000, 22, 6};
  std::vector<StateWrite> w = {ConntrackInstall{k, CtDirection::Forward},
                               ConntrackInstall{k.reversed(kBridge), CtDirection::Return}};
  st.apply(w, kNow);
  EXPECT_EQ(st.conntrack.lookup(k), CtDirection::Forward);
  EXPECT_EQ(st.conntrack.lookup(k.reversed(kBridge)), CtDirection::Return);
  EXPECT_EQ(st.conntrack.size(), 2u);
  EXPECT_EQ(st.macs.size() + st.ip_macs.size() + st.arp.size(), 0u);
}

TEST(InMemoryState, ApplyHandlesMixedWritesInOrder) {
  InMemoryState st;
  ConntrackKey k{kBridge, ip("10.0.0.11"), ip("10.0.1.11"), 1, 2, 17};
  std::vector<StateWrite> w = {
      MacLearn{kBridge, 0, mac("02:00:00:00:00:01"), kPort1, Uuid()},
      IpMacLearn{kBridge, ip("10.0.0.1"), mac("02:00:00:00:00:01")},
      ArpLearn{kRouter, ip("10.0.0.1"), mac("02:00:00:00:00:01")},
      ConntrackInstall{k, CtDirection::Return},
      ConntrackInstall{k, CtDirection::Forward},
      IpMacLearn{kBridge, ip("10.0.0.1"), mac("02:00:00:00:00:02")},
  };
  st.apply(w, kNow);
  EXPECT_EQ(st.macs.size(), 1u);
  EXPECT_EQ(st.ip_macs.lookup(kBridge, ip("10.0.0.1")), mac("02:00:00:00:00:02"));
  EXPECT_EQ(st.arp.size(), 1u);
  EXPECT_EQ(st.conntrack.lookup(k), CtDirection::Forward);
}

TEST(InMemoryState, ApplyOfNoWritesChangesNothing) {
  InMemoryState st;
  st.apply({}, kNow);
  EXPECT_EQ(st.macs.size() + st.ip_macs.size() + st.arp.size() + st.conntrack.size(), 0u);
}

TEST(InMemoryState, ViewPointsAtTheFourTables) {
  InMemoryState st;
  StateView v = st.view();
  EXPECT_EQ(v.macs, &st.macs);
  EXPECT_EQ(v.ip_macs, &st.ip_macs);
  EXPECT_EQ(v.arp, &st.arp);
  EXPECT_EQ(v.conntrack, &st.conntrack);
}

TEST(InMemoryState, ViewSeesWritesAppliedAfterItWasTaken) {
  InMemoryState st;
  StateView v = st.view();
  ConntrackKey k{kBridge, ip("10.0.0.11"), ip("10.0.1.11"), 40000, 22, 6};
  std::vector<StateWrite> w = {
      MacLearn{kBridge, 0, mac("02:00:00:00:00:01"), kPort1, Uuid()},
      IpMacLearn{kBridge, ip("10.0.0.1"), mac("02:00:00:00:00:01")},
      ArpLearn{kRouter, ip("10.0.0.1"), mac("02:00:00:00:00:01")},
      ConntrackInstall{k, CtDirection::Forward},
  };
  st.apply(w, kNow);
  EXPECT_EQ(v.macs->lookup(kBridge, 0, mac("02:00:00:00:00:01")), kPort1);
  EXPECT_EQ(v.ip_macs->lookup(kBridge, ip("10.0.0.1")), mac("02:00:00:00:00:01"));
  EXPECT_EQ(v.arp->lookup(kRouter, ip("10.0.0.1"))->mac, mac("02:00:00:00:00:01"));
  EXPECT_EQ(v.conntrack->lookup(k), CtDirection::Forward);
}

TEST(StateView, DefaultHasNoTables) {
  StateView v;
  EXPECT_EQ(v.macs, nullptr);
  EXPECT_EQ(v.ip_macs, nullptr);
  EXPECT_EQ(v.arp, nullptr);
  EXPECT_EQ(v.conntrack, nullptr);
}

}  // namespace
}  // namespace loom::state
