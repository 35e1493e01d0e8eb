#pragma once
// Planning of ObjectStore::remove(): a pure function from what was read at one revision R to
// the list of etcd transactions that delete an object (and, with cascade, everything that must
// go with it), so that it can be tested without etcd.
//
// The planner walks the reference index from the object: every referrer is deleted
// (CascadeDelete, only with cascade), updated (CascadeClear with cascade, AlwaysClear always) or
// makes the delete fail (Restrict; anything else without cascade) with FailedPrecondition naming
// the referrers and their fields. The steps are ordered leaves first (a referrer before what it
// refers to) and packed into transactions of at most etcd::kMaxTxnOps compares and operations
// each, so that after every committed transaction no reference dangles and every chain's
// rule_ids names existing rules only:
//  - deleting X compares X's mod_revision and that nothing under X's ref prefix was created or
//    changed since R (a new referrer makes the transaction fail; the caller re-plans);
//  - an updated referrer compares its mod_revision; a peer unlink goes in the same transaction as
//    the deleted port, so a link never becomes one-sided;
//  - each transaction that deletes rules of a chain that survives it also writes the chain with
//    those rules removed from rule_ids.
// A chain written by an earlier transaction of the plan is compared against the read revision;
// the executor replaces such compares with the revision that transaction produced
// (patchCompares()).

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "etcd/client.h"
#include "store/keys.h"
#include "store/object_store.h"

namespace loom::store {

// What the planner reads, all at one revision.
class PlanSource {
 public:
  virtual ~PlanSource() = default;
  // nullopt when the object does not exist.
  virtual StatusOr<std::optional<Record>> object(const ObjectRef& ref) = 0;
  // The referrers named by the ref keys under `ref`'s ref prefix.
  virtual StatusOr<std::vector<ObjectRef>> referrerKeys(const ObjectRef& ref) = 0;
};

struct PlannedTxn {
  etcd::Txn txn;
  std::vector<ObjectRef> deleted;
  std::vector<ObjectRef> updated;
};

struct DeletePlan {
  std::vector<PlannedTxn> txns;
  int64_t root_mod_revision = 0;
};

// Errors: NotFound (no such object), Aborted (expected_mod_revision differs), FailedPrecondition
// (referrers that block the delete), ResourceExhausted (one step needs more than kMaxTxnOps).
StatusOr<DeletePlan> planDelete(const Keys& keys, const ObjectRef& root,
                                const DeleteOptions& options, int64_t read_revision,
                                PlanSource& source);

// Before sending a transaction of a plan: every mod_revision compare on a key that an earlier
// committed transaction of the same plan wrote is changed to that transaction's revision.
// `written` maps keys to the revision that wrote them; update it with recordWrites() after each
// committed transaction.
void patchCompares(etcd::Txn& txn, const std::unordered_map<std::string, int64_t>& written);
void recordWrites(const etcd::Txn& txn, int64_t revision,
                  std::unordered_map<std::string, int64_t>& written);

}  // namespace loom::store
