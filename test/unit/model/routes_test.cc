// Routes in the snapshot: explicit routes, implicit routes from router port addresses, tables.
#include <gtest/gtest.h>

#include "unit/model/model_test_util.h"

namespace loom::model {
namespace {

using testing::id;
using testing::ip;
using testing::prefix;
using testing::TopologyBuilder;
using testing::uuid;

const Route* findRoute(const Router& r, const IpPrefix& dst, NextHopType type) {
  for (const Route& route : r.routes) {
    if (route.dst == dst && route.next_hop == type) return &route;
  }
  return nullptr;
}

TEST(SnapshotRoutes, RouterPortAddressGivesConnectedAndLocalRoutes) {
  TopologyBuilder tb;
  tb.router(1);
  tb.routerPort(2, 1, "02:00:00:00:00:02", {"10.0.0.1/24"});
  SnapshotPtr s = tb.build();
  EXPECT_NO_PROBLEMS(s);
  const Router& r = s->router(0);
  ASSERT_EQ(r.routes.size(), 2u);

  const Route* connected = findRoute(r, prefix("10.0.0.0/24"), NextHopType::Port);
  ASSERT_NE(connected, nullptr);
  EXPECT_TRUE(connected->implicit);
  EXPECT_EQ(connected->next_hop_port.index, 0u);
  EXPECT_EQ(connected->next_hop_port.id, uuid(2));
  EXPECT_FALSE(connected->has_gateway);
  EXPECT_EQ(connected->weight, 0u);
  EXPECT_EQ(connected->src, prefix("0.0.0.0/0"));
  EXPECT_EQ(connected->router, 0u);
  EXPECT_EQ(connected->id, Uuid::derive(uuid(2), "connected:10.0.0.0/24"));

  const Route* local = findRoute(r, prefix("10.0.0.1/32"), NextHopType::Local);
  ASSERT_NE(local, nullptr);
  EXPECT_TRUE(local->implicit);
  EXPECT_EQ(local->next_hop_port.index, 0u);
  EXPECT_EQ(local->id, Uuid::derive(uuid(2), "local:10.0.0.1/32"));
}

TEST(SnapshotRoutes, HostAddressOnRouterPortGivesOnlyALocalRoute) {
  TopologyBuilder tb;
  tb.router(1);
  tb.routerPort(2, 1, "02:00:00:00:00:02", {"10.0.0.1/32"});
  SnapshotPtr s = tb.build();
  ASSERT_EQ(s->router(0).routes.size(), 1u);
  EXPECT_EQ(s->router(0).routes[0].next_hop, NextHopType::Local);
}

TEST(SnapshotRoutes, V6RouterPortAddressGivesV6Routes) {
  TopologyBuilder tb;
  tb.router(1);
  tb.routerPort(2, 1, "02:00:00:00:00:02", {"fd00:1::1/64"});
  SnapshotPtr s = tb.build();
  const Router& r = s->router(0);
  EXPECT_NE(findRoute(r, prefix("fd00:1::/64"), NextHopType::Port), nullptr);
  EXPECT_NE(findRoute(r, prefix("fd00:1::1/128"), NextHopType::Local), nullptr);
  EXPECT_EQ(findRoute(r, prefix("fd00:1::/64"), NextHopType::Port)->src, prefix("::/0"));
  EXPECT_EQ(r.routes_v6.size(), 2u);
  EXPECT_TRUE(r.routes_v4.empty());
}

TEST(SnapshotRoutes, RouterPortWithoutAddressesHasNoImplicitRoutes) {
  TopologyBuilder tb;
  tb.router(1);
  tb.routerPort(2, 1, "02:00:00:00:00:02");
  SnapshotPtr s = tb.build();
  EXPECT_NO_PROBLEMS(s);
  EXPECT_TRUE(s->router(0).routes.empty());
}

TEST(SnapshotRoutes, ExplicitRouteResolvesItsNextHopPort) {
  TopologyBuilder tb;
  tb.router(1);
  tb.routerPort(2, 1, "02:00:00:00:00:02");
  v1::Route& in = tb.route(3, 1, "0.0.0.0/0", 2, "192.0.2.1");
  in.set_weight(10);
  SnapshotPtr s = tb.build();
  EXPECT_NO_PROBLEMS(s);
  ASSERT_EQ(s->router(0).routes.size(), 1u);
  const Route& r = s->router(0).routes[0];
  EXPECT_EQ(r.id, uuid(3));
  EXPECT_FALSE(r.implicit);
  EXPECT_EQ(r.next_hop, NextHopType::Port);
  EXPECT_EQ(r.next_hop_port.index, 0u);
  EXPECT_TRUE(r.has_gateway);
  EXPECT_EQ(r.gateway, ip("192.0.2.1"));
  EXPECT_EQ(r.weight, 10u);
}

TEST(SnapshotRoutes, UnspecifiedNextHopWithAPortMeansPort) {
  TopologyBuilder tb;
  tb.router(1);
  tb.routerPort(2, 1, "02:00:00:00:00:02");
  tb.route(3, 1, "10.9.0.0/16", 2).set_next_hop(v1::Route::NEXT_HOP_UNSPECIFIED);
  SnapshotPtr s = tb.build();
  EXPECT_NO_PROBLEMS(s);
  EXPECT_EQ(s->router(0).routes[0].next_hop, NextHopType::Port);
}

TEST(SnapshotRoutes, ExplicitRouteDstIsNormalizedAndEmptySrcIsAnySource) {
  TopologyBuilder tb;
  tb.router(1);
  tb.route(3, 1, "10.1.2.3/16").set_next_hop(v1::Route::BLACKHOLE);
  SnapshotPtr s = tb.build();
  EXPECT_NO_PROBLEMS(s);
  const Route& r = s->router(0).routes[0];
  EXPECT_EQ(r.dst, prefix("10.1.0.0/16"));
  EXPECT_EQ(r.src, prefix("0.0.0.0/0"));
  EXPECT_EQ(r.next_hop, NextHopType::Blackhole);
  EXPECT_FALSE(r.next_hop_port.isSet());
}

TEST(SnapshotRoutes, RouteWithoutDstIsInvalid) {
  TopologyBuilder tb;
  tb.router(1);
  tb.route(3, 1, "").set_next_hop(v1::Route::REJECT);
  SnapshotPtr s = tb.build();
  EXPECT_TRUE(s->router(0).routes.empty());
  EXPECT_PROBLEM(s, InvalidField, Route, uuid(3), "dst_prefix");
}

TEST(SnapshotRoutes, PortRouteWithoutNextHopPortIsInvalid) {
  TopologyBuilder tb;
  tb.router(1);
  tb.route(3, 1, "10.0.0.0/8").set_next_hop(v1::Route::PORT);
  tb.route(4, 1, "10.0.0.0/8");  // NEXT_HOP_UNSPECIFIED and no port.
  SnapshotPtr s = tb.build();
  EXPECT_TRUE(s->router(0).routes.empty());
  EXPECT_PROBLEM(s, InvalidField, Route, uuid(3), "next_hop_port_id");
  EXPECT_PROBLEM(s, InvalidField, Route, uuid(4), "next_hop_port_id");
}

TEST(SnapshotRoutes, UnknownNextHopTypeIsInvalid) {
  TopologyBuilder tb;
  tb.router(1);
  tb.route(3, 1, "10.0.0.0/8").set_next_hop(static_cast<v1::Route::NextHop>(9));
  SnapshotPtr s = tb.build();
  EXPECT_PROBLEM(s, InvalidField, Route, uuid(3), "next_hop");
}

TEST(SnapshotRoutes, RouteWithoutRouterIdIsInvalid) {
  TopologyBuilder tb;
  tb.router(1);
  tb.route(3, 1, "10.0.0.0/8").clear_router_id();
  SnapshotPtr s = tb.build();
  EXPECT_PROBLEM(s, InvalidField, Route, uuid(3), "router_id");
}

TEST(SnapshotRoutes, RouteOfMissingRouterIsSkippedAsDangling) {
  TopologyBuilder tb;
  tb.router(1);
  tb.route(3, 2, "10.0.0.0/8").set_next_hop(v1::Route::BLACKHOLE);
  SnapshotPtr s = tb.build();
  EXPECT_TRUE(s->router(0).routes.empty());
  EXPECT_PROBLEM(s, DanglingReference, Route, uuid(3), "router_id");
}

TEST(SnapshotRoutes, NextHopPortOfAnotherRouterIsInconsistentAndLeftDangling) {
  TopologyBuilder tb;
  tb.router(1);
  tb.router(2);
  tb.routerPort(3, 2, "02:00:00:00:00:03");
  tb.route(4, 1, "10.0.0.0/8", 3);
  SnapshotPtr s = tb.build();
  ASSERT_EQ(s->router(0).routes.size(), 1u);
  EXPECT_TRUE(s->router(0).routes[0].next_hop_port.isDangling());
  EXPECT_EQ(s->router(0).routes[0].next_hop_port.id, uuid(3));
  EXPECT_PROBLEM(s, Inconsistent, Route, uuid(4), "next_hop_port_id");
}

TEST(SnapshotRoutes, DanglingNextHopPortKeepsTheRoute) {
  TopologyBuilder tb;
  tb.router(1);
  tb.route(4, 1, "10.0.0.0/8", 9);
  SnapshotPtr s = tb.build();
  ASSERT_EQ(s->router(0).routes.size(), 1u);
  EXPECT_TRUE(s->router(0).routes[0].next_hop_port.isDangling());
  EXPECT_PROBLEM(s, DanglingReference, Route, uuid(4), "next_hop_port_id");
}

TEST(SnapshotRoutes, SourceOfAnotherFamilyIsInvalid) {
  TopologyBuilder tb;
  tb.router(1);
  tb.route(4, 1, "10.0.0.0/8").set_next_hop(v1::Route::BLACKHOLE);
  tb.t.mutable_routes(0)->set_src_prefix("fd00::/8");
  SnapshotPtr s = tb.build();
  EXPECT_TRUE(s->router(0).routes.empty());
  EXPECT_PROBLEM(s, InvalidField, Route, uuid(4), "src_prefix");
}

TEST(SnapshotRoutes, GatewayOfAnotherFamilyIsInvalid) {
  TopologyBuilder tb;
  tb.router(1);
  tb.routerPort(2, 1, "02:00:00:00:00:02");
  tb.route(4, 1, "10.0.0.0/8", 2, "fd00::1");
  SnapshotPtr s = tb.build();
  EXPECT_TRUE(s->router(0).routes.empty());
  EXPECT_PROBLEM(s, InvalidField, Route, uuid(4), "next_hop_gateway");
}

TEST(SnapshotRoutes, DuplicateRouteIdKeepsTheFirst) {
  TopologyBuilder tb;
  tb.router(1);
  tb.route(4, 1, "10.0.0.0/8").set_next_hop(v1::Route::BLACKHOLE);
  tb.route(4, 1, "10.0.0.0/16").set_next_hop(v1::Route::BLACKHOLE);
  SnapshotPtr s = tb.build();
  ASSERT_EQ(s->router(0).routes.size(), 1u);
  EXPECT_EQ(s->router(0).routes[0].dst, prefix("10.0.0.0/8"));
  EXPECT_PROBLEM(s, DuplicateId, Route, uuid(4), "id");
}

TEST(SnapshotRoutes, TablesHoldRoutesByFamilyAndAnswerLookups) {
  TopologyBuilder tb;
  tb.router(1);
  tb.routerPort(2, 1, "02:00:00:00:00:02", {"10.0.0.1/24", "fd00::1/64"});
  tb.routerPort(3, 1, "02:00:00:00:00:03", {"192.0.2.2/30"});
  tb.route(4, 1, "0.0.0.0/0", 3, "192.0.2.1");
  SnapshotPtr s = tb.build();
  EXPECT_NO_PROBLEMS(s);
  const Router& r = s->router(0);
  EXPECT_EQ(r.routes.size(), 7u);
  EXPECT_EQ(r.routes_v4.size(), 5u);
  EXPECT_EQ(r.routes_v6.size(), 2u);
  std::vector<const Route*> out;
  ASSERT_TRUE(r.table(ip("10.0.0.7")).lookup(ip("10.0.0.7"), ip("192.0.2.9"), out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]->next_hop_port.index, 0u);
  ASSERT_TRUE(r.table(ip("8.8.8.8")).lookup(ip("8.8.8.8"), ip("10.0.0.7"), out));
  EXPECT_EQ(out[0]->id, uuid(4));
  ASSERT_TRUE(r.table(ip("10.0.0.1")).lookup(ip("10.0.0.1"), ip("10.0.0.7"), out));
  EXPECT_EQ(out[0]->next_hop, NextHopType::Local);
  ASSERT_TRUE(r.table(ip("fd00::5")).lookup(ip("fd00::5"), ip("fd00::7"), out));
  EXPECT_EQ(out[0]->next_hop, NextHopType::Port);
  EXPECT_FALSE(r.table(ip("fd01::5")).lookup(ip("fd01::5"), ip("fd00::7"), out));
}

}  // namespace
}  // namespace loom::model
