// The reference table (references.h): one visitor per kind over its reference fields.
#include "store/references.h"

#include <algorithm>

#include "base/uuid.h"

namespace loom::store {
namespace {

// Calls fn(field, target kind, policy, optional, value&) for every reference field of `object`,
// set or not, in field order. `optional` is false for list items and required fields (a nil
// UUID there is an error, not "unset").
template <typename Fn>
void visitReferences(v1::StoredObject& object, Fn&& fn) {
  auto each = [&](std::string_view name, Kind target, OnDelete policy,
                  google::protobuf::RepeatedPtrField<std::string>* items) {
    for (int i = 0; i < items->size(); ++i) {
      fn(std::string(name) + "[" + std::to_string(i) + "]", target, policy, false,
         *items->Mutable(i));
    }
  };
  switch (object.object_case()) {
    case v1::StoredObject::kBridge: {
      v1::Bridge& b = *object.mutable_bridge();
      fn("inbound_filter_id", Kind::Chain, OnDelete::Restrict, true,
         *b.mutable_inbound_filter_id());
      fn("outbound_filter_id", Kind::Chain, OnDelete::Restrict, true,
         *b.mutable_outbound_filter_id());
      break;
    }
    case v1::StoredObject::kRouter: {
      v1::Router& r = *object.mutable_router();
      fn("inbound_filter_id", Kind::Chain, OnDelete::Restrict, true,
         *r.mutable_inbound_filter_id());
      fn("outbound_filter_id", Kind::Chain, OnDelete::Restrict, true,
         *r.mutable_outbound_filter_id());
      break;
    }
    case v1::StoredObject::kPort: {
      v1::Port& p = *object.mutable_port();
      fn("bridge_id", Kind::Bridge, OnDelete::CascadeDelete, true, *p.mutable_bridge_id());
      fn("router_id", Kind::Router, OnDelete::CascadeDelete, true, *p.mutable_router_id());
      fn("host_id", Kind::Host, OnDelete::CascadeClear, true, *p.mutable_host_id());
      fn("peer_id", Kind::Port, OnDelete::AlwaysClear, true, *p.mutable_peer_id());
      fn("inbound_filter_id", Kind::Chain, OnDelete::Restrict, true,
         *p.mutable_inbound_filter_id());
      fn("outbound_filter_id", Kind::Chain, OnDelete::Restrict, true,
         *p.mutable_outbound_filter_id());
      each("port_group_ids", Kind::PortGroup, OnDelete::CascadeClear, p.mutable_port_group_ids());
      break;
    }
    case v1::StoredObject::kRoute: {
      v1::Route& r = *object.mutable_route();
      fn("router_id", Kind::Router, OnDelete::CascadeDelete, false, *r.mutable_router_id());
      fn("next_hop_port_id", Kind::Port, OnDelete::CascadeDelete, true,
         *r.mutable_next_hop_port_id());
      break;
    }
    case v1::StoredObject::kRule: {
      v1::Rule& r = *object.mutable_rule();
      fn("chain_id", Kind::Chain, OnDelete::CascadeDelete, false, *r.mutable_chain_id());
      v1::Condition& c = *r.mutable_condition();
      each("condition.in_port_ids", Kind::Port, OnDelete::Restrict, c.mutable_in_port_ids());
      each("condition.out_port_ids", Kind::Port, OnDelete::Restrict, c.mutable_out_port_ids());
      fn("condition.in_port_group_id", Kind::PortGroup, OnDelete::Restrict, false,
         *c.mutable_in_port_group_id());
      fn("condition.out_port_group_id", Kind::PortGroup, OnDelete::Restrict, false,
         *c.mutable_out_port_group_id());
      fn("condition.ip_addr_group_src_id", Kind::IpAddrGroup, OnDelete::Restrict, false,
         *c.mutable_ip_addr_group_src_id());
      fn("condition.ip_addr_group_dst_id", Kind::IpAddrGroup, OnDelete::Restrict, false,
         *c.mutable_ip_addr_group_dst_id());
      fn("jump_chain_id", Kind::Chain, OnDelete::Restrict, false, *r.mutable_jump_chain_id());
      break;
    }
    case v1::StoredObject::kHost: {
      each("tunnel_zone_ids", Kind::TunnelZone, OnDelete::CascadeClear,
           object.mutable_host()->mutable_tunnel_zone_ids());
      break;
    }
    case v1::StoredObject::kTunnelZone: {
      auto& members = *object.mutable_tunnel_zone()->mutable_members();
      for (int i = 0; i < members.size(); ++i) {
        fn("members[" + std::to_string(i) + "].host_id", Kind::Host, OnDelete::CascadeClear, false,
           *members.Mutable(i)->mutable_host_id());
      }
      break;
    }
    case v1::StoredObject::kChain:  // rule_ids: the store's back-reference list, not a ref.
    case v1::StoredObject::kPortGroup:
    case v1::StoredObject::kIpAddrGroup:
    case v1::StoredObject::OBJECT_NOT_SET: break;
  }
}

// Erases every element of `items` equal to `id`; true if any was.
bool eraseAll(google::protobuf::RepeatedPtrField<std::string>* items, std::string_view id) {
  auto end = std::remove(items->begin(), items->end(), id);
  const bool changed = end != items->end();
  while (items->end() != end) items->RemoveLast();
  return changed;
}

}  // namespace

std::string_view onDeleteName(OnDelete on_delete) {
  switch (on_delete) {
    case OnDelete::Restrict: return "restrict";
    case OnDelete::CascadeDelete: return "cascade_delete";
    case OnDelete::CascadeClear: return "cascade_clear";
    case OnDelete::AlwaysClear: return "always_clear";
  }
  return "unknown";
}

std::vector<Reference> referencesOf(const v1::StoredObject& object) {
  std::vector<Reference> out;
  v1::StoredObject copy = object;  // The visitor is written once, over mutable fields.
  visitReferences(copy, [&](std::string field, Kind target, OnDelete policy, bool /*optional*/,
                            std::string& value) {
    if (value.empty()) return;
    out.push_back(Reference{std::move(field), target, value, policy});
  });
  return out;
}

std::vector<RefTarget> refTargets(const v1::StoredObject& object) {
  std::vector<RefTarget> out;
  for (Reference& r : referencesOf(object)) {
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const RefTarget& t) { return t.kind == r.target && t.id == r.id; });
    if (it == out.end()) {
      out.push_back(RefTarget{r.target, std::move(r.id), std::move(r.field)});
    } else {
      it->fields += ",";
      it->fields += r.field;
    }
  }
  return out;
}

void canonicalizeReferences(v1::StoredObject& object) {
  visitReferences(object, [](const std::string& /*field*/, Kind /*target*/, OnDelete /*policy*/,
                             bool optional, std::string& value) {
    if (value.empty()) return;
    auto u = Uuid::parse(value);
    if (!u) return;
    value = (optional && u->isNil()) ? std::string() : u->toString();
  });
}

bool clearReferencesTo(v1::StoredObject& object, Kind target, std::string_view id) {
  bool changed = false;
  switch (object.object_case()) {
    case v1::StoredObject::kPort: {
      v1::Port& p = *object.mutable_port();
      if (target == Kind::Port && p.peer_id() == id) {
        p.clear_peer_id();
        changed = true;
      }
      if (target == Kind::Host && p.host_id() == id) {
        p.clear_host_id();
        p.clear_interface_name();
        changed = true;
      }
      if (target == Kind::PortGroup) changed = eraseAll(p.mutable_port_group_ids(), id);
      break;
    }
    case v1::StoredObject::kHost:
      if (target == Kind::TunnelZone) {
        changed = eraseAll(object.mutable_host()->mutable_tunnel_zone_ids(), id);
      }
      break;
    case v1::StoredObject::kTunnelZone:
      if (target == Kind::Host) {
        auto& members = *object.mutable_tunnel_zone()->mutable_members();
        auto end =
            std::remove_if(members.begin(), members.end(),
                           [&](const v1::TunnelZone::Member& m) { return m.host_id() == id; });
        changed = end != members.end();
        while (members.end() != end) members.RemoveLast();
      }
      break;
    default: break;
  }
  return changed;
}

}  // namespace loom::store
