#include "packet/flow_match.h"

#include <cstdio>
#include <utility>

namespace loom::packet {

namespace {

constexpr FieldMask kL3Fields = fieldBit(Field::NwSrc) | fieldBit(Field::NwDst) |
                                fieldBit(Field::NwProto) | fieldBit(Field::NwTos) |
                                fieldBit(Field::NwTtl) | fieldBit(Field::NwFrag);
constexpr FieldMask kL4Fields = fieldBit(Field::TpSrc) | fieldBit(Field::TpDst) |
                                fieldBit(Field::IcmpType) | fieldBit(Field::IcmpCode) |
                                fieldBit(Field::IcmpId) | fieldBit(Field::TcpFlags);
constexpr FieldMask kArpFields = fieldBit(Field::ArpOp) | fieldBit(Field::ArpSha) |
                                 fieldBit(Field::ArpTha) | fieldBit(Field::ArpSpa) |
                                 fieldBit(Field::ArpTpa);

const char* fragName(FragType t) {
  switch (t) {
    case FragType::None: return "none";
    case FragType::First: return "first";
    case FragType::Later: return "later";
  }
  return "unknown";
}

std::string hex(unsigned v, int width) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%0*x", width, v);
  return buf;
}

// The value of one field as printed by toString(): "10.0.0.1", "0x0800", "none"...
std::string fieldValue(const FlowFields& f, Field field) {
  switch (field) {
    case Field::TunnelId: return std::to_string(f.tunnel_id);
    case Field::EthSrc: return f.eth_src.toString();
    case Field::EthDst: return f.eth_dst.toString();
    case Field::Vlan: return f.vlan_present ? std::to_string(f.vlan_id) : "none";
    case Field::EthType: return hex(f.eth_type, 4);
    case Field::NwSrc: return f.nw_src.toString();
    case Field::NwDst: return f.nw_dst.toString();
    case Field::NwProto: return std::to_string(f.nw_proto);
    case Field::NwTos: return std::to_string(f.nw_tos);
    case Field::NwTtl: return std::to_string(f.nw_ttl);
    case Field::NwFrag: return fragName(f.nw_frag);
    case Field::TpSrc: return std::to_string(f.tp_src);
    case Field::TpDst: return std::to_string(f.tp_dst);
    case Field::IcmpType: return std::to_string(f.icmp_type);
    case Field::IcmpCode: return std::to_string(f.icmp_code);
    case Field::IcmpId: return std::to_string(f.icmp_id);
    case Field::ArpOp: return std::to_string(f.arp_op);
    case Field::ArpSha: return f.arp_sha.toString();
    case Field::ArpTha: return f.arp_tha.toString();
    case Field::ArpSpa: return f.arp_spa.toString();
    case Field::ArpTpa: return f.arp_tpa.toString();
    case Field::TcpFlags: return hex(f.tcp_flags, 3);
    case Field::Count: break;
  }
  return "";
}

// Appends "name=value" (with a separating comma) to `out`.
void append(std::string& out, const FlowFields& f, Field field) {
  if (!out.empty()) out += ',';
  out += fieldName(field);
  out += '=';
  out += fieldValue(f, field);
}

void appendWord(std::string& out, const char* word) {
  if (!out.empty()) out += ',';
  out += word;
}

}  // namespace

const char* fieldName(Field f) {
  switch (f) {
    case Field::TunnelId: return "tunnel_id";
    case Field::EthSrc: return "eth_src";
    case Field::EthDst: return "eth_dst";
    case Field::Vlan: return "vlan";
    case Field::EthType: return "eth_type";
    case Field::NwSrc: return "nw_src";
    case Field::NwDst: return "nw_dst";
    case Field::NwProto: return "nw_proto";
    case Field::NwTos: return "nw_tos";
    case Field::NwTtl: return "nw_ttl";
    case Field::NwFrag: return "nw_frag";
    case Field::TpSrc: return "tp_src";
    case Field::TpDst: return "tp_dst";
    case Field::IcmpType: return "icmp_type";
    case Field::IcmpCode: return "icmp_code";
    case Field::IcmpId: return "icmp_id";
    case Field::ArpOp: return "arp_op";
    case Field::ArpSha: return "arp_sha";
    case Field::ArpTha: return "arp_tha";
    case Field::ArpSpa: return "arp_spa";
    case Field::ArpTpa: return "arp_tpa";
    case Field::TcpFlags: return "tcp_flags";
    case Field::Count: break;
  }
  return "unknown";
}

std::string fieldMaskToString(FieldMask m) {
  std::string out;
  for (unsigned i = 0; i < static_cast<unsigned>(Field::Count); ++i) {
    auto field = static_cast<Field>(i);
    if ((m & fieldBit(field)) != 0) appendWord(out, fieldName(field));
  }
  return out;
}

FieldMask normalizeMask(FieldMask m) {
  if ((m & kL4Fields) != 0) m |= fieldBit(Field::NwProto);
  if ((m & (kL3Fields | kArpFields)) != 0) m |= fieldBit(Field::EthType);
  return m;
}

uint64_t FlowMatch::symmetricHash() const {
  uint8_t proto = nwProto();
  const IpAddr& src = nwSrc();
  const IpAddr& dst = nwDst();
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  if (proto == kIpProtoTcp || proto == kIpProtoUdp) {
    src_port = tpSrc();
    dst_port = tpDst();
  } else if (proto == kIpProtoIcmp || proto == kIpProtoIcmpv6) {
    // The echo identifier names the "connection" in both directions (0 for other messages).
    src_port = icmpId();
    dst_port = src_port;
  }
  uint64_t a = hashCombine(src.hash(), src_port);
  uint64_t b = hashCombine(dst.hash(), dst_port);
  if (a > b) std::swap(a, b);
  return hashCombine(hashCombine(mix64(proto), a), b);
}

std::string FlowMatch::toString() const {
  const FlowFields& f = f_;
  std::string out;
  if (f.tunnel_id != 0) append(out, f, Field::TunnelId);
  append(out, f, Field::EthSrc);
  append(out, f, Field::EthDst);
  if (f.vlan_present) append(out, f, Field::Vlan);
  bool ip = true;
  switch (f.eth_type) {
    case kEthTypeIpv4: appendWord(out, "ipv4"); break;
    case kEthTypeIpv6: appendWord(out, "ipv6"); break;
    case kEthTypeArp:
      appendWord(out, "arp");
      append(out, f, Field::ArpOp);
      append(out, f, Field::ArpSha);
      append(out, f, Field::ArpSpa);
      append(out, f, Field::ArpTha);
      append(out, f, Field::ArpTpa);
      return out;
    default:
      ip = false;
      append(out, f, Field::EthType);
      break;
  }
  if (!ip) return out;
  append(out, f, Field::NwSrc);
  append(out, f, Field::NwDst);
  append(out, f, Field::NwProto);
  if (f.nw_tos != 0) append(out, f, Field::NwTos);
  append(out, f, Field::NwTtl);
  if (f.nw_frag != FragType::None) append(out, f, Field::NwFrag);
  bool v4 = f.eth_type == kEthTypeIpv4;
  bool later = f.nw_frag == FragType::Later;
  if (f.nw_proto == kIpProtoTcp || f.nw_proto == kIpProtoUdp) {
    appendWord(out, f.nw_proto == kIpProtoTcp ? "tcp" : "udp");
    if (later) return out;
    append(out, f, Field::TpSrc);
    append(out, f, Field::TpDst);
    if (f.tcp_flags != 0) append(out, f, Field::TcpFlags);
  } else if ((v4 && f.nw_proto == kIpProtoIcmp) || (!v4 && f.nw_proto == kIpProtoIcmpv6)) {
    appendWord(out, v4 ? "icmp" : "icmpv6");
    if (later) return out;
    append(out, f, Field::IcmpType);
    append(out, f, Field::IcmpCode);
    if (f.icmp_id != 0) append(out, f, Field::IcmpId);
  }
  return out;
}

std::string FlowMatch::toString(FieldMask mask) const {
  std::string out;
  for (unsigned i = 0; i < static_cast<unsigned>(Field::Count); ++i) {
    auto field = static_cast<Field>(i);
    if ((mask & fieldBit(field)) != 0) append(out, f_, field);
  }
  return out;
}

}  // namespace loom::packet
