// ObjectStore writes: create and update (object_store.h). Reads are in object_store_read.cc,
// remove() in object_store_delete.cc.
#include "store/object_store.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <random>
#include <thread>

#include "base/uuid.h"
#include "store/object_store_internal.h"
#include "store/references.h"
#include "store/txn_util.h"

namespace loom::store {

namespace internal {

void backoff(int attempt) {
  thread_local std::mt19937 gen{std::random_device{}()};
  const int cap = std::min(2 << std::min(attempt, 6), 100);
  std::uniform_int_distribution<int> ms(1, cap);
  std::this_thread::sleep_for(std::chrono::milliseconds(ms(gen)));
}

StatusOr<std::optional<Record>> readRecord(etcd::EtcdClient& client, const Keys& keys, Kind kind,
                                           const std::string& id, int64_t revision,
                                           int64_t* served_revision) {
  etcd::RangeOptions o;
  o.revision = revision;
  ASSIGN_OR_RETURN(etcd::RangeResult r, client.range(keys.object(kind, id), o));
  if (served_revision != nullptr) *served_revision = r.revision;
  if (r.kvs.empty()) return std::optional<Record>();
  ASSIGN_OR_RETURN(Record rec, decodeRecord(keys, r.kvs.front()));
  return std::optional<Record>(std::move(rec));
}

}  // namespace internal

namespace {

using internal::readRecord;

void setId(v1::StoredObject& object, Kind kind, const std::string& id) {
  google::protobuf::Message* m = mutablePayload(object, kind);
  const google::protobuf::FieldDescriptor* f = m->GetDescriptor()->FindFieldByName("id");
  m->GetReflection()->SetString(m, f, id);
}

// The canonical form of a given object id; InvalidArgument("id") when it is not a UUID.
StatusOr<std::string> canonicalId(const std::string& id) {
  auto u = Uuid::parse(id);
  if (!u) return invalidField("id", "cannot parse '" + id.substr(0, 64) + "' as a UUID");
  if (u->isNil()) return invalidField("id", "the nil UUID is not a valid id");
  return u->toString();
}

// Common preparation of an object given to create() or update().
StatusOr<Kind> prepare(v1::StoredObject& object, bool assign_id) {
  auto kind = kindOf(object);
  if (!kind) return invalidField("object", "no object set (bridge, router, port, ...)");
  object.set_format(kStoredFormat);
  std::string id = objectId(object);
  if (id.empty()) {
    if (!assign_id) return invalidField("id", "required");
    id = Uuid::random().toString();
  } else {
    ASSIGN_OR_RETURN(id, canonicalId(id));
  }
  setId(object, *kind, id);
  canonicalizeReferences(object);
  RETURN_IF_ERROR(validateObject(object));
  return *kind;
}

// An object and everything it refers to, read at one revision with one read-only transaction
// (one round trip, so that a writer contending for a chain has a short conflict window).
struct ReadSet {
  int64_t revision = 0;
  std::optional<Record> self;
  std::map<std::string, std::optional<Record>> targets;  // By object key.
};

StatusOr<ReadSet> readWithTargets(etcd::EtcdClient& client, const Keys& keys, Kind kind,
                                  const std::string& id, const v1::StoredObject& object) {
  std::vector<std::string> wanted{keys.object(kind, id)};
  for (const RefTarget& t : refTargets(object)) wanted.push_back(keys.object(t.kind, t.id));
  ReadSet out;
  if (wanted.size() > etcd::kMaxTxnOps) {
    // Too many for one transaction (the write will be refused as too large anyway): read the
    // object first, the rest at its revision.
    { ASSIGN_OR_RETURN(out.self, readRecord(client, keys, kind, id, 0, &out.revision)); }
    for (const RefTarget& t : refTargets(object)) {
      std::optional<Record> rec;
      { ASSIGN_OR_RETURN(rec, readRecord(client, keys, t.kind, t.id, out.revision, nullptr)); }
      out.targets[keys.object(t.kind, t.id)] = std::move(rec);
    }
    return out;
  }
  etcd::Txn read;
  for (const std::string& key : wanted) read.success.push_back(etcd::Op::get(key));
  etcd::TxnResult result;
  { ASSIGN_OR_RETURN(result, client.txn(read)); }
  out.revision = result.revision;
  for (size_t i = 0; i < wanted.size(); ++i) {
    std::optional<Record> rec;
    if (i < result.ranges.size() && !result.ranges[i].empty()) {
      ASSIGN_OR_RETURN(rec, decodeRecord(keys, result.ranges[i].front()));
    }
    if (i == 0) {
      out.self = std::move(rec);
    } else {
      out.targets[wanted[i]] = std::move(rec);
    }
  }
  return out;
}

// The targets of `object` that are not already targets of `before`, from `read`. Fails with
// InvalidArgument naming the first field of a target that does not exist.
struct Target {
  RefTarget ref;
  Record record;
};

StatusOr<std::vector<Target>> newTargets(const Keys& keys, const v1::StoredObject& object,
                                         const v1::StoredObject* before, const ReadSet& read) {
  std::vector<RefTarget> old_targets;
  if (before != nullptr) old_targets = refTargets(*before);
  std::vector<Target> out;
  for (RefTarget& t : refTargets(object)) {
    bool known = std::any_of(old_targets.begin(), old_targets.end(),
                             [&](const RefTarget& o) { return o.kind == t.kind && o.id == t.id; });
    if (known) continue;
    auto it = read.targets.find(keys.object(t.kind, t.id));
    if (it == read.targets.end() || !it->second) {
      std::string field = t.fields.substr(0, t.fields.find(','));
      return invalidField(field, objectName(t.kind, t.id) + " does not exist");
    }
    out.push_back(Target{std::move(t), *it->second});
  }
  return out;
}

const Target* findTarget(const std::vector<Target>& targets, Kind kind, const std::string& id) {
  for (const Target& t : targets) {
    if (t.ref.kind == kind && t.ref.id == id) return &t;
  }
  return nullptr;
}

std::string deviceOf(const v1::Port& p) {
  return p.bridge_id().empty() ? "router " + p.router_id() : "bridge " + p.bridge_id();
}

// Checks that `self` may link to `peer` (a port read at R) and returns the peer with its side
// of the link set.
StatusOr<v1::StoredObject> linkPeer(const v1::Port& self, const Record& peer) {
  const v1::Port& q = peer.object.port();
  if (deviceOf(q) == deviceOf(self)) {
    return invalidField("peer_id", "port " + q.id() + " is on the same " + deviceOf(self) +
                                       "; a link joins two devices");
  }
  if (!q.host_id().empty()) {
    return invalidField("peer_id",
                        "port " + q.id() + " is exterior (bound to host " + q.host_id() + ")");
  }
  if (!q.peer_id().empty() && q.peer_id() != self.id()) {
    return invalidField("peer_id", "port " + q.id() + " is already linked to port " + q.peer_id());
  }
  v1::StoredObject out = peer.object;
  out.mutable_port()->set_peer_id(self.id());
  return out;
}

// A prepared write: the transaction and the object as it will be stored.
struct Prepared {
  etcd::Txn txn;
  v1::StoredObject object;
  int self_compare = 0;  // Index of the compare on the object itself.
  int64_t create_revision = 0;
};

void addPut(Prepared& p, const Keys& keys, Kind kind, const std::string& id, const Record* before,
            const v1::StoredObject& after) {
  p.txn.success.push_back(etcd::Op::put(keys.object(kind, id), encodeObject(after)));
  appendRefDiff(keys, kind, id, before != nullptr ? &before->object : nullptr, &after,
                p.txn.success);
}

}  // namespace

ObjectStore::ObjectStore(etcd::EtcdClient& client, std::string root)
    : client_(client), keys_(std::move(root)) {}

// ------------------------------------------------------------------------------------------------
// create

namespace {

StatusOr<Prepared> prepareCreate(etcd::EtcdClient& client, const Keys& keys, Kind kind,
                                 const v1::StoredObject& object, const CreateOptions& options) {
  const std::string id = objectId(object);
  const std::string self_key = keys.object(kind, id);
  ReadSet read;
  { ASSIGN_OR_RETURN(read, readWithTargets(client, keys, kind, id, object)); }
  if (read.self) return alreadyExists(objectName(kind, id) + " already exists");
  std::vector<Target> targets;
  { ASSIGN_OR_RETURN(targets, newTargets(keys, object, nullptr, read)); }

  Prepared p;
  p.object = object;
  p.txn.compares.push_back(etcd::Compare::missing(self_key));
  for (const Target& t : targets) {
    p.txn.compares.push_back(
        etcd::Compare::modRevision(keys.object(t.ref.kind, t.ref.id), t.record.mod_revision));
  }
  addPut(p, keys, kind, id, nullptr, p.object);

  if (kind == Kind::Port && !object.port().peer_id().empty()) {
    const Target* peer = findTarget(targets, Kind::Port, object.port().peer_id());
    v1::StoredObject linked;
    { ASSIGN_OR_RETURN(linked, linkPeer(object.port(), peer->record)); }
    addPut(p, keys, Kind::Port, peer->ref.id, &peer->record, linked);
  }
  if (kind == Kind::Route && !object.route().next_hop_port_id().empty()) {
    const Target* port = findTarget(targets, Kind::Port, object.route().next_hop_port_id());
    if (port->record.object.port().router_id() != object.route().router_id()) {
      return invalidField("next_hop_port_id", "port " + port->ref.id + " is not a port of router " +
                                                  object.route().router_id());
    }
  }
  if (kind == Kind::Rule) {
    const Target* chain = findTarget(targets, Kind::Chain, object.rule().chain_id());
    v1::StoredObject updated = chain->record.object;
    auto* ids = updated.mutable_chain()->mutable_rule_ids();
    const int size = ids->size();
    if (options.position > size) {
      return invalidField("position", "position " + std::to_string(options.position) +
                                          " is past the end of the chain (" + std::to_string(size) +
                                          " rules)");
    }
    ids->Add(std::string(id));
    if (options.position >= 0) {
      // Rotate the new id from the end into place.
      std::rotate(ids->begin() + options.position, ids->end() - 1, ids->end());
    }
    p.txn.success.push_back(
        etcd::Op::put(keys.object(Kind::Chain, chain->ref.id), encodeObject(updated)));
  }
  RETURN_IF_ERROR(checkTxnSize(p.txn, "creating " + objectName(kind, id)));
  return p;
}

// The common create in one round trip: when every reference of the object only has to exist
// (no peer to link, no next hop to check against its router, no chain whose rule list changes),
// one transaction compares that the object is new and that each target exists, and writes the
// object and its reference keys. Nothing is read first. nullopt when the object does not
// qualify or a compare failed: the caller then takes the read-check-write path, which reports
// precisely what is wrong (taken id, which reference dangles) or retries a race.
StatusOr<std::optional<WriteResult>> createBlind(etcd::EtcdClient& client, const Keys& keys,
                                                 Kind kind, const v1::StoredObject& object) {
  if (kind == Kind::Rule) return std::optional<WriteResult>();
  if (kind == Kind::Port && !object.port().peer_id().empty()) return std::optional<WriteResult>();
  if (kind == Kind::Route && !object.route().next_hop_port_id().empty()) {
    return std::optional<WriteResult>();
  }
  const std::string id = objectId(object);
  Prepared p;
  p.object = object;
  p.txn.compares.push_back(etcd::Compare::missing(keys.object(kind, id)));
  for (const RefTarget& t : refTargets(object)) {
    p.txn.compares.push_back(etcd::Compare::exists(keys.object(t.kind, t.id)));
  }
  addPut(p, keys, kind, id, nullptr, object);
  if (p.txn.compares.size() > etcd::kMaxTxnOps || p.txn.success.size() > etcd::kMaxTxnOps) {
    return std::optional<WriteResult>();  // The full path reports ResourceExhausted.
  }
  etcd::TxnResult result;
  { ASSIGN_OR_RETURN(result, client.txn(p.txn)); }
  if (!result.succeeded) return std::optional<WriteResult>();
  return std::optional<WriteResult>(
      WriteResult{result.revision, Record{std::move(p.object), result.revision, result.revision}});
}

}  // namespace

StatusOr<WriteResult> ObjectStore::create(v1::StoredObject object, const CreateOptions& options) {
  Kind kind;
  { ASSIGN_OR_RETURN(kind, prepare(object, /*assign_id=*/true)); }
  if (kind == Kind::Chain && object.chain().rule_ids_size() > 0) {
    return invalidField("rule_ids",
                        "maintained by the store: create the rules with chain_id (and a position)");
  }
  if (options.position < -1) {
    return invalidField("position", "must be -1 (append) or an index from 0");
  }
  const std::string id = objectId(object);
  {
    StatusOr<std::optional<WriteResult>> fast = createBlind(client_, keys_, kind, object);
    if (!fast.ok()) return fast.status();
    if (fast->has_value()) return std::move(**fast);
  }
  std::string conflict;
  const int attempts =
      kind == Kind::Rule ? internal::kMaxRuleCreateAttempts : internal::kMaxAttempts;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    if (attempt > 0) internal::backoff(attempt);
    Prepared p;
    { ASSIGN_OR_RETURN(p, prepareCreate(client_, keys_, kind, object, options)); }
    addConflictReads(p.txn);
    etcd::TxnResult result;
    { ASSIGN_OR_RETURN(result, client_.txn(p.txn)); }
    if (result.succeeded) {
      return WriteResult{result.revision,
                         Record{std::move(p.object), result.revision, result.revision}};
    }
    if (firstFailedCompare(p.txn, result) == p.self_compare) {
      return alreadyExists(objectName(kind, id) + " already exists");
    }
    conflict = describeConflict(keys_, p.txn, result);
  }
  return aborted("concurrent modification: creating " + objectName(kind, id) + " conflicted " +
                 std::to_string(attempts) + " times (last: " + conflict + ")");
}

// ------------------------------------------------------------------------------------------------
// update

namespace {

Status checkImmutable(Kind kind, const v1::StoredObject& current, const v1::StoredObject& next) {
  auto same = [](const std::string& field, const std::string& a, const std::string& b) {
    if (a == b) return okStatus();
    return invalidField(field, "immutable: is '" + a + "', cannot become '" + b + "'");
  };
  switch (kind) {
    case Kind::Port:
      RETURN_IF_ERROR(same("bridge_id", current.port().bridge_id(), next.port().bridge_id()));
      RETURN_IF_ERROR(same("router_id", current.port().router_id(), next.port().router_id()));
      break;
    case Kind::Route:
      RETURN_IF_ERROR(same("router_id", current.route().router_id(), next.route().router_id()));
      break;
    case Kind::Rule:
      RETURN_IF_ERROR(same("chain_id", current.rule().chain_id(), next.rule().chain_id()));
      break;
    default: break;
  }
  return okStatus();
}

StatusOr<Prepared> prepareUpdate(etcd::EtcdClient& client, const Keys& keys, Kind kind,
                                 const v1::StoredObject& requested, const UpdateOptions& options,
                                 bool retry) {
  const std::string id = objectId(requested);
  ReadSet read;
  { ASSIGN_OR_RETURN(read, readWithTargets(client, keys, kind, id, requested)); }
  const int64_t rev = read.revision;
  std::optional<Record>& current = read.self;
  if (!current) return notFound(objectName(kind, id) + " not found");
  if (options.expected_mod_revision != 0 &&
      current->mod_revision != options.expected_mod_revision) {
    return aborted("concurrent modification: " + objectName(kind, id) + " is at mod_revision " +
                   std::to_string(current->mod_revision) + ", not " +
                   std::to_string(options.expected_mod_revision));
  }
  RETURN_IF_ERROR(checkImmutable(kind, current->object, requested));

  Prepared p;
  p.object = requested;
  p.create_revision = current->create_revision;
  if (kind == Kind::Chain) {
    const auto& have = current->object.chain().rule_ids();
    auto* want = p.object.mutable_chain()->mutable_rule_ids();
    if (want->empty()) {
      *want = have;
    } else {
      std::vector<std::string> a(have.begin(), have.end()), b(want->begin(), want->end());
      std::sort(a.begin(), a.end());
      std::sort(b.begin(), b.end());
      if (a != b) {
        if (retry) {
          return aborted("concurrent modification: the rules of " + objectName(kind, id) +
                         " changed while it was being reordered");
        }
        return invalidField("rule_ids",
                            "must be a permutation of the chain's current rules (rules are added "
                            "and removed by creating and deleting them)");
      }
    }
  }

  std::vector<Target> targets;
  { ASSIGN_OR_RETURN(targets, newTargets(keys, p.object, &current->object, read)); }
  p.txn.compares.push_back(
      etcd::Compare::modRevision(keys.object(kind, id), current->mod_revision));
  for (const Target& t : targets) {
    p.txn.compares.push_back(
        etcd::Compare::modRevision(keys.object(t.ref.kind, t.ref.id), t.record.mod_revision));
  }
  addPut(p, keys, kind, id, &*current, p.object);

  if (kind == Kind::Port) {
    const std::string& old_peer = current->object.port().peer_id();
    const std::string& new_peer = p.object.port().peer_id();
    if (old_peer != new_peer && !old_peer.empty()) {
      std::optional<Record> peer;
      { ASSIGN_OR_RETURN(peer, readRecord(client, keys, Kind::Port, old_peer, rev, nullptr)); }
      if (peer && peer->object.port().peer_id() == id) {
        v1::StoredObject unlinked = peer->object;
        unlinked.mutable_port()->clear_peer_id();
        p.txn.compares.push_back(
            etcd::Compare::modRevision(keys.object(Kind::Port, old_peer), peer->mod_revision));
        addPut(p, keys, Kind::Port, old_peer, &*peer, unlinked);
      }
    }
    if (old_peer != new_peer && !new_peer.empty()) {
      const Target* peer = findTarget(targets, Kind::Port, new_peer);
      v1::StoredObject linked;
      { ASSIGN_OR_RETURN(linked, linkPeer(p.object.port(), peer->record)); }
      addPut(p, keys, Kind::Port, new_peer, &peer->record, linked);
    }
  }
  if (kind == Kind::Route && !p.object.route().next_hop_port_id().empty()) {
    if (const Target* port = findTarget(targets, Kind::Port, p.object.route().next_hop_port_id())) {
      if (port->record.object.port().router_id() != p.object.route().router_id()) {
        return invalidField(
            "next_hop_port_id",
            "port " + port->ref.id + " is not a port of router " + p.object.route().router_id());
      }
    }
  }
  RETURN_IF_ERROR(checkTxnSize(p.txn, "updating " + objectName(kind, id)));
  return p;
}

}  // namespace

StatusOr<WriteResult> ObjectStore::update(v1::StoredObject object, const UpdateOptions& options) {
  Kind kind;
  { ASSIGN_OR_RETURN(kind, prepare(object, /*assign_id=*/false)); }
  const std::string id = objectId(object);
  std::string conflict;
  for (int attempt = 0; attempt < internal::kMaxAttempts; ++attempt) {
    if (attempt > 0) internal::backoff(attempt);
    Prepared p;
    { ASSIGN_OR_RETURN(p, prepareUpdate(client_, keys_, kind, object, options, attempt > 0)); }
    addConflictReads(p.txn);
    etcd::TxnResult result;
    { ASSIGN_OR_RETURN(result, client_.txn(p.txn)); }
    if (result.succeeded) {
      return WriteResult{result.revision,
                         Record{std::move(p.object), p.create_revision, result.revision}};
    }
    conflict = describeConflict(keys_, p.txn, result);
    if (options.expected_mod_revision != 0 && firstFailedCompare(p.txn, result) == p.self_compare) {
      return aborted("concurrent modification: " + conflict);
    }
  }
  return aborted("concurrent modification: updating " + objectName(kind, id) + " conflicted " +
                 std::to_string(internal::kMaxAttempts) + " times (last: " + conflict + ")");
}

}  // namespace loom::store
