// Names, printing and small queries of the snapshot's value types.
#include "model/snapshot.h"

namespace loom::model {

const char* objectKindName(ObjectKind k) {
  switch (k) {
    case ObjectKind::Bridge: return "bridge";
    case ObjectKind::Router: return "router";
    case ObjectKind::Port: return "port";
    case ObjectKind::Route: return "route";
    case ObjectKind::Chain: return "chain";
    case ObjectKind::Rule: return "rule";
    case ObjectKind::PortGroup: return "port_group";
    case ObjectKind::IpAddrGroup: return "ip_addr_group";
    case ObjectKind::Host: return "host";
    case ObjectKind::TunnelZone: return "tunnel_zone";
  }
  return "unknown";
}

const char* problemKindName(Problem::Kind k) {
  switch (k) {
    case Problem::Kind::InvalidField: return "invalid_field";
    case Problem::Kind::DuplicateId: return "duplicate_id";
    case Problem::Kind::DanglingReference: return "dangling_reference";
    case Problem::Kind::LinkLoop: return "link_loop";
    case Problem::Kind::AsymmetricLink: return "asymmetric_link";
    case Problem::Kind::Inconsistent: return "inconsistent";
    case Problem::Kind::JumpCycle: return "jump_cycle";
  }
  return "unknown";
}

const char* nextHopTypeName(NextHopType t) {
  switch (t) {
    case NextHopType::Port: return "port";
    case NextHopType::Blackhole: return "blackhole";
    case NextHopType::Reject: return "reject";
    case NextHopType::Local: return "local";
  }
  return "unknown";
}

const char* ruleActionName(RuleAction a) {
  switch (a) {
    case RuleAction::Accept: return "accept";
    case RuleAction::Drop: return "drop";
    case RuleAction::Reject: return "reject";
    case RuleAction::Return: return "return";
    case RuleAction::Jump: return "jump";
    case RuleAction::Continue: return "continue";
  }
  return "unknown";
}

std::string Problem::toString() const {
  std::string s = objectKindName(object_kind);
  s += ' ';
  s += object_id.isNil() ? std::string("<no id>") : object_id.toString();
  s += ": ";
  if (!field.empty()) {
    s += field;
    s += ": ";
  }
  s += message;
  return s;
}

std::string Route::toString(std::string_view port_name) const {
  std::string s = dst.toString();
  if (src.len != 0) {
    s += " from ";
    s += src.toString();
  }
  if (next_hop == NextHopType::Port) {
    s += " via port ";
    if (port_name.empty()) {
      s += next_hop_port.id.toString();
    } else {
      s += port_name;
    }
    if (has_gateway) {
      s += " gw ";
      s += gateway.toString();
    }
  } else {
    s += ' ';
    s += nextHopTypeName(next_hop);
  }
  s += " weight ";
  s += std::to_string(weight);
  return s;
}

bool IpAddrGroup::contains(const IpAddr& a) const {
  if (hosts.count(a) != 0) return true;
  for (const IpPrefix& p : prefixes) {
    if (p.contains(a)) return true;
  }
  return false;
}

Index TopologySnapshot::findPortByName(std::string_view name) const {
  for (size_t i = 0; i < ports_.size(); ++i) {
    if (ports_[i].name == name) return static_cast<Index>(i);
  }
  return kNoIndex;
}

}  // namespace loom::model
