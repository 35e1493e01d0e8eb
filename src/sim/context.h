#pragma once
// Internal to the simulation: the per-packet context shared by the device handlers, and the
// handlers' entry points. Not part of the sim library's interface (see simulator.h).

#include <optional>
#include <string>
#include <string_view>

#include "model/snapshot.h"
#include "packet/flow_match.h"
#include "sim/result.h"
#include "sim/simulator.h"
#include "state/state_view.h"

namespace loom::sim::detail {

using model::Index;
using model::kNoIndex;
using model::ObjectKind;
using model::Ref;
using packet::FlowMatch;
using packet::IpAddr;
using packet::IpPrefix;
using packet::MacAddr;

// How one path segment (a port, a device and everything after it) ended.
enum class Step : uint8_t { Forwarded, Dropped, Consumed, NotReady };

enum class ChainVerdict : uint8_t { Accept, Drop, Reject, NotReady };

class Context {
 public:
  Context(const SimInput& input, const model::TopologySnapshot& topology,
          const state::StateView& state_view, const SimConfig& config, SimResult& result);

  const SimInput& in;
  const model::TopologySnapshot& topo;
  const state::StateView& state;
  const SimConfig& cfg;
  SimResult& out;
  MonoTime now;

  FlowMatch orig;  // The packet as it entered (read untracked, for diffs).
  FlowMatch cur;   // The working packet: devices read it through tracked accessors.
  packet::FieldMask branch_seen = 0;  // Seen bits of flood branches already finished.
  packet::FieldMask rewritten = 0;    // Fields some egress's actions rewrite.

  Index in_port = kNoIndex;   // The port the packet entered the current device through.
  Index out_port = kNoIndex;  // The port chosen to leave it (kNoIndex until known).
  uint32_t depth = 0;         // Devices on the current path.
  Uuid zone;                  // The first device: the conntrack zone.

  // Connection tracking, evaluated at most once per simulation (lazily, by a condition).
  bool ct_checked = false;
  bool ct_new = false;  // No entry existed: a Forward entry is installed on commit.
  state::CtDirection ct_direction = state::CtDirection::Forward;
  state::ConntrackKey ct_key;

  bool tracing() const { return in.trace; }
  // Appends a trace step (only when tracing; callers build strings only under tracing()).
  void trace(std::string device, std::string decision);

  void tag(const FlowTag& t);
  void tagDevice(const Uuid& id) { tag(FlowTag::device(id)); }

  // Records the drop (the first reason wins across flood branches) and returns Dropped.
  Step drop(DropReason reason, std::string_view device, std::string_view detail);
  Step notReadyMissing(ObjectKind kind, const Uuid& id);
  Step notReadyArp(const Uuid& router, const IpAddr& ip);

  // Enters a device: counts it against the limits. Returns false (and records the drop) when
  // a limit is exceeded; the caller then returns Step::Dropped.
  bool enterDevice(std::string_view label);

  // Direction of the current connection, looking it up on first use.
  state::CtDirection conntrackDirection();
  // Crossing a port or device that tracks connections: look the connection up now, so that a
  // forward simulation commits its entries even if no rule on this path asks.
  void trackConnection(bool tracks) {
    if (tracks && !ct_checked && cur.isIp()) conntrackDirection();
  }

  // "port vm-a1", "bridge net-a", "router r1", "chain sg": name, or short id when unnamed.
  std::string label(const model::Port& p) const;
  std::string label(const model::Bridge& b) const;
  std::string label(const model::Router& r) const;
  std::string label(const model::Chain& c) const;

 private:
  uint32_t total_devices_ = 0;
};

// The address of `port` to use towards `peer`: the one whose subnet contains it, else the
// first address of the same family; nullopt if the port has none of that family.
std::optional<IpAddr> portAddressTowards(const model::Port& port, const IpAddr& peer);

// Builds the conntrack key of a packet's fields in a zone (untracked: callers mark reads).
state::ConntrackKey conntrackKeyOf(const packet::FlowFields& f, const Uuid& zone);

// Device handlers (port.cc, bridge.cc, router.cc, chain.cc).
Step portIngress(Context& ctx, Index port);
Step portEgress(Context& ctx, Index port);
Step bridgeProcess(Context& ctx, Index bridge);
Step routerProcess(Context& ctx, Index router);
// Runs a chain reference (unset = accept). `where` names the hook for the trace.
ChainVerdict runChain(Context& ctx, const Ref& chain, std::string_view where);

// Generated packets (icmp.cc).
// RFC 1812 4.3.2.7: may an ICMP error be sent about the current packet?
bool icmpErrorAllowed(Context& ctx);
// Emits an ICMPv4 error about the packet, out of `via_port` (towards the sender), from
// (src_mac, src_ip). `rest` is the 4 bytes after the checksum (e.g. next-hop MTU).
void emitIcmpError(Context& ctx, Index via_port, MacAddr src_mac, const IpAddr& src_ip,
                   uint8_t type, uint8_t code, uint32_t rest = 0);
// The ICMP error a reject rule sends, from the right source for the current device.
void emitReject(Context& ctx);
void emitArpReply(Context& ctx, Index via_port, MacAddr mac, const IpAddr& ip);
void emitArpRequest(Context& ctx, Index via_port, const IpAddr& target);
void emitEchoReply(Context& ctx, Index via_port, MacAddr src_mac);

}  // namespace loom::sim::detail
