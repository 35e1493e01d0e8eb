#include "packet/flow_match.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>
#include <set>

#include "unit/packet/test_frames.h"

namespace loom::packet {
namespace {

using testing::kIp4A;
using testing::kIp4B;
using testing::kIp6A;
using testing::kIp6B;
using testing::kMacA;
using testing::kMacB;

FieldMask bits(std::initializer_list<Field> fields) {
  FieldMask m = 0;
  for (Field f : fields) m |= fieldBit(f);
  return m;
}

FlowFields tcpFields() {
  FlowFields f;
  f.eth_src = kMacA;
  f.eth_dst = kMacB;
  f.eth_type = kEthTypeIpv4;
  f.nw_src = kIp4A;
  f.nw_dst = kIp4B;
  f.nw_proto = kIpProtoTcp;
  f.nw_ttl = 64;
  f.tp_src = 1234;
  f.tp_dst = 80;
  return f;
}

FlowFields reversed(FlowFields f) {
  std::swap(f.nw_src, f.nw_dst);
  std::swap(f.tp_src, f.tp_dst);
  std::swap(f.eth_src, f.eth_dst);
  return f;
}

TEST(FlowMatch, FieldNamesAreDistinctSnakeCase) {
  std::set<std::string> names;
  for (int i = 0; i < static_cast<int>(Field::Count); ++i) {
    std::string name = fieldName(static_cast<Field>(i));
    EXPECT_NE(name, "unknown");
    for (char c : name) EXPECT_TRUE((c >= 'a' && c <= 'z') || c == '_') << name;
    names.insert(name);
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(Field::Count));
  EXPECT_STREQ(fieldName(Field::EthSrc), "eth_src");
  EXPECT_STREQ(fieldName(Field::NwDst), "nw_dst");
  EXPECT_STREQ(fieldName(Field::TpSrc), "tp_src");
  EXPECT_STREQ(fieldName(Field::IcmpType), "icmp_type");
  EXPECT_STREQ(fieldName(Field::ArpTpa), "arp_tpa");
  EXPECT_STREQ(fieldName(Field::TcpFlags), "tcp_flags");
}

TEST(FlowMatch, FieldMaskToStringUsesEnumOrder) {
  EXPECT_EQ(fieldMaskToString(0), "");
  EXPECT_EQ(fieldMaskToString(bits({Field::EthType, Field::EthDst, Field::EthSrc})),
            "eth_src,eth_dst,eth_type");
  EXPECT_EQ(fieldMaskToString(bits({Field::TcpFlags, Field::TunnelId})), "tunnel_id,tcp_flags");
  std::string all = fieldMaskToString(kAllFields);
  EXPECT_EQ(std::count(all.begin(), all.end(), ','), static_cast<int>(Field::Count) - 1);
}

TEST(FlowMatch, NormalizeMaskAddsImpliedFields) {
  const FieldMask eth_type = fieldBit(Field::EthType);
  const FieldMask proto = fieldBit(Field::NwProto);
  EXPECT_EQ(normalizeMask(0), 0u);
  EXPECT_EQ(normalizeMask(fieldBit(Field::EthSrc)), fieldBit(Field::EthSrc));
  EXPECT_EQ(normalizeMask(fieldBit(Field::Vlan)), fieldBit(Field::Vlan));
  for (Field f :
       {Field::NwSrc, Field::NwDst, Field::NwProto, Field::NwTos, Field::NwTtl, Field::NwFrag}) {
    EXPECT_EQ(normalizeMask(fieldBit(f)), fieldBit(f) | eth_type) << fieldName(f);
  }
  for (Field f : {Field::TpSrc, Field::TpDst, Field::IcmpType, Field::IcmpCode, Field::IcmpId,
                  Field::TcpFlags}) {
    EXPECT_EQ(normalizeMask(fieldBit(f)), fieldBit(f) | proto | eth_type) << fieldName(f);
  }
  for (Field f : {Field::ArpOp, Field::ArpSha, Field::ArpTha, Field::ArpSpa, Field::ArpTpa}) {
    EXPECT_EQ(normalizeMask(fieldBit(f)), fieldBit(f) | eth_type) << fieldName(f);
  }
  EXPECT_EQ(normalizeMask(kAllFields), kAllFields);
}

TEST(FlowMatch, NormalizeMaskIsIdempotent) {
  std::mt19937 rng(7);
  for (int i = 0; i < 1000; ++i) {
    FieldMask m = static_cast<FieldMask>(rng()) & kAllFields;
    EXPECT_EQ(normalizeMask(normalizeMask(m)), normalizeMask(m));
    EXPECT_EQ(normalizeMask(m) & m, m);
  }
}

TEST(FlowMatch, EachTrackedReadMarksExactlyItsField) {
  const FlowMatch m(tcpFields());
  const std::vector<std::pair<Field, std::function<void()>>> reads = {
      {Field::TunnelId, [&] { (void)m.tunnelId(); }},
      {Field::EthSrc, [&] { (void)m.ethSrc(); }},
      {Field::EthDst, [&] { (void)m.ethDst(); }},
      {Field::Vlan, [&] { (void)m.vlanPresent(); }},
      {Field::Vlan, [&] { (void)m.vlanId(); }},
      {Field::EthType, [&] { (void)m.ethType(); }},
      {Field::NwSrc, [&] { (void)m.nwSrc(); }},
      {Field::NwDst, [&] { (void)m.nwDst(); }},
      {Field::NwProto, [&] { (void)m.nwProto(); }},
      {Field::NwTos, [&] { (void)m.nwTos(); }},
      {Field::NwTtl, [&] { (void)m.nwTtl(); }},
      {Field::NwFrag, [&] { (void)m.nwFrag(); }},
      {Field::TpSrc, [&] { (void)m.tpSrc(); }},
      {Field::TpDst, [&] { (void)m.tpDst(); }},
      {Field::IcmpType, [&] { (void)m.icmpType(); }},
      {Field::IcmpCode, [&] { (void)m.icmpCode(); }},
      {Field::IcmpId, [&] { (void)m.icmpId(); }},
      {Field::ArpOp, [&] { (void)m.arpOp(); }},
      {Field::ArpSha, [&] { (void)m.arpSha(); }},
      {Field::ArpTha, [&] { (void)m.arpTha(); }},
      {Field::ArpSpa, [&] { (void)m.arpSpa(); }},
      {Field::ArpTpa, [&] { (void)m.arpTpa(); }},
      {Field::TcpFlags, [&] { (void)m.tcpFlags(); }},
  };
  std::set<Field> covered;
  for (const auto& [field, read] : reads) {
    m.resetSeen();
    read();
    EXPECT_EQ(m.seen(), fieldBit(field)) << fieldName(field);
    covered.insert(field);
  }
  EXPECT_EQ(covered.size(), static_cast<size_t>(Field::Count));
}

TEST(FlowMatch, UntrackedAccessWritesAndPrintingMarkNothing) {
  FlowMatch m(tcpFields());
  (void)m.untracked().nw_src;
  m.setNwSrc(kIp4B);
  m.setTpDst(8080);
  m.setVlan(true, 5);
  m.setNwTtl(1);
  m.mutableFields().tcp_flags = kTcpAck;
  (void)m.toString();
  (void)m.toString(kAllFields);
  EXPECT_EQ(m.seen(), 0u);
}

TEST(FlowMatch, SettersRecordTheFieldsTheyWriteEvenWithTheSameValue) {
  FlowMatch m(tcpFields());
  EXPECT_EQ(m.written(), 0u);
  m.setEthSrc(m.untracked().eth_src);
  m.setNwTtl(1);
  m.setVlan(false, 0);
  m.mutableFields().tcp_flags = kTcpAck;
  EXPECT_EQ(m.written(), bits({Field::EthSrc, Field::NwTtl, Field::Vlan}));
  EXPECT_EQ(m.seen(), 0u);
  FlowMatch copy = m;
  EXPECT_EQ(copy.written(), m.written());
}

TEST(FlowMatch, PredicatesMarkTheFieldsTheyRead) {
  FlowMatch m(tcpFields());
  EXPECT_TRUE(m.isIpv4());
  EXPECT_EQ(m.seen(), fieldBit(Field::EthType));
  m.resetSeen();
  EXPECT_TRUE(m.hasPorts());
  EXPECT_EQ(m.seen(), bits({Field::EthType, Field::NwProto}));
  m.resetSeen();
  EXPECT_FALSE(m.isIcmp());
  EXPECT_EQ(m.seen(), bits({Field::EthType, Field::NwProto}));
  m.resetSeen();
  m.addSeen(fieldBit(Field::Vlan));
  EXPECT_EQ(m.seen(), fieldBit(Field::Vlan));
}

TEST(FlowMatch, EqualityIgnoresSeenMask) {
  FlowMatch a(tcpFields());
  FlowMatch b(tcpFields());
  (void)a.nwSrc();
  EXPECT_EQ(a, b);
  b.setTpSrc(1);
  EXPECT_FALSE(a == b);
}

TEST(FlowMatch, SymmetricHashIsEqualForReversedFlows) {
  FlowFields f = tcpFields();
  EXPECT_EQ(FlowMatch(f).symmetricHash(), FlowMatch(reversed(f)).symmetricHash());
  f.nw_proto = kIpProtoUdp;
  f.nw_src = kIp6A;
  f.nw_dst = kIp6B;
  EXPECT_EQ(FlowMatch(f).symmetricHash(), FlowMatch(reversed(f)).symmetricHash());
}

TEST(FlowMatch, SymmetricHashIsEqualForIcmpEchoRequestAndReply) {
  FlowFields request = tcpFields();
  request.nw_proto = kIpProtoIcmp;
  request.tp_src = request.tp_dst = 0;
  request.icmp_type = 8;
  request.icmp_id = 99;
  FlowFields reply = reversed(request);
  reply.icmp_type = 0;
  EXPECT_EQ(FlowMatch(request).symmetricHash(), FlowMatch(reply).symmetricHash());
  FlowFields other = request;
  other.icmp_id = 100;
  EXPECT_NE(FlowMatch(request).symmetricHash(), FlowMatch(other).symmetricHash());
}

TEST(FlowMatch, SymmetricHashReadsExactlyTheFiveTuple) {
  FlowMatch tcp(tcpFields());
  (void)tcp.symmetricHash();
  EXPECT_EQ(tcp.seen(),
            bits({Field::NwSrc, Field::NwDst, Field::NwProto, Field::TpSrc, Field::TpDst}));
  FlowFields icmp_fields = tcpFields();
  icmp_fields.nw_proto = kIpProtoIcmpv6;
  FlowMatch icmp(icmp_fields);
  (void)icmp.symmetricHash();
  EXPECT_EQ(icmp.seen(), bits({Field::NwSrc, Field::NwDst, Field::NwProto, Field::IcmpId}));
  FlowFields gre = tcpFields();
  gre.nw_proto = 47;
  FlowMatch other(gre);
  (void)other.symmetricHash();
  EXPECT_EQ(other.seen(), bits({Field::NwSrc, Field::NwDst, Field::NwProto}));
}

TEST(FlowMatch, SymmetricHashIgnoresFieldsItDoesNotRead) {
  FlowFields a = tcpFields();
  FlowFields b = a;
  b.eth_src = MacAddr::fromU64(0x0a);
  b.nw_ttl = 3;
  b.tcp_flags = kTcpRst;
  b.vlan_present = true;
  EXPECT_EQ(FlowMatch(a).symmetricHash(), FlowMatch(b).symmetricHash());
}

TEST(FlowMatch, SymmetricHashSeparatesDifferentFlows) {
  std::mt19937 rng(42);
  std::set<uint64_t> hashes;
  const int kFlows = 20000;
  for (int i = 0; i < kFlows; ++i) {
    FlowFields f = tcpFields();
    f.nw_src = IpAddr::v4(0x0a000000 | (rng() & 0xffff));
    f.nw_dst = IpAddr::v4(0x0a010000 | (rng() & 0xffff));
    f.tp_src = static_cast<uint16_t>(rng());
    f.tp_dst = static_cast<uint16_t>(rng() % 3 == 0 ? 80 : rng());
    f.nw_proto = rng() % 2 ? kIpProtoTcp : kIpProtoUdp;
    hashes.insert(FlowMatch(f).symmetricHash());
  }
  // Random 64-bit hashes of 20000 distinct-with-high-probability flows do not collide.
  EXPECT_GE(hashes.size(), static_cast<size_t>(kFlows - 2));
  // Low bits are well spread too (used to pick buckets and ECMP paths).
  std::vector<int> buckets(16, 0);
  for (uint64_t h : hashes) ++buckets[h & 15];
  for (int count : buckets) EXPECT_NEAR(count, kFlows / 16, kFlows / 16 / 5);
}

TEST(FlowMatch, SymmetricHashDistinguishesSwappedPortsAndProtocols) {
  FlowFields a = tcpFields();
  FlowFields b = a;
  std::swap(b.tp_src, b.tp_dst);  // A:80 -> B:1234 is another connection.
  EXPECT_NE(FlowMatch(a).symmetricHash(), FlowMatch(b).symmetricHash());
  FlowFields c = a;
  c.nw_proto = kIpProtoUdp;
  EXPECT_NE(FlowMatch(a).symmetricHash(), FlowMatch(c).symmetricHash());
}

TEST(FlowMatch, ToStringTcpIpv4) {
  EXPECT_EQ(FlowMatch(tcpFields()).toString(),
            "eth_src=02:00:00:00:00:01,eth_dst=02:00:00:00:00:02,ipv4,nw_src=10.0.0.1,"
            "nw_dst=10.0.1.1,nw_proto=6,nw_ttl=64,tcp,tp_src=1234,tp_dst=80");
}

TEST(FlowMatch, ToStringPrintsOptionalFieldsWhenSet) {
  FlowFields f = tcpFields();
  f.tunnel_id = 7;
  f.vlan_present = true;
  f.vlan_id = 10;
  f.nw_tos = 0xb8;
  f.nw_frag = FragType::First;
  f.tcp_flags = kTcpSyn | kTcpAck;
  EXPECT_EQ(FlowMatch(f).toString(),
            "tunnel_id=7,eth_src=02:00:00:00:00:01,eth_dst=02:00:00:00:00:02,vlan=10,ipv4,"
            "nw_src=10.0.0.1,nw_dst=10.0.1.1,nw_proto=6,nw_tos=184,nw_ttl=64,nw_frag=first,tcp,"
            "tp_src=1234,tp_dst=80,tcp_flags=0x012");
}

TEST(FlowMatch, ToStringIcmpv6Echo) {
  FlowFields f = tcpFields();
  f.eth_type = kEthTypeIpv6;
  f.nw_src = kIp6A;
  f.nw_dst = kIp6B;
  f.nw_proto = kIpProtoIcmpv6;
  f.tp_src = f.tp_dst = 0;
  f.icmp_type = 128;
  f.icmp_id = 5;
  EXPECT_EQ(FlowMatch(f).toString(),
            "eth_src=02:00:00:00:00:01,eth_dst=02:00:00:00:00:02,ipv6,nw_src=fd00::1,"
            "nw_dst=fd00:1::2,nw_proto=58,nw_ttl=64,icmpv6,icmp_type=128,icmp_code=0,icmp_id=5");
}

TEST(FlowMatch, ToStringLaterFragmentHasNoPorts) {
  FlowFields f = tcpFields();
  f.eth_type = kEthTypeIpv4;
  f.nw_proto = kIpProtoUdp;
  f.tp_src = f.tp_dst = 0;
  f.nw_frag = FragType::Later;
  EXPECT_EQ(FlowMatch(f).toString(),
            "eth_src=02:00:00:00:00:01,eth_dst=02:00:00:00:00:02,ipv4,nw_src=10.0.0.1,"
            "nw_dst=10.0.1.1,nw_proto=17,nw_ttl=64,nw_frag=later,udp");
}

TEST(FlowMatch, ToStringArp) {
  ParsedPacket p = parsePacket(testing::arpFrame());
  EXPECT_EQ(flowMatchOf(p).toString(),
            "eth_src=02:00:00:00:00:01,eth_dst=ff:ff:ff:ff:ff:ff,arp,arp_op=1,"
            "arp_sha=02:00:00:00:00:01,arp_spa=10.0.0.1,arp_tha=00:00:00:00:00:00,"
            "arp_tpa=10.0.1.1");
}

TEST(FlowMatch, ToStringUnknownEthertype) {
  FlowFields f;
  f.eth_src = kMacA;
  f.eth_dst = kMacB;
  f.eth_type = 0x88cc;
  EXPECT_EQ(FlowMatch(f).toString(),
            "eth_src=02:00:00:00:00:01,eth_dst=02:00:00:00:00:02,eth_type=0x88cc");
}

TEST(FlowMatch, ToStringWithMaskPrintsOnlyMaskedFields) {
  FlowMatch m(tcpFields());
  EXPECT_EQ(m.toString(bits({Field::TpDst, Field::NwDst, Field::EthType})),
            "eth_type=0x0800,nw_dst=10.0.1.1,tp_dst=80");
  EXPECT_EQ(m.toString(bits({Field::Vlan, Field::NwFrag})), "vlan=none,nw_frag=none");
  EXPECT_EQ(m.toString(0), "");
}

}  // namespace
}  // namespace loom::packet
