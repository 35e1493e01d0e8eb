#include "packet/actions.h"

#include <gtest/gtest.h>

#include <random>

#include "packet/builder.h"
#include "packet/checksum.h"
#include "packet/parser.h"
#include "unit/packet/test_frames.h"

namespace loom::packet {
namespace {

using testing::eth;
using testing::ip;
using testing::kIp4A;
using testing::kIp4B;
using testing::kIp6A;
using testing::kIp6B;
using testing::kMacA;
using testing::kMacB;
using testing::mac;

SetField ethSrc(MacAddr m) { return SetField{.kind = SetFieldKind::EthSrc, .mac = m}; }
SetField ethDst(MacAddr m) { return SetField{.kind = SetFieldKind::EthDst, .mac = m}; }
SetField nwSrc(const IpAddr& a) { return SetField{.kind = SetFieldKind::NwSrc, .ip = a}; }
SetField nwDst(const IpAddr& a) { return SetField{.kind = SetFieldKind::NwDst, .ip = a}; }
SetField withValue(SetFieldKind kind, uint16_t v) { return SetField{.kind = kind, .value = v}; }

// True when the frame parses and every checksum it carries verifies.
bool checksumsOk(const std::vector<uint8_t>& frame) {
  ParsedPacket p = parsePacket(frame);
  if (!p.ok()) return false;
  if (p.fields.eth_type == kEthTypeIpv4 &&
      !ipv4HeaderChecksumOk(p.frame.subspan(p.l3_offset, p.ipv4_ihl * size_t{4}))) {
    return false;
  }
  return p.l4 == L4Kind::None || l4ChecksumOk(p);
}

TEST(SetField, ToStringNamesTheAction) {
  EXPECT_EQ(ethSrc(kMacA).toString(), "set(eth_src=02:00:00:00:00:01)");
  EXPECT_EQ(ethDst(kMacB).toString(), "set(eth_dst=02:00:00:00:00:02)");
  EXPECT_EQ(withValue(SetFieldKind::PushVlan, 10).toString(), "push_vlan(10)");
  EXPECT_EQ(SetField{.kind = SetFieldKind::PopVlan}.toString(), "pop_vlan");
  EXPECT_EQ(withValue(SetFieldKind::SetVlan, 20).toString(), "set(vlan=20)");
  EXPECT_EQ(nwSrc(kIp4A).toString(), "set(nw_src=10.0.0.1)");
  EXPECT_EQ(nwDst(kIp6B).toString(), "set(nw_dst=fd00:1::2)");
  EXPECT_EQ(withValue(SetFieldKind::NwTos, 4).toString(), "set(nw_tos=4)");
  EXPECT_EQ(withValue(SetFieldKind::NwTtl, 63).toString(), "set(nw_ttl=63)");
  EXPECT_EQ(withValue(SetFieldKind::TpSrc, 1).toString(), "set(tp_src=1)");
  EXPECT_EQ(withValue(SetFieldKind::TpDst, 2).toString(), "set(tp_dst=2)");
}

TEST(DiffFields, IdenticalFieldsNeedNoActions) {
  FlowFields f = parsePacket(testing::tcp4Frame()).fields;
  SetFieldList out;
  EXPECT_EQ(diffFields(f, f, out), 0u);
  EXPECT_TRUE(out.empty());
}

TEST(DiffFields, EmitsActionsInFixedOrderAndReturnsMask) {
  FlowFields before = parsePacket(testing::tcp4Frame()).fields;
  FlowFields after = before;
  after.tp_dst = 8080;
  after.nw_ttl = 63;
  after.nw_dst = ip("10.9.9.9");
  after.vlan_present = true;
  after.vlan_id = 7;
  after.eth_dst = mac("02:00:00:00:00:99");
  after.eth_src = mac("02:00:00:00:00:98");
  after.nw_tos = 4;
  after.nw_src = ip("10.8.8.8");
  after.tp_src = 1;
  SetFieldList out;
  FieldMask m = diffFields(before, after, out);
  std::vector<SetFieldKind> kinds;
  for (const SetField& a : out) kinds.push_back(a.kind);
  EXPECT_EQ(kinds, (std::vector<SetFieldKind>{
                       SetFieldKind::EthSrc, SetFieldKind::EthDst, SetFieldKind::PushVlan,
                       SetFieldKind::NwSrc, SetFieldKind::NwDst, SetFieldKind::NwTos,
                       SetFieldKind::NwTtl, SetFieldKind::TpSrc, SetFieldKind::TpDst}));
  EXPECT_EQ(fieldMaskToString(m), "eth_src,eth_dst,vlan,nw_src,nw_dst,nw_tos,nw_ttl,tp_src,tp_dst");
  EXPECT_EQ(out[2].value, 7);
  EXPECT_EQ(out[8].value, 8080);
}

TEST(DiffFields, IgnoresFieldsThatCannotBeRewritten) {
  FlowFields before = parsePacket(testing::tcp4Frame()).fields;
  FlowFields after = before;
  after.eth_type = kEthTypeIpv6;
  after.nw_proto = kIpProtoUdp;
  after.tcp_flags = kTcpRst;
  after.icmp_type = 3;
  after.arp_op = 2;
  after.nw_frag = FragType::Later;
  SetFieldList out;
  EXPECT_EQ(diffFields(before, after, out), 0u);
  EXPECT_TRUE(out.empty());
}

TEST(DiffFields, VlanPopAndRewrite) {
  FlowFields tagged;
  tagged.vlan_present = true;
  tagged.vlan_id = 10;
  FlowFields untagged;
  SetFieldList out;
  EXPECT_EQ(diffFields(tagged, untagged, out), fieldBit(Field::Vlan));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, SetFieldKind::PopVlan);
  FlowFields other = tagged;
  other.vlan_id = 11;
  out.clear();
  diffFields(tagged, other, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, SetFieldKind::SetVlan);
  EXPECT_EQ(out[0].value, 11);
}

TEST(ApplySetFields, RoutedTtlDecrementEqualsRebuiltFrame) {
  // The incremental checksum equals a recomputation, so the bytes match a fresh build.
  auto frame = eth().ipv4(kIp4A, kIp4B).ttl(64).tcp(1, 2).payload(9).build();
  const SetField actions[] = {ethSrc(mac("02:00:00:00:00:aa")), ethDst(mac("02:00:00:00:00:bb")),
                              withValue(SetFieldKind::NwTtl, 63)};
  ASSERT_TRUE(applySetFields(frame, actions));
  auto expected = PacketBuilder()
                      .eth(mac("02:00:00:00:00:aa"), mac("02:00:00:00:00:bb"))
                      .ipv4(kIp4A, kIp4B)
                      .ttl(63)
                      .tcp(1, 2)
                      .payload(9)
                      .build();
  EXPECT_EQ(frame, expected);
}

TEST(ApplySetFields, NatRewriteEqualsRebuiltFrame) {
  auto frame = eth().ipv4(kIp4A, kIp4B).udp(1000, 53).payload(13).build();
  const SetField actions[] = {nwSrc(ip("192.0.2.7")), withValue(SetFieldKind::TpSrc, 61000)};
  ASSERT_TRUE(applySetFields(frame, actions));
  EXPECT_EQ(frame, eth().ipv4(ip("192.0.2.7"), kIp4B).udp(61000, 53).payload(13).build());
}

TEST(ApplySetFields, PushVlanInsertsTagAfterMacs) {
  auto frame = testing::tcp4Frame();
  const SetField push[] = {withValue(SetFieldKind::PushVlan, 42)};
  ASSERT_TRUE(applySetFields(frame, push));
  ASSERT_EQ(frame.size(), 78u);
  EXPECT_EQ(frame[12], 0x81);
  EXPECT_EQ(frame[13], 0x00);
  EXPECT_EQ(frame[14], 0x00);
  EXPECT_EQ(frame[15], 42);
  EXPECT_EQ(frame[16], 0x08);
  ParsedPacket p = parsePacket(frame);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p.fields.vlan_present);
  EXPECT_EQ(p.fields.vlan_id, 42);
  EXPECT_TRUE(checksumsOk(frame));
}

TEST(ApplySetFields, PopVlanRemovesOuterTag) {
  auto frame = eth().vlan(100).vlan(10).ipv4(kIp4A, kIp4B).udp(1, 2).build();
  const SetField pop[] = {SetField{.kind = SetFieldKind::PopVlan}};
  ASSERT_TRUE(applySetFields(frame, pop));
  ParsedPacket p = parsePacket(frame);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.vlan_tags, 1);
  EXPECT_EQ(p.fields.vlan_id, 10);
  ASSERT_TRUE(applySetFields(frame, pop));
  EXPECT_EQ(frame, eth().ipv4(kIp4A, kIp4B).udp(1, 2).build());
}

TEST(ApplySetFields, SetVlanKeepsPriority) {
  auto frame = eth().vlan(10, 5).ipv4(kIp4A, kIp4B).udp(1, 2).build();
  const SetField set[] = {withValue(SetFieldKind::SetVlan, 20)};
  ASSERT_TRUE(applySetFields(frame, set));
  EXPECT_EQ(frame, eth().vlan(20, 5).ipv4(kIp4A, kIp4B).udp(1, 2).build());
}

TEST(ApplySetFields, ActionsThatDoNotApplyFail) {
  const SetField pop[] = {SetField{.kind = SetFieldKind::PopVlan}};
  const SetField set_vlan[] = {withValue(SetFieldKind::SetVlan, 3)};
  const SetField port[] = {withValue(SetFieldKind::TpSrc, 1)};
  const SetField v6_on_v4[] = {nwSrc(kIp6A)};
  const SetField v4_on_v6[] = {nwDst(kIp4A)};
  const SetField ttl_on_arp[] = {withValue(SetFieldKind::NwTtl, 3)};
  const SetField big_ttl[] = {withValue(SetFieldKind::NwTtl, 256)};
  const SetField push[] = {withValue(SetFieldKind::PushVlan, 3)};
  auto untagged = testing::tcp4Frame();
  EXPECT_FALSE(applySetFields(untagged, pop));
  untagged = testing::tcp4Frame();
  EXPECT_FALSE(applySetFields(untagged, set_vlan));
  auto icmp = testing::icmp4EchoFrame();
  EXPECT_FALSE(applySetFields(icmp, port));
  auto later = eth().ipv4(kIp4A, kIp4B).fragment(3, false).tcp(1, 2).build();
  EXPECT_FALSE(applySetFields(later, port));
  auto v4 = testing::tcp4Frame();
  EXPECT_FALSE(applySetFields(v4, v6_on_v4));
  auto v6 = testing::tcp6Frame();
  EXPECT_FALSE(applySetFields(v6, v4_on_v6));
  auto arp = testing::arpFrame();
  EXPECT_FALSE(applySetFields(arp, ttl_on_arp));
  v4 = testing::tcp4Frame();
  EXPECT_FALSE(applySetFields(v4, big_ttl));
  auto qinq = eth().vlan(1).vlan(2).ipv4(kIp4A, kIp4B).build();
  EXPECT_FALSE(applySetFields(qinq, push));
}

TEST(ApplySetFields, UnparseableFrameFails) {
  std::vector<uint8_t> junk(10, 0);
  const SetField actions[] = {ethSrc(kMacA)};
  EXPECT_FALSE(applySetFields(junk, actions));
  auto bad = testing::tcp4Frame();
  bad[14] = 0x44;  // IHL 4.
  EXPECT_FALSE(applySetFields(bad, actions));
}

TEST(ApplySetFields, EmptyActionListOnlyChecksParse) {
  auto frame = testing::tcp4Frame();
  auto copy = frame;
  EXPECT_TRUE(applySetFields(frame, {}));
  EXPECT_EQ(frame, copy);
}

TEST(ApplySetFields, ZeroUdpChecksumStaysZero) {
  auto frame = testing::udp4Frame();
  frame[40] = frame[41] = 0;
  const SetField actions[] = {nwDst(ip("10.7.7.7")), withValue(SetFieldKind::TpDst, 5353)};
  ASSERT_TRUE(applySetFields(frame, actions));
  EXPECT_EQ(frame[40], 0);
  EXPECT_EQ(frame[41], 0);
  EXPECT_TRUE(checksumsOk(frame));
}

TEST(ApplySetFields, ZeroUdpChecksumOverIpv6StaysZero) {
  auto frame = testing::udp6Frame();
  const size_t csum = 14 + 40 + 6;
  frame[csum] = frame[csum + 1] = 0;
  const SetField actions[] = {nwSrc(ip("fd00::99")), withValue(SetFieldKind::TpSrc, 7)};
  ASSERT_TRUE(applySetFields(frame, actions));
  EXPECT_EQ(frame[csum], 0);
  EXPECT_EQ(frame[csum + 1], 0);
  EXPECT_FALSE(l4ChecksumOk(parsePacket(frame)));
}

TEST(ApplySetFields, Ipv6AddressRewriteUpdatesIcmpv6Checksum) {
  auto frame = testing::icmp6EchoFrame();
  const SetField actions[] = {nwSrc(ip("2001:db8::77")), nwDst(ip("2001:db8:1::88")),
                              withValue(SetFieldKind::NwTtl, 1)};
  ASSERT_TRUE(applySetFields(frame, actions));
  EXPECT_TRUE(checksumsOk(frame));
  EXPECT_EQ(frame, eth()
                       .ipv6(ip("2001:db8::77"), ip("2001:db8:1::88"))
                       .ttl(1)
                       .icmpEcho(true, 0x77, 3)
                       .payload(8)
                       .build());
}

TEST(ApplySetFields, Ipv6TrafficClassAndHopLimit) {
  auto frame = testing::udp6Frame();
  const SetField actions[] = {withValue(SetFieldKind::NwTos, 0xb8),
                              withValue(SetFieldKind::NwTtl, 7)};
  ASSERT_TRUE(applySetFields(frame, actions));
  ParsedPacket p = parsePacket(frame);
  EXPECT_EQ(p.fields.nw_tos, 0xb8);
  EXPECT_EQ(p.fields.nw_ttl, 7);
  EXPECT_EQ(frame, eth().ipv6(kIp6A, kIp6B).tos(0xb8).ttl(7).udp(5000, 53).payload(10).build());
}

TEST(ApplySetFields, LaterFragmentAddressRewriteKeepsHeaderChecksum) {
  auto frame = eth().ipv4(kIp4A, kIp4B).fragment(3, false).udp(1, 2).payload(8).build();
  const SetField actions[] = {nwSrc(ip("10.1.1.1")), withValue(SetFieldKind::NwTos, 8)};
  ASSERT_TRUE(applySetFields(frame, actions));
  EXPECT_TRUE(checksumsOk(frame));
  EXPECT_EQ(parsePacket(frame).fields.nw_src, ip("10.1.1.1"));
}

// A base frame with FlowFields that describe it, for the round-trip test.
struct Base {
  const char* name;
  std::vector<uint8_t> frame;
};

std::vector<Base> roundTripBases() {
  return {
      {"tcp4", testing::tcp4Frame()},
      {"udp4", testing::udp4Frame()},
      {"icmp4", testing::icmp4EchoFrame()},
      {"tcp6", testing::tcp6Frame()},
      {"udp6", testing::udp6Frame()},
      {"icmp6", testing::icmp6EchoFrame()},
      {"vlan_tcp4", eth().vlan(10).ipv4(kIp4A, kIp4B).tcp(1, 2).tcpFlags(kTcpAck).build()},
      {"qinq_udp6", eth().vlan(100).vlan(10).ipv6(kIp6A, kIp6B).udp(1, 2).payload(3).build()},
      {"ipv4_options_udp",
       eth().ipv4(kIp4A, kIp4B).ipv4Options(std::vector<uint8_t>{1, 1, 1, 0}).udp(3, 4).build()},
      {"ipv6_ext_tcp",
       eth().ipv6(kIp6A, kIp6B).ipv6ExtHeader(0).ipv6ExtHeader(60).tcp(5, 6).build()},
      {"padded_udp4", eth().ipv4(kIp4A, kIp4B).udp(7, 8).padToMinimum().build()},
  };
}

// Random rewrites of the rewritable fields that keep the frame's family and protocol. Popping
// the outer of two tags exposes the inner one, so QinQ frames only get their outer id rewritten.
FlowFields mutate(FlowFields f, bool can_pop, std::mt19937& rng) {
  auto coin = [&] { return rng() % 2 == 0; };
  if (coin()) f.eth_src = MacAddr::fromU64((uint64_t{rng()} << 16) & ~(uint64_t{1} << 40));
  if (coin()) f.eth_dst = MacAddr::fromU64(rng());
  if (coin()) {
    f.vlan_present = !f.vlan_present || !can_pop || coin();
    f.vlan_id = f.vlan_present ? static_cast<uint16_t>(rng() % 4095) : 0;
  }
  bool v4 = f.eth_type == kEthTypeIpv4;
  auto randomIp = [&] {
    if (v4) return IpAddr::v4(rng());
    uint8_t b[16];
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    return IpAddr::v6Bytes(b);
  };
  if (coin()) f.nw_src = randomIp();
  if (coin()) f.nw_dst = randomIp();
  if (coin()) f.nw_tos = static_cast<uint8_t>(rng());
  if (coin()) f.nw_ttl = static_cast<uint8_t>(rng());
  bool ports = f.nw_proto == kIpProtoTcp || f.nw_proto == kIpProtoUdp;
  if (ports && coin()) f.tp_src = static_cast<uint16_t>(rng());
  if (ports && coin()) f.tp_dst = static_cast<uint16_t>(rng());
  return f;
}

TEST(ApplySetFields, DiffThenApplyRoundTripsWithValidChecksums) {
  std::mt19937 rng(2024);
  for (const Base& base : roundTripBases()) {
    ParsedPacket parsed = parsePacket(base.frame);
    ASSERT_TRUE(parsed.ok()) << base.name;
    const FlowFields before = parsed.fields;
    for (int i = 0; i < 300; ++i) {
      FlowFields after = mutate(before, parsed.vlan_tags < 2, rng);
      SetFieldList actions;
      diffFields(before, after, actions);
      std::vector<uint8_t> frame = base.frame;
      ASSERT_TRUE(applySetFields(frame, actions)) << base.name;
      ParsedPacket p = parsePacket(frame);
      ASSERT_TRUE(p.ok()) << base.name;
      ASSERT_EQ(p.fields, after) << base.name << "\n"
                                 << FlowMatch(p.fields).toString() << "\n"
                                 << FlowMatch(after).toString();
      ASSERT_TRUE(checksumsOk(frame)) << base.name << " after " << actions.size() << " actions";
    }
  }
}

}  // namespace
}  // namespace loom::packet
