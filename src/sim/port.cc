// Ports: where packets enter and leave devices. Ingress runs the port's inbound chain and hands
// the packet to its device; egress runs the outbound chain and either ends the simulation at an
// exterior port (recording the actions by diff) or crosses the link into the peer port.

#include "base/assert.h"
#include "sim/context.h"

namespace loom::sim::detail {

Step portIngress(Context& ctx, Index port_index) {
  const model::Port& port = ctx.topo.port(port_index);
  ctx.tagDevice(port.id);
  ctx.in_port = port_index;
  ctx.out_port = kNoIndex;
  if (!port.admin_up) {
    return ctx.drop(DropReason::PortAdminDown, ctx.tracing() ? ctx.label(port) : "", "");
  }
  if (ctx.tracing()) ctx.trace(ctx.label(port), "ingress");
  ctx.trackConnection(port.tracks_connections);

  ChainVerdict v = runChain(ctx, port.inbound_filter, "inbound filter");
  switch (v) {
    case ChainVerdict::Accept: break;
    case ChainVerdict::NotReady: return Step::NotReady;
    case ChainVerdict::Drop:
      return ctx.drop(DropReason::FilterDrop, ctx.tracing() ? ctx.label(port) : "",
                      "inbound filter");
    case ChainVerdict::Reject:
      emitReject(ctx);
      return ctx.drop(DropReason::FilterReject, ctx.tracing() ? ctx.label(port) : "",
                      "inbound filter");
  }

  // The snapshot leaves out ports whose device is missing.
  LOOM_ASSERT(port.device.isResolved());
  return port.device_kind == model::DeviceKind::Bridge ? bridgeProcess(ctx, port.device.index)
                                                       : routerProcess(ctx, port.device.index);
}

Step portEgress(Context& ctx, Index port_index) {
  const model::Port& port = ctx.topo.port(port_index);
  ctx.tagDevice(port.id);
  ctx.out_port = port_index;
  if (!port.admin_up) {
    return ctx.drop(DropReason::PortAdminDown, ctx.tracing() ? ctx.label(port) : "", "");
  }

  ctx.trackConnection(port.tracks_connections);
  ChainVerdict v = runChain(ctx, port.outbound_filter, "outbound filter");
  switch (v) {
    case ChainVerdict::Accept: break;
    case ChainVerdict::NotReady: return Step::NotReady;
    case ChainVerdict::Drop:
      return ctx.drop(DropReason::FilterDrop, ctx.tracing() ? ctx.label(port) : "",
                      "outbound filter");
    case ChainVerdict::Reject:
      emitReject(ctx);
      return ctx.drop(DropReason::FilterReject, ctx.tracing() ? ctx.label(port) : "",
                      "outbound filter");
  }

  if (port.link_broken) {
    return ctx.drop(DropReason::BrokenLink, ctx.tracing() ? ctx.label(port) : "",
                    "the port's link is misconfigured");
  }
  if (port.isInterior()) {
    if (!port.peer.isResolved()) return ctx.notReadyMissing(ObjectKind::Port, port.peer.id);
    if (ctx.tracing()) {
      ctx.trace(ctx.label(port), "egress to peer " + ctx.label(ctx.topo.port(port.peer.index)));
    }
    return portIngress(ctx, port.peer.index);
  }
  if (!port.isExterior()) {
    return ctx.drop(DropReason::PortUnbound, ctx.tracing() ? ctx.label(port) : "",
                    "port is neither bound to a host nor linked");
  }

  Egress& e = ctx.out.egress.emplace_back();
  e.port = port.id;
  e.host = port.host_id;
  e.device = port.device.id;
  // Fields written on the way are in the mask even when their value did not change: the diff
  // has no action for them, so the flow is right only for packets that have that value.
  ctx.rewritten |=
      packet::diffFields(ctx.orig.untracked(), ctx.cur.untracked(), e.actions) | ctx.cur.written();
  e.fields = ctx.cur.untracked();
  if (ctx.tracing()) {
    model::Index host = ctx.topo.findHost(port.host_id);
    std::string d = "egress on host " + (host != kNoIndex && !ctx.topo.host(host).name.empty()
                                             ? ctx.topo.host(host).name
                                             : port.host_id.toString());
    if (!port.interface_name.empty()) d += " interface " + port.interface_name;
    ctx.trace(ctx.label(port), std::move(d));
  }
  return Step::Forwarded;
}

}  // namespace loom::sim::detail
