// Rejected frames: every ParseError, inconsistent lengths, and truncation at every length.
#include <gtest/gtest.h>

#include <set>

#include "packet/builder.h"
#include "packet/parser.h"
#include "unit/packet/test_frames.h"

namespace loom::packet {
namespace {

using testing::eth;
using testing::kIp4A;
using testing::kIp4B;
using testing::kIp6A;
using testing::kIp6B;

// Offsets in an untagged frame.
constexpr size_t kIp = 14;
constexpr size_t kL4v4 = kIp + 20;

std::vector<uint8_t> patch(std::vector<uint8_t> frame, size_t off,
                           std::initializer_list<uint8_t> bytes) {
  for (uint8_t b : bytes) frame.at(off++) = b;
  return frame;
}

std::vector<uint8_t> truncate(std::vector<uint8_t> frame, size_t size) {
  frame.resize(size);
  return frame;
}

struct ErrorCase {
  const char* name;
  std::vector<uint8_t> frame;
  ParseError expected;
  ParseOptions opts = {};
};

std::vector<ErrorCase> errorCases() {
  const uint8_t pad6[] = {1, 4, 0, 0, 0, 0};
  const uint8_t atomic_frag[] = {0, 0, 0, 0, 0, 1};
  const uint8_t opts4[] = {0x01, 0x01, 0x01, 0x00};
  auto tcp4 = testing::tcp4Frame();
  auto udp4 = testing::udp4Frame();
  auto tcp6 = testing::tcp6Frame();
  ParseOptions vx{.decode_vxlan = true};
  PacketBuilder nine_ext = eth().ipv6(kIp6A, kIp6B);
  for (int i = 0; i <= kMaxIpv6ExtHeaders; ++i) nine_ext.ipv6ExtHeader(60);
  return {
      {"frame_too_large", std::vector<uint8_t>(kMaxFrameSize + 1, 0), ParseError::FrameTooLarge},
      {"empty_frame", {}, ParseError::TruncatedEthernet},
      {"short_ethernet", truncate(tcp4, 13), ParseError::TruncatedEthernet},
      {"vlan_tag_cut", truncate(eth().vlan(5).ipv4(kIp4A, kIp4B).build(), 16),
       ParseError::TruncatedVlan},
      {"three_vlan_tags", eth().vlan(1).vlan(2).vlan(3).ipv4(kIp4A, kIp4B).build(),
       ParseError::TooManyVlanTags},
      {"arp_cut_in_fixed_part", truncate(testing::arpFrame(), kIp + 7), ParseError::TruncatedArp},
      {"arp_cut_in_addresses", truncate(testing::arpFrame(), kIp + 27), ParseError::TruncatedArp},
      {"arp_not_ethernet", patch(testing::arpFrame(), kIp, {0x00, 0x06}), ParseError::BadArp},
      {"arp_not_ipv4", patch(testing::arpFrame(), kIp + 2, {0x86, 0xdd}), ParseError::BadArp},
      {"arp_bad_hlen", patch(testing::arpFrame(), kIp + 4, {8}), ParseError::BadArp},
      {"ipv4_header_cut", truncate(tcp4, kIp + 19), ParseError::TruncatedIpv4},
      {"ipv4_version_6", patch(tcp4, kIp, {0x65}), ParseError::BadIpv4Version},
      {"ipv4_ihl_below_5", patch(tcp4, kIp, {0x44}), ParseError::BadIpv4HeaderLength},
      {"ipv4_header_longer_than_datagram",
       patch(eth().ipv4(kIp4A, kIp4B).ipv4Options(opts4).payload(4).build(), kIp + 2, {0, 20}),
       ParseError::BadIpv4HeaderLength},
      {"ipv4_total_length_beyond_frame", patch(tcp4, kIp + 2, {0x03, 0xe8}),
       ParseError::BadIpv4TotalLength},
      {"ipv4_options_cut", truncate(eth().ipv4(kIp4A, kIp4B).ipv4Options(opts4).build(), kIp + 22),
       ParseError::BadIpv4TotalLength},
      {"ipv6_header_cut", truncate(tcp6, kIp + 39), ParseError::TruncatedIpv6},
      {"ipv6_version_4", patch(tcp6, kIp, {0x40}), ParseError::BadIpv6Version},
      {"ipv6_payload_length_beyond_frame", patch(tcp6, kIp + 4, {0x01, 0x00}),
       ParseError::BadIpv6PayloadLength},
      {"ipv6_ext_header_cut_before_length", eth().ipv6(kIp6A, kIp6B).ipProto(0).payload(1).build(),
       ParseError::TruncatedIpv6ExtHeader},
      {"ipv6_ext_header_length_beyond_datagram",
       patch(eth().ipv6(kIp6A, kIp6B).ipv6ExtHeader(60, pad6).payload(4).build(), kIp + 41, {1}),
       ParseError::TruncatedIpv6ExtHeader},
      {"ipv6_fragment_header_cut", eth().ipv6(kIp6A, kIp6B).ipProto(44).payload(6).build(),
       ParseError::TruncatedIpv6ExtHeader},
      {"ipv6_too_many_ext_headers", nine_ext.udp(1, 2).build(), ParseError::TooManyIpv6ExtHeaders},
      {"ipv6_fragment_header_repeated",
       eth().ipv6(kIp6A, kIp6B).ipv6ExtHeader(44, atomic_frag).fragment(0, true).udp(1, 2).build(),
       ParseError::BadIpv6Fragment},
      {"ipv6_fragment_after_ah",
       eth().ipv6(kIp6A, kIp6B).ipv6ExtHeader(51, pad6).fragment(0, true).udp(1, 2).build(),
       ParseError::BadIpv6Fragment},
      {"ipv6_hop_by_hop_not_first",
       eth().ipv6(kIp6A, kIp6B).ipv6ExtHeader(60, pad6).ipv6ExtHeader(0, pad6).udp(1, 2).build(),
       ParseError::BadIpv6HopByHop},
      {"tcp_header_cut", eth().ipv4(kIp4A, kIp4B).ipProto(6).payload(19).build(),
       ParseError::TruncatedTcp},
      {"tcp6_header_cut", eth().ipv6(kIp6A, kIp6B).ipProto(6).payload(10).build(),
       ParseError::TruncatedTcp},
      {"tcp_data_offset_below_5", patch(tcp4, kL4v4 + 12, {0x40}), ParseError::BadTcpDataOffset},
      {"tcp_data_offset_beyond_segment",
       patch(eth().ipv4(kIp4A, kIp4B).tcp(1, 2).build(), kL4v4 + 12, {0x60}),
       ParseError::BadTcpDataOffset},
      {"udp_header_cut", eth().ipv4(kIp4A, kIp4B).ipProto(17).payload(7).build(),
       ParseError::TruncatedUdp},
      {"udp_length_above_datagram", patch(udp4, kL4v4 + 4, {0, 21}), ParseError::BadUdpLength},
      {"udp_length_below_datagram", patch(udp4, kL4v4 + 4, {0, 19}), ParseError::BadUdpLength},
      {"udp_length_below_header", patch(udp4, kL4v4 + 4, {0, 7}), ParseError::BadUdpLength},
      {"udp_first_fragment_length_below_fragment",
       patch(eth().ipv4(kIp4A, kIp4B).fragment(0, true).udp(1, 2).payload(16).build(), kL4v4 + 4,
             {0, 16}),
       ParseError::BadUdpLength},
      {"icmp_header_cut", eth().ipv4(kIp4A, kIp4B).ipProto(1).payload(7).build(),
       ParseError::TruncatedIcmp},
      {"icmpv6_header_cut", eth().ipv6(kIp6A, kIp6B).ipProto(58).payload(4).build(),
       ParseError::TruncatedIcmpv6},
      {"vxlan_header_cut", eth().ipv4(kIp4A, kIp4B).udp(1, kVxlanPort).payload(7).build(),
       ParseError::TruncatedVxlan, vx},
      {"vxlan_without_i_flag", patch(testing::vxlanFrame(), kL4v4 + 8, {0x00}),
       ParseError::BadVxlanFlags, vx},
  };
}

class ParseErrorTable : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ParseErrorTable, RejectsWithNamedReason) {
  const ErrorCase& c = GetParam();
  ParsedPacket p = parsePacket(c.frame, c.opts);
  EXPECT_EQ(parseErrorName(p.error), std::string(parseErrorName(c.expected)));
  EXPECT_FALSE(p.ok());
}

INSTANTIATE_TEST_SUITE_P(Parser, ParseErrorTable, ::testing::ValuesIn(errorCases()),
                         [](const ::testing::TestParamInfo<ErrorCase>& param) {
                           return std::string(param.param.name);
                         });

TEST(ParserErrors, EveryParseErrorIsReachable) {
  std::set<ParseError> seen;
  for (const ErrorCase& c : errorCases()) seen.insert(parsePacket(c.frame, c.opts).error);
  for (int i = 1; i < static_cast<int>(ParseError::Count); ++i) {
    auto e = static_cast<ParseError>(i);
    EXPECT_TRUE(seen.count(e) != 0) << parseErrorName(e) << " has no test";
  }
}

TEST(ParserErrors, FieldsHoldWhatWasParsedBeforeTheError) {
  auto frame = patch(testing::tcp4Frame(), kL4v4 + 12, {0x40});
  ParsedPacket p = parsePacket(frame);
  ASSERT_EQ(p.error, ParseError::BadTcpDataOffset);
  EXPECT_EQ(p.fields.eth_src, testing::kMacA);
  EXPECT_EQ(p.fields.nw_src, kIp4A);
  EXPECT_EQ(p.fields.nw_proto, kIpProtoTcp);
  EXPECT_EQ(p.fields.tp_src, 0);
  EXPECT_EQ(p.l4, L4Kind::None);
}

TEST(ParserErrors, VxlanPortWithoutDecodeOptionIsPlainUdp) {
  auto frame = eth().ipv4(kIp4A, kIp4B).udp(1, kVxlanPort).payload(7).build();
  EXPECT_TRUE(parsePacket(frame).ok());
}

TEST(ParserErrors, VxlanIsNotDecodedInFragments) {
  auto frame = eth().ipv4(kIp4A, kIp4B).fragment(0, true).udp(1, kVxlanPort).payload(3).build();
  ParsedPacket p = parsePacket(frame, ParseOptions{.decode_vxlan = true});
  EXPECT_TRUE(p.ok());
  EXPECT_FALSE(p.vxlan);
}

// For every valid frame, every prefix parses without reading out of bounds (ASan checks the
// reads: each prefix is copied into a buffer of exactly that size) and gives either an error or
// a consistent parse: offsets inside the prefix, and the same key when only padding or opaque
// payload was cut.
TEST(ParserErrors, EveryTruncationIsAnErrorOrAConsistentParse) {
  for (const testing::NamedFrame& nf : testing::allValidFrames()) {
    ParsedPacket full = parsePacket(nf.bytes, nf.opts);
    ASSERT_TRUE(full.ok()) << nf.name << ": " << parseErrorName(full.error);
    for (size_t len = 0; len < nf.bytes.size(); ++len) {
      std::vector<uint8_t> prefix(nf.bytes.begin(),
                                  nf.bytes.begin() + static_cast<std::ptrdiff_t>(len));
      ParsedPacket p = parsePacket(prefix, nf.opts);
      SCOPED_TRACE(nf.name + " truncated to " + std::to_string(len));
      if (!p.ok()) {
        if (len < 14) {
          EXPECT_EQ(p.error, ParseError::TruncatedEthernet);
        }
        continue;
      }
      EXPECT_LE(p.l3_end, len);
      EXPECT_LE(full.l3_end, len) << "a prefix shorter than the datagram parsed";
      EXPECT_EQ(p.fields, full.fields);
      if (p.payload_offset != ParsedPacket::kAbsent) {
        EXPECT_LE(p.payload_offset, p.l3_end);
      }
    }
  }
}

TEST(ParserErrors, TruncatedVxlanInnerFrameIsRejectedByInnerParse) {
  auto frame = testing::vxlanFrame();
  ParsedPacket outer = parsePacket(frame, ParseOptions{.decode_vxlan = true});
  ASSERT_TRUE(outer.vxlan);
  auto inner = outer.vxlanInner();
  for (size_t len = 0; len < inner.size(); ++len) {
    std::vector<uint8_t> prefix(inner.begin(), inner.begin() + static_cast<std::ptrdiff_t>(len));
    EXPECT_FALSE(parsePacket(prefix).ok()) << len;
  }
}

TEST(ParserErrors, GarbageAfterEthernetHeaderNeverCrashes) {
  // Every byte value in each IPv4/IPv6 header position, one position at a time.
  for (const auto& base : {testing::tcp4Frame(), testing::tcp6Frame(), testing::vxlanFrame()}) {
    for (size_t pos = 12; pos < base.size(); ++pos) {
      for (int v = 0; v < 256; v += 15) {
        auto frame = base;
        frame[pos] = static_cast<uint8_t>(v);
        ParsedPacket p = parsePacket(frame, ParseOptions{.decode_vxlan = true});
        EXPECT_LE(p.l3_end, frame.size());
        if (p.vxlan) (void)parsePacket(p.vxlanInner());
      }
    }
  }
}

}  // namespace
}  // namespace loom::packet
