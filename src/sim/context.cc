#include "sim/context.h"

#include <algorithm>

namespace loom::sim::detail {

Context::Context(const SimInput& input, const model::TopologySnapshot& topology,
                 const state::StateView& state_view, const SimConfig& config, SimResult& result)
    : in(input),
      topo(topology),
      state(state_view),
      cfg(config),
      out(result),
      now(config.clock ? config.clock->now() : MonoTime{}),
      orig(input.match.untracked()),
      cur(input.match.untracked()) {}

void Context::trace(std::string device, std::string decision) {
  if (!in.trace) return;
  out.trace.push_back(TraceStep{std::move(device), std::move(decision)});
}

void Context::tag(const FlowTag& t) {
  // Tags repeat when a flood crosses a device twice; a short scan keeps the list unique.
  if (std::find(out.tags.begin(), out.tags.end(), t) == out.tags.end()) out.tags.push_back(t);
}

Step Context::drop(DropReason reason, std::string_view device, std::string_view detail) {
  if (out.drop_reason == DropReason::None) out.drop_reason = reason;
  if (tracing()) {
    std::string d = "drop (";
    d += dropReasonName(reason);
    d += ")";
    if (!detail.empty()) {
      d += ": ";
      d += detail;
    }
    trace(std::string(device), std::move(d));
  }
  return Step::Dropped;
}

Step Context::notReadyMissing(ObjectKind kind, const Uuid& id) {
  out.not_ready.kind = NotReadyCause::Kind::MissingObject;
  out.not_ready.object_kind = kind;
  out.not_ready.object_id = id;
  if (tracing()) trace("simulation", "not ready: " + out.not_ready.toString());
  return Step::NotReady;
}

Step Context::notReadyArp(const Uuid& router, const IpAddr& ip) {
  out.not_ready.kind = NotReadyCause::Kind::ArpPending;
  out.not_ready.router = router;
  out.not_ready.ip = ip;
  if (tracing()) {
    model::Index r = topo.findRouter(router);
    trace("simulation", "not ready: waiting for ARP of " + ip.toString() + " on " +
                            (r == kNoIndex ? router.toString() : label(topo.router(r))));
  }
  return Step::NotReady;
}

bool Context::enterDevice(std::string_view label_text) {
  if (depth >= cfg.max_devices || total_devices_ >= cfg.max_total_devices) {
    drop(DropReason::DeviceLimit, label_text,
         tracing() ? "more than " + std::to_string(cfg.max_devices) + " devices on one path"
                   : std::string());
    return false;
  }
  ++depth;
  ++total_devices_;
  out.devices_visited = std::max(out.devices_visited, total_devices_);
  return true;
}

std::optional<IpAddr> portAddressTowards(const model::Port& port, const IpAddr& peer) {
  std::optional<IpAddr> first;
  for (const IpPrefix& a : port.addresses) {
    if (a.addr.family() != peer.family()) continue;
    if (a.contains(peer)) return a.addr;
    if (!first) first = a.addr;
  }
  return first;
}

state::ConntrackKey conntrackKeyOf(const packet::FlowFields& f, const Uuid& zone) {
  state::ConntrackKey k;
  k.zone = zone;
  k.src = f.nw_src;
  k.dst = f.nw_dst;
  k.proto = f.nw_proto;
  if (f.nw_proto == packet::kIpProtoTcp || f.nw_proto == packet::kIpProtoUdp) {
    k.src_port = f.tp_src;
    k.dst_port = f.tp_dst;
  } else if (f.nw_proto == packet::kIpProtoIcmp || f.nw_proto == packet::kIpProtoIcmpv6) {
    k.src_port = f.icmp_id;
    k.dst_port = f.icmp_id;
  }
  return k;
}

state::CtDirection Context::conntrackDirection() {
  if (ct_checked) return ct_direction;
  ct_checked = true;
  // Mark exactly the fields the key is made of.
  if (cur.isIp()) {
    cur.nwSrc();
    cur.nwDst();
    uint8_t proto = cur.nwProto();
    if (proto == packet::kIpProtoTcp || proto == packet::kIpProtoUdp) {
      cur.tpSrc();
      cur.tpDst();
    } else if (proto == packet::kIpProtoIcmp || proto == packet::kIpProtoIcmpv6) {
      cur.icmpId();
    }
  }
  ct_key = conntrackKeyOf(cur.untracked(), zone);
  tag(FlowTag{TagKind::Conntrack, zone, ct_key.hash(), 0});
  std::optional<state::CtDirection> found;
  if (state.conntrack) found = state.conntrack->lookup(ct_key);
  ct_new = !found.has_value();
  ct_direction = found.value_or(state::CtDirection::Forward);
  if (tracing()) {
    trace("conntrack", std::string(ct_new ? "new connection (forward)"
                                          : (ct_direction == state::CtDirection::Forward
                                                 ? "known connection, forward direction"
                                                 : "known connection, return direction")));
  }
  return ct_direction;
}

namespace {

std::string named(const char* kind, const std::string& name, const Uuid& id) {
  std::string s(kind);
  s += ' ';
  s += name.empty() ? id.shortString() : name;
  return s;
}

}  // namespace

std::string Context::label(const model::Port& p) const { return named("port", p.name, p.id); }
std::string Context::label(const model::Bridge& b) const { return named("bridge", b.name, b.id); }
std::string Context::label(const model::Router& r) const { return named("router", r.name, r.id); }
std::string Context::label(const model::Chain& c) const { return named("chain", c.name, c.id); }

}  // namespace loom::sim::detail
