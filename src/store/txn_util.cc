// Shared transaction pieces (txn_util.h).
#include "store/txn_util.h"

#include <map>

#include "store/references.h"

namespace loom::store {

void appendRefDiff(const Keys& keys, Kind kind, const std::string& id,
                   const v1::StoredObject* before, const v1::StoredObject* after,
                   std::vector<etcd::Op>& ops) {
  std::map<std::string, std::string> old_refs, new_refs;  // ref key -> fields
  if (before != nullptr) {
    for (RefTarget& t : refTargets(*before)) {
      old_refs.emplace(keys.ref(t.kind, t.id, kind, id), std::move(t.fields));
    }
  }
  if (after != nullptr) {
    for (RefTarget& t : refTargets(*after)) {
      new_refs.emplace(keys.ref(t.kind, t.id, kind, id), std::move(t.fields));
    }
  }
  for (const auto& [key, fields] : old_refs) {
    if (new_refs.count(key) == 0) ops.push_back(etcd::Op::del(key));
  }
  for (const auto& [key, fields] : new_refs) {
    auto it = old_refs.find(key);
    if (it == old_refs.end() || it->second != fields) ops.push_back(etcd::Op::put(key, fields));
  }
}

StatusOr<Record> decodeRecord(const Keys& keys, const etcd::KeyValue& kv) {
  auto parsed = keys.parseObject(kv.key);
  Record r;
  if (!parsed || !decodeObject(kv.value, r.object) || kindOf(r.object) != parsed->kind ||
      objectId(r.object) != parsed->id) {
    return Status(StatusCode::DataLoss, "cannot decode the object stored at " + kv.key);
  }
  r.create_revision = kv.create_revision;
  r.mod_revision = kv.mod_revision;
  return r;
}

void addConflictReads(etcd::Txn& txn) {
  txn.failure.clear();
  for (const etcd::Compare& c : txn.compares)
    txn.failure.push_back(etcd::Op::get(c.key, c.range_end));
}

namespace {

// Whether compare `c` holds for what failure read `kvs` found.
bool holds(const etcd::Compare& c, const std::vector<etcd::KeyValue>& kvs) {
  auto check = [&](int64_t actual) {
    switch (c.result) {
      case etcd::Compare::Result::Equal: return actual == c.number;
      case etcd::Compare::Result::Greater: return actual > c.number;
      case etcd::Compare::Result::Less: return actual < c.number;
      case etcd::Compare::Result::NotEqual: return actual != c.number;
    }
    return true;
  };
  auto value = [&](const etcd::KeyValue& kv) -> int64_t {
    switch (c.target) {
      case etcd::Compare::Target::Version: return kv.version;
      case etcd::Compare::Target::Create: return kv.create_revision;
      case etcd::Compare::Target::Mod: return kv.mod_revision;
      case etcd::Compare::Target::Lease: return kv.lease;
      case etcd::Compare::Target::Value: return 0;
    }
    return 0;
  };
  if (c.target == etcd::Compare::Target::Value) return true;  // Not used by the store.
  if (!c.range_end.empty()) {
    for (const etcd::KeyValue& kv : kvs) {
      if (!check(value(kv))) return false;
    }
    return true;
  }
  // A missing key has version, create and mod revision 0.
  return check(kvs.empty() ? 0 : value(kvs.front()));
}

std::string nameOfKey(const Keys& keys, const std::string& key) {
  if (auto o = keys.parseObject(key)) return objectName(o->kind, o->id);
  return key;
}

}  // namespace

int firstFailedCompare(const etcd::Txn& txn, const etcd::TxnResult& result) {
  for (size_t i = 0; i < txn.compares.size() && i < result.ranges.size(); ++i) {
    if (!holds(txn.compares[i], result.ranges[i])) return static_cast<int>(i);
  }
  return -1;
}

std::string describeConflict(const Keys& keys, const etcd::Txn& txn,
                             const etcd::TxnResult& result) {
  std::string out;
  auto add = [&out](const std::string& s) {
    if (!out.empty()) out += "; ";
    out += s;
  };
  for (size_t i = 0; i < txn.compares.size() && i < result.ranges.size(); ++i) {
    const etcd::Compare& c = txn.compares[i];
    const std::vector<etcd::KeyValue>& kvs = result.ranges[i];
    if (holds(c, kvs)) continue;
    if (!c.range_end.empty()) {
      for (const etcd::KeyValue& kv : kvs) {
        if (kv.mod_revision < c.number) continue;
        auto src = keys.parseRefSource(kv.key);
        add("a new or changed reference from " + (src ? objectName(src->kind, src->id) : kv.key) +
            " (" + kv.key + ")");
      }
    } else if (c.target == etcd::Compare::Target::Version && c.number == 0) {
      add(nameOfKey(keys, c.key) + " was created");
    } else if (kvs.empty()) {
      add(nameOfKey(keys, c.key) + " was deleted");
    } else {
      add(nameOfKey(keys, c.key) + " was changed");
    }
  }
  return out;
}

Status checkTxnSize(const etcd::Txn& txn, const std::string& what) {
  const size_t n = std::max(txn.compares.size(), txn.success.size());
  if (n <= etcd::kMaxTxnOps) return okStatus();
  return resourceExhausted(
      what + " needs " + std::to_string(n) + " operations in one transaction; etcd allows " +
      std::to_string(etcd::kMaxTxnOps) + " (too many distinct references in one object)");
}

}  // namespace loom::store
