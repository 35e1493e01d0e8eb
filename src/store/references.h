#pragma once
// The reference table: which fields of each kind name other objects, of which kind, and what
// happens to the referrer when the named object is deleted (docs/nsdb.md §2).
//
//   Referrer field                                   Target        On delete of the target
//   port.bridge_id, port.router_id                   bridge/router CascadeDelete
//   port.peer_id                                     port          AlwaysClear (unlink)
//   port.inbound_filter_id, outbound_filter_id       chain         Restrict
//   port.port_group_ids[i]                           port_group    CascadeClear
//   port.host_id (+ interface_name)                  host          CascadeClear
//   bridge/router.inbound_filter_id, outbound_...    chain         Restrict
//   route.router_id, route.next_hop_port_id          router/port   CascadeDelete
//   rule.chain_id                                    chain         CascadeDelete
//   rule.jump_chain_id                               chain         Restrict
//   rule.condition.in_port_ids[i], out_port_ids[i]   port          Restrict
//   rule.condition.in/out_port_group_id              port_group    Restrict
//   rule.condition.ip_addr_group_src_id/dst_id       ip_addr_group Restrict
//   host.tunnel_zone_ids[i]                          tunnel_zone   CascadeClear
//   tunnel_zone.members[i].host_id                   host          CascadeClear
//
// chain.rule_ids is not a reference: it is the back-reference list the store maintains from
// rule.chain_id. Restrict never cascades; CascadeDelete and CascadeClear need
// DeleteOptions::cascade; AlwaysClear happens on every delete.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "loom/v1/store.pb.h"
#include "store/keys.h"

namespace loom::store {

enum class OnDelete : uint8_t { Restrict, CascadeDelete, CascadeClear, AlwaysClear };
// "restrict", "cascade_delete", "cascade_clear", "always_clear".
std::string_view onDeleteName(OnDelete on_delete);

struct Reference {
  std::string field;  // "peer_id", "port_group_ids[1]", "condition.in_port_ids[0]".
  Kind target;
  std::string id;  // As written in the object (canonical after canonicalizeReferences()).
  OnDelete on_delete;
};

// Every set reference of `object`, in field order (empty fields are skipped).
std::vector<Reference> referencesOf(const v1::StoredObject& object);

// One entry per distinct target: what a ref key holds.
struct RefTarget {
  Kind kind;
  std::string id;
  std::string fields;  // Comma-joined field paths: the ref key's value.
};
// Distinct targets of `object`, in first-reference order.
std::vector<RefTarget> refTargets(const v1::StoredObject& object);

// Rewrites every parsable reference id to its canonical (lower-case) form and clears optional
// references that hold the nil UUID (the snapshot builder treats them as unset). Run after
// validateFields().
void canonicalizeReferences(v1::StoredObject& object);

// Removes every reference of `object` to `target`/`id` whose policy allows clearing
// (CascadeClear, AlwaysClear): clears a peer_id, drops a port-group membership, clears a host
// binding (host_id and interface_name), drops a tunnel zone from a host or a member from a
// tunnel zone. Returns true if the object changed.
bool clearReferencesTo(v1::StoredObject& object, Kind target, std::string_view id);

}  // namespace loom::store
