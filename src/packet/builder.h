#pragma once
// PacketBuilder: builds well-formed frames for tests, tools and the simulation's generated
// packets (ARP replies and requests, ICMP errors and echo replies).
//
// Layers are added outermost first; build() fills in lengths and checksums (IPv4 header, TCP,
// UDP, ICMPv4, ICMPv6) unless a raw override was requested. Example:
//
//   auto frame = PacketBuilder()
//                    .eth(src_mac, dst_mac)
//                    .ipv4(IpAddr::parse("10.0.0.1").value(), IpAddr::parse("10.0.1.1").value())
//                    .ttl(64)
//                    .tcp(40000, 80)
//                    .tcpFlags(kTcpSyn)
//                    .build();

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "packet/addr.h"

namespace loom::packet {

inline constexpr uint16_t kTcpFin = 0x01;
inline constexpr uint16_t kTcpSyn = 0x02;
inline constexpr uint16_t kTcpRst = 0x04;
inline constexpr uint16_t kTcpPsh = 0x08;
inline constexpr uint16_t kTcpAck = 0x10;

// ICMPv4 types and codes used across loom.
inline constexpr uint8_t kIcmpEchoReply = 0;
inline constexpr uint8_t kIcmpDestUnreachable = 3;
inline constexpr uint8_t kIcmpRedirect = 5;
inline constexpr uint8_t kIcmpEchoRequest = 8;
inline constexpr uint8_t kIcmpTimeExceeded = 11;
inline constexpr uint8_t kIcmpParamProblem = 12;
inline constexpr uint8_t kIcmpCodeNetUnreachable = 0;
inline constexpr uint8_t kIcmpCodeHostUnreachable = 1;
inline constexpr uint8_t kIcmpCodeFragNeeded = 4;
inline constexpr uint8_t kIcmpCodeNetProhibited = 9;
inline constexpr uint8_t kIcmpCodeHostProhibited = 10;
inline constexpr uint8_t kIcmpCodeAdminProhibited = 13;
inline constexpr uint8_t kIcmpCodeTtlExceeded = 0;
inline constexpr uint8_t kIcmpv6EchoRequest = 128;
inline constexpr uint8_t kIcmpv6EchoReply = 129;

// True for ICMPv4 error message types (3, 4, 5, 11, 12): RFC 1812 4.3.2.7 forbids sending an
// ICMP error about one of these.
bool isIcmpv4Error(uint8_t type);

class PacketBuilder {
 public:
  PacketBuilder& eth(MacAddr src, MacAddr dst);
  // Adds an 802.1Q tag (call twice for QinQ: the first call is the outer tag, TPID 0x88a8).
  PacketBuilder& vlan(uint16_t vid, uint8_t pcp = 0);
  // Overrides the ethertype written after the tags (otherwise derived from the next layer;
  // 0x88b5, IEEE local experimental, for a frame with no L3 layer).
  PacketBuilder& ethType(uint16_t type);

  PacketBuilder& arp(uint16_t op, MacAddr sha, const IpAddr& spa, MacAddr tha, const IpAddr& tpa);

  PacketBuilder& ipv4(const IpAddr& src, const IpAddr& dst);
  PacketBuilder& ipv6(const IpAddr& src, const IpAddr& dst);
  PacketBuilder& ttl(uint8_t ttl);  // IPv4 TTL or IPv6 hop limit. Default 64.
  PacketBuilder& tos(uint8_t tos);  // IPv4 TOS or IPv6 traffic class.
  PacketBuilder& ipId(uint16_t id);
  PacketBuilder& dontFragment(bool df = true);
  // IPv4: sets MF and the offset (in 8-byte units). IPv6: adds a fragment header after the
  // headers added with ipv6ExtHeader().
  PacketBuilder& fragment(uint16_t offset_units, bool more_fragments, uint32_t ident = 0x1234);
  PacketBuilder& ipv4Options(std::span<const uint8_t> options);  // Padded to 4 bytes.
  // IPv6 extension header (hop-by-hop 0, routing 43, destination options 60): `body` is the
  // header after its next-header/length bytes, padded with zeros (Pad1) to a multiple of 8
  // bytes in total. AH (51) is padded the same way with its length in 4-byte units; a
  // fragment header (44) is always 8 bytes (the body gives its last 6). Headers are chained in
  // call order.
  PacketBuilder& ipv6ExtHeader(uint8_t type, std::span<const uint8_t> body = {});
  // Overrides the IP protocol / IPv6 next header written for the last L3 header. Without it and
  // without an L4 layer, IPv4 gets 253 (RFC 3692 experimental) and IPv6 59 (no next header).
  PacketBuilder& ipProto(uint8_t proto);

  PacketBuilder& tcp(uint16_t sport, uint16_t dport);
  PacketBuilder& tcpFlags(uint16_t flags);
  PacketBuilder& tcpSeq(uint32_t seq, uint32_t ack = 0);
  PacketBuilder& udp(uint16_t sport, uint16_t dport);
  // ICMPv4 or ICMPv6 (chosen by the L3 family): type, code, and the 4 bytes after the checksum.
  PacketBuilder& icmp(uint8_t type, uint8_t code, uint32_t rest_of_header = 0);
  PacketBuilder& icmpEcho(bool request, uint16_t id, uint16_t seq);
  // VXLAN header with the I flag and `vni`; the inner frame follows as payload.
  PacketBuilder& vxlan(uint32_t vni);

  PacketBuilder& payload(std::span<const uint8_t> bytes);
  PacketBuilder& payload(size_t size, uint8_t fill = 0xab);

  // Frame with lengths and checksums filled in. Frames shorter than 60 bytes are NOT padded
  // unless padToMinimum() was called.
  PacketBuilder& padToMinimum(bool pad = true);
  std::vector<uint8_t> build() const;

 private:
  struct Vlan {
    uint16_t vid;
    uint8_t pcp;
  };
  struct ExtHeader {
    uint8_t type;
    std::vector<uint8_t> body;
  };
  enum class L3 : uint8_t { None, Arp, Ipv4, Ipv6 };
  enum class L4 : uint8_t { None, Tcp, Udp, Icmp };

  MacAddr eth_src_, eth_dst_;
  bool has_eth_ = false;
  std::vector<Vlan> vlans_;
  std::optional<uint16_t> eth_type_;
  L3 l3_ = L3::None;
  uint16_t arp_op_ = 0;
  MacAddr arp_sha_, arp_tha_;
  IpAddr arp_spa_, arp_tpa_, ip_src_, ip_dst_;
  uint8_t ttl_ = 64, tos_ = 0;
  uint16_t ip_id_ = 0;
  bool df_ = false;
  bool is_fragment_ = false;
  uint16_t frag_offset_ = 0;
  bool more_fragments_ = false;
  uint32_t frag_ident_ = 0;
  std::vector<uint8_t> ipv4_options_;
  std::vector<ExtHeader> ext_headers_;
  std::optional<uint8_t> ip_proto_;
  L4 l4_ = L4::None;
  uint16_t sport_ = 0, dport_ = 0, tcp_flags_ = 0;
  uint32_t tcp_seq_ = 0, tcp_ack_ = 0;
  uint8_t icmp_type_ = 0, icmp_code_ = 0;
  uint32_t icmp_rest_ = 0;
  bool has_vxlan_ = false;
  uint32_t vni_ = 0;
  std::vector<uint8_t> payload_;
  bool pad_ = false;
};

}  // namespace loom::packet
