#include "packet/builder.h"

#include <algorithm>

#include "packet/checksum.h"
#include "packet/flow_match.h"

namespace loom::packet {

namespace {

constexpr uint8_t kIpv6Fragment = 44;
constexpr uint8_t kIpv6Ah = 51;
constexpr uint8_t kIpv6NoNextHeader = 59;
constexpr uint8_t kIpProtoExperimental = 253;      // RFC 3692: IPv4 protocol when there is no L4.
constexpr uint16_t kEthTypeExperimental = 0x88b5;  // IEEE local experimental: L2-only frames.
constexpr size_t kMinFrameSize = 60;
constexpr size_t kMaxIpv4Options = 40;
constexpr size_t kMaxIpv6ExtSize = 2048;

void put8(std::vector<uint8_t>& out, uint8_t v) { out.push_back(v); }
void put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}
void put32(std::vector<uint8_t>& out, uint32_t v) {
  put16(out, static_cast<uint16_t>(v >> 16));
  put16(out, static_cast<uint16_t>(v));
}
void putMac(std::vector<uint8_t>& out, MacAddr m) {
  uint8_t b[6];
  m.toBytes(b);
  out.insert(out.end(), b, b + 6);
}
void putIp(std::vector<uint8_t>& out, const IpAddr& a, bool v6) {
  uint8_t b[16] = {};
  if (v6 && a.isV6()) {
    a.toBytes(b);
    out.insert(out.end(), b, b + 16);
  } else if (!v6 && a.isV4()) {
    a.toBytes(b);
    out.insert(out.end(), b, b + 4);
  } else {
    // Wrong family or unset: zeros of the right size.
    out.insert(out.end(), b, b + (v6 ? 16 : 4));
  }
}
void set16(std::vector<uint8_t>& out, size_t off, uint16_t v) {
  out[off] = static_cast<uint8_t>(v >> 8);
  out[off + 1] = static_cast<uint8_t>(v);
}

}  // namespace

bool isIcmpv4Error(uint8_t type) {
  return type == kIcmpDestUnreachable || type == 4 || type == kIcmpRedirect ||
         type == kIcmpTimeExceeded || type == kIcmpParamProblem;
}

PacketBuilder& PacketBuilder::eth(MacAddr src, MacAddr dst) {
  eth_src_ = src;
  eth_dst_ = dst;
  has_eth_ = true;
  return *this;
}

PacketBuilder& PacketBuilder::vlan(uint16_t vid, uint8_t pcp) {
  vlans_.push_back(Vlan{vid, pcp});
  return *this;
}

PacketBuilder& PacketBuilder::ethType(uint16_t type) {
  eth_type_ = type;
  return *this;
}

PacketBuilder& PacketBuilder::arp(uint16_t op, MacAddr sha, const IpAddr& spa, MacAddr tha,
                                  const IpAddr& tpa) {
  l3_ = L3::Arp;
  arp_op_ = op;
  arp_sha_ = sha;
  arp_spa_ = spa;
  arp_tha_ = tha;
  arp_tpa_ = tpa;
  return *this;
}

PacketBuilder& PacketBuilder::ipv4(const IpAddr& src, const IpAddr& dst) {
  l3_ = L3::Ipv4;
  ip_src_ = src;
  ip_dst_ = dst;
  return *this;
}

PacketBuilder& PacketBuilder::ipv6(const IpAddr& src, const IpAddr& dst) {
  l3_ = L3::Ipv6;
  ip_src_ = src;
  ip_dst_ = dst;
  return *this;
}

PacketBuilder& PacketBuilder::ttl(uint8_t ttl) {
  ttl_ = ttl;
  return *this;
}

PacketBuilder& PacketBuilder::tos(uint8_t tos) {
  tos_ = tos;
  return *this;
}

PacketBuilder& PacketBuilder::ipId(uint16_t id) {
  ip_id_ = id;
  return *this;
}

PacketBuilder& PacketBuilder::dontFragment(bool df) {
  df_ = df;
  return *this;
}

PacketBuilder& PacketBuilder::fragment(uint16_t offset_units, bool more_fragments, uint32_t ident) {
  is_fragment_ = true;
  frag_offset_ = offset_units & 0x1fff;
  more_fragments_ = more_fragments;
  frag_ident_ = ident;
  return *this;
}

PacketBuilder& PacketBuilder::ipv4Options(std::span<const uint8_t> options) {
  ipv4_options_.assign(options.begin(), options.begin() + static_cast<std::ptrdiff_t>(std::min(
                                                              options.size(), kMaxIpv4Options)));
  while (ipv4_options_.size() % 4 != 0) ipv4_options_.push_back(0);  // End of option list.
  return *this;
}

PacketBuilder& PacketBuilder::ipv6ExtHeader(uint8_t type, std::span<const uint8_t> body) {
  ext_headers_.push_back(ExtHeader{type, std::vector<uint8_t>(body.begin(), body.end())});
  return *this;
}

PacketBuilder& PacketBuilder::ipProto(uint8_t proto) {
  ip_proto_ = proto;
  return *this;
}

PacketBuilder& PacketBuilder::tcp(uint16_t sport, uint16_t dport) {
  l4_ = L4::Tcp;
  sport_ = sport;
  dport_ = dport;
  return *this;
}

PacketBuilder& PacketBuilder::tcpFlags(uint16_t flags) {
  tcp_flags_ = flags;
  return *this;
}

PacketBuilder& PacketBuilder::tcpSeq(uint32_t seq, uint32_t ack) {
  tcp_seq_ = seq;
  tcp_ack_ = ack;
  return *this;
}

PacketBuilder& PacketBuilder::udp(uint16_t sport, uint16_t dport) {
  l4_ = L4::Udp;
  sport_ = sport;
  dport_ = dport;
  return *this;
}

PacketBuilder& PacketBuilder::icmp(uint8_t type, uint8_t code, uint32_t rest_of_header) {
  l4_ = L4::Icmp;
  icmp_type_ = type;
  icmp_code_ = code;
  icmp_rest_ = rest_of_header;
  return *this;
}

PacketBuilder& PacketBuilder::icmpEcho(bool request, uint16_t id, uint16_t seq) {
  uint8_t type;
  if (l3_ == L3::Ipv6) {
    type = request ? kIcmpv6EchoRequest : kIcmpv6EchoReply;
  } else {
    type = request ? kIcmpEchoRequest : kIcmpEchoReply;
  }
  return icmp(type, 0, (uint32_t{id} << 16) | seq);
}

PacketBuilder& PacketBuilder::vxlan(uint32_t vni) {
  has_vxlan_ = true;
  vni_ = vni & 0xffffff;
  return *this;
}

PacketBuilder& PacketBuilder::payload(std::span<const uint8_t> bytes) {
  payload_.insert(payload_.end(), bytes.begin(), bytes.end());
  return *this;
}

PacketBuilder& PacketBuilder::payload(size_t size, uint8_t fill) {
  payload_.insert(payload_.end(), size, fill);
  return *this;
}

PacketBuilder& PacketBuilder::padToMinimum(bool pad) {
  pad_ = pad;
  return *this;
}

std::vector<uint8_t> PacketBuilder::build() const {
  std::vector<uint8_t> out;
  out.reserve(128 + payload_.size());

  // Ethernet and tags. With two or more tags the outer ones are 802.1ad, the innermost 802.1Q.
  putMac(out, eth_dst_);
  putMac(out, eth_src_);
  for (size_t i = 0; i < vlans_.size(); ++i) {
    put16(out, i + 1 < vlans_.size() ? kEthTypeQinQ : kEthTypeVlan);
    put16(out, static_cast<uint16_t>((vlans_[i].pcp & 0x7) << 13 | (vlans_[i].vid & 0x0fff)));
  }
  uint16_t derived = kEthTypeExperimental;
  if (l3_ == L3::Arp) derived = kEthTypeArp;
  if (l3_ == L3::Ipv4) derived = kEthTypeIpv4;
  if (l3_ == L3::Ipv6) derived = kEthTypeIpv6;
  put16(out, eth_type_.value_or(derived));

  if (l3_ == L3::Arp) {
    put16(out, 1);
    put16(out, kEthTypeIpv4);
    put8(out, 6);
    put8(out, 4);
    put16(out, arp_op_);
    putMac(out, arp_sha_);
    putIp(out, arp_spa_, false);
    putMac(out, arp_tha_);
    putIp(out, arp_tpa_, false);
  }

  const bool v4 = l3_ == L3::Ipv4;
  const bool v6 = l3_ == L3::Ipv6;
  uint8_t l4_proto = v6 ? kIpv6NoNextHeader : kIpProtoExperimental;
  if (l4_ == L4::Tcp) l4_proto = kIpProtoTcp;
  if (l4_ == L4::Udp) l4_proto = kIpProtoUdp;
  if (l4_ == L4::Icmp) l4_proto = v6 ? kIpProtoIcmpv6 : kIpProtoIcmp;
  const uint8_t last_proto = ip_proto_.value_or(l4_proto);

  size_t l3 = out.size();
  if (v4) {
    put8(out, static_cast<uint8_t>(0x40 | ((20 + ipv4_options_.size()) / 4)));
    put8(out, tos_);
    put16(out, 0);  // Total length, below.
    put16(out, ip_id_);
    uint16_t frag = is_fragment_ ? frag_offset_ : 0;
    if (df_) frag |= 0x4000;
    if (is_fragment_ && more_fragments_) frag |= 0x2000;
    put16(out, frag);
    put8(out, ttl_);
    put8(out, last_proto);
    put16(out, 0);  // Header checksum, below.
    putIp(out, ip_src_, false);
    putIp(out, ip_dst_, false);
    out.insert(out.end(), ipv4_options_.begin(), ipv4_options_.end());
  } else if (v6) {
    put32(out, (uint32_t{6} << 28) | (uint32_t{tos_} << 20));
    put16(out, 0);  // Payload length, below.
    size_t next_at = out.size();
    put8(out, 0);  // Next header, chained below.
    put8(out, ttl_);
    putIp(out, ip_src_, true);
    putIp(out, ip_dst_, true);
    for (const ExtHeader& h : ext_headers_) {
      out[next_at] = h.type;
      next_at = out.size();
      put8(out, 0);
      size_t start = out.size() - 1;
      size_t body = std::min(h.body.size(), kMaxIpv6ExtSize - 2);
      if (h.type == kIpv6Fragment) body = std::min<size_t>(h.body.size(), 6);
      put8(out, 0);  // Length, below.
      out.insert(out.end(), h.body.begin(), h.body.begin() + static_cast<std::ptrdiff_t>(body));
      size_t size = 2 + body;
      if (h.type == kIpv6Fragment) size = 8;
      size = (size + 7) / 8 * 8;
      out.resize(start + size, 0);  // Zero bytes are Pad1 options.
      if (h.type == kIpv6Ah) {
        out[start + 1] = static_cast<uint8_t>(size / 4 - 2);
      } else if (h.type != kIpv6Fragment) {
        out[start + 1] = static_cast<uint8_t>(size / 8 - 1);
      }
    }
    if (is_fragment_) {
      out[next_at] = kIpv6Fragment;
      next_at = out.size();
      put8(out, 0);
      put8(out, 0);
      put16(out, static_cast<uint16_t>((frag_offset_ << 3) | (more_fragments_ ? 1 : 0)));
      put32(out, frag_ident_);
    }
    out[next_at] = last_proto;
  }

  size_t l4 = out.size();
  if (l4_ == L4::Tcp) {
    put16(out, sport_);
    put16(out, dport_);
    put32(out, tcp_seq_);
    put32(out, tcp_ack_);
    put16(out, static_cast<uint16_t>((5 << 12) | (tcp_flags_ & 0x01ff)));
    put16(out, 0xffff);  // Window.
    put16(out, 0);       // Checksum, below.
    put16(out, 0);       // Urgent pointer.
  } else if (l4_ == L4::Udp) {
    put16(out, sport_);
    put16(out, dport_);
    put16(out, 0);  // Length, below.
    put16(out, 0);  // Checksum, below.
  } else if (l4_ == L4::Icmp) {
    put8(out, icmp_type_);
    put8(out, icmp_code_);
    put16(out, 0);  // Checksum, below.
    put32(out, icmp_rest_);
  }
  if (has_vxlan_) {
    put32(out, 0x08000000);
    put32(out, vni_ << 8);
  }
  out.insert(out.end(), payload_.begin(), payload_.end());
  const size_t end = out.size();

  // Lengths.
  if (v4) set16(out, l3 + 2, static_cast<uint16_t>(end - l3));
  if (v6) set16(out, l3 + 4, static_cast<uint16_t>(end - l3 - 40));
  if (l4_ == L4::Udp) set16(out, l4 + 4, static_cast<uint16_t>(end - l4));

  // Checksums: L4 first (the IPv4 header checksum does not cover it).
  if ((v4 || v6) && l4_ != L4::None) {
    std::span<const uint8_t> segment(out.data() + l4, end - l4);
    auto length = static_cast<uint32_t>(segment.size());
    if (l4_ == L4::Tcp) {
      set16(out, l4 + 16,
            internetChecksum(segment, pseudoHeaderSum(ip_src_, ip_dst_, kIpProtoTcp, length)));
    } else if (l4_ == L4::Udp) {
      uint16_t sum =
          internetChecksum(segment, pseudoHeaderSum(ip_src_, ip_dst_, kIpProtoUdp, length));
      set16(out, l4 + 6, sum == 0 ? 0xffff : sum);
    } else if (v6) {
      set16(out, l4 + 2,
            internetChecksum(segment, pseudoHeaderSum(ip_src_, ip_dst_, kIpProtoIcmpv6, length)));
    } else {
      set16(out, l4 + 2, internetChecksum(segment));
    }
  }
  if (v4) {
    size_t header_size = 20 + ipv4_options_.size();
    set16(out, l3 + 10, internetChecksum(std::span<const uint8_t>(out.data() + l3, header_size)));
  }

  if (pad_ && out.size() < kMinFrameSize) out.resize(kMinFrameSize, 0);
  return out;
}

}  // namespace loom::packet
