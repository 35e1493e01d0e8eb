// Fuzzes the agent's handling of upcalled frames: whatever a VM sends (or a broken capture
// holds), the packet worker must not crash, must install flows only for its own interfaces, and
// may send on only frames that parse; it must not break a correct IPv4 header checksum (its
// rewrites update it; a VM that sends a wrong one gets it forwarded as it is, like any switch).
//
// Input layout:
//   byte 0  low 2 bits: the ingress interface (a1's, b1's, or one the agent does not serve);
//           bits 2-3: the upcall reason (miss, action, too big, slow path)
//   rest    the frame (at most 1,536 bytes, like the largest upcall record)
// The agent (PacketProcessor over an in-memory fast path) lives across inputs, as a real one
// does: what one frame teaches (MACs, ARP, conntrack), later ones see.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "agent/packet_processor.h"
#include "packet/checksum.h"
#include "packet/parser.h"
#include "support/topo_builder.h"
#include "unit/agent/fakes.h"

namespace {

using namespace loom;  // NOLINT(google-build-using-namespace): fuzz target only.

constexpr uint32_t kA1 = 10, kB1 = 11, kStranger = 99;

struct World {
  testing::TopoBuilder topo;
  agent::testing::FakeDatapath dp;
  agent::testing::FakeTx tx;
  agent::AgentCounters counters;
  agent::AgentConfig config;
  std::unique_ptr<agent::MaskSlots> masks;
  std::unique_ptr<agent::PacketProcessor> processor;

  World() {
    Uuid h1 = topo.host("h1"), h2 = topo.host("h2");
    Uuid net_a = topo.bridge("net-a"), net_b = topo.bridge("net-b"), r1 = topo.router("r1");
    Uuid a1 = topo.vmPort(net_a, "a1", "02:00:00:00:0a:01", "10.0.0.11/24", h1);
    Uuid a2 = topo.vmPort(net_a, "a2", "02:00:00:00:0a:02", "10.0.0.12/24", h2);
    Uuid b1 = topo.vmPort(net_b, "b1", "", "", h1);  // Learned, not configured.
    topo.attach(r1, net_a, "r1-a", "02:00:00:00:ff:0a", "10.0.0.1/24");
    Uuid r1b = topo.attach(r1, net_b, "r1-b", "02:00:00:00:ff:0b", "10.0.1.1/24");
    topo.port(r1b).set_mtu(1400);
    masks = std::make_unique<agent::MaskSlots>(dp);
    processor = std::make_unique<agent::PacketProcessor>(dp, tx, *masks, counters, config);
    auto v = std::make_shared<agent::AgentView>();
    v->generation = 1;
    v->topo = topo.snapshot(1);
    for (auto [port, ifindex] : {std::pair{a1, kA1}, {b1, kB1}}) {
      agent::LocalPort lp{port, "if", ifindex, ifindex};
      v->local_by_ifindex[ifindex] = lp;
      v->local_by_port[port] = lp;
    }
    v->remote_by_port[a2] = agent::RemotePort{h2, 0xc6120002, 7};
    processor->publishView(v);
    processor->step(0);
  }
};

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = new World();
  if (size < 1) return 0;
  const uint32_t ifindex = (data[0] & 3) == 0 ? kA1 : (data[0] & 3) == 1 ? kB1 : kStranger;
  static const uint8_t kReasons[4] = {LOOM_UPCALL_MISS, LOOM_UPCALL_ACTION, LOOM_UPCALL_TOO_BIG,
                                      LOOM_UPCALL_SLOWPATH};
  const uint8_t reason = kReasons[(data[0] >> 2) & 3];
  std::vector<uint8_t> frame(data + 1, data + std::min<size_t>(size, 1 + LOOM_UPCALL_LARGE));
  bool header_ok = false;
  if (packet::ParsedPacket in = packet::parsePacket(frame);
      in.ok() && in.fields.eth_type == packet::kEthTypeIpv4) {
    header_ok = packet::ipv4HeaderChecksumOk(std::span<const uint8_t>(frame).subspan(
        in.l3_offset, static_cast<size_t>(in.ipv4_ihl) * 4));
  }
  world->tx.sent.clear();
  const uint64_t strangers = world->counters.upcalls_unknown_port.load();
  world->dp.upcall(ifindex, frame, reason);
  world->processor->step(0);

  world->dp.dumpFlows([](const datapath::FlowKey& k, const datapath::FlowValue& v) {
    check(k.ifindex == kA1 || k.ifindex == kB1, "flow for an interface the agent does not serve");
    check(k.mask_id < LOOM_MAX_MASKS, "mask id out of range");
    check(v.n_outputs <= LOOM_MAX_OUTPUTS && v.n_sets <= LOOM_MAX_SETS, "value bounds");
    for (int i = 0; i < v.n_outputs; ++i) {
      const loom_output& o = v.outputs[i];
      check(o.flags == LOOM_OUT_LOCAL ? (o.ifindex == kA1 || o.ifindex == kB1)
                                      : (o.flags == LOOM_OUT_TUNNEL && o.tunnel_key == 7),
            "output to nowhere");
    }
  });
  // (What is sent may also be packets parked by earlier inputs, re-run now.)
  if (ifindex == kStranger) {
    check(world->counters.upcalls_unknown_port.load() == strangers + 1, "stranger not refused");
  }
  for (const agent::testing::Sent& s : world->tx.sent) {
    packet::ParsedPacket p = packet::parsePacket(s.frame);
    check(p.ok(), "sent a frame that does not parse");
    if (p.fields.eth_type == packet::kEthTypeIpv4 && header_ok) {
      check(packet::ipv4HeaderChecksumOk(std::span<const uint8_t>(s.frame).subspan(
                p.l3_offset, static_cast<size_t>(p.ipv4_ihl) * 4)),
            "sent an IPv4 header with a bad checksum");
    }
  }
  return 0;
}
