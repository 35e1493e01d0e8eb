// ObjectStore against a real etcd: create, get, update, list, and the integrity checks of
// single-object writes. Every test ends with the whole-root integrity check (store_test_util.h).
#include <gmock/gmock.h>

#include "base/uuid.h"
#include "integration/store/store_test_util.h"

namespace loom::store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testutil::StoreTest;

class StoreCrudTest : public StoreTest {};

TEST_F(StoreCrudTest, EveryKindRoundTripsThroughCreateGetUpdateListDelete) {
  const std::string zone = [&] {
    v1::StoredObject o;
    o.mutable_tunnel_zone()->set_name("z");
    return mustCreate(o);
  }();
  v1::StoredObject host;
  host.mutable_host()->set_name("h1");
  host.mutable_host()->add_tunnel_zone_ids(zone);
  const std::string host_id = mustCreate(host);
  v1::StoredObject zone_obj = mustGet(Kind::TunnelZone, zone);
  auto* m = zone_obj.mutable_tunnel_zone()->add_members();
  m->set_host_id(host_id);
  m->set_address("192.0.2.1");
  ASSERT_TRUE(store().update(zone_obj).ok());

  const std::string filter = chain();
  v1::StoredObject b;
  b.mutable_bridge()->set_inbound_filter_id(filter);
  const std::string bridge_id = mustCreate(b);
  const std::string router_id = router();
  v1::StoredObject pg;
  pg.mutable_port_group()->set_name("pg");
  const std::string group = mustCreate(pg);
  v1::StoredObject ipg;
  ipg.mutable_ip_addr_group()->add_addresses("10.0.0.0/8");
  const std::string ip_group = mustCreate(ipg);

  v1::StoredObject port = bridgePortObject(bridge_id);
  port.mutable_port()->set_host_id(host_id);
  port.mutable_port()->set_interface_name("tap0");
  port.mutable_port()->add_port_group_ids(group);
  const std::string port_id = mustCreate(port);
  const std::string rport = routerPort(router_id, 1);
  const std::string route_id = route(router_id, rport);
  v1::StoredObject r = ruleObject(filter, v1::Rule::DROP);
  r.mutable_rule()->mutable_condition()->add_in_port_ids(port_id);
  r.mutable_rule()->mutable_condition()->set_ip_addr_group_src_id(ip_group);
  r.mutable_rule()->mutable_condition()->set_in_port_group_id(group);
  const std::string rule_id = mustCreate(r);

  const std::pair<Kind, std::string> all[] = {
      {Kind::TunnelZone, zone},      {Kind::Host, host_id},     {Kind::Chain, filter},
      {Kind::Bridge, bridge_id},     {Kind::Router, router_id}, {Kind::PortGroup, group},
      {Kind::IpAddrGroup, ip_group}, {Kind::Port, port_id},     {Kind::Port, rport},
      {Kind::Route, route_id},       {Kind::Rule, rule_id},
  };
  for (const auto& [kind, id] : all) {
    SCOPED_TRACE(objectName(kind, id));
    auto rec = store().get(kind, id);
    ASSERT_TRUE(rec.ok()) << rec.status().toString();
    EXPECT_EQ(objectId(rec->object), id);
    EXPECT_EQ(rec->object.format(), kStoredFormat);
    EXPECT_GT(rec->mod_revision, 0);
    auto listed = store().list(kind);
    ASSERT_TRUE(listed.ok());
    EXPECT_FALSE(listed->items.empty());
  }
  EXPECT_THAT(ruleIds(filter), ElementsAre(rule_id));

  // Update a plain field.
  v1::StoredObject renamed = mustGet(Kind::Bridge, bridge_id);
  renamed.mutable_bridge()->set_name("renamed");
  auto up = store().update(renamed);
  ASSERT_TRUE(up.ok()) << up.status().toString();
  EXPECT_EQ(mustGet(Kind::Bridge, bridge_id).bridge().name(), "renamed");
  EXPECT_EQ(up->record.mod_revision, up->revision);

  // Referrers come from the ref index.
  auto referrers = store().referrers(Kind::PortGroup, group);
  ASSERT_TRUE(referrers.ok());
  ASSERT_EQ(referrers->size(), 2u);

  // Delete everything, dependents first.
  for (auto it = std::rbegin(all); it != std::rend(all); ++it) {
    auto d = store().remove(it->first, it->second, {.cascade = true});
    if (!d.ok() && d.status().code() == StatusCode::NotFound) continue;  // Cascaded already.
    ASSERT_TRUE(d.ok()) << d.status().toString();
  }
  for (const auto& [kind, id] : all) EXPECT_FALSE(exists(kind, id));
}

TEST_F(StoreCrudTest, GivenIdsAreCanonicalAndUnique) {
  v1::StoredObject o;
  o.mutable_bridge()->set_id("ABCDEF00-0000-4000-8000-00000000000A");
  EXPECT_EQ(mustCreate(o), "abcdef00-0000-4000-8000-00000000000a");
  auto again = store().create(o);
  EXPECT_EQ(again.status().code(), StatusCode::AlreadyExists);
  o.mutable_bridge()->set_id("bridge-1");
  auto bad = store().create(o);
  EXPECT_EQ(bad.status().code(), StatusCode::InvalidArgument);
  EXPECT_EQ(bad.status().field(), "id");
  EXPECT_TRUE(exists(Kind::Bridge, "ABCDEF00-0000-4000-8000-00000000000A"));
}

TEST_F(StoreCrudTest, DanglingReferenceIsRefusedWithItsField) {
  auto r = store().create(bridgePortObject(Uuid::random().toString()));
  EXPECT_EQ(r.status().code(), StatusCode::InvalidArgument);
  EXPECT_EQ(r.status().field(), "bridge_id");

  const std::string c = chain();
  const std::string b = bridge();
  const std::string p = bridgePort(b);
  v1::StoredObject rule = ruleObject(c);
  rule.mutable_rule()->mutable_condition()->add_in_port_ids(p);
  rule.mutable_rule()->mutable_condition()->add_in_port_ids(Uuid::random().toString());
  auto rr = store().create(rule);
  EXPECT_EQ(rr.status().code(), StatusCode::InvalidArgument);
  EXPECT_EQ(rr.status().field(), "condition.in_port_ids[1]");
  EXPECT_THAT(rr.status().message(), HasSubstr("does not exist"));
  EXPECT_TRUE(ruleIds(c).empty());
}

TEST_F(StoreCrudTest, InvalidFieldsAreRefusedWithTheirField) {
  const std::string b = bridge();
  v1::StoredObject p = bridgePortObject(b);
  p.mutable_port()->set_mac("zz:00:00:00:00:01");
  auto r = store().create(p);
  EXPECT_EQ(r.status().code(), StatusCode::InvalidArgument);
  EXPECT_EQ(r.status().field(), "mac");
  v1::StoredObject rule = ruleObject(chain(), v1::Rule::ACCEPT);
  rule.mutable_rule()->set_jump_chain_id(chain());
  EXPECT_EQ(store().create(rule).status().field(), "jump_chain_id");
  v1::StoredObject chain_with_rules;
  chain_with_rules.mutable_chain()->add_rule_ids(Uuid::random().toString());
  EXPECT_EQ(store().create(chain_with_rules).status().field(), "rule_ids");
}

TEST_F(StoreCrudTest, RouteNextHopMustBeAPortOfItsRouter) {
  const std::string r1 = router(), r2 = router();
  const std::string p2 = routerPort(r2, 2);
  auto r = store().create(routeObject(r1, p2));
  EXPECT_EQ(r.status().code(), StatusCode::InvalidArgument);
  EXPECT_EQ(r.status().field(), "next_hop_port_id");
  const std::string p1 = routerPort(r1, 1);
  const std::string route_id = route(r1, p1);
  v1::StoredObject moved = mustGet(Kind::Route, route_id);
  moved.mutable_route()->set_next_hop_port_id(p2);
  EXPECT_EQ(store().update(moved).status().field(), "next_hop_port_id");
}

TEST_F(StoreCrudTest, PeerLinksStaySymmetricOnCreateAndUpdate) {
  const std::string b = bridge(), r = router();
  const std::string a = bridgePort(b);
  const std::string c = bridgePort(b);
  const std::string rp = routerPort(r, 1, a);
  EXPECT_EQ(mustGet(Kind::Port, a).port().peer_id(), rp);

  // Move the link from a to c: a is unlinked, c linked, in one write.
  v1::StoredObject relink = mustGet(Kind::Port, rp);
  relink.mutable_port()->set_peer_id(c);
  ASSERT_TRUE(store().update(relink).ok());
  EXPECT_EQ(mustGet(Kind::Port, a).port().peer_id(), "");
  EXPECT_EQ(mustGet(Kind::Port, c).port().peer_id(), rp);

  // Clearing one side clears the other.
  v1::StoredObject unlink = mustGet(Kind::Port, c);
  unlink.mutable_port()->clear_peer_id();
  ASSERT_TRUE(store().update(unlink).ok());
  EXPECT_EQ(mustGet(Kind::Port, rp).port().peer_id(), "");

  // A link joins two devices, and a linked port cannot be taken.
  v1::StoredObject same = bridgePortObject(b);
  same.mutable_port()->set_peer_id(a);
  EXPECT_EQ(store().create(same).status().field(), "peer_id");
  relink = mustGet(Kind::Port, rp);
  relink.mutable_port()->set_peer_id(a);
  ASSERT_TRUE(store().update(relink).ok());
  v1::StoredObject thief;
  thief.mutable_port()->set_router_id(router());
  thief.mutable_port()->set_mac(testutil::mac(9));
  thief.mutable_port()->set_peer_id(a);
  auto t = store().create(thief);
  EXPECT_EQ(t.status().field(), "peer_id");
  EXPECT_THAT(t.status().message(), HasSubstr("already linked"));
}

TEST_F(StoreCrudTest, RulesAreAppendedOrInsertedAtTheirPosition) {
  const std::string c = chain();
  const std::string r1 = rule(c);
  const std::string r2 = rule(c);
  const std::string r3 = rule(c, 0);
  const std::string r4 = rule(c, 2);
  EXPECT_THAT(ruleIds(c), ElementsAre(r3, r1, r4, r2));
  CreateOptions past;
  past.position = 9;
  EXPECT_EQ(store().create(ruleObject(c), past).status().field(), "position");

  ListOptions options;
  options.parent_id = c;
  options.limit = 3;
  auto page1 = store().list(Kind::Rule, options);
  ASSERT_TRUE(page1.ok());
  ASSERT_EQ(page1->items.size(), 3u);
  EXPECT_EQ(page1->items[0].object.rule().id(), r3);
  EXPECT_EQ(page1->next_page_token, r4);
  options.page_token = page1->next_page_token;
  options.revision = page1->revision;
  auto page2 = store().list(Kind::Rule, options);
  ASSERT_TRUE(page2.ok());
  ASSERT_EQ(page2->items.size(), 1u);
  EXPECT_EQ(page2->items[0].object.rule().id(), r2);
  EXPECT_EQ(page2->next_page_token, "");
}

TEST_F(StoreCrudTest, ChainUpdateMayOnlyReorderRules) {
  const std::string c = chain();
  const std::string r1 = rule(c), r2 = rule(c), r3 = rule(c);
  v1::StoredObject o = mustGet(Kind::Chain, c);
  o.mutable_chain()->clear_rule_ids();
  for (const auto& r : {r3, r1, r2}) o.mutable_chain()->add_rule_ids(r);
  ASSERT_TRUE(store().update(o).ok());
  EXPECT_THAT(ruleIds(c), ElementsAre(r3, r1, r2));

  o.mutable_chain()->clear_rule_ids();
  o.mutable_chain()->set_name("kept");
  ASSERT_TRUE(store().update(o).ok());  // Empty: keep the order.
  EXPECT_THAT(ruleIds(c), ElementsAre(r3, r1, r2));

  o.mutable_chain()->add_rule_ids(r1);
  o.mutable_chain()->add_rule_ids(r2);
  auto bad = store().update(o);
  EXPECT_EQ(bad.status().code(), StatusCode::InvalidArgument);
  EXPECT_EQ(bad.status().field(), "rule_ids");
}

TEST_F(StoreCrudTest, FieldsThatPlaceAnObjectAreImmutable) {
  const std::string b1 = bridge(), b2 = bridge();
  v1::StoredObject p = mustGet(Kind::Port, bridgePort(b1));
  p.mutable_port()->set_bridge_id(b2);
  EXPECT_EQ(store().update(p).status().field(), "bridge_id");

  const std::string r1 = router(), r2 = router();
  const std::string rp = routerPort(r1, 1);
  v1::StoredObject route_obj = mustGet(Kind::Route, route(r1, rp));
  route_obj.mutable_route()->set_router_id(r2);
  EXPECT_EQ(store().update(route_obj).status().field(), "router_id");

  const std::string c1 = chain(), c2 = chain();
  v1::StoredObject rule_obj = mustGet(Kind::Rule, rule(c1));
  rule_obj.mutable_rule()->set_chain_id(c2);
  EXPECT_EQ(store().update(rule_obj).status().field(), "chain_id");

  v1::StoredObject ghost;
  ghost.mutable_bridge()->set_id(Uuid::random().toString());
  EXPECT_EQ(store().update(ghost).status().code(), StatusCode::NotFound);
}

TEST_F(StoreCrudTest, StaleExpectedModRevisionIsAborted) {
  const std::string b = bridge();
  auto rec = store().get(Kind::Bridge, b);
  ASSERT_TRUE(rec.ok());
  v1::StoredObject o = rec->object;
  o.mutable_bridge()->set_name("one");
  auto first = store().update(o, {.expected_mod_revision = rec->mod_revision});
  ASSERT_TRUE(first.ok()) << first.status().toString();
  o.mutable_bridge()->set_name("two");
  auto second = store().update(o, {.expected_mod_revision = rec->mod_revision});
  EXPECT_EQ(second.status().code(), StatusCode::Aborted);
  auto del = store().remove(Kind::Bridge, b, {.expected_mod_revision = rec->mod_revision});
  EXPECT_EQ(del.status().code(), StatusCode::Aborted);
  EXPECT_EQ(mustGet(Kind::Bridge, b).bridge().name(), "one");
  EXPECT_TRUE(
      store().remove(Kind::Bridge, b, {.expected_mod_revision = first->record.mod_revision}).ok());
}

TEST_F(StoreCrudTest, ListPagesAndFilters) {
  const std::string tenant = Uuid::random().toString();
  std::set<std::string> mine;
  for (int i = 0; i < 5; ++i) {
    v1::StoredObject o;
    o.mutable_bridge()->set_name("b" + std::to_string(i));
    if (i % 2 == 0) o.mutable_bridge()->set_tenant_id(tenant);
    const std::string id = mustCreate(o);
    if (i % 2 == 0) mine.insert(id);
  }
  std::vector<std::string> seen;
  ListOptions options;
  options.limit = 2;
  for (int page = 0; page < 5; ++page) {
    auto r = store().list(Kind::Bridge, options);
    ASSERT_TRUE(r.ok()) << r.status().toString();
    EXPECT_LE(r->items.size(), 2u);
    for (const Record& rec : r->items) seen.push_back(rec.object.bridge().id());
    if (r->next_page_token.empty()) break;
    options.page_token = r->next_page_token;
    options.revision = r->revision;
  }
  EXPECT_EQ(seen.size(), 5u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));

  ListOptions by_tenant;
  by_tenant.tenant_id = tenant;
  auto filtered = store().list(Kind::Bridge, by_tenant);
  ASSERT_TRUE(filtered.ok());
  std::set<std::string> got;
  for (const Record& rec : filtered->items) got.insert(rec.object.bridge().id());
  EXPECT_EQ(got, mine);

  const std::string b = *mine.begin();
  const std::string other = bridge();
  std::set<std::string> ports{bridgePort(b), bridgePort(b)};
  bridgePort(other);
  ListOptions of_bridge;
  of_bridge.parent_id = b;
  auto children = store().list(Kind::Port, of_bridge);
  ASSERT_TRUE(children.ok());
  std::set<std::string> child_ids;
  for (const Record& rec : children->items) child_ids.insert(rec.object.port().id());
  EXPECT_EQ(child_ids, ports);
}

TEST_F(StoreCrudTest, UpdateMovesReferenceKeys) {
  v1::StoredObject g1, g2;
  g1.mutable_port_group()->set_name("g1");
  g2.mutable_port_group()->set_name("g2");
  const std::string a = mustCreate(g1), c = mustCreate(g2);
  v1::StoredObject p = bridgePortObject(bridge());
  p.mutable_port()->add_port_group_ids(a);
  const std::string port = mustCreate(p);
  p = mustGet(Kind::Port, port);
  p.mutable_port()->clear_port_group_ids();
  p.mutable_port()->add_port_group_ids(c);
  p.mutable_port()->add_port_group_ids(a);
  ASSERT_TRUE(store().update(p).ok());
  auto refs = store().referrers(Kind::PortGroup, a);
  ASSERT_TRUE(refs.ok());
  ASSERT_EQ(refs->size(), 1u);
  EXPECT_THAT((*refs)[0].fields, ElementsAre("port_group_ids[1]"));
}

TEST_F(StoreCrudTest, ObjectWithMoreThan128ReferencesIsResourceExhausted) {
  const std::string b = bridge();
  v1::StoredObject r = ruleObject(chain(), v1::Rule::DROP);
  for (int i = 0; i < 130; ++i) {
    r.mutable_rule()->mutable_condition()->add_in_port_ids(bridgePort(b));
  }
  auto created = store().create(r);
  EXPECT_EQ(created.status().code(), StatusCode::ResourceExhausted) << created.status().toString();
}

}  // namespace
}  // namespace loom::store
