#include "packet/builder.h"

#include <gtest/gtest.h>

#include "packet/checksum.h"
#include "packet/parser.h"
#include "unit/packet/test_frames.h"

namespace loom::packet {
namespace {

using testing::eth;
using testing::kIp4A;
using testing::kIp4B;
using testing::kIp6A;
using testing::kIp6B;
using testing::kMacA;
using testing::kMacB;

uint16_t get16(const std::vector<uint8_t>& b, size_t off) {
  return static_cast<uint16_t>((b.at(off) << 8) | b.at(off + 1));
}

TEST(PacketBuilder, EthernetHeaderHasDestinationFirst) {
  auto frame = eth().ipv4(kIp4A, kIp4B).build();
  EXPECT_EQ(MacAddr::fromBytes(frame.data()), kMacB);
  EXPECT_EQ(MacAddr::fromBytes(frame.data() + 6), kMacA);
  EXPECT_EQ(get16(frame, 12), kEthTypeIpv4);
}

TEST(PacketBuilder, Ipv4HeaderFieldsAndChecksum) {
  auto frame = eth()
                   .ipv4(kIp4A, kIp4B)
                   .ttl(17)
                   .tos(0x10)
                   .ipId(0x1234)
                   .dontFragment()
                   .tcp(1, 2)
                   .payload(3)
                   .build();
  ASSERT_EQ(frame.size(), 14u + 20 + 20 + 3);
  EXPECT_EQ(frame[14], 0x45);
  EXPECT_EQ(frame[15], 0x10);
  EXPECT_EQ(get16(frame, 16), 43);  // Total length.
  EXPECT_EQ(get16(frame, 18), 0x1234);
  EXPECT_EQ(get16(frame, 20), 0x4000);  // DF, offset 0.
  EXPECT_EQ(frame[22], 17);
  EXPECT_EQ(frame[23], kIpProtoTcp);
  EXPECT_TRUE(ipv4HeaderChecksumOk(std::span<const uint8_t>(frame).subspan(14, 20)));
}

TEST(PacketBuilder, Ipv4OptionsArePaddedToFourBytes) {
  const uint8_t opt[] = {0x01, 0x01, 0x01};  // Three NOPs.
  auto frame = eth().ipv4(kIp4A, kIp4B).ipv4Options(opt).udp(1, 2).build();
  EXPECT_EQ(frame[14], 0x46);
  EXPECT_EQ(frame[14 + 23], 0x00);  // End of option list.
  EXPECT_TRUE(ipv4HeaderChecksumOk(std::span<const uint8_t>(frame).subspan(14, 24)));
  EXPECT_EQ(get16(frame, 14 + 24), 1);  // UDP source port right after the options.
}

TEST(PacketBuilder, Ipv4FragmentSetsMoreFragmentsAndOffset) {
  auto frame = eth().ipv4(kIp4A, kIp4B).fragment(100, true).udp(1, 2).build();
  EXPECT_EQ(get16(frame, 20), 0x2000 | 100);
  auto last = eth().ipv4(kIp4A, kIp4B).fragment(100, false).udp(1, 2).build();
  EXPECT_EQ(get16(last, 20), 100);
}

TEST(PacketBuilder, SingleVlanTagUses8021Q) {
  auto frame = eth().vlan(10, 3).ipv4(kIp4A, kIp4B).build();
  EXPECT_EQ(get16(frame, 12), kEthTypeVlan);
  EXPECT_EQ(get16(frame, 14), (3 << 13) | 10);
  EXPECT_EQ(get16(frame, 16), kEthTypeIpv4);
}

TEST(PacketBuilder, QinQOuterTagIs8021ad) {
  auto frame = eth().vlan(100).vlan(10).ipv6(kIp6A, kIp6B).build();
  EXPECT_EQ(get16(frame, 12), kEthTypeQinQ);
  EXPECT_EQ(get16(frame, 14), 100);
  EXPECT_EQ(get16(frame, 16), kEthTypeVlan);
  EXPECT_EQ(get16(frame, 18), 10);
  EXPECT_EQ(get16(frame, 20), kEthTypeIpv6);
}

TEST(PacketBuilder, EthTypeOverrideIsWrittenAfterTags) {
  auto frame = eth().vlan(1).ethType(0x1234).ipv4(kIp4A, kIp4B).build();
  EXPECT_EQ(get16(frame, 16), 0x1234);
  auto l2_only = eth().build();
  EXPECT_EQ(l2_only.size(), 14u);
  EXPECT_EQ(get16(l2_only, 12), 0x88b5);
}

TEST(PacketBuilder, ArpLayout) {
  auto frame = testing::arpFrame();
  ASSERT_EQ(frame.size(), 42u);
  EXPECT_EQ(get16(frame, 12), kEthTypeArp);
  EXPECT_EQ(get16(frame, 14), 1);
  EXPECT_EQ(get16(frame, 16), kEthTypeIpv4);
  EXPECT_EQ(frame[18], 6);
  EXPECT_EQ(frame[19], 4);
  EXPECT_EQ(get16(frame, 20), kArpOpRequest);
  EXPECT_EQ(MacAddr::fromBytes(frame.data() + 22), kMacA);
  EXPECT_EQ(IpAddr::v4Bytes(frame.data() + 28), kIp4A);
  EXPECT_EQ(IpAddr::v4Bytes(frame.data() + 38), kIp4B);
}

TEST(PacketBuilder, Ipv6HeaderFields) {
  auto frame = eth().ipv6(kIp6A, kIp6B).tos(0xab).ttl(9).udp(1, 2).payload(5).build();
  EXPECT_EQ(frame[14], 0x6a);
  EXPECT_EQ(frame[15] & 0xf0, 0xb0);
  EXPECT_EQ(get16(frame, 18), 8 + 5);  // Payload length.
  EXPECT_EQ(frame[20], kIpProtoUdp);
  EXPECT_EQ(frame[21], 9);
  EXPECT_EQ(IpAddr::v6Bytes(frame.data() + 22), kIp6A);
  EXPECT_EQ(IpAddr::v6Bytes(frame.data() + 38), kIp6B);
}

TEST(PacketBuilder, Ipv6ExtensionHeadersChainAndPad) {
  const uint8_t three[] = {1, 1, 0};
  std::vector<uint8_t> ten(10, 0);
  auto frame = eth()
                   .ipv6(kIp6A, kIp6B)
                   .ipv6ExtHeader(0, three)
                   .ipv6ExtHeader(43, ten)
                   .ipv6ExtHeader(51, ten)
                   .tcp(1, 2)
                   .build();
  size_t off = 14 + 40;
  EXPECT_EQ(frame[20], 0);  // IPv6 -> hop-by-hop.
  EXPECT_EQ(frame[off], 43);
  EXPECT_EQ(frame[off + 1], 0);  // 2 + 3 bytes padded to 8.
  off += 8;
  EXPECT_EQ(frame[off], 51);
  EXPECT_EQ(frame[off + 1], 1);  // 2 + 10 bytes padded to 16.
  off += 16;
  EXPECT_EQ(frame[off], kIpProtoTcp);
  EXPECT_EQ(frame[off + 1], 16 / 4 - 2);  // AH length in 4-byte units minus 2.
  off += 16;
  EXPECT_EQ(get16(frame, off), 1);  // TCP source port.
  EXPECT_EQ(get16(frame, 18), 8 + 16 + 16 + 20);
}

TEST(PacketBuilder, Ipv6FragmentAddsFragmentHeaderLast) {
  auto frame =
      eth().ipv6(kIp6A, kIp6B).ipv6ExtHeader(60).fragment(5, true, 0xcafe).udp(1, 2).build();
  size_t off = 14 + 40;
  EXPECT_EQ(frame[20], 60);
  EXPECT_EQ(frame[off], 44);
  off += 8;
  EXPECT_EQ(frame[off], kIpProtoUdp);
  EXPECT_EQ(frame[off + 1], 0);
  EXPECT_EQ(get16(frame, off + 2), (5 << 3) | 1);
  EXPECT_EQ(get16(frame, off + 4), 0);
  EXPECT_EQ(get16(frame, off + 6), 0xcafe);
}

TEST(PacketBuilder, IpProtoOverridesLastNextHeader) {
  auto frame = eth().ipv6(kIp6A, kIp6B).ipv6ExtHeader(60).ipProto(50).build();
  EXPECT_EQ(frame[14 + 40], 50);
  auto v4 = eth().ipv4(kIp4A, kIp4B).ipProto(47).build();
  EXPECT_EQ(v4[23], 47);
  auto none = eth().ipv6(kIp6A, kIp6B).build();
  EXPECT_EQ(none[20], 59);
}

TEST(PacketBuilder, TcpHeaderFields) {
  auto frame = eth()
                   .ipv4(kIp4A, kIp4B)
                   .tcp(40000, 80)
                   .tcpFlags(kTcpSyn | kTcpAck)
                   .tcpSeq(0x01020304, 0x0a0b0c0d)
                   .build();
  size_t l4 = 34;
  EXPECT_EQ(get16(frame, l4), 40000);
  EXPECT_EQ(get16(frame, l4 + 2), 80);
  EXPECT_EQ(get16(frame, l4 + 4), 0x0102);
  EXPECT_EQ(get16(frame, l4 + 8), 0x0a0b);
  EXPECT_EQ(get16(frame, l4 + 12), 0x5000 | kTcpSyn | kTcpAck);
  EXPECT_TRUE(l4ChecksumOk(parsePacket(frame)));
}

TEST(PacketBuilder, UdpLengthCoversPayload) {
  auto frame = eth().ipv4(kIp4A, kIp4B).udp(1, 2).payload(11).build();
  EXPECT_EQ(get16(frame, 34 + 4), 19);
  EXPECT_NE(get16(frame, 34 + 6), 0);  // Checksum always filled in.
  EXPECT_TRUE(l4ChecksumOk(parsePacket(frame)));
}

TEST(PacketBuilder, IcmpEchoLayout) {
  auto frame = eth().ipv4(kIp4A, kIp4B).icmpEcho(true, 0x1111, 0x2222).build();
  EXPECT_EQ(frame[34], kIcmpEchoRequest);
  EXPECT_EQ(get16(frame, 38), 0x1111);
  EXPECT_EQ(get16(frame, 40), 0x2222);
  EXPECT_EQ(internetChecksum(std::span<const uint8_t>(frame).subspan(34)), 0);
}

TEST(PacketBuilder, Icmpv6ChecksumIncludesPseudoHeader) {
  auto frame = eth().ipv6(kIp6A, kIp6B).icmpEcho(false, 1, 2).payload(6).build();
  std::span<const uint8_t> segment = std::span<const uint8_t>(frame).subspan(54);
  EXPECT_EQ(frame[54], kIcmpv6EchoReply);
  EXPECT_EQ(onesComplementSum(segment, pseudoHeaderSum(kIp6A, kIp6B, kIpProtoIcmpv6,
                                                       static_cast<uint32_t>(segment.size()))),
            0xffff);
  EXPECT_NE(onesComplementSum(segment), 0xffff);
}

TEST(PacketBuilder, VxlanHeaderCarriesIFlagAndVni) {
  auto inner = testing::innerTcpFrame();
  auto frame = testing::vxlanFrame();
  size_t vx = 14 + 20 + 8;
  EXPECT_EQ(get16(frame, 34 + 2), kVxlanPort);
  EXPECT_EQ(frame[vx], 0x08);
  EXPECT_EQ(frame[vx + 4], 0x00);
  EXPECT_EQ(frame[vx + 5], 0x13);
  EXPECT_EQ(frame[vx + 6], 0x89);  // 5001 = 0x001389.
  EXPECT_EQ(frame[vx + 7], 0x00);
  EXPECT_EQ(frame.size(), vx + 8 + inner.size());
  EXPECT_EQ(get16(frame, 34 + 4), 8 + 8 + inner.size());
}

TEST(PacketBuilder, PayloadFollowsLastHeader) {
  const uint8_t bytes[] = {0xde, 0xad, 0xbe, 0xef};
  auto frame = eth().ipv4(kIp4A, kIp4B).udp(1, 2).payload(bytes).payload(2, 0x77).build();
  ASSERT_EQ(frame.size(), 42u + 6);
  EXPECT_EQ(frame[42], 0xde);
  EXPECT_EQ(frame[45], 0xef);
  EXPECT_EQ(frame[46], 0x77);
  EXPECT_EQ(frame[47], 0x77);
}

TEST(PacketBuilder, PadsToMinimumOnlyWhenAsked) {
  auto small = eth().ipv4(kIp4A, kIp4B).udp(1, 2).build();
  EXPECT_EQ(small.size(), 42u);
  auto padded = eth().ipv4(kIp4A, kIp4B).udp(1, 2).padToMinimum().build();
  EXPECT_EQ(padded.size(), 60u);
  EXPECT_EQ(get16(padded, 16), 28);  // Total length excludes the padding.
  auto large = eth().ipv4(kIp4A, kIp4B).udp(1, 2).payload(100).padToMinimum().build();
  EXPECT_EQ(large.size(), 142u);
}

TEST(PacketBuilder, BuildIsRepeatable) {
  PacketBuilder b = eth().ipv4(kIp4A, kIp4B).tcp(1, 2).payload(5);
  EXPECT_EQ(b.build(), b.build());
}

TEST(PacketBuilder, IcmpErrorTypes) {
  for (int t = 0; t < 256; ++t) {
    bool expected = t == 3 || t == 4 || t == 5 || t == 11 || t == 12;
    EXPECT_EQ(isIcmpv4Error(static_cast<uint8_t>(t)), expected) << t;
  }
}

}  // namespace
}  // namespace loom::packet
