// Field validation of one object: the snapshot builder's own checks (validateFields) and the
// store's extra rules (validateObject).
//
// validateFields() runs the snapshot builder over a topology holding only the object, so the
// store accepts exactly what the builder parses (one implementation of every format, range and
// required-field rule). A single-object snapshot costs a few microseconds.
#include <string>

#include "model/snapshot.h"
#include "store/object_store.h"

namespace loom::store {

Status validateFields(const v1::StoredObject& object) {
  v1::Topology topology;
  switch (object.object_case()) {
    case v1::StoredObject::kBridge: *topology.add_bridges() = object.bridge(); break;
    case v1::StoredObject::kRouter: *topology.add_routers() = object.router(); break;
    case v1::StoredObject::kPort: *topology.add_ports() = object.port(); break;
    case v1::StoredObject::kRoute: *topology.add_routes() = object.route(); break;
    case v1::StoredObject::kChain: *topology.add_chains() = object.chain(); break;
    case v1::StoredObject::kRule: *topology.add_rules() = object.rule(); break;
    case v1::StoredObject::kPortGroup: *topology.add_port_groups() = object.port_group(); break;
    case v1::StoredObject::kIpAddrGroup:
      *topology.add_ip_addr_groups() = object.ip_addr_group();
      break;
    case v1::StoredObject::kHost: *topology.add_hosts() = object.host(); break;
    case v1::StoredObject::kTunnelZone: *topology.add_tunnel_zones() = object.tunnel_zone(); break;
    case v1::StoredObject::OBJECT_NOT_SET:
      return invalidField("object", "no object set (bridge, router, port, ...)");
  }
  model::SnapshotPtr snapshot = model::buildSnapshot(topology, 0);
  // Only the object's own fields: references to other objects dangle here by construction, and
  // the store checks references itself.
  for (const model::Problem& problem : snapshot->problems()) {
    if (problem.kind == model::Problem::Kind::InvalidField) {
      return invalidField(problem.field, problem.message);
    }
  }
  return okStatus();
}

Status validateObject(const v1::StoredObject& object) {
  RETURN_IF_ERROR(validateFields(object));
  switch (object.object_case()) {
    case v1::StoredObject::kPort: {
      const v1::Port& p = object.port();
      if (!p.peer_id().empty() && !p.host_id().empty()) {
        return invalidField("peer_id",
                            "a port cannot be both exterior (host_id) and interior (peer_id)");
      }
      if (!p.peer_id().empty() && p.peer_id() == p.id()) {
        return invalidField("peer_id", "a port cannot be linked to itself");
      }
      if (!p.interface_name().empty() && p.host_id().empty()) {
        return invalidField("interface_name", "set without host_id");
      }
      break;
    }
    case v1::StoredObject::kRule: {
      const v1::Rule& r = object.rule();
      if (r.chain_id().empty()) return invalidField("chain_id", "required");
      if (r.action() != v1::Rule::JUMP && !r.jump_chain_id().empty()) {
        return invalidField("jump_chain_id", "set only when action is JUMP");
      }
      if (r.action() == v1::Rule::JUMP && r.jump_chain_id() == r.chain_id()) {
        return invalidField("jump_chain_id", "a rule cannot jump to its own chain");
      }
      break;
    }
    default: break;
  }
  return okStatus();
}

}  // namespace loom::store
