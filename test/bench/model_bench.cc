// Snapshot build time and memory on a 10k-port topology, and route lookups.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <cstdio>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "loom/v1/topology.pb.h"
#include "model/snapshot.h"

namespace loom::model {
namespace {

constexpr int kTenants = 100;
constexpr int kBridgesPerTenant = 4;
constexpr int kVmPortsPerBridge = 25;
constexpr int kRulesPerChain = 10;
constexpr int kHosts = 50;
constexpr int kVmPorts = kTenants * kBridgesPerTenant * kVmPortsPerBridge;

// "<kind>0000000-<tenant>-4000-8000-<n>": readable and unique per (kind, tenant, n).
std::string uid(int kind, int tenant, int n) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%x0000000-%04x-4000-8000-%012x", kind, tenant, n);
  return buf;
}

std::string macOf(int tenant, int n) {
  char buf[18];
  std::snprintf(buf, sizeof(buf), "02:%02x:%02x:00:%02x:%02x", tenant >> 8, tenant & 0xff, n >> 8,
                n & 0xff);
  return buf;
}

// 100 tenants, each: one router with an uplink and one port per bridge, 4 bridges of 25 VM
// ports (each VM port's outbound filter is the tenant's 10-rule chain), a default route and
// a few static routes; 50 hosts in one tunnel zone.
v1::Topology generateTopology() {
  v1::Topology t;
  for (int h = 0; h < kHosts; ++h) {
    v1::Host& host = *t.add_hosts();
    host.set_id(uid(0xd, 0, h));
    host.set_name("host-" + std::to_string(h));
    host.add_tunnel_zone_ids(uid(0xe, 0, 1));
  }
  v1::TunnelZone& zone = *t.add_tunnel_zones();
  zone.set_id(uid(0xe, 0, 1));
  for (int h = 0; h < kHosts; ++h) {
    v1::TunnelZone::Member& m = *zone.add_members();
    m.set_host_id(uid(0xd, 0, h));
    m.set_address("192.168.0." + std::to_string(h + 1));
  }
  for (int tn = 1; tn <= kTenants; ++tn) {
    const std::string tenant = uid(0x7, 0, tn);
    const std::string router_id = uid(0xa, tn, 1);
    v1::Router& router = *t.add_routers();
    router.set_id(router_id);
    router.set_tenant_id(tenant);
    router.set_name("router-" + std::to_string(tn));

    const std::string chain_id = uid(0xc, tn, 1);
    v1::Chain& chain = *t.add_chains();
    chain.set_id(chain_id);
    chain.set_tenant_id(tenant);
    for (int r = 0; r < kRulesPerChain; ++r) {
      v1::Rule& rule = *t.add_rules();
      rule.set_id(uid(0xc, tn, 0x100 + r));
      rule.set_chain_id(chain_id);
      chain.add_rule_ids(rule.id());
      v1::Condition& c = *rule.mutable_condition();
      if (r == 0) {
        c.set_conntrack(v1::Condition::RETURN_FLOW);
      } else if (r < kRulesPerChain - 1) {
        c.set_ethertype(0x0800);
        c.set_nw_proto(6);
        c.set_nw_src("10." + std::to_string(r) + ".0.0/16");
        c.mutable_tp_dst()->set_start(static_cast<uint32_t>(1000 + r));
      }
      rule.set_action(r == kRulesPerChain - 1 ? v1::Rule::DROP : v1::Rule::ACCEPT);
    }

    v1::Port& uplink = *t.add_ports();
    uplink.set_id(uid(0xa, tn, 0x200));
    uplink.set_router_id(router_id);
    uplink.set_mac(macOf(tn, 0x200));
    uplink.add_addresses("192.0.2." + std::to_string((tn % 60) * 4 + 2) + "/30");
    uplink.set_host_id(uid(0xd, 0, tn % kHosts));
    uplink.set_interface_name("uplink");
    v1::Route& def = *t.add_routes();
    def.set_id(uid(0xa, tn, 0x300));
    def.set_router_id(router_id);
    def.set_dst_prefix("0.0.0.0/0");
    def.set_next_hop(v1::Route::PORT);
    def.set_next_hop_port_id(uplink.id());

    for (int b = 0; b < kBridgesPerTenant; ++b) {
      const std::string bridge_id = uid(0xb, tn, b);
      v1::Bridge& bridge = *t.add_bridges();
      bridge.set_id(bridge_id);
      bridge.set_tenant_id(tenant);
      const std::string subnet = "10.0." + std::to_string(b) + ".";
      // Router port <-> bridge port.
      v1::Port& rp = *t.add_ports();
      rp.set_id(uid(0xa, tn, 0x400 + b));
      rp.set_router_id(router_id);
      rp.set_mac(macOf(tn, 0x400 + b));
      rp.add_addresses(subnet + "1/24");
      rp.set_peer_id(uid(0xb, tn, 0x400 + b));
      v1::Port& bp = *t.add_ports();
      bp.set_id(uid(0xb, tn, 0x400 + b));
      bp.set_bridge_id(bridge_id);
      bp.set_peer_id(rp.id());
      v1::Route& blackhole = *t.add_routes();
      blackhole.set_id(uid(0xa, tn, 0x500 + b));
      blackhole.set_router_id(router_id);
      blackhole.set_dst_prefix("172.16." + std::to_string(b) + ".0/24");
      blackhole.set_next_hop(v1::Route::BLACKHOLE);
      for (int v = 0; v < kVmPortsPerBridge; ++v) {
        v1::Port& vm = *t.add_ports();
        const int n = b * 100 + v;
        vm.set_id(uid(0xf, tn, n));
        vm.set_tenant_id(tenant);
        vm.set_name("vm-" + std::to_string(tn) + "-" + std::to_string(n));
        vm.set_bridge_id(bridge_id);
        vm.set_host_id(uid(0xd, 0, (tn + n) % kHosts));
        vm.set_interface_name("tap" + std::to_string(n));
        vm.set_mac(macOf(tn, n));
        vm.add_addresses(subnet + std::to_string(10 + v) + "/24");
        vm.set_outbound_filter_id(chain_id);
      }
    }
  }
  return t;
}

size_t heapInUse() { return mallinfo2().uordblks; }

void BM_SnapshotBuild10kPorts(benchmark::State& state) {
  const v1::Topology topology = generateTopology();
  // Memory: one snapshot kept alive, measured as heap growth (meaningless under ASan, whose
  // allocator mallinfo2 does not see).
  size_t before = heapInUse();
  SnapshotPtr kept = buildSnapshot(topology, 1);
  size_t after = heapInUse();
  if (!kept->problems().empty()) {
    state.SkipWithError(
        ("generated topology has problems: " + kept->problems()[0].toString()).c_str());
    return;
  }
  const size_t ports = kept->ports().size();
  kept.reset();
  for (auto _ : state) {
    SnapshotPtr s = buildSnapshot(topology, 1);
    benchmark::DoNotOptimize(s.get());
  }
  const double bytes = after > before ? static_cast<double>(after - before) : 0.0;
  state.counters["vm_ports"] = kVmPorts;
  state.counters["ports"] = static_cast<double>(ports);
  state.counters["snapshot_MB"] = bytes / 1e6;
  state.counters["bytes_per_port"] = bytes / static_cast<double>(ports);
  state.counters["bytes_per_vm_port"] = bytes / kVmPorts;
  state.counters["ports_per_s"] =
      benchmark::Counter(static_cast<double>(ports), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_SnapshotBuild10kPorts)->Unit(benchmark::kMillisecond);

// A v4 table of `n` routes: a default route plus random prefixes of length 8..32 in 10/8, and
// lookups of random addresses in 10/8 (most hit a long prefix when n is large).
void BM_RouteLookupV4(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  std::mt19937_64 rng(42);
  std::deque<Route> routes;
  RouteTable table;
  auto random10 = [&]() {
    return IpAddr::v4((10U << 24) | (static_cast<uint32_t>(rng()) & 0x00ffffffU));
  };
  Route& def = routes.emplace_back();
  def.id = Uuid(1, 1);
  def.dst = IpPrefix{IpAddr::v4(0), 0};
  def.src = def.dst;
  table.add(&def);
  while (routes.size() < n) {
    Route& r = routes.emplace_back();
    r.id = Uuid(rng(), rng());
    const int len = 8 + static_cast<int>(rng() % 25);
    r.dst = IpPrefix{random10().masked(len), static_cast<uint8_t>(len)};
    r.src = IpPrefix{IpAddr::v4(0), 0};
    r.weight = static_cast<uint32_t>(rng() % 2);
    table.add(&r);
  }
  table.finalize();
  std::vector<IpAddr> dsts(4096);
  for (IpAddr& a : dsts) a = random10();
  const IpAddr src = IpAddr::v4(0xc0000201U);
  std::vector<const Route*> out;
  out.reserve(16);
  size_t i = 0;
  for (auto _ : state) {
    bool found = table.lookup(dsts[i++ & 4095], src, out);
    benchmark::DoNotOptimize(found);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_RouteLookupV4)->Arg(10)->Arg(10000);

}  // namespace
}  // namespace loom::model

BENCHMARK_MAIN();
