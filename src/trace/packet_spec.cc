#include "trace/packet_spec.h"

#include <charconv>
#include <map>
#include <optional>
#include <string>

#include "packet/builder.h"
#include "packet/flow_match.h"

namespace loom::trace {
namespace {

using packet::IpAddr;
using packet::MacAddr;

constexpr std::string_view kKnownKeys[] = {
    "eth_src", "eth_dst", "src",  "dst", "vlan", "ttl", "tos", "frag", "size", "sport", "dport",
    "flags",   "type",    "code", "id",  "seq",  "op",  "spa", "tpa",  "sha",  "tha"};

bool knownKey(std::string_view key) {
  for (std::string_view k : kKnownKeys) {
    if (k == key) return true;
  }
  return false;
}

// Whether `key` means something for `proto`: a key that does not is an error, not ignored.
bool appliesTo(std::string_view key, std::string_view proto) {
  auto in = [key](std::initializer_list<std::string_view> keys) {
    for (std::string_view k : keys) {
      if (k == key) return true;
    }
    return false;
  };
  if (in({"eth_src", "eth_dst", "vlan", "src", "dst"})) return true;
  if (proto == "arp") return in({"op", "spa", "tpa", "sha", "tha"});
  if (in({"ttl", "tos", "frag", "size"})) return true;
  if (proto == "tcp") return in({"sport", "dport", "flags"});
  if (proto == "udp") return in({"sport", "dport"});
  if (proto == "icmp") return in({"type", "code", "id", "seq"});
  return false;
}

std::string knownKeyList() {
  std::string s;
  for (std::string_view k : kKnownKeys) {
    if (!s.empty()) s += ' ';
    s += k;
  }
  return s;
}

Status bad(std::string_view key, std::string_view value, std::string_view what) {
  return invalidArgument(std::string(key) + ": '" + std::string(value) + "' is not " +
                         std::string(what));
}

StatusOr<uint32_t> number(std::string_view key, std::string_view v, uint32_t max) {
  uint32_t n = 0;
  int base = 10;
  std::string_view digits = v;
  if (v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
    digits.remove_prefix(2);
    base = 16;
  }
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n, base);
  if (ec != std::errc() || p != digits.data() + digits.size() || digits.empty() || n > max) {
    return bad(key, v, "a number up to " + std::to_string(max));
  }
  return n;
}

StatusOr<IpAddr> address(std::string_view key, std::string_view v) {
  auto a = IpAddr::parse(v);
  if (!a) return bad(key, v, "an IP address");
  return *a;
}

StatusOr<MacAddr> macAddress(std::string_view key, std::string_view v) {
  auto m = MacAddr::parse(v);
  if (!m) return bad(key, v, "a MAC address (02:00:00:00:00:01)");
  return *m;
}

StatusOr<uint16_t> tcpFlags(std::string_view v) {
  uint16_t f = 0;
  for (char c : v) {
    switch (c) {
      case 'S': f |= packet::kTcpSyn; break;
      case 'A': f |= packet::kTcpAck; break;
      case 'F': f |= packet::kTcpFin; break;
      case 'R': f |= packet::kTcpRst; break;
      case 'P': f |= packet::kTcpPsh; break;
      default: return bad("flags", v, "a combination of S, A, F, R, P");
    }
  }
  return f;
}

// The MAC a sender on `ingress` would put as destination for `dst` (see packet_spec.h).
MacAddr defaultDestination(const model::TopologySnapshot& topo, const model::Port& ingress,
                           const IpAddr& src, const IpAddr& dst) {
  if (ingress.device_kind == model::DeviceKind::Router) return ingress.mac;
  if (!ingress.device.isResolved()) return MacAddr::broadcast();
  const model::Bridge& b = topo.bridge(ingress.device.index);
  if (auto it = b.static_ip_macs.find(dst); it != b.static_ip_macs.end()) return it->second;
  for (model::Index q : b.ports) {
    const model::Port& bp = topo.port(q);
    if (!bp.peer.isResolved()) continue;
    const model::Port& rp = topo.port(bp.peer.index);
    if (rp.device_kind != model::DeviceKind::Router) continue;
    for (const packet::IpPrefix& a : rp.addresses) {
      if (a.contains(src) && !a.contains(dst)) return rp.mac;
    }
  }
  return MacAddr::broadcast();
}

}  // namespace

StatusOr<std::vector<uint8_t>> buildPacket(std::string_view spec,
                                           const model::TopologySnapshot& topo,
                                           model::Index ingress_index) {
  const model::Port& ingress = topo.port(ingress_index);
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < spec.size()) {
    while (i < spec.size() && (spec[i] == ' ' || spec[i] == '\t' || spec[i] == ',')) ++i;
    size_t start = i;
    while (i < spec.size() && spec[i] != ' ' && spec[i] != '\t' && spec[i] != ',') ++i;
    if (i > start) words.push_back(spec.substr(start, i - start));
  }
  if (words.empty()) return invalidArgument("empty packet description");
  std::string_view proto = words[0];
  if (proto != "tcp" && proto != "udp" && proto != "icmp" && proto != "ip" && proto != "ipv6" &&
      proto != "arp") {
    return invalidArgument("'" + std::string(proto) +
                           "' is not a protocol (tcp, udp, icmp, ip, ipv6, arp)");
  }
  std::map<std::string_view, std::string_view> kv;
  for (size_t w = 1; w < words.size(); ++w) {
    size_t eq = words[w].find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return invalidArgument("'" + std::string(words[w]) + "' is not key=value");
    }
    std::string_view key = words[w].substr(0, eq);
    if (!knownKey(key)) {
      return invalidArgument("unknown key '" + std::string(key) + "' (known: " + knownKeyList() +
                             ")");
    }
    if (!appliesTo(key, proto)) {
      return invalidArgument("'" + std::string(key) + "' does not apply to " + std::string(proto));
    }
    if (!kv.emplace(key, words[w].substr(eq + 1)).second) {
      return invalidArgument("'" + std::string(key) + "' given twice");
    }
  }
  auto get = [&](std::string_view k) -> std::optional<std::string_view> {
    auto it = kv.find(k);
    if (it == kv.end()) return std::nullopt;
    return it->second;
  };

  // Addresses.
  MacAddr eth_src;
  if (auto v = get("eth_src")) {
    ASSIGN_OR_RETURN(eth_src, macAddress("eth_src", *v));
  } else if (ingress.has_mac && ingress.device_kind == model::DeviceKind::Bridge) {
    eth_src = ingress.mac;
  } else {
    return invalidArgument("eth_src: port '" + ingress.name +
                           "' has no workload MAC to default to; give eth_src=");
  }
  const bool v6 = proto == "ipv6";
  IpAddr src;
  if (auto v = get("src")) {
    ASSIGN_OR_RETURN(src, address("src", *v));
  } else {
    for (const packet::IpPrefix& a : ingress.addresses) {
      if (a.addr.isV6() == v6 && ingress.device_kind == model::DeviceKind::Bridge) {
        src = a.addr;
        break;
      }
    }
  }
  IpAddr dst;
  if (auto v = get("dst")) {
    ASSIGN_OR_RETURN(dst, address("dst", *v));
  }

  packet::PacketBuilder b;
  // Ethernet header (eth_dst overrides the default) and the optional VLAN tag.
  auto addL2 = [&](MacAddr default_dst) -> Status {
    MacAddr eth_dst = default_dst;
    if (auto v = get("eth_dst")) {
      ASSIGN_OR_RETURN(eth_dst, macAddress("eth_dst", *v));
    }
    b.eth(eth_src, eth_dst);
    if (auto v = get("vlan")) {
      ASSIGN_OR_RETURN(uint32_t vid, number("vlan", *v, 4095));
      b.vlan(static_cast<uint16_t>(vid));
    }
    return okStatus();
  };
  if (proto == "arp") {
    uint16_t op = packet::kArpOpRequest;
    if (auto v = get("op")) {
      if (*v == "request") {
        op = packet::kArpOpRequest;
      } else if (*v == "reply") {
        op = packet::kArpOpReply;
      } else {
        return bad("op", *v, "request or reply");
      }
    }
    MacAddr sha = eth_src;
    MacAddr tha;
    IpAddr spa = src;
    IpAddr tpa = dst;
    if (auto v = get("sha")) {
      ASSIGN_OR_RETURN(sha, macAddress("sha", *v));
    }
    if (auto v = get("tha")) {
      ASSIGN_OR_RETURN(tha, macAddress("tha", *v));
    }
    if (auto v = get("spa")) {
      ASSIGN_OR_RETURN(spa, address("spa", *v));
    }
    if (auto v = get("tpa")) {
      ASSIGN_OR_RETURN(tpa, address("tpa", *v));
    }
    if (!spa.isV4() || !tpa.isV4()) {
      return invalidArgument("arp: needs IPv4 spa (or src) and tpa (or dst)");
    }
    // A request, or a reply with no target (gratuitous), is broadcast.
    RETURN_IF_ERROR(
        addL2(op == packet::kArpOpRequest || tha.isZero() ? MacAddr::broadcast() : tha));
    b.arp(op, sha, spa, tha, tpa);
    return b.build();
  }

  if (src.isNone()) return invalidArgument("src: the port has no address to default to");
  if (dst.isNone()) return invalidArgument("dst: required");
  if (src.isV6() != v6 || dst.isV6() != v6) {
    return invalidArgument(std::string("src/dst: addresses must be IPv") + (v6 ? "6" : "4") +
                           " for '" + std::string(proto) + "'");
  }
  RETURN_IF_ERROR(addL2(defaultDestination(topo, ingress, src, dst)));
  if (v6) {
    b.ipv6(src, dst);
  } else {
    b.ipv4(src, dst);
  }
  if (auto v = get("ttl")) {
    ASSIGN_OR_RETURN(uint32_t ttl, number("ttl", *v, 255));
    b.ttl(static_cast<uint8_t>(ttl));
  }
  if (auto v = get("tos")) {
    ASSIGN_OR_RETURN(uint32_t tos, number("tos", *v, 255));
    b.tos(static_cast<uint8_t>(tos));
  }
  bool later = false;
  if (auto v = get("frag")) {
    if (*v == "first") {
      b.fragment(0, true);
    } else if (*v == "later") {
      b.fragment(185, false);
      later = true;
    } else {
      return bad("frag", *v, "first or later");
    }
  }
  uint32_t size = 16;
  if (auto v = get("size")) {
    ASSIGN_OR_RETURN(size, number("size", *v, 9000));
  }

  uint32_t sport = 40000;
  uint32_t dport = 80;
  if (auto v = get("sport")) {
    ASSIGN_OR_RETURN(sport, number("sport", *v, 65535));
  }
  if (auto v = get("dport")) {
    ASSIGN_OR_RETURN(dport, number("dport", *v, 65535));
  }
  if (later) {
    uint8_t p = proto == "tcp"    ? packet::kIpProtoTcp
                : proto == "udp"  ? packet::kIpProtoUdp
                : proto == "icmp" ? (v6 ? packet::kIpProtoIcmpv6 : packet::kIpProtoIcmp)
                                  : 253;
    b.ipProto(p);
  } else if (proto == "tcp") {
    b.tcp(static_cast<uint16_t>(sport), static_cast<uint16_t>(dport));
    uint16_t flags = packet::kTcpSyn;
    if (auto v = get("flags")) {
      ASSIGN_OR_RETURN(flags, tcpFlags(*v));
    }
    b.tcpFlags(flags);
  } else if (proto == "udp") {
    b.udp(static_cast<uint16_t>(sport), static_cast<uint16_t>(dport));
  } else if (proto == "icmp") {
    uint32_t id = 1;
    uint32_t seq = 1;
    if (auto v = get("id")) {
      ASSIGN_OR_RETURN(id, number("id", *v, 65535));
    }
    if (auto v = get("seq")) {
      ASSIGN_OR_RETURN(seq, number("seq", *v, 65535));
    }
    if (get("type") || get("code")) {
      uint32_t type = 8;
      uint32_t code = 0;
      if (auto v = get("type")) {
        ASSIGN_OR_RETURN(type, number("type", *v, 255));
      }
      if (auto v = get("code")) {
        ASSIGN_OR_RETURN(code, number("code", *v, 255));
      }
      b.icmp(static_cast<uint8_t>(type), static_cast<uint8_t>(code), (id << 16) | seq);
    } else {
      b.icmpEcho(true, static_cast<uint16_t>(id), static_cast<uint16_t>(seq));
    }
  } else {
    b.ipProto(253);  // RFC 3692 experimental: an IP packet with no L4 header we know.
  }
  b.payload(size);
  return b.build();
}

}  // namespace loom::trace
