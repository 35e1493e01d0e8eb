// The delete planner (delete_plan.h).
#include "store/delete_plan.h"

#include <algorithm>
#include <map>
#include <set>

#include "store/references.h"
#include "store/txn_util.h"

namespace loom::store {
namespace {

std::string refKey(const ObjectRef& r) {
  std::string s(kindName(r.kind));
  s += '/';
  s += r.id;
  return s;
}

// A referrer of a deleted object and the fields through which it refers.
struct Edge {
  ObjectRef source;
  std::vector<Reference> refs;  // Empty: a stale ref key (the source no longer refers).
};

struct Node {
  ObjectRef ref;
  Record record;
  std::vector<Edge> referrers;
};

// An update of a surviving referrer: its references to deleted objects cleared.
struct Update {
  ObjectRef ref;
  Record before;
  v1::StoredObject after;
  bool attach = false;  // An unlink: must commit with the first deleted target.
};

// One atomic step of the plan.
struct Unit {
  std::vector<etcd::Compare> compares;
  std::vector<etcd::Op> ops;
  std::vector<ObjectRef> deleted;
  std::vector<ObjectRef> updated;
  std::vector<std::pair<std::string, std::string>> rule_removals;  // (chain id, rule id)
};

constexpr size_t kMaxListed = 20;

std::string listReferrers(const std::vector<std::pair<const Node*, const Edge*>>& items) {
  std::string s;
  size_t shown = 0;
  const Node* current = nullptr;
  for (const auto& [node, edge] : items) {
    if (shown == kMaxListed) {
      s += ", and " + std::to_string(items.size() - kMaxListed) + " more";
      break;
    }
    if (node != current) {
      if (current != nullptr) s += "; ";
      s += objectName(node->ref.kind, node->ref.id) + " is referenced by ";
      current = node;
    } else {
      s += ", ";
    }
    s += objectName(edge->source.kind, edge->source.id) + " (";
    for (size_t i = 0; i < edge->refs.size(); ++i) {
      if (i > 0) s += ", ";
      s += edge->refs[i].field;
    }
    s += ")";
    ++shown;
  }
  return s;
}

class Planner {
 public:
  Planner(const Keys& keys, const ObjectRef& root, const DeleteOptions& options, int64_t rev,
          PlanSource& source)
      : keys_(keys), root_(root), options_(options), rev_(rev), source_(source) {}

  StatusOr<DeletePlan> plan();

 private:
  StatusOr<const Record*> load(const ObjectRef& ref);
  Status collect();
  Status classify();
  std::vector<size_t> order() const;
  Unit deleteUnit(const Node& node) const;
  Unit updateUnit(const Update& update) const;
  StatusOr<DeletePlan> pack(const std::vector<Unit>& units);

  const Keys& keys_;
  ObjectRef root_;
  DeleteOptions options_;
  int64_t rev_;
  PlanSource& source_;

  std::map<std::string, std::optional<Record>> cache_;
  std::vector<Node> nodes_;                   // The delete set, in discovery order.
  std::map<std::string, size_t> node_index_;  // refKey -> index in nodes_
  std::vector<Update> updates_;
  std::map<std::string, size_t> update_index_;
  std::map<std::string, size_t> update_first_target_;  // update -> earliest node (by order)
};

StatusOr<const Record*> Planner::load(const ObjectRef& ref) {
  std::string k = refKey(ref);
  auto it = cache_.find(k);
  if (it == cache_.end()) {
    ASSIGN_OR_RETURN(std::optional<Record> r, source_.object(ref));
    it = cache_.emplace(k, std::move(r)).first;
  }
  return it->second ? &*it->second : nullptr;
}

// The delete set: the root and, with cascade, every CascadeDelete referrer, transitively.
Status Planner::collect() {
  const Record* root = nullptr;
  { ASSIGN_OR_RETURN(root, load(root_)); }
  if (root == nullptr) return notFound(objectName(root_.kind, root_.id) + " not found");
  if (options_.expected_mod_revision != 0 && root->mod_revision != options_.expected_mod_revision) {
    return aborted("concurrent modification: " + objectName(root_.kind, root_.id) +
                   " is at mod_revision " + std::to_string(root->mod_revision) + ", not " +
                   std::to_string(options_.expected_mod_revision));
  }
  nodes_.push_back(Node{root_, *root, {}});
  node_index_[refKey(root_)] = 0;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    std::vector<ObjectRef> sources;
    { ASSIGN_OR_RETURN(sources, source_.referrerKeys(nodes_[i].ref)); }
    for (const ObjectRef& s : sources) {
      const Record* rec = nullptr;
      { ASSIGN_OR_RETURN(rec, load(s)); }
      Edge edge{s, {}};
      if (rec != nullptr) {
        for (Reference& r : referencesOf(rec->object)) {
          if (r.target == nodes_[i].ref.kind && r.id == nodes_[i].ref.id) {
            edge.refs.push_back(std::move(r));
          }
        }
      }
      const bool cascades = options_.cascade &&
                            std::any_of(edge.refs.begin(), edge.refs.end(), [](const Reference& r) {
                              return r.on_delete == OnDelete::CascadeDelete;
                            });
      if (cascades && node_index_.count(refKey(s)) == 0) {
        node_index_[refKey(s)] = nodes_.size();
        nodes_.push_back(Node{s, *rec, {}});
      }
      nodes_[i].referrers.push_back(std::move(edge));
    }
  }
  return okStatus();
}

// Every referrer outside the delete set is updated or blocks the delete.
Status Planner::classify() {
  std::vector<std::pair<const Node*, const Edge*>> restricted, need_cascade;
  for (const Node& node : nodes_) {
    for (const Edge& edge : node.referrers) {
      if (edge.refs.empty() || node_index_.count(refKey(edge.source)) != 0) continue;
      bool restrict_ref = false, always = true;
      for (const Reference& r : edge.refs) {
        restrict_ref = restrict_ref || r.on_delete == OnDelete::Restrict;
        always = always && r.on_delete == OnDelete::AlwaysClear;
      }
      if (restrict_ref) {
        restricted.emplace_back(&node, &edge);
      } else if (!options_.cascade && !always) {
        need_cascade.emplace_back(&node, &edge);
      } else {
        std::string k = refKey(edge.source);
        auto it = update_index_.find(k);
        if (it == update_index_.end()) {
          const Record* rec = *load(edge.source);  // Loaded by collect().
          it = update_index_.emplace(k, updates_.size()).first;
          updates_.push_back(Update{edge.source, *rec, rec->object, false});
        }
        Update& u = updates_[it->second];
        clearReferencesTo(u.after, node.ref.kind, node.ref.id);
        for (const Reference& r : edge.refs) {
          u.attach = u.attach || r.on_delete == OnDelete::AlwaysClear;
        }
      }
    }
  }
  const std::string root = objectName(root_.kind, root_.id);
  if (!restricted.empty()) {
    return failedPrecondition(
        root + " cannot be deleted" + (options_.cascade ? ", even with cascade" : "") + ": " +
        listReferrers(restricted) +
        "; filters, jump targets and rule conditions never cascade: change those referrers "
        "first");
  }
  if (!need_cascade.empty()) {
    return failedPrecondition(listReferrers(need_cascade) +
                              "; delete them first or delete with cascade");
  }
  return okStatus();
}

// Leaves first: a referrer before what it refers to. Objects in a reference cycle (not
// possible through the store's own writes) keep discovery order at the end.
std::vector<size_t> Planner::order() const {
  const size_t n = nodes_.size();
  std::vector<std::vector<size_t>> targets(n);
  std::vector<size_t> indegree(n, 0);
  for (size_t i = 0; i < n; ++i) {
    for (const RefTarget& t : refTargets(nodes_[i].record.object)) {
      auto it = node_index_.find(refKey(ObjectRef{t.kind, t.id}));
      if (it == node_index_.end() || it->second == i) continue;
      targets[i].push_back(it->second);
      ++indegree[it->second];
    }
  }
  std::vector<size_t> out, ready;
  for (size_t i = n; i-- > 0;) {
    if (indegree[i] == 0) ready.push_back(i);
  }
  std::vector<bool> done(n, false);
  for (size_t head = 0; head < ready.size(); ++head) {
    size_t i = ready[head];
    out.push_back(i);
    done[i] = true;
    for (size_t t : targets[i]) {
      if (--indegree[t] == 0) ready.push_back(t);
    }
  }
  for (size_t i = n; i-- > 0;) {
    if (!done[i]) out.push_back(i);
  }
  return out;
}

Unit Planner::deleteUnit(const Node& node) const {
  Unit u;
  u.compares.push_back(etcd::Compare::modRevision(keys_.object(node.ref.kind, node.ref.id),
                                                  node.record.mod_revision));
  u.compares.push_back(
      etcd::Compare::rangeUnchangedSince(keys_.refs(node.ref.kind, node.ref.id), rev_));
  u.ops.push_back(etcd::Op::del(keys_.object(node.ref.kind, node.ref.id)));
  appendRefDiff(keys_, node.ref.kind, node.ref.id, &node.record.object, nullptr, u.ops);
  for (const Edge& e : node.referrers) {
    if (e.refs.empty()) {  // Stale index entry: its source no longer refers here.
      u.ops.push_back(
          etcd::Op::del(keys_.ref(node.ref.kind, node.ref.id, e.source.kind, e.source.id)));
    }
  }
  u.deleted.push_back(node.ref);
  if (node.ref.kind == Kind::Rule) {
    u.rule_removals.emplace_back(node.record.object.rule().chain_id(), node.ref.id);
  }
  return u;
}

Unit Planner::updateUnit(const Update& update) const {
  Unit u;
  u.compares.push_back(etcd::Compare::modRevision(keys_.object(update.ref.kind, update.ref.id),
                                                  update.before.mod_revision));
  u.ops.push_back(
      etcd::Op::put(keys_.object(update.ref.kind, update.ref.id), encodeObject(update.after)));
  appendRefDiff(keys_, update.ref.kind, update.ref.id, &update.before.object, &update.after, u.ops);
  u.updated.push_back(update.ref);
  return u;
}

void appendUnit(Unit& to, Unit from) {
  for (auto& c : from.compares) to.compares.push_back(std::move(c));
  for (auto& o : from.ops) to.ops.push_back(std::move(o));
  for (auto& d : from.deleted) to.deleted.push_back(std::move(d));
  for (auto& d : from.updated) to.updated.push_back(std::move(d));
  for (auto& r : from.rule_removals) to.rule_removals.push_back(std::move(r));
}

StatusOr<DeletePlan> Planner::pack(const std::vector<Unit>& units) {
  // Chains whose rules are deleted: their current rule lists (read at R).
  std::map<std::string, std::vector<std::string>> chain_rules;
  std::map<std::string, const Record*> chain_records;
  for (const Unit& u : units) {
    for (const auto& [chain_id, rule_id] : u.rule_removals) {
      if (chain_records.count(chain_id) != 0) continue;
      const Record* rec = nullptr;
      { ASSIGN_OR_RETURN(rec, load(ObjectRef{Kind::Chain, chain_id})); }
      chain_records[chain_id] = rec;
      if (rec != nullptr) {
        const auto& ids = rec->object.chain().rule_ids();
        chain_rules[chain_id].assign(ids.begin(), ids.end());
      }
    }
  }

  DeletePlan plan;
  struct Open {
    Unit unit;
    std::set<std::string> chains;  // Chains of rules deleted in this transaction.
  };
  std::vector<Open> txns;
  auto cost = [&](const Open& open, const Unit& u) {
    // One compare and one put per chain whose rules the transaction deletes.
    std::set<std::string> chains = open.chains;
    for (const auto& [chain_id, rule_id] : u.rule_removals) chains.insert(chain_id);
    size_t extra = 0;
    for (const std::string& c : chains) extra += chain_records[c] != nullptr ? 1 : 0;
    return std::pair<size_t, size_t>{open.unit.compares.size() + u.compares.size() + extra,
                                     open.unit.ops.size() + u.ops.size() + extra};
  };
  for (const Unit& u : units) {
    if (txns.empty() || [&] {
          auto [c, o] = cost(txns.back(), u);
          return c > etcd::kMaxTxnOps || o > etcd::kMaxTxnOps;
        }()) {
      txns.emplace_back();
      auto [c, o] = cost(txns.back(), u);
      if (c > etcd::kMaxTxnOps || o > etcd::kMaxTxnOps) {
        return resourceExhausted(
            "deleting " + objectName(root_.kind, root_.id) + " needs a step of " +
            std::to_string(std::max(c, o)) + " operations in one transaction (for " +
            (u.deleted.empty() ? objectName(u.updated[0].kind, u.updated[0].id)
                               : objectName(u.deleted[0].kind, u.deleted[0].id)) +
            "); etcd allows " + std::to_string(etcd::kMaxTxnOps));
      }
    }
    Open& open = txns.back();
    for (const auto& [chain_id, rule_id] : u.rule_removals) open.chains.insert(chain_id);
    appendUnit(open.unit, u);
  }

  for (Open& open : txns) {
    PlannedTxn t;
    std::set<std::string> deleted_here;
    for (const ObjectRef& d : open.unit.deleted) deleted_here.insert(refKey(d));
    for (const auto& [chain_id, rule_id] : open.unit.rule_removals) {
      auto& ids = chain_rules[chain_id];
      ids.erase(std::remove(ids.begin(), ids.end(), rule_id), ids.end());
    }
    for (const std::string& chain_id : open.chains) {
      const Record* rec = chain_records[chain_id];
      if (rec == nullptr || deleted_here.count(refKey(ObjectRef{Kind::Chain, chain_id})) != 0) {
        continue;
      }
      v1::StoredObject chain = rec->object;
      chain.mutable_chain()->clear_rule_ids();
      for (const std::string& id : chain_rules[chain_id]) chain.mutable_chain()->add_rule_ids(id);
      const std::string key = keys_.object(Kind::Chain, chain_id);
      open.unit.compares.push_back(etcd::Compare::modRevision(key, rec->mod_revision));
      open.unit.ops.push_back(etcd::Op::put(key, encodeObject(chain)));
      if (node_index_.count(refKey(ObjectRef{Kind::Chain, chain_id})) == 0) {
        ObjectRef c{Kind::Chain, chain_id};
        if (std::find(open.unit.updated.begin(), open.unit.updated.end(), c) ==
            open.unit.updated.end()) {
          open.unit.updated.push_back(c);
        }
      }
    }
    t.txn.compares = std::move(open.unit.compares);
    t.txn.success = std::move(open.unit.ops);
    t.deleted = std::move(open.unit.deleted);
    t.updated = std::move(open.unit.updated);
    plan.txns.push_back(std::move(t));
  }
  return plan;
}

StatusOr<DeletePlan> Planner::plan() {
  RETURN_IF_ERROR(collect());
  RETURN_IF_ERROR(classify());
  const std::vector<size_t> ordered = order();
  std::vector<size_t> position(nodes_.size());
  for (size_t p = 0; p < ordered.size(); ++p) position[ordered[p]] = p;

  // Each update goes with (attach) or just before (standalone) its earliest deleted target.
  std::vector<std::vector<size_t>> before(nodes_.size()), with(nodes_.size());
  for (size_t ui = 0; ui < updates_.size(); ++ui) {
    const Update& u = updates_[ui];
    size_t first = nodes_.size();
    for (const RefTarget& t : refTargets(u.before.object)) {
      auto it = node_index_.find(refKey(ObjectRef{t.kind, t.id}));
      if (it == node_index_.end()) continue;
      if (first == nodes_.size() || position[it->second] < position[first]) first = it->second;
    }
    if (first == nodes_.size()) first = 0;  // Not reachable: an update clears a deleted target.
    (u.attach ? with : before)[first].push_back(ui);
  }

  std::vector<Unit> units;
  for (size_t i : ordered) {
    for (size_t ui : before[i]) units.push_back(updateUnit(updates_[ui]));
    Unit unit = deleteUnit(nodes_[i]);
    for (size_t ui : with[i]) appendUnit(unit, updateUnit(updates_[ui]));
    units.push_back(std::move(unit));
  }
  ASSIGN_OR_RETURN(DeletePlan plan, pack(units));
  plan.root_mod_revision = nodes_[0].record.mod_revision;
  return plan;
}

}  // namespace

StatusOr<DeletePlan> planDelete(const Keys& keys, const ObjectRef& root,
                                const DeleteOptions& options, int64_t read_revision,
                                PlanSource& source) {
  return Planner(keys, root, options, read_revision, source).plan();
}

void patchCompares(etcd::Txn& txn, const std::unordered_map<std::string, int64_t>& written) {
  for (etcd::Compare& c : txn.compares) {
    if (c.target != etcd::Compare::Target::Mod || c.result != etcd::Compare::Result::Equal ||
        !c.range_end.empty()) {
      continue;
    }
    auto it = written.find(c.key);
    if (it != written.end()) c.number = it->second;
  }
}

void recordWrites(const etcd::Txn& txn, int64_t revision,
                  std::unordered_map<std::string, int64_t>& written) {
  for (const etcd::Op& op : txn.success) {
    if (op.kind == etcd::Op::Kind::Put) written[op.key] = revision;
  }
}

}  // namespace loom::store
