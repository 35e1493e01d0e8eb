// Simulation speed: bridge -> bridge, bridge -> router -> bridge, the same with a 1,000-rule
// chain on the egress port, a 16-port flood, and frame parsing + simulation together. A hash
// map lookup runs in the same binary as a machine-speed yardstick (docs/benchmarks.md reports
// ratios against it, since absolute figures swing with the shared machine's load).

#include <benchmark/benchmark.h>

#include <random>
#include <unordered_map>

#include "packet/parser.h"
#include "support/topo_builder.h"

namespace loom {
namespace {

using testing::SimHarness;

constexpr const char* kVmA = "02:00:00:00:0a:01";
constexpr const char* kVmB = "02:00:00:00:0b:01";
constexpr const char* kRa = "02:00:00:00:01:0a";

packet::FlowMatch keyOf(const std::vector<uint8_t>& frame) {
  return packet::flowMatchOf(packet::parsePacket(frame));
}

// Runs `match` from `port` repeatedly into one reused SimResult, without tracing.
void runSim(benchmark::State& state, SimHarness& h, const Uuid& port,
            const packet::FlowMatch& match, sim::Outcome expect) {
  sim::SimInput in;
  in.match = match;
  in.port = port;
  sim::SimResult r;
  state::StateView view = h.state.view();
  h.simulator.simulate(in, *h.snap, view, r);
  if (r.outcome != expect) {
    state.SkipWithError(("unexpected outcome: " + r.toString()).c_str());
    return;
  }
  for (auto _ : state) {
    h.simulator.simulate(in, *h.snap, view, r);
    benchmark::DoNotOptimize(r.mask);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

void BM_Reference_HashMapLookup(benchmark::State& state) {
  std::unordered_map<uint64_t, uint64_t> m;
  std::mt19937_64 rng(1);
  std::vector<uint64_t> keys;
  for (int i = 0; i < 1024; ++i) {
    keys.push_back(rng());
    m[keys.back()] = static_cast<uint64_t>(i);
  }
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(m.find(keys[i++ & 1023]));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Reference_HashMapLookup);

void BM_SimBridgeToBridge(benchmark::State& state) {
  SimHarness h;
  Uuid br = h.topo.bridge("br");
  Uuid p1 = h.topo.vmPort(br, "p1", kVmA, "10.0.0.11");
  h.topo.vmPort(br, "p2", kVmB, "10.0.0.12");
  for (int i = 0; i < 30; ++i) h.topo.vmPort(br, "other" + std::to_string(i), "", "");
  if (!h.build().empty()) return state.SkipWithError("topology problems");
  runSim(state, h, p1, keyOf(testing::tcpFrame(kVmA, kVmB, "10.0.0.11", "10.0.0.12", 40000, 80)),
         sim::Outcome::Forward);
}
BENCHMARK(BM_SimBridgeToBridge);

// net-a -- r1 -- net-b, with optional egress chain of `rules` non-matching rules + accept.
void buildRouted(SimHarness& h, Uuid& vm_a, int rules) {
  Uuid net_a = h.topo.bridge("net-a");
  Uuid net_b = h.topo.bridge("net-b");
  Uuid r1 = h.topo.router("r1");
  vm_a = h.topo.vmPort(net_a, "vm-a", kVmA, "10.0.0.11");
  Uuid vm_b = h.topo.vmPort(net_b, "vm-b", kVmB, "10.0.1.11");
  h.topo.attach(r1, net_a, "r1-a", kRa, "10.0.0.1/24");
  h.topo.attach(r1, net_b, "r1-b", "02:00:00:00:01:0b", "10.0.1.1/24");
  Uuid up = h.topo.routerPort(r1, "r1-up", "02:00:00:00:01:ff", "192.0.2.2/30");
  h.topo.bind(up, h.topo.host("edge"));
  h.topo.route(r1, "0.0.0.0/0", up, "192.0.2.1");
  for (int i = 0; i < 20; ++i) {
    h.topo.route(r1, "172.16." + std::to_string(i) + ".0/24", up, "192.0.2.1");
  }
  if (rules > 0) {
    Uuid chain = h.topo.chain("sg");
    for (int i = 0; i < rules; ++i) {
      // A security-group-like mix: allowed sources that do not match, and TCP ports that don't.
      if (i % 2 == 0) {
        h.topo.rule(chain, v1::Rule::ACCEPT, [i](v1::Condition& c) {
          c.set_nw_src("172.17." + std::to_string((i / 256) % 256) + "." + std::to_string(i % 256) +
                       "/32");
        });
      } else {
        h.topo.rule(chain, v1::Rule::ACCEPT, [i](v1::Condition& c) {
          c.set_nw_proto(packet::kIpProtoTcp);
          c.mutable_tp_dst()->set_start(static_cast<uint32_t>(1000 + i));
        });
      }
    }
    h.topo.rule(chain, v1::Rule::ACCEPT);
    h.topo.port(vm_b).set_outbound_filter_id(chain.toString());
  }
}

void BM_SimBridgeRouterBridge(benchmark::State& state) {
  SimHarness h;
  Uuid vm_a;
  buildRouted(h, vm_a, 0);
  if (!h.build().empty()) return state.SkipWithError("topology problems");
  runSim(state, h, vm_a, keyOf(testing::tcpFrame(kVmA, kRa, "10.0.0.11", "10.0.1.11", 40000, 80)),
         sim::Outcome::Forward);
}
BENCHMARK(BM_SimBridgeRouterBridge);

void BM_SimBridgeRouterBridge_EgressChain(benchmark::State& state) {
  SimHarness h;
  Uuid vm_a;
  buildRouted(h, vm_a, static_cast<int>(state.range(0)));
  if (!h.build().empty()) return state.SkipWithError("topology problems");
  runSim(state, h, vm_a, keyOf(testing::tcpFrame(kVmA, kRa, "10.0.0.11", "10.0.1.11", 40000, 80)),
         sim::Outcome::Forward);
}
BENCHMARK(BM_SimBridgeRouterBridge_EgressChain)->Arg(10)->Arg(100)->Arg(1000);

void BM_SimFlood16(benchmark::State& state) {
  SimHarness h;
  Uuid br = h.topo.bridge("br");
  Uuid p1 = h.topo.vmPort(br, "p1", kVmA, "10.0.0.11");
  for (int i = 0; i < 15; ++i) h.topo.vmPort(br, "p" + std::to_string(i + 2), "", "");
  if (!h.build().empty()) return state.SkipWithError("topology problems");
  runSim(state, h, p1,
         keyOf(testing::udpFrame(kVmA, "ff:ff:ff:ff:ff:ff", "10.0.0.11", "10.0.0.255", 1, 2)),
         sim::Outcome::Forward);
}
BENCHMARK(BM_SimFlood16);

// The frame path: parse + key extraction + simulation, as an upcall handler would do.
void BM_SimFrameBridgeRouterBridge(benchmark::State& state) {
  SimHarness h;
  Uuid vm_a;
  buildRouted(h, vm_a, 0);
  if (!h.build().empty()) return state.SkipWithError("topology problems");
  auto frame = testing::tcpFrame(kVmA, kRa, "10.0.0.11", "10.0.1.11", 40000, 80);
  sim::SimResult r;
  state::StateView view = h.state.view();
  for (auto _ : state) {
    h.simulator.simulateFrame(frame, vm_a, /*trace=*/false, *h.snap, view, r);
    benchmark::DoNotOptimize(r.mask);
  }
  if (r.outcome != sim::Outcome::Forward) state.SkipWithError("unexpected outcome");
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_SimFrameBridgeRouterBridge);

// The cost of tracing (what loom-trace and a traced flow pay).
void BM_SimBridgeRouterBridgeTraced(benchmark::State& state) {
  SimHarness h;
  Uuid vm_a;
  buildRouted(h, vm_a, 0);
  if (!h.build().empty()) return state.SkipWithError("topology problems");
  sim::SimInput in;
  in.match = keyOf(testing::tcpFrame(kVmA, kRa, "10.0.0.11", "10.0.1.11", 40000, 80));
  in.port = vm_a;
  in.trace = true;
  sim::SimResult r;
  state::StateView view = h.state.view();
  for (auto _ : state) {
    h.simulator.simulate(in, *h.snap, view, r);
    benchmark::DoNotOptimize(r.trace.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_SimBridgeRouterBridgeTraced);

}  // namespace
}  // namespace loom

BENCHMARK_MAIN();
