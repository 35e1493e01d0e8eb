// Router behaviour: local addresses, forwarding, route selection, ARP, ICMP errors.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "packet/builder.h"
#include "packet/checksum.h"
#include "packet/parser.h"
#include "support/topo_builder.h"

namespace loom {
namespace {

using packet::SetField;
using packet::SetFieldKind;
using sim::DropReason;
using sim::FlowTag;
using sim::Outcome;
using ::testing::ElementsAre;
using testing::ip;
using ::testing::IsEmpty;
using testing::mac;
using testing::SimHarness;

constexpr const char* kVmA = "02:00:00:00:0a:01";  // 10.0.0.11 on net-a.
constexpr const char* kVmB = "02:00:00:00:0b:01";  // 10.0.1.11 on net-b.
constexpr const char* kRa = "02:00:00:00:01:0a";   // Router leg on net-a, 10.0.0.1.
constexpr const char* kRb = "02:00:00:00:01:0b";   // Router leg on net-b, 10.0.1.1.
constexpr const char* kRup = "02:00:00:00:01:ff";  // Uplink 192.0.2.2/30.
constexpr const char* kGw = "02:00:00:00:99:01";   // Upstream gateway 192.0.2.1.

// The next-hop MTU of an ICMP fragmentation needed: the low 16 bits of its second word.
uint16_t nextHopMtu(const sim::GeneratedPacket& g) {
  packet::ParsedPacket p = packet::parsePacket(g.frame);
  return static_cast<uint16_t>((g.frame[p.l4_offset + 6] << 8) | g.frame[p.l4_offset + 7]);
}

// net-a (10.0.0.0/24) -- r1 -- net-b (10.0.1.0/24); r1's uplink is an exterior port with a
// default route via 192.0.2.1.
class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    net_a = h.topo.bridge("net-a");
    net_b = h.topo.bridge("net-b");
    r1 = h.topo.router("r1");
    vm_a = h.topo.vmPort(net_a, "vm-a", kVmA, "10.0.0.11");
    vm_b = h.topo.vmPort(net_b, "vm-b", kVmB, "10.0.1.11");
    ra = h.topo.attach(r1, net_a, "r1-a", kRa, "10.0.0.1/24");
    rb = h.topo.attach(r1, net_b, "r1-b", kRb, "10.0.1.1/24");
    up = h.topo.routerPort(r1, "r1-up", kRup, "192.0.2.2/30");
    h.topo.bind(up, h.topo.host("edge"));
    default_route = h.topo.route(r1, "0.0.0.0/0", up, "192.0.2.1");
  }
  void build() { ASSERT_EQ(h.build(), ""); }
  void learnGateway() {
    h.state.arp.set(r1, ip("192.0.2.1"),
                    state::ArpEntry{mac(kGw), h.clock.now() + std::chrono::seconds(60),
                                    h.clock.now() + std::chrono::seconds(90)});
  }
  // A second exterior uplink, 192.0.2.6/30, whose gateway 192.0.2.5 is learned once the
  // snapshot is built (learnSecondGateway).
  Uuid addSecondUplink() {
    Uuid up2 = h.topo.routerPort(r1, "r1-up2", "02:00:00:00:02:ff", "192.0.2.6/30");
    h.topo.bind(up2, h.topo.host("edge2"));
    return up2;
  }
  void learnSecondGateway() {
    h.state.arp.set(r1, ip("192.0.2.5"),
                    state::ArpEntry{mac("02:00:00:00:99:05"), h.clock.now() + std::chrono::hours(1),
                                    h.clock.now() + std::chrono::hours(1)});
  }
  std::vector<uint8_t> fromA(const char* dst_ip, uint8_t ttl = 64) {
    return testing::tcpFrame(kVmA, kRa, "10.0.0.11", dst_ip, 40000, 80, ttl);
  }
  // A UDP packet from vm-a to vm-b whose IP total length is `l3_len`.
  static std::vector<uint8_t> sizedFromA(size_t l3_len, bool df) {
    return packet::PacketBuilder()
        .eth(mac(kVmA), mac(kRa))
        .ipv4(ip("10.0.0.11"), ip("10.0.1.11"))
        .dontFragment(df)
        .udp(5000, 6000)
        .payload(l3_len - 20 - 8)
        .build();
  }
  static packet::ParsedPacket parsed(const sim::GeneratedPacket& g) {
    return packet::parsePacket(g.frame);
  }

  SimHarness h;
  Uuid net_a, net_b, r1, vm_a, vm_b, ra, rb, up, default_route;
};

TEST_F(RouterTest, AnswersPingToItsPortAddress) {
  build();
  auto r = h.send(vm_a, testing::pingFrame(kVmA, kRa, "10.0.0.11", "10.0.0.1", 9, 3));
  EXPECT_EQ(r.outcome, Outcome::Consumed) << SimHarness::traceText(r);
  ASSERT_EQ(r.generated.size(), 1u);
  EXPECT_EQ(r.generated[0].port, ra);
  auto reply = parsed(r.generated[0]);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply.fields.icmp_type, packet::kIcmpEchoReply);
  EXPECT_EQ(reply.fields.icmp_id, 9);
  EXPECT_EQ(reply.fields.nw_src, ip("10.0.0.1"));
  EXPECT_EQ(reply.fields.nw_dst, ip("10.0.0.11"));
  EXPECT_EQ(reply.fields.eth_dst, mac(kVmA));
  EXPECT_TRUE(packet::l4ChecksumOk(reply));

  // The reply, emitted out of the router port, reaches the VM through the bridge.
  sim::SimInput back;
  back.match = packet::flowMatchOf(reply);
  back.port = ra;
  back.start = sim::SimInput::Start::PortEgress;
  auto delivered = h.simulator.simulate(back, *h.snap, h.state.view());
  EXPECT_THAT(SimHarness::egressPorts(delivered), ElementsAre(vm_a));
}

TEST_F(RouterTest, AnswersPingToItsFarPortAddress) {
  build();
  auto r = h.send(vm_a, testing::pingFrame(kVmA, kRa, "10.0.0.11", "10.0.1.1"));
  EXPECT_EQ(r.outcome, Outcome::Consumed);
  ASSERT_EQ(r.generated.size(), 1u);
  EXPECT_EQ(parsed(r.generated[0]).fields.nw_src, ip("10.0.1.1"));
}

TEST_F(RouterTest, OtherTrafficToTheRouterIsDropped) {
  build();
  auto r = h.send(vm_a, fromA("10.0.0.1"));
  EXPECT_EQ(r.drop_reason, DropReason::ToRouterUnhandled);
}

TEST_F(RouterTest, AnswersArpForItsAddressOnAnExteriorPort) {
  build();
  auto r = h.send(up, testing::arpRequest(kGw, "192.0.2.1", "192.0.2.2"));
  EXPECT_EQ(r.outcome, Outcome::Consumed) << SimHarness::traceText(r);
  ASSERT_EQ(r.generated.size(), 1u);
  EXPECT_EQ(r.generated[0].port, up);
  auto reply = parsed(r.generated[0]);
  EXPECT_EQ(reply.fields.arp_op, packet::kArpOpReply);
  EXPECT_EQ(reply.fields.arp_sha, mac(kRup));
  // The request also taught the router the sender's address.
  ASSERT_EQ(r.writes.size(), 1u);
  EXPECT_EQ(std::get<state::ArpLearn>(r.writes[0]).mac, mac(kGw));
}

TEST_F(RouterTest, IgnoresArpForAddressesItDoesNotOwn) {
  build();
  auto r = h.send(up, testing::arpRequest(kGw, "192.0.2.1", "192.0.2.3"));
  EXPECT_EQ(r.drop_reason, DropReason::ArpNotForRouter);
  EXPECT_THAT(r.generated, IsEmpty());
}

TEST_F(RouterTest, RoutesBetweenBridgesWithMacRewriteAndTtlDecrement) {
  build();
  auto r = h.send(vm_a, fromA("10.0.1.11", 64));
  ASSERT_EQ(r.outcome, Outcome::Forward) << SimHarness::traceText(r);
  EXPECT_THAT(SimHarness::egressPorts(r), ElementsAre(vm_b));
  EXPECT_THAT(r.egress[0].actions, ElementsAre(SetField{SetFieldKind::EthSrc, mac(kRb), {}, 0},
                                               SetField{SetFieldKind::EthDst, mac(kVmB), {}, 0},
                                               SetField{SetFieldKind::NwTtl, {}, {}, 63}));
  using packet::Field;
  using packet::fieldBit;
  packet::FieldMask need = fieldBit(Field::NwDst) | fieldBit(Field::NwTtl) |
                           fieldBit(Field::EthDst) | fieldBit(Field::EthType);
  EXPECT_EQ(r.mask & need, need) << packet::fieldMaskToString(r.mask);
  // No source routes and no filters: the source address and the ports stay wildcarded.
  EXPECT_EQ(r.mask & (fieldBit(Field::NwSrc) | fieldBit(Field::TpDst)), 0u)
      << packet::fieldMaskToString(r.mask);
  EXPECT_TRUE(r.hasTag(FlowTag::device(r1)));
  EXPECT_TRUE(r.hasTag(FlowTag::ip(sim::TagKind::RouteDst, r1, ip("10.0.1.11"))));
}

TEST_F(RouterTest, FrameNotAddressedToTheRouterMacIsDropped) {
  build();
  auto r =
      h.send(vm_a, testing::tcpFrame(kVmA, "02:00:00:00:77:77", "10.0.0.11", "10.0.1.11", 1, 2));
  // Unknown unicast is flooded on net-a; at the router it is not for the router.
  EXPECT_NE(r.outcome, Outcome::Forward) << SimHarness::traceText(r);
  EXPECT_EQ(r.drop_reason, DropReason::NotForRouter);
}

TEST_F(RouterTest, ArpMissSendsRequestAndIsNotReady) {
  build();
  auto r = h.send(vm_a, fromA("198.51.100.7"));
  ASSERT_EQ(r.outcome, Outcome::NotReady) << SimHarness::traceText(r);
  EXPECT_EQ(r.not_ready.kind, sim::NotReadyCause::Kind::ArpPending);
  EXPECT_EQ(r.not_ready.ip, ip("192.0.2.1"));
  EXPECT_THAT(r.egress, IsEmpty());
  EXPECT_THAT(r.writes, IsEmpty());
  ASSERT_EQ(r.generated.size(), 1u);
  EXPECT_EQ(r.generated[0].port, up);
  auto req = parsed(r.generated[0]);
  EXPECT_EQ(req.fields.arp_op, packet::kArpOpRequest);
  EXPECT_EQ(req.fields.arp_tpa, ip("192.0.2.1"));
  EXPECT_EQ(req.fields.arp_spa, ip("192.0.2.2"));
  EXPECT_TRUE(req.fields.eth_dst.isBroadcast());

  // The gateway answers; the re-run forwards to it.
  auto learn = h.send(up, testing::arpReply(kGw, "192.0.2.1", kRup, "192.0.2.2"));
  EXPECT_EQ(learn.outcome, Outcome::Consumed);
  auto again = h.send(vm_a, fromA("198.51.100.7"));
  ASSERT_EQ(again.outcome, Outcome::Forward) << SimHarness::traceText(again);
  EXPECT_THAT(SimHarness::egressPorts(again), ElementsAre(up));
  EXPECT_EQ(again.egress[0].fields.eth_dst, mac(kGw));
  EXPECT_TRUE(again.hasTag(FlowTag::ip(sim::TagKind::ArpEntry, r1, ip("192.0.2.1"))));
}

TEST_F(RouterTest, StaleArpEntryIsUsedAndRefreshed) {
  build();
  learnGateway();
  h.clock.advance(std::chrono::seconds(70));  // Past stale (60 s), before expiry (90 s).
  auto r = h.send(vm_a, fromA("198.51.100.7"));
  ASSERT_EQ(r.outcome, Outcome::Forward);
  ASSERT_EQ(r.generated.size(), 1u);
  EXPECT_STREQ(r.generated[0].what, "arp_request");
  EXPECT_TRUE(r.cacheable);
}

TEST_F(RouterTest, ExpiredArpEntryIsAMiss) {
  build();
  learnGateway();
  h.clock.advance(std::chrono::seconds(91));
  auto r = h.send(vm_a, fromA("198.51.100.7"));
  EXPECT_EQ(r.outcome, Outcome::NotReady);
}

TEST_F(RouterTest, LongestPrefixWins) {
  Uuid up2 = addSecondUplink();
  h.topo.route(r1, "198.51.100.0/24", up2, "192.0.2.5");
  h.topo.route(r1, "198.51.0.0/16", up, "192.0.2.1");
  build();
  learnGateway();
  learnSecondGateway();
  EXPECT_THAT(SimHarness::egressPorts(h.send(vm_a, fromA("198.51.100.7"))), ElementsAre(up2));
  EXPECT_THAT(SimHarness::egressPorts(h.send(vm_a, fromA("198.51.7.7"))), ElementsAre(up));
  EXPECT_THAT(SimHarness::egressPorts(h.send(vm_a, fromA("203.0.113.1"))), ElementsAre(up));
}

TEST_F(RouterTest, SourceRoutesSteerBySourcePrefix) {
  Uuid up2 = addSecondUplink();
  // net-b's traffic leaves by up2; everyone else by the default route. Both are /0 routes, so
  // for net-b both match: the source route wins by its lower weight.
  h.topo.topology().mutable_routes(0)->set_weight(10);
  h.topo.route(r1, "0.0.0.0/0", up2, "192.0.2.5", 0, "10.0.1.0/24");
  build();
  learnGateway();
  learnSecondGateway();
  auto from_a = h.send(vm_a, fromA("203.0.113.1"));
  EXPECT_THAT(SimHarness::egressPorts(from_a), ElementsAre(up)) << SimHarness::traceText(from_a);
  auto from_b = h.send(vm_b, testing::tcpFrame(kVmB, kRb, "10.0.1.11", "203.0.113.1", 40000, 80));
  EXPECT_THAT(SimHarness::egressPorts(from_b), ElementsAre(up2));
  // With source routes present, the source address is part of the megaflow.
  EXPECT_NE(from_a.mask & packet::fieldBit(packet::Field::NwSrc), 0u);
}

TEST_F(RouterTest, LowestWeightWinsAmongEqualPrefixes) {
  Uuid up2 = addSecondUplink();
  h.topo.route(r1, "198.51.100.0/24", up, "192.0.2.1", 20);
  h.topo.route(r1, "198.51.100.0/24", up2, "192.0.2.5", 10);
  build();
  learnGateway();
  learnSecondGateway();
  for (int i = 0; i < 20; ++i) {
    auto r = h.send(vm_a, testing::tcpFrame(kVmA, kRa, "10.0.0.11", "198.51.100.7",
                                            static_cast<uint16_t>(30000 + i), 80));
    EXPECT_THAT(SimHarness::egressPorts(r), ElementsAre(up2));
  }
}

TEST_F(RouterTest, BlackholeRouteDropsSilently) {
  h.topo.specialRoute(r1, "198.51.100.0/24", v1::Route::BLACKHOLE);
  build();
  auto r = h.send(vm_a, fromA("198.51.100.7"));
  EXPECT_EQ(r.drop_reason, DropReason::BlackholeRoute);
  EXPECT_THAT(r.generated, IsEmpty());
}

TEST_F(RouterTest, RejectRouteSendsAdminProhibited) {
  h.topo.specialRoute(r1, "198.51.100.0/24", v1::Route::REJECT);
  build();
  auto r = h.send(vm_a, fromA("198.51.100.7"));
  EXPECT_EQ(r.drop_reason, DropReason::RejectRoute);
  ASSERT_EQ(r.generated.size(), 1u);
  auto icmp = parsed(r.generated[0]);
  EXPECT_EQ(icmp.fields.icmp_type, packet::kIcmpDestUnreachable);
  EXPECT_EQ(icmp.fields.icmp_code, packet::kIcmpCodeAdminProhibited);
  EXPECT_EQ(icmp.fields.nw_src, ip("10.0.0.1"));
  EXPECT_EQ(icmp.fields.nw_dst, ip("10.0.0.11"));
  EXPECT_EQ(r.generated[0].port, ra);
  EXPECT_FALSE(r.cacheable);
}

TEST_F(RouterTest, NoRouteSendsNetUnreachable) {
  h.topo.topology().mutable_routes()->Clear();  // Drop the default route.
  build();
  auto r = h.send(vm_a, fromA("198.51.100.7"));
  EXPECT_EQ(r.drop_reason, DropReason::NoRoute);
  ASSERT_EQ(r.generated.size(), 1u);
  auto icmp = parsed(r.generated[0]);
  EXPECT_EQ(icmp.fields.icmp_type, packet::kIcmpDestUnreachable);
  EXPECT_EQ(icmp.fields.icmp_code, packet::kIcmpCodeNetUnreachable);
  // The error quotes the offending IP header (and at least 8 bytes of TCP after it).
  const auto& f = r.generated[0].frame;
  size_t quoted = size_t{icmp.l4_offset} + 8;
  ASSERT_GE(icmp.l3_end, quoted + 28);
  EXPECT_EQ(f[quoted] >> 4, 4);  // IPv4.
  EXPECT_EQ(packet::IpAddr::v4Bytes(&f[quoted + 12]), ip("10.0.0.11"));
  EXPECT_EQ(packet::IpAddr::v4Bytes(&f[quoted + 16]), ip("198.51.100.7"));
  EXPECT_EQ(f[quoted + 9], packet::kIpProtoTcp);
}

TEST_F(RouterTest, TtlExpirySendsTimeExceeded) {
  build();
  learnGateway();
  auto r = h.send(vm_a, fromA("10.0.1.11", 1));
  EXPECT_EQ(r.drop_reason, DropReason::TtlExpired);
  ASSERT_EQ(r.generated.size(), 1u);
  auto icmp = parsed(r.generated[0]);
  EXPECT_EQ(icmp.fields.icmp_type, packet::kIcmpTimeExceeded);
  EXPECT_EQ(icmp.fields.nw_src, ip("10.0.0.1"));
  EXPECT_TRUE(packet::l4ChecksumOk(icmp));
}

TEST_F(RouterTest, NoIcmpErrorAboutAnIcmpError) {
  build();
  // An ICMP error (destination unreachable) that itself expires at the router.
  auto frame = packet::PacketBuilder()
                   .eth(mac(kVmA), mac(kRa))
                   .ipv4(ip("10.0.0.11"), ip("10.0.1.11"))
                   .ttl(1)
                   .icmp(packet::kIcmpDestUnreachable, packet::kIcmpCodeHostUnreachable)
                   .payload(28)
                   .build();
  auto r = h.send(vm_a, frame);
  EXPECT_EQ(r.drop_reason, DropReason::TtlExpired);
  EXPECT_THAT(r.generated, IsEmpty());
}

TEST_F(RouterTest, NoIcmpErrorAboutLaterFragments) {
  build();
  auto frame = packet::PacketBuilder()
                   .eth(mac(kVmA), mac(kRa))
                   .ipv4(ip("10.0.0.11"), ip("10.0.1.11"))
                   .ttl(1)
                   .fragment(100, false)
                   .ipProto(packet::kIpProtoUdp)
                   .payload(40)
                   .build();
  auto r = h.send(vm_a, frame);
  EXPECT_EQ(r.drop_reason, DropReason::TtlExpired);
  EXPECT_THAT(r.generated, IsEmpty());
}

TEST_F(RouterTest, IcmpErrorIsSentAboutEchoRequests) {
  build();
  auto r = h.send(vm_a, testing::pingFrame(kVmA, kRa, "10.0.0.11", "10.0.1.11", 1, 1, 1));
  EXPECT_EQ(r.drop_reason, DropReason::TtlExpired);
  EXPECT_EQ(r.generated.size(), 1u);
}

TEST_F(RouterTest, FirstFragmentDroppedByInboundFilterGetsFragNeeded) {
  Uuid in = h.topo.chain("no-frags");
  h.topo.rule(in, v1::Rule::DROP, [](v1::Condition& c) {
    c.set_fragment_policy(v1::Condition::HEADER);
    c.set_nw_proto(packet::kIpProtoUdp);
  });
  h.topo.routerMsg(r1).set_inbound_filter_id(in.toString());
  h.topo.port(ra).set_mtu(1400);
  build();
  auto frame = packet::PacketBuilder()
                   .eth(mac(kVmA), mac(kRa))
                   .ipv4(ip("10.0.0.11"), ip("10.0.1.11"))
                   .fragment(0, true)
                   .udp(1, 2)
                   .payload(64)
                   .build();
  auto r = h.send(vm_a, frame);
  EXPECT_EQ(r.drop_reason, DropReason::FilterDrop);
  ASSERT_EQ(r.generated.size(), 1u) << SimHarness::traceText(r);
  auto icmp = parsed(r.generated[0]);
  EXPECT_EQ(icmp.fields.icmp_type, packet::kIcmpDestUnreachable);
  EXPECT_EQ(icmp.fields.icmp_code, packet::kIcmpCodeFragNeeded);
  // Next-hop MTU in the low 16 bits of the header's second word.
  EXPECT_EQ(
      (r.generated[0].frame[icmp.l4_offset + 6] << 8) | r.generated[0].frame[icmp.l4_offset + 7],
      1400);
}

TEST_F(RouterTest, AdminDownRouterDrops) {
  h.topo.routerMsg(r1).set_admin_state_up(false);
  build();
  EXPECT_EQ(h.send(vm_a, fromA("10.0.1.11")).drop_reason, DropReason::RouterAdminDown);
}

TEST_F(RouterTest, TaggedFrameAtARouterIsDropped) {
  build();
  auto frame = packet::PacketBuilder()
                   .eth(mac(kVmA), mac(kRa))
                   .vlan(10)
                   .ipv4(ip("10.0.0.11"), ip("10.0.1.11"))
                   .udp(1, 2)
                   .build();
  auto r = h.send(vm_a, frame);
  EXPECT_EQ(r.drop_reason, DropReason::VlanAtRouter) << SimHarness::traceText(r);
}

TEST_F(RouterTest, Ipv6IsNotRoutedYet) {
  build();
  auto frame = packet::PacketBuilder()
                   .eth(mac(kVmA), mac(kRa))
                   .ipv6(ip("fd00::11"), ip("fd00:1::11"))
                   .udp(1, 2)
                   .build();
  EXPECT_EQ(h.send(vm_a, frame).drop_reason, DropReason::Ipv6NotRouted);
}

// ---- Path MTU: the MTU of the router's egress port.

TEST_F(RouterTest, DfPacketLongerThanTheEgressMtuGetsFragNeeded) {
  h.topo.port(rb).set_mtu(1400);
  build();
  auto frame = sizedFromA(1500, /*df=*/true);
  auto r = h.send(vm_a, frame);
  EXPECT_EQ(r.outcome, Outcome::Drop);
  EXPECT_EQ(r.drop_reason, DropReason::FragmentationNeeded) << SimHarness::traceText(r);
  EXPECT_STREQ(sim::dropReasonName(r.drop_reason), "fragmentation_needed");
  EXPECT_FALSE(r.cacheable);  // Answers this packet; shorter ones of the flow pass.
  ASSERT_EQ(r.generated.size(), 1u) << SimHarness::traceText(r);
  const sim::GeneratedPacket& g = r.generated[0];
  EXPECT_EQ(g.port, ra);  // Back out of the ingress port...
  EXPECT_STREQ(g.what, "icmp_error");
  auto icmp = parsed(g);
  ASSERT_TRUE(icmp.ok());
  EXPECT_EQ(icmp.fields.eth_dst, mac(kVmA));  // ...to the sender...
  EXPECT_EQ(icmp.fields.eth_src, mac(kRa));
  EXPECT_EQ(icmp.fields.nw_src, ip("10.0.0.1"));  // ...from the ingress port's address.
  EXPECT_EQ(icmp.fields.nw_dst, ip("10.0.0.11"));
  EXPECT_EQ(icmp.fields.icmp_type, packet::kIcmpDestUnreachable);
  EXPECT_EQ(icmp.fields.icmp_code, packet::kIcmpCodeFragNeeded);
  EXPECT_EQ(nextHopMtu(g), 1400);
  // The quoted datagram is the one the router received: TTL not yet decremented.
  size_t quoted = size_t{icmp.l4_offset} + 8;
  ASSERT_GE(icmp.l3_end, quoted + 28);
  EXPECT_EQ(g.frame[quoted + 8], 64);
  EXPECT_EQ((g.frame[quoted + 2] << 8) | g.frame[quoted + 3], 1500);  // Its total length.
}

TEST_F(RouterTest, PacketLongerThanTheEgressMtuWithoutDfIsForwarded) {
  h.topo.port(rb).set_mtu(1400);
  build();
  auto r = h.send(vm_a, sizedFromA(1500, /*df=*/false));
  ASSERT_EQ(r.outcome, Outcome::Forward) << SimHarness::traceText(r);
  EXPECT_THAT(SimHarness::egressPorts(r), ElementsAre(vm_b));
  EXPECT_THAT(r.generated, IsEmpty());
  // The flow still covers only packets up to 1400 bytes: longer ones come up to the agent.
  EXPECT_EQ(r.path_mtu, 1400u);
  EXPECT_TRUE(r.cacheable);
}

TEST_F(RouterTest, PacketOfExactlyTheEgressMtuIsForwarded) {
  h.topo.port(rb).set_mtu(1400);
  build();
  auto r = h.send(vm_a, sizedFromA(1400, /*df=*/true));
  ASSERT_EQ(r.outcome, Outcome::Forward) << SimHarness::traceText(r);
  EXPECT_THAT(SimHarness::egressPorts(r), ElementsAre(vm_b));
  EXPECT_EQ(r.path_mtu, 1400u);
  EXPECT_TRUE(r.cacheable);
}

TEST_F(RouterTest, UnknownLengthIsNotCheckedButReportsThePathMtu) {
  h.topo.port(rb).set_mtu(1400);
  build();
  auto frame = sizedFromA(1500, /*df=*/true);
  sim::SimInput in;
  in.match = packet::flowMatchOf(packet::parsePacket(frame));
  in.port = vm_a;
  in.df = true;
  in.l3_len = 0;  // The caller gives only the flow key.
  auto r = h.simulator.simulate(in, *h.snap, h.state.view());
  ASSERT_EQ(r.outcome, Outcome::Forward) << SimHarness::traceText(r);
  EXPECT_EQ(r.path_mtu, 1400u);
  EXPECT_TRUE(r.cacheable);
}

TEST_F(RouterTest, PathMtuIsTheDefaultMtuOfTheEgressPort) {
  build();
  auto r = h.send(vm_a, sizedFromA(1500, /*df=*/true));
  ASSERT_EQ(r.outcome, Outcome::Forward) << SimHarness::traceText(r);
  EXPECT_EQ(r.path_mtu, 1500u);
}

TEST_F(RouterTest, BridgesDoNotLimitThePathMtu) {
  h.topo.port(vm_b).set_mtu(1000);  // A bridge port's MTU is not checked.
  Uuid vm_b2 = h.topo.vmPort(net_b, "vm-b2", "02:00:00:00:0b:02", "10.0.1.12");
  h.topo.port(vm_b2).set_mtu(1000);
  build();
  auto frame = packet::PacketBuilder()
                   .eth(mac("02:00:00:00:0b:02"), mac(kVmB))
                   .ipv4(ip("10.0.1.12"), ip("10.0.1.11"))
                   .dontFragment()
                   .udp(1, 2)
                   .payload(1472)
                   .build();
  auto r = h.send(vm_b2, frame);
  ASSERT_EQ(r.outcome, Outcome::Forward) << SimHarness::traceText(r);
  EXPECT_EQ(r.path_mtu, 0u);
}

TEST_F(RouterTest, NoFragNeededAboutLaterFragmentsButStillNotCached) {
  h.topo.port(rb).set_mtu(1400);
  build();
  auto frame = packet::PacketBuilder()
                   .eth(mac(kVmA), mac(kRa))
                   .ipv4(ip("10.0.0.11"), ip("10.0.1.11"))
                   .dontFragment()
                   .fragment(100, false)
                   .ipProto(packet::kIpProtoUdp)
                   .payload(1480)
                   .build();
  auto r = h.send(vm_a, frame);
  EXPECT_EQ(r.drop_reason, DropReason::FragmentationNeeded) << SimHarness::traceText(r);
  EXPECT_THAT(r.generated, IsEmpty());  // RFC 1812: no errors about later fragments.
  EXPECT_FALSE(r.cacheable);
}

// r1 -(mtu 1450)- r2 -(mtu 1300)- far: the path MTU is the smaller one, and a DF packet that
// passes r1 is refused by r2, which answers from its own ingress port.
TEST(RouterPathMtuTest, TwoRoutersInARowReportTheSmallestMtu) {
  SimHarness h;
  Uuid net = h.topo.bridge("net");
  Uuid vm = h.topo.vmPort(net, "vm", "02:00:00:00:00:01", "10.0.0.11");
  Uuid r1 = h.topo.router("r1");
  Uuid r2 = h.topo.router("r2");
  h.topo.attach(r1, net, "r1-a", "02:00:00:00:01:01", "10.0.0.1/24");
  Uuid r1l = h.topo.routerPort(r1, "r1-l", "02:00:00:00:01:02", "169.254.0.1/30");
  Uuid r2l = h.topo.routerPort(r2, "r2-l", "02:00:00:00:02:02", "169.254.0.2/30");
  h.topo.link(r1l, r2l);
  h.topo.port(r1l).set_mtu(1450);
  Uuid far = h.topo.bridge("far");
  Uuid vm2 = h.topo.vmPort(far, "vm2", "02:00:00:00:00:02", "10.9.0.11");
  Uuid r2f = h.topo.attach(r2, far, "r2-far", "02:00:00:00:02:01", "10.9.0.1/24");
  h.topo.port(r2f).set_mtu(1300);
  h.topo.route(r1, "10.9.0.0/16", r1l, "169.254.0.2");
  h.topo.route(r2, "10.0.0.0/16", r2l, "169.254.0.1");
  ASSERT_EQ(h.build(), "");
  auto sized = [](size_t l3_len) {
    return packet::PacketBuilder()
        .eth(mac("02:00:00:00:00:01"), mac("02:00:00:00:01:01"))
        .ipv4(ip("10.0.0.11"), ip("10.9.0.11"))
        .dontFragment()
        .udp(1, 2)
        .payload(l3_len - 28)
        .build();
  };

  auto r = h.send(vm, sized(1300));
  ASSERT_EQ(r.outcome, Outcome::Forward) << SimHarness::traceText(r);
  EXPECT_THAT(SimHarness::egressPorts(r), ElementsAre(vm2));
  EXPECT_EQ(r.path_mtu, 1300u);

  r = h.send(vm, sized(1400));
  EXPECT_EQ(r.drop_reason, DropReason::FragmentationNeeded) << SimHarness::traceText(r);
  EXPECT_EQ(r.path_mtu, 1300u);
  ASSERT_EQ(r.generated.size(), 1u);
  EXPECT_EQ(r.generated[0].port, r2l);  // Towards r1, which routes it back to vm.
  auto icmp = packet::parsePacket(r.generated[0].frame);
  EXPECT_EQ(icmp.fields.nw_src, ip("169.254.0.2"));
  EXPECT_EQ(icmp.fields.nw_dst, ip("10.0.0.11"));
  EXPECT_EQ(nextHopMtu(r.generated[0]), 1300);
}

// Two routers joined by a direct link: the next hop's MAC is the peer port's, no ARP.
TEST(RouterLinkTest, RouterToRouterLinkNeedsNoArp) {
  SimHarness h;
  Uuid net = h.topo.bridge("net");
  Uuid vm = h.topo.vmPort(net, "vm", "02:00:00:00:00:01", "10.0.0.11");
  Uuid r1 = h.topo.router("r1");
  Uuid r2 = h.topo.router("r2");
  Uuid r1a = h.topo.attach(r1, net, "r1-a", "02:00:00:00:01:01", "10.0.0.1/24");
  Uuid r1l = h.topo.routerPort(r1, "r1-l", "02:00:00:00:01:02", "169.254.0.1/30");
  Uuid r2l = h.topo.routerPort(r2, "r2-l", "02:00:00:00:02:02", "169.254.0.2/30");
  h.topo.link(r1l, r2l);
  Uuid far = h.topo.bridge("far");
  Uuid vm2 = h.topo.vmPort(far, "vm2", "02:00:00:00:00:02", "10.9.0.11");
  h.topo.attach(r2, far, "r2-far", "02:00:00:00:02:01", "10.9.0.1/24");
  h.topo.route(r1, "10.9.0.0/16", r1l, "169.254.0.2");
  ASSERT_EQ(h.build(), "");
  auto r = h.send(vm, testing::tcpFrame("02:00:00:00:00:01", "02:00:00:00:01:01", "10.0.0.11",
                                        "10.9.0.11", 1, 2, 64));
  ASSERT_EQ(r.outcome, Outcome::Forward) << SimHarness::traceText(r);
  EXPECT_THAT(SimHarness::egressPorts(r), ElementsAre(vm2));
  EXPECT_EQ(r.egress[0].fields.nw_ttl, 62);  // Two routers.
  EXPECT_EQ(r.egress[0].fields.eth_src, mac("02:00:00:00:02:01"));
  (void)r1a;
}

}  // namespace
}  // namespace loom
