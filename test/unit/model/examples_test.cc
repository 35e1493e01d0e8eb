// The shipped example topologies load without problems and contain what they promise.
#include <gtest/gtest.h>

#include "unit/model/model_test_util.h"

namespace loom::model {
namespace {

using testing::ip;
using testing::mac;

SnapshotPtr loadExample(const std::string& name) {
  std::string path = std::string(LOOM_SOURCE_DIR) + "/examples/topologies/" + name;
  auto t = loadTopologyFile(path);
  EXPECT_TRUE(t.ok()) << t.status().toString();
  return buildSnapshot(t.ok() ? *t : v1::Topology(), 1);
}

const Port& portNamed(const TopologySnapshot& s, std::string_view name) {
  Index i = s.findPortByName(name);
  EXPECT_NE(i, kNoIndex) << name;
  return s.port(i == kNoIndex ? 0 : i);
}

TEST(ExampleTopologies, OneTenantBuildsWithoutProblems) {
  SnapshotPtr s = loadExample("one-tenant.json");
  EXPECT_NO_PROBLEMS(s);
  EXPECT_EQ(s->bridges().size(), 2u);
  EXPECT_EQ(s->routers().size(), 1u);
  EXPECT_EQ(s->ports().size(), 9u);
  EXPECT_EQ(s->hosts().size(), 2u);
  EXPECT_EQ(s->tunnelZones().size(), 1u);
}

TEST(ExampleTopologies, OneTenantLinksRouterToBothBridges) {
  SnapshotPtr s = loadExample("one-tenant.json");
  const Port& r1a = portNamed(*s, "r1-a");
  ASSERT_TRUE(r1a.peer.isResolved());
  EXPECT_EQ(s->port(r1a.peer.index).name, "net-a-r1");
  EXPECT_FALSE(r1a.link_broken);
  const Port& r1b = portNamed(*s, "r1-b");
  EXPECT_EQ(s->port(r1b.peer.index).name, "net-b-r1");
  EXPECT_TRUE(portNamed(*s, "vm-a1").isExterior());
  EXPECT_TRUE(portNamed(*s, "r1-up").isExterior());
}

TEST(ExampleTopologies, OneTenantRoutesReachVmsAndTheUplink) {
  SnapshotPtr s = loadExample("one-tenant.json");
  const Router& r1 = s->router(0);
  std::vector<const Route*> out;
  ASSERT_TRUE(r1.routes_v4.lookup(ip("10.0.1.11"), ip("10.0.0.11"), out));
  EXPECT_EQ(s->port(out[0]->next_hop_port.index).name, "r1-b");
  ASSERT_TRUE(r1.routes_v4.lookup(ip("8.8.8.8"), ip("10.0.0.11"), out));
  EXPECT_EQ(s->port(out[0]->next_hop_port.index).name, "r1-up");
  EXPECT_EQ(out[0]->gateway, ip("192.0.2.1"));
  ASSERT_TRUE(r1.routes_v4.lookup(ip("10.0.0.1"), ip("10.0.0.11"), out));
  EXPECT_EQ(out[0]->next_hop, NextHopType::Local);
}

TEST(ExampleTopologies, OneTenantBridgesKnowTheirWorkloadsAndGateway) {
  SnapshotPtr s = loadExample("one-tenant.json");
  const Bridge& net_a = s->bridge(s->findBridge(portNamed(*s, "vm-a1").device.id));
  EXPECT_EQ(net_a.name, "net-a");
  EXPECT_EQ(net_a.static_ip_macs.at(ip("10.0.0.11")), mac("02:00:00:00:0a:0b"));
  EXPECT_EQ(net_a.static_ip_macs.at(ip("10.0.0.1")), mac("02:00:00:00:01:01"));
  EXPECT_EQ(s->port(net_a.static_macs.at(mac("02:00:00:00:01:01").toU64())).name, "net-a-r1");
}

TEST(ExampleTopologies, OneTenantGuardsVmB1WithASecurityGroupChain) {
  SnapshotPtr s = loadExample("one-tenant.json");
  const Port& vm_b1 = portNamed(*s, "vm-b1");
  ASSERT_TRUE(vm_b1.outbound_filter.isResolved());
  const Chain& c = s->chain(vm_b1.outbound_filter.index);
  ASSERT_EQ(c.rules.size(), 5u);
  EXPECT_EQ(c.rules[0].condition.conntrack, ConntrackMatch::ReturnFlow);
  EXPECT_EQ(c.rules[1].condition.tp_dst_lo, 22);
  EXPECT_EQ(c.rules[2].condition.tp_dst_lo, 80);
  EXPECT_EQ(c.rules[3].condition.nw_proto, 1);
  EXPECT_EQ(c.rules[4].action, RuleAction::Drop);
  ASSERT_EQ(vm_b1.port_groups.size(), 1u);
  EXPECT_EQ(s->portGroup(vm_b1.port_groups[0]).name, "web");
  EXPECT_EQ(s->portGroup(vm_b1.port_groups[0]).ports.size(), 2u);
}

TEST(ExampleTopologies, TwoTenantsBuildWithoutProblems) {
  SnapshotPtr s = loadExample("two-tenants.json");
  EXPECT_NO_PROBLEMS(s);
  EXPECT_EQ(s->bridges().size(), 2u);
  EXPECT_EQ(s->routers().size(), 2u);
}

TEST(ExampleTopologies, TwoTenantsReuseAddressesWithDifferentMacs) {
  SnapshotPtr s = loadExample("two-tenants.json");
  const Bridge& t1 = s->bridge(0);
  const Bridge& t2 = s->bridge(1);
  EXPECT_NE(t1.tenant_id, t2.tenant_id);
  ASSERT_EQ(t1.static_ip_macs.count(ip("10.0.0.11")), 1u);
  ASSERT_EQ(t2.static_ip_macs.count(ip("10.0.0.11")), 1u);
  EXPECT_NE(t1.static_ip_macs.at(ip("10.0.0.11")), t2.static_ip_macs.at(ip("10.0.0.11")));
  // Each router reaches 10.0.0.0/24 only through its own tenant's bridge.
  for (Index r = 0; r < 2; ++r) {
    std::vector<const Route*> out;
    ASSERT_TRUE(s->router(r).routes_v4.lookup(ip("10.0.0.12"), ip("8.8.8.8"), out));
    const Port& via = s->port(out[0]->next_hop_port.index);
    EXPECT_EQ(via.device.index, r);
    EXPECT_EQ(s->port(via.peer.index).device.index, r);  // Bridge r belongs to tenant r.
  }
}

}  // namespace
}  // namespace loom::model
