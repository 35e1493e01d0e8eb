#pragma once
// ObjectStore: typed create / update / delete / get / list of topology objects in etcd, with
// referential integrity kept in the same transaction as every write.
//
// Integrity (docs/nsdb.md has the full reference table):
//  - Every reference field must name an existing object of the right kind; the write's
//    transaction compares that it still exists. A dangling reference is InvalidArgument with the
//    field set ("peer_id", "condition.in_port_ids[2]").
//  - Back-references are the store's job, never the caller's: reference index keys (keys.h),
//    a chain's rule_ids (a new rule is appended, or inserted at CreateOptions::position; a
//    deleted rule leaves the list), and port links (setting A.peer_id = B also sets B.peer_id =
//    A; clearing or deleting either side clears the other).
//  - Deleting an object that others reference is FailedPrecondition naming the referrers,
//    unless DeleteOptions::cascade is set and every reference is of a cascading sort (the ports
//    and routes of a router, the ports of a bridge, the rules of a chain, the routes through a
//    port, memberships in a port group or tunnel zone, a host's port bindings). Filters, jump
//    targets and rule conditions never cascade: the operator must change them first.
//  - Fields the store owns or that fix an object's place are immutable on update: a port's
//    bridge_id / router_id, a route's router_id, a rule's chain_id; a chain's rule_ids may only
//    be reordered (an empty list on update keeps the current order).
//
// Ids: an object id given to create() must be a UUID (either case; stored in canonical lower
// case), otherwise a random one is assigned; reference ids are canonicalized the same way and an
// optional reference holding the nil UUID means unset. The reference table (which fields refer
// to what, and what a delete does to them) is in references.h.
//
// Concurrency: every write reads what it depends on at revision R (the object and its targets
// in one read-only transaction) and commits with compares on the mod_revision of each object
// read (optimistic concurrency). A conflict with another writer is retried (up to 8 times; 32
// for rule creates, which all rewrite their chain's rule list) unless the caller gave
// expected_mod_revision, in which case a changed object is Aborted ("concurrent modification"). A
// write never exceeds etcd's 128 operations per transaction: a cascading delete larger than that is
// split into several transactions, leaves first, each of which keeps the store consistent on its
// own (a failure half way leaves fewer objects, never a dangling reference, and the delete can be
// repeated); a single object whose own write would exceed it is ResourceExhausted.
//
// Errors: InvalidArgument (with field()), NotFound, AlreadyExists (create with a taken id),
// FailedPrecondition (integrity conflict), Aborted (concurrent modification), ResourceExhausted,
// and Unavailable / DeadlineExceeded from etcd.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "etcd/client.h"
#include "loom/v1/store.pb.h"
#include "store/keys.h"

namespace loom::store {

struct Record {
  v1::StoredObject object;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
};

struct ObjectRef {
  Kind kind;
  std::string id;
  friend bool operator==(const ObjectRef&, const ObjectRef&) = default;
};

struct Referrer {
  ObjectRef object;
  std::vector<std::string> fields;  // Reference fields of `object` naming the target.
};

struct WriteResult {
  int64_t revision = 0;  // The etcd revision the write produced.
  Record record;         // The object as stored (id filled, store-maintained fields set).
};

struct CreateOptions {
  // Rules: index in the chain's rule list (0 = first); -1 appends.
  int32_t position = -1;
};

struct UpdateOptions {
  // Non-zero: fail with Aborted unless the object's mod_revision is still this.
  int64_t expected_mod_revision = 0;
};

struct DeleteOptions {
  bool cascade = false;
  int64_t expected_mod_revision = 0;
};

struct DeleteResult {
  int64_t revision = 0;            // Revision of the last transaction.
  std::vector<ObjectRef> deleted;  // Everything deleted, the requested object last.
  // Objects whose references were cleared (unlinked peers, memberships, host bindings) and
  // surviving chains whose rule_ids lost a deleted rule.
  std::vector<ObjectRef> updated;
  int transactions = 0;  // > 1 when a large cascade was split.
};

struct ListOptions {
  // Only objects of this tenant (kinds without a tenant_id field never match a non-empty one).
  std::string tenant_id;
  // Only children of this parent: ports of a bridge or router, routes of a router (both from
  // the parent's ref index), rules of a chain (in chain order; page_token is then the last
  // rule id of the previous page). Empty: all. InvalidArgument for other kinds.
  std::string parent_id;
  int64_t limit = 0;       // 0: no limit.
  std::string page_token;  // From a previous ListResult; continues after its last item.
  int64_t revision = 0;    // 0: newest. Later pages should pass the first page's revision.
};

struct ListResult {
  std::vector<Record> items;
  std::string next_page_token;  // Empty on the last page.
  int64_t revision = 0;
};

class ObjectStore {
 public:
  ObjectStore(etcd::EtcdClient& client, std::string root = "/loom");

  const Keys& keys() const { return keys_; }

  // Assigns a random id when the object's id is empty.
  StatusOr<WriteResult> create(v1::StoredObject object, const CreateOptions& options = {});
  StatusOr<WriteResult> update(v1::StoredObject object, const UpdateOptions& options = {});
  StatusOr<DeleteResult> remove(Kind kind, const std::string& id,
                                const DeleteOptions& options = {});
  StatusOr<Record> get(Kind kind, const std::string& id, int64_t revision = 0);
  StatusOr<ListResult> list(Kind kind, const ListOptions& options = {});
  StatusOr<std::vector<Referrer>> referrers(Kind kind, const std::string& id);

 private:
  etcd::EtcdClient& client_;
  Keys keys_;
};

// Checks an object's own fields (formats, ranges, required fields) without looking at other
// objects: the same checks the snapshot builder applies. InvalidArgument with field() set.
Status validateFields(const v1::StoredObject& object);
// validateFields() plus the store's own rules on one object: a rule has a chain_id, and a
// jump_chain_id exactly when its action is JUMP (not its own chain); a port is not both
// exterior (host_id) and interior (peer_id), not linked to itself, and has no interface_name
// without a host_id. create() and update() apply it after canonicalizing ids.
Status validateObject(const v1::StoredObject& object);

}  // namespace loom::store
