#include "sim/simulator.h"

#include <cstring>
#include <vector>

#include "sim/context.h"

namespace loom::sim {

using detail::Context;
using detail::Step;

namespace {

Outcome outcomeOf(Step s) {
  switch (s) {
    case Step::Forwarded: return Outcome::Forward;
    case Step::Dropped: return Outcome::Drop;
    case Step::Consumed: return Outcome::Consumed;
    case Step::NotReady: return Outcome::NotReady;
  }
  return Outcome::Drop;
}

// A completed forward of a new connection installs its conntrack entries: the forward key in
// the zone where it entered, and for each egress the reversed key of the packet as it leaves,
// in the zone (device) where the replies will enter.
void commitConntrack(Context& ctx) {
  ctx.out.writes.emplace_back(state::ConntrackInstall{ctx.ct_key, state::CtDirection::Forward});
  for (const Egress& e : ctx.out.egress) {
    state::ConntrackKey reply = detail::conntrackKeyOf(e.fields, e.device);
    reply = reply.reversed(e.device);
    ctx.out.writes.emplace_back(state::ConntrackInstall{reply, state::CtDirection::Return});
  }
}

}  // namespace

void setLengthFromFrame(const packet::ParsedPacket& parsed, SimInput& input) {
  // What follows the Ethernet header and its VLAN tags: the IP total length but for the
  // padding of short frames, which no MTU check cares about.
  const size_t l2_len = parsed.l3_offset != packet::ParsedPacket::kAbsent
                            ? parsed.l3_offset
                            : 14 + 4 * size_t{parsed.vlan_tags};
  const size_t size = parsed.frame.size();
  input.l3_len = size > l2_len ? static_cast<uint32_t>(size - l2_len) : 0;
  input.df = parsed.fields.eth_type == packet::kEthTypeIpv4 && parsed.ipv4_dont_fragment;
}

void Simulator::simulate(const SimInput& input, const model::TopologySnapshot& topology,
                         const state::StateView& state, SimResult& out) const {
  out.clear();
  Context ctx(input, topology, state, config_, out);

  Step step;
  model::Index port = topology.findPort(input.port);
  if (port == model::kNoIndex) {
    step = ctx.notReadyMissing(model::ObjectKind::Port, input.port);
  } else {
    ctx.zone = topology.port(port).device.id;
    step = input.start == SimInput::Start::PortIngress ? detail::portIngress(ctx, port)
                                                       : detail::portEgress(ctx, port);
  }

  out.outcome = outcomeOf(step);
  out.mask = packet::normalizeMask(ctx.cur.seen() | ctx.branch_seen | ctx.rewritten);
  out.userspace_only = (out.mask & packet::kUserspaceOnlyFields) != 0;
  switch (out.outcome) {
    case Outcome::Forward:
      out.drop_reason = DropReason::None;
      if (ctx.ct_checked && ctx.ct_new) commitConntrack(ctx);
      break;
    case Outcome::NotReady:
      // Nothing of a simulation that did not complete may stick, except the packets it
      // generated to make progress (an ARP request). Answers and errors from flood branches
      // that finished before the one that is not ready are dropped too: the re-run after the
      // wait generates them again.
      out.egress.clear();
      out.writes.clear();
      std::erase_if(out.generated, [](const GeneratedPacket& g) {
        return std::strcmp(g.what, "arp_request") != 0;
      });
      out.drop_reason = DropReason::None;
      break;
    case Outcome::Consumed: out.drop_reason = DropReason::None; break;
    case Outcome::Drop: break;
  }
}

void Simulator::simulateFrame(std::span<const uint8_t> frame, const Uuid& port, bool trace,
                              const model::TopologySnapshot& topology,
                              const state::StateView& state, SimResult& out) const {
  packet::ParsedPacket parsed = packet::parsePacket(frame);
  if (!parsed.ok()) {
    out.clear();
    out.outcome = Outcome::Drop;
    out.drop_reason = DropReason::MalformedPacket;
    out.parse_error = parsed.error;
    out.cacheable = false;
    if (trace) {
      out.trace.push_back(TraceStep{"parser", std::string("drop (malformed_packet): ") +
                                                  packet::parseErrorName(parsed.error)});
    }
    return;
  }
  SimInput input;
  input.match = packet::flowMatchOf(parsed);
  input.frame = frame;
  input.port = port;
  input.trace = trace;
  setLengthFromFrame(parsed, input);
  simulate(input, topology, state, out);
}

}  // namespace loom::sim
