// Snapshot building: field parsing, skipping, references, links, groups, static tables, hosts.
#include <gtest/gtest.h>

#include "unit/model/model_test_util.h"

namespace loom::model {
namespace {

using testing::id;
using testing::ip;
using testing::mac;
using testing::prefix;
using testing::TopologyBuilder;
using testing::uuid;

TEST(SnapshotBuilder, EmptyTopologyGivesEmptySnapshotAtVersion) {
  SnapshotPtr s = buildSnapshot(v1::Topology(), 42);
  EXPECT_EQ(s->version(), 42u);
  EXPECT_TRUE(s->ports().empty());
  EXPECT_TRUE(s->bridges().empty());
  EXPECT_NO_PROBLEMS(s);
}

TEST(SnapshotBuilder, AbsentOptionalFieldsTakeTheirDefaults) {
  TopologyBuilder tb;
  tb.bridge(1);
  tb.router(2);
  tb.routerPort(3, 2, "02:00:00:00:00:03");
  SnapshotPtr s = tb.build();
  EXPECT_NO_PROBLEMS(s);
  EXPECT_TRUE(s->bridge(0).admin_up);
  EXPECT_TRUE(s->bridge(0).arp_suppression);
  EXPECT_TRUE(s->router(0).admin_up);
  EXPECT_TRUE(s->port(0).admin_up);
  EXPECT_EQ(s->port(0).mtu, 1500u);
}

TEST(SnapshotBuilder, ExplicitValuesOverrideDefaults) {
  TopologyBuilder tb;
  v1::Bridge& b = tb.bridge(1);
  b.set_admin_state_up(false);
  b.set_arp_suppression(false);
  v1::Port& p = tb.bridgePort(2, 1);
  p.set_admin_state_up(false);
  p.set_mtu(9000);
  SnapshotPtr s = tb.build();
  EXPECT_FALSE(s->bridge(0).admin_up);
  EXPECT_FALSE(s->bridge(0).arp_suppression);
  EXPECT_FALSE(s->port(0).admin_up);
  EXPECT_EQ(s->port(0).mtu, 9000u);
}

TEST(SnapshotBuilder, UnparsableOwnIdSkipsObjectWithNilObjectId) {
  TopologyBuilder tb;
  tb.bridge(1).set_id("not-a-uuid");
  SnapshotPtr s = tb.build();
  EXPECT_TRUE(s->bridges().empty());
  EXPECT_PROBLEM(s, InvalidField, Bridge, Uuid(), "id");
}

TEST(SnapshotBuilder, MissingOwnIdIsInvalidField) {
  TopologyBuilder tb;
  tb.router(1).clear_id();
  SnapshotPtr s = tb.build();
  EXPECT_TRUE(s->routers().empty());
  EXPECT_PROBLEM(s, InvalidField, Router, Uuid(), "id");
}

TEST(SnapshotBuilder, NilUuidIsNotAValidId) {
  TopologyBuilder tb;
  tb.bridge(1).set_id("00000000-0000-0000-0000-000000000000");
  SnapshotPtr s = tb.build();
  EXPECT_TRUE(s->bridges().empty());
  EXPECT_PROBLEM(s, InvalidField, Bridge, Uuid(), "id");
}

TEST(SnapshotBuilder, UnparsableReferenceFieldSkipsObject) {
  TopologyBuilder tb;
  tb.bridge(1).set_tenant_id("tenant-one");
  SnapshotPtr s = tb.build();
  EXPECT_TRUE(s->bridges().empty());
  EXPECT_PROBLEM(s, InvalidField, Bridge, uuid(1), "tenant_id");
}

TEST(SnapshotBuilder, InvalidMacSkipsPortAndNamesField) {
  TopologyBuilder tb;
  tb.bridge(1);
  tb.bridgePort(2, 1).set_mac("zz:00:00:00:00:01");
  SnapshotPtr s = tb.build();
  EXPECT_TRUE(s->ports().empty());
  EXPECT_TRUE(s->bridge(0).ports.empty());
  EXPECT_PROBLEM(s, InvalidField, Port, uuid(2), "mac");
}

TEST(SnapshotBuilder, InvalidAddressNamesItsIndex) {
  TopologyBuilder tb;
  tb.router(1);
  tb.routerPort(2, 1, "02:00:00:00:00:02", {"10.0.0.1/24", "10.0.1.1/33"});
  SnapshotPtr s = tb.build();
  EXPECT_TRUE(s->ports().empty());
  EXPECT_PROBLEM(s, InvalidField, Port, uuid(2), "addresses[1]");
}

TEST(SnapshotBuilder, EveryInvalidFieldOfAnObjectIsReported) {
  TopologyBuilder tb;
  tb.bridge(1);
  v1::Port& p = tb.bridgePort(2, 1);
  p.set_mac("bad");
  p.add_addresses("bad");
  SnapshotPtr s = tb.build();
  EXPECT_PROBLEM(s, InvalidField, Port, uuid(2), "mac");
  EXPECT_PROBLEM(s, InvalidField, Port, uuid(2), "addresses[0]");
}

TEST(SnapshotBuilder, PortWithoutDeviceIsInvalid) {
  TopologyBuilder tb;
  tb.t.add_ports()->set_id(id(1));
  SnapshotPtr s = tb.build();
  EXPECT_TRUE(s->ports().empty());
  EXPECT_PROBLEM(s, InvalidField, Port, uuid(1), "bridge_id");
}

TEST(SnapshotBuilder, PortOnBothBridgeAndRouterIsInvalid) {
  TopologyBuilder tb;
  tb.bridge(1);
  tb.router(2);
  tb.routerPort(3, 2, "02:00:00:00:00:03").set_bridge_id(id(1));
  SnapshotPtr s = tb.build();
  EXPECT_TRUE(s->ports().empty());
  EXPECT_PROBLEM(s, InvalidField, Port, uuid(3), "router_id");
}

TEST(SnapshotBuilder, RouterPortWithoutMacIsInvalid) {
  TopologyBuilder tb;
  tb.router(1);
  tb.routerPort(2, 1, "", {"10.0.0.1/24"});
  SnapshotPtr s = tb.build();
  EXPECT_TRUE(s->ports().empty());
  EXPECT_PROBLEM(s, InvalidField, Port, uuid(2), "mac");
}

TEST(SnapshotBuilder, BridgePortMacIsOptional) {
  TopologyBuilder tb;
  tb.bridge(1);
  tb.bridgePort(2, 1);
  SnapshotPtr s = tb.build();
  EXPECT_NO_PROBLEMS(s);
  ASSERT_EQ(s->ports().size(), 1u);
  EXPECT_FALSE(s->port(0).has_mac);
}

TEST(SnapshotBuilder, PortOfMissingDeviceIsSkippedAsDangling) {
  TopologyBuilder tb;
  tb.bridgePort(2, 1);
  tb.router(3);
  tb.t.mutable_routers(0)->set_tenant_id("bad");  // Skipped, so its port's router dangles.
  tb.routerPort(4, 3, "02:00:00:00:00:04");
  SnapshotPtr s = tb.build();
  EXPECT_TRUE(s->ports().empty());
  EXPECT_PROBLEM(s, DanglingReference, Port, uuid(2), "bridge_id");
  EXPECT_PROBLEM(s, DanglingReference, Port, uuid(4), "router_id");
}

TEST(SnapshotBuilder, DuplicateIdKeepsTheFirstObject) {
  TopologyBuilder tb;
  tb.bridge(1, "first");
  tb.bridge(1, "second");
  SnapshotPtr s = tb.build();
  ASSERT_EQ(s->bridges().size(), 1u);
  EXPECT_EQ(s->bridge(0).name, "first");
  EXPECT_PROBLEM(s, DuplicateId, Bridge, uuid(1), "id");
}

TEST(SnapshotBuilder, DanglingFilterKeepsTheObjectWithAnUnresolvedRef) {
  TopologyBuilder tb;
  tb.bridge(1).set_inbound_filter_id(id(9));
  SnapshotPtr s = tb.build();
  ASSERT_EQ(s->bridges().size(), 1u);
  EXPECT_TRUE(s->bridge(0).inbound_filter.isDangling());
  EXPECT_EQ(s->bridge(0).inbound_filter.id, uuid(9));
  EXPECT_FALSE(s->bridge(0).outbound_filter.isSet());
  EXPECT_PROBLEM(s, DanglingReference, Bridge, uuid(1), "inbound_filter_id");
}

TEST(SnapshotBuilder, FiltersResolveToChainIndexes) {
  TopologyBuilder tb;
  tb.chain(10);
  tb.chain(11);
  tb.router(1).set_outbound_filter_id(id(11));
  tb.routerPort(2, 1, "02:00:00:00:00:02").set_inbound_filter_id(id(10));
  SnapshotPtr s = tb.build();
  EXPECT_NO_PROBLEMS(s);
  EXPECT_EQ(s->router(0).outbound_filter.index, 1u);
  EXPECT_EQ(s->port(0).inbound_filter.index, 0u);
}

TEST(SnapshotBuilder, ReferenceToASkippedObjectDangles) {
  TopologyBuilder tb;
  tb.chain(10).add_rule_ids("bad");
  tb.bridge(1).set_inbound_filter_id(id(10));
  SnapshotPtr s = tb.build();
  EXPECT_TRUE(s->chains().empty());
  EXPECT_PROBLEM(s, InvalidField, Chain, uuid(10), "rule_ids[0]");
  EXPECT_PROBLEM(s, DanglingReference, Bridge, uuid(1), "inbound_filter_id");
}

TEST(SnapshotBuilder, DevicePortListsFollowPortIndexOrder) {
  TopologyBuilder tb;
  tb.bridge(1);
  tb.bridge(2);
  tb.bridgePort(11, 2);
  tb.bridgePort(12, 1);
  tb.bridgePort(13, 2);
  SnapshotPtr s = tb.build();
  EXPECT_EQ(s->bridge(0).ports, std::vector<Index>({1}));
  EXPECT_EQ(s->bridge(1).ports, std::vector<Index>({0, 2}));
  EXPECT_EQ(s->port(0).device_kind, DeviceKind::Bridge);
  EXPECT_EQ(s->port(0).device.index, 1u);
}

TEST(SnapshotBuilder, FindsObjectsByIdAndPortsByName) {
  TopologyBuilder tb;
  tb.bridge(1);
  tb.bridgePort(2, 1).set_name("vm");
  tb.bridgePort(3, 1).set_name("vm");
  SnapshotPtr s = tb.build();
  EXPECT_EQ(s->findBridge(uuid(1)), 0u);
  EXPECT_EQ(s->findPort(uuid(3)), 1u);
  EXPECT_EQ(s->findPort(uuid(9)), kNoIndex);
  EXPECT_EQ(s->findRouter(uuid(1)), kNoIndex);
  EXPECT_EQ(s->findPortByName("vm"), 0u);
  EXPECT_EQ(s->findPortByName("nope"), kNoIndex);
}

// ------------------------------------------------------------------------------------------------
// Links

TEST(SnapshotBuilder, SymmetricLinkResolvesBothEnds) {
  TopologyBuilder tb;
  tb.bridge(1);
  tb.router(2);
  tb.bridgePort(3, 1);
  tb.routerPort(4, 2, "02:00:00:00:00:04");
  tb.link(3, 4);
  SnapshotPtr s = tb.build();
  EXPECT_NO_PROBLEMS(s);
  EXPECT_EQ(s->port(0).peer.index, 1u);
  EXPECT_EQ(s->port(1).peer.index, 0u);
  EXPECT_TRUE(s->port(0).isInterior());
  EXPECT_FALSE(s->port(0).link_broken);
  EXPECT_FALSE(s->port(1).link_broken);
}

TEST(SnapshotBuilder, PortLinkedToItselfIsALinkLoop) {
  TopologyBuilder tb;
  tb.bridge(1);
  tb.bridgePort(2, 1).set_peer_id(id(2));
  SnapshotPtr s = tb.build();
  EXPECT_TRUE(s->port(0).link_broken);
  EXPECT_PROBLEM(s, LinkLoop, Port, uuid(2), "peer_id");
}

TEST(SnapshotBuilder, LinkInsideOneDeviceIsALinkLoopOnEachPort) {
  TopologyBuilder tb;
  tb.router(1);
  tb.routerPort(2, 1, "02:00:00:00:00:02");
  tb.routerPort(3, 1, "02:00:00:00:00:03");
  tb.link(2, 3);
  SnapshotPtr s = tb.build();
  EXPECT_TRUE(s->port(0).link_broken);
  EXPECT_TRUE(s->port(1).link_broken);
  EXPECT_PROBLEM(s, LinkLoop, Port, uuid(2), "peer_id");
  EXPECT_PROBLEM(s, LinkLoop, Port, uuid(3), "peer_id");
  EXPECT_EQ(s->problems().size(), 2u);
}

TEST(SnapshotBuilder, AsymmetricLinkBreaksOnlyThePortWhosePeerDoesNotAnswer) {
  TopologyBuilder tb;
  tb.bridge(1);
  tb.bridge(2);
  tb.bridge(3);
  tb.bridgePort(11, 1);
  tb.bridgePort(12, 2);
  tb.bridgePort(13, 3);
  tb.link(12, 13);
  tb.t.mutable_ports(0)->set_peer_id(id(12));  // 11 -> 12, but 12 <-> 13.
  SnapshotPtr s = tb.build();
  EXPECT_TRUE(s->port(0).link_broken);
  EXPECT_FALSE(s->port(1).link_broken);
  EXPECT_FALSE(s->port(2).link_broken);
  EXPECT_PROBLEM(s, AsymmetricLink, Port, uuid(11), "peer_id");
  EXPECT_EQ(s->problems().size(), 1u);
}

TEST(SnapshotBuilder, PeerWithoutAPeerIsAnAsymmetricLink) {
  TopologyBuilder tb;
  tb.bridge(1);
  tb.bridge(2);
  tb.bridgePort(11, 1).set_peer_id(id(12));
  tb.bridgePort(12, 2);
  SnapshotPtr s = tb.build();
  EXPECT_TRUE(s->port(0).link_broken);
  EXPECT_PROBLEM(s, AsymmetricLink, Port, uuid(11), "peer_id");
}

TEST(SnapshotBuilder, DanglingPeerIsReportedWithoutBreakingTheLink) {
  TopologyBuilder tb;
  tb.bridge(1);
  tb.bridgePort(2, 1).set_peer_id(id(9));
  SnapshotPtr s = tb.build();
  ASSERT_EQ(s->ports().size(), 1u);
  EXPECT_TRUE(s->port(0).peer.isDangling());
  EXPECT_FALSE(s->port(0).link_broken);
  EXPECT_PROBLEM(s, DanglingReference, Port, uuid(2), "peer_id");
}

TEST(SnapshotBuilder, PortBothExteriorAndInteriorBreaksTheWholeLink) {
  TopologyBuilder tb;
  tb.bridge(1);
  tb.router(2);
  tb.bridgePort(3, 1);
  tb.routerPort(4, 2, "02:00:00:00:00:04").set_host_id(id(50));
  tb.link(3, 4);
  SnapshotPtr s = tb.build();
  EXPECT_TRUE(s->port(1).link_broken);
  EXPECT_TRUE(s->port(0).link_broken);
  EXPECT_PROBLEM(s, Inconsistent, Port, uuid(4), "peer_id");
  EXPECT_EQ(s->problems().size(), 1u);
}

// ------------------------------------------------------------------------------------------------
// Port groups

TEST(SnapshotBuilder, PortGroupMembersAreDerivedInPortIndexOrder) {
  TopologyBuilder tb;
  tb.bridge(1);
  v1::PortGroup& g = *tb.t.add_port_groups();
  g.set_id(id(20));
  g.set_stateful(true);
  tb.bridgePort(2, 1).add_port_group_ids(id(20));
  tb.bridgePort(3, 1);
  v1::Port& p = tb.bridgePort(4, 1);
  p.add_port_group_ids(id(20));
  p.add_port_group_ids(id(20));  // Listed twice: one membership.
  SnapshotPtr s = tb.build();
  EXPECT_NO_PROBLEMS(s);
  ASSERT_EQ(s->portGroups().size(), 1u);
  EXPECT_TRUE(s->portGroup(0).stateful);
  EXPECT_EQ(s->portGroup(0).ports, std::vector<Index>({0, 2}));
  EXPECT_EQ(s->port(2).port_groups, std::vector<Index>({0}));
  EXPECT_TRUE(s->port(0).inGroup(0));
  EXPECT_FALSE(s->port(1).inGroup(0));
  EXPECT_EQ(s->findPortGroup(uuid(20)), 0u);
}

TEST(SnapshotBuilder, DanglingPortGroupIsReportedAndLeftOut) {
  TopologyBuilder tb;
  tb.bridge(1);
  tb.bridgePort(2, 1).add_port_group_ids(id(21));
  SnapshotPtr s = tb.build();
  ASSERT_EQ(s->ports().size(), 1u);
  EXPECT_TRUE(s->port(0).port_groups.empty());
  EXPECT_PROBLEM(s, DanglingReference, Port, uuid(2), "port_group_ids[0]");
}

// ------------------------------------------------------------------------------------------------
// Bridges' static tables

TEST(SnapshotBuilder, StaticMacsMapWorkloadMacsToTheirPorts) {
  TopologyBuilder tb;
  tb.bridge(1);
  tb.bridgePort(2, 1).set_mac("02:00:00:00:00:02");
  tb.bridgePort(3, 1);
  tb.bridgePort(4, 1).set_mac("02:00:00:00:00:04");
  SnapshotPtr s = tb.build();
  const Bridge& b = s->bridge(0);
  ASSERT_EQ(b.static_macs.size(), 2u);
  EXPECT_EQ(b.static_macs.at(mac("02:00:00:00:00:02").toU64()), 0u);
  EXPECT_EQ(b.static_macs.at(mac("02:00:00:00:00:04").toU64()), 2u);
}

TEST(SnapshotBuilder, StaticMacsMapRouterPeerMacToTheInteriorBridgePort) {
  TopologyBuilder tb;
  tb.bridge(1);
  tb.router(2);
  tb.bridgePort(3, 1);
  tb.routerPort(4, 2, "02:00:00:00:01:01", {"10.0.0.1/24"});
  tb.link(3, 4);
  SnapshotPtr s = tb.build();
  const Bridge& b = s->bridge(0);
  ASSERT_EQ(b.static_macs.size(), 1u);
  EXPECT_EQ(b.static_macs.at(mac("02:00:00:00:01:01").toU64()), 0u);
  ASSERT_EQ(b.static_ip_macs.size(), 1u);
  EXPECT_EQ(b.static_ip_macs.at(ip("10.0.0.1")), mac("02:00:00:00:01:01"));
}

TEST(SnapshotBuilder, StaticIpMacsUseTheAddressNotTheNetwork) {
  TopologyBuilder tb;
  tb.bridge(1);
  v1::Port& p = tb.bridgePort(2, 1);
  p.set_mac("02:00:00:00:00:02");
  p.add_addresses("10.0.0.11/24");
  p.add_addresses("fd00::11");
  tb.bridgePort(3, 1).add_addresses("10.0.0.12");  // No MAC: nothing to map to.
  SnapshotPtr s = tb.build();
  const Bridge& b = s->bridge(0);
  ASSERT_EQ(b.static_ip_macs.size(), 2u);
  EXPECT_EQ(b.static_ip_macs.at(ip("10.0.0.11")), mac("02:00:00:00:00:02"));
  EXPECT_EQ(b.static_ip_macs.at(ip("fd00::11")), mac("02:00:00:00:00:02"));
  EXPECT_EQ(b.static_ip_macs.count(ip("10.0.0.0")), 0u);
}

TEST(SnapshotBuilder, SameMacOnTwoPortsOfABridgeIsInconsistentAndTheFirstWins) {
  TopologyBuilder tb;
  tb.bridge(1);
  tb.bridgePort(2, 1).set_mac("02:00:00:00:00:02");
  tb.bridgePort(3, 1).set_mac("02:00:00:00:00:02");
  SnapshotPtr s = tb.build();
  EXPECT_EQ(s->bridge(0).static_macs.at(mac("02:00:00:00:00:02").toU64()), 0u);
  EXPECT_PROBLEM(s, Inconsistent, Port, uuid(3), "mac");
}

TEST(SnapshotBuilder, SameIpWithTwoMacsOnABridgeIsInconsistentAndTheFirstWins) {
  TopologyBuilder tb;
  tb.bridge(1);
  v1::Port& a = tb.bridgePort(2, 1);
  a.set_mac("02:00:00:00:00:02");
  a.add_addresses("10.0.0.5/24");
  v1::Port& b = tb.bridgePort(3, 1);
  b.set_mac("02:00:00:00:00:03");
  b.add_addresses("10.0.0.5/24");
  SnapshotPtr s = tb.build();
  EXPECT_EQ(s->bridge(0).static_ip_macs.at(ip("10.0.0.5")), mac("02:00:00:00:00:02"));
  EXPECT_PROBLEM(s, Inconsistent, Port, uuid(3), "mac");
}

TEST(SnapshotBuilder, SameMacOnDifferentBridgesIsNotAConflict) {
  TopologyBuilder tb;
  tb.bridge(1);
  tb.bridge(2);
  tb.bridgePort(3, 1).set_mac("02:00:00:00:00:02");
  tb.bridgePort(4, 2).set_mac("02:00:00:00:00:02");
  SnapshotPtr s = tb.build();
  EXPECT_NO_PROBLEMS(s);
  EXPECT_EQ(s->bridge(1).static_macs.at(mac("02:00:00:00:00:02").toU64()), 1u);
}

TEST(SnapshotBuilder, BrokenLinkDoesNotSeedThePeerMac) {
  TopologyBuilder tb;
  tb.bridge(1);
  tb.router(2);
  tb.bridgePort(3, 1).set_peer_id(id(4));
  tb.routerPort(4, 2, "02:00:00:00:01:01", {"10.0.0.1/24"});  // Does not name port 3 back.
  SnapshotPtr s = tb.build();
  EXPECT_TRUE(s->bridge(0).static_macs.empty());
  EXPECT_TRUE(s->bridge(0).static_ip_macs.empty());
}

// ------------------------------------------------------------------------------------------------
// IP address groups, hosts, tunnel zones

TEST(SnapshotBuilder, IpAddrGroupSplitsHostsFromPrefixes) {
  TopologyBuilder tb;
  v1::IpAddrGroup& g = *tb.t.add_ip_addr_groups();
  g.set_id(id(1));
  g.add_addresses("10.0.0.5");
  g.add_addresses("10.1.0.9/16");
  g.add_addresses("fd00::1/128");
  SnapshotPtr s = tb.build();
  EXPECT_NO_PROBLEMS(s);
  const IpAddrGroup& grp = s->ipAddrGroup(0);
  EXPECT_EQ(grp.hosts.size(), 2u);
  ASSERT_EQ(grp.prefixes.size(), 1u);
  EXPECT_EQ(grp.prefixes[0], prefix("10.1.0.0/16"));
  EXPECT_TRUE(grp.contains(ip("10.0.0.5")));
  EXPECT_TRUE(grp.contains(ip("10.1.200.1")));
  EXPECT_TRUE(grp.contains(ip("fd00::1")));
  EXPECT_FALSE(grp.contains(ip("10.0.0.6")));
  EXPECT_FALSE(grp.contains(ip("fd00::2")));
  EXPECT_EQ(s->findIpAddrGroup(uuid(1)), 0u);
}

TEST(SnapshotBuilder, IpAddrGroupWithABadAddressIsSkipped) {
  TopologyBuilder tb;
  v1::IpAddrGroup& g = *tb.t.add_ip_addr_groups();
  g.set_id(id(1));
  g.add_addresses("10.0.0.5");
  g.add_addresses("10.0.0.256");
  SnapshotPtr s = tb.build();
  EXPECT_TRUE(s->ipAddrGroups().empty());
  EXPECT_PROBLEM(s, InvalidField, IpAddrGroup, uuid(1), "addresses[1]");
}

TEST(SnapshotBuilder, HostTunnelZonesResolveAndDanglingOnesAreLeftOut) {
  TopologyBuilder tb;
  v1::TunnelZone& z = *tb.t.add_tunnel_zones();
  z.set_id(id(30));
  v1::Host& h = *tb.t.add_hosts();
  h.set_id(id(40));
  h.set_name("host-1");
  h.add_tunnel_zone_ids(id(31));
  h.add_tunnel_zone_ids(id(30));
  SnapshotPtr s = tb.build();
  ASSERT_EQ(s->hosts().size(), 1u);
  EXPECT_EQ(s->host(0).tunnel_zones, std::vector<Index>({0}));
  EXPECT_EQ(s->findHost(uuid(40)), 0u);
  EXPECT_EQ(s->findTunnelZone(uuid(30)), 0u);
  EXPECT_PROBLEM(s, DanglingReference, Host, uuid(40), "tunnel_zone_ids[0]");
}

TEST(SnapshotBuilder, TunnelZoneMemberOfUnknownHostIsKeptAndReported) {
  TopologyBuilder tb;
  v1::TunnelZone& z = *tb.t.add_tunnel_zones();
  z.set_id(id(30));
  v1::TunnelZone::Member& m = *z.add_members();
  m.set_host_id(id(41));
  m.set_address("192.168.0.1");
  SnapshotPtr s = tb.build();
  ASSERT_EQ(s->tunnelZones().size(), 1u);
  ASSERT_EQ(s->tunnelZone(0).members.size(), 1u);
  EXPECT_EQ(s->tunnelZone(0).members[0].host_id, uuid(41));
  EXPECT_EQ(s->tunnelZone(0).members[0].address, ip("192.168.0.1"));
  EXPECT_PROBLEM(s, DanglingReference, TunnelZone, uuid(30), "members[0].host_id");
}

TEST(SnapshotBuilder, TunnelZoneMemberWithBadAddressSkipsTheZone) {
  TopologyBuilder tb;
  v1::TunnelZone& z = *tb.t.add_tunnel_zones();
  z.set_id(id(30));
  v1::TunnelZone::Member& m = *z.add_members();
  m.set_host_id(id(41));
  m.set_address("192.168.0.0/24");
  SnapshotPtr s = tb.build();
  EXPECT_TRUE(s->tunnelZones().empty());
  EXPECT_PROBLEM(s, InvalidField, TunnelZone, uuid(30), "members[0].address");
}

TEST(SnapshotBuilder, TunnelZoneOfUnknownTypeIsInvalid) {
  TopologyBuilder tb;
  v1::TunnelZone& z = *tb.t.add_tunnel_zones();
  z.set_id(id(30));
  z.set_type(static_cast<v1::TunnelZone::Type>(7));
  SnapshotPtr s = tb.build();
  EXPECT_TRUE(s->tunnelZones().empty());
  EXPECT_PROBLEM(s, InvalidField, TunnelZone, uuid(30), "type");
}

// ------------------------------------------------------------------------------------------------
// Names, printing, determinism

TEST(SnapshotNames, KindsAndEnumsHaveLowercaseNames) {
  EXPECT_STREQ(objectKindName(ObjectKind::Bridge), "bridge");
  EXPECT_STREQ(objectKindName(ObjectKind::Router), "router");
  EXPECT_STREQ(objectKindName(ObjectKind::Port), "port");
  EXPECT_STREQ(objectKindName(ObjectKind::Route), "route");
  EXPECT_STREQ(objectKindName(ObjectKind::Chain), "chain");
  EXPECT_STREQ(objectKindName(ObjectKind::Rule), "rule");
  EXPECT_STREQ(objectKindName(ObjectKind::PortGroup), "port_group");
  EXPECT_STREQ(objectKindName(ObjectKind::IpAddrGroup), "ip_addr_group");
  EXPECT_STREQ(objectKindName(ObjectKind::Host), "host");
  EXPECT_STREQ(objectKindName(ObjectKind::TunnelZone), "tunnel_zone");
  EXPECT_STREQ(problemKindName(Problem::Kind::InvalidField), "invalid_field");
  EXPECT_STREQ(problemKindName(Problem::Kind::DuplicateId), "duplicate_id");
  EXPECT_STREQ(problemKindName(Problem::Kind::DanglingReference), "dangling_reference");
  EXPECT_STREQ(problemKindName(Problem::Kind::LinkLoop), "link_loop");
  EXPECT_STREQ(problemKindName(Problem::Kind::AsymmetricLink), "asymmetric_link");
  EXPECT_STREQ(problemKindName(Problem::Kind::Inconsistent), "inconsistent");
  EXPECT_STREQ(problemKindName(Problem::Kind::JumpCycle), "jump_cycle");
  EXPECT_STREQ(nextHopTypeName(NextHopType::Port), "port");
  EXPECT_STREQ(nextHopTypeName(NextHopType::Blackhole), "blackhole");
  EXPECT_STREQ(nextHopTypeName(NextHopType::Reject), "reject");
  EXPECT_STREQ(nextHopTypeName(NextHopType::Local), "local");
  EXPECT_STREQ(ruleActionName(RuleAction::Accept), "accept");
  EXPECT_STREQ(ruleActionName(RuleAction::Drop), "drop");
  EXPECT_STREQ(ruleActionName(RuleAction::Reject), "reject");
  EXPECT_STREQ(ruleActionName(RuleAction::Return), "return");
  EXPECT_STREQ(ruleActionName(RuleAction::Jump), "jump");
  EXPECT_STREQ(ruleActionName(RuleAction::Continue), "continue");
}

TEST(SnapshotNames, ProblemToStringNamesObjectFieldAndTarget) {
  TopologyBuilder tb;
  tb.bridge(1);
  v1::Port& p = tb.bridgePort(0, 1);
  p.set_id("6f1c0a2b-0000-4000-8000-000000000001");
  p.set_peer_id("0a2b3c4d-0000-4000-8000-000000000002");
  SnapshotPtr s = tb.build();
  ASSERT_EQ(s->problems().size(), 1u);
  EXPECT_EQ(s->problems()[0].toString(),
            "port 6f1c0a2b-0000-4000-8000-000000000001: peer_id: dangling reference to port "
            "0a2b3c4d-0000-4000-8000-000000000002");
}

TEST(SnapshotNames, ProblemWithoutObjectIdSaysSo) {
  Problem p{Problem::Kind::InvalidField, ObjectKind::Rule, Uuid(), "id", "required"};
  EXPECT_EQ(p.toString(), "rule <no id>: id: required");
}

TEST(SnapshotNames, RouteToStringShowsNextHopGatewayAndWeight) {
  Route r;
  r.dst = prefix("10.0.0.0/24");
  r.next_hop_port.id = Uuid::parse("a2000000-0000-4000-8000-000000000001").value();
  r.has_gateway = true;
  r.gateway = ip("10.0.0.254");
  EXPECT_EQ(r.toString(),
            "10.0.0.0/24 via port a2000000-0000-4000-8000-000000000001 gw 10.0.0.254 weight 0");
  r.has_gateway = false;
  r.weight = 7;
  r.src = prefix("192.168.0.0/16");
  EXPECT_EQ(r.toString(),
            "10.0.0.0/24 from 192.168.0.0/16 via port a2000000-0000-4000-8000-000000000001 "
            "weight 7");
  Route b;
  b.dst = prefix("0.0.0.0/0");
  b.next_hop = NextHopType::Blackhole;
  EXPECT_EQ(b.toString(), "0.0.0.0/0 blackhole weight 0");
}

TEST(SnapshotBuilder, SameInputGivesTheSameSnapshot) {
  TopologyBuilder tb;
  tb.bridge(1);
  tb.bridge(1);
  for (int i = 0; i < 20; ++i) {
    v1::Port& p = tb.bridgePort(100 + i, 1);
    p.set_mac("02:00:00:00:00:01");
    p.add_addresses("10.0.0." + std::to_string(i));
    p.set_peer_id(id(200 + i));
    p.add_port_group_ids(id(300));
  }
  SnapshotPtr a = tb.build();
  SnapshotPtr b = tb.build();
  ASSERT_EQ(a->problems().size(), b->problems().size());
  for (size_t i = 0; i < a->problems().size(); ++i) {
    EXPECT_EQ(a->problems()[i].toString(), b->problems()[i].toString());
  }
  ASSERT_EQ(a->ports().size(), b->ports().size());
  for (size_t i = 0; i < a->ports().size(); ++i) EXPECT_EQ(a->port(i).id, b->port(i).id);
}

}  // namespace
}  // namespace loom::model
