#include "packet/parser.h"

#include "base/assert.h"

namespace loom::packet {

namespace {

constexpr uint8_t kIpv6HopByHop = 0;
constexpr uint8_t kIpv6Routing = 43;
constexpr uint8_t kIpv6Fragment = 44;
constexpr uint8_t kIpv6Esp = 50;
constexpr uint8_t kIpv6Ah = 51;
constexpr uint8_t kIpv6NoNextHeader = 59;
constexpr uint8_t kIpv6DestOptions = 60;

constexpr size_t kEthHeaderSize = 14;
constexpr size_t kVlanTagSize = 4;
constexpr size_t kArpSize = 28;
constexpr size_t kIpv4MinHeaderSize = 20;
constexpr size_t kIpv6HeaderSize = 40;
constexpr size_t kTcpMinHeaderSize = 20;
constexpr size_t kUdpHeaderSize = 8;
constexpr size_t kIcmpHeaderSize = 8;
constexpr size_t kVxlanHeaderSize = 8;

// Big-endian reads at absolute offsets into a byte buffer. Callers prove a range with has()
// before reading it; debug builds assert it again. limit() shrinks the readable end, so the L4
// parsers cannot see Ethernet padding past the IP datagram.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> bytes) : data_(bytes.data()), end_(bytes.size()) {}

  size_t end() const { return end_; }
  bool has(size_t offset, size_t n) const { return offset <= end_ && n <= end_ - offset; }
  void limit(size_t end) {
    LOOM_ASSERT(end <= end_);
    end_ = end;
  }

  uint8_t u8(size_t off) const {
    LOOM_ASSERT(has(off, 1));
    return data_[off];
  }
  uint16_t u16(size_t off) const {
    LOOM_ASSERT(has(off, 2));
    return static_cast<uint16_t>((data_[off] << 8) | data_[off + 1]);
  }
  uint32_t u32(size_t off) const {
    LOOM_ASSERT(has(off, 4));
    return (uint32_t{data_[off]} << 24) | (uint32_t{data_[off + 1]} << 16) |
           (uint32_t{data_[off + 2]} << 8) | data_[off + 3];
  }
  MacAddr mac(size_t off) const {
    LOOM_ASSERT(has(off, 6));
    return MacAddr::fromBytes(data_ + off);
  }
  IpAddr ipv4(size_t off) const { return IpAddr::v4(u32(off)); }
  IpAddr ipv6(size_t off) const {
    LOOM_ASSERT(has(off, 16));
    return IpAddr::v6Bytes(data_ + off);
  }

 private:
  const uint8_t* data_;
  size_t end_;
};

// Offsets are below kMaxFrameSize (checked on entry), so they fit in 16 bits and never equal
// ParsedPacket::kAbsent.
uint16_t off16(size_t off) { return static_cast<uint16_t>(off); }

class Parser {
 public:
  Parser(ParsedPacket& p, const ParseOptions& opts)
      : p_(p), f_(p.fields), opts_(opts), r_(p.frame) {}

  ParseError run() {
    if (p_.frame.size() > kMaxFrameSize) return ParseError::FrameTooLarge;
    if (!r_.has(0, kEthHeaderSize)) return ParseError::TruncatedEthernet;
    f_.eth_dst = r_.mac(0);
    f_.eth_src = r_.mac(6);
    uint16_t type = r_.u16(12);
    size_t off = kEthHeaderSize;
    while (type == kEthTypeVlan || type == kEthTypeQinQ) {
      if (p_.vlan_tags == kMaxVlanTags) return ParseError::TooManyVlanTags;
      if (!r_.has(off, kVlanTagSize)) return ParseError::TruncatedVlan;
      if (p_.vlan_tags == 0) {
        f_.vlan_present = true;
        f_.vlan_id = r_.u16(off) & 0x0fff;
      }
      type = r_.u16(off + 2);
      off += kVlanTagSize;
      ++p_.vlan_tags;
    }
    f_.eth_type = type;
    switch (type) {
      case kEthTypeIpv4: return ipv4(off);
      case kEthTypeIpv6: return ipv6(off);
      case kEthTypeArp: return arp(off);
      default: return ParseError::None;  // L2-only key.
    }
  }

 private:
  ParseError arp(size_t off) {
    p_.l3_offset = off16(off);
    if (!r_.has(off, 8)) return ParseError::TruncatedArp;
    if (r_.u16(off) != 1 || r_.u16(off + 2) != kEthTypeIpv4 || r_.u8(off + 4) != 6 ||
        r_.u8(off + 5) != 4) {
      return ParseError::BadArp;
    }
    if (!r_.has(off, kArpSize)) return ParseError::TruncatedArp;
    f_.arp_op = r_.u16(off + 6);
    f_.arp_sha = r_.mac(off + 8);
    f_.arp_spa = r_.ipv4(off + 14);
    f_.arp_tha = r_.mac(off + 18);
    f_.arp_tpa = r_.ipv4(off + 24);
    p_.l3_end = off16(off + kArpSize);
    return ParseError::None;
  }

  ParseError ipv4(size_t off) {
    p_.l3_offset = off16(off);
    if (!r_.has(off, kIpv4MinHeaderSize)) return ParseError::TruncatedIpv4;
    uint8_t ver_ihl = r_.u8(off);
    if ((ver_ihl >> 4) != 4) return ParseError::BadIpv4Version;
    size_t header_size = size_t{ver_ihl & 0x0fu} * 4;
    if (header_size < kIpv4MinHeaderSize) return ParseError::BadIpv4HeaderLength;
    size_t total = r_.u16(off + 2);
    if (!r_.has(off, total)) return ParseError::BadIpv4TotalLength;
    if (header_size > total) return ParseError::BadIpv4HeaderLength;

    p_.ipv4_ihl = static_cast<uint8_t>(header_size / 4);
    f_.nw_tos = r_.u8(off + 1);
    p_.ip_fragment_id = r_.u16(off + 4);
    uint16_t frag = r_.u16(off + 6);
    p_.ipv4_dont_fragment = (frag & 0x4000) != 0;
    p_.ip_more_fragments = (frag & 0x2000) != 0;
    p_.ip_fragment_offset = frag & 0x1fff;
    f_.nw_ttl = r_.u8(off + 8);
    f_.nw_proto = r_.u8(off + 9);
    f_.nw_src = r_.ipv4(off + 12);
    f_.nw_dst = r_.ipv4(off + 16);
    f_.nw_frag = fragType(p_.ip_fragment_offset, p_.ip_more_fragments);
    p_.l3_end = off16(off + total);
    r_.limit(off + total);
    if (f_.nw_frag == FragType::Later) return ParseError::None;
    return l4(off + header_size, f_.nw_proto);
  }

  ParseError ipv6(size_t off) {
    p_.l3_offset = off16(off);
    if (!r_.has(off, kIpv6HeaderSize)) return ParseError::TruncatedIpv6;
    uint16_t first = r_.u16(off);
    if ((first >> 12) != 6) return ParseError::BadIpv6Version;
    size_t payload = r_.u16(off + 4);
    if (!r_.has(off + kIpv6HeaderSize, payload)) return ParseError::BadIpv6PayloadLength;
    f_.nw_tos = static_cast<uint8_t>(first >> 4);
    f_.nw_ttl = r_.u8(off + 7);
    f_.nw_src = r_.ipv6(off + 8);
    f_.nw_dst = r_.ipv6(off + 24);
    size_t end = off + kIpv6HeaderSize + payload;
    p_.l3_end = off16(end);
    r_.limit(end);
    return ipv6ExtHeaders(off + kIpv6HeaderSize, r_.u8(off + 6));
  }

  // Skips extension headers from `off`, where a header of type `next` starts, to the
  // upper-layer protocol.
  ParseError ipv6ExtHeaders(size_t off, uint8_t next) {
    bool seen_fragment = false;
    bool seen_ah = false;
    for (;;) {
      f_.nw_proto = next;
      size_t size;
      switch (next) {
        case kIpv6HopByHop:
        case kIpv6Routing:
        case kIpv6DestOptions:
        case kIpv6Ah:
        case kIpv6Fragment: break;
        case kIpv6Esp:
        case kIpv6NoNextHeader: return ParseError::None;  // L3-only key.
        default: return l4(off, next);
      }
      if (next == kIpv6HopByHop && p_.ipv6_ext_headers != 0) return ParseError::BadIpv6HopByHop;
      if (p_.ipv6_ext_headers == kMaxIpv6ExtHeaders) return ParseError::TooManyIpv6ExtHeaders;
      if (!r_.has(off, 2)) return ParseError::TruncatedIpv6ExtHeader;
      if (next == kIpv6Fragment) {
        size = 8;
      } else if (next == kIpv6Ah) {
        size = (size_t{r_.u8(off + 1)} + 2) * 4;
      } else {
        size = (size_t{r_.u8(off + 1)} + 1) * 8;
      }
      if (!r_.has(off, size)) return ParseError::TruncatedIpv6ExtHeader;
      ++p_.ipv6_ext_headers;
      uint8_t following = r_.u8(off);
      if (next == kIpv6Ah) seen_ah = true;
      if (next == kIpv6Fragment) {
        if (seen_fragment || seen_ah) return ParseError::BadIpv6Fragment;
        seen_fragment = true;
        uint16_t offlg = r_.u16(off + 2);
        p_.ip_fragment_offset = offlg >> 3;
        p_.ip_more_fragments = (offlg & 1) != 0;
        p_.ip_fragment_id = r_.u32(off + 4);
        // An atomic fragment (offset 0, M clear) is processed as unfragmented (RFC 6946).
        f_.nw_frag = fragType(p_.ip_fragment_offset, p_.ip_more_fragments);
        if (f_.nw_frag == FragType::Later) {
          f_.nw_proto = following;
          return ParseError::None;
        }
      }
      off += size;
      next = following;
    }
  }

  ParseError l4(size_t off, uint8_t proto) {
    bool v4 = f_.eth_type == kEthTypeIpv4;
    switch (proto) {
      case kIpProtoTcp: return tcp(off);
      case kIpProtoUdp: return udp(off);
      case kIpProtoIcmp:
        if (v4) return icmp(off, L4Kind::Icmp);
        break;
      case kIpProtoIcmpv6:
        if (!v4) return icmp(off, L4Kind::Icmpv6);
        break;
      default: break;
    }
    return ParseError::None;  // Unknown protocol: L3 key.
  }

  ParseError tcp(size_t off) {
    if (!r_.has(off, kTcpMinHeaderSize)) return ParseError::TruncatedTcp;
    uint16_t offset_flags = r_.u16(off + 12);
    size_t header_size = static_cast<size_t>(offset_flags >> 12) * 4;
    if (header_size < kTcpMinHeaderSize || !r_.has(off, header_size)) {
      return ParseError::BadTcpDataOffset;
    }
    f_.tp_src = r_.u16(off);
    f_.tp_dst = r_.u16(off + 2);
    f_.tcp_flags = offset_flags & 0x01ff;
    setL4(off, L4Kind::Tcp, off + header_size);
    return ParseError::None;
  }

  ParseError udp(size_t off) {
    if (!r_.has(off, kUdpHeaderSize)) return ParseError::TruncatedUdp;
    size_t length = r_.u16(off + 4);
    size_t present = r_.end() - off;
    // A first fragment carries only part of the datagram the length describes.
    bool bad = f_.nw_frag == FragType::None ? length != present : length < present;
    if (length < kUdpHeaderSize || bad) return ParseError::BadUdpLength;
    f_.tp_src = r_.u16(off);
    f_.tp_dst = r_.u16(off + 2);
    size_t payload = off + kUdpHeaderSize;
    setL4(off, L4Kind::Udp, payload);
    if (opts_.decode_vxlan && f_.tp_dst == kVxlanPort && f_.nw_frag == FragType::None) {
      return vxlan(payload);
    }
    return ParseError::None;
  }

  ParseError vxlan(size_t off) {
    if (!r_.has(off, kVxlanHeaderSize)) return ParseError::TruncatedVxlan;
    if ((r_.u8(off) & 0x08) == 0) return ParseError::BadVxlanFlags;
    p_.vxlan = true;
    p_.vni = r_.u32(off + 4) >> 8;
    p_.vxlan_inner_offset = off16(off + kVxlanHeaderSize);
    return ParseError::None;
  }

  ParseError icmp(size_t off, L4Kind kind) {
    if (!r_.has(off, kIcmpHeaderSize)) {
      return kind == L4Kind::Icmp ? ParseError::TruncatedIcmp : ParseError::TruncatedIcmpv6;
    }
    uint8_t type = r_.u8(off);
    f_.icmp_type = type;
    f_.icmp_code = r_.u8(off + 1);
    bool echo = kind == L4Kind::Icmp ? (type == 0 || type == 8) : (type == 128 || type == 129);
    if (echo) f_.icmp_id = r_.u16(off + 4);
    setL4(off, kind, off + kIcmpHeaderSize);
    return ParseError::None;
  }

  void setL4(size_t off, L4Kind kind, size_t payload) {
    p_.l4 = kind;
    p_.l4_offset = off16(off);
    p_.payload_offset = off16(payload);
  }

  static FragType fragType(uint16_t offset, bool more) {
    if (offset != 0) return FragType::Later;
    return more ? FragType::First : FragType::None;
  }

  ParsedPacket& p_;
  FlowFields& f_;
  const ParseOptions& opts_;
  Reader r_;
};

}  // namespace

const char* parseErrorName(ParseError e) {
  switch (e) {
    case ParseError::None: return "none";
    case ParseError::TruncatedEthernet: return "truncated_ethernet";
    case ParseError::TruncatedVlan: return "truncated_vlan";
    case ParseError::TooManyVlanTags: return "too_many_vlan_tags";
    case ParseError::TruncatedArp: return "truncated_arp";
    case ParseError::BadArp: return "bad_arp";
    case ParseError::TruncatedIpv4: return "truncated_ipv4";
    case ParseError::BadIpv4Version: return "bad_ipv4_version";
    case ParseError::BadIpv4HeaderLength: return "bad_ipv4_header_length";
    case ParseError::BadIpv4TotalLength: return "bad_ipv4_total_length";
    case ParseError::TruncatedIpv6: return "truncated_ipv6";
    case ParseError::BadIpv6Version: return "bad_ipv6_version";
    case ParseError::BadIpv6PayloadLength: return "bad_ipv6_payload_length";
    case ParseError::TruncatedIpv6ExtHeader: return "truncated_ipv6_ext_header";
    case ParseError::TooManyIpv6ExtHeaders: return "too_many_ipv6_ext_headers";
    case ParseError::BadIpv6Fragment: return "bad_ipv6_fragment";
    case ParseError::TruncatedTcp: return "truncated_tcp";
    case ParseError::BadTcpDataOffset: return "bad_tcp_data_offset";
    case ParseError::TruncatedUdp: return "truncated_udp";
    case ParseError::BadUdpLength: return "bad_udp_length";
    case ParseError::TruncatedIcmp: return "truncated_icmp";
    case ParseError::TruncatedIcmpv6: return "truncated_icmpv6";
    case ParseError::TruncatedVxlan: return "truncated_vxlan";
    case ParseError::BadVxlanFlags: return "bad_vxlan_flags";
    case ParseError::BadIpv6HopByHop: return "bad_ipv6_hop_by_hop";
    case ParseError::FrameTooLarge: return "frame_too_large";
    case ParseError::Count: break;
  }
  return "unknown";
}

ParsedPacket parsePacket(std::span<const uint8_t> frame, const ParseOptions& opts) {
  ParsedPacket p;
  p.frame = frame;
  p.error = Parser(p, opts).run();
  return p;
}

}  // namespace loom::packet
