// Bridge behaviour: learning, flooding, ARP suppression, MAC moves, isolation, VLANs.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "packet/builder.h"
#include "packet/parser.h"
#include "support/topo_builder.h"

namespace loom {
namespace {

using sim::DropReason;
using sim::FlowTag;
using sim::Outcome;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::SimHarness;
using ::testing::UnorderedElementsAre;

constexpr const char* kMacA = "02:00:00:00:00:0a";
constexpr const char* kMacB = "02:00:00:00:00:0b";
constexpr const char* kMacC = "02:00:00:00:00:0c";
constexpr const char* kMacD = "02:00:00:00:00:0d";  // Configured on port p4.

class BridgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    br = h.topo.bridge("br");
    p1 = h.topo.vmPort(br, "p1", "", "");
    p2 = h.topo.vmPort(br, "p2", "", "");
    p3 = h.topo.vmPort(br, "p3", "", "");
    p4 = h.topo.vmPort(br, "p4", kMacD, "10.0.0.4");
  }
  void build() { ASSERT_EQ(h.build(), ""); }
  std::vector<uint8_t> frame(const char* src, const char* dst) {
    return testing::udpFrame(src, dst, "10.0.0.1", "10.0.0.2", 1000, 2000);
  }

  SimHarness h;
  Uuid br, p1, p2, p3, p4;
};

TEST_F(BridgeTest, LearnsSourceThenUnicastsToLearnedPort) {
  build();
  auto first = h.send(p1, frame(kMacA, kMacB));
  EXPECT_EQ(first.outcome, Outcome::Forward) << SimHarness::traceText(first);
  ASSERT_EQ(first.writes.size(), 1u);
  const auto& learn = std::get<state::MacLearn>(first.writes[0]);
  EXPECT_EQ(learn.mac, testing::mac(kMacA));
  EXPECT_EQ(learn.port, p1);
  EXPECT_TRUE(learn.old_port.isNil());

  auto reply = h.send(p2, frame(kMacB, kMacA));
  EXPECT_EQ(reply.outcome, Outcome::Forward);
  EXPECT_THAT(SimHarness::egressPorts(reply), ElementsAre(p1)) << SimHarness::traceText(reply);
  EXPECT_TRUE(reply.hasTag(FlowTag::macPort(br, 0, testing::mac(kMacA))));
  EXPECT_THAT(reply.egress[0].actions, IsEmpty());
}

TEST_F(BridgeTest, UnicastToConfiguredMacNeedsNoLearning) {
  build();
  auto r = h.send(p1, frame(kMacA, kMacD));
  EXPECT_THAT(SimHarness::egressPorts(r), ElementsAre(p4)) << SimHarness::traceText(r);
}

TEST_F(BridgeTest, FloodsUnknownUnicastToAllOtherPorts) {
  build();
  auto r = h.send(p1, frame(kMacA, kMacB));
  EXPECT_EQ(r.outcome, Outcome::Forward);
  EXPECT_THAT(SimHarness::egressPorts(r), UnorderedElementsAre(p2, p3, p4));
  // Learning kMacB later must invalidate this flood flow.
  EXPECT_TRUE(r.hasTag(FlowTag::macPort(br, 0, testing::mac(kMacB))));
}

TEST_F(BridgeTest, FloodsBroadcastToAllOtherPorts) {
  build();
  auto r = h.send(p2, frame(kMacB, "ff:ff:ff:ff:ff:ff"));
  EXPECT_THAT(SimHarness::egressPorts(r), UnorderedElementsAre(p1, p3, p4));
}

TEST_F(BridgeTest, FloodsMulticast) {
  build();
  auto r = h.send(p2, frame(kMacB, "01:00:5e:00:00:fb"));
  EXPECT_THAT(SimHarness::egressPorts(r), UnorderedElementsAre(p1, p3, p4));
}

TEST_F(BridgeTest, UnicastMaskIsExactlyTheL2FieldsRead) {
  build();
  h.send(p2, frame(kMacB, kMacA));  // Learn B.
  auto r = h.send(p1, frame(kMacA, kMacB));
  using packet::Field;
  using packet::fieldBit;
  EXPECT_EQ(r.mask, fieldBit(Field::EthSrc) | fieldBit(Field::EthDst) | fieldBit(Field::Vlan) |
                        fieldBit(Field::EthType))
      << packet::fieldMaskToString(r.mask);
}

TEST_F(BridgeTest, ArpSuppressionAnswersFromConfiguredAddresses) {
  build();
  auto r = h.send(p1, testing::arpRequest(kMacA, "10.0.0.1", "10.0.0.4"));
  EXPECT_EQ(r.outcome, Outcome::Consumed) << SimHarness::traceText(r);
  EXPECT_THAT(r.egress, IsEmpty());
  ASSERT_EQ(r.generated.size(), 1u);
  EXPECT_EQ(r.generated[0].port, p1);
  EXPECT_FALSE(r.cacheable);
  auto reply = packet::parsePacket(r.generated[0].frame);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply.fields.arp_op, packet::kArpOpReply);
  EXPECT_EQ(reply.fields.arp_sha, testing::mac(kMacD));
  EXPECT_EQ(reply.fields.arp_spa, testing::ip("10.0.0.4"));
  EXPECT_EQ(reply.fields.arp_tha, testing::mac(kMacA));
  EXPECT_EQ(reply.fields.eth_dst, testing::mac(kMacA));
}

TEST_F(BridgeTest, ArpSuppressionAnswersOnTheRequestersVlan) {
  build();
  auto request = packet::PacketBuilder()
                     .eth(testing::mac(kMacA), packet::MacAddr::broadcast())
                     .vlan(42)
                     .arp(packet::kArpOpRequest, testing::mac(kMacA), testing::ip("10.0.0.1"),
                          packet::MacAddr(), testing::ip("10.0.0.4"))
                     .build();
  auto r = h.send(p1, request);
  ASSERT_EQ(r.outcome, Outcome::Consumed) << SimHarness::traceText(r);
  ASSERT_EQ(r.generated.size(), 1u);
  auto reply = packet::parsePacket(r.generated[0].frame);
  ASSERT_TRUE(reply.ok());
  EXPECT_TRUE(reply.fields.vlan_present);
  EXPECT_EQ(reply.fields.vlan_id, 42);
  EXPECT_EQ(reply.fields.arp_op, packet::kArpOpReply);
}

TEST_F(BridgeTest, ArpSuppressionUsesLearnedAddresses) {
  build();
  // A gratuitous ARP from p2 teaches the bridge 10.0.0.2 is-at B.
  auto garp = h.send(p2, testing::arpRequest(kMacB, "10.0.0.2", "10.0.0.2"));
  EXPECT_EQ(garp.outcome, Outcome::Forward);
  auto r = h.send(p1, testing::arpRequest(kMacA, "10.0.0.1", "10.0.0.2"));
  EXPECT_EQ(r.outcome, Outcome::Consumed) << SimHarness::traceText(r);
  ASSERT_EQ(r.generated.size(), 1u);
  EXPECT_EQ(packet::parsePacket(r.generated[0].frame).fields.arp_sha, testing::mac(kMacB));
}

TEST_F(BridgeTest, ArpRequestForUnknownTargetIsFlooded) {
  build();
  auto r = h.send(p1, testing::arpRequest(kMacA, "10.0.0.1", "10.0.0.99"));
  EXPECT_EQ(r.outcome, Outcome::Forward);
  EXPECT_THAT(SimHarness::egressPorts(r), UnorderedElementsAre(p2, p3, p4));
  EXPECT_TRUE(r.hasTag(FlowTag::ip(sim::TagKind::IpMac, br, testing::ip("10.0.0.99"))));
}

TEST_F(BridgeTest, ArpRequestIsFloodedWhenSuppressionIsOff) {
  h.topo.bridgeMsg(br).set_arp_suppression(false);
  build();
  auto r = h.send(p1, testing::arpRequest(kMacA, "10.0.0.1", "10.0.0.4"));
  EXPECT_EQ(r.outcome, Outcome::Forward);
  EXPECT_THAT(r.generated, IsEmpty());
  EXPECT_THAT(SimHarness::egressPorts(r), UnorderedElementsAre(p2, p3, p4));
}

TEST_F(BridgeTest, MacMoveRewritesTableAndInvalidatesFlowsToTheMac) {
  build();
  h.send(p1, frame(kMacA, kMacB));  // A learned on p1.
  auto to_a = h.send(p2, frame(kMacB, kMacA));
  ASSERT_THAT(SimHarness::egressPorts(to_a), ElementsAre(p1));

  auto moved = h.send(p3, frame(kMacA, kMacB));  // A now appears on p3.
  ASSERT_EQ(moved.writes.size(), 1u);
  const auto& learn = std::get<state::MacLearn>(moved.writes[0]);
  EXPECT_EQ(learn.port, p3);
  EXPECT_EQ(learn.old_port, p1);
  // The move invalidates a tag the old flow carries.
  bool invalidates_old_flow = false;
  for (const FlowTag& t : sim::invalidatedBy(moved.writes[0])) {
    invalidates_old_flow |= to_a.hasTag(t);
  }
  EXPECT_TRUE(invalidates_old_flow);

  auto again = h.send(p2, frame(kMacB, kMacA));
  EXPECT_THAT(SimHarness::egressPorts(again), ElementsAre(p3));
}

TEST_F(BridgeTest, ConfiguredMacIsNotLearnedOnAnotherPort) {
  build();
  auto r = h.send(p1, frame(kMacD, kMacB));  // D spoofed from p1.
  EXPECT_THAT(r.writes, IsEmpty());
  auto to_d = h.send(p2, frame(kMacB, kMacD));
  EXPECT_THAT(SimHarness::egressPorts(to_d), ElementsAre(p4));
}

TEST_F(BridgeTest, FrameForAMacBehindTheIngressPortIsDropped) {
  build();
  h.send(p1, frame(kMacA, kMacB));
  auto r = h.send(p1, frame(kMacC, kMacA));
  EXPECT_EQ(r.outcome, Outcome::Drop);
  EXPECT_EQ(r.drop_reason, DropReason::HairpinLoop);
}

TEST_F(BridgeTest, VlansHaveSeparateMacTables) {
  build();
  auto tagged = [](const char* src, const char* dst, uint16_t vlan) {
    return packet::PacketBuilder()
        .eth(testing::mac(src), testing::mac(dst))
        .vlan(vlan)
        .ipv4(testing::ip("10.0.0.1"), testing::ip("10.0.0.2"))
        .udp(1, 2)
        .build();
  };
  h.send(p1, tagged(kMacA, kMacB, 10));
  auto same_vlan = h.send(p2, tagged(kMacB, kMacA, 10));
  EXPECT_THAT(SimHarness::egressPorts(same_vlan), ElementsAre(p1));
  auto other_vlan = h.send(p2, tagged(kMacB, kMacA, 20));
  EXPECT_THAT(SimHarness::egressPorts(other_vlan), UnorderedElementsAre(p1, p3, p4));
}

TEST_F(BridgeTest, BridgesAreIsolatedFromEachOther) {
  Uuid br2 = h.topo.bridge("br2");
  Uuid q1 = h.topo.vmPort(br2, "q1", "", "");
  Uuid q2 = h.topo.vmPort(br2, "q2", "", "");
  build();
  h.send(p1, frame(kMacA, kMacB));  // A learned on br, not br2.
  auto r = h.send(q1, frame(kMacC, kMacA));
  EXPECT_THAT(SimHarness::egressPorts(r), ElementsAre(q2));
  auto b = h.send(q1, frame(kMacC, "ff:ff:ff:ff:ff:ff"));
  EXPECT_THAT(SimHarness::egressPorts(b), ElementsAre(q2));
}

TEST_F(BridgeTest, AdminDownBridgeDrops) {
  h.topo.bridgeMsg(br).set_admin_state_up(false);
  build();
  auto r = h.send(p1, frame(kMacA, kMacD));
  EXPECT_EQ(r.outcome, Outcome::Drop);
  EXPECT_EQ(r.drop_reason, DropReason::BridgeAdminDown);
}

TEST_F(BridgeTest, AdminDownPortDropsOnIngressAndIsSkippedByFlood) {
  h.topo.port(p3).set_admin_state_up(false);
  build();
  auto in = h.send(p3, frame(kMacC, kMacD));
  EXPECT_EQ(in.drop_reason, DropReason::PortAdminDown);
  auto flood = h.send(p1, frame(kMacA, "ff:ff:ff:ff:ff:ff"));
  EXPECT_THAT(SimHarness::egressPorts(flood), UnorderedElementsAre(p2, p4));
}

TEST_F(BridgeTest, UnboundPortIsNotAnEgress) {
  Uuid loose = h.topo.bridgePort(br, "loose");
  build();
  auto r = h.send(p1, frame(kMacA, "ff:ff:ff:ff:ff:ff"));
  EXPECT_THAT(SimHarness::egressPorts(r), UnorderedElementsAre(p2, p3, p4));
  (void)loose;
}

TEST_F(BridgeTest, UnknownIngressPortIsNotReady) {
  build();
  Uuid ghost(0x1234, 0x5678);
  auto r = h.send(ghost, frame(kMacA, kMacB));
  EXPECT_EQ(r.outcome, Outcome::NotReady);
  EXPECT_EQ(r.not_ready.kind, sim::NotReadyCause::Kind::MissingObject);
  EXPECT_EQ(r.not_ready.object_id, ghost);
}

TEST_F(BridgeTest, EgressRecordsHostAndDevice) {
  Uuid host = h.topo.host("h7");
  Uuid p5 = h.topo.vmPort(br, "p5", "02:00:00:00:00:05", "10.0.0.5", host);
  build();
  auto r = h.send(p1, frame(kMacA, "02:00:00:00:00:05"));
  ASSERT_EQ(r.egress.size(), 1u);
  EXPECT_EQ(r.egress[0].port, p5);
  EXPECT_EQ(r.egress[0].host, host);
  EXPECT_EQ(r.egress[0].device, br);
}

}  // namespace
}  // namespace loom
