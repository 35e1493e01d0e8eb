#include "store/references.h"

#include <gtest/gtest.h>

namespace loom::store {
namespace {

std::string id(int n) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "00000000-0000-4000-8000-%012d", n);
  return buf;
}

struct Expected {
  std::string field;
  Kind target;
  std::string id;
  OnDelete on_delete;
};

void expectRefs(const v1::StoredObject& o, const std::vector<Expected>& want) {
  std::vector<Reference> got = referencesOf(o);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(want[i].field);
    EXPECT_EQ(got[i].field, want[i].field);
    EXPECT_EQ(got[i].target, want[i].target);
    EXPECT_EQ(got[i].id, want[i].id);
    EXPECT_EQ(got[i].on_delete, want[i].on_delete);
  }
}

TEST(ReferencesTest, Port) {
  v1::StoredObject o;
  v1::Port& p = *o.mutable_port();
  p.set_id(id(1));
  p.set_bridge_id(id(2));
  p.set_host_id(id(3));
  p.set_peer_id(id(4));
  p.set_inbound_filter_id(id(5));
  p.set_outbound_filter_id(id(6));
  p.add_port_group_ids(id(7));
  p.add_port_group_ids(id(8));
  expectRefs(o, {{"bridge_id", Kind::Bridge, id(2), OnDelete::CascadeDelete},
                 {"host_id", Kind::Host, id(3), OnDelete::CascadeClear},
                 {"peer_id", Kind::Port, id(4), OnDelete::AlwaysClear},
                 {"inbound_filter_id", Kind::Chain, id(5), OnDelete::Restrict},
                 {"outbound_filter_id", Kind::Chain, id(6), OnDelete::Restrict},
                 {"port_group_ids[0]", Kind::PortGroup, id(7), OnDelete::CascadeClear},
                 {"port_group_ids[1]", Kind::PortGroup, id(8), OnDelete::CascadeClear}});
  p.clear_bridge_id();
  p.set_router_id(id(9));
  EXPECT_EQ(referencesOf(o).front().field, "router_id");
  EXPECT_EQ(referencesOf(o).front().target, Kind::Router);
}

TEST(ReferencesTest, BridgeAndRouterFilters) {
  v1::StoredObject b;
  b.mutable_bridge()->set_inbound_filter_id(id(1));
  b.mutable_bridge()->set_outbound_filter_id(id(2));
  expectRefs(b, {{"inbound_filter_id", Kind::Chain, id(1), OnDelete::Restrict},
                 {"outbound_filter_id", Kind::Chain, id(2), OnDelete::Restrict}});
  v1::StoredObject r;
  r.mutable_router()->set_outbound_filter_id(id(3));
  expectRefs(r, {{"outbound_filter_id", Kind::Chain, id(3), OnDelete::Restrict}});
}

TEST(ReferencesTest, Route) {
  v1::StoredObject o;
  o.mutable_route()->set_router_id(id(1));
  o.mutable_route()->set_next_hop_port_id(id(2));
  expectRefs(o, {{"router_id", Kind::Router, id(1), OnDelete::CascadeDelete},
                 {"next_hop_port_id", Kind::Port, id(2), OnDelete::CascadeDelete}});
}

TEST(ReferencesTest, RuleWithConditions) {
  v1::StoredObject o;
  v1::Rule& r = *o.mutable_rule();
  r.set_chain_id(id(1));
  r.set_action(v1::Rule::JUMP);
  r.set_jump_chain_id(id(2));
  v1::Condition& c = *r.mutable_condition();
  c.add_in_port_ids(id(3));
  c.add_in_port_ids(id(4));
  c.add_out_port_ids(id(5));
  c.set_in_port_group_id(id(6));
  c.set_out_port_group_id(id(7));
  c.set_ip_addr_group_src_id(id(8));
  c.set_ip_addr_group_dst_id(id(9));
  expectRefs(o, {{"chain_id", Kind::Chain, id(1), OnDelete::CascadeDelete},
                 {"condition.in_port_ids[0]", Kind::Port, id(3), OnDelete::Restrict},
                 {"condition.in_port_ids[1]", Kind::Port, id(4), OnDelete::Restrict},
                 {"condition.out_port_ids[0]", Kind::Port, id(5), OnDelete::Restrict},
                 {"condition.in_port_group_id", Kind::PortGroup, id(6), OnDelete::Restrict},
                 {"condition.out_port_group_id", Kind::PortGroup, id(7), OnDelete::Restrict},
                 {"condition.ip_addr_group_src_id", Kind::IpAddrGroup, id(8), OnDelete::Restrict},
                 {"condition.ip_addr_group_dst_id", Kind::IpAddrGroup, id(9), OnDelete::Restrict},
                 {"jump_chain_id", Kind::Chain, id(2), OnDelete::Restrict}});
}

TEST(ReferencesTest, HostAndTunnelZone) {
  v1::StoredObject h;
  h.mutable_host()->add_tunnel_zone_ids(id(1));
  expectRefs(h, {{"tunnel_zone_ids[0]", Kind::TunnelZone, id(1), OnDelete::CascadeClear}});
  v1::StoredObject z;
  z.mutable_tunnel_zone()->add_members()->set_host_id(id(2));
  z.mutable_tunnel_zone()->add_members()->set_host_id(id(3));
  expectRefs(z, {{"members[0].host_id", Kind::Host, id(2), OnDelete::CascadeClear},
                 {"members[1].host_id", Kind::Host, id(3), OnDelete::CascadeClear}});
}

TEST(ReferencesTest, ChainRuleIdsAndGroupsAreNotReferences) {
  v1::StoredObject c;
  c.mutable_chain()->add_rule_ids(id(1));
  EXPECT_TRUE(referencesOf(c).empty());
  v1::StoredObject g;
  g.mutable_port_group()->set_id(id(2));
  EXPECT_TRUE(referencesOf(g).empty());
  v1::StoredObject a;
  a.mutable_ip_addr_group()->add_addresses("10.0.0.0/8");
  EXPECT_TRUE(referencesOf(a).empty());
}

TEST(ReferencesTest, TargetsJoinFieldsOfOneTarget) {
  v1::StoredObject o;
  v1::Rule& r = *o.mutable_rule();
  r.set_chain_id(id(1));
  r.mutable_condition()->add_in_port_ids(id(2));
  r.mutable_condition()->add_out_port_ids(id(2));
  std::vector<RefTarget> t = refTargets(o);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].fields, "chain_id");
  EXPECT_EQ(t[1].kind, Kind::Port);
  EXPECT_EQ(t[1].fields, "condition.in_port_ids[0],condition.out_port_ids[0]");
}

TEST(ReferencesTest, CanonicalizeLowersCaseAndClearsNilOptionals) {
  v1::StoredObject o;
  v1::Port& p = *o.mutable_port();
  p.set_bridge_id("ABCDEF00-0000-4000-8000-00000000000A");
  p.set_peer_id("00000000-0000-0000-0000-000000000000");
  p.add_port_group_ids("00000000-0000-0000-0000-000000000000");
  p.set_inbound_filter_id("not-a-uuid");
  canonicalizeReferences(o);
  EXPECT_EQ(p.bridge_id(), "abcdef00-0000-4000-8000-00000000000a");
  EXPECT_EQ(p.peer_id(), "");
  EXPECT_EQ(p.port_group_ids(0), "00000000-0000-0000-0000-000000000000");  // Required: kept.
  EXPECT_EQ(p.inbound_filter_id(), "not-a-uuid");  // Left for validation to report.
}

TEST(ReferencesTest, ClearRemovesOnlyClearableReferences) {
  v1::StoredObject o;
  v1::Port& p = *o.mutable_port();
  p.set_bridge_id(id(1));
  p.set_host_id(id(2));
  p.set_interface_name("tap0");
  p.add_port_group_ids(id(3));
  p.add_port_group_ids(id(4));
  p.add_port_group_ids(id(3));
  EXPECT_TRUE(clearReferencesTo(o, Kind::Host, id(2)));
  EXPECT_EQ(p.host_id(), "");
  EXPECT_EQ(p.interface_name(), "");
  EXPECT_TRUE(clearReferencesTo(o, Kind::PortGroup, id(3)));
  ASSERT_EQ(p.port_group_ids_size(), 1);
  EXPECT_EQ(p.port_group_ids(0), id(4));
  EXPECT_FALSE(clearReferencesTo(o, Kind::Bridge, id(1)));
  EXPECT_EQ(p.bridge_id(), id(1));

  v1::StoredObject z;
  z.mutable_tunnel_zone()->add_members()->set_host_id(id(5));
  z.mutable_tunnel_zone()->add_members()->set_host_id(id(6));
  EXPECT_TRUE(clearReferencesTo(z, Kind::Host, id(5)));
  ASSERT_EQ(z.tunnel_zone().members_size(), 1);
  EXPECT_EQ(z.tunnel_zone().members(0).host_id(), id(6));

  v1::StoredObject h;
  h.mutable_host()->add_tunnel_zone_ids(id(7));
  EXPECT_TRUE(clearReferencesTo(h, Kind::TunnelZone, id(7)));
  EXPECT_EQ(h.host().tunnel_zone_ids_size(), 0);
}

}  // namespace
}  // namespace loom::store
