// Bridge: an L2 switch. Learns source MACs per (bridge, VLAN), forwards known unicast to the
// learned or configured port, floods broadcast, multicast and unknown unicast to every other
// port, and answers ARP requests itself when it knows the target (ARP suppression).

#include <string>

#include "sim/context.h"

namespace loom::sim::detail {
namespace {

// Restores the parts of the context a branch changes, so the next flood branch starts from
// the packet as the bridge saw it.
class BranchScope {
 public:
  explicit BranchScope(Context& ctx)
      : ctx_(ctx),
        saved_(ctx.cur),
        in_port_(ctx.in_port),
        out_port_(ctx.out_port),
        depth_(ctx.depth) {}
  ~BranchScope() {
    ctx_.branch_seen |= ctx_.cur.seen();
    ctx_.cur = saved_;
    ctx_.cur.addSeen(ctx_.branch_seen);
    ctx_.in_port = in_port_;
    ctx_.out_port = out_port_;
    ctx_.depth = depth_;
  }
  BranchScope(const BranchScope&) = delete;
  BranchScope& operator=(const BranchScope&) = delete;

 private:
  Context& ctx_;
  FlowMatch saved_;
  Index in_port_;
  Index out_port_;
  uint32_t depth_;
};

// The bridge's outbound chain for one egress port, then the port's egress.
Step leaveThrough(Context& ctx, const model::Bridge& bridge, Index port) {
  ctx.out_port = port;
  switch (runChain(ctx, bridge.outbound_filter, "bridge outbound filter")) {
    case ChainVerdict::Accept: break;
    case ChainVerdict::NotReady: return Step::NotReady;
    case ChainVerdict::Drop:
      return ctx.drop(DropReason::FilterDrop, ctx.tracing() ? ctx.label(bridge) : "",
                      "outbound filter");
    case ChainVerdict::Reject:
      emitReject(ctx);
      return ctx.drop(DropReason::FilterReject, ctx.tracing() ? ctx.label(bridge) : "",
                      "outbound filter");
  }
  return portEgress(ctx, port);
}

Step flood(Context& ctx, const model::Bridge& bridge) {
  if (ctx.tracing()) {
    ctx.trace(ctx.label(bridge),
              "flood to " + std::to_string(bridge.ports.size() - 1) + " other port(s)");
  }
  bool forwarded = false;
  bool consumed = false;
  bool any_branch = false;
  Index in_port = ctx.in_port;
  for (Index q : bridge.ports) {
    if (q == in_port) continue;
    any_branch = true;
    Step s;
    {
      BranchScope scope(ctx);
      s = leaveThrough(ctx, bridge, q);
    }
    if (s == Step::NotReady) return s;
    forwarded |= s == Step::Forwarded;
    consumed |= s == Step::Consumed;
  }
  if (!any_branch) {
    return ctx.drop(DropReason::NoFloodPorts, ctx.tracing() ? ctx.label(bridge) : "",
                    "no other port");
  }
  if (forwarded) return Step::Forwarded;
  if (consumed) return Step::Consumed;
  return Step::Dropped;
}

// Learns the sender of an ARP packet into the IP->MAC table (gratuitous ARP, replies).
void learnArpSender(Context& ctx, const model::Bridge& bridge) {
  const IpAddr& spa = ctx.cur.arpSpa();
  if (spa.isUnspecified() || bridge.static_ip_macs.count(spa)) return;
  MacAddr sha = ctx.cur.arpSha();
  ctx.tag(FlowTag::ip(TagKind::IpMac, bridge.id, spa));
  std::optional<MacAddr> known;
  if (ctx.state.ip_macs) known = ctx.state.ip_macs->lookup(bridge.id, spa);
  if (!known || *known != sha) {
    ctx.out.writes.emplace_back(state::IpMacLearn{bridge.id, spa, sha});
  }
}

// ARP suppression: answers a broadcast ARP request whose target the bridge knows. Returns
// true when the request was answered.
bool suppressArp(Context& ctx, const model::Bridge& bridge) {
  if (ctx.cur.arpOp() != packet::kArpOpRequest) return false;
  const IpAddr& tpa = ctx.cur.arpTpa();
  std::optional<MacAddr> mac;
  if (auto it = bridge.static_ip_macs.find(tpa); it != bridge.static_ip_macs.end()) {
    mac = it->second;
  } else {
    ctx.tag(FlowTag::ip(TagKind::IpMac, bridge.id, tpa));
    if (ctx.state.ip_macs) mac = ctx.state.ip_macs->lookup(bridge.id, tpa);
  }
  // Unknown, or the owner probing for its own address (duplicate address detection): flood.
  if (!mac || *mac == ctx.cur.arpSha()) return false;
  emitArpReply(ctx, ctx.in_port, *mac, tpa);
  if (ctx.tracing()) {
    ctx.trace(ctx.label(bridge),
              "ARP suppression: " + tpa.toString() + " is-at " + mac->toString());
  }
  return true;
}

}  // namespace

Step bridgeProcess(Context& ctx, Index bridge_index) {
  const model::Bridge& bridge = ctx.topo.bridge(bridge_index);
  ctx.tagDevice(bridge.id);
  if (!ctx.enterDevice(ctx.tracing() ? ctx.label(bridge) : "")) return Step::Dropped;
  if (!bridge.admin_up) {
    return ctx.drop(DropReason::BridgeAdminDown, ctx.tracing() ? ctx.label(bridge) : "", "");
  }
  ctx.trackConnection(bridge.tracks_connections);

  switch (runChain(ctx, bridge.inbound_filter, "bridge inbound filter")) {
    case ChainVerdict::Accept: break;
    case ChainVerdict::NotReady: return Step::NotReady;
    case ChainVerdict::Drop:
      return ctx.drop(DropReason::FilterDrop, ctx.tracing() ? ctx.label(bridge) : "",
                      "inbound filter");
    case ChainVerdict::Reject:
      emitReject(ctx);
      return ctx.drop(DropReason::FilterReject, ctx.tracing() ? ctx.label(bridge) : "",
                      "inbound filter");
  }

  const model::Port& in_port = ctx.topo.port(ctx.in_port);
  const uint16_t vlan = ctx.cur.vlanPresent() ? ctx.cur.vlanId() : 0;

  // Learning. Configured MACs are never learned elsewhere (no move away from their port).
  MacAddr src = ctx.cur.ethSrc();
  std::string learn_note;
  if (src.isUnicast() && !src.isZero()) {
    auto st = bridge.static_macs.find(src.toU64());
    if (st == bridge.static_macs.end()) {
      FlowTag t = FlowTag::macPort(bridge.id, vlan, src);
      ctx.tag(t);
      std::optional<Uuid> known;
      if (ctx.state.macs) known = ctx.state.macs->lookup(bridge.id, vlan, src);
      if (!known || *known != in_port.id) {
        ctx.out.writes.emplace_back(
            state::MacLearn{bridge.id, vlan, src, in_port.id, known.value_or(Uuid())});
        if (ctx.tracing()) {
          learn_note = known ? "MAC " + src.toString() + " moved to " + ctx.label(in_port)
                             : "learned " + src.toString() + " on " + ctx.label(in_port);
        }
      }
    } else if (st->second != ctx.in_port && ctx.tracing()) {
      learn_note = "source MAC " + src.toString() + " is configured on another port";
    }
  }
  if (!learn_note.empty()) ctx.trace(ctx.label(bridge), learn_note);

  MacAddr dst = ctx.cur.ethDst();
  if (dst.isMulticast()) {
    if (dst.isBroadcast() && ctx.cur.isArp()) {
      learnArpSender(ctx, bridge);
      if (bridge.arp_suppression && suppressArp(ctx, bridge)) return Step::Consumed;
    }
    return flood(ctx, bridge);
  }
  if (ctx.cur.isArp()) learnArpSender(ctx, bridge);

  // Known unicast: configured MACs first, then learned ones.
  Index out = kNoIndex;
  if (auto st = bridge.static_macs.find(dst.toU64()); st != bridge.static_macs.end()) {
    out = st->second;
  } else {
    ctx.tag(FlowTag::macPort(bridge.id, vlan, dst));
    std::optional<Uuid> learned;
    if (ctx.state.macs) learned = ctx.state.macs->lookup(bridge.id, vlan, dst);
    if (learned) {
      out = ctx.topo.findPort(*learned);
      // A learned port that left the bridge is as good as unknown.
      if (out != kNoIndex && ctx.topo.port(out).device.index != bridge_index) out = kNoIndex;
    }
  }
  if (out == kNoIndex) {
    if (ctx.tracing()) ctx.trace(ctx.label(bridge), "unknown destination " + dst.toString());
    return flood(ctx, bridge);
  }
  if (out == ctx.in_port) {
    return ctx.drop(DropReason::HairpinLoop, ctx.tracing() ? ctx.label(bridge) : "",
                    "destination is behind the ingress port");
  }
  if (ctx.tracing()) {
    ctx.trace(ctx.label(bridge), dst.toString() + " -> " + ctx.label(ctx.topo.port(out)));
  }
  return leaveThrough(ctx, bridge, out);
}

}  // namespace loom::sim::detail
