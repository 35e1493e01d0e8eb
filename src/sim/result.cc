#include "sim/result.h"

#include <algorithm>
#include <cstring>

namespace loom::sim {
namespace {

uint64_t ipHigh(const packet::IpAddr& ip) {
  uint64_t v;
  std::memcpy(&v, ip.bytes().data(), 8);
  return v;
}
uint64_t ipLow(const packet::IpAddr& ip) {
  uint64_t v;
  std::memcpy(&v, ip.bytes().data() + 8, 8);
  return v;
}
packet::IpAddr ipFrom(uint64_t high, uint64_t low) {
  uint8_t b[16];
  std::memcpy(b, &high, 8);
  std::memcpy(b + 8, &low, 8);
  bool v4_mapped =
      b[10] == 0xff && b[11] == 0xff && std::all_of(b, b + 10, [](uint8_t x) { return x == 0; });
  return v4_mapped ? packet::IpAddr::v4Bytes(b + 12) : packet::IpAddr::v6Bytes(b);
}

}  // namespace

const char* outcomeName(Outcome o) {
  switch (o) {
    case Outcome::Forward: return "forward";
    case Outcome::Drop: return "drop";
    case Outcome::Consumed: return "consumed";
    case Outcome::NotReady: return "not_ready";
  }
  return "unknown";
}

const char* dropReasonName(DropReason r) {
  switch (r) {
    case DropReason::None: return "none";
    case DropReason::MalformedPacket: return "malformed_packet";
    case DropReason::PortAdminDown: return "port_admin_down";
    case DropReason::BridgeAdminDown: return "bridge_admin_down";
    case DropReason::RouterAdminDown: return "router_admin_down";
    case DropReason::PortUnbound: return "port_unbound";
    case DropReason::BrokenLink: return "broken_link";
    case DropReason::FilterDrop: return "filter_drop";
    case DropReason::FilterReject: return "filter_reject";
    case DropReason::ChainDepthExceeded: return "chain_depth_exceeded";
    case DropReason::HairpinLoop: return "hairpin_loop";
    case DropReason::NoFloodPorts: return "no_flood_ports";
    case DropReason::NotForRouter: return "not_for_router";
    case DropReason::VlanAtRouter: return "vlan_at_router";
    case DropReason::ArpNotForRouter: return "arp_not_for_router";
    case DropReason::UnsupportedEthertype: return "unsupported_ethertype";
    case DropReason::Ipv6NotRouted: return "ipv6_not_routed";
    case DropReason::L3BroadcastAtRouter: return "l3_broadcast_at_router";
    case DropReason::NoRoute: return "no_route";
    case DropReason::BlackholeRoute: return "blackhole_route";
    case DropReason::RejectRoute: return "reject_route";
    case DropReason::TtlExpired: return "ttl_expired";
    case DropReason::ToRouterUnhandled: return "to_router_unhandled";
    case DropReason::DeviceLimit: return "device_limit";
    case DropReason::FragmentationNeeded: return "fragmentation_needed";
    case DropReason::Count: break;
  }
  return "unknown";
}

std::string NotReadyCause::toString() const {
  switch (kind) {
    case Kind::None: return "none";
    case Kind::MissingObject:
      return std::string("missing ") + model::objectKindName(object_kind) + " " +
             object_id.toString();
    case Kind::ArpPending:
      return "waiting for ARP of " + ip.toString() + " on router " + router.toString();
  }
  return "unknown";
}

const char* tagKindName(TagKind k) {
  switch (k) {
    case TagKind::Device: return "device";
    case TagKind::MacPort: return "mac";
    case TagKind::IpMac: return "ip_mac";
    case TagKind::ArpEntry: return "arp";
    case TagKind::RouteDst: return "route_dst";
    case TagKind::Conntrack: return "conntrack";
  }
  return "unknown";
}

FlowTag FlowTag::macPort(const Uuid& bridge, uint16_t vlan, packet::MacAddr mac) {
  return FlowTag{TagKind::MacPort, bridge, (uint64_t{vlan} << 48) | mac.toU64(), 0};
}

FlowTag FlowTag::ip(TagKind kind, const Uuid& device, const packet::IpAddr& ip) {
  return FlowTag{kind, device, ipHigh(ip), ipLow(ip)};
}

uint64_t FlowTag::hash() const {
  return hashCombine(hashCombine(hashCombine(id.hash(), static_cast<uint64_t>(kind)), a), b);
}

std::string FlowTag::toString() const {
  std::string s = tagKindName(kind);
  s += '(';
  s += id.shortString();
  switch (kind) {
    case TagKind::Device: break;
    case TagKind::MacPort: {
      s += ", vlan " + std::to_string(a >> 48) + ", ";
      s += packet::MacAddr::fromU64(a).toString();
      break;
    }
    case TagKind::IpMac:
    case TagKind::ArpEntry:
    case TagKind::RouteDst: s += ", " + ipFrom(a, b).toString(); break;
    case TagKind::Conntrack: {
      char buf[24];
      std::snprintf(buf, sizeof(buf), ", key %016llx", static_cast<unsigned long long>(a));
      s += buf;
      break;
    }
  }
  s += ')';
  return s;
}

std::vector<FlowTag> invalidatedBy(const state::StateWrite& write) {
  if (const auto* m = std::get_if<state::MacLearn>(&write)) {
    return {FlowTag::macPort(m->bridge, m->vlan, m->mac)};
  }
  if (const auto* im = std::get_if<state::IpMacLearn>(&write)) {
    return {FlowTag::ip(TagKind::IpMac, im->bridge, im->ip)};
  }
  if (const auto* a = std::get_if<state::ArpLearn>(&write)) {
    return {FlowTag::ip(TagKind::ArpEntry, a->router, a->ip)};
  }
  const auto& c = std::get<state::ConntrackInstall>(write);
  return {FlowTag{TagKind::Conntrack, c.key.zone, c.key.hash(), 0}};
}

void SimResult::clear() {
  outcome = Outcome::Drop;
  drop_reason = DropReason::None;
  parse_error = packet::ParseError::None;
  not_ready = NotReadyCause();
  egress.clear();
  generated.clear();
  mask = 0;
  userspace_only = false;
  cacheable = true;
  tags.clear();
  writes.clear();
  trace.clear();
  devices_visited = 0;
  path_mtu = 0;
}

bool SimResult::hasTag(const FlowTag& t) const {
  return std::find(tags.begin(), tags.end(), t) != tags.end();
}

namespace {

std::string writeToString(const state::StateWrite& w) {
  if (const auto* m = std::get_if<state::MacLearn>(&w)) {
    std::string s = "learn mac " + m->mac.toString() + " vlan " + std::to_string(m->vlan) +
                    " on bridge " + m->bridge.shortString() + " -> port " + m->port.shortString();
    if (!m->old_port.isNil()) s += " (moved from " + m->old_port.shortString() + ")";
    return s;
  }
  if (const auto* im = std::get_if<state::IpMacLearn>(&w)) {
    return "learn ip-mac " + im->ip.toString() + " -> " + im->mac.toString() + " on bridge " +
           im->bridge.shortString();
  }
  if (const auto* a = std::get_if<state::ArpLearn>(&w)) {
    return "learn arp " + a->ip.toString() + " -> " + a->mac.toString() + " on router " +
           a->router.shortString();
  }
  const auto& c = std::get<state::ConntrackInstall>(w);
  return std::string("conntrack ") +
         (c.direction == state::CtDirection::Forward ? "forward " : "return ") + "zone " +
         c.key.zone.shortString() + " " + c.key.src.toString() + ":" +
         std::to_string(c.key.src_port) + " -> " + c.key.dst.toString() + ":" +
         std::to_string(c.key.dst_port) + " proto " + std::to_string(c.key.proto);
}

}  // namespace

std::string SimResult::toString() const {
  std::string s = "outcome: ";
  s += outcomeName(outcome);
  if (outcome == Outcome::Drop) {
    s += " (";
    s += dropReasonName(drop_reason);
    if (drop_reason == DropReason::MalformedPacket) {
      s += ": ";
      s += packet::parseErrorName(parse_error);
    }
    s += ")";
  }
  if (outcome == Outcome::NotReady) s += " (" + not_ready.toString() + ")";
  s += "\n";
  for (const Egress& e : egress) {
    s += "egress: port " + e.port.toString() + " on host " + e.host.toString() + "\n";
    s += "  actions:";
    if (e.actions.empty()) s += " (none)";
    for (const packet::SetField& a : e.actions) s += " " + a.toString();
    s += " output\n";
  }
  s += "mask: " + packet::fieldMaskToString(mask) + " (+ in_port)\n";
  if (userspace_only) s += "userspace only: yes\n";
  if (path_mtu != 0) s += "path mtu: " + std::to_string(path_mtu) + "\n";
  if (!cacheable) s += "cacheable: no (answers this packet)\n";
  s += "tags:";
  for (const FlowTag& t : tags) s += " " + t.toString();
  s += "\n";
  for (const state::StateWrite& w : writes) s += "write: " + writeToString(w) + "\n";
  for (const GeneratedPacket& g : generated) {
    s += std::string("generated: ") + g.what + " out of port " + g.port.toString() + " (" +
         std::to_string(g.frame.size()) + " bytes)\n";
  }
  return s;
}

}  // namespace loom::sim
