#pragma once
// What one simulation returns: the outcome, the per-egress datapath actions, the megaflow mask,
// the invalidation tags, the packets the devices generated, the state writes, and a trace.
//
// A SimResult is meant to be reused: clear() keeps the vectors' capacity, so a worker that
// simulates into the same object allocates nothing on the common paths.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/uuid.h"
#include "model/snapshot.h"
#include "packet/actions.h"
#include "packet/flow_match.h"
#include "packet/parser.h"
#include "state/state_write.h"

namespace loom::sim {

enum class Outcome : uint8_t {
  Forward,   // Leaves through one or more exterior ports (see SimResult::egress).
  Drop,      // Dropped; SimResult::drop_reason says why.
  Consumed,  // Handled by a device (e.g. an ARP request answered); nothing to forward.
  NotReady,  // Cannot be decided yet; park the packet and re-run (SimResult::not_ready).
};
const char* outcomeName(Outcome o);

// Why a packet was dropped. Each has a stable snake_case name for counters (dropReasonName).
enum class DropReason : uint8_t {
  None,
  MalformedPacket,  // The frame did not parse (SimResult::parse_error says why).
  PortAdminDown,
  BridgeAdminDown,
  RouterAdminDown,
  PortUnbound,   // Egress port neither exterior nor interior.
  BrokenLink,    // Interior port whose link is broken (see Port::link_broken).
  FilterDrop,    // A DROP rule.
  FilterReject,  // A REJECT rule (an ICMP error is generated when allowed).
  ChainDepthExceeded,
  HairpinLoop,      // A bridge would send the frame back out of its ingress port.
  NoFloodPorts,     // Flood with no other port to go to.
  NotForRouter,     // L2 destination is neither the router port's MAC nor broadcast.
  VlanAtRouter,     // An 802.1Q-tagged frame reached a router (router ports are untagged).
  ArpNotForRouter,  // ARP for an address the router does not own.
  UnsupportedEthertype,
  Ipv6NotRouted,  // IPv6 reached a router: not routed yet.
  L3BroadcastAtRouter,
  NoRoute,
  BlackholeRoute,
  RejectRoute,
  TtlExpired,
  ToRouterUnhandled,  // Addressed to the router, but not something it answers.
  DeviceLimit,        // More than SimConfig::max_devices devices on one path.
  // IPv4 with DF longer than a router egress port's MTU (an ICMP error is generated when
  // allowed). Without DF the packet is forwarded: the kernel/underlay fragments it.
  FragmentationNeeded,
  Count,
};
const char* dropReasonName(DropReason r);

// Why a simulation is not ready.
struct NotReadyCause {
  enum class Kind : uint8_t { None, MissingObject, ArpPending };
  Kind kind = Kind::None;
  model::ObjectKind object_kind = model::ObjectKind::Port;  // MissingObject.
  Uuid object_id;                                           // MissingObject.
  Uuid router;                                              // ArpPending.
  packet::IpAddr ip;                                        // ArpPending: next hop.
  std::string toString() const;
};

// One exterior port the packet leaves through, with the set-field actions that turn the
// ingress packet into the egress packet (MidoNet's actions by diff).
struct Egress {
  Uuid port;
  Uuid host;    // The host the port is bound to.
  Uuid device;  // The bridge or router owning the port.
  packet::SetFieldList actions;
  packet::FlowFields fields;  // The packet as it leaves (for conntrack and traces).
};

// A packet a device generated (ARP reply/request, ICMP error, echo reply). It must leave the
// generating device through `port`: the caller simulates it with SimInput::Start::PortEgress
// from that port (so it crosses the port's outbound filter and any peer device) or, for an
// exterior port, may output it directly.
struct GeneratedPacket {
  Uuid port;
  std::vector<uint8_t> frame;
  const char* what = "";  // "arp_reply", "arp_request", "icmp_error", "icmp_echo_reply".
};

// Invalidation tags. A flow installed from this simulation must be removed when any of its
// tags is invalidated: a device's config changes (Device), a MAC is learned or moves
// (MacPort), an IP->MAC or ARP entry changes (IpMac, ArpEntry), a route covering the
// destination is added or removed (RouteDst), or a conntrack key appears or expires (Conntrack,
// including keys that were looked up and missing).
enum class TagKind : uint8_t { Device, MacPort, IpMac, ArpEntry, RouteDst, Conntrack };
const char* tagKindName(TagKind k);

struct FlowTag {
  TagKind kind;
  Uuid id;         // Device id (bridge, router, port, chain, group) or conntrack zone.
  uint64_t a = 0;  // MacPort: vlan<<48|mac; IP tags: high 64 bits of the 16-byte address;
                   // Conntrack: key hash.
  uint64_t b = 0;  // IP tags: low 64 bits.

  static FlowTag device(const Uuid& id) { return FlowTag{TagKind::Device, id, 0, 0}; }
  static FlowTag macPort(const Uuid& bridge, uint16_t vlan, packet::MacAddr mac);
  static FlowTag ip(TagKind kind, const Uuid& device, const packet::IpAddr& ip);

  uint64_t hash() const;
  std::string toString() const;
  friend bool operator==(const FlowTag&, const FlowTag&) = default;
};

// The tags a state write invalidates once applied: flows that decided on the old value. A MAC
// learned or moved invalidates (bridge, vlan, mac); an IP->MAC or ARP entry its (device, ip);
// a conntrack entry its key (flows that saw it missing).
std::vector<FlowTag> invalidatedBy(const state::StateWrite& write);

struct TraceStep {
  std::string device;    // "bridge net-a", "port vm-a1 (ingress)", "chain sg-web".
  std::string decision;  // "learned 02:..:0b on port vm-a1; dst 02:..:0c -> port vm-a2".
};

struct SimResult {
  Outcome outcome = Outcome::Drop;
  DropReason drop_reason = DropReason::None;
  packet::ParseError parse_error = packet::ParseError::None;  // With MalformedPacket.
  NotReadyCause not_ready;
  std::vector<Egress> egress;
  std::vector<GeneratedPacket> generated;
  // The megaflow mask: every field the simulation read, plus the fields the actions rewrite,
  // normalized (packet::normalizeMask). The ingress port is always part of the match.
  packet::FieldMask mask = 0;
  // True when mask contains a field the fast path cannot key on: do not install a flow.
  bool userspace_only = false;
  // False when the result answers this one packet (an ARP reply, an echo reply, an ICMP
  // error): a cached flow would swallow the next such packet without its answer, so each must
  // come up to the agent. NotReady results are never cached either.
  bool cacheable = true;
  std::vector<FlowTag> tags;
  std::vector<state::StateWrite> writes;
  std::vector<TraceStep> trace;  // Filled only when SimInput::trace is set.
  uint32_t devices_visited = 0;
  // The smallest MTU of the router egress ports the packet crossed (0: none, no limit), set
  // whether SimInput::l3_len was known or not, and on drops after a router too. A flow installed
  // from this result is valid only for packets whose L3 length is <= path_mtu: the fast path
  // sends longer ones up to the agent, whose simulation then makes the MTU check (with DF:
  // fragmentation_needed and an ICMP error; without: forwarded for the kernel to fragment).
  // Bridge ports do not count: a bridge does not check lengths.
  uint32_t path_mtu = 0;

  void clear();
  bool hasTag(const FlowTag& t) const;
  // Multi-line, for people: outcome, egress and actions, mask, tags, writes, generated.
  std::string toString() const;
};

}  // namespace loom::sim
