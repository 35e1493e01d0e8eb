#pragma once
// The store integration tests' fixture: one ObjectStore per test under its own root of the
// shared etcd, object builders, and the integrity check run after every test.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "etcd/client.h"
#include "store/object_store.h"
#include "store/references.h"
#include "support/etcd_process.h"

namespace loom::store::testutil {

inline std::string mac(int n) {
  char buf[18];
  std::snprintf(buf, sizeof(buf), "02:00:00:00:%02x:%02x", (n >> 8) & 0xff, n & 0xff);
  return buf;
}

// Checks the store's invariant over a whole root: every ref key's source exists and names the
// target with exactly those fields; every reference of every object names an existing object
// and has its ref key; links are symmetric; every rule is listed exactly once by its own chain
// and a chain lists only existing rules of its own.
inline void expectConsistent(etcd::EtcdClient& client, const Keys& keys) {
  auto all = client.listPrefix(keys.all());
  ASSERT_TRUE(all.ok()) << all.status().toString();
  std::map<std::string, v1::StoredObject> objects;  // object key -> object
  std::map<std::string, std::string> refs;          // ref key -> fields
  for (const etcd::KeyValue& kv : all->kvs) {
    if (auto o = keys.parseObject(kv.key)) {
      v1::StoredObject obj;
      ASSERT_TRUE(decodeObject(kv.value, obj)) << kv.key;
      ASSERT_EQ(kindOf(obj), o->kind) << kv.key;
      ASSERT_EQ(objectId(obj), o->id) << kv.key;
      objects[kv.key] = obj;
    } else if (keys.parseRefSource(kv.key)) {
      refs[kv.key] = kv.value;
    } else {
      ADD_FAILURE() << "unexpected key " << kv.key;
    }
  }
  std::set<std::string> expected_refs;
  std::map<std::string, int> listed;  // rule id -> times listed by its chain
  for (const auto& [key, obj] : objects) {
    const Kind kind = *kindOf(obj);
    const std::string id = objectId(obj);
    for (const RefTarget& t : refTargets(obj)) {
      EXPECT_EQ(objects.count(keys.object(t.kind, t.id)), 1u)
          << objectName(kind, id) << " dangles: " << t.fields << " -> " << objectName(t.kind, t.id);
      const std::string rk = keys.ref(t.kind, t.id, kind, id);
      expected_refs.insert(rk);
      auto it = refs.find(rk);
      if (it == refs.end()) {
        ADD_FAILURE() << "missing ref key " << rk;
      } else {
        EXPECT_EQ(it->second, t.fields) << rk;
      }
    }
    if (kind == Kind::Port && !obj.port().peer_id().empty()) {
      auto peer = objects.find(keys.object(Kind::Port, obj.port().peer_id()));
      if (peer != objects.end()) {
        EXPECT_EQ(peer->second.port().peer_id(), id) << "asymmetric link at port " << id;
      }
    }
    if (kind == Kind::Chain) {
      for (const std::string& r : obj.chain().rule_ids()) {
        auto rule = objects.find(keys.object(Kind::Rule, r));
        if (rule == objects.end()) {
          ADD_FAILURE() << "chain " << id << " lists missing rule " << r;
          continue;
        }
        EXPECT_EQ(rule->second.rule().chain_id(), id) << "rule " << r;
        ++listed[r];
      }
    }
  }
  for (const auto& [key, obj] : objects) {
    if (kindOf(obj) == Kind::Rule) {
      EXPECT_EQ(listed[obj.rule().id()], 1) << "rule " << obj.rule().id() << " listing count";
    }
  }
  for (const auto& [key, fields] : refs) {
    EXPECT_EQ(expected_refs.count(key), 1u) << "ref key without its reference: " << key;
  }
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto client = etcd::EtcdClient::create(loom::testing::sharedEtcd().clientOptions());
    ASSERT_TRUE(client.ok()) << client.status().toString();
    client_ = std::move(client).value();
    store_ = std::make_unique<ObjectStore>(*client_, loom::testing::uniqueRoot());
  }
  void TearDown() override {
    if (store_ != nullptr) expectConsistent(*client_, store_->keys());
  }

  ObjectStore& store() { return *store_; }
  etcd::EtcdClient& client() { return *client_; }

  // Creates and returns the id; fails the test on error.
  std::string mustCreate(v1::StoredObject o, const CreateOptions& options = {}) {
    auto r = store_->create(std::move(o), options);
    EXPECT_TRUE(r.ok()) << r.status().toString();
    return r.ok() ? objectId(r->record.object) : std::string();
  }
  v1::StoredObject mustGet(Kind kind, const std::string& id) {
    auto r = store_->get(kind, id);
    EXPECT_TRUE(r.ok()) << r.status().toString();
    return r.ok() ? r->object : v1::StoredObject();
  }

  std::string bridge() {
    v1::StoredObject o;
    o.mutable_bridge()->set_name("b");
    return mustCreate(o);
  }
  std::string router() {
    v1::StoredObject o;
    o.mutable_router()->set_name("r");
    return mustCreate(o);
  }
  std::string chain() {
    v1::StoredObject o;
    o.mutable_chain()->set_name("c");
    return mustCreate(o);
  }
  static v1::StoredObject bridgePortObject(const std::string& bridge_id) {
    v1::StoredObject o;
    o.mutable_port()->set_bridge_id(bridge_id);
    return o;
  }
  std::string bridgePort(const std::string& bridge_id, const std::string& peer_id = {}) {
    v1::StoredObject o = bridgePortObject(bridge_id);
    o.mutable_port()->set_peer_id(peer_id);
    return mustCreate(o);
  }
  std::string routerPort(const std::string& router_id, int n, const std::string& peer_id = {}) {
    v1::StoredObject o;
    o.mutable_port()->set_router_id(router_id);
    o.mutable_port()->set_mac(mac(n));
    o.mutable_port()->add_addresses("10.0." + std::to_string(n) + ".1/24");
    o.mutable_port()->set_peer_id(peer_id);
    return mustCreate(o);
  }
  static v1::StoredObject routeObject(const std::string& router_id, const std::string& port_id,
                                      const std::string& dst = "192.168.0.0/16") {
    v1::StoredObject o;
    o.mutable_route()->set_router_id(router_id);
    o.mutable_route()->set_dst_prefix(dst);
    o.mutable_route()->set_next_hop(v1::Route::PORT);
    o.mutable_route()->set_next_hop_port_id(port_id);
    return o;
  }
  std::string route(const std::string& router_id, const std::string& port_id) {
    return mustCreate(routeObject(router_id, port_id));
  }
  static v1::StoredObject ruleObject(const std::string& chain_id,
                                     v1::Rule::Action action = v1::Rule::ACCEPT) {
    v1::StoredObject o;
    o.mutable_rule()->set_chain_id(chain_id);
    o.mutable_rule()->set_action(action);
    return o;
  }
  std::string rule(const std::string& chain_id, int32_t position = -1) {
    CreateOptions options;
    options.position = position;
    return mustCreate(ruleObject(chain_id), options);
  }
  std::vector<std::string> ruleIds(const std::string& chain_id) {
    v1::StoredObject c = mustGet(Kind::Chain, chain_id);
    return {c.chain().rule_ids().begin(), c.chain().rule_ids().end()};
  }
  bool exists(Kind kind, const std::string& id) { return store_->get(kind, id).ok(); }

  std::unique_ptr<etcd::EtcdClient> client_;
  std::unique_ptr<ObjectStore> store_;
};

}  // namespace loom::store::testutil
