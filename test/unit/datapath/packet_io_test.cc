// completeChecksums against an independent RFC 1071 implementation, and VXLAN sends received on
// a loopback UDP socket.
#include "datapath/packet_io.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "packet/builder.h"
#include "unit/packet/test_frames.h"

namespace loom::datapath {
namespace {

using packet::testing::eth;
using packet::testing::kIp4A;
using packet::testing::kIp4B;
using packet::testing::kIp6A;
using packet::testing::kIp6B;

constexpr size_t kEth = 14;

// RFC 1071 section 4.1, big-endian words, folded, not inverted.
uint16_t refSum(const std::vector<uint8_t>& data, uint32_t sum = 0) {
  for (size_t i = 0; i < data.size(); i += 2) {
    uint32_t word = uint32_t{data[i]} << 8;
    if (i + 1 < data.size()) word |= data[i + 1];
    sum += word;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(sum);
}

std::vector<uint8_t> range(const std::vector<uint8_t>& f, size_t from, size_t to) {
  return {f.begin() + static_cast<std::ptrdiff_t>(from),
          f.begin() + static_cast<std::ptrdiff_t>(to)};
}

// The pseudo header laid out as bytes (RFC 793 / RFC 8200 8.1), summed.
uint16_t pseudoSum(const std::vector<uint8_t>& frame, size_t l3, bool v6, uint8_t proto,
                   size_t l4_len) {
  std::vector<uint8_t> ph;
  if (v6) {
    ph = range(frame, l3 + 8, l3 + 40);
    ph.insert(ph.end(),
              {static_cast<uint8_t>(l4_len >> 24), static_cast<uint8_t>(l4_len >> 16),
               static_cast<uint8_t>(l4_len >> 8), static_cast<uint8_t>(l4_len), 0, 0, 0, proto});
  } else {
    ph = range(frame, l3 + 12, l3 + 20);
    ph.insert(ph.end(),
              {0, proto, static_cast<uint8_t>(l4_len >> 8), static_cast<uint8_t>(l4_len)});
  }
  return refSum(ph);
}

// Verifies the IPv4 header (when v4) and the L4 checksum of an untagged frame with no options or
// extension headers.
void expectChecksumsValid(const std::vector<uint8_t>& frame, bool v6, uint8_t proto,
                          size_t l3 = kEth) {
  size_t l4 = l3 + (v6 ? 40 : 20);
  size_t end;
  if (v6) {
    end = l4 + ((size_t{frame[l3 + 4]} << 8) | frame[l3 + 5]);
  } else {
    EXPECT_EQ(refSum(range(frame, l3, l4)), 0xffff) << "IPv4 header checksum";
    end = l3 + ((size_t{frame[l3 + 2]} << 8) | frame[l3 + 3]);
  }
  std::vector<uint8_t> seg = range(frame, l4, end);
  uint32_t initial =
      proto == packet::kIpProtoIcmp ? 0 : pseudoSum(frame, l3, v6, proto, seg.size());
  EXPECT_EQ(refSum(seg, initial), 0xffff) << "L4 checksum, proto " << int{proto};
}

size_t l4ChecksumOffset(uint8_t proto) {
  switch (proto) {
    case packet::kIpProtoTcp: return 16;
    case packet::kIpProtoUdp: return 6;
    default: return 2;
  }
}

// Puts into the L4 checksum field what a CHECKSUM_PARTIAL skb carries: the folded pseudo-header
// sum (not inverted), and breaks the IPv4 header checksum.
void makePartial(std::vector<uint8_t>& frame, bool v6, uint8_t proto, size_t l3 = kEth) {
  size_t l4 = l3 + (v6 ? 40 : 20);
  size_t end = v6 ? l4 + ((size_t{frame[l3 + 4]} << 8) | frame[l3 + 5])
                  : l3 + ((size_t{frame[l3 + 2]} << 8) | frame[l3 + 3]);
  uint16_t partial = proto == packet::kIpProtoIcmp ? 0 : pseudoSum(frame, l3, v6, proto, end - l4);
  size_t at = l4 + l4ChecksumOffset(proto);
  frame[at] = static_cast<uint8_t>(partial >> 8);
  frame[at + 1] = static_cast<uint8_t>(partial);
  if (!v6) {
    frame[l3 + 10] = 0xde;
    frame[l3 + 11] = 0xad;
  }
}

struct Case {
  const char* name;
  std::vector<uint8_t> frame;
  bool v6;
  uint8_t proto;
};

TEST(CompleteChecksums, FixesPartialChecksums) {
  std::vector<Case> cases = {
      {"tcp4", packet::testing::tcp4Frame(), false, packet::kIpProtoTcp},
      {"udp4", packet::testing::udp4Frame(), false, packet::kIpProtoUdp},
      {"icmp4", packet::testing::icmp4EchoFrame(), false, packet::kIpProtoIcmp},
      {"tcp6", packet::testing::tcp6Frame(), true, packet::kIpProtoTcp},
      {"udp6", packet::testing::udp6Frame(), true, packet::kIpProtoUdp},
      {"icmp6", packet::testing::icmp6EchoFrame(), true, packet::kIpProtoIcmpv6},
      {"tcp4_odd_payload", eth().ipv4(kIp4A, kIp4B).tcp(1, 2).payload(33).build(), false,
       packet::kIpProtoTcp},
      {"udp4_padded", eth().ipv4(kIp4A, kIp4B).udp(1, 2).padToMinimum().build(), false,
       packet::kIpProtoUdp},
  };
  for (Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<uint8_t> good = c.frame;  // The builder fills correct checksums.
    expectChecksumsValid(good, c.v6, c.proto);
    makePartial(c.frame, c.v6, c.proto);
    ASSERT_NE(c.frame, good);
    EXPECT_TRUE(completeChecksums(c.frame));
    expectChecksumsValid(c.frame, c.v6, c.proto);
    EXPECT_EQ(c.frame, good);
  }
}

TEST(CompleteChecksums, SingleVlanTag) {
  auto frame = eth().vlan(10).ipv4(kIp4A, kIp4B).tcp(1, 2).payload(10).build();
  auto good = frame;
  makePartial(frame, false, packet::kIpProtoTcp, kEth + 4);
  EXPECT_TRUE(completeChecksums(frame));
  expectChecksumsValid(frame, false, packet::kIpProtoTcp, kEth + 4);
  EXPECT_EQ(frame, good);
}

TEST(CompleteChecksums, UdpComputedZeroIsSentAsFfff) {
  // Choose the 2 payload bytes so that the data sums to 0xffff: the checksum computes to 0.
  auto frame = eth().ipv4(kIp4A, kIp4B).udp(1000, 2000).payload(2, 0).build();
  size_t l4 = kEth + 20;
  frame[l4 + 6] = frame[l4 + 7] = 0;
  uint16_t rest = refSum(range(frame, l4, frame.size()),
                         pseudoSum(frame, kEth, false, packet::kIpProtoUdp, frame.size() - l4));
  uint16_t fill = static_cast<uint16_t>(~rest);
  frame[frame.size() - 2] = static_cast<uint8_t>(fill >> 8);
  frame[frame.size() - 1] = static_cast<uint8_t>(fill);
  EXPECT_TRUE(completeChecksums(frame));
  EXPECT_EQ(frame[l4 + 6], 0xff);
  EXPECT_EQ(frame[l4 + 7], 0xff);
  expectChecksumsValid(frame, false, packet::kIpProtoUdp);
}

TEST(CompleteChecksums, LeavesAloneWhatItCannotComplete) {
  std::vector<std::vector<uint8_t>> frames = {
      packet::testing::arpFrame(),
      eth().ethType(0x88cc).payload(30).build(),
      eth().ipv4(kIp4A, kIp4B).fragment(0, true).udp(1, 2).payload(16).build(),
      eth().ipv4(kIp4A, kIp4B).fragment(3, false).udp(1, 2).build(),
      eth().vlan(100).vlan(10).ipv4(kIp4A, kIp4B).udp(1, 2).build(),
      eth().ipv6(kIp6A, kIp6B).ipv6ExtHeader(60).udp(1, 2).build(),
  };
  auto truncated = packet::testing::tcp4Frame();
  truncated.resize(truncated.size() - 10);
  frames.push_back(truncated);
  for (auto& frame : frames) {
    auto before = frame;
    EXPECT_FALSE(completeChecksums(frame));
    EXPECT_EQ(frame, before);
  }
}

TEST(VxlanHeader, MakeAndParse) {
  VxlanHeader h = VxlanHeader::make(0x123456);
  const uint8_t expected[8] = {0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0};
  EXPECT_EQ(std::memcmp(h.bytes, expected, 8), 0);
  EXPECT_EQ(VxlanHeader::parseVni(h.bytes), 0x123456u);
  const uint8_t no_flag[8] = {0, 0, 0, 0, 0, 0, 1, 0};
  EXPECT_EQ(VxlanHeader::parseVni(no_flag), std::nullopt);
  EXPECT_EQ(VxlanHeader::parseVni(std::span<const uint8_t>(expected, 7)), std::nullopt);
  EXPECT_EQ(kVxlanUdpPort, 4789);
}

// A UDP socket on 127.0.0.1, random port.
class UdpReceiver {
 public:
  UdpReceiver() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return;
    socklen_t len = sizeof(a);
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) return;
    port_ = ntohs(a.sin_port);
  }
  ~UdpReceiver() {
    if (fd_ >= 0) ::close(fd_);
  }
  uint16_t port() const { return port_; }
  // One datagram, or empty after 2 s.
  std::vector<uint8_t> receive() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 2000) != 1) return {};
    std::vector<uint8_t> buf(65536);
    ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return buf;
  }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

TEST(PacketSender, SendVxlanToLoopback) {
  auto sender = PacketSender::open();
  if (!sender.ok() && sender.status().code() == StatusCode::PermissionDenied) {
    GTEST_SKIP() << "needs CAP_NET_RAW: " << sender.status().toString();
  }
  ASSERT_TRUE(sender.ok()) << sender.status().toString();
  UdpReceiver rx;
  ASSERT_NE(rx.port(), 0);

  auto frame = packet::testing::tcp4Frame();
  Status s = (*sender)->sendVxlan(INADDR_LOOPBACK, 0xabcdef, frame, rx.port());
  ASSERT_TRUE(s.ok()) << s.toString();
  std::vector<uint8_t> got = rx.receive();
  ASSERT_EQ(got.size(), VxlanHeader::kSize + frame.size());
  EXPECT_EQ(VxlanHeader::parseVni(got), 0xabcdefu);
  EXPECT_EQ(got[0], 0x08);
  EXPECT_EQ(got[7], 0);
  EXPECT_EQ(std::vector<uint8_t>(got.begin() + VxlanHeader::kSize, got.end()), frame);
  EXPECT_EQ((*sender)->sent(), 1u);
  EXPECT_EQ((*sender)->failed(), 0u);

  EXPECT_EQ((*sender)->sendVxlan(INADDR_LOOPBACK, 1u << 24, frame, rx.port()).code(),
            StatusCode::InvalidArgument);
  EXPECT_EQ((*sender)->failed(), 1u);
}

TEST(PacketSender, SendToInterfaceErrors) {
  auto sender = PacketSender::open();
  if (!sender.ok() && sender.status().code() == StatusCode::PermissionDenied) {
    GTEST_SKIP() << "needs CAP_NET_RAW: " << sender.status().toString();
  }
  ASSERT_TRUE(sender.ok()) << sender.status().toString();
  const uint8_t runt[10] = {};
  EXPECT_EQ((*sender)->sendToInterface(1, runt).code(), StatusCode::InvalidArgument);
  // No such interface: the kernel refuses (ENXIO/ENODEV), nothing is sent anywhere.
  Status s = (*sender)->sendToInterface(0x7ffffff0, packet::testing::tcp4Frame());
  EXPECT_FALSE(s.ok());
  EXPECT_EQ((*sender)->sent(), 0u);
  EXPECT_EQ((*sender)->failed(), 2u);
}

}  // namespace
}  // namespace loom::datapath
