#include "packet/actions.h"

#include "packet/checksum.h"
#include "packet/parser.h"

namespace loom::packet {

namespace {

uint16_t get16(const std::vector<uint8_t>& b, size_t off) {
  return static_cast<uint16_t>((b[off] << 8) | b[off + 1]);
}
void set16(std::vector<uint8_t>& b, size_t off, uint16_t v) {
  b[off] = static_cast<uint8_t>(v >> 8);
  b[off + 1] = static_cast<uint8_t>(v);
}
uint32_t get32(const std::vector<uint8_t>& b, size_t off) {
  return (uint32_t{get16(b, off)} << 16) | get16(b, off + 2);
}

std::string set(const char* name, const std::string& value) {
  return std::string("set(") + name + "=" + value + ")";
}

// Offset of the L4 checksum field when the frame carries one that covers the pseudo header
// (TCP, UDP, ICMPv6) and is present in this fragment; 0 otherwise.
size_t pseudoChecksumOffset(const ParsedPacket& p) {
  if (p.l4_offset == ParsedPacket::kAbsent) return 0;
  switch (p.l4) {
    case L4Kind::Tcp: return p.l4_offset + size_t{16};
    case L4Kind::Udp: return p.l4_offset + size_t{6};
    case L4Kind::Icmpv6: return p.l4_offset + size_t{2};
    case L4Kind::Icmp:
    case L4Kind::None: break;
  }
  return 0;
}

// Applies the change of one 16-bit word to the checksum field at `off`. A zero UDP checksum
// means "none" and stays zero (over IPv6 too, where RFC 6935 tunnels may use it); a computed
// zero UDP checksum is sent as 0xffff.
void updateL4Checksum16(std::vector<uint8_t>& frame, const ParsedPacket& p, size_t off,
                        uint16_t old_word, uint16_t new_word) {
  uint16_t sum = get16(frame, off);
  if (p.l4 == L4Kind::Udp && sum == 0) return;
  sum = checksumUpdate16(sum, old_word, new_word);
  if (p.l4 == L4Kind::Udp && sum == 0) sum = 0xffff;
  set16(frame, off, sum);
}

void updateL4Checksum32(std::vector<uint8_t>& frame, const ParsedPacket& p, size_t off,
                        uint32_t old_value, uint32_t new_value) {
  uint16_t sum = get16(frame, off);
  if (p.l4 == L4Kind::Udp && sum == 0) return;
  sum = checksumUpdate32(sum, old_value, new_value);
  if (p.l4 == L4Kind::Udp && sum == 0) sum = 0xffff;
  set16(frame, off, sum);
}

// Rewrites the source (or destination) address and the checksums that cover it.
bool setAddress(std::vector<uint8_t>& frame, const ParsedPacket& p, const IpAddr& ip, bool src) {
  if (p.l3_offset == ParsedPacket::kAbsent) return false;
  size_t l3 = p.l3_offset;
  size_t csum = pseudoChecksumOffset(p);
  if (p.fields.eth_type == kEthTypeIpv4) {
    if (!ip.isV4()) return false;
    size_t off = l3 + (src ? 12 : 16);
    uint32_t old_value = get32(frame, off);
    uint32_t new_value = ip.v4();
    set16(frame, off, static_cast<uint16_t>(new_value >> 16));
    set16(frame, off + 2, static_cast<uint16_t>(new_value));
    set16(frame, l3 + 10, checksumUpdate32(get16(frame, l3 + 10), old_value, new_value));
    if (csum != 0) updateL4Checksum32(frame, p, csum, old_value, new_value);
    return true;
  }
  if (p.fields.eth_type == kEthTypeIpv6) {
    if (!ip.isV6()) return false;
    size_t off = l3 + (src ? 8 : 24);
    const auto& bytes = ip.bytes();
    for (size_t i = 0; i < 16; i += 2) {
      uint16_t old_word = get16(frame, off + i);
      auto new_word = static_cast<uint16_t>((bytes[i] << 8) | bytes[i + 1]);
      set16(frame, off + i, new_word);
      if (csum != 0) updateL4Checksum16(frame, p, csum, old_word, new_word);
    }
    return true;
  }
  return false;
}

bool setTos(std::vector<uint8_t>& frame, const ParsedPacket& p, uint8_t tos) {
  size_t l3 = p.l3_offset;
  if (p.fields.eth_type == kEthTypeIpv4) {
    uint16_t old_word = get16(frame, l3);
    auto new_word = static_cast<uint16_t>((old_word & 0xff00) | tos);
    set16(frame, l3, new_word);
    set16(frame, l3 + 10, checksumUpdate16(get16(frame, l3 + 10), old_word, new_word));
    return true;
  }
  if (p.fields.eth_type == kEthTypeIpv6) {
    // The traffic class straddles bytes 0 and 1: version(4) | class(8) | flow label(4 of 20).
    uint16_t old_word = get16(frame, l3);
    set16(frame, l3, static_cast<uint16_t>((old_word & 0xf00f) | (tos << 4)));
    return true;
  }
  return false;
}

bool setTtl(std::vector<uint8_t>& frame, const ParsedPacket& p, uint8_t ttl) {
  size_t l3 = p.l3_offset;
  if (p.fields.eth_type == kEthTypeIpv4) {
    uint16_t old_word = get16(frame, l3 + 8);  // TTL and protocol.
    auto new_word = static_cast<uint16_t>((ttl << 8) | (old_word & 0x00ff));
    set16(frame, l3 + 8, new_word);
    set16(frame, l3 + 10, checksumUpdate16(get16(frame, l3 + 10), old_word, new_word));
    return true;
  }
  if (p.fields.eth_type == kEthTypeIpv6) {
    frame[l3 + 7] = ttl;  // Hop limit; no header checksum.
    return true;
  }
  return false;
}

bool setPort(std::vector<uint8_t>& frame, const ParsedPacket& p, uint16_t port, bool src) {
  if (p.l4_offset == ParsedPacket::kAbsent || (p.l4 != L4Kind::Tcp && p.l4 != L4Kind::Udp)) {
    return false;
  }
  size_t off = p.l4_offset + size_t{src ? 0u : 2u};
  uint16_t old_port = get16(frame, off);
  set16(frame, off, port);
  updateL4Checksum16(frame, p, pseudoChecksumOffset(p), old_port, port);
  return true;
}

}  // namespace

std::string SetField::toString() const {
  switch (kind) {
    case SetFieldKind::EthSrc: return set("eth_src", mac.toString());
    case SetFieldKind::EthDst: return set("eth_dst", mac.toString());
    case SetFieldKind::PushVlan: return "push_vlan(" + std::to_string(value) + ")";
    case SetFieldKind::PopVlan: return "pop_vlan";
    case SetFieldKind::SetVlan: return set("vlan", std::to_string(value));
    case SetFieldKind::NwSrc: return set("nw_src", ip.toString());
    case SetFieldKind::NwDst: return set("nw_dst", ip.toString());
    case SetFieldKind::NwTos: return set("nw_tos", std::to_string(value));
    case SetFieldKind::NwTtl: return set("nw_ttl", std::to_string(value));
    case SetFieldKind::TpSrc: return set("tp_src", std::to_string(value));
    case SetFieldKind::TpDst: return set("tp_dst", std::to_string(value));
  }
  return "unknown";
}

FieldMask diffFields(const FlowFields& before, const FlowFields& after, SetFieldList& out) {
  FieldMask mask = 0;
  auto add = [&](Field field, SetField action) {
    out.push_back(action);
    mask |= fieldBit(field);
  };
  if (before.eth_src != after.eth_src) {
    add(Field::EthSrc, SetField{.kind = SetFieldKind::EthSrc, .mac = after.eth_src});
  }
  if (before.eth_dst != after.eth_dst) {
    add(Field::EthDst, SetField{.kind = SetFieldKind::EthDst, .mac = after.eth_dst});
  }
  if (before.vlan_present && !after.vlan_present) {
    add(Field::Vlan, SetField{.kind = SetFieldKind::PopVlan});
  } else if (!before.vlan_present && after.vlan_present) {
    add(Field::Vlan, SetField{.kind = SetFieldKind::PushVlan, .value = after.vlan_id});
  } else if (before.vlan_present && before.vlan_id != after.vlan_id) {
    add(Field::Vlan, SetField{.kind = SetFieldKind::SetVlan, .value = after.vlan_id});
  }
  if (before.nw_src != after.nw_src) {
    add(Field::NwSrc, SetField{.kind = SetFieldKind::NwSrc, .ip = after.nw_src});
  }
  if (before.nw_dst != after.nw_dst) {
    add(Field::NwDst, SetField{.kind = SetFieldKind::NwDst, .ip = after.nw_dst});
  }
  if (before.nw_tos != after.nw_tos) {
    add(Field::NwTos, SetField{.kind = SetFieldKind::NwTos, .value = after.nw_tos});
  }
  if (before.nw_ttl != after.nw_ttl) {
    add(Field::NwTtl, SetField{.kind = SetFieldKind::NwTtl, .value = after.nw_ttl});
  }
  if (before.tp_src != after.tp_src) {
    add(Field::TpSrc, SetField{.kind = SetFieldKind::TpSrc, .value = after.tp_src});
  }
  if (before.tp_dst != after.tp_dst) {
    add(Field::TpDst, SetField{.kind = SetFieldKind::TpDst, .value = after.tp_dst});
  }
  return mask;
}

bool applySetFields(std::vector<uint8_t>& frame, std::span<const SetField> actions) {
  ParsedPacket p = parsePacket(frame);
  if (!p.ok()) return false;
  for (const SetField& a : actions) {
    bool ok = true;
    switch (a.kind) {
      case SetFieldKind::EthSrc: a.mac.toBytes(frame.data() + 6); break;
      case SetFieldKind::EthDst: a.mac.toBytes(frame.data()); break;
      case SetFieldKind::PushVlan: {
        if (p.vlan_tags >= kMaxVlanTags) return false;
        auto tci = static_cast<uint16_t>(a.value & 0x0fff);
        const uint8_t tag[4] = {kEthTypeVlan >> 8, kEthTypeVlan & 0xff,
                                static_cast<uint8_t>(tci >> 8), static_cast<uint8_t>(tci)};
        frame.insert(frame.begin() + 12, tag, tag + 4);
        p = parsePacket(frame);
        ok = p.ok();
        break;
      }
      case SetFieldKind::PopVlan:
        if (p.vlan_tags == 0) return false;
        frame.erase(frame.begin() + 12, frame.begin() + 16);
        p = parsePacket(frame);
        ok = p.ok();
        break;
      case SetFieldKind::SetVlan:
        if (p.vlan_tags == 0) return false;
        set16(frame, 14, static_cast<uint16_t>((get16(frame, 14) & 0xf000) | (a.value & 0x0fff)));
        break;
      case SetFieldKind::NwSrc: ok = setAddress(frame, p, a.ip, true); break;
      case SetFieldKind::NwDst: ok = setAddress(frame, p, a.ip, false); break;
      case SetFieldKind::NwTos:
        ok = a.value <= 0xff && setTos(frame, p, static_cast<uint8_t>(a.value));
        break;
      case SetFieldKind::NwTtl:
        ok = a.value <= 0xff && setTtl(frame, p, static_cast<uint8_t>(a.value));
        break;
      case SetFieldKind::TpSrc: ok = setPort(frame, p, a.value, true); break;
      case SetFieldKind::TpDst: ok = setPort(frame, p, a.value, false); break;
    }
    if (!ok) return false;
  }
  return true;
}

}  // namespace loom::packet
