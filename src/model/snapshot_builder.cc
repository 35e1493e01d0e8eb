// buildSnapshot(): parsing of every object's own fields, id indexing, and resolution of devices,
// ports, links and the physical objects (hosts, tunnel zones). Routes and static tables are in
// route_builder.cc, chains and rules in chain_compiler.cc.
#include "model/snapshot_builder.h"

namespace loom::model {
namespace {

// Input text quoted for a message, cut short so a hostile input cannot bloat the problem list.
std::string quoted(std::string_view text) {
  constexpr size_t kMax = 64;
  std::string s = "'";
  s.append(text.substr(0, kMax));
  if (text.size() > kMax) s += "...";
  s += "'";
  return s;
}

}  // namespace

std::string indexedField(std::string_view field, size_t i) {
  std::string s(field);
  s += '[';
  s += std::to_string(i);
  s += ']';
  return s;
}

// ------------------------------------------------------------------------------------------------
// FieldChecker

Uuid FieldChecker::id(const std::string& text) {
  if (text.empty()) {
    fail("id", "required");
    return Uuid();
  }
  auto u = Uuid::parse(text);
  if (!u) {
    fail("id", "cannot parse " + quoted(text) + " as a UUID");
    return Uuid();
  }
  if (u->isNil()) {
    fail("id", "the nil UUID is not a valid id");
    return Uuid();
  }
  id_ = *u;
  return *u;
}

Uuid FieldChecker::uuid(std::string_view field, const std::string& text) {
  if (text.empty()) return Uuid();
  auto u = Uuid::parse(text);
  if (!u) {
    fail(field, "cannot parse " + quoted(text) + " as a UUID");
    return Uuid();
  }
  return *u;
}

Uuid FieldChecker::requiredUuid(std::string_view field, const std::string& text) {
  if (text.empty()) {
    fail(field, "required");
    return Uuid();
  }
  const size_t errors_before = errors_.size();
  Uuid u = uuid(field, text);
  if (u.isNil() && errors_.size() == errors_before) {
    fail(field, "the nil UUID is not a valid reference");
  }
  return u;
}

std::optional<MacAddr> FieldChecker::mac(std::string_view field, const std::string& text) {
  auto m = MacAddr::parse(text);
  if (!m) fail(field, "cannot parse " + quoted(text) + " as a MAC address");
  return m;
}

std::optional<IpPrefix> FieldChecker::prefix(std::string_view field, const std::string& text) {
  auto p = IpPrefix::parse(text);
  if (!p) fail(field, "cannot parse " + quoted(text) + " as an IP prefix");
  return p;
}

std::optional<IpAddr> FieldChecker::addr(std::string_view field, const std::string& text) {
  auto a = IpAddr::parse(text);
  if (!a) fail(field, "cannot parse " + quoted(text) + " as an IP address");
  return a;
}

void FieldChecker::fail(std::string_view field, std::string message) {
  errors_.emplace_back(std::string(field), std::move(message));
}

bool FieldChecker::finish(std::vector<Problem>& out) {
  for (auto& [field, message] : errors_) {
    out.push_back(
        Problem{Problem::Kind::InvalidField, kind_, id_, std::move(field), std::move(message)});
  }
  bool was_ok = errors_.empty();
  errors_.clear();
  return was_ok;
}

// ------------------------------------------------------------------------------------------------
// SnapshotBuilder: common helpers

SnapshotBuilder::SnapshotBuilder(const v1::Topology& topology, uint64_t version)
    : in_(topology), snap_(std::make_shared<TopologySnapshot>()), s_(*snap_) {
  s_.version_ = version;
}

void SnapshotBuilder::report(Problem::Kind kind, ObjectKind object_kind, const Uuid& object_id,
                             std::string field, std::string message) {
  s_.problems_.push_back(
      Problem{kind, object_kind, object_id, std::move(field), std::move(message)});
}

bool SnapshotBuilder::claimId(IdIndex& index, ObjectKind kind, const Uuid& id, size_t next) {
  auto [it, inserted] = index.emplace(id, static_cast<Index>(next));
  if (!inserted) {
    report(Problem::Kind::DuplicateId, kind, id, "id",
           std::string("duplicate id; the first ") + objectKindName(kind) + " with it is used");
  }
  return inserted;
}

Ref SnapshotBuilder::resolve(const IdIndex& index, ObjectKind target, const Uuid& id,
                             ObjectKind owner_kind, const Uuid& owner, std::string field) {
  Ref r{id, kNoIndex};
  if (id.isNil()) return r;
  r.index = TopologySnapshot::find(index, id);
  if (r.index == kNoIndex) {
    report(Problem::Kind::DanglingReference, owner_kind, owner, std::move(field),
           std::string("dangling reference to ") + objectKindName(target) + " " + id.toString());
  }
  return r;
}

SnapshotPtr SnapshotBuilder::build() {
  parseHosts();
  parseTunnelZones();
  parseBridges();
  parseRouters();
  parseChains();
  parsePortGroups();
  parseIpAddrGroups();
  parsePorts();
  resolvePhysical();
  resolveDeviceFilters();
  resolvePorts();
  checkLinks();
  buildExplicitRoutes();
  buildImplicitRoutes();
  finalizeRouteTables();
  buildStaticTables();
  compileRules();
  fillChains();
  detectJumpCycles();
  markConnectionTracking();
  return snap_;
}

SnapshotPtr buildSnapshot(const v1::Topology& topology, uint64_t version) {
  return SnapshotBuilder(topology, version).build();
}

// ------------------------------------------------------------------------------------------------
// Parsing of each kind's own fields

void SnapshotBuilder::parseHosts() {
  for (const v1::Host& in : in_.hosts()) {
    FieldChecker fc(ObjectKind::Host);
    Host h;
    h.id = fc.id(in.id());
    h.name = in.name();
    std::vector<Uuid> zones;
    for (int i = 0; i < in.tunnel_zone_ids_size(); ++i) {
      zones.push_back(fc.requiredUuid(indexedField("tunnel_zone_ids", static_cast<size_t>(i)),
                                      in.tunnel_zone_ids(i)));
    }
    if (!fc.finish(s_.problems_)) continue;
    if (!claimId(s_.host_index_, ObjectKind::Host, h.id, s_.hosts_.size())) continue;
    s_.hosts_.push_back(std::move(h));
    host_zone_ids_.push_back(std::move(zones));
  }
}

void SnapshotBuilder::parseTunnelZones() {
  for (const v1::TunnelZone& in : in_.tunnel_zones()) {
    FieldChecker fc(ObjectKind::TunnelZone);
    TunnelZone z;
    z.id = fc.id(in.id());
    z.name = in.name();
    if (in.type() != v1::TunnelZone::TYPE_UNSPECIFIED && in.type() != v1::TunnelZone::VXLAN) {
      fc.fail("type", "unknown tunnel zone type " + std::to_string(in.type()));
    }
    for (int i = 0; i < in.members_size(); ++i) {
      const v1::TunnelZone::Member& m = in.members(i);
      std::string base = indexedField("members", static_cast<size_t>(i));
      TunnelZone::Member member;
      member.host_id = fc.requiredUuid(base + ".host_id", m.host_id());
      if (m.address().empty()) {
        fc.fail(base + ".address", "required");
      } else if (auto a = fc.addr(base + ".address", m.address())) {
        member.address = *a;
      }
      z.members.push_back(member);
    }
    if (!fc.finish(s_.problems_)) continue;
    if (!claimId(s_.tunnel_zone_index_, ObjectKind::TunnelZone, z.id, s_.tunnel_zones_.size())) {
      continue;
    }
    s_.tunnel_zones_.push_back(std::move(z));
  }
}

void SnapshotBuilder::parseBridges() {
  for (const v1::Bridge& in : in_.bridges()) {
    FieldChecker fc(ObjectKind::Bridge);
    Bridge b;
    b.id = fc.id(in.id());
    b.tenant_id = fc.uuid("tenant_id", in.tenant_id());
    b.name = in.name();
    b.admin_up = !in.has_admin_state_up() || in.admin_state_up();
    b.arp_suppression = !in.has_arp_suppression() || in.arp_suppression();
    b.inbound_filter.id = fc.uuid("inbound_filter_id", in.inbound_filter_id());
    b.outbound_filter.id = fc.uuid("outbound_filter_id", in.outbound_filter_id());
    if (!fc.finish(s_.problems_)) continue;
    if (!claimId(s_.bridge_index_, ObjectKind::Bridge, b.id, s_.bridges_.size())) continue;
    s_.bridges_.push_back(std::move(b));
  }
}

void SnapshotBuilder::parseRouters() {
  for (const v1::Router& in : in_.routers()) {
    FieldChecker fc(ObjectKind::Router);
    Router r;
    r.id = fc.id(in.id());
    r.tenant_id = fc.uuid("tenant_id", in.tenant_id());
    r.name = in.name();
    r.admin_up = !in.has_admin_state_up() || in.admin_state_up();
    r.inbound_filter.id = fc.uuid("inbound_filter_id", in.inbound_filter_id());
    r.outbound_filter.id = fc.uuid("outbound_filter_id", in.outbound_filter_id());
    if (!fc.finish(s_.problems_)) continue;
    if (!claimId(s_.router_index_, ObjectKind::Router, r.id, s_.routers_.size())) continue;
    s_.routers_.push_back(std::move(r));
  }
}

void SnapshotBuilder::parseChains() {
  for (const v1::Chain& in : in_.chains()) {
    FieldChecker fc(ObjectKind::Chain);
    Chain c;
    c.id = fc.id(in.id());
    c.tenant_id = fc.uuid("tenant_id", in.tenant_id());
    c.name = in.name();
    std::vector<Uuid> rule_ids;
    for (int i = 0; i < in.rule_ids_size(); ++i) {
      rule_ids.push_back(
          fc.requiredUuid(indexedField("rule_ids", static_cast<size_t>(i)), in.rule_ids(i)));
    }
    if (!fc.finish(s_.problems_)) continue;
    if (!claimId(s_.chain_index_, ObjectKind::Chain, c.id, s_.chains_.size())) continue;
    s_.chains_.push_back(std::move(c));
    chain_rule_ids_.push_back(std::move(rule_ids));
  }
}

void SnapshotBuilder::parsePortGroups() {
  for (const v1::PortGroup& in : in_.port_groups()) {
    FieldChecker fc(ObjectKind::PortGroup);
    PortGroup g;
    g.id = fc.id(in.id());
    g.tenant_id = fc.uuid("tenant_id", in.tenant_id());
    g.name = in.name();
    g.stateful = in.stateful();
    if (!fc.finish(s_.problems_)) continue;
    if (!claimId(s_.port_group_index_, ObjectKind::PortGroup, g.id, s_.port_groups_.size())) {
      continue;
    }
    s_.port_groups_.push_back(std::move(g));
  }
}

void SnapshotBuilder::parseIpAddrGroups() {
  for (const v1::IpAddrGroup& in : in_.ip_addr_groups()) {
    FieldChecker fc(ObjectKind::IpAddrGroup);
    IpAddrGroup g;
    g.id = fc.id(in.id());
    g.tenant_id = fc.uuid("tenant_id", in.tenant_id());
    g.name = in.name();
    for (int i = 0; i < in.addresses_size(); ++i) {
      auto p = fc.prefix(indexedField("addresses", static_cast<size_t>(i)), in.addresses(i));
      if (!p) continue;
      if (p->len == p->addr.bitLength()) {
        g.hosts.insert(p->addr);
      } else {
        g.prefixes.push_back(IpPrefix{p->network(), p->len});
      }
    }
    if (!fc.finish(s_.problems_)) continue;
    if (!claimId(s_.ip_addr_group_index_, ObjectKind::IpAddrGroup, g.id,
                 s_.ip_addr_groups_.size())) {
      continue;
    }
    s_.ip_addr_groups_.push_back(std::move(g));
  }
}

void SnapshotBuilder::parsePorts() {
  for (const v1::Port& in : in_.ports()) {
    FieldChecker fc(ObjectKind::Port);
    Port p;
    p.id = fc.id(in.id());
    p.tenant_id = fc.uuid("tenant_id", in.tenant_id());
    p.name = in.name();
    Uuid bridge_id = fc.uuid("bridge_id", in.bridge_id());
    Uuid router_id = fc.uuid("router_id", in.router_id());
    if (in.bridge_id().empty() && in.router_id().empty()) {
      fc.fail("bridge_id", "one of bridge_id and router_id is required");
    } else if (!in.bridge_id().empty() && !in.router_id().empty()) {
      fc.fail("router_id", "bridge_id and router_id are both set");
    }
    p.device_kind = router_id.isNil() ? DeviceKind::Bridge : DeviceKind::Router;
    p.device.id = router_id.isNil() ? bridge_id : router_id;
    p.admin_up = !in.has_admin_state_up() || in.admin_state_up();
    p.host_id = fc.uuid("host_id", in.host_id());
    p.interface_name = in.interface_name();
    p.peer.id = fc.uuid("peer_id", in.peer_id());
    if (!in.mac().empty()) {
      if (auto m = fc.mac("mac", in.mac())) {
        p.has_mac = true;
        p.mac = *m;
      }
    } else if (!in.router_id().empty() && in.bridge_id().empty()) {
      fc.fail("mac", "required on a router port");
    }
    for (int i = 0; i < in.addresses_size(); ++i) {
      if (auto a = fc.prefix(indexedField("addresses", static_cast<size_t>(i)), in.addresses(i))) {
        p.addresses.push_back(*a);
      }
    }
    p.inbound_filter.id = fc.uuid("inbound_filter_id", in.inbound_filter_id());
    p.outbound_filter.id = fc.uuid("outbound_filter_id", in.outbound_filter_id());
    std::vector<Uuid> groups;
    for (int i = 0; i < in.port_group_ids_size(); ++i) {
      groups.push_back(fc.requiredUuid(indexedField("port_group_ids", static_cast<size_t>(i)),
                                       in.port_group_ids(i)));
    }
    p.mtu = in.mtu() == 0 ? 1500 : in.mtu();
    if (!fc.finish(s_.problems_)) continue;

    // A port without its device cannot be placed anywhere: it is left out.
    const bool is_router = p.device_kind == DeviceKind::Router;
    p.device = resolve(is_router ? s_.router_index_ : s_.bridge_index_,
                       is_router ? ObjectKind::Router : ObjectKind::Bridge, p.device.id,
                       ObjectKind::Port, p.id, is_router ? "router_id" : "bridge_id");
    if (!p.device.isResolved()) continue;
    if (!claimId(s_.port_index_, ObjectKind::Port, p.id, s_.ports_.size())) continue;
    s_.ports_.push_back(std::move(p));
    port_group_ids_.push_back(std::move(groups));
  }
}

// ------------------------------------------------------------------------------------------------
// Resolution

void SnapshotBuilder::resolvePhysical() {
  for (size_t i = 0; i < s_.hosts_.size(); ++i) {
    Host& h = s_.hosts_[i];
    const std::vector<Uuid>& ids = host_zone_ids_[i];
    for (size_t k = 0; k < ids.size(); ++k) {
      Ref z = resolve(s_.tunnel_zone_index_, ObjectKind::TunnelZone, ids[k], ObjectKind::Host, h.id,
                      indexedField("tunnel_zone_ids", k));
      bool seen = false;
      for (Index existing : h.tunnel_zones) seen = seen || existing == z.index;
      if (z.isResolved() && !seen) h.tunnel_zones.push_back(z.index);
    }
  }
  for (TunnelZone& z : s_.tunnel_zones_) {
    for (size_t k = 0; k < z.members.size(); ++k) {
      // The member is kept: the host may register later.
      resolve(s_.host_index_, ObjectKind::Host, z.members[k].host_id, ObjectKind::TunnelZone, z.id,
              indexedField("members", k) + ".host_id");
    }
  }
}

void SnapshotBuilder::resolveDeviceFilters() {
  for (Bridge& b : s_.bridges_) {
    b.inbound_filter = resolve(s_.chain_index_, ObjectKind::Chain, b.inbound_filter.id,
                               ObjectKind::Bridge, b.id, "inbound_filter_id");
    b.outbound_filter = resolve(s_.chain_index_, ObjectKind::Chain, b.outbound_filter.id,
                                ObjectKind::Bridge, b.id, "outbound_filter_id");
  }
  for (Router& r : s_.routers_) {
    r.inbound_filter = resolve(s_.chain_index_, ObjectKind::Chain, r.inbound_filter.id,
                               ObjectKind::Router, r.id, "inbound_filter_id");
    r.outbound_filter = resolve(s_.chain_index_, ObjectKind::Chain, r.outbound_filter.id,
                                ObjectKind::Router, r.id, "outbound_filter_id");
  }
}

void SnapshotBuilder::resolvePorts() {
  for (size_t i = 0; i < s_.ports_.size(); ++i) {
    Port& p = s_.ports_[i];
    const auto index = static_cast<Index>(i);
    if (p.device_kind == DeviceKind::Bridge) {
      s_.bridges_[p.device.index].ports.push_back(index);
    } else {
      s_.routers_[p.device.index].ports.push_back(index);
    }
    p.inbound_filter = resolve(s_.chain_index_, ObjectKind::Chain, p.inbound_filter.id,
                               ObjectKind::Port, p.id, "inbound_filter_id");
    p.outbound_filter = resolve(s_.chain_index_, ObjectKind::Chain, p.outbound_filter.id,
                                ObjectKind::Port, p.id, "outbound_filter_id");
    const std::vector<Uuid>& groups = port_group_ids_[i];
    for (size_t k = 0; k < groups.size(); ++k) {
      Ref g = resolve(s_.port_group_index_, ObjectKind::PortGroup, groups[k], ObjectKind::Port,
                      p.id, indexedField("port_group_ids", k));
      if (!g.isResolved() || p.inGroup(g.index)) continue;
      p.port_groups.push_back(g.index);
      s_.port_groups_[g.index].ports.push_back(index);  // Port-index order by construction.
    }
  }
}

void SnapshotBuilder::checkLinks() {
  std::vector<Port>& ports = s_.ports_;
  for (size_t i = 0; i < ports.size(); ++i) {
    Port& p = ports[i];
    if (!p.peer.isSet()) continue;
    p.peer =
        resolve(s_.port_index_, ObjectKind::Port, p.peer.id, ObjectKind::Port, p.id, "peer_id");
    if (p.isExterior()) {
      report(Problem::Kind::Inconsistent, ObjectKind::Port, p.id, "peer_id",
             "port is both exterior (host_id) and interior (peer_id)");
      p.link_broken = true;
      continue;
    }
    if (!p.peer.isResolved()) continue;
    const Port& q = ports[p.peer.index];
    if (p.peer.index == i) {
      report(Problem::Kind::LinkLoop, ObjectKind::Port, p.id, "peer_id",
             "port is linked to itself");
      p.link_broken = true;
    } else if (q.device_kind == p.device_kind && q.device.index == p.device.index) {
      report(Problem::Kind::LinkLoop, ObjectKind::Port, p.id, "peer_id",
             "port is linked to port " + q.id.toString() + " of its own " +
                 (p.device_kind == DeviceKind::Bridge ? "bridge" : "router"));
      p.link_broken = true;
    } else if (q.peer.id != p.id) {
      report(Problem::Kind::AsymmetricLink, ObjectKind::Port, p.id, "peer_id",
             "peer port " + q.id.toString() + " names " +
                 (q.peer.isSet() ? "port " + q.peer.id.toString() : std::string("no port")) +
                 " as its peer");
      p.link_broken = true;
    }
  }
  // A symmetric pair is one link: if either end is broken, so is the other.
  for (size_t i = 0; i < ports.size(); ++i) {
    Port& p = ports[i];
    if (!p.peer.isResolved() || p.peer.index == i) continue;
    Port& q = ports[p.peer.index];
    if (q.peer.id == p.id && (p.link_broken || q.link_broken)) {
      p.link_broken = true;
      q.link_broken = true;
    }
  }
}

}  // namespace loom::model
