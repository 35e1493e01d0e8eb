#pragma once
// Shared addresses and frames for the packet tests: one well-formed frame of every kind the
// parser understands, built with PacketBuilder.

#include <cstdint>
#include <string>
#include <vector>

#include "packet/addr.h"
#include "packet/builder.h"
#include "packet/flow_match.h"
#include "packet/parser.h"

namespace loom::packet::testing {

inline MacAddr mac(const char* text) { return MacAddr::parse(text).value(); }
inline IpAddr ip(const char* text) { return IpAddr::parse(text).value(); }

inline const MacAddr kMacA = MacAddr::fromU64(0x020000000001ULL);
inline const MacAddr kMacB = MacAddr::fromU64(0x020000000002ULL);
inline const IpAddr kIp4A = IpAddr::v4(0x0a000001);  // 10.0.0.1
inline const IpAddr kIp4B = IpAddr::v4(0x0a000101);  // 10.0.1.1
inline const IpAddr kIp6A = IpAddr::parse("fd00::1").value();
inline const IpAddr kIp6B = IpAddr::parse("fd00:1::2").value();

// Ethernet header from A to B.
inline PacketBuilder eth() { return PacketBuilder().eth(kMacA, kMacB); }

// 74 bytes: Ethernet + IPv4 + TCP SYN + 20 bytes of payload.
inline std::vector<uint8_t> tcp4Frame() {
  return eth().ipv4(kIp4A, kIp4B).ttl(64).tcp(1234, 80).tcpFlags(kTcpSyn).payload(20).build();
}
inline std::vector<uint8_t> udp4Frame() {
  return eth().ipv4(kIp4A, kIp4B).udp(5000, 53).payload(12).build();
}
inline std::vector<uint8_t> icmp4EchoFrame() {
  return eth().ipv4(kIp4A, kIp4B).icmpEcho(true, 0x4242, 1).payload(16).build();
}
inline std::vector<uint8_t> arpFrame() {
  return PacketBuilder()
      .eth(kMacA, MacAddr::broadcast())
      .arp(kArpOpRequest, kMacA, kIp4A, MacAddr(), kIp4B)
      .build();
}
inline std::vector<uint8_t> tcp6Frame() {
  return eth().ipv6(kIp6A, kIp6B).ttl(64).tcp(1234, 443).tcpFlags(kTcpAck).payload(8).build();
}
inline std::vector<uint8_t> udp6Frame() {
  return eth().ipv6(kIp6A, kIp6B).udp(5000, 53).payload(10).build();
}
inline std::vector<uint8_t> icmp6EchoFrame() {
  return eth().ipv6(kIp6A, kIp6B).icmpEcho(true, 0x77, 3).payload(8).build();
}
// VXLAN (VNI 5001) around a TCP/IPv4 frame between two other hosts.
inline std::vector<uint8_t> innerTcpFrame() {
  return PacketBuilder()
      .eth(mac("02:00:00:00:00:0a"), mac("02:00:00:00:00:0b"))
      .ipv4(ip("192.168.0.1"), ip("192.168.0.2"))
      .tcp(3333, 22)
      .tcpFlags(kTcpAck | kTcpPsh)
      .payload(4)
      .build();
}
inline std::vector<uint8_t> vxlanFrame() {
  return eth()
      .ipv4(kIp4A, kIp4B)
      .udp(49152, kVxlanPort)
      .vxlan(5001)
      .payload(innerTcpFrame())
      .build();
}

struct NamedFrame {
  std::string name;
  std::vector<uint8_t> bytes;
  ParseOptions opts;
};

// One valid frame of every protocol and option the parser handles.
inline std::vector<NamedFrame> allValidFrames() {
  const uint8_t opts4[] = {0x94, 0x04, 0x00, 0x00};  // Router alert.
  const uint8_t body6[] = {1, 2, 0, 0, 0, 0};        // PadN.
  ParseOptions vx{.decode_vxlan = true};
  return {
      {"tcp4", tcp4Frame(), {}},
      {"udp4", udp4Frame(), {}},
      {"icmp4_echo", icmp4EchoFrame(), {}},
      {"icmp4_unreachable",
       eth()
           .ipv4(kIp4A, kIp4B)
           .icmp(kIcmpDestUnreachable, kIcmpCodeHostUnreachable)
           .payload(28)
           .build(),
       {}},
      {"arp", arpFrame(), {}},
      {"vlan_tcp4", eth().vlan(10).ipv4(kIp4A, kIp4B).tcp(1, 2).build(), {}},
      {"qinq_udp4", eth().vlan(100).vlan(10).ipv4(kIp4A, kIp4B).udp(1, 2).build(), {}},
      {"ipv4_options", eth().ipv4(kIp4A, kIp4B).ipv4Options(opts4).tcp(1, 2).build(), {}},
      {"ipv4_first_fragment",
       eth().ipv4(kIp4A, kIp4B).fragment(0, true).udp(1, 2).payload(16).build(),
       {}},
      {"ipv4_later_fragment", eth().ipv4(kIp4A, kIp4B).fragment(3, false).udp(1, 2).build(), {}},
      {"ipv4_unknown_proto", eth().ipv4(kIp4A, kIp4B).ipProto(47).payload(8).build(), {}},
      {"tcp6", tcp6Frame(), {}},
      {"udp6", udp6Frame(), {}},
      {"icmp6_echo", icmp6EchoFrame(), {}},
      {"ipv6_hop_by_hop", eth().ipv6(kIp6A, kIp6B).ipv6ExtHeader(0, body6).udp(1, 2).build(), {}},
      {"ipv6_ext_chain",
       eth()
           .ipv6(kIp6A, kIp6B)
           .ipv6ExtHeader(0, body6)
           .ipv6ExtHeader(60, body6)
           .ipv6ExtHeader(43, body6)
           .ipv6ExtHeader(51, body6)
           .tcp(1, 2)
           .build(),
       {}},
      {"ipv6_first_fragment", eth().ipv6(kIp6A, kIp6B).fragment(0, true).tcp(1, 2).build(), {}},
      {"ipv6_later_fragment", eth().ipv6(kIp6A, kIp6B).fragment(9, true).tcp(1, 2).build(), {}},
      {"ipv6_esp", eth().ipv6(kIp6A, kIp6B).ipProto(50).payload(24).build(), {}},
      {"vxlan", vxlanFrame(), vx},
      {"unknown_ethertype", eth().ethType(0x88cc).payload(30).build(), {}},
      {"padded_udp4", eth().ipv4(kIp4A, kIp4B).udp(1, 2).padToMinimum().build(), {}},
  };
}

}  // namespace loom::packet::testing
