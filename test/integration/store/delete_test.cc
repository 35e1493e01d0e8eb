// ObjectStore::remove against a real etcd: refusals that name the referrers, cascades, peer
// unlinks, rule-list maintenance, and a cascade split over several transactions.
#include <gmock/gmock.h>

#include "base/uuid.h"
#include "integration/store/store_test_util.h"

namespace loom::store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testutil::StoreTest;

class StoreDeleteTest : public StoreTest {};

TEST_F(StoreDeleteTest, ReferencedObjectIsRefusedNamingTheReferrers) {
  const std::string b = bridge();
  const std::string p1 = bridgePort(b), p2 = bridgePort(b);
  auto r = store().remove(Kind::Bridge, b);
  ASSERT_EQ(r.status().code(), StatusCode::FailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("bridge " + b + " is referenced by port "));
  EXPECT_THAT(r.status().message(), HasSubstr("port " + p1 + " (bridge_id)"));
  EXPECT_THAT(r.status().message(), HasSubstr("port " + p2 + " (bridge_id)"));
  EXPECT_THAT(r.status().message(), HasSubstr("delete them first or delete with cascade"));
  EXPECT_TRUE(exists(Kind::Bridge, b));
}

TEST_F(StoreDeleteTest, MissingObjectIsNotFound) {
  EXPECT_EQ(store().remove(Kind::Port, Uuid::random().toString()).status().code(),
            StatusCode::NotFound);
}

TEST_F(StoreDeleteTest, CascadeDeletesABridgeWithItsPortsAndUnlinksTheirPeers) {
  const std::string b = bridge(), r = router();
  const std::string bp1 = bridgePort(b), bp2 = bridgePort(b);
  const std::string rp = routerPort(r, 1, bp1);
  const std::string via = route(r, rp);
  auto d = store().remove(Kind::Bridge, b, {.cascade = true});
  ASSERT_TRUE(d.ok()) << d.status().toString();
  EXPECT_EQ(d->deleted.size(), 3u);
  EXPECT_EQ(d->deleted.back(), (ObjectRef{Kind::Bridge, b}));
  EXPECT_THAT(d->updated, ElementsAre(ObjectRef{Kind::Port, rp}));
  EXPECT_EQ(d->transactions, 1);
  EXPECT_FALSE(exists(Kind::Port, bp1));
  EXPECT_FALSE(exists(Kind::Port, bp2));
  EXPECT_EQ(mustGet(Kind::Port, rp).port().peer_id(), "");
  EXPECT_TRUE(exists(Kind::Route, via));
}

TEST_F(StoreDeleteTest, CascadeDeletesARouterWithPortsAndRoutes) {
  const std::string b = bridge(), r = router();
  const std::string bp = bridgePort(b);
  const std::string rp1 = routerPort(r, 1, bp), rp2 = routerPort(r, 2);
  const std::string via1 = route(r, rp1), via2 = route(r, rp2);
  v1::StoredObject blackhole;
  blackhole.mutable_route()->set_router_id(r);
  blackhole.mutable_route()->set_dst_prefix("0.0.0.0/0");
  blackhole.mutable_route()->set_next_hop(v1::Route::BLACKHOLE);
  const std::string bh = mustCreate(blackhole);
  auto d = store().remove(Kind::Router, r, {.cascade = true});
  ASSERT_TRUE(d.ok()) << d.status().toString();
  EXPECT_EQ(d->deleted.size(), 6u);
  for (const auto& id : {rp1, rp2}) EXPECT_FALSE(exists(Kind::Port, id));
  for (const auto& id : {via1, via2, bh}) EXPECT_FALSE(exists(Kind::Route, id));
  EXPECT_EQ(mustGet(Kind::Port, bp).port().peer_id(), "");
}

TEST_F(StoreDeleteTest, DeletingAPortDeletesRoutesThroughItOnlyWithCascade) {
  const std::string r = router();
  const std::string rp = routerPort(r, 1);
  const std::string via = route(r, rp);
  auto refused = store().remove(Kind::Port, rp);
  EXPECT_EQ(refused.status().code(), StatusCode::FailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("route " + via + " (next_hop_port_id)"));
  ASSERT_TRUE(store().remove(Kind::Port, rp, {.cascade = true}).ok());
  EXPECT_FALSE(exists(Kind::Route, via));
}

TEST_F(StoreDeleteTest, LinkedPortIsDeletedWithoutCascadeAndItsPeerUnlinked) {
  const std::string b = bridge(), r = router();
  const std::string bp = bridgePort(b);
  const std::string rp = routerPort(r, 1, bp);
  auto d = store().remove(Kind::Port, bp);
  ASSERT_TRUE(d.ok()) << d.status().toString();
  EXPECT_THAT(d->updated, ElementsAre(ObjectRef{Kind::Port, rp}));
  EXPECT_EQ(mustGet(Kind::Port, rp).port().peer_id(), "");
}

TEST_F(StoreDeleteTest, CascadeDeletesAChainWithItsRules) {
  const std::string c = chain();
  const std::string r1 = rule(c), r2 = rule(c);
  EXPECT_EQ(store().remove(Kind::Chain, c).status().code(), StatusCode::FailedPrecondition);
  auto d = store().remove(Kind::Chain, c, {.cascade = true});
  ASSERT_TRUE(d.ok()) << d.status().toString();
  EXPECT_EQ(d->deleted.size(), 3u);
  EXPECT_FALSE(exists(Kind::Rule, r1));
  EXPECT_FALSE(exists(Kind::Rule, r2));
}

TEST_F(StoreDeleteTest, DeletingARuleRemovesItFromItsChain) {
  const std::string c = chain();
  const std::string r1 = rule(c), r2 = rule(c), r3 = rule(c);
  auto d = store().remove(Kind::Rule, r2);
  ASSERT_TRUE(d.ok()) << d.status().toString();
  EXPECT_THAT(d->updated, ElementsAre(ObjectRef{Kind::Chain, c}));
  EXPECT_THAT(ruleIds(c), ElementsAre(r1, r3));
}

TEST_F(StoreDeleteTest, RestrictingReferencesRefuseEvenWithCascade) {
  const std::string filter = chain();
  v1::StoredObject b;
  b.mutable_bridge()->set_inbound_filter_id(filter);
  const std::string bridge_id = mustCreate(b);
  auto r = store().remove(Kind::Chain, filter, {.cascade = true});
  ASSERT_EQ(r.status().code(), StatusCode::FailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("bridge " + bridge_id + " (inbound_filter_id)"));
  EXPECT_THAT(r.status().message(), HasSubstr("never cascade"));

  const std::string target = chain(), caller = chain();
  v1::StoredObject jump = ruleObject(caller, v1::Rule::JUMP);
  jump.mutable_rule()->set_jump_chain_id(target);
  const std::string jump_rule = mustCreate(jump);
  auto j = store().remove(Kind::Chain, target, {.cascade = true});
  ASSERT_EQ(j.status().code(), StatusCode::FailedPrecondition);
  EXPECT_THAT(j.status().message(), HasSubstr("rule " + jump_rule + " (jump_chain_id)"));

  // A port named in a rule's condition keeps its bridge from being deleted.
  const std::string br = bridge();
  const std::string port = bridgePort(br);
  v1::StoredObject cond = ruleObject(caller, v1::Rule::DROP);
  cond.mutable_rule()->mutable_condition()->add_out_port_ids(port);
  const std::string cond_rule = mustCreate(cond);
  auto c = store().remove(Kind::Bridge, br, {.cascade = true});
  ASSERT_EQ(c.status().code(), StatusCode::FailedPrecondition);
  EXPECT_THAT(c.status().message(), HasSubstr("port " + port + " is referenced by rule " +
                                              cond_rule + " (condition.out_port_ids[0])"));
  EXPECT_TRUE(exists(Kind::Port, port));
}

TEST_F(StoreDeleteTest, CascadeClearsHostBindingsAndTunnelZoneMemberships) {
  v1::StoredObject z;
  z.mutable_tunnel_zone()->set_name("z");
  const std::string zone = mustCreate(z);
  v1::StoredObject h;
  h.mutable_host()->add_tunnel_zone_ids(zone);
  const std::string host = mustCreate(h);
  z = mustGet(Kind::TunnelZone, zone);
  auto* m = z.mutable_tunnel_zone()->add_members();
  m->set_host_id(host);
  m->set_address("192.0.2.7");
  ASSERT_TRUE(store().update(z).ok());
  v1::StoredObject p = bridgePortObject(bridge());
  p.mutable_port()->set_host_id(host);
  p.mutable_port()->set_interface_name("tap1");
  const std::string port = mustCreate(p);

  EXPECT_EQ(store().remove(Kind::Host, host).status().code(), StatusCode::FailedPrecondition);
  auto d = store().remove(Kind::Host, host, {.cascade = true});
  ASSERT_TRUE(d.ok()) << d.status().toString();
  EXPECT_EQ(d->updated.size(), 2u);
  EXPECT_EQ(mustGet(Kind::Port, port).port().host_id(), "");
  EXPECT_EQ(mustGet(Kind::Port, port).port().interface_name(), "");
  EXPECT_EQ(mustGet(Kind::TunnelZone, zone).tunnel_zone().members_size(), 0);
}

TEST_F(StoreDeleteTest, LargeCascadeIsSplitIntoConsistentTransactions) {
  const std::string b = bridge(), r = router();
  std::vector<std::string> ports;
  for (int i = 0; i < 150; ++i) ports.push_back(bridgePort(b));
  routerPort(r, 1, ports[0]);
  auto d = store().remove(Kind::Bridge, b, {.cascade = true});
  ASSERT_TRUE(d.ok()) << d.status().toString();
  EXPECT_GE(d->transactions, 3);
  EXPECT_EQ(d->deleted.size(), 151u);
  EXPECT_EQ(d->deleted.back(), (ObjectRef{Kind::Bridge, b}));
  auto left = store().list(Kind::Port);
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->items.size(), 1u);  // The router port.
}

TEST_F(StoreDeleteTest, LargeChainIsSplitAndKeepsItsRuleList) {
  const std::string c = chain();
  for (int i = 0; i < 140; ++i) rule(c);
  auto d = store().remove(Kind::Chain, c, {.cascade = true});
  ASSERT_TRUE(d.ok()) << d.status().toString();
  EXPECT_GE(d->transactions, 3);
  EXPECT_EQ(d->deleted.size(), 141u);
}

}  // namespace
}  // namespace loom::store
