#include "packet/checksum.h"

#include <gtest/gtest.h>

#include <random>

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

// Reference implementation: RFC 1071 section 4.1, big-endian words.
uint16_t referenceSum(const std::vector<uint8_t>& data) {
  uint32_t sum = 0;
  for (size_t i = 0; i < data.size(); i += 2) {
    uint32_t word = uint32_t{data[i]} << 8;
    if (i + 1 < data.size()) word |= data[i + 1];
    sum += word;
  }
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

TEST(Checksum, Rfc1071ExampleSum) {
  // RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
  const std::vector<uint8_t> data = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(onesComplementSum(data), 0xddf2);
  EXPECT_EQ(internetChecksum(data), 0x220d);
}

TEST(Checksum, OddTrailingByteIsPaddedWithZero) {
  const std::vector<uint8_t> odd = {0x12, 0x34, 0x56};
  EXPECT_EQ(onesComplementSum(odd), 0x1234 + 0x5600);
  const std::vector<uint8_t> one = {0xab};
  EXPECT_EQ(onesComplementSum(one), 0xab00);
  EXPECT_EQ(onesComplementSum(std::vector<uint8_t>{}), 0);
}

TEST(Checksum, MatchesReferenceForRandomLengthsAndAlignments) {
  std::mt19937 rng(1071);
  for (int i = 0; i < 2000; ++i) {
    std::vector<uint8_t> buf(1 + rng() % 200);
    for (auto& b : buf) b = static_cast<uint8_t>(rng());
    size_t start = rng() % 4;  // Unaligned starts.
    if (start >= buf.size()) start = 0;
    std::vector<uint8_t> data(buf.begin() + static_cast<std::ptrdiff_t>(start), buf.end());
    ASSERT_EQ(onesComplementSum(std::span<const uint8_t>(buf).subspan(start)), referenceSum(data));
  }
}

TEST(Checksum, InitialValueChainsSums) {
  const std::vector<uint8_t> a = {0x01, 0x02, 0xff, 0xfe};
  const std::vector<uint8_t> b = {0x80, 0x00, 0x12};
  std::vector<uint8_t> both = a;
  both.insert(both.end(), b.begin(), b.end());
  EXPECT_EQ(onesComplementSum(b, onesComplementSum(a)), onesComplementSum(both));
  EXPECT_EQ(onesComplementSum(b, 0x2ffff), onesComplementSum(b, 0x2));  // 0x2ffff folds to 2.
}

TEST(Checksum, KnownIpv4HeaderVerifies) {
  std::vector<uint8_t> header = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                                 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  EXPECT_TRUE(ipv4HeaderChecksumOk(header));
  header[10] = header[11] = 0;
  EXPECT_EQ(internetChecksum(header), 0xb861);
  EXPECT_FALSE(ipv4HeaderChecksumOk(header));
  EXPECT_FALSE(ipv4HeaderChecksumOk(std::span<const uint8_t>(header).first(19)));
}

TEST(Checksum, PseudoHeaderSumIpv4) {
  // 10.0.0.1 -> 10.0.1.1, TCP, 40 bytes: 0x0a00 + 0x0001 + 0x0a00 + 0x0101 + 6 + 40.
  EXPECT_EQ(pseudoHeaderSum(kIp4A, kIp4B, kIpProtoTcp, 40),
            0x0a00u + 0x0001 + 0x0a00 + 0x0101 + 6 + 40);
}

TEST(Checksum, PseudoHeaderSumIpv6CountsWholeAddressesAndLongLength) {
  // fd00::1 + fd00:1::2, length 0x10002 split in two words.
  EXPECT_EQ(pseudoHeaderSum(kIp6A, kIp6B, kIpProtoUdp, 0x10002),
            0xfd00u + 0x0001 + 0xfd00 + 0x0001 + 0x0002 + 17 + 0x0001 + 0x0002);
}

TEST(Checksum, Incremental16EqualsRecomputation) {
  std::mt19937 rng(1624);
  for (int i = 0; i < 5000; ++i) {
    std::vector<uint8_t> data(2 * (2 + rng() % 40));
    for (auto& b : data) b = static_cast<uint8_t>(rng());
    uint16_t before = internetChecksum(data);
    size_t word = 2 * (rng() % (data.size() / 2));
    auto old_word = static_cast<uint16_t>((data[word] << 8) | data[word + 1]);
    auto new_word = static_cast<uint16_t>(rng());
    if (i % 10 == 0) new_word = static_cast<uint16_t>(~old_word);
    data[word] = static_cast<uint8_t>(new_word >> 8);
    data[word + 1] = static_cast<uint8_t>(new_word);
    ASSERT_EQ(checksumUpdate16(before, old_word, new_word), internetChecksum(data)) << i;
  }
}

TEST(Checksum, Incremental32EqualsRecomputation) {
  std::mt19937 rng(3232);
  for (int i = 0; i < 5000; ++i) {
    std::vector<uint8_t> data(4 * (2 + rng() % 20));
    for (auto& b : data) b = static_cast<uint8_t>(rng());
    uint16_t before = internetChecksum(data);
    size_t at = 4 * (rng() % (data.size() / 4));
    uint32_t old_value = (uint32_t{data[at]} << 24) | (uint32_t{data[at + 1]} << 16) |
                         (uint32_t{data[at + 2]} << 8) | data[at + 3];
    uint32_t new_value = rng();
    for (int k = 0; k < 4; ++k) data[at + k] = static_cast<uint8_t>(new_value >> (24 - 8 * k));
    ASSERT_EQ(checksumUpdate32(before, old_value, new_value), internetChecksum(data)) << i;
  }
}

TEST(Checksum, IncrementalUpdateWithUnchangedWordIsIdentity) {
  EXPECT_EQ(checksumUpdate16(0x1234, 0xabcd, 0xabcd), 0x1234);
  EXPECT_EQ(checksumUpdate32(0x1234, 0xdeadbeef, 0xdeadbeef), 0x1234);
}

std::vector<std::pair<const char*, std::vector<uint8_t>>> l4Frames() {
  return {
      {"tcp4", testing::tcp4Frame()},
      {"udp4", testing::udp4Frame()},
      {"icmp4", testing::icmp4EchoFrame()},
      {"tcp6", testing::tcp6Frame()},
      {"udp6", testing::udp6Frame()},
      {"icmp6", testing::icmp6EchoFrame()},
      {"vlan_udp4_odd_payload", eth().vlan(3).ipv4(kIp4A, kIp4B).udp(1, 2).payload(7).build()},
      {"icmp6_odd_payload", eth().ipv6(kIp6A, kIp6B).icmp(1, 4).payload(33).build()},
  };
}

TEST(Checksum, L4ChecksumOkOnBuiltPackets) {
  for (const auto& [name, frame] : l4Frames()) {
    ParsedPacket p = parsePacket(frame);
    ASSERT_TRUE(p.ok()) << name;
    EXPECT_TRUE(l4ChecksumOk(p)) << name;
  }
}

TEST(Checksum, L4ChecksumFailsAfterCorruptingAnyCoveredByte) {
  for (const auto& [name, frame] : l4Frames()) {
    ParsedPacket clean = parsePacket(frame);
    // Every byte of the segment, plus the addresses (covered through the pseudo header, except
    // for ICMPv4).
    for (size_t i = clean.l4_offset; i < clean.l3_end; ++i) {
      auto bad = frame;
      bad[i] ^= 0x10;
      ParsedPacket p = parsePacket(bad);
      if (!p.ok()) continue;  // E.g. a corrupted UDP length.
      EXPECT_FALSE(l4ChecksumOk(p)) << name << " byte " << i;
    }
    if (clean.l4 != L4Kind::Icmp) {
      auto bad = frame;
      bad[clean.l3_offset + (clean.fields.eth_type == kEthTypeIpv4 ? 12 : 8)] ^= 1;
      EXPECT_FALSE(l4ChecksumOk(parsePacket(bad))) << name << " source address";
    }
  }
}

TEST(Checksum, ZeroUdpChecksumIsValidOnlyOverIpv4) {
  auto v4 = testing::udp4Frame();
  v4[14 + 20 + 6] = v4[14 + 20 + 7] = 0;
  EXPECT_TRUE(l4ChecksumOk(parsePacket(v4)));
  auto v6 = testing::udp6Frame();
  v6[14 + 40 + 6] = v6[14 + 40 + 7] = 0;
  EXPECT_FALSE(l4ChecksumOk(parsePacket(v6)));
}

// A UDP/IPv6 datagram whose checksum field is 0 although the rest sums so that 0 would verify
// arithmetically (0x0000 and 0xffff are both one's-complement zero): still "no checksum".
TEST(Checksum, ZeroUdpChecksumOverIpv6FailsEvenWhenTheSumWouldMatch) {
  auto frame = eth().ipv6(kIp6A, kIp6B).udp(1, 2).payload(4).build();
  const size_t csum = 14 + 40 + 6;
  const size_t word = 14 + 40 + 8;  // First payload word.
  auto c = static_cast<uint16_t>((frame[csum] << 8) | frame[csum + 1]);
  auto w = static_cast<uint16_t>((frame[word] << 8) | frame[word + 1]);
  uint32_t sum = uint32_t{w} + c;  // Move the checksum's contribution into the payload.
  auto moved = static_cast<uint16_t>((sum & 0xffff) + (sum >> 16));
  frame[word] = static_cast<uint8_t>(moved >> 8);
  frame[word + 1] = static_cast<uint8_t>(moved);
  frame[csum] = frame[csum + 1] = 0;
  ParsedPacket p = parsePacket(frame);
  std::span<const uint8_t> segment = p.frame.subspan(p.l4_offset, p.l3_end - p.l4_offset);
  ASSERT_EQ(onesComplementSum(segment, pseudoHeaderSum(kIp6A, kIp6B, kIpProtoUdp, 12)), 0xffff);
  EXPECT_FALSE(l4ChecksumOk(p));
}

TEST(Checksum, FragmentsHaveNothingToCheck) {
  auto later = eth().ipv4(kIp4A, kIp4B).fragment(10, false).tcp(1, 2).build();
  EXPECT_TRUE(l4ChecksumOk(parsePacket(later)));
  auto first = eth().ipv6(kIp6A, kIp6B).fragment(0, true).udp(1, 2).payload(8).build();
  EXPECT_TRUE(l4ChecksumOk(parsePacket(first)));
}

TEST(Checksum, PacketsWithoutL4HeaderDoNotVerify) {
  EXPECT_FALSE(l4ChecksumOk(parsePacket(testing::arpFrame())));
  EXPECT_FALSE(l4ChecksumOk(parsePacket(eth().ipv4(kIp4A, kIp4B).ipProto(47).build())));
}

}  // namespace
}  // namespace loom::packet
