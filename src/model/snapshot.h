#pragma once
// TopologySnapshot: an immutable, versioned, reference-resolved view of the whole topology.
//
// Built once from a set of schema objects (loom.v1.Topology) and then only read, by any number
// of threads, through std::shared_ptr<const TopologySnapshot>. The simulation reads nothing
// else about the configuration.
//
// Building never fails on content. Every problem (a field that does not parse, a reference to
// an object that does not exist, a duplicate id, a link that loops or is not symmetric, a jump
// cycle) is recorded in problems() and the snapshot is still built:
//  - an object whose own fields are invalid is left out (references to it dangle);
//  - a reference that dangles keeps its id with index kNoIndex (Ref::isDangling()); the
//    simulation answers "not ready" when it needs such an object, so a packet is parked until a
//    later snapshot has it, never sent through a half-configured device (fail closed);
//  - a broken link (self-link, link inside one device, asymmetric peers, a port that is both
//    exterior and interior) is marked with Port::link_broken and its traffic is dropped.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/uuid.h"
#include "packet/addr.h"

namespace loom::v1 {
class Topology;
}

namespace loom::model {

using packet::IpAddr;
using packet::IpPrefix;
using packet::MacAddr;

using Index = uint32_t;
inline constexpr Index kNoIndex = 0xffffffffU;

enum class ObjectKind : uint8_t {
  Bridge,
  Router,
  Port,
  Route,
  Chain,
  Rule,
  PortGroup,
  IpAddrGroup,
  Host,
  TunnelZone,
};
const char* objectKindName(ObjectKind k);  // "bridge", "router", ...

// A reference to another object: the configured id, and its index once resolved.
struct Ref {
  Uuid id;
  Index index = kNoIndex;

  bool isSet() const { return !id.isNil(); }
  bool isResolved() const { return index != kNoIndex; }
  bool isDangling() const { return isSet() && !isResolved(); }
};

struct Problem {
  enum class Kind : uint8_t {
    InvalidField,       // A field does not parse or is out of range; the object is skipped.
    DuplicateId,        // A second object with the same id; it is skipped.
    DanglingReference,  // A reference names no object of the expected kind.
    LinkLoop,           // A port linked to itself or to a port of its own device.
    AsymmetricLink,     // A names B as peer, but B does not name A.
    Inconsistent,       // E.g. a rule listed in a chain whose chain_id names another chain.
    JumpCycle,          // Chains jump to each other in a cycle.
  };
  Kind kind;
  ObjectKind object_kind;
  Uuid object_id;     // Nil when the object's own id is what failed to parse.
  std::string field;  // Schema field name, e.g. "peer_id", "condition.nw_src".
  std::string message;

  // "port 6f1c…: peer_id: dangling reference to port 0a2b…", with full UUIDs (the distinguishing
  // digits of hand-written ids are often at the end).
  std::string toString() const;
};
const char* problemKindName(Problem::Kind k);

enum class DeviceKind : uint8_t { Bridge, Router };

struct Port {
  Uuid id;
  Uuid tenant_id;
  std::string name;
  DeviceKind device_kind = DeviceKind::Bridge;
  Ref device;  // Into bridges() or routers(), by device_kind.
  bool admin_up = true;

  Uuid host_id;  // Exterior when set. Not checked against hosts(): hosts register themselves.
  std::string interface_name;
  Ref peer;  // Interior when set.
  bool link_broken = false;

  bool has_mac = false;
  MacAddr mac;
  std::vector<IpPrefix> addresses;

  Ref inbound_filter;
  Ref outbound_filter;
  std::vector<Index> port_groups;  // Resolved groups only (dangling ones are problems).
  uint32_t mtu = 1500;
  // One of the port's chains tests connection tracking: every flow entering or leaving through
  // the port is tracked, so replies to its own connections are recognised whatever the other
  // end's policy (a stateful security group tracks all its port's connections).
  bool tracks_connections = false;

  bool isExterior() const { return !host_id.isNil(); }
  bool isInterior() const { return peer.isSet(); }
  bool inGroup(Index group) const {
    for (Index g : port_groups) {
      if (g == group) return true;
    }
    return false;
  }
};

struct Bridge {
  Uuid id;
  Uuid tenant_id;
  std::string name;
  bool admin_up = true;
  bool arp_suppression = true;
  Ref inbound_filter;
  Ref outbound_filter;
  bool tracks_connections = false;  // As Port::tracks_connections, for the bridge's chains.
  std::vector<Index> ports;         // All ports of the bridge, in port-index order.
  // MAC -> port for every port with a configured MAC (bridge ports' workloads and, through
  // interior links, the peer router ports' MACs). Configured entries beat learned ones.
  std::unordered_map<uint64_t, Index> static_macs;
  // IP -> MAC from the same ports' addresses: the seed of ARP suppression.
  std::unordered_map<IpAddr, MacAddr, packet::IpAddrHash> static_ip_macs;
};

enum class NextHopType : uint8_t { Port, Blackhole, Reject, Local };
const char* nextHopTypeName(NextHopType t);

struct Route {
  Uuid id;
  Index router = kNoIndex;
  IpPrefix src;  // len 0 = any source of the family.
  IpPrefix dst;
  NextHopType next_hop = NextHopType::Port;
  // Resolved to a port of the same router; dangling otherwise. Implicit LOCAL routes name the
  // router port that owns the address.
  Ref next_hop_port;
  bool has_gateway = false;
  IpAddr gateway;
  uint32_t weight = 0;
  // Derived from a router port's address (connected subnet or the port's own LOCAL address).
  bool implicit = false;

  // "10.0.0.0/24 via port <port uuid> gw 10.0.0.254 weight 0", "0.0.0.0/0 blackhole weight 0",
  // with " from <src>" after dst for source routes; for traces. A non-empty `port_name` is
  // printed instead of the port's id.
  std::string toString(std::string_view port_name = {}) const;
};

// Longest-prefix-match table of one address family of one router.
class RouteTable {
 public:
  RouteTable();
  ~RouteTable();
  RouteTable(RouteTable&&) noexcept;
  RouteTable& operator=(RouteTable&&) noexcept;

  // Routes must outlive the table (they live in the snapshot). Call finalize() once after the
  // last add().
  void add(const Route* route);
  void finalize();

  bool empty() const;
  size_t size() const;
  // True if any route has a source prefix: only then must the lookup read the packet's source.
  bool hasSourceRoutes() const;

  // Longest prefix match on `dst` among routes whose source prefix contains `src` (src is
  // ignored when !hasSourceRoutes()); among the matches of that length, those of the lowest
  // weight. Fills `out` with them ordered by route id (so every host sees the same ECMP member
  // order) and returns true; returns false with `out` empty if nothing matches.
  bool lookup(const IpAddr& dst, const IpAddr& src, std::vector<const Route*>& out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct Router {
  Uuid id;
  Uuid tenant_id;
  std::string name;
  bool admin_up = true;
  Ref inbound_filter;
  Ref outbound_filter;
  bool tracks_connections = false;  // As Port::tracks_connections, for the router's chains.
  std::vector<Index> ports;
  std::vector<Route> routes;  // Explicit and implicit routes; the tables point into this.
  RouteTable routes_v4;
  RouteTable routes_v6;
  const RouteTable& table(const IpAddr& a) const { return a.isV6() ? routes_v6 : routes_v4; }
};

// ------------------------------------------------------------------------------------------------
// Chains and rules, compiled for evaluation.

enum class RuleAction : uint8_t { Accept, Drop, Reject, Return, Jump, Continue };
const char* ruleActionName(RuleAction a);

enum class FragmentPolicy : uint8_t { Any, Header, NonHeader, Unfragmented };
enum class ConntrackMatch : uint8_t { None, ForwardFlow, ReturnFlow };

// One bit per condition field, for Condition::present and Condition::inverted.
// Declared in evaluation order: the simulation tests a condition's fields lowest bit first,
// cheapest first (ports need no packet field), then L2, L3, L4, and connection state last.
enum class CondField : uint8_t {
  InPorts,
  OutPorts,
  InPortGroup,
  OutPortGroup,
  EtherType,
  DlSrc,
  DlDst,
  NwProto,
  NwSrc,
  NwDst,
  IpAddrGroupSrc,
  IpAddrGroupDst,
  NwTos,
  TpDst,
  TpSrc,
  IcmpType,
  IcmpCode,
  Conntrack,
};
constexpr uint32_t condBit(CondField f) { return uint32_t{1} << static_cast<unsigned>(f); }

struct Condition {
  uint32_t present = 0;   // condBit()s of the fields this condition tests.
  uint32_t inverted = 0;  // condBit()s whose test is negated.
  bool invert = false;    // Negates the whole condition.

  std::vector<Uuid> in_ports;
  std::vector<Uuid> out_ports;
  Ref in_port_group;
  Ref out_port_group;
  MacAddr dl_src;
  uint64_t dl_src_mask = 0xffffffffffffULL;
  MacAddr dl_dst;
  uint64_t dl_dst_mask = 0xffffffffffffULL;
  uint16_t ethertype = 0;
  IpPrefix nw_src;
  IpPrefix nw_dst;
  Ref ip_addr_group_src;
  Ref ip_addr_group_dst;
  uint8_t nw_proto = 0;
  uint8_t nw_tos = 0;
  uint16_t tp_src_lo = 0, tp_src_hi = 0;
  uint16_t tp_dst_lo = 0, tp_dst_hi = 0;
  uint8_t icmp_type = 0;
  uint8_t icmp_code = 0;
  // Effective policy: FRAGMENT_POLICY_UNSPECIFIED is already resolved to Any or Header.
  FragmentPolicy fragment_policy = FragmentPolicy::Any;
  ConntrackMatch conntrack = ConntrackMatch::None;

  bool has(CondField f) const { return present & condBit(f); }
  bool inv(CondField f) const { return inverted & condBit(f); }
};

struct Rule {
  Uuid id;
  std::string name;
  Condition condition;
  RuleAction action = RuleAction::Accept;
  Ref jump_chain;
};

struct Chain {
  Uuid id;
  Uuid tenant_id;
  std::string name;
  std::vector<Rule> rules;  // In evaluation order.
  // Set when the chain lists a rule that does not exist or did not parse: evaluating it would
  // skip a rule that might drop, so the simulation answers "not ready" instead.
  Uuid missing_rule;
  // Some rule of this chain, or of a chain it jumps to, tests connection tracking.
  bool uses_conntrack = false;
};

struct PortGroup {
  Uuid id;
  Uuid tenant_id;
  std::string name;
  bool stateful = false;
  std::vector<Index> ports;  // Derived from Port.port_group_ids.
};

struct IpAddrGroup {
  Uuid id;
  Uuid tenant_id;
  std::string name;
  std::unordered_set<IpAddr, packet::IpAddrHash> hosts;  // Host addresses (/32, /128).
  std::vector<IpPrefix> prefixes;                        // Shorter prefixes.
  bool contains(const IpAddr& a) const;
};

struct Host {
  Uuid id;
  std::string name;
  std::vector<Index> tunnel_zones;
};

struct TunnelZone {
  struct Member {
    Uuid host_id;
    IpAddr address;
  };
  Uuid id;
  std::string name;
  std::vector<Member> members;
};

class TopologySnapshot {
 public:
  uint64_t version() const { return version_; }

  const std::vector<Port>& ports() const { return ports_; }
  const std::vector<Bridge>& bridges() const { return bridges_; }
  const std::vector<Router>& routers() const { return routers_; }
  const std::vector<Chain>& chains() const { return chains_; }
  const std::vector<PortGroup>& portGroups() const { return port_groups_; }
  const std::vector<IpAddrGroup>& ipAddrGroups() const { return ip_addr_groups_; }
  const std::vector<Host>& hosts() const { return hosts_; }
  const std::vector<TunnelZone>& tunnelZones() const { return tunnel_zones_; }
  const std::vector<Problem>& problems() const { return problems_; }

  const Port& port(Index i) const { return ports_[i]; }
  const Bridge& bridge(Index i) const { return bridges_[i]; }
  const Router& router(Index i) const { return routers_[i]; }
  const Chain& chain(Index i) const { return chains_[i]; }
  const PortGroup& portGroup(Index i) const { return port_groups_[i]; }
  const IpAddrGroup& ipAddrGroup(Index i) const { return ip_addr_groups_[i]; }
  const Host& host(Index i) const { return hosts_[i]; }
  const TunnelZone& tunnelZone(Index i) const { return tunnel_zones_[i]; }

  // kNoIndex when absent.
  Index findPort(const Uuid& id) const { return find(port_index_, id); }
  Index findBridge(const Uuid& id) const { return find(bridge_index_, id); }
  Index findRouter(const Uuid& id) const { return find(router_index_, id); }
  Index findChain(const Uuid& id) const { return find(chain_index_, id); }
  Index findPortGroup(const Uuid& id) const { return find(port_group_index_, id); }
  Index findIpAddrGroup(const Uuid& id) const { return find(ip_addr_group_index_, id); }
  Index findHost(const Uuid& id) const { return find(host_index_, id); }
  Index findTunnelZone(const Uuid& id) const { return find(tunnel_zone_index_, id); }
  // First port with this name, or kNoIndex (names are not unique; tools only).
  Index findPortByName(std::string_view name) const;

 private:
  friend class SnapshotBuilder;
  using IdIndex = std::unordered_map<Uuid, Index, UuidHash>;
  static Index find(const IdIndex& m, const Uuid& id) {
    auto it = m.find(id);
    return it == m.end() ? kNoIndex : it->second;
  }

  uint64_t version_ = 0;
  std::vector<Port> ports_;
  std::vector<Bridge> bridges_;
  std::vector<Router> routers_;
  std::vector<Chain> chains_;
  std::vector<PortGroup> port_groups_;
  std::vector<IpAddrGroup> ip_addr_groups_;
  std::vector<Host> hosts_;
  std::vector<TunnelZone> tunnel_zones_;
  std::vector<Problem> problems_;
  IdIndex port_index_, bridge_index_, router_index_, chain_index_, port_group_index_,
      ip_addr_group_index_, host_index_, tunnel_zone_index_;
};

using SnapshotPtr = std::shared_ptr<const TopologySnapshot>;

// Builds a snapshot at `version` (the store revision it reflects). Never fails: problems are
// listed in the result, in a deterministic order (by build phase, then input order).
SnapshotPtr buildSnapshot(const v1::Topology& topology, uint64_t version);

}  // namespace loom::model
