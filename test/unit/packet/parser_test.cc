// Table-driven parse tests: every protocol the parser understands, with the expected flow key.
// Error cases and truncation are in parser_errors_test.cc.
#include "packet/parser.h"

#include <gtest/gtest.h>

#include <functional>

#include "packet/builder.h"
#include "packet/checksum.h"
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

FlowFields l2(uint16_t type) {
  FlowFields f;
  f.eth_src = kMacA;
  f.eth_dst = kMacB;
  f.eth_type = type;
  return f;
}

FlowFields ip4(uint8_t proto) {
  FlowFields f = l2(kEthTypeIpv4);
  f.nw_src = kIp4A;
  f.nw_dst = kIp4B;
  f.nw_proto = proto;
  f.nw_ttl = 64;
  return f;
}

FlowFields ip6(uint8_t proto) {
  FlowFields f = ip4(proto);
  f.eth_type = kEthTypeIpv6;
  f.nw_src = kIp6A;
  f.nw_dst = kIp6B;
  return f;
}

FlowFields with(FlowFields f, const std::function<void(FlowFields&)>& edit) {
  edit(f);
  return f;
}

FlowFields ports(FlowFields f, uint16_t src, uint16_t dst, uint16_t tcp_flags = 0) {
  f.tp_src = src;
  f.tp_dst = dst;
  f.tcp_flags = tcp_flags;
  return f;
}

FlowFields icmpFields(FlowFields f, uint8_t type, uint8_t code, uint16_t id) {
  f.icmp_type = type;
  f.icmp_code = code;
  f.icmp_id = id;
  return f;
}

struct ParseCase {
  const char* name;
  std::vector<uint8_t> frame;
  FlowFields expected;
  L4Kind l4 = L4Kind::None;
  ParseOptions opts = {};
};

std::vector<ParseCase> parseCases() {
  const uint8_t pad6[] = {1, 4, 0, 0, 0, 0};  // PadN option filling a minimal 8-byte header.
  const uint8_t routing[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};  // Type 0, 0 left.
  const uint8_t ah[] = {0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  const uint8_t opts4[] = {0x94, 0x04, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00};
  return {
      {"tcp4", testing::tcp4Frame(), ports(ip4(kIpProtoTcp), 1234, 80, kTcpSyn), L4Kind::Tcp},
      {"tcp4_all_flags", eth().ipv4(kIp4A, kIp4B).tcp(1, 2).tcpFlags(0x1ff).build(),
       ports(ip4(kIpProtoTcp), 1, 2, 0x1ff), L4Kind::Tcp},
      {"udp4", testing::udp4Frame(), ports(ip4(kIpProtoUdp), 5000, 53), L4Kind::Udp},
      {"icmp4_echo_request", testing::icmp4EchoFrame(), icmpFields(ip4(kIpProtoIcmp), 8, 0, 0x4242),
       L4Kind::Icmp},
      {"icmp4_echo_reply", eth().ipv4(kIp4A, kIp4B).icmpEcho(false, 7, 1).build(),
       icmpFields(ip4(kIpProtoIcmp), 0, 0, 7), L4Kind::Icmp},
      {"icmp4_unreachable_has_no_id",
       eth().ipv4(kIp4A, kIp4B).icmp(3, 1, 0x12345678).payload(28).build(),
       icmpFields(ip4(kIpProtoIcmp), 3, 1, 0), L4Kind::Icmp},
      {"arp_request", testing::arpFrame(),
       with(l2(kEthTypeArp),
            [](FlowFields& f) {
              f.eth_dst = MacAddr::broadcast();
              f.arp_op = kArpOpRequest;
              f.arp_sha = kMacA;
              f.arp_spa = kIp4A;
              f.arp_tpa = kIp4B;
            })},
      {"arp_reply", eth().arp(kArpOpReply, kMacB, kIp4B, kMacA, kIp4A).padToMinimum().build(),
       with(l2(kEthTypeArp),
            [](FlowFields& f) {
              f.arp_op = kArpOpReply;
              f.arp_sha = kMacB;
              f.arp_spa = kIp4B;
              f.arp_tha = kMacA;
              f.arp_tpa = kIp4A;
            })},
      {"vlan_tcp4", eth().vlan(10, 5).ipv4(kIp4A, kIp4B).tcp(1, 2).build(),
       with(ports(ip4(kIpProtoTcp), 1, 2),
            [](FlowFields& f) {
              f.vlan_present = true;
              f.vlan_id = 10;
            }),
       L4Kind::Tcp},
      {"qinq_udp4_keys_outer_tag", eth().vlan(100).vlan(10).ipv4(kIp4A, kIp4B).udp(1, 2).build(),
       with(ports(ip4(kIpProtoUdp), 1, 2),
            [](FlowFields& f) {
              f.vlan_present = true;
              f.vlan_id = 100;
            }),
       L4Kind::Udp},
      {"ipv4_tos_and_ttl", eth().ipv4(kIp4A, kIp4B).tos(0xb8).ttl(5).udp(1, 2).build(),
       with(ports(ip4(kIpProtoUdp), 1, 2),
            [](FlowFields& f) {
              f.nw_tos = 0xb8;
              f.nw_ttl = 5;
            }),
       L4Kind::Udp},
      {"ipv4_options_skipped", eth().ipv4(kIp4A, kIp4B).ipv4Options(opts4).tcp(7, 8).build(),
       ports(ip4(kIpProtoTcp), 7, 8), L4Kind::Tcp},
      {"ipv4_first_fragment",
       eth().ipv4(kIp4A, kIp4B).fragment(0, true).udp(1, 2).payload(16).build(),
       with(ports(ip4(kIpProtoUdp), 1, 2), [](FlowFields& f) { f.nw_frag = FragType::First; }),
       L4Kind::Udp},
      {"ipv4_later_fragment_has_no_ports",
       eth().ipv4(kIp4A, kIp4B).fragment(185, true).tcp(1, 2).build(),
       with(ip4(kIpProtoTcp), [](FlowFields& f) { f.nw_frag = FragType::Later; })},
      {"ipv4_unknown_protocol", eth().ipv4(kIp4A, kIp4B).ipProto(47).payload(8).build(), ip4(47)},
      {"tcp6", testing::tcp6Frame(), ports(ip6(kIpProtoTcp), 1234, 443, kTcpAck), L4Kind::Tcp},
      {"udp6", testing::udp6Frame(), ports(ip6(kIpProtoUdp), 5000, 53), L4Kind::Udp},
      {"icmp6_echo_request", testing::icmp6EchoFrame(),
       icmpFields(ip6(kIpProtoIcmpv6), 128, 0, 0x77), L4Kind::Icmpv6},
      {"icmp6_echo_reply", eth().ipv6(kIp6A, kIp6B).icmpEcho(false, 9, 1).build(),
       icmpFields(ip6(kIpProtoIcmpv6), 129, 0, 9), L4Kind::Icmpv6},
      {"icmp6_neighbor_solicitation_has_no_id",
       eth().ipv6(kIp6A, kIp6B).ttl(255).icmp(135, 0).payload(16).build(),
       with(icmpFields(ip6(kIpProtoIcmpv6), 135, 0, 0), [](FlowFields& f) { f.nw_ttl = 255; }),
       L4Kind::Icmpv6},
      {"ipv6_traffic_class", eth().ipv6(kIp6A, kIp6B).tos(0x2e).ttl(3).udp(1, 2).build(),
       with(ports(ip6(kIpProtoUdp), 1, 2),
            [](FlowFields& f) {
              f.nw_tos = 0x2e;
              f.nw_ttl = 3;
            }),
       L4Kind::Udp},
      {"ipv6_hop_by_hop", eth().ipv6(kIp6A, kIp6B).ipv6ExtHeader(0, pad6).tcp(1, 2).build(),
       ports(ip6(kIpProtoTcp), 1, 2), L4Kind::Tcp},
      {"ipv6_routing", eth().ipv6(kIp6A, kIp6B).ipv6ExtHeader(43, routing).udp(1, 2).build(),
       ports(ip6(kIpProtoUdp), 1, 2), L4Kind::Udp},
      {"ipv6_destination_options",
       eth().ipv6(kIp6A, kIp6B).ipv6ExtHeader(60, pad6).icmpEcho(true, 5, 1).build(),
       icmpFields(ip6(kIpProtoIcmpv6), 128, 0, 5), L4Kind::Icmpv6},
      {"ipv6_authentication_header",
       eth().ipv6(kIp6A, kIp6B).ipv6ExtHeader(51, ah).tcp(1, 2).build(),
       ports(ip6(kIpProtoTcp), 1, 2), L4Kind::Tcp},
      {"ipv6_atomic_fragment_is_unfragmented",
       eth().ipv6(kIp6A, kIp6B).fragment(0, false).udp(1, 2).build(), ports(ip6(kIpProtoUdp), 1, 2),
       L4Kind::Udp},
      {"ipv6_ext_header_chain",
       eth()
           .ipv6(kIp6A, kIp6B)
           .ipv6ExtHeader(0, pad6)
           .ipv6ExtHeader(60, pad6)
           .ipv6ExtHeader(43, routing)
           .ipv6ExtHeader(51, ah)
           .ipv6ExtHeader(60, pad6)
           .tcp(1, 2)
           .build(),
       ports(ip6(kIpProtoTcp), 1, 2), L4Kind::Tcp},
      {"ipv6_first_fragment",
       eth().ipv6(kIp6A, kIp6B).ipv6ExtHeader(0, pad6).fragment(0, true).tcp(1, 2).build(),
       with(ports(ip6(kIpProtoTcp), 1, 2), [](FlowFields& f) { f.nw_frag = FragType::First; }),
       L4Kind::Tcp},
      {"ipv6_later_fragment_has_no_ports",
       eth().ipv6(kIp6A, kIp6B).fragment(100, false).udp(1, 2).build(),
       with(ip6(kIpProtoUdp), [](FlowFields& f) { f.nw_frag = FragType::Later; })},
      {"ipv6_esp_ends_walk",
       eth().ipv6(kIp6A, kIp6B).ipv6ExtHeader(0, pad6).ipProto(50).payload(24).build(), ip6(50)},
      {"ipv6_no_next_header", eth().ipv6(kIp6A, kIp6B).ipv6ExtHeader(60, pad6).build(), ip6(59)},
      {"ipv6_icmpv4_protocol_is_unknown", eth().ipv6(kIp6A, kIp6B).ipProto(1).payload(8).build(),
       ip6(1)},
      {"vxlan_outer", testing::vxlanFrame(), ports(ip4(kIpProtoUdp), 49152, kVxlanPort),
       L4Kind::Udp, ParseOptions{.decode_vxlan = true}},
      {"unknown_ethertype_is_l2_only", eth().ethType(0x88cc).payload(30).build(), l2(0x88cc)},
      {"ethernet_padding_accepted", eth().ipv4(kIp4A, kIp4B).udp(1, 2).padToMinimum().build(),
       ports(ip4(kIpProtoUdp), 1, 2), L4Kind::Udp},
  };
}

class ParseTable : public ::testing::TestWithParam<ParseCase> {};

TEST_P(ParseTable, GivesExpectedFlowFields) {
  const ParseCase& c = GetParam();
  ParsedPacket p = parsePacket(c.frame, c.opts);
  ASSERT_TRUE(p.ok()) << parseErrorName(p.error);
  EXPECT_EQ(p.fields, c.expected) << FlowMatch(p.fields).toString() << "\nexpected\n"
                                  << FlowMatch(c.expected).toString();
  EXPECT_EQ(p.l4, c.l4);
}

TEST_P(ParseTable, OffsetsAreOrderedWithinTheFrame) {
  const ParseCase& c = GetParam();
  ParsedPacket p = parsePacket(c.frame, c.opts);
  ASSERT_TRUE(p.ok());
  EXPECT_LE(p.l3_end, c.frame.size());
  if (p.l3_offset != ParsedPacket::kAbsent) {
    EXPECT_LT(p.l3_offset, p.l3_end);
  }
  if (p.l4_offset != ParsedPacket::kAbsent) {
    EXPECT_LT(p.l3_offset, p.l4_offset);
    EXPECT_LE(p.l4_offset, p.payload_offset);
    EXPECT_LE(p.payload_offset, p.l3_end);
  } else {
    EXPECT_EQ(p.payload_offset, ParsedPacket::kAbsent);
  }
}

TEST_P(ParseTable, BuiltChecksumsVerify) {
  const ParseCase& c = GetParam();
  ParsedPacket p = parsePacket(c.frame, c.opts);
  ASSERT_TRUE(p.ok());
  if (p.fields.eth_type == kEthTypeIpv4) {
    EXPECT_TRUE(ipv4HeaderChecksumOk(p.frame.subspan(p.l3_offset, p.ipv4_ihl * size_t{4})));
  }
  if (p.l4 != L4Kind::None) {
    EXPECT_TRUE(l4ChecksumOk(p));
  }
}

INSTANTIATE_TEST_SUITE_P(Parser, ParseTable, ::testing::ValuesIn(parseCases()),
                         [](const ::testing::TestParamInfo<ParseCase>& param) {
                           return std::string(param.param.name);
                         });

TEST(Parser, Tcp4OffsetsMatchHeaderSizes) {
  auto frame = testing::tcp4Frame();
  ASSERT_EQ(frame.size(), 74u);
  ParsedPacket p = parsePacket(frame);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.l3_offset, 14);
  EXPECT_EQ(p.ipv4_ihl, 5);
  EXPECT_EQ(p.l4_offset, 34);
  EXPECT_EQ(p.payload_offset, 54);
  EXPECT_EQ(p.l3_end, 74);
  EXPECT_EQ(p.vlan_tags, 0);
  EXPECT_EQ(p.ipDatagram().size(), 60u);
}

TEST(Parser, VlanTagsShiftL3Offset) {
  auto frame = eth().vlan(1).vlan(2).ipv4(kIp4A, kIp4B).udp(1, 2).build();
  ParsedPacket p = parsePacket(frame);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.vlan_tags, 2);
  EXPECT_EQ(p.l3_offset, 22);
  EXPECT_EQ(p.l4_offset, 42);
}

TEST(Parser, Ipv4OptionsMoveL4Offset) {
  const uint8_t opts[] = {0x94, 0x04, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00};
  auto frame = eth().ipv4(kIp4A, kIp4B).ipv4Options(opts).tcp(1, 2).build();
  ParsedPacket p = parsePacket(frame);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.ipv4_ihl, 7);
  EXPECT_EQ(p.l4_offset, 14 + 28);
}

TEST(Parser, EthernetPaddingIsExcludedFromDatagram) {
  auto frame = eth().ipv4(kIp4A, kIp4B).udp(1, 2).payload(2).padToMinimum().build();
  ASSERT_EQ(frame.size(), 60u);
  ParsedPacket p = parsePacket(frame);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.l3_end, 14 + 20 + 8 + 2);
  EXPECT_TRUE(l4ChecksumOk(p));
}

TEST(Parser, Ipv4FragmentDetailsAreReported) {
  auto frame = eth().ipv4(kIp4A, kIp4B).ipId(0x5555).fragment(12, true).udp(1, 2).build();
  ParsedPacket p = parsePacket(frame);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.fields.nw_frag, FragType::Later);
  EXPECT_EQ(p.ip_fragment_offset, 12);
  EXPECT_TRUE(p.ip_more_fragments);
  EXPECT_EQ(p.ip_fragment_id, 0x5555u);
  EXPECT_EQ(p.l4_offset, ParsedPacket::kAbsent);
  EXPECT_EQ(p.l4, L4Kind::None);
}

TEST(Parser, Ipv4DontFragmentIsNotAFragment) {
  auto frame = eth().ipv4(kIp4A, kIp4B).dontFragment().tcp(1, 2).build();
  ParsedPacket p = parsePacket(frame);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p.ipv4_dont_fragment);
  EXPECT_EQ(p.fields.nw_frag, FragType::None);
}

TEST(Parser, Ipv6FragmentHeaderDetailsAreReported) {
  auto frame = eth().ipv6(kIp6A, kIp6B).fragment(0, true, 0xabcdef01).udp(1, 2).payload(8).build();
  ParsedPacket p = parsePacket(frame);
  ASSERT_TRUE(p.ok()) << parseErrorName(p.error);
  EXPECT_EQ(p.fields.nw_frag, FragType::First);
  EXPECT_EQ(p.ip_fragment_offset, 0);
  EXPECT_TRUE(p.ip_more_fragments);
  EXPECT_EQ(p.ip_fragment_id, 0xabcdef01u);
  EXPECT_EQ(p.ipv6_ext_headers, 1);
  EXPECT_EQ(p.l4_offset, 14 + 40 + 8);
}

TEST(Parser, Ipv6LaterFragmentKeepsUpperProtocol) {
  auto frame = eth().ipv6(kIp6A, kIp6B).fragment(7, true).icmpEcho(true, 1, 1).build();
  ParsedPacket p = parsePacket(frame);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.fields.nw_proto, kIpProtoIcmpv6);
  EXPECT_EQ(p.fields.nw_frag, FragType::Later);
  EXPECT_EQ(p.fields.icmp_type, 0);
  EXPECT_EQ(p.ip_fragment_offset, 7);
  EXPECT_EQ(p.l4_offset, ParsedPacket::kAbsent);
}

TEST(Parser, Ipv6ExtensionHeadersAreCountedAndSkipped) {
  const uint8_t pad6[] = {1, 4, 0, 0, 0, 0};
  std::vector<uint8_t> big(20, 0);  // 2 + 20 -> 24 bytes, length byte 2.
  auto frame = eth()
                   .ipv6(kIp6A, kIp6B)
                   .ipv6ExtHeader(0, pad6)
                   .ipv6ExtHeader(60, big)
                   .ipv6ExtHeader(51, big)
                   .tcp(1, 2)
                   .build();
  ParsedPacket p = parsePacket(frame);
  ASSERT_TRUE(p.ok()) << parseErrorName(p.error);
  EXPECT_EQ(p.ipv6_ext_headers, 3);
  EXPECT_EQ(p.l4_offset, 14 + 40 + 8 + 24 + 24);
  EXPECT_TRUE(l4ChecksumOk(p));
}

TEST(Parser, MaximumIpv6ExtensionHeadersAccepted) {
  PacketBuilder b = eth().ipv6(kIp6A, kIp6B);
  for (int i = 0; i < kMaxIpv6ExtHeaders; ++i) b.ipv6ExtHeader(60);
  auto frame = b.udp(1, 2).build();
  ParsedPacket p = parsePacket(frame);
  ASSERT_TRUE(p.ok()) << parseErrorName(p.error);
  EXPECT_EQ(p.ipv6_ext_headers, kMaxIpv6ExtHeaders);
  EXPECT_EQ(p.fields.tp_dst, 2);
}

TEST(Parser, EspStopsWithL3OnlyKey) {
  auto frame = eth().ipv6(kIp6A, kIp6B).ipProto(50).payload(40).build();
  ParsedPacket p = parsePacket(frame);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.fields.nw_proto, 50);
  EXPECT_EQ(p.l4, L4Kind::None);
  EXPECT_EQ(p.l4_offset, ParsedPacket::kAbsent);
  EXPECT_EQ(p.l3_end, frame.size());
}

TEST(Parser, VxlanDecodeGivesVniAndInnerFrame) {
  auto frame = testing::vxlanFrame();
  ParsedPacket p = parsePacket(frame, ParseOptions{.decode_vxlan = true});
  ASSERT_TRUE(p.ok()) << parseErrorName(p.error);
  EXPECT_TRUE(p.vxlan);
  EXPECT_EQ(p.vni, 5001u);
  EXPECT_EQ(p.vxlan_inner_offset, 14 + 20 + 8 + 8);
  auto inner_bytes = testing::innerTcpFrame();
  ASSERT_EQ(p.vxlanInner().size(), inner_bytes.size());
  EXPECT_TRUE(std::equal(inner_bytes.begin(), inner_bytes.end(), p.vxlanInner().begin()));
}

TEST(Parser, VxlanInnerFrameParses) {
  auto frame = testing::vxlanFrame();
  ParsedPacket outer = parsePacket(frame, ParseOptions{.decode_vxlan = true});
  ASSERT_TRUE(outer.vxlan);
  ParsedPacket inner = parsePacket(outer.vxlanInner());
  ASSERT_TRUE(inner.ok());
  EXPECT_EQ(inner.fields.eth_src, mac("02:00:00:00:00:0a"));
  EXPECT_EQ(inner.fields.nw_src, ip("192.168.0.1"));
  EXPECT_EQ(inner.fields.nw_dst, ip("192.168.0.2"));
  EXPECT_EQ(inner.fields.tp_src, 3333);
  EXPECT_EQ(inner.fields.tp_dst, 22);
  EXPECT_EQ(inner.fields.tcp_flags, kTcpAck | kTcpPsh);
  EXPECT_TRUE(l4ChecksumOk(inner));
}

TEST(Parser, VxlanNotDecodedWithoutOption) {
  ParsedPacket p = parsePacket(testing::vxlanFrame());
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p.vxlan);
  EXPECT_TRUE(p.vxlanInner().empty());
  EXPECT_EQ(p.payload_offset, 14 + 20 + 8);
}

TEST(Parser, VxlanOverIpv6Decodes) {
  auto frame = eth()
                   .ipv6(kIp6A, kIp6B)
                   .udp(1, kVxlanPort)
                   .vxlan(0xabcdef)
                   .payload(testing::innerTcpFrame())
                   .build();
  ParsedPacket p = parsePacket(frame, ParseOptions{.decode_vxlan = true});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.vni, 0xabcdefu);
  EXPECT_TRUE(parsePacket(p.vxlanInner()).ok());
}

TEST(Parser, ParseErrorNamesAreStableSnakeCase) {
  EXPECT_STREQ(parseErrorName(ParseError::None), "none");
  EXPECT_STREQ(parseErrorName(ParseError::TruncatedIpv4), "truncated_ipv4");
  EXPECT_STREQ(parseErrorName(ParseError::BadTcpDataOffset), "bad_tcp_data_offset");
  EXPECT_STREQ(parseErrorName(ParseError::TooManyIpv6ExtHeaders), "too_many_ipv6_ext_headers");
  for (int i = 0; i < static_cast<int>(ParseError::Count); ++i) {
    std::string name = parseErrorName(static_cast<ParseError>(i));
    EXPECT_NE(name, "unknown");
    for (char ch : name)
      EXPECT_TRUE((ch >= 'a' && ch <= 'z') || ch == '_' || (ch >= '0' && ch <= '9'));
  }
}

TEST(Parser, FlowMatchOfCopiesFieldsWithoutSeenBits) {
  ParsedPacket p = parsePacket(testing::tcp4Frame());
  FlowMatch m = flowMatchOf(p);
  EXPECT_EQ(m.untracked(), p.fields);
  EXPECT_EQ(m.seen(), 0u);
}

}  // namespace
}  // namespace loom::packet
