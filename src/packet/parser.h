#pragma once
// Bounds-checked packet parsing and flow-key extraction.
//
// parsePacket() walks Ethernet -> up to two 802.1Q/802.1ad tags -> ARP | IPv4 | IPv6 -> TCP |
// UDP | ICMPv4 | ICMPv6 (and VXLAN inside UDP to port 4789, when asked). It never reads past
// the end of the buffer. A frame that is truncated or internally inconsistent is rejected with
// a ParseError naming the first problem found; the caller drops it and counts the reason.
//
// Accepted but not errors: Ethernet padding after the IP datagram; unknown ethertypes (L2-only
// key); unknown IP protocols (L3 key); later IP fragments (no L4 key); IPv4 options (skipped);
// IPv6 extension headers hop-by-hop, routing, fragment, destination options and AH (skipped to
// find the upper-layer protocol); IPv6 ESP and "no next header" end the walk (L3-only key).

#include <cstddef>
#include <cstdint>
#include <span>

#include "packet/flow_match.h"

namespace loom::packet {

enum class ParseError : uint8_t {
  None = 0,
  TruncatedEthernet,
  TruncatedVlan,
  TooManyVlanTags,
  TruncatedArp,
  BadArp,  // Not Ethernet/IPv4 ARP (htype 1, ptype 0x0800, hlen 6, plen 4).
  TruncatedIpv4,
  BadIpv4Version,
  BadIpv4HeaderLength,  // IHL < 5 or header longer than the datagram (IHL * 4 > total length).
  BadIpv4TotalLength,   // Total length > bytes present.
  TruncatedIpv6,
  BadIpv6Version,
  BadIpv6PayloadLength,  // Payload length > bytes present (jumbograms unsupported).
  TruncatedIpv6ExtHeader,
  TooManyIpv6ExtHeaders,
  BadIpv6Fragment,  // Fragment header repeated, or after an AH header.
  TruncatedTcp,
  BadTcpDataOffset,
  TruncatedUdp,
  BadUdpLength,
  TruncatedIcmp,
  TruncatedIcmpv6,
  TruncatedVxlan,
  BadVxlanFlags,    // The I flag (VNI valid) is not set.
  BadIpv6HopByHop,  // Hop-by-hop options header anywhere but first (RFC 8200 4.1).
  FrameTooLarge,    // Longer than kMaxFrameSize: offsets would not fit in 16 bits.
  Count,
};

// "truncated_ipv4", ...: stable names used for drop counters.
const char* parseErrorName(ParseError e);

inline constexpr uint16_t kVxlanPort = 4789;
inline constexpr int kMaxVlanTags = 2;
inline constexpr int kMaxIpv6ExtHeaders = 8;
inline constexpr size_t kMaxFrameSize = 0xfffe;

enum class L4Kind : uint8_t { None, Tcp, Udp, Icmp, Icmpv6 };

struct ParseOptions {
  // Parse a VXLAN header when UDP destination port is kVxlanPort in a non-fragmented datagram
  // (the inner frame is not parsed; call parsePacket again on ParsedPacket::vxlanInner()).
  bool decode_vxlan = false;
};

struct ParsedPacket {
  std::span<const uint8_t> frame;  // The whole frame, as given.
  ParseError error = ParseError::None;
  bool ok() const { return error == ParseError::None; }

  FlowFields fields;  // Valid up to the layer that parsed (also partially on error).

  // Byte offsets from the start of the frame; kAbsent where a layer is missing.
  static constexpr uint16_t kAbsent = 0xffff;
  uint16_t l3_offset = kAbsent;  // IPv4/IPv6/ARP header.
  // TCP/UDP/ICMP header: absent for later fragments, unknown protocols, ESP and no-next-header.
  uint16_t l4_offset = kAbsent;
  uint16_t payload_offset = kAbsent;  // After the L4 header (and its options).
  // End of the IP datagram or ARP packet (excludes Ethernet padding); 0 without L3.
  // When present: l3_offset <= l4_offset <= payload_offset <= l3_end <= frame.size().
  uint16_t l3_end = 0;
  uint8_t vlan_tags = 0;
  L4Kind l4 = L4Kind::None;

  // IPv4 details.
  uint8_t ipv4_ihl = 0;  // In 32-bit words.
  bool ipv4_dont_fragment = false;
  uint16_t ip_fragment_offset = 0;  // In 8-byte units (IPv4 or IPv6 fragment header).
  bool ip_more_fragments = false;
  uint32_t ip_fragment_id = 0;  // IPv4 identification or IPv6 fragment header identification.
  // IPv6: number of extension headers skipped to reach the upper-layer header.
  uint8_t ipv6_ext_headers = 0;

  // VXLAN (when ParseOptions::decode_vxlan and present).
  bool vxlan = false;
  uint32_t vni = 0;
  uint16_t vxlan_inner_offset = kAbsent;
  // The inner Ethernet frame: from after the VXLAN header to the end of the UDP datagram.
  std::span<const uint8_t> vxlanInner() const {
    if (!vxlan || l3_end < vxlan_inner_offset) return {};
    return frame.subspan(vxlan_inner_offset, l3_end - vxlan_inner_offset);
  }

  // The IP header and everything after it up to l3_end.
  std::span<const uint8_t> ipDatagram() const {
    if (l3_offset == kAbsent || l3_end <= l3_offset) return {};
    return frame.subspan(l3_offset, l3_end - l3_offset);
  }
};

ParsedPacket parsePacket(std::span<const uint8_t> frame, const ParseOptions& opts = {});

// The flow key of a parsed packet (its fields, no seen bits).
inline FlowMatch flowMatchOf(const ParsedPacket& p) { return FlowMatch(p.fields); }

}  // namespace loom::packet
