#pragma once
// The simulation: a pure function of (packet, ingress port, topology snapshot, state view) to a
// SimResult. It does no I/O, starts no threads, and reads the clock only through the injected
// TimeSource. Everything it wants to change comes back as StateWrites in the result.
//
// Life of a simulation (docs/life-of-a-packet.md): the packet enters the ingress port (its
// inbound chain), then the port's device (bridge or router, with their chains), leaves through
// an egress port (its outbound chain) and either reaches an exterior port (Forward) or crosses
// an interior link into the peer device and goes on, for at most SimConfig::max_devices devices.

#include <span>

#include "base/time_source.h"
#include "model/snapshot.h"
#include "packet/flow_match.h"
#include "packet/parser.h"
#include "sim/result.h"
#include "state/state_view.h"

namespace loom::sim {

struct SimConfig {
  const TimeSource* clock = nullptr;  // Null: time stands at MonoTime{} (ARP entries compare
                                      // against it).
  uint32_t max_devices = 16;          // Devices on one path (bridges and routers).
  uint32_t max_total_devices = 256;   // Device visits in all flood branches together.
  uint32_t max_chain_depth = 16;      // Nested jumps.
};

struct SimInput {
  enum class Start : uint8_t {
    PortIngress,  // The packet arrives on `port` from outside (a VM, an uplink).
    PortEgress,   // The packet leaves the device owning `port` through it (generated packets).
  };
  // The packet's flow key. Its seen bits are ignored and not changed.
  packet::FlowMatch match;
  // The original frame, if available. Used as the payload of ICMP errors; without it the
  // simulation synthesizes the offending header from the match.
  std::span<const uint8_t> frame;
  Uuid port;
  Start start = Start::PortIngress;
  bool trace = false;
  // The packet's L3 length (the IP total length), for the MTU check at router egress ports.
  // 0 = unknown: no MTU check is made (path_mtu is still reported). simulateFrame() takes it
  // from the frame.
  uint32_t l3_len = 0;
  // IPv4 Don't Fragment. Not a flow-key field, and it need not be: a flow is valid only for
  // packets up to SimResult::path_mtu, which no MTU check stops whatever their DF bit; longer
  // packets come up to the agent, which passes their DF bit here.
  bool df = false;
};

// Sets input.l3_len and input.df from a parsed frame, as simulateFrame() does: the L3 length is
// the frame less its Ethernet header and VLAN tags.
void setLengthFromFrame(const packet::ParsedPacket& parsed, SimInput& input);

class Simulator {
 public:
  explicit Simulator(SimConfig config = {}) : config_(config) {}

  // Simulates into `out` (cleared first; its capacity is reused).
  void simulate(const SimInput& input, const model::TopologySnapshot& topology,
                const state::StateView& state, SimResult& out) const;
  SimResult simulate(const SimInput& input, const model::TopologySnapshot& topology,
                     const state::StateView& state) const {
    SimResult r;
    simulate(input, topology, state, r);
    return r;
  }

  // Parses `frame` and simulates it entering `port` from outside. A frame that does not parse
  // is dropped with DropReason::MalformedPacket and the parse error, before any device sees it.
  // It fills SimInput::l3_len and SimInput::df from the frame (setLengthFromFrame).
  void simulateFrame(std::span<const uint8_t> frame, const Uuid& port, bool trace,
                     const model::TopologySnapshot& topology, const state::StateView& state,
                     SimResult& out) const;

  const SimConfig& config() const { return config_; }

 private:
  SimConfig config_;
};

}  // namespace loom::sim
