// Chains: every condition field and its inversion, the whole-condition inversion, fragment
// policies, jump/return, reject, connection tracking, missing objects.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "packet/builder.h"
#include "packet/parser.h"
#include "support/topo_builder.h"

namespace loom {
namespace {

using sim::DropReason;
using sim::Outcome;
using ::testing::ElementsAre;
using testing::ip;
using ::testing::IsEmpty;
using testing::mac;
using testing::SimHarness;

constexpr const char* kMacA = "02:00:00:00:00:0a";  // p1, 10.0.0.1
constexpr const char* kMacB = "02:00:00:00:00:0b";  // p2, 10.0.0.2
constexpr const char* kMacC = "02:00:00:00:00:0c";  // p3, 10.0.0.3

// A packet description; defaults are UDP 10.0.0.1:1000 -> 10.0.0.2:2000 from p1 to p2.
struct Pkt {
  int from = 1;  // Ingress port p1 or p3.
  const char* src_mac = kMacA;
  const char* dst_mac = kMacB;
  const char* src_ip = "10.0.0.1";
  const char* dst_ip = "10.0.0.2";
  uint8_t proto = packet::kIpProtoUdp;
  uint16_t sport = 1000;
  uint16_t dport = 2000;
  uint8_t tos = 0;
  int frag = 0;  // 0 none, 1 first, 2 later.
  bool v6 = false;
  uint8_t icmp_type = packet::kIcmpEchoRequest;
  uint8_t icmp_code = 0;

  std::vector<uint8_t> frame() const {
    packet::PacketBuilder b;
    b.eth(mac(src_mac), mac(dst_mac));
    if (v6) {
      b.ipv6(ip("fd00::1"), ip("fd00::2"));
    } else {
      b.ipv4(ip(src_ip), ip(dst_ip));
    }
    b.tos(tos);
    if (frag == 1) b.fragment(0, true);
    if (frag == 2) {
      b.fragment(10, false).ipProto(proto).payload(16);
      return b.build();
    }
    if (proto == packet::kIpProtoTcp) b.tcp(sport, dport);
    if (proto == packet::kIpProtoUdp) b.udp(sport, dport);
    if (proto == packet::kIpProtoIcmp) b.icmp(icmp_type, icmp_code, 0x00070001);
    return b.payload(16).build();
  }
};

struct ConditionCase {
  const char* name;
  // Sets the condition; the ports and groups of the fixture are passed in.
  std::function<void(v1::Condition&, const struct Fixture&)> set;
  std::function<void(v1::Condition&)> invert_field;  // Null: no per-field inversion.
  Pkt matching;
  Pkt other;
};

struct Fixture {
  Uuid p1, p2, p3, group_p1, group_p2, addrs_src, addrs_dst;
};

void PrintTo(const ConditionCase& c, std::ostream* os) { *os << c.name; }

std::vector<ConditionCase> cases() {
  using C = v1::Condition;
  return {
      {"in_ports", [](C& c, const Fixture& f) { c.add_in_port_ids(f.p1.toString()); },
       [](C& c) { c.set_inv_in_ports(true); }, Pkt{}, Pkt{.from = 3, .src_mac = kMacC}},
      {"out_ports", [](C& c, const Fixture& f) { c.add_out_port_ids(f.p2.toString()); },
       [](C& c) { c.set_inv_out_ports(true); }, Pkt{}, Pkt{.dst_mac = kMacC}},
      {"in_port_group",
       [](C& c, const Fixture& f) { c.set_in_port_group_id(f.group_p1.toString()); },
       [](C& c) { c.set_inv_in_port_group(true); }, Pkt{}, Pkt{.from = 3, .src_mac = kMacC}},
      {"out_port_group",
       [](C& c, const Fixture& f) { c.set_out_port_group_id(f.group_p2.toString()); },
       [](C& c) { c.set_inv_out_port_group(true); }, Pkt{}, Pkt{.dst_mac = kMacC}},
      {"dl_src", [](C& c, const Fixture&) { c.set_dl_src(kMacA); },
       [](C& c) { c.set_inv_dl_src(true); }, Pkt{}, Pkt{.src_mac = "02:00:00:00:00:99"}},
      {"dl_src_masked",
       [](C& c, const Fixture&) {
         c.set_dl_src("02:00:00:00:00:00");
         c.set_dl_src_mask("ff:00:00:00:00:00");
       },
       [](C& c) { c.set_inv_dl_src(true); }, Pkt{.src_mac = "02:00:00:00:00:99"},
       Pkt{.src_mac = "06:00:00:00:00:0a"}},
      {"dl_dst", [](C& c, const Fixture&) { c.set_dl_dst(kMacB); },
       [](C& c) { c.set_inv_dl_dst(true); }, Pkt{}, Pkt{.dst_mac = kMacC}},
      {"ethertype", [](C& c, const Fixture&) { c.set_ethertype(0x0800); },
       [](C& c) { c.set_inv_ethertype(true); }, Pkt{}, Pkt{.v6 = true}},
      {"nw_src", [](C& c, const Fixture&) { c.set_nw_src("10.0.0.0/31"); },
       [](C& c) { c.set_inv_nw_src(true); }, Pkt{}, Pkt{.src_ip = "10.0.0.5"}},
      {"nw_dst", [](C& c, const Fixture&) { c.set_nw_dst("10.0.0.2/32"); },
       [](C& c) { c.set_inv_nw_dst(true); }, Pkt{}, Pkt{.dst_ip = "10.0.0.9"}},
      {"ip_addr_group_src",
       [](C& c, const Fixture& f) { c.set_ip_addr_group_src_id(f.addrs_src.toString()); },
       [](C& c) { c.set_inv_ip_addr_group_src(true); }, Pkt{}, Pkt{.src_ip = "10.0.0.5"}},
      {"ip_addr_group_dst",
       [](C& c, const Fixture& f) { c.set_ip_addr_group_dst_id(f.addrs_dst.toString()); },
       [](C& c) { c.set_inv_ip_addr_group_dst(true); }, Pkt{}, Pkt{.dst_ip = "10.0.0.9"}},
      {"nw_proto", [](C& c, const Fixture&) { c.set_nw_proto(packet::kIpProtoUdp); },
       [](C& c) { c.set_inv_nw_proto(true); }, Pkt{}, Pkt{.proto = packet::kIpProtoTcp}},
      {"nw_tos", [](C& c, const Fixture&) { c.set_nw_tos(0x10); },
       [](C& c) { c.set_inv_nw_tos(true); }, Pkt{.tos = 0x10}, Pkt{}},
      {"tp_src_range",
       [](C& c, const Fixture&) {
         c.mutable_tp_src()->set_start(1000);
         c.mutable_tp_src()->set_end(1010);
       },
       [](C& c) { c.set_inv_tp_src(true); }, Pkt{.sport = 1005}, Pkt{.sport = 1011}},
      {"tp_dst", [](C& c, const Fixture&) { c.mutable_tp_dst()->set_start(2000); },
       [](C& c) { c.set_inv_tp_dst(true); }, Pkt{}, Pkt{.dport = 2001}},
      {"icmp_type", [](C& c, const Fixture&) { c.set_icmp_type(packet::kIcmpEchoRequest); },
       [](C& c) { c.set_inv_icmp_type(true); }, Pkt{.proto = packet::kIpProtoIcmp},
       Pkt{.proto = packet::kIpProtoIcmp, .icmp_type = packet::kIcmpEchoReply}},
      {"icmp_code", [](C& c, const Fixture&) { c.set_icmp_code(3); },
       [](C& c) { c.set_inv_icmp_code(true); },
       Pkt{.proto = packet::kIpProtoIcmp, .icmp_type = 3, .icmp_code = 3},
       Pkt{.proto = packet::kIpProtoIcmp, .icmp_type = 3, .icmp_code = 1}},
      {"fragment_header", [](C& c, const Fixture&) { c.set_fragment_policy(C::HEADER); }, nullptr,
       Pkt{.frag = 1}, Pkt{.frag = 2}},
      {"fragment_nonheader", [](C& c, const Fixture&) { c.set_fragment_policy(C::NONHEADER); },
       nullptr, Pkt{.frag = 2}, Pkt{}},
      {"fragment_unfragmented",
       [](C& c, const Fixture&) { c.set_fragment_policy(C::UNFRAGMENTED); }, nullptr, Pkt{},
       Pkt{.frag = 1}},
      {"l4_condition_skips_later_fragments",
       [](C& c, const Fixture&) { c.mutable_tp_dst()->set_start(2000); }, nullptr, Pkt{},
       Pkt{.frag = 2}},
  };
}

// A bridge with three ports; the rule under test drops in the bridge's outbound filter.
class ConditionTest : public ::testing::TestWithParam<ConditionCase> {
 protected:
  void build(const std::function<void(v1::Condition&)>& extra) {
    Uuid br = h.topo.bridge("br");
    f.p1 = h.topo.vmPort(br, "p1", kMacA, "10.0.0.1");
    f.p2 = h.topo.vmPort(br, "p2", kMacB, "10.0.0.2");
    f.p3 = h.topo.vmPort(br, "p3", kMacC, "10.0.0.3");
    f.group_p1 = h.topo.portGroup("g1", {f.p1});
    f.group_p2 = h.topo.portGroup("g2", {f.p2});
    f.addrs_src = h.topo.ipAddrGroup("src", {"10.0.0.1"});
    f.addrs_dst = h.topo.ipAddrGroup("dst", {"10.0.0.0/30"});
    Uuid chain = h.topo.chain("filter");
    h.topo.rule(chain, v1::Rule::DROP, [&](v1::Condition& c) {
      GetParam().set(c, f);
      if (extra) extra(c);
    });
    h.topo.bridgeMsg(br).set_outbound_filter_id(chain.toString());
    ASSERT_EQ(h.build(), "");
  }
  sim::SimResult send(const Pkt& p) { return h.send(p.from == 1 ? f.p1 : f.p3, p.frame()); }
  static bool dropped(const sim::SimResult& r) {
    return r.outcome == Outcome::Drop && r.drop_reason == DropReason::FilterDrop;
  }

  SimHarness h;
  Fixture f;
};

TEST_P(ConditionTest, MatchingPacketIsDropped) {
  build(nullptr);
  auto r = send(GetParam().matching);
  EXPECT_TRUE(dropped(r)) << SimHarness::traceText(r);
}

TEST_P(ConditionTest, OtherPacketPasses) {
  build(nullptr);
  auto r = send(GetParam().other);
  EXPECT_EQ(r.outcome, Outcome::Forward) << SimHarness::traceText(r);
}

// Fields with their own inversion flag (the fragment policy has none).
class InvertibleFieldTest : public ConditionTest {};

TEST_P(InvertibleFieldTest, InvertedFieldFlipsTheOutcome) {
  build(GetParam().invert_field);
  EXPECT_EQ(send(GetParam().matching).outcome, Outcome::Forward);
  EXPECT_TRUE(dropped(send(GetParam().other)));
}

TEST_P(ConditionTest, InvertedConditionFlipsTheOutcome) {
  build([](v1::Condition& c) { c.set_invert(true); });
  EXPECT_EQ(send(GetParam().matching).outcome, Outcome::Forward);
  EXPECT_TRUE(dropped(send(GetParam().other)));
}

std::string caseName(const ::testing::TestParamInfo<ConditionCase>& i) { return i.param.name; }

std::vector<ConditionCase> invertibleCases() {
  std::vector<ConditionCase> out;
  for (ConditionCase& c : cases()) {
    if (c.invert_field) out.push_back(std::move(c));
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(EveryField, ConditionTest, ::testing::ValuesIn(cases()), caseName);
INSTANTIATE_TEST_SUITE_P(EveryField, InvertibleFieldTest, ::testing::ValuesIn(invertibleCases()),
                         caseName);

// Chains on a single bridge: p1 and p2.
class ChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    br = h.topo.bridge("br");
    p1 = h.topo.vmPort(br, "p1", kMacA, "10.0.0.1");
    p2 = h.topo.vmPort(br, "p2", kMacB, "10.0.0.2");
  }
  std::vector<uint8_t> tcp(uint16_t dport, bool from_p1 = true) {
    return from_p1 ? testing::tcpFrame(kMacA, kMacB, "10.0.0.1", "10.0.0.2", 40000, dport)
                   : testing::tcpFrame(kMacB, kMacA, "10.0.0.2", "10.0.0.1", dport, 40000);
  }
  SimHarness h;
  Uuid br, p1, p2;
};

TEST_F(ChainTest, JumpThenReturnContinuesInTheCaller) {
  Uuid main = h.topo.chain("main");
  Uuid sub = h.topo.chain("sub");
  h.topo.rule(sub, v1::Rule::RETURN, [](v1::Condition& c) {
    c.set_nw_proto(packet::kIpProtoTcp);
    c.mutable_tp_dst()->set_start(22);
  });
  h.topo.rule(sub, v1::Rule::DROP);
  h.topo.rule(main, v1::Rule::JUMP, nullptr, sub);
  h.topo.rule(main, v1::Rule::DROP, [](v1::Condition& c) {
    c.mutable_tp_dst()->set_start(22);
    c.set_nw_proto(packet::kIpProtoTcp);
    c.set_inv_tp_dst(true);
  });
  h.topo.port(p2).set_outbound_filter_id(main.toString());
  ASSERT_EQ(h.build(), "");
  auto ssh = h.send(p1, tcp(22));
  EXPECT_EQ(ssh.outcome, Outcome::Forward) << SimHarness::traceText(ssh);
  auto web = h.send(p1, tcp(80));
  EXPECT_EQ(web.drop_reason, DropReason::FilterDrop) << SimHarness::traceText(web);
  EXPECT_TRUE(web.hasTag(sim::FlowTag::device(sub)));
}

TEST_F(ChainTest, AcceptInAJumpedChainEndsEvaluation) {
  Uuid main = h.topo.chain("main");
  Uuid sub = h.topo.chain("sub");
  h.topo.rule(sub, v1::Rule::ACCEPT);
  h.topo.rule(main, v1::Rule::JUMP, nullptr, sub);
  h.topo.rule(main, v1::Rule::DROP);
  h.topo.port(p2).set_outbound_filter_id(main.toString());
  ASSERT_EQ(h.build(), "");
  EXPECT_EQ(h.send(p1, tcp(80)).outcome, Outcome::Forward);
}

TEST_F(ChainTest, ContinueGoesOnToTheNextRule) {
  Uuid c = h.topo.chain("c");
  h.topo.rule(c, v1::Rule::CONTINUE);
  h.topo.rule(c, v1::Rule::DROP);
  h.topo.port(p2).set_inbound_filter_id(c.toString());
  h.topo.port(p1).set_inbound_filter_id(c.toString());
  ASSERT_EQ(h.build(), "");
  EXPECT_EQ(h.send(p1, tcp(80)).drop_reason, DropReason::FilterDrop);
}

TEST_F(ChainTest, JumpCycleIsBoundedAndReported) {
  Uuid a = h.topo.chain("a");
  Uuid b = h.topo.chain("b");
  h.topo.rule(a, v1::Rule::JUMP, nullptr, b);
  h.topo.rule(b, v1::Rule::JUMP, nullptr, a);
  h.topo.port(p1).set_inbound_filter_id(a.toString());
  std::string problems = h.build();
  EXPECT_NE(problems.find("jump"), std::string::npos) << problems;
  auto r = h.send(p1, tcp(80));
  EXPECT_EQ(r.outcome, Outcome::Drop);
  EXPECT_EQ(r.drop_reason, DropReason::ChainDepthExceeded);
}

TEST_F(ChainTest, RejectOnABridgePortAnswersAsTheDestination) {
  Uuid c = h.topo.chain("c");
  h.topo.rule(c, v1::Rule::REJECT);
  h.topo.port(p2).set_outbound_filter_id(c.toString());
  ASSERT_EQ(h.build(), "");
  auto r = h.send(p1, tcp(80));
  EXPECT_EQ(r.drop_reason, DropReason::FilterReject);
  ASSERT_EQ(r.generated.size(), 1u);
  EXPECT_EQ(r.generated[0].port, p1);
  auto icmp = packet::parsePacket(r.generated[0].frame);
  EXPECT_EQ(icmp.fields.icmp_type, packet::kIcmpDestUnreachable);
  EXPECT_EQ(icmp.fields.icmp_code, packet::kIcmpCodeAdminProhibited);
  EXPECT_EQ(icmp.fields.nw_src, ip("10.0.0.2"));
  EXPECT_EQ(icmp.fields.eth_src, mac(kMacB));
  EXPECT_EQ(icmp.fields.eth_dst, mac(kMacA));
}

TEST_F(ChainTest, StatefulPortRecognisesRepliesToItsOwnConnections) {
  // p1's outbound filter (towards p1) lets in only replies to p1's own connections. Nothing on
  // p1's outgoing path tests conntrack, but the port tracks connections because one of its
  // chains does.
  Uuid c = h.topo.chain("stateful");
  h.topo.rule(c, v1::Rule::ACCEPT,
              [](v1::Condition& cond) { cond.set_conntrack(v1::Condition::RETURN_FLOW); });
  h.topo.rule(c, v1::Rule::DROP);
  h.topo.port(p1).set_outbound_filter_id(c.toString());
  ASSERT_EQ(h.build(), "");

  auto unsolicited = h.send(p2, tcp(22, /*from_p1=*/false));
  EXPECT_EQ(unsolicited.drop_reason, DropReason::FilterDrop);

  auto open = h.send(p1, tcp(22));
  ASSERT_EQ(open.outcome, Outcome::Forward);
  int installs = 0;
  for (const auto& w : open.writes) installs += std::holds_alternative<state::ConntrackInstall>(w);
  EXPECT_EQ(installs, 2) << SimHarness::traceText(open);
  auto reply = h.send(p2, tcp(22, /*from_p1=*/false));
  EXPECT_EQ(reply.outcome, Outcome::Forward) << SimHarness::traceText(reply);
}

TEST_F(ChainTest, StatelessPortsLeaveNoConntrackState) {
  ASSERT_EQ(h.build(), "");
  auto open = h.send(p1, tcp(22));
  ASSERT_EQ(open.outcome, Outcome::Forward);
  EXPECT_THAT(open.writes, IsEmpty());
  EXPECT_EQ(open.mask & packet::fieldBit(packet::Field::TpSrc), 0u);
}

TEST_F(ChainTest, ConntrackForwardFlowInstallsReturnEntryAndReplyPasses) {
  Uuid out = h.topo.chain("p1-out");
  h.topo.rule(out, v1::Rule::ACCEPT,
              [](v1::Condition& cond) { cond.set_conntrack(v1::Condition::RETURN_FLOW); });
  h.topo.rule(out, v1::Rule::DROP);
  h.topo.port(p1).set_outbound_filter_id(out.toString());
  // p1's inbound filter marks its connections: a forward-flow condition.
  Uuid in = h.topo.chain("p1-in");
  h.topo.rule(in, v1::Rule::ACCEPT,
              [](v1::Condition& cond) { cond.set_conntrack(v1::Condition::FORWARD_FLOW); });
  h.topo.port(p1).set_inbound_filter_id(in.toString());
  ASSERT_EQ(h.build(), "");

  auto open = h.send(p1, tcp(22));
  ASSERT_EQ(open.outcome, Outcome::Forward) << SimHarness::traceText(open);
  int installs = 0;
  for (const auto& w : open.writes) installs += std::holds_alternative<state::ConntrackInstall>(w);
  EXPECT_EQ(installs, 2);

  auto reply = h.send(p2, tcp(22, /*from_p1=*/false));
  EXPECT_EQ(reply.outcome, Outcome::Forward) << SimHarness::traceText(reply);
  // The reply's flow depends on the conntrack key it found.
  bool tagged = false;
  for (const auto& t : reply.tags) tagged |= t.kind == sim::TagKind::Conntrack;
  EXPECT_TRUE(tagged);

  // Another connection from p2 is still refused.
  auto other = h.send(p2, testing::tcpFrame(kMacB, kMacA, "10.0.0.2", "10.0.0.1", 22, 40001));
  EXPECT_EQ(other.drop_reason, DropReason::FilterDrop);
}

TEST_F(ChainTest, ConntrackEntriesAreNotInstalledForDroppedPackets) {
  Uuid in = h.topo.chain("in");
  h.topo.rule(in, v1::Rule::DROP,
              [](v1::Condition& cond) { cond.set_conntrack(v1::Condition::FORWARD_FLOW); });
  h.topo.port(p1).set_inbound_filter_id(in.toString());
  ASSERT_EQ(h.build(), "");
  auto r = h.send(p1, tcp(22));
  EXPECT_EQ(r.drop_reason, DropReason::FilterDrop);
  EXPECT_EQ(h.state.conntrack.size(), 0u);
}

TEST_F(ChainTest, MissingChainIsNotReady) {
  Uuid ghost(0xf000000000004000ULL, 0x8000000000000999ULL);
  h.topo.port(p2).set_outbound_filter_id(ghost.toString());
  h.build();  // Reports the dangling reference.
  auto r = h.send(p1, tcp(80));
  EXPECT_EQ(r.outcome, Outcome::NotReady);
  EXPECT_EQ(r.not_ready.object_kind, model::ObjectKind::Chain);
  EXPECT_EQ(r.not_ready.object_id, ghost);
  EXPECT_THAT(r.egress, IsEmpty());
}

TEST_F(ChainTest, MissingRuleMakesItsChainNotReady) {
  Uuid c = h.topo.chain("c");
  h.topo.rule(c, v1::Rule::ACCEPT);
  h.topo.topology().mutable_chains(0)->add_rule_ids("f1000000-0000-4000-8000-000000000bad");
  h.topo.port(p2).set_outbound_filter_id(c.toString());
  h.build();
  auto r = h.send(p1, tcp(80));
  EXPECT_EQ(r.outcome, Outcome::NotReady);
  EXPECT_EQ(r.not_ready.object_kind, model::ObjectKind::Rule);
}

TEST_F(ChainTest, MissingAddressGroupIsNotReady) {
  Uuid c = h.topo.chain("c");
  h.topo.rule(c, v1::Rule::DROP, [](v1::Condition& cond) {
    cond.set_ip_addr_group_src_id("91000000-0000-4000-8000-000000000bad");
  });
  h.topo.port(p2).set_outbound_filter_id(c.toString());
  h.build();
  auto r = h.send(p1, tcp(80));
  EXPECT_EQ(r.outcome, Outcome::NotReady);
  EXPECT_EQ(r.not_ready.object_kind, model::ObjectKind::IpAddrGroup);
}

TEST_F(ChainTest, RuleConditionsWidenTheMegaflowOnlyByWhatTheyRead) {
  Uuid c = h.topo.chain("c");
  h.topo.rule(c, v1::Rule::DROP, [](v1::Condition& cond) {
    cond.set_nw_proto(packet::kIpProtoTcp);
    cond.mutable_tp_dst()->set_start(23);
  });
  h.topo.port(p2).set_outbound_filter_id(c.toString());
  ASSERT_EQ(h.build(), "");
  auto udp = h.send(p1, testing::udpFrame(kMacA, kMacB, "10.0.0.1", "10.0.0.2", 1, 2));
  using packet::Field;
  using packet::fieldBit;
  // The protocol test failed first: ports were never read.
  EXPECT_EQ(udp.mask & (fieldBit(Field::TpDst) | fieldBit(Field::TpSrc)), 0u)
      << packet::fieldMaskToString(udp.mask);
  EXPECT_NE(udp.mask & fieldBit(Field::NwProto), 0u);
  auto tcp80 = h.send(p1, tcp(80));
  EXPECT_NE(tcp80.mask & fieldBit(Field::TpDst), 0u);
  EXPECT_EQ(tcp80.mask & fieldBit(Field::TpSrc), 0u);
}

}  // namespace
}  // namespace loom
