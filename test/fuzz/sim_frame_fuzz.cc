// Fuzzes the whole simulation: arbitrary frames enter (or leave) any port of one topology that
// uses every device feature, and every result must keep the SimResult contract (checkResult),
// be a pure function of its input that tracing does not change, and keep the megaflow contract:
// a packet that agrees on the mask and is no longer than the path MTU gets the same decision
// (checkMask).
//
// Input layout:
//   byte 0  the port: an index into World::ports (every snapshot port, interior and unbound
//           ones included, then one id the snapshot does not have), modulo its size.
//   byte 1  flags: kTrace, kEgressStart (Start::PortEgress), kKeyOnly (the flow key without the
//           frame), kViaSimulate (Simulator::simulate with key and frame instead of
//           simulateFrame), kTwoFrames, kSecondFlip (the second frame flips kEgressStart),
//           kReinject (the generated packets of the first frame are simulated out of their
//           ports, as the agent does).
//   byte 2  the clock: low nibble = start time in 10 s steps; high nibble = time between the
//           two frames in 8 s steps (ARP entries go stale after 60 s and expire after 90 s).
//   rest    the frame. With kTwoFrames: the second frame's port byte, the first frame's length
//           (2 bytes, big endian, clamped), the first frame, the second frame. The first
//           frame's state writes are applied before the second runs.
// Every input gets fresh state, so a run is deterministic.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "packet/actions.h"
#include "packet/checksum.h"
#include "packet/parser.h"
#include "support/topo_builder.h"

namespace {

using namespace loom;  // NOLINT(google-build-using-namespace): fuzz target only.
using sim::Outcome;
using sim::SimInput;
using sim::SimResult;

constexpr uint8_t kTrace = 0x01;
constexpr uint8_t kEgressStart = 0x02;
constexpr uint8_t kKeyOnly = 0x04;
constexpr uint8_t kViaSimulate = 0x08;
constexpr uint8_t kTwoFrames = 0x10;
constexpr uint8_t kSecondFlip = 0x20;
constexpr uint8_t kReinject = 0x40;

constexpr size_t kMaxReinjected = 4;

// Ids that no object has: the targets of the dangling references.
const Uuid kMissingChain(0x0bad0000c4a10000ULL, 0x8000000000000001ULL);
const Uuid kMissingAddrGroup(0x0bad0000a9900000ULL, 0x8000000000000002ULL);
const Uuid kMissingPort(0x0bad0000b0770000ULL, 0x8000000000000003ULL);
const Uuid kMissingPeer(0x0bad0000b0770000ULL, 0x8000000000000004ULL);
const Uuid kMissingPortGroup(0x0bad00009a900000ULL, 0x8000000000000005ULL);
const Uuid kMissingRule(0x0bad0000f1000000ULL, 0x8000000000000006ULL);

struct World {
  model::SnapshotPtr snap;
  std::vector<Uuid> ports;  // Every snapshot port, then kMissingPort.
  const Uuid& portAt(uint8_t selector) const { return ports[selector % ports.size()]; }
};

void setTenant(v1::Topology& t, const Uuid& tenant) {
  std::string id = tenant.toString();
  for (auto& b : *t.mutable_bridges()) b.set_tenant_id(id);
  for (auto& r : *t.mutable_routers()) r.set_tenant_id(id);
  for (auto& p : *t.mutable_ports()) {
    if (p.tenant_id().empty()) p.set_tenant_id(id);
  }
  for (auto& c : *t.mutable_chains()) c.set_tenant_id(id);
}

v1::PortRange range(uint32_t start, uint32_t end) {
  v1::PortRange r;
  r.set_start(start);
  r.set_end(end);
  return r;
}

// The topology, built once. Tenant A: bridges net-a (ARP suppression on) and net-b (off) on
// router r1 with an uplink, parallel links to r2, a routing loop through r3 and every route
// kind. Tenant B: r2 with net-c and net-d, an admin-down router r4 and a port whose peer is
// missing. Besides: an admin-down bridge, a lonely bridge, and a ring of three bridges joined
// by parallel links (a bridge loop whose floods hit the total device bound).
World buildWorld() {
  using v1::Condition;
  using v1::Route;
  using v1::Rule;
  testing::TopoBuilder t;
  const Uuid host_1 = t.host("host-1");
  const Uuid host_2 = t.host("host-2");
  const Uuid host_edge = t.host("host-edge");

  // ---- Tenant A.
  const Uuid net_a = t.bridge("net-a");
  const Uuid net_b = t.bridge("net-b");
  t.bridgeMsg(net_b).set_arp_suppression(false);
  const Uuid r1 = t.router("r1");
  const Uuid r3 = t.router("r3");

  const Uuid vm_a1 = t.vmPort(net_a, "vm-a1", "02:0a:00:00:00:01", "10.0.0.11", host_1);
  const Uuid vm_a2 = t.vmPort(net_a, "vm-a2", "02:0a:00:00:00:02", "10.0.0.12/24", host_1);
  t.port(vm_a2).add_addresses("fd00:a::12/64");
  const Uuid vm_a3 = t.vmPort(net_a, "vm-a3", "", "", host_2);
  const Uuid vm_a4 = t.vmPort(net_a, "vm-a4", "02:0a:00:00:00:04", "10.0.0.14", host_2);
  t.port(vm_a4).set_admin_state_up(false);
  t.bridgePort(net_a, "a-unbound");
  const Uuid r1_a = t.attach(r1, net_a, "r1-a", "02:00:00:00:01:01", "10.0.0.1/24");

  const Uuid vm_b1 = t.vmPort(net_b, "vm-b1", "02:0b:00:00:00:01", "10.0.1.11", host_1);
  const Uuid vm_b2 = t.vmPort(net_b, "vm-b2", "", "", host_2);
  const Uuid r1_b = t.attach(r1, net_b, "r1-b", "02:00:00:00:01:02", "10.0.1.1/24");

  const Uuid r1_up = t.routerPort(r1, "r1-up", "02:00:00:00:01:03", "192.0.2.2/30");
  t.bind(r1_up, host_edge, "uplink0");
  t.port(r1_up).set_mtu(1400);
  const Uuid r1_p1 = t.routerPort(r1, "r1-p1", "02:00:00:00:01:04", "169.254.1.1/30");
  const Uuid r1_p2 = t.routerPort(r1, "r1-p2", "02:00:00:00:01:05", "169.254.2.1/30");
  const Uuid r1_loop = t.routerPort(r1, "r1-loop", "02:00:00:00:01:06", "169.254.3.1/30");
  const Uuid r3_loop = t.routerPort(r3, "r3-loop", "02:00:00:00:03:01", "169.254.3.2/30");
  t.link(r1_loop, r3_loop);

  t.route(r1, "0.0.0.0/0", r1_up, "192.0.2.1");
  t.route(r1, "10.1.0.0/16", r1_p1, "169.254.1.2");  // ECMP over the parallel links...
  t.route(r1, "10.1.0.0/16", r1_p2, "169.254.2.2");
  t.route(r1, "10.1.0.0/16", r1_up, "192.0.2.1", 10);  // ...a heavier backup that loses.
  t.route(r1, "10.2.0.0/16", r1_p1, "", 5);            // Weights: p2 wins, no gateway.
  t.route(r1, "10.2.0.0/16", r1_p2, "", 1);
  t.route(r1, "10.9.0.0/16", r1_p2, "169.254.2.2", 0, "10.0.1.0/24");  // Source routes.
  t.route(r1, "10.9.0.0/16", r1_up, "192.0.2.1", 0, "10.0.0.0/24");
  t.route(r1, "10.0.5.0/24", r1_a, "10.0.0.250");           // Gateway nobody has: ARP pending.
  t.route(r1, "10.0.6.0/24", r1_b, "10.0.1.11");            // Gateway configured on net-b.
  t.route(r1, "10.77.0.0/16", kMissingPort, "");            // Dangling next-hop port.
  t.route(r1, "fd00:b::/64", r1_b, "");                     // IPv6 table (IPv6 is not routed).
  t.route(r1, "203.0.113.128/25", r1_loop, "169.254.3.2");  // Routing loop with r3.
  t.route(r3, "203.0.113.128/25", r3_loop, "169.254.3.1");
  t.route(r1, "10.8.0.0/16", r1_up, "192.0.2.1");  // ECMP over two uplink gateways.
  t.route(r1, "10.8.0.0/16", r1_up, "192.0.2.3");
  t.specialRoute(r1, "198.51.100.0/24", Route::BLACKHOLE);
  t.specialRoute(r1, "203.0.113.0/25", Route::REJECT);
  t.specialRoute(r1, "192.0.2.100/32", Route::LOCAL);

  // ---- Tenant B.
  const Uuid net_c = t.bridge("net-c");
  const Uuid net_d = t.bridge("net-d");
  t.bridgeMsg(net_d).set_arp_suppression(false);
  const Uuid r2 = t.router("r2");
  const Uuid r4 = t.router("r4");
  t.routerMsg(r4).set_admin_state_up(false);
  const Uuid r2_p1 = t.routerPort(r2, "r2-p1", "02:00:00:00:02:01", "169.254.1.2/30");
  const Uuid r2_p2 = t.routerPort(r2, "r2-p2", "02:00:00:00:02:02", "169.254.2.2/30");
  t.link(r1_p1, r2_p1);
  t.link(r1_p2, r2_p2);
  const Uuid r2_c = t.attach(r2, net_c, "r2-c", "02:00:00:00:02:03", "10.1.0.1/24");
  const Uuid r2_d = t.attach(r2, net_d, "r2-d", "02:00:00:00:02:04", "10.1.1.1/24");
  const Uuid r2_dangling = t.routerPort(r2, "r2-dangling", "02:00:00:00:02:05", "10.1.9.1/24");
  t.port(r2_dangling).set_peer_id(kMissingPeer.toString());
  t.attach(r4, net_d, "r4-d", "02:00:00:00:04:01", "10.1.1.254/24");
  t.route(r2, "10.0.0.0/15", r2_p1, "169.254.1.1");
  t.route(r2, "10.0.0.0/15", r2_p2, "169.254.2.1");
  t.route(r2, "0.0.0.0/0", r2_p1, "169.254.1.1");

  const Uuid vm_c1 = t.vmPort(net_c, "vm-c1", "02:0c:00:00:00:01", "10.1.0.11", host_2);
  t.vmPort(net_c, "vm-c2", "", "", host_1);
  const Uuid vm_c3 = t.vmPort(net_c, "vm-c3", "02:0c:00:00:00:03", "10.1.0.13", host_1);
  t.port(vm_c3).set_inbound_filter_id(kMissingChain.toString());  // Dangling chain.
  const Uuid vm_d1 = t.vmPort(net_d, "vm-d1", "02:0d:00:00:00:01", "10.1.1.11", host_2);
  const Uuid vm_d2 = t.vmPort(net_d, "vm-d2", "", "", host_2);
  const Uuid d_self = t.bridgePort(net_d, "d-selflink");  // A broken link.
  t.port(d_self).set_peer_id(d_self.toString());

  for (const Uuid& p : {r2_p1, r2_p2, r2_c, r2_d, r2_dangling, vm_c1, vm_c3}) {
    t.port(p).set_tenant_id(Uuid(0xbbbb, 0xbbbb).toString());
  }

  // ---- Misc: an admin-down bridge, a one-port bridge, a ring of bridges.
  const Uuid net_down = t.bridge("net-down");
  t.bridgeMsg(net_down).set_admin_state_up(false);
  t.vmPort(net_down, "vm-down", "02:0e:00:00:00:01", "10.3.0.11", host_1);
  const Uuid lonely = t.bridge("lonely");
  t.vmPort(lonely, "vm-lonely", "", "", host_1);
  Uuid ring[3];
  for (int i = 0; i < 3; ++i) {
    ring[i] = t.bridge("ring" + std::to_string(i));
    t.vmPort(ring[i], "vm-ring" + std::to_string(i), "", "", i == 0 ? host_1 : host_2);
  }
  for (int i = 0; i < 3; ++i) {
    for (int k = 0; k < 2; ++k) {
      std::string n = std::to_string(i) + "-" + std::to_string(k);
      Uuid x = t.bridgePort(ring[i], "ring-out" + n);
      Uuid y = t.bridgePort(ring[(i + 1) % 3], "ring-in" + n);
      t.link(x, y);
    }
  }

  // ---- Groups.
  const Uuid pg_a = t.portGroup("pg-a", {vm_a1, vm_a3});
  const Uuid pg_web = t.portGroup("pg-web", {vm_b1, vm_b2});
  const Uuid pg_links = t.portGroup("pg-links", {r2_p1, r2_p2});
  const Uuid admins = t.ipAddrGroup("admins", {"10.0.0.11", "192.0.2.0/24", "fd00:a::/64"});
  const Uuid blocked = t.ipAddrGroup("blocked", {"198.18.0.0/15", "10.0.0.13"});

  // ---- Chains.
  const Uuid cyc1 = t.chain("cyc1");
  const Uuid cyc2 = t.chain("cyc2");
  t.rule(cyc1, Rule::JUMP, {}, cyc2);
  t.rule(cyc2, Rule::CONTINUE, [](Condition& c) { c.set_nw_tos(0x20); });
  t.rule(cyc2, Rule::JUMP, {}, cyc1);  // A jump cycle: the snapshot reports it.

  const Uuid common = t.chain("common");
  t.rule(common, Rule::CONTINUE, [](Condition& c) { c.set_nw_tos(0x10); });
  t.rule(common, Rule::DROP, [](Condition& c) {
    c.set_fragment_policy(Condition::NONHEADER);
    c.set_nw_dst("10.0.1.0/24");
  });
  t.rule(common, Rule::REJECT, [](Condition& c) {
    c.set_nw_proto(6);
    *c.mutable_tp_dst() = range(23, 0);
  });
  t.rule(common, Rule::RETURN, [](Condition& c) {
    c.set_nw_proto(17);
    *c.mutable_tp_src() = range(67, 68);
    c.set_fragment_policy(Condition::UNFRAGMENTED);
  });
  t.rule(
      common, Rule::JUMP,
      [](Condition& c) {
        c.set_nw_proto(17);
        *c.mutable_tp_dst() = range(7777, 0);
      },
      cyc1);
  t.rule(
      common, Rule::JUMP,
      [](Condition& c) {
        c.set_nw_proto(17);
        *c.mutable_tp_dst() = range(6666, 0);
      },
      kMissingChain);                     // Dangling jump target.
  const Uuid broken = t.chain("broken");  // Lists a rule that does not exist.
  t.rule(broken, Rule::ACCEPT);
  for (auto& c : *t.topology().mutable_chains()) {
    if (c.id() == broken.toString()) c.add_rule_ids(kMissingRule.toString());
  }
  t.rule(
      common, Rule::JUMP,
      [](Condition& c) {
        c.set_nw_proto(17);
        *c.mutable_tp_dst() = range(6668, 0);
      },
      broken);
  t.rule(common, Rule::DROP, [](Condition& c) {
    c.set_nw_dst("10.1.0.66/32");
    c.set_ip_addr_group_dst_id(kMissingAddrGroup.toString());  // Dangling address group.
  });
  t.rule(common, Rule::DROP, [](Condition& c) {
    c.set_nw_proto(1);
    c.set_icmp_type(8);
    c.set_icmp_code(0);
    c.set_inv_icmp_code(true);
  });
  t.rule(common, Rule::ACCEPT, [](Condition& c) {
    c.set_invert(true);
    c.set_nw_proto(6);
  });
  t.rule(common, Rule::DROP, [](Condition& c) {
    c.set_nw_proto(6);
    *c.mutable_tp_src() = range(1, 1023);
    c.set_conntrack(Condition::FORWARD_FLOW);
  });

  const Uuid a1_in = t.chain("a1-in");  // vm-a1: anti-spoofing, then the common rules.
  t.rule(a1_in, Rule::ACCEPT, [](Condition& c) {
    c.set_dl_src("02:0a:00:00:00:00");
    c.set_dl_src_mask("ff:ff:ff:00:00:00");
    c.set_ethertype(0x0806);
  });
  t.rule(a1_in, Rule::DROP, [](Condition& c) {
    c.set_dl_src("02:0a:00:00:00:01");
    c.set_inv_dl_src(true);
  });
  t.rule(a1_in, Rule::DROP, [](Condition& c) {
    c.set_ethertype(0x0800);
    c.set_nw_src("10.0.0.11/32");
    c.set_inv_nw_src(true);
  });
  t.rule(a1_in, Rule::DROP, [](Condition& c) {
    c.set_dl_dst("01:80:c2:00:00:00");
    c.set_dl_dst_mask("ff:ff:ff:ff:ff:f0");
  });
  t.rule(a1_in, Rule::JUMP, {}, common);
  t.rule(a1_in, Rule::ACCEPT, [&](Condition& c) { c.set_in_port_group_id(pg_a.toString()); });
  t.rule(a1_in, Rule::DROP);
  t.port(vm_a1).set_inbound_filter_id(a1_in.toString());
  t.port(vm_a3).set_inbound_filter_id(common.toString());

  const Uuid sg_web = t.chain("sg-web");  // vm-b1 outbound: a stateful security group.
  t.rule(sg_web, Rule::ACCEPT, [](Condition& c) { c.set_conntrack(Condition::RETURN_FLOW); });
  t.rule(sg_web, Rule::REJECT, [](Condition& c) {
    c.set_nw_proto(6);
    *c.mutable_tp_dst() = range(444, 0);
  });
  t.rule(sg_web, Rule::ACCEPT, [](Condition& c) {
    c.set_nw_proto(6);
    *c.mutable_tp_dst() = range(80, 443);
  });
  t.rule(sg_web, Rule::ACCEPT, [](Condition& c) {
    c.set_nw_proto(1);
    c.set_icmp_type(8);
  });
  t.rule(sg_web, Rule::ACCEPT,
         [&](Condition& c) { c.set_ip_addr_group_src_id(admins.toString()); });
  t.rule(sg_web, Rule::ACCEPT, [](Condition& c) { c.set_ethertype(0x0806); });
  t.rule(sg_web, Rule::ACCEPT, [&](Condition& c) { c.set_in_port_group_id(pg_web.toString()); });
  t.rule(sg_web, Rule::DROP);
  t.port(vm_b1).set_outbound_filter_id(sg_web.toString());

  const Uuid b_in = t.chain("b-in");
  t.rule(b_in, Rule::DROP, [](Condition& c) { c.set_ethertype(0x88cc); });
  t.rule(b_in, Rule::REJECT, [](Condition& c) {
    c.set_nw_proto(17);
    *c.mutable_tp_dst() = range(5557, 0);
  });
  t.rule(b_in, Rule::DROP, [](Condition& c) {
    c.set_nw_dst("10.0.1.66/32");
    c.set_ip_addr_group_dst_id(kMissingAddrGroup.toString());
  });
  t.rule(b_in, Rule::DROP, [&](Condition& c) {
    c.add_in_port_ids(vm_b2.toString());
    c.set_dl_dst("01:00:5e:00:00:00");
    c.set_dl_dst_mask("ff:ff:ff:80:00:00");
  });
  t.rule(b_in, Rule::ACCEPT, [](Condition& c) {
    c.set_conntrack(Condition::FORWARD_FLOW);
    c.set_inv_conntrack(true);
  });
  const Uuid b_out = t.chain("b-out");
  t.rule(b_out, Rule::REJECT, [&](Condition& c) {
    c.add_out_port_ids(vm_b2.toString());
    c.set_nw_proto(17);
    *c.mutable_tp_dst() = range(5555, 0);
  });
  t.rule(b_out, Rule::DROP, [&](Condition& c) {
    c.set_out_port_group_id(pg_web.toString());
    c.set_inv_out_port_group(true);
    c.set_nw_proto(17);
    *c.mutable_tp_dst() = range(5556, 0);
  });
  t.rule(b_out, Rule::DROP, [&](Condition& c) {
    c.add_in_port_ids(vm_b1.toString());
    c.set_inv_in_ports(true);
    c.set_ethertype(0x86dd);
  });
  t.bridgeMsg(net_b).set_inbound_filter_id(b_in.toString());
  t.bridgeMsg(net_b).set_outbound_filter_id(b_out.toString());

  const Uuid r1_pre = t.chain("r1-pre");
  t.rule(r1_pre, Rule::DROP, [](Condition& c) {
    c.set_nw_dst("10.0.1.99/32");
    c.set_fragment_policy(Condition::HEADER);
  });
  t.rule(r1_pre, Rule::REJECT, [](Condition& c) {
    c.set_nw_proto(6);
    *c.mutable_tp_dst() = range(25, 0);
  });
  t.rule(r1_pre, Rule::DROP, [](Condition& c) {
    c.set_fragment_policy(Condition::NONHEADER);
    c.set_nw_dst("10.0.1.98/32");
  });
  t.rule(r1_pre, Rule::DROP, [&](Condition& c) { c.set_ip_addr_group_src_id(blocked.toString()); });
  t.rule(r1_pre, Rule::DROP, [](Condition& c) {
    c.set_fragment_policy(Condition::ANY);
    c.set_nw_tos(0xfc);
  });
  const Uuid r1_post = t.chain("r1-post");
  t.rule(r1_post, Rule::ACCEPT, [](Condition& c) {
    c.set_nw_proto(6);
    c.set_inv_nw_proto(true);
  });
  t.rule(r1_post, Rule::DROP, [&](Condition& c) {
    c.add_out_port_ids(r1_up.toString());
    c.set_nw_proto(6);
    *c.mutable_tp_dst() = range(0, 1023);
    c.set_inv_tp_dst(true);
  });
  t.rule(r1_post, Rule::DROP, [&](Condition& c) {
    c.add_in_port_ids(r1_b.toString());
    c.add_out_port_ids(r1_up.toString());
    c.set_out_port_group_id(kMissingPortGroup.toString());  // Dangling port group.
  });
  t.rule(r1_post, Rule::REJECT, [](Condition& c) {
    c.set_nw_proto(6);
    *c.mutable_tp_dst() = range(8080, 0);
  });
  t.routerMsg(r1).set_inbound_filter_id(r1_pre.toString());
  t.routerMsg(r1).set_outbound_filter_id(r1_post.toString());

  const Uuid r2_pre = t.chain("r2-pre");
  t.rule(r2_pre, Rule::ACCEPT, [](Condition& c) { c.set_conntrack(Condition::RETURN_FLOW); });
  t.rule(r2_pre, Rule::ACCEPT, [&](Condition& c) {
    c.add_in_port_ids(r2_c.toString());
    c.add_in_port_ids(r2_d.toString());
  });
  t.rule(r2_pre, Rule::ACCEPT, [](Condition& c) {
    c.set_nw_proto(1);
    c.set_icmp_type(8);
    c.set_icmp_code(0);
  });
  t.rule(r2_pre, Rule::ACCEPT, [](Condition& c) {
    c.set_nw_proto(6);
    *c.mutable_tp_dst() = range(22, 0);
    *c.mutable_tp_src() = range(1024, 65535);
  });
  t.rule(r2_pre, Rule::ACCEPT, [](Condition& c) {
    c.set_nw_proto(17);
    c.set_ethertype(0x0800);
    c.set_inv_ethertype(true);
  });
  t.rule(r2_pre, Rule::DROP, [&](Condition& c) {
    c.set_in_port_group_id(pg_links.toString());
    c.set_conntrack(Condition::FORWARD_FLOW);
  });
  t.routerMsg(r2).set_inbound_filter_id(r2_pre.toString());

  // On net-d, vm-d1 rejects UDP to port 5555, and vm-d2's filter needs a missing address group
  // for what enters from vm-d1 or r2: one flood can generate packets in a branch and be not
  // ready in a later one.
  const Uuid d1_out = t.chain("d1-out");
  t.rule(d1_out, Rule::REJECT, [](Condition& c) {
    c.set_nw_proto(17);
    *c.mutable_tp_dst() = range(5555, 0);
  });
  const std::string r2_d_peer = t.port(r2_d).peer_id();
  const Uuid d2_out = t.chain("d2-out");
  t.rule(d2_out, Rule::DROP, [&](Condition& c) {
    c.add_in_port_ids(vm_d1.toString());
    c.add_in_port_ids(r2_d_peer);
    c.set_ip_addr_group_src_id(kMissingAddrGroup.toString());
  });
  t.port(vm_d1).set_outbound_filter_id(d1_out.toString());
  t.port(vm_d2).set_outbound_filter_id(d2_out.toString());

  setTenant(t.topology(), Uuid(0xaaaa, 0xaaaa));

  World w;
  w.snap = t.snapshot();
  for (const model::Port& p : w.snap->ports()) w.ports.push_back(p.id);
  w.ports.push_back(kMissingPort);
  return w;
}

const World& world() {
  static const World w = buildWorld();
  return w;
}

ManualTimeSource& clockSource() {
  static ManualTimeSource clock;
  return clock;
}

const sim::Simulator& simulator() {
  static const sim::Simulator s(sim::SimConfig{&clockSource()});
  return s;
}

// One simulation request.
struct Run {
  std::span<const uint8_t> frame;
  Uuid port;
  bool egress_start = false;
  bool key_only = false;
  bool via_simulate = false;
  bool trace = false;
  const char* what = "frame";
};

std::string hex(std::span<const uint8_t> bytes) {
  std::string s;
  char buf[4];
  for (uint8_t b : bytes) {
    std::snprintf(buf, sizeof(buf), "%02x", b);
    s += buf;
  }
  return s;
}

[[noreturn]] void fail(const char* what, const Run& run, const SimResult& r) {
  std::fprintf(stderr, "sim_frame invariant broken: %s\n", what);
  std::fprintf(stderr, "%s: port %s, start %s, %s%s, trace %d\nframe %s\n", run.what,
               run.port.toString().c_str(), run.egress_start ? "egress" : "ingress",
               run.key_only ? "key only" : "with frame", run.via_simulate ? " (simulate)" : "",
               run.trace ? 1 : 0, hex(run.frame).c_str());
  std::fprintf(stderr, "%s", testing::SimHarness::traceText(r).c_str());
  std::abort();
}

// Simulates `run`; false when it is skipped (a path that needs the flow key, and the frame does
// not parse).
bool simulateOnce(const Run& run, const state::StateView& view, SimResult& out) {
  const model::TopologySnapshot& topo = *world().snap;
  if (!run.egress_start && !run.key_only && !run.via_simulate) {
    simulator().simulateFrame(run.frame, run.port, run.trace, topo, view, out);
    return true;
  }
  packet::ParsedPacket p = packet::parsePacket(run.frame);
  if (!p.ok()) return false;
  SimInput in;
  in.match = packet::flowMatchOf(p);
  if (!run.key_only) {
    in.frame = run.frame;
    sim::setLengthFromFrame(p, in);
  }
  in.port = run.port;
  in.start = run.egress_start ? SimInput::Start::PortEgress : SimInput::Start::PortIngress;
  in.trace = run.trace;
  simulator().simulate(in, topo, view, out);
  return true;
}

packet::FieldMask actionField(const packet::SetField& a) {
  using packet::Field;
  using packet::SetFieldKind;
  switch (a.kind) {
    case SetFieldKind::EthSrc: return packet::fieldBit(Field::EthSrc);
    case SetFieldKind::EthDst: return packet::fieldBit(Field::EthDst);
    case SetFieldKind::PushVlan:
    case SetFieldKind::PopVlan:
    case SetFieldKind::SetVlan: return packet::fieldBit(Field::Vlan);
    case SetFieldKind::NwSrc: return packet::fieldBit(Field::NwSrc);
    case SetFieldKind::NwDst: return packet::fieldBit(Field::NwDst);
    case SetFieldKind::NwTos: return packet::fieldBit(Field::NwTos);
    case SetFieldKind::NwTtl: return packet::fieldBit(Field::NwTtl);
    case SetFieldKind::TpSrc: return packet::fieldBit(Field::TpSrc);
    case SetFieldKind::TpDst: return packet::fieldBit(Field::TpDst);
  }
  return 0;
}

void checkGenerated(const Run& run, const SimResult& r, const sim::GeneratedPacket& g) {
  auto check = [&](bool cond, const char* what) {
    if (!cond) fail(what, run, r);
  };
  check(world().snap->findPort(g.port) != model::kNoIndex, "generated packet names a port");
  packet::ParsedPacket q = packet::parsePacket(g.frame);
  check(q.ok(), "generated frame parses");
  const bool arp = std::strcmp(g.what, "arp_reply") == 0 || std::strcmp(g.what, "arp_request") == 0;
  if (arp) {
    check(q.fields.eth_type == packet::kEthTypeArp, "generated ARP is ARP");
    return;
  }
  check(q.fields.eth_type == packet::kEthTypeIpv4 && q.l4 == packet::L4Kind::Icmp,
        "generated ICMP is ICMPv4");
  check(packet::ipv4HeaderChecksumOk(q.frame.subspan(q.l3_offset, size_t{q.ipv4_ihl} * 4)),
        "generated IPv4 header checksum");
  check(packet::l4ChecksumOk(q), "generated L4 checksum");
}

// The SimResult contract.
void checkResult(const Run& run, const SimResult& r) {
  auto check = [&](bool cond, const char* what) {
    if (!cond) fail(what, run, r);
  };
  const model::TopologySnapshot& topo = *world().snap;
  const packet::ParsedPacket parsed = packet::parsePacket(run.frame);

  check((r.outcome == Outcome::Forward) == !r.egress.empty(), "forward iff egress");
  if (r.outcome == Outcome::NotReady) {
    check(r.writes.empty(), "not ready leaves no writes");
    check(r.not_ready.kind != sim::NotReadyCause::Kind::None, "not ready says why");
    for (const sim::GeneratedPacket& g : r.generated) {
      check(std::strcmp(g.what, "arp_request") == 0, "not ready generates only ARP requests");
    }
  } else {
    check(r.not_ready.kind == sim::NotReadyCause::Kind::None, "not_ready only when not ready");
  }
  check((r.outcome == Outcome::Drop) == (r.drop_reason != sim::DropReason::None),
        "drop iff drop reason");
  check((r.drop_reason == sim::DropReason::MalformedPacket) ==
            (r.parse_error != packet::ParseError::None),
        "parse error iff malformed");
  if (r.drop_reason == sim::DropReason::MalformedPacket) check(!parsed.ok(), "malformed parses");
  if (!parsed.ok()) check(r.drop_reason == sim::DropReason::MalformedPacket, "bad frame dropped");
  SimInput len;  // The L3 length and DF bit the simulation was given (none with the key only).
  if (parsed.ok() && !run.key_only) sim::setLengthFromFrame(parsed, len);
  if (r.drop_reason == sim::DropReason::FragmentationNeeded) {
    check(!r.cacheable, "fragmentation needed is not cacheable");
    check(len.df && r.path_mtu != 0 && len.l3_len > r.path_mtu,
          "fragmentation needed only for a DF packet longer than the path MTU");
  }
  // A flow holds for packets up to path_mtu; a DF packet longer than that is refused by some
  // router, so a cacheable result never covers less than the packet it was made for.
  if (r.cacheable && len.df && r.path_mtu != 0) {
    check(len.l3_len <= r.path_mtu, "a cacheable result covers its packet's length");
  }
  check(r.mask == packet::normalizeMask(r.mask), "mask is normalized");
  check(r.userspace_only == ((r.mask & packet::kUserspaceOnlyFields) != 0), "userspace_only");
  check(r.devices_visited <= simulator().config().max_total_devices, "device bound");
  check(run.trace || r.trace.empty(), "trace only when asked");

  for (const sim::Egress& e : r.egress) {
    model::Index pi = topo.findPort(e.port);
    check(pi != model::kNoIndex, "egress port exists");
    const model::Port& port = topo.port(pi);
    check(port.isExterior(), "egress port is exterior");
    check(e.host == port.host_id && e.device == port.device.id, "egress host and device");
    for (const packet::SetField& a : e.actions) {
      check((r.mask & actionField(a)) != 0, "rewritten field in the mask");
    }
    if (!parsed.ok()) continue;
    std::vector<uint8_t> copy(run.frame.begin(), run.frame.end());
    check(packet::applySetFields(copy, e.actions), "egress actions apply");
    packet::ParsedPacket q = packet::parsePacket(copy);
    check(q.ok(), "rewritten frame parses");
    check(q.fields == e.fields, "rewritten frame has the egress fields");
  }
  for (const sim::GeneratedPacket& g : r.generated) checkGenerated(run, r, g);
  // A write changes a value the simulation looked up, so the flow carries the tag the write
  // invalidates (the reversed conntrack keys of replies were not looked up: no tag).
  for (const state::StateWrite& wr : r.writes) {
    const auto* ct = std::get_if<state::ConntrackInstall>(&wr);
    if (ct != nullptr && ct->direction == state::CtDirection::Return) continue;
    for (const sim::FlowTag& tag : sim::invalidatedBy(wr)) {
      check(r.hasTag(tag), "the flow is tagged with what its writes invalidate");
    }
  }
}

// A value that varies with the frame, to vary the changes checkMask makes.
uint8_t frameSalt(std::span<const uint8_t> frame) { return frame.empty() ? 0 : frame.back(); }

// Changes the field `f` of `k` (keeping the address family).
void perturb(packet::FlowFields& k, packet::Field f, uint8_t salt) {
  using packet::Field;
  const uint8_t x = static_cast<uint8_t>(salt | 1);
  auto mac = [&](packet::MacAddr m) {
    return packet::MacAddr::fromU64(m.toU64() ^ ((uint64_t{salt} << 40) | 0x5a00 | x));
  };
  auto addr = [&](packet::IpAddr a) {
    if (a.isNone()) return a;
    std::array<uint8_t, 16> b = a.bytes();
    b[15] ^= x;
    b[13] ^= salt;
    return a.isV4() ? packet::IpAddr::v4Bytes(b.data() + 12) : packet::IpAddr::v6Bytes(b.data());
  };
  switch (f) {
    case Field::TunnelId: k.tunnel_id ^= x; break;
    case Field::EthSrc: k.eth_src = mac(k.eth_src); break;
    case Field::EthDst: k.eth_dst = mac(k.eth_dst); break;
    case Field::Vlan:
      k.vlan_present = !k.vlan_present;
      k.vlan_id = k.vlan_present ? static_cast<uint16_t>((k.vlan_id ^ x) & 0x0fff) : 0;
      break;
    case Field::EthType: k.eth_type ^= static_cast<uint16_t>(x << 8 | x); break;
    case Field::NwSrc: k.nw_src = addr(k.nw_src); break;
    case Field::NwDst: k.nw_dst = addr(k.nw_dst); break;
    case Field::NwProto: k.nw_proto ^= x; break;
    case Field::NwTos: k.nw_tos ^= x; break;
    case Field::NwTtl: k.nw_ttl ^= x; break;
    case Field::NwFrag:
      k.nw_frag = static_cast<packet::FragType>((static_cast<int>(k.nw_frag) + 1 + salt % 2) % 3);
      break;
    case Field::TpSrc: k.tp_src ^= static_cast<uint16_t>(x << 8 | x); break;
    case Field::TpDst: k.tp_dst ^= static_cast<uint16_t>(x << 8 | x); break;
    case Field::IcmpType: k.icmp_type ^= x; break;
    case Field::IcmpCode: k.icmp_code ^= x; break;
    case Field::IcmpId: k.icmp_id ^= static_cast<uint16_t>(x << 8 | x); break;
    case Field::ArpOp: k.arp_op ^= x; break;
    case Field::ArpSha: k.arp_sha = mac(k.arp_sha); break;
    case Field::ArpTha: k.arp_tha = mac(k.arp_tha); break;
    case Field::ArpSpa: k.arp_spa = addr(k.arp_spa); break;
    case Field::ArpTpa: k.arp_tpa = addr(k.arp_tpa); break;
    case Field::TcpFlags: k.tcp_flags ^= x; break;
    case Field::Count: break;
  }
}

// The megaflow contract: a flow installed from a cacheable result applies to every packet that
// agrees with this one on the mask (and enters the same port) and is no longer than path_mtu,
// with DF or without, so such a packet must get the same decision and actions. Checked by
// changing every field outside the mask, the length (up to path_mtu) and the DF bit.
void checkMask(const Run& run, const state::StateView& view, const SimResult& r, uint8_t salt) {
  if (!r.cacheable || r.outcome == Outcome::NotReady) return;
  if (r.drop_reason == sim::DropReason::MalformedPacket) return;
  packet::ParsedPacket p = packet::parsePacket(run.frame);
  if (!p.ok()) return;
  packet::FlowFields k = p.fields;
  for (int i = 0; i < static_cast<int>(packet::Field::Count); ++i) {
    auto f = static_cast<packet::Field>(i);
    if ((r.mask & packet::fieldBit(f)) == 0) perturb(k, f, salt);
  }
  SimInput in;
  in.match = packet::FlowMatch(k);
  in.port = run.port;
  in.start = run.egress_start ? SimInput::Start::PortEgress : SimInput::Start::PortIngress;
  const uint32_t limit = r.path_mtu != 0 ? r.path_mtu : 65535;
  in.l3_len = (salt & 2) != 0 ? limit : 1 + (uint32_t{salt} * 131) % limit;
  in.df = (salt & 4) != 0;
  SimResult other;
  simulator().simulate(in, *world().snap, view, other);
  bool same = other.outcome == r.outcome && other.drop_reason == r.drop_reason &&
              other.mask == r.mask && other.path_mtu == r.path_mtu &&
              other.egress.size() == r.egress.size();
  for (size_t i = 0; same && i < r.egress.size(); ++i) {
    same =
        other.egress[i].port == r.egress[i].port && other.egress[i].actions == r.egress[i].actions;
  }
  if (!same) {
    std::fprintf(stderr, "key outside the mask: %s\n%s", packet::FlowMatch(k).toString().c_str(),
                 other.toString().c_str());
    fail("a packet that agrees on the mask gets another decision", run, r);
  }
}

// Simulates `run` and checks the contract, purity (the same input again, into a reused result)
// and that tracing changes nothing but the trace. False when skipped.
bool simulateChecked(const Run& run, const state::StateView& view, SimResult& out) {
  if (!simulateOnce(run, view, out)) return false;
  checkResult(run, out);
  const std::string text = out.toString();

  static SimResult reused;  // Holds the previous input's result: clear() must forget it all.
  simulateOnce(run, view, reused);
  if (reused.toString() != text) fail("simulation is not pure", run, out);
  if (testing::SimHarness::traceText(reused) != testing::SimHarness::traceText(out)) {
    fail("trace is not deterministic", run, out);
  }

  Run flipped = run;
  flipped.trace = !run.trace;
  SimResult other;
  simulateOnce(flipped, view, other);
  if (other.toString() != text) fail("tracing changes the result", run, out);
  checkMask(run, view, out, static_cast<uint8_t>(run.frame.size() * 37 + frameSalt(run.frame)));
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const World& w = world();
  const uint8_t flags = data[1];
  ManualTimeSource& clock = clockSource();
  clock.set(MonoTime{} + std::chrono::seconds(10 * (data[2] & 0x0f)));
  const auto gap = std::chrono::seconds(8 * (data[2] >> 4));

  std::span<const uint8_t> rest(data + 3, size - 3);
  std::span<const uint8_t> first = rest;
  std::span<const uint8_t> second;
  Uuid second_port;
  if (flags & kTwoFrames) {
    if (rest.size() < 3) return 0;
    second_port = w.portAt(rest[0]);
    size_t len = (size_t{rest[1]} << 8) | rest[2];
    rest = rest.subspan(3);
    len = std::min(len, rest.size());
    first = rest.first(len);
    second = rest.subspan(len);
  }

  state::InMemoryState state;
  Run run;
  run.frame = first;
  run.port = w.portAt(data[0]);
  run.egress_start = (flags & kEgressStart) != 0;
  run.key_only = (flags & kKeyOnly) != 0;
  run.via_simulate = (flags & kViaSimulate) != 0;
  run.trace = (flags & kTrace) != 0;
  SimResult r;
  if (!simulateChecked(run, state.view(), r)) return 0;

  if (flags & kReinject) {
    // Generated packets leave their device through the named port, as the agent sends them.
    size_t n = std::min(r.generated.size(), kMaxReinjected);
    for (size_t i = 0; i < n; ++i) {
      Run g;
      g.frame = r.generated[i].frame;
      g.port = r.generated[i].port;
      g.egress_start = true;
      g.trace = run.trace;
      g.what = r.generated[i].what;
      SimResult gr;
      simulateChecked(g, state.view(), gr);
    }
  }

  if (flags & kTwoFrames) {
    state.apply(r.writes, clock.now());
    clock.advance(gap);
    Run run2 = run;
    run2.frame = second;
    run2.port = second_port;
    if (flags & kSecondFlip) run2.egress_start = !run.egress_start;
    run2.what = "second frame";
    SimResult r2;
    simulateChecked(run2, state.view(), r2);
  }
  return 0;
}
