#pragma once
// Internal to src/store: pieces of transactions shared by the writes and the delete planner.

#include <string>
#include <vector>

#include "etcd/client.h"
#include "store/keys.h"
#include "store/object_store.h"

namespace loom::store {

// Ref-key operations that take the index from `before`'s references to `after`'s, for the
// object kind/id (either may be null: a create or a delete). Removed targets are deleted,
// new targets or changed field lists are put.
void appendRefDiff(const Keys& keys, Kind kind, const std::string& id,
                   const v1::StoredObject* before, const v1::StoredObject* after,
                   std::vector<etcd::Op>& ops);

// Decodes an object value read from `kv` (which must be an object key of this store).
// DataLoss when it does not decode or holds another kind or id than its key.
StatusOr<Record> decodeRecord(const Keys& keys, const etcd::KeyValue& kv);

// Fills txn.failure with one read per compare (the compared key or range), so that a failed
// transaction tells which compare failed.
void addConflictReads(etcd::Txn& txn);
// Which compares of a failed transaction (built with addConflictReads) do not hold, in words:
// "port 1234... was changed; bridge 5678... has a new referrer port 9abc...". Empty if none
// could be identified.
std::string describeConflict(const Keys& keys, const etcd::Txn& txn, const etcd::TxnResult& result);
// Index of the first compare that does not hold, or -1.
int firstFailedCompare(const etcd::Txn& txn, const etcd::TxnResult& result);

// Checks both lists against etcd's per-transaction limit; `what` names the write.
Status checkTxnSize(const etcd::Txn& txn, const std::string& what);

}  // namespace loom::store
