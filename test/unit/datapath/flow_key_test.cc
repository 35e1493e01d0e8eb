// Flow keys and masks against the BPF ABI: keys built from parsed frames must hold the frame's
// bytes where the program copies them, masks must cover exactly the fields of a FieldMask.
#include "datapath/flow_key.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>

#include "packet/builder.h"
#include "packet/parser.h"
#include "sim/result.h"
#include "unit/packet/test_frames.h"

namespace loom::datapath {
namespace {

using packet::Field;
using packet::fieldBit;
using packet::FieldMask;
using packet::FlowFields;
using packet::IpAddr;
using packet::MacAddr;
using packet::SetField;
using packet::SetFieldKind;
using packet::testing::eth;
using packet::testing::ip;
using packet::testing::kIp4A;
using packet::testing::kIp4B;
using packet::testing::kIp6A;
using packet::testing::kIp6B;
using packet::testing::kMacA;
using packet::testing::kMacB;
using packet::testing::mac;

FlowFields fieldsOf(const std::vector<uint8_t>& frame) {
  packet::ParsedPacket p = packet::parsePacket(frame);
  EXPECT_TRUE(p.ok()) << packet::parseErrorName(p.error);
  return p.fields;
}

// The `n` bytes of a key member, for comparison with frame bytes.
template <typename T>
std::vector<uint8_t> bytesOf(const T& member) {
  std::vector<uint8_t> out(sizeof(T));
  std::memcpy(out.data(), &member, sizeof(T));
  return out;
}

std::vector<uint8_t> slice(const std::vector<uint8_t>& frame, size_t offset, size_t n) {
  return {frame.begin() + static_cast<std::ptrdiff_t>(offset),
          frame.begin() + static_cast<std::ptrdiff_t>(offset + n)};
}

bool allZero(const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  for (size_t i = 0; i < n; ++i) {
    if (b[i] != 0) return false;
  }
  return true;
}

// Offsets in an untagged frame.
constexpr size_t kEth = 14;
constexpr size_t kIp4 = kEth + 20;

TEST(KeyFromFields, Tcp4HoldsFrameBytesInNetworkOrder) {
  auto frame = packet::testing::tcp4Frame();
  loom_flow_key k = keyFromFields(7, fieldsOf(frame));
  EXPECT_EQ(k.ifindex, 7u);
  EXPECT_EQ(k.mask_id, 0);
  EXPECT_EQ(bytesOf(k.eth_dst), slice(frame, 0, 6));
  EXPECT_EQ(bytesOf(k.eth_src), slice(frame, 6, 6));
  EXPECT_EQ(bytesOf(k.eth_type), slice(frame, 12, 2));
  EXPECT_EQ(bytesOf(k.nw_src), slice(frame, kEth + 12, 4));
  EXPECT_EQ(bytesOf(k.nw_dst), slice(frame, kEth + 16, 4));
  EXPECT_EQ(bytesOf(k.tp_src), slice(frame, kIp4, 2));
  EXPECT_EQ(bytesOf(k.tp_dst), slice(frame, kIp4 + 2, 2));
  EXPECT_EQ(bytesOf(k.tcp_flags), (std::vector<uint8_t>{0x00, 0x02}));
  EXPECT_EQ(k.nw_proto, packet::kIpProtoTcp);
  EXPECT_EQ(k.nw_ttl, 64);
  EXPECT_EQ(k.nw_tos, 0);
  EXPECT_EQ(k.nw_frag, 0);
  EXPECT_EQ(k.vlan_tci, 0);
  EXPECT_EQ(k.icmp_type, 0);
  EXPECT_EQ(k.arp_op, 0);
  EXPECT_TRUE(allZero(k.arp_sha, 6));
  EXPECT_TRUE(allZero(k.arp_tha, 6));
  EXPECT_EQ(k.pad0, 0);
  EXPECT_TRUE(allZero(k.pad1, sizeof(k.pad1)));
}

TEST(KeyFromFields, TcpFlagsKeepNineBitsInNetworkOrder) {
  FlowFields f = fieldsOf(packet::testing::tcp4Frame());
  f.tcp_flags = 0x1ff | 0x600;  // Bits above NS are not flags.
  loom_flow_key k = keyFromFields(1, f);
  EXPECT_EQ(bytesOf(k.tcp_flags), (std::vector<uint8_t>{0x01, 0xff}));
}

TEST(KeyFromFields, Udp4HasPortsButNoTcpFlags) {
  auto frame = packet::testing::udp4Frame();
  loom_flow_key k = keyFromFields(3, fieldsOf(frame));
  EXPECT_EQ(k.nw_proto, packet::kIpProtoUdp);
  EXPECT_EQ(bytesOf(k.tp_src), slice(frame, kIp4, 2));
  EXPECT_EQ(bytesOf(k.tp_dst), slice(frame, kIp4 + 2, 2));
  EXPECT_EQ(k.tcp_flags, 0);
}

TEST(KeyFromFields, Icmp4HasTypeAndCodeNoPorts) {
  auto frame = eth()
                   .ipv4(kIp4A, kIp4B)
                   .icmp(packet::kIcmpDestUnreachable, packet::kIcmpCodeHostUnreachable)
                   .payload(28)
                   .build();
  loom_flow_key k = keyFromFields(3, fieldsOf(frame));
  EXPECT_EQ(k.nw_proto, packet::kIpProtoIcmp);
  EXPECT_EQ(k.icmp_type, packet::kIcmpDestUnreachable);
  EXPECT_EQ(k.icmp_code, packet::kIcmpCodeHostUnreachable);
  EXPECT_EQ(k.tp_src, 0);
  EXPECT_EQ(k.tp_dst, 0);

  loom_flow_key echo = keyFromFields(3, fieldsOf(packet::testing::icmp4EchoFrame()));
  EXPECT_EQ(echo.icmp_type, packet::kIcmpEchoRequest);
  EXPECT_EQ(echo.icmp_code, 0);
}

TEST(KeyFromFields, ArpAddressesGoToNwFields) {
  auto frame = packet::testing::arpFrame();
  loom_flow_key k = keyFromFields(4, fieldsOf(frame));
  EXPECT_EQ(bytesOf(k.eth_type), (std::vector<uint8_t>{0x08, 0x06}));
  EXPECT_EQ(bytesOf(k.arp_op), slice(frame, kEth + 6, 2));
  EXPECT_EQ(bytesOf(k.arp_sha), slice(frame, kEth + 8, 6));
  EXPECT_EQ(bytesOf(k.nw_src), slice(frame, kEth + 14, 4));
  EXPECT_EQ(bytesOf(k.arp_tha), slice(frame, kEth + 18, 6));
  EXPECT_EQ(bytesOf(k.nw_dst), slice(frame, kEth + 24, 4));
  EXPECT_EQ(k.nw_proto, 0);
  EXPECT_EQ(k.nw_ttl, 0);
}

TEST(KeyFromFields, Ipv6KeysNoAddresses) {
  auto frame = packet::testing::tcp6Frame();
  loom_flow_key k = keyFromFields(5, fieldsOf(frame));
  EXPECT_EQ(bytesOf(k.eth_type), (std::vector<uint8_t>{0x86, 0xdd}));
  EXPECT_EQ(k.nw_src, 0u);
  EXPECT_EQ(k.nw_dst, 0u);
  EXPECT_EQ(k.nw_proto, packet::kIpProtoTcp);
  EXPECT_EQ(k.nw_ttl, 64);
  EXPECT_EQ(bytesOf(k.tp_src), slice(frame, kEth + 40, 2));
  EXPECT_EQ(bytesOf(k.tp_dst), slice(frame, kEth + 42, 2));
  EXPECT_EQ(bytesOf(k.tcp_flags), (std::vector<uint8_t>{0x00, 0x10}));

  loom_flow_key icmp = keyFromFields(5, fieldsOf(packet::testing::icmp6EchoFrame()));
  EXPECT_EQ(icmp.nw_proto, packet::kIpProtoIcmpv6);
  EXPECT_EQ(icmp.icmp_type, packet::kIcmpv6EchoRequest);
}

TEST(KeyFromFields, Fragments) {
  auto first = eth().ipv4(kIp4A, kIp4B).fragment(0, true).udp(1, 2).payload(16).build();
  loom_flow_key k1 = keyFromFields(1, fieldsOf(first));
  EXPECT_EQ(k1.nw_frag, 1);
  EXPECT_EQ(bytesOf(k1.tp_dst), (std::vector<uint8_t>{0x00, 0x02}));

  auto later = eth().ipv4(kIp4A, kIp4B).fragment(3, false).udp(1, 2).build();
  loom_flow_key k2 = keyFromFields(1, fieldsOf(later));
  EXPECT_EQ(k2.nw_frag, 2);
  EXPECT_EQ(k2.nw_proto, packet::kIpProtoUdp);
  EXPECT_EQ(k2.tp_src, 0);
  EXPECT_EQ(k2.tp_dst, 0);

  auto later6 = eth().ipv6(kIp6A, kIp6B).fragment(9, true).tcp(1, 2).build();
  loom_flow_key k3 = keyFromFields(1, fieldsOf(later6));
  EXPECT_EQ(k3.nw_frag, 2);
  EXPECT_EQ(k3.tp_dst, 0);
}

TEST(KeyFromFields, VlanTagInHostOrder) {
  FlowFields f = fieldsOf(eth().vlan(10).ipv4(kIp4A, kIp4B).tcp(1, 2).build());
  loom_flow_key k = keyFromFields(1, f);
  EXPECT_EQ(k.vlan_tci, LOOM_VLAN_PRESENT | 10);
  EXPECT_EQ(bytesOf(k.eth_type), (std::vector<uint8_t>{0x08, 0x00}));
  EXPECT_FALSE(keyable(fieldBit(Field::EthDst), f));
}

TEST(MaskFromFieldMask, CoversExactlyTheFields) {
  FieldMask m = fieldBit(Field::EthDst) | fieldBit(Field::EthType) | fieldBit(Field::NwDst);
  loom_mask mask = maskFromFieldMask(m);
  loom_flow_key expected;
  std::memset(&expected, 0, sizeof(expected));
  expected.ifindex = 0xffffffffu;
  std::memset(expected.eth_dst, 0xff, 6);
  expected.eth_type = 0xffff;
  expected.nw_dst = 0xffffffffu;
  EXPECT_TRUE(keyEquals(mask.mask, expected)) << keyToString(mask.mask);

  // ARP protocol addresses share the IPv4 address slots.
  loom_mask arp = maskFromFieldMask(fieldBit(Field::ArpSpa) | fieldBit(Field::ArpTpa));
  EXPECT_EQ(arp.mask.nw_src, 0xffffffffu);
  EXPECT_EQ(arp.mask.nw_dst, 0xffffffffu);
  loom_mask none = maskFromFieldMask(fieldBit(Field::TunnelId) | fieldBit(Field::IcmpId));
  EXPECT_EQ(none.mask.ifindex, 0xffffffffu);
  EXPECT_TRUE(allZero(reinterpret_cast<const uint8_t*>(&none.mask) + 4, 60));
}

TEST(MaskFromFieldMask, AllFieldsCoverEverythingButMaskIdAndPadding) {
  loom_mask mask = maskFromFieldMask(packet::kAllFields);
  const auto* b = reinterpret_cast<const uint8_t*>(&mask.mask);
  size_t zero = 0;
  for (size_t i = 0; i < sizeof(loom_flow_key); ++i) {
    if (b[i] == 0) {
      ++zero;
    } else {
      EXPECT_EQ(b[i], 0xff) << i;
    }
  }
  EXPECT_EQ(zero, 1u + 1u + sizeof(mask.mask.pad1));  // mask_id, pad0, pad1.
  EXPECT_EQ(mask.mask.mask_id, 0);
  EXPECT_EQ(mask.mask.pad0, 0);
}

TEST(ApplyMask, TwoConnectionsShareAnL2FlowButNotAFiveTupleFlow) {
  auto a = eth().ipv4(kIp4A, kIp4B).tcp(40000, 80).tcpFlags(packet::kTcpSyn).build();
  auto b = eth().ipv4(ip("10.0.0.9"), kIp4B).tcp(40001, 443).tcpFlags(packet::kTcpAck).build();
  loom_flow_key ka = keyFromFields(7, fieldsOf(a));
  loom_flow_key kb = keyFromFields(7, fieldsOf(b));
  EXPECT_FALSE(keyEquals(ka, kb));

  loom_mask l2 = maskFromFieldMask(fieldBit(Field::EthSrc) | fieldBit(Field::EthDst));
  loom_flow_key ma = applyMask(ka, l2, 3);
  EXPECT_EQ(ma.mask_id, 3);
  EXPECT_TRUE(keyEquals(ma, applyMask(kb, l2, 3)));
  EXPECT_FALSE(keyEquals(ma, applyMask(kb, l2, 2)));  // Another mask id: another entry.
  // The same packets from another interface are another flow.
  EXPECT_FALSE(keyEquals(ma, applyMask(keyFromFields(8, fieldsOf(b)), l2, 3)));

  FieldMask five = packet::normalizeMask(fieldBit(Field::NwSrc) | fieldBit(Field::NwDst) |
                                         fieldBit(Field::NwProto) | fieldBit(Field::TpSrc) |
                                         fieldBit(Field::TpDst));
  loom_mask m5 = maskFromFieldMask(five);
  EXPECT_FALSE(keyEquals(applyMask(ka, m5, 1), applyMask(kb, m5, 1)));
  // A second packet of connection a with other TTL and flags still hits a's flow.
  auto a2 = eth().ipv4(kIp4A, kIp4B).ttl(3).tcp(40000, 80).tcpFlags(packet::kTcpAck).build();
  EXPECT_TRUE(keyEquals(applyMask(ka, m5, 1), applyMask(keyFromFields(7, fieldsOf(a2)), m5, 1)));
}

TEST(Keyable, Cases) {
  FlowFields tcp4 = fieldsOf(packet::testing::tcp4Frame());
  FieldMask five = packet::normalizeMask(fieldBit(Field::NwSrc) | fieldBit(Field::NwDst) |
                                         fieldBit(Field::TpDst));
  std::string why;
  EXPECT_TRUE(keyable(five, tcp4, &why)) << why;
  EXPECT_FALSE(keyable(five | fieldBit(Field::TunnelId), tcp4, &why));
  EXPECT_NE(why.find("tunnel_id"), std::string::npos) << why;

  FlowFields icmp = fieldsOf(packet::testing::icmp4EchoFrame());
  EXPECT_FALSE(keyable(fieldBit(Field::IcmpId) | fieldBit(Field::EthType), icmp, &why));
  EXPECT_NE(why.find("icmp_id"), std::string::npos) << why;

  FlowFields tcp6 = fieldsOf(packet::testing::tcp6Frame());
  EXPECT_FALSE(keyable(five, tcp6, &why));
  EXPECT_NE(why.find("IPv6"), std::string::npos) << why;
  EXPECT_TRUE(
      keyable(packet::normalizeMask(fieldBit(Field::EthDst) | fieldBit(Field::TpDst)), tcp6, &why))
      << why;

  FlowFields arp = fieldsOf(packet::testing::arpFrame());
  FieldMask arp_mask = packet::normalizeMask(fieldBit(Field::ArpTpa) | fieldBit(Field::ArpOp));
  EXPECT_TRUE(keyable(arp_mask, arp, &why)) << why;
  arp.arp_tpa = kIp6B;
  EXPECT_FALSE(keyable(arp_mask, arp, &why));

  FlowFields odd = tcp4;
  odd.nw_dst = kIp6A;  // Not from the parser, but must not install a wrong key.
  EXPECT_FALSE(keyable(five, odd, nullptr));
  EXPECT_TRUE(keyable(fieldBit(Field::EthSrc), odd, nullptr));
}

// Back from the BPF encoding, to compare with the actions it came from.
packet::SetFieldList actionsFromSets(const loom_flow_value& v) {
  packet::SetFieldList out;
  for (unsigned i = 0; i < v.n_sets; ++i) {
    const loom_set& s = v.sets[i];
    uint8_t b[4];
    std::memcpy(b, &s.value32, 4);
    uint16_t port = static_cast<uint16_t>((s.value16 & 0xff) << 8 | s.value16 >> 8);
    switch (s.kind) {
      case LOOM_SET_ETH_SRC:
        out.push_back({.kind = SetFieldKind::EthSrc, .mac = MacAddr::fromBytes(s.mac)});
        break;
      case LOOM_SET_ETH_DST:
        out.push_back({.kind = SetFieldKind::EthDst, .mac = MacAddr::fromBytes(s.mac)});
        break;
      case LOOM_SET_NW_SRC:
        out.push_back({.kind = SetFieldKind::NwSrc, .ip = IpAddr::v4Bytes(b)});
        break;
      case LOOM_SET_NW_DST:
        out.push_back({.kind = SetFieldKind::NwDst, .ip = IpAddr::v4Bytes(b)});
        break;
      case LOOM_SET_NW_TTL: out.push_back({.kind = SetFieldKind::NwTtl, .value = s.value16}); break;
      case LOOM_SET_NW_TOS: out.push_back({.kind = SetFieldKind::NwTos, .value = s.value16}); break;
      case LOOM_SET_TP_SRC: out.push_back({.kind = SetFieldKind::TpSrc, .value = port}); break;
      case LOOM_SET_TP_DST: out.push_back({.kind = SetFieldKind::TpDst, .value = port}); break;
      default: ADD_FAILURE() << "unknown set kind " << int{s.kind};
    }
  }
  return out;
}

TEST(SetsFromActions, RoundTrip) {
  FlowFields before = fieldsOf(packet::testing::tcp4Frame());
  FlowFields after = before;
  after.eth_src = mac("02:00:00:00:00:aa");
  after.eth_dst = mac("02:00:00:00:00:0c");
  after.nw_src = ip("192.0.2.1");
  after.nw_dst = ip("10.0.0.12");
  after.nw_ttl = 63;
  after.tp_dst = 8080;
  packet::SetFieldList actions;
  packet::diffFields(before, after, actions);
  ASSERT_EQ(actions.size(), 6u);

  loom_flow_value v;
  std::memset(&v, 0, sizeof(v));
  std::string why;
  ASSERT_TRUE(setsFromActions(actions, v, &why)) << why;
  EXPECT_EQ(v.n_sets, 6);
  EXPECT_EQ(actionsFromSets(v), actions);
  for (unsigned i = 0; i < v.n_sets; ++i) {
    if (v.sets[i].kind == LOOM_SET_NW_DST) {
      EXPECT_EQ(bytesOf(v.sets[i].value32), (std::vector<uint8_t>{10, 0, 0, 12}));
    }
    if (v.sets[i].kind == LOOM_SET_TP_DST) {
      EXPECT_EQ(bytesOf(v.sets[i].value16), (std::vector<uint8_t>{0x1f, 0x90}));
    }
    if (v.sets[i].kind == LOOM_SET_NW_TTL) {
      EXPECT_EQ(v.sets[i].value16, 63);
    }
  }

  // A shorter list clears what was there.
  packet::SetFieldList one = {{.kind = SetFieldKind::NwTos, .value = 4}};
  ASSERT_TRUE(setsFromActions(one, v, &why));
  EXPECT_EQ(v.n_sets, 1);
  EXPECT_EQ(v.sets[1].kind, 0);
  EXPECT_EQ(actionsFromSets(v), one);
}

TEST(SetsFromActions, RejectsWhatTheProgramCannotDo) {
  loom_flow_value v;
  std::memset(&v, 0, sizeof(v));
  std::string why;
  EXPECT_FALSE(setsFromActions({{.kind = SetFieldKind::PushVlan, .value = 10}}, v, &why));
  EXPECT_NE(why.find("VLAN"), std::string::npos) << why;
  EXPECT_FALSE(setsFromActions({{.kind = SetFieldKind::PopVlan}}, v, nullptr));
  EXPECT_FALSE(setsFromActions({{.kind = SetFieldKind::NwDst, .ip = kIp6B}}, v, &why));
  EXPECT_FALSE(setsFromActions({{.kind = SetFieldKind::NwTtl, .value = 300}}, v, &why));
  packet::SetFieldList many(LOOM_MAX_SETS + 1, SetField{.kind = SetFieldKind::NwTtl, .value = 1});
  EXPECT_FALSE(setsFromActions(many, v, &why));
  many.pop_back();
  EXPECT_TRUE(setsFromActions(many, v, &why)) << why;
}

TEST(KeyToString, PrintsMaskedFields) {
  loom_flow_key k = keyFromFields(7, fieldsOf(packet::testing::tcp4Frame()));
  loom_mask m = maskFromFieldMask(fieldBit(Field::EthDst) | fieldBit(Field::EthType) |
                                  fieldBit(Field::NwDst));
  EXPECT_EQ(keyToString(applyMask(k, m, 0), &m),
            "in=7,eth_dst=02:00:00:00:00:02,ipv4,nw_dst=10.0.1.1");
  loom_mask m5 =
      maskFromFieldMask(packet::normalizeMask(fieldBit(Field::NwSrc) | fieldBit(Field::NwDst) |
                                              fieldBit(Field::TpSrc) | fieldBit(Field::TpDst)));
  EXPECT_EQ(keyToString(k, &m5),
            "in=7,ipv4,nw_src=10.0.0.1,nw_dst=10.0.1.1,tcp,tp_src=1234,tp_dst=80");
  EXPECT_EQ(keyToString(k),
            "in=7,eth_src=02:00:00:00:00:01,eth_dst=02:00:00:00:00:02,ipv4,nw_src=10.0.0.1,"
            "nw_dst=10.0.1.1,tcp,nw_ttl=64,tp_src=1234,tp_dst=80,tcp_flags=0x2");

  // A partially masked field shows its mask.
  loom_mask prefix = m;
  prefix.mask.nw_dst = htonl(0xffffff00u);
  EXPECT_EQ(keyToString(applyMask(k, prefix, 0), &prefix),
            "in=7,eth_dst=02:00:00:00:00:02,ipv4,nw_dst=10.0.1.0/255.255.255.0");
}

TEST(KeyToString, ArpAndOtherTypes) {
  loom_flow_key arp = keyFromFields(3, fieldsOf(packet::testing::arpFrame()));
  EXPECT_EQ(keyToString(arp),
            "in=3,eth_src=02:00:00:00:00:01,eth_dst=ff:ff:ff:ff:ff:ff,arp,arp_op=1,"
            "arp_spa=10.0.0.1,arp_tpa=10.0.1.1,arp_sha=02:00:00:00:00:01,"
            "arp_tha=00:00:00:00:00:00");
  loom_flow_key lldp = keyFromFields(3, fieldsOf(eth().ethType(0x88cc).payload(30).build()));
  EXPECT_EQ(keyToString(lldp),
            "in=3,eth_src=02:00:00:00:00:01,eth_dst=02:00:00:00:00:02,eth_type=0x88cc");
  loom_flow_key icmp6 = keyFromFields(2, fieldsOf(packet::testing::icmp6EchoFrame()));
  EXPECT_EQ(keyToString(icmp6),
            "in=2,eth_src=02:00:00:00:00:01,eth_dst=02:00:00:00:00:02,ipv6,icmp6,nw_ttl=64,"
            "icmp_type=128,icmp_code=0");
}

TEST(ValueToString, ForwardDropUpcall) {
  loom_flow_value v;
  std::memset(&v, 0, sizeof(v));
  v.action = LOOM_ACT_FORWARD;
  packet::SetFieldList actions = {{.kind = SetFieldKind::EthDst, .mac = mac("02:00:00:00:00:0c")},
                                  {.kind = SetFieldKind::NwTtl, .value = 63}};
  ASSERT_TRUE(setsFromActions(actions, v, nullptr));
  v.n_outputs = 2;
  v.outputs[0] = {
      .flags = LOOM_OUT_TUNNEL, .ifindex = 0, .remote_ipv4 = 0xc6120002, .tunnel_key = 5};
  v.outputs[1] = {.flags = LOOM_OUT_LOCAL, .ifindex = 9, .remote_ipv4 = 0, .tunnel_key = 0};
  v.packets = 3;
  v.bytes = 294;
  EXPECT_EQ(valueToString(v),
            "forward sets=[eth_dst=02:00:00:00:00:0c,ttl=63] out=[tunnel 198.18.0.2 key 5, local "
            "if 9] packets=3 bytes=294");

  loom_flow_value d;
  std::memset(&d, 0, sizeof(d));
  d.action = LOOM_ACT_DROP;
  d.drop_reason = static_cast<uint16_t>(sim::DropReason::FilterDrop);
  d.packets = 1;
  d.bytes = 98;
  EXPECT_EQ(valueToString(d), "drop reason=filter_drop packets=1 bytes=98");

  loom_flow_value u;
  std::memset(&u, 0, sizeof(u));
  u.action = LOOM_ACT_UPCALL;
  u.cookie = 42;
  EXPECT_EQ(valueToString(u), "upcall packets=0 bytes=0 cookie=42");
}

}  // namespace
}  // namespace loom::datapath
