#include "datapath/flow_key.h"

#include <arpa/inet.h>

#include <cstddef>
#include <cstdio>
#include <cstring>

#include "packet/addr.h"
#include "sim/result.h"

namespace loom::datapath {

using packet::Field;
using packet::fieldBit;
using packet::FieldMask;
using packet::FlowFields;

static_assert(sizeof(loom_flow_key) == 64, "the key is masked as 8 u64 words");
static_assert(sizeof(loom_mask) == 64);
static_assert(sizeof(loom_set) == 16);
static_assert(sizeof(loom_output) == 16);

namespace {

// Network-order values: the BPF side copies these bytes straight from the frame.
uint16_t net16(uint16_t host) { return htons(host); }
uint32_t net32(uint32_t host) { return htonl(host); }

void putIpv4(uint32_t& out, const packet::IpAddr& a) {
  if (a.isV4()) out = net32(a.v4());
}

// Where one packet::Field lives in the key; fields without a place (TunnelId, IcmpId) have
// size 0.
struct KeySpan {
  size_t offset;
  size_t size;
};

#define LOOM_KEY_SPAN(member) \
  KeySpan { offsetof(loom_flow_key, member), sizeof(loom_flow_key::member) }

KeySpan keySpan(Field f) {
  switch (f) {
    case Field::EthSrc: return LOOM_KEY_SPAN(eth_src);
    case Field::EthDst: return LOOM_KEY_SPAN(eth_dst);
    case Field::Vlan: return LOOM_KEY_SPAN(vlan_tci);
    case Field::EthType: return LOOM_KEY_SPAN(eth_type);
    case Field::NwSrc:
    case Field::ArpSpa: return LOOM_KEY_SPAN(nw_src);
    case Field::NwDst:
    case Field::ArpTpa: return LOOM_KEY_SPAN(nw_dst);
    case Field::NwProto: return LOOM_KEY_SPAN(nw_proto);
    case Field::NwTos: return LOOM_KEY_SPAN(nw_tos);
    case Field::NwTtl: return LOOM_KEY_SPAN(nw_ttl);
    case Field::NwFrag: return LOOM_KEY_SPAN(nw_frag);
    case Field::TpSrc: return LOOM_KEY_SPAN(tp_src);
    case Field::TpDst: return LOOM_KEY_SPAN(tp_dst);
    case Field::IcmpType: return LOOM_KEY_SPAN(icmp_type);
    case Field::IcmpCode: return LOOM_KEY_SPAN(icmp_code);
    case Field::ArpOp: return LOOM_KEY_SPAN(arp_op);
    case Field::ArpSha: return LOOM_KEY_SPAN(arp_sha);
    case Field::ArpTha: return LOOM_KEY_SPAN(arp_tha);
    case Field::TcpFlags: return LOOM_KEY_SPAN(tcp_flags);
    case Field::TunnelId:
    case Field::IcmpId:
    case Field::Count: break;
  }
  return KeySpan{0, 0};
}

void setWhy(std::string* why, std::string text) {
  if (why != nullptr) *why = std::move(text);
}

// ---- Printing -------------------------------------------------------------------------------

enum class Fmt : uint8_t { Dec, Hex, Mac, Ipv4, Net16, Net16Hex, Vlan, Frag };

struct PrintField {
  const char* name;
  size_t offset;
  size_t size;
  Fmt fmt;
};

#define LOOM_PRINT(name, member, fmt) \
  PrintField { name, offsetof(loom_flow_key, member), sizeof(loom_flow_key::member), fmt }

uint64_t loadHost(const uint8_t* p, size_t size) {
  switch (size) {
    case 1: return p[0];
    case 2: {
      uint16_t v;
      std::memcpy(&v, p, 2);
      return v;
    }
    case 4: {
      uint32_t v;
      std::memcpy(&v, p, 4);
      return v;
    }
    default: break;
  }
  return 0;
}

std::string hexString(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string ipv4String(const uint8_t* p) { return packet::IpAddr::v4Bytes(p).toString(); }

std::string format(Fmt fmt, const uint8_t* p, size_t size) {
  uint64_t v = loadHost(p, size);
  switch (fmt) {
    case Fmt::Dec: return std::to_string(v);
    case Fmt::Hex: return hexString(v);
    case Fmt::Mac: return packet::MacAddr::fromBytes(p).toString();
    case Fmt::Ipv4: return ipv4String(p);
    case Fmt::Net16: return std::to_string(ntohs(static_cast<uint16_t>(v)));
    case Fmt::Net16Hex: return hexString(ntohs(static_cast<uint16_t>(v)));
    case Fmt::Vlan:
      if ((v & LOOM_VLAN_PRESENT) == 0) return "none";
      return std::to_string(v & 0x0fff);
    case Fmt::Frag:
      switch (v) {
        case 0: return "no";
        case 1: return "first";
        case 2: return "later";
        default: return std::to_string(v);
      }
  }
  return {};
}

bool allBytes(const uint8_t* p, size_t size, uint8_t b) {
  for (size_t i = 0; i < size; ++i) {
    if (p[i] != b) return false;
  }
  return true;
}

const char* protoWord(uint16_t eth_type, uint8_t proto) {
  bool v6 = eth_type == packet::kEthTypeIpv6;
  switch (proto) {
    case packet::kIpProtoTcp: return "tcp";
    case packet::kIpProtoUdp: return "udp";
    case packet::kIpProtoIcmp: return v6 ? nullptr : "icmp";
    case packet::kIpProtoIcmpv6: return v6 ? "icmp6" : nullptr;
    default: break;
  }
  return nullptr;
}

std::string macString(const uint8_t* p) { return packet::MacAddr::fromBytes(p).toString(); }

std::string setString(const loom_set& s) {
  switch (s.kind) {
    case LOOM_SET_ETH_SRC: return "eth_src=" + macString(s.mac);
    case LOOM_SET_ETH_DST: return "eth_dst=" + macString(s.mac);
    case LOOM_SET_NW_SRC:
    case LOOM_SET_NW_DST: {
      uint8_t b[4];
      std::memcpy(b, &s.value32, 4);
      return std::string(s.kind == LOOM_SET_NW_SRC ? "nw_src=" : "nw_dst=") + ipv4String(b);
    }
    case LOOM_SET_NW_TTL: return "ttl=" + std::to_string(s.value16);
    case LOOM_SET_NW_TOS: return "tos=" + std::to_string(s.value16);
    case LOOM_SET_TP_SRC: return "tp_src=" + std::to_string(ntohs(s.value16));
    case LOOM_SET_TP_DST: return "tp_dst=" + std::to_string(ntohs(s.value16));
    default: break;
  }
  return "unknown(" + std::to_string(s.kind) + ")";
}

std::string outputString(const loom_output& o) {
  std::string out;
  if ((o.flags & LOOM_OUT_TUNNEL) != 0) {
    out += "tunnel " + packet::IpAddr::v4(o.remote_ipv4).toString() + " key " +
           std::to_string(o.tunnel_key);
  }
  if ((o.flags & LOOM_OUT_LOCAL) != 0) {
    if (!out.empty()) out += " + ";
    out += "local if " + std::to_string(o.ifindex);
  }
  if (out.empty()) out = "none(flags=" + hexString(o.flags) + ")";
  return out;
}

}  // namespace

loom_flow_key keyFromFields(uint32_t ifindex, const FlowFields& f) {
  loom_flow_key k;
  std::memset(&k, 0, sizeof(k));  // Padding included: keys are hashed over all 64 bytes.
  k.ifindex = ifindex;
  k.eth_type = net16(f.eth_type);
  f.eth_dst.toBytes(k.eth_dst);
  f.eth_src.toBytes(k.eth_src);
  if (f.vlan_present) k.vlan_tci = static_cast<uint16_t>(LOOM_VLAN_PRESENT | (f.vlan_id & 0x0fff));

  if (f.eth_type == packet::kEthTypeArp) {
    k.arp_op = net16(f.arp_op);
    putIpv4(k.nw_src, f.arp_spa);
    putIpv4(k.nw_dst, f.arp_tpa);
    f.arp_sha.toBytes(k.arp_sha);
    f.arp_tha.toBytes(k.arp_tha);
    return k;
  }
  bool v4 = f.eth_type == packet::kEthTypeIpv4;
  bool v6 = f.eth_type == packet::kEthTypeIpv6;
  if (!v4 && !v6) return k;  // L2-only key.

  // IPv6 addresses do not fit the 64-byte key: they stay 0 (keyable() refuses masks on them).
  if (v4) {
    putIpv4(k.nw_src, f.nw_src);
    putIpv4(k.nw_dst, f.nw_dst);
  }
  k.nw_proto = f.nw_proto;
  k.nw_tos = f.nw_tos;
  k.nw_ttl = f.nw_ttl;
  k.nw_frag = static_cast<uint8_t>(f.nw_frag);
  // Later fragments carry no L4 header: the program leaves the L4 fields 0, as the parser does.
  if (f.nw_frag == packet::FragType::Later) return k;
  switch (f.nw_proto) {
    case packet::kIpProtoTcp: k.tcp_flags = net16(f.tcp_flags & 0x01ff); [[fallthrough]];
    case packet::kIpProtoUdp:
      k.tp_src = net16(f.tp_src);
      k.tp_dst = net16(f.tp_dst);
      break;
    case packet::kIpProtoIcmp:
    case packet::kIpProtoIcmpv6:
      // ICMPv4 in IPv6 (or v6 in v4) is not ICMP for either parser.
      if ((f.nw_proto == packet::kIpProtoIcmp) == v4) {
        k.icmp_type = f.icmp_type;
        k.icmp_code = f.icmp_code;
      }
      break;
    default: break;
  }
  return k;
}

loom_mask maskFromFieldMask(FieldMask m) {
  loom_mask mask;
  std::memset(&mask, 0, sizeof(mask));
  auto* bytes = reinterpret_cast<uint8_t*>(&mask.mask);
  for (unsigned i = 0; i < static_cast<unsigned>(Field::Count); ++i) {
    auto field = static_cast<Field>(i);
    if ((m & fieldBit(field)) == 0) continue;
    KeySpan span = keySpan(field);
    if (span.size != 0) std::memset(bytes + span.offset, 0xff, span.size);
  }
  mask.mask.ifindex = 0xffffffffu;  // Flows are per ingress interface, always.
  mask.mask.mask_id = 0;            // The program writes mask_id after masking.
  return mask;
}

bool keyable(FieldMask m, const FlowFields& f, std::string* why) {
  FieldMask unkeyed = m & (fieldBit(Field::TunnelId) | packet::kUserspaceOnlyFields);
  if (unkeyed != 0) {
    setWhy(why, "mask holds fields the BPF key lacks: " + packet::fieldMaskToString(unkeyed));
    return false;
  }
  if (f.vlan_present) {
    setWhy(why, "VLAN-tagged frames are not keyed by the BPF program");
    return false;
  }
  FieldMask addrs = m & (fieldBit(Field::NwSrc) | fieldBit(Field::NwDst));
  if (f.eth_type == packet::kEthTypeIpv6 && addrs != 0) {
    setWhy(why, "IPv6 addresses are not in the BPF key");
    return false;
  }
  if (f.eth_type == packet::kEthTypeArp && (!f.arp_spa.isV4() || !f.arp_tpa.isV4())) {
    setWhy(why, "ARP with a non-IPv4 protocol address");
    return false;
  }
  if (f.eth_type == packet::kEthTypeIpv4 &&
      (((addrs & fieldBit(Field::NwSrc)) != 0 && !f.nw_src.isV4()) ||
       ((addrs & fieldBit(Field::NwDst)) != 0 && !f.nw_dst.isV4()))) {
    setWhy(why, "IPv4 packet with a non-IPv4 address");
    return false;
  }
  return true;
}

loom_flow_key applyMask(const loom_flow_key& key, const loom_mask& mask, uint8_t mask_id) {
  uint64_t k[8];
  uint64_t m[8];
  std::memcpy(k, &key, sizeof(k));
  std::memcpy(m, &mask.mask, sizeof(m));
  for (int i = 0; i < 8; ++i) k[i] &= m[i];
  loom_flow_key out;
  std::memcpy(&out, k, sizeof(out));
  out.mask_id = mask_id;
  return out;
}

bool setsFromActions(const packet::SetFieldList& actions, loom_flow_value& v, std::string* why) {
  std::memset(v.sets, 0, sizeof(v.sets));
  v.n_sets = 0;
  if (actions.size() > LOOM_MAX_SETS) {
    setWhy(why, std::to_string(actions.size()) + " set-field actions, the BPF flow holds " +
                    std::to_string(LOOM_MAX_SETS));
    return false;
  }
  for (const packet::SetField& a : actions) {
    loom_set& s = v.sets[v.n_sets];
    switch (a.kind) {
      case packet::SetFieldKind::EthSrc:
      case packet::SetFieldKind::EthDst:
        s.kind = a.kind == packet::SetFieldKind::EthSrc ? LOOM_SET_ETH_SRC : LOOM_SET_ETH_DST;
        a.mac.toBytes(s.mac);
        break;
      case packet::SetFieldKind::NwSrc:
      case packet::SetFieldKind::NwDst:
        if (!a.ip.isV4()) {
          setWhy(why, "IPv6 address rewrite: " + a.toString());
          return false;
        }
        s.kind = a.kind == packet::SetFieldKind::NwSrc ? LOOM_SET_NW_SRC : LOOM_SET_NW_DST;
        s.value32 = net32(a.ip.v4());
        break;
      case packet::SetFieldKind::NwTtl:
      case packet::SetFieldKind::NwTos:
        if (a.value > 0xff) {
          setWhy(why, "value out of range: " + a.toString());
          return false;
        }
        s.kind = a.kind == packet::SetFieldKind::NwTtl ? LOOM_SET_NW_TTL : LOOM_SET_NW_TOS;
        s.value16 = a.value;  // Host order: a byte value, not a packet field.
        break;
      case packet::SetFieldKind::TpSrc:
      case packet::SetFieldKind::TpDst:
        s.kind = a.kind == packet::SetFieldKind::TpSrc ? LOOM_SET_TP_SRC : LOOM_SET_TP_DST;
        s.value16 = net16(a.value);
        break;
      case packet::SetFieldKind::PushVlan:
      case packet::SetFieldKind::PopVlan:
      case packet::SetFieldKind::SetVlan:
        setWhy(why, "VLAN actions are not supported by the BPF program: " + a.toString());
        return false;
    }
    ++v.n_sets;
  }
  return true;
}

std::string keyToString(const loom_flow_key& key, const loom_mask* mask) {
  const auto* kb = reinterpret_cast<const uint8_t*>(&key);
  const auto* mb = mask != nullptr ? reinterpret_cast<const uint8_t*>(&mask->mask) : nullptr;
  bool arp = key.eth_type == net16(packet::kEthTypeArp);
  bool ip =
      key.eth_type == net16(packet::kEthTypeIpv4) || key.eth_type == net16(packet::kEthTypeIpv6);
  bool tcp = ip && key.nw_proto == packet::kIpProtoTcp;
  bool ports = ip && (tcp || key.nw_proto == packet::kIpProtoUdp);
  bool icmp = ip && protoWord(ntohs(key.eth_type), key.nw_proto) != nullptr && !ports;

  // Without a mask: which fields exist for the key's protocol (optional ones when non-zero).
  auto present = [&](const PrintField& p) {
    const std::string_view n = p.name;
    bool nonzero = !allBytes(kb + p.offset, p.size, 0);
    if (n == "eth_src" || n == "eth_dst" || n == "eth_type") return true;
    if (n == "vlan" || n == "nw_tos" || n == "nw_frag" || n == "tcp_flags") return nonzero;
    if (n == "arp_op" || n == "arp_spa" || n == "arp_tpa" || n == "arp_sha" || n == "arp_tha") {
      return arp;
    }
    if (n == "nw_src" || n == "nw_dst") return key.eth_type == net16(packet::kEthTypeIpv4);
    if (n == "nw_proto" || n == "nw_ttl") return ip;
    if (n == "tp_src" || n == "tp_dst") return ports;
    if (n == "icmp_type" || n == "icmp_code") return icmp;
    return nonzero;
  };

  // nw_src/nw_dst hold the ARP protocol addresses for ARP keys: print them under those names.
  const PrintField fields[] = {
      LOOM_PRINT("eth_src", eth_src, Fmt::Mac),
      LOOM_PRINT("eth_dst", eth_dst, Fmt::Mac),
      LOOM_PRINT("vlan", vlan_tci, Fmt::Vlan),
      LOOM_PRINT("eth_type", eth_type, Fmt::Net16Hex),
      LOOM_PRINT("arp_op", arp_op, Fmt::Net16),
      LOOM_PRINT(arp ? "arp_spa" : "nw_src", nw_src, Fmt::Ipv4),
      LOOM_PRINT(arp ? "arp_tpa" : "nw_dst", nw_dst, Fmt::Ipv4),
      LOOM_PRINT("arp_sha", arp_sha, Fmt::Mac),
      LOOM_PRINT("arp_tha", arp_tha, Fmt::Mac),
      LOOM_PRINT("nw_proto", nw_proto, Fmt::Dec),
      LOOM_PRINT("nw_tos", nw_tos, Fmt::Dec),
      LOOM_PRINT("nw_ttl", nw_ttl, Fmt::Dec),
      LOOM_PRINT("nw_frag", nw_frag, Fmt::Frag),
      LOOM_PRINT("tp_src", tp_src, Fmt::Net16),
      LOOM_PRINT("tp_dst", tp_dst, Fmt::Net16),
      LOOM_PRINT("tcp_flags", tcp_flags, Fmt::Net16Hex),
      LOOM_PRINT("icmp_type", icmp_type, Fmt::Dec),
      LOOM_PRINT("icmp_code", icmp_code, Fmt::Dec),
  };

  std::string out = "in=" + std::to_string(key.ifindex);
  for (const PrintField& p : fields) {
    bool full = true;
    if (mb != nullptr) {
      if (allBytes(mb + p.offset, p.size, 0)) continue;
      full = allBytes(mb + p.offset, p.size, 0xff);
    } else if (!present(p)) {
      continue;
    }
    const std::string_view name = p.name;
    out += ',';
    // Exactly matched protocol fields print as words, as OVS does ("ipv4", "tcp").
    if (name == "eth_type" && full) {
      uint16_t t = ntohs(key.eth_type);
      if (t == packet::kEthTypeIpv4) out += "ipv4";
      if (t == packet::kEthTypeIpv6) out += "ipv6";
      if (t == packet::kEthTypeArp) out += "arp";
      if (t == packet::kEthTypeIpv4 || t == packet::kEthTypeIpv6 || t == packet::kEthTypeArp) {
        continue;
      }
    }
    if (name == "nw_proto" && full) {
      if (const char* w = protoWord(ntohs(key.eth_type), key.nw_proto)) {
        out += w;
        continue;
      }
    }
    out += p.name;
    out += '=';
    out += format(p.fmt, kb + p.offset, p.size);
    if (!full) {
      out += '/';
      out += p.fmt == Fmt::Mac || p.fmt == Fmt::Ipv4
                 ? format(p.fmt, mb + p.offset, p.size)
                 : hexString(p.fmt == Fmt::Net16 || p.fmt == Fmt::Net16Hex
                                 ? ntohs(static_cast<uint16_t>(loadHost(mb + p.offset, p.size)))
                                 : loadHost(mb + p.offset, p.size));
    }
  }
  return out;
}

std::string valueToString(const loom_flow_value& v) {
  std::string out;
  switch (v.action) {
    case LOOM_ACT_FORWARD: out = "forward"; break;
    case LOOM_ACT_DROP: {
      out = "drop reason=";
      if (v.drop_reason < static_cast<unsigned>(sim::DropReason::Count)) {
        out += sim::dropReasonName(static_cast<sim::DropReason>(v.drop_reason));
      } else {
        out += std::to_string(v.drop_reason);
      }
      break;
    }
    case LOOM_ACT_UPCALL: out = "upcall"; break;
    default: out = "action=" + std::to_string(v.action); break;
  }
  if (v.n_sets > 0) {
    out += " sets=[";
    for (unsigned i = 0; i < v.n_sets && i < LOOM_MAX_SETS; ++i) {
      if (i > 0) out += ',';
      out += setString(v.sets[i]);
    }
    out += ']';
  }
  if (v.action == LOOM_ACT_FORWARD || v.n_outputs > 0) {
    out += " out=[";
    for (unsigned i = 0; i < v.n_outputs && i < LOOM_MAX_OUTPUTS; ++i) {
      if (i > 0) out += ", ";
      out += outputString(v.outputs[i]);
    }
    out += ']';
  }
  if (v.mtu != 0) out += " mtu=" + std::to_string(v.mtu);
  out += " packets=" + std::to_string(v.packets) + " bytes=" + std::to_string(v.bytes);
  if (v.cookie != 0) out += " cookie=" + std::to_string(v.cookie);
  return out;
}

bool keyEquals(const loom_flow_key& a, const loom_flow_key& b) {
  return std::memcmp(&a, &b, sizeof(a)) == 0;
}

bool maskEquals(const loom_mask& a, const loom_mask& b) {
  return std::memcmp(&a, &b, sizeof(a)) == 0;
}

}  // namespace loom::datapath
