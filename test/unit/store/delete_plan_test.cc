#include "store/delete_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "store/references.h"

namespace loom::store {
namespace {

using ::testing::HasSubstr;

std::string id(int n) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "00000000-0000-4000-8000-%012d", n);
  return buf;
}

// An in-memory key space holding objects and their ref keys, as the store writes them. Plans
// are applied to it transaction by transaction and the integrity invariant is checked after
// each one.
class World : public PlanSource {
 public:
  Keys keys{"/w"};

  void add(v1::StoredObject o) {
    o.set_format(kStoredFormat);
    Kind kind = *kindOf(o);
    std::string oid = objectId(o);
    kv_[keys.object(kind, oid)] = encodeObject(o);
    for (const RefTarget& t : refTargets(o)) kv_[keys.ref(t.kind, t.id, kind, oid)] = t.fields;
  }

  bool has(Kind kind, const std::string& oid) const {
    return kv_.count(keys.object(kind, oid)) != 0;
  }
  v1::StoredObject get(Kind kind, const std::string& oid) const {
    v1::StoredObject o;
    decodeObject(kv_.at(keys.object(kind, oid)), o);
    return o;
  }

  StatusOr<std::optional<Record>> object(const ObjectRef& ref) override {
    auto it = kv_.find(keys.object(ref.kind, ref.id));
    if (it == kv_.end()) return std::optional<Record>();
    Record r;
    decodeObject(it->second, r.object);
    r.mod_revision = 7;
    return std::optional<Record>(r);
  }

  StatusOr<std::vector<ObjectRef>> referrerKeys(const ObjectRef& ref) override {
    std::vector<ObjectRef> out;
    std::string prefix = keys.refs(ref.kind, ref.id);
    for (auto it = kv_.lower_bound(prefix); it != kv_.end() && it->first.rfind(prefix, 0) == 0;
         ++it) {
      auto src = keys.parseRefSource(it->first);
      out.push_back(ObjectRef{src->kind, src->id});
    }
    return out;
  }

  void apply(const etcd::Txn& txn) {
    for (const etcd::Op& op : txn.success) {
      ASSERT_TRUE(op.range_end.empty());
      if (op.kind == etcd::Op::Kind::Put) {
        kv_[op.key] = op.value;
      } else if (op.kind == etcd::Op::Kind::Delete) {
        kv_.erase(op.key);
      }
    }
  }

  // Every ref key's source exists and names its target with exactly those fields; every
  // reference has its ref key and its target exists; chains list existing rules of their own.
  void expectConsistent() const {
    for (const auto& [key, value] : kv_) {
      if (auto src = keys.parseRefSource(key)) {
        ASSERT_TRUE(has(src->kind, src->id)) << "ref key without source: " << key;
        bool found = false;
        for (const RefTarget& t : refTargets(get(src->kind, src->id))) {
          if (keys.ref(t.kind, t.id, src->kind, src->id) == key) {
            found = true;
            EXPECT_EQ(t.fields, value) << key;
          }
        }
        EXPECT_TRUE(found) << "stale ref key " << key;
      } else if (auto obj = keys.parseObject(key)) {
        v1::StoredObject o = get(obj->kind, obj->id);
        for (const RefTarget& t : refTargets(o)) {
          EXPECT_TRUE(has(t.kind, t.id)) << key << " dangles: " << t.fields;
          EXPECT_EQ(kv_.count(keys.ref(t.kind, t.id, obj->kind, obj->id)), 1u) << key;
        }
        if (obj->kind == Kind::Chain) {
          for (const std::string& r : o.chain().rule_ids()) {
            EXPECT_TRUE(has(Kind::Rule, r)) << "chain " << obj->id << " lists missing rule";
          }
        }
        if (obj->kind == Kind::Port && !o.port().peer_id().empty()) {
          EXPECT_EQ(get(Kind::Port, o.port().peer_id()).port().peer_id(), obj->id);
        }
      }
    }
  }

  size_t size() const { return kv_.size(); }

 private:
  std::map<std::string, std::string> kv_;
};

v1::StoredObject bridge(int n) {
  v1::StoredObject o;
  o.mutable_bridge()->set_id(id(n));
  return o;
}
v1::StoredObject router(int n) {
  v1::StoredObject o;
  o.mutable_router()->set_id(id(n));
  return o;
}
v1::StoredObject chain(int n, std::vector<int> rules = {}) {
  v1::StoredObject o;
  o.mutable_chain()->set_id(id(n));
  for (int r : rules) o.mutable_chain()->add_rule_ids(id(r));
  return o;
}
v1::StoredObject port(int n, int bridge_id, int router_id = 0) {
  v1::StoredObject o;
  o.mutable_port()->set_id(id(n));
  if (bridge_id != 0) o.mutable_port()->set_bridge_id(id(bridge_id));
  if (router_id != 0) o.mutable_port()->set_router_id(id(router_id));
  return o;
}
v1::StoredObject route(int n, int router_id, int port_id) {
  v1::StoredObject o;
  o.mutable_route()->set_id(id(n));
  o.mutable_route()->set_router_id(id(router_id));
  o.mutable_route()->set_next_hop_port_id(id(port_id));
  return o;
}
v1::StoredObject rule(int n, int chain_id) {
  v1::StoredObject o;
  o.mutable_rule()->set_id(id(n));
  o.mutable_rule()->set_chain_id(id(chain_id));
  o.mutable_rule()->set_action(v1::Rule::ACCEPT);
  return o;
}

void link(v1::StoredObject& a, v1::StoredObject& b) {
  a.mutable_port()->set_peer_id(b.port().id());
  b.mutable_port()->set_peer_id(a.port().id());
}

// Plans, applies every transaction and checks consistency after each.
DeletePlan planAndApply(World& w, Kind kind, int n, bool cascade) {
  DeleteOptions o;
  o.cascade = cascade;
  auto plan = planDelete(w.keys, ObjectRef{kind, id(n)}, o, 100, w);
  EXPECT_TRUE(plan.ok()) << plan.status().toString();
  if (!plan.ok()) return {};
  for (const PlannedTxn& t : plan->txns) {
    EXPECT_LE(t.txn.compares.size(), etcd::kMaxTxnOps);
    EXPECT_LE(t.txn.success.size(), etcd::kMaxTxnOps);
    w.apply(t.txn);
    w.expectConsistent();
  }
  return *plan;
}

TEST(DeletePlanTest, UnreferencedObjectIsOneTransaction) {
  World w;
  w.add(bridge(1));
  DeletePlan plan = planAndApply(w, Kind::Bridge, 1, false);
  ASSERT_EQ(plan.txns.size(), 1u);
  EXPECT_EQ(plan.txns[0].deleted, (std::vector<ObjectRef>{{Kind::Bridge, id(1)}}));
  EXPECT_EQ(w.size(), 0u);
}

TEST(DeletePlanTest, MissingObjectIsNotFound) {
  World w;
  auto plan = planDelete(w.keys, ObjectRef{Kind::Bridge, id(1)}, {}, 100, w);
  EXPECT_EQ(plan.status().code(), StatusCode::NotFound);
}

TEST(DeletePlanTest, ExpectedRevisionMismatchIsAborted) {
  World w;
  w.add(bridge(1));
  DeleteOptions o;
  o.expected_mod_revision = 3;  // The world reports 7.
  auto plan = planDelete(w.keys, ObjectRef{Kind::Bridge, id(1)}, o, 100, w);
  EXPECT_EQ(plan.status().code(), StatusCode::Aborted);
}

TEST(DeletePlanTest, ReferencedObjectWithoutCascadeNamesReferrers) {
  World w;
  w.add(bridge(1));
  w.add(port(2, 1));
  w.add(port(3, 1));
  auto plan = planDelete(w.keys, ObjectRef{Kind::Bridge, id(1)}, {}, 100, w);
  ASSERT_EQ(plan.status().code(), StatusCode::FailedPrecondition);
  EXPECT_THAT(
      plan.status().message(),
      HasSubstr("bridge " + id(1) + " is referenced by port " + id(2) + " (bridge_id), port " +
                id(3) + " (bridge_id); delete them first or delete with cascade"));
}

TEST(DeletePlanTest, PeerIsUnlinkedWithoutCascadeInTheSameTransaction) {
  World w;
  w.add(bridge(1));
  w.add(router(2));
  v1::StoredObject a = port(3, 1), b = port(4, 0, 2);
  b.mutable_port()->set_mac("02:00:00:00:00:01");
  link(a, b);
  w.add(a);
  w.add(b);
  DeletePlan plan = planAndApply(w, Kind::Port, 3, false);
  ASSERT_EQ(plan.txns.size(), 1u);
  EXPECT_EQ(plan.txns[0].updated, (std::vector<ObjectRef>{{Kind::Port, id(4)}}));
  EXPECT_EQ(w.get(Kind::Port, id(4)).port().peer_id(), "");
}

TEST(DeletePlanTest, RestrictedReferrerRefusesEvenWithCascade) {
  World w;
  w.add(bridge(1));
  w.add(port(2, 1));
  w.add(chain(3, {4}));
  v1::StoredObject r = rule(4, 3);
  r.mutable_rule()->mutable_condition()->add_in_port_ids(id(2));
  w.add(r);
  DeleteOptions o;
  o.cascade = true;
  auto plan = planDelete(w.keys, ObjectRef{Kind::Bridge, id(1)}, o, 100, w);
  ASSERT_EQ(plan.status().code(), StatusCode::FailedPrecondition);
  EXPECT_THAT(plan.status().message(), HasSubstr("even with cascade"));
  EXPECT_THAT(plan.status().message(), HasSubstr("port " + id(2) + " is referenced by rule " +
                                                 id(4) + " (condition.in_port_ids[0])"));
}

TEST(DeletePlanTest, FilterOfDeletedBridgeDoesNotBlock) {
  World w;
  w.add(chain(1));
  v1::StoredObject b = bridge(2);
  b.mutable_bridge()->set_inbound_filter_id(id(1));
  w.add(b);
  planAndApply(w, Kind::Bridge, 2, false);
  EXPECT_TRUE(w.has(Kind::Chain, id(1)));
}

TEST(DeletePlanTest, CascadeDeletesRouterPortsRoutesAndUnlinksPeers) {
  World w;
  w.add(router(1));
  w.add(bridge(2));
  v1::StoredObject rp = port(3, 0, 1), bp = port(4, 2);
  rp.mutable_port()->set_mac("02:00:00:00:00:01");
  link(rp, bp);
  w.add(rp);
  w.add(bp);
  w.add(route(5, 1, 3));
  DeletePlan plan = planAndApply(w, Kind::Router, 1, true);
  ASSERT_EQ(plan.txns.size(), 1u);
  const auto& deleted = plan.txns[0].deleted;
  ASSERT_EQ(deleted.size(), 3u);
  EXPECT_EQ(deleted[0], (ObjectRef{Kind::Route, id(5)}));  // Leaves first.
  EXPECT_EQ(deleted[1], (ObjectRef{Kind::Port, id(3)}));
  EXPECT_EQ(deleted[2], (ObjectRef{Kind::Router, id(1)}));  // The requested object last.
  EXPECT_EQ(w.get(Kind::Port, id(4)).port().peer_id(), "");
  EXPECT_TRUE(w.has(Kind::Bridge, id(2)));
}

TEST(DeletePlanTest, CascadeClearsMembershipsAndBindings) {
  World w;
  v1::StoredObject g;
  g.mutable_port_group()->set_id(id(1));
  w.add(g);
  w.add(bridge(2));
  v1::StoredObject p = port(3, 2);
  p.mutable_port()->add_port_group_ids(id(9));  // Another group (not in the world: unchecked).
  p.mutable_port()->add_port_group_ids(id(1));
  w.add(p);
  auto refused = planDelete(w.keys, ObjectRef{Kind::PortGroup, id(1)}, {}, 100, w);
  EXPECT_EQ(refused.status().code(), StatusCode::FailedPrecondition);
  v1::StoredObject z;
  z.mutable_port_group()->set_id(id(9));
  w.add(z);
  planAndApply(w, Kind::PortGroup, 1, true);
  ASSERT_EQ(w.get(Kind::Port, id(3)).port().port_group_ids_size(), 1);
  EXPECT_EQ(w.get(Kind::Port, id(3)).port().port_group_ids(0), id(9));
}

TEST(DeletePlanTest, DeletingRuleRemovesItFromItsChain) {
  World w;
  w.add(chain(1, {2, 3}));
  w.add(rule(2, 1));
  w.add(rule(3, 1));
  DeletePlan plan = planAndApply(w, Kind::Rule, 2, false);
  ASSERT_EQ(plan.txns.size(), 1u);
  EXPECT_EQ(plan.txns[0].updated, (std::vector<ObjectRef>{{Kind::Chain, id(1)}}));
  ASSERT_EQ(w.get(Kind::Chain, id(1)).chain().rule_ids_size(), 1);
  EXPECT_EQ(w.get(Kind::Chain, id(1)).chain().rule_ids(0), id(3));
}

TEST(DeletePlanTest, BridgeWithManyPortsSplitsLeavesFirst) {
  World w;
  w.add(bridge(1));
  for (int i = 0; i < 300; ++i) w.add(port(1000 + i, 1));
  DeletePlan plan = planAndApply(w, Kind::Bridge, 1, true);
  EXPECT_GE(plan.txns.size(), 5u);  // 300 ports x 2 compares, <= 128 per transaction.
  EXPECT_EQ(plan.txns.back().deleted.back(), (ObjectRef{Kind::Bridge, id(1)}));
  EXPECT_EQ(w.size(), 0u);
}

TEST(DeletePlanTest, LargeChainKeepsRuleIdsConsistentBetweenTransactions) {
  World w;
  std::vector<int> rules;
  for (int i = 0; i < 200; ++i) rules.push_back(1000 + i);
  w.add(chain(1, rules));
  for (int r : rules) w.add(rule(r, 1));
  DeletePlan plan = planAndApply(w, Kind::Chain, 1, true);
  EXPECT_GE(plan.txns.size(), 3u);
  EXPECT_EQ(w.size(), 0u);
}

TEST(DeletePlanTest, PatchComparesUsesTheRevisionOfEarlierWrites) {
  etcd::Txn t;
  t.compares.push_back(etcd::Compare::modRevision("/a", 5));
  t.compares.push_back(etcd::Compare::modRevision("/b", 5));
  t.compares.push_back(etcd::Compare::rangeUnchangedSince("/a", 5));
  std::unordered_map<std::string, int64_t> written;
  etcd::Txn earlier;
  earlier.success.push_back(etcd::Op::put("/a", "x"));
  earlier.success.push_back(etcd::Op::del("/b"));
  recordWrites(earlier, 42, written);
  patchCompares(t, written);
  EXPECT_EQ(t.compares[0].number, 42);
  EXPECT_EQ(t.compares[1].number, 5);
  EXPECT_EQ(t.compares[2].number, 6);
}

}  // namespace
}  // namespace loom::store
