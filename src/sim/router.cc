// Router: an IPv4 router. Answers ARP and ICMP echo for its own port addresses, routes by
// longest prefix (with source filters, weights and ECMP), checks the egress port's MTU,
// resolves the next hop's MAC (peer port, the adjacent bridge's table, then its ARP table,
// asking by ARP on a miss), rewrites the MACs and decrements the TTL, and sends the ICMP errors
// a router owes (RFC 1812).

#include <algorithm>
#include <string>
#include <vector>

#include "base/hash.h"
#include "packet/builder.h"
#include "sim/context.h"

namespace loom::sim::detail {
namespace {

std::string routerLabel(Context& ctx, const model::Router& r) {
  return ctx.tracing() ? ctx.label(r) : std::string();
}

bool portOwns(const model::Port& port, const IpAddr& ip) {
  for (const IpPrefix& a : port.addresses) {
    if (a.addr == ip) return true;
  }
  return false;
}

// The identity of the path a route takes, used by the ECMP hash. For a route out of an interior
// port it is the link (the unordered pair of port ids), so the routers at both ends of parallel
// links rank the links the same way and a connection keeps one link in both directions. For
// other routes it is the port and the gateway.
uint64_t pathIdentity(const model::TopologySnapshot& topo, const model::Route& r) {
  const Uuid& own = r.next_hop_port.id;
  if (r.next_hop_port.isResolved()) {
    const model::Port& p = topo.port(r.next_hop_port.index);
    if (p.peer.isSet()) {
      uint64_t a = own.hash();
      uint64_t b = p.peer.id.hash();
      return hashCombine(std::min(a, b), std::max(a, b));
    }
  }
  return hashCombine(own.hash(), r.has_gateway ? r.gateway.hash() : 0);
}

// Rendezvous (highest random weight) choice among equal routes: consistent (removing one of N
// members moves only the flows that used it) and, with a symmetric flow hash and link
// identities, symmetric.
const model::Route* pickEcmp(Context& ctx, const std::vector<const model::Route*>& routes) {
  if (routes.size() == 1) return routes.front();
  uint64_t flow = ctx.cur.symmetricHash();
  const model::Route* best = nullptr;
  uint64_t best_score = 0;
  for (const model::Route* r : routes) {
    uint64_t score = mix64(flow ^ pathIdentity(ctx.topo, *r));
    if (best == nullptr || score > best_score) {
      best = r;
      best_score = score;
    }
  }
  return best;
}

Step handleArp(Context& ctx, const model::Router& router, const model::Port& in_port) {
  uint16_t op = ctx.cur.arpOp();
  const IpAddr& tpa = ctx.cur.arpTpa();
  if (!portOwns(in_port, tpa)) {
    return ctx.drop(DropReason::ArpNotForRouter, routerLabel(ctx, router),
                    ctx.tracing() ? "ARP for " + tpa.toString() : "");
  }
  // Learn the sender (RFC 826 merge), if it is on the port's subnet.
  const IpAddr& spa = ctx.cur.arpSpa();
  MacAddr sha = ctx.cur.arpSha();
  bool on_link = false;
  for (const IpPrefix& a : in_port.addresses) on_link |= a.contains(spa) && !(a.addr == spa);
  if (on_link && sha.isUnicast()) {
    ctx.tag(FlowTag::ip(TagKind::ArpEntry, router.id, spa));
    std::optional<state::ArpEntry> known;
    if (ctx.state.arp) known = ctx.state.arp->lookup(router.id, spa);
    if (!known || known->mac != sha || ctx.now >= known->stale) {
      ctx.out.writes.emplace_back(state::ArpLearn{router.id, spa, sha});
    }
  }
  if (op == packet::kArpOpRequest) {
    emitArpReply(ctx, ctx.in_port, in_port.mac, tpa);
    if (ctx.tracing()) {
      ctx.trace(ctx.label(router),
                "ARP reply: " + tpa.toString() + " is-at " + in_port.mac.toString());
    }
  } else if (ctx.tracing()) {
    ctx.trace(ctx.label(router), "ARP reply from " + spa.toString() + " learned");
  }
  return Step::Consumed;
}

Step handleLocal(Context& ctx, const model::Router& router, const model::Port& in_port) {
  if (ctx.cur.nwProto() == packet::kIpProtoIcmp && ctx.cur.icmpType() == packet::kIcmpEchoRequest) {
    emitEchoReply(ctx, ctx.in_port, in_port.mac);
    if (ctx.tracing()) {
      ctx.trace(ctx.label(router),
                "ICMP echo request to " + ctx.cur.nwDst().toString() + ": reply");
    }
    return Step::Consumed;
  }
  return ctx.drop(DropReason::ToRouterUnhandled, routerLabel(ctx, router),
                  "addressed to the router");
}

// Finds the next hop's MAC for `next_hop` out of `out_port`. nullopt means an ARP request was
// sent and the simulation is not ready.
std::optional<MacAddr> resolveNextHop(Context& ctx, const model::Router& router,
                                      const model::Port& out_port, Index out_index,
                                      const IpAddr& next_hop) {
  if (out_port.peer.isResolved()) {
    const model::Port& peer = ctx.topo.port(out_port.peer.index);
    if (peer.device_kind == model::DeviceKind::Router) return peer.mac;
    if (peer.device.isResolved()) {
      const model::Bridge& b = ctx.topo.bridge(peer.device.index);
      if (auto it = b.static_ip_macs.find(next_hop); it != b.static_ip_macs.end()) {
        return it->second;
      }
    }
  }
  ctx.tag(FlowTag::ip(TagKind::ArpEntry, router.id, next_hop));
  std::optional<state::ArpEntry> entry;
  if (ctx.state.arp) entry = ctx.state.arp->lookup(router.id, next_hop);
  if (entry && ctx.now < entry->expiry) {
    if (ctx.now >= entry->stale) emitArpRequest(ctx, out_index, next_hop);  // Refresh.
    return entry->mac;
  }
  emitArpRequest(ctx, out_index, next_hop);
  return std::nullopt;
}

Step runRouterChain(Context& ctx, const model::Router& router, const Ref& chain,
                    std::string_view where, bool inbound) {
  switch (runChain(ctx, chain, where)) {
    case ChainVerdict::Accept: return Step::Forwarded;  // "Go on".
    case ChainVerdict::NotReady: return Step::NotReady;
    case ChainVerdict::Reject:
      emitReject(ctx);
      return ctx.drop(DropReason::FilterReject, routerLabel(ctx, router), where);
    case ChainVerdict::Drop:
      // A dropped first fragment tells the sender to stop fragmenting (MidoNet's behaviour).
      if (inbound && ctx.cur.nwFrag() == packet::FragType::First && icmpErrorAllowed(ctx)) {
        const model::Port& in = ctx.topo.port(ctx.in_port);
        if (auto src = portAddressTowards(in, ctx.cur.nwSrc())) {
          emitIcmpError(ctx, ctx.in_port, in.mac, *src, packet::kIcmpDestUnreachable,
                        packet::kIcmpCodeFragNeeded, in.mtu & 0xffff);
        }
      }
      return ctx.drop(DropReason::FilterDrop, routerLabel(ctx, router), where);
  }
  return Step::Dropped;
}

// Sends an ICMP error from the router's ingress port back to the sender, when allowed.
void icmpBack(Context& ctx, uint8_t type, uint8_t code, uint32_t rest = 0) {
  if (!icmpErrorAllowed(ctx)) return;
  const model::Port& in = ctx.topo.port(ctx.in_port);
  if (auto src = portAddressTowards(in, ctx.cur.nwSrc())) {
    emitIcmpError(ctx, ctx.in_port, in.mac, *src, type, code, rest);
  }
}

// The MTU of the egress port, checked where Linux's ip_forward() checks it: after the route
// lookup and the TTL check, before the next hop is resolved (a packet that cannot leave needs
// no ARP), before the TTL is decremented (the ICMP error quotes the datagram as received) and
// before the outbound filter.
Step checkMtu(Context& ctx, const model::Router& router, const model::Port& out_port) {
  const uint32_t mtu = out_port.mtu;
  if (mtu == 0) return Step::Forwarded;  // Hand-built snapshots: no limit.
  // Whatever the length, the flow is limited to this MTU: a flow cannot tell long packets from
  // short ones, so longer packets must come up and get this check.
  if (ctx.out.path_mtu == 0 || mtu < ctx.out.path_mtu) ctx.out.path_mtu = mtu;
  const uint32_t len = ctx.in.l3_len;
  if (len == 0 || len <= mtu) return Step::Forwarded;
  if (!ctx.in.df) {
    // A router would fragment it. The simulation forwards it whole and leaves fragmentation to
    // the kernel and the underlay on the way out; the flow still covers only packets up to
    // path_mtu, so each such packet comes up to the agent.
    if (ctx.tracing()) {
      ctx.trace(ctx.label(router), std::to_string(len) + " bytes exceed the MTU " +
                                       std::to_string(mtu) + " of " + ctx.label(out_port) +
                                       "; no DF: forwarded, to be fragmented");
    }
    return Step::Forwarded;
  }
  // The decision holds for this packet's length only, and the error answers it: never cached,
  // whether or not RFC 1812 lets the error be sent.
  ctx.out.cacheable = false;
  // RFC 1191: the next-hop MTU goes in the low 16 bits of the ICMP header's second word.
  icmpBack(ctx, packet::kIcmpDestUnreachable, packet::kIcmpCodeFragNeeded,
           std::min<uint32_t>(mtu, 0xffff));
  return ctx.drop(DropReason::FragmentationNeeded, routerLabel(ctx, router),
                  ctx.tracing() ? std::to_string(len) + " bytes with DF exceed the MTU " +
                                      std::to_string(mtu) + " of " + ctx.label(out_port)
                                : "");
}

}  // namespace

Step routerProcess(Context& ctx, Index router_index) {
  const model::Router& router = ctx.topo.router(router_index);
  ctx.tagDevice(router.id);
  if (!ctx.enterDevice(routerLabel(ctx, router))) return Step::Dropped;
  if (!router.admin_up) return ctx.drop(DropReason::RouterAdminDown, routerLabel(ctx, router), "");
  const model::Port& in_port = ctx.topo.port(ctx.in_port);

  MacAddr dst_mac = ctx.cur.ethDst();
  if (dst_mac != in_port.mac && !dst_mac.isBroadcast()) {
    return ctx.drop(DropReason::NotForRouter, routerLabel(ctx, router),
                    ctx.tracing() ? "L2 destination " + dst_mac.toString() : "");
  }
  if (ctx.cur.vlanPresent()) {
    return ctx.drop(DropReason::VlanAtRouter, routerLabel(ctx, router),
                    "router ports carry untagged frames");
  }
  uint16_t eth_type = ctx.cur.ethType();
  if (eth_type == packet::kEthTypeArp) return handleArp(ctx, router, in_port);
  if (eth_type == packet::kEthTypeIpv6) {
    return ctx.drop(DropReason::Ipv6NotRouted, routerLabel(ctx, router), "IPv6 is not routed");
  }
  if (eth_type != packet::kEthTypeIpv4) {
    return ctx.drop(DropReason::UnsupportedEthertype, routerLabel(ctx, router), "");
  }
  if (dst_mac.isBroadcast()) {
    return ctx.drop(DropReason::L3BroadcastAtRouter, routerLabel(ctx, router),
                    "broadcast IPv4 is not routed");
  }

  ctx.trackConnection(router.tracks_connections);
  if (Step s = runRouterChain(ctx, router, router.inbound_filter, "router inbound filter", true);
      s != Step::Forwarded) {
    return s;
  }

  // Route lookup.
  const IpAddr& dst = ctx.cur.nwDst();
  if (dst.isMulticast() || dst.isLimitedBroadcast()) {
    return ctx.drop(DropReason::L3BroadcastAtRouter, routerLabel(ctx, router),
                    "multicast and broadcast are not routed");
  }
  const model::RouteTable& table = router.table(dst);
  IpAddr src;
  if (table.hasSourceRoutes()) src = ctx.cur.nwSrc();
  ctx.tag(FlowTag::ip(TagKind::RouteDst, router.id, dst));
  thread_local std::vector<const model::Route*> matches;
  if (!table.lookup(dst, src, matches)) {
    icmpBack(ctx, packet::kIcmpDestUnreachable, packet::kIcmpCodeNetUnreachable);
    return ctx.drop(DropReason::NoRoute, routerLabel(ctx, router),
                    ctx.tracing() ? "no route to " + dst.toString() : "");
  }
  const model::Route* route = pickEcmp(ctx, matches);
  if (ctx.tracing()) {
    std::string port_name;
    if (route->next_hop_port.isResolved()) {
      port_name = ctx.topo.port(route->next_hop_port.index).name;
    }
    std::string d = "route " + route->toString(port_name);
    if (matches.size() > 1) d += " (ECMP, 1 of " + std::to_string(matches.size()) + ")";
    ctx.trace(ctx.label(router), std::move(d));
  }

  switch (route->next_hop) {
    case model::NextHopType::Local: return handleLocal(ctx, router, in_port);
    case model::NextHopType::Blackhole:
      return ctx.drop(DropReason::BlackholeRoute, routerLabel(ctx, router), "");
    case model::NextHopType::Reject:
      icmpBack(ctx, packet::kIcmpDestUnreachable, packet::kIcmpCodeAdminProhibited);
      return ctx.drop(DropReason::RejectRoute, routerLabel(ctx, router), "");
    case model::NextHopType::Port: break;
  }
  if (!route->next_hop_port.isResolved()) {
    return ctx.notReadyMissing(ObjectKind::Port, route->next_hop_port.id);
  }

  uint8_t ttl = ctx.cur.nwTtl();
  if (ttl <= 1) {
    icmpBack(ctx, packet::kIcmpTimeExceeded, packet::kIcmpCodeTtlExceeded);
    return ctx.drop(DropReason::TtlExpired, routerLabel(ctx, router), "");
  }

  Index out_index = route->next_hop_port.index;
  const model::Port& out_port = ctx.topo.port(out_index);
  if (Step s = checkMtu(ctx, router, out_port); s != Step::Forwarded) return s;
  const IpAddr next_hop = route->has_gateway ? route->gateway : dst;
  std::optional<MacAddr> nh_mac = resolveNextHop(ctx, router, out_port, out_index, next_hop);
  if (!nh_mac) return ctx.notReadyArp(router.id, next_hop);

  ctx.cur.setNwTtl(static_cast<uint8_t>(ttl - 1));
  ctx.cur.setEthSrc(out_port.mac);
  ctx.cur.setEthDst(*nh_mac);
  ctx.out_port = out_index;
  if (ctx.tracing()) {
    ctx.trace(ctx.label(router), "next hop " + next_hop.toString() + " is-at " +
                                     nh_mac->toString() + " via " + ctx.label(out_port));
  }

  if (Step s = runRouterChain(ctx, router, router.outbound_filter, "router outbound filter", false);
      s != Step::Forwarded) {
    return s;
  }
  return portEgress(ctx, out_index);
}

}  // namespace loom::sim::detail
