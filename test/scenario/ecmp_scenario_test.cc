// ECMP: equal routes share flows with a hash that is symmetric (both directions of a
// connection use the same link) and consistent (a member change moves only ~1/N of flows).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>

#include "support/topo_builder.h"

namespace loom {
namespace {

using sim::FlowTag;
using sim::Outcome;
using testing::ip;
using testing::mac;
using testing::SimHarness;

constexpr int kLinks = 3;

// left (10.1.0.0/16) -- r1 ==(3 parallel links)== r2 -- right (10.2.0.0/16)
class EcmpSymmetryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Uuid left = h.topo.bridge("left");
    Uuid right = h.topo.bridge("right");
    vm_l = h.topo.vmPort(left, "vm-l", "02:00:00:00:00:01", "10.1.0.11");
    vm_r = h.topo.vmPort(right, "vm-r", "02:00:00:00:00:02", "10.2.0.11");
    Uuid r1 = h.topo.router("r1");
    Uuid r2 = h.topo.router("r2");
    h.topo.attach(r1, left, "r1-left", "02:00:00:00:01:00", "10.1.0.1/16");
    h.topo.attach(r2, right, "r2-right", "02:00:00:00:02:00", "10.2.0.1/16");
    for (int k = 0; k < kLinks; ++k) {
      std::string n = std::to_string(k + 1);
      Uuid a = h.topo.routerPort(r1, "r1-l" + n, "02:00:00:00:01:0" + n, "169.254." + n + ".1/30");
      Uuid b = h.topo.routerPort(r2, "r2-l" + n, "02:00:00:00:02:0" + n, "169.254." + n + ".2/30");
      h.topo.link(a, b);
      h.topo.route(r1, "10.2.0.0/16", a, "169.254." + n + ".2");
      h.topo.route(r2, "10.1.0.0/16", b, "169.254." + n + ".1");
      r1_links[k] = a;
      r2_links[k] = b;
    }
    ASSERT_EQ(h.build(), "");
  }

  // Which link a result crossed, by its port tags; -1 if none or several.
  int linkOf(const sim::SimResult& r, const Uuid (&links)[kLinks]) {
    int found = -1;
    for (int k = 0; k < kLinks; ++k) {
      if (r.hasTag(FlowTag::device(links[k]))) {
        if (found >= 0) return -1;
        found = k;
      }
    }
    return found;
  }

  SimHarness h;
  Uuid vm_l, vm_r;
  Uuid r1_links[kLinks], r2_links[kLinks];
};

TEST_F(EcmpSymmetryTest, BothDirectionsOfAConnectionUseTheSameLink) {
  int used[kLinks] = {0, 0, 0};
  for (int i = 0; i < 120; ++i) {
    uint16_t sport = static_cast<uint16_t>(20000 + i * 7);
    auto fwd = h.send(vm_l, testing::tcpFrame("02:00:00:00:00:01", "02:00:00:00:01:00", "10.1.0.11",
                                              "10.2.0.11", sport, 443));
    ASSERT_EQ(fwd.outcome, Outcome::Forward) << SimHarness::traceText(fwd);
    auto rev = h.send(vm_r, testing::tcpFrame("02:00:00:00:00:02", "02:00:00:00:02:00", "10.2.0.11",
                                              "10.1.0.11", 443, sport));
    ASSERT_EQ(rev.outcome, Outcome::Forward) << SimHarness::traceText(rev);
    int lf = linkOf(fwd, r1_links);
    int lr = linkOf(rev, r2_links);
    ASSERT_GE(lf, 0);
    EXPECT_EQ(lf, lr) << "flow " << sport;
    // The reverse flow does not cross r1's other links either.
    EXPECT_EQ(linkOf(rev, r1_links), lf);
    ++used[lf];
  }
  for (int k = 0; k < kLinks; ++k) EXPECT_GT(used[k], 20) << "link " << k;
}

// r1 with N uplinks and a default route over all of them.
class EcmpConsistencyTest : public ::testing::Test {
 protected:
  void build(int members, int skip = -1) {
    h = std::make_unique<SimHarness>();
    Uuid net = h->topo.bridge("net");
    vm = h->topo.vmPort(net, "vm", "02:00:00:00:00:01", "10.0.0.11");
    r1 = h->topo.router("r1");
    h->topo.attach(r1, net, "r1-net", "02:00:00:00:01:00", "10.0.0.1/24");
    Uuid edge = h->topo.host("edge");
    uplinks.clear();
    for (int k = 0; k < members; ++k) {
      std::string n = std::to_string(k + 1);
      // Ports before routes: the same ids in every build, whatever routes are skipped.
      Uuid up = h->topo.routerPort(r1, "up" + n, "02:00:00:00:0f:0" + n,
                                   "192.0.2." + std::to_string(4 * k + 2) + "/30");
      h->topo.bind(up, edge);
      uplinks.push_back(up);
      h->state.arp.set(
          r1, ip("192.0.2." + std::to_string(4 * k + 1)),
          state::ArpEntry{mac("02:00:00:00:99:0" + n), h->clock.now() + std::chrono::hours(1),
                          h->clock.now() + std::chrono::hours(1)});
    }
    for (int k = 0; k < members; ++k) {
      if (k == skip) continue;
      h->topo.route(r1, "0.0.0.0/0", uplinks[static_cast<size_t>(k)],
                    "192.0.2." + std::to_string(4 * k + 1));
    }
    ASSERT_EQ(h->build(), "");
  }

  std::map<int, Uuid> choices(int flows) {
    std::map<int, Uuid> out;
    for (int i = 0; i < flows; ++i) {
      uint16_t sport = static_cast<uint16_t>(10000 + i);
      auto r = h->send(vm, testing::tcpFrame("02:00:00:00:00:01", "02:00:00:00:01:00", "10.0.0.11",
                                             "203.0.113.9", sport, 80));
      EXPECT_EQ(r.egress.size(), 1u) << SimHarness::traceText(r);
      if (!r.egress.empty()) out[i] = r.egress[0].port;
    }
    return out;
  }

  std::unique_ptr<SimHarness> h;
  Uuid vm, r1;
  std::vector<Uuid> uplinks;
};

TEST_F(EcmpConsistencyTest, RemovingAMemberMovesOnlyItsFlows) {
  constexpr int kFlows = 1000;
  build(4);
  auto before = choices(kFlows);
  std::map<Uuid, int> share;
  for (auto& [flow, port] : before) ++share[port];
  ASSERT_EQ(share.size(), 4u);
  for (auto& [port, n] : share) {
    EXPECT_GT(n, kFlows / 8) << "unbalanced";
    EXPECT_LT(n, kFlows / 2) << "unbalanced";
  }

  build(4, /*skip=*/2);  // The route via uplink 3 is withdrawn.
  Uuid removed = uplinks[2];
  auto after = choices(kFlows);
  int moved = 0;
  for (auto& [flow, port] : before) {
    if (port == removed) {
      EXPECT_NE(after[flow], removed);
      ++moved;
    } else {
      EXPECT_EQ(after[flow], port) << "flow " << flow << " moved without cause";
    }
  }
  EXPECT_EQ(moved, share[removed]);
}

TEST_F(EcmpConsistencyTest, AddingAMemberTakesAboutOneNthOfTheFlows) {
  constexpr int kFlows = 1000;
  build(5, /*skip=*/4);
  auto before = choices(kFlows);
  build(5);
  auto after = choices(kFlows);
  int moved = 0;
  for (auto& [flow, port] : before) {
    if (after[flow] != port) {
      EXPECT_EQ(after[flow], uplinks[4]) << "a flow moved between old members";
      ++moved;
    }
  }
  EXPECT_GT(moved, kFlows / 10);
  EXPECT_LT(moved, kFlows * 3 / 10);
}

}  // namespace
}  // namespace loom
