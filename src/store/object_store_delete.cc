// ObjectStore::remove(): reads at one revision, plans (delete_plan.h) and runs the plan's
// transactions in order, re-planning from a fresh read when one of them conflicts.
#include <unordered_map>

#include "base/uuid.h"
#include "store/delete_plan.h"
#include "store/object_store.h"
#include "store/object_store_internal.h"
#include "store/txn_util.h"

namespace loom::store {
namespace {

// PlanSource over etcd: every read at one revision.
class EtcdPlanSource final : public PlanSource {
 public:
  EtcdPlanSource(etcd::EtcdClient& client, const Keys& keys, int64_t revision)
      : client_(client), keys_(keys), revision_(revision) {}

  StatusOr<std::optional<Record>> object(const ObjectRef& ref) override {
    return internal::readRecord(client_, keys_, ref.kind, ref.id, revision_, nullptr);
  }

  StatusOr<std::vector<ObjectRef>> referrerKeys(const ObjectRef& ref) override {
    const std::string prefix = keys_.refs(ref.kind, ref.id);
    etcd::RangeOptions o;
    o.range_end = etcd::prefixEnd(prefix);
    o.revision = revision_;
    o.keys_only = true;
    etcd::RangeResult r;
    { ASSIGN_OR_RETURN(r, client_.range(prefix, o)); }
    std::vector<ObjectRef> out;
    for (const etcd::KeyValue& kv : r.kvs) {
      if (auto src = keys_.parseRefSource(kv.key)) out.push_back(ObjectRef{src->kind, src->id});
    }
    return out;
  }

 private:
  etcd::EtcdClient& client_;
  const Keys& keys_;
  int64_t revision_;
};

}  // namespace

StatusOr<DeleteResult> ObjectStore::remove(Kind kind, const std::string& id,
                                           const DeleteOptions& options) {
  auto uuid = Uuid::parse(id);
  if (!uuid) return notFound(objectName(kind, id) + " not found");
  const ObjectRef root{kind, uuid->toString()};

  DeleteResult out;
  std::string conflict;
  for (int attempt = 0; attempt < internal::kMaxAttempts; ++attempt) {
    if (attempt > 0) internal::backoff(attempt);
    int64_t rev = 0;
    {
      std::optional<Record> ignored;
      ASSIGN_OR_RETURN(ignored, internal::readRecord(client_, keys_, kind, root.id, 0, &rev));
    }
    EtcdPlanSource source(client_, keys_, rev);
    DeletePlan plan;
    { ASSIGN_OR_RETURN(plan, planDelete(keys_, root, options, rev, source)); }
    std::unordered_map<std::string, int64_t> written;
    bool committed_all = true;
    for (PlannedTxn& step : plan.txns) {
      patchCompares(step.txn, written);
      addConflictReads(step.txn);
      etcd::TxnResult result;
      { ASSIGN_OR_RETURN(result, client_.txn(step.txn)); }
      if (!result.succeeded) {
        conflict = describeConflict(keys_, step.txn, result);
        committed_all = false;
        break;
      }
      recordWrites(step.txn, result.revision, written);
      ++out.transactions;
      out.revision = result.revision;
      for (ObjectRef& d : step.deleted) out.deleted.push_back(std::move(d));
      for (ObjectRef& u : step.updated) out.updated.push_back(std::move(u));
    }
    if (committed_all) return out;
  }
  return aborted("concurrent modification: deleting " + objectName(kind, id) + " conflicted " +
                 std::to_string(internal::kMaxAttempts) + " times (last: " + conflict + ")");
}

}  // namespace loom::store
