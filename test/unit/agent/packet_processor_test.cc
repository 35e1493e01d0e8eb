// PacketProcessor against an in-memory fast path: what the agent installs for each kind of
// result, what it sends, and how revalidation, expiry, parking and adoption keep the table true.

#include "agent/packet_processor.h"

#include <gtest/gtest.h>

#include <thread>

#include "packet/builder.h"
#include "packet/parser.h"
#include "support/topo_builder.h"
#include "unit/agent/fakes.h"

namespace loom::agent {
namespace {

using loom::testing::ip;
using loom::testing::mac;
using testing::FakeDatapath;
using testing::FakeTx;

constexpr uint32_t kA1If = 10, kB1If = 11;
constexpr uint32_t kH2Ip = 0xc6120002;  // 198.18.0.2
constexpr uint32_t kA2Key = 7;

class PacketProcessorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h1 = topo.host("h1");
    h2 = topo.host("h2");
    net_a = topo.bridge("net-a");
    net_b = topo.bridge("net-b");
    r1 = topo.router("r1");
    a1 = topo.vmPort(net_a, "a1", "02:00:00:00:0a:01", "10.0.0.11/24", h1);
    a2 = topo.vmPort(net_a, "a2", "02:00:00:00:0a:02", "10.0.0.12/24", h2);
    b1 = topo.vmPort(net_b, "b1", "02:00:00:00:0b:01", "10.0.1.11/24", h1);
    topo.attach(r1, net_a, "r1-a", "02:00:00:00:ff:0a", "10.0.0.1/24");
    r1_b = topo.attach(r1, net_b, "r1-b", "02:00:00:00:ff:0b", "10.0.1.1/24");
    topo.port(r1_b).set_mtu(1400);
    config.flow_idle_ms = 100;
    processor = std::make_unique<PacketProcessor>(dp, tx, masks, counters, config);
  }

  ViewPtr view(uint64_t version, bool a2_active = true, bool b1_local = true) {
    auto v = std::make_shared<AgentView>();
    v->generation = version;
    v->topo = topo.snapshot(version);
    auto local = [&](const Uuid& port, const std::string& ifname, uint32_t ifindex, uint32_t key) {
      LocalPort p{port, ifname, ifindex, key};
      v->local_by_ifindex[ifindex] = p;
      v->local_by_port[port] = p;
    };
    local(a1, "a1", kA1If, 1);
    if (b1_local) local(b1, "b1", kB1If, 2);
    if (a2_active) v->remote_by_port[a2] = RemotePort{h2, kH2Ip, kA2Key};
    return v;
  }
  void publish(ViewPtr v) {
    processor->publishView(std::move(v));
    processor->step(0);
  }
  void upcall(uint32_t ifindex, const std::vector<uint8_t>& frame,
              uint8_t reason = LOOM_UPCALL_MISS) {
    dp.upcall(ifindex, frame, reason);
    processor->step(0);
  }
  static std::vector<uint8_t> tcp(const char* dst_mac, const char* dst_ip, uint16_t sport,
                                  uint16_t dport = 80) {
    return loom::testing::tcpFrame("02:00:00:00:0a:01", dst_mac, "10.0.0.11", dst_ip, sport, dport);
  }

  loom::testing::TopoBuilder topo;
  Uuid h1, h2, net_a, net_b, r1, a1, a2, b1, r1_b;
  FakeDatapath dp;
  FakeTx tx;
  MaskSlots masks{dp};
  AgentCounters counters;
  AgentConfig config;
  std::unique_ptr<PacketProcessor> processor;
};

TEST_F(PacketProcessorTest, SameBridgeOtherHostInstallsOneTunnelFlowForEveryConnection) {
  publish(view(1));
  auto first = tcp("02:00:00:00:0a:02", "10.0.0.12", 40000);
  upcall(kA1If, first);
  ASSERT_EQ(dp.flowCount(), 1u);
  const datapath::FlowValue v = dp.values()[0];
  EXPECT_EQ(v.action, LOOM_ACT_FORWARD);
  ASSERT_EQ(v.n_outputs, 1);
  EXPECT_EQ(v.outputs[0].flags, static_cast<uint32_t>(LOOM_OUT_TUNNEL));
  EXPECT_EQ(v.outputs[0].remote_ipv4, kH2Ip);
  EXPECT_EQ(v.outputs[0].tunnel_key, kA2Key);
  EXPECT_EQ(v.n_sets, 0);
  // The upcalled packet itself went on, unchanged, through the tunnel.
  ASSERT_EQ(tx.sent.size(), 1u);
  EXPECT_TRUE(tx.sent[0].tunnel);
  EXPECT_EQ(tx.sent[0].vni, kA2Key);
  EXPECT_EQ(tx.sent[0].frame, first);
  // A new TCP connection on the same L2 path hits the megaflow: no upcall would be needed.
  EXPECT_NE(dp.lookup(kA1If, tcp("02:00:00:00:0a:02", "10.0.0.12", 40001, 443)), nullptr);
  // Another destination MAC does not.
  EXPECT_EQ(dp.lookup(kA1If, tcp("02:00:00:00:0a:09", "10.0.0.19", 40001)), nullptr);
  EXPECT_EQ(counters.flows_installed.load(), 1u);
}

TEST_F(PacketProcessorTest, AcrossTheRouterToALocalPortRewritesAndDeliversLocally) {
  publish(view(1));
  upcall(kA1If, tcp("02:00:00:00:ff:0a", "10.0.1.11", 40000));
  ASSERT_EQ(dp.flowCount(), 1u);
  const datapath::FlowValue v = dp.values()[0];
  ASSERT_EQ(v.n_outputs, 1);
  EXPECT_EQ(v.outputs[0].flags, static_cast<uint32_t>(LOOM_OUT_LOCAL));
  EXPECT_EQ(v.outputs[0].ifindex, kB1If);
  EXPECT_EQ(v.mtu, 1400);  // r1-b's MTU: longer packets must come up for ICMP.
  EXPECT_EQ(v.n_sets, 3);  // eth_src, eth_dst, ttl.
  ASSERT_EQ(tx.sent.size(), 1u);
  EXPECT_FALSE(tx.sent[0].tunnel);
  EXPECT_EQ(tx.sent[0].ifindex, kB1If);
  packet::ParsedPacket out = packet::parsePacket(tx.sent[0].frame);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out.fields.eth_src, mac("02:00:00:00:ff:0b"));
  EXPECT_EQ(out.fields.eth_dst, mac("02:00:00:00:0b:01"));
  EXPECT_EQ(out.fields.nw_ttl, 63);
}

TEST_F(PacketProcessorTest, RevalidationFollowsPortsAndTopology) {
  publish(view(1));
  upcall(kA1If, tcp("02:00:00:00:0a:02", "10.0.0.12", 40000));
  upcall(kA1If, tcp("02:00:00:00:ff:0a", "10.0.1.11", 40000));
  ASSERT_EQ(dp.flowCount(), 2u);
  // a2's host goes away: its flow turns into a drop (no stale tunnel to a dead host).
  publish(view(2, /*a2_active=*/false));
  const datapath::FlowValue* to_a2 = dp.lookup(kA1If, tcp("02:00:00:00:0a:02", "10.0.0.12", 1));
  ASSERT_NE(to_a2, nullptr);
  EXPECT_EQ(to_a2->action, LOOM_ACT_DROP);
  // And back: the same flow forwards again.
  publish(view(3));
  to_a2 = dp.lookup(kA1If, tcp("02:00:00:00:0a:02", "10.0.0.12", 1));
  ASSERT_NE(to_a2, nullptr);
  EXPECT_EQ(to_a2->action, LOOM_ACT_FORWARD);
  EXPECT_GE(counters.flows_updated.load(), 2u);
  // The route to 10.0.1.0/24 goes (r1-b loses its address): the router flow no longer forwards.
  topo.port(r1_b).clear_addresses();
  publish(view(4));
  const datapath::FlowValue* to_b1 = dp.lookup(kA1If, tcp("02:00:00:00:ff:0a", "10.0.1.11", 1));
  EXPECT_TRUE(to_b1 == nullptr || to_b1->action == LOOM_ACT_DROP);
  EXPECT_GE(counters.revalidations.load(), 4u);
}

TEST_F(PacketProcessorTest, AnUnboundIngressPortTakesItsFlowsAway) {
  publish(view(1));
  upcall(kB1If, loom::testing::tcpFrame("02:00:00:00:0b:01", "02:00:00:00:ff:0b", "10.0.1.11",
                                        "10.0.0.11", 22, 40000));
  ASSERT_EQ(dp.flowCount(), 1u);
  publish(view(2, true, /*b1_local=*/false));
  EXPECT_EQ(dp.flowCount(), 0u);
  EXPECT_EQ(counters.flows_removed_revalidate.load(), 1u);
}

TEST_F(PacketProcessorTest, ArpIsAnsweredLocallyAndNotCached) {
  publish(view(1));
  upcall(kA1If, loom::testing::arpRequest("02:00:00:00:0a:01", "10.0.0.11", "10.0.0.12"));
  EXPECT_EQ(dp.flowCount(), 0u);
  ASSERT_EQ(tx.sent.size(), 1u);
  EXPECT_EQ(tx.sent[0].ifindex, kA1If);
  packet::ParsedPacket reply = packet::parsePacket(tx.sent[0].frame);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply.fields.arp_op, packet::kArpOpReply);
  EXPECT_EQ(reply.fields.arp_sha, mac("02:00:00:00:0a:02"));
}

TEST_F(PacketProcessorTest, OversizePacketGetsFragmentationNeededAndKeepsTheFlow) {
  publish(view(1));
  upcall(kA1If, tcp("02:00:00:00:ff:0a", "10.0.1.11", 40000));
  ASSERT_EQ(dp.flowCount(), 1u);
  tx.sent.clear();
  std::vector<uint8_t> big = packet::PacketBuilder()
                                 .eth(mac("02:00:00:00:0a:01"), mac("02:00:00:00:ff:0a"))
                                 .ipv4(ip("10.0.0.11"), ip("10.0.1.11"))
                                 .dontFragment()
                                 .tcp(40000, 80)
                                 .payload(1460)
                                 .build();
  upcall(kA1If, big, LOOM_UPCALL_TOO_BIG);
  EXPECT_EQ(dp.flowCount(), 1u);
  ASSERT_EQ(tx.sent.size(), 1u);
  EXPECT_EQ(tx.sent[0].ifindex, kA1If);  // Back to the sender.
  packet::ParsedPacket icmp = packet::parsePacket(tx.sent[0].frame);
  ASSERT_TRUE(icmp.ok());
  EXPECT_EQ(icmp.fields.icmp_type, 3);
  EXPECT_EQ(icmp.fields.icmp_code, 4);
  EXPECT_EQ(counters.upcalls_too_big.load(), 1u);
}

TEST_F(PacketProcessorTest, BadInputIsCountedNotFatal) {
  publish(view(1));
  upcall(99, tcp("02:00:00:00:0a:02", "10.0.0.12", 1));  // Not a port of ours.
  EXPECT_EQ(counters.upcalls_unknown_port.load(), 1u);
  std::vector<uint8_t> runt = {0x02, 0, 0,    0,    0x0a, 0x02, 0x02, 0,
                               0,    0, 0x0a, 0x01, 0x08, 0x00, 0x45, 0x00};
  upcall(kA1If, runt);
  EXPECT_EQ(counters.sim_drops[static_cast<size_t>(sim::DropReason::MalformedPacket)].load(), 1u);
  EXPECT_EQ(dp.flowCount(), 0u);
  EXPECT_TRUE(tx.sent.empty());
}

TEST_F(PacketProcessorTest, IdleFlowsExpire) {
  publish(view(1));
  upcall(kA1If, tcp("02:00:00:00:0a:02", "10.0.0.12", 40000));
  ASSERT_EQ(dp.flowCount(), 1u);
  processor->expireIdleFlows();
  EXPECT_EQ(dp.flowCount(), 1u);  // Young.
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  processor->expireIdleFlows();
  EXPECT_EQ(dp.flowCount(), 0u);
  EXPECT_EQ(counters.flows_removed_idle.load(), 1u);
  EXPECT_EQ(processor->maskCount(), 0u);
}

TEST_F(PacketProcessorTest, ARestartedAgentAdoptsAndRevalidatesPinnedFlows) {
  publish(view(1));
  upcall(kA1If, tcp("02:00:00:00:0a:02", "10.0.0.12", 40000));
  upcall(kA1If, tcp("02:00:00:00:ff:0a", "10.0.1.11", 40000));
  ASSERT_EQ(dp.flowCount(), 2u);
  // A new agent on the same (pinned) fast path.
  AgentCounters counters2;
  MaskSlots masks2(dp);
  masks2.loadConfig();
  PacketProcessor second(dp, tx, masks2, counters2, config);
  second.adoptPinnedFlows();
  EXPECT_EQ(counters2.flows_adopted.load(), 2u);
  EXPECT_EQ(second.flowCount(), 2u);
  second.publishView(view(2));
  second.step(0);
  // Same topology: nothing removed or rewritten, and the flows still match.
  EXPECT_EQ(dp.flowCount(), 2u);
  EXPECT_EQ(counters2.flows_removed_revalidate.load(), 0u);
  EXPECT_EQ(counters2.flows_updated.load(), 0u);
  EXPECT_NE(dp.lookup(kA1If, tcp("02:00:00:00:0a:02", "10.0.0.12", 5)), nullptr);
}

TEST_F(PacketProcessorTest, MacsLearnedHereArePublishedAndOtherHostsMacsAreUsed) {
  // c1 on this host and c2 on h2 have no configured MAC: bridges learn them.
  Uuid c1 = topo.vmPort(net_a, "c1", "", "", h1);
  Uuid c2 = topo.vmPort(net_a, "c2", "", "", h2);
  std::vector<state::MacLearn> learned;
  processor->setMacLearned([&](const state::MacLearn& m) { learned.push_back(m); });
  auto v = std::const_pointer_cast<AgentView>(view(1));
  LocalPort lc1{c1, "c1", 12, 3};
  v->local_by_ifindex[12] = lc1;
  v->local_by_port[c1] = lc1;
  v->remote_by_port[c2] = RemotePort{h2, kH2Ip, 9};
  publish(v);
  auto to_c2 = loom::testing::udpFrame("02:00:00:00:0c:01", "02:00:00:00:0c:02", "10.0.0.21",
                                       "10.0.0.22", 5000, 53);
  upcall(12, to_c2);
  // c1's MAC was learned here and handed over for publishing.
  ASSERT_EQ(learned.size(), 1u);
  EXPECT_EQ(learned[0].port, c1);
  EXPECT_EQ(learned[0].mac, mac("02:00:00:00:0c:01"));
  // c2's MAC is unknown here: the frame floods (to every other port of net-a with a place to go).
  const datapath::FlowValue* flood = dp.lookup(12, to_c2);
  ASSERT_NE(flood, nullptr);
  EXPECT_GT(flood->n_outputs, 1);
  // h2 learned c2's MAC and published it: the next view carries it, revalidation turns the
  // flood into unicast to c2's host.
  auto v2 = std::make_shared<AgentView>(*v);
  v2->generation = 2;
  v2->remote_macs[MacKey{net_a, mac("02:00:00:00:0c:02").toU64()}] = c2;
  publish(v2);
  const datapath::FlowValue* unicast = dp.lookup(12, to_c2);
  ASSERT_NE(unicast, nullptr);
  ASSERT_EQ(unicast->n_outputs, 1);
  EXPECT_EQ(unicast->outputs[0].tunnel_key, 9u);
}

}  // namespace
}  // namespace loom::agent
